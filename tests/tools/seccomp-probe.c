/* LD_PRELOAD probe for the seccomp boot test: minivmm's virtio-rng serves
 * the guest with getrandom() on its event thread; this wraps getrandom()
 * so that each call first makes a system call no minivmm thread has any
 * business making - socket(AF_INET, SOCK_STREAM) - the way a device
 * model taken over by a guest would.  With --seccomp=enforce minivmm must
 * stop and name the call; with log it must report it and go on. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
	int s = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);

	if (s >= 0)
		close(s);
	return syscall(SYS_getrandom, buf, len, flags);
}
