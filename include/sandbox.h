/* Dropping what minivmm does not need once it is set up: stray file
 * descriptors, new privileges, and - with seccomp-bpf (libseccomp) - every
 * system call and ioctl a thread has no use for.
 *
 * Each thread filters itself (no TSYNC): after its set-up, a thread calls
 * sandbox_enter() with its role and from then on runs under that role's
 * allow-list (docs/seccomp.md lists them, call by call, with the reason).
 * A thread it starts later inherits the filter.  A forbidden call:
 *   SANDBOX_ENFORCE  stops minivmm: "minivmm: seccomp: thread vcpu made a
 *                    forbidden system call socket (41)" on stderr, exit 1;
 *   SANDBOX_LOG      is let through and reported once per thread role and
 *                    call, "... (allowed: --seccomp=log)" - for finding
 *                    what a new code path needs;
 *   SANDBOX_OFF      nothing is filtered (no_new_privs is still set).
 *
 * Order: sandbox_note_inherited_fds() first thing in main(); once the
 * user's files are open, sandbox_close_inherited_fds() and
 * sandbox_prepare(), before any thread exists; then each thread's
 * sandbox_enter() when its set-up is done. */
#ifndef MINIVMM_SANDBOX_H
#define MINIVMM_SANDBOX_H

#include <stddef.h>

enum sandbox_mode { SANDBOX_ENFORCE, SANDBOX_LOG, SANDBOX_OFF };

enum sandbox_role {
	SANDBOX_VCPU,		/* KVM_RUN loop and the devices it reaches */
	SANDBOX_EVENT,		/* the event loop: device I/O, control socket */
	SANDBOX_GPU,		/* the virgl thread (virglrenderer + Mesa) */
	SANDBOX_DISPLAY,	/* the SDL thread (X11/Wayland + GL) */
};
#define SANDBOX_NR_ROLES 4

/* Descriptors a role's ioctls are tied to; -1 where there is none. */
struct sandbox_fds {
	int vm_fd;	/* KVM_IRQ_LINE here (vCPU and event threads) */
	int vcpu_fd;	/* KVM_RUN here (vCPU threads only) */
};

/* "enforce", "log", "off" -> *mode; -1 on anything else. */
int sandbox_mode_parse(const char *s, enum sandbox_mode *mode);
const char *sandbox_mode_name(enum sandbox_mode mode);
const char *sandbox_role_name(enum sandbox_role role);

/* Descriptors above 2 that the parent left open (a leaked socket, a
 * terminal) are not ours to keep.  Note them first thing in main(), close
 * them once the user's files are open: a path like /dev/fd/5 names one
 * of them, and opening it makes a new descriptor.  Returns how many. */
void sandbox_note_inherited_fds(void);
unsigned sandbox_close_inherited_fds(void);

/* Process-wide, once, before any thread is started: sets no_new_privs
 * (all modes), names every system call up front (the reporter runs in a
 * signal handler), installs the SIGSYS reporter (enforce) or starts the
 * reporting thread (log).  0, or -1 with a message in err. */
int sandbox_prepare(enum sandbox_mode mode, char *err, size_t errlen);

/* Called by the reporter just before minivmm exits on a violation, from
 * a signal handler: must be async-signal-safe (term_restore() is). */
void sandbox_set_exit_hook(void (*fn)(void));

/* The calling thread filters itself as role.  fds may be NULL for the
 * GPU and display roles.  0, or -1 with a message in err (the thread is
 * then unfiltered).  In SANDBOX_OFF, and before sandbox_prepare() (unit
 * tests running device threads), it does nothing and returns 0. */
int sandbox_enter(enum sandbox_role role, const struct sandbox_fds *fds,
		  char *err, size_t errlen);

#endif
