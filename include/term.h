/* The host terminal: raw mode while the VM runs when stdin is a tty, and
 * always restored - on normal exit, on fatal signals, on crashes. */
#ifndef MINIVMM_TERM_H
#define MINIVMM_TERM_H

/* Puts fd 0 in raw mode if it is a terminal; returns 1 if it did. */
int term_raw_enter(void);
void term_restore(void);

/* The Ctrl-A escape: feed each input byte; returns the bytes to pass to the
 * guest in out (0, 1 or 2 bytes) and sets *quit on Ctrl-A x. */
struct escape {
	int armed;
};
#define ESCAPE_CHAR 0x01	/* Ctrl-A */
unsigned escape_feed(struct escape *e, unsigned char c, unsigned char out[2],
		     int *quit);

#endif
