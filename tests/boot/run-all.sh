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
# Run copies: bash reads scripts as it goes, so editing a test while a
# (long, nested) run is going would otherwise derail it.
copy=$(mktemp -d); cp tests/boot/*.sh "$copy/"
for t in "$copy"/test-*.sh; do
    echo "-- tests/boot/$(basename "$t")"
    start=$(date +%s)
    bash "$t"
    echo "   ($(( $(date +%s) - start ))s)"
done
rm -rf "$copy"
echo "BOOT-TESTS-DONE"
