# Shared by tests/fuzz/run.sh and regress.sh (sourced, from the repo root).

# The targets named, or all of them.
fuzz_targets() {
	if [ $# -gt 0 ]; then
		printf '%s\n' "$@"
		return
	fi
	for f in tests/fuzz/fuzz_*.c; do
		f=$(basename "$f" .c)
		echo "${f#fuzz_}"
	done
}

# Inputs the fuzzer may grow to: the virtqueue target's input is a whole
# guest memory image, the bzImage one a kernel.
fuzz_max_len() {
	case $1 in
	virtqueue) echo 24576 ;;
	bzimage) echo 65536 ;;
	*) echo 8192 ;;
	esac
}

# The first line of a log that says what went wrong.
fuzz_reason() {
	local r
	r=$(grep -m1 -E 'fuzz invariant failed|runtime error:|ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer|MemorySanitizer)' "$1")
	r=${r#*ERROR: }
	r=${r#==*== }
	r=$(printf '%s' "$r" | sed -e 's/ on address 0x[0-9a-f]*.*//' -e 's/^\([^:]*:[0-9]*:[0-9]*: \)runtime error: /\1/' -e "s|^$PWD/||")
	[ -n "$r" ] || r="exited with status $2 (no sanitizer report)"
	# The first frame of the first stack that is not the sanitizers',
	# libFuzzer's or libc's: where it went wrong.
	local at
	at=$(grep -E '^ +#[0-9]+ 0x[0-9a-f]+ in ' "$1" |
		grep -v -E ' in (__[^ ]*|fuzzer::[^ ]*|abort|raise|gsignal|malloc|calloc|realloc|free|mem(cpy|set|move|cmp)|str[a-z]*|fz_fail) ' |
		head -1 |
		sed -E -e 's/^ +#[0-9]+ 0x[0-9a-f]+ in ([^ ]+) (.*)$/\1 \2/' -e "s| $PWD/| |")
	[ -n "$at" ] && r="$r [in $at]"
	printf '%s' "$r"
}

# PASS/FAIL line for one fuzzing run; 1 when it failed.
fuzz_report() {
	local t=$1 rc=$2 log=$3 n unit
	n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	if [ "$rc" -eq 0 ] && grep -q '^Done [0-9]* runs' "$log"; then
		echo "PASS fuzz:$t (${n:-?} execs)"
		return 0
	fi
	unit=$(sed -n "s/.*Test unit written to \(.*\)$/\1/p" "$log" | tail -1)
	echo "FAIL fuzz:$t: $(fuzz_reason "$log" "$rc")${unit:+ (input: $unit)} (log: $log)"
	return 1
}
