/* Guest physical memory: the only way devices and loaders reach it.
 *
 * A guest_mem is a short list of regions (gpa, size, host pointer).  A range
 * (gpa, len) is translated only when it lies wholly inside one region; all
 * arithmetic is overflow-safe, so a hostile guest address such as
 * 0xffffffffffffff00 with a length of 0x200 is rejected, never wrapped. */
#ifndef MINIVMM_GUEST_MEM_H
#define MINIVMM_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

#define GUEST_MEM_MAX_REGIONS 4

struct guest_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;
};

struct guest_mem {
	struct guest_region region[GUEST_MEM_MAX_REGIONS];
	unsigned nr_regions;
};

/* Adds a region; regions must not overlap.  Returns 0 or -1. */
int guest_mem_add(struct guest_mem *gm, uint64_t gpa, uint64_t size, void *host);

/* Host pointer for [gpa, gpa+len) or NULL when any byte of it is outside
 * one region.  len == 0 is valid (a pointer to gpa, which must be inside). */
void *guest_mem_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

/* Copies between host buffers and guest memory; 0 on success, -1 when the
 * range is not wholly inside one region (nothing is copied then). */
int guest_mem_read(const struct guest_mem *gm, uint64_t gpa, void *dst, size_t len);
int guest_mem_write(const struct guest_mem *gm, uint64_t gpa, const void *src, size_t len);

/* 1 if the host range [p, p+len) lies wholly inside one region.  Devices
 * that keep host pointers into guest RAM (iovecs for io_uring, backing
 * pages for the GPU) assert it where they use them, in debug builds:
 * GUEST_MEM_ASSERT_HOST aborts with a message there (the unit tests and
 * fuzzers are built with MINIVMM_DEBUG), and costs nothing otherwise. */
int guest_mem_contains_host(const struct guest_mem *gm, const void *p,
			    size_t len);
void guest_mem_host_violation(const char *file, int line, const void *p,
			      size_t len) __attribute__((noreturn));
#ifdef MINIVMM_DEBUG
#define GUEST_MEM_ASSERT_HOST(gm, p, len)				\
	do {								\
		if (!guest_mem_contains_host((gm), (p), (len)))		\
			guest_mem_host_violation(__FILE__, __LINE__,	\
						 (p), (len));		\
	} while (0)
#else
#define GUEST_MEM_ASSERT_HOST(gm, p, len)	((void)(gm), (void)(p), (void)(len))
#endif

/* Overflow-safe a + b <= limit check used everywhere lengths are added. */
static inline int range_add_ok(uint64_t a, uint64_t b, uint64_t *sum)
{
	return !__builtin_add_overflow(a, b, sum);
}

#endif
