/* bus: sorted ranges, refused overlaps and wraps, exact edges, and
 * accesses no device owns reading as all ones. */
#include <stdint.h>
#include "bus.h"
#include "check.h"

struct rec {
	int reads, writes;
	uint64_t off;
	unsigned len;
	uint8_t wrote[8];
	uint8_t fill;		/* what reads return */
};

static void rec_read(void *dev, uint64_t off, uint8_t *data, unsigned len)
{
	struct rec *r = dev;

	r->reads++;
	r->off = off;
	r->len = len;
	memset(data, r->fill, len);
}

static void rec_write(void *dev, uint64_t off, const uint8_t *data,
		      unsigned len)
{
	struct rec *r = dev;

	r->writes++;
	r->off = off;
	r->len = len;
	memcpy(r->wrote, data, len);
}

static const struct bus_ops rec_ops = { rec_read, rec_write };

static void reset(struct rec *r, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		r[i] = (struct rec){ .fill = (uint8_t)(0x10 + i) };
}

/* Reads one byte at addr; returns the device's fill byte, or -1. */
static int read8(const struct bus *b, uint64_t addr)
{
	uint8_t v = 0;

	return bus_access(b, addr, &v, 1, 0) ? -1 : v;
}

TEST(test_order_independent)
{
	static const uint64_t base[3] = { 0x3f8, 0x60, 0x600 };
	static const uint64_t len[3] = { 8, 1, 2 };
	static const unsigned perms[6][3] = {
		{ 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
		{ 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
	};
	struct rec dev[3];

	for (unsigned p = 0; p < 6; p++) {
		struct bus b = { 0 };

		reset(dev, 3);
		for (unsigned i = 0; i < 3; i++) {
			unsigned d = perms[p][i];

			CHECK_EQ(bus_register(&b, base[d], len[d], &rec_ops,
					      &dev[d], "dev"), 0);
		}
		CHECK_EQ(b.nr, 3);
		for (unsigned i = 1; i < b.nr; i++)
			CHECK(b.ranges[i - 1].base < b.ranges[i].base);
		CHECK_EQ(read8(&b, 0x3f8), 0x10);
		CHECK_EQ(read8(&b, 0x3ff), 0x10);
		CHECK_EQ(read8(&b, 0x60), 0x11);
		CHECK_EQ(read8(&b, 0x601), 0x12);
		CHECK_EQ(read8(&b, 0x61), -1);
		CHECK_EQ(read8(&b, 0x602), -1);
		bus_free(&b);
	}
}

TEST(test_many_ranges_grow)
{
	struct bus b = { 0 };
	static struct rec dev[40];

	reset(dev, 40);
	/* Descending order makes every insert go to the front. */
	for (unsigned i = 40; i-- > 0;)
		CHECK_EQ(bus_register(&b, 0x1000 * i, 0x10, &rec_ops, &dev[i],
				      NULL), 0);
	CHECK_EQ(b.nr, 40);
	for (unsigned i = 0; i < 40; i++) {
		CHECK_EQ(read8(&b, 0x1000 * i + 0xf), 0x10 + i);
		CHECK_EQ(read8(&b, 0x1000 * i + 0x10), -1);
	}
	bus_free(&b);
	CHECK_EQ(b.nr, 0);
	CHECK(b.ranges == NULL);
}

TEST(test_overlaps_refused)
{
	struct bus b = { 0 };
	struct rec d;

	reset(&d, 1);
	CHECK_EQ(bus_register(&b, 0x100, 0x100, &rec_ops, &d, "a"), 0);
	CHECK_EQ(bus_register(&b, 0x100, 0x100, &rec_ops, &d, "same"), -1);
	CHECK_EQ(bus_register(&b, 0x80, 0x81, &rec_ops, &d, "head"), -1);
	CHECK_EQ(bus_register(&b, 0x1ff, 0x10, &rec_ops, &d, "tail"), -1);
	CHECK_EQ(bus_register(&b, 0x150, 0x1, &rec_ops, &d, "inside"), -1);
	CHECK_EQ(bus_register(&b, 0x0, 0x1000, &rec_ops, &d, "around"), -1);
	CHECK_EQ(b.nr, 1);
	/* Touching on either side is not overlapping. */
	CHECK_EQ(bus_register(&b, 0x80, 0x80, &rec_ops, &d, "below"), 0);
	CHECK_EQ(bus_register(&b, 0x200, 0x80, &rec_ops, &d, "above"), 0);
	/* A gap exactly filled, then one byte too many. */
	CHECK_EQ(bus_register(&b, 0x300, 0x10, &rec_ops, &d, "far"), 0);
	CHECK_EQ(bus_register(&b, 0x280, 0x81, &rec_ops, &d, "gap+1"), -1);
	CHECK_EQ(bus_register(&b, 0x280, 0x80, &rec_ops, &d, "gap"), 0);
	CHECK_EQ(b.nr, 5);
	bus_free(&b);
}

TEST(test_wraps_and_bad_ranges_refused)
{
	struct bus b = { 0 };
	struct rec d;

	reset(&d, 1);
	CHECK_EQ(bus_register(&b, 0x10, 0, &rec_ops, &d, "empty"), -1);
	CHECK_EQ(bus_register(&b, 0x10, 1, NULL, &d, "no ops"), -1);
	CHECK_EQ(bus_register(&b, UINT64_MAX, 2, &rec_ops, &d, "wrap"), -1);
	CHECK_EQ(bus_register(&b, 0xfffffffffffff000ULL, 0x1001, &rec_ops, &d,
			      "wrap"), -1);
	CHECK_EQ(bus_register(&b, 2, UINT64_MAX, &rec_ops, &d, "wrap"), -1);
	CHECK_EQ(b.nr, 0);
	/* Ending exactly at the top of the space does not wrap. */
	CHECK_EQ(bus_register(&b, 0xfffffffffffff000ULL, 0x1000, &rec_ops, &d,
			      "top"), 0);
	CHECK_EQ(read8(&b, UINT64_MAX), 0x10);
	CHECK_EQ(d.off, 0xfff);
	/* An access running past the top of the space is nobody's. */
	{
		uint8_t v[2] = { 0, 0 };

		CHECK_EQ(bus_access(&b, UINT64_MAX, v, 2, 0), -1);
		CHECK_EQ(v[0], 0xff);
		CHECK_EQ(v[1], 0xff);
	}
	bus_free(&b);
}

TEST(test_edges_and_straddles)
{
	struct bus b = { 0 };
	struct rec d;
	uint8_t v[8];

	reset(&d, 1);
	CHECK_EQ(bus_register(&b, 0x1000, 0x10, &rec_ops, &d, "dev"), 0);
	CHECK_EQ(read8(&b, 0xfff), -1);
	CHECK_EQ(read8(&b, 0x1000), 0x10);
	CHECK_EQ(d.off, 0);
	CHECK_EQ(read8(&b, 0x100f), 0x10);
	CHECK_EQ(d.off, 0xf);
	CHECK_EQ(read8(&b, 0x1010), -1);

	/* A 4-byte access ending on the last byte is the device's. */
	CHECK_EQ(bus_access(&b, 0x100c, v, 4, 0), 0);
	CHECK_EQ(d.off, 0xc);
	CHECK_EQ(d.len, 4);
	/* One byte further straddles the end: refused, device untouched. */
	d.reads = 0;
	memset(v, 0, sizeof(v));
	CHECK_EQ(bus_access(&b, 0x100d, v, 4, 0), -1);
	CHECK_EQ(d.reads, 0);
	CHECK_EQ(v[0], 0xff);
	CHECK_EQ(v[3], 0xff);
	CHECK_EQ(v[4], 0);		/* only len bytes are filled */
	/* Straddling the start belongs to no range either. */
	CHECK_EQ(bus_access(&b, 0xffe, v, 4, 0), -1);
	CHECK_EQ(bus_access(&b, 0xffe, v, 4, 1), -1);
	CHECK_EQ(d.writes, 0);
	CHECK_EQ(bus_access(&b, 0x1000, v, 0, 0), -1);
	bus_free(&b);
}

TEST(test_unhandled_and_dispatch)
{
	struct bus b = { 0 };
	struct rec d;
	uint8_t v[8] = { 0 };
	const uint8_t w[4] = { 1, 2, 3, 4 };

	reset(&d, 1);
	/* Empty bus. */
	CHECK_EQ(bus_access(&b, 0, v, 8, 0), -1);
	for (int i = 0; i < 8; i++)
		CHECK_EQ(v[i], 0xff);
	CHECK_EQ(bus_access(&b, 0, v, 1, 1), -1);

	CHECK_EQ(bus_register(&b, 0x500, 8, &rec_ops, &d, "dev"), 0);
	CHECK_EQ(bus_access(&b, 0x504, (uint8_t *)w, 4, 1), 0);
	CHECK_EQ(d.writes, 1);
	CHECK_EQ(d.off, 4);
	CHECK_EQ(d.len, 4);
	CHECK_EQ(memcmp(d.wrote, w, 4), 0);
	CHECK_EQ(bus_access(&b, 0x4ff, (uint8_t *)w, 1, 1), -1);
	CHECK_EQ(d.writes, 1);
	bus_free(&b);
}

static const struct bus_ops write_only_ops = { NULL, rec_write };

TEST(test_missing_callback_still_owns_range)
{
	struct bus b = { 0 };
	struct rec d;
	uint8_t v[2] = { 0, 0 };

	reset(&d, 1);
	CHECK_EQ(bus_register(&b, 0x64, 2, &write_only_ops, &d, "wo"), 0);
	CHECK_EQ(bus_access(&b, 0x64, v, 2, 0), 0);
	CHECK_EQ(v[0], 0xff);
	CHECK_EQ(v[1], 0xff);
	bus_free(&b);
}

int main(void)
{
	RUN(test_order_independent);
	RUN(test_many_ranges_grow);
	RUN(test_overlaps_refused);
	RUN(test_wraps_and_bad_ranges_refused);
	RUN(test_edges_and_straddles);
	RUN(test_unhandled_and_dispatch);
	RUN(test_missing_callback_still_owns_range);
	return CHECK_DONE();
}
