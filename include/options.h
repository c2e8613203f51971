/* The command line: parsed into vm_options with no side effects, so the
 * parser is unit-tested; every mistake becomes one message for the user. */
#ifndef MINIVMM_OPTIONS_H
#define MINIVMM_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#define DEFAULT_MEM		(512ULL << 20)
#define MIN_MEM			(64ULL << 20)
#define MAX_CPUS		64
#define DEFAULT_CMDLINE		"console=ttyS0 panic=-1"

struct vm_options {
	const char *kernel;
	const char *initrd;
	const char *cmdline;	/* replaces DEFAULT_CMDLINE when given */
	const char *append;	/* added after the command line */
	uint64_t mem;
	unsigned cpus;
	const char *name;
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
