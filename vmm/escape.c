/* The Ctrl-A escape on the terminal: Ctrl-A x quits, Ctrl-A Ctrl-A sends
 * one Ctrl-A, Ctrl-A followed by anything else sends both bytes. */
#include "term.h"

unsigned escape_feed(struct escape *e, unsigned char c, unsigned char out[2],
		     int *quit)
{
	*quit = 0;
	if (!e->armed) {
		if (c == ESCAPE_CHAR) {
			e->armed = 1;
			return 0;
		}
		out[0] = c;
		return 1;
	}
	e->armed = 0;
	if (c == 'x' || c == 'X') {
		*quit = 1;
		return 0;
	}
	if (c == ESCAPE_CHAR) {
		out[0] = c;
		return 1;
	}
	out[0] = ESCAPE_CHAR;
	out[1] = c;
	return 2;
}
