#!/bin/bash
# The x86 core: userspace reached, CPUs and memory as asked, exit statuses.
. "$(dirname "$0")/lib.sh"

run_cmd marker 'echo hello-from-guest; cat /proc/cmdline'
check marker 0 "$MARKER" '^hello-from-guest' 'minivmm-guest: exit status 0'

for n in 1 2 4; do
    run_cmd "nproc-$n" 'echo nproc=$(nproc); grep -c ^processor /proc/cpuinfo' --cpus "$n"
    check "nproc-$n" 0 "^nproc=$n\$"
done

# MemTotal: what the kernel reports is --mem minus its own reservations:
# the kernel image and early allocations (~50 MiB for Debian's kernel) and
# page structs (~1.6%).  Accept down to 97% of --mem minus 64 MiB.
for mem in 256 1024; do
    run_cmd "memtotal-${mem}M" 'grep MemTotal /proc/meminfo' --mem "${mem}M"
    if check "memtotal-${mem}M-boot" 0 'MemTotal'; then
        kb=$(awk '/MemTotal/ {print $2}' "$out" | head -1)
        if [ -n "$kb" ] && [ "$kb" -le $((mem * 1024)) ] && [ "$kb" -ge $((mem * 1024 * 97 / 100 - 65536)) ]; then
            pass "memtotal-${mem}M"
        else
            fail "memtotal-${mem}M" "MemTotal ${kb} kB for --mem ${mem}M"
        fi
    fi
done

# RAM above the 32-bit hole: 3.5G puts 512M above 4 GiB.  With RAM above
# 4 GiB the kernel also sets aside 64 MiB of swiotlb bounce buffers.
run_cmd memtotal-above-4g 'grep MemTotal /proc/meminfo; dmesg | grep -i usable | head' --mem 3584M
if check memtotal-above-4g-boot 0 'MemTotal'; then
    kb=$(awk '/MemTotal/ {print $2}' "$out" | head -1)
    [ "$kb" -ge $((3584 * 1024 * 97 / 100 - 2 * 65536)) ] && [ "$kb" -le $((3584 * 1024)) ] && pass memtotal-above-4g || fail memtotal-above-4g "MemTotal $kb kB"
fi

# No ACPI complaints from the kernel, and our devices found through ACPI.
# (ACPICA reports as "ACPI Error:", "ACPI BIOS Warning (bug):", "ACPI Exception:".)
run_cmd acpi-clean "dmesg | grep -E 'ACPI( BIOS)? (Error|Warning)|ACPI Exception|Firmware Bug' || echo NO-ACPI-ERRORS; dmesg | grep -E 'ttyS0 at I/O|PM: \\(supports'"
check acpi-clean 0 'NO-ACPI-ERRORS' 'ttyS0 at I/O 0x3f8 .* is a 16550A' 'supports S0 S5'

run_cmd poweroff 'poweroff -f'
check poweroff 0 "$MARKER"

run_cmd reboot 'reboot -f'
check reboot 3 "$MARKER" 'guest rebooted'

run_cmd panic 'echo c > /proc/sysrq-trigger'
check panic 4 "$MARKER" 'guest kernel panicked'

# Input typed on stdin reaches the guest's shell; its output comes back.
# Plain `poweroff` (no -f) asks init, which must act on it.
printf 'echo typed-$((6*7))\npoweroff\n' >"$LOGS/stdin-input"
BOOT_STDIN=$LOGS/stdin-input boot stdin-shell --cmdline 'console=ttyS0 panic=-1 quiet'
check stdin-shell 0 "$MARKER" '^typed-42'

# stdin at EOF from the start: the guest still runs its command and exits.
run_cmd stdin-eof 'sleep 1; echo still-running'
check stdin-eof 0 'still-running'

# SIGTERM from the host stops it cleanly with status 6.
timeout -k 5 "$BOOT_TIMEOUT" "$MINIVMM" --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.img" \
    --cmdline 'console=ttyS0 quiet minivmm_run="sleep 1000"' </dev/null >"$LOGS/sigterm.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do grep -q "$MARKER" "$LOGS/sigterm.log" && break; sleep 0.2; done
kill -TERM $pid 2>/dev/null
status=0; wait $pid || status=$?
out=$LOGS/sigterm.log
check sigterm 6 "$MARKER" 'stopped by'
