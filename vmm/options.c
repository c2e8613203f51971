/* Command-line parsing: GNU long options, sizes with K/M/G/T suffixes. */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "control.h"

#define NAME_MAX_LEN	64	/* --name: for messages and a window title */

const char options_help[] =
"Usage: minivmm --kernel BZIMAGE [options]\n"
"       minivmm --help | --version\n"
"\n"
"Boots a Linux bzImage in a KVM virtual machine, with the guest's serial\n"
"console (COM1) on this terminal.\n"
"\n"
"Options:\n"
"  -k, --kernel PATH     Linux kernel in bzImage format (required)\n"
"  -i, --initrd PATH     initial ramdisk to load (optional)\n"
"  -c, --cmdline STR     kernel command line, replacing the default\n"
"                        \"" DEFAULT_CMDLINE "\"\n"
"  -a, --append STR      words added to the end of the command line\n"
"                        (repeatable: each is added in order)\n"
"  -m, --mem SIZE        guest RAM: bytes, or with suffix K, M, G, T\n"
"                        (default 512M, at least 64M; RAM above 3G is\n"
"                        placed above the 4 GiB boundary)\n"
"  -p, --cpus N          number of vCPUs, 1-64 (default 1)\n"
"  -n, --name NAME       name of the VM, for messages (default \"minivmm\";\n"
"                        1-64 bytes)\n"
"  -d, --disk PATH[,ro][,serial=ID]\n"
"                        a raw disk image as a virtio-blk device (/dev/vda,\n"
"                        /dev/vdb... in order); ro: read-only for the guest\n"
"                        and opened read-only here; serial: up to 20 bytes.\n"
"                        Repeatable, up to 6.  An image in use by another\n"
"                        minivmm is refused\n"
"      --console serial|virtio\n"
"                        where this terminal is connected: the UART ttyS0\n"
"                        (default) or virtio-console hvc0, which costs far\n"
"                        fewer VM exits; boot messages stay on the UART\n"
"      --no-rng          no virtio-rng device (default: one, fed by\n"
"                        getrandom(), for the guest's /dev/hwrng)\n"
"      --gpu 2d|virgl|none\n"
"                        a virtio-gpu (with a virtio keyboard and tablet):\n"
"                        2d, or virgl for OpenGL through virglrenderer;\n"
"                        none (default) for a serial-only machine\n"
"      --display sdl|headless|none\n"
"                        where the GPU's screen goes: an SDL2 window, kept\n"
"                        in memory for screenshots (headless), or nowhere.\n"
"                        Default: sdl when $DISPLAY or $WAYLAND_DISPLAY is\n"
"                        set and a window opens, else headless.  In the\n"
"                        window Ctrl+Alt+G grabs/releases input; closing it\n"
"                        stops the VM (exit status 6)\n"
"      --resolution WxH  the screen size the guest is offered (default\n"
"                        1024x768, each side 64-4095)\n"
"      --control PATH    a unix socket to drive the running VM:\n"
"                        minivmm ctl PATH screenshot FILE.png | key NAME |\n"
"                        type TEXT | pointer X Y [click] | stop | ping\n"
"      --virtio-mmio-cmdline\n"
"                        also list the virtio devices as virtio_mmio.device=\n"
"                        on the command line, for kernels built with\n"
"                        CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES and no ACPI;\n"
"                        they are always described in the ACPI DSDT\n"
"      --no-kernel-cache\n"
"                        always let the guest decompress the kernel; by\n"
"                        default an xz-compressed bzImage is decompressed\n"
"                        once on the host (in the background, after the\n"
"                        first boot) into ~/.cache/minivmm (or\n"
"                        $MINIVMM_CACHE_DIR), which saves about a second\n"
"                        per boot; the 4 most recent kernels are kept\n"
"      --seccomp enforce|log|off\n"
"                        system-call filtering of every thread once it is\n"
"                        set up (docs/seccomp.md): enforce (default) stops\n"
"                        minivmm on a forbidden call and names it, log\n"
"                        only reports it, off filters nothing\n"
"  -h, --help            show this text and exit\n"
"  -V, --version         show the version and exit\n"
"\n"
"Terminal: when standard input is a terminal it is put in raw mode and\n"
"restored on exit.  Type Ctrl-A x to stop the VM, Ctrl-A Ctrl-A to send a\n"
"literal Ctrl-A.  Standard input may also be a pipe or file; at its end\n"
"the guest simply receives no more input.\n"
"\n"
"Exit status:\n"
"  0  the guest powered off\n"
"  1  minivmm failed at run time (message on stderr)\n"
"  2  bad command line or unusable input file (message on stderr)\n"
"  3  the guest rebooted (minivmm does not restart it)\n"
"  4  the guest kernel panicked (reported through pvpanic)\n"
"  5  the guest crashed: triple fault or a state KVM cannot run\n"
"  6  stopped from the host: SIGINT, SIGTERM, SIGHUP or Ctrl-A x\n";

int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	/* A digit first: strtoull would take " -5" as 2^64 - 5. */
	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	case 't': case 'T': shift = 40; break;
	default: return -1;
	}
	if (*end) {
		end++;
		/* Accept "512M", "512MB", "512MiB". */
		if (*end == 'i' || *end == 'I')
			end++;
		if (*end == 'b' || *end == 'B')
			end++;
		if (*end)
			return -1;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_cpus(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 100000)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int parse_resolution(const char *s, uint32_t *w, uint32_t *h)
{
	char *end;
	unsigned long a, b;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	a = strtoul(s, &end, 10);
	if (errno || (*end != 'x' && *end != 'X') || end[1] < '0' || end[1] > '9')
		return -1;
	b = strtoul(end + 1, &end, 10);
	if (errno || *end || a < 64 || b < 64 || a > 4095 || b > 4095)
		return -1;
	*w = (uint32_t)a;
	*h = (uint32_t)b;
	return 0;
}

static int has_control_chars(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* Paths are quoted in later messages and the name goes into a window
 * title: a newline or an escape sequence there would break the
 * one-line-per-error rule or drive the terminal, so they are refused
 * now, before anything is opened.  So is a control socket path that
 * cannot work: it would otherwise only fail after KVM is set up. */
static int check_values(const struct vm_options *o, char *err, size_t errlen)
{
	const struct { const char *opt, *v; } text[] = {
		{ "--kernel", o->kernel }, { "--initrd", o->initrd },
		{ "--control", o->control }, { "--name", o->name },
	};

	for (unsigned i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		if (text[i].v && has_control_chars(text[i].v)) {
			snprintf(err, errlen, "%s: the value has control "
				 "characters", text[i].opt);
			return -1;
		}
	for (unsigned i = 0; i < o->nr_disks; i++)
		if (has_control_chars(o->disks[i].path)) {
			snprintf(err, errlen, "--disk: the path has control "
				 "characters");
			return -1;
		}
	if (!o->name[0] || strlen(o->name) > NAME_MAX_LEN) {
		snprintf(err, errlen, "--name: the name must be 1 to %d bytes",
			 NAME_MAX_LEN);
		return -1;
	}
	if (o->control && control_check_path(o->control, err, errlen))
		return -1;
	return 0;
}

/* getopt_long's '?' for "--no-rng=1": the option given a value it takes
 * none of, or NULL for an unknown option. */
static const char *valueless_long(const struct option *lo, const char *arg,
				  int opt)
{
	const char *eq = strchr(arg, '=');

	if (!opt || strncmp(arg, "--", 2) || !eq)
		return NULL;
	for (; lo->name; lo++)
		if (lo->val == opt && lo->has_arg == no_argument &&
		    !strncmp(lo->name, arg + 2, (size_t)(eq - arg - 2)))
			return lo->name;
	return NULL;
}

static int parse_args(int argc, char **argv, struct vm_options *o,
		      char *err, size_t errlen)
{
	static const struct option longopts[] = {
		{ "kernel",  required_argument, NULL, 'k' },
		{ "initrd",  required_argument, NULL, 'i' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "append",  required_argument, NULL, 'a' },
		{ "mem",     required_argument, NULL, 'm' },
		{ "cpus",    required_argument, NULL, 'p' },
		{ "name",    required_argument, NULL, 'n' },
		{ "disk",    required_argument, NULL, 'd' },
		{ "console", required_argument, NULL, 'C' },
		{ "no-rng",  no_argument,       NULL, 'R' },
		{ "virtio-mmio-cmdline", no_argument, NULL, 'M' },
		{ "gpu",        required_argument, NULL, 'G' },
		{ "display",    required_argument, NULL, 'D' },
		{ "resolution", required_argument, NULL, 'S' },
		{ "control",    required_argument, NULL, 'T' },
		{ "seccomp",    required_argument, NULL, 'X' },
		{ "no-kernel-cache", no_argument, NULL, 'K' },
		{ "help",    no_argument,       NULL, 'h' },
		{ "version", no_argument,       NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->mem = DEFAULT_MEM;
	o->cpus = 1;
	o->name = "minivmm";
	o->width = 1024;
	o->height = 768;
	o->seccomp = SANDBOX_ENFORCE;

	opterr = 0;	/* our own messages, one line each */
	optind = 0;	/* full re-initialisation: the tests parse repeatedly */
	while ((c = getopt_long(argc, argv, ":k:i:c:a:m:p:n:d:hV", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'k': o->kernel = optarg; break;
		case 'i': o->initrd = optarg; break;
		case 'c': o->cmdline = optarg; break;
		case 'a':
			if (o->nr_append >= sizeof(o->append) / sizeof(o->append[0])) {
				snprintf(err, errlen, "too many --append options");
				return -1;
			}
			o->append[o->nr_append++] = optarg;
			break;
		case 'n': o->name = optarg; break;
		case 'h': o->help = 1; break;
		case 'R': o->no_rng = 1; break;
		case 'M': o->mmio_cmdline = 1; break;
		case 'T': o->control = optarg; break;
		case 'K': o->no_kernel_cache = 1; break;
		case 'X':
			if (sandbox_mode_parse(optarg, &o->seccomp)) {
				snprintf(err, errlen, "--seccomp: '%.64s' is not "
					 "enforce, log or off", optarg);
				return -1;
			}
			break;
		case 'G':
			if (!strcmp(optarg, "2d"))
				o->gpu = GPU_2D;
			else if (!strcmp(optarg, "virgl"))
				o->gpu = GPU_VIRGL;
			else if (!strcmp(optarg, "none"))
				o->gpu = GPU_NONE;
			else {
				snprintf(err, errlen, "--gpu: '%.64s' is not 2d, "
					 "virgl or none", optarg);
				return -1;
			}
			break;
		case 'D':
			if (!strcmp(optarg, "sdl"))
				o->display = DISPLAY_SDL;
			else if (!strcmp(optarg, "headless"))
				o->display = DISPLAY_HEADLESS;
			else if (!strcmp(optarg, "none"))
				o->display = DISPLAY_NONE;
			else {
				snprintf(err, errlen, "--display: '%.64s' is not "
					 "sdl, headless or none", optarg);
				return -1;
			}
			break;
		case 'S':
			if (parse_resolution(optarg, &o->width, &o->height)) {
				snprintf(err, errlen, "--resolution: '%.64s' is not "
					 "WIDTHxHEIGHT with sides 64-4095", optarg);
				return -1;
			}
			break;
		case 'C':
			if (!strcmp(optarg, "virtio"))
				o->console_virtio = 1;
			else if (!strcmp(optarg, "serial"))
				o->console_virtio = 0;
			else {
				snprintf(err, errlen, "--console: '%.64s' is not "
					 "serial or virtio", optarg);
				return -1;
			}
			break;
		case 'd': {
			char why[200];

			if (o->nr_disks >= MAX_DISKS) {
				snprintf(err, errlen, "too many --disk options "
					 "(at most %d)", MAX_DISKS);
				return -1;
			}
			if (virtio_blk_parse_opt(optarg,
						 &o->disks[o->nr_disks],
						 why, sizeof(why))) {
				/* Its messages may name the option already. */
				snprintf(err, errlen, "%s%s", strncmp(why,
					 "--disk", 6) ? "--disk: " : "", why);
				return -1;
			}
			o->nr_disks++;
			break;
		}
		case 'V': o->version = 1; break;
		case 'm':
			if (parse_size(optarg, &o->mem)) {
				snprintf(err, errlen, "--mem: '%.64s' is not a size "
					 "(examples: 512M, 2G)", optarg);
				return -1;
			}
			break;
		case 'p':
			if (parse_cpus(optarg, &o->cpus)) {
				snprintf(err, errlen, "--cpus: '%.64s' is not a "
					 "number of vCPUs", optarg);
				return -1;
			}
			break;
		case ':':
			snprintf(err, errlen, "option '%.64s' needs a value "
				 "(try --help)", argv[optind - 1]);
			return -1;
		default:
			if (valueless_long(longopts, argv[optind - 1], optopt))
				snprintf(err, errlen, "option '--%s' takes no "
					 "value (try --help)",
					 valueless_long(longopts, argv[optind - 1],
							optopt));
			else if (optopt)
				snprintf(err, errlen, "unknown option '-%c' "
					 "(try --help)", optopt);
			else
				snprintf(err, errlen, "unknown option '%.64s' "
					 "(try --help)", argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%.64s' (try --help)",
			 argv[optind]);
		return -1;
	}
	if (check_values(o, err, errlen))
		return -1;
	if (o->help || o->version)
		return 0;
	if (!o->kernel) {
		snprintf(err, errlen, "no kernel given: use --kernel BZIMAGE "
			 "(try --help)");
		return -1;
	}
	if (o->mem < MIN_MEM) {
		snprintf(err, errlen, "--mem %" PRIu64 "M is too small: at "
			 "least %lluM is needed", o->mem >> 20, MIN_MEM >> 20);
		return -1;
	}
	if (o->cpus < 1 || o->cpus > MAX_CPUS) {
		snprintf(err, errlen, "--cpus %u is out of range: 1 to %d",
			 o->cpus, MAX_CPUS);
		return -1;
	}
	return 0;
}

int options_parse(int argc, char **argv, struct vm_options *o,
		  char *err, size_t errlen)
{
	int rc = parse_args(argc, argv, o, err, errlen);

	/* Quoted values are cut to 64 bytes; their control characters would
	 * still split the message over lines. */
	for (char *p = err; rc && errlen && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return rc;
}
