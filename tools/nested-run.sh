#!/bin/bash
# Run a command where /dev/kvm works, on a machine where it does not:
# inside an outer QEMU in TCG mode that emulates AMD-V with nested paging
# (docs: shared/docs/nested-kvm.md). The host / is the outer VM's root
# (read-only 9p, tmpfs overlay on top), the work tree is shared read-write
# at the same path, so the command sees the same files and binaries.
#
#   tools/nested-run.sh [--mem MiB] [--cpus N] [--timeout SECS]
#                       [--interactive] -- COMMAND [ARGS...]
#
# Batch mode (default): the command's stdin is /dev/null, its output
# (stdout+stderr, through the serial console) streams to our stdout, and we
# exit with its status. 125 means the outer VM failed: no status marker
# (it died, or --timeout elapsed and we killed it; default 1800 s).
# --interactive: the command owns the console as its controlling tty, the
# host terminal is passed through raw (no timeout unless given). Quit the
# outer VM with Ctrl-A x; Ctrl-A c toggles the QEMU monitor, Ctrl-A a
# sends a literal Ctrl-A.
#
# Passed in: the working directory, PATH, CI, HOME, TERM, LANG, LC_*, TZ,
# USER and every MINIVMM_* variable; MINIVMM_NESTED=1 is set inside.
# NESTED_RUN_VERBOSE=1 shows the outer boot (kernel log, L1 init).
# The console log of the last run is kept in build/nested/last-console.log.
set -euo pipefail

die() { echo "error: nested-run: $*" >&2; exit 125; }
usage() {
    echo "usage: $0 [--mem MiB] [--cpus N] [--timeout SECS] [--interactive] -- COMMAND [ARGS...]" >&2
    exit 125
}

TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$TOOLS")
BUSYBOX=${BUSYBOX:-/bin/busybox}
QEMU=${QEMU:-qemu-system-x86_64}

mem=4096 cpus=2 timeout= interactive=0
while (($#)); do
    case $1 in
        --mem) mem=${2:-}; shift 2 || usage ;;
        --cpus) cpus=${2:-}; shift 2 || usage ;;
        --timeout) timeout=${2:-}; shift 2 || usage ;;
        --interactive) interactive=1; shift ;;
        --) shift; break ;;
        -h|--help) usage ;;
        *) echo "error: nested-run: unknown option '$1'" >&2; usage ;;
    esac
done
(($# > 0)) || usage
[[ $mem =~ ^[0-9]+$ && $cpus =~ ^[0-9]+$ ]] || die "--mem and --cpus take numbers"
[[ -z $timeout || $timeout =~ ^[0-9]+$ ]] || die "--timeout takes seconds"
[[ -n $timeout ]] || { ((interactive)) && timeout=0 || timeout=1800; }
command -v "$QEMU" >/dev/null || die "$QEMU not found (run tools/install-deps.sh)"
[[ -x $BUSYBOX ]] || die "$BUSYBOX not found (install busybox-static)"

if why=$("$TOOLS/kvm-usable.sh" -v 2>&1); then
    echo "nested-run: using the nested runner on request, although ${why#kvm-usable: yes: }" >&2
else
    echo "nested-run: no usable /dev/kvm here (${why#kvm-usable: no: }): running the command inside an outer QEMU (TCG + emulated AMD-V)" >&2
fi

WORK=$(git rev-parse --show-toplevel 2>/dev/null || pwd -P)
CWD=$(pwd -P)
[[ $WORK != / ]] || die "run it from a project directory (the work tree would be /)"
for p in "$WORK" "$CWD"; do
    [[ $p != *[[:space:]\'\"\\]* ]] || die "path '$p' has spaces or quotes: not supported"
done

# --- outer kernel (shared cache with tools/mkguest.sh) and L1 initramfs ---
NESTED=$REPO/build/nested
mkdir -p "$NESTED"
TREE=$("$TOOLS/mkguest.sh" --kernel-tree "$REPO/build/cache") ||
    die "cannot fetch the Debian kernel"
VER=$(ls "$TREE/lib/modules")
KERNEL=$TREE/boot/vmlinuz-$VER
INITRD=$NESTED/l1-initrd.img

# Under TCG the bzImage spends ~7-10 s decompressing itself. QEMU boots the
# uncompressed ELF vmlinux directly (PVH entry, CONFIG_PVH=y), so unpack it
# once: find the xz stream inside the bzImage. Falls back to the bzImage.
extract_vmlinux() {
    local out=$NESTED/vmlinux-$VER off
    # xz stops reading at the stream's end: tail/grep get SIGPIPE, fine.
    local -; set +o pipefail
    if [[ ! -e $out ]]; then
        off=$(LC_ALL=C grep -abo $'\xfd7zXZ\x00' "$KERNEL" | head -n1 | cut -d: -f1)
        [[ -n $off ]] || return 0
        tail -c +$((off + 1)) "$KERNEL" | xz -dc --single-stream >"$out.tmp" 2>/dev/null &&
            [[ $(head -c4 "$out.tmp" | od -An -c | tr -d ' ') == 177ELF ]] &&
            mv "$out.tmp" "$out"
        rm -f "$out.tmp"
    fi
    [[ -e $out ]] && KERNEL=$out
    return 0
}
(flock 9; extract_vmlinux) 9>"$NESTED/.lock"
[[ -e $NESTED/vmlinux-$VER ]] && KERNEL=$NESTED/vmlinux-$VER

# The L1 /init. Its environment (from the kernel cmdline): nested_job.
l1_init() {
    cat <<'EOF'
#!/bin/sh
# L1 init of tools/nested-run.sh: KVM modules, host / + tmpfs overlay,
# work tree at its own path, chroot, run the job, report, power off.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
verbose() { [ -n "$nested_verbose" ] && echo "nested-run: $*"; }
end() {
    sync
    # Own line in the log; on a terminal, \r + erase-line hides it again.
    printf '\r%s:exit=%s\r\033[K\n' "${nested_token:-nested-run-marker}" "$1"
    poweroff -f; sleep 5
}
fail() { echo "nested-run: error: $*"; end 125; }

verbose "L1 init up"
# kvm-amd needs ccp's SEV symbols; order matters (see /etc/l1-modules).
while read -r m; do
    insmod "/lib/modules/$m" || echo "nested-run: warning: insmod $m failed"
done </etc/l1-modules
verbose "modules loaded"

mount9p() { mount -t 9p -o "trans=virtio,version=9p2000.L,msize=512000,$3" "$1" "$2"; }
mkdir -p /host /rw /root
mount9p host /host ro,cache=loose || fail "cannot mount the host / (9p)"
[ -f "/host$nested_job/env" ] || fail "job $nested_job not found on the host share"
. "/host$nested_job/env"
mount -t tmpfs -o mode=755 tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work /root ||
    fail "cannot mount the overlay"
mount -t proc proc /root/proc
mount -t sysfs sysfs /root/sys
mount -t devtmpfs devtmpfs /root/dev
mkdir -p /root/dev/pts /root/dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /root/dev/pts
mount -t tmpfs -o mode=1777 tmpfs /root/dev/shm
# bash's process substitution needs /dev/fd (udev would make it).
ln -sf /proc/self/fd /root/dev/fd
ln -sf /proc/self/fd/0 /root/dev/stdin
ln -sf /proc/self/fd/1 /root/dev/stdout
ln -sf /proc/self/fd/2 /root/dev/stderr
mount -t tmpfs -o mode=1777 tmpfs /root/tmp
mount -t tmpfs -o mode=755 tmpfs /root/run
mkdir -p "/root$nested_work"
mount9p work "/root$nested_work" rw,cache=none || fail "cannot mount the work tree $nested_work"
cp "/host$nested_job/run.sh" /root/run/nested-run.sh
verbose "mounts done"

# Say it loudly if KVM is not what the command expects.
grep -qw svm /proc/cpuinfo || echo "nested-run: warning: no svm in the outer VM's /proc/cpuinfo"
dmesg | grep -q "Nested Paging enabled" || echo "nested-run: warning: kvm_amd did not enable Nested Paging"
[ -c /dev/kvm ] || echo "nested-run: warning: no /dev/kvm in the outer VM"

if [ -n "$nested_interactive" ]; then
    printf '\r%s:start\r\033[K' "$nested_token"   # erased on the terminal
else
    echo "$nested_token:start"
fi
if [ -n "$nested_interactive" ]; then
    # The console becomes the command's controlling tty (job control, ^C).
    setsid cttyhack env -i "$(command -v chroot)" /root /bin/bash /run/nested-run.sh
else
    env -i "$(command -v chroot)" /root /bin/bash /run/nested-run.sh </dev/null
fi
end $?
EOF
}

l1_modules="irqbypass ccp kvm kvm_amd virtio_pci 9pnet_virtio 9p overlay"
stamp=$( { echo "$VER $l1_modules"; l1_init; sha256sum "$BUSYBOX" | cut -d' ' -f1; } |
         sha256sum | cut -d' ' -f1)
build_initrd() {
    local root=$1/root m p
    mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,lib/modules}
    cp "$BUSYBOX" "$root/bin/busybox"
    "$BUSYBOX" --list-full | while read -r app; do
        [[ -e $root/$app ]] || ln -s /bin/busybox "$root/$app"
    done
    l1_init >"$root/init"
    chmod 755 "$root/init"
    # Dependency order from kmod, de-duplicated, first occurrence wins.
    declare -A seen=()
    for m in $l1_modules; do
        modprobe -d "$TREE" -S "$VER" --show-depends "$m" >"$1/deps" ||
            die "module $m not in kernel $VER"
        while read -r kind p _; do
            [[ $kind == insmod && -z ${seen[$p]:-} ]] || continue
            seen[$p]=1
            m=$(basename "$p")
            case $m in
                *.ko) cp "$p" "$root/lib/modules/$m" ;;
                *.ko.xz) xz -dc "$p" >"$root/lib/modules/${m%.xz}"; m=${m%.xz} ;;
                *.ko.zst) zstd -qdc "$p" >"$root/lib/modules/${m%.zst}"; m=${m%.zst} ;;
                *) die "unexpected module file $p" ;;
            esac
            echo "$m" >>"$root/etc/l1-modules"
        done <"$1/deps"
    done
    (cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
        gzip -6 -n >"$INITRD.tmp"
    mv "$INITRD.tmp" "$INITRD"
    echo "$stamp" >"$INITRD.stamp"
}
(
    flock 9
    if [[ ! -e $INITRD || $(cat "$INITRD.stamp" 2>/dev/null) != "$stamp" ]]; then
        tmp=$(mktemp -d)
        trap 'rm -rf "$tmp"' EXIT
        build_initrd "$tmp"
    fi
) 9>"$NESTED/.lock"

# --- the job: env + cwd + command, read by L1 init from the host share ---
JOB=$(mktemp -d "${TMPDIR:-/tmp}/nested-run-XXXXXX")
[[ $JOB != *[[:space:]]* ]] || die "TMPDIR has spaces"
qpid=
cleanup() {
    [[ -n $qpid ]] && kill "$qpid" 2>/dev/null
    [[ -e $JOB/console.log ]] && cp "$JOB/console.log" "$NESTED/last-console.log" 2>/dev/null
    rm -rf "$JOB"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
chmod 755 "$JOB"
token=nested-run-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
{
    echo "nested_token=$token"
    echo "nested_work='$WORK'"
    ((interactive)) && echo "nested_interactive=1"
    [[ -n ${NESTED_RUN_VERBOSE:-} ]] && echo "nested_verbose=1"
    true
} >"$JOB/env"
{
    echo "# generated by tools/nested-run.sh"
    for v in PATH CI HOME TERM LANG TZ USER $(compgen -e | grep -E '^(LC_|MINIVMM_)' || true); do
        [[ -n ${!v+set} ]] && printf 'export %s=%q\n' "$v" "${!v}"
    done
    echo "export MINIVMM_NESTED=1"
    if ((interactive)); then
        # A serial console does not know the terminal's size: tell it.
        size=$(stty size 2>/dev/null || true)
        [[ -n $size ]] && echo "stty rows ${size% *} cols ${size#* } 2>/dev/null"
    fi
    printf 'cd %q || exit 125\n' "$CWD"
    printf 'exec'; printf ' %q' "$@"; echo
} >"$JOB/run.sh"

append="console=ttyS0 panic=-1 edd=off nested_job=$JOB"
if [[ -n ${NESTED_RUN_VERBOSE:-} ]]; then
    append+=" loglevel=7"
else
    append+=" quiet loglevel=0"
fi
# qboot instead of SeaBIOS: faster, and it prints nothing on the serial.
bios=()
[[ -e /usr/share/qemu/qboot.rom ]] && bios=(-bios /usr/share/qemu/qboot.rom)
log=$JOB/console.log
chardev="stdio,id=con,signal=off,logfile=$log"
((interactive)) && chardev+=",mux=on"
cmd=(
    "$QEMU" -accel tcg,thread=multi -cpu max,+svm,+npt -smp "$cpus" -m "$mem"
    -nographic -nodefaults -no-reboot "${bios[@]}"
    -chardev "$chardev" -serial chardev:con
    -kernel "$KERNEL" -initrd "$INITRD" -append "$append"
    -virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap
    -virtfs "local,path=$WORK,mount_tag=work,security_model=none,multidevs=remap"
)
((interactive)) && cmd+=(-mon chardev=con,mode=readline)

t0=$(date +%s)
if ((interactive)); then
    [[ -t 0 ]] || die "--interactive needs a terminal on stdin"
    # Foreground-ish: QEMU owns the terminal (raw) until it exits.
    exec 3<&0
    timeout --foreground -k 10 "$timeout" "${cmd[@]}" <&3 2>"$JOB/qemu.err" &
    qpid=$!
    wait "$qpid" && qrc=0 || qrc=$?
    qpid=
else
    # Show the command's output only: drop everything up to the start
    # marker (firmware, kernel, L1 init), the status marker and after.
    mkfifo "$JOB/out"
    perl -e '$| = 1; my ($t, $on) = @ARGV;
             while (<STDIN>) {
                 s/\r//g;
                 if ($on == 0) { $on = 1 if /\Q$t\E:start/; next }
                 next if $on == 2;
                 if (/^(.*)\Q$t\E:exit=/) { print $1, "\n" if length $1; $on = 2; next }
                 print;
             }' "$token" "$([[ -n ${NESTED_RUN_VERBOSE:-} ]] && echo 1 || echo 0)" <"$JOB/out" &
    fpid=$!
    # timeout puts QEMU in its own process group; cleanup() kills it.
    timeout -k 10 "$timeout" "${cmd[@]}" </dev/null >"$JOB/out" 2>"$JOB/qemu.err" &
    qpid=$!
    wait "$qpid" && qrc=0 || qrc=$?
    qpid=
    wait "$fpid" || true
fi
elapsed=$(($(date +%s) - t0))

status=$(grep -aoE "$token:exit=[0-9]+" "$log" 2>/dev/null | tail -n1 | sed 's/.*=//' || true)
if [[ -z $status ]]; then
    if ((qrc == 124)); then
        echo "error: nested-run: timed out after ${timeout}s, outer VM killed" >&2
    else
        echo "error: nested-run: the outer VM ended without a status (QEMU exit status $qrc after ${elapsed}s)" >&2
    fi
    if [[ -s $JOB/qemu.err ]]; then sed 's/^/  qemu: /' "$JOB/qemu.err" >&2; fi
    echo "  console log: $NESTED/last-console.log (tail below)" >&2
    tail -n 15 "$log" 2>/dev/null | tr -d '\r' | sed 's/^/  | /' >&2 || true
    exit 125
fi
exit "$status"
