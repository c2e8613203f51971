/* Wiring a virtio device into a KVM VM (vmm/ only): an MMIO window and a
 * GSI per device; queue kicks through KVM_IOEVENTFD (the guest's
 * QueueNotify write never leaves the kernel; the event thread reads the
 * eventfd), interrupts through KVM_IRQFD (a write to an eventfd, no
 * ioctl, no exit). */
#ifndef MINIVMM_VIRTIO_SLOT_H
#define MINIVMM_VIRTIO_SLOT_H

#include "loop.h"
#include "virtio.h"
#include "vm.h"

/* GSIs 16..23 of the IOAPIC, then ISA lines nothing else uses (no PIC is
 * wired in hardware-reduced ACPI, so they are plain IOAPIC pins). */
#define VIRTIO_MAX_DEVICES 13

struct virtio_slot;

struct virtio_kick {
	struct virtio_slot *slot;
	unsigned queue;
	int fd;
};

struct virtio_slot {
	struct vm *vm;
	unsigned index;
	uint64_t base;
	unsigned gsi;
	int irqfd;
	struct irq_line irq;		/* hand this to the device */
	struct virtio_dev *dev;
	struct virtio_kick kick[VIRTIO_MAX_QUEUES];
	struct virtio_mmio_aml aml;	/* its DSDT entry */
};

/* The GSI of slot index (the same on every run: --virtio-mmio-cmdline
 * and the DSDT both rely on it). */
unsigned virtio_slot_gsi(unsigned index);

/* Reserves window and GSI number index, creates the irqfd. */
int virtio_slot_init(struct virtio_slot *s, struct vm *vm, unsigned index);

/* Puts dev on the MMIO bus and wires its kicks and poll fd to the loop. */
int virtio_slot_attach(struct virtio_slot *s, struct loop *loop,
		       struct virtio_dev *dev);

void virtio_slot_destroy(struct virtio_slot *s);

#endif
