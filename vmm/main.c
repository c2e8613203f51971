/* minivmm: parse the command line, check every input before touching
 * KVM, then build and run the machine (machine.c) and exit with a status
 * that says how the guest ended. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot.h"
#include "layout.h"
#include "control.h"
#include "gpu_module.h"
#include "kernel_cache.h"
#include "machine.h"
#include "virtio_slot.h"
#include "options.h"
#include "sandbox.h"
#include "term.h"

#ifndef MINIVMM_VERSION
#define MINIVMM_VERSION "dev"
#endif

/* Reads a whole regular file; max bounds what we are willing to load. */
static int read_file(const char *what, const char *path, size_t max,
		     struct file_buf *out)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t done = 0;

	if (fd < 0) {
		fprintf(stderr, "minivmm: cannot open %s '%s': %s\n", what, path,
			strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "minivmm: %s '%s' is not a regular file\n",
			what, path);
		goto fail;
	}
	if ((uint64_t)st.st_size > max) {
		fprintf(stderr, "minivmm: %s '%s' is too large (%lld bytes, at "
			"most %zu)\n", what, path, (long long)st.st_size, max);
		goto fail;
	}
	out->size = (size_t)st.st_size;
	out->data = malloc(out->size ? out->size : 1);
	if (!out->data) {
		fprintf(stderr, "minivmm: out of memory reading %s\n", what);
		goto fail;
	}
	while (done < out->size) {
		ssize_t n = read(fd, out->data + done, out->size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "minivmm: cannot read %s '%s': %s\n",
				what, path, n < 0 ? strerror(errno) :
				"file shrank while reading");
			free(out->data);
			out->data = NULL;
			goto fail;
		}
		done += (size_t)n;
	}
	close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}

/* Refuse what the host cannot back: MAP_NORESERVE would accept it and the
 * guest would be killed by the OOM killer later instead. */
static int check_host_memory(uint64_t ram_size)
{
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);

	if (pages > 0 && psz > 0 && ram_size > (uint64_t)pages * (uint64_t)psz) {
		fprintf(stderr, "minivmm: --mem %lluM is more than this host's "
			"%lluM of RAM\n", (unsigned long long)(ram_size >> 20),
			(unsigned long long)(((uint64_t)pages * psz) >> 20));
		return -1;
	}
	return 0;
}

/* The command line: the default or --cmdline, the virtio devices for
 * kernels that want them there (--virtio-mmio-cmdline; same order and
 * windows as machine.c gives them), then --append. */
static char *build_cmdline(const struct vm_options *o)
{
	const char *base = o->cmdline ? o->cmdline : DEFAULT_CMDLINE;
	unsigned nr_virtio = o->nr_disks + !!o->console_virtio + !o->no_rng +
			     (o->gpu != GPU_NONE ? 3 : 0);
	size_t len = strlen(base) + nr_virtio * 48 + 1;
	char *s;
	size_t n;

	for (unsigned i = 0; i < o->nr_append; i++)
		len += strlen(o->append[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	n = (size_t)snprintf(s, len, "%s", base);
	for (unsigned i = 0; o->mmio_cmdline && i < nr_virtio; i++)
		n += (size_t)snprintf(s + n, len - n,
				      " virtio_mmio.device=4K@0x%llx:%u",
				      VIRTIO_MMIO_BASE + i * VIRTIO_MMIO_STRIDE,
				      virtio_slot_gsi(i));
	for (unsigned i = 0; i < o->nr_append; i++)
		n += (size_t)snprintf(s + n, len - n, " %s", o->append[i]);
	return s;
}

int main(int argc, char **argv)
{
	static struct machine m;
	struct vm_options o;
	struct file_buf kernel = { 0 }, vmlinux = { 0 }, initrd = { 0 };
	struct bzimage_info info;
	const char *why;
	char err[256];
	char *cmdline;
	int code;

	/* `minivmm ctl PATH CMD...` talks to a running VM's control socket. */
	if (argc > 1 && !strcmp(argv[1], "ctl"))
		return ctl_client_main(argc - 2, argv + 2);
	/* Before anything is opened: whatever is open now was inherited. */
	sandbox_note_inherited_fds();
	if (options_parse(argc, argv, &o, err, sizeof(err))) {
		fprintf(stderr, "minivmm: %s\n", err);
		return EXIT_USAGE;
	}
	if (o.help) {
		fputs(options_help, stdout);
		return 0;
	}
	if (o.version) {
		printf("minivmm %s\n", MINIVMM_VERSION);
		return 0;
	}
	/* Check every input before touching KVM, so mistakes are reported
	 * the same way on any machine. */
	if (check_host_memory(o.mem))
		return EXIT_USAGE;
	if (read_file("kernel", o.kernel, 512u << 20, &kernel))
		return EXIT_USAGE;
	if (bzimage_parse(kernel.data, kernel.size, &info, &why)) {
		fprintf(stderr, "minivmm: kernel '%s': %s\n", o.kernel, why);
		return EXIT_USAGE;
	}
	if (o.initrd && read_file("initrd", o.initrd, o.mem, &initrd))
		return EXIT_USAGE;
	/* The GPU stack is a module: a missing or mismatched one is found
	 * here, before KVM, like any other unusable input. */
	if (o.gpu != GPU_NONE && !gpu_module_load(err, sizeof(err))) {
		fprintf(stderr, "minivmm: --gpu: %s\n", err);
		return EXIT_ERROR;
	}
	cmdline = build_cmdline(&o);
	if (!cmdline) {
		fprintf(stderr, "minivmm: out of memory\n");
		return EXIT_ERROR;
	}
	if (strlen(cmdline) > info.cmdline_size) {
		fprintf(stderr, "minivmm: kernel command line is %zu bytes, "
			"this kernel takes at most %u\n", strlen(cmdline),
			info.cmdline_size);
		return EXIT_USAGE;
	}

	/* The kernel decompressed on the host (kernel_cache.h): from the
	 * cache, or made there in the background for the next boot. */
	if (!o.no_kernel_cache) {
		if (kernel_cache_map(kernel.data, kernel.size, &info,
				     &vmlinux.data, &vmlinux.size) == 0)
			vmlinux.mapped = 1;
		else
			kernel_cache_fill_async(kernel.data, kernel.size);
	}

	term_raw_enter();
	code = machine_run(&m, &o, &kernel, &vmlinux, &initrd, cmdline);
	term_restore();
	free(cmdline);
	free(kernel.data);
	free(initrd.data);
	if (vmlinux.mapped)
		kernel_cache_unmap(vmlinux.data, vmlinux.size);
	/* Everything is torn down.  exit() would now run the libraries'
	 * destructors (Mesa's, EGL's: they open files) on this thread,
	 * under the event thread's seccomp filter: leave without them. */
	fflush(NULL);
	_exit(code);
}
