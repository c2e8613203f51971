/* epoll event loop for the event thread; see loop.h. */
#include "loop.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

int loop_init(struct loop *l)
{
	memset(l, 0, sizeof(*l));
	for (unsigned i = 0; i < LOOP_MAX_SOURCES; i++)
		l->src[i].fd = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	return l->epfd < 0 ? -1 : 0;
}

static struct loop_source *find(struct loop *l, int fd)
{
	for (unsigned i = 0; i < LOOP_MAX_SOURCES; i++)
		if (l->src[i].fd == fd)
			return &l->src[i];
	return NULL;
}

int loop_add(struct loop *l, int fd, uint32_t events, loop_fn fn, void *opaque)
{
	struct loop_source *s = find(l, -1);
	struct epoll_event ev = { .events = events };

	if (fd < 0 || !s)
		return -1;
	ev.data.ptr = s;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -1;
	s->fd = fd;
	s->fn = fn;
	s->opaque = opaque;
	return 0;
}

int loop_modify(struct loop *l, int fd, uint32_t events)
{
	struct loop_source *s = fd < 0 ? NULL : find(l, fd);
	struct epoll_event ev = { .events = events };

	if (!s)
		return -1;
	ev.data.ptr = s;
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev);
}

void loop_remove(struct loop *l, int fd)
{
	struct loop_source *s = fd < 0 ? NULL : find(l, fd);

	if (!s)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	/* An event for it may still be in the batch being dispatched: a
	 * free slot has no callback, so that event is dropped. */
	s->fd = -1;
	s->fn = NULL;
}

int loop_run(struct loop *l)
{
	struct epoll_event ev[16];

	l->running = 1;
	while (l->running) {
		int n = epoll_wait(l->epfd, ev, 16, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (int i = 0; i < n && l->running; i++) {
			struct loop_source *s = ev[i].data.ptr;

			if (s->fn)
				s->fn(s->opaque, ev[i].events);
		}
	}
	return 0;
}

void loop_quit(struct loop *l)
{
	l->running = 0;
}

void loop_destroy(struct loop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
}
