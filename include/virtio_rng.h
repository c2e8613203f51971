/* virtio-rng / entropy device (virtio 1.2, 5.4): one requestq whose
 * writable buffers the device fills from the host's getrandom(2).
 *
 * Choices: at most VIRTIO_RNG_MAX_REQ bytes per request (the spec lets the
 * device use less than the whole buffer; this bounds the work per kick),
 * and a chain with any device-readable buffer is a driver bug (5.4.6.1):
 * DEVICE_NEEDS_RESET, like any chain the walker refuses.
 *
 * Wiring:
 *	struct virtio_rng *r = virtio_rng_create(mem, &irq);
 *	register virtio_rng_dev(r) on the MMIO bus with virtio_mmio_ops
 *	virtio_rng_destroy(r);		(event thread and vCPUs stopped) */
#ifndef MINIVMM_VIRTIO_RNG_H
#define MINIVMM_VIRTIO_RNG_H

#include "virtio.h"

#define VIRTIO_ID_ENTROPY	4
#define VIRTIO_RNG_QUEUE_SIZE	64	/* Linux keeps one request in flight */
#define VIRTIO_RNG_MAX_REQ	(64u << 10)

struct virtio_rng;

/* NULL when out of memory or getrandom(2) does not work on this host. */
struct virtio_rng *virtio_rng_create(const struct guest_mem *mem,
				     const struct irq_line *irq);

struct virtio_dev *virtio_rng_dev(struct virtio_rng *r);

/* NULL is ignored. */
void virtio_rng_destroy(struct virtio_rng *r);

#endif
