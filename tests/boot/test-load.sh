#!/bin/bash
# Load: a 2-vCPU guest runs, for LOAD_SECONDS (default 75), parallel disk
# writers (dd + fsync, read back after dropping the page cache), a flood
# of lines on virtio-console, a DRM redraw loop on virtio-gpu, and one
# heartbeat a second per vCPU (pinned with taskset) on the UART.
# Meanwhile the host takes screenshots through the control socket, throws
# garbage at it (binary lines, 1 MiB without a newline, unknown commands,
# hang-ups mid-line - a half-sent "stop" among them -, 64 clients at once),
# and samples minivmm's resident memory outside guest RAM.  Passes when:
#   - memory outside guest RAM grows less than LOAD_MEM_BOUND_KB (1024)
#     from the first sample after LOAD_WARMUP seconds (25) to the last;
#   - no vCPU's heartbeat stalls: consecutive beats at most the larger of
#     LOAD_MAX_GAP seconds and 5 times the median gap apart, by the guest's
#     clock and by arrival on the host, and at least one beat per 4 s on
#     average.  LOAD_MAX_GAP is 5 on real KVM; 15 in the nested runner,
#     where a loaded guest beats every 1.3-2.6 s with gaps of 3-7 s now and
#     then, and once 10.3 s while the host ran other work;
#   - every screenshot works, the control socket answers `ping` after the
#     garbage, beats keep coming after it, and the guest's disk, GPU and
#     console loops all made progress without error;
#   - the guest powers off by itself: exit status 0.
# LOAD_INJECT_STALL=N (seconds) stops minivmm (SIGSTOP) that long after
# the warm-up: a self-test, the stall check must then fail.  LOAD_CPUS
# (2) sets the vCPUs.
. "$(dirname "$0")/lib.sh"
CTL=/tmp/minivmm-load-test.sock	# unix sockets cannot live on the 9p share
DUR=${LOAD_SECONDS:-75}
WARMUP=${LOAD_WARMUP:-25}
BOUND_KB=${LOAD_MEM_BOUND_KB:-1024}
MAX_GAP=${LOAD_MAX_GAP:-$([ -n "${MINIVMM_NESTED:-}" ] && echo 15 || echo 5)}
INJECT_STALL=${LOAD_INJECT_STALL:-0}
MEM_MIB=512
CPUS=${LOAD_CPUS:-2}
# Small frames: one allocator high-water step (a frame's host copy) stays
# well under the memory bound, and frames are cheap, so there are many.
RES_W=320 RES_H=240
BOOT_TIMEOUT=$((DUR + 240))
W=$LOGS/load; rm -rf "$W"; mkdir -p "$W/disk"

# ---- the guest's side: on the test disk as /load.sh -----------------------
cat >"$W/disk/load.sh" <<'EOF'
#!/bin/sh
# sh /mnt/load.sh main SECONDS; the other modes are its parts.  Their
# summaries wait in /mnt/sum.* until the spam on hvc0 is over: the UART
# and virtio-console share minivmm's stdout, and their bytes interleave.
mode=$1
case $mode in
main)
    read -r u _ </proc/uptime
    end=$(( ${u%.*} + $2 ))
    ncpu=$(nproc)
    echo "load: start ${2}s on $ncpu vCPUs"
    c=0
    while [ $c -lt "$ncpu" ]; do
        taskset $((1 << c)) sh "$0" hb $c $end &
        c=$((c + 1))
    done
    sh "$0" spam $end &
    sh "$0" disk 1 $end &
    sh "$0" disk 2 $end &
    sh "$0" gpu $end &
    wait
    cat /mnt/sum.*
    echo "load: done"
    ;;
hb)     # a beat a second with the guest's clock, on the UART
    while :; do
        read -r u _ </proc/uptime
        [ "${u%.*}" -lt "$3" ] || break
        echo "hb$2 $u"
        sleep 1
    done
    ;;
spam)   # lines on virtio-console as fast as they go, at most 500 a second
    i=0 pad=0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz
    # Centiseconds: "1${u#*.} - 100", as "08" is not a number to sh.
    read -r u _ </proc/uptime
    t0=$(( ${u%.*} * 100 + 1${u#*.} - 100 ))
    while :; do
        read -r u _ </proc/uptime
        [ "${u%.*}" -lt "$2" ] || break
        if [ $i -ge $(( (${u%.*} * 100 + 1${u#*.} - 100 - t0) * 5 )) ]; then
            usleep 20000
            continue
        fi
        n=0
        while [ $n -lt 20 ]; do
            echo "spam $i $pad"; i=$((i + 1)); n=$((n + 1))
        done
    done >/dev/hvc0
    echo "spam: $i lines" >/mnt/sum.spam
    ;;
disk)   # 2 MiB written and fsynced, read back from the disk, compared
    r=0 bad=0
    while :; do
        read -r u _ </proc/uptime
        [ "${u%.*}" -lt "$3" ] || break
        if ! dd if=/dev/urandom of=/mnt/w$2 bs=64k count=32 conv=fsync 2>/dev/null; then
            bad=$((bad + 1)); echo "disk$2: write failed" >&2
        fi
        a=$(md5sum </mnt/w$2)
        echo 1 >/proc/sys/vm/drop_caches
        b=$(md5sum </mnt/w$2)
        [ "$a" = "$b" ] || { bad=$((bad + 1)); echo "disk$2: read back differs" >&2; }
        r=$((r + 1))
    done
    echo "disk$2: $r rounds, $bad bad" >/mnt/sum.disk$2
    ;;
gpu)    # a full-screen redraw (new dumb buffer, modeset, flush) per round
    f=0 bad=0
    while :; do
        read -r u _ </proc/uptime
        [ "${u%.*}" -lt "$2" ] || break
        if mvtool pattern 0 >/dev/null 2>/mnt/gpu.err; then
            f=$((f + 1))
        else
            bad=$((bad + 1)); sleep 1
        fi
    done
    echo "gpu: $f frames, $bad failed $(head -c 200 /mnt/gpu.err)" >/mnt/sum.gpu
    ;;
esac
EOF
mke2fs -q -t ext4 -d "$W/disk" "$W/load.ext4" 64M

# ---- the host's side ------------------------------------------------------
# Resident KiB of pid outside guest RAM: every mapping's Rss but that of
# the one anonymous mapping exactly as large as guest RAM (vmm/kvm_vm.c
# maps it in one piece, trimmed to size).  "OUTSIDE RAM_RSS", or nothing.
mem_outside() {
    awk -v ram_kb=$((MEM_MIB * 1024)) '
        /^[0-9a-f]+-[0-9a-f]+ / { anon = (NF == 5); next }
        $1 == "Size:" { is_ram = anon && $2 == ram_kb; if (is_ram) found++; next }
        $1 == "Rss:" { if (is_ram) ram += $2; else other += $2 }
        END { if (found == 1) print other, ram }' "/proc/$1/smaps" 2>/dev/null
}

# Garbage at the control socket, from a client in Perl (perl-base is
# essential in Debian): one line per surprise, then "garbage: N of M".
garbage() {
    perl - "$CTL" <<'EOF'
use strict; use warnings;
use IO::Socket::UNIX; use IO::Select; use Socket;
my $path = shift; my ($ok, $n) = (0, 0);
$SIG{PIPE} = 'IGNORE';
sub conn { IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $path) or die "garbage: connect: $!\n" }
sub line {
    my ($s, $t) = @_; my $sel = IO::Select->new($s); my $buf = '';
    while ($buf !~ /\n/) {
        return undef unless $sel->can_read($t // 10);
        my $r = sysread($s, my $c, 4096);
        last unless $r;
        $buf .= $c;
    }
    return undef unless $buf =~ s/\n.*//s;
    return $buf;
}
sub check {
    my ($name, $got, $re) = @_; $n++;
    if (defined $got && $got =~ $re) { $ok++ }
    else { print "garbage: $name: got ", (defined $got ? "'$got'" : "nothing"), "\n" }
}
# Random binary lines (NULs, invalid UTF-8, control bytes) on one connection.
srand(7);
my $s = conn();
for my $i (1 .. 50) {
    my $l = join '', map { chr(int rand 256) } 0 .. int rand 300;
    $l =~ tr/\n/\0/;
    syswrite $s, "$l\n";
    check("binary line $i", line($s), qr/^error: /);
}
for my $req ("ping\0", "stop\0", "\0\0\0", "frobnicate", "PING", "stop now", "type caf\xc3\xa9",
             "screenshot relative.png", "pointer -1 5", "key ctrl+") {
    syswrite $s, "$req\n";
    check("request '$req'", line($s), qr/^error: /);
}
syswrite $s, "ping\n";
check("ping after garbage", line($s), qr/^ok pong$/);
close $s;
# 1 MiB without a newline: refused and hung up on.
$s = conn(); $s->blocking(0);
my $big = 'x' x (1 << 20); my ($off, $t0) = (0, time);
while ($off < length $big && time - $t0 < 20) {
    my $w = syswrite($s, $big, 65536, $off);
    if (defined $w) { $off += $w } elsif ($!{EAGAIN}) { select(undef, undef, undef, 0.02) } else { last }
}
$s->blocking(1);
check("1 MiB without a newline", line($s), qr/^error: request too long$/);
close $s;
# Hang-ups in the middle of a line: none of these may be carried out.
for my $frag ("sto", "stop", "type hello", "key ctrl+alt+del") {
    $s = conn(); syswrite $s, $frag; close $s;
}
# 64 clients at once: 16 taken, the rest refused with a message.
select(undef, undef, undef, 0.5);	# the hung-up ones are gone by now
my @c = map { conn() } 1 .. 64;
select(undef, undef, undef, 1);
my $refused = 0;
for (@c) { my $l = line($_, 0); $refused++ if defined $l && $l eq 'error: too many clients' }
check("64 clients at once", "$refused refused", qr/^48 refused$/);
close $_ for @c;
select(undef, undef, undef, 0.5);
$s = conn(); syswrite $s, "ping\n";
check("ping at the end", line($s), qr/^ok pong$/);
print "garbage: $ok of $n as expected\n";
exit($ok == $n ? 0 : 1);
EOF
}

start_vm load --cpus "$CPUS" --mem ${MEM_MIB}M --console virtio \
    --gpu 2d --display headless --resolution ${RES_W}x${RES_H} --control "$CTL" \
    --disk "$W/load.ext4" \
    --append "quiet minivmm_run=\"modprobe ext4; mount -t ext4 /dev/vda /mnt && sh /mnt/load.sh main $DUR\""
if ! wait_for '^load: start' 240; then
    fail load "the load never started"
    kill "$vm_pid" 2>/dev/null
    finish_vm
    exit 0
fi
pid=$(pgrep -P "$vm_pid" | head -1)
if [ -z "$pid" ]; then
    fail load "cannot find minivmm's process (child of $vm_pid)"
    kill "$vm_pid" 2>/dev/null
    finish_vm
    exit 0
fi
t_start=$EPOCHREALTIME
# Heartbeats stamped with their arrival time on the host.
tail -n +1 --pid="$pid" -f "$out" 2>/dev/null |
    grep --line-buffered -aoE 'hb[0-9] [0-9]+\.[0-9]{2}' |
    while read -r b t; do echo "$EPOCHREALTIME $b $t"; done >"$W/beats" &
beats_pid=$!

shots=0 shots_bad=0 shots_none=0 garbage_done= garbage_at=$((WARMUP / 2)) next_mem=0 next_shot=0
: >"$W/mem"
for ((s = 0; ; s++)); do
    kill -0 "$pid" 2>/dev/null || break
    el=$(( ${EPOCHREALTIME%.*} - ${t_start%.*} ))
    if [ -z "$garbage_done" ] && [ "$el" -ge "$garbage_at" ]; then
        garbage >"$W/garbage.out" 2>&1; garbage_st=$?
        "$MINIVMM" ctl "$CTL" ping >"$W/ping.out" 2>&1; ping_st=$?
        garbage_done=$EPOCHREALTIME
    fi
    if [ "$INJECT_STALL" -gt 0 ] && [ "$el" -ge $((WARMUP + 5)) ]; then
        echo "note: stopping minivmm for ${INJECT_STALL}s (LOAD_INJECT_STALL)"
        kill -STOP "$pid"; sleep "$INJECT_STALL"; kill -CONT "$pid"
        INJECT_STALL=0
    fi
    if [ "$el" -ge "$next_mem" ]; then
        m=$(mem_outside "$pid")
        [ -n "$m" ] && echo "$el $m" >>"$W/mem"
        next_mem=$((el + 5))
    fi
    if [ "$el" -ge "$next_shot" ]; then
        next_shot=$((el + 10))
        # A PNG of the screen's size: signature, then IHDR's width, height.
        # Between two redraws the guest may have no scanout at all: that
        # answer is right, and counted apart.
        if "$MINIVMM" ctl "$CTL" screenshot "$W/shot-$s.png" >"$W/ctl1.out" 2>&1 &&
           [ "$(head -c 24 "$W/shot-$s.png" | od -An -tx1 | tr -d ' \n')" = \
             "89504e470d0a1a0a0000000d49484452$(printf '%08x%08x' $RES_W $RES_H)" ]; then
            shots=$((shots + 1))
        elif grep -q '^minivmm: no frame yet' "$W/ctl1.out"; then
            shots_none=$((shots_none + 1))
        else
            kill -0 "$pid" 2>/dev/null && shots_bad=$((shots_bad + 1))
        fi
        cat "$W/ctl1.out" >>"$W/ctl.out"
    fi
    sleep 1
done
finish_vm
wait "$beats_pid" 2>/dev/null
{ echo "# seconds-into-load outside-guest-RAM-KiB guest-RAM-KiB"; cat "$W/mem"; } >"$W/mem.txt"

# 1. The guest ran to its end and powered off.
check load-finished 0 '^load: done' 'minivmm-guest: exit status 0'

# 2. Memory outside guest RAM, after the warm-up.
read -r n first last lo hi < <(awk -v w="$WARMUP" '$1 >= w {
        n++; if (n == 1) { first = $2; lo = $2; hi = $2 }
        last = $2; if ($2 < lo) lo = $2; if ($2 > hi) hi = $2 }
    END { print n + 0, first + 0, last + 0, lo + 0, hi + 0 }' "$W/mem")
if [ "$n" -lt 3 ]; then
    fail load-memory-flat "only $n memory samples after the ${WARMUP}s warm-up (see $W/mem.txt)"
elif [ $((last - first)) -ge "$BOUND_KB" ]; then
    fail load-memory-flat "grew $((last - first)) KiB (${first} -> ${last} KiB outside guest RAM) over $n samples; bound ${BOUND_KB} KiB"
else
    pass "load-memory-flat ($n samples after ${WARMUP}s: ${first} -> ${last} KiB outside guest RAM, range ${lo}-${hi}; bound +${BOUND_KB} KiB)"
fi

# 3. Heartbeats: per vCPU, gaps by the guest's clock and by arrival.
hb_ok=1 hb_msg=
for ((c = 0; c < CPUS; c++)); do
    awk -v b="hb$c" '$2 == b' "$W/beats" >"$W/beats$c"
    # beats, median gap (guest clock), longest gaps (guest, host), and
    # the guest time the beats span
    read -r cnt med ggap hgap span < <(awk '
            NR == 1 { first = $3 }
            NR > 1 { g[NR - 1] = $3 - pg; h = $1 - ph; if ($3 - pg > gg) gg = $3 - pg; if (h > hh) hh = h }
            { pg = $3; ph = $1 }
            END { n = NR - 1
                  for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (g[j] < g[i]) { t = g[i]; g[i] = g[j]; g[j] = t }
                  printf "%d %.2f %.1f %.1f %.1f\n", NR, n ? g[int((n + 1) / 2)] : 0, gg, hh, pg - first }' "$W/beats$c")
    bound=$(awk -v m="$med" -v f="$MAX_GAP" 'BEGIN { b = 5 * m; printf "%.1f", (b > f ? b : f) }')
    hb_msg+=" vCPU$c: $cnt beats over ${span}s, median gap ${med}s, longest ${ggap}s guest / ${hgap}s host (bound ${bound}s);"
    # A stall that lasts to the end leaves no gap behind: the beats must
    # also reach to within the bound of the load's end.
    if [ "$cnt" -lt $((DUR / 4)) ] ||
       awk -v a="$ggap" -v b="$hgap" -v m="$bound" -v s="$span" -v d="$DUR" \
           'BEGIN { exit !(a > m || b > m || s + m < d - 1) }'; then
        hb_ok=0
    fi
done
[ $hb_ok = 1 ] && pass "load-no-vcpu-stall ($hb_msg)" ||
    fail load-no-vcpu-stall "$hb_msg wanted: no gap over the bound, beats to within it of the ${DUR}s end, at least $((DUR / 4)) beats each"

# 4. Screenshots through the control socket while all this went on.
if [ "$shots" -ge 3 ] && [ "$shots_bad" -eq 0 ]; then
    pass "load-screenshots ($shots PNGs, $shots_none times no scanout at that moment)"
else
    fail load-screenshots "$shots good, $shots_none no scanout, $shots_bad failed: $(grep -v '^/' "$W/ctl.out" | tail -n 3)"
fi

# 5. Garbage at the control socket: each answered as it should, then a
# clean ping; the VM kept going (beats after it, and exit status 0 above).
after=$(awk -v t="${garbage_done:-0}" '$1 > t' "$W/beats" 2>/dev/null | wc -l)
if [ -z "$garbage_done" ]; then
    fail load-control-garbage "the guest ended before the garbage was sent"
elif [ "$garbage_st" -ne 0 ] || [ "$ping_st" -ne 0 ] || ! grep -q '^pong$' "$W/ping.out"; then
    fail load-control-garbage "$(cat "$W/garbage.out" "$W/ping.out" | tail -n 8)"
elif [ "$after" -lt 10 ]; then
    fail load-control-garbage "only $after heartbeats after the garbage"
else
    pass "load-control-garbage ($(tail -n 1 "$W/garbage.out" | sed 's/^garbage: //'), ping answered, $after beats after)"
fi

# 6. The guest's own loops made progress, without errors.
msg= summary=
# Each: what the summary looks like, and what it must say.
for p in 'disk1: [0-9]+ rounds, [0-9]+ bad=disk1: [1-9][0-9]* rounds, 0 bad' \
         'disk2: [0-9]+ rounds, [0-9]+ bad=disk2: [1-9][0-9]* rounds, 0 bad' \
         'gpu: [0-9]+ frames, [0-9]+ failed=gpu: [1-9][0-9]* frames, 0 failed' \
         'spam: [0-9]+ lines=spam: [0-9]{3,} lines'; do
    got=$(grep -aoE "${p%%=*}" "$out" | head -1)
    summary+="${summary:+; }${got:-${p%%:*}: no summary}"
    grep -qxE "${p#*=}" <<<"$got" || msg+=" ${got:-${p%%:*}: no summary};"
done
if [ -z "$msg" ]; then
    pass "load-guest-progress ($summary)"
else
    fail load-guest-progress "$msg"
fi
