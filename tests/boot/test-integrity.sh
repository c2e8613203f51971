#!/bin/bash
# Data integrity (issue 7, item 5): what the guest was told is on the disk
# is on the disk, and host trouble becomes a guest I/O error plus one
# clear line for the user, never a hang or silent zeroes.
#
#  integrity-kill...  the guest appends numbered records to a file on an
#     ext4 disk, fsyncs each and prints "acked N ok" only after fsync
#     returned; minivmm is SIGKILLed mid-loop.  Then every acked record
#     must be there, whole and in order, and the file system clean after
#     its journal is replayed: once by e2fsck on a copy taken at the kill
#     (host only), once by the guest kernel on a second boot (the user's
#     way), after which e2fsck -fn must find nothing.
#     What it guards: a "done" given to the guest before the data reached
#     the image (minivmm acking writes it still holds, or a FLUSH answered
#     before the writes it covers), torn or reordered writes that ext4's
#     journal cannot repair.  What a SIGKILL cannot show: whether FLUSH
#     really reached the host's disk - the host's page cache survives the
#     kill, so a FLUSH that did nothing would pass.  For that the disk is,
#     where we may (root; in the nested runner), a loop device, whose block
#     layer counts the flushes it gets (/sys/block/loopN/stat, field 16):
#     each guest fsync is at least one FLUSH, so the host must count at
#     least as many flushes as there were acks (integrity-host-flushes).
#     A no-op FLUSH, or a device that stopped offering VIRTIO_BLK_F_FLUSH
#     (the guest then sends none), counts ~0 and fails.
#  integrity-enospc...  the image is sparse, 64 MiB, on an 8 MiB tmpfs:
#     the guest writes 32 MiB (O_DIRECT) and must get EIO, go on (reads
#     still work, it powers off), and minivmm must say "the host disk is
#     full" exactly once.  A device that retried forever would hang (the
#     boot times out); one that said OK would let dd finish.
#  integrity-shrink...  the image is truncated on the host while the guest
#     polls a block past the new end with O_DIRECT reads: they must start
#     failing (IOERR: never zeroes, never a hang), blocks before the new
#     end must still read right, and minivmm must say the disk shrank.
# The other host mistakes of item 5 are start-up errors, tested without a
# guest in tests/cli/test-errors.sh: a missing image (cli:disk-missing)
# and one that is read-only on the host (cli:disk-readonly-host); a disk
# given ",ro" refuses guest writes (boot:blk-ro in test-virtio.sh).
. "$(dirname "$0")/lib.sh"
IMG=$LOGS/integrity; rm -rf "$IMG"; mkdir -p "$IMG"
SCRATCH=$(mktemp -d /tmp/minivmm-integrity.XXXXXX)
loopdev= fullfs=
cleanup() {
    [ -n "$loopdev" ] && losetup -d "$loopdev" 2>/dev/null
    [ -n "$fullfs" ] && umount "$fullfs" 2>/dev/null
    rm -rf "$SCRATCH"
}
trap cleanup EXIT
skip() { echo "SKIP boot:$1: $2"; }

# ---- SIGKILL during a write-and-fsync loop -------------------------------

# loop_over FILE: a loop device over FILE in $loopdev, with a write-back
# cache (so flushes reach its block layer and are counted); 1 if we may not.
loop_over() {
    [ "$(id -u)" = 0 ] && command -v losetup >/dev/null || return 1
    if [ ! -e /dev/loop-control ] && [ -n "${MINIVMM_NESTED:-}" ]; then
        # The outer VM has only the modules it booted with: load loop
        # from the kernel tree tools/nested-run.sh booted it from (the
        # cache tools/mkguest.sh keeps next to the guest).
        modprobe -q -d "$(dirname "$GUEST")/cache/linux-image-$(uname -r)" \
            loop 2>/dev/null
    fi
    [ -e /dev/loop-control ] || return 1
    loopdev=$(losetup -f --show "$1" 2>/dev/null) || { loopdev=; return 1; }
    if [ "$(cat "/sys/block/${loopdev#/dev/}/queue/write_cache" 2>/dev/null)" != "write back" ]; then
        losetup -d "$loopdev"; loopdev=; return 1
    fi
}
flushes() { awk '{ print $16 }' "/sys/block/${loopdev#/dev/}/stat"; }

# check_records NAME FILE ACKED: FILE holds records 1..M, each whole and
# in order, with M >= ACKED.  Sets $nrec.
PAD=0123456789abcdef0123456789abcdef
check_records() {
    local name=$1 file=$2 acked=$3 res
    res=$(awk -v acked="$acked" -v pad="$PAD" '
        !bad && $0 != sprintf("record %06d %s", NR, pad) {
            printf "line %d is not record %d: %s\n", NR, NR, substr($0, 1, 50); bad = 1 }
        END { if (!bad) print (NR >= acked ? "ok " : "short ") NR }' "$file")
    nrec=${res#* }
    case $res in
        ok\ *) pass "$name" ;;
        short\ *) fail "$name" "only $nrec records, but $acked were acknowledged" ;;
        *) fail "$name" "$res" ;;
    esac
}

mkdir -p "$IMG/empty"
mke2fs -q -t ext4 -d "$IMG/empty" "$SCRATCH/log.ext4" 32M >/dev/null
disk=$SCRATCH/log.ext4
if loop_over "$disk"; then
    disk=$loopdev
else
    skip integrity-host-flushes "no loop device here (needs root; the nested runner has one), so host flushes are not counted"
fi
# One write and one fsync per record; "acked" only once fsync returned.
cmd="mount -t ext4 /dev/vda /mnt && echo mounted-ok && cat /sys/block/vda/queue/write_cache && n=0 && while :; do n=\$((n+1)); printf 'record %06d %s\n' \$n $PAD >>/mnt/log && sync /mnt/log || break; echo acked \$n ok; done; echo loop-ended"
[ -n "$loopdev" ] && flushes_before=$(flushes)
start_vm integrity-kill --disk "$disk" --append "quiet minivmm_run=\"$cmd\""
acked=0
if wait_for '^acked [0-9]+ ok' 150; then
    sleep 4     # records go on being written and acked
    mpid=$(pgrep -P "$vm_pid")
    [ -n "$mpid" ] && kill -KILL $mpid
fi
{ finish_vm; } 2>/dev/null     # no "Killed" job notice
# Killed mid-line: end the log's last line, or fail's excerpt runs into
# the next PASS/FAIL line.
[ -n "$(tail -c 1 "$out")" ] && echo >>"$out"
[ -n "$loopdev" ] && flushes_after=$(flushes)
acked=$(grep -aoE '^acked [0-9]+ ok$' "$out" | tail -n 1 | cut -d' ' -f2)
acked=${acked:-0}
if [ "$status" -ne 137 ]; then
    fail integrity-kill "minivmm was not SIGKILLed mid-loop (exit status $status)"
elif ! grep -q '^write back' "$out"; then
    fail integrity-kill "the guest does not see a write-back cache (no VIRTIO_BLK_F_FLUSH?): it would send no flushes"
elif grep -q '^loop-ended' "$out"; then
    fail integrity-kill "the guest's write-and-fsync loop failed before the kill"
elif [ "$acked" -lt 3 ]; then
    fail integrity-kill "only $acked records acknowledged before the kill"
else
    pass integrity-kill
    echo "   ($acked records acknowledged before SIGKILL)"
fi
if [ -n "$loopdev" ]; then
    n=$(( flushes_after - flushes_before ))
    if [ "$acked" -gt 0 ] && [ "$n" -ge "$acked" ]; then
        pass integrity-host-flushes
        echo "   ($n flushes reached the host's block layer for $acked acked fsyncs)"
    else
        fail integrity-host-flushes "$n flushes reached the host's disk for $acked acknowledged fsyncs"
    fi
fi

# The state the kill left, replayed by e2fsck on a copy: clean, and every
# acked record there.  (e2fsck -fn may still note stale free block and
# inode counts in the superblock: ext4 does not journal them and the
# kernel recounts them at mount; they are not errors and do not fail it.)
cp "$disk" "$SCRATCH/killed.ext4"
st=0; e2fsck -E journal_only -y "$SCRATCH/killed.ext4" >"$IMG/replay.log" 2>&1 || st=$?
if [ "$st" -gt 1 ]; then
    fail integrity-fsck-at-kill "e2fsck could not replay the journal (status $st)"
elif ! e2fsck -fn "$SCRATCH/killed.ext4" >"$IMG/fsck-at-kill.log" 2>&1; then
    fail integrity-fsck-at-kill "e2fsck -fn finds problems after the journal replay: $(grep -m3 -v '^Pass\|^e2fsck\|^/' "$IMG/fsck-at-kill.log" | tr '\n' ' ')"
else
    pass integrity-fsck-at-kill
fi
debugfs -R 'cat /log' "$SCRATCH/killed.ext4" >"$IMG/log-at-kill" 2>/dev/null
check_records integrity-acked-at-kill "$IMG/log-at-kill" "$acked"

# Restart: the guest's ext4 replays its journal and finds every acked
# record; after its clean unmount the image checks clean as it is.
run_cmd integrity-restart 'mount -t ext4 /dev/vda /mnt && echo records $(wc -l </mnt/log) && tail -n 1 /mnt/log && umount /mnt && echo umount-ok' \
    --disk "$disk"
if check integrity-restart 0 '^records [0-9]+$' '^umount-ok'; then
    n=$(sed -n 's/^records \([0-9]*\)$/\1/p' "$out")
    [ "$n" -ge "$acked" ] && pass integrity-restart-acked ||
        fail integrity-restart-acked "the guest finds $n records after restart, $acked were acknowledged"
fi
e2fsck -fn "$disk" >"$IMG/fsck-after-restart.log" 2>&1 &&
    pass integrity-fsck-after-restart ||
    fail integrity-fsck-after-restart "e2fsck -fn reports problems (see $IMG/fsck-after-restart.log)"
debugfs -R 'cat /log' "$disk" >"$IMG/log-after-restart" 2>/dev/null
check_records integrity-acked-after-restart "$IMG/log-after-restart" "$acked"
[ -n "$loopdev" ] && { losetup -d "$loopdev"; loopdev=; }

# ---- the host disk fills up ------------------------------------------------

if [ "$(id -u)" = 0 ] && mkdir -p "$SCRATCH/full" &&
   mount -t tmpfs -o size=8m tmpfs "$SCRATCH/full" 2>/dev/null; then
    fullfs=$SCRATCH/full
    truncate -s 64M "$fullfs/disk.img"
    run_cmd integrity-enospc 'dd if=/dev/zero of=/dev/vda bs=1M count=32 oflag=direct; echo dd-status $?; dd if=/dev/vda of=/dev/null bs=1M count=1 iflag=direct && echo read-after-full-ok' \
        --disk "$fullfs/disk.img"
    if check integrity-enospc 0 "error writing '/dev/vda': Input/output error" '^dd-status 1$' '^read-after-full-ok'; then
        n=$(grep -ao "minivmm: disk '[^']*': the host disk is full" "$out" | wc -l)
        others=$(grep -a 'minivmm: ' "$out" | grep -v 'the host disk is full')
        if [ "$n" -eq 1 ] && [ -z "$others" ]; then
            pass integrity-enospc-message
        else
            fail integrity-enospc-message "$n 'host disk is full' messages (want 1); other messages: ${others:-none}"
        fi
    fi
    umount "$fullfs"; fullfs=
else
    skip integrity-enospc "cannot mount a small tmpfs (needs root; the nested runner is)"
fi

# ---- the image shrinks under the running guest -----------------------------

# 16 MiB of random data; the guest polls block 3000 (at 12 MiB) until a
# read fails, at most 30 s; the host cuts the image to 8 MiB meanwhile.
head -c $((16 << 20)) /dev/urandom >"$SCRATCH/shrink.img"
want=$(head -c 4096 "$SCRATCH/shrink.img" | md5sum | cut -d' ' -f1)
cmd="rd() { dd if=/dev/vda of=/dev/null bs=4096 count=1 skip=\$1 iflag=direct; }; rd 3000 && echo before-shrink-ok; echo waiting-for-shrink; i=0; while rd 3000 2>/dev/null && [ \$i -lt 300 ]; do i=\$((i+1)); sleep 0.1; done; echo polls \$i; rd 3000; echo past-end-status \$?; dd if=/dev/vda bs=4096 count=1 iflag=direct 2>/dev/null | md5sum"
start_vm integrity-shrink --disk "$SCRATCH/shrink.img" --append "quiet minivmm_run=\"$cmd\""
wait_for '^waiting-for-shrink' 150 && truncate -s 8M "$SCRATCH/shrink.img"
finish_vm
if check integrity-shrink 0 '^before-shrink-ok' '^polls ([0-9]|[0-9][0-9]|[12][0-9][0-9])$' \
        'Input/output error' '^past-end-status 1$' "^$want "; then
    n=$(grep -ao "minivmm: disk '[^']*' is shorter than the 16777216 bytes it had at start" "$out" | wc -l)
    [ "$n" -eq 1 ] && pass integrity-shrink-message ||
        fail integrity-shrink-message "$n 'is shorter' messages (want 1)"
fi
