/* The one split-virtqueue implementation (virtio 1.2, 2.7).  Every guest
 * address goes through guest_mem; every index is checked against the queue
 * size; a descriptor chain is walked with a hop limit, so loops, chains
 * longer than the queue, out-of-range or overflowing buffers, bad indirect
 * tables and writable-before-readable order are errors, never crashes. */
#ifndef MINIVMM_VIRTQUEUE_H
#define MINIVMM_VIRTQUEUE_H

#include <stddef.h>
#include <stdint.h>
#include "guest_mem.h"

#define VIRTQ_MAX_SIZE 256	/* largest queue minivmm offers */

/* Ring flags (virtio 1.2, 2.7.5 and 2.7.6). */
#define VIRTQ_DESC_F_NEXT		1
#define VIRTQ_DESC_F_WRITE		2
#define VIRTQ_DESC_F_INDIRECT		4
#define VIRTQ_AVAIL_F_NO_INTERRUPT	1

struct virtq {
	/* Set by the driver through the transport. */
	uint16_t size;		/* power of two, 1..VIRTQ_MAX_SIZE */
	int ready;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/* Negotiated features that change ring behaviour. */
	int event_idx;		/* VIRTIO_RING_F_EVENT_IDX */
	int indirect;		/* VIRTIO_RING_F_INDIRECT_DESC */
	/* Device-side state. */
	uint16_t last_avail;	/* next avail ring slot to consume */
	uint16_t used_idx;	/* our copy of used->idx */
	uint16_t signalled_used;	/* used_idx at the last interrupt */
	int signalled_valid;
	const struct guest_mem *mem;
};

struct virtq_buf {
	uint64_t gpa;
	uint32_t len;
};

/* One request: device-readable buffers first (out), then device-writable
 * ones (in), as the spec requires. */
struct virtq_chain {
	uint16_t head;
	unsigned nr_out, nr_in;
	struct virtq_buf buf[VIRTQ_MAX_SIZE];	/* out then in */
	uint64_t out_len, in_len;		/* byte totals */
};

enum virtq_err {
	VIRTQ_OK = 0,
	VIRTQ_EMPTY = 1,	/* nothing available (not an error) */
	VIRTQ_E_RING = -1,	/* ring addresses outside guest memory */
	VIRTQ_E_INDEX = -2,	/* avail idx jumped by more than size, bad head
				 * or next index */
	VIRTQ_E_LOOP = -3,	/* chain longer than its table: a loop; or
				 * more than VIRTQ_MAX_SIZE buffers */
	VIRTQ_E_ADDR = -4,	/* buffer or indirect table outside guest
				 * memory or overflowing */
	VIRTQ_E_ORDER = -5,	/* readable buffer after a writable one */
	VIRTQ_E_INDIRECT = -6,	/* bad indirect table (size, nesting, flags) */
	VIRTQ_E_NOTREADY = -7,
};

/* Checks ring placement (called when the driver sets QUEUE_READY). */
int virtq_check_rings(const struct virtq *q);

/* Takes the next available chain.  Returns VIRTQ_OK, VIRTQ_EMPTY or an
 * error; on error the device marks itself DEVICE_NEEDS_RESET.
 * A malformed chain still consumes its avail entry (c->head is set; when it
 * is < size it may be pushed back with 0 bytes), so the queue stays in
 * step; only VIRTQ_E_INDEX for an avail idx jump consumes nothing.
 * Zero-length buffers are dropped: they carry nothing.  With EVENT_IDX,
 * finding the ring empty publishes avail_event and looks once more, so a
 * device is only promised a kick after virtq_pop returned VIRTQ_EMPTY. */
int virtq_pop(struct virtq *q, struct virtq_chain *c);

/* Returns a chain to the driver with the bytes written into it. */
int virtq_push(struct virtq *q, uint16_t head, uint32_t written);

/* After pushes: does the driver want an interrupt now?  Honours
 * VRING_AVAIL_F_NO_INTERRUPT or, with EVENT_IDX, used_event. */
int virtq_should_notify(struct virtq *q);

/* With EVENT_IDX, tells the driver which avail index to kick us at. */
void virtq_set_avail_event(struct virtq *q);

/* Gathers/scatters bytes across a chain's readable (out) or writable (in)
 * buffers, starting at byte offset off; returns bytes copied (short when
 * the chain is shorter) or -1 when guest memory refuses. */
long virtq_chain_read(const struct virtq *q, const struct virtq_chain *c,
		      uint64_t off, void *dst, size_t len);
long virtq_chain_write(const struct virtq *q, const struct virtq_chain *c,
		       uint64_t off, const void *src, size_t len);

void virtq_reset(struct virtq *q);

#endif
