/* virtio-blk (virtio 1.2, 5.2) over a raw image file or block device.
 *
 * One request queue.  Data moves between the image and guest memory with
 * io_uring and no copies: every data buffer becomes an iovec pointing into
 * guest RAM.  Many requests are in flight at once (at most one per
 * descriptor chain, bounded by the queue size); completions are reaped on
 * the event thread when the ring's eventfd (ops->poll_fd) turns readable.
 *
 * The image is a multiple of 512 bytes (anything else is refused rather
 * than silently rounded down).  It is flock()ed: exclusively when writable,
 * shared when read-only, so two read-only users may share an image but a
 * writer excludes everybody.
 *
 * Wiring:
 *	struct virtio_blk *b = virtio_blk_open(&opts, err, sizeof(err));
 *	virtio_dev_init(&dev, &virtio_blk_ops, b, mem, &irq);
 *	on the event thread: when virtio_blk_ops.poll_fd(&dev) is readable
 *	(EPOLLIN), call virtio_poll_ready(&dev)
 *	virtio_blk_close(b);	(event thread stopped, guest RAM still mapped)
 *
 * A driver reset waits (under d->lock) for the I/O in flight, so nothing
 * is written into guest memory or the rings after it.
 */
#ifndef MINIVMM_VIRTIO_BLK_H
#define MINIVMM_VIRTIO_BLK_H

#include <stddef.h>
#include <stdint.h>
#include "virtio.h"

#define VIRTIO_ID_BLOCK			2

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX		1
#define VIRTIO_BLK_F_SEG_MAX		2
#define VIRTIO_BLK_F_GEOMETRY		4
#define VIRTIO_BLK_F_RO			5
#define VIRTIO_BLK_F_BLK_SIZE		6
#define VIRTIO_BLK_F_FLUSH		9
#define VIRTIO_BLK_F_TOPOLOGY		10
#define VIRTIO_BLK_F_CONFIG_WCE		11
#define VIRTIO_BLK_F_MQ			12
#define VIRTIO_BLK_F_DISCARD		13
#define VIRTIO_BLK_F_WRITE_ZEROES	14

/* Request types and status values (5.2.6). */
#define VIRTIO_BLK_T_IN			0
#define VIRTIO_BLK_T_OUT		1
#define VIRTIO_BLK_T_FLUSH		4
#define VIRTIO_BLK_T_GET_ID		8
#define VIRTIO_BLK_T_DISCARD		11
#define VIRTIO_BLK_T_WRITE_ZEROES	13

#define VIRTIO_BLK_S_OK			0
#define VIRTIO_BLK_S_IOERR		1
#define VIRTIO_BLK_S_UNSUPP		2

#define VIRTIO_BLK_WZ_F_UNMAP		1	/* discard/write-zeroes flags */

#define VIRTIO_BLK_SECTOR		512
#define VIRTIO_BLK_ID_BYTES		20	/* GET_ID answer, NUL-padded */
#define VIRTIO_BLK_HDR_SIZE		16	/* type, ioprio, sector */
#define VIRTIO_BLK_DWZ_SIZE		16	/* one discard/write-zeroes segment */

/* Largest discard / write-zeroes request, in sectors (2 GiB). */
#define VIRTIO_BLK_MAX_DWZ_SECTORS	(1u << 22)

/* Config space offsets (struct virtio_blk_config, little-endian). */
#define VIRTIO_BLK_CFG_CAPACITY		0	/* le64 */
#define VIRTIO_BLK_CFG_SIZE_MAX		8	/* le32 */
#define VIRTIO_BLK_CFG_SEG_MAX		12	/* le32 */
#define VIRTIO_BLK_CFG_BLK_SIZE		20	/* le32 */
#define VIRTIO_BLK_CFG_NUM_QUEUES	34	/* le16 */
#define VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS 36	/* le32 */
#define VIRTIO_BLK_CFG_MAX_DISCARD_SEG	40	/* le32 */
#define VIRTIO_BLK_CFG_DISCARD_ALIGN	44	/* le32 */
#define VIRTIO_BLK_CFG_MAX_WZ_SECTORS	48	/* le32 */
#define VIRTIO_BLK_CFG_MAX_WZ_SEG	52	/* le32 */
#define VIRTIO_BLK_CFG_WZ_MAY_UNMAP	56	/* u8 */
#define VIRTIO_BLK_CFG_SIZE		60	/* up to the secure-erase fields */

#define VIRTIO_BLK_QUEUE_SIZE		VIRTQ_MAX_SIZE

#define VIRTIO_BLK_PATH_MAX		4096

/* What --disk PATH[,ro][,serial=ID] says. */
struct virtio_blk_opts {
	char path[VIRTIO_BLK_PATH_MAX];
	int ro;
	char serial[VIRTIO_BLK_ID_BYTES + 1];	/* "" when not given */
};

/* Parses the --disk argument.  The path is everything before the first
 * comma (so a path cannot contain one).  Returns 0, or -1 with a one-line
 * message (no "minivmm: " prefix) in err. */
int virtio_blk_parse_opt(const char *s, struct virtio_blk_opts *o,
			 char *err, size_t errlen);

/* Opens and locks the image (blk_image.c): a regular file or a block
 * device, O_CLOEXEC, read-only when o->ro.  On success returns the fd and
 * sets *size (bytes) and *blksize (the host's preferred I/O size); on
 * failure returns -1 with the reason in err. */
int virtio_blk_image_open(const struct virtio_blk_opts *o, uint64_t *size,
			  unsigned *blksize, char *err, size_t errlen);

struct virtio_blk;

/* Opens the image and sets up the io_uring; NULL with a message in err.
 * Call before the guest starts, so a bad disk is a start-up error. */
struct virtio_blk *virtio_blk_open(const struct virtio_blk_opts *o,
				   char *err, size_t errlen);

/* Waits for in-flight I/O (it may still write into guest RAM, so call this
 * before unmapping it), then closes the ring and the image (and with it
 * the lock).  NULL is ignored. */
void virtio_blk_close(struct virtio_blk *b);

/* Size of the disk in 512-byte sectors. */
uint64_t virtio_blk_capacity(const struct virtio_blk *b);

/* The device's callbacks; priv is the struct virtio_blk. */
extern const struct virtio_dev_ops virtio_blk_ops;

#endif
