/* Assembling and running the machine: platform devices and virtio devices
 * on their buses, ACPI tables describing them, the kernel loaded, vCPUs
 * started, the event loop run until something stops the VM. */
#include "machine.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "acpi.h"
#include "boot.h"
#include "kernel_cache.h"
#include "layout.h"
#include "sandbox.h"
#include "term.h"
#include "virtio_blk.h"
#include "virtio_console.h"
#include "virtio_rng.h"

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

struct virtio_slot *machine_next_slot(struct machine *m)
{
	struct virtio_slot *s = &m->slot[m->nr_slots];

	if (virtio_slot_init(s, &m->vm, m->nr_slots))
		return NULL;
	m->nr_slots++;
	return s;
}

/* Device order fixes their windows and GSIs: disks (vda, vdb...), then
 * the console, then the rng - main.c's --virtio-mmio-cmdline relies on it. */
static int add_virtio_devices(struct machine *m, const struct vm_options *o)
{
	struct virtio_slot *s;

	for (unsigned i = 0; i < m->nr_blk; i++) {
		s = machine_next_slot(m);
		if (!s)
			return -1;
		virtio_dev_init(&m->blk_dev[i], &virtio_blk_ops, m->blk[i],
				&m->vm.mem, &s->irq);
		if (virtio_slot_attach(s, &m->loop, &m->blk_dev[i]))
			return -1;
	}
	if (o->console_virtio) {
		s = machine_next_slot(m);
		if (!s)
			return -1;
		m->console = virtio_console_create(&m->vm.mem, &s->irq,
						   STDOUT_FILENO);
		if (!m->console || virtio_slot_attach(s, &m->loop,
					virtio_console_dev(m->console)))
			return -1;
	}
	if (!o->no_rng) {
		s = machine_next_slot(m);
		if (!s)
			return -1;
		m->rng = virtio_rng_create(&m->vm.mem, &s->irq);
		if (!m->rng || virtio_slot_attach(s, &m->loop, virtio_rng_dev(m->rng)))
			return -1;
	}
	return 0;
}

static int load_guest(struct machine *m, const struct vm_options *o,
		      const struct file_buf *kernel,
		      const struct file_buf *vmlinux,
		      const struct file_buf *initrd, const char *cmdline)
{
	struct acpi_dsdt_dev dsdt[2 + VIRTIO_MAX_DEVICES];
	unsigned n = 0;
	struct acpi_config acfg;
	struct boot_config bc = {
		.kernel = kernel->data, .kernel_size = kernel->size,
		.vmlinux = vmlinux->data, .vmlinux_size = vmlinux->size,
		.initrd = initrd->data, .initrd_size = initrd->size,
		.cmdline = cmdline,
		.ram_size = o->mem,
	};
	struct boot_entry entry;
	const char *why = NULL;

	dsdt[n++] = (struct acpi_dsdt_dev){ serial_write_aml, &m->com1 };
	dsdt[n++] = (struct acpi_dsdt_dev){ pvpanic_write_aml, &m->platform };
	for (unsigned i = 0; i < m->nr_slots; i++)
		dsdt[n++] = (struct acpi_dsdt_dev){ virtio_mmio_write_aml,
						    &m->slot[i].aml };
	acfg = (struct acpi_config){ .nr_cpus = o->cpus, .devs = dsdt,
				     .nr_devs = n };
	bc.rsdp_addr = acpi_build(&m->vm.mem, ACPI_TABLES_ADDR,
				  ACPI_TABLES_SIZE, &acfg, &why);
	if (!bc.rsdp_addr) {
		fprintf(stderr, "minivmm: ACPI tables: %s\n", why ? why : "failed");
		return -1;
	}
	if (x86_reset_vector_write(&m->vm.mem)) {
		fprintf(stderr, "minivmm: internal error: no RAM at the reset vector\n");
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

static size_t uart_receive(void *dev, const uint8_t *buf, size_t len)
{
	return serial_receive(dev, buf, len);
}

static size_t console_receive(void *dev, const uint8_t *buf, size_t len)
{
	return virtio_console_receive(dev, buf, len);
}

/* Standard input goes to the console the user chose. */
static int start_input(struct machine *m)
{
	if (m->console) {
		m->console->rx_room = stdin_feed_room;
		m->console->rx_room_ctx = &m->input;
		return stdin_feed_start(&m->input, &m->loop, console_receive,
					m->console, on_escape_quit, m);
	}
	pthread_mutex_lock(&m->com1.lock);
	m->com1.rx_room = stdin_feed_room;
	m->com1.rx_room_ctx = &m->input;
	pthread_mutex_unlock(&m->com1.lock);
	return stdin_feed_start(&m->input, &m->loop, uart_receive, &m->com1,
				on_escape_quit, m);
}

/* Once the user's files are open (a disk may be named /dev/fd/N), drop
 * what the parent left us, then get the filters ready: after this no
 * thread may be started unfiltered. */
static int prepare_sandbox(const struct vm_options *o)
{
	char err[256];

	sandbox_close_inherited_fds();
	if (sandbox_prepare(o->seccomp, err, sizeof(err))) {
		fprintf(stderr, "minivmm: %s\n", err);
		return -1;
	}
	sandbox_set_exit_hook(term_restore);
	return 0;
}

/* The event thread (this one) is last: from here on it only serves the
 * loop and tears the machine down. */
static int enter_event_sandbox(struct machine *m)
{
	struct sandbox_fds fds = { m->vm.vm_fd, -1 };
	char err[256];

	if (sandbox_enter(SANDBOX_EVENT, &fds, err, sizeof(err))) {
		fprintf(stderr, "minivmm: %s\n", err);
		vm_stop(&m->vm, EXIT_ERROR);
		return -1;
	}
	return 0;
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

static void teardown(struct machine *m)
{
	/* vCPUs first (nothing touches devices after), then I/O still in
	 * flight into guest RAM, then the RAM itself. */
	vcpus_stop(&m->vm);
	machine_stop_display(m);
	for (unsigned i = 0; i < m->nr_blk; i++)
		virtio_blk_close(m->blk[i]);
	m->nr_blk = 0;
	if (m->console)
		virtio_console_destroy(m->console);
	if (m->rng)
		virtio_rng_destroy(m->rng);
	m->console = NULL;
	m->rng = NULL;
	stdin_feed_stop(&m->input);
	for (unsigned i = 0; i < m->nr_slots; i++)
		virtio_slot_destroy(&m->slot[i]);
	serial_destroy(&m->com1);
	vm_destroy(&m->vm);
	loop_destroy(&m->loop);
	if (m->sig_fd >= 0)
		close(m->sig_fd);
}

/* The kernel and initrd are in guest RAM now: their host copies would
 * only add to minivmm's own memory for the whole run. */
static void release_file(struct file_buf *f)
{
	if (f->mapped)
		kernel_cache_unmap(f->data, f->size);
	else
		free(f->data);
	f->data = NULL;
	f->size = 0;
}

int machine_run(struct machine *m, const struct vm_options *o,
		struct file_buf *kernel, struct file_buf *vmlinux,
		struct file_buf *initrd, const char *cmdline)
{
	int code;

	m->sig_fd = -1;
	m->input.room_fd = -1;
	m->vm.kvm_fd = m->vm.vm_fd = m->vm.stop_fd = -1;	/* for teardown() */
	m->close_fd = -1;
	if (loop_init(&m->loop) < 0) {
		fprintf(stderr, "minivmm: epoll: %s\n", strerror(errno));
		return EXIT_ERROR;
	}
	if (setup_signals(m)) {
		fprintf(stderr, "minivmm: signal set-up: %s\n", strerror(errno));
		return EXIT_ERROR;
	}
	/* Disks are user input: open (and lock) them before anything else,
	 * so a bad one is a usage error and the guest never starts. */
	for (unsigned i = 0; i < o->nr_disks; i++) {
		char err[256];

		m->blk[i] = virtio_blk_open(&o->disks[i], err, sizeof(err));
		if (!m->blk[i]) {
			fprintf(stderr, "minivmm: %s\n", err);
			teardown(m);
			return EXIT_USAGE;
		}
		m->nr_blk++;
	}
	if (prepare_sandbox(o)) {
		teardown(m);
		return EXIT_ERROR;
	}
	if (vm_create(&m->vm, o->mem, o->cpus)) {
		teardown(m);
		return EXIT_ERROR;
	}
	m->vm.name = o->name;
	if (add_platform_devices(m) || add_virtio_devices(m, o) ||
	    machine_add_display(m, o) ||
	    load_guest(m, o, kernel, vmlinux, initrd, cmdline)) {
		teardown(m);
		return EXIT_ERROR;
	}
	release_file(kernel);
	release_file(vmlinux);
	release_file(initrd);
	if (loop_add(&m->loop, m->vm.stop_fd, EPOLLIN, on_stop, m) ||
	    start_input(m) || machine_start_control(m, o)) {
		teardown(m);
		return EXIT_ERROR;
	}
	if (vcpus_start(&m->vm) == 0 && enter_event_sandbox(m) == 0)
		loop_run(&m->loop);
	code = atomic_load(&m->vm.exit_code);
	teardown(m);
	if (m->stopped_by_signal)
		fprintf(stderr, "\r\nminivmm: stopped by %s\n",
			strsignal(m->stopped_by_signal));
	else if (exit_words(code))
		fprintf(stderr, "\r\nminivmm: %s\n", exit_words(code));
	return code < 0 ? EXIT_ERROR : code;
}
