#!/bin/bash
# virtio-blk benchmark (not a test): fio inside the default guest, on
# minivmm and on QEMU -M microvm (virtio-blk-device, aio=io_uring) in the
# same run, rounds alternating A B B A:
#   - 4 KiB random-read IOPS at queue depth 32 and at queue depth 1,
#   - sequential read and write MB/s (1 MiB requests, queue depth 8),
# all with O_DIRECT in the guest (libaio) on the whole test disk, a raw
# file in /tmp (a tmpfs inside the nested VM), pre-filled once.
#
# fio is Debian's binary: its package and the libraries it needs (those
# not installed here are fetched with apt-get download and unpacked) are
# resolved with ldd and put on a small ext4 "tools disk" with the guest
# script (build/bench/blk/tools.ext4, rebuilt when that script changes).
# The guest keeps its busybox initramfs root, mounts that disk read-only
# at /mnt and runs fio through the dynamic loader on it; the test disk is
# found by its virtio serial number, whichever /dev/vdX it became.
#
# QEMU gets cache=none (O_DIRECT on the image) when the image's file
# system allows it, else cache=writeback; minivmm always does buffered
# io_uring on the image. The table says which.
# Without a usable /dev/kvm it re-runs itself inside tools/nested-run.sh
# (the tools disk is built out here first: apt needs the network); times
# there are only meaningful as ratios. The last console of each VMM is
# kept in build/bench/blk/last-{minivmm,qemu}.log.
# Usage: tools/bench-blk.sh MINIVMM GUESTDIR [ROUNDS]
#   BENCH_BLK_SECONDS=5   fio runtime per job (plus 1 s ramp)
#   BENCH_BLK_DISK_MB=256 size of the test disk
set -euo pipefail
MINIVMM=$(realpath "$1"); GUEST=$(realpath "$2"); ROUNDS=${3:-2}
SECS=${BENCH_BLK_SECONDS:-5}; DISK_MB=${BENCH_BLK_DISK_MB:-256}
SELF=$(realpath "$0")
cd "$(dirname "$0")/.."
REPO=$(pwd)
TOOLS_IMG=$REPO/build/bench/blk/tools.ext4
LOGS=$REPO/build/bench/blk	# last-minivmm.log, last-qemu.log: consoles
die() { echo "error: bench-blk: $*" >&2; exit 1; }

# ---- the tools disk: fio, its libraries, the guest script ---------------

guest_script() {
    cat <<'EOF'
#!/bin/sh
# Runs in the guest from the tools disk at /mnt (tools/bench-blk.sh).
# Prints "bench-result NAME iops=N kibs=N" per job, "bench-end" at last.
T=${1:-5}
L=/mnt/lib
fio() { "$L/ld-linux-x86-64.so.2" --library-path "$L" /mnt/bin/fio "$@"; }
dev=
for s in /sys/block/vd*; do
    [ "$(cat "$s/serial" 2>/dev/null)" = bench-test ] && dev=/dev/${s##*/}
done
[ -n "$dev" ] || { echo "bench-error: no disk with serial bench-test"; exit 1; }
echo "bench: test disk $dev, $(($(cat /sys/block/${dev#/dev/}/size) / 2048)) MiB"
common="--filename=$dev --direct=1 --ioengine=libaio --runtime=$T --time_based --ramp_time=1 --minimal"
# name rw bs iodepth; terse v3: read KiB/s $7, IOPS $8; write $48, $49.
job() {
    out=$(fio --name="$1" --rw="$2" --bs="$3" --iodepth="$4" $common) ||
        { echo "bench-error: fio $1 failed: $out"; return; }
    echo "$out" | awk -F';' -v n="$1" '
        { if ($8 > 0) print "bench-result " n " iops=" $8 " kibs=" $7;
          else print "bench-result " n " iops=" $49 " kibs=" $48 }'
}
job randread-qd32 randread 4k 32
job randread-qd1 randread 4k 1
job seqread read 1M 8
job seqwrite write 1M 8
echo bench-end
EOF
}

build_tools_disk() {
    local W=$REPO/build/bench/blk/work
    rm -rf "$W"; mkdir -p "$W/debs" "$W/tree" "$W/root/bin" "$W/root/lib"
    echo "bench-blk: building $TOOLS_IMG (fio from Debian)" >&2
    # Library packages fio pulls in that this machine lacks: fetched and
    # unpacked next to fio, so ldd below finds every library.
    local pkgs=(fio) p
    for p in $(apt-cache depends --recurse --no-recommends --no-suggests \
                 --no-conflicts --no-breaks --no-replaces --no-enhances fio |
               grep '^lib' | grep -v -- '-perl$' | sort -u); do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
            pkgs+=("$p")
    done
    (cd "$W/debs" && apt-get download -q -o APT::Sandbox::User=root "${pkgs[@]}" \
        >/dev/null </dev/null) ||
        die "apt-get download ${pkgs[*]} failed (run 'apt-get update')"
    for p in "$W"/debs/*.deb; do dpkg-deb -x "$p" "$W/tree"; done
    local fio=$W/tree/usr/bin/fio libpath
    [[ -x $fio ]] || die "no usr/bin/fio in the fio package"
    libpath=$(find "$W/tree" -name '*.so*' -printf '%h\n' | sort -u | paste -sd:)
    LD_LIBRARY_PATH=$libpath ldd "$fio" >"$W/ldd" || die "ldd $fio failed"
    ! grep 'not found' "$W/ldd" || die "fio needs libraries that were not found"
    cp "$fio" "$W/root/bin/fio"
    # "soname => path (addr)", and the loader as "path (addr)".
    awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 } $1 ~ /^\// { print "ld-linux-x86-64.so.2", $1 }' \
        "$W/ldd" | while read -r name path; do
        cp -L "$path" "$W/root/lib/$name"
    done
    [[ -e $W/root/lib/ld-linux-x86-64.so.2 ]] || die "no dynamic loader in ldd's output"
    guest_script >"$W/root/bench.sh"
    chmod 755 "$W/root/bench.sh"
    local kib
    kib=$(du -sk "$W/root" | cut -f1)
    rm -f "$TOOLS_IMG.tmp"
    mke2fs -q -t ext4 -L benchtools -d "$W/root" "$TOOLS_IMG.tmp" $((kib * 5 / 4 + 8192))k ||
        die "mke2fs failed"
    mv "$TOOLS_IMG.tmp" "$TOOLS_IMG"
    echo "bench-blk: tools disk: $(ls "$W/root/lib" | wc -l) libraries, $((kib / 1024)) MiB" >&2
    rm -rf "$W"
}

# Rebuilt when the guest script or the way it is built changes.
stamp=$( { guest_script; declare -f build_tools_disk; } | sha256sum | cut -d' ' -f1)
fresh() { [[ -e $TOOLS_IMG && $(cat "$TOOLS_IMG.stamp" 2>/dev/null) == "$stamp" ]]; }
if [[ -z ${MINIVMM_NESTED:-} ]] && ! fresh; then
    mkdir -p "$(dirname "$TOOLS_IMG")"
    (flock 9; fresh || { build_tools_disk && echo "$stamp" >"$TOOLS_IMG.stamp"; }) \
        9>"$(dirname "$TOOLS_IMG")/.lock"
fi
[[ -e $TOOLS_IMG ]] || die "no tools disk $TOOLS_IMG"

if ! tools/kvm-usable.sh; then
    echo "bench-blk: no usable /dev/kvm: running inside the nested VM" >&2
    exec tools/nested-run.sh --timeout 3000 -- "$SELF" "$MINIVMM" "$GUEST" "$ROUNDS"
fi

# ---- the runs -------------------------------------------------------------

MEM=512
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
cp "$TOOLS_IMG" "$T/tools.ext4"	# off the 9p share in the nested VM
DISK=$T/test.img
dd if=/dev/zero of="$DISK" bs=1M count="$DISK_MB" status=none
if dd if="$DISK" of=/dev/null bs=4k count=1 iflag=direct status=none 2>/dev/null; then
    QCACHE=none
else
    QCACHE=writeback	# e.g. tmpfs before Linux 6.6: no O_DIRECT
    echo "bench-blk: no O_DIRECT on $T: QEMU gets cache=writeback" >&2
fi
# Wait for the disks, mount the tools disk (whichever vdX), run the script.
RUN='modprobe -q ext4; i=0; while [ ! -b /dev/vdb ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; for d in /dev/vd?; do mount -t ext4 -o ro $d /mnt 2>/dev/null && [ -f /mnt/bench.sh ] && break; umount /mnt 2>/dev/null; done; sh /mnt/bench.sh '$SECS
CMDLINE="console=ttyS0 panic=-1 quiet minivmm_run=\"$RUN\""

# run_one NAME CMD...: appends "randread-qd32 randread-qd1 seqread seqwrite"
# (IOPS, IOPS, KiB/s, KiB/s) to $T/NAME; the console log to $T/NAME.log.
run_one() {
    local name=$1; shift
    local log=$T/$name.log
    echo "bench-blk: $name ..." >&2
    timeout 900 "$@" </dev/null >"$log" 2>&1 || true
    cp "$log" "$LOGS/last-$name.log"
    if ! grep -q bench-end "$log"; then
        echo "bench-blk: $name: no result; the end of its console:" >&2
        tail -n 30 "$log" >&2
        echo "0 0 0 0" >>"$T/$name"
        return
    fi
    grep -a 'bench-error' "$log" >&2 || true
    awk '/bench-result/ { for (i = 3; i <= 4; i++) { split($i, kv, "="); v[$2, kv[1]] = kv[2] } }
         END { printf "%d %d %d %d\n", v["randread-qd32", "iops"], v["randread-qd1", "iops"],
               v["seqread", "kibs"], v["seqwrite", "kibs"] }' "$log" >>"$T/$name"
}

minivmm() {
    run_one minivmm "$MINIVMM" --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.img" \
        --mem ${MEM}M --cmdline "$CMDLINE" \
        --disk "$T/tools.ext4,ro" --disk "$DISK,serial=bench-test"
}
qemu() {
    run_one qemu qemu-system-x86_64 -M microvm -accel kvm -cpu host -m $MEM \
        -nodefaults -no-user-config -nographic -serial stdio -no-reboot \
        -kernel "$GUEST/vmlinuz" -initrd "$GUEST/initrd.img" -append "$CMDLINE" \
        -drive id=t0,file="$T/tools.ext4",format=raw,if=none,readonly=on \
        -device virtio-blk-device,drive=t0 \
        -drive id=d0,file="$DISK",format=raw,if=none,aio=io_uring,cache=$QCACHE \
        -device virtio-blk-device,drive=d0,serial=bench-test
}

: >"$T/minivmm"; : >"$T/qemu"
for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then minivmm; qemu
    else qemu; minivmm; fi
done

# col FILE N -> "median min max" of column N over the rounds
col() {
    awk -v c="$2" '{ print $c }' "$1" | sort -n | awk '{ v[NR] = $1 }
        END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
              printf "%s %s %s\n", m, v[1], v[NR] }'
}
row() {   # label column scale unit
    local mm ml mh qm ql qh rl rh
    # (no process substitution: the nested VM's /dev has no /dev/fd)
    read -r mm ml mh <<<"$(col "$T/minivmm" "$2")"
    read -r qm ql qh <<<"$(col "$T/qemu" "$2")"
    # Round r of one VMM next to round r of the other: the ratio's range.
    read -r rl rh <<<"$(paste -d' ' "$T/minivmm" "$T/qemu" | awk -v c="$2" '
        { q = $(c + 4); r = q > 0 ? $c / q : 0
          if (NR == 1 || r < lo) lo = r; if (NR == 1 || r > hi) hi = r }
        END { printf "%.2f %.2f\n", lo, hi }')"
    awk -v l="$1" -v s="$3" -v u="$4" -v mm="$mm" -v ml="$ml" -v mh="$mh" \
        -v qm="$qm" -v ql="$ql" -v qh="$qh" -v rl="$rl" -v rh="$rh" 'BEGIN {
        printf "%-26s %12.0f %12.0f %10s\n", l " " u, mm * s, qm * s,
               (qm > 0 ? sprintf("%.2f", mm / qm) : "n/a");
        printf "%-26s %5.0f-%-6.0f %5.0f-%-6.0f  %4.2f-%-4.2f\n", "  (spread)",
               ml * s, mh * s, ql * s, qh * s, rl, rh }'
}
echo
echo "virtio-blk, fio in the guest (O_DIRECT, libaio), ${DISK_MB} MiB raw test disk in /tmp"
printf '%-26s %12s %12s %10s\n' "" minivmm "qemu microvm" ratio
row "randread 4k QD32" 1 1 IOPS
row "randread 4k QD1" 2 1 IOPS
row "seq read 1M QD8" 3 0.001024 MB/s
row "seq write 1M QD8" 4 0.001024 MB/s
echo "($ROUNDS rounds each, alternating; medians (ratio: of the medians; its spread:"
echo " round by round); ${SECS} s per job after 1 s ramp;"
echo " minivmm: buffered io_uring; qemu: aio=io_uring,cache=$QCACHE; MB = 10^6 bytes)"
