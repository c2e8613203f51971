/* minivmm: parse the command line, check the inputs, build the VM
 * (memory, platform devices, ACPI, boot state), run it until the guest
 * or the user ends it, and exit with a status that says how it ended. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acpi.h"
#include "boot.h"
#include "layout.h"
#include "options.h"
#include "platform.h"
#include "serial.h"
#include "stdin_feed.h"
#include "term.h"
#include "vm.h"

#ifndef MINIVMM_VERSION
#define MINIVMM_VERSION "dev"
#endif

struct file_buf {
	uint8_t *data;
	size_t size;
};

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

static char *build_cmdline(const struct vm_options *o)
{
	const char *base = o->cmdline ? o->cmdline : DEFAULT_CMDLINE;
	size_t len = strlen(base) + (o->append ? strlen(o->append) + 1 : 0) + 1;
	char *s = malloc(len);

	if (s)
		snprintf(s, len, "%s%s%s", base, o->append ? " " : "",
			 o->append ? o->append : "");
	return s;
}

struct machine {
	struct vm vm;
	struct serial com1;
	struct platform platform;
	struct loop loop;
	struct stdin_feed input;
	int sig_fd;
	int stopped_by_signal;
};

static int add_platform_devices(struct machine *m)
{
	struct vm *vm = &m->vm;
	struct irq_line com1_irq = { vm_set_irq, vm, COM1_IRQ };

	serial_init(&m->com1, STDOUT_FILENO, &com1_irq);
	m->platform.stopper.stop = vm_stop;
	m->platform.stopper.ctx = vm;
	if (bus_register(&vm->pio, COM1_PORT, 8, &serial_bus_ops, &m->com1, "com1") ||
	    bus_register(&vm->pio, ACPI_SLEEP_PORT, 1, &acpi_sleep_ops, &m->platform, "acpi-sleep") ||
	    bus_register(&vm->pio, ACPI_RESET_PORT, 1, &acpi_reset_ops, &m->platform, "acpi-reset") ||
	    bus_register(&vm->pio, I8042_CMD_PORT, 1, &i8042_ops, &m->platform, "i8042") ||
	    bus_register(&vm->pio, PVPANIC_PORT, 1, &pvpanic_ops, &m->platform, "pvpanic")) {
		fprintf(stderr, "minivmm: internal error: device ranges overlap\n");
		return -1;
	}
	return 0;
}

static int load_guest(struct machine *m, const struct vm_options *o,
		      const struct file_buf *kernel, const struct file_buf *initrd,
		      const char *cmdline)
{
	const struct acpi_dsdt_dev dsdt[] = {
		{ serial_write_aml, &m->com1 },
		{ pvpanic_write_aml, &m->platform },
	};
	struct acpi_config acfg = {
		.nr_cpus = o->cpus,
		.devs = dsdt,
		.nr_devs = sizeof(dsdt) / sizeof(dsdt[0]),
	};
	struct boot_config bc = {
		.kernel = kernel->data, .kernel_size = kernel->size,
		.initrd = initrd->data, .initrd_size = initrd->size,
		.cmdline = cmdline,
		.ram_size = o->mem,
	};
	struct boot_entry entry;
	const char *why = NULL;

	bc.rsdp_addr = acpi_build(&m->vm.mem, ACPI_TABLES_ADDR,
				  ACPI_TABLES_SIZE, &acfg, &why);
	if (!bc.rsdp_addr) {
		fprintf(stderr, "minivmm: ACPI tables: %s\n", why ? why : "failed");
		return -1;
	}
	if (x86_boot_load(&m->vm.mem, &bc, &entry, &why)) {
		fprintf(stderr, "minivmm: %s\n", why ? why : "cannot load the kernel");
		return -1;
	}
	return vcpus_create(&m->vm, &entry);
}

static void on_stop(void *opaque, uint32_t events)
{
	struct machine *m = opaque;
	uint64_t v;

	(void)events;
	if (read(m->vm.stop_fd, &v, sizeof(v)) < 0) {
		/* nonblocking eventfd: a spurious wake-up is harmless */
	}
	if (atomic_load(&m->vm.exit_code) >= 0)
		loop_quit(&m->loop);
}

static void on_signal(void *opaque, uint32_t events)
{
	struct machine *m = opaque;
	struct signalfd_siginfo si;

	(void)events;
	if (read(m->sig_fd, &si, sizeof(si)) != sizeof(si))
		return;
	m->stopped_by_signal = (int)si.ssi_signo;
	vm_stop(&m->vm, EXIT_STOPPED);
}

static void on_escape_quit(void *opaque)
{
	struct machine *m = opaque;

	vm_stop(&m->vm, EXIT_STOPPED);
}

/* Signals go to the event thread through a signalfd; the vCPU kick signal
 * stays blocked except inside vCPU threads. */
static int setup_signals(struct machine *m)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		return -1;
	sigdelset(&set, SIGUSR1);
	m->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (m->sig_fd < 0)
		return -1;
	/* A closed stdout pipe must not kill us mid-write. */
	signal(SIGPIPE, SIG_IGN);
	return loop_add(&m->loop, m->sig_fd, EPOLLIN, on_signal, m);
}

static const char *exit_words(int code)
{
	switch (code) {
	case EXIT_REBOOT: return "the guest rebooted";
	case EXIT_PANIC: return "the guest kernel panicked";
	case EXIT_CRASH: return "the guest crashed";
	default: return NULL;
	}
}

static int run(struct machine *m, const struct vm_options *o,
	       const struct file_buf *kernel, const struct file_buf *initrd,
	       const char *cmdline)
{
	int code;

	if (loop_init(&m->loop) < 0) {
		fprintf(stderr, "minivmm: epoll: %s\n", strerror(errno));
		return EXIT_ERROR;
	}
	m->sig_fd = -1;
	if (setup_signals(m)) {
		fprintf(stderr, "minivmm: signal set-up: %s\n", strerror(errno));
		return EXIT_ERROR;
	}
	if (vm_create(&m->vm, o->mem, o->cpus))
		return EXIT_ERROR;
	m->vm.name = o->name;
	if (add_platform_devices(m) ||
	    load_guest(m, o, kernel, initrd, cmdline) ||
	    loop_add(&m->loop, m->vm.stop_fd, EPOLLIN, on_stop, m) ||
	    stdin_feed_start(&m->input, &m->loop, &m->com1, on_escape_quit, m)) {
		vcpus_stop(&m->vm);
		vm_destroy(&m->vm);
		return EXIT_ERROR;
	}
	if (vcpus_start(&m->vm) == 0)
		loop_run(&m->loop);
	vcpus_stop(&m->vm);
	stdin_feed_stop(&m->input);
	code = atomic_load(&m->vm.exit_code);
	if (m->stopped_by_signal)
		fprintf(stderr, "\r\nminivmm: stopped by %s\n",
			strsignal(m->stopped_by_signal));
	else if (exit_words(code))
		fprintf(stderr, "\r\nminivmm: %s\n", exit_words(code));
	serial_destroy(&m->com1);
	vm_destroy(&m->vm);
	loop_destroy(&m->loop);
	close(m->sig_fd);
	return code < 0 ? EXIT_ERROR : code;
}

int main(int argc, char **argv)
{
	static struct machine m;
	struct vm_options o;
	struct file_buf kernel = { 0 }, initrd = { 0 };
	struct bzimage_info info;
	const char *why;
	char err[256];
	char *cmdline;
	int code;

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

	term_raw_enter();
	code = run(&m, &o, &kernel, &initrd, cmdline);
	term_restore();
	free(cmdline);
	free(kernel.data);
	free(initrd.data);
	return code;
}
