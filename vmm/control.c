/* The control socket's server on the event loop; see control.h.
 *
 * Clients are untrusted and the event thread must never wait for one:
 * every socket is non-blocking, each client has a bounded input buffer
 * (one request line) and output buffer, and a client is dropped when it
 * stops reading its answers (CONTROL_WRITE_TIMEOUT_MS) or says nothing
 * for CONTROL_IDLE_TIMEOUT_MS.  A client reads, runs and answers one
 * request at a time; while a request is running (paced typing) or its
 * answer is unsent, its socket is not read, so a fast writer cannot make
 * us buffer more.
 *
 * A client that shuts down its writing side still gets its answers (an
 * unterminated last line counts as a request).  One that goes away
 * entirely still has the whole lines it sent carried out (a `type` is not
 * cut short) and their answers discarded; a line it left unfinished is
 * not a request and is dropped (a `stop` cut off as "sto" or a `type`
 * cut in the middle must do nothing).
 *
 * Limits per client: see control.h.
 *
 * One timerfd drives typing (every CONTROL_TICK_MS while any is running)
 * and the timeouts (every TIMEOUT_TICK_MS while any client is
 * connected); it is disarmed when nobody is. */
#include "control.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_TICK_MS	250
#define OUT_CAP		(2 * CONTROL_RESP_MAX)

unsigned control_idle_timeout_ms = CONTROL_IDLE_TIMEOUT_MS;
unsigned control_line_timeout_ms = CONTROL_LINE_TIMEOUT_MS;

struct control_client {
	struct control *c;
	unsigned slot;
	int fd;
	int registered;		/* in the loop */
	uint32_t mask;		/* the epoll events asked for */
	int busy;		/* x is running (typing) */
	int eof;		/* nothing more to read */
	int gone;		/* peer closed: output is discarded */
	int closing;		/* drop once the output is out */
	uint64_t active_ms;	/* last request byte or answer */
	uint64_t out_ms;	/* output pending since / last progress */
	uint64_t line_ms;	/* the first byte of the unfinished line */
	size_t in_len, out_len;
	char in[CONTROL_LINE_MAX];
	char out[OUT_CAP];
	struct control_exec x;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the timer ------------------------------------------------------- */

static void update_timer(struct control *c)
{
	unsigned want = c->accept_paused ? TIMEOUT_TICK_MS : 0;
	struct itimerspec its = { 0 };

	for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		if (c->client[i] && c->client[i]->busy) {
			want = CONTROL_TICK_MS;
			break;
		}
		if (c->client[i])
			want = TIMEOUT_TICK_MS;
	}
	if (want == c->timer_ms)
		return;
	its.it_interval.tv_nsec = (long)want * 1000000;
	its.it_value = its.it_interval;
	if (timerfd_settime(c->timer_fd, 0, &its, NULL) == 0)
		c->timer_ms = want;
}

/* ---- one client ------------------------------------------------------ */

static void drop(struct control_client *cl)
{
	struct control *c = cl->c;

	if (cl->registered)
		loop_remove(c->loop, cl->fd);
	close(cl->fd);
	c->client[cl->slot] = NULL;
	free(cl);
}

/* No more events for it: it is finished off by the timer. */
static void unregister(struct control_client *cl)
{
	if (!cl->registered)
		return;
	loop_remove(cl->c->loop, cl->fd);
	cl->registered = 0;
}

static void mark_gone(struct control_client *cl)
{
	cl->gone = 1;
	cl->out_len = 0;
	unregister(cl);
}

static void read_some(struct control_client *cl, uint64_t now)
{
	size_t room = sizeof(cl->in) - cl->in_len;
	ssize_t n;

	if (!room || cl->eof)
		return;
	n = recv(cl->fd, cl->in + cl->in_len, room, MSG_DONTWAIT);
	if (n > 0) {
		if (!cl->in_len)
			cl->line_ms = now;
		cl->in_len += (size_t)n;
		cl->active_ms = now;
	} else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK &&
			      errno != EINTR)) {
		cl->eof = 1;
	}
}

static void flush(struct control_client *cl, uint64_t now)
{
	while (cl->out_len && !cl->gone) {
		ssize_t n = send(cl->fd, cl->out, cl->out_len,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n > 0) {
			memmove(cl->out, cl->out + n, cl->out_len - (size_t)n);
			cl->out_len -= (size_t)n;
			cl->out_ms = now;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			break;
		} else {
			mark_gone(cl);
		}
	}
}

static void answer(struct control_client *cl, const char *s, size_t len,
		   uint64_t now)
{
	cl->active_ms = now;
	if (cl->gone)
		return;
	if (!cl->out_len)
		cl->out_ms = now;
	/* Room was checked before the request was taken. */
	memcpy(cl->out + cl->out_len, s, len);
	cl->out_len += len;
}

static void finish(struct control_client *cl, uint64_t now)
{
	struct control *c = cl->c;

	cl->busy = 0;
	/* Nothing was read while it ran: a begun line's clock restarts. */
	cl->line_ms = now;
	answer(cl, cl->x.resp, cl->x.resp_len, now);
	if (cl->x.stop) {
		/* The answer first: stopping may end the loop for good. */
		flush(cl, now);
		cl->closing = 1;
		c->hooks.stop(c->hooks.stop_ctx);
	}
}

static int really_hung_up(int fd);

/* Takes and starts the next request; 0 when there is no whole line. */
static int take_line(struct control_client *cl, uint64_t now)
{
	char *nl = memchr(cl->in, '\n', cl->in_len);
	size_t len, used;
	char msg[64];

	if (nl) {
		len = (size_t)(nl - cl->in);
		used = len + 1;
	} else if (cl->in_len == sizeof(cl->in)) {
		/* Where this line ends cannot be found: give up on it. */
		answer(cl, msg, control_format(msg, sizeof(msg), 0,
					       "request too long"), now);
		cl->in_len = 0;
		cl->closing = 1;
		return 1;
	} else if (cl->eof && cl->in_len &&
		   (cl->gone || really_hung_up(cl->fd))) {
		/* Cut off by a client that went away: not a request.  (Its
		 * hang-up may come after the event that brought the data.) */
		mark_gone(cl);
		cl->in_len = 0;
		return 0;
	} else if (cl->eof && cl->in_len) {
		len = used = cl->in_len;	/* the last line, unterminated */
	} else if (cl->in_len && now - cl->line_ms >= control_line_timeout_ms) {
		answer(cl, msg, control_format(msg, sizeof(msg), 0,
					       "request not finished in time"),
		       now);
		cl->in_len = 0;
		cl->closing = 1;
		return 1;
	} else {
		return 0;
	}
	if (len && cl->in[len - 1] == '\r')
		len--;
	cl->busy = control_exec_start(&cl->x, &cl->c->hooks, cl->in, len,
				      now) == CONTROL_PENDING;
	memmove(cl->in, cl->in + used, cl->in_len - used);
	cl->in_len -= used;
	/* What follows was sent with this line: its clock starts now. */
	cl->line_ms = now;
	if (!cl->busy)
		finish(cl, now);
	return 1;
}

static int room_for_answer(const struct control_client *cl)
{
	return cl->out_len + CONTROL_RESP_MAX <= sizeof(cl->out);
}

static void set_mask(struct control_client *cl)
{
	uint32_t want = 0;

	if (!cl->registered)
		return;
	if (!cl->eof && !cl->busy && !cl->closing && room_for_answer(cl) &&
	    cl->in_len < sizeof(cl->in))
		want |= EPOLLIN;
	if (cl->out_len)
		want |= EPOLLOUT;
	if (want != cl->mask && loop_modify(cl->c->loop, cl->fd, want) == 0)
		cl->mask = want;
}

/* Moves a client along as far as it goes now; 0 when it was dropped. */
static int service(struct control_client *cl, uint64_t now)
{
	if (cl->busy && control_exec_step(&cl->x, &cl->c->hooks, now) ==
	    CONTROL_DONE)
		finish(cl, now);
	while (!cl->busy && !cl->closing && room_for_answer(cl)) {
		if (take_line(cl, now))
			continue;
		if (cl->eof)
			break;
		/* Level-triggered epoll would tell us too; a client that
		 * is gone has no events left, its data is still there. */
		read_some(cl, now);
		if (!memchr(cl->in, '\n', cl->in_len) && !cl->eof &&
		    cl->in_len < sizeof(cl->in))
			break;
	}
	if (cl->eof && !cl->busy && !cl->in_len)
		cl->closing = 1;
	flush(cl, now);
	if ((cl->closing && !cl->out_len) ||
	    (cl->out_len && now - cl->out_ms >= CONTROL_WRITE_TIMEOUT_MS) ||
	    (!cl->busy && !cl->out_len &&
	     now - cl->active_ms >= control_idle_timeout_ms)) {
		drop(cl);
		return 0;
	}
	set_mask(cl);
	return 1;
}

/* Is the peer really gone?  An event may be stale: the loop can hand a
 * new client an event meant for one dropped in the same batch. */
static int really_hung_up(int fd)
{
	struct pollfd p = { .fd = fd, .events = 0 };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
}

static void on_client(void *opaque, uint32_t events)
{
	struct control_client *cl = opaque;
	struct control *c = cl->c;
	uint64_t now = now_ms();

	if (events & EPOLLIN)
		read_some(cl, now);
	/* What it sent before going is still read and run. */
	if ((events & (EPOLLHUP | EPOLLERR)) && really_hung_up(cl->fd))
		mark_gone(cl);
	service(cl, now);
	update_timer(c);
}

/* ---- accepting ------------------------------------------------------- */

static void refuse(int fd)
{
	static const char msg[] = "error: too many clients\n";

	/* Best effort: a new socket's buffer takes it without waiting. */
	if (send(fd, msg, sizeof(msg) - 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		/* nothing more to do for it */
	}
	close(fd);
}

/* All slots taken: the client idle longest makes room, if it is doing
 * nothing (no request running, nothing to send, no line begun) and has
 * been idle CONTROL_EVICT_IDLE_MS.  Its slot, or CONTROL_MAX_CLIENTS. */
static unsigned evict_idle(struct control *c, uint64_t now)
{
	static const char msg[] = "error: dropped: idle while the server "
				  "was full\n";
	struct control_client *victim = NULL;
	unsigned slot;

	for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct control_client *cl = c->client[i];

		if (!cl || cl->busy || cl->out_len || cl->in_len ||
		    now - cl->active_ms < CONTROL_EVICT_IDLE_MS)
			continue;
		if (!victim || cl->active_ms < victim->active_ms)
			victim = cl;
	}
	if (!victim)
		return CONTROL_MAX_CLIENTS;
	slot = victim->slot;
	if (!victim->gone &&
	    send(victim->fd, msg, sizeof(msg) - 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		/* best effort: it is dropped either way */
	}
	drop(victim);
	return slot;
}

static void add_client(struct control *c, int fd)
{
	struct control_client *cl = NULL;
	unsigned i;

	for (i = 0; i < CONTROL_MAX_CLIENTS && c->client[i]; i++)
		;
	if (i == CONTROL_MAX_CLIENTS)
		i = evict_idle(c, now_ms());
	if (i < CONTROL_MAX_CLIENTS)
		cl = calloc(1, sizeof(*cl));
	if (!cl || loop_add(c->loop, fd, EPOLLIN, on_client, cl) < 0) {
		free(cl);
		refuse(fd);
		return;
	}
	cl->c = c;
	cl->slot = i;
	cl->fd = fd;
	cl->registered = 1;
	cl->mask = EPOLLIN;
	cl->active_ms = now_ms();
	c->client[i] = cl;
}

static void on_listen(void *opaque, uint32_t events)
{
	struct control *c = opaque;

	(void)events;
	for (;;) {
		int fd = accept4(c->listen_fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			add_client(c, fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			/* Out of descriptors: listening again would spin;
			 * the timer resumes it. */
			if (loop_modify(c->loop, c->listen_fd, 0) == 0)
				c->accept_paused = 1;
		}
		break;
	}
	update_timer(c);
}

static void on_timer(void *opaque, uint32_t events)
{
	struct control *c = opaque;
	uint64_t expirations, now = now_ms();

	(void)events;
	if (read(c->timer_fd, &expirations, sizeof(expirations)) < 0) {
		/* EAGAIN: a spurious wake-up; the work below is harmless */
	}
	if (c->accept_paused &&
	    loop_modify(c->loop, c->listen_fd, EPOLLIN) == 0)
		c->accept_paused = 0;
	for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (c->client[i])
			service(c->client[i], now);
	update_timer(c);
}

/* ---- the socket file ------------------------------------------------- */

/* Makes path free for us: nothing there, or a socket nobody answers on
 * (a minivmm that died), which is removed.  Anything else stays. */
static int clear_stale(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, rc, e;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "control socket '%s': %s", path,
			 strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "control socket '%s': exists and is not "
			 "a socket; not replacing it", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	e = errno;
	close(fd);
	if (rc == 0 || e == EAGAIN || e == EINPROGRESS) {
		snprintf(err, errlen, "control socket '%s' is in use by "
			 "another process", path);
		return -1;
	}
	if (e != ECONNREFUSED) {
		snprintf(err, errlen, "control socket '%s': %s", path,
			 strerror(e));
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "cannot remove stale control socket "
			 "'%s': %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int control_check_path(const char *path, char *err, size_t errlen)
{
	char dir[sizeof(((struct control *)0)->path)];
	const char *slash;
	struct stat st;

	if (!path[0] || strlen(path) >= sizeof(dir)) {
		snprintf(err, errlen, "control socket path must be 1 to %zu "
			 "bytes", sizeof(dir) - 1);
		return -1;
	}
	if (lstat(path, &st) == 0) {
		if (S_ISSOCK(st.st_mode))
			return 0;
		snprintf(err, errlen, "control socket '%s': exists and is not "
			 "a socket; not replacing it", path);
		return -1;
	}
	if (errno != ENOENT) {
		snprintf(err, errlen, "control socket '%s': %s", path,
			 strerror(errno));
		return -1;
	}
	/* Nothing there: is there a directory to create it in? */
	slash = strrchr(path, '/');
	if (!slash)
		return 0;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (slash > path && stat(dir, &st) < 0) {
		snprintf(err, errlen, "control socket '%s': %s", path,
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* Bound, private (0600: the socket drives the VM), then listening; no
 * one can connect before listen(), so the mode is set in time. */
static int make_socket(struct control *c, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, errlen, "cannot create control socket '%s': %s",
			 c->path, strerror(errno));
		close(fd);
		return -1;
	}
	if (chmod(c->path, 0600) < 0 || lstat(c->path, &st) < 0 ||
	    listen(fd, CONTROL_MAX_CLIENTS) < 0) {
		snprintf(err, errlen, "cannot set up control socket '%s': %s",
			 c->path, strerror(errno));
		unlink(c->path);
		close(fd);
		return -1;
	}
	c->dev = (uint64_t)st.st_dev;
	c->ino = (uint64_t)st.st_ino;
	c->listen_fd = fd;
	return 0;
}

int control_start(struct control *c, struct loop *loop, const char *path,
		  const struct control_hooks *hooks, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->listen_fd = c->timer_fd = -1;
	c->loop = loop;
	c->hooks = *hooks;
	if (control_check_path(path, err, errlen) < 0)
		return -1;
	memcpy(c->path, path, strlen(path) + 1);
	if (clear_stale(path, err, errlen) < 0 || make_socket(c, err, errlen) < 0)
		return -1;
	c->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (c->timer_fd < 0 ||
	    loop_add(loop, c->listen_fd, EPOLLIN, on_listen, c) < 0) {
		snprintf(err, errlen, "control socket: cannot watch it: %s",
			 c->timer_fd < 0 ? strerror(errno) : "event loop full");
		goto fail;
	}
	if (loop_add(loop, c->timer_fd, EPOLLIN, on_timer, c) < 0) {
		loop_remove(loop, c->listen_fd);
		snprintf(err, errlen, "control socket: event loop full");
		goto fail;
	}
	c->started = 1;
	return 0;
fail:
	if (c->timer_fd >= 0)
		close(c->timer_fd);
	unlink(c->path);
	close(c->listen_fd);
	c->listen_fd = c->timer_fd = -1;
	return -1;
}

void control_stop(struct control *c)
{
	struct stat st;

	if (!c->started)
		return;
	c->started = 0;
	for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (c->client[i])
			drop(c->client[i]);
	loop_remove(c->loop, c->listen_fd);
	loop_remove(c->loop, c->timer_fd);
	close(c->listen_fd);
	close(c->timer_fd);
	c->listen_fd = c->timer_fd = -1;
	/* Only our own file: someone may have replaced it meanwhile. */
	if (lstat(c->path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    (uint64_t)st.st_dev == c->dev && (uint64_t)st.st_ino == c->ino)
		unlink(c->path);
}
