/* vCPU threads: per-vCPU set-up (CPUID, MSRs, FPU, LAPIC, and the 64-bit
 * entry state of the boot CPU) and the KVM_RUN loop that dispatches port
 * I/O and MMIO exits to the buses. */
#include "vm.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "boot.h"
#include "cpuid.h"
#include "sandbox.h"

#define SIG_VCPU_KICK SIGUSR1

/* MSR numbers (arch/x86/include/asm/msr-index.h). */
#define MSR_IA32_SYSENTER_CS	0x174
#define MSR_IA32_SYSENTER_ESP	0x175
#define MSR_IA32_SYSENTER_EIP	0x176
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SYSCALL_MASK	0xc0000084
#define MSR_KERNEL_GS_BASE	0xc0000102
#define MSR_IA32_MISC_ENABLE	0x1a0
#define MSR_MTRR_DEF_TYPE	0x2ff

#define CR0_PE (1u << 0)
#define CR0_ET (1u << 4)
#define CR0_PG (1u << 31)
#define CR4_PAE (1u << 5)
#define EFER_LME (1u << 8)
#define EFER_LMA (1u << 10)

static int set_cpuid(struct vcpu *v)
{
	struct vm *vm = v->vm;
	size_t sz = sizeof(*vm->cpuid) +
		    vm->cpuid->nent * sizeof(vm->cpuid->entries[0]);
	struct kvm_cpuid2 *c = malloc(sz);
	int r;

	if (!c)
		return -1;
	memcpy(c, vm->cpuid, sz);
	cpuid_patch_for_vcpu(c, v->id, vm->nr_cpus);
	r = ioctl(v->fd, KVM_SET_CPUID2, c);
	free(c);
	if (r < 0)
		fprintf(stderr, "minivmm: vCPU %u: KVM_SET_CPUID2: %s\n", v->id,
			strerror(errno));
	return r < 0 ? -1 : 0;
}

static int set_msrs(struct vcpu *v)
{
	static const struct { uint32_t index; uint64_t data; } init[] = {
		{ MSR_IA32_SYSENTER_CS, 0 }, { MSR_IA32_SYSENTER_ESP, 0 },
		{ MSR_IA32_SYSENTER_EIP, 0 }, { MSR_STAR, 0 }, { MSR_LSTAR, 0 },
		{ MSR_CSTAR, 0 }, { MSR_SYSCALL_MASK, 0 },
		{ MSR_KERNEL_GS_BASE, 0 },
		/* fast strings, as firmware leaves it */
		{ MSR_IA32_MISC_ENABLE, 1 },
		/* MTRRs on, default write-back: with MTRRs off Linux also
		 * turns PAT off and maps everything uncached-minus. */
		{ MSR_MTRR_DEF_TYPE, (1u << 11) | 6 },
	};
	const unsigned n = sizeof(init) / sizeof(init[0]);
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[sizeof(init) / sizeof(init[0])];
	} m;
	int r;

	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = n;
	for (unsigned i = 0; i < n; i++) {
		m.e[i].index = init[i].index;
		m.e[i].data = init[i].data;
	}
	r = ioctl(v->fd, KVM_SET_MSRS, &m);
	if (r != (int)n) {
		fprintf(stderr, "minivmm: vCPU %u: KVM_SET_MSRS set %d of %u "
			"(MSR %#x refused)\n", v->id, r, n,
			r >= 0 && r < (int)n ? init[r].index : 0);
		return -1;
	}
	return 0;
}

static int set_fpu(struct vcpu *v)
{
	struct kvm_fpu fpu;

	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;	/* FNINIT state */
	fpu.mxcsr = 0x1f80;	/* all SSE exceptions masked */
	if (ioctl(v->fd, KVM_SET_FPU, &fpu) < 0) {
		fprintf(stderr, "minivmm: vCPU %u: KVM_SET_FPU: %s\n", v->id,
			strerror(errno));
		return -1;
	}
	return 0;
}

static int set_lapic(struct vcpu *v)
{
	/* LINT0 receives the 8259's ExtINT, LINT1 NMIs: what firmware sets
	 * up for the virtual wire mode Linux starts in. */
	struct kvm_lapic_state la;
	uint32_t *lvt0 = (uint32_t *)(void *)&la.regs[0x350];
	uint32_t *lvt1 = (uint32_t *)(void *)&la.regs[0x360];

	if (ioctl(v->fd, KVM_GET_LAPIC, &la) < 0)
		goto fail;
	*lvt0 = (*lvt0 & ~0x700u) | (7u << 8);
	*lvt1 = (*lvt1 & ~0x700u) | (4u << 8);
	if (ioctl(v->fd, KVM_SET_LAPIC, &la) < 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "minivmm: vCPU %u: LAPIC set-up: %s\n", v->id,
		strerror(errno));
	return -1;
}

static void seg64(struct kvm_segment *s, uint16_t sel, int code)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	if (code) {
		s->type = 0xb;	/* execute/read, accessed */
		s->l = 1;
	} else {
		s->type = 0x3;	/* read/write, accessed */
		s->db = 1;
	}
}

/* The boot CPU starts in 64-bit mode at the kernel's startup_64. */
static int set_boot_state(struct vcpu *v, const struct boot_entry *be)
{
	struct kvm_sregs sr;
	struct kvm_regs regs;

	if (ioctl(v->fd, KVM_GET_SREGS, &sr) < 0)
		goto fail;
	seg64(&sr.cs, BOOT_GDT_CODE, 1);
	seg64(&sr.ds, BOOT_GDT_DATA, 0);
	sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
	sr.gdt.base = be->gdt_base;
	sr.gdt.limit = be->gdt_limit;
	sr.idt.base = 0;
	sr.idt.limit = 0;
	sr.cr0 = CR0_PE | CR0_ET | CR0_PG;
	sr.cr3 = be->cr3;
	sr.cr4 = CR4_PAE;
	sr.efer = EFER_LME | EFER_LMA;
	if (ioctl(v->fd, KVM_SET_SREGS, &sr) < 0)
		goto fail;

	memset(&regs, 0, sizeof(regs));
	regs.rflags = 2;	/* bit 1 is reserved, always set */
	regs.rip = be->rip;
	regs.rsi = be->rsi;
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "minivmm: vCPU %u: register set-up: %s\n", v->id,
		strerror(errno));
	return -1;
}

int vcpus_create(struct vm *vm, const struct boot_entry *entry)
{
	vm->vcpus = calloc(vm->nr_cpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -1;
	for (unsigned i = 0; i < vm->nr_cpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		v->vm = vm;
		v->id = i;
		v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)i);
		if (v->fd < 0) {
			fprintf(stderr, "minivmm: KVM_CREATE_VCPU %u: %s\n", i,
				strerror(errno));
			return -1;
		}
		v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE,
			      MAP_SHARED, v->fd, 0);
		if (v->run == MAP_FAILED) {
			v->run = NULL;
			fprintf(stderr, "minivmm: vCPU %u: mmap kvm_run: %s\n",
				i, strerror(errno));
			return -1;
		}
		if (set_cpuid(v) || set_msrs(v) || set_fpu(v) || set_lapic(v))
			return -1;
		/* Application processors wait for INIT/SIPI from the BSP in
		 * the in-kernel LAPIC; only the BSP gets an entry state. */
		if (i == 0 && set_boot_state(v, entry))
			return -1;
	}
	return 0;
}

static void handle_io(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	uint8_t *data = (uint8_t *)r + r->io.data_offset;
	int is_write = r->io.direction == KVM_EXIT_IO_OUT;

	/* String I/O (rep outsb) arrives as count > 1 back-to-back items. */
	for (uint32_t i = 0; i < r->io.count; i++, data += r->io.size)
		bus_access(&v->vm->pio, r->io.port, data, r->io.size, is_write);
}

static void handle_mmio(struct vcpu *v)
{
	struct kvm_run *r = v->run;

	if (r->mmio.len > 8)
		return;
	bus_access(&v->vm->mmio, r->mmio.phys_addr, r->mmio.data, r->mmio.len,
		   r->mmio.is_write);
}

/* Returns 0 to keep running, 1 when the VM is to stop. */
static int handle_exit(struct vcpu *v)
{
	struct kvm_run *r = v->run;

	switch (r->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(v);
		return 0;
	case KVM_EXIT_MMIO:
		handle_mmio(v);
		return 0;
	case KVM_EXIT_INTR:
		return 0;
	case KVM_EXIT_HLT:
		/* Only without an in-kernel LAPIC; treat as a stopped CPU. */
		return 0;
	case KVM_EXIT_SHUTDOWN:
		fprintf(stderr, "minivmm: vCPU %u: triple fault, guest crashed\n",
			v->id);
		vm_stop(v->vm, EXIT_CRASH);
		return 1;
	case KVM_EXIT_SYSTEM_EVENT:
		switch (r->system_event.type) {
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			vm_stop(v->vm, EXIT_POWEROFF);
			break;
		case KVM_SYSTEM_EVENT_RESET:
			vm_stop(v->vm, EXIT_REBOOT);
			break;
		default:
			vm_stop(v->vm, EXIT_CRASH);
			break;
		}
		return 1;
	case KVM_EXIT_FAIL_ENTRY:
		fprintf(stderr, "minivmm: vCPU %u: KVM could not enter the "
			"guest (hardware reason %#llx)\n", v->id,
			(unsigned long long)r->fail_entry.hardware_entry_failure_reason);
		vm_stop(v->vm, EXIT_CRASH);
		return 1;
	case KVM_EXIT_INTERNAL_ERROR:
		fprintf(stderr, "minivmm: vCPU %u: KVM internal error "
			"(suberror %u)\n", v->id, r->internal.suberror);
		vm_stop(v->vm, EXIT_CRASH);
		return 1;
	default:
		fprintf(stderr, "minivmm: vCPU %u: unexpected KVM exit %u\n",
			v->id, r->exit_reason);
		vm_stop(v->vm, EXIT_CRASH);
		return 1;
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct sandbox_fds fds = { v->vm->vm_fd, v->fd };
	char err[256];
	sigset_t kick;

	/* The kick signal is blocked everywhere else; here it interrupts
	 * KVM_RUN (immediate_exit closes the race before entry). */
	sigemptyset(&kick);
	sigaddset(&kick, SIG_VCPU_KICK);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	if (sandbox_enter(SANDBOX_VCPU, &fds, err, sizeof(err))) {
		fprintf(stderr, "minivmm: vCPU %u: %s\n", v->id, err);
		vm_stop(v->vm, EXIT_ERROR);
		return NULL;
	}

	while (atomic_load(&v->vm->exit_code) < 0) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fprintf(stderr, "minivmm: vCPU %u: KVM_RUN: %s\n", v->id,
				strerror(errno));
			vm_stop(v->vm, EXIT_ERROR);
			break;
		}
		if (handle_exit(v))
			break;
	}
	return NULL;
}

static void kick_handler(int sig)
{
	(void)sig;	/* only here to make KVM_RUN return EINTR */
}

int vcpus_start(struct vm *vm)
{
	struct sigaction sa;
	pthread_attr_t attr;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIG_VCPU_KICK, &sa, NULL);

	/* Small stacks: a vCPU thread only dispatches exits. */
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 << 10);
	for (unsigned i = 0; i < vm->nr_cpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		int e = pthread_create(&v->thread, &attr, vcpu_thread, v);

		if (e) {
			fprintf(stderr, "minivmm: cannot start vCPU thread: %s\n",
				strerror(e));
			pthread_attr_destroy(&attr);
			vm_stop(vm, EXIT_ERROR);
			return -1;
		}
		v->started = 1;
	}
	pthread_attr_destroy(&attr);
	return 0;
}

void vcpus_stop(struct vm *vm)
{
	if (!vm->vcpus)
		return;
	for (unsigned i = 0; i < vm->nr_cpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (!v->started)
			continue;
		v->run->immediate_exit = 1;
		pthread_kill(v->thread, SIG_VCPU_KICK);
	}
	for (unsigned i = 0; i < vm->nr_cpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->started)
			pthread_join(v->thread, NULL);
		v->started = 0;
		if (v->run)
			munmap(v->run, vm->run_size);
		if (v->fd >= 0 && v->run)
			close(v->fd);
		v->run = NULL;
	}
}
