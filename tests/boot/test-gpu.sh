#!/bin/bash
# virtio-gpu 2D, headless: a DRM dumb-buffer test pattern drawn in the
# guest is what a screenshot through the control socket shows, pixel for
# pixel; keys sent through the socket reach the guest as evdev events; the
# console text is visible on a screenshot.
. "$(dirname "$0")/lib.sh"
PNGCHECK=${PNGCHECK:-$(dirname "$MINIVMM")/pngcheck}
CTL=/tmp/minivmm-gpu-test.sock	# unix sockets cannot live on the 9p share
GPU=(--gpu 2d --display headless --resolution 640x480 --control "$CTL")
BOOT_TIMEOUT=${GPU_BOOT_TIMEOUT:-400}	# these wait on the guest twice

# 1. The test pattern, pixel for pixel.
start_vm gpu-pattern "${GPU[@]}" --append "quiet minivmm_run=\"echo 0 > /sys/class/vtconsole/vtcon1/bind; mvtool pattern 600\""
if wait_for '^pattern [0-9]+x[0-9]+' 240; then
    sleep 1
    if "$MINIVMM" ctl "$CTL" screenshot "$LOGS/pattern.png" >"$LOGS/ctl.out" 2>&1 &&
       "$PNGCHECK" pattern "$LOGS/pattern.png" >"$LOGS/pngcheck.out" 2>&1 &&
       grep -q '^640x480' "$LOGS/pngcheck.out"; then
        pass gpu-screenshot-pattern
    else
        fail gpu-screenshot-pattern "$(cat "$LOGS/ctl.out" "$LOGS/pngcheck.out")"
    fi
    "$MINIVMM" ctl "$CTL" stop >/dev/null 2>&1
else
    fail gpu-screenshot-pattern "the guest did not draw the pattern"
    kill "$vm_pid" 2>/dev/null
fi
finish_vm
check gpu-ctl-stop 6 'pattern 640x480'

# 2. Keys through the control socket arrive as evdev events in the guest.
start_vm gpu-keys "${GPU[@]}" --append "quiet minivmm_run=\"mvtool keys 4\""
if wait_for '^reading /dev/input/event' 240; then
    "$MINIVMM" ctl "$CTL" key a >"$LOGS/ctl-keys.out" 2>&1
    wait_for '^key 30 0$' 60
    "$MINIVMM" ctl "$CTL" key enter >>"$LOGS/ctl-keys.out" 2>&1
fi
finish_vm
check gpu-key-events 0 '^key 30 1$' '^key 30 0$' '^key 28 1$' '^key 28 0$' || sed 's/^/    ctl: /' "$LOGS/ctl-keys.out"

# 3. The console's text on the virtio-gpu screen (fbcon).
start_vm gpu-console "${GPU[@]}" --append "minivmm_run=\"for i in 1 2 3 4 5 6; do echo console-text-on-screen > /dev/tty1; done; sleep 600\""
if wait_for 'minivmm-guest: userspace up' 240; then
    sleep 3
    "$MINIVMM" ctl "$CTL" screenshot "$LOGS/console.png" >"$LOGS/ctl.out" 2>&1
    if "$PNGCHECK" text "$LOGS/console.png" 2000 >"$LOGS/pngcheck.out" 2>&1; then
        pass gpu-console-text
    else
        fail gpu-console-text "$(cat "$LOGS/ctl.out" "$LOGS/pngcheck.out")"
    fi
    "$MINIVMM" ctl "$CTL" stop >/dev/null 2>&1
else
    fail gpu-console-text "no userspace"
    kill "$vm_pid" 2>/dev/null
fi
finish_vm
