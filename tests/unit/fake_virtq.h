/* fake_virtq.h: the guest driver's side of virtio, for unit tests of the
 * virtqueue, the virtio-mmio transport and every virtio device.  No KVM:
 * guest memory is a calloc'd block registered in a guest_mem, and these
 * helpers write descriptors and the avail ring and read the used ring the
 * way a driver would (little-endian, avail idx published last).
 *
 * Memory (struct fvq_mem)
 *   fvq_mem_init(&m, gpa, size)   a zeroed region at gpa; m.gm is the
 *                                 guest_mem to hand to the code under test
 *   fvq_alloc(&m, len, align)     bump-allocates guest memory, returns gpa
 *   fvq_put(&m, data, len)        allocates and fills (a request buffer)
 *   fvq_ptr(&m, gpa, len)         host pointer, to check what was written
 *   fvq_mem_free(&m)
 * Rings (struct fvq, one per queue)
 *   fvq_init(&v, &m, size, q)     lays desc/avail/used out in m; when q is
 *                                 not NULL also fills it as the transport
 *                                 would (size, addresses, mem) and makes it
 *                                 ready (set q->event_idx/indirect yourself)
 *   fvq_add(&v, bufs, n)          one chain of n {gpa, len, write} buffers,
 *   FVQ_ADD(&v, {..}, {..})       published; returns its head
 *   fvq_add_indirect(&v, bufs, n) the same through one indirect table
 *   fvq_get_used(&v, &u)          1 and the next used {id, len}, or 0
 *   fvq_set_desc, fvq_write_desc, fvq_publish, fvq_set_avail_idx:
 *                                 raw pieces for malformed chains
 *   fvq_set_avail_flags, fvq_set_used_event, fvq_avail_event, fvq_used_idx
 * Transport (a virtio_dev driven only through virtio_mmio_ops)
 *   fvq_mmio_read/fvq_mmio_write  32-bit register accesses
 *   fvq_start(d, v, n, features)  reset, ACKNOWLEDGE, DRIVER, features
 *                                 (VERSION_1 added), FEATURES_OK, queues
 *                                 0..n-1 from v[], DRIVER_OK; 0 or -1
 *   fvq_kick(d, q)                writes QueueNotify
 * Interrupts: struct fvq_irq counts pulses; fvq_irq_line(&irq, gsi).
 *
 * Example, a device test through the transport:
 *   struct fvq_mem m; struct fvq v; struct fvq_irq irq = { 0 };
 *   struct irq_line line = fvq_irq_line(&irq, 16);
 *   struct virtio_dev d; struct fvq_used u;
 *   fvq_mem_init(&m, 0x100000, 1 << 20);
 *   virtio_dev_init(&d, &my_ops, &my_state, &m.gm, &line);
 *   fvq_init(&v, &m, 16, NULL);
 *   CHECK_EQ(fvq_start(&d, &v, 1, 0), 0);
 *   uint64_t req = fvq_put(&m, "ping", 4), resp = fvq_alloc(&m, 64, 8);
 *   uint16_t head = FVQ_ADD(&v, { req, 4, 0 }, { resp, 64, 1 });
 *   fvq_kick(&d, 0);
 *   CHECK(fvq_get_used(&v, &u) && u.id == head && irq.pulses == 1);
 *   CHECK(!memcmp(fvq_ptr(&m, resp, 4), "pong", 4));
 *   fvq_mem_free(&m);
 *
 * Descriptors are handed out round-robin: keep at most `size` of them
 * outstanding.  Memory is only freed by fvq_mem_free.  Misuse of the
 * helpers (out of memory, bad sizes) aborts: it is a bug in the test. */
#ifndef MINIVMM_FAKE_VIRTQ_H
#define MINIVMM_FAKE_VIRTQ_H

#include <endian.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "guest_mem.h"
#include "irq.h"
#include "virtio.h"
#include "virtqueue.h"

struct fvq_mem {
	struct guest_mem gm;
	uint8_t *host;
	uint64_t base, size;
	uint64_t next;		/* bump allocator, a gpa */
};

struct fvq {
	struct fvq_mem *m;
	uint16_t size;
	uint64_t desc, avail, used;	/* ring gpas */
	uint16_t next_desc;	/* round-robin descriptor allocator */
	uint16_t avail_idx;	/* the driver's avail->idx */
	uint16_t last_used;	/* next used element to read */
};

struct fvq_buf {
	uint64_t gpa;
	uint32_t len;
	int write;		/* device-writable */
};

struct fvq_used {
	uint32_t id, len;
};

struct fvq_irq {
	unsigned pulses;	/* calls with level 1 */
	unsigned gsi;
	int level;
};

static inline void fvq_die(const char *why)
{
	fprintf(stderr, "fake_virtq: %s\n", why);
	abort();
}

static inline void fvq_mem_init(struct fvq_mem *m, uint64_t gpa, uint64_t size)
{
	memset(m, 0, sizeof(*m));
	m->host = calloc(1, size);
	if (!m->host || guest_mem_add(&m->gm, gpa, size, m->host))
		fvq_die("cannot set up guest memory");
	m->base = m->next = gpa;
	m->size = size;
}

static inline void fvq_mem_free(struct fvq_mem *m)
{
	free(m->host);
	memset(m, 0, sizeof(*m));
}

/* align is a power of two. */
static inline uint64_t fvq_alloc(struct fvq_mem *m, uint64_t len,
				 uint64_t align)
{
	uint64_t gpa = (m->next + align - 1) & ~(align - 1);

	if (gpa < m->base || len > m->size || gpa - m->base > m->size - len)
		fvq_die("out of fake guest memory");
	m->next = gpa + len;
	return gpa;
}

static inline void *fvq_ptr(struct fvq_mem *m, uint64_t gpa, uint64_t len)
{
	void *p = guest_mem_ptr(&m->gm, gpa, len);

	if (!p)
		fvq_die("address outside fake guest memory");
	return p;
}

static inline uint64_t fvq_put(struct fvq_mem *m, const void *data,
			       uint64_t len)
{
	uint64_t gpa = fvq_alloc(m, len ? len : 1, 8);

	if (len)
		memcpy(fvq_ptr(m, gpa, len), data, len);
	return gpa;
}

static inline void fvq_w16(struct fvq_mem *m, uint64_t gpa, uint16_t v)
{
	v = htole16(v);
	memcpy(fvq_ptr(m, gpa, 2), &v, 2);
}

static inline uint16_t fvq_r16(struct fvq_mem *m, uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, fvq_ptr(m, gpa, 2), 2);
	return le16toh(v);
}

static inline void fvq_init(struct fvq *v, struct fvq_mem *m, uint16_t size,
			    struct virtq *q)
{
	if (size == 0)
		fvq_die("queue size 0");
	memset(v, 0, sizeof(*v));
	v->m = m;
	v->size = size;
	/* The spec's minimum alignments, so the device must cope with them. */
	v->desc = fvq_alloc(m, 16 * (uint64_t)size, 16);
	v->avail = fvq_alloc(m, 6 + 2 * (uint64_t)size, 2);
	v->used = fvq_alloc(m, 6 + 8 * (uint64_t)size, 4);
	if (!q)
		return;
	virtq_reset(q);
	q->mem = &m->gm;
	q->size = size;
	q->desc_gpa = v->desc;
	q->avail_gpa = v->avail;
	q->used_gpa = v->used;
	q->ready = 1;
}

/* Descriptor i of the table at table_gpa. */
static inline void fvq_write_desc(struct fvq_mem *m, uint64_t table_gpa,
				  unsigned i, uint64_t addr, uint32_t len,
				  uint16_t flags, uint16_t next)
{
	uint8_t *p = fvq_ptr(m, table_gpa + 16 * (uint64_t)i, 16);
	uint64_t a = htole64(addr);
	uint32_t l = htole32(len);
	uint16_t f = htole16(flags), n = htole16(next);

	memcpy(p, &a, 8);
	memcpy(p + 8, &l, 4);
	memcpy(p + 12, &f, 2);
	memcpy(p + 14, &n, 2);
}

static inline void fvq_set_desc(struct fvq *v, unsigned i, uint64_t addr,
				uint32_t len, uint16_t flags, uint16_t next)
{
	if (i >= v->size)
		fvq_die("descriptor index out of range");
	fvq_write_desc(v->m, v->desc, i, addr, len, flags, next);
}

/* Sets avail->idx (and the driver's copy) without adding entries. */
static inline void fvq_set_avail_idx(struct fvq *v, uint16_t idx)
{
	uint16_t *p = fvq_ptr(v->m, v->avail + 2, 2);

	v->avail_idx = idx;
	__atomic_store_n(p, htole16(idx), __ATOMIC_RELEASE);
}

/* Puts head (any value, even a bad one) in the next avail slot and
 * publishes it. */
static inline void fvq_publish(struct fvq *v, uint16_t head)
{
	fvq_w16(v->m, v->avail + 4 + 2 * (uint64_t)(v->avail_idx % v->size),
		head);
	fvq_set_avail_idx(v, (uint16_t)(v->avail_idx + 1));
}

static inline uint16_t fvq_take_desc(struct fvq *v)
{
	uint16_t i = v->next_desc;

	v->next_desc = (uint16_t)((i + 1) % v->size);
	return i;
}

/* Writes bufs[0..n) as a chain in descriptors taken round-robin. */
static inline uint16_t fvq_add(struct fvq *v, const struct fvq_buf *bufs,
			       unsigned n)
{
	uint16_t head = v->next_desc, i;

	if (n == 0 || n > v->size)
		fvq_die("chain length must be 1..size");
	for (unsigned k = 0; k < n; k++) {
		uint16_t flags = bufs[k].write ? VIRTQ_DESC_F_WRITE : 0;

		i = fvq_take_desc(v);
		if (k + 1 < n)
			flags |= VIRTQ_DESC_F_NEXT;
		fvq_set_desc(v, i, bufs[k].gpa, bufs[k].len, flags,
			     k + 1 < n ? v->next_desc : 0);
	}
	fvq_publish(v, head);
	return head;
}

#define FVQ_ADD(v, ...)							\
	fvq_add(v, (const struct fvq_buf[]){ __VA_ARGS__ },		\
		sizeof((const struct fvq_buf[]){ __VA_ARGS__ }) /	\
		sizeof(struct fvq_buf))

/* One descriptor pointing at an indirect table holding bufs[0..n). */
static inline uint16_t fvq_add_indirect(struct fvq *v,
					const struct fvq_buf *bufs, unsigned n)
{
	uint64_t table;
	uint16_t head;

	if (n == 0)
		fvq_die("empty indirect table");
	table = fvq_alloc(v->m, 16 * (uint64_t)n, 16);
	for (unsigned k = 0; k < n; k++)
		fvq_write_desc(v->m, table, k, bufs[k].gpa, bufs[k].len,
			       (uint16_t)((bufs[k].write ? VIRTQ_DESC_F_WRITE : 0) |
					  (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
			       (uint16_t)(k + 1 < n ? k + 1 : 0));
	head = fvq_take_desc(v);
	fvq_set_desc(v, head, table, 16 * n, VIRTQ_DESC_F_INDIRECT, 0);
	fvq_publish(v, head);
	return head;
}

static inline uint16_t fvq_used_idx(struct fvq *v)
{
	uint16_t *p = fvq_ptr(v->m, v->used + 2, 2);

	return le16toh(__atomic_load_n(p, __ATOMIC_ACQUIRE));
}

static inline int fvq_get_used(struct fvq *v, struct fvq_used *u)
{
	uint32_t e[2];

	u->id = u->len = 0xffffffff;	/* never a valid head */
	if (fvq_used_idx(v) == v->last_used)
		return 0;
	memcpy(e, fvq_ptr(v->m, v->used + 4 + 8 * (uint64_t)(v->last_used %
							    v->size), 8), 8);
	u->id = le32toh(e[0]);
	u->len = le32toh(e[1]);
	v->last_used++;
	return 1;
}

static inline void fvq_set_avail_flags(struct fvq *v, uint16_t flags)
{
	fvq_w16(v->m, v->avail, flags);
}

/* EVENT_IDX: interrupt me once used->idx passes idx. */
static inline void fvq_set_used_event(struct fvq *v, uint16_t idx)
{
	fvq_w16(v->m, v->avail + 4 + 2 * (uint64_t)v->size, idx);
}

/* EVENT_IDX: the avail idx the device asked to be kicked at. */
static inline uint16_t fvq_avail_event(struct fvq *v)
{
	return fvq_r16(v->m, v->used + 4 + 8 * (uint64_t)v->size);
}

static inline void fvq_irq_set(void *ctx, unsigned gsi, int level)
{
	struct fvq_irq *irq = ctx;

	irq->gsi = gsi;
	irq->level = level;
	if (level)
		irq->pulses++;
}

static inline struct irq_line fvq_irq_line(struct fvq_irq *irq, unsigned gsi)
{
	return (struct irq_line){ fvq_irq_set, irq, gsi };
}

static inline uint32_t fvq_mmio_read(struct virtio_dev *d, uint64_t off)
{
	uint8_t b[4];
	uint32_t v;

	virtio_mmio_ops.read(d, off, b, 4);
	memcpy(&v, b, 4);
	return le32toh(v);
}

static inline void fvq_mmio_write(struct virtio_dev *d, uint64_t off,
				  uint32_t val)
{
	uint8_t b[4];

	val = htole32(val);
	memcpy(b, &val, 4);
	virtio_mmio_ops.write(d, off, b, 4);
}

static inline void fvq_kick(struct virtio_dev *d, unsigned q)
{
	fvq_mmio_write(d, VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

/* Linux's probe sequence; features are the device-specific and ring bits
 * the test wants (VERSION_1 is added).  Returns 0 when the device ends up
 * DRIVER_OK and not NEEDS_RESET. */
static inline int fvq_start(struct virtio_dev *d, struct fvq *v, unsigned n,
			    uint64_t features)
{
	uint32_t s;

	features |= 1ULL << VIRTIO_F_VERSION_1;
	fvq_mmio_write(d, VIRTIO_MMIO_STATUS, 0);
	s = VIRTIO_STATUS_ACKNOWLEDGE;
	fvq_mmio_write(d, VIRTIO_MMIO_STATUS, s);
	s |= VIRTIO_STATUS_DRIVER;
	fvq_mmio_write(d, VIRTIO_MMIO_STATUS, s);
	for (unsigned w = 0; w < 2; w++) {
		fvq_mmio_write(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, w);
		fvq_mmio_write(d, VIRTIO_MMIO_DRIVER_FEATURES,
			       (uint32_t)(features >> (32 * w)));
	}
	s |= VIRTIO_STATUS_FEATURES_OK;
	fvq_mmio_write(d, VIRTIO_MMIO_STATUS, s);
	if (!(fvq_mmio_read(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK))
		return -1;
	for (unsigned i = 0; i < n; i++) {
		fvq_mmio_write(d, VIRTIO_MMIO_QUEUE_SEL, i);
		fvq_mmio_write(d, VIRTIO_MMIO_QUEUE_NUM, v[i].size);
		fvq_mmio_write(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)v[i].desc);
		fvq_mmio_write(d, VIRTIO_MMIO_QUEUE_DESC_HIGH,
			       (uint32_t)(v[i].desc >> 32));
		fvq_mmio_write(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW,
			       (uint32_t)v[i].avail);
		fvq_mmio_write(d, VIRTIO_MMIO_QUEUE_DRIVER_HIGH,
			       (uint32_t)(v[i].avail >> 32));
		fvq_mmio_write(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW,
			       (uint32_t)v[i].used);
		fvq_mmio_write(d, VIRTIO_MMIO_QUEUE_DEVICE_HIGH,
			       (uint32_t)(v[i].used >> 32));
		fvq_mmio_write(d, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	s |= VIRTIO_STATUS_DRIVER_OK;
	fvq_mmio_write(d, VIRTIO_MMIO_STATUS, s);
	s = fvq_mmio_read(d, VIRTIO_MMIO_STATUS);
	return (s & VIRTIO_STATUS_DRIVER_OK) &&
	       !(s & VIRTIO_STATUS_NEEDS_RESET) ? 0 : -1;
}

#endif
