/* The guest's e820 map and RAM split, both derived from layout.h so the
 * memory slots (ram_layout_for) and the map the kernel sees (e820_build)
 * cannot disagree. */
#include "boot.h"
#include "layout.h"

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

void ram_layout_for(uint64_t ram_size, struct ram_layout *out)
{
	out->low_size = min_u64(ram_size, MMIO_HOLE_START);
	out->high_size = ram_size - out->low_size;
}

/* Appends [start, end) clipped to RAM; empty pieces are skipped. */
static void add(struct e820_entry *map, unsigned max, unsigned *n,
		uint64_t start, uint64_t end, uint32_t type)
{
	if (end <= start || *n >= max)
		return;
	map[(*n)++] = (struct e820_entry){
		.addr = start, .size = end - start, .type = type,
	};
}

/* The EBDA..1 MiB window is backed by RAM but reserved: the legacy BIOS
 * area, where the ACPI tables live.  Entries beyond max are dropped; four
 * are always enough. */
unsigned e820_build(uint64_t ram_size, struct e820_entry *map, unsigned max)
{
	struct ram_layout rl;
	uint64_t high_end;
	unsigned n = 0;

	ram_layout_for(ram_size, &rl);
	if (!range_add_ok(MMIO_HOLE_END, rl.high_size, &high_end))
		high_end = UINT64_MAX;	/* absurd sizes clip, never wrap */
	add(map, max, &n, 0, min_u64(rl.low_size, EBDA_START), E820_RAM);
	add(map, max, &n, EBDA_START, min_u64(rl.low_size, HIMEM_START), E820_RESERVED);
	add(map, max, &n, HIMEM_START, rl.low_size, E820_RAM);
	add(map, max, &n, MMIO_HOLE_END, high_end, E820_RAM);
	return n;
}
