/* Feeds the host's standard input to the guest's UART from the event
 * thread: with back-pressure (stops reading while the UART FIFO is full),
 * the Ctrl-A escape on terminals, and stdin at EOF or not pollable (a
 * regular file, /dev/null) handled without busy loops. */
#ifndef MINIVMM_STDIN_FEED_H
#define MINIVMM_STDIN_FEED_H

#include "loop.h"
#include "serial.h"
#include "term.h"

struct stdin_feed {
	struct loop *loop;
	struct serial *uart;
	int fd;			/* stdin, -1 after EOF */
	int pollable;		/* stdin registered with epoll */
	int polling;		/* ... and currently asking for EPOLLIN */
	int room_fd;		/* eventfd: the UART has room again */
	int use_escape;		/* stdin is a terminal */
	struct escape esc;
	unsigned char buf[256];
	unsigned len, off;	/* bytes waiting for FIFO room */
	void (*quit)(void *ctx);
	void *quit_ctx;
};

int stdin_feed_start(struct stdin_feed *f, struct loop *loop,
		     struct serial *uart, void (*quit)(void *), void *ctx);
void stdin_feed_stop(struct stdin_feed *f);

#endif
