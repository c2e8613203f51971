#!/bin/bash
# Builds every fuzz target (tests/fuzz/build.sh) and fuzzes each for
# SECONDS_PER_TARGET seconds (default 10), one after the other.
#
#   tests/fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Each target starts from its seed corpus tests/fuzz/corpus/<target>/
# (read only) plus build/fuzz/corpus/<target>/, where the inputs it finds
# are kept between runs.  One line per target:
#   PASS fuzz:<target> (N execs)
#   FAIL fuzz:<target>: <reason> (input: build/fuzz/artifacts/<target>/...)
# Crash, leak, timeout and out-of-memory inputs are saved under
# build/fuzz/artifacts/<target>/; the whole output is in
# build/fuzz/logs/<target>.log.  Exit status 1 if any target failed.
# Env: FUZZ_FLAGS adds libFuzzer flags (e.g. -jobs=2, -seed=1).
set -uo pipefail
cd "$(dirname "$0")/../.."
SECS=${1:-10}
shift || true
case $SECS in ''|*[!0-9]*) echo "usage: tests/fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]" >&2; exit 2 ;; esac

if ! tests/fuzz/build.sh "$@"; then
	echo "FAIL fuzz:build: the fuzz targets do not build"
	exit 1
fi

# shellcheck source=tests/fuzz/common.sh
. tests/fuzz/common.sh

st=0
for t in $(fuzz_targets "$@"); do
	work=build/fuzz/corpus/$t art=build/fuzz/artifacts/$t log=build/fuzz/logs/$t.log
	mkdir -p "$work" "$art" "$(dirname "$log")" "tests/fuzz/corpus/$t"
	# -close_fd_mask=2: the devices' one-line guest-mistake messages
	# would drown the output (libFuzzer and the sanitizers still report).
	# shellcheck disable=SC2086
	build/fuzz/fuzz_$t -max_total_time="$SECS" -print_final_stats=1 \
		-close_fd_mask=2 -timeout=30 -rss_limit_mb=3072 \
		-max_len="$(fuzz_max_len "$t")" -artifact_prefix="$art/" \
		${FUZZ_FLAGS:-} "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1
	rc=$?
	fuzz_report "$t" "$rc" "$log" || st=1
done
exit $st
