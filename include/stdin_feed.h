/* Feeds the host's standard input to the guest's console (the UART or
 * virtio-console) from the event thread: with back-pressure (stops reading
 * while the device takes no more),
 * the Ctrl-A escape on terminals, and stdin at EOF or not pollable (a
 * regular file, /dev/null) handled without busy loops. */
#ifndef MINIVMM_STDIN_FEED_H
#define MINIVMM_STDIN_FEED_H

#include "loop.h"
#include <stddef.h>
#include <stdint.h>
#include "term.h"

struct stdin_feed {
	struct loop *loop;
	/* The device: takes what it can, returns how much (0: full). */
	size_t (*receive)(void *dev, const uint8_t *buf, size_t len);
	void *dev;
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
		     size_t (*receive)(void *dev, const uint8_t *, size_t),
		     void *dev, void (*quit)(void *), void *ctx);
/* The device calls this (any thread) when it can take input again; install
 * it as the device's room callback with the feed as context. */
void stdin_feed_room(void *feed);
void stdin_feed_stop(struct stdin_feed *f);

#endif
