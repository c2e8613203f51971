/* Key names and US-layout characters; see keymap.h.  Names are the
 * kernel's own (linux/input-event-codes.h without "KEY_"), so anyone who
 * knows evdev can guess them, plus the aliases people type. */
#include "keymap.h"

#include <linux/input-event-codes.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

struct key_name {
	const char *name;
	int code;
};

#define K(n) { #n, KEY_##n }

static const struct key_name names[] = {
	K(ESC), K(MINUS), K(EQUAL), K(BACKSPACE), K(TAB), K(LEFTBRACE),
	K(RIGHTBRACE), K(ENTER), K(LEFTCTRL), K(SEMICOLON), K(APOSTROPHE),
	K(GRAVE), K(LEFTSHIFT), K(BACKSLASH), K(COMMA), K(DOT), K(SLASH),
	K(RIGHTSHIFT), K(KPASTERISK), K(LEFTALT), K(SPACE), K(CAPSLOCK),
	K(F1), K(F2), K(F3), K(F4), K(F5), K(F6), K(F7), K(F8), K(F9),
	K(F10), K(F11), K(F12), K(F13), K(F14), K(F15), K(F16), K(F17),
	K(F18), K(F19), K(F20), K(F21), K(F22), K(F23), K(F24),
	K(NUMLOCK), K(SCROLLLOCK), K(KP0), K(KP1), K(KP2), K(KP3), K(KP4),
	K(KP5), K(KP6), K(KP7), K(KP8), K(KP9), K(KPMINUS), K(KPPLUS),
	K(KPDOT), K(KPENTER), K(KPSLASH), K(KPEQUAL), K(KPCOMMA),
	K(102ND), K(RIGHTCTRL), K(SYSRQ), K(RIGHTALT), K(HOME), K(UP),
	K(PAGEUP), K(LEFT), K(RIGHT), K(END), K(DOWN), K(PAGEDOWN),
	K(INSERT), K(DELETE), K(MUTE), K(VOLUMEDOWN), K(VOLUMEUP),
	K(POWER), K(PAUSE), K(LEFTMETA), K(RIGHTMETA), K(COMPOSE),
	K(STOP), K(UNDO), K(COPY), K(PASTE), K(FIND), K(CUT), K(HELP),
	K(MENU), K(SLEEP), K(WAKEUP), K(BACK), K(FORWARD), K(NEXTSONG),
	K(PLAYPAUSE), K(PREVIOUSSONG), K(STOPCD), K(HOMEPAGE), K(REFRESH),
	K(PRINT), K(SEARCH), K(BRIGHTNESSDOWN), K(BRIGHTNESSUP),
	K(MICMUTE),
	/* Aliases. */
	{ "escape", KEY_ESC }, { "return", KEY_ENTER },
	{ "ctrl", KEY_LEFTCTRL }, { "control", KEY_LEFTCTRL },
	{ "lctrl", KEY_LEFTCTRL }, { "rctrl", KEY_RIGHTCTRL },
	{ "shift", KEY_LEFTSHIFT }, { "lshift", KEY_LEFTSHIFT },
	{ "rshift", KEY_RIGHTSHIFT }, { "alt", KEY_LEFTALT },
	{ "lalt", KEY_LEFTALT }, { "ralt", KEY_RIGHTALT },
	{ "altgr", KEY_RIGHTALT }, { "meta", KEY_LEFTMETA },
	{ "super", KEY_LEFTMETA }, { "win", KEY_LEFTMETA },
	{ "del", KEY_DELETE }, { "ins", KEY_INSERT },
	{ "pgup", KEY_PAGEUP }, { "pgdn", KEY_PAGEDOWN },
	{ "pagedn", KEY_PAGEDOWN }, { "period", KEY_DOT },
	{ "caps", KEY_CAPSLOCK }, { "printscreen", KEY_SYSRQ },
	{ "prtsc", KEY_SYSRQ }, { "backtick", KEY_GRAVE },
	{ "quote", KEY_APOSTROPHE }, { "bksp", KEY_BACKSPACE },
};

/* US layout, unshifted and shifted, for the keys that type characters
 * other than letters. */
static const struct {
	char plain, shifted;
	int code;
} symbols[] = {
	{ '1', '!', KEY_1 }, { '2', '@', KEY_2 }, { '3', '#', KEY_3 },
	{ '4', '$', KEY_4 }, { '5', '%', KEY_5 }, { '6', '^', KEY_6 },
	{ '7', '&', KEY_7 }, { '8', '*', KEY_8 }, { '9', '(', KEY_9 },
	{ '0', ')', KEY_0 }, { '-', '_', KEY_MINUS }, { '=', '+', KEY_EQUAL },
	{ '[', '{', KEY_LEFTBRACE }, { ']', '}', KEY_RIGHTBRACE },
	{ '\\', '|', KEY_BACKSLASH }, { ';', ':', KEY_SEMICOLON },
	{ '\'', '"', KEY_APOSTROPHE }, { '`', '~', KEY_GRAVE },
	{ ',', '<', KEY_COMMA }, { '.', '>', KEY_DOT }, { '/', '?', KEY_SLASH },
	{ ' ', 0, KEY_SPACE }, { '\n', 0, KEY_ENTER }, { '\r', 0, KEY_ENTER },
	{ '\t', 0, KEY_TAB }, { '\b', 0, KEY_BACKSPACE }, { 0x1b, 0, KEY_ESC },
};

/* The letter keys in alphabetical order (their codes follow the rows of
 * a QWERTY keyboard, not the alphabet). */
static const int letters[26] = {
	KEY_A, KEY_B, KEY_C, KEY_D, KEY_E, KEY_F, KEY_G, KEY_H, KEY_I,
	KEY_J, KEY_K, KEY_L, KEY_M, KEY_N, KEY_O, KEY_P, KEY_Q, KEY_R,
	KEY_S, KEY_T, KEY_U, KEY_V, KEY_W, KEY_X, KEY_Y, KEY_Z,
};

int keymap_char(char c, int *code, int *shift)
{
	/* Not isalpha(): the locale must not change what a key types. */
	if (c >= 'a' && c <= 'z') {
		*code = letters[c - 'a'];
		*shift = 0;
		return 0;
	}
	if (c >= 'A' && c <= 'Z') {
		*code = letters[c - 'A'];
		*shift = 1;
		return 0;
	}
	for (size_t i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++) {
		if (c && (c == symbols[i].plain || c == symbols[i].shifted)) {
			*code = symbols[i].code;
			*shift = c != symbols[i].plain;
			return 0;
		}
	}
	return -1;
}

int keymap_lookup(const char *name)
{
	int code, shift;

	if (!strncasecmp(name, "KEY_", 4))
		name += 4;
	if (!name[0])
		return -1;
	/* One character: the key that types it, if shift is not part of
	 * it ("A" is the A key, "!" is not a key of its own). */
	if (!name[1] && keymap_char(name[0], &code, &shift) == 0 &&
	    (!shift || (name[0] >= 'A' && name[0] <= 'Z')))
		return code;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(name, names[i].name))
			return names[i].code;
	return -1;
}
