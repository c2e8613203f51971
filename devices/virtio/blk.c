/* virtio-blk requests over io_uring.
 *
 * A request is a descriptor chain: a 16-byte readable header, data, and a
 * writable status byte at the very end.  Layout is free (VERSION_1 implies
 * ANY_LAYOUT), so the header and status are found by byte offset, not by
 * descriptor, and data buffers are cut out of whatever descriptors hold
 * them.  Data never passes through a bounce buffer: each piece becomes an
 * iovec into guest RAM, handed to READV/WRITEV.
 *
 * Guest mistakes come in two sizes.  A request that is well formed but
 * asks for the impossible (beyond the disk, unaligned length, writes to a
 * read-only disk) gets IOERR and the VM goes on.  A chain that cannot be a
 * request at all (no header, no status byte) means the driver is broken:
 * DEVICE_NEEDS_RESET, and we pop nothing more until it resets us.
 *
 * The host can fail us too: a full host disk (ENOSPC, EDQUOT), an image
 * shrunk behind our back, an EIO from the host's disk.  The request gets
 * IOERR, so the guest sees an I/O error at once and never a hang, and the
 * user gets one line on stderr per disk and kind of trouble (host_error).
 * A read that meets the image's end early is IOERR, never OK with part of
 * the buffer left as it was: the guest was promised the size it saw at
 * start, and zeroes in place of its data would be silent corruption (QEMU
 * pads such reads with zeroes; we do not).  A write past the shrunk end
 * is done, as by QEMU: it grows the file again.
 *
 * Threads: queue_notify and poll_ready run on the event thread and reset
 * on whichever thread wrote the status register, all with d->lock held, so
 * the ring is never touched by two threads at once. */
#include "virtio_blk.h"

#include <endian.h>
#include <errno.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

enum req_kind { REQ_READ, REQ_WRITE, REQ_FLUSH, REQ_FALLOC, REQ_ZERO_WRITE };

/* One request in flight.  The iovecs live here (not on a stack) because
 * the kernel may read them after io_uring_submit returns. */
struct blk_req {
	enum req_kind kind;
	uint32_t type;		/* VIRTIO_BLK_T_* */
	uint16_t head;
	uint64_t status_gpa;
	uint64_t off;		/* file offset of the next submission */
	uint64_t left;		/* bytes still to transfer or allocate */
	uint64_t total;
	int mode;		/* fallocate mode */
	unsigned iov_first, nr_iov;
	struct iovec iov[VIRTQ_MAX_SIZE];
};

struct virtio_blk {
	int fd;			/* the image; holds the flock */
	int efd;		/* signalled by the ring on each completion */
	struct io_uring ring;
	uint64_t size;		/* bytes, a multiple of 512 */
	unsigned blksize;
	int ro;
	unsigned warned;	/* WARN_* kinds of host trouble already told */
	char serial[VIRTIO_BLK_ID_BYTES];
	char path[VIRTIO_BLK_PATH_MAX];	/* for messages */
	int broken;		/* we asked for a reset: pop nothing */
	int pushed;		/* used entries added since the last notify */
	unsigned inflight;
	unsigned nr_free;
	uint16_t free_idx[VIRTQ_MAX_SIZE];
	struct virtq_chain chain;	/* scratch for the chain being parsed */
	struct blk_req req[VIRTQ_MAX_SIZE];
};

enum { WARN_FULL = 1, WARN_SHRUNK = 2, WARN_HOST_IO = 4 };

/* Source for writing zeroes where fallocate cannot. */
static uint8_t zeroes[64 << 10];

/* ---- set-up ---------------------------------------------------------- */

/* An SQE can do what a system call can (open files, connect sockets)
 * without seccomp seeing it: the ring may carry only the operations
 * virtio-blk submits, with no SQE flags, and takes no registrations once
 * enabled.  (docs/seccomp.md) */
static int restrict_ring(struct io_uring *ring)
{
	static const uint8_t ops[] = { IORING_OP_READV, IORING_OP_WRITEV,
				       IORING_OP_FSYNC, IORING_OP_FALLOCATE,
				       IORING_OP_WRITE };
	struct io_uring_restriction res[sizeof(ops) + 1];
	int r;

	memset(res, 0, sizeof(res));
	for (unsigned i = 0; i < sizeof(ops); i++) {
		res[i].opcode = IORING_RESTRICTION_SQE_OP;
		res[i].sqe_op = ops[i];
	}
	res[sizeof(ops)].opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED;
	res[sizeof(ops)].sqe_flags = 0;
	/* Raw calls: Debian's liburing 2.3 declares the helpers but its
	 * library does not export them. */
	r = (int)syscall(__NR_io_uring_register, ring->ring_fd,
			 IORING_REGISTER_RESTRICTIONS, res, sizeof(ops) + 1);
	if (r >= 0)
		r = (int)syscall(__NR_io_uring_register, ring->ring_fd,
				 IORING_REGISTER_ENABLE_RINGS, NULL, 0);
	return r < 0 ? -errno : 0;
}

struct virtio_blk *virtio_blk_open(const struct virtio_blk_opts *o,
				   char *err, size_t errlen)
{
	struct virtio_blk *b;
	int r;

	b = calloc(1, sizeof(*b));
	if (!b) {
		snprintf(err, errlen, "disk '%s': out of memory", o->path);
		return NULL;
	}
	b->fd = virtio_blk_image_open(o, &b->size, &b->blksize, err, errlen);
	if (b->fd < 0) {
		free(b);
		return NULL;
	}
	b->ro = o->ro;
	snprintf(b->path, sizeof(b->path), "%s", o->path);
	/* calloc's zeroes are GET_ID's NUL padding. */
	memcpy(b->serial, o->serial, strnlen(o->serial, sizeof(b->serial)));
	for (unsigned i = 0; i < VIRTQ_MAX_SIZE; i++)
		b->free_idx[i] = (uint16_t)(VIRTQ_MAX_SIZE - 1 - i);
	b->nr_free = VIRTQ_MAX_SIZE;

	b->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->efd < 0) {
		snprintf(err, errlen, "disk '%s': eventfd: %s", o->path,
			 strerror(errno));
		goto fail_fd;
	}
	/* One SQE per request at most, and at most one request per
	 * descriptor: the SQ can never fill, nor the (twice as big) CQ.
	 * Created disabled, to be restricted before its first use. */
	r = io_uring_queue_init(VIRTQ_MAX_SIZE, &b->ring,
				IORING_SETUP_R_DISABLED);
	if (r < 0) {
		snprintf(err, errlen, "disk '%s': io_uring unavailable: %s",
			 o->path, strerror(-r));
		goto fail_efd;
	}
	r = io_uring_register_eventfd(&b->ring, b->efd);
	if (r >= 0)
		r = restrict_ring(&b->ring);
	if (r < 0) {
		snprintf(err, errlen, "disk '%s': io_uring set-up: %s",
			 o->path, strerror(-r));
		io_uring_queue_exit(&b->ring);
		goto fail_efd;
	}
	return b;

fail_efd:
	close(b->efd);
fail_fd:
	close(b->fd);
	free(b);
	return NULL;
}

uint64_t virtio_blk_capacity(const struct virtio_blk *b)
{
	return b->size / VIRTIO_BLK_SECTOR;
}

/* ---- the ring -------------------------------------------------------- */

static struct io_uring_sqe *get_sqe(struct virtio_blk *b)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&b->ring);

	if (!sqe) {		/* cannot happen (see open); be safe anyway */
		io_uring_submit(&b->ring);
		sqe = io_uring_get_sqe(&b->ring);
	}
	return sqe;
}

/* Queues the next step of r; -1 when there is no SQE. */
static int issue(struct virtio_blk *b, struct blk_req *r)
{
	struct io_uring_sqe *sqe = get_sqe(b);
	size_t n;

	if (!sqe)
		return -1;
	switch (r->kind) {
	case REQ_READ:
		io_uring_prep_readv(sqe, b->fd, r->iov + r->iov_first,
				    r->nr_iov - r->iov_first, r->off);
		break;
	case REQ_WRITE:
		io_uring_prep_writev(sqe, b->fd, r->iov + r->iov_first,
				     r->nr_iov - r->iov_first, r->off);
		break;
	case REQ_FLUSH:
		io_uring_prep_fsync(sqe, b->fd, IORING_FSYNC_DATASYNC);
		break;
	case REQ_FALLOC:
		io_uring_prep_fallocate(sqe, b->fd, r->mode, (off_t)r->off,
					(off_t)r->left);
		break;
	case REQ_ZERO_WRITE:
		n = r->left < sizeof(zeroes) ? r->left : sizeof(zeroes);
		io_uring_prep_write(sqe, b->fd, zeroes, n, r->off);
		break;
	}
	io_uring_sqe_set_data(sqe, r);
	return 0;
}

/* Errors other than "busy" leave the SQEs queued; the next submit (after
 * the next completion or kick) tries again. */
static void submit(struct virtio_blk *b)
{
	if (io_uring_sq_ready(&b->ring))
		io_uring_submit(&b->ring);
}

static struct blk_req *req_alloc(struct virtio_blk *b)
{
	struct blk_req *r;

	if (!b->nr_free)
		return NULL;
	r = &b->req[b->free_idx[--b->nr_free]];
	memset(r, 0, offsetof(struct blk_req, iov));
	b->inflight++;
	return r;
}

static void req_free(struct virtio_blk *b, struct blk_req *r)
{
	b->free_idx[b->nr_free++] = (uint16_t)(r - b->req);
	b->inflight--;
}

/* ---- completing ------------------------------------------------------ */

static void complete(struct virtio_dev *d, uint16_t head, uint64_t status_gpa,
		     uint8_t status, uint64_t data_written)
{
	struct virtio_blk *b = d->priv;
	uint64_t n = data_written + 1;

	/* The status byte was checked when the chain was parsed. */
	guest_mem_write(d->mem, status_gpa, &status, 1);
	virtq_push(&d->vq[0], head, n > UINT32_MAX ? UINT32_MAX : (uint32_t)n);
	b->pushed = 1;
}

static void req_done(struct virtio_dev *d, struct blk_req *r, uint8_t status)
{
	uint64_t data = r->kind == REQ_READ ? r->total - r->left : 0;

	complete(d, r->head, r->status_gpa, status, data);
	req_free(d->priv, r);
}

static void advance(struct blk_req *r, uint64_t n)
{
	r->off += n;
	r->left -= n;
	if (r->kind != REQ_READ && r->kind != REQ_WRITE)
		return;
	while (n && r->iov_first < r->nr_iov) {
		struct iovec *v = &r->iov[r->iov_first];

		if (n < v->iov_len) {
			v->iov_base = (uint8_t *)v->iov_base + n;
			v->iov_len -= n;
			n = 0;
		} else {
			n -= v->iov_len;
			r->iov_first++;
		}
	}
}

static const char *kind_name(enum req_kind k)
{
	switch (k) {
	case REQ_READ:		return "read";
	case REQ_WRITE:		return "write";
	case REQ_FLUSH:		return "flush (fdatasync)";
	case REQ_FALLOC:	return "discard/write-zeroes (fallocate)";
	case REQ_ZERO_WRITE:	return "write of zeroes";
	}
	return "I/O";
}

/* The host failed request r with res (a -errno, or 0 for end of file):
 * the guest gets IOERR (the caller's job); the user hears of it here,
 * once per disk and kind of trouble, as the guest may retry forever. */
static void host_error(struct virtio_blk *b, const struct blk_req *r, int res)
{
	unsigned kind;

	if (res == -ENOSPC || res == -EDQUOT)
		kind = WARN_FULL;
	else if (res == 0 && r->kind == REQ_READ)
		kind = WARN_SHRUNK;
	else
		kind = WARN_HOST_IO;
	if (b->warned & kind)
		return;
	b->warned |= kind;
	if (kind == WARN_FULL)
		fprintf(stderr, "minivmm: disk '%s': the host disk is full (%s): "
			"the guest gets I/O errors for writes until space is freed "
			"(reported once)\n", b->path, strerror(-res));
	else if (kind == WARN_SHRUNK)
		fprintf(stderr, "minivmm: disk '%s' is shorter than the %llu bytes "
			"it had at start (shrunk on the host?): the guest gets I/O "
			"errors for reads past its end (reported once)\n",
			b->path, (unsigned long long)b->size);
	else
		fprintf(stderr, "minivmm: disk '%s': %s failed on the host: %s: "
			"the guest gets an I/O error (reported once)\n", b->path,
			kind_name(r->kind),
			res < 0 ? strerror(-res) : "no progress");
}

/* A CQE for r arrived with result res. */
static void on_cqe(struct virtio_dev *d, struct blk_req *r, int res)
{
	struct virtio_blk *b = d->priv;

	switch (r->kind) {
	case REQ_FLUSH:
		/* A failed fdatasync means writes the guest was told were
		 * done may be lost: never OK. */
		if (res < 0)
			host_error(b, r, res);
		req_done(d, r, res < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
		return;
	case REQ_FALLOC:
		if (res == -EOPNOTSUPP) {
			/* Discard is only a hint.  Zeroes must be zeroes:
			 * write them (which also honours "no unmap"). */
			if (r->type == VIRTIO_BLK_T_DISCARD) {
				req_done(d, r, VIRTIO_BLK_S_OK);
				return;
			}
			r->kind = REQ_ZERO_WRITE;
			break;
		}
		if (res < 0)
			host_error(b, r, res);
		req_done(d, r, res < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
		return;
	case REQ_READ:
	case REQ_WRITE:
	case REQ_ZERO_WRITE:
		if (res == -EAGAIN || res == -EINTR)
			break;
		/* 0 is end of file: the image shrank under us.  What a
		 * short read left of the buffer is stale: IOERR, not OK. */
		if (res <= 0 || (uint64_t)res > r->left) {
			host_error(b, r, res > 0 ? -EIO : res);
			req_done(d, r, VIRTIO_BLK_S_IOERR);
			return;
		}
		advance(r, (uint64_t)res);
		if (!r->left) {
			req_done(d, r, VIRTIO_BLK_S_OK);
			return;
		}
		break;	/* short: go on with the rest */
	}
	if (issue(b, r) < 0)
		req_done(d, r, VIRTIO_BLK_S_IOERR);
}

/* Takes every CQE there is; with deliver == 0 (reset, close) the requests
 * are forgotten without touching guest memory or the rings. */
static void reap(struct virtio_dev *d, struct virtio_blk *b, int deliver)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe(&b->ring, head, cqe) {
		struct blk_req *r = io_uring_cqe_get_data(cqe);

		n++;
		if (deliver)
			on_cqe(d, r, cqe->res);
		else
			req_free(b, r);
	}
	io_uring_cq_advance(&b->ring, n);
}

/* Waits until nothing is in flight: the kernel may be writing into guest
 * RAM for a read until its CQE arrives. */
static void drain(struct virtio_blk *b)
{
	while (b->inflight) {
		struct io_uring_cqe *cqe;
		int r;

		io_uring_submit(&b->ring);
		r = io_uring_wait_cqe(&b->ring, &cqe);
		if (r < 0 && r != -EINTR && r != -EAGAIN) {
			fprintf(stderr, "minivmm: virtio-blk: io_uring wait: %s\n",
				strerror(-r));
			abort();
		}
		reap(NULL, b, 0);
	}
}

void virtio_blk_close(struct virtio_blk *b)
{
	if (!b)
		return;
	drain(b);
	io_uring_queue_exit(&b->ring);
	close(b->efd);
	close(b->fd);		/* drops the flock */
	free(b);
}

/* ---- parsing requests ------------------------------------------------ */

static void broken(struct virtio_dev *d, const char *why)
{
	struct virtio_blk *b = d->priv;

	b->broken = 1;
	virtio_set_needs_reset(d, why);
}

/* [sector, sector + bytes) inside the disk?  Sets the byte offset. */
static int range_ok(const struct virtio_blk *b, uint64_t sector,
		    uint64_t bytes, uint64_t *off)
{
	uint64_t end;

	if (sector > UINT64_MAX / VIRTIO_BLK_SECTOR)
		return 0;
	*off = sector * VIRTIO_BLK_SECTOR;
	return range_add_ok(*off, bytes, &end) && end <= b->size;
}

/* Cuts bytes [skip, skip + len) out of bufs[0..n) into iovecs.  Returns
 * the number of iovecs, or -1 when guest memory refuses a piece. */
static int map_bufs(const struct guest_mem *m, const struct virtq_buf *bufs,
		    unsigned n, uint64_t skip, uint64_t len, struct iovec *iov)
{
	int k = 0;

	for (unsigned i = 0; i < n && len; i++) {
		uint64_t take, gpa;
		void *p;

		if (skip >= bufs[i].len) {
			skip -= bufs[i].len;
			continue;
		}
		take = bufs[i].len - skip;
		if (take > len)
			take = len;
		if (!range_add_ok(bufs[i].gpa, skip, &gpa))
			return -1;
		p = guest_mem_ptr(m, gpa, take);
		if (!p)
			return -1;
		iov[k].iov_base = p;
		iov[k].iov_len = take;
		k++;
		len -= take;
		skip = 0;
	}
	return len ? -1 : k;
}

/* The gpa of the chain's last writable byte, or -1 when there is none. */
static int status_gpa(const struct guest_mem *m, const struct virtq_chain *c,
		      uint64_t *gpa)
{
	for (unsigned i = c->nr_out + c->nr_in; i > c->nr_out; i--) {
		const struct virtq_buf *v = &c->buf[i - 1];

		if (!v->len)
			continue;
		*gpa = v->gpa + v->len - 1;
		return guest_mem_ptr(m, *gpa, 1) ? 0 : -1;
	}
	return -1;
}

static void start_rw(struct virtio_dev *d, const struct virtq_chain *c,
		     uint64_t sector, uint64_t st, int write)
{
	struct virtio_blk *b = d->priv;
	uint64_t len = write ? c->out_len - VIRTIO_BLK_HDR_SIZE : c->in_len - 1;
	uint64_t off;
	struct blk_req *r;
	int n;

	if ((write && b->ro) || len % VIRTIO_BLK_SECTOR ||
	    !range_ok(b, sector, len, &off)) {
		complete(d, c->head, st, VIRTIO_BLK_S_IOERR, 0);
		return;
	}
	if (!len) {
		complete(d, c->head, st, VIRTIO_BLK_S_OK, 0);
		return;
	}
	r = req_alloc(b);
	if (write)
		n = map_bufs(d->mem, c->buf, c->nr_out, VIRTIO_BLK_HDR_SIZE,
			     len, r->iov);
	else
		n = map_bufs(d->mem, c->buf + c->nr_out, c->nr_in, 0, len,
			     r->iov);
	if (n < 0) {
		req_free(b, r);
		broken(d, "data buffer outside guest memory");
		return;
	}
	r->kind = write ? REQ_WRITE : REQ_READ;
	r->head = c->head;
	r->status_gpa = st;
	r->off = off;
	r->left = r->total = len;
	r->nr_iov = (unsigned)n;
	if (issue(b, r) < 0)
		req_done(d, r, VIRTIO_BLK_S_IOERR);
}

/* DISCARD and WRITE_ZEROES: one segment {le64 sector, le32 num, le32
 * flags} after the header (we offer max_*_seg = 1). */
static void start_dwz(struct virtio_dev *d, const struct virtq_chain *c,
		      uint32_t type, uint64_t st)
{
	struct virtio_blk *b = d->priv;
	uint64_t plen = c->out_len - VIRTIO_BLK_HDR_SIZE;
	uint8_t seg[VIRTIO_BLK_DWZ_SIZE];
	uint64_t sector, off;
	uint32_t num, flags;
	struct blk_req *r;

	if (b->ro || plen == 0 || plen % VIRTIO_BLK_DWZ_SIZE) {
		complete(d, c->head, st, VIRTIO_BLK_S_IOERR, 0);
		return;
	}
	if (plen > VIRTIO_BLK_DWZ_SIZE) {	/* more segments than offered */
		complete(d, c->head, st, VIRTIO_BLK_S_UNSUPP, 0);
		return;
	}
	if (virtq_chain_read(&d->vq[0], c, VIRTIO_BLK_HDR_SIZE, seg,
			     sizeof(seg)) != (long)sizeof(seg)) {
		broken(d, "unreadable discard segment");
		return;
	}
	memcpy(&sector, seg, 8);
	memcpy(&num, seg + 8, 4);
	memcpy(&flags, seg + 12, 4);
	sector = le64toh(sector);
	num = le32toh(num);
	flags = le32toh(flags);
	/* Unknown flags, and unmap on a discard, are UNSUPP (5.2.6.2). */
	if ((flags & ~VIRTIO_BLK_WZ_F_UNMAP) ||
	    (type == VIRTIO_BLK_T_DISCARD && flags)) {
		complete(d, c->head, st, VIRTIO_BLK_S_UNSUPP, 0);
		return;
	}
	if (num > VIRTIO_BLK_MAX_DWZ_SECTORS ||
	    !range_ok(b, sector, (uint64_t)num * VIRTIO_BLK_SECTOR, &off)) {
		complete(d, c->head, st, VIRTIO_BLK_S_IOERR, 0);
		return;
	}
	if (!num) {
		complete(d, c->head, st, VIRTIO_BLK_S_OK, 0);
		return;
	}
	r = req_alloc(b);
	r->kind = REQ_FALLOC;
	r->type = type;
	r->head = c->head;
	r->status_gpa = st;
	r->off = off;
	r->left = r->total = (uint64_t)num * VIRTIO_BLK_SECTOR;
	/* KEEP_SIZE: required for block devices, harmless inside a file. */
	r->mode = FALLOC_FL_KEEP_SIZE |
		  (type == VIRTIO_BLK_T_DISCARD || (flags & VIRTIO_BLK_WZ_F_UNMAP) ?
		   FALLOC_FL_PUNCH_HOLE : FALLOC_FL_ZERO_RANGE);
	if (issue(b, r) < 0)
		req_done(d, r, VIRTIO_BLK_S_IOERR);
}

static void start_flush(struct virtio_dev *d, uint16_t head, uint64_t st)
{
	struct virtio_blk *b = d->priv;
	struct blk_req *r = req_alloc(b);

	r->kind = REQ_FLUSH;
	r->head = head;
	r->status_gpa = st;
	if (issue(b, r) < 0)
		req_done(d, r, VIRTIO_BLK_S_IOERR);
}

static void start_get_id(struct virtio_dev *d, const struct virtq_chain *c,
			 uint64_t st)
{
	struct virtio_blk *b = d->priv;
	uint64_t n = c->in_len - 1;

	if (n > VIRTIO_BLK_ID_BYTES)
		n = VIRTIO_BLK_ID_BYTES;
	if (virtq_chain_write(&d->vq[0], c, 0, b->serial, n) != (long)n) {
		broken(d, "GET_ID buffer outside guest memory");
		return;
	}
	complete(d, c->head, st, VIRTIO_BLK_S_OK, n);
}

/* Starts one request; needs a free slot (the caller checked). */
static void start(struct virtio_dev *d, const struct virtq_chain *c)
{
	uint8_t hdr[VIRTIO_BLK_HDR_SIZE];
	uint32_t type;
	uint64_t sector, st;

	if (c->out_len < VIRTIO_BLK_HDR_SIZE ||
	    virtq_chain_read(&d->vq[0], c, 0, hdr, sizeof(hdr)) !=
	    (long)sizeof(hdr)) {
		broken(d, "request header shorter than 16 bytes");
		return;
	}
	if (c->in_len < 1 || status_gpa(d->mem, c, &st) < 0) {
		broken(d, "request without a writable status byte");
		return;
	}
	memcpy(&type, hdr, 4);
	memcpy(&sector, hdr + 8, 8);
	type = le32toh(type);
	sector = le64toh(sector);

	switch (type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		start_rw(d, c, sector, st, type == VIRTIO_BLK_T_OUT);
		break;
	case VIRTIO_BLK_T_FLUSH:
		start_flush(d, c->head, st);
		break;
	case VIRTIO_BLK_T_GET_ID:
		start_get_id(d, c, st);
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		start_dwz(d, c, type, st);
		break;
	default:
		complete(d, c->head, st, VIRTIO_BLK_S_UNSUPP, 0);
		break;
	}
}

static int running(const struct virtio_dev *d)
{
	const struct virtio_blk *b = d->priv;

	return !b->broken && d->vq[0].ready &&
	       (d->status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(d->status & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED));
}

/* Pops and starts chains until the ring is empty or every slot is busy;
 * in the second case poll_ready comes back here as slots free up. */
static void process(struct virtio_dev *d)
{
	struct virtio_blk *b = d->priv;
	struct virtq *q = &d->vq[0];

	while (running(d) && b->nr_free && b->inflight < q->size) {
		/* With EVENT_IDX an empty pop also asks for the next kick. */
		int r = virtq_pop(q, &b->chain);

		if (r == VIRTQ_EMPTY)
			break;
		if (r < 0) {
			broken(d, "bad descriptor chain");
			break;
		}
		start(d, &b->chain);
	}
	submit(b);
}

static void flush_used(struct virtio_dev *d)
{
	struct virtio_blk *b = d->priv;

	if (b->pushed) {
		b->pushed = 0;
		virtio_notify_used(d, 0);
	}
}

/* ---- the ops table --------------------------------------------------- */

static uint64_t blk_features(struct virtio_dev *d)
{
	struct virtio_blk *b = d->priv;
	uint64_t f = 1ULL << VIRTIO_BLK_F_SEG_MAX | 1ULL << VIRTIO_BLK_F_BLK_SIZE |
		     1ULL << VIRTIO_BLK_F_FLUSH | 1ULL << VIRTIO_BLK_F_DISCARD |
		     1ULL << VIRTIO_BLK_F_WRITE_ZEROES;

	if (b->ro)
		f |= 1ULL << VIRTIO_BLK_F_RO;
	return f;
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void blk_config_read(struct virtio_dev *d, uint32_t off, void *data,
			    unsigned len)
{
	struct virtio_blk *b = d->priv;
	uint8_t cfg[VIRTIO_BLK_CFG_SIZE] = { 0 };
	uint64_t cap = htole64(virtio_blk_capacity(b));
	/* Discard granularity: the host's block, so holes are real holes. */
	uint32_t align = b->blksize / VIRTIO_BLK_SECTOR;

	if (!align)
		align = 1;
	memcpy(cfg + VIRTIO_BLK_CFG_CAPACITY, &cap, 8);
	put32(cfg + VIRTIO_BLK_CFG_SEG_MAX, VIRTIO_BLK_QUEUE_SIZE - 2);
	put32(cfg + VIRTIO_BLK_CFG_BLK_SIZE, VIRTIO_BLK_SECTOR);
	put32(cfg + VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS, VIRTIO_BLK_MAX_DWZ_SECTORS);
	put32(cfg + VIRTIO_BLK_CFG_MAX_DISCARD_SEG, 1);
	put32(cfg + VIRTIO_BLK_CFG_DISCARD_ALIGN, align);
	put32(cfg + VIRTIO_BLK_CFG_MAX_WZ_SECTORS, VIRTIO_BLK_MAX_DWZ_SECTORS);
	put32(cfg + VIRTIO_BLK_CFG_MAX_WZ_SEG, 1);
	cfg[VIRTIO_BLK_CFG_WZ_MAY_UNMAP] = 1;
	/* The transport checked off + len <= config_size. */
	memcpy(data, cfg + off, len);
}

/* Only "writeback" is writable, and only with CONFIG_WCE, not offered. */
static void blk_config_write(struct virtio_dev *d, uint32_t off,
			     const void *data, unsigned len)
{
	(void)d, (void)off, (void)data, (void)len;
}

static int blk_activate(struct virtio_dev *d)
{
	struct virtio_blk *b = d->priv;

	b->broken = 0;
	return 0;
}

static void blk_queue_notify(struct virtio_dev *d, unsigned q)
{
	if (q != 0)
		return;
	process(d);
	flush_used(d);
}

/* Nothing may land in guest memory once the driver has reset us, so wait
 * for what the kernel is still doing, then forget it all. */
static void blk_reset(struct virtio_dev *d)
{
	struct virtio_blk *b = d->priv;

	drain(b);
	b->broken = 0;
	b->pushed = 0;
}

static int blk_poll_fd(struct virtio_dev *d)
{
	struct virtio_blk *b = d->priv;

	return b->efd;
}

static void blk_poll_ready(struct virtio_dev *d)
{
	struct virtio_blk *b = d->priv;
	uint64_t v;

	/* Read the counter before reaping: a completion after this read
	 * makes the fd readable again, so none is missed. */
	if (read(b->efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: a spurious wake-up; reaping finds nothing. */
	}
	reap(d, b, 1);
	process(d);	/* chains left waiting for a free slot; also submits */
	flush_used(d);
}

const struct virtio_dev_ops virtio_blk_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.nr_queues = 1,
	.queue_max = VIRTIO_BLK_QUEUE_SIZE,
	.features = blk_features,
	.config_size = VIRTIO_BLK_CFG_SIZE,
	.config_read = blk_config_read,
	.config_write = blk_config_write,
	.activate = blk_activate,
	.queue_notify = blk_queue_notify,
	.reset = blk_reset,
	.poll_fd = blk_poll_fd,
	.poll_ready = blk_poll_ready,
};
