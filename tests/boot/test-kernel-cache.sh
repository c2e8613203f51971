#!/bin/bash
# The host-decompressed kernel cache (include/kernel_cache.h): a first boot
# starts the background decompression, later boots load the vmlinux from
# the cache and the guest runs at its link address (no in-guest
# decompressor, hence no KASLR move); a damaged entry is dropped, not
# booted; --no-kernel-cache leaves the cache alone.
. "$(dirname "$0")/lib.sh"

CACHE=$(mktemp -d)
export MINIVMM_CACHE_DIR=$CACHE
IOMEM='grep Kernel.code /proc/iomem; poweroff -f'

wait_entry() {   # until one finished entry is in the cache (seconds)
    local i
    for i in $(seq 1 $(( $1 * 2 ))); do
        ls "$CACHE"/vmlinux-* 2>/dev/null | grep -vq '\.tmp\.' && return 0
        sleep 0.5
    done
    return 1
}

run_cmd kcache-first "$IOMEM" --no-kernel-cache
if check kcache-no-cache-flag 0 "Kernel code" && [ -n "$(ls -A "$CACHE")" ]; then
    fail kcache-no-cache-flag "--no-kernel-cache wrote to the cache: $(ls "$CACHE")"
fi

run_cmd kcache-fill "$IOMEM"
check kcache-fill-boot 0 "Kernel code"
if wait_entry 240; then
    pass kcache-filled
else
    fail kcache-filled "no cache entry after 240 s: $(ls -l "$CACHE")"
fi

run_cmd kcache-hit "$IOMEM"
# Loaded where the build linked it: Debian's LOAD_PHYSICAL_ADDR, 16 MiB.
check kcache-hit 0 "$MARKER" '^ *01000000-[0-9a-f]+ : Kernel code'

# A damaged entry: removed, the boot goes the old way (and refills it).
entry=$(ls "$CACHE"/vmlinux-* | head -1)
truncate -s 4096 "$entry"
run_cmd kcache-damaged "$IOMEM"
if check kcache-damaged 0 "$MARKER" "Kernel code"; then
    :
fi
if wait_entry 240 && [ "$(stat -c %s "$(ls "$CACHE"/vmlinux-* | head -1)")" -gt 4096 ]; then
    pass kcache-refilled
else
    fail kcache-refilled "the damaged entry was not replaced: $(ls -l "$CACHE")"
fi
rm -rf "$CACHE"
