#!/bin/bash
# Source coverage of the fuzz corpora: every target rebuilt with clang's
# source-based coverage (no sanitizers) into build/fuzz/cov/, run once
# over its corpora (tests/fuzz/corpus/<t>/ and what run.sh and
# campaign.sh have found in build/fuzz/corpus/<t>/ and
# build/fuzz/campaign/corpus/<t>/), then one line per source file it exercises:
#   COV fuzz:<target> <file>: lines NN.N%, branches NN.N%
#
#   tests/fuzz/coverage.sh [TARGET...]
#
# HTML for a closer look: llvm-cov show build/fuzz/cov/fuzz_<t>
#   -instr-profile=build/fuzz/cov/<t>.profdata -format=html -o DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
CC=${CC:-clang}
PROFDATA=${LLVM_PROFDATA:-$(command -v llvm-profdata || command -v llvm-profdata-14)}
LLVMCOV=${LLVM_COV:-$(command -v llvm-cov || command -v llvm-cov-14)}
OUT=build/fuzz/cov
JOBS=${FUZZ_JOBS:-$(nproc)}
CFLAGS="-std=c11 -D_GNU_SOURCE -g -O1 -fno-strict-aliasing -Iinclude -Idevices/virtio -Iboot -Itests/unit -Itests/fuzz -DMINIVMM_DEBUG -fprofile-instr-generate -fcoverage-mapping"
LIBS="-luring -lpng -llzma -lpthread -lm"

# shellcheck source=tests/fuzz/common.sh
. tests/fuzz/common.sh

# The files each target is about.
files_of() {
	case $1 in
	virtqueue) echo devices/virtio/queue.c vmm/guest_mem.c ;;
	virtio_mmio) echo devices/virtio/mmio.c devices/virtio/rng.c ;;
	virtio_blk) echo devices/virtio/blk.c ;;
	virtio_gpu) echo devices/virtio/gpu.c devices/virtio/gpu_2d.c devices/virtio/gpu_cursor.c devices/virtio/gpu_edid.c ;;
	virtio_input_console) echo devices/virtio/input.c devices/virtio/console.c ;;
	bzimage) echo boot/bzimage.c boot/x86_boot.c ;;
	control_proto) echo devices/control_proto.c devices/keymap.c ;;
	pio) echo devices/serial.c devices/platform.c vmm/bus.c ;;
	esac
}

SRCS=$(ls boot/*.c devices/*.c devices/virtio/*.c \
	devices/display/framebuffer.c devices/display/headless.c \
	vmm/guest_mem.c vmm/bus.c)
rm -rf "$OUT/obj"
mkdir -p "$OUT/obj"
pids=()
for s in $SRCS; do
	o=$OUT/obj/$(echo "${s%.c}" | tr / _).o
	$CC $CFLAGS -fsanitize=fuzzer-no-link -c -o "$o" "$s" 2>/dev/null || rm -f "$o" &
	pids+=($!)
	if [ ${#pids[@]} -ge "$JOBS" ]; then wait "${pids[0]}" || true; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p" || true; done
rm -f "$OUT/lib.a"
ar rcs "$OUT/lib.a" "$OUT"/obj/*.o

for t in $(fuzz_targets "$@"); do
	bin=$OUT/fuzz_$t
	$CC $CFLAGS -fsanitize=fuzzer -o "$bin" "tests/fuzz/fuzz_$t.c" "$OUT/lib.a" $LIBS
	rm -f "$OUT/$t".*.profraw
	dirs=("tests/fuzz/corpus/$t")
	[ -d "build/fuzz/corpus/$t" ] && dirs+=("build/fuzz/corpus/$t")
	[ -d "build/fuzz/campaign/corpus/$t" ] && dirs+=("build/fuzz/campaign/corpus/$t")
	LLVM_PROFILE_FILE="$OUT/$t.%p.profraw" "$bin" -runs=0 -close_fd_mask=3 \
		-max_len="$(fuzz_max_len "$t")" "${dirs[@]}" >"$OUT/$t.log" 2>&1 || true
	"$PROFDATA" merge -sparse "$OUT/$t".*.profraw -o "$OUT/$t.profdata"
	for src in $(files_of "$t"); do
		"$LLVMCOV" report "$bin" -instr-profile="$OUT/$t.profdata" "$src" |
			awk -v t="$t" -v f="$src" '$1 == "TOTAL" { printf "COV fuzz:%s %s: lines %s, branches %s\n", t, f, $10, $13 }'
	done
done
