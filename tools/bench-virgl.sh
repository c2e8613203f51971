#!/bin/bash
# virgl benchmark (not a test): the GL guest (`make glguest`) on minivmm
# --gpu virgl and on QEMU's virtio-gpu-gl, measured in the same run:
#   - kmscube: frames per second over FRAMES frames (kmscube's own
#     "Rendered N frames in T sec" at its end),
#   - glmark2-es2-drm: its score over a few short scenes (build, texture,
#     shading), the mean of their frame rates to three decimals (the score
#     is whole frames per second), and each scene's time per frame.
# Each VM boots once and runs both. minivmm runs headless (virgl on EGL
# surfaceless, frames read back); QEMU runs `-display egl-headless` when
# that starts here, else `-display sdl,gl=on` on a private Xvfb (say which
# in the output) - and then minivmm also runs with `--display sdl` on the
# same Xvfb, so that one comparison is window against window.
# QEMU: -M microvm (virtio-mmio, as the guest's initramfs has no PCI
# virtio) with virtio-gpu-gl-device and virtio-blk-device, -accel kvm.
# Its virtio-gpu-gl needs a GL display; on a machine without a GPU its
# SDL window is drawn by GL on the CPU (llvmpipe/softpipe) in QEMU's main
# loop, while minivmm's SDL window then uses SDL's software renderer
# (devices/display/sdl_thread.c): part of the gap is that choice.
# Without a usable /dev/kvm it re-runs itself inside tools/nested-run.sh,
# where Mesa renders with softpipe (GALLIUM_DRIVER; llvmpipe's JIT is far
# too slow under TCG) and only the ratios mean anything.
#
# Usage: tools/bench-virgl.sh [-f FRAMES] [-d SCENE_SECONDS] [-s WxH] [-n ROUNDS]
#   defaults: 30 frames, 5 s a scene, 640x480, 1 round; with 2 or more
#   rounds the order alternates (A B B A ...) and medians are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
FRAMES=30 SCENE=5 SIZE=640x480 ROUNDS=1
while getopts f:d:s:n: o; do
    case $o in
        f) FRAMES=$OPTARG ;; d) SCENE=$OPTARG ;; s) SIZE=$OPTARG ;;
        n) ROUNDS=$OPTARG ;;
        *) echo "usage: $0 [-f FRAMES] [-d SCENE_SECONDS] [-s WxH] [-n ROUNDS]" >&2; exit 2 ;;
    esac
done
[[ $FRAMES =~ ^[0-9]+$ && $SCENE =~ ^[0-9]+$ && $ROUNDS =~ ^[1-9][0-9]*$ &&
   $SIZE =~ ^[0-9]+x[0-9]+$ ]] || { echo "bench-virgl: bad arguments" >&2; exit 2; }
MINIVMM=${MINIVMM:-$PWD/build/minivmm}
GUEST=${GUEST:-$PWD/build/guest}
IMG=${IMG:-$PWD/build/glguest/gl.ext4}
for f in "$MINIVMM" "$GUEST/vmlinuz" "$GUEST/initrd.img" "$IMG"; do
    [ -e "$f" ] || { echo "bench-virgl: $f missing (make, make guest, make glguest)" >&2; exit 1; }
done
if ! tools/kvm-usable.sh; then
    echo "bench-virgl: no usable /dev/kvm: running inside the nested VM" >&2
    exec tools/nested-run.sh --timeout 5400 -- "$0" "$@"
fi
if [ -n "${MINIVMM_NESTED:-}" ]; then
    export GALLIUM_DRIVER=${BENCH_GALLIUM_DRIVER:-softpipe}
elif [ -n "${BENCH_GALLIUM_DRIVER:-}" ]; then
    export GALLIUM_DRIVER=$BENCH_GALLIUM_DRIVER
fi
W=${SIZE%x*} H=${SIZE#*x}
T=$(mktemp -d)
xvfb_pid=
cleanup() {
    [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
LOGDIR=${BENCH_LOGS:-$PWD/build/bench/virgl}
mkdir -p "$LOGDIR"
VMTIMEOUT=${BENCH_VM_TIMEOUT:-1500}

# The guest's work: the same on both.
RUN="stdbuf -oL kmscube -c $FRAMES; echo bench-kmscube-status=\$?; glmark2-es2-drm --visual-config a=0 -b build:duration=$SCENE -b texture:duration=$SCENE -b shading:shading=phong:duration=$SCENE; echo bench-glmark2-status=\$?"
APPEND="minivmm_root=/dev/vda minivmm_run=\"$RUN\""

run_minivmm() {   # DISPLAY_KIND LOG
    timeout -k 5 "$VMTIMEOUT" "$MINIVMM" --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.img" \
        --mem 1G --gpu virgl --display "$1" --resolution "$SIZE" --disk "$IMG,ro" \
        --append "$APPEND" </dev/null >"$2" 2>&1 || true
}
QEMU=(qemu-system-x86_64 -M microvm,acpi=on -accel kvm -cpu host -m 1G -smp 1
      -nodefaults -no-user-config -no-reboot
      -global virtio-mmio.force-legacy=false
      -kernel "$GUEST/vmlinuz" -initrd "$GUEST/initrd.img"
      -drive "if=none,id=gl,file=$IMG,format=raw,readonly=on"
      -device virtio-blk-device,drive=gl
      -device "virtio-gpu-gl-device,xres=$W,yres=$H")
run_qemu() {      # LOG
    timeout -k 5 "$VMTIMEOUT" "${QEMU[@]}" "${QDISPLAY[@]}" -serial stdio \
        -append "console=ttyS0 panic=-1 $APPEND" </dev/null >"$1" 2>&1 || true
}

# Does QEMU start with egl-headless here (it wants a DRM render node)?
QDISPLAY=(-display egl-headless)
if probe=$(echo quit | timeout 60 "${QEMU[@]}" -display egl-headless -S \
               -monitor stdio -append console=ttyS0 2>&1); then
    QKIND=egl-headless
else
    why=$(grep -v '^QEMU\|^(qemu)' <<<"$probe" | grep -m1 . || true)
    echo "bench-virgl: QEMU -display egl-headless does not start here (${why:-no message}):"
    echo "bench-virgl: QEMU runs -display sdl,gl=on on a private Xvfb instead"
    QKIND=sdl
    QDISPLAY=(-display sdl,gl=on)
    command -v Xvfb >/dev/null || { echo "bench-virgl: needs Xvfb" >&2; exit 1; }
    Xvfb -displayfd 9 -screen 0 1280x1024x24 -nolisten tcp -noreset \
        9>"$T/display" >"$T/xvfb.log" 2>&1 &
    xvfb_pid=$!
    for _ in $(seq 1 150); do [ -s "$T/display" ] && break; sleep 0.2; done
    [ -s "$T/display" ] || { echo "bench-virgl: Xvfb did not start" >&2; exit 1; }
    export DISPLAY=:$(head -n1 "$T/display") SDL_VIDEODRIVER=x11
fi
echo "bench-virgl: ${SIZE}, kmscube -c $FRAMES, glmark2 build/texture/shading ${SCENE}s each," \
     "GALLIUM_DRIVER=${GALLIUM_DRIVER:-(default)}, QEMU display $QKIND, $ROUNDS round(s)"

# "KMSCUBE_FPS FRAMES SECONDS GLMARK2_SCORE MEAN_FPS BUILD_MS TEXTURE_MS
# SHADING_MS" from a console log, "-" for what is missing. At a frame or
# two a second glmark2's score (the mean of its scenes' whole FPS) is
# mostly 0 or 1, so the mean of 1000/FrameTime is given too.
parse() {
    local k g t
    k=$(grep -aoE 'Rendered [0-9]+ frames in [0-9.]+ sec \([0-9.]+ fps\)' "$1" | tail -n1 |
        awk '{gsub(/\(/, "", $7); print $7, $2, $5}' || true)
    g=$(grep -aoE 'glmark2 Score: [0-9]+' "$1" | awk '{print $3}' | tail -n1 || true)
    # Scene lines may be broken by kernel messages; FrameTime is not.
    t=$(grep -aoE 'FrameTime: [0-9.]+ ms' "$1" | awk '{print $2}' | head -n3 | tr '\n' ' ' || true)
    echo "${k:-- - -} ${g:--} $(awk -v t="$t" 'BEGIN {
        n = split(t, a, " "); s = 0
        for (i = 1; i <= n; i++) s += 1000 / a[i]
        printf "%s", n == 3 ? sprintf("%.3f", s / n) : "-"
        for (i = 1; i <= 3; i++) printf " %s", i <= n ? a[i] : "-" }')"
}

one() {           # NAME -> appends a parsed line to $T/NAME
    local name=$1 log=$LOGDIR/$1-$r.log t0
    t0=$(date +%s)
    case $name in
        minivmm) run_minivmm headless "$log" ;;
        minivmm-sdl) run_minivmm sdl "$log" ;;
        qemu) run_qemu "$log" ;;
    esac
    tr -d '\r' <"$log" >"$log.txt" && mv "$log.txt" "$log"
    echo "  round $r $name: $(parse "$log") ($(( $(date +%s) - t0 )) s, log $log)"
    parse "$log" >>"$T/$name"
}

VMS=(minivmm qemu)
[ "$QKIND" = sdl ] && VMS+=(minivmm-sdl)
for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then order=("${VMS[@]}")
    else order=(); for ((i = ${#VMS[@]} - 1; i >= 0; i--)); do order+=("${VMS[$i]}"); done; fi
    for v in "${order[@]}"; do one "$v"; done
done

# Medians per column (ignoring "-").
median() {        # FILE COLUMN
    awk -v c="$2" '$c != "-" {print $c}' "$1" | sort -g |
        awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]; else print "-"}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "-" && b != "-" && b > 0) printf "%.2f", a / b; else print "n/a" }'; }
row() {           # LABEL COLUMN
    local m q s
    m=$(median "$T/minivmm" "$2") q=$(median "$T/qemu" "$2")
    if [ "$QKIND" = sdl ]; then
        s=$(median "$T/minivmm-sdl" "$2")
        printf '%-26s %10s %10s %12s %10s %12s\n' "$1" "$m" "$s" "$q" "$(ratio "$m" "$q")" "$(ratio "$s" "$q")"
    else
        printf '%-26s %10s %12s %10s\n' "$1" "$m" "$q" "$(ratio "$m" "$q")"
    fi
}
echo
if [ "$QKIND" = sdl ]; then
    printf '%-26s %10s %10s %12s %10s %12s\n' "" "minivmm" "minivmm" "qemu" "ratio" "ratio"
    printf '%-26s %10s %10s %12s %10s %12s\n' "" "headless" "sdl" "sdl,gl=on" "headless/q" "sdl/q"
else
    printf '%-26s %10s %12s %10s\n' "" "minivmm" "qemu" "ratio"
    printf '%-26s %10s %12s %10s\n' "" "headless" "egl-headless" "minivmm/q"
fi
row "kmscube fps" 1
row "kmscube seconds" 3
row "glmark2 score" 4
row "glmark2 mean fps" 5
row "  build ms/frame" 6
row "  texture ms/frame" 7
row "  shading (phong) ms/frame" 8
echo "(higher is better except seconds and ms/frame; $ROUNDS round(s), medians; logs in $LOGDIR)"
