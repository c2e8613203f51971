/* Key names and US-layout characters to Linux key codes. */
#include <linux/input-event-codes.h>
#include <string.h>

#include "check.h"
#include "keymap.h"

TEST(test_names)
{
	CHECK_EQ(keymap_lookup("a"), KEY_A);
	CHECK_EQ(keymap_lookup("A"), KEY_A);
	CHECK_EQ(keymap_lookup("q"), KEY_Q);
	CHECK_EQ(keymap_lookup("z"), KEY_Z);
	CHECK_EQ(keymap_lookup("m"), KEY_M);
	CHECK_EQ(keymap_lookup("0"), KEY_0);
	CHECK_EQ(keymap_lookup("1"), KEY_1);
	CHECK_EQ(keymap_lookup("9"), KEY_9);
	CHECK_EQ(keymap_lookup("enter"), KEY_ENTER);
	CHECK_EQ(keymap_lookup("return"), KEY_ENTER);
	CHECK_EQ(keymap_lookup("esc"), KEY_ESC);
	CHECK_EQ(keymap_lookup("Escape"), KEY_ESC);
	CHECK_EQ(keymap_lookup("space"), KEY_SPACE);
	CHECK_EQ(keymap_lookup("tab"), KEY_TAB);
	CHECK_EQ(keymap_lookup("backspace"), KEY_BACKSPACE);
	CHECK_EQ(keymap_lookup("up"), KEY_UP);
	CHECK_EQ(keymap_lookup("down"), KEY_DOWN);
	CHECK_EQ(keymap_lookup("left"), KEY_LEFT);
	CHECK_EQ(keymap_lookup("right"), KEY_RIGHT);
	CHECK_EQ(keymap_lookup("f1"), KEY_F1);
	CHECK_EQ(keymap_lookup("F10"), KEY_F10);
	CHECK_EQ(keymap_lookup("f11"), KEY_F11);
	CHECK_EQ(keymap_lookup("f12"), KEY_F12);
	CHECK_EQ(keymap_lookup("ctrl"), KEY_LEFTCTRL);
	CHECK_EQ(keymap_lookup("leftctrl"), KEY_LEFTCTRL);
	CHECK_EQ(keymap_lookup("rightctrl"), KEY_RIGHTCTRL);
	CHECK_EQ(keymap_lookup("shift"), KEY_LEFTSHIFT);
	CHECK_EQ(keymap_lookup("alt"), KEY_LEFTALT);
	CHECK_EQ(keymap_lookup("altgr"), KEY_RIGHTALT);
	CHECK_EQ(keymap_lookup("meta"), KEY_LEFTMETA);
	CHECK_EQ(keymap_lookup("delete"), KEY_DELETE);
	CHECK_EQ(keymap_lookup("pgdn"), KEY_PAGEDOWN);
	CHECK_EQ(keymap_lookup("kp5"), KEY_KP5);
	CHECK_EQ(keymap_lookup("micmute"), KEY_MICMUTE);
	CHECK_EQ(keymap_lookup("-"), KEY_MINUS);
	CHECK_EQ(keymap_lookup("/"), KEY_SLASH);
	CHECK_EQ(keymap_lookup(" "), KEY_SPACE);
}

TEST(test_kernel_names)
{
	CHECK_EQ(keymap_lookup("KEY_ENTER"), KEY_ENTER);
	CHECK_EQ(keymap_lookup("key_enter"), KEY_ENTER);
	CHECK_EQ(keymap_lookup("Key_LeftShift"), KEY_LEFTSHIFT);
	CHECK_EQ(keymap_lookup("KEY_A"), KEY_A);
	CHECK_EQ(keymap_lookup("KEY_0"), KEY_0);
	CHECK_EQ(keymap_lookup("KEY_F24"), KEY_F24);
	CHECK_EQ(keymap_lookup("KEY_102ND"), KEY_102ND);
	CHECK_EQ(keymap_lookup("KEY_VOLUMEUP"), KEY_VOLUMEUP);
	CHECK_EQ(keymap_lookup("KEY_SYSRQ"), KEY_SYSRQ);
}

TEST(test_unknown_names)
{
	static const char *bad[] = {
		"", "KEY_", "key_", "f0", "f25", "enterx", "xenter", "ctrl+c",
		"!", "A!", "\xff", "\xc3\xa9", "KEY_KEY_A", "aa", "+",
	};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ(keymap_lookup(bad[i]), -1);
}

/* Every printable ASCII character has a key; the right ones need shift. */
TEST(test_chars)
{
	static const char shifted[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				      "!@#$%^&*()_+{}|:\"~<>?";
	int code, shift;

	for (int c = 0x20; c < 0x7f; c++) {
		code = shift = -5;
		CHECK_EQ(keymap_char((char)c, &code, &shift), 0);
		CHECK(code >= 1 && code <= 248);
		CHECK_EQ(shift, strchr(shifted, c) != NULL);
	}
	keymap_char('a', &code, &shift);
	CHECK(code == KEY_A && !shift);
	keymap_char('A', &code, &shift);
	CHECK(code == KEY_A && shift);
	keymap_char('!', &code, &shift);
	CHECK(code == KEY_1 && shift);
	keymap_char(')', &code, &shift);
	CHECK(code == KEY_0 && shift);
	keymap_char('"', &code, &shift);
	CHECK(code == KEY_APOSTROPHE && shift);
	keymap_char('~', &code, &shift);
	CHECK(code == KEY_GRAVE && shift);
	keymap_char('?', &code, &shift);
	CHECK(code == KEY_SLASH && shift);
	keymap_char('\n', &code, &shift);
	CHECK(code == KEY_ENTER && !shift);
	keymap_char('\t', &code, &shift);
	CHECK(code == KEY_TAB && !shift);
	keymap_char(0x1b, &code, &shift);
	CHECK(code == KEY_ESC && !shift);
	/* Two characters never share a key and a shift state. */
	for (int a = 0x20; a < 0x7f; a++)
		for (int b = a + 1; b < 0x7f; b++) {
			int ca, sa, cb, sb;

			keymap_char((char)a, &ca, &sa);
			keymap_char((char)b, &cb, &sb);
			if (ca == cb && sa == sb)
				CHECK(!"two characters, one key");
		}
}

TEST(test_untypable_chars)
{
	int code = 77, shift = 77;

	CHECK_EQ(keymap_char(0, &code, &shift), -1);
	CHECK_EQ(keymap_char(0x7f, &code, &shift), -1);
	CHECK_EQ(keymap_char(0x01, &code, &shift), -1);
	CHECK_EQ(keymap_char((char)0xc3, &code, &shift), -1);
	CHECK_EQ(keymap_char((char)0x80, &code, &shift), -1);
	CHECK(code == 77 && shift == 77);
}

int main(void)
{
	RUN(test_names);
	RUN(test_kernel_names);
	RUN(test_unknown_names);
	RUN(test_chars);
	RUN(test_untypable_chars);
	return CHECK_DONE();
}
