#!/bin/bash
# virtio-mmio devices found by the stock kernel through ACPI: virtio-blk
# (persistence, read-only, a large file's checksum, root on a disk),
# virtio-console (hvc0), virtio-rng (/dev/hwrng).
. "$(dirname "$0")/lib.sh"
IMG=$LOGS/img; rm -rf "$IMG"; mkdir -p "$IMG"

# Devices found through the DSDT alone (the stock kernel has no
# virtio_mmio.device= support).
truncate -s 1M "$IMG/small.img"
run_cmd virtio-found 'ls /sys/bus/virtio/devices; cat /sys/bus/virtio/devices/*/device' --disk "$IMG/small.img,ro"
check virtio-found 0 '^0x0002$' '^0x0004$'

# A file written and synced in one boot is there in the next, and on the
# host (debugfs reads the image without mounting it).
mkdir -p "$IMG/empty"
mke2fs -q -t ext4 -d "$IMG/empty" "$IMG/persist.ext4" 64M
run_cmd blk-write 'mount -t ext4 /dev/vda /mnt && echo persisted-$((6*7)) > /mnt/file && sync && umount /mnt && echo wrote-ok' \
    --disk "$IMG/persist.ext4"
check blk-write 0 '^wrote-ok'
run_cmd blk-readback 'mount -t ext4 -o ro /dev/vda /mnt && cat /mnt/file' --disk "$IMG/persist.ext4"
check blk-readback 0 '^persisted-42'
if debugfs -R 'cat /file' "$IMG/persist.ext4" 2>/dev/null | grep -q '^persisted-42'; then
    pass blk-host-sees-file
else
    fail blk-host-sees-file "debugfs does not find /file in the image"
fi
e2fsck -fn "$IMG/persist.ext4" >/dev/null 2>&1 && pass blk-fsck-clean || fail blk-fsck-clean "e2fsck -n reports problems"

# ro: the guest sees a read-only disk, writes fail, the image is unchanged.
before=$(sha256sum <"$IMG/persist.ext4")
run_cmd blk-ro 'cat /sys/block/vda/ro; dd if=/dev/zero of=/dev/vda bs=4096 count=1 conv=fsync && echo WRITE-SUCCEEDED || echo write-refused' \
    --disk "$IMG/persist.ext4,ro"
check blk-ro 0 '^1$' '^write-refused'
[ "$(sha256sum <"$IMG/persist.ext4")" = "$before" ] && pass blk-ro-unchanged || fail blk-ro-unchanged "image changed"

# A large file read back intact: 48 MiB of random data, checksum compared.
mkdir -p "$IMG/big"
head -c $((48 << 20)) /dev/urandom >"$IMG/big/blob"
want=$(sha256sum <"$IMG/big/blob" | cut -d' ' -f1)
mke2fs -q -t ext4 -d "$IMG/big" "$IMG/big.ext4" 96M
run_cmd blk-large 'mount -t ext4 -o ro /dev/vda /mnt && sha256sum /mnt/blob' --disk "$IMG/big.ext4,ro,serial=bigdisk" --mem 256M
check blk-large 0 "^$want "

# GET_ID: the serial reaches the guest.
run_cmd blk-serial 'cat /sys/block/vda/serial; echo' --disk "$IMG/big.ext4,ro,serial=bigdisk"
check blk-serial 0 '^bigdisk$'

# Root filesystem on a virtio-blk ext4 image made without root (mke2fs -d).
mkdir -p "$IMG/root/etc" "$IMG/root/mnt"
echo "root-on-virtio-blk" >"$IMG/root/etc/minivmm-root"
mke2fs -q -t ext4 -d "$IMG/root" "$IMG/root.ext4" 32M
run_cmd blk-rootfs "cat /etc/minivmm-root; mount | grep 'on / type'" --disk "$IMG/root.ext4" --append 'minivmm_root=/dev/vda'
check blk-rootfs 0 '^root-on-virtio-blk' '/dev/vda on / type ext4'

# hvc0: typed input reaches a shell on the virtio console, output returns.
printf 'echo hvc-typed-$((6*7)); tty\npoweroff -f\n' >"$LOGS/hvc-input"
BOOT_STDIN=$LOGS/hvc-input boot hvc0-shell --console virtio --append 'quiet minivmm_console=hvc0'
check hvc0-shell 0 '^hvc-typed-42' '^/dev/hvc0'

# virtio-rng: the guest's hwrng is ours and gives bytes.
run_cmd hwrng 'cat /sys/class/misc/hw_random/rng_current; head -c 4096 /dev/hwrng | wc -c'
check hwrng 0 'virtio_rng' '^ *4096$'
