/* A KVM virtual machine: its fds, guest memory, buses, vCPUs and the stop
 * request.  vmm/ only: devices never include this. */
#ifndef MINIVMM_VM_H
#define MINIVMM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <linux/kvm.h>
#include "bus.h"
#include "exit_status.h"
#include "guest_mem.h"

struct vm;

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	int started;
};

struct vm {
	int kvm_fd, vm_fd;
	int run_size;
	uint8_t *ram;			/* one mapping: low RAM then high RAM */
	uint64_t ram_size, low_size, high_size;
	struct guest_mem mem;
	struct bus pio, mmio;
	unsigned nr_cpus;
	struct vcpu *vcpus;
	struct kvm_cpuid2 *cpuid;	/* what KVM supports, patched per vCPU */
	atomic_int exit_code;		/* -1 while running; first stop wins */
	int stop_fd;			/* eventfd: wakes the event thread */
	const char *name;
};

/* Opens /dev/kvm, checks the API and capabilities, creates the VM with an
 * in-kernel irqchip and PIT, maps and registers ram_size bytes of RAM.
 * On error prints one "minivmm: ..." line and returns -1. */
int vm_create(struct vm *vm, uint64_t ram_size, unsigned nr_cpus);

/* Raises or lowers an irqchip input (an irq_line callback). */
void vm_set_irq(void *vm, unsigned gsi, int level);

/* Ends the VM with a status; safe from any thread, first call wins. */
void vm_stop(void *vm, enum minivmm_exit why);

void vm_destroy(struct vm *vm);

/* vCPUs (vmm/vcpu.c).  vcpu_create_all sets CPUID, MSRs, FPU, LAPIC for
 * each and the 64-bit entry state for the BSP. */
struct boot_entry;
int vcpus_create(struct vm *vm, const struct boot_entry *entry);
int vcpus_start(struct vm *vm);
/* Kicks every vCPU out of KVM_RUN and joins the threads. */
void vcpus_stop(struct vm *vm);

#endif
