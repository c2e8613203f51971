/* fuzz_virtqueue: the split-ring walker (devices/virtio/queue.c) against a
 * guest memory image the input supplies whole: descriptor table, avail
 * ring, indirect tables and buffers are all the input's bytes.
 *
 * Input:
 *   [0]     queue size 2 << (b % 8): 2..256
 *   [1]     bit 0 EVENT_IDX, bit 1 INDIRECT_DESC, bit 2 ring addresses
 *           from the input (3 x le16 follow: desc, avail, used), else
 *           desc at 0, avail and used packed after it
 *   [2]     number of ops (0: sixteen plain pops)
 *   ops     4 bytes each: kind, a, b, c (see run_op)
 *   rest    the memory image from gpa 0: region 0 is [0, 16 KiB), region
 *           1 is [16 KiB, 20 KiB) - adjacent for the guest, two separate
 *           heap blocks for the host, so ASan sees a range that spans them
 *
 * Beyond the sanitizers it checks the contract in virtqueue.h: a popped
 * chain holds only non-empty buffers wholly inside guest memory, writable
 * after readable, sums that add up and copies that go the whole way; a
 * pop changes no guest memory except avail_event, a chain write only its
 * writable buffers, a push only the used ring; an entry is consumed
 * exactly when the header says so.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_common.h"
#include "virtqueue.h"

#define MEM0 (16u << 10)
#define MEM1 (4u << 10)
#define MEMALL (MEM0 + MEM1)

static uint8_t snap[MEMALL];
static uint8_t scratch[64u << 10];

struct vq_env {
	struct guest_mem gm;
	uint8_t *mem0, *mem1;
	struct virtq q;
	struct virtq_chain c;
	int have_chain;
};

static uint8_t *byte_at(struct vq_env *e, uint64_t gpa)
{
	return gpa < MEM0 ? e->mem0 + gpa : e->mem1 + (gpa - MEM0);
}

static void take_snap(struct vq_env *e)
{
	memcpy(snap, e->mem0, MEM0);
	memcpy(snap + MEM0, e->mem1, MEM1);
}

/* Every byte changed since the snapshot lies in [lo, hi) or, when c is
 * given, inside one of its writable buffers.  The snapshot is brought up
 * to date as it goes, so it is taken whole only once per input. */
static void check_changes(struct vq_env *e, uint64_t lo, uint64_t hi,
			  const struct virtq_chain *c)
{
	uint64_t a = 0;

	for (;;) {
		int ok = 0;

		/* The next changed byte, region by region. */
		if (a < MEM0)
			a += fz_diff(e->mem0 + a, snap + a, MEM0 - a);
		if (a >= MEM0)
			a += fz_diff(e->mem1 + (a - MEM0), snap + a,
					   MEMALL - a);
		if (a >= MEMALL)
			return;
		if (a >= lo && a < hi)
			ok = 1;
		for (unsigned i = 0; c && !ok && i < c->nr_in; i++) {
			const struct virtq_buf *b = &c->buf[c->nr_out + i];

			ok = a >= b->gpa && a - b->gpa < b->len;
		}
		FZ_CHECK(ok);
		snap[a] = *byte_at(e, a);
		a++;
	}
}

static void check_chain(struct vq_env *e, const struct virtq_chain *c)
{
	uint64_t out = 0, in = 0;

	FZ_CHECK(c->head < e->q.size);
	FZ_CHECK(c->nr_out + c->nr_in <= VIRTQ_MAX_SIZE);
	for (unsigned i = 0; i < c->nr_out + c->nr_in; i++) {
		const struct virtq_buf *b = &c->buf[i];

		FZ_CHECK(b->len > 0);
		FZ_CHECK(guest_mem_ptr(&e->gm, b->gpa, b->len) != NULL);
		if (i < c->nr_out)
			out += b->len;
		else
			in += b->len;
	}
	FZ_CHECK(out == c->out_len && in == c->in_len);
}

static uint64_t avail_event_gpa(const struct virtq *q)
{
	return q->used_gpa + 4 + 8 * (uint64_t)q->size;
}

static int do_pop(struct vq_env *e)
{
	uint16_t before = e->q.last_avail;
	uint64_t ae = avail_event_gpa(&e->q);
	int r;

	r = virtq_pop(&e->q, &e->c);
	/* Only avail_event, and only with EVENT_IDX. */
	if (e->q.event_idx)
		check_changes(e, ae, ae + 2, NULL);
	else
		check_changes(e, 0, 0, NULL);
	switch (r) {
	case VIRTQ_OK:
		check_chain(e, &e->c);
		/* fall through */
	case VIRTQ_E_LOOP:
	case VIRTQ_E_ADDR:
	case VIRTQ_E_ORDER:
	case VIRTQ_E_INDIRECT:
		FZ_CHECK(e->q.last_avail == (uint16_t)(before + 1));
		break;
	case VIRTQ_EMPTY:
		FZ_CHECK(e->q.last_avail == before);
		break;
	case VIRTQ_E_INDEX:	/* a jump consumes nothing, a bad head one */
		FZ_CHECK(e->q.last_avail == before ||
			 e->q.last_avail == (uint16_t)(before + 1));
		break;
	default:
		FZ_CHECK(0);
	}
	e->have_chain = r == VIRTQ_OK;
	return r;
}

static void do_push(struct vq_env *e, uint16_t head, uint32_t written)
{
	uint16_t before = e->q.used_idx;
	int r;

	r = virtq_push(&e->q, head, written);
	check_changes(e, e->q.used_gpa, e->q.used_gpa + 4 + 8 * (uint64_t)e->q.size,
		      NULL);
	if (head < e->q.size)
		FZ_CHECK(r == VIRTQ_OK && e->q.used_idx == (uint16_t)(before + 1));
	else
		FZ_CHECK(r != VIRTQ_OK && e->q.used_idx == before);
}

/* Copies of at most this many bytes: enough to reach both ends of any
 * chain (which may hold 256 buffers of 16 KiB) without copying 4 MiB. */
#define PIECE (64u << 10)

/* Both ends of the chain both ways, then the pop's entry back. */
static void serve(struct vq_env *e, uint8_t a, uint8_t b)
{
	const struct virtq_chain *c = &e->c;
	uint64_t k;
	long n;

	k = c->out_len < PIECE ? c->out_len : PIECE;
	n = virtq_chain_read(&e->q, c, 0, scratch, k);
	FZ_CHECK(n == (long)k);
	n = virtq_chain_read(&e->q, c, c->out_len - k, scratch, PIECE);
	FZ_CHECK(n == (long)k);
	/* Partial read from an offset. */
	n = virtq_chain_read(&e->q, c, a, scratch, b);
	FZ_CHECK(n >= 0 && (uint64_t)n <= b);
	FZ_CHECK((uint64_t)n == (c->out_len > a ? (c->out_len - a < b ?
						      c->out_len - a : b) : 0));
	k = c->in_len < PIECE ? c->in_len : PIECE;
	memset(scratch, 0xa5, PIECE);
	n = virtq_chain_write(&e->q, c, 0, scratch, k);
	FZ_CHECK(n == (long)k);
	n = virtq_chain_write(&e->q, c, c->in_len - k, scratch, PIECE);
	FZ_CHECK(n == (long)k);
	check_changes(e, 0, 0, c);
	n = virtq_chain_write(&e->q, c, b, scratch, a);
	FZ_CHECK(n >= 0 && (uint64_t)n <= a);
	check_changes(e, 0, 0, c);
	do_push(e, c->head, (uint32_t)c->in_len);
}

static void run_op(struct vq_env *e, const uint8_t *op)
{
	uint8_t a = op[1], b = op[2], c = op[3];
	int r;

	switch (op[0] % 8) {
	case 0:		/* pop and serve the way a device does */
		r = do_pop(e);
		if (r == VIRTQ_OK)
			serve(e, a, b);
		else if (r < 0 && e->c.head < e->q.size && (c & 1))
			do_push(e, e->c.head, 0);
		if (c & 2)
			virtq_should_notify(&e->q);
		break;
	case 1:		/* pop only: the chain stays in hand */
		do_pop(e);
		break;
	case 2:		/* serve the chain in hand later */
		if (e->have_chain)
			serve(e, a, b);
		e->have_chain = 0;
		break;
	case 3:		/* any head, pushed */
		do_push(e, (uint16_t)(a | b << 8), c);
		break;
	case 4:
		virtq_should_notify(&e->q);
		break;
	case 5:
		virtq_set_avail_event(&e->q);
		check_changes(e, avail_event_gpa(&e->q),
			      avail_event_gpa(&e->q) + (e->q.event_idx ? 2 : 0),
			      NULL);
		break;
	case 6:		/* the guest writes memory meanwhile */
		*byte_at(e, (uint64_t)(a | b << 8) % MEMALL) = c;
		snap[(a | b << 8) % MEMALL] = c;
		break;
	case 7:		/* the rings once more: still fine */
		FZ_CHECK(virtq_check_rings(&e->q) == VIRTQ_OK);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	static struct vq_env e;
	uint16_t qsize = (uint16_t)(2u << (fz_u8(&f) % 8));
	uint8_t flags = fz_u8(&f);
	unsigned nops = fz_u8(&f);
	uint8_t ops[255 * 4];
	size_t img;

	memset(&e, 0, sizeof(e));
	e.mem0 = malloc(MEM0);
	e.mem1 = malloc(MEM1);
	if (!e.mem0 || !e.mem1 || guest_mem_add(&e.gm, 0, MEM0, e.mem0) ||
	    guest_mem_add(&e.gm, MEM0, MEM1, e.mem1))
		abort();
	e.q.mem = &e.gm;
	e.q.size = qsize;
	e.q.event_idx = flags & 1;
	e.q.indirect = (flags >> 1) & 1;
	if (flags & 4) {
		e.q.desc_gpa = fz_u16(&f) % MEMALL;
		e.q.avail_gpa = fz_u16(&f) % MEMALL;
		e.q.used_gpa = fz_u16(&f) % MEMALL;
	} else {
		e.q.desc_gpa = 0;
		e.q.avail_gpa = 16 * (uint64_t)qsize;
		e.q.used_gpa = (e.q.avail_gpa + 6 + 2 * (uint64_t)qsize + 3) & ~3ULL;
	}
	fz_take(&f, ops, nops * 4);
	img = f.n < MEM0 ? f.n : MEM0;
	memcpy(e.mem0, f.p, img);
	memset(e.mem0 + img, 0, MEM0 - img);
	f.p += img, f.n -= img;
	fz_take(&f, e.mem1, MEM1);

	take_snap(&e);
	if (virtq_check_rings(&e.q) == VIRTQ_OK) {
		e.q.ready = 1;
		if (!nops) {
			for (int i = 0; i < 16; i++)
				run_op(&e, (const uint8_t[4]){ 0, 0, 0xff, 3 });
		}
		for (unsigned i = 0; i < nops; i++)
			run_op(&e, ops + 4 * i);
	} else {
		/* Not ready: every call refuses, touches nothing. */
		FZ_CHECK(virtq_pop(&e.q, &e.c) == VIRTQ_E_NOTREADY);
		FZ_CHECK(virtq_push(&e.q, 0, 0) == VIRTQ_E_NOTREADY);
		FZ_CHECK(!virtq_should_notify(&e.q));
		virtq_set_avail_event(&e.q);
		check_changes(&e, 0, 0, NULL);
	}
	free(e.mem0);
	free(e.mem1);
	return 0;
}
