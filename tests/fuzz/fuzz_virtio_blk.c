/* fuzz_virtio_blk: virtio-blk requests (devices/virtio/blk.c) from a
 * negotiated driver whose request chains come from the input, against
 * three 64 KiB temporary images (writable, read-only, writable on tmpfs)
 * created once, with real io_uring I/O completed by polling
 * virtio_poll_ready.
 *
 * blk.c is compiled into this file so the harness can see what is in
 * flight and check every I/O before the kernel does it: the kernel's
 * reads and writes into guest RAM are invisible to ASan, so each iovec
 * must lie inside guest memory, each offset range inside the image,
 * and nothing may be written to a read-only disk.  A read that completes
 * OK while nothing could change the image must return the image's bytes
 * (check_read).
 *
 * Input: [0] % 3 picks the disk (writable, read-only, writable on tmpfs
 * where fallocate cannot zero ranges); then the driver's start
 * (fuzz_common.h dr_start), then ops (op byte % 13): 0-2 a request
 * (type, sector, length, descriptor layout from the input), 3 one poll,
 * 4 wait for everything in flight, 5 shrink the image behind the
 * device's back (short reads and writes; restored after the run), the
 * rest the generic driver ops.  At the end
 * everything in flight is completed and the device reset, so no I/O
 * outlives the guest memory it points into.
 */
#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fuzz_common.h"

static struct driver dr;
static const struct virtio_blk *cur;	/* the disk in use */

static void check_rw(int fd, const struct iovec *iov, unsigned nr,
		     uint64_t off, int write);

/* ---- every I/O checked before it is queued ---------------------------- */

static inline void fz_prep_readv(struct io_uring_sqe *sqe, int fd,
				 const struct iovec *iov, unsigned nr,
				 __u64 off)
{
	check_rw(fd, iov, nr, off, 0);
	io_uring_prep_readv(sqe, fd, iov, nr, off);
}

static inline void fz_prep_writev(struct io_uring_sqe *sqe, int fd,
				  const struct iovec *iov, unsigned nr,
				  __u64 off)
{
	check_rw(fd, iov, nr, off, 1);
	io_uring_prep_writev(sqe, fd, iov, nr, off);
}

static void check_span(int fd, uint64_t off, uint64_t len, int write);

static inline void fz_prep_fallocate(struct io_uring_sqe *sqe, int fd,
				     int mode, off_t off, off_t len)
{
	FZ_CHECK(off >= 0 && len > 0);
	check_span(fd, (uint64_t)off, (uint64_t)len, 1);
	io_uring_prep_fallocate(sqe, fd, mode, off, len);
}

static inline void fz_prep_write(struct io_uring_sqe *sqe, int fd,
				 const void *buf, unsigned n, __u64 off);

#define io_uring_prep_readv	fz_prep_readv
#define io_uring_prep_writev	fz_prep_writev
#define io_uring_prep_fallocate	fz_prep_fallocate
#define io_uring_prep_write	fz_prep_write
#include "blk.c"
#undef io_uring_prep_write

static inline void fz_prep_write(struct io_uring_sqe *sqe, int fd,
				 const void *buf, unsigned n, __u64 off)
{
	/* Only the zeroes for WRITE_ZEROES go through a plain write. */
	FZ_CHECK(buf == zeroes && n > 0 && n <= sizeof(zeroes));
	check_span(fd, off, n, 1);
	io_uring_prep_write(sqe, fd, buf, n, off);
}

static void check_span(int fd, uint64_t off, uint64_t len, int write)
{
	FZ_CHECK(cur && fd == cur->fd);
	FZ_CHECK(off <= cur->size && len <= cur->size - off);
	FZ_CHECK(!(write && cur->ro));
}

static void check_rw(int fd, const struct iovec *iov, unsigned nr,
		     uint64_t off, int write)
{
	uint64_t total = 0;

	FZ_CHECK(nr >= 1 && nr <= VIRTQ_MAX_SIZE);
	for (unsigned i = 0; i < nr; i++) {
		FZ_CHECK(iov[i].iov_len > 0);
		FZ_CHECK(dr_host_in_guest(&dr, iov[i].iov_base, iov[i].iov_len));
		total += iov[i].iov_len;
	}
	check_span(fd, off, total, write);
}

/* ---- the disks ---------------------------------------------------------- */

#define IMAGE_SIZE (64u << 10)

/* 0: writable, in /tmp; 1: read-only; 2: writable on tmpfs, where
 * fallocate cannot zero a range and WRITE_ZEROES falls back to writes. */
#define NR_DISKS 3
static struct virtio_blk *disk[NR_DISKS];
static struct virtio_dev dev[NR_DISKS];
static int resize_fd[NR_DISKS];	/* the same file, writable, to shrink it */

static struct virtio_blk *open_image(int i)
{
	struct virtio_blk_opts o = { .ro = i == 1 };
	const char *dir = i == 2 && !access("/dev/shm", W_OK) ? "/dev/shm" : "/tmp";
	char err[512];
	struct virtio_blk *b;
	int fd;

	snprintf(o.path, sizeof(o.path), "%s/minivmm-fuzz-blk-XXXXXX", dir);
	fd = mkstemp(o.path);
	if (fd < 0 || ftruncate(fd, IMAGE_SIZE) < 0) {
		perror("fuzz_virtio_blk: temporary image");
		exit(1);
	}
	resize_fd[i] = fd;
	snprintf(o.serial, sizeof(o.serial), o.ro ? "fuzz-ro" : "fuzz-serial-0123456");
	b = virtio_blk_open(&o, err, sizeof(err));
	unlink(o.path);		/* the open fd keeps it */
	if (!b) {
		fprintf(stderr, "fuzz_virtio_blk: %s\n", err);
		exit(1);
	}
	return b;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	for (int i = 0; i < NR_DISKS; i++) {
		disk[i] = open_image(i);
		/* dev.mem points at dr.m.gm, refilled every run. */
		virtio_dev_init(&dev[i], &virtio_blk_ops, disk[i], &dr.m.gm, NULL);
	}
	return 0;
}

/* ---- completions ---------------------------------------------------------- */

static void check_slots(const struct virtio_blk *b)
{
	FZ_CHECK(b->inflight <= VIRTQ_MAX_SIZE);
	FZ_CHECK(b->nr_free + b->inflight == VIRTQ_MAX_SIZE);
}

/* Completes everything in flight (the device may start more chains as
 * slots free up); a request that never completes is a hang. */
static void wait_all(struct virtio_dev *d, struct virtio_blk *b)
{
	unsigned idle = 0;

	while (b->inflight) {
		struct pollfd p = { .fd = b->efd, .events = POLLIN };
		int r = poll(&p, 1, 100);

		if (r == 0) {
			FZ_CHECK(++idle < 100);	/* 10 s: stuck */
			/* Submission may have failed for want of SQEs:
			 * the device retries on the next poll. */
		} else {
			idle = 0;
		}
		virtio_poll_ready(d);
		check_slots(b);
		dr_reap_all(&dr);
	}
}

/* ---- what reads return ----------------------------------------------------- */

/* A read that completes OK must have put the image's bytes into the
 * guest's buffers, in order.  Checked when nothing could have changed the
 * image meanwhile: no write, discard or write-zeroes (nor a chain the
 * harness cannot classify) in flight from the read's start to its
 * completion, no shrinking, no reset. */
static int cur_disk;
static unsigned epoch;		/* bumped by anything that may change the image */
static unsigned writes_inflight;
static int unknown;		/* chains of unknown kind may be in flight */
static struct {
	enum { REC_NONE, REC_READ, REC_WRITE } kind;
	unsigned epoch;
	uint64_t off, len;
} rec[VIRTQ_MAX_SIZE];

static void track(int head, uint32_t type, uint64_t sector, uint64_t len)
{
	if (head < 0)
		return;
	rec[head].kind = REC_NONE;
	switch (type) {
	case VIRTIO_BLK_T_IN:
		if (writes_inflight || unknown)
			return;
		rec[head].kind = REC_READ;
		rec[head].epoch = epoch;
		rec[head].off = sector * 512;
		rec[head].len = len;
		return;
	case VIRTIO_BLK_T_OUT:
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		rec[head].kind = REC_WRITE;
		writes_inflight++;
		epoch++;
		return;
	}
}

static void check_read(struct driver *d, unsigned qi, uint32_t id, uint32_t len)
{
	static uint8_t got[8192 + 1], disk_bytes[8192];
	uint64_t n = rec[id].len;

	if (rec[id].kind == REC_WRITE) {
		writes_inflight--;
		epoch++;
	}
	if (rec[id].kind != REC_READ || rec[id].epoch != epoch || writes_inflight ||
	    unknown || n > 8192 || len != n + 1) {
		rec[id].kind = REC_NONE;
		return;
	}
	rec[id].kind = REC_NONE;
	if (dr_gather(d, qi, id, got, n + 1) < 0 || got[n] != VIRTIO_BLK_S_OK)
		return;
	FZ_CHECK(pread(resize_fd[cur_disk], disk_bytes, n, (off_t)rec[id].off) == (ssize_t)n);
	FZ_CHECK(!memcmp(got, disk_bytes, n));
	if (fz_trace())
		fprintf(stderr, "fuzz: read of %llu bytes at %llu checked\n",
			(unsigned long long)n, (unsigned long long)rec[id].off);
}

/* Resets drain everything in flight; what completed may have written. */
static void watch_reset(struct driver *d)
{
	if (d->d->status == 0) {
		/* virtio_blk.h: a reset waits for the I/O in flight. */
		FZ_CHECK(disk[cur_disk]->inflight == 0);
		writes_inflight = 0;
		unknown = 0;
		epoch++;
		memset(rec, 0, sizeof(rec));
	}
}

/* ---- requests ------------------------------------------------------------- */

static const uint32_t types[] = {
	VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH,
	VIRTIO_BLK_T_GET_ID, VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES,
};

static uint64_t pick_sector(struct fz *f)
{
	uint8_t k = fz_u8(f);

	if (k == 0xff)
		return fz_u64(f);
	if (k >= 0xf8)		/* at or just past the end */
		return IMAGE_SIZE / 512 - 8 + (k - 0xf8) * 2;
	return k % (IMAGE_SIZE / 512);
}

static uint32_t pick_len(struct fz *f)
{
	uint8_t k = fz_u8(f);

	if (k >= 0xf0)		/* not a multiple of 512 */
		return fz_u16(f) % 8193;
	return (k % 17) * 512;	/* up to 8 KiB */
}

/* Linux's shape: the header alone, the data in 1-3 descriptors, the
 * status byte alone (or, with layout bit 5, at the end of the last data
 * descriptor); layout bit 4: through an indirect table. */
static int linux_chain(const uint8_t *req, uint32_t n, uint32_t in,
		       uint8_t layout)
{
	struct dr_buf b[DR_MAX_BUFS];
	unsigned nb = 0, pieces = 1 + layout % 3;
	uint32_t hdr = n < 16 ? n : 16, data_in = in ? in - 1 : 0;
	uint64_t gpa;

	if (hdr) {
		gpa = dr_alloc(&dr, n, 8);
		if (!gpa)
			return -1;
		memcpy(fvq_ptr(&dr.m, gpa, n), req, n);
		b[nb++] = (struct dr_buf){ gpa, hdr, 0 };
		for (unsigned k = 0; n > hdr && k < pieces; k++) {
			uint32_t len = n - hdr, cut = len / pieces;
			uint32_t piece = k + 1 < pieces ? cut : len - cut * k;

			if (piece)
				b[nb++] = (struct dr_buf){ gpa + hdr + (uint64_t)cut * k,
							   piece, 0 };
		}
	}
	if (in) {
		gpa = dr_alloc(&dr, in, 8);
		if (!gpa)
			return -1;
		for (unsigned k = 0; data_in && k < pieces; k++) {
			uint32_t cut = data_in / pieces;
			uint32_t piece = k + 1 < pieces ? cut : data_in - cut * k;

			if (!piece)
				continue;
			if ((layout & 0x20) && k + 1 == pieces)
				piece++;	/* the status byte rides along */
			b[nb++] = (struct dr_buf){ gpa + (uint64_t)cut * k, piece, 1 };
		}
		if (!(layout & 0x20) || !data_in)
			b[nb++] = (struct dr_buf){ gpa + data_in, 1, 1 };
	}
	return dr_chain(&dr, 0, b, nb, (layout >> 4) & 1);
}

/* One request.  sel: bits 0-2 the type (6: any 32-bit type from the
 * input), bit 3 cut as dr_request() does instead of as Linux does, bit 4
 * no kick (requests pile up until one comes). */
static void request(struct fz *f)
{
	uint8_t sel = fz_u8(f), layout = fz_u8(f);
	uint32_t type = (sel & 7) == 6 ? fz_u32(f) : types[(sel & 7) % 6];
	uint64_t sector = pick_sector(f);
	uint32_t len = 0, in = 1;	/* the status byte */
	static uint8_t req[16 + 8192 + 64];
	uint32_t n = 16;
	int head;

	memset(req, 0, 16);
	memcpy(req, &(uint32_t){ htole32(type) }, 4);
	memcpy(req + 4, &(uint32_t){ htole32(fz_u8(f)) }, 4);	/* ioprio */
	memcpy(req + 8, &(uint64_t){ htole64(sector) }, 8);
	switch (type) {
	case VIRTIO_BLK_T_IN:
		in += pick_len(f);
		break;
	case VIRTIO_BLK_T_OUT:
		len = pick_len(f);
		/* Data: a pattern, so short inputs still write something. */
		memset(req + n, fz_u8(f), len);
		n += len;
		break;
	case VIRTIO_BLK_T_GET_ID:
		in += fz_u8(f) % 40;
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES: {
		unsigned segs = 1 + (fz_u8(f) % 4 == 0);	/* sometimes 2 */

		for (unsigned s = 0; s < segs; s++) {
			uint64_t sec = htole64(pick_sector(f));
			uint32_t num = fz_u8(f), flags;

			if (num == 0xff)
				num = fz_u32(f);
			flags = fz_u8(f);
			flags = htole32(flags < 0xf0 ? flags & 1 : flags);
			num = htole32(num);
			memcpy(req + n, &sec, 8);
			memcpy(req + n + 8, &num, 4);
			memcpy(req + n + 12, &flags, 4);
			n += 16;
		}
		if (layout & 0x40)	/* a ragged segment list */
			n -= 1 + fz_u8(f) % 15;
		break;
	}
	default:
		in += fz_u8(f);
		break;
	}
	if ((layout & 0x80) && n > 1)	/* a short header */
		n = fz_u8(f) % 16;
	if (sel & 8)
		head = dr_request(&dr, 0, layout, req, n, in);
	else
		head = linux_chain(req, n, in, layout);
	/* Only whole, well-formed requests are worth modelling. */
	if (head >= 0 && n >= 16 && !(layout & 0x40))
		track(head, type, sector, in - 1);
	else if (head >= 0)
		unknown = 1;
	if (!(sel & 0x10))
		dr_kick(&dr, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	int which = fz_u8(&f) % NR_DISKS;
	struct virtio_dev *d = &dev[which];
	struct virtio_blk *b = disk[which];
	unsigned ops = 0;

	cur = b;
	dr_mem_init(&dr);
	dr_init(&dr, d, blk_features(d));
	cur_disk = which;
	dr.on_used = check_read;
	dr.watch = watch_reset;
	dr_start(&dr, &f);
	while (f.n && ops++ < 256) {
		uint8_t op = fz_u8(&f);

		switch (op % 13) {
		case 0:
		case 1:
		case 2:
			request(&f);
			break;
		case 3:
			virtio_poll_ready(d);
			dr_reap_all(&dr);
			break;
		case 4:
			wait_all(d, b);
			break;
		case 5:	/* the image shrinks under the device: short I/O */
			if (ftruncate(resize_fd[which], IMAGE_SIZE - fz_u16(&f) % IMAGE_SIZE))
				abort();
			epoch++;
			break;
		default:
			/* Chains the model does not know may write. */
			unknown = 1;
			dr_op(&dr, &f, fz_u8(&f));
			break;
		}
		check_slots(b);
	}
	/* Kick once more, finish everything, then a reset: nothing may
	 * touch this run's guest memory once it is freed. */
	dr_kick(&dr, 0);
	wait_all(d, b);
	dr_w32(&dr, VIRTIO_MMIO_STATUS, 0);
	FZ_CHECK(b->inflight == 0);
	if (ftruncate(resize_fd[which], IMAGE_SIZE))
		abort();
	dr_mem_free(&dr);
	cur = NULL;
	return 0;
}
