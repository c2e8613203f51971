/* Key names and US-layout characters to Linux key codes (KEY_A = 30 ...),
 * for the control socket's `key` and `type` commands.  Pure tables, no
 * state: callable from any thread. */
#ifndef MINIVMM_KEYMAP_H
#define MINIVMM_KEYMAP_H

/* The key code for a name, or -1.  Case-insensitive; takes the kernel's
 * names with or without "KEY_" ("KEY_ENTER", "enter", "leftctrl",
 * "f12", "kp5", "volumeup"), a few common aliases ("esc", "return",
 * "ctrl", "shift", "alt", "altgr", "meta", "super", "del", "pgup", ...)
 * and single characters that need no shift on a US keyboard ("a", "A",
 * "7", "-", "/"). */
int keymap_lookup(const char *name);

/* The key that types ASCII character c on a US keyboard, and whether
 * shift must be held for it ('A', '!', '{' ...).  Covers the printable
 * characters, '\n' and '\r' (Enter), '\t' (Tab), '\b' (Backspace) and
 * ESC (0x1b).  0, or -1 for anything else (outputs untouched). */
int keymap_char(char c, int *code, int *shift);

#endif
