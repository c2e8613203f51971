/* virtqueue: the split ring as a hostile driver may fill it.  Good chains
 * (direct, indirect, across the 16-bit index wrap), the interrupt and kick
 * suppression of EVENT_IDX and NO_INTERRUPT, and each malformed chain
 * refused with its own error, after which the queue still works. */
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include "check.h"
#include "fake_virtq.h"

#define MEM_GPA 0x10000ULL
#define MEM_SIZE (1ULL << 20)

static struct fvq_mem m;
static struct fvq v;
static struct virtq q;
static struct virtq_chain c;

/* Fresh memory and a ready queue of the given size. */
static void setup(uint16_t size)
{
	fvq_mem_free(&m);
	fvq_mem_init(&m, MEM_GPA, MEM_SIZE);
	memset(&q, 0, sizeof(q));
	fvq_init(&v, &m, size, &q);
	CHECK_EQ(virtq_check_rings(&q), VIRTQ_OK);
}

/* A request that the queue must still take after an error. */
static void check_still_works(void)
{
	uint64_t out = fvq_put(&m, "ok", 2);
	uint16_t head = FVQ_ADD(&v, { out, 2, 0 });
	char buf[2] = { 0 };

	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_OK);
	CHECK_EQ(c.head, head);
	CHECK_EQ(virtq_chain_read(&q, &c, 0, buf, 2), 2);
	CHECK(!memcmp(buf, "ok", 2));
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_EMPTY);
}

TEST(simple_chain_round_trip)
{
	uint64_t out, in;
	uint16_t head;
	struct fvq_used u;
	char buf[8] = { 0 };

	setup(8);
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_EMPTY);
	out = fvq_put(&m, "request", 7);
	in = fvq_alloc(&m, 16, 8);
	head = FVQ_ADD(&v, { out, 7, 0 }, { in, 16, 1 });
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_OK);
	CHECK_EQ(c.head, head);
	CHECK_EQ(c.nr_out, 1);
	CHECK_EQ(c.nr_in, 1);
	CHECK_EQ(c.out_len, 7);
	CHECK_EQ(c.in_len, 16);
	CHECK_EQ(virtq_chain_read(&q, &c, 0, buf, sizeof(buf)), 7);
	CHECK(!memcmp(buf, "request", 7));
	CHECK_EQ(virtq_chain_write(&q, &c, 0, "reply", 5), 5);
	CHECK(!memcmp(fvq_ptr(&m, in, 5), "reply", 5));
	CHECK_EQ(fvq_get_used(&v, &u), 0);
	CHECK_EQ(virtq_push(&q, c.head, 5), VIRTQ_OK);
	CHECK_EQ(fvq_get_used(&v, &u), 1);
	CHECK_EQ(u.id, head);
	CHECK_EQ(u.len, 5);
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_EMPTY);
}

/* Bytes gathered and scattered across several buffers, at offsets. */
TEST(scatter_gather_with_offsets)
{
	uint64_t o1, o2, o3, i1, i2;
	char buf[16];

	setup(8);
	o1 = fvq_put(&m, "abc", 3);
	o2 = fvq_put(&m, "defg", 4);
	o3 = fvq_put(&m, "hi", 2);
	i1 = fvq_alloc(&m, 3, 1);
	i2 = fvq_alloc(&m, 5, 1);
	FVQ_ADD(&v, { o1, 3, 0 }, { o2, 4, 0 }, { o3, 2, 0 },
		{ i1, 3, 1 }, { i2, 5, 1 });
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_OK);
	CHECK_EQ(c.nr_out, 3);
	CHECK_EQ(c.nr_in, 2);
	CHECK_EQ(c.out_len, 9);
	CHECK_EQ(c.in_len, 8);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(virtq_chain_read(&q, &c, 2, buf, 5), 5);
	CHECK(!memcmp(buf, "cdefg", 5));
	CHECK_EQ(virtq_chain_read(&q, &c, 7, buf, 16), 2);	/* short */
	CHECK(!memcmp(buf, "hi", 2));
	CHECK_EQ(virtq_chain_read(&q, &c, 9, buf, 16), 0);
	CHECK_EQ(virtq_chain_read(&q, &c, ~0ULL, buf, 16), 0);
	CHECK_EQ(virtq_chain_write(&q, &c, 1, "WXYZ!!!!", 8), 7);
	CHECK(!memcmp(fvq_ptr(&m, i1, 3), "\0WX", 3));
	CHECK(!memcmp(fvq_ptr(&m, i2, 5), "YZ!!!", 5));
}

TEST(indirect_chain)
{
	uint64_t hdr, data, st;
	uint16_t head;
	char buf[8] = { 0 };

	setup(8);
	q.indirect = 1;
	hdr = fvq_put(&m, "HDR", 3);
	data = fvq_put(&m, "DATA", 4);
	st = fvq_alloc(&m, 1, 1);
	head = fvq_add_indirect(&v, (struct fvq_buf[]){
		{ hdr, 3, 0 }, { data, 4, 0 }, { st, 1, 1 } }, 3);
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_OK);
	CHECK_EQ(c.head, head);
	CHECK_EQ(c.nr_out, 2);
	CHECK_EQ(c.nr_in, 1);
	CHECK_EQ(virtq_chain_read(&q, &c, 0, buf, 7), 7);
	CHECK(!memcmp(buf, "HDRDATA", 7));
	CHECK_EQ(virtq_chain_write(&q, &c, 0, "\x01", 1), 1);
	CHECK_EQ(*(uint8_t *)fvq_ptr(&m, st, 1), 1);
	CHECK_EQ(virtq_push(&q, head, 1), VIRTQ_OK);
	check_still_works();
}

/* Direct descriptors may lead into one indirect table (it ends the
 * chain, since INDIRECT and NEXT exclude each other). */
TEST(direct_then_indirect)
{
	uint64_t a, tbl;

	setup(8);
	q.indirect = 1;
	a = fvq_put(&m, "A", 1);
	tbl = fvq_alloc(&m, 32, 16);
	fvq_write_desc(&m, tbl, 0, fvq_put(&m, "B", 1), 1, VIRTQ_DESC_F_NEXT, 1);
	fvq_write_desc(&m, tbl, 1, fvq_alloc(&m, 4, 4), 4, VIRTQ_DESC_F_WRITE, 0);
	fvq_set_desc(&v, 0, a, 1, VIRTQ_DESC_F_NEXT, 1);
	fvq_set_desc(&v, 1, tbl, 32, VIRTQ_DESC_F_INDIRECT, 0);
	fvq_publish(&v, 0);
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_OK);
	CHECK_EQ(c.nr_out, 2);
	CHECK_EQ(c.nr_in, 1);
	CHECK_EQ(c.in_len, 4);
}

/* avail->idx and used->idx are free-running 16-bit counters. */
TEST(indices_wrap_around)
{
	const uint16_t start = 0xfffa;
	struct fvq_used u;

	setup(4);
	fvq_set_avail_idx(&v, start);
	q.last_avail = q.used_idx = start;
	v.last_used = start;
	*(uint16_t *)fvq_ptr(&m, v.used + 2, 2) = htole16(start);
	for (unsigned n = 0; n < 20; n++) {
		uint64_t in = fvq_alloc(&m, 4, 4);
		uint16_t head = FVQ_ADD(&v, { in, 4, 1 });
		uint32_t val = n;

		CHECK_EQ(virtq_pop(&q, &c), VIRTQ_OK);
		CHECK_EQ(c.head, head);
		CHECK_EQ(virtq_chain_write(&q, &c, 0, &val, 4), 4);
		CHECK_EQ(virtq_push(&q, c.head, 4), VIRTQ_OK);
		CHECK_EQ(virtq_pop(&q, &c), VIRTQ_EMPTY);
		CHECK_EQ(fvq_get_used(&v, &u), 1);
		CHECK_EQ(u.id, head);
		CHECK_EQ(*(uint32_t *)fvq_ptr(&m, in, 4), n);
	}
	CHECK_EQ(q.last_avail, (uint16_t)(start + 20));
	CHECK_EQ(fvq_used_idx(&v), (uint16_t)(start + 20));
	/* A full ring's worth pending across the wrap is fine too. */
	for (unsigned n = 0; n < 4; n++)
		FVQ_ADD(&v, { fvq_alloc(&m, 1, 1), 1, 1 });
	for (unsigned n = 0; n < 4; n++)
		CHECK_EQ(virtq_pop(&q, &c), VIRTQ_OK);
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_EMPTY);
}

/* Pushes one used element for a fresh one-buffer chain. */
static void complete_one(void)
{
	FVQ_ADD(&v, { fvq_alloc(&m, 1, 1), 1, 1 });
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_OK);
	CHECK_EQ(virtq_push(&q, c.head, 1), VIRTQ_OK);
}

TEST(no_interrupt_flag_without_event_idx)
{
	setup(8);
	complete_one();
	CHECK_EQ(virtq_should_notify(&q), 1);
	fvq_set_avail_flags(&v, VIRTQ_AVAIL_F_NO_INTERRUPT);
	complete_one();
	CHECK_EQ(virtq_should_notify(&q), 0);
	fvq_set_avail_flags(&v, 0);
	complete_one();
	CHECK_EQ(virtq_should_notify(&q), 1);
	/* Without EVENT_IDX, used_event means nothing. */
	fvq_set_used_event(&v, 100);
	complete_one();
	CHECK_EQ(virtq_should_notify(&q), 1);
}

/* vring_need_event(used_event, new, old): interrupt when used->idx
 * passes used_event since the last interrupt decision. */
TEST(event_idx_notify_decisions)
{
	setup(8);
	q.event_idx = 1;
	fvq_set_avail_flags(&v, VIRTQ_AVAIL_F_NO_INTERRUPT);	/* ignored */
	fvq_set_used_event(&v, 0x8000);
	complete_one();					/* used 1 */
	CHECK_EQ(virtq_should_notify(&q), 1);	/* first decision: yes */
	fvq_set_used_event(&v, 0);
	CHECK_EQ(virtq_should_notify(&q), 0);	/* nothing new */
	complete_one();					/* used 2 */
	CHECK_EQ(virtq_should_notify(&q), 0);	/* event 0 already passed */
	fvq_set_used_event(&v, 2);
	complete_one();					/* used 3 */
	CHECK_EQ(virtq_should_notify(&q), 1);	/* 2 -> 3 crosses event 2 */
	fvq_set_used_event(&v, 5);
	complete_one();					/* used 4 */
	CHECK_EQ(virtq_should_notify(&q), 0);
	complete_one();					/* used 5 */
	CHECK_EQ(virtq_should_notify(&q), 0);	/* event 5 needs idx 6 */
	complete_one();					/* used 6 */
	CHECK_EQ(virtq_should_notify(&q), 1);
	/* Several pushes in one batch: crossed somewhere in (old, new]. */
	fvq_set_used_event(&v, 7);
	complete_one();
	complete_one();
	complete_one();					/* used 9 */
	CHECK_EQ(virtq_should_notify(&q), 1);
	/* An event far behind (driver asleep) gives no interrupt. */
	fvq_set_used_event(&v, 3);
	complete_one();
	CHECK_EQ(virtq_should_notify(&q), 0);
}

TEST(event_idx_across_wrap)
{
	setup(8);
	q.event_idx = 1;
	q.used_idx = q.signalled_used = 0xfffe;
	q.signalled_valid = 1;
	fvq_set_used_event(&v, 0xffff);
	complete_one();				/* 0xffff: not yet past */
	CHECK_EQ(virtq_should_notify(&q), 0);
	complete_one();				/* 0x0000: past 0xffff */
	CHECK_EQ(virtq_should_notify(&q), 1);
	CHECK_EQ(q.used_idx, 0);
}

/* EVENT_IDX: an empty pop asks to be kicked at the next avail index. */
TEST(avail_event_published_on_empty)
{
	setup(8);
	q.event_idx = 1;
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_EMPTY);
	CHECK_EQ(fvq_avail_event(&v), 0);
	FVQ_ADD(&v, { fvq_alloc(&m, 1, 1), 1, 1 });
	FVQ_ADD(&v, { fvq_alloc(&m, 1, 1), 1, 1 });
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_OK);
	CHECK_EQ(fvq_avail_event(&v), 0);	/* busy: kicks not needed */
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_OK);
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_EMPTY);
	CHECK_EQ(fvq_avail_event(&v), 2);
	virtq_set_avail_event(&q);
	CHECK_EQ(fvq_avail_event(&v), 2);

	/* Without EVENT_IDX the used ring's tail is never written. */
	setup(8);
	*(uint16_t *)fvq_ptr(&m, v.used + 4 + 8 * 8, 2) = 0x1234;
	FVQ_ADD(&v, { fvq_alloc(&m, 1, 1), 1, 1 });
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_OK);
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_EMPTY);
	virtq_set_avail_event(&q);
	CHECK_EQ(fvq_avail_event(&v), 0x1234);
}

TEST(loop_two_descriptors)
{
	uint64_t b;

	setup(8);
	b = fvq_put(&m, "xx", 2);
	fvq_set_desc(&v, 3, b, 2, VIRTQ_DESC_F_NEXT, 5);
	fvq_set_desc(&v, 5, b, 2, VIRTQ_DESC_F_NEXT, 3);
	fvq_publish(&v, 3);
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_E_LOOP);
	v.next_desc = 0;
	check_still_works();
}

TEST(self_loop)
{
	uint64_t b;

	setup(8);
	b = fvq_alloc(&m, 8, 8);
	fvq_set_desc(&v, 2, b, 8, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	fvq_publish(&v, 2);
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_E_LOOP);
	/* Empty buffers are dropped, but their hops still count. */
	fvq_set_desc(&v, 4, 0, 0, VIRTQ_DESC_F_NEXT, 4);
	fvq_publish(&v, 4);
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_E_LOOP);
	check_still_works();
}

/* Every index valid, every next in range: the chain visits all of the
 * table and comes back.  Also in an indirect table. */
TEST(chain_longer_than_queue)
{
	uint64_t b, tbl;

	setup(4);
	b = fvq_put(&m, "x", 1);
	for (unsigned i = 0; i < 4; i++)
		fvq_set_desc(&v, i, b, 1, VIRTQ_DESC_F_NEXT, (i + 1) % 4);
	fvq_publish(&v, 1);
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_E_LOOP);
	check_still_works();

	setup(4);
	q.indirect = 1;
	b = fvq_put(&m, "x", 1);
	tbl = fvq_alloc(&m, 3 * 16, 16);
	for (unsigned i = 0; i < 3; i++)
		fvq_write_desc(&m, tbl, i, b, 1, VIRTQ_DESC_F_NEXT, (i + 1) % 3);
	fvq_set_desc(&v, 0, tbl, 48, VIRTQ_DESC_F_INDIRECT, 0);
	fvq_publish(&v, 0);
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_E_LOOP);
	v.next_desc = 1;
	check_still_works();
}

/* Direct descriptors plus a full indirect table exceed what one chain
 * may carry (VIRTQ_MAX_SIZE buffers). */
TEST(total_buffers_bounded)
{
	uint64_t b, tbl;

	setup(4);
	q.indirect = 1;
	b = fvq_put(&m, "x", 1);
	tbl = fvq_alloc(&m, VIRTQ_MAX_SIZE * 16, 16);
	for (unsigned i = 0; i < VIRTQ_MAX_SIZE; i++)
		fvq_write_desc(&m, tbl, i, b, 1,
			       i + 1 < VIRTQ_MAX_SIZE ? VIRTQ_DESC_F_NEXT : 0,
			       (uint16_t)(i + 1));
	fvq_set_desc(&v, 0, b, 1, VIRTQ_DESC_F_NEXT, 1);
	fvq_set_desc(&v, 1, tbl, VIRTQ_MAX_SIZE * 16, VIRTQ_DESC_F_INDIRECT, 0);
	fvq_publish(&v, 0);
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_E_LOOP);
	/* The same table alone is exactly the limit: fine. */
	fvq_set_desc(&v, 2, tbl, VIRTQ_MAX_SIZE * 16, VIRTQ_DESC_F_INDIRECT, 0);
	fvq_publish(&v, 2);
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_OK);
	CHECK_EQ(c.nr_out, VIRTQ_MAX_SIZE);
}

TEST(next_out_of_range)
{
	setup(8);
	fvq_set_desc(&v, 0, fvq_put(&m, "x", 1), 1, VIRTQ_DESC_F_NEXT, 8);
	fvq_publish(&v, 0);
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_E_INDEX);
	fvq_set_desc(&v, 0, fvq_put(&m, "x", 1), 1, VIRTQ_DESC_F_NEXT, 0xffff);
	fvq_publish(&v, 0);
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_E_INDEX);
	check_still_works();
}

TEST(head_out_of_range)
{
	setup(8);
	fvq_publish(&v, 8);
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_E_INDEX);
	CHECK_EQ(c.head, 8);
	CHECK_EQ(virtq_push(&q, 8, 0), VIRTQ_E_INDEX);	/* cannot return it */
	fvq_publish(&v, 0xffff);
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_E_INDEX);
	check_still_works();
}

TEST(buffer_outside_memory)
{
	setup(8);
	/* Wholly outside, below and above. */
	FVQ_ADD(&v, { 0x1000, 16, 0 });
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_E_ADDR);
	FVQ_ADD(&v, { MEM_GPA + MEM_SIZE, 1, 1 });
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_E_ADDR);
	/* Starts inside, ends one byte past the end. */
	FVQ_ADD(&v, { MEM_GPA + MEM_SIZE - 16, 17, 1 });
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_E_ADDR);
	/* The second buffer of an otherwise good chain. */
	FVQ_ADD(&v, { fvq_put(&m, "x", 1), 1, 0 }, { MEM_GPA - 1, 2, 1 });
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_E_ADDR);
	/* Exactly up to the end is fine. */
	FVQ_ADD(&v, { MEM_GPA + MEM_SIZE - 16, 16, 1 });
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_OK);
	check_still_works();
}

/* kvmtool checks only where a buffer starts; a start inside memory with a
 * length that wraps past 2^64 must not pass. */
TEST(buffer_gpa_len_overflow)
{
	struct fvq_mem hi;

	setup(8);
	FVQ_ADD(&v, { 0xffffffffffffff00ULL, 0x200, 1 });
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_E_ADDR);
	FVQ_ADD(&v, { MEM_GPA + 0x100, 0xffffffff, 0 });
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_E_ADDR);
	check_still_works();

	/* Memory up to the last byte below 2^64: the start is inside, the
	 * end wraps. */
	fvq_mem_init(&hi, 0xffffffffffff0000ULL, 0xffff);
	m.gm.region[m.gm.nr_regions++] = hi.gm.region[0];
	FVQ_ADD(&v, { 0xffffffffffffff00ULL, 0x200, 1 });
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_E_ADDR);
	FVQ_ADD(&v, { 0xffffffffffffff00ULL, 0x100, 1 });
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_E_ADDR);
	FVQ_ADD(&v, { 0xffffffffffffff00ULL, 0xff, 1 });
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_OK);
	m.gm.nr_regions--;
	fvq_mem_free(&hi);
}

/* Zero-length buffers carry nothing: allowed anywhere, address unused. */
TEST(zero_length_buffers)
{
	uint64_t out, in;
	char buf[4];

	setup(8);
	out = fvq_put(&m, "abcd", 4);
	in = fvq_alloc(&m, 4, 4);
	FVQ_ADD(&v, { 0xdead00000000ULL, 0, 0 }, { out, 4, 0 },
		{ 0xffffffffffffffffULL, 0, 1 }, { in, 4, 1 },
		{ 0, 0, 0 });
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_OK);
	CHECK_EQ(c.nr_out, 1);
	CHECK_EQ(c.nr_in, 1);
	CHECK_EQ(virtq_chain_read(&q, &c, 0, buf, 4), 4);
	CHECK(!memcmp(buf, "abcd", 4));
	CHECK_EQ(virtq_chain_write(&q, &c, 0, "wxyz", 4), 4);
	CHECK(!memcmp(fvq_ptr(&m, in, 4), "wxyz", 4));
	/* A chain of nothing but an empty buffer. */
	FVQ_ADD(&v, { 0, 0, 1 });
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_OK);
	CHECK_EQ(c.nr_out + c.nr_in, 0);
	CHECK_EQ(virtq_chain_write(&q, &c, 0, "x", 1), 0);
	CHECK_EQ(virtq_push(&q, c.head, 0), VIRTQ_OK);
}

TEST(writable_before_readable)
{
	uint64_t tbl;

	setup(8);
	FVQ_ADD(&v, { fvq_alloc(&m, 4, 4), 4, 1 }, { fvq_put(&m, "x", 1), 1, 0 });
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_E_ORDER);
	check_still_works();
	/* Inside an indirect table too. */
	q.indirect = 1;
	fvq_add_indirect(&v, (struct fvq_buf[]){
		{ fvq_put(&m, "x", 1), 1, 0 }, { fvq_alloc(&m, 4, 4), 4, 1 },
		{ fvq_put(&m, "y", 1), 1, 0 } }, 3);
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_E_ORDER);
	/* A writable direct buffer then a readable one in the table. */
	tbl = fvq_alloc(&m, 16, 16);
	fvq_write_desc(&m, tbl, 0, fvq_put(&m, "z", 1), 1, 0, 0);
	fvq_set_desc(&v, 6, fvq_alloc(&m, 4, 4), 4,
		     VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 7);
	fvq_set_desc(&v, 7, tbl, 16, VIRTQ_DESC_F_INDIRECT, 0);
	fvq_publish(&v, 6);
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_E_ORDER);
	v.next_desc = 0;
	check_still_works();
}

TEST(indirect_without_feature)
{
	setup(8);
	fvq_add_indirect(&v, (struct fvq_buf[]){
		{ fvq_put(&m, "x", 1), 1, 0 } }, 1);
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_E_INDIRECT);
	check_still_works();
}

TEST(nested_indirect)
{
	uint64_t inner, outer;

	setup(8);
	q.indirect = 1;
	inner = fvq_alloc(&m, 16, 16);
	fvq_write_desc(&m, inner, 0, fvq_put(&m, "x", 1), 1, 0, 0);
	outer = fvq_alloc(&m, 16, 16);
	fvq_write_desc(&m, outer, 0, inner, 16, VIRTQ_DESC_F_INDIRECT, 0);
	fvq_set_desc(&v, 0, outer, 16, VIRTQ_DESC_F_INDIRECT, 0);
	fvq_publish(&v, 0);
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_E_INDIRECT);
	v.next_desc = 1;
	check_still_works();
}

TEST(indirect_with_next)
{
	uint64_t tbl;

	setup(8);
	q.indirect = 1;
	tbl = fvq_alloc(&m, 16, 16);
	fvq_write_desc(&m, tbl, 0, fvq_put(&m, "x", 1), 1, 0, 0);
	fvq_set_desc(&v, 0, tbl, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	fvq_set_desc(&v, 1, fvq_put(&m, "y", 1), 1, 0, 0);
	fvq_publish(&v, 0);
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_E_INDIRECT);
	v.next_desc = 2;
	check_still_works();
}

TEST(indirect_table_bad)
{
	uint64_t tbl;

	setup(8);
	q.indirect = 1;
	tbl = fvq_alloc(&m, (VIRTQ_MAX_SIZE + 1) * 16, 16);
	for (unsigned i = 0; i <= VIRTQ_MAX_SIZE; i++)
		fvq_write_desc(&m, tbl, i, fvq_put(&m, "x", 1), 1, 0, 0);
	/* Lengths: zero, not a multiple of 16, more than VIRTQ_MAX_SIZE. */
	fvq_set_desc(&v, 0, tbl, 0, VIRTQ_DESC_F_INDIRECT, 0);
	fvq_set_desc(&v, 1, tbl, 17, VIRTQ_DESC_F_INDIRECT, 0);
	fvq_set_desc(&v, 2, tbl, 8, VIRTQ_DESC_F_INDIRECT, 0);
	fvq_set_desc(&v, 3, tbl, (VIRTQ_MAX_SIZE + 1) * 16,
		     VIRTQ_DESC_F_INDIRECT, 0);
	for (uint16_t i = 0; i < 4; i++) {
		fvq_publish(&v, i);
		CHECK_EQ(virtq_pop(&q, &c), VIRTQ_E_INDIRECT);
	}
	/* Tables outside memory, or running off its end, or wrapping. */
	fvq_set_desc(&v, 4, 0x2000, 32, VIRTQ_DESC_F_INDIRECT, 0);
	fvq_set_desc(&v, 5, MEM_GPA + MEM_SIZE - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
	fvq_set_desc(&v, 6, 0xfffffffffffffff0ULL, 32, VIRTQ_DESC_F_INDIRECT, 0);
	for (uint16_t i = 4; i < 7; i++) {
		fvq_publish(&v, i);
		CHECK_EQ(virtq_pop(&q, &c), VIRTQ_E_ADDR);
	}
	/* The last index of a good table, next pointing past it. */
	fvq_write_desc(&m, tbl, 1, fvq_put(&m, "x", 1), 1, VIRTQ_DESC_F_NEXT, 2);
	fvq_set_desc(&v, 7, tbl + 16, 16, VIRTQ_DESC_F_INDIRECT, 0);
	fvq_publish(&v, 7);
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_E_INDEX);
	v.next_desc = 0;
	check_still_works();
}

/* A driver claiming more than size new entries is lying: nothing is
 * consumed, and once the index is sane again the queue goes on. */
TEST(avail_idx_jump)
{
	setup(8);
	fvq_set_avail_idx(&v, 9);
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_E_INDEX);
	CHECK_EQ(q.last_avail, 0);
	fvq_set_avail_idx(&v, 0xffff);		/* "behind" us */
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_E_INDEX);
	CHECK_EQ(q.last_avail, 0);
	fvq_set_avail_idx(&v, 0);
	check_still_works();
}

TEST(check_rings_refuses_bad_layout)
{
	struct virtq good;

	setup(8);
	good = q;
	for (unsigned size = 0; size <= 2 * VIRTQ_MAX_SIZE; size++) {
		q = good;
		q.size = (uint16_t)size;
		q.desc_gpa = q.avail_gpa = q.used_gpa = MEM_GPA;
		CHECK_EQ(virtq_check_rings(&q) == VIRTQ_OK,
			 size && size <= VIRTQ_MAX_SIZE && !(size & (size - 1)));
	}
	q = good;
	q.size = 0xffff;
	CHECK_EQ(virtq_check_rings(&q), VIRTQ_E_RING);

	/* Each ring outside, straddling the end, or misaligned. */
	const uint64_t end = MEM_GPA + MEM_SIZE;
	struct { uint64_t *gpa; uint64_t len, align; } ring[3];
	for (unsigned r = 0; r < 3; r++) {
		q = good;
		ring[0].gpa = &q.desc_gpa, ring[0].len = 16 * 8, ring[0].align = 16;
		ring[1].gpa = &q.avail_gpa, ring[1].len = 6 + 2 * 8, ring[1].align = 2;
		ring[2].gpa = &q.used_gpa, ring[2].len = 6 + 8 * 8, ring[2].align = 4;
		*ring[r].gpa = 0;
		CHECK_EQ(virtq_check_rings(&q), VIRTQ_E_RING);
		*ring[r].gpa = end;
		CHECK_EQ(virtq_check_rings(&q), VIRTQ_E_RING);
		*ring[r].gpa = ((end - ring[r].len) & ~(ring[r].align - 1)) +
			       ring[r].align;
		CHECK_EQ(virtq_check_rings(&q), VIRTQ_E_RING);
		*ring[r].gpa = 0xffffffffffffff00ULL;
		CHECK_EQ(virtq_check_rings(&q), VIRTQ_E_RING);
		*ring[r].gpa = MEM_GPA + 0x8001;
		CHECK_EQ(virtq_check_rings(&q), VIRTQ_E_RING);
		*ring[r].gpa = MEM_GPA + 0x8000 + ring[r].align / 2;
		CHECK_EQ(virtq_check_rings(&q), VIRTQ_E_RING);
		/* Fits exactly at the end, aligned: accepted. */
		*ring[r].gpa = (end - ring[r].len) & ~(ring[r].align - 1);
		CHECK_EQ(virtq_check_rings(&q), VIRTQ_OK);
	}
	q = good;
	q.mem = NULL;
	CHECK_EQ(virtq_check_rings(&q), VIRTQ_E_RING);

	/* A region whose host block is aligned differently from its gpa:
	 * both the guest address and the host pointer must be aligned. */
	struct fvq_mem odd;
	fvq_mem_init(&odd, 0x40000008, 0x10000);
	q = good;
	q.mem = &odd.gm;
	q.avail_gpa = 0x40002000;
	q.used_gpa = 0x40003000;
	q.desc_gpa = 0x40000008;	/* host pointer aligned, gpa not */
	CHECK_EQ(virtq_check_rings(&q), VIRTQ_E_RING);
	q.desc_gpa = 0x40000010;	/* gpa aligned, host pointer not */
	CHECK_EQ(virtq_check_rings(&q), VIRTQ_E_RING);
	q.desc_gpa = 0x40000018;	/* both 8 apart: host 16-aligned */
	CHECK_EQ(virtq_check_rings(&q), VIRTQ_E_RING);
	fvq_mem_free(&odd);
}

TEST(not_ready_and_reset)
{
	setup(8);
	FVQ_ADD(&v, { fvq_put(&m, "x", 1), 1, 0 });
	q.ready = 0;
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_E_NOTREADY);
	CHECK_EQ(virtq_push(&q, 0, 0), VIRTQ_E_NOTREADY);
	CHECK_EQ(virtq_should_notify(&q), 0);
	q.ready = 1;
	CHECK_EQ(virtq_pop(&q, &c), VIRTQ_OK);
	CHECK_EQ(virtq_push(&q, c.head, 0), VIRTQ_OK);
	virtq_reset(&q);
	CHECK(q.mem == &m.gm);
	CHECK_EQ(q.ready, 0);
	CHECK_EQ(q.size, 0);
	CHECK_EQ(q.last_avail, 0);
	CHECK_EQ(q.used_idx, 0);
	CHECK_EQ(q.signalled_valid, 0);
	CHECK_EQ(q.desc_gpa | q.avail_gpa | q.used_gpa, 0);
	CHECK_EQ(q.event_idx | q.indirect, 0);
	/* Set up again from scratch, as after a device reset. */
	memset(m.host, 0, MEM_SIZE);
	m.next = MEM_GPA;
	fvq_init(&v, &m, 8, &q);
	check_still_works();
}

/* A driver thread and a device thread sharing one ring: every request
 * comes back once, with its payload, whatever the interleaving. */
#define STRESS_N 20000
#define STRESS_SECONDS 10	/* a lost update fails instead of hanging */

static int past_deadline(time_t start)
{
	return time(NULL) - start > STRESS_SECONDS;
}

struct stress {
	uint64_t bufs[16];
	unsigned served;
	int finished;
};

static void *device_thread(void *arg)
{
	struct stress *s = arg;
	struct virtq_chain dc;
	unsigned served = 0;
	time_t start = time(NULL);

	while (served < STRESS_N && !past_deadline(start)) {
		uint32_t val;
		int r = virtq_pop(&q, &dc);

		if (r == VIRTQ_EMPTY) {
			sched_yield();
			continue;
		}
		if (r != VIRTQ_OK || virtq_chain_read(&q, &dc, 0, &val, 4) != 4)
			break;
		val = ~val;
		if (virtq_chain_write(&q, &dc, 0, &val, 4) != 4 ||
		    virtq_push(&q, dc.head, 4))
			break;
		virtq_should_notify(&q);
		served++;
	}
	s->served = served;
	__atomic_store_n(&s->finished, 1, __ATOMIC_RELEASE);
	return NULL;
}

TEST(concurrent_driver_and_device)
{
	static struct stress s;
	pthread_t t;
	unsigned sent = 0, got = 0, bad = 0;
	uint16_t inflight = 0;
	time_t start = time(NULL);

	setup(16);
	q.event_idx = 1;
	q.indirect = 1;
	for (unsigned i = 0; i < 16; i++)
		s.bufs[i] = fvq_alloc(&m, 8, 8);
	CHECK_EQ(pthread_create(&t, NULL, device_thread, &s), 0);
	while (got < STRESS_N && !past_deadline(start)) {
		struct fvq_used u;

		while (sent < STRESS_N && inflight < 16) {
			uint16_t head = v.next_desc;
			uint64_t b = s.bufs[head];
			uint32_t val = sent;

			memcpy(fvq_ptr(&m, b, 4), &val, 4);
			FVQ_ADD(&v, { b, 4, 0 }, { b + 4, 4, 1 });
			sent++;
			inflight += 2;
		}
		if (!fvq_get_used(&v, &u)) {
			if (__atomic_load_n(&s.finished, __ATOMIC_ACQUIRE) &&
			    fvq_used_idx(&v) == v.last_used)
				break;	/* the device gave up */
			sched_yield();
			continue;
		}
		uint32_t in, out;
		memcpy(&in, fvq_ptr(&m, s.bufs[u.id], 4), 4);
		memcpy(&out, fvq_ptr(&m, s.bufs[u.id] + 4, 4), 4);
		bad += out != ~in || u.len != 4;
		inflight -= 2;
		got++;
	}
	pthread_join(t, NULL);
	CHECK_EQ(s.served, STRESS_N);
	CHECK_EQ(got, STRESS_N);
	CHECK_EQ(bad, 0);
}

int main(void)
{
	RUN(simple_chain_round_trip);
	RUN(scatter_gather_with_offsets);
	RUN(indirect_chain);
	RUN(direct_then_indirect);
	RUN(indices_wrap_around);
	RUN(no_interrupt_flag_without_event_idx);
	RUN(event_idx_notify_decisions);
	RUN(event_idx_across_wrap);
	RUN(avail_event_published_on_empty);
	RUN(loop_two_descriptors);
	RUN(self_loop);
	RUN(chain_longer_than_queue);
	RUN(total_buffers_bounded);
	RUN(next_out_of_range);
	RUN(head_out_of_range);
	RUN(buffer_outside_memory);
	RUN(buffer_gpa_len_overflow);
	RUN(zero_length_buffers);
	RUN(writable_before_readable);
	RUN(indirect_without_feature);
	RUN(nested_indirect);
	RUN(indirect_with_next);
	RUN(indirect_table_bad);
	RUN(avail_idx_jump);
	RUN(check_rings_refuses_bad_layout);
	RUN(not_ready_and_reset);
	RUN(concurrent_driver_and_device);
	fvq_mem_free(&m);
	return CHECK_DONE();
}
