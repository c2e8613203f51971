/* guest_mem: a range is translated only when every byte lies in one region,
 * with no arithmetic that can wrap. */
#include <stdint.h>
#include "check.h"
#include "guest_mem.h"

static uint8_t low[0x1000], high[0x1000], top[0x100];

/* low RAM at 0, a page at 4 GiB, and a region ending at the very top. */
static struct guest_mem three_regions(void)
{
	struct guest_mem gm = { .nr_regions = 0 };

	CHECK_EQ(guest_mem_add(&gm, 0, sizeof(low), low), 0);
	CHECK_EQ(guest_mem_add(&gm, 0x100000000ULL, sizeof(high), high), 0);
	CHECK_EQ(guest_mem_add(&gm, 0xffffffffffffff00ULL - 1, sizeof(top), top), 0);
	return gm;
}

TEST(test_add_refuses_overlap)
{
	struct guest_mem gm = { .nr_regions = 0 };
	static uint8_t buf[0x1000];

	CHECK_EQ(guest_mem_add(&gm, 0x1000, 0x1000, buf), 0);
	CHECK_EQ(guest_mem_add(&gm, 0x1000, 0x1000, buf), -1);	/* same */
	CHECK_EQ(guest_mem_add(&gm, 0x1fff, 0x10, buf), -1);	/* tail */
	CHECK_EQ(guest_mem_add(&gm, 0x0800, 0x801, buf), -1);	/* head */
	CHECK_EQ(guest_mem_add(&gm, 0x1100, 0x10, buf), -1);	/* inside */
	CHECK_EQ(guest_mem_add(&gm, 0x0000, 0x3000, buf), -1);	/* around */
	CHECK_EQ(gm.nr_regions, 1);
	/* Touching is not overlapping. */
	CHECK_EQ(guest_mem_add(&gm, 0x0, 0x1000, buf), 0);
	CHECK_EQ(guest_mem_add(&gm, 0x2000, 0x1000, buf), 0);
	CHECK_EQ(gm.nr_regions, 3);
}

TEST(test_add_refuses_bad_regions)
{
	struct guest_mem gm = { .nr_regions = 0 };
	static uint8_t buf[16];

	CHECK_EQ(guest_mem_add(&gm, 0, 0, buf), -1);		/* empty */
	CHECK_EQ(guest_mem_add(&gm, 0, 16, NULL), -1);		/* no host */
	CHECK_EQ(guest_mem_add(&gm, UINT64_MAX - 7, 16, buf), -1);	/* wraps */
	CHECK_EQ(guest_mem_add(&gm, UINT64_MAX, 1, buf), -1);	/* end is 2^64 */
	CHECK_EQ(gm.nr_regions, 0);
	for (unsigned i = 0; i < GUEST_MEM_MAX_REGIONS; i++)
		CHECK_EQ(guest_mem_add(&gm, i * 0x10000ULL, 16, buf), 0);
	CHECK_EQ(guest_mem_add(&gm, 0x100000, 16, buf), -1);	/* full */
	CHECK_EQ(gm.nr_regions, GUEST_MEM_MAX_REGIONS);
}

TEST(test_ptr_bounds)
{
	struct guest_mem gm = three_regions();

	CHECK(guest_mem_ptr(&gm, 0, sizeof(low)) == low);
	CHECK(guest_mem_ptr(&gm, 0xfff, 1) == low + 0xfff);
	CHECK(guest_mem_ptr(&gm, 0xfff, 2) == NULL);		/* one past */
	CHECK(guest_mem_ptr(&gm, 0, sizeof(low) + 1) == NULL);
	CHECK(guest_mem_ptr(&gm, 0x1000, 1) == NULL);		/* the gap */
	CHECK(guest_mem_ptr(&gm, 0xffffffffULL, 1) == NULL);	/* below 4G region */
	CHECK(guest_mem_ptr(&gm, 0x100000000ULL, 0x1000) == high);
	CHECK(guest_mem_ptr(&gm, 0x100000fffULL, 1) == high + 0xfff);
	CHECK(guest_mem_ptr(&gm, 0x100001000ULL, 1) == NULL);
	CHECK(guest_mem_ptr(&gm, 0, UINT64_MAX) == NULL);
}

TEST(test_ptr_len_zero)
{
	struct guest_mem gm = three_regions();

	CHECK(guest_mem_ptr(&gm, 0x10, 0) == low + 0x10);
	CHECK(guest_mem_ptr(&gm, 0xfff, 0) == low + 0xfff);
	CHECK(guest_mem_ptr(&gm, 0x1000, 0) == NULL);	/* end is outside */
	CHECK(guest_mem_ptr(&gm, 0x5000, 0) == NULL);
}

TEST(test_ptr_overflow_is_refused)
{
	struct guest_mem gm = three_regions();
	const uint64_t tgpa = 0xffffffffffffff00ULL - 1;

	/* gpa + len wraps to 0x100, which would "fit" in low RAM if added. */
	CHECK(guest_mem_ptr(&gm, 0xffffffffffffff00ULL, 0x200) == NULL);
	CHECK(guest_mem_ptr(&gm, 0xffffffffffffff00ULL, 0xff) == top + 1);
	CHECK(guest_mem_ptr(&gm, 0xffffffffffffff00ULL, 0x100) == NULL);
	CHECK(guest_mem_ptr(&gm, tgpa, sizeof(top)) == top);
	CHECK(guest_mem_ptr(&gm, UINT64_MAX, 1) == NULL);
	CHECK(guest_mem_ptr(&gm, UINT64_MAX, UINT64_MAX) == NULL);
	CHECK(guest_mem_ptr(&gm, 0x10, UINT64_MAX - 8) == NULL);
}

TEST(test_range_spanning_two_regions_is_refused)
{
	struct guest_mem gm = { .nr_regions = 0 };
	static uint8_t a[0x1000], b[0x1000];

	/* Adjacent in the guest but not on the host: no single pointer. */
	CHECK_EQ(guest_mem_add(&gm, 0x0, sizeof(a), a), 0);
	CHECK_EQ(guest_mem_add(&gm, 0x1000, sizeof(b), b), 0);
	CHECK(guest_mem_ptr(&gm, 0xff0, 0x20) == NULL);
	CHECK(guest_mem_ptr(&gm, 0xff0, 0x10) == a + 0xff0);
	CHECK(guest_mem_ptr(&gm, 0x1000, 0x10) == b);
}

TEST(test_read_write)
{
	struct guest_mem gm = three_regions();
	uint8_t in[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, out[8];

	memset(high, 0, sizeof(high));
	CHECK_EQ(guest_mem_write(&gm, 0x100000ff8ULL, in, sizeof(in)), 0);
	CHECK(!memcmp(high + 0xff8, in, sizeof(in)));
	memset(out, 0, sizeof(out));
	CHECK_EQ(guest_mem_read(&gm, 0x100000ff8ULL, out, sizeof(out)), 0);
	CHECK(!memcmp(out, in, sizeof(in)));

	/* A range one byte too long copies nothing at all. */
	memset(out, 0xee, sizeof(out));
	CHECK_EQ(guest_mem_read(&gm, 0x100000ff9ULL, out, sizeof(out)), -1);
	CHECK_EQ(out[0], 0xee);
	memset(high, 0, sizeof(high));
	CHECK_EQ(guest_mem_write(&gm, 0x100000ff9ULL, in, sizeof(in)), -1);
	CHECK_EQ(high[0xff9], 0);
	CHECK_EQ(guest_mem_write(&gm, 0xffffffffffffff00ULL, in, 0x200), -1);
	CHECK_EQ(guest_mem_read(&gm, 0xfff, out, 0), 0);
	CHECK_EQ(guest_mem_read(&gm, 0x1000, out, 0), -1);
}

/* The debug-build check of host pointers devices derived. */
TEST(test_contains_host)
{
	struct guest_mem gm = three_regions();

	CHECK(guest_mem_contains_host(&gm, low, sizeof(low)));
	CHECK(guest_mem_contains_host(&gm, low + 0x800, 0x800));
	CHECK(guest_mem_contains_host(&gm, low + sizeof(low), 0));
	CHECK(!guest_mem_contains_host(&gm, low + 0x800, 0x801));
	CHECK(!guest_mem_contains_host(&gm, (void *)((uintptr_t)low + sizeof(low) + 1), 0));
	CHECK(guest_mem_contains_host(&gm, top + 0x10, 0xf0));
	CHECK(!guest_mem_contains_host(&gm, (void *)((uintptr_t)top - 1), 2));
	CHECK(!guest_mem_contains_host(&gm, high, SIZE_MAX));
	/* A range spanning two regions that happen to be adjacent on the
	 * host is still two regions: refused. */
	CHECK(!guest_mem_contains_host(&gm, low, sizeof(low) + 1));
}

int main(void)
{
	RUN(test_contains_host);
	RUN(test_add_refuses_overlap);
	RUN(test_add_refuses_bad_regions);
	RUN(test_ptr_bounds);
	RUN(test_ptr_len_zero);
	RUN(test_ptr_overflow_is_refused);
	RUN(test_range_spanning_two_regions_is_refused);
	RUN(test_read_write);
	return CHECK_DONE();
}
