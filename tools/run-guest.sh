#!/bin/bash
# Boot the default guest interactively with minivmm (what `make run` does).
#   tools/run-guest.sh MINIVMM GUESTDIR [extra minivmm args]
# Direct KVM when it is usable here; otherwise the same command runs
# inside tools/nested-run.sh --interactive (outer QEMU, TCG + AMD-V);
# there, Ctrl-A x quits the outer VM if the guest hangs.
set -euo pipefail

TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if (($# < 2)); then
    echo "error: usage: $0 MINIVMM GUESTDIR [extra minivmm args]" >&2
    exit 2
fi
vmm=$1 guest=$2
shift 2
[[ -x $vmm ]] || { echo "error: $vmm is not an executable (run make)" >&2; exit 1; }
for f in vmlinuz initrd.img; do
    [[ -e $guest/$f ]] ||
        { echo "error: $guest/$f missing (run make guest)" >&2; exit 1; }
done

cmd=("$vmm" --kernel "$guest/vmlinuz" --initrd "$guest/initrd.img" "$@")
if why=$("$TOOLS/kvm-usable.sh" -v 2>&1); then
    echo "run-guest: direct KVM (${why#kvm-usable: yes: })" >&2
    exec "${cmd[@]}"
fi
# nested-run.sh prints why it is used.
exec "$TOOLS/nested-run.sh" --interactive -- "${cmd[@]}"
