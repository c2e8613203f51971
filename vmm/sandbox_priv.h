/* Between sandbox.c (loading, reporting) and sandbox_policy.c (what each
 * role may call). */
#ifndef MINIVMM_SANDBOX_PRIV_H
#define MINIVMM_SANDBOX_PRIV_H

#include <seccomp.h>
#include <sys/types.h>
#include "sandbox.h"

/* Adds role's allow-list to ctx (whose default action is the mode's).
 * pid is our process id (tgkill may only aim at it).  0, or -1 with the
 * offending rule named in err. */
int sandbox_policy_add(scmp_filter_ctx ctx, enum sandbox_role role,
		       const struct sandbox_fds *fds, pid_t pid,
		       char *err, size_t errlen);

#endif
