#!/bin/bash
# Runs every test and ends with one counted line "N passed, N failed, N skipped":
#  1. unit tests (build/tests/*) and the same under ASan+UBSan (build/asan-tests/*)
#  2. fuzz targets (tests/fuzz/): corpora replayed, then 10 s of fuzzing each
#     command-line error tests (tests/cli/), no KVM needed
#  3. boot tests (tests/boot/), on /dev/kvm when it is usable, otherwise all of
#     them inside one nested VM (tools/nested-run.sh), skipped only when
#     neither is possible.
# Each test prints "PASS name", "FAIL name" or "SKIP name"; this script counts them.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export MINIVMM="$ROOT/build/minivmm" GUEST="$ROOT/build/guest"
LOG=$ROOT/build/test-logs
rm -rf "$LOG"; mkdir -p "$LOG"
RESULTS=$LOG/results
# SDL's libdbus leaks one allocation at start-up: not ours.
export LSAN_OPTIONS=suppressions=$ROOT/tests/unit/lsan.supp
: >"$RESULTS"

# Streams a command's output and keeps its PASS/FAIL/SKIP lines for the count.
collect() {
    "$@" 2>&1 | sed -u 's/\r//g' | tee -a "$LOG/all.log" | while IFS= read -r line; do
        printf '%s\n' "$line"
        case "$line" in
        PASS\ *|FAIL\ *|SKIP\ *) printf '%s\n' "$line" >>"$RESULTS" ;;
        esac
    done
}

# One unit-test binary: its PASS/FAIL lines, prefixed, plus a FAIL if it
# exits non-zero without saying why (a sanitizer report, a crash).
run_unit() {
    local prefix=$1 bin=$2 name out st
    name=$(basename "$bin")
    out=$LOG/$prefix$name.log
    "$bin" >"$out" 2>&1; st=$?
    # Each binary's own "N passed, N failed" stays in its log: only the
    # last line of this script is a count.
    sed -e "s/^\(PASS\|FAIL\|SKIP\) /\1 $prefix$name:/" \
        -e '/^[0-9]* passed, [0-9]* failed/d' "$out"
    if [ $st -ne 0 ] && ! grep -q '^FAIL ' "$out"; then
        echo "FAIL $prefix$name: exited with status $st (see $out)"
    fi
}

echo "== unit tests"
for t in $(ls build/tests/test_* | grep -v "\.d$"); do
    [ -x "$t" ] && collect run_unit "" "$t"
done
echo "== unit tests under ASan+UBSan"
for t in $(ls build/asan-tests/test_* | grep -v "\.d$"); do
    [ -x "$t" ] && collect run_unit "asan:" "$t"
done

echo "== fuzz targets: the committed corpora, then a short run of each"
if command -v clang >/dev/null; then
    collect tests/fuzz/regress.sh
    # Fixed seed and run count: the same inputs on every machine, so a
    # failure here is a finding, not luck.  `make fuzz` explores further.
    FUZZ_FLAGS="${MINIVMM_FUZZ_FLAGS:--seed=1 -runs=5000}" \
        collect tests/fuzz/run.sh "${MINIVMM_FUZZ_SECONDS:-30}"
else
    echo "SKIP fuzz: clang not installed (make deps)" | tee -a "$RESULTS"
fi

echo "== command-line tests"
collect tests/cli/test-errors.sh
collect tests/cli/test-garbage.sh

echo "== boot tests"
if tools/kvm-usable.sh; then
    echo "using /dev/kvm directly"
    collect tests/boot/run-all.sh
elif command -v qemu-system-x86_64 >/dev/null && [ -x tools/nested-run.sh ]; then
    echo "no usable /dev/kvm here: running the boot tests in one nested VM"
    collect tools/nested-run.sh --timeout "${MINIVMM_NESTED_TIMEOUT:-2400}" -- tests/boot/run-all.sh
    st=${PIPESTATUS[0]}
    if [ "$st" -ne 0 ] && ! grep -q "^BOOT-TESTS-DONE" "$LOG/all.log"; then
        echo "FAIL boot-tests: the nested runner ended early (status $st)" | tee -a "$RESULTS"
    fi
else
    echo "SKIP boot-tests: no usable /dev/kvm and no qemu-system-x86_64 for the nested runner" | tee -a "$RESULTS"
fi

pass=$(grep -c '^PASS ' "$RESULTS")
fail=$(grep -c '^FAIL ' "$RESULTS")
skip=$(grep -c '^SKIP ' "$RESULTS")
if [ "$fail" -gt 0 ]; then
    echo; echo "failed:"; grep '^FAIL ' "$RESULTS" | sed 's/^/  /'
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
