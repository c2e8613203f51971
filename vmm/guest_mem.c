/* Guest physical memory lookups: the only translation from guest addresses
 * to host pointers.  Every end address is computed with an overflow check,
 * so a guest cannot make a range wrap around 2^64 into a valid region. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "guest_mem.h"

/* [a, a_end) and [b, b_end) intersect; ends are exclusive and never wrap. */
static int ranges_overlap(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end)
{
	return a < b_end && b < a_end;
}

int guest_mem_add(struct guest_mem *gm, uint64_t gpa, uint64_t size, void *host)
{
	uint64_t end;

	if (!host || size == 0 || gm->nr_regions >= GUEST_MEM_MAX_REGIONS)
		return -1;
	if (!range_add_ok(gpa, size, &end))
		return -1;
	for (unsigned i = 0; i < gm->nr_regions; i++) {
		const struct guest_region *r = &gm->region[i];

		if (ranges_overlap(gpa, end, r->gpa, r->gpa + r->size))
			return -1;
	}
	gm->region[gm->nr_regions++] = (struct guest_region){
		.gpa = gpa, .size = size, .host = host,
	};
	return 0;
}

void *guest_mem_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < gm->nr_regions; i++) {
		const struct guest_region *r = &gm->region[i];
		uint64_t off;

		if (gpa < r->gpa)
			continue;
		off = gpa - r->gpa;
		/* off < size: the start is inside (also for len == 0);
		 * len <= size - off: the end is, without computing gpa+len. */
		if (off >= r->size || len > r->size - off)
			continue;
		return r->host + off;
	}
	return NULL;
}

int guest_mem_read(const struct guest_mem *gm, uint64_t gpa, void *dst, size_t len)
{
	const void *p = guest_mem_ptr(gm, gpa, len);

	if (!p)
		return -1;
	if (len)
		memcpy(dst, p, len);
	return 0;
}

int guest_mem_write(const struct guest_mem *gm, uint64_t gpa, const void *src, size_t len)
{
	void *p = guest_mem_ptr(gm, gpa, len);

	if (!p)
		return -1;
	if (len)
		memcpy(p, src, len);
	return 0;
}

int guest_mem_contains_host(const struct guest_mem *gm, const void *p,
			    size_t len)
{
	uintptr_t a = (uintptr_t)p;

	for (unsigned i = 0; i < gm->nr_regions; i++) {
		uintptr_t start = (uintptr_t)gm->region[i].host;

		if (a >= start && a - start <= gm->region[i].size &&
		    len <= gm->region[i].size - (a - start))
			return 1;
	}
	return 0;
}

void guest_mem_host_violation(const char *file, int line, const void *p,
			      size_t len)
{
	fprintf(stderr, "minivmm: %s:%d: BUG: host range %p+%zu is outside "
		"guest RAM\n", file, line, p, len);
	abort();
}
