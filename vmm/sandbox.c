/* Loading each thread's seccomp filter and reporting what it stops; see
 * sandbox.h.  The allow-lists are in sandbox_policy.c.
 *
 * Enforce: a forbidden call gets SECCOMP_RET_TRAP, i.e. a SIGSYS in the
 * thread that made it, whose handler names the call and exits.  Killing
 * the process from the kernel (RET_KILL_PROCESS) would be simpler, but
 * would say nothing useful on stderr.  The handler may only use
 * async-signal-safe means: the names of all system calls are looked up
 * at sandbox_prepare(), the message is built by hand and written with one
 * write(2), every role allows write and exit_group.
 *
 * Log: each thread's filter has a user-notification listener; a reporter
 * thread (started by sandbox_prepare, unfiltered) hears about every call
 * outside the allow-list, prints it once per role and lets it go on
 * (SECCOMP_USER_NOTIF_FLAG_CONTINUE).  Where the kernel cannot do that
 * the calls go to the kernel's audit log instead (SECCOMP_RET_LOG).
 *
 * Filters are compiled by libseccomp and loaded with the seccomp()
 * system call directly: libseccomp keeps a single listener per process,
 * we need one per thread. */
#include "sandbox_priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "exit_status.h"

#ifndef SYS_SECCOMP
#define SYS_SECCOMP	1	/* si_code of a filter's SIGSYS (asm/siginfo.h) */
#endif

#define NR_NAMES	512	/* x86_64 numbers its calls below this */
#define NAME_LEN	32
#define MAX_LISTENERS	128	/* filtered threads watched in log mode */

static struct {
	int prepared;
	enum sandbox_mode mode;
	pid_t pid;
	uint32_t arch;			/* the native AUDIT_ARCH_* */
	void (*exit_hook)(void);
	/* log mode */
	int notify;			/* the kernel lets calls continue */
	int handoff[2];			/* new listeners -> reporter */
	size_t notif_size, resp_size;	/* the kernel's struct sizes */
} sb = { .handoff = { -1, -1 } };

/* Filled before any filter exists: the reporters only read them. */
static char names[NR_NAMES][NAME_LEN];

static const char *const role_names[SANDBOX_NR_ROLES] = {
	[SANDBOX_VCPU] = "vcpu",
	[SANDBOX_EVENT] = "event",
	[SANDBOX_GPU] = "gpu",
	[SANDBOX_DISPLAY] = "display",
};

/* This thread's role once it entered; threads that inherited a filter
 * from their creator (library helpers) keep -1. */
static _Thread_local int my_role = -1;

static pthread_mutex_t enter_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- names and modes --------------------------------------------------- */

int sandbox_mode_parse(const char *s, enum sandbox_mode *mode)
{
	static const struct { const char *name; enum sandbox_mode m; } t[] = {
		{ "enforce", SANDBOX_ENFORCE }, { "log", SANDBOX_LOG },
		{ "off", SANDBOX_OFF },
	};

	for (size_t i = 0; s && i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(s, t[i].name)) {
			*mode = t[i].m;
			return 0;
		}
	return -1;
}

const char *sandbox_mode_name(enum sandbox_mode mode)
{
	switch (mode) {
	case SANDBOX_ENFORCE: return "enforce";
	case SANDBOX_LOG: return "log";
	case SANDBOX_OFF: return "off";
	}
	return "?";
}

const char *sandbox_role_name(enum sandbox_role role)
{
	return (unsigned)role < SANDBOX_NR_ROLES ? role_names[role] : "?";
}

/* ---- messages, built without stdio (signal handler) -------------------- */

struct msg {
	char buf[320];
	size_t len;
};

static void put(struct msg *m, const char *s)
{
	while (*s && m->len < sizeof(m->buf) - 1)
		m->buf[m->len++] = *s++;
}

static void put_num(struct msg *m, uint64_t v, unsigned base)
{
	char tmp[24];
	int i = (int)sizeof(tmp) - 1;

	tmp[i] = 0;
	do
		tmp[--i] = "0123456789abcdef"[v % base];
	while ((v /= base) && i > 0);
	if (base == 16)
		put(m, "0x");
	put(m, tmp + i);
}

/* "minivmm: seccomp: thread vcpu made a forbidden system call ioctl (16),
 * request 0x5401 on fd 0" - the arguments where they say what was
 * refused (a request, protection or flags). */
static void describe(struct msg *m, int role, uint32_t arch, int nr,
		     const uint64_t *a, int allowed)
{
	put(m, "minivmm: seccomp: thread ");
	put(m, role >= 0 ? role_names[role] : "helper");
	put(m, " made a forbidden system call ");
	if (arch != sb.arch) {
		put(m, "number ");
		put_num(m, (uint64_t)(unsigned)nr, 10);
		put(m, " of another ABI (audit arch ");
		put_num(m, arch, 16);
		put(m, ")");
	} else {
		put(m, nr >= 0 && nr < NR_NAMES && names[nr][0] ?
		       names[nr] : "?");
		put(m, " (");
		put_num(m, (uint64_t)(unsigned)nr, 10);
		put(m, ")");
	}
	if (a && arch == sb.arch) {
		switch (nr) {
		case SYS_ioctl:
			put(m, ", request ");
			put_num(m, a[1] & 0xffffffffu, 16);
			put(m, " on fd ");
			put_num(m, a[0] & 0xffffffffu, 10);
			break;
		case SYS_mmap:
		case SYS_mprotect:
			put(m, ", protection ");
			put_num(m, a[2], 16);
			break;
		case SYS_madvise:
			put(m, ", advice ");
			put_num(m, a[2], 10);
			break;
		case SYS_openat:
			put(m, ", flags ");
			put_num(m, a[2], 16);
			break;
		case SYS_clone:
			put(m, ", flags ");
			put_num(m, a[0], 16);
			break;
		case SYS_futex:
			put(m, ", operation ");
			put_num(m, a[1], 10);
			break;
		case SYS_socket:
			put(m, ", domain ");
			put_num(m, a[0], 10);
			break;
		case SYS_rt_sigaction:
			put(m, ", signal ");
			put_num(m, a[0], 10);
			break;
		case SYS_tgkill:
			put(m, ", signal ");
			put_num(m, a[2], 10);
			break;
		case SYS_prctl:
			put(m, ", option ");
			put_num(m, a[0], 10);
			break;
		}
	}
	if (allowed)
		put(m, " (allowed: --seccomp=log)");
	put(m, "\n");
}

/* ---- enforce: the SIGSYS reporter ---------------------------------------- */

/* The line is built before the exit hook runs: should the hook itself
 * make a forbidden call, the handler is entered again (SA_NODEFER) and
 * just says what was refused first. */
static _Thread_local struct msg pending;
static _Thread_local volatile sig_atomic_t reporting;

static void on_sigsys(int sig, siginfo_t *si, void *uctx)
{
	uint64_t a[6] = { 0 };
	const uint64_t *args = NULL;

	(void)sig;
	if (si->si_code != SYS_SECCOMP)
		return;		/* sent by someone, not a filter: ignore */
	if (!reporting) {
		reporting = 1;
#if defined(__x86_64__)
		const greg_t *g = ((ucontext_t *)uctx)->uc_mcontext.gregs;

		a[0] = (uint64_t)g[REG_RDI];
		a[1] = (uint64_t)g[REG_RSI];
		a[2] = (uint64_t)g[REG_RDX];
		a[3] = (uint64_t)g[REG_R10];
		a[4] = (uint64_t)g[REG_R8];
		a[5] = (uint64_t)g[REG_R9];
		args = a;
#else
		(void)uctx;
#endif
		put(&pending, "\r\n");
		describe(&pending, my_role, si->si_arch, si->si_syscall, args, 0);
		/* The terminal first, so the line lands on a sane one. */
		if (sb.exit_hook)
			sb.exit_hook();
	}
	if (write(STDERR_FILENO, pending.buf, pending.len) < 0) {
		/* nowhere left to say it */
	}
	/* The system call itself: a sanitizer's _exit() interceptor makes
	 * calls of its own, which would be refused in turn. */
	syscall(SYS_exit_group, EXIT_ERROR);
}

void sandbox_set_exit_hook(void (*fn)(void))
{
	sb.exit_hook = fn;
}

/* ---- log: the reporter thread ------------------------------------------- */

struct handoff {
	int fd;
	int role;
};

/* Each (role, call) once: a busy path must not flood stderr. */
static unsigned char reported[SANDBOX_NR_ROLES + 1][NR_NAMES / 8];

static void report(int role, uint32_t arch, int nr, const uint64_t *args)
{
	struct msg m = { .len = 0 };
	unsigned char *seen = reported[role + 1];

	if (arch == sb.arch && nr >= 0 && nr < NR_NAMES) {
		if (seen[nr / 8] & (1u << (nr % 8)))
			return;
		seen[nr / 8] |= (unsigned char)(1u << (nr % 8));
	}
	describe(&m, role, arch, nr, args, 1);
	if (write(STDERR_FILENO, m.buf, m.len) < 0) {
		/* nowhere to report it */
	}
}

/* One notification: report it, let the call go on. */
static void serve(int fd, int role, void *req_buf, void *resp_buf)
{
	struct seccomp_notif *req = req_buf;
	struct seccomp_notif_resp *resp = resp_buf;
	static int no_continue;

	memset(req, 0, sb.notif_size);
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0)
		return;		/* ENOENT: the caller died meanwhile */
	report(role, req->data.arch, req->data.nr,
	       (const uint64_t *)req->data.args);
	memset(resp, 0, sb.resp_size);
	resp->id = req->id;
	resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, resp) == 0 || errno != EINVAL)
		return;
	/* Before Linux 5.5 a call cannot be let through from here. */
	if (!no_continue++)
		fprintf(stderr, "minivmm: seccomp: this kernel cannot let "
			"forbidden calls continue; they fail with ENOSYS\n");
	resp->flags = 0;
	resp->error = -ENOSYS;
	ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, resp);
}

static void *reporter_main(void *arg)
{
	struct pollfd p[1 + MAX_LISTENERS];
	int role[1 + MAX_LISTENERS];
	unsigned n = 1;
	void *req = calloc(1, sb.notif_size), *resp = calloc(1, sb.resp_size);

	(void)arg;
	if (!req || !resp) {
		fprintf(stderr, "minivmm: seccomp: log mode: out of memory\n");
		return NULL;
	}
	p[0] = (struct pollfd){ .fd = sb.handoff[0], .events = POLLIN };
	for (;;) {
		if (poll(p, n, -1) < 0)
			continue;	/* EINTR; nothing else can fail */
		if (p[0].revents & POLLIN) {
			struct handoff h;

			if (read(p[0].fd, &h, sizeof(h)) == sizeof(h)) {
				if (n < 1 + MAX_LISTENERS) {
					p[n] = (struct pollfd){ h.fd, POLLIN, 0 };
					role[n++] = h.role;
				} else {
					close(h.fd);	/* its calls: ENOSYS */
				}
			}
		}
		for (unsigned i = 1; i < n; i++) {
			if (p[i].revents & POLLIN) {
				serve(p[i].fd, role[i], req, resp);
			} else if (p[i].revents & (POLLHUP | POLLERR | POLLNVAL)) {
				/* Every thread of that filter has exited. */
				close(p[i].fd);
				p[i] = p[--n];
				role[i--] = role[n];
			}
		}
	}
	return NULL;
}

static int start_reporter(char *err, size_t errlen)
{
	struct seccomp_notif_sizes sizes;
	uint32_t action = SECCOMP_RET_USER_NOTIF;
	sigset_t all, old;
	pthread_t t;
	int e;

	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0) {
		fprintf(stderr, "minivmm: seccomp: this kernel cannot report "
			"forbidden calls to minivmm; --seccomp=log sends them "
			"to the kernel log (dmesg)\n");
		return 0;	/* SECCOMP_RET_LOG in sandbox_enter */
	}
	sb.notif_size = sizes.seccomp_notif > sizeof(struct seccomp_notif) ?
			sizes.seccomp_notif : sizeof(struct seccomp_notif);
	sb.resp_size = sizes.seccomp_notif_resp >
		       sizeof(struct seccomp_notif_resp) ?
		       sizes.seccomp_notif_resp :
		       sizeof(struct seccomp_notif_resp);
	if (pipe2(sb.handoff, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "seccomp: pipe: %s", strerror(errno));
		return -1;
	}
	/* Signals are the event thread's business, not this one's. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&t, NULL, reporter_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e) {
		snprintf(err, errlen, "seccomp: cannot start the log reporter: "
			 "%s", strerror(e));
		return -1;
	}
	pthread_detach(t);
	sb.notify = 1;
	return 0;
}

/* ---- set-up --------------------------------------------------------------- */

/* Inherited descriptors, noted when main() starts: what the parent left
 * open (a leaked socket, a terminal, a jobserver pipe) is not ours to
 * keep.  They are closed only once the user's files are open, because a
 * path like /dev/fd/5 names one of them (opening it makes a new one). */
#define MAX_INHERITED	1024
static int inherited[MAX_INHERITED];
static unsigned nr_inherited;

void sandbox_note_inherited_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;

	nr_inherited = 0;
	if (!d) {
		/* No /proc: ask each likely number. */
		for (int fd = 3; fd < MAX_INHERITED + 3; fd++)
			if (fcntl(fd, F_GETFD) >= 0 && nr_inherited < MAX_INHERITED)
				inherited[nr_inherited++] = fd;
		return;
	}
	while ((de = readdir(d))) {
		int fd = atoi(de->d_name);

		if (fd > 2 && fd != dirfd(d) && nr_inherited < MAX_INHERITED)
			inherited[nr_inherited++] = fd;
	}
	closedir(d);
}

unsigned sandbox_close_inherited_fds(void)
{
	unsigned n = nr_inherited;

	for (unsigned i = 0; i < n; i++)
		close(inherited[i]);
	nr_inherited = 0;
	return n;
}

int sandbox_prepare(enum sandbox_mode mode, char *err, size_t errlen)
{
	struct sigaction sa;
	uint32_t trap = SECCOMP_RET_TRAP;

	if (sb.prepared) {
		snprintf(err, errlen, "seccomp: prepared twice");
		return -1;
	}
	/* Nothing minivmm runs may gain privileges (setuid, file
	 * capabilities); also what lets an unprivileged process filter. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "cannot set no_new_privs: %s",
			 strerror(errno));
		return -1;
	}
	sb.mode = mode;
	sb.pid = getpid();
	sb.arch = seccomp_arch_native();
	if (mode == SANDBOX_OFF) {
		sb.prepared = 1;
		return 0;
	}
	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &trap) < 0) {
		snprintf(err, errlen, "seccomp: this kernel cannot filter "
			 "system calls (%s); use --seccomp=off",
			 strerror(errno));
		return -1;
	}
	for (int nr = 0; nr < NR_NAMES; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(sb.arch, nr);

		if (name)
			snprintf(names[nr], NAME_LEN, "%s", name);
		free(name);
	}
	if (mode == SANDBOX_ENFORCE) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_sigsys;
		/* NODEFER: a forbidden call in the exit hook comes back here
		 * rather than killing us without a word. */
		sa.sa_flags = SA_SIGINFO | SA_NODEFER;
		sigfillset(&sa.sa_mask);
		sigdelset(&sa.sa_mask, SIGSYS);
		if (sigaction(SIGSYS, &sa, NULL) < 0) {
			snprintf(err, errlen, "seccomp: SIGSYS handler: %s",
				 strerror(errno));
			return -1;
		}
	} else if (start_reporter(err, errlen) < 0) {
		return -1;
	}
	/* libseccomp probes the kernel once; not in racing vCPU threads. */
	seccomp_api_get();
	sb.prepared = 1;
	return 0;
}

/* ---- entering ------------------------------------------------------------- */

/* Compiles role's filter into prog (malloc'd instructions). */
static int compile(enum sandbox_role role, const struct sandbox_fds *fds,
		   uint32_t def, struct sock_fprog *prog, char *err,
		   size_t errlen)
{
	uint32_t badarch = sb.mode == SANDBOX_ENFORCE ? SCMP_ACT_TRAP :
						     SCMP_ACT_LOG;
	scmp_filter_ctx ctx = seccomp_init(def);
	struct sock_filter *insns = NULL;
	int fd = -1, rc = -1;
	off_t size;

	if (!ctx) {
		snprintf(err, errlen, "seccomp: cannot start a filter");
		return -1;
	}
	/* A call through another ABI (int 0x80, x32) is refused like any
	 * other forbidden call; a binary tree keeps long lists cheap. */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, badarch) < 0) {
		snprintf(err, errlen, "seccomp: cannot set the ABI check");
		goto out;
	}
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (sandbox_policy_add(ctx, role, fds, sb.pid, err, errlen) < 0)
		goto out;
	fd = memfd_create("minivmm-seccomp", MFD_CLOEXEC);
	if (fd < 0 || (rc = seccomp_export_bpf(ctx, fd)) < 0 ||
	    (size = lseek(fd, 0, SEEK_END)) <= 0 ||
	    size % (off_t)sizeof(*insns) ||
	    !(insns = malloc((size_t)size)) ||
	    pread(fd, insns, (size_t)size, 0) != size) {
		snprintf(err, errlen, "seccomp: cannot compile the %s filter: "
			 "%s", role_names[role],
			 rc < 0 ? strerror(-rc) : strerror(errno));
		free(insns);
		rc = -1;
		goto out;
	}
	prog->len = (unsigned short)(size / (off_t)sizeof(*insns));
	prog->filter = insns;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	seccomp_release(ctx);
	return rc;
}

static int load(enum sandbox_role role, const struct sandbox_fds *fds,
		uint32_t def, unsigned flags, char *err, size_t errlen)
{
	struct sock_fprog prog;
	int r, e;

	if (compile(role, fds, def, &prog, err, errlen) < 0)
		return -1;
	r = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	e = errno;
	free(prog.filter);
	if (r < 0)
		snprintf(err, errlen, "seccomp: cannot load the %s filter: %s",
			 role_names[role], strerror(e));
	errno = e;
	return r;
}

int sandbox_enter(enum sandbox_role role, const struct sandbox_fds *fds,
		  char *err, size_t errlen)
{
	sigset_t sys;
	int r;

	if ((unsigned)role >= SANDBOX_NR_ROLES) {
		snprintf(err, errlen, "seccomp: no such thread role %d", role);
		return -1;
	}
	/* Not prepared: sandboxing is off (unit tests run device threads
	 * that call this); main() always prepares. */
	if (!sb.prepared || sb.mode == SANDBOX_OFF)
		return 0;
	if (my_role >= 0) {
		snprintf(err, errlen, "seccomp: this thread is already "
			 "filtered (as %s)", role_names[my_role]);
		return -1;
	}
	/* A blocked SIGSYS would make the kernel kill us without a word
	 * (SDL's and the GPU's threads start with every signal blocked). */
	sigemptyset(&sys);
	sigaddset(&sys, SIGSYS);
	pthread_sigmask(SIG_UNBLOCK, &sys, NULL);

	pthread_mutex_lock(&enter_lock);
	my_role = role;
	if (sb.mode == SANDBOX_ENFORCE) {
		r = load(role, fds, SCMP_ACT_TRAP, 0, err, errlen);
	} else if (sb.notify) {
		r = load(role, fds, SCMP_ACT_NOTIFY,
			 SECCOMP_FILTER_FLAG_NEW_LISTENER, err, errlen);
		if (r >= 0) {
			struct handoff h = { r, role };

			/* write is allowed in every role, so this works
			 * under the new filter; 8 bytes into an empty pipe
			 * cannot fail but for a signal. */
			while (write(sb.handoff[1], &h, sizeof(h)) < 0 &&
			       errno == EINTR)
				;
			r = 0;
		} else if (errno == EBUSY) {
			/* Inherited a filter with a listener already: only
			 * one per thread, so this one logs to the kernel. */
			fprintf(stderr, "minivmm: seccomp: thread %s: "
				"forbidden calls go to the kernel log\n",
				role_names[role]);
			r = load(role, fds, SCMP_ACT_LOG, 0, err, errlen);
		}
	} else {
		r = load(role, fds, SCMP_ACT_LOG, 0, err, errlen);
	}
	if (r < 0)
		my_role = -1;
	pthread_mutex_unlock(&enter_lock);
	return r < 0 ? -1 : 0;
}
