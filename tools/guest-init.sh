#!/bin/sh
# /init of the default minivmm guest (busybox sh), built by tools/mkguest.sh.
#
# Switches come from the kernel command line: the kernel hands unknown
# key=value words to init as environment variables (names without dots).
#   minivmm_run="CMD"        run CMD with sh -c, print
#                            "minivmm-guest: exit status N", power off
#   minivmm_root=/dev/vda    mount it (ext4) and switch_root into it: its
#                            /sbin/init, or this same logic when minivmm_run
#                            is set or it has no /sbin/init
#   minivmm_console=hvc0     interactive shell on /dev/hvc0, not the console
# Without minivmm_run: an interactive shell (job control), power off on exit.
# PID 1 must never exit (that panics the kernel): everything ends in
# poweroff -f, which reaches the VMM through ACPI S5.

export PATH=/sbin:/bin:/usr/sbin:/usr/bin
export HOME=/root PS1='guest# '

say() { echo "minivmm-guest: $*"; }
off() { sync; poweroff -f; sleep 5; echo o >/proc/sysrq-trigger; }

# Second stage: re-run by ourselves after switch_root into minivmm_root,
# with busybox and this script kept in /dev (the only fs we carry along).
if [ -n "$minivmm_stage2" ]; then
    export PATH="$PATH:/dev/.minivmm/bin"
    cd /
    # The disk may be read-only (--disk IMG,ro): scratch space in tmpfs,
    # and caches (Mesa's shader cache) there too.
    mount -t tmpfs -o mode=1777 tmpfs /tmp 2>/dev/null
    if touch "$HOME/.minivmm-rw" 2>/dev/null; then
        rm -f "$HOME/.minivmm-rw"
    else
        export XDG_CACHE_HOME=/tmp/.cache
    fi
else
    mount -t proc proc /proc
    mount -t sysfs sysfs /sys
    mount -t devtmpfs devtmpfs /dev 2>/dev/null
    mkdir -p /dev/pts /dev/shm
    mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
    mount -t tmpfs -o mode=1777 tmpfs /dev/shm
    hostname -F /etc/hostname 2>/dev/null
    # pvpanic first, so a later panic reaches the VMM (port 0x505, QEMU0001).
    for m in pvpanic pvpanic_mmio pvpanic_pci crc32c_generic virtio_mmio \
             virtio_blk virtio_console virtio_rng virtio_input virtio_net \
             virtio-gpu evdev; do
        modprobe -q "$m" 2>/dev/null
    done
fi

if [ -z "$minivmm_stage2" ]; then
    say "userspace up"
else
    say "switched root to $minivmm_root"
fi

# minivmm_root: mount the disk and continue there.
if [ -n "$minivmm_root" ] && [ -z "$minivmm_stage2" ]; then
    modprobe -q ext4 2>/dev/null
    # virtio-blk may bind a moment after modprobe returns.
    i=0
    while [ ! -b "$minivmm_root" ] && [ $i -lt 50 ]; do
        sleep 0.1; i=$((i + 1))
    done
    mkdir -p /newroot
    if mount -t ext4 "$minivmm_root" /newroot; then
        for d in dev proc sys; do
            mkdir -p /newroot/$d 2>/dev/null
            mount --move /$d /newroot/$d
        done
        if [ -z "$minivmm_run" ] && [ -x /newroot/sbin/init ]; then
            exec switch_root /newroot /sbin/init
        fi
        # No init of its own (or a command to run): carry busybox and this
        # script over in /dev, switch, and run the same logic there.
        mkdir -p /newroot/dev/.minivmm/bin
        cp /bin/busybox /init /newroot/dev/.minivmm/
        /bin/busybox --install -s /newroot/dev/.minivmm/bin 2>/dev/null
        for a in /newroot/dev/.minivmm/bin/*; do
            ln -sf /dev/.minivmm/busybox "$a"
        done
        export minivmm_stage2=1
        exec switch_root /newroot /dev/.minivmm/busybox sh /dev/.minivmm/init
    fi
    echo "minivmm-guest: error: cannot mount $minivmm_root as ext4; dropping to a shell" >&2
fi

if [ -n "$minivmm_run" ]; then
    sh -c "$minivmm_run"
    say "exit status $?"
    off
fi

if [ -n "$minivmm_console" ]; then
    # The virtio-console port may appear a moment after modprobe.
    i=0
    while [ ! -c "/dev/$minivmm_console" ] && [ $i -lt 50 ]; do
        sleep 0.1; i=$((i + 1))
    done
    if [ ! -c "/dev/$minivmm_console" ]; then
        echo "minivmm-guest: error: no /dev/$minivmm_console; shell on the console" >&2
        minivmm_console=
    fi
fi
# busybox poweroff, halt and reboot without -f signal PID 1 (USR2, USR1,
# TERM): this script is PID 1, so it does what they ask.  The shell runs in
# the background and we `wait`, which a trapped signal interrupts.
trap 'off' USR2 USR1
trap 'sync; reboot -f' TERM
if [ -n "$minivmm_console" ]; then
    # Opening the tty as a new session leader makes it the controlling one.
    setsid sh -c "exec sh -i <>/dev/$minivmm_console >&0 2>&0" &
else
    # The explicit redirection: a background job's stdin is /dev/null.
    setsid cttyhack sh -i <>/dev/console >&0 2>&0 &
fi
wait $!
off
