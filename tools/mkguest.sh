#!/bin/bash
# Build the default guest from Debian packages: the stock kernel and a
# small busybox initramfs with the virtio/ext4/pvpanic modules.
#
#   tools/mkguest.sh OUTDIR
#       -> OUTDIR/vmlinuz, OUTDIR/initrd.img, OUTDIR/kernel-version,
#          OUTDIR/.done (holds a stamp of the inputs; touched last)
#   tools/mkguest.sh --kernel-tree CACHEDIR
#       -> print an unpacked kernel tree in CACHEDIR, fetching the current
#          package only when none is cached (tools/nested-run.sh's L1 VM)
#
# The kernel .deb and its unpacked tree are cached in $(dirname OUTDIR)/cache.
# No root needed: cpio's --owner makes every file root-owned in the archive.
set -euo pipefail

die() { echo "error: $*" >&2; exit 1; }

TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUSYBOX=${BUSYBOX:-/bin/busybox}

# Modules the guest loads now or will (tools/guest-init.sh); dependencies
# are added from modules.dep. Names that do not exist are skipped.
WANT_MODULES=(
    virtio_mmio virtio_blk virtio_console virtio_rng virtio_input virtio_net
    virtio-gpu crc32c_generic ext4 jbd2 mbcache crc16 rng-core evdev
)

# Prints the real kernel package name, e.g. linux-image-6.1.0-56-amd64.
kernel_package() {
    local pkg
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
          sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' |
          head -n1) || true
    if [[ -z $pkg ]]; then
        # Offline or no apt lists yet: fall back to the newest cached one.
        pkg=$(ls -d "$CACHE"/linux-image-*-amd64 2>/dev/null |
              sed 's|.*/||' | sort -V | tail -n1) || true
        [[ -n $pkg ]] || die "cannot resolve linux-image-amd64 " \
            "(run 'apt-get update' or tools/install-deps.sh first)"
    fi
    echo "$pkg"
}

# Ensures $CACHE/$pkg/ holds the unpacked package (with modules.dep), prints it.
kernel_tree() {
    local pkg=$1 tree=$CACHE/$1
    if [[ ! -e $tree/.unpacked ]]; then
        local tmp deb
        tmp=$(mktemp -d "$CACHE/.dl.XXXXXX")
        # Download as root into a dir _apt cannot write: say so, no warning.
        (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root \
            "$pkg" >&2 </dev/null) || { rm -rf "$tmp"; die "apt-get download $pkg failed"; }
        deb=$(ls "$tmp"/*.deb)
        mkdir "$tmp/x"
        dpkg-deb -x "$deb" "$tmp/x" || { rm -rf "$tmp"; die "dpkg-deb -x $deb failed"; }
        local ver
        ver=$(ls "$tmp/x/lib/modules")
        # The .deb ships no modules.dep; busybox modprobe and ours need one.
        depmod -b "$tmp/x" "$ver" || { rm -rf "$tmp"; die "depmod failed"; }
        touch "$tmp/x/.unpacked"
        rm -rf "$tree"
        mv "$tmp/x" "$tree"
        mv "$deb" "$CACHE/"
        rm -rf "$tmp"
    fi
    echo "$tree"
}

# Serialise concurrent builds sharing one cache (mkguest + nested-run).
lock_cache() {
    mkdir -p "$CACHE"
    exec 9>"$CACHE/.lock"
    flock 9
}

if [[ ${1:-} == --kernel-tree ]]; then
    [[ $# -eq 2 ]] || die "usage: $0 --kernel-tree CACHEDIR"
    CACHE=$(realpath -m "$2")
    lock_cache
    # Any unpacked kernel will do for the outer VM: skip apt-cache (~1 s).
    cached=$(ls -d "$CACHE"/linux-image-*-amd64/.unpacked 2>/dev/null |
             sort -V | tail -n1) || true
    if [[ -n $cached ]]; then dirname "$cached"; exit 0; fi
    kernel_tree "$(kernel_package)"
    exit 0
fi

[[ $# -eq 1 && $1 != -* ]] || die "usage: $0 OUTDIR"
OUT=$(realpath -m "$1")
CACHE=$(dirname "$OUT")/cache
for t in apt-cache apt-get dpkg-deb depmod modprobe cpio gzip flock; do
    command -v "$t" >/dev/null || die "$t not found (run tools/install-deps.sh)"
done
[[ -x $BUSYBOX ]] || die "$BUSYBOX not found (install busybox-static)"
file -L "$BUSYBOX" | grep -q 'statically linked' ||
    die "$BUSYBOX is not static (install busybox-static)"

lock_cache
PKG=$(kernel_package)

# Everything the output depends on; equal stamp => nothing to do.
STAMP=$( { echo "$PKG"; sha256sum "$TOOLS/mkguest.sh" "$TOOLS/guest-init.sh" "$TOOLS/guest/mvtool.c" \
           "$BUSYBOX" | cut -d' ' -f1; } | sha256sum | cut -d' ' -f1)
if [[ -e $OUT/.done && $(cat "$OUT/.done") == "$STAMP" &&
      -e $OUT/vmlinuz && -e $OUT/initrd.img ]]; then
    echo "mkguest: $OUT is up to date ($PKG)"
    exit 0
fi

TREE=$(kernel_tree "$PKG")
VER=$(ls "$TREE/lib/modules")
[[ -n $VER && -e $TREE/boot/vmlinuz-$VER ]] || die "no vmlinuz-$VER in $TREE/boot"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mkguest.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
ROOT=$WORK/root
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,root,newroot,etc,mnt,run} \
         "$ROOT/lib/modules/$VER"

# busybox with a symlink per applet, so /init's #!/bin/sh and PATH work.
cp "$BUSYBOX" "$ROOT/bin/busybox"
"$BUSYBOX" --list-full | while read -r app; do
    [[ -e $ROOT/$app ]] || ln -s /bin/busybox "$ROOT/$app"
done
install -m 0755 "$TOOLS/guest-init.sh" "$ROOT/init"
# The boot tests' helper (DRM test pattern, evdev reader), static: the
# initramfs has no libc.
${CC:-gcc} -static -O2 -Wall -Wextra -Werror -I/usr/include/libdrm \
    -o "$ROOT/bin/mvtool" "$TOOLS/guest/mvtool.c" || die "cannot build mvtool"
strip "$ROOT/bin/mvtool"

# Dependency closure, as kmod's modprobe resolves it (modules.dep+softdep).
# pvpanic: whatever this kernel builds as modules (pvpanic, -mmio, -pci).
mods=("${WANT_MODULES[@]}")
while read -r m; do mods+=("$(basename "${m%%.ko*}")"); done < <(
    cd "$TREE/lib/modules/$VER" && find kernel -name 'pvpanic*.ko*')
declare -A files=()
for m in "${mods[@]}"; do
    deps=$(modprobe -d "$TREE" -S "$VER" --show-depends "$m" 2>/dev/null) || {
        echo "mkguest: note: module $m not in $VER, skipped" >&2; continue; }
    while read -r kind path _; do
        [[ $kind == insmod ]] && files[${path#"$TREE"/}]=1
    done <<<"$deps"
done
for f in "${!files[@]}"; do
    f=${f#/}
    rel=${f#lib/modules/"$VER"/}
    mkdir -p "$ROOT/lib/modules/$VER/$(dirname "$rel")"
    # Busybox insmod may lack xz/zstd support: store every module plain.
    case $f in
        *.ko)     cp "$TREE/$f" "$ROOT/lib/modules/$VER/$rel" ;;
        *.ko.xz)  xz -dc "$TREE/$f" >"$ROOT/lib/modules/$VER/${rel%.xz}" ;;
        *.ko.zst) zstd -qdc "$TREE/$f" >"$ROOT/lib/modules/$VER/${rel%.zst}" ;;
        *.ko.gz)  gzip -dc "$TREE/$f" >"$ROOT/lib/modules/$VER/${rel%.gz}" ;;
        *) die "unexpected module file $f" ;;
    esac
done
cp "$TREE/lib/modules/$VER"/modules.{order,builtin,builtin.modinfo} "$ROOT/lib/modules/$VER/"
depmod -b "$ROOT" "$VER" || die "depmod on the initramfs failed"
# busybox reads only the text files; drop kmod's binary indexes.
rm -f "$ROOT/lib/modules/$VER"/*.bin

echo "minivmm" >"$ROOT/etc/hostname"

mkdir -p "$OUT"
rm -f "$OUT/.done"
(cd "$ROOT" && find . -mindepth 1 | LC_ALL=C sort |
    cpio -o -H newc -R 0:0 --quiet) | gzip -9 -n >"$OUT/initrd.img.tmp"
mv "$OUT/initrd.img.tmp" "$OUT/initrd.img"
cp "$TREE/boot/vmlinuz-$VER" "$OUT/vmlinuz"
echo "$VER" >"$OUT/kernel-version"
echo "$STAMP" >"$OUT/.done"

nmods=$(find "$ROOT/lib/modules" -name '*.ko' | wc -l)
echo "mkguest: kernel $VER ($PKG)"
echo "mkguest: vmlinuz    $(du -h "$OUT/vmlinuz" | cut -f1)"
echo "mkguest: initrd.img $(du -h "$OUT/initrd.img" | cut -f1)" \
     "($nmods modules, $(du -sh "$ROOT" | cut -f1) unpacked)"
