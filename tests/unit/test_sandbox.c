/* The seccomp sandbox (vmm/sandbox*.c) in forked children: each child
 * prepares, enters a role and makes calls; the parent reads its stderr
 * and exit status.  Children leave with _exit() (LeakSanitizer's exit
 * scan would itself need system calls the filters refuse). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "sandbox.h"

struct child {
	int status;		/* as from waitpid */
	char err[4096];		/* its stderr */
};

/* Runs fn in a child with stderr captured. */
static void run_child(void (*fn)(void), struct child *c)
{
	int p[2];
	pid_t pid;
	size_t n = 0;
	ssize_t r;

	memset(c, 0, sizeof(*c));
	if (pipe(p) < 0)
		abort();
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		fn();
		_exit(0);
	}
	close(p[1]);
	while (n < sizeof(c->err) - 1 &&
	       (r = read(p[0], c->err + n, sizeof(c->err) - 1 - n)) > 0)
		n += (size_t)r;
	close(p[0]);
	waitpid(pid, &c->status, 0);
}

static void enter_or_die(enum sandbox_mode mode, enum sandbox_role role)
{
	char err[256];
	struct sandbox_fds fds = { -1, -1 };

	if (sandbox_prepare(mode, err, sizeof(err)) ||
	    sandbox_enter(role, &fds, err, sizeof(err))) {
		fprintf(stderr, "set-up failed: %s\n", err);
		_exit(99);
	}
}

/* What every role may do, then exit 7 to show it got through. */
static void allowed_calls(void)
{
	int p[2];
	char buf[8];

	if (pipe(p) < 0)	/* before entering: pipe2 is not allowed */
		_exit(98);
	enter_or_die(SANDBOX_ENFORCE, SANDBOX_EVENT);
	if (write(p[1], "ok", 2) != 2 || read(p[0], buf, 2) != 2 ||
	    getrandom(buf, sizeof(buf), 0) != sizeof(buf))
		_exit(97);
#ifndef __SANITIZE_ADDRESS__
	/* (ASan's allocator makes calls of its own, e.g. sigaltstack.) */
	free(malloc(1 << 20));	/* mmap, munmap */
#endif
	_exit(7);
}

static void forbidden_socket_vcpu(void)
{
	enter_or_die(SANDBOX_ENFORCE, SANDBOX_VCPU);
	(void)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	_exit(0);	/* must not be reached */
}

static void forbidden_read_open_event(void)
{
	enter_or_die(SANDBOX_ENFORCE, SANDBOX_EVENT);
	/* The event thread only creates files (screenshots). */
	(void)open("/etc/passwd", O_RDONLY);
	_exit(0);
}

static void forbidden_exec_gpu(void)
{
	char *argv[] = { "/bin/true", NULL };

	enter_or_die(SANDBOX_ENFORCE, SANDBOX_GPU);
	execv(argv[0], argv);
	_exit(0);
}

static void logged_socket(void)
{
	int s;

	enter_or_die(SANDBOX_LOG, SANDBOX_VCPU);
	s = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	(void)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);	/* reported once */
	/* Give the reporter thread time to print before we leave. */
	usleep(200 * 1000);
	_exit(s >= 0 ? 7 : 8);
}

static void off_socket(void)
{
	int s;

	enter_or_die(SANDBOX_OFF, SANDBOX_VCPU);
	s = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	_exit(s >= 0 ? 7 : 8);
}

static int exited_with(const struct child *c, int code)
{
	return WIFEXITED(c->status) && WEXITSTATUS(c->status) == code;
}

TEST(test_allowed_calls_go_through)
{
	struct child c;

	run_child(allowed_calls, &c);
	CHECK(exited_with(&c, 7));
	CHECK(c.err[0] == '\0');
	if (!exited_with(&c, 7))
		fprintf(stderr, "  child said: %s\n", c.err);
}

TEST(test_enforce_stops_and_names_the_call)
{
	struct child c;

	run_child(forbidden_socket_vcpu, &c);
	CHECK(exited_with(&c, 1));
	CHECK(strstr(c.err, "minivmm: seccomp: thread vcpu made a forbidden "
			    "system call socket (41), domain 2") != NULL);
	run_child(forbidden_read_open_event, &c);
	CHECK(exited_with(&c, 1));
	CHECK(strstr(c.err, "thread event made a forbidden system call "
			    "openat") != NULL);
	run_child(forbidden_exec_gpu, &c);
	CHECK(exited_with(&c, 1));
	CHECK(strstr(c.err, "thread gpu made a forbidden system call "
			    "execve") != NULL);
}

TEST(test_log_reports_once_and_lets_it_through)
{
	struct child c;
	const char *first;

	run_child(logged_socket, &c);
	CHECK(exited_with(&c, 7));
	first = strstr(c.err, "forbidden system call socket (41)");
	CHECK(first != NULL);
	CHECK(strstr(c.err, "(allowed: --seccomp=log)") != NULL);
	if (first)
		CHECK(strstr(first + 1, "forbidden system call socket") == NULL);
}

TEST(test_off_filters_nothing)
{
	struct child c;

	run_child(off_socket, &c);
	CHECK(exited_with(&c, 7));
	CHECK(strstr(c.err, "seccomp") == NULL);
}

TEST(test_mode_names)
{
	enum sandbox_mode m = SANDBOX_OFF;

	CHECK_EQ(sandbox_mode_parse("enforce", &m), 0);
	CHECK_EQ(m, SANDBOX_ENFORCE);
	CHECK_EQ(sandbox_mode_parse("log", &m), 0);
	CHECK_EQ(m, SANDBOX_LOG);
	CHECK_EQ(sandbox_mode_parse("off", &m), 0);
	CHECK_EQ(m, SANDBOX_OFF);
	CHECK(sandbox_mode_parse("Enforce", &m) < 0);
	CHECK(sandbox_mode_parse("", &m) < 0);
	CHECK(sandbox_mode_parse(NULL, &m) < 0);
}

static void inherited_fds(void)
{
	int keep, inherited = open("/dev/null", O_RDONLY);

	if (inherited < 0)
		_exit(90);
	sandbox_note_inherited_fds();
	keep = open("/dev/null", O_RDONLY);	/* ours: opened after */
	if (sandbox_close_inherited_fds() < 1)
		_exit(91);
	if (fcntl(inherited, F_GETFD) >= 0)
		_exit(92);
	if (fcntl(keep, F_GETFD) < 0 || fcntl(2, F_GETFD) < 0)
		_exit(93);
	_exit(7);
}

TEST(test_inherited_fds_closed_ours_kept)
{
	struct child c;

	run_child(inherited_fds, &c);
	CHECK(exited_with(&c, 7));
}

int main(void)
{
	RUN(test_allowed_calls_go_through);
	RUN(test_enforce_stops_and_names_the_call);
	RUN(test_log_reports_once_and_lets_it_through);
	RUN(test_off_filters_nothing);
	RUN(test_mode_names);
	RUN(test_inherited_fds_closed_ours_kept);
	return CHECK_DONE();
}
