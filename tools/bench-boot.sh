#!/bin/bash
# Boot benchmark (not a test): for the default guest, on minivmm and on
# QEMU -M microvm in the same run, alternating A B B A:
#   - wall time from launch to the guest's first userspace marker,
#   - wall time from the guest's last line before poweroff to the VMM's exit,
#   - KVM exits until userspace (debugfs kvm/exits, when readable),
#   - the VMM's peak resident memory outside guest RAM (/proc/PID/smaps).
# Without a usable /dev/kvm it re-runs itself inside tools/nested-run.sh;
# times there are only meaningful as ratios.
# Usage: tools/bench-boot.sh MINIVMM GUESTDIR [ROUNDS]
set -euo pipefail
MINIVMM=$(realpath "$1"); GUEST=$(realpath "$2"); ROUNDS=${3:-2}
cd "$(dirname "$0")/.."
if ! tools/kvm-usable.sh; then
    echo "bench: no usable /dev/kvm: running inside the nested VM" >&2
    exec tools/nested-run.sh --timeout 3000 -- "$0" "$MINIVMM" "$GUEST" "$ROUNDS"
fi
MEM=512
# The guest stays up 2 s after userspace: a VM's KVM statistics vanish
# with it, and the marker is read from a pipe a little after it was
# written - a VM that powers off at once would be gone by then.
CMDLINE='console=ttyS0 panic=-1 quiet minivmm_run="sleep 2; echo bench-done"'
MARKER='minivmm-guest: userspace up'
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
EXITS=/sys/kernel/debug/kvm/exits
[ -r $EXITS ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null || true

now() { date +%s.%N; }

# RSS of pid outside its guest-RAM mapping (the one of exactly --mem's
# size), taken when the guest reaches userspace: what the VMM keeps for
# itself while a guest runs.  (Set-up transients are not in it: minivmm
# maps the cached vmlinux - page cache, shared - while copying it in.)
rss_now() {
    awk -v want=$((MEM * 1024)) '
        /^[0-9a-f]+-[0-9a-f]+ / { guest = 0; next }
        /^Size:/ { guest = ($2 == want) }
        /^Rss:/ { if (!guest) s += $2 }
        END { print s + 0 }' "/proc/$1/smaps" 2>/dev/null || echo 0
}

# run_one NAME CMD...: prints "boot_s exit_s exits rss_kb"
run_one() {
    local name=$1; shift
    local fifo=$T/fifo e0 e1 t0 tu="" te="" tend pid
    rm -f "$fifo"; mkfifo "$fifo"
    e0=$(cat $EXITS 2>/dev/null || echo 0)
    t0=$(now)
    "$@" </dev/null >"$fifo" 2>&1 &
    pid=$!
    local e_user="" rss=0
    while IFS= read -r line; do
        case "$line" in
        *"$MARKER"*) tu=$(now); e_user=$(cat $EXITS 2>/dev/null || echo 0)
                     rss=$(rss_now "$pid") ;;
        *bench-done*) te=$(now) ;;
        esac
    done <"$fifo"
    wait "$pid" || true
    tend=$(now)
    e1=${e_user:-0}
    [ -n "${MINIVMM_BENCH_DEBUG:-}" ] && echo "bench: $name exits before $e0, at userspace ${e_user:-unset}" >&2
    awk -v t0="$t0" -v tu="${tu:-0}" -v te="${te:-0}" -v tend="$tend" \
        -v ex=$((e1 - e0)) -v rss="$rss" \
        'BEGIN { printf "%.3f %.3f %d %d\n", tu - t0, tend - te, ex, rss }'
}

minivmm() {
    run_one minivmm "$MINIVMM" --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.img" \
        --mem ${MEM}M --cmdline "$CMDLINE"
}
qemu() {
    run_one qemu qemu-system-x86_64 -M microvm -accel kvm -cpu host -m $MEM \
        -nodefaults -no-user-config -nographic -serial stdio -no-reboot \
        -kernel "$GUEST/vmlinuz" -initrd "$GUEST/initrd.img" -append "$CMDLINE"
}

: >"$T/minivmm"; : >"$T/qemu"
# Warm-up, not counted: the page cache holds the kernel and initrd for
# both, and minivmm's decompressed-kernel cache (include/kernel_cache.h)
# is filled - what every boot after a VM's first one sees.
export MINIVMM_CACHE_DIR=$T/kcache
minivmm >/dev/null; qemu >/dev/null
for i in $(seq 1 600); do
    ls "$MINIVMM_CACHE_DIR"/vmlinux-* 2>/dev/null | grep -vq '\.tmp\.' && break
    sleep 0.5
done
ls "$MINIVMM_CACHE_DIR"/vmlinux-* >/dev/null 2>&1 || echo "bench: warning: the kernel cache was not filled" >&2
for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then minivmm >>"$T/minivmm"; qemu >>"$T/qemu"
    else qemu >>"$T/qemu"; minivmm >>"$T/minivmm"; fi
done

summary() {   # file -> "boot_s exit_s exits rss_kb" medians, and spread of boot
    sort -n -k1 "$1" | awk '{b[NR]=$1; e[NR]=$2; x[NR]=$3; r[NR]=$4}
        END { m = int((NR + 1) / 2);
              printf "%.3f %.3f %d %d %.3f %.3f\n", b[m], e[m], x[m], r[m], b[1], b[NR] }'
}
read -r mb me mx mr mlo mhi < <(summary "$T/minivmm")
read -r qb qe qx qr qlo qhi < <(summary "$T/qemu")
printf '%-22s %12s %12s %8s\n' "" minivmm "qemu microvm" ratio
printf '%-22s %11.2fs %11.2fs %8.2f\n' "launch -> userspace" "$mb" "$qb" "$(awk -v a="$mb" -v b="$qb" 'BEGIN { print (b > 0 ? a / b : 0) }')"
printf '%-22s %5.2f-%5.2fs %5.2f-%5.2fs\n' "  (spread)" "$mlo" "$mhi" "$qlo" "$qhi"
printf '%-22s %11.2fs %11.2fs\n' "poweroff -> exit" "$me" "$qe"
printf '%-22s %12d %12d %8s\n' "KVM exits to userspace" "$mx" "$qx" "$(awk -v a="$mx" -v b="$qx" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')"
printf '%-22s %10dKiB %10dKiB\n' "RSS beside guest RAM" "$mr" "$qr"
echo "($ROUNDS rounds each, alternating; medians; exits need debugfs)"
