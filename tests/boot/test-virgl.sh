#!/bin/bash
# virtio-gpu with virgl: the GL guest (tools/mkglguest.sh, `make glguest`)
# renders through the guest's Mesa virgl driver into minivmm's
# virglrenderer. kmscube draws a spinning cube: its GL_RENDERER is virgl's
# and it renders a bounded number of frames; screenshots through the control
# socket while it runs show a cube in the middle that moves between two
# of them; glmark2-es2-drm validates a scene.
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
if [ ! -f "$IMG" ]; then
    for t in kmscube screenshot-drawn screenshot-moving glmark2; do
        echo "SKIP boot:virgl-$t: no GL guest image $IMG (make glguest)"
    done
    exit 0
fi
export GALLIUM_DRIVER=${VIRGL_GALLIUM_DRIVER:-softpipe}
CTL=/tmp/minivmm-virgl.sock	# unix sockets cannot live on the 9p share
GPU=(--gpu virgl --display headless --resolution 640x480 --mem 1G
     --disk "$IMG,ro" --control "$CTL")
ROOTARG=minivmm_root=/dev/vda
# Nested, softpipe: ~30 s to userspace, ~1 frame/s; glmark2 ~130 s (QEMU).
BOOT_TIMEOUT=${VIRGL_TIMEOUT:-420}

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

# 1+2. kmscube -c 10 to its end; then a long kmscube, screenshotted twice
# with at least two frames (two of its reports, ~2 s apart) in between;
# then the control socket stops the VM (exit status 6).
rm -f "$LOGS"/virgl-cube-[ab].png "$LOGS/virgl-ctl.out"
start_vm virgl-kmscube "${GPU[@]}" --append "$ROOTARG minivmm_run=\"stdbuf -oL kmscube -c 10; echo kmscube-status=\$?; stdbuf -oL kmscube -c 100000\""
# (The kernel echoes its command line: match the status, not the command.)
if wait_for 'kmscube-status=[0-9]' 300 && wait_reports 'kmscube-status=[0-9]' 1 120; then
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

# 3. glmark2 validates one scene; alpha-less visual: the guest driver's
# primary plane takes XRGB8888 only.
boot virgl-glmark2 "${GPU[@]}" --append "$ROOTARG minivmm_run=\"glmark2-es2-drm --visual-config a=0 --validate -b build\""
check virgl-glmark2 0 'GL_RENDERER: +virgl' '\[build\].*Validation: Success' \
    'minivmm-guest: exit status 0'
