/* minivmm's exit statuses, mirroring what the guest did (see --help). */
#ifndef MINIVMM_EXIT_STATUS_H
#define MINIVMM_EXIT_STATUS_H

enum minivmm_exit {
	EXIT_POWEROFF = 0,	/* guest powered off (ACPI S5) */
	EXIT_ERROR = 1,		/* minivmm failed at run time */
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_REBOOT = 3,	/* guest asked for a reset (reboot) */
	EXIT_PANIC = 4,		/* guest kernel panicked (pvpanic) */
	EXIT_CRASH = 5,		/* guest triple-faulted or KVM could not run it */
	EXIT_STOPPED = 6,	/* stopped from the host: signal or escape keys */
};

/* Platform devices (ACPI sleep/reset registers, i8042 reset, pvpanic) end
 * the VM through this callback; the first request wins. */
struct vm_stopper {
	void (*stop)(void *ctx, enum minivmm_exit why);
	void *ctx;
};

static inline void vm_stopper_stop(const struct vm_stopper *s, enum minivmm_exit why)
{
	if (s && s->stop)
		s->stop(s->ctx, why);
}

#endif
