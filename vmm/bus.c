/* Port-I/O and MMIO dispatch over a sorted array of non-overlapping ranges.
 * Ranges are kept as [base, last] internally so a range may end at the very
 * top of the address space without base + len overflowing. */
#include "bus.h"

#include <stdlib.h>
#include <string.h>

static uint64_t range_last(const struct bus_range *r)
{
	return r->base + r->len - 1;
}

/* Index of the first range whose base is above addr (0..nr). */
static unsigned upper_bound(const struct bus *bus, uint64_t addr)
{
	unsigned lo = 0, hi = bus->nr;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (bus->ranges[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len,
		 const struct bus_ops *ops, void *dev, const char *name)
{
	uint64_t last;
	unsigned at;

	if (!ops || len == 0 || __builtin_add_overflow(base, len - 1, &last))
		return -1;
	at = upper_bound(bus, base);
	/* Only the neighbours can overlap: the one starting at or below base
	 * must end before it, the one above must start after last. */
	if (at > 0 && range_last(&bus->ranges[at - 1]) >= base)
		return -1;
	if (at < bus->nr && bus->ranges[at].base <= last)
		return -1;

	if (bus->nr == bus->cap) {
		unsigned cap = bus->cap ? bus->cap * 2 : 8;
		struct bus_range *r = realloc(bus->ranges, cap * sizeof(*r));

		if (!r)
			return -1;
		bus->ranges = r;
		bus->cap = cap;
	}
	memmove(&bus->ranges[at + 1], &bus->ranges[at],
		(bus->nr - at) * sizeof(bus->ranges[0]));
	bus->ranges[at] = (struct bus_range){
		.base = base, .len = len, .ops = ops, .dev = dev, .name = name,
	};
	bus->nr++;
	return 0;
}

/* The range holding all of [addr, addr+len), or NULL: an access that
 * starts inside a range but runs past its end belongs to no device. */
static const struct bus_range *lookup(const struct bus *bus, uint64_t addr,
				      unsigned len)
{
	unsigned at = upper_bound(bus, addr);
	const struct bus_range *r;
	uint64_t off;

	if (at == 0)
		return NULL;
	r = &bus->ranges[at - 1];
	off = addr - r->base;
	if (off >= r->len || len > r->len - off)
		return NULL;
	return r;
}

int bus_access(const struct bus *bus, uint64_t addr, uint8_t *data,
	       unsigned len, int is_write)
{
	const struct bus_range *r = NULL;

	/* KVM never exits with more than 8 bytes (its mmio.data size). */
	if (len >= 1 && len <= 8)
		r = lookup(bus, addr, len);
	if (!r) {
		if (!is_write)
			memset(data, 0xff, len);	/* floating bus */
		return -1;
	}
	/* A device without a read or write callback ignores that direction
	 * (reads float high) but still owns the range. */
	if (is_write) {
		if (r->ops->write)
			r->ops->write(r->dev, addr - r->base, data, len);
	} else if (r->ops->read) {
		r->ops->read(r->dev, addr - r->base, data, len);
	} else {
		memset(data, 0xff, len);
	}
	return 0;
}

void bus_free(struct bus *bus)
{
	free(bus->ranges);
	bus->ranges = NULL;
	bus->nr = bus->cap = 0;
}
