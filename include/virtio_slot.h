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

#define VIRTIO_MAX_DEVICES 8	/* GSIs 16..23 of the IOAPIC */

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

/* Reserves window and GSI number index, creates the irqfd. */
int virtio_slot_init(struct virtio_slot *s, struct vm *vm, unsigned index);

/* Puts dev on the MMIO bus and wires its kicks and poll fd to the loop. */
int virtio_slot_attach(struct virtio_slot *s, struct loop *loop,
		       struct virtio_dev *dev);

void virtio_slot_destroy(struct virtio_slot *s);

#endif
