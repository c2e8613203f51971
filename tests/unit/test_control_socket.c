/* The control socket's server on a real event loop (in its own thread)
 * with real unix sockets, and the `ctl` client against it: requests and
 * answers, many clients, garbage, oversized lines, half-closed and
 * vanished clients, one that never reads, stale-socket reuse, and what
 * is never replaced; hostile clients (binary, malformed, 1 MiB lines,
 * hang-ups mid-line, silent and trickling clients, floods of them), each
 * leaving the VM untouched, the server answering and no descriptor
 * behind. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "control.h"
#include "loop.h"
#include "virtio_input.h"

/* ---- the VM side: sinks, display, stop ------------------------------- */

struct vm {
	pthread_mutex_t lock;
	unsigned kbd_events, ptr_events, stops;
	unsigned last_code;
	char shot[CONTROL_LINE_MAX];
	struct display disp;
};

static void kbd_event(void *ctx, uint16_t type, uint16_t code, int32_t value)
{
	struct vm *v = ctx;

	(void)value;
	pthread_mutex_lock(&v->lock);
	v->kbd_events++;
	if (type == EV_KEY)
		v->last_code = code;
	pthread_mutex_unlock(&v->lock);
}

static void ptr_event(void *ctx, uint16_t type, uint16_t code, int32_t value)
{
	struct vm *v = ctx;

	(void)type, (void)code, (void)value;
	pthread_mutex_lock(&v->lock);
	v->ptr_events++;
	pthread_mutex_unlock(&v->lock);
}

static int vm_screenshot(struct display *d, const char *path, char *err,
			 size_t errlen)
{
	struct vm *v = d->priv;

	(void)err, (void)errlen;
	pthread_mutex_lock(&v->lock);
	snprintf(v->shot, sizeof(v->shot), "%s", path);
	pthread_mutex_unlock(&v->lock);
	return 0;
}

static const struct display_ops vm_display_ops = {
	.name = "test",
	.screenshot = vm_screenshot,
};

static void vm_size(void *ctx, uint32_t *w, uint32_t *h)
{
	(void)ctx;
	*w = 800;
	*h = 600;
}

static void vm_stop(void *ctx)
{
	struct vm *v = ctx;

	pthread_mutex_lock(&v->lock);
	v->stops++;
	pthread_mutex_unlock(&v->lock);
}

static unsigned vm_count(struct vm *v, unsigned *field)
{
	unsigned n;

	pthread_mutex_lock(&v->lock);
	n = *field;
	pthread_mutex_unlock(&v->lock);
	return n;
}

/* ---- the server in its thread ----------------------------------------- */

struct env {
	char dir[64], path[128];
	struct loop loop;
	struct control ctl;
	struct vm vm;
	int quit_fd;
	pthread_t thread;
};

static void on_quit(void *opaque, uint32_t events)
{
	struct env *e = opaque;

	(void)events;
	loop_quit(&e->loop);
}

static void *loop_thread(void *arg)
{
	struct env *e = arg;

	loop_run(&e->loop);
	return NULL;
}

static struct control_hooks hooks_for(struct vm *v)
{
	return (struct control_hooks){
		.display = &v->disp,
		.keyboard = { kbd_event, v },
		.pointer = { ptr_event, v },
		.screen_size = vm_size, .screen_ctx = v,
		.stop = vm_stop, .stop_ctx = v,
	};
}

static void env_init(struct env *e)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "/tmp/minivmm-ctl-XXXXXX");
	if (!mkdtemp(e->dir))
		abort();
	snprintf(e->path, sizeof(e->path), "%s/ctl.sock", e->dir);
	pthread_mutex_init(&e->vm.lock, NULL);
	e->vm.disp.ops = &vm_display_ops;
	e->vm.disp.priv = &e->vm;
	if (loop_init(&e->loop) < 0)
		abort();
	e->quit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (e->quit_fd < 0 || loop_add(&e->loop, e->quit_fd, EPOLLIN, on_quit, e))
		abort();
}

/* Starts the server on e->path and runs the loop; 0 or -1 (err set). */
static int env_start(struct env *e, char *err, size_t errlen)
{
	struct control_hooks h = hooks_for(&e->vm);

	if (control_start(&e->ctl, &e->loop, e->path, &h, err, errlen) < 0)
		return -1;
	if (pthread_create(&e->thread, NULL, loop_thread, e))
		abort();
	return 0;
}

static void env_halt(struct env *e)
{
	uint64_t one = 1;

	if (write(e->quit_fd, &one, sizeof(one)) != sizeof(one))
		abort();
	pthread_join(e->thread, NULL);
	control_stop(&e->ctl);
}

static void env_free(struct env *e)
{
	char cmd[160];

	loop_destroy(&e->loop);
	close(e->quit_fd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
	if (system(cmd) != 0)
		abort();
}

/* ---- client helpers --------------------------------------------------- */

static void set_sun(struct sockaddr_un *sa, const char *path)
{
	if (strlen(path) >= sizeof(sa->sun_path))
		abort();
	memcpy(sa->sun_path, path, strlen(path) + 1);
}

static int dial(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	set_sun(&sa, path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int put(int fd, const void *buf, size_t len)
{
	return send(fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* One line from fd within 5 s, newline dropped; NULL at EOF, on an error
 * or a timeout.  Reads byte by byte so nothing after it is consumed. */
static const char *get_line_into(int fd, char *buf, size_t cap)
{
	size_t n = 0;

	while (n < cap - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 5000) != 1 || recv(fd, buf + n, 1, 0) != 1)
			return NULL;
		if (buf[n] == '\n') {
			buf[n] = '\0';
			return buf;
		}
		n++;
	}
	return NULL;
}

static const char *get_line(int fd)
{
	static char buf[CONTROL_RESP_MAX + 1];

	return get_line_into(fd, buf, sizeof(buf));
}

/* The server closed the connection: EOF (or reset) within 5 s. */
static int closed_by_server(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	return poll(&p, 1, 5000) == 1 && recv(fd, &c, 1, 0) <= 0;
}

static int line_is(int fd, const char *want)
{
	const char *got = get_line(fd);

	if (!got || strcmp(got, want)) {
		fprintf(stderr, "  got '%s', want '%s'\n", got ? got : "(none)",
			want);
		return 0;
	}
	return 1;
}

/* A whole exchange on a fresh connection. */
static int ask(const char *path, const char *req, const char *want)
{
	int fd = dial(path), ok;

	if (fd < 0)
		return 0;
	ok = put(fd, req, strlen(req)) == 0 && line_is(fd, want);
	close(fd);
	return ok;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* ---- tests ----------------------------------------------------------- */

TEST(test_requests_and_answers)
{
	struct env e;
	char err[256];
	struct stat st;
	int fd;

	env_init(&e);
	CHECK_EQ(env_start(&e, err, sizeof(err)), 0);
	CHECK(stat(e.path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	      (st.st_mode & 0777) == 0600);
	CHECK(ask(e.path, "ping\n", "ok pong"));
	CHECK(ask(e.path, "ping\r\n", "ok pong"));
	CHECK(ask(e.path, "key ctrl+c\n", "ok"));
	CHECK_EQ(vm_count(&e.vm, &e.vm.kbd_events), 8);
	CHECK(ask(e.path, "type Hi!\n", "ok"));
	CHECK_EQ(vm_count(&e.vm, &e.vm.kbd_events), 8 + 8 + 4 + 8);
	CHECK(ask(e.path, "pointer 799 599 click\n", "ok"));
	CHECK_EQ(vm_count(&e.vm, &e.vm.ptr_events), 7);
	CHECK(ask(e.path, "pointer 800 0\n",
		  "error: position 800,0 is outside the 800x600 screen"));
	CHECK(ask(e.path, "screenshot /x/y z.png\n", "ok /x/y z.png"));
	CHECK(!strcmp(e.vm.shot, "/x/y z.png"));
	CHECK(ask(e.path, "key nosuch\n", "error: unknown key 'nosuch'"));

	/* Several requests in one write: answered in order, typing too. */
	fd = dial(e.path);
	CHECK(fd >= 0);
	CHECK_EQ(put(fd, "ping\ntype abc\nkey x\nnope\nping\n", 30), 0);
	CHECK(line_is(fd, "ok pong"));
	CHECK(line_is(fd, "ok"));
	CHECK(line_is(fd, "ok"));
	CHECK(line_is(fd, "error: unknown command"));
	CHECK(line_is(fd, "ok pong"));
	CHECK_EQ(vm_count(&e.vm, &e.vm.last_code), KEY_X);
	close(fd);

	/* stop: answered, the hook called once, the connection closed. */
	fd = dial(e.path);
	CHECK_EQ(put(fd, "stop\nping\n", 10), 0);
	CHECK(line_is(fd, "ok stopping"));
	CHECK(closed_by_server(fd));
	close(fd);
	CHECK_EQ(vm_count(&e.vm, &e.vm.stops), 1);

	env_halt(&e);
	/* control_stop removed the socket; a second stop is harmless. */
	CHECK(stat(e.path, &st) < 0 && errno == ENOENT);
	control_stop(&e.ctl);
	env_free(&e);
}

TEST(test_garbage_and_long_lines)
{
	static char big[CONTROL_LINE_MAX + 1000];
	struct env e;
	char err[256];
	int fd;

	env_init(&e);
	CHECK_EQ(env_start(&e, err, sizeof(err)), 0);
	/* Binary garbage, NULs included: an error, the connection lives. */
	fd = dial(e.path);
	CHECK_EQ(put(fd, "\xff\xfe\x00\x01\x02garbage\x00\n", 14), 0);
	CHECK(line_is(fd, "error: unknown command"));
	CHECK_EQ(put(fd, "\n", 1), 0);
	CHECK(line_is(fd, "error: unknown command"));
	CHECK_EQ(put(fd, "ping\n", 5), 0);
	CHECK(line_is(fd, "ok pong"));
	close(fd);

	/* The longest line there may be, 4096 bytes with its newline. */
	memset(big, 'a', sizeof(big));
	memcpy(big, "screenshot /", 12);
	big[CONTROL_LINE_MAX - 1] = '\n';
	fd = dial(e.path);
	CHECK_EQ(put(fd, big, CONTROL_LINE_MAX), 0);
	{
		const char *l = get_line(fd);

		CHECK(l && !strncmp(l, "ok /aaaa", 8) &&
		      strlen(l) == CONTROL_LINE_MAX - 9);
	}
	close(fd);

	/* One byte more: refused and closed; the server goes on. */
	big[CONTROL_LINE_MAX - 1] = 'a';
	big[CONTROL_LINE_MAX] = '\n';
	fd = dial(e.path);
	CHECK_EQ(put(fd, big, CONTROL_LINE_MAX + 1), 0);
	CHECK(line_is(fd, "error: request too long"));
	CHECK(closed_by_server(fd));
	close(fd);
	/* Endless bytes with no newline at all. */
	fd = dial(e.path);
	CHECK_EQ(put(fd, big, sizeof(big)), 0);
	CHECK(line_is(fd, "error: request too long"));
	close(fd);
	CHECK(ask(e.path, "ping\n", "ok pong"));
	env_halt(&e);
	env_free(&e);
}

TEST(test_many_clients)
{
	struct env e;
	char err[256];
	int fd[CONTROL_MAX_CLIENTS], extra, again = -1;

	env_init(&e);
	CHECK_EQ(env_start(&e, err, sizeof(err)), 0);
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		fd[i] = dial(e.path);
		CHECK(fd[i] >= 0);
		CHECK_EQ(put(fd[i], "ping\n", 5), 0);
		CHECK(line_is(fd[i], "ok pong"));
	}
	extra = dial(e.path);
	CHECK(extra >= 0);
	CHECK(line_is(extra, "error: too many clients"));
	CHECK(closed_by_server(extra));
	close(extra);
	/* Each one still served, in any order. */
	for (int i = CONTROL_MAX_CLIENTS - 1; i >= 0; i--)
		CHECK_EQ(put(fd[i], "ping\n", 5), 0);
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		CHECK(line_is(fd[i], "ok pong"));
	/* One leaves: a newcomer gets its place (once the server saw it). */
	close(fd[3]);
	for (int tries = 0; tries < 100; tries++) {
		const char *l;

		again = dial(e.path);
		CHECK_EQ(put(again, "ping\n", 5), 0);
		l = get_line(again);
		if (l && !strcmp(l, "ok pong"))
			break;
		close(again);
		again = -1;
		sleep_ms(10);
	}
	CHECK(again >= 0);
	if (again >= 0)
		close(again);
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (i != 3)
			close(fd[i]);
	env_halt(&e);
	env_free(&e);
}

TEST(test_half_closed_and_vanished_clients)
{
	struct env e;
	char err[256];
	int fd;

	env_init(&e);
	CHECK_EQ(env_start(&e, err, sizeof(err)), 0);
	/* Shut for writing: the answers still come, then EOF. */
	fd = dial(e.path);
	CHECK_EQ(put(fd, "ping\ntype ab\n", 13), 0);
	shutdown(fd, SHUT_WR);
	CHECK(line_is(fd, "ok pong"));
	CHECK(line_is(fd, "ok"));
	CHECK(closed_by_server(fd));
	close(fd);
	/* The last line may lack its newline then. */
	fd = dial(e.path);
	CHECK_EQ(put(fd, "ping", 4), 0);
	shutdown(fd, SHUT_WR);
	CHECK(line_is(fd, "ok pong"));
	CHECK(closed_by_server(fd));
	close(fd);
	/* Gone at once: what it asked for is still done, whole. */
	pthread_mutex_lock(&e.vm.lock);
	e.vm.kbd_events = 0;
	pthread_mutex_unlock(&e.vm.lock);
	fd = dial(e.path);
	CHECK_EQ(put(fd, "type abcdefghij\nkey enter\n", 26), 0);
	close(fd);
	for (int i = 0; i < 500 && vm_count(&e.vm, &e.vm.kbd_events) < 44; i++)
		sleep_ms(10);
	CHECK_EQ(vm_count(&e.vm, &e.vm.kbd_events), 44);
	CHECK_EQ(vm_count(&e.vm, &e.vm.last_code), KEY_ENTER);
	/* Connect and leave without a word. */
	fd = dial(e.path);
	close(fd);
	CHECK(ask(e.path, "ping\n", "ok pong"));
	env_halt(&e);
	env_free(&e);
}

/* A client that sends and never reads is dropped after
 * CONTROL_WRITE_TIMEOUT_MS; others are served meanwhile. */
TEST(test_client_that_never_reads)
{
	static const char pings[] = "ping\nping\nping\nping\nping\nping\n"
				    "ping\nping\nping\nping\nping\nping\n";
	struct env e;
	char err[256];
	int fd, dropped = 0;
	struct timespec t0, t1;

	env_init(&e);
	CHECK_EQ(env_start(&e, err, sizeof(err)), 0);
	fd = dial(e.path);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; !dropped; i++) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		ssize_t n = send(fd, pings, sizeof(pings) - 1,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			dropped = 1;
		else if (n < 0)
			poll(&p, 1, 20);
		if (i % 100 == 0)
			CHECK(ask(e.path, "ping\n", "ok pong"));
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec > 10)
			break;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(dropped);
	CHECK(t1.tv_sec - t0.tv_sec >= CONTROL_WRITE_TIMEOUT_MS / 1000 - 1);
	close(fd);
	CHECK(ask(e.path, "ping\n", "ok pong"));
	env_halt(&e);
	env_free(&e);
}

/* A socket nobody listens on is replaced; a live one, a regular file, a
 * directory or a symlink are refused and left as they were. */
TEST(test_socket_file_rules)
{
	struct env e, other;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char err[256], target[160];
	struct stat st;
	int fd;
	FILE *f;

	env_init(&e);
	/* Stale: bound, then closed without unlinking. */
	set_sun(&sa, e.path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	close(fd);
	CHECK(stat(e.path, &st) == 0 && S_ISSOCK(st.st_mode));
	CHECK_EQ(env_start(&e, err, sizeof(err)), 0);
	CHECK(ask(e.path, "ping\n", "ok pong"));

	/* Live: a second server on the same path is refused. */
	env_init(&other);
	snprintf(other.path, sizeof(other.path), "%s", e.path);
	CHECK_EQ(env_start(&other, err, sizeof(err)), -1);
	CHECK(strstr(err, "in use by another process") != NULL);
	CHECK(ask(e.path, "ping\n", "ok pong"));
	env_free(&other);

	/* Replaced behind our back: control_stop leaves the new file. */
	CHECK_EQ(unlink(e.path), 0);
	f = fopen(e.path, "w");
	CHECK(f && fputs("precious\n", f) >= 0 && fclose(f) == 0);
	env_halt(&e);
	CHECK(stat(e.path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 9);

	/* A regular file is never deleted. */
	CHECK_EQ(control_start(&e.ctl, &e.loop, e.path,
			       &(struct control_hooks){ 0 }, err, sizeof(err)),
		 -1);
	CHECK(strstr(err, "exists and is not a socket") != NULL);
	CHECK(stat(e.path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 9);
	control_stop(&e.ctl);	/* never started: nothing to do */
	CHECK(stat(e.path, &st) == 0);

	/* Nor a directory, nor a symlink (even to a stale socket). */
	CHECK_EQ(unlink(e.path), 0);
	CHECK_EQ(mkdir(e.path, 0700), 0);
	CHECK_EQ(control_start(&e.ctl, &e.loop, e.path,
			       &(struct control_hooks){ 0 }, err, sizeof(err)),
		 -1);
	CHECK(stat(e.path, &st) == 0 && S_ISDIR(st.st_mode));
	CHECK_EQ(rmdir(e.path), 0);
	snprintf(target, sizeof(target), "%s/stale", e.dir);
	set_sun(&sa, target);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	close(fd);
	CHECK_EQ(symlink(target, e.path), 0);
	CHECK_EQ(control_start(&e.ctl, &e.loop, e.path,
			       &(struct control_hooks){ 0 }, err, sizeof(err)),
		 -1);
	CHECK(lstat(e.path, &st) == 0 && S_ISLNK(st.st_mode));
	CHECK(stat(target, &st) == 0 && S_ISSOCK(st.st_mode));

	/* No directory, a path too long for sun_path. */
	snprintf(target, sizeof(target), "%s/no/such/dir", e.dir);
	CHECK_EQ(control_start(&e.ctl, &e.loop, target,
			       &(struct control_hooks){ 0 }, err, sizeof(err)),
		 -1);
	CHECK(strstr(err, "No such file or directory") != NULL);
	memset(target, 'x', sizeof(target) - 1);
	target[0] = '/';
	target[sizeof(target) - 1] = '\0';
	CHECK_EQ(control_start(&e.ctl, &e.loop, target,
			       &(struct control_hooks){ 0 }, err, sizeof(err)),
		 -1);
	CHECK(strstr(err, "path must be") != NULL);
	env_free(&e);
}

/* ---- hostile clients ---------------------------------------------------- */

/* Descriptors open in this process (the server runs in it too). */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own */
}

/* The server dropped every client it had: back to want within 3 s. */
static int fds_back_to(int want)
{
	for (int i = 0; i < 300; i++) {
		if (count_fds() == want)
			return 1;
		sleep_ms(10);
	}
	fprintf(stderr, "  %d descriptors open, %d expected\n", count_fds(),
		want);
	return 0;
}

/* What the VM saw; garbage must change none of it. */
struct seen {
	unsigned kbd, ptr, stops;
	char shot[CONTROL_LINE_MAX];
};

static struct seen vm_seen(struct vm *v)
{
	struct seen s;

	pthread_mutex_lock(&v->lock);
	s.kbd = v->kbd_events;
	s.ptr = v->ptr_events;
	s.stops = v->stops;
	memcpy(s.shot, v->shot, sizeof(s.shot));
	pthread_mutex_unlock(&v->lock);
	return s;
}

static int vm_unchanged(struct vm *v, const struct seen *before)
{
	struct seen now = vm_seen(v);

	return now.kbd == before->kbd && now.ptr == before->ptr &&
	       now.stops == before->stops && !strcmp(now.shot, before->shot);
}

/* Sends len bytes as far as the server takes them (it may stop reading
 * and close); the bytes sent.  Gives up after 5 s. */
static size_t send_what_goes(int fd, const char *buf, size_t len)
{
	size_t done = 0;

	for (int waits = 0; done < len && waits < 250;) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		ssize_t n = send(fd, buf + done, len - done,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			done += (size_t)n;
		} else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			poll(&p, 1, 20);
			waits++;
		} else {
			break;	/* EPIPE, ECONNRESET: it hung up */
		}
	}
	return done;
}

static uint32_t rng_state = 12345;

static uint32_t rnd(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return rng_state >> 8;
}

/* Random bytes (NULs, invalid UTF-8, control characters, '\r'), a
 * newline only at each line's end: each line one "error: ..." answer, on
 * one connection that stays open; nothing reaches the VM. */
TEST(test_binary_garbage)
{
	struct env e;
	char err[256], line[600];
	struct seen before;
	int fd, fds, errors = 0;

	env_init(&e);
	CHECK_EQ(env_start(&e, err, sizeof(err)), 0);
	fds = count_fds();
	before = vm_seen(&e.vm);
	fd = dial(e.path);
	CHECK(fd >= 0);
	for (int i = 0; i < 400; i++) {
		size_t len = rnd() % (i < 200 ? 16 : sizeof(line) - 1);
		const char *l;

		for (size_t k = 0; k < len; k++) {
			line[k] = (char)(rnd() & 0xff);
			if (line[k] == '\n')
				line[k] = '\0';
		}
		/* Half of them start with a real verb; a control character
		 * at the end keeps them from being valid by chance. */
		if (i % 2 && len > 13) {
			static const char *verbs[] = { "type ", "key ",
				"pointer ", "screenshot /" };
			const char *v = verbs[i / 2 % 4];

			memcpy(line, v, strlen(v));
			line[len - 1] = '\x01';
		}
		line[len] = '\n';
		CHECK_EQ(put(fd, line, len + 1), 0);
		l = get_line(fd);
		if (l && !strncmp(l, "error: ", 7) && !strchr(l, '\x01'))
			errors++;
		else
			fprintf(stderr, "  line %d: answer '%s'\n", i,
				l ? l : "(none)");
	}
	CHECK_EQ(errors, 400);
	/* NULs inside real requests, and nothing but NULs. */
	CHECK_EQ(put(fd, "ping\0\n", 6), 0);
	CHECK(line_is(fd, "error: unknown command"));
	CHECK_EQ(put(fd, "type ab\0cd\n", 11), 0);
	CHECK(line_is(fd, "error: unknown command"));
	CHECK_EQ(put(fd, "\0\0\0\0\n", 5), 0);
	CHECK(line_is(fd, "error: unknown command"));
	CHECK_EQ(put(fd, "stop\0\n", 6), 0);
	CHECK(line_is(fd, "error: unknown command"));
	CHECK(vm_unchanged(&e.vm, &before));
	CHECK_EQ(put(fd, "ping\n", 5), 0);
	CHECK(line_is(fd, "ok pong"));
	close(fd);
	CHECK(fds_back_to(fds));
	env_halt(&e);
	env_free(&e);
}

/* Every malformed request gets its error; the VM sees none of them. */
TEST(test_malformed_requests)
{
	static const struct { const char *req, *want; } cases[] = {
		{ "PING\n", "error: unknown command" },
		{ "pingx\n", "error: unknown command" },
		{ " ping\n", "error: unknown command" },
		{ "ping \n", "error: usage: ping" },
		{ "stop now\n", "error: usage: stop" },
		{ "stop \n", "error: usage: stop" },
		{ "\r\n", "error: unknown command" },
		{ "\r\r\n", "error: unknown command" },
		{ "reboot\n", "error: unknown command" },
		{ "screenshot\n", "error: usage: screenshot /ABSOLUTE/PATH" },
		{ "screenshot \n", "error: usage: screenshot /ABSOLUTE/PATH" },
		{ "screenshot relative.png\n",
		  "error: usage: screenshot /ABSOLUTE/PATH" },
		{ "screenshot /\xff\xfe.png\n", "error: request is not UTF-8 text" },
		{ "screenshot /a\tb\n", "error: control character in request" },
		{ "key\n", "error: usage: key NAME[+NAME...]" },
		{ "key \n", "error: usage: key NAME[+NAME...]" },
		{ "key a b\n", "error: usage: key NAME[+NAME...]" },
		{ "key ctrl+\n", "error: empty key name in combination" },
		{ "key +a\n", "error: empty key name in combination" },
		{ "key a+a\n", "error: key given twice in combination 'a'" },
		{ "key a+b+c+d+e+f+g+h+i\n",
		  "error: too many keys in combination" },
		{ "key \xc3\xa9\n", "error: unknown key '\xc3\xa9'" },
		{ "type\n", "error: usage: type TEXT" },
		{ "type \n", "error: usage: type TEXT" },
		{ "type caf\xc3\xa9\n",
		  "error: cannot type non-ASCII text (US keyboard layout)" },
		{ "type \x1b[2J\n", "error: control character in request" },
		{ "pointer\n", "error: usage: pointer X Y [click]" },
		{ "pointer 1\n", "error: usage: pointer X Y [click]" },
		{ "pointer -1 5\n", "error: usage: pointer X Y [click]" },
		{ "pointer 1 2 3\n", "error: usage: pointer X Y [click]" },
		{ "pointer 1  2\n", "error: usage: pointer X Y [click]" },
		{ "pointer 1 2 click click\n",
		  "error: usage: pointer X Y [click]" },
		{ "pointer 99999999 1\n", "error: usage: pointer X Y [click]" },
		{ "pointer 9999999 1\n",
		  "error: position 9999999,1 is outside the 800x600 screen" },
		{ "pointer 0x10 1\n", "error: usage: pointer X Y [click]" },
	};
	struct env e;
	char err[256];
	struct seen before;
	int fd, fds;

	env_init(&e);
	CHECK_EQ(env_start(&e, err, sizeof(err)), 0);
	fds = count_fds();
	before = vm_seen(&e.vm);
	fd = dial(e.path);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_EQ(put(fd, cases[i].req, strlen(cases[i].req)), 0);
		if (!line_is(fd, cases[i].want)) {
			fprintf(stderr, "  for request %u\n", i);
			CHECK(0);
		}
	}
	CHECK(vm_unchanged(&e.vm, &before));
	CHECK_EQ(put(fd, "ping\n", 5), 0);
	CHECK(line_is(fd, "ok pong"));
	close(fd);
	CHECK(fds_back_to(fds));
	env_halt(&e);
	env_free(&e);
}

/* 1 MiB without a newline, and 1 MiB of a would-be `type` with one at
 * the end: "request too long", the connection closed, nothing typed. */
TEST(test_oversized_requests)
{
	const size_t big = 1 << 20;
	char *buf = malloc(big);
	struct env e;
	char err[256];
	struct seen before;
	int fd, fds;

	env_init(&e);
	CHECK_EQ(env_start(&e, err, sizeof(err)), 0);
	fds = count_fds();
	before = vm_seen(&e.vm);
	memset(buf, 'x', big);
	fd = dial(e.path);
	/* The server stops reading at CONTROL_LINE_MAX and hangs up. */
	CHECK(send_what_goes(fd, buf, big) < big);
	CHECK(line_is(fd, "error: request too long"));
	CHECK(closed_by_server(fd));
	close(fd);

	memcpy(buf, "type ", 5);
	buf[big - 1] = '\n';
	fd = dial(e.path);
	CHECK(send_what_goes(fd, buf, big) < big);
	CHECK(line_is(fd, "error: request too long"));
	CHECK(closed_by_server(fd));
	close(fd);
	CHECK(vm_unchanged(&e.vm, &before));
	CHECK(ask(e.path, "ping\n", "ok pong"));
	CHECK(fds_back_to(fds));
	env_halt(&e);
	env_free(&e);
	free(buf);
}

/* Hung up in the middle of a line: the fragment is not a request (a
 * `stop` cut short must not stop the VM, a `type` cut short must not
 * type), whether the client just closed or closed with an answer it
 * never read (the server then sees ECONNRESET). */
TEST(test_disconnect_mid_line)
{
	static const char *frags[] = { "stop", "type abcdef", "key enter",
				       "pointer 1 2 click", "screenshot /x.png" };
	struct env e;
	char err[256];
	struct seen before;
	int fd, fds;

	env_init(&e);
	CHECK_EQ(env_start(&e, err, sizeof(err)), 0);
	fds = count_fds();
	before = vm_seen(&e.vm);
	for (unsigned i = 0; i < 2 * sizeof(frags) / sizeof(frags[0]); i++) {
		const char *f = frags[i / 2];

		fd = dial(e.path);
		CHECK(fd >= 0);
		if (i % 2) {
			CHECK_EQ(put(fd, "ping\n", 5), 0);
			CHECK_EQ(put(fd, f, strlen(f)), 0);
			sleep_ms(50);	/* the answer is there, unread */
		} else {
			CHECK_EQ(put(fd, f, strlen(f)), 0);
		}
		close(fd);
	}
	CHECK(fds_back_to(fds));
	sleep_ms(100);
	CHECK(vm_unchanged(&e.vm, &before));
	/* A whole line before the hang-up is still carried out. */
	fd = dial(e.path);
	CHECK_EQ(put(fd, "key enter\nkey ent", 17), 0);
	close(fd);
	for (int i = 0; i < 300 && vm_count(&e.vm, &e.vm.kbd_events) ==
	     before.kbd; i++)
		sleep_ms(10);
	sleep_ms(50);
	CHECK_EQ(vm_count(&e.vm, &e.vm.kbd_events), before.kbd + 4);
	CHECK(ask(e.path, "ping\n", "ok pong"));
	CHECK(fds_back_to(fds));
	env_halt(&e);
	env_free(&e);
}

/* A client that never sends, one that stops in the middle of a line and
 * one that trickles a byte at a time: dropped (the latter two told why)
 * once the idle and line timeouts pass; others are served meanwhile. */
TEST(test_silent_and_slow_clients)
{
	struct env e;
	char err[256];
	int silent, half, slow, fds;
	uint64_t t0;
	struct timespec ts;

	control_idle_timeout_ms = 800;
	control_line_timeout_ms = 800;
	env_init(&e);
	CHECK_EQ(env_start(&e, err, sizeof(err)), 0);
	fds = count_fds();
	silent = dial(e.path);
	half = dial(e.path);
	slow = dial(e.path);
	CHECK(silent >= 0 && half >= 0 && slow >= 0);
	CHECK_EQ(put(half, "pin", 3), 0);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	/* "pin" at a byte per 200 ms: always active, never finished.  (A
	 * very slow machine may see it cut off before the last byte.) */
	for (int i = 0; i < 3; i++) {
		if (put(slow, &"pin"[i], 1) < 0)
			CHECK(i > 0);
		CHECK(ask(e.path, "ping\n", "ok pong"));
		sleep_ms(200);
	}
	CHECK(line_is(half, "error: request not finished in time"));
	CHECK(closed_by_server(half));
	CHECK(line_is(slow, "error: request not finished in time"));
	CHECK(closed_by_server(slow));
	CHECK(closed_by_server(silent));
	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* Not before their time. */
	CHECK((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 -
	      t0 >= 700);
	close(silent);
	close(half);
	close(slow);
	CHECK(ask(e.path, "ping\n", "ok pong"));
	CHECK(fds_back_to(fds));
	env_halt(&e);
	env_free(&e);
	control_idle_timeout_ms = CONTROL_IDLE_TIMEOUT_MS;
	control_line_timeout_ms = CONTROL_LINE_TIMEOUT_MS;
}

/* 80 clients at once that connect and say nothing: 16 are taken, the
 * rest told "too many clients" and closed.  A second later a newcomer
 * takes the place of the one idle longest (told why), never that of one
 * with a request begun; when all are gone no descriptor is left. */
TEST(test_flood_of_idle_clients)
{
	enum { N = 80 };
	struct env e;
	char err[256];
	int fd[N], taken = 0, refused = 0, fds, newcomer;

	env_init(&e);
	CHECK_EQ(env_start(&e, err, sizeof(err)), 0);
	fds = count_fds();
	for (int i = 0; i < N; i++) {
		fd[i] = dial(e.path);
		CHECK(fd[i] >= 0);
	}
	for (int i = 0; i < N; i++) {
		struct pollfd p = { .fd = fd[i], .events = POLLIN };

		/* The refused hear at once; the taken hear nothing. */
		if (poll(&p, 1, i < CONTROL_MAX_CLIENTS ? 50 : 2000) == 0) {
			taken += i < CONTROL_MAX_CLIENTS;
			continue;
		}
		if (line_is(fd[i], "error: too many clients") &&
		    closed_by_server(fd[i]))
			refused++;
		close(fd[i]);
		fd[i] = -1;
	}
	CHECK_EQ(taken, CONTROL_MAX_CLIENTS);
	CHECK_EQ(refused, N - CONTROL_MAX_CLIENTS);
	if (taken != CONTROL_MAX_CLIENTS)
		goto out;
	/* The first (taken first) begins a request; the others ask
	 * something later, so the first is the one idle longest, but it
	 * is not the one to go: the second is. */
	CHECK_EQ(put(fd[0], "pi", 2), 0);
	sleep_ms(100);
	for (int i = 1; i < CONTROL_MAX_CLIENTS; i++) {
		CHECK_EQ(put(fd[i], "ping\n", 5), 0);
		CHECK(line_is(fd[i], "ok pong"));
	}
	/* Full and nobody idle long enough yet. */
	newcomer = dial(e.path);
	CHECK(line_is(newcomer, "error: too many clients"));
	CHECK(closed_by_server(newcomer));
	close(newcomer);
	sleep_ms(CONTROL_EVICT_IDLE_MS + 300);
	newcomer = dial(e.path);
	CHECK_EQ(put(newcomer, "ping\n", 5), 0);
	CHECK(line_is(newcomer, "ok pong"));
	close(newcomer);
	/* The next oldest, idle, made the room. */
	CHECK(line_is(fd[1], "error: dropped: idle while the server was full"));
	CHECK(closed_by_server(fd[1]));
	close(fd[1]);
	fd[1] = -1;
	CHECK_EQ(put(fd[0], "ng\n", 3), 0);
	CHECK(line_is(fd[0], "ok pong"));
out:
	for (int i = 0; i < N; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	CHECK(fds_back_to(fds));
	CHECK(ask(e.path, "ping\n", "ok pong"));
	CHECK(fds_back_to(fds));
	env_halt(&e);
	env_free(&e);
}

/* 64 threads each connecting and asking at the same moment: every one
 * gets "ok pong" or "error: too many clients", nothing else. */
struct racer {
	const char *path;
	pthread_barrier_t *go;
	int outcome;	/* 1 pong, 2 refused, 0 anything else */
	char buf[CONTROL_RESP_MAX + 1];
};

static void *racer_run(void *arg)
{
	struct racer *r = arg;
	const char *l;
	int fd;

	pthread_barrier_wait(r->go);
	fd = dial(r->path);
	if (fd < 0)
		return NULL;
	if (put(fd, "ping\n", 5) < 0 && errno != EPIPE && errno != ECONNRESET) {
		close(fd);
		return NULL;
	}
	l = get_line_into(fd, r->buf, sizeof(r->buf));
	if (l && !strcmp(l, "ok pong"))
		r->outcome = 1;
	else if (l && !strcmp(l, "error: too many clients"))
		r->outcome = 2;
	close(fd);
	return NULL;
}

TEST(test_many_clients_at_once)
{
	enum { N = 64 };
	struct env e;
	char err[256];
	pthread_t t[N];
	struct racer r[N];
	pthread_barrier_t go;
	int pong = 0, refused = 0, fds;

	env_init(&e);
	CHECK_EQ(env_start(&e, err, sizeof(err)), 0);
	fds = count_fds();
	pthread_barrier_init(&go, NULL, N);
	for (int i = 0; i < N; i++) {
		r[i].path = e.path;
		r[i].go = &go;
		r[i].outcome = 0;
		if (pthread_create(&t[i], NULL, racer_run, &r[i]))
			abort();
	}
	for (int i = 0; i < N; i++) {
		pthread_join(t[i], NULL);
		pong += r[i].outcome == 1;
		refused += r[i].outcome == 2;
	}
	pthread_barrier_destroy(&go);
	CHECK_EQ(pong + refused, N);
	CHECK(pong >= 1);
	CHECK(ask(e.path, "ping\n", "ok pong"));
	CHECK(fds_back_to(fds));
	env_halt(&e);
	env_free(&e);
}

/* ---- the ctl client ---------------------------------------------------- */

/* Runs ctl_client_main with stdout and stderr captured into out/errs. */
static int ctl(char *out, char *errs, size_t cap, int argc, ...)
{
	char *argv[8];
	char tmpl_o[] = "/tmp/minivmm-ctl-out-XXXXXX";
	char tmpl_e[] = "/tmp/minivmm-ctl-err-XXXXXX";
	int fo = mkstemp(tmpl_o), fe = mkstemp(tmpl_e);
	int so = dup(1), se = dup(2), rc;
	va_list ap;
	ssize_t n;

	va_start(ap, argc);
	for (int i = 0; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	fflush(stdout);
	fflush(stderr);
	dup2(fo, 1);
	dup2(fe, 2);
	rc = ctl_client_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	n = pread(fo, out, cap - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	n = pread(fe, errs, cap - 1, 0);
	errs[n > 0 ? n : 0] = '\0';
	close(fo);
	close(fe);
	unlink(tmpl_o);
	unlink(tmpl_e);
	return rc;
}

TEST(test_ctl_client)
{
	struct env e;
	char err[256], out[8192], errs[1024], cwd[4096], want[4200];
	char nowhere[160];

	env_init(&e);
	CHECK_EQ(env_start(&e, err, sizeof(err)), 0);
	CHECK_EQ(ctl(out, errs, sizeof(errs), 2, e.path, "ping"), 0);
	CHECK(!strcmp(out, "pong\n") && !errs[0]);
	CHECK_EQ(ctl(out, errs, sizeof(errs), 3, e.path, "key", "ctrl+c"), 0);
	CHECK(!out[0] && !errs[0]);
	CHECK_EQ(ctl(out, errs, sizeof(errs), 4, e.path, "type", "hello",
		     "world"), 0);
	CHECK_EQ(ctl(out, errs, sizeof(errs), 5, e.path, "pointer", "1", "2",
		     "click"), 0);
	/* The server's error, as ours. */
	CHECK_EQ(ctl(out, errs, sizeof(errs), 3, e.path, "key", "nosuch"), 1);
	CHECK(!strcmp(errs, "minivmm: unknown key 'nosuch'\n"));
	CHECK_EQ(ctl(out, errs, sizeof(errs), 4, e.path, "pointer", "9999",
		     "0"), 1);
	/* A relative screenshot path is sent absolute. */
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	CHECK_EQ(ctl(out, errs, sizeof(errs), 3, e.path, "screenshot",
		     "shot.png"), 0);
	snprintf(want, sizeof(want), "%s/shot.png", strcmp(cwd, "/") ? cwd : "");
	CHECK(!strcmp(e.vm.shot, want));
	snprintf(want, sizeof(want), "%s/shot.png\n",
		 strcmp(cwd, "/") ? cwd : "");
	CHECK(!strcmp(out, want));
	CHECK_EQ(ctl(out, errs, sizeof(errs), 3, e.path, "screenshot",
		     "/tmp/../tmp/a.png"), 0);
	CHECK(!strcmp(e.vm.shot, "/tmp/a.png"));
	CHECK_EQ(ctl(out, errs, sizeof(errs), 3, e.path, "screenshot", "/a.png"),
		 0);
	CHECK(!strcmp(e.vm.shot, "/a.png"));

	/* Usage mistakes: 2, before connecting. */
	CHECK_EQ(ctl(out, errs, sizeof(errs), 0), 2);
	CHECK(!strncmp(errs, "minivmm: usage: minivmm ctl", 27));
	CHECK_EQ(ctl(out, errs, sizeof(errs), 1, e.path), 2);
	CHECK_EQ(ctl(out, errs, sizeof(errs), 2, e.path, "pong"), 2);
	CHECK(!strcmp(errs, "minivmm: ctl: unknown command 'pong'\n"));
	CHECK_EQ(ctl(out, errs, sizeof(errs), 2, e.path, "key"), 2);
	CHECK_EQ(ctl(out, errs, sizeof(errs), 3, e.path, "type", "a\nstop"), 2);
	CHECK_EQ(ctl(out, errs, sizeof(errs), 3, e.path, "screenshot",
		     "/no/such/dir/x.png"), 2);
	CHECK(strstr(errs, "No such file or directory") != NULL);
	CHECK_EQ(ctl(out, errs, sizeof(errs), 3, e.path, "screenshot", "dir/"),
		 2);
	CHECK_EQ(vm_count(&e.vm, &e.vm.stops), 0);

	/* Nobody there: 1. */
	snprintf(nowhere, sizeof(nowhere), "%s/nothing.sock", e.dir);
	CHECK_EQ(ctl(out, errs, sizeof(errs), 2, nowhere, "ping"), 1);
	snprintf(want, sizeof(want), "minivmm: cannot connect to %s: No such "
		 "file or directory\n", nowhere);
	CHECK(!strcmp(errs, want));

	CHECK_EQ(ctl(out, errs, sizeof(errs), 2, e.path, "stop"), 0);
	CHECK(!strcmp(out, "stopping\n"));
	/* The answer goes out before the hook runs. */
	for (int i = 0; i < 500 && !vm_count(&e.vm, &e.vm.stops); i++)
		sleep_ms(10);
	CHECK_EQ(vm_count(&e.vm, &e.vm.stops), 1);
	env_halt(&e);
	CHECK_EQ(ctl(out, errs, sizeof(errs), 2, e.path, "ping"), 1);
	env_free(&e);
}

/* A server that answers nothing, then garbage, then hangs up. */
struct bad_server {
	int lfd;
	int release[2];		/* a pipe: the first client may go */
};

/* Takes the client's request, so closing does not reset the
 * connection under it. */
static int accept_request(int lfd)
{
	int fd = accept(lfd, NULL, NULL);
	char c;

	while (fd >= 0 && recv(fd, &c, 1, 0) == 1 && c != '\n')
		;
	return fd;
}

static void *bad_server(void *arg)
{
	struct bad_server *b = arg;
	char c;
	int fd;

	fd = accept_request(b->lfd);	/* first: say nothing */
	if (read(b->release[0], &c, 1) != 1)
		abort();
	close(fd);
	fd = accept_request(b->lfd);	/* second: not our protocol */
	if (fd >= 0 && send(fd, "HTTP/1.1 400\n", 13, MSG_NOSIGNAL) < 0)
		abort();
	close(fd);
	fd = accept_request(b->lfd);	/* third: no answer at all */
	close(fd);
	return NULL;
}

TEST(test_ctl_client_bad_server)
{
	struct env e;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct bad_server b;
	char out[256], errs[1024];
	pthread_t t;

	env_init(&e);
	set_sun(&sa, e.path);
	b.lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(b.lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	CHECK(listen(b.lfd, 4) == 0);
	if (pipe(b.release) || pthread_create(&t, NULL, bad_server, &b))
		abort();
	ctl_client_timeout_ms = 300;
	CHECK_EQ(ctl(out, errs, sizeof(errs), 2, e.path, "ping"), 1);
	CHECK(strstr(errs, "no answer from") != NULL);
	CHECK(strstr(errs, "within 300 ms") != NULL);
	ctl_client_timeout_ms = CONTROL_CLIENT_TIMEOUT_MS;
	if (write(b.release[1], "x", 1) != 1)
		abort();
	CHECK_EQ(ctl(out, errs, sizeof(errs), 2, e.path, "ping"), 1);
	CHECK(strstr(errs, "unexpected answer") != NULL);
	CHECK_EQ(ctl(out, errs, sizeof(errs), 2, e.path, "ping"), 1);
	CHECK(strstr(errs, "without an answer") != NULL);
	pthread_join(t, NULL);
	close(b.lfd);
	close(b.release[0]);
	close(b.release[1]);
	env_free(&e);
}

int main(void)
{
	RUN(test_requests_and_answers);
	RUN(test_garbage_and_long_lines);
	RUN(test_many_clients);
	RUN(test_half_closed_and_vanished_clients);
	RUN(test_client_that_never_reads);
	RUN(test_socket_file_rules);
	RUN(test_binary_garbage);
	RUN(test_malformed_requests);
	RUN(test_oversized_requests);
	RUN(test_disconnect_mid_line);
	RUN(test_silent_and_slow_clients);
	RUN(test_flood_of_idle_clients);
	RUN(test_many_clients_at_once);
	RUN(test_ctl_client);
	RUN(test_ctl_client_bad_server);
	return CHECK_DONE();
}
