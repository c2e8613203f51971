/* Port-I/O and MMIO dispatch: a sorted, non-overlapping list of ranges per
 * address space, looked up by binary search on every vCPU exit.  Devices
 * register read/write callbacks that get the offset inside their range. */
#ifndef MINIVMM_BUS_H
#define MINIVMM_BUS_H

#include <stdint.h>

struct bus_ops {
	/* data points to len (1, 2, 4 or 8) bytes, little-endian. */
	void (*read)(void *dev, uint64_t offset, uint8_t *data, unsigned len);
	void (*write)(void *dev, uint64_t offset, const uint8_t *data, unsigned len);
};

struct bus_range {
	uint64_t base;
	uint64_t len;
	const struct bus_ops *ops;
	void *dev;
	const char *name;
};

struct bus {
	struct bus_range *ranges;
	unsigned nr, cap;
};

/* Registers [base, base+len); -1 when it overlaps an existing range or
 * wraps.  Registration happens before vCPUs start, so lookups need no lock. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len,
		 const struct bus_ops *ops, void *dev, const char *name);

/* Dispatches one access.  Returns 0 when a device handled it, -1 when no
 * range covers it (reads then see all ones). */
int bus_access(const struct bus *bus, uint64_t addr, uint8_t *data,
	       unsigned len, int is_write);

void bus_free(struct bus *bus);

#endif
