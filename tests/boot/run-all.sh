#!/bin/bash
# Runs every boot test (tests/boot/test-*.sh) on a usable /dev/kvm - this
# machine's, or the nested VM's when started by tools/nested-run.sh.
set -uo pipefail
cd "$(dirname "$0")/../.."
export MINIVMM=${MINIVMM:-$PWD/build/minivmm} GUEST=${GUEST:-$PWD/build/guest}
# Logs in the work tree: visible on the host after a nested run.
export BOOT_LOGS=${BOOT_LOGS:-$PWD/build/boot-logs}
if ! tools/kvm-usable.sh -v; then
    echo "FAIL boot-tests: KVM is not usable here"
    echo "BOOT-TESTS-DONE"
    exit 1
fi
for t in tests/boot/test-*.sh; do
    echo "-- $t"
    start=$(date +%s)
    bash "$t"
    echo "   ($(( $(date +%s) - start ))s)"
done
echo "BOOT-TESTS-DONE"
