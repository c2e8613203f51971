/* The command line: parsed into vm_options with no side effects, so the
 * parser is unit-tested; every mistake becomes one message for the user. */
#ifndef MINIVMM_OPTIONS_H
#define MINIVMM_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include "sandbox.h"
#include "virtio_blk.h"

#define DEFAULT_MEM		(512ULL << 20)
#define MIN_MEM			(64ULL << 20)
#define MAX_CPUS		64
/* pci=off: there is no PCI; saves the config-space probe (port I/O
 * exits) and its "PCI: Fatal" line. */
#define DEFAULT_CMDLINE		"console=ttyS0 panic=-1 pci=off"
#define MAX_DISKS		6

struct vm_options {
	const char *kernel;
	const char *initrd;
	const char *cmdline;	/* replaces DEFAULT_CMDLINE when given */
	const char *append[16];	/* each --append, added in order */
	unsigned nr_append;
	uint64_t mem;
	unsigned cpus;
	const char *name;
	struct virtio_blk_opts disks[MAX_DISKS];
	unsigned nr_disks;
	int console_virtio;	/* --console virtio: stdin/stdout on hvc0 */
	int no_rng;		/* --no-rng */
	int mmio_cmdline;	/* --virtio-mmio-cmdline */
	enum { GPU_NONE, GPU_2D, GPU_VIRGL } gpu;
	enum { DISPLAY_AUTO, DISPLAY_SDL, DISPLAY_HEADLESS, DISPLAY_NONE } display;
	uint32_t width, height;	/* --resolution, default 1024x768 */
	const char *control;	/* --control PATH */
	enum sandbox_mode seccomp;	/* --seccomp, default enforce */
	int no_kernel_cache;		/* --no-kernel-cache */
	int help, version;
};

/* Returns 0 on success; on error returns -1 and writes a one-line message
 * (without the "minivmm: " prefix) into err. */
int options_parse(int argc, char **argv, struct vm_options *o,
		  char *err, size_t errlen);

/* "512M", "2G", "1048576", "64k" -> bytes; -1 on garbage or overflow. */
int parse_size(const char *s, uint64_t *out);

/* The full --help text. */
extern const char options_help[];

#endif
