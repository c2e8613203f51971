/* Creating the KVM VM: API and capability checks, in-kernel irqchip and
 * PIT, guest RAM.  Each failure is reported once, in words a user can act
 * on, and leaves nothing behind. */
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "boot.h"
#include "layout.h"

static int cpu_has_virt_extensions(void)
{
	/* A /dev/kvm on a CPU without vmx/svm (e.g. kvm_pvm) cannot run a
	 * stock kernel: it hangs early.  Refuse instead of hanging. */
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[4096];
	int found = 0;

	if (!f)
		return 1;	/* cannot tell: let KVM decide */
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		found = strstr(line, " vmx") || strstr(line, " svm");
		break;
	}
	fclose(f);
	return found;
}

static const struct {
	int cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_IRQCHIP, "in-kernel irqchip" },
	{ KVM_CAP_PIT2, "in-kernel PIT" },
	{ KVM_CAP_USER_MEMORY, "user memory regions" },
	{ KVM_CAP_SET_TSS_ADDR, "TSS address" },
	{ KVM_CAP_SET_IDENTITY_MAP_ADDR, "identity map address" },
	{ KVM_CAP_EXT_CPUID, "CPUID setting" },
	{ KVM_CAP_IMMEDIATE_EXIT, "immediate exit" },
	{ KVM_CAP_IRQ_ROUTING, "IRQ routing" },
	{ KVM_CAP_IOEVENTFD, "ioeventfd" },
	{ KVM_CAP_IRQFD, "irqfd" },
};

static int open_kvm(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			fprintf(stderr, "minivmm: /dev/kvm does not exist: load "
				"the kvm_intel or kvm_amd module, or enable "
				"virtualization in the firmware\n");
		else if (e == EACCES || e == EPERM)
			fprintf(stderr, "minivmm: no permission to open "
				"/dev/kvm: add your user to the 'kvm' group\n");
		else
			fprintf(stderr, "minivmm: cannot open /dev/kvm: %s\n",
				strerror(e));
		return -1;
	}
	if (!cpu_has_virt_extensions()) {
		fprintf(stderr, "minivmm: /dev/kvm exists but the CPU has no "
			"vmx or svm flag: this KVM cannot run a stock kernel "
			"(use tools/nested-run.sh)\n");
		close(fd);
		return -1;
	}
	return fd;
}

static int check_kvm(int kvm_fd, unsigned nr_cpus)
{
	int v = ioctl(kvm_fd, KVM_GET_API_VERSION, 0);
	int max;

	if (v != KVM_API_VERSION) {
		fprintf(stderr, "minivmm: KVM API version %d, need %d\n", v,
			KVM_API_VERSION);
		return -1;
	}
	for (size_t i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++) {
		if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
			fprintf(stderr, "minivmm: this KVM lacks %s (capability "
				"%d)\n", required_caps[i].name,
				required_caps[i].cap);
			return -1;
		}
	}
	max = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max <= 0)
		max = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (max <= 0)
		max = 4;	/* the documented minimum when unreported */
	if (nr_cpus > (unsigned)max) {
		fprintf(stderr, "minivmm: --cpus %u is more than this KVM "
			"supports (%d)\n", nr_cpus, max);
		return -1;
	}
	return 0;
}

static struct kvm_cpuid2 *get_supported_cpuid(int kvm_fd)
{
	for (unsigned n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) +
					      n * sizeof(c->entries[0]));
		if (!c)
			return NULL;
		c->nent = n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		free(c);
		if (errno != E2BIG)
			break;
	}
	fprintf(stderr, "minivmm: KVM_GET_SUPPORTED_CPUID: %s\n",
		strerror(errno));
	return NULL;
}

static int set_region(struct vm *vm, unsigned slot, uint64_t gpa,
		      uint64_t size, void *host)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)host,
	};

	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
		fprintf(stderr, "minivmm: KVM_SET_USER_MEMORY_REGION: %s\n",
			strerror(errno));
		return -1;
	}
	if (guest_mem_add(&vm->mem, gpa, size, host)) {
		fprintf(stderr, "minivmm: internal error: bad RAM layout\n");
		return -1;
	}
	return 0;
}

static int map_ram(struct vm *vm, uint64_t ram_size)
{
	struct ram_layout rl;

	ram_layout_for(ram_size, &rl);
	/* NORESERVE: the guest touches what it uses; untouched RAM costs the
	 * host nothing.  Aligned to 2 MiB and backed by transparent huge
	 * pages where the host allows: KVM then maps guest RAM in 2 MiB
	 * steps, so booting takes hundreds of nested-page faults (VM exits)
	 * instead of tens of thousands. */
	const uint64_t huge = 2ULL << 20;
	uint8_t *raw = mmap(NULL, ram_size + huge, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED) {
		fprintf(stderr, "minivmm: cannot map %lluM of guest RAM: %s\n",
			(unsigned long long)(ram_size >> 20), strerror(errno));
		return -1;
	}
	vm->ram = (uint8_t *)(((uintptr_t)raw + huge - 1) & ~(uintptr_t)(huge - 1));
	/* Give back the unaligned head and tail. */
	if (vm->ram > raw)
		munmap(raw, (size_t)(vm->ram - raw));
	if (raw + ram_size + huge > vm->ram + ram_size)
		munmap(vm->ram + ram_size,
		       (size_t)(raw + ram_size + huge - (vm->ram + ram_size)));
	madvise(vm->ram, ram_size, MADV_HUGEPAGE);
	madvise(vm->ram, ram_size, MADV_DONTFORK);
	vm->ram_size = ram_size;
	vm->low_size = rl.low_size;
	vm->high_size = rl.high_size;
	if (set_region(vm, 0, 0, rl.low_size, vm->ram))
		return -1;
	if (rl.high_size &&
	    set_region(vm, 1, MMIO_HOLE_END, rl.high_size, vm->ram + rl.low_size))
		return -1;
	return 0;
}

static int create_irqchip(struct vm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

	/* Both addresses sit in the 32-bit hole, below the IOAPIC/LAPIC
	 * windows; Intel VMX needs them for real-mode emulation. */
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0) {
		fprintf(stderr, "minivmm: KVM_SET_TSS_ADDR: %s\n", strerror(errno));
		return -1;
	}
	uint64_t idmap = KVM_IDENTITY_MAP_ADDR;
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0) {
		fprintf(stderr, "minivmm: KVM_SET_IDENTITY_MAP_ADDR: %s\n",
			strerror(errno));
		return -1;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		fprintf(stderr, "minivmm: KVM_CREATE_IRQCHIP: %s\n", strerror(errno));
		return -1;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		fprintf(stderr, "minivmm: KVM_CREATE_PIT2: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

int vm_create(struct vm *vm, uint64_t ram_size, unsigned nr_cpus)
{
	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = vm->stop_fd = -1;
	atomic_init(&vm->exit_code, -1);
	vm->nr_cpus = nr_cpus;

	vm->kvm_fd = open_kvm();
	if (vm->kvm_fd < 0 || check_kvm(vm->kvm_fd, nr_cpus))
		goto fail;
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size <= 0) {
		fprintf(stderr, "minivmm: KVM_GET_VCPU_MMAP_SIZE: %s\n",
			strerror(errno));
		goto fail;
	}
	vm->cpuid = get_supported_cpuid(vm->kvm_fd);
	if (!vm->cpuid)
		goto fail;
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		fprintf(stderr, "minivmm: KVM_CREATE_VM: %s\n", strerror(errno));
		goto fail;
	}
	if (create_irqchip(vm) || map_ram(vm, ram_size))
		goto fail;
	vm->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_fd < 0) {
		fprintf(stderr, "minivmm: eventfd: %s\n", strerror(errno));
		goto fail;
	}
	return 0;
fail:
	vm_destroy(vm);
	return -1;
}

void vm_set_irq(void *opaque, unsigned gsi, int level)
{
	struct vm *vm = opaque;
	struct kvm_irq_level irq = { .irq = gsi, .level = level };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		fprintf(stderr, "minivmm: KVM_IRQ_LINE %u: %s\n", gsi,
			strerror(errno));
}

void vm_stop(void *opaque, enum minivmm_exit why)
{
	struct vm *vm = opaque;
	int expected = -1;
	uint64_t one = 1;

	if (atomic_compare_exchange_strong(&vm->exit_code, &expected, (int)why))
		if (write(vm->stop_fd, &one, sizeof(one)) < 0) {
			/* The counter cannot overflow with one write; nothing
			 * useful to do if it fails. */
		}
}

void vm_destroy(struct vm *vm)
{
	free(vm->vcpus);
	vm->vcpus = NULL;
	free(vm->cpuid);
	vm->cpuid = NULL;
	if (vm->ram)
		munmap(vm->ram, vm->ram_size);
	vm->ram = NULL;
	if (vm->stop_fd >= 0)
		close(vm->stop_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->stop_fd = vm->vm_fd = vm->kvm_fd = -1;
	bus_free(&vm->pio);
	bus_free(&vm->mmio);
}
