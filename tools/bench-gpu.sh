#!/bin/bash
# virtio-gpu 2D frame benchmark (not a test): full-screen
# TRANSFER_TO_HOST_2D + RESOURCE_FLUSH frames per second and MB/s at
# 1280x800 and 1920x1080, next to a plain memcpy of the same bytes
# measured in the same run (tools/bench-gpu.c says what each case is).
# No KVM needed: the real device and virtio-mmio transport run against
# fake guest memory, as in tests/unit/test_virtio_gpu.c.
# Builds build/bench/bench-gpu from the project's sources (-O2, like
# `make`), then runs it; arguments go to it:
#   tools/bench-gpu.sh [-t SECONDS_PER_CASE] [-n FRAMES] [-r ROUNDS] [WxH ...]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=build/bench/bench-gpu
# What the device, the transport and the headless display link against.
SRCS=(tools/bench-gpu.c devices/virtio/gpu.c devices/virtio/gpu_2d.c
      devices/virtio/gpu_cursor.c devices/virtio/gpu_edid.c
      devices/virtio/mmio.c devices/virtio/queue.c boot/aml.c
      devices/display/headless.c devices/display/framebuffer.c
      vmm/guest_mem.c)
mkdir -p "$(dirname "$OUT")"
if [[ ! -x $OUT ]] || [[ -n $(find "${SRCS[@]}" include tests/unit/fake_virtq.h \
        "$0" -newer "$OUT" 2>/dev/null | head -n1) ]]; then
    # shellcheck disable=SC2046
    gcc -O2 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -fno-strict-aliasing \
        -Iinclude -Itests/unit $(pkg-config --cflags sdl2 libpng) \
        -o "$OUT.tmp" "${SRCS[@]}" $(pkg-config --libs sdl2 libpng) -lpthread -luring
    mv "$OUT.tmp" "$OUT"
fi
echo "host: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
"$OUT" "$@"
