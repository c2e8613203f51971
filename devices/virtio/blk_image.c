/* The user's side of virtio-blk: the --disk option and opening the image.
 * Every mistake here is the user's, found before the guest starts, and
 * becomes one message naming the disk. */
#include "virtio_blk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Printable ASCII or UTF-8 bytes only: the serial ends up in sysfs and in
 * udev's /dev/disk/by-id names, where control bytes do no good. */
static int serial_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return 0;
	}
	return 1;
}

static int parse_key(const char *k, size_t n, struct virtio_blk_opts *o,
		     int *seen_serial, char *err, size_t errlen)
{
	if (n == 2 && !memcmp(k, "ro", 2)) {
		if (o->ro)
			return fail(err, errlen, "--disk: 'ro' given twice");
		o->ro = 1;
		return 0;
	}
	if (n >= 7 && !memcmp(k, "serial=", 7)) {
		const char *v = k + 7;
		size_t vn = n - 7;

		if (*seen_serial)
			return fail(err, errlen,
				    "--disk: 'serial=' given twice");
		if (vn == 0)
			return fail(err, errlen, "--disk: 'serial=' needs a value");
		if (vn > VIRTIO_BLK_ID_BYTES)
			return fail(err, errlen,
				    "--disk: serial '%.*s' is %zu bytes, longer than %d",
				    (int)vn, v, vn, VIRTIO_BLK_ID_BYTES);
		if (!serial_ok(v, vn))
			return fail(err, errlen,
				    "--disk: serial has control characters");
		memcpy(o->serial, v, vn);
		o->serial[vn] = '\0';
		*seen_serial = 1;
		return 0;
	}
	if (n == 0)
		return fail(err, errlen, "--disk: empty option after ','");
	return fail(err, errlen,
		    "--disk: unknown option '%.*s' (known: ro, serial=ID)",
		    (int)n, k);
}

int virtio_blk_parse_opt(const char *s, struct virtio_blk_opts *o,
			 char *err, size_t errlen)
{
	const char *comma = strchr(s, ',');
	size_t plen = comma ? (size_t)(comma - s) : strlen(s);
	int seen_serial = 0;

	memset(o, 0, sizeof(*o));
	if (plen == 0)
		return fail(err, errlen, "--disk: empty path");
	if (plen >= sizeof(o->path))
		return fail(err, errlen, "--disk: path is longer than %zu bytes",
			    sizeof(o->path) - 1);
	memcpy(o->path, s, plen);
	o->path[plen] = '\0';

	while (comma) {
		const char *k = comma + 1;

		comma = strchr(k, ',');
		if (parse_key(k, comma ? (size_t)(comma - k) : strlen(k), o,
			      &seen_serial, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* Opening read-write failed for want of permission: say ",ro" would work
 * if a read-only open does. */
static int open_rw_refused(const struct virtio_blk_opts *o, int e,
			   char *err, size_t errlen)
{
	int fd = open(o->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return fail(err, errlen, "disk '%s': %s", o->path, strerror(e));
	close(fd);
	return fail(err, errlen,
		    "disk '%s' is read-only on the host (%s); add ',ro' to use it read-only",
		    o->path, strerror(e));
}

int virtio_blk_image_open(const struct virtio_blk_opts *o, uint64_t *size,
			  unsigned *blksize, char *err, size_t errlen)
{
	struct stat st;
	off_t end;
	int fd, e;

	if (!o->path[0])
		return fail(err, errlen, "disk: empty path");
	/* O_NONBLOCK: never hang on a FIFO someone named by mistake; it has
	 * no effect on regular files and block devices. */
	fd = open(o->path, (o->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		e = errno;
		if (!o->ro && (e == EACCES || e == EPERM || e == EROFS ||
			       e == ETXTBSY))
			return open_rw_refused(o, e, err, errlen);
		if (e == EISDIR)
			return fail(err, errlen, "disk '%s' is a directory",
				    o->path);
		return fail(err, errlen, "disk '%s': %s", o->path, strerror(e));
	}
	if (fstat(fd, &st) < 0) {
		e = errno;
		close(fd);
		return fail(err, errlen, "disk '%s': %s", o->path, strerror(e));
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return fail(err, errlen, "disk '%s' is a directory", o->path);
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		close(fd);
		return fail(err, errlen,
			    "disk '%s' is not a regular file or block device",
			    o->path);
	}
	/* Back to blocking mode: io_uring then waits for the data instead
	 * of returning -EAGAIN. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		e = errno;
		close(fd);
		return fail(err, errlen, "disk '%s': %s", o->path, strerror(e));
	}
	/* Writers exclude everyone; readers only exclude writers.  The lock
	 * belongs to this open file, so it goes when the fd is closed. */
	if (flock(fd, (o->ro ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		e = errno;
		close(fd);
		if (e == EWOULDBLOCK)
			return fail(err, errlen,
				    "disk '%s' is in use by another process (locked)",
				    o->path);
		return fail(err, errlen, "disk '%s': cannot lock: %s", o->path,
			    strerror(e));
	}
	/* lseek gives the size of block devices as well as files. */
	end = lseek(fd, 0, SEEK_END);
	if (end < 0) {
		e = errno;
		close(fd);
		return fail(err, errlen, "disk '%s': %s", o->path, strerror(e));
	}
	if (end == 0) {
		close(fd);
		return fail(err, errlen, "disk '%s' is empty", o->path);
	}
	if (end % VIRTIO_BLK_SECTOR) {
		close(fd);
		return fail(err, errlen,
			    "disk '%s' is %lld bytes, not a multiple of %d (resize it with truncate -s)",
			    o->path, (long long)end, VIRTIO_BLK_SECTOR);
	}
	*size = (uint64_t)end;
	*blksize = st.st_blksize > 0 ? (unsigned)st.st_blksize : VIRTIO_BLK_SECTOR;
	return fd;
}
