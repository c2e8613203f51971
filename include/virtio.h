/* A virtio device as minivmm sees it: a table of callbacks (rule 4 of the
 * design) plus the state the transport keeps for it.  The transport
 * (devices/virtio/mmio.c) owns feature negotiation, the status state
 * machine, queue set-up and interrupt status; devices own their config
 * space and their queues' requests.  Devices never know KVM: queue kicks
 * arrive as virtio_queue_notify() calls (from an ioeventfd under KVM, from
 * the MMIO write in tests), interrupts leave through irq_line (a pulse:
 * irq_set(line, 1); an irqfd under KVM). */
#ifndef MINIVMM_VIRTIO_H
#define MINIVMM_VIRTIO_H

#include <pthread.h>
#include <stdint.h>
#include "guest_mem.h"
#include "bus.h"
#include "irq.h"
#include "virtqueue.h"

#define VIRTIO_MAX_QUEUES 8

/* Feature bits the transport handles itself. */
#define VIRTIO_F_RING_INDIRECT_DESC	28
#define VIRTIO_F_RING_EVENT_IDX		29
#define VIRTIO_F_VERSION_1		32
#define VIRTIO_F_ACCESS_PLATFORM	33

/* Device status bits. */
#define VIRTIO_STATUS_ACKNOWLEDGE	1
#define VIRTIO_STATUS_DRIVER		2
#define VIRTIO_STATUS_DRIVER_OK		4
#define VIRTIO_STATUS_FEATURES_OK	8
#define VIRTIO_STATUS_NEEDS_RESET	64
#define VIRTIO_STATUS_FAILED		128

/* Interrupt status bits. */
#define VIRTIO_ISR_USED		1
#define VIRTIO_ISR_CONFIG	2

struct virtio_dev;

struct virtio_dev_ops {
	const char *name;		/* "virtio-blk", for messages */
	uint32_t device_id;		/* 2 blk, 3 console, 4 rng, ... */
	unsigned nr_queues;
	uint16_t queue_max;		/* <= VIRTQ_MAX_SIZE */
	/* Device-specific features; the transport adds VERSION_1,
	 * RING_EVENT_IDX and RING_INDIRECT_DESC. */
	uint64_t (*features)(struct virtio_dev *d);
	uint32_t config_size;
	/* Config space accesses, off + len <= config_size (checked). */
	void (*config_read)(struct virtio_dev *d, uint32_t off, void *data,
			    unsigned len);
	void (*config_write)(struct virtio_dev *d, uint32_t off,
			     const void *data, unsigned len);
	/* DRIVER_OK was set: queues are ready, features final.  Returning
	 * -1 marks the device NEEDS_RESET. */
	int (*activate)(struct virtio_dev *d);
	/* The driver kicked queue q.  Called on the event thread with
	 * d->lock held. */
	void (*queue_notify)(struct virtio_dev *d, unsigned q);
	/* The driver reset the device: drop in-flight state. */
	void (*reset)(struct virtio_dev *d);
	/* Optional: an fd the event thread watches for the device (io_uring
	 * completion eventfd, ...); poll_ready runs there, with d->lock held,
	 * when it is readable.  poll_fd returns -1 for none. */
	int (*poll_fd)(struct virtio_dev *d);
	void (*poll_ready)(struct virtio_dev *d);
};

struct virtio_dev {
	const struct virtio_dev_ops *ops;
	void *priv;			/* the device's own state */
	const struct guest_mem *mem;
	struct irq_line irq;
	pthread_mutex_t lock;		/* transport registers vs. requests */

	/* Transport state (mmio.c). */
	uint32_t status;
	uint64_t driver_features;	/* what the driver accepted */
	uint32_t dev_features_sel, drv_features_sel;
	uint32_t queue_sel;
	uint32_t isr;
	uint32_t config_generation;
	struct virtq vq[VIRTIO_MAX_QUEUES];
	int needs_reset_logged;
	unsigned warned;		/* guest mistakes already logged */
};

void virtio_dev_init(struct virtio_dev *d, const struct virtio_dev_ops *ops,
		     void *priv, const struct guest_mem *mem,
		     const struct irq_line *irq);

/* A kick for queue q (ioeventfd or MMIO write); takes d->lock.  Ignored
 * unless q is ready, DRIVER_OK is set and the device is not stopped
 * (NEEDS_RESET or FAILED). */
void virtio_queue_notify(struct virtio_dev *d, unsigned q);

/* The event thread saw ops->poll_fd readable: takes d->lock and runs
 * ops->poll_ready (also while stopped, so in-flight work can drain). */
void virtio_poll_ready(struct virtio_dev *d);

/* After virtq_push()es on q: interrupt the driver if it wants one.
 * Call with d->lock held. */
void virtio_notify_used(struct virtio_dev *d, unsigned q);

/* The device's config changed (e.g. display size): bump the generation
 * and send a config interrupt (only once DRIVER_OK is set).  Call with
 * d->lock held. */
void virtio_config_changed(struct virtio_dev *d);

/* The guest sent garbage: set DEVICE_NEEDS_RESET, interrupt (config
 * change, once DRIVER_OK is set), log once per reset.  The device stops
 * processing until the driver resets it.  Call with d->lock held (every
 * ops callback already runs with it). */
void virtio_set_needs_reset(struct virtio_dev *d, const char *why);

/* Did the driver accept feature bit?  Final once FEATURES_OK is set
 * (only a subset of the offered features gets that far). */
int virtio_has_feature(const struct virtio_dev *d, unsigned bit);

/* The virtio-mmio (version 2) register block, 0x200 bytes: register it on
 * the MMIO bus with the virtio_dev as dev. */
#define VIRTIO_MMIO_SIZE	0x200
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
/* The other registers (virtio 1.2, 4.2.2), for the transport and tests. */
#define VIRTIO_MMIO_MAGIC_VALUE		0x000
#define VIRTIO_MMIO_VERSION		0x004
#define VIRTIO_MMIO_DEVICE_ID		0x008
#define VIRTIO_MMIO_VENDOR_ID		0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES	0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL	0x014
#define VIRTIO_MMIO_DRIVER_FEATURES	0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL	0x024
#define VIRTIO_MMIO_QUEUE_SEL		0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX	0x034
#define VIRTIO_MMIO_QUEUE_NUM		0x038
#define VIRTIO_MMIO_QUEUE_READY		0x044
#define VIRTIO_MMIO_INTERRUPT_STATUS	0x060
#define VIRTIO_MMIO_INTERRUPT_ACK	0x064
#define VIRTIO_MMIO_STATUS		0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW	0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH	0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW	0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH	0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW	0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH	0x0a4
#define VIRTIO_MMIO_SHM_SEL		0x0ac
#define VIRTIO_MMIO_SHM_LEN_LOW		0x0b0
#define VIRTIO_MMIO_SHM_LEN_HIGH	0x0b4
#define VIRTIO_MMIO_SHM_BASE_LOW	0x0b8
#define VIRTIO_MMIO_SHM_BASE_HIGH	0x0bc
#define VIRTIO_MMIO_CONFIG_GENERATION	0x0fc
#define VIRTIO_MMIO_CONFIG		0x100
#define VIRTIO_MMIO_MAGIC		0x74726976	/* "virt" */
#define VIRTIO_MMIO_VENDOR		0x4d564d4d	/* "MMVM" in memory */
extern const struct bus_ops virtio_mmio_ops;

/* DSDT entry: Device(VRnn) { _HID "LNRO0005", _UID n, _CRS { Memory32Fixed
 * (base, 0x200), Interrupt(edge, high) { gsi } } }. */
struct aml;
struct virtio_mmio_aml {
	unsigned index;
	uint32_t base;
	uint32_t gsi;
};
void virtio_mmio_write_aml(void *virtio_mmio_aml, struct aml *a);

#endif
