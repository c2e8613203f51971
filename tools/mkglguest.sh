#!/bin/bash
# Build the GL guest's disk: Debian's Mesa (virtio_gpu_dri.so, EGL/GLES
# through libglvnd, GBM), kmscube and glmark2-es2-drm, with every shared
# library they load, on an ext4 image. It boots with the default guest's
# kernel and initramfs (tools/mkguest.sh), which switch_root into it:
#
#   build/minivmm --kernel build/guest/vmlinuz --initrd build/guest/initrd.img \
#       --gpu virgl --disk build/glguest/gl.ext4,ro \
#       --append 'minivmm_root=/dev/vda minivmm_run="stdbuf -oL kmscube -c 10"'
#
#   tools/mkglguest.sh [OUTDIR]        (default build/glguest; `make glguest`)
#       -> OUTDIR/gl.ext4, OUTDIR/packages (name version, one a line),
#          OUTDIR/.done (a stamp of the inputs; written last)
#
# Packages: the Depends (and Pre-Depends) closure of the seeds below, as
# apt-cache resolves it for the candidate versions; the .debs are cached in
# $(dirname OUTDIR)/cache/gl. Everything ELF in the image that the GL stack
# loads (the binaries, virtio_gpu_dri.so, the glvnd vendor library, GBM,
# libstdbuf) is then checked to find each of its DT_NEEDED libraries inside
# the image. No root needed: apt-get download, dpkg-deb -x, ldconfig -r and
# mke2fs -d all work as a user; as root the binaries are also run once in a
# chroot of the tree (--help) to prove that the loader resolves them (as a
# user the image's files belong to that user's uid: harmless for a root guest).
set -euo pipefail

die() { echo "mkglguest: error: $*" >&2; exit 1; }
say() { echo "mkglguest: $*"; }

TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SEEDS=(
    libc6
    # Mesa: the DRI megadriver (virtio_gpu_dri.so), its EGL and GBM sides,
    # and libglvnd's dispatching libEGL/libGLESv2 in front of them.
    libgl1-mesa-dri libglapi-mesa libegl-mesa0 libegl1 libgles2 libgbm1
    libglvnd0 libdrm2
    # the test programs and glmark2's models, textures and shaders
    kmscube glmark2-es2-drm glmark2-data
    # stdbuf: kmscube's stdout is block-buffered when it is piped
    coreutils
)
# Where the image's shared libraries live (libc6's ld.so.conf.d, ldconfig).
LIBDIRS=(lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu lib64 lib usr/lib)
# Not needed on a read-only test disk: dropped to keep the image small.
DROP=(usr/share/doc usr/share/man usr/share/info usr/share/locale
      usr/share/lintian usr/share/bug usr/share/bash-completion
      usr/share/gtk-doc)

OUT=$(realpath -m "${1:-$TOOLS/../build/glguest}")
[[ $# -le 1 && ${1:-x} != -* ]] || die "usage: $0 [OUTDIR]"
CACHE=$(dirname "$OUT")/cache/gl
for t in apt-cache apt-get dpkg-deb mke2fs ldconfig objdump flock sha256sum; do
    command -v "$t" >/dev/null || die "$t not found (run tools/install-deps.sh)"
done

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
start=$(date +%s)

# 1. The package set, the names only (real packages, this architecture).
# With no apt lists (offline), fall back to the last resolved set.
resolve() {
    apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
        --no-breaks --no-replaces --no-enhances "${SEEDS[@]}" 2>/dev/null |
        grep -E '^[a-z0-9][a-z0-9.+-]*$' | LC_ALL=C sort -u
}
PKGS=$(resolve) || true
if [[ -n $PKGS ]] && grep -qx libgl1-mesa-dri <<<"$PKGS"; then
    echo "$PKGS" >"$CACHE/packages.list"
elif [[ -s $CACHE/packages.list ]]; then
    say "note: apt-cache could not resolve the packages; using the cached list"
    PKGS=$(cat "$CACHE/packages.list")
else
    die "cannot resolve ${SEEDS[*]} (run 'apt-get update' first)"
fi
mapfile -t PKGS <<<"$PKGS"

# 2. The .deb file name of each package's candidate version, in the same
# order (apt prints them without touching the network).
declare -A file_of=()
while read -r f; do
    file_of[${f%%_*}]=$f
done < <(apt-get download --print-uris "${PKGS[@]}" 2>/dev/null | awk '{print $2}')
if ((${#file_of[@]} != ${#PKGS[@]})); then
    # Offline: whatever is cached, the newest version of each package.
    file_of=()
    for p in "${PKGS[@]}"; do
        f=$(ls "$CACHE"/"${p}"_*.deb 2>/dev/null | sed 's|.*/||' | sort -V | tail -n1)
        [[ -n $f ]] && file_of[$p]=$f
    done
fi
DEBS=()
for p in "${PKGS[@]}"; do
    [[ -n ${file_of[$p]:-} ]] ||
        die "no .deb for $p known or cached (run 'apt-get update')"
    DEBS+=("${file_of[$p]}")
done

STAMP=$( { echo "${DEBS[@]}"; sha256sum "$TOOLS/mkglguest.sh" | cut -d' ' -f1; } |
         sha256sum | cut -d' ' -f1)
if [[ -e $OUT/.done && $(cat "$OUT/.done") == "$STAMP" && -e $OUT/gl.ext4 ]]; then
    say "$OUT is up to date (${#DEBS[@]} packages, gl.ext4 $(du -h --apparent-size "$OUT/gl.ext4" | cut -f1))"
    exit 0
fi

# 3. Download what is not cached.
missing=()
for i in "${!DEBS[@]}"; do
    [[ -s $CACHE/${DEBS[$i]} ]] || missing+=("${PKGS[$i]}")
done
if ((${#missing[@]})); then
    say "downloading ${#missing[@]} packages into $CACHE"
    tmp=$(mktemp -d "$CACHE/.dl.XXXXXX")
    sandbox=()
    # As root apt drops to _apt, which cannot write here: stay root.
    ((EUID == 0)) && sandbox=(-o APT::Sandbox::User=root)
    (cd "$tmp" && apt-get download -q "${sandbox[@]}" "${missing[@]}" </dev/null >&2) ||
        { rm -rf "$tmp"; die "apt-get download failed"; }
    mv "$tmp"/*.deb "$CACHE/"
    rm -rf "$tmp"
    for d in "${DEBS[@]}"; do [[ -s $CACHE/$d ]] || die "$d missing after download"; done
fi

# 4. Unpack everything into one tree.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mkglguest.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
ROOT=$WORK/root
mkdir -p "$ROOT"
: >"$WORK/packages"
for d in "${DEBS[@]}"; do
    dpkg-deb -x "$CACHE/$d" "$ROOT" || die "dpkg-deb -x $d failed"
    dpkg-deb -W --showformat='${Package} ${Version}\n' "$CACHE/$d" >>"$WORK/packages"
done
for d in "${DROP[@]}"; do rm -rf "${ROOT:?}/$d"; done
# Mount points and the writable places /init mounts over a read-only root.
mkdir -p "$ROOT"/{dev,proc,sys,tmp,run,root,mnt,etc}
chmod 1777 "$ROOT/tmp"
[[ -e $ROOT/lib64/ld-linux-x86-64.so.2 ]] || die "no dynamic loader in the tree"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\nvideo:x:44:\nrender:x:105:\n' >"$ROOT/etc/group"
echo minivmm-gl >"$ROOT/etc/hostname"
# The loader's search path: libc6's ld.so.conf.d names the multiarch dirs;
# the cache makes lookups independent of LD_LIBRARY_PATH.
echo 'include /etc/ld.so.conf.d/*.conf' >"$ROOT/etc/ld.so.conf"
ldconfig -r "$ROOT" || die "ldconfig -r failed"
[[ -s $ROOT/etc/ld.so.cache ]] || die "ldconfig wrote no ld.so.cache"
cp "$WORK/packages" "$ROOT/etc/minivmm-gl-packages"

# 5. Every DT_NEEDED of what the GL stack loads must be in the image.
# (Some are dlopen()ed, not linked: the glvnd vendor and the DRI driver.)
find_lib() {
    local d
    for d in "${LIBDIRS[@]}"; do
        [[ -e $ROOT/$d/$1 ]] && { echo "$d/$1"; return 0; }
    done
    return 1
}
declare -A seen=()
need=() bad=()
for f in usr/bin/kmscube usr/bin/glmark2-es2-drm usr/bin/stdbuf \
         usr/libexec/coreutils/libstdbuf.so \
         usr/lib/x86_64-linux-gnu/dri/virtio_gpu_dri.so; do
    [[ -e $ROOT/$f ]] || die "$f missing from the image"
    need+=("$f")
done
for l in libEGL_mesa.so.0 libEGL.so.1 libGLESv2.so.2 libgbm.so.1 libglapi.so.0 \
         libGLdispatch.so.0; do
    f=$(find_lib "$l") || die "$l missing from the image"
    need+=("$f")
done
while ((${#need[@]})); do
    f=${need[0]}; need=("${need[@]:1}")
    [[ -n ${seen[$f]:-} ]] && continue
    seen[$f]=1
    while read -r lib; do
        if l=$(find_lib "$lib"); then
            need+=("$l")
        else
            bad+=("$f needs $lib")
        fi
    done < <(objdump -p "$ROOT/$f" | awk '$1 == "NEEDED" {print $2}')
done
((${#bad[@]} == 0)) || die "unresolved libraries: ${bad[*]}"
closure=$(for f in "${!seen[@]}"; do readlink -f "$ROOT/$f"; done | sort -u |
          xargs du -cb | tail -n1 | cut -f1)
say "ELF closure: ${#seen[@]} files, $((closure / 1048576)) MiB, all DT_NEEDED found"

# As root: run the binaries in the tree, so the real loader resolves them.
if ((EUID == 0)) && command -v chroot >/dev/null; then
    for c in "kmscube --help" "glmark2-es2-drm --help" "stdbuf -oL true"; do
        o=$(chroot "$ROOT" /usr/bin/$c 2>&1) && rc=0 || rc=$?
        # kmscube's --help exits 255; 126/127 or a signal mean it never ran.
        if ((rc == 126 || rc == 127 || (rc > 128 && rc < 255))) || grep -q 'error while loading shared libraries' <<<"$o"; then
            die "chroot $c: exit $rc: $(head -c 400 <<<"$o")"
        fi
    done
    say "chroot check: kmscube, glmark2-es2-drm and stdbuf load and run"
fi

# 6. The ext4 image: 25% + 32 MiB over the content, sparse.
used=$(du -sb "$ROOT" | cut -f1)
size_mb=$(( used * 5 / 4 / 1048576 + 32 ))
mkdir -p "$OUT"
rm -f "$OUT/.done" "$OUT/gl.ext4.tmp"
mke2fs -q -F -t ext4 -b 4096 -L minivmm-gl -m 0 -E root_owner=0:0 -d "$ROOT" \
    "$OUT/gl.ext4.tmp" "${size_mb}M" >/dev/null || die "mke2fs -d failed"
mv "$OUT/gl.ext4.tmp" "$OUT/gl.ext4"
cp "$WORK/packages" "$OUT/packages"
echo "$STAMP" >"$OUT/.done"

say "${#DEBS[@]} packages, .debs $(du -ch "${DEBS[@]/#/$CACHE/}" | tail -n1 | cut -f1)" \
    "(cache $CACHE)"
say "tree $((used / 1048576)) MiB; largest:" \
    "$(find "$ROOT" -type f -size +4M -printf '%i %s %P\n' | sort -u -k1,1 |
       sort -k2,2rn | head -n4 | awk '{printf "%s %d MiB, ", $3, $2 / 1048576}' |
       sed 's/, $//')"
say "gl.ext4 ${size_mb} MiB ($(du -h "$OUT/gl.ext4" | cut -f1) allocated) in $(( $(date +%s) - start )) s"
