#!/bin/bash
# Bad user input: each case must give exactly one "minivmm: ..." line on
# stderr mentioning the problem, the documented exit status, and no crash.
# Needs no KVM: inputs are checked before /dev/kvm is opened.
set -uo pipefail
cd "$(dirname "$0")/../.."
M=${MINIVMM:-build/minivmm}
K=${GUEST:-build/guest}/vmlinuz
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

# expect NAME STATUS REGEX -- ARGS...: runs minivmm with stdin at EOF.
expect() {
    local name=$1 want=$2 re=$3; shift 4
    local st lines
    "$M" "$@" </dev/null >"$T/out" 2>"$T/err"; st=$?
    lines=$(wc -l <"$T/err")
    if [ "$st" -ne "$want" ]; then
        echo "FAIL cli:$name: exit status $st, expected $want"; sed 's/^/    /' "$T/err" | head -5
    elif [ "$lines" -ne 1 ] || ! grep -q '^minivmm: ' "$T/err"; then
        echo "FAIL cli:$name: expected one 'minivmm: ...' line on stderr, got $lines:"; sed 's/^/    /' "$T/err" | head -5
    elif ! grep -qiE -- "$re" "$T/err"; then
        echo "FAIL cli:$name: message does not match /$re/: $(cat "$T/err")"
    else
        echo "PASS cli:$name"
    fi
}

head -c 100000 /dev/urandom >"$T/random.img"
printf '\177ELF\002\001\001' >"$T/vmlinux"; head -c 4096 /dev/zero >>"$T/vmlinux"
head -c 100 /dev/zero >"$T/tiny"
if [ -f "$K" ]; then
    # A real bzImage cut short: the header is fine, the payload is not.
    head -c 600000 "$K" >"$T/truncated"
fi

expect no-kernel          2 'no kernel given'        --
expect unknown-long       2 "unknown option '--frobnicate'" -- --frobnicate
expect unknown-short      2 "unknown option '-z'"    -- -z
expect missing-value      2 "needs a value"          -- --kernel
expect stray-argument     2 "unexpected argument"    -- --kernel "$K" extra
expect missing-kernel     2 "cannot open kernel .*No such file" -- --kernel "$T/nope"
expect kernel-is-dir      2 "not a regular file"     -- --kernel "$T"
expect kernel-random      2 "not a bzImage"          -- --kernel "$T/random.img"
expect kernel-elf         2 "ELF"                    -- --kernel "$T/vmlinux"
expect kernel-tiny        2 "kernel"                 -- --kernel "$T/tiny"
expect kernel-empty       2 "kernel"                 -- --kernel /dev/null
if [ -f "$K" ]; then
    expect kernel-truncated 2 "truncated"           -- --kernel "$T/truncated"
    expect missing-initrd  2 "cannot open initrd"    -- --kernel "$K" --initrd "$T/nope"
    expect mem-garbage     2 "not a size"            -- --kernel "$K" --mem lots
    expect mem-negative    2 "not a size"            -- --kernel "$K" --mem -5M
    expect mem-too-small   2 "too small"             -- --kernel "$K" --mem 16M
    expect mem-overflow    2 "not a size"            -- --kernel "$K" --mem 99999999999T
    expect mem-too-large   2 "more than this host"   -- --kernel "$K" --mem 64T
    expect cpus-zero       2 "out of range"          -- --kernel "$K" --cpus 0
    expect cpus-too-many   2 "out of range"          -- --kernel "$K" --cpus 65
    expect cpus-garbage    2 "not a number"          -- --kernel "$K" --cpus two
    expect cmdline-too-long 2 "command line"         -- --kernel "$K" --cmdline "$(head -c 70000 /dev/zero | tr '\0' x)"
    # Disks are checked (and locked) before KVM is touched.
    truncate -s 1M "$T/disk.img"; truncate -s 1000 "$T/odd.img"
    expect disk-missing    2 "disk '.*nope.img'.*No such file" -- --kernel "$K" --disk "$T/nope.img"
    expect disk-dir        2 "is a directory"        -- --kernel "$K" --disk "$T"
    expect disk-odd-size   2 "not a multiple of 512" -- --kernel "$K" --disk "$T/odd.img"
    expect disk-bad-option 2 "^minivmm: --disk: .*frob" -- --kernel "$K" --disk "$T/disk.img,frob"
    expect disk-too-many   2 "too many --disk"       -- --kernel "$K" --disk "$T/disk.img,ro" --disk "$T/disk.img,ro" \
        --disk "$T/disk.img,ro" --disk "$T/disk.img,ro" --disk "$T/disk.img,ro" --disk "$T/disk.img,ro" --disk "$T/disk.img,ro"
    expect console-bogus   2 "console: 'tty' is not" -- --kernel "$K" --console tty
    expect seccomp-bogus   2 "seccomp: 'strict' is not enforce, log or off" -- --kernel "$K" --seccomp strict
    # The GPU stack is a module next to the binary: without it, --gpu
    # fails early and says why; a VM without a GPU does not need it.
    mkdir -p "$T/alone"; cp "$M" "$T/alone/minivmm"
    M_SAVED=$M; M=$T/alone/minivmm
    expect gpu-module-missing 1 "GPU module minivmm-gpu.so is missing" -- --kernel "$K" --gpu 2d
    echo garbage >"$T/alone/minivmm-gpu.so"
    expect gpu-module-broken  1 "cannot load the GPU module" -- --kernel "$K" --gpu virgl
    M=$M_SAVED
    if command -v flock >/dev/null; then
        flock -x "$T/disk.img" sleep 30 &
        lockpid=$!
        sleep 0.3
        expect disk-locked 2 "in use by another process" -- --kernel "$K" --disk "$T/disk.img"
        kill $lockpid 2>/dev/null; wait $lockpid 2>/dev/null
    fi
    if unshare -m true 2>/dev/null; then
        mkdir -p "$T/rofs"; cp "$T/disk.img" "$T/rofs/"
        st=0
        unshare -m sh -c "mount --bind '$T/rofs' '$T/rofs' && mount -o remount,bind,ro '$T/rofs' && exec '$M' --kernel '$K' --disk '$T/rofs/disk.img'" \
            </dev/null >"$T/out" 2>"$T/err" || st=$?
        if [ "$st" -eq 2 ] && grep -q "read-only on the host.*add ',ro'" "$T/err" && [ "$(wc -l <"$T/err")" -eq 1 ]; then
            echo "PASS cli:disk-readonly-host"
        else
            echo "FAIL cli:disk-readonly-host: status $st: $(cat "$T/err")"
        fi
    fi
    # No /dev/kvm at all: a private mount namespace with an empty /dev.
    if unshare -m true 2>/dev/null; then
        "$M" --version >/dev/null
        st=0
        unshare -m sh -c "mount -t tmpfs none /dev && exec '$M' --kernel '$K'" </dev/null >"$T/out" 2>"$T/err" || st=$?
        if [ "$st" -eq 1 ] && grep -q '^minivmm: /dev/kvm does not exist' "$T/err" && [ "$(wc -l <"$T/err")" -eq 1 ]; then
            echo "PASS cli:no-dev-kvm"
        else
            echo "FAIL cli:no-dev-kvm: status $st: $(cat "$T/err")"
        fi
    else
        echo "SKIP cli:no-dev-kvm: cannot create a mount namespace (not root?)"
    fi
    if [ -e /dev/kvm ] && [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
        cp "$K" "$T/k"; chmod 755 "$T"; chmod 644 "$T/k"
        if [ "$(stat -c %a /dev/kvm)" = 600 ] || [ "$(stat -c %a /dev/kvm)" = 660 ]; then
            expect_user() {
                local st=0
                setpriv --reuid=65534 --regid=65534 --clear-groups "$M" --kernel "$T/k" </dev/null >"$T/out" 2>"$T/err" || st=$?
                if [ "$st" -eq 1 ] && grep -q '^minivmm: no permission to open /dev/kvm' "$T/err"; then
                    echo "PASS cli:kvm-permission"
                else
                    echo "FAIL cli:kvm-permission: status $st: $(cat "$T/err")"
                fi
            }
            expect_user
        else
            echo "SKIP cli:kvm-permission: /dev/kvm is world-accessible here"
        fi
    fi
    if [ -e /dev/kvm ] && ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
        expect kvm-without-vmx-svm 1 "no vmx or svm"   -- --kernel "$K"
    fi
else
    echo "SKIP cli:kernel-checks: no guest kernel at $K (run make guest)"
fi

# --help documents every option and the exit statuses; --version works.
st=0; "$M" --help >"$T/help" 2>&1 || st=$?
ok=1
for w in --kernel --initrd --cmdline --append --mem --cpus --name --disk --console --no-rng --virtio-mmio-cmdline --gpu --display --resolution --control --seccomp --help --version "Exit status" "Ctrl-A x"; do
    grep -q -- "$w" "$T/help" || { ok=0; echo "    --help lacks $w"; }
done
[ "$st" -eq 0 ] && [ $ok = 1 ] && echo "PASS cli:help" || echo "FAIL cli:help"
"$M" --version | grep -q '^minivmm [0-9]' && echo "PASS cli:version" || echo "FAIL cli:version"
