#!/bin/bash
# The seccomp sandbox on a real guest (docs/seccomp.md).  Every other boot
# test runs under the default --seccomp=enforce too, so the allow-lists are
# exercised by all of them; here: a forbidden call from a device thread is
# stopped (enforce), reported but let through (log), or ignored (off);
# no_new_privs is set and descriptors inherited from the parent are closed.
. "$(dirname "$0")/lib.sh"

PROBE=${SECCOMP_PROBE:-$(dirname "$MINIVMM")/seccomp-probe.so}
FORBIDDEN='minivmm: seccomp: thread (event|vcpu) made a forbidden system call socket \(41\)'

if [ ! -f "$PROBE" ]; then
    echo "FAIL boot:seccomp: $PROBE is missing (make unit-tests)"
    exit 0
fi

# The probe makes virtio-rng's getrandom() open a socket first; the guest
# kernel reads the rng as soon as the device is probed.
probe_boot() {
    local name=$1; shift
    LD_PRELOAD=$PROBE run_cmd "$name" "head -c 64 /dev/hwrng | wc -c; poweroff -f" "$@"
}

probe_boot seccomp-enforce
if [ "$status" -ne 1 ]; then
    fail seccomp-enforce "exit status $status, expected 1 (stopped by the filter)"
elif ! grep -qE "$FORBIDDEN" "$out"; then
    fail seccomp-enforce "no message naming the forbidden socket call"
elif [ "$(grep -c 'minivmm: seccomp:' "$out")" -ne 1 ]; then
    fail seccomp-enforce "expected exactly one seccomp line"
elif grep -q '^64$' "$out"; then
    fail seccomp-enforce "the guest got its random bytes: the call was not stopped"
else
    pass seccomp-enforce
fi

probe_boot seccomp-log --seccomp=log
check seccomp-log 0 "$FORBIDDEN.*allowed: --seccomp=log" "^64$"

probe_boot seccomp-off --seccomp=off
if check seccomp-off 0 '^64$' && grep -q 'minivmm: seccomp:' "$out"; then
    fail seccomp-off "a seccomp report with --seccomp=off"
fi

# A running VM: no_new_privs, every thread filtered, fd 7 (inherited from
# this shell) closed.
exec 7</dev/null
start_vm seccomp-proc --append "quiet minivmm_run=\"sleep 30; poweroff -f\"" --cpus 2
exec 7<&-
if wait_for "$MARKER" 120; then
    pid=$(pgrep -P "$vm_pid" -x minivmm || echo "$vm_pid")
    st=/proc/$pid/status
    unfiltered=$(grep -L '^Seccomp:[[:space:]]*2' /proc/"$pid"/task/*/status 2>/dev/null | wc -l)
    nthreads=$(ls /proc/"$pid"/task | wc -l)
    if ! grep -q '^NoNewPrivs:[[:space:]]*1' "$st"; then
        fail seccomp-proc "NoNewPrivs is not set"
    elif [ "$unfiltered" -ne 0 ]; then
        fail seccomp-proc "$unfiltered of $nthreads threads run without a filter"
    elif [ -e /proc/"$pid"/fd/7 ] && [ "$(readlink /proc/"$pid"/fd/7)" = /dev/null ]; then
        fail seccomp-proc "the inherited descriptor 7 is still open"
    else
        pass seccomp-proc
    fi
else
    fail seccomp-proc "the guest did not reach userspace"
fi
kill "$vm_pid" 2>/dev/null
finish_vm
