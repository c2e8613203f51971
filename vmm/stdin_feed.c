/* Standard input to the UART; see stdin_feed.h. */
#include "stdin_feed.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

static void set_polling(struct stdin_feed *f, int on)
{
	if (!f->pollable || f->fd < 0 || f->polling == on)
		return;
	loop_modify(f->loop, f->fd, on ? EPOLLIN : 0);
	f->polling = on;
}

/* Pushes pending bytes into the FIFO; returns 1 when all were taken. */
static int flush_pending(struct stdin_feed *f)
{
	while (f->off < f->len) {
		size_t n = f->receive(f->dev, f->buf + f->off,
				      f->len - f->off);
		if (!n)
			return 0;
		f->off += (unsigned)n;
	}
	f->off = f->len = 0;
	return 1;
}

static void at_eof(struct stdin_feed *f)
{
	if (f->pollable)
		loop_remove(f->loop, f->fd);
	f->fd = -1;	/* not closed: stdin stays open for the terminal */
}

/* can_read: stdin is known readable (epoll said so, or it never blocks). */
static void feed(struct stdin_feed *f, int can_read)
{
	unsigned char raw[128];

	for (;;) {
		ssize_t n;

		if (!flush_pending(f)) {
			set_polling(f, 0);	/* wait for FIFO room */
			return;
		}
		if (f->fd < 0)
			return;
		if (!can_read) {
			set_polling(f, 1);	/* room again: watch stdin */
			return;
		}
		n = read(f->fd, raw, sizeof(raw));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		if (n <= 0) {
			at_eof(f);
			return;
		}
		for (ssize_t i = 0; i < n; i++) {
			unsigned char out[2];
			int quit;
			unsigned k = 1;

			if (f->use_escape)
				k = escape_feed(&f->esc, raw[i], out, &quit);
			else
				out[0] = raw[i], quit = 0;
			if (quit) {
				f->quit(f->quit_ctx);
				return;
			}
			memcpy(f->buf + f->len, out, k);
			f->len += k;
		}
		/* A pollable stdin is read again when epoll says so. */
		if (f->pollable)
			can_read = 0;
	}
}

static void on_stdin(void *opaque, uint32_t events)
{
	(void)events;
	feed(opaque, 1);
}

static void on_room(void *opaque, uint32_t events)
{
	struct stdin_feed *f = opaque;
	uint64_t v;

	(void)events;
	if (read(f->room_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	feed(f, !f->pollable);
}

/* Called by the device (a vCPU thread for the UART) when it has room. */
void stdin_feed_room(void *ctx)
{
	struct stdin_feed *f = ctx;
	uint64_t one = 1;

	if (write(f->room_fd, &one, sizeof(one)) < 0) {
		/* eventfd counter saturated: a wake-up is already pending */
	}
}

int stdin_feed_start(struct stdin_feed *f, struct loop *loop,
		     size_t (*receive)(void *dev, const uint8_t *, size_t),
		     void *dev, void (*quit)(void *), void *ctx)
{
	memset(f, 0, sizeof(*f));
	f->loop = loop;
	f->receive = receive;
	f->dev = dev;
	f->fd = STDIN_FILENO;
	f->quit = quit;
	f->quit_ctx = ctx;
	f->use_escape = isatty(STDIN_FILENO);
	f->room_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (f->room_fd < 0 ||
	    loop_add(loop, f->room_fd, EPOLLIN, on_room, f) < 0) {
		fprintf(stderr, "minivmm: stdin set-up: %s\n", strerror(errno));
		return -1;
	}
	if (loop_add(loop, STDIN_FILENO, EPOLLIN, on_stdin, f) == 0) {
		f->pollable = f->polling = 1;
	} else if (errno == EPERM) {
		/* Regular file or /dev/null: always readable, so read it as
		 * the FIFO drains, starting now. */
		stdin_feed_room(f);
	} else if (errno == EBADF) {
		f->fd = -1;	/* no stdin at all */
	} else {
		fprintf(stderr, "minivmm: cannot watch stdin: %s\n",
			strerror(errno));
		return -1;
	}
	return 0;
}

/* Call once the devices can no longer call stdin_feed_room(). */
void stdin_feed_stop(struct stdin_feed *f)
{
	if (f->room_fd > 0)
		close(f->room_fd);
	f->room_fd = -1;
}
