/* Decompressed kernels, cached on the host.  A distribution bzImage is
 * an xz-compressed vmlinux that the guest spends about a second of every
 * boot unpacking; minivmm instead unpacks it once, in a background
 * process after a first ordinary boot, into
 * $MINIVMM_CACHE_DIR or $XDG_CACHE_HOME/minivmm or ~/.cache/minivmm,
 * named by the bzImage's size and a hash of its contents, and loads the
 * vmlinux from there on later boots (x86_boot_load with cfg->vmlinux).
 * At most KERNEL_CACHE_KEEP kernels are kept; --no-kernel-cache skips it
 * all. */
#ifndef MINIVMM_KERNEL_CACHE_H
#define MINIVMM_KERNEL_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include "boot.h"

#define KERNEL_CACHE_KEEP	4

/* Maps the cached vmlinux of this bzImage, checked with vmlinux_parse.
 * 0 on a hit (*data, *size set; kernel_cache_unmap() it), -1 on a miss
 * (a bad entry is removed). */
int kernel_cache_map(const uint8_t *bzimage, size_t size,
		     const struct bzimage_info *bi, uint8_t **data,
		     size_t *out_size);
void kernel_cache_unmap(uint8_t *data, size_t size);

/* Starts a detached, low-priority process that decompresses the bzImage
 * into the cache (quietly giving up on any trouble).  Call before any
 * thread exists. */
void kernel_cache_fill_async(const uint8_t *bzimage, size_t size);

/* The cache file's name for a bzImage: "vmlinux-SIZE-HASH". */
void kernel_cache_name(const uint8_t *bzimage, size_t size, char *buf,
		       size_t len);

#endif
