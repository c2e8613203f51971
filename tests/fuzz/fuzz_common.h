/* fuzz_common.h: what the libFuzzer targets in tests/fuzz/ share.
 *
 * Input reader (struct fz): the fuzzer's bytes consumed front to back;
 * once they run out every read yields zeroes, so any input is a valid
 * program.
 *
 * A fake guest driver (struct driver) on top of tests/unit/fake_virtq.h:
 *   guest memory  two regions, adjacent in guest-physical space but two
 *                 separate exact-size heap blocks, so a range that spans
 *                 them (which guest_mem must refuse) or runs past the end
 *                 is an ASan report, not a silent read of the neighbour
 *   queues        rings per queue, descriptors from a free list (a chain
 *                 stays untouched until the device returns it), the
 *                 writable length of every chain remembered
 *   ops           dr_op(): one driver action decoded from the input
 *                 (a chain, a kick, a register access, a restart, or
 *                 raw pokes at the rings a hostile driver would make)
 * Checks made on the device (FZ_CHECK aborts, so libFuzzer saves the
 * input): it returns only heads that are outstanding, each at most once,
 * with a used length no larger than the chain's writable bytes (both
 * unless the input scribbled on the rings itself); a queue marked ready
 * has valid rings; FEATURES_OK only with offered features + VERSION_1.
 */
#ifndef MINIVMM_FUZZ_COMMON_H
#define MINIVMM_FUZZ_COMMON_H

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fake_virtq.h"

/* A broken invariant: the message goes where the sanitizers report (the
 * fuzzing scripts close the target's own stderr to silence the devices'
 * guest-mistake messages), then abort() makes libFuzzer save the input. */
void __sanitizer_report_error_summary(const char *summary) __attribute__((weak));

static inline __attribute__((noreturn)) void fz_fail(const char *file, int line,
						     const char *cond)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "fuzz invariant failed: %s:%d: %s", file, line,
		 cond);
	if (__sanitizer_report_error_summary)
		__sanitizer_report_error_summary(msg);
	else
		fprintf(stderr, "%s\n", msg);
	abort();
}

#define FZ_CHECK(cond)							\
	do {								\
		if (!(cond))						\
			fz_fail(__FILE__, __LINE__, #cond);		\
	} while (0)

/* Harness-only helpers that scan memory: no coverage feedback (it would
 * only reward the fuzzer for the harness's loops) and no ASan checks on
 * each load (the ranges are checked once by the caller). */
#define FZ_NOINSTR __attribute__((no_sanitize("coverage", "address")))
/* The harness's own invariant checks: ASan still on, but no coverage
 * tracing (their loops over every bucket or key code gave the fuzzer
 * nothing to learn and cost up to half of each execution); noinline, or
 * the caller's instrumentation would apply to the inlined copy. */
#define FZ_CHECKER __attribute__((noinline, no_sanitize("coverage")))

/* libc's own memcmp, past the sanitizers' interceptor (which would check
 * and trace every byte of these big compares). */
static inline int (*fz_real_memcmp(void))(const void *, const void *, size_t)
{
	static int (*real)(const void *, const void *, size_t);

	if (!real) {
		real = (int (*)(const void *, const void *, size_t))
			dlsym(RTLD_NEXT, "memcmp");
		if (!real)
			abort();
	}
	return real;
}

/* Index of the first byte where a and b differ, n when none does. */
static FZ_NOINSTR inline size_t fz_diff(const uint8_t *a, const uint8_t *b,
					size_t n)
{
	int (*cmp)(const void *, const void *, size_t) = fz_real_memcmp();
	size_t i = 0;

	for (; i + 256 <= n && !cmp(a + i, b + i, 256); i += 256)
		;
	for (; i < n; i++)
		if (a[i] != b[i])
			break;
	return i;
}

/* ---- the input --------------------------------------------------------- */

struct fz {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fz_u8(struct fz *f)
{
	if (!f->n)
		return 0;
	f->n--;
	return *f->p++;
}

static inline uint16_t fz_u16(struct fz *f)
{
	uint16_t lo = fz_u8(f);

	return (uint16_t)(lo | (uint16_t)fz_u8(f) << 8);
}

static inline uint32_t fz_u32(struct fz *f)
{
	uint32_t lo = fz_u16(f);

	return lo | (uint32_t)fz_u16(f) << 16;
}

static inline uint64_t fz_u64(struct fz *f)
{
	uint64_t lo = fz_u32(f);

	return lo | (uint64_t)fz_u32(f) << 32;
}

/* Copies up to len bytes (zeroes past the end of the input). */
static inline void fz_take(struct fz *f, void *dst, size_t len)
{
	size_t n = len < f->n ? len : f->n;

	memcpy(dst, f->p, n);
	memset((uint8_t *)dst + n, 0, len - n);
	f->p += n;
	f->n -= n;
}

/* A size or coordinate: mostly small (one byte), sometimes anything. */
static inline uint32_t fz_dim(struct fz *f)
{
	uint8_t b = fz_u8(f);

	if (b == 0xff)
		return fz_u32(f);
	if (b >= 0xf0)
		return (uint32_t)(b - 0xef) * 64;	/* 64 .. 1024 */
	return b;
}

/* FUZZ_TRACE=1 in the environment: the fake driver prints what the
 * device returns, for making sense of a reproducer or a new seed. */
static inline int fz_trace(void)
{
	static int on = -1;

	if (on < 0)
		on = getenv("FUZZ_TRACE") != NULL;
	return on;
}

/* ---- the fake driver ----------------------------------------------------- */

#define DR_BASE		0x40000000ULL	/* region 0's gpa */
#define DR_MEM0		(256u << 10)
#define DR_MEM1		(16u << 10)	/* at DR_BASE + DR_MEM0 */
#define DR_MAX_Q	VIRTIO_MAX_QUEUES
#define DR_MAX_BUFS	8		/* per chain we build */

struct dr_buf {
	uint64_t gpa;
	uint32_t len;
	int write;
};

struct dr_head {
	uint16_t desc[DR_MAX_BUFS];
	uint8_t ndesc;
	uint8_t pending;	/* published, not yet returned */
	uint64_t in_len;	/* writable bytes */
	struct dr_buf in[DR_MAX_BUFS];	/* the writable buffers, in order */
	uint8_t nin;
	uint8_t shared;	/* a writable buffer other chains may share (region
			 * 1, or an address from the input): what the device
			 * wrote there may be overwritten before it is read */
};

struct dr_queue {
	struct fvq v;
	uint16_t free[VIRTQ_MAX_SIZE];
	unsigned nfree;
	struct dr_head h[VIRTQ_MAX_SIZE];
	uint64_t used_bytes;	/* sum of the used lengths returned */
};

struct driver {
	struct fvq_mem m;		/* region 0 and the bump allocator */
	uint8_t *hi;			/* region 1 */
	struct virtio_dev *d;
	unsigned nq;
	uint16_t qmax;
	uint64_t dev_features;		/* device bits the input may accept */
	struct dr_queue q[DR_MAX_Q];
	int tainted;	/* the input wrote rings raw: no used-ring checks */
	int wild;	/* buffers outside what was allocated: the device
			 * may have written anywhere in region 0 */
	int started;
	unsigned used_seen;
	/* Called after every register write the driver makes (a target's
	 * own checks of the transport); may be NULL. */
	void (*watch)(struct driver *dr);
	uint32_t prev_status;	/* for watch */
	/* Called for every used element that passed the checks, before its
	 * buffers are reused (a target's checks of what the device wrote,
	 * with dr_gather); may be NULL. */
	void (*on_used)(struct driver *dr, unsigned qi, uint32_t id,
			uint32_t len);
};

static inline void dr_mem_init(struct driver *dr)
{
	fvq_mem_init(&dr->m, DR_BASE, DR_MEM0);
	dr->hi = calloc(1, DR_MEM1);
	if (!dr->hi || guest_mem_add(&dr->m.gm, DR_BASE + DR_MEM0, DR_MEM1,
				      dr->hi))
		fvq_die("cannot set up guest memory");
}

static inline void dr_mem_free(struct driver *dr)
{
	free(dr->hi);
	dr->hi = NULL;
	fvq_mem_free(&dr->m);
}

/* Is the host range inside guest RAM (one region)? */
static inline int dr_host_in_guest(const struct driver *dr, const void *p,
				   uint64_t len)
{
	const struct guest_mem *gm = &dr->m.gm;

	for (unsigned i = 0; i < gm->nr_regions; i++) {
		const uint8_t *h = gm->region[i].host;

		if ((const uint8_t *)p >= h &&
		    (uint64_t)((const uint8_t *)p - h) <= gm->region[i].size &&
		    len <= gm->region[i].size - (uint64_t)((const uint8_t *)p - h))
			return 1;
	}
	return 0;
}

/* Bump allocation in region 0; 0 when it is full (the op is skipped). */
static inline uint64_t dr_alloc(struct driver *dr, uint64_t len, uint64_t align)
{
	uint64_t gpa = (dr->m.next + align - 1) & ~(align - 1);

	if (len > DR_MEM0 || gpa - DR_BASE > DR_MEM0 - len)
		return 0;
	dr->m.next = gpa + len;
	return gpa;
}

static inline void dr_w32(struct driver *dr, uint64_t off, uint32_t v)
{
	fvq_mmio_write(dr->d, off, v);
	if (dr->watch)
		dr->watch(dr);
}

static inline uint32_t dr_r32(struct driver *dr, uint64_t off)
{
	return fvq_mmio_read(dr->d, off);
}

static inline void dr_init(struct driver *dr, struct virtio_dev *d,
			   uint64_t dev_features)
{
	/* Only the queues the device has (each is 40 KiB of bookkeeping). */
	memset(dr->q, 0, sizeof(dr->q[0]) *
	       (d->ops->nr_queues < DR_MAX_Q ? d->ops->nr_queues : DR_MAX_Q));
	dr->d = d;
	dr->nq = d->ops->nr_queues;
	dr->qmax = d->ops->queue_max ? d->ops->queue_max : VIRTQ_MAX_SIZE;
	dr->dev_features = dev_features;
	dr->tainted = 0;
	dr->wild = 0;
	dr->started = 0;
	dr->used_seen = 0;
	dr->watch = NULL;
	dr->on_used = NULL;
	dr->prev_status = d->status;
}

/* Linux's probe, with features and queue sizes from the input:
 * reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK, queues, DRIVER_OK.
 * Memory is wiped and the rings laid out afresh (after the reset, so a
 * device still doing I/O has finished with the old ones). */
static inline void dr_start(struct driver *dr, struct fz *f)
{
	uint8_t fb = fz_u8(f);
	uint64_t feat = (1ULL << VIRTIO_F_VERSION_1) |
			(fb & 1 ? 1ULL << VIRTIO_F_RING_EVENT_IDX : 0) |
			(fb & 2 ? 1ULL << VIRTIO_F_RING_INDIRECT_DESC : 0);
	uint32_t devf = fz_u32(f);
	uint32_t s = 0;

	/* Device bits: those the input picked out of what may be accepted. */
	feat |= devf & dr->dev_features;
	dr_w32(dr, VIRTIO_MMIO_STATUS, 0);
	/* What was handed out so far (fresh memory is zero already: not
	 * touching it saves the page faults). */
	memset(dr->m.host, 0, dr->wild ? DR_MEM0 : dr->m.next - DR_BASE);
	memset(dr->hi, 0, DR_MEM1);
	dr->wild = 0;
	dr->m.next = DR_BASE;
	dr->tainted = 0;
	dr->started = 0;
	s = VIRTIO_STATUS_ACKNOWLEDGE;
	dr_w32(dr, VIRTIO_MMIO_STATUS, s);
	s |= VIRTIO_STATUS_DRIVER;
	dr_w32(dr, VIRTIO_MMIO_STATUS, s);
	for (unsigned w = 0; w < 2; w++) {
		dr_w32(dr, VIRTIO_MMIO_DRIVER_FEATURES_SEL, w);
		dr_w32(dr, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(feat >> (32 * w)));
	}
	s |= VIRTIO_STATUS_FEATURES_OK;
	dr_w32(dr, VIRTIO_MMIO_STATUS, s);
	if (!(dr_r32(dr, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK))
		return;
	for (unsigned i = 0; i < dr->nq; i++) {
		struct dr_queue *q = &dr->q[i];
		unsigned lg = 0;
		uint16_t size;

		while ((1u << (lg + 1)) <= dr->qmax)
			lg++;
		size = (uint16_t)(1u << (fz_u8(f) % (lg + 1)));
		memset(q, 0, sizeof(*q));
		fvq_init(&q->v, &dr->m, size, NULL);
		for (unsigned k = 0; k < size; k++)
			q->free[q->nfree++] = (uint16_t)(size - 1 - k);
		dr_w32(dr, VIRTIO_MMIO_QUEUE_SEL, i);
		dr_w32(dr, VIRTIO_MMIO_QUEUE_NUM, size);
		dr_w32(dr, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)q->v.desc);
		dr_w32(dr, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(q->v.desc >> 32));
		dr_w32(dr, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)q->v.avail);
		dr_w32(dr, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(q->v.avail >> 32));
		dr_w32(dr, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)q->v.used);
		dr_w32(dr, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(q->v.used >> 32));
		dr_w32(dr, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	s |= VIRTIO_STATUS_DRIVER_OK;
	dr_w32(dr, VIRTIO_MMIO_STATUS, s);
	dr->started = 1;
	if (fz_trace())
		fprintf(stderr, "fuzz: started, status %#x, features %#llx\n",
			dr->d->status, (unsigned long long)dr->d->driver_features);
}

/* Takes what the device returned on queue qi and checks it. */
static inline void dr_reap(struct driver *dr, unsigned qi)
{
	struct dr_queue *q = &dr->q[qi];
	struct fvq_used u;
	unsigned guard = 0;

	if (!dr->started || qi >= dr->nq || !q->v.size)
		return;
	while (fvq_get_used(&q->v, &u) && guard++ < 2u * VIRTQ_MAX_SIZE) {
		struct dr_head *h;

		dr->used_seen++;
		q->used_bytes += u.len;
		if (fz_trace())
			fprintf(stderr, "fuzz: queue %u: used id %u len %u%s\n", qi,
				u.id, u.len, dr->tainted ? " (unchecked)" : "");
		if (dr->tainted)
			continue;
		/* 2.7.8: the device returns what the driver made available,
		 * each chain once, with no more bytes than it can hold. */
		FZ_CHECK(u.id < q->v.size);
		h = &q->h[u.id];
		FZ_CHECK(h->pending);
		FZ_CHECK(u.len <= h->in_len);
		if (dr->on_used)
			dr->on_used(dr, qi, u.id, u.len);
		h->pending--;
		for (unsigned k = 0; k < h->ndesc; k++)
			q->free[q->nfree++] = h->desc[k];
		h->ndesc = 0;
	}
}

/* Copies the first len bytes the device wrote into chain `head` on queue
 * qi (its writable buffers in order); 0, or -1 when they cannot be
 * trusted to be what the device wrote (buffers outside guest memory or
 * shared with other chains) - the caller then cannot check them. */
static inline int dr_gather(struct driver *dr, unsigned qi, uint32_t head,
			    void *dst, uint64_t len)
{
	const struct dr_head *h = &dr->q[qi].h[head];
	uint8_t *out = dst;

	if (h->shared)
		return -1;
	for (unsigned k = 0; k < h->nin && len; k++) {
		uint64_t n = h->in[k].len < len ? h->in[k].len : len;
		const void *p = guest_mem_ptr(&dr->m.gm, h->in[k].gpa, n);

		if (!p)
			return -1;
		memcpy(out, p, n);
		out += n;
		len -= n;
	}
	return len ? -1 : 0;
}

static inline void dr_reap_all(struct driver *dr)
{
	for (unsigned i = 0; i < dr->nq; i++)
		dr_reap(dr, i);
}

/* Publishes a chain of n buffers on queue qi, through one indirect
 * table when indirect is set.  Returns the head or -1 (no room). */
static inline int dr_chain(struct driver *dr, unsigned qi,
			   const struct dr_buf *b, unsigned n, int indirect)
{
	struct dr_queue *q = &dr->q[qi];
	struct dr_head *h;
	unsigned need = indirect ? 1 : n;
	uint64_t in_len = 0;
	uint16_t head;
	int shared = 0;

	if (!dr->started || qi >= dr->nq || !q->v.size || n == 0 ||
	    n > DR_MAX_BUFS || q->nfree < need)
		return -1;
	for (unsigned k = 0; k < n; k++) {
		int mine = b[k].gpa >= DR_BASE && b[k].len <= dr->m.next - DR_BASE &&
			   b[k].gpa - DR_BASE <= dr->m.next - DR_BASE - b[k].len;
		int hi = b[k].gpa >= DR_BASE + DR_MEM0 && b[k].len <= DR_MEM1 &&
			 b[k].gpa - DR_BASE - DR_MEM0 <= DR_MEM1 - b[k].len;

		if (b[k].write) {
			in_len += b[k].len;
			shared |= !mine;
		}
		/* Neither inside what was allocated nor in region 1. */
		if (!mine && !hi)
			dr->wild = 1;
	}
	if (indirect) {
		uint64_t table = dr_alloc(dr, 16 * (uint64_t)n, 16);

		if (!table)
			return -1;
		for (unsigned k = 0; k < n; k++)
			fvq_write_desc(&dr->m, table, k, b[k].gpa, b[k].len,
				       (uint16_t)((b[k].write ? VIRTQ_DESC_F_WRITE : 0) |
						  (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
				       (uint16_t)(k + 1 < n ? k + 1 : 0));
		head = q->free[--q->nfree];
		fvq_set_desc(&q->v, head, table, 16 * n, VIRTQ_DESC_F_INDIRECT, 0);
		h = &q->h[head];
		h->desc[0] = head;
		h->ndesc = 1;
	} else {
		uint16_t idx[DR_MAX_BUFS];

		for (unsigned k = 0; k < n; k++)
			idx[k] = q->free[--q->nfree];
		for (unsigned k = 0; k < n; k++)
			fvq_set_desc(&q->v, idx[k], b[k].gpa, b[k].len,
				     (uint16_t)((b[k].write ? VIRTQ_DESC_F_WRITE : 0) |
						(k + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
				     k + 1 < n ? idx[k + 1] : 0);
		head = idx[0];
		h = &q->h[head];
		memcpy(h->desc, idx, n * sizeof(idx[0]));
		h->ndesc = (uint8_t)n;
	}
	h->pending = 1;
	h->in_len = in_len;
	h->nin = 0;
	h->shared = (uint8_t)shared;
	for (unsigned k = 0; k < n; k++)
		if (b[k].write)
			h->in[h->nin++] = b[k];
	if (fz_trace())
		fprintf(stderr, "fuzz: queue %u: avail head %u, %u buffers%s, "
			"%llu writable bytes\n", qi, head, n,
			indirect ? " (indirect)" : "", (unsigned long long)in_len);
	/* With EVENT_IDX: interrupt me at every used entry. */
	fvq_set_used_event(&q->v, fvq_used_idx(&q->v));
	fvq_publish(&q->v, head);
	return head;
}

/* A buffer of len bytes, readable ones filled from the input. */
static inline int dr_buf_put(struct driver *dr, struct fz *f, struct dr_buf *b,
			     uint32_t len, int write)
{
	uint64_t gpa = dr_alloc(dr, len ? len : 1, 8);

	if (!gpa)
		return -1;
	if (!write && len)
		fz_take(f, fvq_ptr(&dr->m, gpa, len), len);
	*b = (struct dr_buf){ gpa, len, write };
	return 0;
}

/* A request (bytes req[0..len)) and room for a response of resp bytes,
 * cut into descriptors as the layout byte says: 1-3 readable pieces,
 * 1-3 writable ones, maybe indirect, maybe the response in region 1. */
static inline int dr_request(struct driver *dr, unsigned qi, uint8_t layout,
			     const void *req, uint32_t len, uint32_t resp)
{
	struct dr_buf b[DR_MAX_BUFS];
	unsigned n = 0, nout = 1 + layout % 3, nin = 1 + (layout >> 2) % 3;
	uint64_t gpa;

	if (!resp)
		nin = 0;
	if (len < nout)
		nout = len ? 1 : 0;
	if (resp < nin)
		nin = resp ? 1 : 0;
	if (nout) {
		gpa = dr_alloc(dr, len, 8);
		if (!gpa)
			return -1;
		memcpy(fvq_ptr(&dr->m, gpa, len), req, len);
		for (unsigned k = 0; k < nout; k++) {
			uint32_t piece = k + 1 < nout ? len / nout : len - (len / nout) * k;

			b[n++] = (struct dr_buf){ gpa + (uint64_t)(len / nout) * k,
						  piece, 0 };
		}
	}
	if (nin) {
		/* Region 1 holds at most one response at a time: fine for a
		 * fuzzer, the device writes it once per request. */
		if ((layout & 0x20) && resp <= DR_MEM1)
			gpa = DR_BASE + DR_MEM0 + (DR_MEM1 - resp);
		else
			gpa = dr_alloc(dr, resp, 8);
		if (!gpa)
			return -1;
		for (unsigned k = 0; k < nin; k++) {
			uint32_t piece = k + 1 < nin ? resp / nin : resp - (resp / nin) * k;

			b[n++] = (struct dr_buf){ gpa + (uint64_t)(resp / nin) * k,
						  piece, 1 };
		}
	}
	return dr_chain(dr, qi, b, n, (layout >> 4) & 1);
}

/* Transport invariants every device must keep whatever the driver did. */
static inline void dr_check(struct driver *dr)
{
	struct virtio_dev *d = dr->d;
	uint64_t offered = (d->ops->features ? d->ops->features(d) : 0) |
			   (1ULL << VIRTIO_F_VERSION_1) |
			   (1ULL << VIRTIO_F_RING_EVENT_IDX) |
			   (1ULL << VIRTIO_F_RING_INDIRECT_DESC);

	for (unsigned i = 0; i < d->ops->nr_queues; i++)
		if (d->vq[i].ready)
			FZ_CHECK(virtq_check_rings(&d->vq[i]) == VIRTQ_OK);
	if (d->status & VIRTIO_STATUS_FEATURES_OK) {
		FZ_CHECK(!(d->driver_features & ~offered));
		FZ_CHECK(virtio_has_feature(d, VIRTIO_F_VERSION_1));
	}
}

/* ---- the generic driver ops -------------------------------------------- */

enum {
	DR_OP_CHAIN,		/* arbitrary buffers, some hostile */
	DR_OP_KICK,
	DR_OP_RESTART,
	DR_OP_MMIO_WRITE,
	DR_OP_MMIO_READ,
	DR_OP_POKE,		/* raw byte into the rings */
	DR_OP_PUBLISH_RAW,	/* any head value */
	DR_OP_AVAIL_IDX,	/* avail->idx jumps */
	DR_OP_REAP,
	DR_NR_OPS
};

static inline void dr_kick(struct driver *dr, unsigned qi)
{
	dr_w32(dr, VIRTIO_MMIO_QUEUE_NOTIFY, qi);
	dr_reap_all(dr);
}

static inline void dr_op(struct driver *dr, struct fz *f, unsigned op)
{
	struct dr_queue *q;
	unsigned qi;

	switch (op % DR_NR_OPS) {
	case DR_OP_CHAIN: {
		struct dr_buf b[DR_MAX_BUFS];
		uint8_t fl = fz_u8(f);
		unsigned n = 1 + fl % DR_MAX_BUFS;

		qi = fz_u8(f) % (dr->nq ? dr->nq : 1);
		for (unsigned k = 0; k < n; k++) {
			uint8_t kind = fz_u8(f);
			int w = kind & 1;

			switch ((kind >> 1) & 3) {
			case 0:
			case 1:
				if (dr_buf_put(dr, f, &b[k], fz_u16(f) % 4097, w))
					return;
				break;
			case 2:	/* anywhere, any length */
				b[k].gpa = fz_u64(f);
				b[k].len = fz_u32(f);
				b[k].write = w;
				break;
			case 3:	/* across the end of region 0 or 1 */
				b[k].gpa = DR_BASE + (kind & 0x80 ? DR_MEM0 + DR_MEM1 :
						      DR_MEM0) - fz_u8(f);
				b[k].len = fz_u16(f);
				b[k].write = w;
				break;
			}
		}
		dr_chain(dr, qi, b, n, fl >> 7);
		break;
	}
	case DR_OP_KICK:
		/* Sometimes a queue the device does not have. */
		dr_kick(dr, fz_u8(f) % (dr->nq + 1));
		break;
	case DR_OP_RESTART:
		dr_start(dr, f);
		break;
	case DR_OP_MMIO_WRITE: {
		static const unsigned lens[4] = { 1, 2, 4, 8 };
		uint64_t off = fz_u16(f) % (VIRTIO_MMIO_CONFIG + 0x100);
		unsigned len = lens[fz_u8(f) & 3];
		uint64_t v = fz_u64(f);
		uint8_t b[8];

		memcpy(b, &v, 8);
		virtio_mmio_ops.write(dr->d, off, b, len);
		if (dr->watch)
			dr->watch(dr);
		/* A status or queue write may have reset or stopped things. */
		if (off == VIRTIO_MMIO_STATUS || off == VIRTIO_MMIO_QUEUE_READY ||
		    off == VIRTIO_MMIO_QUEUE_NUM)
			dr->tainted = 1;
		dr_reap_all(dr);
		break;
	}
	case DR_OP_MMIO_READ: {
		static const unsigned lens[4] = { 1, 2, 4, 8 };
		uint64_t off = fz_u16(f) % (VIRTIO_MMIO_CONFIG + 0x100);
		uint8_t b[8];

		virtio_mmio_ops.read(dr->d, off, b, lens[fz_u8(f) & 3]);
		break;
	}
	case DR_OP_POKE: {
		/* Anywhere in the rings and tables laid out so far. */
		uint64_t span = dr->m.next - DR_BASE;
		uint16_t at = fz_u16(f);
		uint8_t v = fz_u8(f);

		if (span) {
			dr->m.host[at % span] = v;
			dr->tainted = 1;
			if (fz_trace())
				fprintf(stderr, "fuzz: poke %#x at gpa %#llx\n", v,
					(unsigned long long)(DR_BASE + at % span));
		}
		break;
	}
	case DR_OP_PUBLISH_RAW:
		qi = fz_u8(f) % (dr->nq ? dr->nq : 1);
		q = &dr->q[qi];
		if (dr->started && q->v.size) {
			fvq_publish(&q->v, fz_u16(f));
			dr->tainted = 1;
		}
		break;
	case DR_OP_AVAIL_IDX:
		qi = fz_u8(f) % (dr->nq ? dr->nq : 1);
		q = &dr->q[qi];
		if (dr->started && q->v.size) {
			fvq_set_avail_idx(&q->v, fz_u16(f));
			dr->tainted = 1;
		}
		break;
	case DR_OP_REAP:
		dr_reap_all(dr);
		break;
	}
	dr_check(dr);
}

#endif
