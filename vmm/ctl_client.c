/* `minivmm ctl PATH CMD [ARGS...]`: one request to a running minivmm's
 * control socket, its answer on stdout; see control.h. */
#include "control.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

unsigned ctl_client_timeout_ms = CONTROL_CLIENT_TIMEOUT_MS;

#define USAGE "usage: minivmm ctl SOCKET ping|stop|screenshot FILE|" \
	      "key NAME[+NAME...]|type TEXT...|pointer X Y [click]"

/* A user's string quoted in a message: one line, no terminal controls,
 * at most cap - 1 bytes ("..." marks a cut). */
static const char *shown(const char *s, char *buf, size_t cap)
{
	size_t n = 0;

	for (; *s && n + 1 < cap; s++, n++)
		buf[n] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
	if (*s && cap > 4)
		memcpy(buf + cap - 4, "...", 3), n = cap - 1;
	buf[n] = '\0';
	return buf;
}

/* The server runs in another directory: the screenshot file's directory
 * made absolute, its name kept (it does not exist yet). */
static int absolute_shot(const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	char dir[PATH_MAX], real[PATH_MAX], q[128];
	size_t dlen = slash ? (size_t)(slash - path) : 0;

	if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) {
		fprintf(stderr, "minivmm: screenshot '%s' needs a file name\n",
			shown(path, q, sizeof(q)));
		return -1;
	}
	if (dlen >= sizeof(dir)) {
		fprintf(stderr, "minivmm: screenshot path too long\n");
		return -1;
	}
	if (!slash)
		strcpy(dir, ".");
	else if (dlen == 0)
		strcpy(dir, "/");
	else
		memcpy(dir, path, dlen), dir[dlen] = '\0';
	if (!realpath(dir, real)) {
		fprintf(stderr, "minivmm: screenshot directory '%s': %s\n",
			shown(dir, q, sizeof(q)), strerror(errno));
		return -1;
	}
	if ((size_t)snprintf(out, cap, "%s/%s", strcmp(real, "/") ? real : "",
			     base) >= cap) {
		fprintf(stderr, "minivmm: screenshot path too long\n");
		return -1;
	}
	return 0;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads one line into buf (NUL-terminated, newline dropped) within
 * timeout_ms.  0, -1 on a read error or early end, -2 on time out. */
static int read_line(int fd, char *buf, size_t cap, int64_t timeout_ms)
{
	int64_t deadline = mono_ms() + timeout_ms;
	size_t len = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - mono_ms();
		char *nl;
		ssize_t n;

		if (left <= 0)
			return -2;
		n = poll(&p, 1, (int)(left > INT_MAX ? INT_MAX : left));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return -2;
		n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		nl = memchr(buf, '\n', len);
		if (nl) {
			*nl = '\0';
			return 0;
		}
		if (len == cap - 1)
			return -1;	/* no line this long is ours */
	}
}

/* The server's text goes to a terminal: no control characters. */
static void sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

int ctl_client_main(int argc, char **argv)
{
	static char line[CONTROL_LINE_MAX + 1], resp[CONTROL_RESP_MAX + 1];
	char shot[PATH_MAX + NAME_MAX + 2], err[256], sock[128];
	char *args[CONTROL_LINE_MAX];
	int64_t timeout = ctl_client_timeout_ms;
	int n, fd, rc;

	if (argc < 2) {
		fprintf(stderr, "minivmm: " USAGE "\n");
		return 2;
	}
	if (argc - 1 > (int)(sizeof(args) / sizeof(args[0]))) {
		fprintf(stderr, "minivmm: request too long\n");
		return 2;
	}
	for (int i = 1; i < argc; i++)
		args[i - 1] = argv[i];
	if (!strcmp(args[0], "screenshot") && argc == 3) {
		if (absolute_shot(args[1], shot, sizeof(shot)) < 0)
			return 2;
		args[1] = shot;
	}
	n = control_build_request(argc - 1, args, line, sizeof(line), err,
				  sizeof(err));
	if (n < 0) {
		sanitize(err);
		fprintf(stderr, "minivmm: ctl: %s\n", err);
		return 2;
	}
	/* Typing is paced by the guest: allow for it. */
	if (!strcmp(args[0], "type"))
		timeout += 10 * (int64_t)n;

	shown(argv[0], sock, sizeof(sock));
	fd = connect_to(argv[0]);
	if (fd < 0) {
		fprintf(stderr, "minivmm: cannot connect to %s: %s\n", sock,
			strerror(errno));
		return 1;
	}
	if (send_all(fd, line, (size_t)n) < 0) {
		fprintf(stderr, "minivmm: cannot send to %s: %s\n", sock,
			strerror(errno));
		close(fd);
		return 1;
	}
	shutdown(fd, SHUT_WR);		/* one request: say so */
	rc = read_line(fd, resp, sizeof(resp), timeout);
	close(fd);
	if (rc == -2) {
		fprintf(stderr, "minivmm: no answer from %s within %lld ms\n",
			sock, (long long)timeout);
		return 1;
	}
	if (rc < 0) {
		fprintf(stderr, "minivmm: %s closed the connection without an "
			"answer\n", sock);
		return 1;
	}
	sanitize(resp);
	if (!strcmp(resp, "ok"))
		return 0;
	if (!strncmp(resp, "ok ", 3)) {
		printf("%s\n", resp + 3);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (!strncmp(resp, "error: ", 7)) {
		fprintf(stderr, "minivmm: %s\n", resp + 7);
		return 1;
	}
	fprintf(stderr, "minivmm: unexpected answer from %s: %.80s\n", sock,
		resp);
	return 1;
}
