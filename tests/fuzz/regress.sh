#!/bin/bash
# Runs every fuzz target over its committed corpus only - the seeds and
# the crash inputs found so far (tests/fuzz/corpus/<target>/) - without
# fuzzing: a fast regression test.
#
#   tests/fuzz/regress.sh [TARGET...]
#
# One line per target: "PASS fuzz-regress:<target> (N inputs)" or
# "FAIL fuzz-regress:<target>: <reason> (input: <file>)".  Logs in
# build/fuzz/logs/regress-<target>.log.  Exit status 1 if any failed.
set -uo pipefail
cd "$(dirname "$0")/../.."

if ! tests/fuzz/build.sh "$@"; then
	echo "FAIL fuzz-regress:build: the fuzz targets do not build"
	exit 1
fi

# shellcheck source=tests/fuzz/common.sh
. tests/fuzz/common.sh

st=0
for t in $(fuzz_targets "$@"); do
	log=build/fuzz/logs/regress-$t.log
	mkdir -p "$(dirname "$log")"
	mapfile -t inputs < <(find "tests/fuzz/corpus/$t" -type f 2>/dev/null | sort)
	if [ ${#inputs[@]} -eq 0 ]; then
		echo "FAIL fuzz-regress:$t: no inputs in tests/fuzz/corpus/$t"
		st=1
		continue
	fi
	# Files as arguments: each is run once, no mutation.
	build/fuzz/fuzz_$t -close_fd_mask=2 -timeout=30 -rss_limit_mb=3072 \
		"${inputs[@]}" >"$log" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "PASS fuzz-regress:$t (${#inputs[@]} inputs)"
	else
		bad=$(sed -n 's/^Running: //p' "$log" | tail -1)
		echo "FAIL fuzz-regress:$t: $(fuzz_reason "$log" "$rc")${bad:+ (input: $bad)}"
		st=1
	fi
done
exit $st
