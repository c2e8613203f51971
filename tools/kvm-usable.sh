#!/bin/bash
# Exit 0 when KVM can really run a stock guest kernel here, else 1.
#   tools/kvm-usable.sh [-v]     (-v: one line on stderr saying why)
# The device node alone proves nothing: kvm_pvm provides a /dev/kvm on
# CPUs without vmx/svm, where a stock kernel hangs early. So both must hold:
# /dev/kvm opens read-write, and /proc/cpuinfo lists vmx or svm.
set -euo pipefail

verbose=0
case ${1:-} in
    -v) verbose=1 ;;
    "") ;;
    *) echo "error: usage: $0 [-v]" >&2; exit 2 ;;
esac

say() { ((verbose)) && echo "kvm-usable: $*" >&2; return 0; }

if [[ ! -e /dev/kvm ]]; then
    say "no: /dev/kvm does not exist"; exit 1
fi
# Opening read-write is the real permission test ([[ -w ]] is not, for root).
if ! { exec 3<>/dev/kvm; } 2>/dev/null; then
    say "no: cannot open /dev/kvm read-write"; exit 1
fi
exec 3>&-
flag=$(grep -m1 -owE 'vmx|svm' /proc/cpuinfo || true)
if [[ -z $flag ]]; then
    say "no: /dev/kvm opens but /proc/cpuinfo lists neither vmx nor svm (e.g. kvm_pvm)"
    exit 1
fi
say "yes: /dev/kvm opens read-write and the CPU has $flag"
exit 0
