/* Standard input to the guest's console; see stdin_feed.h. */
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

/* Pushes pending bytes into the device; keeps the rest at the front. */
static void flush_pending(struct stdin_feed *f)
{
	while (f->off < f->len) {
		size_t n = f->receive(f->dev, f->buf + f->off,
				      f->len - f->off);
		if (!n)
			break;
		f->off += (unsigned)n;
	}
	memmove(f->buf, f->buf + f->off, f->len - f->off);
	f->len -= f->off;
	f->off = 0;
}

static void at_eof(struct stdin_feed *f)
{
	if (f->pollable)
		loop_remove(f->loop, f->fd);
	f->fd = -1;	/* not closed: stdin stays open for the terminal */
}

/* Reads what fits in the pending buffer (a byte may become two after the
 * escape), watching for Ctrl-A x.  Returns 0 at EOF or on quit. */
static int read_some(struct stdin_feed *f)
{
	unsigned char raw[128];
	size_t want = (sizeof(f->buf) - f->len) / 2;
	ssize_t n;

	if (want > sizeof(raw))
		want = sizeof(raw);
	if (!want)
		return 1;
	n = read(f->fd, raw, want);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n <= 0) {
		at_eof(f);
		return 0;
	}
	for (ssize_t i = 0; i < n; i++) {
		unsigned char out[2];
		int quit = 0;
		unsigned k = 1;

		if (f->use_escape)
			k = escape_feed(&f->esc, raw[i], out, &quit);
		else
			out[0] = raw[i];
		if (quit) {
			f->quit(f->quit_ctx);
			return 0;
		}
		memcpy(f->buf + f->len, out, k);
		f->len += k;
	}
	return 1;
}

/* can_read: stdin is known readable (epoll said so, or it never blocks).
 * stdin is read while the pending buffer has room, even when the guest
 * takes nothing yet, so Ctrl-A x works at any time; only a full buffer
 * stops the reading (back-pressure on a pipe). */
static void feed(struct stdin_feed *f, int can_read)
{
	flush_pending(f);
	if (f->fd >= 0 && can_read) {
		if (!read_some(f))
			return;
		flush_pending(f);
		/* A file never blocks: go on while the device takes it all. */
		while (!f->pollable && f->fd >= 0 && f->len == 0) {
			if (!read_some(f))
				return;
			flush_pending(f);
		}
	}
	set_polling(f, f->len + 2 <= sizeof(f->buf));
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
