#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target: tests/fuzz/corpus/<target>/seed-*.

A handful of small, valid inputs per target, encoded the way each harness
reads its input (see the comment at the top of tests/fuzz/fuzz_<target>.c
and the driver ops in fuzz_common.h), so fuzzing starts from requests that
get deep into the code.  Files named crash-* (regression inputs) are left
alone.  Run it again after changing an input format:

    tests/fuzz/mkcorpus.py
"""
import os
import struct
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))


def u8(v):
    return struct.pack("<B", v & 0xff)


def u16(v):
    return struct.pack("<H", v & 0xffff)


def u32(v):
    return struct.pack("<I", v & 0xffffffff)


def u64(v):
    return struct.pack("<Q", v & 0xffffffffffffffff)


def write(target, name, data):
    d = os.path.join(ROOT, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if f.startswith("seed-") and f == "seed-" + name:
            os.remove(os.path.join(d, f))
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


# ---- the fake driver (fuzz_common.h) --------------------------------------

EVENT_IDX, INDIRECT = 1, 2
# dr_op numbers
CHAIN, KICK, RESTART, MMIO_WRITE, MMIO_READ, POKE, PUBLISH_RAW, AVAIL_IDX, REAP = range(9)


def start(fb, devf, size_bytes):
    """dr_start: ring features, device features, one size byte per queue
    (size = 1 << (byte % (log2(queue_max) + 1)))."""
    return u8(fb) + u32(devf) + b"".join(u8(s) for s in size_bytes)


# ---- fuzz_virtqueue --------------------------------------------------------

def desc(addr, length, flags, nxt):
    return u64(addr) + u32(length) + u16(flags) + u16(nxt)


F_NEXT, F_WRITE, F_INDIRECT = 1, 2, 4


def vq_image(size, descs, heads, extra=None, used_event=0):
    """Desc table at 0, avail after it, used after that (as the harness
    lays them out), extra {gpa: bytes} anywhere."""
    mem = bytearray(0x1400)
    for i, d in enumerate(descs):
        mem[16 * i:16 * i + 16] = d
    avail = 16 * size
    mem[avail:avail + 2] = u16(0)
    mem[avail + 2:avail + 4] = u16(len(heads))
    for i, h in enumerate(heads):
        mem[avail + 4 + 2 * i:avail + 6 + 2 * i] = u16(h)
    mem[avail + 4 + 2 * size:avail + 6 + 2 * size] = u16(used_event)
    for gpa, data in (extra or {}).items():
        mem[gpa:gpa + len(data)] = data
    return bytes(mem)


def vq_input(size_sel, flags, ops, image):
    # Trailing zeroes are what the harness fills in anyway.
    return (u8(size_sel) + u8(flags) + u8(len(ops)) + b"".join(ops) + image).rstrip(b"\0")


def op(kind, a=0, b=0, c=0):
    return bytes([kind, a, b, c])


def virtqueue():
    # size 8 (2 << 2): a readable and a writable buffer
    write("virtqueue", "rw-chain", vq_input(2, 0, [], vq_image(8, [
        desc(0x1000, 16, F_NEXT, 1), desc(0x1100, 32, F_WRITE, 0)], [0])))
    # the same through an indirect table, EVENT_IDX too
    write("virtqueue", "indirect", vq_input(2, EVENT_IDX | INDIRECT,
        [op(0, 4, 8, 3), op(0), op(4), op(5)],
        vq_image(8, [desc(0x800, 48, F_INDIRECT, 0)], [0], {
            0x800: desc(0x1000, 16, F_NEXT, 1) + desc(0x1010, 16, F_NEXT, 2) +
            desc(0x1100, 64, F_WRITE, 0)})))
    # three chains, one pop kept in hand, pushes and notifies
    write("virtqueue", "three-chains", vq_input(3, EVENT_IDX,
        [op(1), op(2, 1, 4), op(0, 0, 255, 2), op(0, 0, 255, 3), op(4), op(7)],
        vq_image(16, [desc(0x1000, 8, F_NEXT, 1), desc(0x1100, 8, F_WRITE, 0),
                      desc(0x1200, 100, 0, 0),
                      desc(0x1300, 1, F_WRITE | F_NEXT, 4), desc(0x1301, 2, F_WRITE, 0)],
                 [0, 2, 3], used_event=1)))
    # a loop, a bad next and a readable buffer after a writable one
    write("virtqueue", "malformed", vq_input(1, 0,
        [op(0, 0, 0, 1), op(0, 0, 0, 1), op(0, 0, 0, 1), op(3, 1, 0, 0)],
        vq_image(4, [desc(0x1000, 8, F_NEXT, 0), desc(0x1000, 8, F_NEXT, 9),
                     desc(0x1000, 8, F_WRITE | F_NEXT, 3), desc(0x1010, 8, 0, 0)],
                 [0, 1, 2])))
    # a buffer across the end of region 0 (16 KiB) into region 1
    write("virtqueue", "straddle", vq_input(0, INDIRECT, [op(0), op(6, 2, 0, 9), op(0)],
        vq_image(2, [desc(0x3ff0, 32, 0, 0), desc(0x4000, 16, F_WRITE, 0)], [0, 1])))


# ---- fuzz_virtio_mmio ------------------------------------------------------

def mmio():
    DEV = 5  # run_op: op % 10 >= 5 is a driver op
    # virtio-rng: a full start, a writable buffer, a kick
    write("virtio_mmio", "rng", u8(0) +
          u8(DEV) + u8(RESTART) + start(0, 0, [3]) +
          u8(DEV) + u8(CHAIN) + u8(0) + u8(0) + u8(1) + u16(64) +
          u8(DEV) + u8(KICK) + u8(0))
    # the fake device: EVENT_IDX + INDIRECT, its own features, an echo
    # request on queue 1, a config write and read
    write("virtio_mmio", "fake", u8(1) +
          u8(DEV) + u8(RESTART) + start(EVENT_IDX | INDIRECT, 1 | 1 << 5, [4, 4, 4]) +
          u8(DEV) + u8(CHAIN) + u8(0x81) + u8(1) + u8(0) + u16(16) + b"0123456789abcdef" +
          u8(1) + u16(32) +
          u8(DEV) + u8(KICK) + u8(1) +
          u8(2) + u16(0x102) + u8(0x82) + b"\x11\x22\x33\x44\0\0\0\0" +
          u8(2) + u16(0x100) + u8(0x03) + b"\0" * 8)
    # register by register, as a driver would: ACKNOWLEDGE, DRIVER,
    # VERSION_1, FEATURES_OK, rings, QUEUE_READY, DRIVER_OK, a request
    STATUS, DFSEL, DF, READY = 15, 7, 6, 11
    nxt = u8(5) + u8(0)          # pick_value: the next status step
    write("virtio_mmio", "registers", u8(1) +
          u8(0) + u8(STATUS) + nxt + u8(0) + u8(STATUS) + nxt +
          u8(0) + u8(DFSEL) + u8(1 | 1 << 3) + u8(0) +   # value 1
          u8(0) + u8(DF) + u8(7) + u8(0) +               # 1 << 0
          u8(0) + u8(STATUS) + nxt +
          u8(4) + u8(0) + u8(3) +                        # rings for queue 0
          u8(0) + u8(READY) + u8(1 | 1 << 3) + u8(0) +
          u8(0) + u8(STATUS) + nxt +
          u8(DEV) + u8(CHAIN) + u8(1) + u8(0) + u8(0) + u16(8) + b"ABCDEFGH" + u8(1) + u16(8) +
          u8(DEV) + u8(KICK) + u8(0) +
          u8(3) + u8(13))                                # read INTERRUPT_STATUS


# ---- fuzz_virtio_blk -------------------------------------------------------

BLK_ALL = 0xffffffff


def blk_req(sel, layout, sector, body=b"", ioprio=0, generic=False, kick=True):
    """A request: sel is the type index (0-5), cut as Linux does unless
    generic (then as dr_request does), kicked unless kick is False."""
    return u8(0) + u8(sel | (8 if generic else 0) | (0 if kick else 0x10)) + u8(layout) + \
        u8(sector) + u8(ioprio) + body


def blk():
    IN, OUT, FLUSH, GET_ID, DISCARD, WZ = range(6)
    WAIT = u8(4)
    write("virtio_blk", "write-read", u8(0) + start(0, BLK_ALL, [4]) +
          blk_req(OUT, 0, 2, u8(2) + u8(0x5a)) +       # 1 KiB of 0x5a at sector 2
          WAIT +
          blk_req(IN, 2, 2, u8(2)) +                   # read it back in 3 pieces
          blk_req(IN, 0x21, 3, u8(1)) +                # status in the data descriptor
          WAIT)
    write("virtio_blk", "flush-getid", u8(0) + start(EVENT_IDX | INDIRECT, BLK_ALL, [3]) +
          blk_req(FLUSH, 0x10, 0, u8(0)) +
          blk_req(GET_ID, 0x30, 0, u8(20), generic=True) +
          u8(3) + WAIT)
    write("virtio_blk", "discard-zeroes", u8(2) + start(0, BLK_ALL, [4]) +
          blk_req(DISCARD, 0, 0, u8(1) + u8(4) + u8(8) + u8(0)) +
          blk_req(WZ, 0, 0, u8(1) + u8(16) + u8(8) + u8(1)) +
          blk_req(WZ, 0, 0, u8(1) + u8(32) + u8(200) + u8(0)) +   # zeroes written
          WAIT)
    write("virtio_blk", "read-only", u8(1) + start(0, BLK_ALL, [4]) +
          blk_req(OUT, 0, 0, u8(1) + u8(1)) +
          blk_req(IN, 0, 0, u8(8)) +
          blk_req(IN, 0, 0xfe, u8(8)) +                # past the end
          WAIT)
    write("virtio_blk", "many", u8(0) + start(EVENT_IDX, BLK_ALL, [4]) +
          b"".join(blk_req(OUT, i % 3, i, u8(1) + u8(i), generic=i > 3, kick=False) if i % 2 else
                   blk_req(IN, i % 3, i, u8(1), generic=i > 3, kick=i == 4) for i in range(6)) +
          WAIT)
    write("virtio_blk", "shrunk", u8(0) + start(0, BLK_ALL, [4]) +
          u8(5) + u16(1000) +                          # 1000 bytes shorter
          blk_req(IN, 1, 0xf8, u8(16)) +               # the last 8 KiB: short, then EOF
          WAIT)


# ---- fuzz_virtio_gpu -------------------------------------------------------

(CREATE, ATTACH, TRANSFER, SCANOUT, FLUSH_, UNREF, DETACH, DISPLAY_INFO, EDID,
 CAPSET_INFO, CTX_CREATE, BLOB) = range(12)


def ctrl(sel, body=b"", fl=0, layout=0, rk=0):
    return u8(0) + u8(sel) + u8(fl) + u8(layout) + u8(rk) + body


def rect(x, y, w, h):
    return u8(x) + u8(y) + u8(w) + u8(h)


def cursor(update, x, y, res, hx=0, hy=0):
    return u8(9) + u8(0 if update else 1) + u8(0) + u8(0) + u8(0) + u8(x) + u8(y) + \
        u8(res) + u8(hx) + u8(hy)


def gpu_res(res, fm, w, h):
    """Create w x h (each < 0xf0), back it with one entry, transfer it."""
    n = w * h * 4
    assert n % 256 == 0 and n // 256 < 256
    return (ctrl(CREATE, u8(fm) + u8(res) + u8(w) + u8(h)) +
            ctrl(ATTACH, u8(1) + u8(res) + u8(0) + u8(n // 256)) +
            ctrl(TRANSFER, rect(0, 0, w, h) + u8(0) + u8(res)))


def gpu():
    write("virtio_gpu", "scanout-cursor", u8(0x55) + u8(0) + start(0, 2, [4, 4]) +
          ctrl(DISPLAY_INFO, fl=1) + ctrl(EDID, u8(0)) +
          gpu_res(1, 1, 64, 64) +
          ctrl(SCANOUT, rect(0, 0, 64, 64) + u8(0) + u8(1)) +
          ctrl(FLUSH_, rect(8, 8, 16, 16) + u8(1)) +
          cursor(True, 10, 20, 1, 1, 2) + cursor(False, 30, 40, 0) +
          ctrl(DETACH, u8(1)) + ctrl(UNREF, u8(1)))
    write("virtio_gpu", "formats", u8(0x21) + u8(0) + start(EVENT_IDX | INDIRECT, 2, [5, 3]) +
          gpu_res(2, 4, 32, 16) + gpu_res(3, 7, 16, 16) +
          ctrl(TRANSFER, rect(4, 4, 8, 8) + u8(64) + u8(2), fl=1, layout=0x15) +
          ctrl(SCANOUT, rect(4, 0, 28, 16) + u8(0) + u8(2)) +
          ctrl(FLUSH_, rect(0, 0, 32, 16) + u8(2)) +
          ctrl(SCANOUT, rect(0, 0, 0, 0) + u8(0) + u8(0)) +
          ctrl(UNREF, u8(3)))
    write("virtio_gpu", "errors", u8(0) + u8(0) + start(0, 2, [4, 4]) +
          ctrl(CREATE, u8(1) + u8(0) + u8(16) + u8(16)) +        # id 0
          ctrl(CREATE, u8(8) + u8(1) + u8(16) + u8(16)) +        # format 0
          ctrl(ATTACH, u8(0) + u8(5)) +                          # no resource
          ctrl(CAPSET_INFO, u8(4) + b"\0" * 4) + ctrl(CTX_CREATE, u8(0)) +
          ctrl(DISPLAY_INFO, rk=0xe1) +                          # room too small
          u8(11) + u16(800) + u16(600))                          # resize
    write("virtio_gpu", "3d", u8(0x10) + u8(1) + start(0, 3, [4, 4]) +
          ctrl(CAPSET_INFO, u8(4) + b"\x02\0\0\0") +             # 32 bytes back
          ctrl(CTX_CREATE, u8(8) + b"\0" * 8) + ctrl(CTX_CREATE, u8(0)) +
          ctrl(BLOB, u8(0)) +                                     # not the 3D one's
          u8(12) + u8(RESTART) + start(0, 3, [4, 4]))             # reset


# ---- fuzz_virtio_input_console ----------------------------------------------

def input_console():
    cfg = lambda sel, sub: u8(0) + u8(0) + u8(sel) + u8(sub)
    evbufs = lambda n: u8(2) + u8(2) + u8(n - 1)
    press, release, syn = (lambda c: u8(12) + u8(c)), (lambda c: u8(6) + u8(c)), u8(3)
    write("virtio_input_console", "keyboard", u8(0) + start(0, 0, [3, 3]) +
          cfg(1, 0) + cfg(3, 0) + cfg(5, 1) + cfg(5, 0x14) +
          evbufs(4) +
          u8(5) + u8(3) + press(30) + syn + release(30) + syn +
          u8(4) + u8(0) + u8(0))                                 # an LED event
    write("virtio_input_console", "tablet", u8(1) + start(EVENT_IDX, 0, [4, 2]) +
          cfg(4, 0) + cfg(6, 0) + cfg(6, 1) + cfg(5, 3) +
          u8(5) + u8(5) + u8(2) + u16(1000) + u8(14) + u16(2000) + syn +
          press(0x10) + syn + release(0x10) +
          evbufs(8) + u8(5) + u8(0) + syn)
    write("virtio_input_console", "console", u8(2) + u8(0) + start(0, 1, [3, 3]) +
          u8(0) + u8(1) + u8(1) + u8(0) + u8(63) + u8(0x20) + u8(15) +   # 2 rx buffers
          u8(4) + u16(5) + b"hello" +
          u8(2) + u8(0) + u8(6) + b"world\n" + u8(0) +
          u8(6) + u16(100) + u16(30) +
          u8(7) + u8(0) + u8(0) + b"\0" * 8)
    write("virtio_input_console", "console-big", u8(2) + u8(1) + start(EVENT_IDX | INDIRECT, 1, [7, 7]) +
          u8(0) + u8(0x41) + u8(0) + u8(0x13) + u16(3000) +
          u8(4) + u16(40) + b"x" * 40 +
          u8(2) + u8(0x80) + u16(300) + b"y" * 300 + u8(0x12) +
          u8(9) +                                                 # drain the pipe
          u8(2) + u8(0x80) + u16(6000) + b"z" * 6000 + u8(0) +    # blocks: dropped
          u8(9))
    write("virtio_input_console", "console-epipe", u8(2) + u8(2) + start(0, 1, [3, 3]) +
          u8(2) + u8(0) + u8(6) + b"gone!\n" + u8(0) +
          u8(2) + u8(0) + u8(3) + b"ab\n" + u8(0x10))
    write("virtio_input_console", "keyboard-flood", u8(0) + start(0, 0, [3, 3]) +
          evbufs(4) +
          u8(9) + u16(600) + u8(0) + u8(30) +                     # no SYN at all
          u8(9) + u16(650) + u8(3) + u8(30) +                     # groups of three
          evbufs(8))


# ---- fuzz_bzimage ----------------------------------------------------------

def bzimage_bytes(payload, version=0x020f, relocatable=1, cmdline_len16=2,
                  setup_sects=8):
    setup = (setup_sects + 1) * 512
    img = bytearray(setup + payload)
    img[0x1ef] = cmdline_len16
    img[0x1f1] = setup_sects
    img[0x1f4:0x1f8] = u32((payload + 15) // 16)
    img[0x1fe:0x200] = u16(0xaa55)
    img[0x200] = 0xeb
    img[0x201] = 0x26c - 0x202
    img[0x202:0x206] = b"HdrS"
    img[0x206:0x208] = u16(version)
    img[0x211] = 1
    img[0x214:0x218] = u32(0x100000)
    img[0x22c:0x230] = u32(0x7fffffff)
    img[0x230:0x234] = u32(0x200000)
    img[0x234] = relocatable
    img[0x236:0x238] = u16(3)
    img[0x238:0x23c] = u32(2047)
    img[0x258:0x260] = u64(0x1000000)
    img[0x260:0x264] = u32(0x400000)
    for i in range(payload):
        img[setup + i] = (i * 7 + 3) & 0xff
    return bytes(img)


def bzimage():
    write("bzimage", "plain", bzimage_bytes(4096))
    write("bzimage", "initrd", bzimage_bytes(4097))       # odd: second half is an initrd
    write("bzimage", "protocol-2.12", bzimage_bytes(2000, version=0x020c, relocatable=0,
                                                    cmdline_len16=0, setup_sects=1))
    write("bzimage", "long-cmdline", bzimage_bytes(1025, cmdline_len16=200, setup_sects=4))


# ---- fuzz_control_proto -----------------------------------------------------

def control(lines, w=1024, h=768, flags=0, pending=0, cap=16):
    return u16(w) + u16(h) + u8(flags) + u8(pending) + u8(cap) + u8(0) + "\n".join(lines).encode()


def control_proto():
    write("control_proto", "all", control([
        "ping", "stop", "screenshot /tmp/shot.png", "key ctrl+alt+f2", "key ctrl++",
        "key shift+!", "type Hello, World!", "pointer 100 200 click", "pointer 1023 767"]))
    write("control_proto", "errors", control([
        "ping extra", "pointer 1024 0", "key a+b+c+d+e+f+g+h+i", "key ctrl+", "screenshot rel",
        "type caf\u00e9", "bogus", "key \u00e9"], flags=0x10, cap=2))
    write("control_proto", "slow-keyboard", control(["type abc", "key enter"], flags=0x40))
    write("control_proto", "no-hooks", control(["key a", "pointer 1 1", "screenshot /x", "stop"],
                                               w=0, h=0, flags=0x2f, pending=0xaa))
    write("control_proto", "paced", control(["type The quick brown fox {}|~", "pointer 0 0"],
                                            w=16384, h=1, pending=0x5a, cap=255))


# ---- fuzz_pio ----------------------------------------------------------------

def com1(reg, value=None):
    """Op 4: a byte access to COM1 + reg; a write when value is given."""
    return u8(4) + u8(reg << 5) + u8(4 if value is not None else 0) + \
        u8(value or 0) + b"\0" * 7


def port(index, value=None, size=0):
    """Op 0: an access of 1 << size bytes to ports[index] (fuzz_pio.c)."""
    return u8(0) + u8(index) + u8(size | (4 if value is not None else 0)) + \
        u64(value or 0)


def pio():
    THR, IER, IIR, LCR, MCR, LSR = 0, 1, 2, 3, 4, 5
    linux = (com1(LCR, 0x80) + com1(THR, 1) + com1(IER, 0) + com1(LCR, 3) +
             com1(IIR, 0xc7) + com1(MCR, 0x0b) + com1(IER, 0x0f))
    write("pio", "uart", u8(0) + linux +
          b"".join(com1(THR, c) for c in b"hi\n") + com1(IIR) + com1(LSR) +
          u8(5) + u8(2) + b"ok" + com1(LSR) + com1(THR) + com1(THR) + com1(IIR) + u8(6))
    write("pio", "loopback-pipe", u8(1) + linux + com1(MCR, 0x1b) +
          b"".join(com1(THR, c) for c in b"loop") + com1(THR) +
          com1(MCR, 0x0b) + b"".join(com1(THR, 0x41) for _ in range(70)) +
          u8(5) + u8(100) + b"x" * 100 + u8(6))
    write("pio", "platform", u8(0) + port(0) + port(0, 1, 2) + port(14) +
          port(10) + port(10, 0x34) + port(11, 0x42) + port(14, 0xfe) + port(16) +
          port(16, 1) + port(17, 1, 1))


def main():
    for gen in (virtqueue, mmio, blk, gpu, input_console, bzimage, control_proto, pio):
        gen()
    return 0


if __name__ == "__main__":
    sys.exit(main())
