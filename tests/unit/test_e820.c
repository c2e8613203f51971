/* e820_build and ram_layout_for: the map covers exactly the RAM that the
 * memory slots hold, sorted, without overlaps, and never in the MMIO hole. */
#include <stdint.h>
#include "boot.h"
#include "check.h"
#include "layout.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static const uint64_t sizes[] = { 64 * MiB, 512 * MiB, 3 * GiB, 3 * GiB + 1, 8 * GiB };

/* Checks the invariants for one size; returns the entry count. */
static unsigned check_map(uint64_t ram, struct e820_entry *map)
{
	unsigned n = e820_build(ram, map, E820_MAX);
	uint64_t total = 0;

	CHECK(n >= 1 && n <= E820_MAX);
	for (unsigned i = 0; i < n; i++) {
		uint64_t end = map[i].addr + map[i].size;

		CHECK(map[i].size > 0);
		CHECK(end > map[i].addr);	/* no wrap */
		if (i > 0)	/* sorted and disjoint */
			CHECK(map[i].addr >= map[i - 1].addr + map[i - 1].size);
		/* Nothing in [MMIO_HOLE_START, 4 GiB). */
		CHECK(end <= MMIO_HOLE_START || map[i].addr >= MMIO_HOLE_END);
		CHECK(map[i].type == E820_RAM || map[i].type == E820_RESERVED);
		total += map[i].size;
	}
	CHECK_EQ(total, ram);
	return n;
}

TEST(test_invariants_for_each_size)
{
	struct e820_entry map[E820_MAX];

	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_map(sizes[i], map);
}

TEST(test_64m)
{
	struct e820_entry map[E820_MAX];

	CHECK_EQ(check_map(64 * MiB, map), 3);
	CHECK_EQ(map[0].addr, 0);
	CHECK_EQ(map[0].size, EBDA_START);
	CHECK_EQ(map[0].type, E820_RAM);
	CHECK_EQ(map[1].addr, EBDA_START);
	CHECK_EQ(map[1].size, HIMEM_START - EBDA_START);
	CHECK_EQ(map[1].type, E820_RESERVED);
	CHECK_EQ(map[2].addr, HIMEM_START);
	CHECK_EQ(map[2].size, 64 * MiB - HIMEM_START);
	CHECK_EQ(map[2].type, E820_RAM);
}

TEST(test_512m)
{
	struct e820_entry map[E820_MAX];

	CHECK_EQ(check_map(512 * MiB, map), 3);
	CHECK_EQ(map[2].addr + map[2].size, 512 * MiB);
}

TEST(test_3g_fills_below_hole)
{
	struct e820_entry map[E820_MAX];

	CHECK_EQ(check_map(3 * GiB, map), 3);
	CHECK_EQ(map[2].addr + map[2].size, MMIO_HOLE_START);
}

TEST(test_3g_plus_1_spills_above_4g)
{
	struct e820_entry map[E820_MAX];

	CHECK_EQ(check_map(3 * GiB + 1, map), 4);
	CHECK_EQ(map[2].addr + map[2].size, MMIO_HOLE_START);
	CHECK_EQ(map[3].addr, MMIO_HOLE_END);
	CHECK_EQ(map[3].size, 1);
	CHECK_EQ(map[3].type, E820_RAM);
}

TEST(test_8g)
{
	struct e820_entry map[E820_MAX];

	CHECK_EQ(check_map(8 * GiB, map), 4);
	CHECK_EQ(map[3].addr, 4 * GiB);
	CHECK_EQ(map[3].size, 5 * GiB);
}

TEST(test_ram_layout_split)
{
	struct ram_layout rl;

	ram_layout_for(64 * MiB, &rl);
	CHECK_EQ(rl.low_size, 64 * MiB);
	CHECK_EQ(rl.high_size, 0);
	ram_layout_for(3 * GiB, &rl);
	CHECK_EQ(rl.low_size, MMIO_HOLE_START);
	CHECK_EQ(rl.high_size, 0);
	ram_layout_for(3 * GiB + 1, &rl);
	CHECK_EQ(rl.low_size, MMIO_HOLE_START);
	CHECK_EQ(rl.high_size, 1);
	ram_layout_for(8 * GiB, &rl);
	CHECK_EQ(rl.low_size, MMIO_HOLE_START);
	CHECK_EQ(rl.high_size, 5 * GiB);
}

/* The map and the slots describe the same bytes. */
TEST(test_map_matches_layout)
{
	struct e820_entry map[E820_MAX];
	struct ram_layout rl;

	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned n = e820_build(sizes[i], map, E820_MAX);
		uint64_t low = 0, high = 0;

		ram_layout_for(sizes[i], &rl);
		CHECK_EQ(rl.low_size + rl.high_size, sizes[i]);
		for (unsigned j = 0; j < n; j++) {
			if (map[j].addr < MMIO_HOLE_START)
				low += map[j].size;
			else
				high += map[j].size;
		}
		CHECK_EQ(low, rl.low_size);
		CHECK_EQ(high, rl.high_size);
	}
}

TEST(test_tiny_ram_and_small_max)
{
	struct e820_entry map[E820_MAX];

	/* Less than the EBDA: a single RAM entry, clipped. */
	CHECK_EQ(check_map(0x80000, map), 1);
	CHECK_EQ(map[0].size, 0x80000);
	/* The map never writes past max. */
	map[2].addr = 0x1234;
	CHECK_EQ(e820_build(8 * GiB, map, 2), 2);
	CHECK_EQ(map[2].addr, 0x1234);
	CHECK_EQ(e820_build(8 * GiB, map, 0), 0);
}

int main(void)
{
	RUN(test_invariants_for_each_size);
	RUN(test_64m);
	RUN(test_512m);
	RUN(test_3g_fills_below_hole);
	RUN(test_3g_plus_1_spills_above_4g);
	RUN(test_8g);
	RUN(test_ram_layout_split);
	RUN(test_map_matches_layout);
	RUN(test_tiny_ram_and_small_max);
	return CHECK_DONE();
}
