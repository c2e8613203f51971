/* What each thread may call once it is set up: one allow-list per role.
 * docs/seccomp.md gives the reason for every entry; keep the two in step.
 *
 * Found by reading the code paths each thread runs after its set-up
 * (including what a guest can make it run: a vCPU thread executes device
 * resets and config accesses) and checked with strace and --seccomp=log
 * on real guests.  Arguments are checked where that narrows something
 * real: ioctls by descriptor and request number, no executable mappings
 * outside the GL threads, no priority-inheritance futexes, signals only
 * to ourselves, write-only opens on the event thread. */
#include "sandbox_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/kvm.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>

/* Collects rules; the first failure sticks and names its system call. */
struct pb {
	scmp_filter_ctx ctx;
	int failed_nr;		/* -1 while all is well */
	int rc;
};

static void rule(struct pb *b, uint32_t action, int nr, unsigned n,
		 const struct scmp_arg_cmp *cmp)
{
	int rc;

	if (b->failed_nr >= 0)
		return;
	rc = seccomp_rule_add_array(b->ctx, action, nr, n, cmp);
	if (rc < 0) {
		b->failed_nr = nr;
		b->rc = rc;
	}
}

static void allow(struct pb *b, int nr)
{
	rule(b, SCMP_ACT_ALLOW, nr, 0, NULL);
}

static void allow_if(struct pb *b, int nr, struct scmp_arg_cmp a)
{
	rule(b, SCMP_ACT_ALLOW, nr, 1, &a);
}

static void allow_if2(struct pb *b, int nr, struct scmp_arg_cmp a,
		      struct scmp_arg_cmp c)
{
	struct scmp_arg_cmp cmp[2] = { a, c };

	rule(b, SCMP_ACT_ALLOW, nr, 2, cmp);
}

#define ALLOW_ALL(b, ...)						\
	do {								\
		static const int nrs_[] = { __VA_ARGS__ };		\
		for (size_t i_ = 0; i_ < sizeof(nrs_) / sizeof(nrs_[0]); i_++) \
			allow((b), nrs_[i_]);				\
	} while (0)

/* The kernel reads fds and ioctl requests as 32-bit values: compare
 * exactly those bits, as it will use them. */
static struct scmp_arg_cmp eq32(unsigned arg, uint32_t v)
{
	return (struct scmp_arg_cmp){ arg, SCMP_CMP_MASKED_EQ, 0xffffffffu, v };
}

/* ioctl(fd, request) for one descriptor and one request. */
static void allow_ioctl(struct pb *b, int fd, unsigned long request)
{
	if (fd < 0)
		return;
	allow_if2(b, SCMP_SYS(ioctl), eq32(0, (uint32_t)fd),
		  eq32(1, (uint32_t)request));
}

/* ioctl(any fd, request). */
static void allow_ioctl_any(struct pb *b, unsigned long request)
{
	allow_if(b, SCMP_SYS(ioctl), eq32(1, (uint32_t)request));
}

/* Every request of one ioctl type byte ('d' is DRM: core and driver). */
static void allow_ioctl_type(struct pb *b, unsigned type)
{
	allow_if(b, SCMP_SYS(ioctl), (struct scmp_arg_cmp){
		1, SCMP_CMP_MASKED_EQ, 0xff00, (uint64_t)type << 8 });
}

/* ---- what every thread needs ------------------------------------------ */

/* The futex operations of pthread mutexes, condition variables, joins
 * and Mesa's own futexes; not the priority-inheritance family (rarely
 * used, a history of kernel bugs).  The private and clock flags are
 * ignored in the comparison, so FUTEX_WAIT_PRIVATE etc. match. */
static void allow_futex(struct pb *b)
{
	static const int ops[] = { FUTEX_WAIT, FUTEX_WAKE, FUTEX_REQUEUE,
				   FUTEX_CMP_REQUEUE, FUTEX_WAKE_OP,
				   FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET };
	const uint64_t mask = 0xffffffffu &
			      ~(uint64_t)(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		allow_if(b, SCMP_SYS(futex), (struct scmp_arg_cmp){
			1, SCMP_CMP_MASKED_EQ, mask, (uint64_t)ops[i] });
}

/* malloc and free, thread exit: no executable memory (gl: the GL
 * threads' JIT compilers need it). */
static void allow_memory(struct pb *b, int gl)
{
	static const int advice[] = { MADV_DONTNEED, MADV_FREE, MADV_HUGEPAGE,
				      MADV_NOHUGEPAGE, MADV_DONTDUMP };
	const struct scmp_arg_cmp no_exec = {
		2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0 };

	ALLOW_ALL(b, SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap));
	if (gl) {
		ALLOW_ALL(b, SCMP_SYS(mmap), SCMP_SYS(mprotect),
			  SCMP_SYS(madvise));
		return;
	}
	allow_if(b, SCMP_SYS(mmap), no_exec);
	allow_if(b, SCMP_SYS(mprotect), no_exec);
	for (size_t i = 0; i < sizeof(advice) / sizeof(advice[0]); i++)
		allow_if(b, SCMP_SYS(madvise), (struct scmp_arg_cmp){
			2, SCMP_CMP_EQ, (uint64_t)advice[i], 0 });
}

static void allow_common(struct pb *b, pid_t pid, int gl)
{
	/* Messages on stderr, eventfd kicks, guest output on stdout (with
	 * poll bounding the wait); glibc's fatal messages use writev. */
	ALLOW_ALL(b, SCMP_SYS(write), SCMP_SYS(writev), SCMP_SYS(poll),
		  SCMP_SYS(ppoll));
	/* Leaving: thread return, exit(), the violation reporter. */
	ALLOW_ALL(b, SCMP_SYS(exit), SCMP_SYS(exit_group));
	/* Signals: handlers return (the vCPU kick), masks (glibc blocks all
	 * around thread exit and raise), interrupted sleeps restart. */
	ALLOW_ALL(b, SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask),
		  SCMP_SYS(restart_syscall));
	/* A thread's own signal stack: the sanitizers' runtimes look at it
	 * on the way out. */
	allow(b, SCMP_SYS(sigaltstack));
	/* abort(): SIGABRT back to its default, then raised again. */
	allow_if(b, SCMP_SYS(rt_sigaction), SCMP_A0(SCMP_CMP_EQ, SIGABRT));
	/* pthread_kill (the vCPU kick), raise, abort: only at ourselves. */
	allow_if(b, SCMP_SYS(tgkill), SCMP_A0(SCMP_CMP_EQ, (uint64_t)pid));
	ALLOW_ALL(b, SCMP_SYS(getpid), SCMP_SYS(gettid));
	/* Time (the vDSO's fallbacks) and short sleeps (SDL_Delay). */
	ALLOW_ALL(b, SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres),
		  SCMP_SYS(gettimeofday), SCMP_SYS(time),
		  SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
		  SCMP_SYS(sched_yield));
	/* virtio-rng; glibc's malloc and arc4random seed from it too. */
	allow(b, SCMP_SYS(getrandom));
	allow_futex(b);
	allow_memory(b, gl);
	/* The exit hook puts the terminal back: tcsetattr on stdin, which
	 * in glibc reads the settings first. */
	allow_ioctl(b, 0, TCGETS);
	allow_ioctl(b, 0, TCSETS);
	allow_ioctl(b, 0, TCSETSW);
	allow_ioctl(b, 0, TCSETSF);
}

/* ---- the roles ----------------------------------------------------------- */

/* KVM_RUN and the exits it returns: port and MMIO accesses run device
 * code here - the UART, virtio-mmio registers, and what a status write
 * starts (activate, reset). */
static void vcpu_policy(struct pb *b, const struct sandbox_fds *fds)
{
	/* Checked first: KVM_RUN is every exit's system call. */
	seccomp_syscall_priority(b->ctx, SCMP_SYS(ioctl), 255);
	allow_ioctl(b, fds->vcpu_fd, KVM_RUN);
	/* The UART's interrupt line (level-triggered, not an irqfd). */
	allow_ioctl(b, fds->vm_fd, KVM_IRQ_LINE);
	/* A virtio-blk reset waits for requests in flight (io_uring). */
	allow(b, SCMP_SYS(io_uring_enter));
}

/* epoll over eventfds, signalfd, stdin, io_uring completions, the
 * control socket; the 2D GPU and the display ops it calls. */
static void event_policy(struct pb *b, const struct sandbox_fds *fds)
{
	seccomp_syscall_priority(b->ctx, SCMP_SYS(epoll_wait), 255);
	seccomp_syscall_priority(b->ctx, SCMP_SYS(read), 254);
	ALLOW_ALL(b, SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait),
		  SCMP_SYS(epoll_ctl), SCMP_SYS(read), SCMP_SYS(readv),
		  SCMP_SYS(close));
	/* UART input from stdin raises its line. */
	allow_ioctl(b, fds->vm_fd, KVM_IRQ_LINE);
	/* virtio-blk submits and reaps (and drains at exit). */
	allow(b, SCMP_SYS(io_uring_enter));
	/* Control socket clients; the SDL wake-up (an X11 or Wayland
	 * message from SDL_PushEvent) uses sendmsg/recvmsg. */
	ALLOW_ALL(b, SCMP_SYS(accept4), SCMP_SYS(recvfrom), SCMP_SYS(sendto),
		  SCMP_SYS(recvmsg), SCMP_SYS(sendmsg),
		  SCMP_SYS(timerfd_settime), SCMP_SYS(timerfd_gettime));
	/* Screenshots: PATH.tmp created write-only, renamed over PATH (or
	 * removed); the control socket's file removed at exit after lstat
	 * says it is still ours.  No open for reading at all. */
	allow_if(b, SCMP_SYS(openat), (struct scmp_arg_cmp){
		2, SCMP_CMP_MASKED_EQ, O_ACCMODE, O_WRONLY });
	ALLOW_ALL(b, SCMP_SYS(rename), SCMP_SYS(renameat),
		  SCMP_SYS(renameat2), SCMP_SYS(unlink), SCMP_SYS(unlinkat),
		  SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(lstat),
		  SCMP_SYS(stat), SCMP_SYS(statx), SCMP_SYS(lseek));
}

/* Mesa and its window-system glue, on the thread that owns a GL
 * context: shader compilation (JIT: executable memory, helper threads),
 * the shader cache (files), DRM ioctls on the render node, window-system
 * sockets.  Broad by necessity; what stays out is what no GL stack does:
 * exec, fork, ptrace, new sockets or connections, mounts, namespaces,
 * module loading, KVM. */
static void gl_policy(struct pb *b)
{
	ALLOW_ALL(b, SCMP_SYS(read), SCMP_SYS(readv), SCMP_SYS(pread64),
		  SCMP_SYS(pwrite64), SCMP_SYS(close), SCMP_SYS(dup),
		  SCMP_SYS(dup3), SCMP_SYS(fcntl), SCMP_SYS(lseek),
		  SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait),
		  SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_create1),
		  SCMP_SYS(eventfd2), SCMP_SYS(pipe2), SCMP_SYS(select),
		  SCMP_SYS(pselect6));
	/* Window-system and dbus sockets opened at set-up. */
	ALLOW_ALL(b, SCMP_SYS(recvmsg), SCMP_SYS(sendmsg), SCMP_SYS(recvfrom),
		  SCMP_SYS(sendto), SCMP_SYS(shutdown), SCMP_SYS(getsockopt),
		  SCMP_SYS(getpeername), SCMP_SYS(getsockname));
	/* The shader cache, driconf, cursor themes: files under the user's
	 * home and /usr/share, read and written. */
	ALLOW_ALL(b, SCMP_SYS(openat), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
		  SCMP_SYS(stat), SCMP_SYS(lstat), SCMP_SYS(statx),
		  SCMP_SYS(access), SCMP_SYS(faccessat), SCMP_SYS(faccessat2),
		  SCMP_SYS(readlink), SCMP_SYS(readlinkat),
		  SCMP_SYS(getdents64), SCMP_SYS(mkdir), SCMP_SYS(mkdirat),
		  SCMP_SYS(rename), SCMP_SYS(renameat), SCMP_SYS(renameat2),
		  SCMP_SYS(unlink), SCMP_SYS(unlinkat), SCMP_SYS(flock),
		  SCMP_SYS(ftruncate), SCMP_SYS(fallocate), SCMP_SYS(fsync),
		  SCMP_SYS(fdatasync), SCMP_SYS(memfd_create),
		  SCMP_SYS(fstatfs), SCMP_SYS(statfs));
	/* Who and where we are (Xlib, Mesa's cache path, CPU count). */
	ALLOW_ALL(b, SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid),
		  SCMP_SYS(getegid), SCMP_SYS(getresuid), SCMP_SYS(getresgid),
		  SCMP_SYS(uname), SCMP_SYS(sysinfo), SCMP_SYS(getcwd),
		  SCMP_SYS(sched_getaffinity), SCMP_SYS(sched_setaffinity),
		  SCMP_SYS(sched_getparam), SCMP_SYS(sched_getscheduler),
		  SCMP_SYS(sched_setscheduler), SCMP_SYS(getpriority),
		  SCMP_SYS(setpriority), SCMP_SYS(membarrier),
		  SCMP_SYS(kcmp));
	/* Helper threads (llvmpipe, shader compilers): threads only, never
	 * a new process.  clone3's flags sit in memory seccomp cannot read,
	 * so it fails with ENOSYS and glibc falls back to clone. */
	allow_if(b, SCMP_SYS(clone), (struct scmp_arg_cmp){
		0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD });
	rule(b, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0, NULL);
	ALLOW_ALL(b, SCMP_SYS(set_robust_list), SCMP_SYS(rseq));
	/* SDL looks at the SIGINT/SIGTERM handlers when it quits: reading a
	 * handler is harmless, setting one is not needed. */
	allow_if(b, SCMP_SYS(rt_sigaction), SCMP_A1(SCMP_CMP_EQ, 0));
	allow_if(b, SCMP_SYS(prctl), SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME));
	allow_if(b, SCMP_SYS(prctl), SCMP_A0(SCMP_CMP_EQ, PR_GET_NAME));
	/* GPU drivers: DRM (core and driver requests share type 'd'),
	 * dma-buf ('b') and sync-file ('>') fds; fd flags; isatty. */
	allow_ioctl_type(b, 'd');
	allow_ioctl_type(b, 'b');
	allow_ioctl_type(b, '>');
	allow_ioctl_any(b, FIONREAD);
	allow_ioctl_any(b, FIONBIO);
	allow_ioctl_any(b, FIOCLEX);
	allow_ioctl_any(b, TCGETS);
}

static void display_policy(struct pb *b)
{
	gl_policy(b);
	/* MIT-SHM images (Mesa's software rasteriser presenting to X, SDL's
	 * window surface): System V shared memory, made at each resize. */
	ALLOW_ALL(b, SCMP_SYS(shmget), SCMP_SYS(shmat), SCMP_SYS(shmdt),
		  SCMP_SYS(shmctl));
}

int sandbox_policy_add(scmp_filter_ctx ctx, enum sandbox_role role,
		       const struct sandbox_fds *fds, pid_t pid,
		       char *err, size_t errlen)
{
	static const struct sandbox_fds none = { -1, -1 };
	struct pb b = { ctx, -1, 0 };

	if (!fds)
		fds = &none;
	allow_common(&b, pid, role == SANDBOX_GPU || role == SANDBOX_DISPLAY);
	switch (role) {
	case SANDBOX_VCPU:
		vcpu_policy(&b, fds);
		break;
	case SANDBOX_EVENT:
		event_policy(&b, fds);
		break;
	case SANDBOX_GPU:
		gl_policy(&b);
		break;
	case SANDBOX_DISPLAY:
		display_policy(&b);
		break;
	}
	if (b.failed_nr >= 0) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE,
							      b.failed_nr);

		snprintf(err, errlen, "seccomp: cannot add the rule for %s: %s",
			 name ? name : "?", strerror(-b.rc));
		free(name);
		return -1;
	}
	return 0;
}
