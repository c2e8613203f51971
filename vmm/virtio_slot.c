/* virtio devices on KVM: MMIO window, ioeventfd kicks, irqfd interrupts. */
#include "virtio_slot.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "layout.h"

static void irqfd_pulse(void *ctx, unsigned gsi, int level)
{
	struct virtio_slot *s = ctx;
	uint64_t one = 1;

	(void)gsi;
	if (!level)
		return;	/* edge: only the rising pulse means anything */
	if (write(s->irqfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		fprintf(stderr, "minivmm: irqfd write: %s\n", strerror(errno));
}

static const unsigned slot_gsi[VIRTIO_MAX_DEVICES] = {
	16, 17, 18, 19, 20, 21, 22, 23, 5, 6, 7, 10, 11,
};

unsigned virtio_slot_gsi(unsigned index)
{
	return index < VIRTIO_MAX_DEVICES ? slot_gsi[index] : 0;
}

int virtio_slot_init(struct virtio_slot *s, struct vm *vm, unsigned index)
{
	struct kvm_irqfd irqfd;

	memset(s, 0, sizeof(*s));
	s->vm = vm;
	s->index = index;
	s->base = VIRTIO_MMIO_BASE + index * VIRTIO_MMIO_STRIDE;
	s->gsi = virtio_slot_gsi(index);
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		s->kick[q].fd = -1;
	if (index >= VIRTIO_MAX_DEVICES) {
		fprintf(stderr, "minivmm: too many virtio devices (at most %d)\n",
			VIRTIO_MAX_DEVICES);
		return -1;
	}
	s->irqfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->irqfd < 0)
		goto fail;
	memset(&irqfd, 0, sizeof(irqfd));
	irqfd.fd = (uint32_t)s->irqfd;
	irqfd.gsi = s->gsi;
	if (ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0)
		goto fail;
	s->irq.set_level = irqfd_pulse;
	s->irq.ctx = s;
	s->irq.gsi = s->gsi;
	s->aml.index = index;
	s->aml.base = (uint32_t)s->base;
	s->aml.gsi = s->gsi;
	return 0;
fail:
	fprintf(stderr, "minivmm: virtio device %u: irqfd: %s\n", index,
		strerror(errno));
	if (s->irqfd >= 0)
		close(s->irqfd);
	s->irqfd = -1;
	return -1;
}

static void on_kick(void *opaque, uint32_t events)
{
	struct virtio_kick *k = opaque;
	uint64_t v;

	(void)events;
	if (read(k->fd, &v, sizeof(v)) != sizeof(v))
		return;
	virtio_queue_notify(k->slot->dev, k->queue);
}

static void on_poll(void *opaque, uint32_t events)
{
	struct virtio_dev *d = opaque;

	(void)events;
	pthread_mutex_lock(&d->lock);
	d->ops->poll_ready(d);
	pthread_mutex_unlock(&d->lock);
}

int virtio_slot_attach(struct virtio_slot *s, struct loop *loop,
		       struct virtio_dev *dev)
{
	s->dev = dev;
	if (bus_register(&s->vm->mmio, s->base, VIRTIO_MMIO_SIZE,
			 &virtio_mmio_ops, dev, dev->ops->name)) {
		fprintf(stderr, "minivmm: %s: MMIO window taken\n", dev->ops->name);
		return -1;
	}
	for (unsigned q = 0; q < dev->ops->nr_queues && q < VIRTIO_MAX_QUEUES; q++) {
		struct virtio_kick *k = &s->kick[q];
		struct kvm_ioeventfd io;

		k->slot = s;
		k->queue = q;
		k->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (k->fd < 0)
			goto fail;
		/* The kernel matches writes of this queue's index to
		 * QueueNotify and signals the eventfd instead of exiting. */
		memset(&io, 0, sizeof(io));
		io.addr = s->base + VIRTIO_MMIO_QUEUE_NOTIFY;
		io.len = 4;
		io.datamatch = q;
		io.fd = k->fd;
		io.flags = KVM_IOEVENTFD_FLAG_DATAMATCH;
		if (ioctl(s->vm->vm_fd, KVM_IOEVENTFD, &io) < 0)
			goto fail;
		if (loop_add(loop, k->fd, EPOLLIN, on_kick, k) < 0)
			goto fail;
	}
	if (dev->ops->poll_fd && dev->ops->poll_ready) {
		int fd = dev->ops->poll_fd(dev);

		if (fd >= 0 && loop_add(loop, fd, EPOLLIN, on_poll, dev) < 0)
			goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "minivmm: %s: queue notification set-up: %s\n",
		dev->ops->name, strerror(errno));
	return -1;
}

void virtio_slot_destroy(struct virtio_slot *s)
{
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		if (s->kick[q].fd >= 0) {
			close(s->kick[q].fd);
			s->kick[q].fd = -1;
		}
	if (s->irqfd >= 0)
		close(s->irqfd);
	s->irqfd = -1;
}
