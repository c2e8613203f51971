/* The split virtqueue (virtio 1.2, 2.7), device side.  The guest writes
 * these rings concurrently and may be hostile: every ring and buffer
 * address goes through guest_mem, each descriptor is copied out once before
 * it is looked at, indices are checked against the size, and a chain walk
 * is bounded by the number of descriptors it may legally visit.
 *
 * Layout, all little-endian:
 *   desc[size]   { u64 addr; u32 len; u16 flags; u16 next; }   16 bytes each
 *   avail        { u16 flags; u16 idx; u16 ring[size]; u16 used_event; }
 *   used         { u16 flags; u16 idx; {u32 id; u32 len} ring[size];
 *                  u16 avail_event; }
 */
#include <endian.h>
#include <string.h>
#include "virtqueue.h"

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

#define DESC_SIZE 16

static uint64_t avail_ring_gpa(const struct virtq *q, unsigned i)
{
	return q->avail_gpa + 4 + 2 * (uint64_t)i;
}

static uint64_t used_ring_gpa(const struct virtq *q, unsigned i)
{
	return q->used_gpa + 4 + 8 * (uint64_t)i;
}

/* A 16-bit ring field as a host pointer; the ring was checked to be inside
 * guest memory and aligned (virtq_check_rings), so atomics on it are safe.
 * NULL only if someone marked the queue ready without that check. */
static uint16_t *ring_u16(const struct virtq *q, uint64_t gpa)
{
	return guest_mem_ptr(q->mem, gpa, 2);
}

static int ring_ok(const struct virtq *q, uint64_t gpa, uint64_t len,
		   uint64_t align)
{
	void *p;

	if (gpa & (align - 1))
		return 0;
	p = guest_mem_ptr(q->mem, gpa, len);
	/* The host side must be aligned too, for the atomic accesses. */
	return p && !((uintptr_t)p & (align - 1));
}

int virtq_check_rings(const struct virtq *q)
{
	uint64_t n = q->size;

	if (!q->mem || n == 0 || n > VIRTQ_MAX_SIZE || (n & (n - 1)))
		return VIRTQ_E_RING;
	/* Sizes include used_event/avail_event: Linux always allocates them. */
	if (!ring_ok(q, q->desc_gpa, DESC_SIZE * n, 16) ||
	    !ring_ok(q, q->avail_gpa, 6 + 2 * n, 2) ||
	    !ring_ok(q, q->used_gpa, 6 + 8 * n, 4))
		return VIRTQ_E_RING;
	return VIRTQ_OK;
}

/* avail->idx with acquire semantics: ring entries read afterwards are at
 * least as new as the index. */
static int load_avail_idx(const struct virtq *q, uint16_t *idx)
{
	uint16_t *p = ring_u16(q, q->avail_gpa + 2);

	if (!p)
		return VIRTQ_E_RING;
	*idx = le16toh(__atomic_load_n(p, __ATOMIC_ACQUIRE));
	return VIRTQ_OK;
}

/* One descriptor copied out of the table at table_gpa (so the guest cannot
 * change it between our checks and our use). */
static int read_desc(const struct virtq *q, uint64_t table_gpa, unsigned i,
		     struct desc *d)
{
	uint8_t raw[DESC_SIZE];

	if (guest_mem_read(q->mem, table_gpa + (uint64_t)i * DESC_SIZE, raw,
			   sizeof(raw)))
		return VIRTQ_E_ADDR;
	memcpy(&d->addr, raw, 8);
	memcpy(&d->len, raw + 8, 4);
	memcpy(&d->flags, raw + 12, 2);
	memcpy(&d->next, raw + 14, 2);
	d->addr = le64toh(d->addr);
	d->len = le32toh(d->len);
	d->flags = le16toh(d->flags);
	d->next = le16toh(d->next);
	return VIRTQ_OK;
}

/* Checks an INDIRECT descriptor; on success *entries is its table size. */
static int check_indirect(const struct virtq *q, const struct desc *d,
			  int in_indirect, uint32_t *entries)
{
	if (!q->indirect || in_indirect || (d->flags & VIRTQ_DESC_F_NEXT))
		return VIRTQ_E_INDIRECT;
	if (d->len == 0 || d->len % DESC_SIZE ||
	    d->len / DESC_SIZE > VIRTQ_MAX_SIZE)
		return VIRTQ_E_INDIRECT;
	if (!guest_mem_ptr(q->mem, d->addr, d->len))
		return VIRTQ_E_ADDR;
	*entries = d->len / DESC_SIZE;
	return VIRTQ_OK;
}

static int add_buf(const struct virtq *q, struct virtq_chain *c,
		   const struct desc *d)
{
	int writable = d->flags & VIRTQ_DESC_F_WRITE;

	/* Nothing to carry, and its address is never used: drop it. */
	if (d->len == 0)
		return VIRTQ_OK;
	/* The whole buffer, not just its start; guest_mem_ptr is
	 * overflow-safe, so addr + len wrapping past 2^64 fails here. */
	if (!guest_mem_ptr(q->mem, d->addr, d->len))
		return VIRTQ_E_ADDR;
	if (!writable && c->nr_in)
		return VIRTQ_E_ORDER;
	if (c->nr_out + c->nr_in >= VIRTQ_MAX_SIZE)
		return VIRTQ_E_LOOP;
	c->buf[c->nr_out + c->nr_in] = (struct virtq_buf){ d->addr, d->len };
	if (writable) {
		c->nr_in++;
		c->in_len += d->len;
	} else {
		c->nr_out++;
		c->out_len += d->len;
	}
	return VIRTQ_OK;
}

/* Follows the chain from head.  Within one table, visiting more
 * descriptors than it holds means a cycle; one indirect table at most. */
static int walk_chain(const struct virtq *q, uint16_t head,
		      struct virtq_chain *c)
{
	uint64_t table = q->desc_gpa;
	uint32_t entries = q->size, seen = 0, i = head;
	int in_indirect = 0, r;

	for (;;) {
		struct desc d;

		if (++seen > entries)
			return VIRTQ_E_LOOP;
		r = read_desc(q, table, i, &d);
		if (r)
			return r;
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			r = check_indirect(q, &d, in_indirect, &entries);
			if (r)
				return r;
			table = d.addr;
			in_indirect = 1;
			seen = 0;
			i = 0;
			continue;
		}
		r = add_buf(q, c, &d);
		if (r)
			return r;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return VIRTQ_OK;
		if (d.next >= entries)
			return VIRTQ_E_INDEX;
		i = d.next;
	}
}

int virtq_pop(struct virtq *q, struct virtq_chain *c)
{
	uint16_t avail, head, pending;
	int r;

	if (!q->ready)
		return VIRTQ_E_NOTREADY;
	r = load_avail_idx(q, &avail);
	if (r)
		return r;
	if (avail == q->last_avail) {
		if (!q->event_idx)
			return VIRTQ_EMPTY;
		/* Ask for a kick at the next add, then look again: the
		 * driver may have added just before seeing avail_event. */
		virtq_set_avail_event(q);
		r = load_avail_idx(q, &avail);
		if (r)
			return r;
		if (avail == q->last_avail)
			return VIRTQ_EMPTY;
	}
	pending = (uint16_t)(avail - q->last_avail);
	if (pending > q->size)
		return VIRTQ_E_INDEX;
	if (guest_mem_read(q->mem, avail_ring_gpa(q, q->last_avail & (q->size - 1)),
			   &head, 2))
		return VIRTQ_E_RING;
	head = le16toh(head);
	q->last_avail++;
	c->head = head;
	c->nr_out = c->nr_in = 0;
	c->out_len = c->in_len = 0;
	if (head >= q->size)
		return VIRTQ_E_INDEX;
	return walk_chain(q, head, c);
}

int virtq_push(struct virtq *q, uint16_t head, uint32_t written)
{
	uint32_t elem[2] = { htole32(head), htole32(written) };
	uint16_t *idx;

	if (!q->ready)
		return VIRTQ_E_NOTREADY;
	if (head >= q->size)
		return VIRTQ_E_INDEX;
	idx = ring_u16(q, q->used_gpa + 2);
	if (!idx || guest_mem_write(q->mem, used_ring_gpa(q, q->used_idx &
							  (q->size - 1)),
				    elem, sizeof(elem)))
		return VIRTQ_E_RING;
	q->used_idx++;
	/* Release: the element (and the data written into the buffers)
	 * is visible before the driver can see the new index. */
	__atomic_store_n(idx, htole16(q->used_idx), __ATOMIC_RELEASE);
	return VIRTQ_OK;
}

int virtq_should_notify(struct virtq *q)
{
	uint16_t *p, event, old, new = q->used_idx;
	int valid;

	if (!q->ready)
		return 0;
	/* Our used->idx store must be visible before we read the driver's
	 * flags/used_event, or both sides may decide nobody needs waking. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!q->event_idx) {
		p = ring_u16(q, q->avail_gpa);
		return p && !(le16toh(__atomic_load_n(p, __ATOMIC_RELAXED)) &
			      VIRTQ_AVAIL_F_NO_INTERRUPT);
	}
	p = ring_u16(q, avail_ring_gpa(q, q->size));
	if (!p)
		return 0;
	event = le16toh(__atomic_load_n(p, __ATOMIC_RELAXED));
	old = q->signalled_used;
	valid = q->signalled_valid;
	q->signalled_used = new;
	q->signalled_valid = 1;
	if (!valid)
		return 1;
	/* vring_need_event: did used_event fall in (old, new]? */
	return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
}

void virtq_set_avail_event(struct virtq *q)
{
	uint16_t *p;

	if (!q->ready || !q->event_idx)
		return;
	p = ring_u16(q, used_ring_gpa(q, q->size));
	if (!p)
		return;
	__atomic_store_n(p, htole16(q->last_avail), __ATOMIC_RELAXED);
	/* avail_event must be visible before the caller re-reads avail->idx,
	 * or a kick for an add in between could be skipped by the driver. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Copies across the buffers b[0..n), skipping off bytes: into dst from
 * the guest, or from src into the guest (exactly one of them is set). */
static long chain_copy(const struct virtq *q, const struct virtq_buf *b,
		       unsigned n, uint64_t off, uint8_t *dst,
		       const uint8_t *src, size_t len)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		uint64_t chunk;
		int r;

		if (off >= b[i].len) {
			off -= b[i].len;
			continue;
		}
		chunk = b[i].len - off;
		if (chunk > len - done)
			chunk = len - done;
		if (src)
			r = guest_mem_write(q->mem, b[i].gpa + off, src + done,
					    chunk);
		else
			r = guest_mem_read(q->mem, b[i].gpa + off, dst + done,
					   chunk);
		if (r)
			return -1;
		done += chunk;
		off = 0;
	}
	return (long)done;
}

long virtq_chain_read(const struct virtq *q, const struct virtq_chain *c,
		      uint64_t off, void *dst, size_t len)
{
	if (c->nr_out > VIRTQ_MAX_SIZE)
		return -1;
	if (!dst)
		return len ? -1 : 0;
	return chain_copy(q, c->buf, c->nr_out, off, dst, NULL, len);
}

long virtq_chain_write(const struct virtq *q, const struct virtq_chain *c,
		       uint64_t off, const void *src, size_t len)
{
	if (c->nr_out > VIRTQ_MAX_SIZE || c->nr_in > VIRTQ_MAX_SIZE - c->nr_out)
		return -1;
	if (!src)
		return len ? -1 : 0;
	return chain_copy(q, c->buf + c->nr_out, c->nr_in, off, NULL, src, len);
}

void virtq_reset(struct virtq *q)
{
	const struct guest_mem *mem = q->mem;

	*q = (struct virtq){ .mem = mem };
}
