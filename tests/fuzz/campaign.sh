#!/bin/bash
# A long fuzzing campaign: each target in turn (one libFuzzer process at a
# time, nice 19) until RUNS executions or its time cap, whichever comes
# first; then one summary line per target, also appended to
# build/fuzz/campaign/summary.tsv:
#   target  execs  seconds  exec/s  cov  ft  corpus_files  result
#
#   tests/fuzz/campaign.sh [RUNS] [TARGET[:SECONDS]...]
#
# RUNS defaults to 10000000; a target without :SECONDS gets the cap of
# the table below (what the 2-core machine of docs/fuzzing.md afforded in
# about two hours for all of them).  The corpus grows in
# build/fuzz/campaign/corpus/<target>/ (starting from the committed seeds
# and build/fuzz/corpus/<target>/ when run.sh left one); crashes, leaks and
# timeouts go to build/fuzz/campaign/artifacts/<target>/, logs to
# build/fuzz/campaign/logs/.  Minimize afterwards with
#   build/fuzz/fuzz_<t> -merge=1 DIR build/fuzz/campaign/corpus/<t>
# Env: FUZZ_FLAGS adds libFuzzer flags.
set -uo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-10000000}
shift || true
case $RUNS in ''|*[!0-9]*) echo "usage: tests/fuzz/campaign.sh [RUNS] [TARGET[:SECONDS]...]" >&2; exit 2 ;; esac

# shellcheck source=tests/fuzz/common.sh
. tests/fuzz/common.sh

cap_of() {
	case $1 in
	bzimage) echo 480 ;;
	virtqueue) echo 840 ;;
	control_proto|virtio_mmio|pio) echo 900 ;;
	virtio_blk|virtio_gpu) echo 1080 ;;
	virtio_input_console) echo 1020 ;;
	*) echo 900 ;;
	esac
}

specs=("$@")
[ ${#specs[@]} -gt 0 ] || mapfile -t specs < <(fuzz_targets)
names=()
for s in "${specs[@]}"; do names+=("${s%%:*}"); done
if ! tests/fuzz/build.sh "${names[@]}"; then
	echo "FAIL fuzz:build: the fuzz targets do not build"
	exit 1
fi

C=build/fuzz/campaign
mkdir -p "$C/logs"
st=0
for s in "${specs[@]}"; do
	t=${s%%:*} secs=${s#*:}
	[ "$secs" != "$s" ] || secs=$(cap_of "$t")
	work=$C/corpus/$t art=$C/artifacts/$t log=$C/logs/$t.log
	mkdir -p "$work" "$art"
	dirs=("$work" "tests/fuzz/corpus/$t")
	[ -d "build/fuzz/corpus/$t" ] && dirs+=("build/fuzz/corpus/$t")
	start=$(date +%s)
	# shellcheck disable=SC2086
	nice -n 19 build/fuzz/fuzz_$t -runs="$RUNS" -max_total_time="$secs" \
		-print_final_stats=1 -close_fd_mask=2 -timeout=20 \
		-rss_limit_mb=3072 -max_len="$(fuzz_max_len "$t")" \
		-artifact_prefix="$art/" ${FUZZ_FLAGS:-} "${dirs[@]}" >"$log" 2>&1
	rc=$?
	el=$(( $(date +%s) - start ))
	n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	last=$(grep -E '^#[0-9]+' "$log" | tail -1)
	cov=$(printf '%s' "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(printf '%s' "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	files=$(find "$work" -type f | wc -l)
	res=$(fuzz_report "$t" "$rc" "$log") || st=1
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "${n:-?}" "$el" \
		"$(( ${n:-0} / (el > 0 ? el : 1) ))" "${cov:-?}" "${ft:-?}" "$files" "$res" |
		tee -a "$C/summary.tsv"
done
exit $st
