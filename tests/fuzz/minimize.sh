#!/bin/bash
# Folds what fuzzing found (build/fuzz/campaign/corpus/<t>/,
# build/fuzz/corpus/<t>/) into the committed corpus: the inputs that reach
# a code edge the seeds, the crash inputs and the current cov-* files do
# not, as tests/fuzz/corpus/<t>/cov-<sha1> (edges only, no hit counts:
# -use_counters=0 keeps the set small, and regress.sh fast).  Old cov-*
# files that no longer add an edge are dropped.
#
#   tests/fuzz/minimize.sh [TARGET...]
#
# One line per target: "MIN fuzz:<t>: N cov files, B bytes".
set -euo pipefail
cd "$(dirname "$0")/../.."
tests/fuzz/build.sh "$@"

# shellcheck source=tests/fuzz/common.sh
. tests/fuzz/common.sh

for t in $(fuzz_targets "$@"); do
	tmp=build/fuzz/minimize/$t
	rm -rf "$tmp"
	mkdir -p "$tmp/keep" "$tmp/old"
	for f in tests/fuzz/corpus/"$t"/*; do
		case $(basename "$f") in
		cov-*) cp "$f" "$tmp/old/" ;;
		*) cp "$f" "$tmp/keep/" ;;
		esac
	done
	ls "$tmp/keep" >"$tmp/keep.list"
	dirs=("$tmp/old")
	for d in build/fuzz/campaign/corpus/$t build/fuzz/corpus/$t; do
		[ -d "$d" ] && dirs+=("$d")
	done
	build/fuzz/fuzz_$t -merge=1 -use_counters=0 -close_fd_mask=3 \
		-timeout=30 -rss_limit_mb=3072 -max_len="$(fuzz_max_len "$t")" \
		"$tmp/keep" "${dirs[@]}" >"$tmp/merge.log" 2>&1 ||
		{ echo "FAIL fuzz:$t: merge failed (log: $tmp/merge.log)"; exit 1; }
	rm -f tests/fuzz/corpus/"$t"/cov-*
	n=0
	for f in "$tmp"/keep/*; do
		b=$(basename "$f")
		grep -qxF "$b" "$tmp/keep.list" && continue
		cp "$f" "tests/fuzz/corpus/$t/cov-$(sha1sum "$f" | cut -c1-40)"
		n=$((n + 1))
	done
	echo "MIN fuzz:$t: $n cov files, $(cat tests/fuzz/corpus/"$t"/cov-* 2>/dev/null | wc -c) bytes"
done
