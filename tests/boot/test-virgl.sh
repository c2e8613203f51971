#!/bin/bash
# virtio-gpu with virgl: the GL guest (tools/mkglguest.sh, `make glguest`)
# renders through the guest's Mesa virgl driver into minivmm's
# virglrenderer.
#  1. Headless: a hostile guest first (mvtool gpufuzz: SUBMIT_3D garbage,
#     mutated streams, foreign and made-up resource handles, transfers
#     outside a resource) while a second context keeps rendering; then, in
#     the same boot, kmscube draws a spinning cube: its GL_RENDERER is
#     virgl's and it renders a bounded number of frames; screenshots
#     through the control socket while it runs show a cube in the middle
#     that moves between two of them.
#  2. glmark2-es2-drm validates a scene.
#  3. In an SDL window on Xvfb: mvtool's test pattern (a DRM dumb buffer,
#     a virgl resource here) is what the window shows, pixel for pixel and
#     the right way up; then kmscube's cube appears in the window and
#     moves, and the window shows what a screenshot of the same frame does.
#
# The host side of virgl renders with Mesa's softpipe (GALLIUM_DRIVER):
# inside the nested VM llvmpipe's shader JIT is far too slow under TCG
# (docs: nested-kvm.md, "GL inside the nested VM"). VIRGL_GALLIUM_DRIVER
# overrides it. The guest is booted without `quiet` (nested virgl guests
# stalled with it) at 640x480, and the checks count frames, not speed.
. "$(dirname "$0")/lib.sh"
PNGCHECK=${PNGCHECK:-$(dirname "$MINIVMM")/pngcheck}
GUEST_GL=${GUEST_GL:-$(dirname "$GUEST")/glguest}
IMG=$GUEST_GL/gl.ext4
TESTS=(gpufuzz kmscube screenshot-drawn screenshot-moving glmark2
       sdl-pattern sdl-cube-drawn sdl-cube-moving sdl-same-as-screenshot sdl)
if [ ! -f "$IMG" ]; then
    for t in "${TESTS[@]}"; do
        echo "SKIP boot:virgl-$t: no GL guest image $IMG (make glguest)"
    done
    exit 0
fi
export GALLIUM_DRIVER=${VIRGL_GALLIUM_DRIVER:-softpipe}
CTL=/tmp/minivmm-virgl.sock	# unix sockets cannot live on the 9p share
VM=(--gpu virgl --resolution 640x480 --mem 1G --disk "$IMG,ro" --control "$CTL")
GPU=("${VM[@]}" --display headless)
ROOTARG=minivmm_root=/dev/vda
# Nested, softpipe: ~30 s to userspace, ~1 frame/s; glmark2 ~130 s (QEMU).
BOOT_TIMEOUT=${VIRGL_TIMEOUT:-420}
# Seed and length of the hostile guest's run (mvtool gpufuzz).
FUZZ_SEED=${VIRGL_FUZZ_SEED:-1} FUZZ_OPS=${VIRGL_FUZZ_OPS:-300}

# The GL image mounted by the initramfs' own shell rather than through
# minivmm_root (whose switch_root would leave mvtool behind): GLMOUNT
# mounts it on /gl, "$GLRUN CMD" runs CMD inside.  (Text for the guest's
# sh: $ is the guest's.)
GLMOUNT='modprobe ext4; i=0; while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done; mkdir -p /gl && mount -t ext4 -o ro /dev/vda /gl && for d in dev proc sys; do mount --bind /$d /gl/$d; done; mount -t tmpfs tmpfs /gl/tmp'
GLRUN='chroot /gl /usr/bin/env HOME=/tmp XDG_CACHE_HOME=/tmp'

# The frame count of kmscube's last "Rendered N frames" report after the
# line matching $1, and how many such reports there are ("COUNT REPORTS").
frames_after() {
    sed -n "/$1/,\$p" "$out" 2>/dev/null | grep -aoE 'Rendered [0-9]+ frames' |
        awk '{n = $2; r++} END {print n + 0, r + 0}'
}
# wait_reports MARKER N SECONDS: until at least N reports follow MARKER.
wait_reports() {
    local i r
    for i in $(seq 1 $(($3 * 5))); do
        r=$(frames_after "$1" | cut -d' ' -f2)
        [ "$r" -ge "$2" ] && return 0
        kill -0 "$vm_pid" 2>/dev/null || return 1
        sleep 0.2
    done
    return 1
}
shot() {
    "$MINIVMM" ctl "$CTL" screenshot "$1" >>"$LOGS/virgl-ctl.out" 2>&1
}

# 1. The hostile guest, then kmscube -c 10 to its end; then a long
# kmscube, screenshotted twice with at least two frames (two of its
# reports, ~2 s apart) in between; then the control socket stops the VM
# (exit status 6: minivmm kept running through all of it).
rm -f "$LOGS"/virgl-cube-[ab].png "$LOGS/virgl-ctl.out"
start_vm virgl-kmscube "${GPU[@]}" --append "minivmm_run=\"$GLMOUNT; mvtool gpufuzz $FUZZ_SEED $FUZZ_OPS; echo gpufuzz-status=\$?; $GLRUN stdbuf -oL kmscube -c 10; echo kmscube-status=\$?; $GLRUN stdbuf -oL kmscube -c 100000\""
# (The kernel echoes its command line: match the status, not the command.)
if wait_for 'kmscube-status=[0-9]' 600 && wait_reports 'kmscube-status=[0-9]' 1 120; then
    sleep 1
    shot "$LOGS/virgl-cube-a.png"
    n=$(frames_after 'kmscube-status=[0-9]' | cut -d' ' -f2)
    if wait_reports 'kmscube-status=[0-9]' $((n + 2)) 120; then
        shot "$LOGS/virgl-cube-b.png"
    fi
    "$MINIVMM" ctl "$CTL" stop >/dev/null 2>&1
else
    kill "$vm_pid" 2>/dev/null
fi
finish_vm
check virgl-gpufuzz 6 "gpufuzz: seed $FUZZ_SEED, $FUZZ_OPS operations" \
    "gpufuzz: $FUZZ_OPS operations: .* the kept context renders" \
    'gpufuzz: done: a fresh context renders' 'gpufuzz-status=0'
check virgl-kmscube 6 'renderer: "virgl' 'Rendered [0-9]+ frames' 'kmscube-status=0'
a=$LOGS/virgl-cube-a.png b=$LOGS/virgl-cube-b.png
if [ ! -f "$a" ] || [ ! -f "$b" ]; then
    why="no screenshots: $(tail -n 3 "$LOGS/virgl-ctl.out" 2>/dev/null)"
    fail virgl-screenshot-drawn "$why"
    fail virgl-screenshot-moving "$why"
else
    # A cube in the middle of both, on a 640x480 scanout.
    if "$PNGCHECK" center "$a" 2000 >"$LOGS/virgl-pngcheck.out" 2>&1 &&
       "$PNGCHECK" center "$b" 2000 >>"$LOGS/virgl-pngcheck.out" 2>&1 &&
       [ "$(grep -c '^640x480:' "$LOGS/virgl-pngcheck.out")" -eq 2 ]; then
        pass virgl-screenshot-drawn
    else
        fail virgl-screenshot-drawn "$(cat "$LOGS/virgl-pngcheck.out")"
    fi
    if "$PNGCHECK" differ "$a" "$b" 500 >"$LOGS/virgl-pngcheck.out" 2>&1; then
        pass virgl-screenshot-moving
    else
        fail virgl-screenshot-moving "$(cat "$LOGS/virgl-pngcheck.out")"
    fi
fi

# 2. glmark2 validates one scene; alpha-less visual: the guest driver's
# primary plane takes XRGB8888 only.
boot virgl-glmark2 "${GPU[@]}" --append "$ROOTARG minivmm_run=\"glmark2-es2-drm --visual-config a=0 --validate -b build\""
check virgl-glmark2 0 'GL_RENDERER: +virgl' '\[build\].*Validation: Success' \
    'minivmm-guest: exit status 0'

# 3. The SDL window, on a private Xvfb.
SDL_TESTS=(sdl-pattern sdl-cube-drawn sdl-cube-moving sdl-same-as-screenshot sdl)
skip_sdl() {
    local t
    for t in "${SDL_TESTS[@]}"; do echo "SKIP boot:virgl-$t: $1"; done
}
# xwd2png turns the window dumps into PNGs for pngcheck; built here from
# tests/tools/xwd2png.c when missing or older than its source.
SRC=$(cd "$(dirname "$MINIVMM")/.." && pwd)/tests/tools/xwd2png.c
XWD2PNG=$(dirname "$MINIVMM")/xwd2png
if [ -f "$SRC" ] && { [ ! -x "$XWD2PNG" ] || [ "$SRC" -nt "$XWD2PNG" ]; }; then
    ${CC:-cc} -O2 -std=c11 -Wall -Wextra -Werror -o "$XWD2PNG.tmp" "$SRC" -lpng &&
        mv "$XWD2PNG.tmp" "$XWD2PNG"
fi
TITLE=minivmm-virgl-sdl
# grab FILE.png: the window as X shows it (xwd of the window by its
# title), as a PNG; prints its size.
grab() {
    xwd -silent -name "$TITLE" -out "${1%.png}.xwd" 2>>"$LOGS/virgl-sdl-grab.out" &&
        "$XWD2PNG" "${1%.png}.xwd" "$1" 2>>"$LOGS/virgl-sdl-grab.out"
}
# How many pixels differ between two PNGs ("" when they cannot be
# compared).
ndiff() {
    "$PNGCHECK" differ "$1" "$2" 0 2>/dev/null | sed -n 's/.*: \([0-9]*\) pixels differ.*/\1/p'
}
if ! command -v Xvfb >/dev/null || ! command -v xwd >/dev/null; then
    skip_sdl "needs Xvfb and xwd (packages xvfb, x11-apps)"
elif [ ! -x "$XWD2PNG" ]; then
    skip_sdl "cannot build $XWD2PNG"
else
    rm -f "$LOGS"/virgl-sdl-* "$LOGS/virgl-ctl.out"
    # Xvfb picks a free display and writes its number once it accepts
    # clients.
    Xvfb -displayfd 9 -screen 0 1024x768x24 -nolisten tcp -noreset \
        9>"$LOGS/virgl-sdl-xvfb.display" >"$LOGS/virgl-sdl-xvfb.log" 2>&1 &
    xvfb_pid=$!
    for i in $(seq 1 150); do
        [ -s "$LOGS/virgl-sdl-xvfb.display" ] && break
        kill -0 $xvfb_pid 2>/dev/null || break
        sleep 0.2
    done
    if [ ! -s "$LOGS/virgl-sdl-xvfb.display" ]; then
        for t in "${SDL_TESTS[@]}"; do
            fail virgl-$t "Xvfb did not start: $(tail -n 3 "$LOGS/virgl-sdl-xvfb.log")"
        done
    else
        export DISPLAY=:$(head -n1 "$LOGS/virgl-sdl-xvfb.display") SDL_VIDEODRIVER=x11
        # The pattern until a key (a) arrives; then the GL image's
        # kmscube until a second key (b) stops it (SIGSTOP) on a frame,
        # which stays on the screen.
        start_vm virgl-sdl "${VM[@]}" --display sdl --name "$TITLE" --append "minivmm_run=\"echo 0 > /sys/class/vtconsole/vtcon1/bind; mvtool pattern 900 & mvtool keys 1; kill \$!; wait; $GLMOUNT; $GLRUN stdbuf -oL kmscube -c 100000 </dev/console & k=\$!; mvtool keys 1; kill -STOP \$k; echo kmscube-stopped; sleep 900\""
        P=$LOGS/virgl-sdl-pattern.png A=$LOGS/virgl-sdl-cube-a.png B=$LOGS/virgl-sdl-cube-b.png
        S=$LOGS/virgl-sdl-shot.png X=$LOGS/virgl-sdl-grab.png
        settled="" pattern_s="" d="" a_ok=""
        # The window follows the guest's frames a little behind: with
        # software GL (nested: softpipe under TCG) drawing the window's
        # texture takes a while. So each check waits for the window to
        # show what is now still on the guest's screen.
        if wait_for '^pattern [0-9]+x[0-9]+' 300 && wait_for '^reading /dev/input' 60; then
            t0=$(date +%s)
            for i in $(seq 1 120); do
                if grab "$P" && "$PNGCHECK" pattern "$P" >"$LOGS/virgl-sdl-pngcheck.out" 2>&1; then
                    pattern_s=$(( $(date +%s) - t0 )); break
                fi
                sleep 1
            done
            "$MINIVMM" ctl "$CTL" key a >>"$LOGS/virgl-ctl.out" 2>&1
            # The cube while it turns, then stopped after two more of
            # kmscube's reports (~2 s apart).
            if wait_reports '^key 30 1' 2 240; then
                # A cube frame in the window (not the pattern any more).
                for i in $(seq 1 60); do
                    grab "$A" && "$PNGCHECK" center "$A" 2000 >/dev/null 2>&1 &&
                        "$PNGCHECK" differ "$A" "$P" 100000 >/dev/null 2>&1 && { a_ok=1; break; }
                    sleep 1
                done
                n=$(frames_after '^key 30 1' | cut -d' ' -f2)
                wait_reports '^key 30 1' $((n + 2)) 120
                "$MINIVMM" ctl "$CTL" key b >>"$LOGS/virgl-ctl.out" 2>&1
                if wait_for '^kmscube-stopped' 120; then
                    # The guest's screen still: two screenshots 2 s apart
                    # the same; then the window must come to show it.
                    for i in $(seq 1 30); do
                        shot "$S"; sleep 2; shot "$X"
                        [ "$(ndiff "$S" "$X")" = 0 ] && break
                    done
                    t0=$(date +%s)
                    for i in $(seq 1 120); do
                        grab "$B" || { sleep 1; continue; }
                        d=$(ndiff "$B" "$S")
                        if [ "$d" = 0 ]; then
                            settled=$(( $(date +%s) - t0 )); break
                        fi
                        sleep 1
                    done
                fi
            fi
            "$MINIVMM" ctl "$CTL" stop >/dev/null 2>&1
        else
            kill "$vm_pid" 2>/dev/null
        fi
        finish_vm
        kill $xvfb_pid 2>/dev/null; wait $xvfb_pid 2>/dev/null
        # The pattern (a virgl resource read back for the window), pixel
        # for pixel and the right way up.
        if [ -n "$pattern_s" ] && grep -q '^640x480:' "$LOGS/virgl-sdl-pngcheck.out"; then
            pass virgl-sdl-pattern
            echo "   (the window showed it ${pattern_s}s after the guest drew it)"
        else
            fail virgl-sdl-pattern "$(cat "$LOGS/virgl-sdl-grab.out" "$LOGS/virgl-sdl-pngcheck.out" 2>/dev/null)"
        fi
        if [ ! -f "$A" ] || [ ! -f "$B" ]; then
            why="no window dumps of kmscube: $(tail -n 3 "$LOGS/virgl-sdl-grab.out" 2>/dev/null)"
            fail virgl-sdl-cube-drawn "$why"
            fail virgl-sdl-cube-moving "$why"
            fail virgl-sdl-same-as-screenshot "$why"
        else
            # A cube in the middle of the stopped frame; the turning one
            # dumped earlier was another frame.
            if "$PNGCHECK" center "$B" 2000 >"$LOGS/virgl-sdl-pngcheck.out" 2>&1 &&
               grep -q '^640x480:' "$LOGS/virgl-sdl-pngcheck.out"; then
                pass virgl-sdl-cube-drawn
            else
                fail virgl-sdl-cube-drawn "$(cat "$LOGS/virgl-sdl-pngcheck.out")"
            fi
            if [ -z "$a_ok" ]; then
                fail virgl-sdl-cube-moving "no cube in the window while kmscube turned it"
            elif "$PNGCHECK" differ "$A" "$B" 500 >"$LOGS/virgl-sdl-pngcheck.out" 2>&1; then
                pass virgl-sdl-cube-moving
            else
                fail virgl-sdl-cube-moving "$(cat "$LOGS/virgl-sdl-pngcheck.out")"
            fi
            # The window shows the GL frame as a screenshot does: the same
            # pixels, the same way up.
            if [ -n "$settled" ]; then
                pass virgl-sdl-same-as-screenshot
                echo "   (the window showed the stopped frame ${settled}s after the screenshot)"
            else
                fail virgl-sdl-same-as-screenshot "the window never showed the stopped frame's screenshot; last dump: ${d:-?} pixels differ"
            fi
        fi
        check virgl-sdl 6 'pattern 640x480' '^key 30 1' 'renderer: "virgl' 'Rendered [0-9]+ frames' '^key 48 1' '^kmscube-stopped'
    fi
fi
