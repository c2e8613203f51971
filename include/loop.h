/* The event thread's loop: epoll over file descriptors, one callback each.
 * Everything that is not a vCPU exit (stdin, signals, stop requests, later
 * ioeventfd kicks and io_uring completions) is served here. */
#ifndef MINIVMM_LOOP_H
#define MINIVMM_LOOP_H

#include <stdint.h>

typedef void (*loop_fn)(void *opaque, uint32_t events);

struct loop_source {
	int fd;
	loop_fn fn;
	void *opaque;
};

#define LOOP_MAX_SOURCES 64

struct loop {
	int epfd;
	int running;
	struct loop_source src[LOOP_MAX_SOURCES];	/* fd -1: free */
};

int loop_init(struct loop *l);
/* events: EPOLLIN etc.  The source must stay alive while registered. */
int loop_add(struct loop *l, int fd, uint32_t events, loop_fn fn, void *opaque);
int loop_modify(struct loop *l, int fd, uint32_t events);
void loop_remove(struct loop *l, int fd);
/* Runs until loop_quit(); returns 0, or -1 on an epoll error. */
int loop_run(struct loop *l);
void loop_quit(struct loop *l);
void loop_destroy(struct loop *l);

#endif
