/* virtio-blk: the --disk parser, opening and locking images, and requests
 * from a fake driver through the virtio-mmio transport, with real io_uring
 * on temporary files in /tmp. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "fake_virtq.h"
#include "virtio_blk.h"

static char err[512];

/* ---- --disk parsing -------------------------------------------------- */

static int parse(const char *s, struct virtio_blk_opts *o)
{
	err[0] = '\0';
	return virtio_blk_parse_opt(s, o, err, sizeof(err));
}

TEST(test_parse_ok)
{
	struct virtio_blk_opts o;

	CHECK_EQ(parse("disk.img", &o), 0);
	CHECK(!strcmp(o.path, "disk.img"));
	CHECK_EQ(o.ro, 0);
	CHECK_EQ(o.serial[0], 0);

	CHECK_EQ(parse("/a/b.raw,ro", &o), 0);
	CHECK(!strcmp(o.path, "/a/b.raw"));
	CHECK_EQ(o.ro, 1);

	CHECK_EQ(parse("x,serial=ABC-123,ro", &o), 0);
	CHECK(!strcmp(o.path, "x"));
	CHECK(!strcmp(o.serial, "ABC-123"));
	CHECK_EQ(o.ro, 1);

	/* Exactly 20 bytes is the most GET_ID can carry. */
	CHECK_EQ(parse("x,serial=01234567890123456789", &o), 0);
	CHECK(!strcmp(o.serial, "01234567890123456789"));
}

TEST(test_parse_errors)
{
	struct virtio_blk_opts o;

	CHECK_EQ(parse("", &o), -1);
	CHECK(strstr(err, "empty path"));
	CHECK_EQ(parse(",ro", &o), -1);
	CHECK(strstr(err, "empty path"));

	CHECK_EQ(parse("x,rw", &o), -1);
	CHECK(strstr(err, "unknown option 'rw'"));
	CHECK_EQ(parse("x,ro,cache=none", &o), -1);
	CHECK(strstr(err, "unknown option 'cache=none'"));
	CHECK_EQ(parse("x,", &o), -1);
	CHECK(strstr(err, "empty option"));
	CHECK_EQ(parse("x,ro,ro", &o), -1);
	CHECK(strstr(err, "twice"));

	CHECK_EQ(parse("x,serial=012345678901234567890", &o), -1);
	CHECK(strstr(err, "longer than 20"));
	CHECK_EQ(parse("x,serial=", &o), -1);
	CHECK(strstr(err, "needs a value"));
	CHECK_EQ(parse("x,serial=a,serial=b", &o), -1);
	CHECK(strstr(err, "twice"));
	CHECK_EQ(parse("x,serial=a\tb", &o), -1);
	CHECK(strstr(err, "control"));
}

TEST(test_parse_long_path)
{
	static char s[VIRTIO_BLK_PATH_MAX + 8];
	struct virtio_blk_opts o;

	memset(s, 'a', VIRTIO_BLK_PATH_MAX);
	s[VIRTIO_BLK_PATH_MAX] = '\0';
	CHECK_EQ(parse(s, &o), -1);
	CHECK(strstr(err, "longer than"));
	s[VIRTIO_BLK_PATH_MAX - 1] = '\0';
	CHECK_EQ(parse(s, &o), 0);
}

/* ---- images ---------------------------------------------------------- */

/* A temporary image of size bytes in dir, byte i = pattern(i). */
static void make_image_in(const char *dir, char path[64], uint64_t size,
			  uint8_t seed)
{
	uint8_t buf[4096];
	int fd;

	snprintf(path, 64, "%s/minivmm-blk-XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		abort();
	}
	for (uint64_t off = 0; off < size; off += sizeof(buf)) {
		size_t n = size - off < sizeof(buf) ? size - off : sizeof(buf);

		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)((off + i) * 7 + seed);
		if (pwrite(fd, buf, n, (off_t)off) != (ssize_t)n)
			abort();
	}
	close(fd);
}

static void make_image(char path[64], uint64_t size, uint8_t seed)
{
	make_image_in("/tmp", path, size, seed);
}

static uint64_t file_hash(const char *path)
{
	uint8_t buf[4096];
	uint64_t h = 1469598103934665603ULL;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ buf[i]) * 1099511628211ULL;
	close(fd);
	return h;
}

static void file_read(const char *path, uint64_t off, void *dst, size_t len)
{
	int fd = open(path, O_RDONLY);

	CHECK(fd >= 0);
	CHECK_EQ(pread(fd, dst, len, (off_t)off), (long)len);
	close(fd);
}

static struct virtio_blk *open_disk(const char *path, int ro,
				    const char *serial)
{
	struct virtio_blk_opts o;

	memset(&o, 0, sizeof(o));
	snprintf(o.path, sizeof(o.path), "%s", path);
	o.ro = ro;
	snprintf(o.serial, sizeof(o.serial), "%s", serial ? serial : "");
	err[0] = '\0';
	return virtio_blk_open(&o, err, sizeof(err));
}

TEST(test_open_missing_and_directory)
{
	CHECK(!open_disk("/tmp/minivmm-no-such-disk.img", 0, NULL));
	CHECK(strstr(err, "'/tmp/minivmm-no-such-disk.img'"));
	CHECK(strstr(err, "No such file"));
	CHECK(!open_disk("/tmp/minivmm-no-such-disk.img", 1, NULL));
	CHECK(strstr(err, "No such file"));

	CHECK(!open_disk("/tmp", 0, NULL));
	CHECK(strstr(err, "'/tmp' is a directory"));
	CHECK(!open_disk("/tmp", 1, NULL));
	CHECK(strstr(err, "'/tmp' is a directory"));

	CHECK(!open_disk("/dev/null", 1, NULL));
	CHECK(strstr(err, "not a regular file or block device"));
}

TEST(test_open_bad_sizes)
{
	char path[64];
	struct virtio_blk *b;

	make_image(path, 4096 + 100, 0);
	CHECK(!open_disk(path, 0, NULL));
	CHECK(strstr(err, "not a multiple of 512"));
	unlink(path);

	make_image(path, 0, 0);
	CHECK(!open_disk(path, 0, NULL));
	CHECK(strstr(err, "is empty"));
	unlink(path);

	make_image(path, 3 * 512, 0);
	b = open_disk(path, 0, NULL);
	CHECK(b != NULL);
	if (b)
		CHECK_EQ(virtio_blk_capacity(b), 3);
	virtio_blk_close(b);
	unlink(path);
}

TEST(test_open_locks)
{
	char path[64];
	struct virtio_blk *a, *b;

	make_image(path, 8192, 0);
	/* A writer excludes another writer ... */
	a = open_disk(path, 0, NULL);
	CHECK(a != NULL);
	CHECK(!open_disk(path, 0, NULL));
	CHECK(strstr(err, "is in use by another process (locked)"));
	CHECK(strstr(err, path));
	/* ... and readers. */
	CHECK(!open_disk(path, 1, NULL));
	CHECK(strstr(err, "(locked)"));
	virtio_blk_close(a);	/* the lock goes with the fd */

	/* Readers share; a writer is then refused. */
	a = open_disk(path, 1, NULL);
	b = open_disk(path, 1, NULL);
	CHECK(a != NULL);
	CHECK(b != NULL);
	CHECK(!open_disk(path, 0, NULL));
	CHECK(strstr(err, "(locked)"));
	virtio_blk_close(a);
	virtio_blk_close(b);

	a = open_disk(path, 0, NULL);
	CHECK(a != NULL);
	virtio_blk_close(a);
	unlink(path);
}

/* A file the user may read but not write: refused without ",ro", with a
 * hint.  Root ignores file modes, so as root the check runs in a child
 * that has given up root (main skips the test if that is impossible). */
static int ro_host_file_check(const char *path)
{
	struct virtio_blk *b = open_disk(path, 0, NULL);

	if (b || !strstr(err, "read-only on the host") ||
	    !strstr(err, "add ',ro'")) {
		fprintf(stderr, "  got: %s\n", b ? "(opened)" : err);
		virtio_blk_close(b);
		return 1;
	}
	b = open_disk(path, 1, NULL);
	if (!b) {
		fprintf(stderr, "  ro open: %s\n", err);
		return 1;
	}
	virtio_blk_close(b);
	return 0;
}

static int drop_root(void)
{
	return setgid(65534) || setuid(65534) ? -1 : 0;
}

static int can_drop_root(void)
{
	int status;
	pid_t pid;

	if (geteuid() != 0)
		return 1;
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		_exit(drop_root() ? 1 : 0);
	return pid > 0 && waitpid(pid, &status, 0) == pid &&
	       WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

TEST(test_open_ro_host_file)
{
	char path[64];
	int status = -1;
	pid_t pid;

	make_image(path, 4096, 0);
	CHECK_EQ(chmod(path, 0444), 0);
	if (geteuid() != 0) {
		CHECK_EQ(ro_host_file_check(path), 0);
		unlink(path);
		return;
	}
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(drop_root() ? 2 : ro_host_file_check(path));
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	unlink(path);
}

/* ---- requests -------------------------------------------------------- */

#define QSIZE 16
#define FEATURES (1ULL << VIRTIO_BLK_F_SEG_MAX | 1ULL << VIRTIO_BLK_F_BLK_SIZE | \
		  1ULL << VIRTIO_BLK_F_FLUSH | 1ULL << VIRTIO_BLK_F_DISCARD |	  \
		  1ULL << VIRTIO_BLK_F_WRITE_ZEROES |				  \
		  1ULL << VIRTIO_F_RING_EVENT_IDX |				  \
		  1ULL << VIRTIO_F_RING_INDIRECT_DESC)

/* A disk, a driver and its guest memory. */
struct rig {
	char path[64];
	struct fvq_mem m;
	struct fvq v;
	struct fvq_irq irq;
	struct irq_line line;
	struct virtio_dev d;
	struct virtio_blk *b;
};

/* Opens the image at r->path and starts a driver on it. */
static int rig_open(struct rig *r, int ro, const char *serial, uint16_t qsize)
{
	r->b = open_disk(r->path, ro, serial);
	if (!r->b) {
		fprintf(stderr, "  open: %s\n", err);
		unlink(r->path);
		return -1;
	}
	fvq_mem_init(&r->m, 0x100000, 8 << 20);
	r->line = fvq_irq_line(&r->irq, 5);
	virtio_dev_init(&r->d, &virtio_blk_ops, r->b, &r->m.gm, &r->line);
	fvq_init(&r->v, &r->m, qsize, NULL);
	return fvq_start(&r->d, &r->v, 1,
			 FEATURES | (ro ? 1ULL << VIRTIO_BLK_F_RO : 0));
}

static int rig_up_in(struct rig *r, const char *dir, uint64_t size, int ro,
		     const char *serial, uint16_t qsize)
{
	memset(r, 0, sizeof(*r));
	make_image_in(dir, r->path, size, 0x5a);
	return rig_open(r, ro, serial, qsize);
}

static int rig_up(struct rig *r, uint64_t size, int ro, const char *serial,
		  uint16_t qsize)
{
	return rig_up_in(r, "/tmp", size, ro, serial, qsize);
}

static void rig_down(struct rig *r)
{
	virtio_blk_close(r->b);
	fvq_mem_free(&r->m);
	unlink(r->path);
}

static int needs_reset(struct rig *r)
{
	return !!(fvq_mmio_read(&r->d, VIRTIO_MMIO_STATUS) &
		  VIRTIO_STATUS_NEEDS_RESET);
}

/* Polls the completion eventfd the way the event thread does until n used
 * entries have arrived (or ms pass with nothing); returns how many did. */
static unsigned wait_used_ms(struct rig *r, struct fvq_used *u, unsigned n,
			     int ms)
{
	unsigned got = 0;
	struct pollfd p = { .fd = virtio_blk_ops.poll_fd(&r->d),
			    .events = POLLIN };

	while (got < n && fvq_get_used(&r->v, &u[got]))
		got++;
	while (got < n) {
		if (poll(&p, 1, ms) <= 0)
			break;
		virtio_poll_ready(&r->d);
		while (got < n && fvq_get_used(&r->v, &u[got]))
			got++;
	}
	return got;
}

/* Generous: a loaded machine may take seconds over an fdatasync. */
static unsigned wait_used(struct rig *r, struct fvq_used *u, unsigned n)
{
	return wait_used_ms(r, u, n, 30000);
}

/* Nothing is expected: a short look is enough. */
static unsigned used_soon(struct rig *r, struct fvq_used *u)
{
	return wait_used_ms(r, u, 1, 50);
}

static uint64_t put_hdr(struct rig *r, uint32_t type, uint64_t sector)
{
	uint8_t h[VIRTIO_BLK_HDR_SIZE] = { 0 };
	uint32_t t = htole32(type);
	uint64_t s = htole64(sector);

	memcpy(h, &t, 4);
	memcpy(h + 8, &s, 8);
	return fvq_put(&r->m, h, sizeof(h));
}

static uint64_t put_seg(struct rig *r, uint64_t sector, uint32_t num,
			uint32_t flags)
{
	uint8_t g[VIRTIO_BLK_DWZ_SIZE];
	uint64_t s = htole64(sector);
	uint32_t n = htole32(num), f = htole32(flags);

	memcpy(g, &s, 8);
	memcpy(g + 8, &n, 4);
	memcpy(g + 12, &f, 4);
	return fvq_put(&r->m, g, sizeof(g));
}

static uint64_t new_status(struct rig *r)
{
	uint64_t st = fvq_alloc(&r->m, 1, 1);

	*(uint8_t *)fvq_ptr(&r->m, st, 1) = 0xee;	/* "not written" */
	return st;
}

static uint8_t status_of(struct rig *r, uint64_t st)
{
	return *(uint8_t *)fvq_ptr(&r->m, st, 1);
}

/* One three-part request (header, data, status), kicked and waited for;
 * returns the status byte (0xee if none came) and the used length. */
static uint8_t one_req(struct rig *r, uint32_t type, uint64_t sector,
		       uint64_t data, uint32_t len, int data_writable,
		       uint32_t *used_len)
{
	uint64_t hdr = put_hdr(r, type, sector), st = new_status(r);
	struct fvq_used u = { 0, 0 };
	uint16_t head;

	if (len)
		head = FVQ_ADD(&r->v, { hdr, 16, 0 },
			       { data, len, data_writable }, { st, 1, 1 });
	else
		head = FVQ_ADD(&r->v, { hdr, 16, 0 }, { st, 1, 1 });
	fvq_kick(&r->d, 0);
	CHECK_EQ(wait_used(r, &u, 1), 1);
	CHECK_EQ(u.id, head);
	if (used_len)
		*used_len = u.len;
	return status_of(r, st);
}

static uint32_t cfg32(struct rig *r, unsigned off)
{
	return fvq_mmio_read(&r->d, VIRTIO_MMIO_CONFIG + off);
}

TEST(test_features_and_config)
{
	struct rig r;
	uint64_t f;
	uint8_t byte = 0;

	CHECK_EQ(rig_up(&r, 1 << 20, 0, NULL, QSIZE), 0);
	CHECK_EQ(fvq_mmio_read(&r.d, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
	CHECK_EQ(fvq_mmio_read(&r.d, VIRTIO_MMIO_QUEUE_NUM_MAX),
		 VIRTIO_BLK_QUEUE_SIZE);
	fvq_mmio_write(&r.d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	f = fvq_mmio_read(&r.d, VIRTIO_MMIO_DEVICE_FEATURES);
	fvq_mmio_write(&r.d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	f |= (uint64_t)fvq_mmio_read(&r.d, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	CHECK(f & 1ULL << VIRTIO_BLK_F_SEG_MAX);
	CHECK(f & 1ULL << VIRTIO_BLK_F_BLK_SIZE);
	CHECK(f & 1ULL << VIRTIO_BLK_F_FLUSH);
	CHECK(f & 1ULL << VIRTIO_BLK_F_DISCARD);
	CHECK(f & 1ULL << VIRTIO_BLK_F_WRITE_ZEROES);
	CHECK(f & 1ULL << VIRTIO_F_VERSION_1);
	CHECK(!(f & 1ULL << VIRTIO_BLK_F_RO));
	CHECK(!(f & 1ULL << VIRTIO_BLK_F_MQ));
	CHECK(!(f & 1ULL << VIRTIO_BLK_F_CONFIG_WCE));

	CHECK_EQ(cfg32(&r, VIRTIO_BLK_CFG_CAPACITY), 2048);
	CHECK_EQ(cfg32(&r, VIRTIO_BLK_CFG_CAPACITY + 4), 0);
	CHECK_EQ(cfg32(&r, VIRTIO_BLK_CFG_SEG_MAX), VIRTIO_BLK_QUEUE_SIZE - 2);
	CHECK_EQ(cfg32(&r, VIRTIO_BLK_CFG_BLK_SIZE), 512);
	CHECK_EQ(cfg32(&r, VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS),
		 VIRTIO_BLK_MAX_DWZ_SECTORS);
	CHECK_EQ(cfg32(&r, VIRTIO_BLK_CFG_MAX_DISCARD_SEG), 1);
	CHECK(cfg32(&r, VIRTIO_BLK_CFG_DISCARD_ALIGN) >= 1);
	CHECK_EQ(cfg32(&r, VIRTIO_BLK_CFG_MAX_WZ_SECTORS),
		 VIRTIO_BLK_MAX_DWZ_SECTORS);
	CHECK_EQ(cfg32(&r, VIRTIO_BLK_CFG_MAX_WZ_SEG), 1);
	virtio_mmio_ops.read(&r.d, VIRTIO_MMIO_CONFIG + VIRTIO_BLK_CFG_WZ_MAY_UNMAP,
			     &byte, 1);
	CHECK_EQ(byte, 1);
	/* 64-bit capacity read in one go, and nothing past the end. */
	{
		uint64_t cap = 0;

		virtio_mmio_ops.read(&r.d, VIRTIO_MMIO_CONFIG, (uint8_t *)&cap, 8);
		CHECK_EQ(le64toh(cap), 2048);
	}
	CHECK_EQ(cfg32(&r, VIRTIO_BLK_CFG_SIZE), 0);
	rig_down(&r);

	CHECK_EQ(rig_up(&r, 4096, 1, NULL, QSIZE), 0);
	fvq_mmio_write(&r.d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	CHECK(fvq_mmio_read(&r.d, VIRTIO_MMIO_DEVICE_FEATURES) &
	      1u << VIRTIO_BLK_F_RO);
	CHECK_EQ(cfg32(&r, VIRTIO_BLK_CFG_CAPACITY), 8);
	rig_down(&r);
}

TEST(test_write_then_read_back)
{
	struct rig r;
	uint8_t want[8 * 512], got[8 * 512];
	uint64_t hdr, d1, d2, d3, st, in1, in2;
	struct fvq_used u;
	uint16_t head;

	CHECK_EQ(rig_up(&r, 1 << 20, 0, NULL, QSIZE), 0);
	for (size_t i = 0; i < sizeof(want); i++)
		want[i] = (uint8_t)(i * 13 + 1);

	/* Header and data sharing descriptors (any layout): the first
	 * buffer is the header plus 100 data bytes. */
	{
		uint8_t first[16 + 100];
		uint64_t h = put_hdr(&r, VIRTIO_BLK_T_OUT, 5);

		memcpy(first, fvq_ptr(&r.m, h, 16), 16);
		memcpy(first + 16, want, 100);
		hdr = fvq_put(&r.m, first, sizeof(first));
	}
	d1 = fvq_put(&r.m, want + 100, 1000);
	d2 = fvq_put(&r.m, want + 1100, 2000);
	d3 = fvq_put(&r.m, want + 3100, sizeof(want) - 3100);
	st = new_status(&r);
	head = FVQ_ADD(&r.v, { hdr, 116, 0 }, { d1, 1000, 0 }, { d2, 2000, 0 },
		       { d3, sizeof(want) - 3100, 0 }, { st, 1, 1 });
	fvq_kick(&r.d, 0);
	CHECK_EQ(wait_used(&r, &u, 1), 1);
	CHECK_EQ(u.id, head);
	CHECK_EQ(u.len, 1);
	CHECK_EQ(status_of(&r, st), VIRTIO_BLK_S_OK);
	CHECK(r.irq.pulses >= 1);
	file_read(r.path, 5 * 512, got, sizeof(got));
	CHECK(!memcmp(got, want, sizeof(want)));

	/* Read it back into two buffers, the second sharing the status
	 * byte's descriptor. */
	hdr = put_hdr(&r, VIRTIO_BLK_T_IN, 5);
	in1 = fvq_alloc(&r.m, 3000, 8);
	in2 = fvq_alloc(&r.m, sizeof(want) - 3000 + 1, 8);
	head = FVQ_ADD(&r.v, { hdr, 16, 0 }, { in1, 3000, 1 },
		       { in2, sizeof(want) - 3000 + 1, 1 });
	fvq_kick(&r.d, 0);
	CHECK_EQ(wait_used(&r, &u, 1), 1);
	CHECK_EQ(u.id, head);
	CHECK_EQ(u.len, sizeof(want) + 1);
	CHECK(!memcmp(fvq_ptr(&r.m, in1, 3000), want, 3000));
	CHECK(!memcmp(fvq_ptr(&r.m, in2, sizeof(want) - 3000), want + 3000,
		      sizeof(want) - 3000));
	CHECK_EQ(*(uint8_t *)fvq_ptr(&r.m, in2 + sizeof(want) - 3000, 1),
		 VIRTIO_BLK_S_OK);
	CHECK(!needs_reset(&r));
	rig_down(&r);
}

TEST(test_indirect_read)
{
	struct rig r;
	uint8_t want[1024];
	uint64_t hdr, in, st;
	struct fvq_used u;
	uint16_t head;

	CHECK_EQ(rig_up(&r, 64 * 512, 0, NULL, QSIZE), 0);
	file_read(r.path, 3 * 512, want, sizeof(want));
	hdr = put_hdr(&r, VIRTIO_BLK_T_IN, 3);
	in = fvq_alloc(&r.m, sizeof(want), 8);
	st = new_status(&r);
	head = fvq_add_indirect(&r.v, (const struct fvq_buf[]){
		{ hdr, 16, 0 }, { in, 512, 1 }, { in + 512, 512, 1 },
		{ st, 1, 1 } }, 4);
	fvq_kick(&r.d, 0);
	CHECK_EQ(wait_used(&r, &u, 1), 1);
	CHECK_EQ(u.id, head);
	CHECK_EQ(status_of(&r, st), VIRTIO_BLK_S_OK);
	CHECK(!memcmp(fvq_ptr(&r.m, in, sizeof(want)), want, sizeof(want)));
	rig_down(&r);
}

/* All requests of one kick are submitted before any completion is
 * reaped: nothing is used until the eventfd is served. */
TEST(test_many_in_flight)
{
	enum { N = QSIZE / 3, SZ = 4096 };	/* 3 descriptors each */
	struct rig r;
	uint64_t st[N], data[N];
	uint16_t head[N];
	struct fvq_used u[N];
	uint8_t buf[SZ];
	int seen[N] = { 0 };

	CHECK_EQ(rig_up(&r, 1 << 20, 0, NULL, QSIZE), 0);
	for (unsigned i = 0; i < N; i++) {
		memset(buf, 0x30 + i, sizeof(buf));
		data[i] = fvq_put(&r.m, buf, SZ);
		st[i] = new_status(&r);
		head[i] = FVQ_ADD(&r.v,
				  { put_hdr(&r, VIRTIO_BLK_T_OUT, 16 * i), 16, 0 },
				  { data[i], SZ, 0 }, { st[i], 1, 1 });
	}
	fvq_kick(&r.d, 0);
	CHECK_EQ(r.d.vq[0].last_avail, N);
	CHECK_EQ(fvq_used_idx(&r.v), 0);
	CHECK_EQ(wait_used(&r, u, N), N);
	for (unsigned i = 0; i < N; i++)
		for (unsigned k = 0; k < N; k++)
			if (u[i].id == head[k])
				seen[k]++;
	for (unsigned i = 0; i < N; i++) {
		CHECK_EQ(seen[i], 1);
		CHECK_EQ(status_of(&r, st[i]), VIRTIO_BLK_S_OK);
		file_read(r.path, 16 * 512 * (uint64_t)i, buf, SZ);
		CHECK_EQ(buf[0], 0x30 + i);
		CHECK_EQ(buf[SZ - 1], 0x30 + i);
	}
	rig_down(&r);
}

/* A driver that publishes more chains than the queue holds (reusing heads
 * still in flight) does not get more than a queue's worth in flight; the
 * rest wait in the ring until completions free slots. */
TEST(test_in_flight_bounded_by_queue)
{
	enum { Q = 4 };
	struct rig r;
	struct fvq_used u[2 * Q];
	uint64_t in;

	CHECK_EQ(rig_up(&r, 1 << 20, 0, NULL, Q), 0);
	in = fvq_alloc(&r.m, 513, 8);
	/* Two chains: a header, then 512 data bytes + status in one. */
	for (unsigned c = 0; c < 2; c++) {
		fvq_set_desc(&r.v, 2 * c, put_hdr(&r, VIRTIO_BLK_T_IN, c), 16,
			     VIRTQ_DESC_F_NEXT, (uint16_t)(2 * c + 1));
		fvq_set_desc(&r.v, 2 * c + 1, in, 513, VIRTQ_DESC_F_WRITE, 0);
	}
	for (unsigned k = 0; k < Q; k++)
		fvq_publish(&r.v, (uint16_t)(2 * (k % 2)));
	fvq_kick(&r.d, 0);
	CHECK_EQ(r.d.vq[0].last_avail, Q);
	/* Q more behind them: they must wait for free slots. */
	for (unsigned k = 0; k < Q; k++)
		fvq_publish(&r.v, (uint16_t)(2 * (k % 2)));
	fvq_kick(&r.d, 0);
	CHECK_EQ(r.d.vq[0].last_avail, Q);
	CHECK_EQ(fvq_used_idx(&r.v), 0);
	CHECK_EQ(wait_used(&r, u, 2 * Q), 2 * Q);
	for (unsigned k = 0; k < 2 * Q; k++)
		CHECK_EQ(u[k].len, 513);
	CHECK_EQ(r.d.vq[0].last_avail, 2 * Q);
	CHECK(!needs_reset(&r));
	rig_down(&r);
}

TEST(test_flush)
{
	struct rig r;
	uint32_t len = 0;
	uint8_t buf[512];

	CHECK_EQ(rig_up(&r, 1 << 16, 0, NULL, QSIZE), 0);
	memset(buf, 0x77, sizeof(buf));
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_OUT, 1, fvq_put(&r.m, buf, 512), 512,
			 0, NULL), VIRTIO_BLK_S_OK);
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_FLUSH, 0, 0, 0, 0, &len),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(len, 1);
	rig_down(&r);

	/* Flushing a read-only disk is harmless. */
	CHECK_EQ(rig_up(&r, 1 << 16, 1, NULL, QSIZE), 0);
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_FLUSH, 0, 0, 0, 0, NULL),
		 VIRTIO_BLK_S_OK);
	rig_down(&r);
}

TEST(test_get_id)
{
	struct rig r;
	uint32_t len = 0;
	uint64_t id;
	static const uint8_t want[20] = "minivmm-0001";
	static const uint8_t zero[20];

	CHECK_EQ(rig_up(&r, 4096, 0, "minivmm-0001", QSIZE), 0);
	id = fvq_alloc(&r.m, 20, 8);
	memset(fvq_ptr(&r.m, id, 20), 0xff, 20);
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_GET_ID, 0, id, 20, 1, &len),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(len, 21);
	CHECK(!memcmp(fvq_ptr(&r.m, id, 20), want, 20));
	rig_down(&r);

	CHECK_EQ(rig_up(&r, 4096, 0, NULL, QSIZE), 0);
	id = fvq_alloc(&r.m, 20, 8);
	memset(fvq_ptr(&r.m, id, 20), 0xff, 20);
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_GET_ID, 0, id, 20, 1, NULL),
		 VIRTIO_BLK_S_OK);
	CHECK(!memcmp(fvq_ptr(&r.m, id, 20), zero, 20));
	rig_down(&r);
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

TEST(test_discard_and_write_zeroes)
{
	struct rig r;
	uint8_t before[64 * 512], after[64 * 512];
	uint64_t seg;

	CHECK_EQ(rig_up(&r, sizeof(before), 0, NULL, QSIZE), 0);
	file_read(r.path, 0, before, sizeof(before));

	seg = put_seg(&r, 8, 8, 0);
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_DISCARD, 0, seg, 16, 0, NULL),
		 VIRTIO_BLK_S_OK);
	seg = put_seg(&r, 20, 5, 0);
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_WRITE_ZEROES, 0, seg, 16, 0, NULL),
		 VIRTIO_BLK_S_OK);
	seg = put_seg(&r, 40, 16, VIRTIO_BLK_WZ_F_UNMAP);
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_WRITE_ZEROES, 0, seg, 16, 0, NULL),
		 VIRTIO_BLK_S_OK);
	file_read(r.path, 0, after, sizeof(after));
	CHECK(!memcmp(after, before, 8 * 512));
	CHECK(all_zero(after + 8 * 512, 8 * 512));
	CHECK(!memcmp(after + 16 * 512, before + 16 * 512, 4 * 512));
	CHECK(all_zero(after + 20 * 512, 5 * 512));
	CHECK(!memcmp(after + 25 * 512, before + 25 * 512, 15 * 512));
	CHECK(all_zero(after + 40 * 512, 16 * 512));
	CHECK(!memcmp(after + 56 * 512, before + 56 * 512, 8 * 512));

	/* What the spec calls UNSUPP: unmap on a discard, unknown flags,
	 * more segments than offered. */
	seg = put_seg(&r, 0, 1, VIRTIO_BLK_WZ_F_UNMAP);
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_DISCARD, 0, seg, 16, 0, NULL),
		 VIRTIO_BLK_S_UNSUPP);
	seg = put_seg(&r, 0, 1, 2);
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_WRITE_ZEROES, 0, seg, 16, 0, NULL),
		 VIRTIO_BLK_S_UNSUPP);
	seg = put_seg(&r, 0, 1, 0);
	put_seg(&r, 2, 1, 0);	/* right behind it */
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_DISCARD, 0, seg, 32, 0, NULL),
		 VIRTIO_BLK_S_UNSUPP);
	/* And IOERR: beyond the disk, too big, half a segment. */
	seg = put_seg(&r, 60, 5, 0);
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_WRITE_ZEROES, 0, seg, 16, 0, NULL),
		 VIRTIO_BLK_S_IOERR);
	seg = put_seg(&r, 0, VIRTIO_BLK_MAX_DWZ_SECTORS + 1, 0);
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_DISCARD, 0, seg, 16, 0, NULL),
		 VIRTIO_BLK_S_IOERR);
	seg = put_seg(&r, UINT64_MAX / 512, 1, 0);
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_DISCARD, 0, seg, 16, 0, NULL),
		 VIRTIO_BLK_S_IOERR);
	seg = put_seg(&r, 0, 1, 0);
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_DISCARD, 0, seg, 8, 0, NULL),
		 VIRTIO_BLK_S_IOERR);
	file_read(r.path, 0, before, sizeof(before));
	CHECK(!memcmp(after, before, sizeof(after)));
	CHECK(!needs_reset(&r));
	rig_down(&r);
}

/* Where the file system cannot zero a range in place (tmpfs has no
 * ZERO_RANGE), zeroes are written, in several pieces for a big range. */
TEST(test_write_zeroes_fallback)
{
	enum { SECTORS = 512 };
	static uint8_t before[SECTORS * 512], after[SECTORS * 512];
	struct rig r;
	int fd;

	if (access("/dev/shm", W_OK)) {
		printf("SKIP test_write_zeroes_fallback: no writable /dev/shm\n");
		return;
	}
	CHECK_EQ(rig_up_in(&r, "/dev/shm", sizeof(before), 0, NULL, QSIZE), 0);
	fd = open(r.path, O_RDWR);
	if (fd >= 0 && !fallocate(fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_ZERO_RANGE,
				  0, 0x1000))
		printf("  note: /dev/shm zeroes ranges in place; the fallback is not reached\n");
	else if (fd >= 0)
		CHECK_EQ(errno, EOPNOTSUPP);
	close(fd);
	file_read(r.path, 0, before, sizeof(before));
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_WRITE_ZEROES, 0,
			 put_seg(&r, 10, SECTORS - 20, 0), 16, 0, NULL),
		 VIRTIO_BLK_S_OK);
	file_read(r.path, 0, after, sizeof(after));
	CHECK(!memcmp(after, before, 10 * 512));
	CHECK(all_zero(after + 10 * 512, (SECTORS - 20) * 512));
	CHECK(!memcmp(after + (SECTORS - 10) * 512,
		      before + (SECTORS - 10) * 512, 10 * 512));
	rig_down(&r);
}

TEST(test_out_of_range)
{
	struct rig r;
	uint64_t h, buf;
	uint32_t len = 0;

	CHECK_EQ(rig_up(&r, 16 * 512, 0, NULL, QSIZE), 0);
	h = file_hash(r.path);
	buf = fvq_alloc(&r.m, 1024, 8);
	memset(fvq_ptr(&r.m, buf, 1024), 0xcc, 1024);

	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_IN, 16, buf, 512, 1, &len),
		 VIRTIO_BLK_S_IOERR);
	CHECK_EQ(len, 1);
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_OUT, 15, buf, 1024, 0, NULL),
		 VIRTIO_BLK_S_IOERR);
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_OUT, 1ULL << 60, buf, 512, 0, NULL),
		 VIRTIO_BLK_S_IOERR);
	/* sector * 512 overflows 64 bits, and wraps to a small offset. */
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_OUT, (UINT64_MAX >> 9) + 1, buf, 512,
			 0, NULL), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_OUT, UINT64_MAX, buf, 512, 0, NULL),
		 VIRTIO_BLK_S_IOERR);
	/* Not whole sectors. */
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_OUT, 0, buf, 500, 0, NULL),
		 VIRTIO_BLK_S_IOERR);
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_IN, 0, buf, 100, 1, NULL),
		 VIRTIO_BLK_S_IOERR);
	CHECK_EQ(file_hash(r.path), h);
	/* Unknown request types. */
	CHECK_EQ(one_req(&r, 99, 0, buf, 512, 1, NULL), VIRTIO_BLK_S_UNSUPP);
	CHECK_EQ(one_req(&r, 10 /* GET_LIFETIME */, 0, buf, 512, 1, NULL),
		 VIRTIO_BLK_S_UNSUPP);
	/* The last sector itself is fine, and the device still works. */
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_OUT, 15, buf, 512, 0, NULL),
		 VIRTIO_BLK_S_OK);
	CHECK(!needs_reset(&r));
	rig_down(&r);
}

TEST(test_read_only_refuses_writes)
{
	struct rig r;
	uint64_t h, buf;

	CHECK_EQ(rig_up(&r, 16 * 512, 1, NULL, QSIZE), 0);
	h = file_hash(r.path);
	buf = fvq_alloc(&r.m, 512, 8);
	memset(fvq_ptr(&r.m, buf, 512), 0xcc, 512);
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_OUT, 0, buf, 512, 0, NULL),
		 VIRTIO_BLK_S_IOERR);
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_DISCARD, 0, put_seg(&r, 0, 4, 0), 16,
			 0, NULL), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_WRITE_ZEROES, 0,
			 put_seg(&r, 0, 4, 0), 16, 0, NULL), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(file_hash(r.path), h);
	/* Reading still works. */
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_IN, 1, buf, 512, 1, NULL),
		 VIRTIO_BLK_S_OK);
	{
		uint8_t want[512];

		file_read(r.path, 512, want, 512);
		CHECK(!memcmp(fvq_ptr(&r.m, buf, 512), want, 512));
	}
	CHECK(!needs_reset(&r));
	rig_down(&r);
}

/* What the device tells the user: stderr goes to a file between
 * capture_start and capture_end (CHECKs fail loudly only after it). */
static int capture_saved = -1;
static char capture_path[64];

static void capture_start(void)
{
	int fd;

	fflush(stderr);
	snprintf(capture_path, sizeof(capture_path), "/tmp/minivmm-stderr-XXXXXX");
	fd = mkstemp(capture_path);
	if (fd < 0)
		abort();
	capture_saved = dup(2);
	dup2(fd, 2);
	close(fd);
}

/* Returns what was written, NUL-terminated, in buf. */
static const char *capture_end(char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fflush(stderr);
	dup2(capture_saved, 2);
	close(capture_saved);
	fd = open(capture_path, O_RDONLY);
	n = fd < 0 ? -1 : read(fd, buf, len - 1);
	buf[n < 0 ? 0 : n] = '\0';
	if (fd >= 0)
		close(fd);
	unlink(capture_path);
	return buf;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The image shrank under us (another program truncated it): the read past
 * the new end gets IOERR, not a hang, a crash, or OK over a buffer left
 * half stale; the user hears of it once. */
TEST(test_image_shrunk)
{
	struct rig r;
	uint64_t buf;
	uint8_t want[512];
	uint32_t len = 0;
	char msg[2048];

	CHECK_EQ(rig_up(&r, 16 * 512, 0, NULL, QSIZE), 0);
	CHECK_EQ(truncate(r.path, 4 * 512), 0);
	buf = fvq_alloc(&r.m, 1024, 8);
	capture_start();
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_IN, 8, buf, 1024, 1, NULL),
		 VIRTIO_BLK_S_IOERR);
	/* Half there: the first sector is read, the second is not, and the
	 * used length says so (data bytes + the status byte). */
	memset(fvq_ptr(&r.m, buf, 1024), 0xcc, 1024);
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_IN, 3, buf, 1024, 1, &len),
		 VIRTIO_BLK_S_IOERR);
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_IN, 0, buf, 1024, 1, NULL),
		 VIRTIO_BLK_S_OK);
	capture_end(msg, sizeof(msg));
	CHECK_EQ(len, 512 + 1);
	CHECK_EQ(count_lines(msg), 1);
	CHECK(!strncmp(msg, "minivmm: disk '", 15));
	CHECK(strstr(msg, r.path));
	CHECK(strstr(msg, "shorter than the 8192 bytes it had at start"));
	/* Reading what is still there still works. */
	file_read(r.path, 0, want, sizeof(want));
	CHECK(!memcmp(fvq_ptr(&r.m, buf, 512), want, 512));
	CHECK(!needs_reset(&r));
	rig_down(&r);
	if (count_lines(msg) != 1)
		fprintf(stderr, "  stderr was: %s\n", msg);
}

/* The host's disk fills up (here: a 64 KiB tmpfs under a sparse 1 MiB
 * image, in a private mount namespace): writes that find no space get
 * IOERR at once, the device goes on (reads, flushes, NEEDS_RESET never
 * set), and the user gets one message however often the guest retries. */
static void host_disk_full_check(const char *dir)
{
	struct rig r;
	uint64_t buf;
	unsigned i, ok = 0;
	uint8_t st = VIRTIO_BLK_S_OK;
	char msg[2048];
	int fd;

	memset(&r, 0, sizeof(r));
	snprintf(r.path, sizeof(r.path), "%s/disk.img", dir);
	fd = open(r.path, O_RDWR | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0);
	CHECK_EQ(ftruncate(fd, 1 << 20), 0);
	close(fd);
	CHECK_EQ(rig_open(&r, 0, NULL, QSIZE), 0);
	buf = fvq_alloc(&r.m, 16 << 10, 8);
	memset(fvq_ptr(&r.m, buf, 16 << 10), 0xab, 16 << 10);
	capture_start();
	/* 16 KiB at a time: a 64 KiB tmpfs is full after four at most. */
	for (i = 0; i < 64 && st == VIRTIO_BLK_S_OK; i++) {
		st = one_req(&r, VIRTIO_BLK_T_OUT, i * 32, buf, 16 << 10, 0, NULL);
		ok += st == VIRTIO_BLK_S_OK;
	}
	/* Again, and zeroes (fallocate or writes): no second message. */
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_OUT, 1000, buf, 16 << 10, 0, NULL),
		 VIRTIO_BLK_S_IOERR);
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_WRITE_ZEROES, 0,
			 put_seg(&r, 1200, 64, 0), 16, 0, NULL),
		 VIRTIO_BLK_S_IOERR);
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_FLUSH, 0, 0, 0, 0, NULL),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_IN, 0, buf, 512, 1, NULL),
		 VIRTIO_BLK_S_OK);
	capture_end(msg, sizeof(msg));
	CHECK_EQ(st, VIRTIO_BLK_S_IOERR);
	CHECK(ok <= 4);
	CHECK_EQ(count_lines(msg), 1);
	CHECK(!strncmp(msg, "minivmm: disk '", 15));
	CHECK(strstr(msg, r.path));
	CHECK(strstr(msg, "the host disk is full (No space left on device)"));
	CHECK(!needs_reset(&r));
	if (count_lines(msg) != 1)
		fprintf(stderr, "  stderr was: %s\n", msg);
	rig_down(&r);
}

/* A child in its own mount namespace (a user namespace too when not
 * root) mounts the small tmpfs: 77 when that is impossible here. */
static int own_mount_ns(void)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	char map[64];
	int fd;

	if (uid == 0 && !unshare(CLONE_NEWNS))
		return 0;
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS))
		return -1;
	fd = open("/proc/self/setgroups", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "deny", 4) != 4) { /* old kernels: no such file */ }
		close(fd);
	}
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
	fd = open("/proc/self/uid_map", O_WRONLY);
	if (fd < 0 || write(fd, map, strlen(map)) < 0)
		return -1;
	close(fd);
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
	fd = open("/proc/self/gid_map", O_WRONLY);
	if (fd < 0 || write(fd, map, strlen(map)) < 0)
		return -1;
	close(fd);
	return 0;
}

static int host_disk_full_child(void)
{
	char dir[] = "/tmp/minivmm-full-XXXXXX";

	/* Private first, or the mount would show in the parent's namespace. */
	if (own_mount_ns() || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    !mkdtemp(dir))
		return 77;
	if (mount("tmpfs", dir, "tmpfs", 0, "size=64k")) {
		rmdir(dir);
		return 77;
	}
	host_disk_full_check(dir);
	umount(dir);
	rmdir(dir);
	return check_failed_in_test;
}

TEST(test_host_disk_full)
{
	int status = -1;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(host_disk_full_child());
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
		printf("SKIP test_host_disk_full: cannot mount a small tmpfs "
		       "(no mount namespace here)\n");
		return;
	}
	CHECK_EQ(WEXITSTATUS(status), 0);
}

/* Chains that cannot be requests: DEVICE_NEEDS_RESET, nothing written,
 * and the device works again after the driver resets it. */
static void expect_needs_reset(struct rig *r, const struct fvq_buf *bufs,
			       unsigned n, uint64_t st)
{
	uint16_t used = fvq_used_idx(&r->v);
	struct fvq_used u;

	fvq_add(&r->v, bufs, n);
	fvq_kick(&r->d, 0);
	CHECK(needs_reset(r));
	CHECK_EQ(used_soon(r, &u), 0);
	if (st)
		CHECK_EQ(status_of(r, st), 0xee);
	/* Kicks are ignored until reset. */
	fvq_kick(&r->d, 0);
	CHECK_EQ(fvq_used_idx(&r->v), used);
	fvq_init(&r->v, &r->m, QSIZE, NULL);
	CHECK_EQ(fvq_start(&r->d, &r->v, 1, FEATURES), 0);
	CHECK(!needs_reset(r));
	CHECK_EQ(one_req(r, VIRTIO_BLK_T_FLUSH, 0, 0, 0, 0, NULL),
		 VIRTIO_BLK_S_OK);
}

TEST(test_malformed_chains_need_reset)
{
	struct rig r;
	uint64_t h, hdr, data, st;

	CHECK_EQ(rig_up(&r, 16 * 512, 0, NULL, QSIZE), 0);
	h = file_hash(r.path);
	hdr = put_hdr(&r, VIRTIO_BLK_T_OUT, 0);
	data = fvq_alloc(&r.m, 512, 8);

	/* Header too short. */
	st = new_status(&r);
	expect_needs_reset(&r, (const struct fvq_buf[]){
		{ hdr, 8, 0 }, { st, 1, 1 } }, 2, st);
	/* No writable status byte at all. */
	expect_needs_reset(&r, (const struct fvq_buf[]){
		{ hdr, 16, 0 }, { data, 512, 0 } }, 2, 0);
	/* The "status byte" is readable. */
	st = new_status(&r);
	expect_needs_reset(&r, (const struct fvq_buf[]){
		{ hdr, 16, 0 }, { data, 512, 0 }, { st, 1, 0 } }, 3, st);
	/* A readable buffer after the writable ones (the walker refuses). */
	st = new_status(&r);
	expect_needs_reset(&r, (const struct fvq_buf[]){
		{ hdr, 16, 0 }, { st, 1, 1 }, { data, 512, 0 } }, 3, st);
	/* Data outside guest memory. */
	st = new_status(&r);
	expect_needs_reset(&r, (const struct fvq_buf[]){
		{ hdr, 16, 0 }, { 0xfffffffffffff000ULL, 4096, 0 },
		{ st, 1, 1 } }, 3, st);
	CHECK_EQ(file_hash(r.path), h);
	rig_down(&r);
}

/* Resetting with reads in flight: the reset waits for them, nothing is
 * pushed to the (now forgotten) rings, and the device starts afresh. */
TEST(test_reset_with_requests_in_flight)
{
	enum { N = 5 };
	struct rig r;
	uint64_t st[N];
	struct fvq_used u;

	CHECK_EQ(rig_up(&r, 1 << 20, 0, NULL, QSIZE), 0);
	for (unsigned i = 0; i < N; i++) {
		st[i] = new_status(&r);
		FVQ_ADD(&r.v, { put_hdr(&r, VIRTIO_BLK_T_IN, 8 * i), 16, 0 },
			{ fvq_alloc(&r.m, 4096, 8), 4096, 1 }, { st[i], 1, 1 });
	}
	fvq_kick(&r.d, 0);
	fvq_mmio_write(&r.d, VIRTIO_MMIO_STATUS, 0);
	CHECK_EQ(fvq_used_idx(&r.v), 0);
	for (unsigned i = 0; i < N; i++)
		CHECK_EQ(status_of(&r, st[i]), 0xee);
	/* Any completion signal left over finds nothing to deliver. */
	virtio_poll_ready(&r.d);
	CHECK_EQ(fvq_used_idx(&r.v), 0);

	fvq_init(&r.v, &r.m, QSIZE, NULL);
	CHECK_EQ(fvq_start(&r.d, &r.v, 1, FEATURES), 0);
	CHECK_EQ(one_req(&r, VIRTIO_BLK_T_IN, 0, fvq_alloc(&r.m, 512, 8), 512,
			 1, NULL), VIRTIO_BLK_S_OK);
	CHECK_EQ(used_soon(&r, &u), 0);
	rig_down(&r);
}

/* Closing with requests in flight waits for them (ASan would see a use
 * after free of the iovecs otherwise). */
TEST(test_close_with_requests_in_flight)
{
	struct rig r;

	CHECK_EQ(rig_up(&r, 1 << 20, 0, NULL, QSIZE), 0);
	for (unsigned i = 0; i < 4; i++)
		FVQ_ADD(&r.v, { put_hdr(&r, VIRTIO_BLK_T_OUT, 8 * i), 16, 0 },
			{ fvq_alloc(&r.m, 4096, 8), 4096, 0 },
			{ new_status(&r), 1, 1 });
	fvq_kick(&r.d, 0);
	rig_down(&r);
	CHECK(1);
}

int main(void)
{
	RUN(test_parse_ok);
	RUN(test_parse_errors);
	RUN(test_parse_long_path);
	RUN(test_open_missing_and_directory);
	RUN(test_open_bad_sizes);
	RUN(test_open_locks);
	if (can_drop_root())
		RUN(test_open_ro_host_file);
	else
		printf("SKIP test_open_ro_host_file (root, and cannot setuid to nobody)\n");
	RUN(test_features_and_config);
	RUN(test_write_then_read_back);
	RUN(test_indirect_read);
	RUN(test_many_in_flight);
	RUN(test_in_flight_bounded_by_queue);
	RUN(test_flush);
	RUN(test_get_id);
	RUN(test_discard_and_write_zeroes);
	RUN(test_write_zeroes_fallback);
	RUN(test_out_of_range);
	RUN(test_read_only_refuses_writes);
	RUN(test_image_shrunk);
	RUN(test_host_disk_full);
	RUN(test_malformed_chains_need_reset);
	RUN(test_reset_with_requests_in_flight);
	RUN(test_close_with_requests_in_flight);
	return CHECK_DONE();
}
