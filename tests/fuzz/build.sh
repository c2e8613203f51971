#!/bin/bash
# Builds every libFuzzer target in tests/fuzz/ into build/fuzz/ with plain
# clang command lines (no dependency on the main Makefile's objects):
#   build/fuzz/obj/...      project sources, -fsanitize=fuzzer-no-link,...
#   build/fuzz/libminivmm.a those objects; a target pulls what it needs
#   build/fuzz/fuzz_<name>  one binary per tests/fuzz/fuzz_<name>.c
# Incremental: an object is rebuilt when its source or any header is newer.
# Usage: tests/fuzz/build.sh [TARGET...]   (default: all targets)
# Env: CC (default clang), FUZZ_JOBS (parallel compiles, default nproc).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
CC=${CC:-clang}
OUT=build/fuzz
JOBS=${FUZZ_JOBS:-$(nproc)}

SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Wno-unused-parameter -fno-strict-aliasing -Iinclude -Idevices/virtio -Iboot -Itests/unit -Itests/fuzz -DMINIVMM_DEBUG"
LIBS="-luring -lpng -llzma -lpthread -lm"

if ! echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n){return 0;}' | $CC -x c - -fsanitize=fuzzer -o /dev/null 2>/dev/null; then
	echo "FAIL fuzz:build: $CC cannot link -fsanitize=fuzzer (apt-get install clang libclang-rt-14-dev)" >&2
	exit 1
fi

# Everything that parses guest- or client-controlled data, and what it
# needs; no SDL, no KVM.
SRCS=$(ls boot/*.c devices/*.c devices/virtio/*.c \
	devices/display/framebuffer.c devices/display/headless.c \
	vmm/guest_mem.c vmm/bus.c)

mkdir -p "$OUT/obj"
# Newest header: any change rebuilds everything (simple and safe).
HDR_STAMP=$(ls -t include/*.h devices/virtio/*.h boot/*.h 2>/dev/null | head -1)

# Other compiler or flags (e.g. -DMINIVMM_DEBUG added): everything again.
if [ "$(cat "$OUT/obj/flags" 2>/dev/null)" != "$CC $CFLAGS $SAN" ]; then
	find "$OUT/obj" -name '*.o' -delete
	printf '%s' "$CC $CFLAGS $SAN" >"$OUT/obj/flags"
fi
need=()
for s in $SRCS; do
	o=$OUT/obj/${s%.c}.o
	if [ ! -e "$o" ] || [ "$s" -nt "$o" ] || [ "$HDR_STAMP" -nt "$o" ]; then
		need+=("$s")
	fi
done
# A source that does not compile (another engineer's work in progress, a
# missing optional library) is left out with a warning: only a target that
# needs it then fails, at link time.
compile() {
	local s=$1 o=$OUT/obj/${1%.c}.o
	mkdir -p "$(dirname "$o")"
	if ! $CC $CFLAGS $SAN -fsanitize=fuzzer-no-link -c -o "$o" "$s" 2>"$o.err"; then
		rm -f "$o"
		echo "fuzz build: warning: $s does not compile, left out (see $o.err)" >&2
	fi
}
if [ ${#need[@]} -gt 0 ]; then
	pids=()
	for s in "${need[@]}"; do
		compile "$s" &
		pids+=($!)
		if [ ${#pids[@]} -ge "$JOBS" ]; then
			wait "${pids[0]}"
			pids=("${pids[@]:1}")
		fi
	done
	for p in "${pids[@]}"; do wait "$p"; done
	rm -f "$OUT/libminivmm.a"
fi
# The archive holds exactly the current sources' objects: a source added or
# removed since the last build rebuilds it.
if [ "$(cat "$OUT/obj/sources" 2>/dev/null)" != "$SRCS" ]; then
	rm -f "$OUT/libminivmm.a"
	printf '%s' "$SRCS" >"$OUT/obj/sources"
fi
objs=()
for s in $SRCS; do
	[ -e "$OUT/obj/${s%.c}.o" ] && objs+=("$OUT/obj/${s%.c}.o")
done
if [ ! -e "$OUT/libminivmm.a" ]; then
	ar rcs "$OUT/libminivmm.a" "${objs[@]}"
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for f in tests/fuzz/fuzz_*.c; do
		t=$(basename "$f" .c); targets+=("${t#fuzz_}")
	done
fi
pids=()
for t in "${targets[@]}"; do
	src=tests/fuzz/fuzz_$t.c bin=$OUT/fuzz_$t
	[ -e "$src" ] || { echo "FAIL fuzz:$t: no $src" >&2; exit 1; }
	# The harness may #include a device's .c (to reach its internals):
	# rebuild when any source it could include changed.
	if [ -e "$bin" ] && [ ! "$src" -nt "$bin" ] && [ ! "$OUT/libminivmm.a" -nt "$bin" ] &&
	   [ ! tests/fuzz/fuzz_common.h -nt "$bin" ] && [ ! tests/unit/fake_virtq.h -nt "$bin" ] &&
	   [ -z "$(find devices boot -name '*.c' -newer "$bin" | head -1)" ]; then
		continue
	fi
	$CC $CFLAGS $SAN -fsanitize=fuzzer -o "$bin" "$src" "$OUT/libminivmm.a" $LIBS &
	pids+=($!)
	if [ ${#pids[@]} -ge "$JOBS" ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
st=0
for p in "${pids[@]}"; do wait "$p" || st=1; done
exit $st
