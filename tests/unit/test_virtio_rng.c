/* virtio-rng driven by a fake guest driver through the virtio-mmio
 * transport: buffers filled and their length reported, the per-request
 * cap, and hostile chains ending in NEEDS_RESET, never a crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fake_virtq.h"
#include "virtio_rng.h"

#define MEM_GPA		0x100000ULL
#define MEM_SIZE	(4ULL << 20)
#define QSIZE		16

struct env {
	struct fvq_mem m;
	struct fvq v;
	struct fvq_irq irq;
	struct irq_line line;
	struct virtio_rng *r;
	struct virtio_dev *d;
};

static void setup(struct env *e)
{
	memset(e, 0, sizeof(*e));
	fvq_mem_init(&e->m, MEM_GPA, MEM_SIZE);
	e->line = fvq_irq_line(&e->irq, 18);
	e->r = virtio_rng_create(&e->m.gm, &e->line);
	if (!e->r)
		abort();
	e->d = virtio_rng_dev(e->r);
}

static int start(struct env *e)
{
	fvq_init(&e->v, &e->m, QSIZE, NULL);
	return fvq_start(e->d, &e->v, 1, 0);
}

static void teardown(struct env *e)
{
	virtio_rng_destroy(e->r);
	fvq_mem_free(&e->m);
}

static uint32_t status(struct env *e)
{
	return fvq_mmio_read(e->d, VIRTIO_MMIO_STATUS);
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* One request of a single writable buffer of len bytes; returns the
 * length the device reported (or -1 when nothing came back). */
static long request(struct env *e, uint64_t gpa, uint32_t len)
{
	struct fvq_used u;
	uint16_t h = FVQ_ADD(&e->v, { gpa, len, 1 });

	fvq_kick(e->d, 0);
	if (!fvq_get_used(&e->v, &u) || u.id != h)
		return -1;
	return u.len;
}

TEST(test_id_and_features)
{
	struct env e;

	setup(&e);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_ENTROPY);
	/* Only the transport's ring bits and VERSION_1: rng has none. */
	fvq_mmio_write(e.d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_DEVICE_FEATURES),
		 1u << VIRTIO_F_RING_INDIRECT_DESC |
		 1u << VIRTIO_F_RING_EVENT_IDX);
	fvq_mmio_write(e.d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_DEVICE_FEATURES), 1);
	fvq_mmio_write(e.d, VIRTIO_MMIO_QUEUE_SEL, 0);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_QUEUE_NUM_MAX),
		 VIRTIO_RNG_QUEUE_SIZE);
	fvq_mmio_write(e.d, VIRTIO_MMIO_QUEUE_SEL, 1);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	/* No config space: reads are zero. */
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_CONFIG), 0);
	teardown(&e);
}

TEST(test_bytes_written_and_reported)
{
	struct env e;
	struct fvq_used u;
	uint64_t a, b[3];
	uint16_t h;

	setup(&e);
	CHECK_EQ(start(&e), 0);
	a = fvq_alloc(&e.m, 64, 8);
	/* 48 of 64 bytes offered: exactly those are written. */
	CHECK_EQ(request(&e, a, 48), 48);
	CHECK(!all_zero(fvq_ptr(&e.m, a, 48), 48));
	CHECK(all_zero(fvq_ptr(&e.m, a + 48, 16), 16));
	CHECK_EQ(e.irq.pulses, 1);

	/* Across a chain of three buffers, the used length is the sum. */
	for (unsigned i = 0; i < 3; i++)
		b[i] = fvq_alloc(&e.m, 32, 8);
	h = FVQ_ADD(&e.v, { b[0], 32, 1 }, { b[1], 32, 1 }, { b[2], 5, 1 });
	fvq_kick(e.d, 0);
	CHECK(fvq_get_used(&e.v, &u) && u.id == h && u.len == 69);
	CHECK(!all_zero(fvq_ptr(&e.m, b[0], 32), 32));
	CHECK(!all_zero(fvq_ptr(&e.m, b[1], 32), 32));
	CHECK(all_zero(fvq_ptr(&e.m, b[2] + 5, 27), 27));
	CHECK_EQ(e.irq.pulses, 2);

	/* Several requests in one kick: one interrupt. */
	for (unsigned i = 0; i < 3; i++)
		FVQ_ADD(&e.v, { b[i], 32, 1 });
	fvq_kick(e.d, 0);
	for (unsigned i = 0; i < 3; i++)
		CHECK(fvq_get_used(&e.v, &u) && u.len == 32);
	CHECK_EQ(e.irq.pulses, 3);
	CHECK(!(status(&e) & VIRTIO_STATUS_NEEDS_RESET));
	teardown(&e);
}

TEST(test_two_requests_differ)
{
	struct env e;
	uint64_t a, b;

	setup(&e);
	CHECK_EQ(start(&e), 0);
	a = fvq_alloc(&e.m, 32, 8);
	b = fvq_alloc(&e.m, 32, 8);
	CHECK_EQ(request(&e, a, 32), 32);
	CHECK_EQ(request(&e, b, 32), 32);
	CHECK(memcmp(fvq_ptr(&e.m, a, 32), fvq_ptr(&e.m, b, 32), 32));
	teardown(&e);
}

/* A 1 MiB buffer gets VIRTIO_RNG_MAX_REQ bytes; the rest is untouched.
 * Through an indirect table too, spread over two buffers. */
TEST(test_huge_buffer_capped)
{
	const uint32_t big = 1u << 20;
	struct env e;
	struct fvq_used u;
	uint64_t a, b;
	uint16_t h;

	setup(&e);
	fvq_init(&e.v, &e.m, QSIZE, NULL);
	CHECK_EQ(fvq_start(e.d, &e.v, 1, 1ULL << VIRTIO_F_RING_INDIRECT_DESC), 0);
	a = fvq_alloc(&e.m, big, 8);
	CHECK_EQ(request(&e, a, big), VIRTIO_RNG_MAX_REQ);
	CHECK(!all_zero(fvq_ptr(&e.m, a + VIRTIO_RNG_MAX_REQ - 64, 64), 64));
	CHECK(all_zero(fvq_ptr(&e.m, a + VIRTIO_RNG_MAX_REQ,
			       big - VIRTIO_RNG_MAX_REQ),
		       big - VIRTIO_RNG_MAX_REQ));

	memset(fvq_ptr(&e.m, a, big), 0, big);
	b = a + big / 2;
	h = fvq_add_indirect(&e.v, (const struct fvq_buf[]){
		{ a, 60000, 1 }, { b, 60000, 1 } }, 2);
	fvq_kick(e.d, 0);
	CHECK(fvq_get_used(&e.v, &u) && u.id == h &&
	      u.len == VIRTIO_RNG_MAX_REQ);
	CHECK(!all_zero(fvq_ptr(&e.m, b + VIRTIO_RNG_MAX_REQ - 60000 - 64, 64),
			64));
	CHECK(all_zero(fvq_ptr(&e.m, b + VIRTIO_RNG_MAX_REQ - 60000, 64), 64));
	teardown(&e);
}

/* Empty writable buffers carry nothing: back with 0, no reset. */
TEST(test_empty_chain_returned)
{
	struct env e;

	setup(&e);
	CHECK_EQ(start(&e), 0);
	CHECK_EQ(request(&e, fvq_alloc(&e.m, 8, 8), 0), 0);
	CHECK(!(status(&e) & VIRTIO_STATUS_NEEDS_RESET));
	teardown(&e);
}

/* After a hostile chain: NEEDS_RESET with a config interrupt, no more
 * requests served until reset, then a fresh start works. */
static void check_stopped_then_recovers(struct env *e)
{
	struct fvq_used u;
	uint64_t a = fvq_alloc(&e->m, 16, 8);

	CHECK(status(e) & VIRTIO_STATUS_NEEDS_RESET);
	CHECK(fvq_mmio_read(e->d, VIRTIO_MMIO_INTERRUPT_STATUS) &
	      VIRTIO_ISR_CONFIG);
	CHECK_EQ(e->irq.pulses, 1);
	FVQ_ADD(&e->v, { a, 16, 1 });
	fvq_kick(e->d, 0);
	CHECK(!fvq_get_used(&e->v, &u));
	CHECK(all_zero(fvq_ptr(&e->m, a, 16), 16));

	CHECK_EQ(start(e), 0);
	CHECK_EQ(request(e, a, 16), 16);
	CHECK(!all_zero(fvq_ptr(&e->m, a, 16), 16));
}

TEST(test_buffers_outside_memory_need_reset)
{
	static const struct fvq_buf bad[] = {
		{ MEM_GPA + MEM_SIZE, 16, 1 },		/* just past the end */
		{ MEM_GPA + MEM_SIZE - 8, 16, 1 },	/* straddles the end */
		{ MEM_GPA - 4, 16, 1 },			/* straddles the start */
		{ 0xffffffffffffff00ULL, 0x200, 1 },	/* wraps past 2^64 */
		{ MEM_GPA, 0xffffffff, 1 },		/* 4 GiB from the start */
	};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct env e;

		setup(&e);
		CHECK_EQ(start(&e), 0);
		fvq_add(&e.v, &bad[i], 1);
		fvq_kick(e.d, 0);
		check_stopped_then_recovers(&e);
		teardown(&e);
	}
}

/* Our choice for a driver-readable buffer (5.4.6.1 forbids them): reset,
 * alone or ahead of a writable one. */
TEST(test_readable_buffer_needs_reset)
{
	for (int with_in = 0; with_in < 2; with_in++) {
		struct env e;
		uint64_t in;

		setup(&e);
		CHECK_EQ(start(&e), 0);
		in = fvq_alloc(&e.m, 16, 8);
		if (with_in)
			FVQ_ADD(&e.v, { fvq_put(&e.m, "give", 4), 4, 0 },
				{ in, 16, 1 });
		else
			FVQ_ADD(&e.v, { fvq_put(&e.m, "give", 4), 4, 0 });
		fvq_kick(e.d, 0);
		CHECK(all_zero(fvq_ptr(&e.m, in, 16), 16));
		check_stopped_then_recovers(&e);
		teardown(&e);
	}
}

/* A head index beyond the queue and a descriptor loop. */
TEST(test_bad_ring_contents_need_reset)
{
	for (int k = 0; k < 2; k++) {
		struct env e;
		uint64_t a;

		setup(&e);
		CHECK_EQ(start(&e), 0);
		a = fvq_alloc(&e.m, 16, 8);
		if (k == 0) {
			fvq_publish(&e.v, QSIZE + 3);
		} else {
			fvq_set_desc(&e.v, 0, a, 16, VIRTQ_DESC_F_WRITE |
				     VIRTQ_DESC_F_NEXT, 1);
			fvq_set_desc(&e.v, 1, a, 16, VIRTQ_DESC_F_WRITE |
				     VIRTQ_DESC_F_NEXT, 0);
			fvq_publish(&e.v, 0);
		}
		fvq_kick(e.d, 0);
		check_stopped_then_recovers(&e);
		teardown(&e);
	}
}

int main(void)
{
	RUN(test_id_and_features);
	RUN(test_bytes_written_and_reported);
	RUN(test_two_requests_differ);
	RUN(test_huge_buffer_capped);
	RUN(test_empty_chain_returned);
	RUN(test_buffers_outside_memory_need_reset);
	RUN(test_readable_buffer_needs_reset);
	RUN(test_bad_ring_contents_need_reset);
	virtio_rng_destroy(NULL);
	return CHECK_DONE();
}
