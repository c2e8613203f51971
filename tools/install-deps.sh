#!/bin/bash
# Install every Debian package minivmm needs to build and test.
# Safe to rerun: when everything is already installed apt is not touched,
# so CI and `make deps` stay fast. Needs root (or sudo) and no stdin.
set -euo pipefail

PKGS=(
    # build
    gcc make pkg-config clang file
    liburing-dev libseccomp-dev libfdt-dev liblzma-dev
    libsdl2-dev libvirglrenderer-dev libepoxy-dev libpng-dev
    libegl-dev libgbm-dev libdrm-dev
    # ACPI tables: iasl disassembles our DSDT in tests
    acpica-tools
    # guest images and the nested runner
    qemu-system-x86 busybox-static cpio kmod e2fsprogs xz-utils zstd
    # headless display for SDL/GL tests; xwd dumps the window (x11-apps)
    xvfb x11-apps
)

missing=()
for p in "${PKGS[@]}"; do
    # db:Status-Abbrev is "ii " for a fully installed package.
    st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
    [[ $st == ii* ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
    echo "install-deps: all ${#PKGS[@]} packages already installed"
    exit 0
fi

echo "install-deps: installing: ${missing[*]}"
SUDO=()
if ((EUID != 0)); then
    command -v sudo >/dev/null ||
        { echo "error: need root (or sudo) to install packages" >&2; exit 1; }
    SUDO=(sudo)
fi

# No prompts, no stdin: works under CI=true with </dev/null.
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q </dev/null ||
    { echo "error: apt-get update failed" >&2; exit 1; }
"${SUDO[@]}" apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}" </dev/null ||
    { echo "error: apt-get install failed for: ${missing[*]}" >&2; exit 1; }
echo "install-deps: done"
