/* virtio-gpu driven by a fake guest driver through the virtio-mmio
 * transport: display info and EDID, drawing into a resource and seeing
 * exactly those pixels on the display and in a PNG, every error a
 * hostile driver can provoke (each answered with the right response and
 * the device still working), fences, the cursor queue and resets. */
#include <png.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "display.h"
#include "fake_virtq.h"
#include "virtio_gpu.h"

#define MEM_GPA		0x100000ULL
#define MEM_SIZE	(8ULL << 20)
#define QSIZE		64
#define CTRL		VIRTIO_GPU_CONTROLQ
#define CURS		VIRTIO_GPU_CURSORQ
#define F_EDID		(1ULL << VIRTIO_GPU_F_EDID)
#define MODE_W		1024
#define MODE_H		768
#define MIRROR		64	/* the recording display keeps 64x64 */

/* ---- a display that records what the device asks of it --------------- */

struct rec {
	struct display d;
	struct display *inner;	/* headless: the real frame store */
	unsigned modes, updates, defines, moves;
	uint32_t mode_w, mode_h;
	struct display_rect last;
	uint8_t pix[MIRROR * MIRROR * 4];	/* what the display shows */
	int cursor_hidden;
	uint8_t cursor[64 * 64 * 4];
	uint32_t hot_x, hot_y;
	int32_t cx, cy;
};

static void rec_set_mode(struct display *d, uint32_t w, uint32_t h)
{
	struct rec *r = d->priv;

	r->modes++;
	r->mode_w = w;
	r->mode_h = h;
	memset(r->pix, 0, sizeof(r->pix));
	r->inner->ops->set_mode(r->inner, w, h);
}

static void rec_update(struct display *d, const uint8_t *src, uint32_t stride,
		       struct display_rect rc)
{
	struct rec *r = d->priv;

	r->updates++;
	r->last = rc;
	/* The device promised a rect inside the mode. */
	CHECK(rc.x + rc.w <= r->mode_w && rc.y + rc.h <= r->mode_h);
	for (uint32_t y = rc.y; y < rc.y + rc.h && y < MIRROR; y++)
		for (uint32_t x = rc.x; x < rc.x + rc.w && x < MIRROR; x++)
			memcpy(r->pix + (y * MIRROR + x) * 4,
			       src + y * stride + x * 4, 4);
	r->inner->ops->update(r->inner, src, stride, rc);
}

static void rec_cursor_define(struct display *d, const uint8_t *argb,
			      uint32_t hot_x, uint32_t hot_y)
{
	struct rec *r = d->priv;

	r->defines++;
	r->cursor_hidden = !argb;
	if (argb)
		memcpy(r->cursor, argb, sizeof(r->cursor));
	r->hot_x = hot_x;
	r->hot_y = hot_y;
}

static void rec_cursor_move(struct display *d, int32_t x, int32_t y)
{
	struct rec *r = d->priv;

	r->moves++;
	r->cx = x;
	r->cy = y;
}

static int rec_screenshot(struct display *d, const char *path, char *err,
			  size_t errlen)
{
	struct rec *r = d->priv;

	return r->inner->ops->screenshot(r->inner, path, err, errlen);
}

static const struct display_ops rec_ops = {
	.name = "recording",
	.set_mode = rec_set_mode,
	.update = rec_update,
	.cursor_define = rec_cursor_define,
	.cursor_move = rec_cursor_move,
	.screenshot = rec_screenshot,
};

/* Pixel (x, y) as the display shows it, 0x00RRGGBB. */
static uint32_t shown(const struct rec *r, uint32_t x, uint32_t y)
{
	const uint8_t *p = r->pix + (y * MIRROR + x) * 4;

	return (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* ---- the environment ------------------------------------------------- */

struct env {
	struct fvq_mem m;
	struct fvq v[2];
	struct fvq_irq irq;
	struct irq_line line;
	struct rec rec;
	struct virtio_gpu *g;
	struct virtio_dev *d;
	uint64_t resp;		/* the response buffer of the last command */
	uint32_t used_len;	/* what the device said it wrote */
};

static void setup_size(struct env *e, uint64_t mem_size)
{
	char err[128];

	memset(e, 0, sizeof(*e));
	fvq_mem_init(&e->m, MEM_GPA, mem_size);
	e->line = fvq_irq_line(&e->irq, 20);
	e->rec.d.ops = &rec_ops;
	e->rec.d.priv = &e->rec;
	e->rec.inner = display_headless_new();
	if (!e->rec.inner)
		abort();
	e->g = virtio_gpu_create(&e->m.gm, &e->line, &e->rec.d, MODE_W, MODE_H,
				 err, sizeof(err));
	if (!e->g)
		abort();
	e->d = virtio_gpu_dev(e->g);
}

static void setup(struct env *e)
{
	setup_size(e, MEM_SIZE);
}

static int start(struct env *e)
{
	fvq_init(&e->v[CTRL], &e->m, QSIZE, NULL);
	fvq_init(&e->v[CURS], &e->m, QSIZE, NULL);
	return fvq_start(e->d, e->v, 2, F_EDID);
}

static void teardown(struct env *e)
{
	virtio_gpu_destroy(e->g);
	e->rec.inner->ops->destroy(e->rec.inner);
	fvq_mem_free(&e->m);
}

static uint32_t status(struct env *e)
{
	return fvq_mmio_read(e->d, VIRTIO_MMIO_STATUS);
}

static int needs_reset(struct env *e)
{
	return !!(status(e) & VIRTIO_STATUS_NEEDS_RESET);
}

static struct virtio_gpu_ctrl_hdr hdr(uint32_t type)
{
	return (struct virtio_gpu_ctrl_hdr){ .type = htole32(type) };
}

static struct virtio_gpu_rect rect(uint32_t x, uint32_t y, uint32_t w,
				   uint32_t h)
{
	return (struct virtio_gpu_rect){ htole32(x), htole32(y), htole32(w),
					 htole32(h) };
}

/* Sends req (len bytes) with a response buffer of cap bytes; returns the
 * response type, or 0 when nothing came back. */
static uint32_t send_cap(struct env *e, const void *req, uint32_t len,
			 uint32_t cap)
{
	struct fvq_used u;
	uint64_t r = fvq_put(&e->m, req, len);
	uint16_t h;
	uint32_t type;

	e->resp = fvq_alloc(&e->m, cap, 8);
	memset(fvq_ptr(&e->m, e->resp, cap), 0xee, cap);
	h = FVQ_ADD(&e->v[CTRL], { r, len, 0 }, { e->resp, cap, 1 });
	fvq_kick(e->d, CTRL);
	if (!fvq_get_used(&e->v[CTRL], &u) || u.id != h)
		return 0;
	e->used_len = u.len;
	memcpy(&type, fvq_ptr(&e->m, e->resp, 4), 4);
	return le32toh(type);
}

static uint32_t send(struct env *e, const void *req, uint32_t len)
{
	return send_cap(e, req, len, sizeof(struct virtio_gpu_resp_edid));
}

#define SEND(e, s) send(e, &(s), sizeof(s))

static const struct virtio_gpu_ctrl_hdr *resp_hdr(struct env *e)
{
	return fvq_ptr(&e->m, e->resp, sizeof(struct virtio_gpu_ctrl_hdr));
}

static uint32_t create(struct env *e, uint32_t id, uint32_t format,
		       uint32_t w, uint32_t h)
{
	struct virtio_gpu_resource_create_2d c = {
		hdr(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D), htole32(id),
		htole32(format), htole32(w), htole32(h) };

	return SEND(e, c);
}

static uint32_t unref(struct env *e, uint32_t id)
{
	struct virtio_gpu_resource_unref c = {
		hdr(VIRTIO_GPU_CMD_RESOURCE_UNREF), htole32(id), 0 };

	return SEND(e, c);
}

static uint32_t detach(struct env *e, uint32_t id)
{
	struct virtio_gpu_resource_unref c = {
		hdr(VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING), htole32(id), 0 };

	return SEND(e, c);
}

/* Attach-backing as Linux sends it: the fixed part and the entries in
 * separate descriptors; nr_entries says nr, n entries are really sent. */
static uint32_t attach_n(struct env *e, uint32_t id, uint32_t nr,
			 const struct virtio_gpu_mem_entry *ents, unsigned n)
{
	struct virtio_gpu_resource_attach_backing c = {
		hdr(VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING), htole32(id),
		htole32(nr) };
	struct fvq_used u;
	uint64_t a = fvq_put(&e->m, &c, sizeof(c));
	uint64_t b = fvq_put(&e->m, ents, n * sizeof(*ents));
	uint16_t h;
	uint32_t type;

	e->resp = fvq_alloc(&e->m, 64, 8);
	if (n)
		h = FVQ_ADD(&e->v[CTRL], { a, sizeof(c), 0 },
			    { b, (uint32_t)(n * sizeof(*ents)), 0 },
			    { e->resp, 64, 1 });
	else
		h = FVQ_ADD(&e->v[CTRL], { a, sizeof(c), 0 }, { e->resp, 64, 1 });
	fvq_kick(e->d, CTRL);
	if (!fvq_get_used(&e->v[CTRL], &u) || u.id != h)
		return 0;
	memcpy(&type, fvq_ptr(&e->m, e->resp, 4), 4);
	return le32toh(type);
}

static struct virtio_gpu_mem_entry ent(uint64_t addr, uint32_t len)
{
	return (struct virtio_gpu_mem_entry){ htole64(addr), htole32(len), 0 };
}

/* One backing entry over len bytes of fresh guest memory; its gpa. */
static uint64_t attach1(struct env *e, uint32_t id, uint32_t len,
			uint32_t *type)
{
	uint64_t gpa = fvq_alloc(&e->m, len, 4096);
	struct virtio_gpu_mem_entry en = ent(gpa, len);

	*type = attach_n(e, id, 1, &en, 1);
	return gpa;
}

static uint32_t set_scanout(struct env *e, uint32_t sid, uint32_t id,
			    struct virtio_gpu_rect r)
{
	struct virtio_gpu_set_scanout c = {
		hdr(VIRTIO_GPU_CMD_SET_SCANOUT), r, htole32(sid), htole32(id) };

	return SEND(e, c);
}

static uint32_t transfer(struct env *e, uint32_t id, struct virtio_gpu_rect r,
			 uint64_t off)
{
	struct virtio_gpu_transfer_to_host_2d c = {
		hdr(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D), r, htole64(off),
		htole32(id), 0 };

	return SEND(e, c);
}

static uint32_t flush(struct env *e, uint32_t id, struct virtio_gpu_rect r)
{
	struct virtio_gpu_resource_flush c = {
		hdr(VIRTIO_GPU_CMD_RESOURCE_FLUSH), r, htole32(id), 0 };

	return SEND(e, c);
}

/* The device still answers a valid command. */
static int works(struct env *e)
{
	struct virtio_gpu_ctrl_hdr c = hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO);

	return SEND(e, c) == VIRTIO_GPU_RESP_OK_DISPLAY_INFO && !needs_reset(e);
}

/* A recognisable colour for pixel (x, y) of resource id. */
static uint32_t colour(uint32_t x, uint32_t y, uint32_t salt)
{
	return ((x * 37 + salt) & 0xff) << 16 | ((y * 11 + salt * 3) & 0xff) << 8 |
	       ((x + y * 5 + salt * 7) & 0xff);
}

/* Writes 0x00RRGGBB c into p in the given format's byte order. */
static void put_px(uint8_t *p, uint32_t format, uint32_t c, uint8_t a)
{
	uint8_t r = (uint8_t)(c >> 16), g = (uint8_t)(c >> 8), b = (uint8_t)c;
	uint8_t v[4];

	switch (format) {
	case VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM:
	case VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM:
		v[0] = b, v[1] = g, v[2] = r, v[3] = a;
		break;
	case VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM:
	case VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM:
		v[0] = a, v[1] = r, v[2] = g, v[3] = b;
		break;
	case VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM:
	case VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM:
		v[0] = r, v[1] = g, v[2] = b, v[3] = a;
		break;
	default:	/* A8B8G8R8, X8B8G8R8 */
		v[0] = a, v[1] = b, v[2] = g, v[3] = r;
		break;
	}
	memcpy(p, v, 4);
}

/* A w x h resource id with one backing entry filled with colour(salt),
 * transferred whole. */
static uint64_t make_res(struct env *e, uint32_t id, uint32_t format,
			 uint32_t w, uint32_t h, uint32_t salt)
{
	uint32_t t;
	uint64_t gpa;
	uint8_t *p;

	CHECK_EQ(create(e, id, format, w, h), VIRTIO_GPU_RESP_OK_NODATA);
	gpa = attach1(e, id, w * h * 4, &t);
	CHECK_EQ(t, VIRTIO_GPU_RESP_OK_NODATA);
	p = fvq_ptr(&e->m, gpa, w * h * 4);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			put_px(p + (y * w + x) * 4, format, colour(x, y, salt),
			       (uint8_t)(x + y));
	CHECK_EQ(transfer(e, id, rect(0, 0, w, h), 0), VIRTIO_GPU_RESP_OK_NODATA);
	return gpa;
}

/* ---- identity, config, display info, EDID ----------------------------- */

TEST(test_id_features_config)
{
	struct env e;

	setup(&e);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_GPU);
	fvq_mmio_write(e.d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_DEVICE_FEATURES) & 0xffffff,
		 F_EDID);
	for (unsigned q = 0; q < 3; q++) {
		fvq_mmio_write(e.d, VIRTIO_MMIO_QUEUE_SEL, q);
		CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_QUEUE_NUM_MAX),
			 q < 2 ? VIRTIO_GPU_QUEUE_SIZE : 0);
	}
	CHECK_EQ(start(&e), 0);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_CONFIG + 0), 0);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_CONFIG + 4), 0);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_CONFIG + 8), 1);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_CONFIG + 12), 0);
	CHECK(works(&e));
	teardown(&e);
}

TEST(test_display_info)
{
	struct env e;
	struct virtio_gpu_ctrl_hdr c = hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
	struct virtio_gpu_resp_display_info *r;

	setup(&e);
	CHECK_EQ(start(&e), 0);
	CHECK_EQ(SEND(&e, c), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	CHECK_EQ(e.used_len, sizeof(*r));
	r = fvq_ptr(&e.m, e.resp, sizeof(*r));
	CHECK_EQ(le32toh(r->hdr.flags), 0);
	CHECK_EQ(le32toh(r->pmodes[0].r.x), 0);
	CHECK_EQ(le32toh(r->pmodes[0].r.y), 0);
	CHECK_EQ(le32toh(r->pmodes[0].r.width), MODE_W);
	CHECK_EQ(le32toh(r->pmodes[0].r.height), MODE_H);
	CHECK_EQ(le32toh(r->pmodes[0].enabled), 1);
	CHECK_EQ(le32toh(r->pmodes[0].flags), 0);
	for (int i = 1; i < VIRTIO_GPU_MAX_SCANOUTS; i++)
		CHECK(!r->pmodes[i].enabled && !r->pmodes[i].r.width);
	/* Nothing beyond the response was touched. */
	CHECK_EQ(*(uint8_t *)fvq_ptr(&e.m, e.resp + sizeof(*r), 1), 0xee);
	teardown(&e);
}

/* Parses an EDID block the way a guest would; returns the preferred
 * (first detailed) mode's size, or 0 on any defect. */
static int parse_edid(const uint8_t *b, uint32_t *w, uint32_t *h)
{
	static const uint8_t magic[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff,
					  0xff, 0 };
	const uint8_t *d = b + 54;
	uint8_t sum = 0;
	int named = 0;

	for (int i = 0; i < 128; i++)
		sum = (uint8_t)(sum + b[i]);
	if (sum || memcmp(b, magic, 8) || b[18] != 1 || b[19] != 4 ||
	    b[126] != 0)
		return 0;
	if (!(d[0] | d[1]))		/* a pixel clock: a timing */
		return 0;
	*w = d[2] | (uint32_t)(d[4] >> 4) << 8;
	*h = d[5] | (uint32_t)(d[7] >> 4) << 8;
	/* Sync pulse widths non-zero (Linux refuses zero), digital sync. */
	if (!(d[9] | (d[11] >> 4 & 3)) || !((d[10] & 0xf) | (d[11] & 3)) ||
	    (d[17] & 0x18) != 0x18 || (d[17] & 0x80))
		return 0;
	/* No established or standard timings competing with it. */
	if (b[35] || b[36] || b[37])
		return 0;
	for (int i = 38; i < 54; i += 2)
		if (b[i] != 1 || b[i + 1] != 1)
			return 0;
	if (!(b[24] & 0x02) || (b[24] & 0x01))
		return 0;
	for (int k = 1; k < 4; k++) {
		const uint8_t *x = b + 54 + 18 * k;

		if (x[0] || x[1] || x[2])
			return 0;	/* only one detailed timing */
		if (x[3] == 0xfc && !memcmp(x + 5, "minivmm\n     ", 13))
			named = 1;
	}
	return named;
}

static uint32_t get_edid(struct env *e, uint32_t scanout)
{
	struct virtio_gpu_get_edid c = { hdr(VIRTIO_GPU_CMD_GET_EDID),
					 htole32(scanout), 0 };

	return SEND(e, c);
}

TEST(test_edid)
{
	struct env e;
	struct virtio_gpu_resp_edid *r;
	uint32_t w = 0, h = 0;

	setup(&e);
	CHECK_EQ(start(&e), 0);
	CHECK_EQ(get_edid(&e, 0), VIRTIO_GPU_RESP_OK_EDID);
	CHECK_EQ(e.used_len, sizeof(*r));
	r = fvq_ptr(&e.m, e.resp, sizeof(*r));
	CHECK_EQ(le32toh(r->size), 128);
	CHECK(parse_edid(r->edid, &w, &h));
	CHECK_EQ(w, MODE_W);
	CHECK_EQ(h, MODE_H);
	for (int i = 128; i < 1024; i++)
		CHECK_EQ(r->edid[i], 0);

	CHECK_EQ(get_edid(&e, 1), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(e.used_len, sizeof(struct virtio_gpu_ctrl_hdr));
	CHECK(works(&e));
	teardown(&e);
}

/* Every size the device accepts has an EDID that says exactly it. */
TEST(test_edid_sizes)
{
	static const uint32_t sizes[][2] = {
		{ 64, 64 }, { 640, 480 }, { 1920, 1080 }, { 2560, 1600 },
		{ 3840, 2160 }, { 4095, 4095 }, { 4095, 64 }, { 257, 4094 },
	};
	uint8_t b[128];

	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		const uint8_t *d = b + 54;
		uint32_t w = 0, h = 0, clock, htotal, vtotal;
		double hz;

		virtio_gpu_edid(b, sizes[i][0], sizes[i][1]);
		CHECK(parse_edid(b, &w, &h));
		CHECK_EQ(w, sizes[i][0]);
		CHECK_EQ(h, sizes[i][1]);
		CHECK(b[21] && b[22]);		/* a physical size */
		/* A clock checkers believe (>= 10 MHz), 60 Hz unless the
		 * 16-bit clock field runs out. */
		clock = d[0] | (uint32_t)d[1] << 8;
		htotal = w + (d[3] | (uint32_t)(d[4] & 0xf) << 8);
		vtotal = h + (d[6] | (uint32_t)(d[7] & 0xf) << 8);
		hz = clock * 10000.0 / htotal / vtotal;
		CHECK(clock >= 1000);
		CHECK(hz > 30 && hz < 60.1);
		if ((uint64_t)htotal * vtotal * 60 < 655350000ULL)
			CHECK(hz > 59.9);
	}
}

TEST(test_resize_event)
{
	struct env e;
	struct virtio_gpu_ctrl_hdr c = hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
	struct virtio_gpu_resp_display_info *r;
	struct virtio_gpu_resp_edid *ed;
	uint32_t gen, w = 0, h = 0;
	char err[128];

	setup(&e);
	CHECK_EQ(start(&e), 0);
	gen = fvq_mmio_read(e.d, VIRTIO_MMIO_CONFIG_GENERATION);
	CHECK_EQ(virtio_gpu_resize(e.g, 800, 600), 0);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_CONFIG + VIRTIO_GPU_CFG_EVENTS_READ),
		 VIRTIO_GPU_EVENT_DISPLAY);
	CHECK(fvq_mmio_read(e.d, VIRTIO_MMIO_CONFIG_GENERATION) != gen);
	CHECK(fvq_mmio_read(e.d, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_ISR_CONFIG);
	CHECK_EQ(e.irq.pulses, 1);
	/* Same size again: no news. */
	CHECK_EQ(virtio_gpu_resize(e.g, 800, 600), 0);
	CHECK_EQ(e.irq.pulses, 1);
	/* Out of range: refused, nothing changes. */
	CHECK_EQ(virtio_gpu_resize(e.g, 0, 600), -1);
	CHECK_EQ(virtio_gpu_resize(e.g, VIRTIO_GPU_MODE_MIN - 1, 600), -1);
	CHECK_EQ(virtio_gpu_resize(e.g, 800, VIRTIO_GPU_MODE_MAX + 1), -1);
	CHECK_EQ(e.irq.pulses, 1);

	CHECK_EQ(SEND(&e, c), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	r = fvq_ptr(&e.m, e.resp, sizeof(*r));
	CHECK_EQ(le32toh(r->pmodes[0].r.width), 800);
	CHECK_EQ(le32toh(r->pmodes[0].r.height), 600);
	CHECK_EQ(get_edid(&e, 0), VIRTIO_GPU_RESP_OK_EDID);
	ed = fvq_ptr(&e.m, e.resp, sizeof(*ed));
	CHECK(parse_edid(ed->edid, &w, &h));
	CHECK(w == 800 && h == 600);

	/* events_clear is write-1-to-clear; other bits and fields stay. */
	fvq_mmio_write(e.d, VIRTIO_MMIO_CONFIG + VIRTIO_GPU_CFG_EVENTS_CLEAR, 2);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_CONFIG), VIRTIO_GPU_EVENT_DISPLAY);
	fvq_mmio_write(e.d, VIRTIO_MMIO_CONFIG + VIRTIO_GPU_CFG_NUM_SCANOUTS, 0);
	fvq_mmio_write(e.d, VIRTIO_MMIO_CONFIG + VIRTIO_GPU_CFG_EVENTS_READ, 1);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_CONFIG), VIRTIO_GPU_EVENT_DISPLAY);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_CONFIG + 8), 1);
	fvq_mmio_write(e.d, VIRTIO_MMIO_CONFIG + VIRTIO_GPU_CFG_EVENTS_CLEAR,
		       VIRTIO_GPU_EVENT_DISPLAY);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_CONFIG), 0);
	teardown(&e);

	/* Bad sizes at creation: a message, no device. */
	memset(&e, 0, sizeof(e));
	fvq_mem_init(&e.m, MEM_GPA, 1 << 20);
	CHECK(!virtio_gpu_create(&e.m.gm, NULL, NULL, 8, 600, err, sizeof(err)));
	CHECK(strstr(err, "8x600") != NULL);
	CHECK(!virtio_gpu_create(&e.m.gm, NULL, NULL, 800, 63, err, sizeof(err)));
	CHECK(!virtio_gpu_create(&e.m.gm, NULL, NULL, 800, 5000, err,
				 sizeof(err)));
	fvq_mem_free(&e.m);
	virtio_gpu_destroy(NULL);
}

/* ---- drawing ----------------------------------------------------------- */

/* Reads an 8-bit RGB PNG back; returns its pixels (caller frees) or NULL. */
static uint8_t *read_png(const char *path, uint32_t *w, uint32_t *h)
{
	png_image img;
	uint8_t *buf;

	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_file(&img, path))
		return NULL;
	/* The file itself: 8-bit colour without alpha. */
	if (img.format != PNG_FORMAT_RGB) {
		png_image_free(&img);
		return NULL;
	}
	buf = malloc(PNG_IMAGE_SIZE(img));
	if (!buf || !png_image_finish_read(&img, NULL, buf, 0, NULL)) {
		free(buf);
		png_image_free(&img);
		return NULL;
	}
	*w = img.width;
	*h = img.height;
	return buf;
}

/* Linux's fbdev path, with the backing scattered over uneven pieces:
 * create, attach, set_scanout, transfer, flush; then the exact pixels on
 * the display and in a PNG screenshot. */
TEST(test_draw_and_screenshot)
{
	const uint32_t W = 40, H = 24, F = VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM;
	struct env e;
	uint64_t piece[3];
	uint32_t len[3] = { 100, 1000, W * H * 4 - 1100 };
	struct virtio_gpu_mem_entry ents[3];
	char path[] = "/tmp/minivmm-gpu-XXXXXX", png[64], err[128];
	uint8_t *px;
	uint32_t pw = 0, ph = 0;
	int ok = 1;

	setup(&e);
	CHECK_EQ(start(&e), 0);
	CHECK_EQ(create(&e, 7, F, W, H), VIRTIO_GPU_RESP_OK_NODATA);
	for (int i = 0; i < 3; i++) {
		piece[i] = fvq_alloc(&e.m, len[i], 8);
		fvq_alloc(&e.m, 24, 8);		/* gaps between pieces */
		ents[i] = ent(piece[i], len[i]);
	}
	CHECK_EQ(attach_n(&e, 7, 3, ents, 3), VIRTIO_GPU_RESP_OK_NODATA);
	for (uint32_t i = 0; i < W * H; i++) {
		uint8_t p[4];
		uint64_t off = i * 4ULL;

		put_px(p, F, colour(i % W, i / W, 1), 0);
		for (int b = 0; b < 4; b++, off++) {
			int k = off < 100 ? 0 : off < 1100 ? 1 : 2;
			uint64_t at = off - (k == 0 ? 0 : k == 1 ? 100 : 1100);

			*(uint8_t *)fvq_ptr(&e.m, piece[k] + at, 1) = p[b];
		}
	}
	CHECK_EQ(set_scanout(&e, 0, 7, rect(0, 0, W, H)),
		 VIRTIO_GPU_RESP_OK_NODATA);
	CHECK(e.rec.mode_w == W && e.rec.mode_h == H);
	CHECK_EQ(transfer(&e, 7, rect(0, 0, W, H), 0), VIRTIO_GPU_RESP_OK_NODATA);
	e.rec.updates = 0;
	CHECK_EQ(flush(&e, 7, rect(0, 0, W, H)), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(e.rec.updates, 1);
	for (uint32_t y = 0; y < H; y++)
		for (uint32_t x = 0; x < W; x++)
			if (shown(&e.rec, x, y) != colour(x, y, 1))
				ok = 0;
	CHECK(ok);

	CHECK(mkdtemp(path) != NULL);
	snprintf(png, sizeof(png), "%s/shot.png", path);
	CHECK_EQ(e.rec.d.ops->screenshot(&e.rec.d, png, err, sizeof(err)), 0);
	px = read_png(png, &pw, &ph);
	CHECK(px != NULL);
	if (px) {
		CHECK(pw == W && ph == H);
		for (uint32_t y = 0; y < H && pw == W; y++)
			for (uint32_t x = 0; x < W; x++) {
				const uint8_t *p = px + (y * W + x) * 3;
				uint32_t c = (uint32_t)p[0] << 16 |
					     (uint32_t)p[1] << 8 | p[2];

				if (c != colour(x, y, 1))
					ok = 0;
			}
		CHECK(ok);
		free(px);
	}
	unlink(png);
	rmdir(path);
	teardown(&e);
}

/* Every format shows up as the same XRGB colours. */
TEST(test_formats)
{
	static const uint32_t formats[] = {
		VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM,
		VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM, VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM,
		VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM,
		VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM, VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM,
	};
	struct env e;

	setup(&e);
	CHECK_EQ(start(&e), 0);
	for (uint32_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		int ok = 1;

		make_res(&e, 10 + i, formats[i], 8, 4, i);
		CHECK_EQ(set_scanout(&e, 0, 10 + i, rect(0, 0, 8, 4)),
			 VIRTIO_GPU_RESP_OK_NODATA);
		memset(e.rec.pix, 0, sizeof(e.rec.pix));
		CHECK_EQ(flush(&e, 10 + i, rect(0, 0, 8, 4)),
			 VIRTIO_GPU_RESP_OK_NODATA);
		for (uint32_t y = 0; y < 4; y++)
			for (uint32_t x = 0; x < 8; x++)
				if (shown(&e.rec, x, y) != colour(x, y, i))
					ok = 0;
		if (!ok)
			fprintf(stderr, "  format %u\n", formats[i]);
		CHECK(ok);
	}
	/* Others are refused. */
	CHECK_EQ(create(&e, 99, 0, 8, 8), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(create(&e, 99, 5, 8, 8), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(create(&e, 99, 0xffffffff, 8, 8),
		 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK(works(&e));
	teardown(&e);
}

/* Linux's damage path: a sub-rect transferred at its offset in the
 * backing, a sub-rect flushed; only that reaches the display. */
TEST(test_partial_transfer_and_flush)
{
	const uint32_t W = 32, H = 16, F = VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM;
	struct env e;
	uint64_t gpa;
	uint8_t *p;
	int ok = 1;

	setup(&e);
	CHECK_EQ(start(&e), 0);
	gpa = make_res(&e, 1, F, W, H, 0);
	CHECK_EQ(set_scanout(&e, 0, 1, rect(0, 0, W, H)),
		 VIRTIO_GPU_RESP_OK_NODATA);
	/* The guest redraws everything with salt 5 but transfers only the
	 * rect (3, 2, 10, 5). */
	p = fvq_ptr(&e.m, gpa, W * H * 4);
	for (uint32_t y = 0; y < H; y++)
		for (uint32_t x = 0; x < W; x++)
			put_px(p + (y * W + x) * 4, F, colour(x, y, 5), 0);
	CHECK_EQ(transfer(&e, 1, rect(3, 2, 10, 5), (2 * W + 3) * 4),
		 VIRTIO_GPU_RESP_OK_NODATA);
	e.rec.updates = 0;
	CHECK_EQ(flush(&e, 1, rect(0, 0, W, H)), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(e.rec.updates, 1);
	for (uint32_t y = 0; y < H; y++)
		for (uint32_t x = 0; x < W; x++) {
			int in = x >= 3 && x < 13 && y >= 2 && y < 7;

			if (shown(&e.rec, x, y) != colour(x, y, in ? 5 : 0))
				ok = 0;
		}
	CHECK(ok);

	/* Transfer everything, flush one rect: the display is told only
	 * about that rect. */
	CHECK_EQ(transfer(&e, 1, rect(0, 0, W, H), 0), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(flush(&e, 1, rect(20, 10, 4, 3)), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(e.rec.updates, 2);
	CHECK(e.rec.last.x == 20 && e.rec.last.y == 10 && e.rec.last.w == 4 &&
	      e.rec.last.h == 3);
	CHECK_EQ(shown(&e.rec, 20, 10), colour(20, 10, 5));
	CHECK_EQ(shown(&e.rec, 0, 0), colour(0, 0, 0));

	/* A resource not on the scanout: flushed, nothing shown. */
	make_res(&e, 2, F, 8, 8, 9);
	CHECK_EQ(flush(&e, 2, rect(0, 0, 8, 8)), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(e.rec.updates, 2);
	/* An empty rect is fine and shows nothing. */
	CHECK_EQ(transfer(&e, 1, rect(W, H, 0, 0), 0), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(flush(&e, 1, rect(5, 5, 0, 0)), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(e.rec.updates, 2);
	teardown(&e);
}

/* A scanout showing part of a resource: display coordinates are
 * relative to it, and flushes outside it show nothing. */
TEST(test_scanout_subrect)
{
	const uint32_t F = VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM;
	struct env e;
	int ok = 1;

	setup(&e);
	CHECK_EQ(start(&e), 0);
	make_res(&e, 3, F, 32, 16, 2);
	e.rec.updates = 0;
	CHECK_EQ(set_scanout(&e, 0, 3, rect(4, 2, 8, 6)),
		 VIRTIO_GPU_RESP_OK_NODATA);
	CHECK(e.rec.mode_w == 8 && e.rec.mode_h == 6);
	/* The scanout shows the resource as it is, at once. */
	CHECK_EQ(e.rec.updates, 1);
	for (uint32_t y = 0; y < 6; y++)
		for (uint32_t x = 0; x < 8; x++)
			if (shown(&e.rec, x, y) != colour(x + 4, y + 2, 2))
				ok = 0;
	CHECK(ok);
	CHECK_EQ(flush(&e, 3, rect(10, 6, 10, 10)), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK(e.rec.last.x == 6 && e.rec.last.y == 4 && e.rec.last.w == 2 &&
	      e.rec.last.h == 2);
	CHECK_EQ(flush(&e, 3, rect(20, 0, 12, 16)), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(e.rec.updates, 2);

	/* The same mode again: the display is not told twice. */
	CHECK_EQ(e.rec.modes, 1);
	CHECK_EQ(set_scanout(&e, 0, 3, rect(0, 0, 8, 6)),
		 VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(e.rec.modes, 1);
	CHECK_EQ(shown(&e.rec, 0, 0), colour(0, 0, 2));

	/* Disable: mode 0x0. */
	CHECK_EQ(set_scanout(&e, 0, 0, rect(0, 0, 0, 0)),
		 VIRTIO_GPU_RESP_OK_NODATA);
	CHECK(e.rec.mode_w == 0 && e.rec.mode_h == 0);
	CHECK_EQ(flush(&e, 3, rect(0, 0, 8, 6)), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(e.rec.updates, 3);
	teardown(&e);
}

/* ---- errors: each answered, the device still works ------------------- */

TEST(test_bad_resource_ids)
{
	const uint32_t F = VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM;
	struct virtio_gpu_mem_entry en;
	struct env e;
	uint32_t t;

	setup(&e);
	CHECK_EQ(start(&e), 0);
	en = ent(fvq_alloc(&e.m, 4096, 8), 4096);
	CHECK_EQ(create(&e, 0, F, 8, 8), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	CHECK_EQ(create(&e, 5, F, 8, 8), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(create(&e, 5, F, 16, 16), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	/* Colliding in the id hash is not a duplicate. */
	CHECK_EQ(create(&e, 5 + 256, F, 8, 8), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(unref(&e, 5 + 256), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK(works(&e));

	CHECK_EQ(unref(&e, 6), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	CHECK_EQ(unref(&e, 0), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	CHECK_EQ(attach_n(&e, 6, 1, &en, 1), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	CHECK_EQ(detach(&e, 6), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	CHECK_EQ(transfer(&e, 6, rect(0, 0, 1, 1), 0),
		 VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	CHECK_EQ(flush(&e, 6, rect(0, 0, 1, 1)),
		 VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	CHECK_EQ(set_scanout(&e, 0, 6, rect(0, 0, 1, 1)),
		 VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	CHECK_EQ(set_scanout(&e, 1, 5, rect(0, 0, 8, 8)),
		 VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID);
	CHECK_EQ(set_scanout(&e, 0xffffffff, 0, rect(0, 0, 0, 0)),
		 VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID);
	CHECK_EQ(e.rec.modes, 0);
	CHECK(works(&e));

	/* Unref'd ids are gone and can be reused. */
	CHECK_EQ(unref(&e, 5), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(unref(&e, 5), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	CHECK_EQ(create(&e, 5, F, 8, 8), VIRTIO_GPU_RESP_OK_NODATA);
	attach1(&e, 5, 256, &t);
	CHECK_EQ(t, VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(unref(&e, 5), VIRTIO_GPU_RESP_OK_NODATA);	/* with backing */
	CHECK(works(&e));
	teardown(&e);
}

TEST(test_create_limits)
{
	const uint32_t F = VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM;
	const uint32_t M = VIRTIO_GPU_MAX_DIM;
	struct env e;
	uint32_t t;

	setup(&e);
	CHECK_EQ(start(&e), 0);
	CHECK_EQ(create(&e, 1, F, 0, 8), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(create(&e, 1, F, 8, 0), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(create(&e, 1, F, M + 1, 8), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(create(&e, 1, F, 8, M + 1), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(create(&e, 1, F, 0xffffffff, 0xffffffff),
		 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	/* 16384 x 16384 x 4 = 1 GiB: over the host memory cap. */
	CHECK_EQ(create(&e, 1, F, M, M), VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
	CHECK(works(&e));

	/* Four 64 MiB resources fill the cap exactly; one pixel more is
	 * refused until one goes. */
	for (uint32_t i = 1; i <= 4; i++)
		CHECK_EQ(create(&e, i, F, 4096, 4096), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(create(&e, 5, F, 1, 1), VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
	/* The backing list we would keep counts as well. */
	attach1(&e, 1, 4096, &t);
	CHECK_EQ(t, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
	CHECK(works(&e));
	CHECK_EQ(unref(&e, 2), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(create(&e, 5, F, 1, 1), VIRTIO_GPU_RESP_OK_NODATA);
	attach1(&e, 1, 4096, &t);
	CHECK_EQ(t, VIRTIO_GPU_RESP_OK_NODATA);
	/* 64 MiB minus a pixel and a list entry left: */
	CHECK_EQ(create(&e, 2, F, 4096, 4096), VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
	CHECK_EQ(detach(&e, 1), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(unref(&e, 5), VIRTIO_GPU_RESP_OK_NODATA);
	/* Everything given back: the cap is exactly reachable again. */
	CHECK_EQ(create(&e, 2, F, 4096, 4096), VIRTIO_GPU_RESP_OK_NODATA);
	for (uint32_t i = 1; i <= 4; i++)
		CHECK_EQ(unref(&e, i), VIRTIO_GPU_RESP_OK_NODATA);

	/* The count cap. */
	for (uint32_t i = 1; i <= VIRTIO_GPU_MAX_RESOURCES; i++)
		if (create(&e, i, F, 1, 1) != VIRTIO_GPU_RESP_OK_NODATA)
			CHECK(0);
	CHECK_EQ(create(&e, 5000, F, 1, 1), VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
	CHECK_EQ(unref(&e, 77), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(create(&e, 5000, F, 1, 1), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK(works(&e));
	teardown(&e);	/* frees them all */
}

TEST(test_bad_rects)
{
	const uint32_t F = VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM;
	static const uint32_t bad[][4] = {
		{ 0, 0, 17, 8 }, { 0, 0, 16, 9 }, { 1, 0, 16, 8 }, { 0, 1, 16, 8 },
		{ 17, 0, 0, 0 }, { 0, 9, 0, 0 },
		{ 0xfffffff0, 0, 0x20, 1 },	/* x + w wraps to 16 */
		{ 0, 0xfffffff8, 1, 0x10 },	/* y + h wraps to 8 */
		{ 8, 0, 0xfffffff8, 1 },
		{ 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff },
	};
	struct env e;

	setup(&e);
	CHECK_EQ(start(&e), 0);
	make_res(&e, 1, F, 16, 8, 0);
	CHECK_EQ(set_scanout(&e, 0, 1, rect(0, 0, 16, 8)),
		 VIRTIO_GPU_RESP_OK_NODATA);
	e.rec.updates = e.rec.modes = 0;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct virtio_gpu_rect r = rect(bad[i][0], bad[i][1], bad[i][2],
						bad[i][3]);

		CHECK_EQ(set_scanout(&e, 0, 1, r),
			 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
		CHECK_EQ(transfer(&e, 1, r, 0),
			 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
		CHECK_EQ(flush(&e, 1, r), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	}
	/* A scanout needs at least a pixel. */
	CHECK_EQ(set_scanout(&e, 0, 1, rect(0, 0, 0, 8)),
		 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(set_scanout(&e, 0, 1, rect(16, 8, 0, 0)),
		 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK(e.rec.updates == 0 && e.rec.modes == 0);
	CHECK(works(&e));
	CHECK_EQ(flush(&e, 1, rect(15, 7, 1, 1)), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(e.rec.updates, 1);
	teardown(&e);
}

TEST(test_transfer_bounds)
{
	const uint32_t F = VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM;
	struct virtio_gpu_mem_entry en[2];
	struct env e;
	uint64_t a;
	uint32_t t;

	setup(&e);
	CHECK_EQ(start(&e), 0);
	CHECK_EQ(create(&e, 1, F, 16, 8), VIRTIO_GPU_RESP_OK_NODATA);
	/* No backing yet. */
	CHECK_EQ(transfer(&e, 1, rect(0, 0, 16, 8), 0), VIRTIO_GPU_RESP_ERR_UNSPEC);
	/* A backing one byte short of the resource, in two pieces. */
	a = fvq_alloc(&e.m, 1024, 8);
	en[0] = ent(a, 200);
	en[1] = ent(a + 256, 16 * 8 * 4 - 201);
	CHECK_EQ(attach_n(&e, 1, 2, en, 2), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(transfer(&e, 1, rect(0, 0, 16, 8), 0),
		 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	/* 60 bytes ending at the backing's last byte fit, one more not. */
	CHECK_EQ(transfer(&e, 1, rect(0, 7, 15, 1), 7 * 64 + 3),
		 VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(transfer(&e, 1, rect(0, 7, 15, 1), 7 * 64 + 4),
		 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(transfer(&e, 1, rect(0, 6, 15, 2), 6 * 64 + 3),
		 VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(transfer(&e, 1, rect(0, 6, 15, 2), 6 * 64 + 4),
		 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(transfer(&e, 1, rect(0, 0, 1, 1), 16 * 8 * 4),
		 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(transfer(&e, 1, rect(0, 0, 1, 1), 0xffffffffffffff00ULL),
		 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(transfer(&e, 1, rect(0, 0, 16, 8), 0xffffffffffffffffULL),
		 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK(works(&e));

	/* Detached: no backing again; detaching twice is refused. */
	CHECK_EQ(detach(&e, 1), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(detach(&e, 1), VIRTIO_GPU_RESP_ERR_UNSPEC);
	CHECK_EQ(transfer(&e, 1, rect(0, 0, 1, 1), 0), VIRTIO_GPU_RESP_ERR_UNSPEC);
	attach1(&e, 1, 16 * 8 * 4, &t);
	CHECK_EQ(t, VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(transfer(&e, 1, rect(0, 0, 16, 8), 0), VIRTIO_GPU_RESP_OK_NODATA);
	teardown(&e);
}

TEST(test_bad_backing)
{
	const uint32_t F = VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM;
	const struct virtio_gpu_mem_entry bad[] = {
		ent(MEM_GPA + MEM_SIZE, 16),		/* past the end */
		ent(MEM_GPA + MEM_SIZE - 8, 16),	/* straddles the end */
		ent(MEM_GPA - 4, 16),			/* straddles the start */
		ent(0xffffffffffffff00ULL, 0x200),	/* wraps past 2^64 */
		ent(0, 4096),				/* below guest memory */
		ent(MEM_GPA, 0xffffffff),
	};
	struct virtio_gpu_mem_entry two[2];
	struct env e;
	uint32_t t;

	setup(&e);
	CHECK_EQ(start(&e), 0);
	CHECK_EQ(create(&e, 1, F, 16, 8), VIRTIO_GPU_RESP_OK_NODATA);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* Alone, and after a good entry. */
		two[0] = ent(MEM_GPA, 4096);
		two[1] = bad[i];
		CHECK_EQ(attach_n(&e, 1, 1, &bad[i], 1), VIRTIO_GPU_RESP_ERR_UNSPEC);
		CHECK_EQ(attach_n(&e, 1, 2, two, 2), VIRTIO_GPU_RESP_ERR_UNSPEC);
		/* Nothing was attached. */
		CHECK_EQ(detach(&e, 1), VIRTIO_GPU_RESP_ERR_UNSPEC);
	}
	/* nr_entries: none, more than the cap, more than were sent. */
	two[0] = two[1] = ent(MEM_GPA, 4096);
	CHECK_EQ(attach_n(&e, 1, 0, two, 0), VIRTIO_GPU_RESP_ERR_UNSPEC);
	CHECK_EQ(attach_n(&e, 1, VIRTIO_GPU_MAX_BACKING_ENTRIES + 1, two, 2),
		 VIRTIO_GPU_RESP_ERR_UNSPEC);
	CHECK_EQ(attach_n(&e, 1, 0xffffffff, two, 2), VIRTIO_GPU_RESP_ERR_UNSPEC);
	CHECK_EQ(attach_n(&e, 1, 0x10000000, two, 2), VIRTIO_GPU_RESP_ERR_UNSPEC);
	CHECK_EQ(attach_n(&e, 1, 3, two, 2), VIRTIO_GPU_RESP_ERR_UNSPEC);
	CHECK_EQ(detach(&e, 1), VIRTIO_GPU_RESP_ERR_UNSPEC);
	CHECK(works(&e));

	/* A good one works; a second attach is refused. */
	attach1(&e, 1, 16 * 8 * 4, &t);
	CHECK_EQ(t, VIRTIO_GPU_RESP_OK_NODATA);
	attach1(&e, 1, 16 * 8 * 4, &t);
	CHECK_EQ(t, VIRTIO_GPU_RESP_ERR_UNSPEC);
	CHECK_EQ(transfer(&e, 1, rect(0, 0, 16, 8), 0), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK(works(&e));
	teardown(&e);
}

/* The cap on entries is exactly reachable: 16384 entries of 4 bytes. */
TEST(test_many_backing_entries)
{
	const uint32_t N = VIRTIO_GPU_MAX_BACKING_ENTRIES;
	const uint32_t F = VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM;
	struct virtio_gpu_mem_entry *en = malloc(N * sizeof(*en));
	struct env e;
	uint64_t a;
	int ok = 1;

	setup(&e);
	CHECK_EQ(start(&e), 0);
	CHECK_EQ(create(&e, 1, F, 128, 128), VIRTIO_GPU_RESP_OK_NODATA);
	/* Pixel i lives at a + 8 * i: every other 4 bytes. */
	a = fvq_alloc(&e.m, 8ULL * N, 8);
	for (uint32_t i = 0; i < N; i++) {
		en[i] = ent(a + 8ULL * i, 4);
		put_px(fvq_ptr(&e.m, a + 8ULL * i, 4), F, colour(i % 128, i / 128, 4),
		       0xff);
	}
	CHECK_EQ(attach_n(&e, 1, N, en, N), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(set_scanout(&e, 0, 1, rect(0, 0, 128, 128)),
		 VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(transfer(&e, 1, rect(0, 0, 128, 128), 0),
		 VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(flush(&e, 1, rect(0, 0, 128, 128)), VIRTIO_GPU_RESP_OK_NODATA);
	for (uint32_t y = 0; y < MIRROR; y++)
		for (uint32_t x = 0; x < MIRROR; x++)
			if (shown(&e.rec, x, y) != colour(x, y, 4))
				ok = 0;
	CHECK(ok);
	free(en);
	teardown(&e);
}

/* Every command one byte short: ERR_UNSPEC, nothing done. */
TEST(test_truncated_requests)
{
	static const struct { uint32_t type, size; } cmds[] = {
		{ VIRTIO_GPU_CMD_GET_DISPLAY_INFO, 24 },
		{ VIRTIO_GPU_CMD_GET_EDID, sizeof(struct virtio_gpu_get_edid) },
		{ VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
		  sizeof(struct virtio_gpu_resource_create_2d) },
		{ VIRTIO_GPU_CMD_RESOURCE_UNREF,
		  sizeof(struct virtio_gpu_resource_unref) },
		{ VIRTIO_GPU_CMD_SET_SCANOUT, sizeof(struct virtio_gpu_set_scanout) },
		{ VIRTIO_GPU_CMD_RESOURCE_FLUSH,
		  sizeof(struct virtio_gpu_resource_flush) },
		{ VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D,
		  sizeof(struct virtio_gpu_transfer_to_host_2d) },
		{ VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
		  sizeof(struct virtio_gpu_resource_attach_backing) },
		{ VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING,
		  sizeof(struct virtio_gpu_resource_unref) },
	};
	const uint32_t F = VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM;
	struct env e;
	uint8_t buf[64];

	setup(&e);
	CHECK_EQ(start(&e), 0);
	make_res(&e, 1, F, 16, 16, 0);
	for (unsigned i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		/* A plausible request for resource 1, cut short. */
		struct virtio_gpu_ctrl_hdr h = hdr(cmds[i].type);
		uint32_t one = htole32(1);

		memset(buf, 0, sizeof(buf));
		h.flags = htole32(VIRTIO_GPU_FLAG_FENCE);
		h.fence_id = htole64(42);
		memcpy(buf, &h, sizeof(h));
		for (unsigned k = 24; k + 4 <= sizeof(buf); k += 4)
			memcpy(buf + k, &one, 4);
		CHECK_EQ(send(&e, buf, cmds[i].size - 1), VIRTIO_GPU_RESP_ERR_UNSPEC);
		CHECK_EQ(e.used_len, 24);
		/* The fence is echoed when a whole header came. */
		CHECK_EQ(le64toh(resp_hdr(&e)->fence_id),
			 cmds[i].size - 1 >= 24 ? 42 : 0);
	}
	CHECK(works(&e));
	/* Resource 1 was not unref'd or detached by a short request. */
	CHECK_EQ(transfer(&e, 1, rect(0, 0, 16, 16), 0), VIRTIO_GPU_RESP_OK_NODATA);

	/* Less than a header, or nothing readable at all. */
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(send(&e, buf, 23), VIRTIO_GPU_RESP_ERR_UNSPEC);
	CHECK_EQ(le32toh(resp_hdr(&e)->flags), 0);
	CHECK_EQ(send(&e, buf, 1), VIRTIO_GPU_RESP_ERR_UNSPEC);
	{
		struct fvq_used u;
		uint64_t r = fvq_alloc(&e.m, 64, 8);
		uint32_t type;

		FVQ_ADD(&e.v[CTRL], { r, 64, 1 });
		fvq_kick(e.d, CTRL);
		CHECK(fvq_get_used(&e.v[CTRL], &u) && u.len == 24);
		memcpy(&type, fvq_ptr(&e.m, r, 4), 4);
		CHECK_EQ(le32toh(type), VIRTIO_GPU_RESP_ERR_UNSPEC);
	}
	/* Longer than needed is fine (trailing bytes ignored). */
	{
		struct virtio_gpu_ctrl_hdr h = hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO);

		memset(buf, 0x5a, sizeof(buf));
		memcpy(buf, &h, sizeof(h));
		memset(buf + 4, 0, 20);
		CHECK_EQ(send(&e, buf, sizeof(buf)), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	}
	CHECK(works(&e));
	teardown(&e);
}

/* A request split across descriptors at odd places still decodes. */
TEST(test_split_request)
{
	struct virtio_gpu_resource_create_2d c = {
		hdr(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D), htole32(9),
		htole32(VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM), htole32(4),
		htole32(4) };
	struct env e;
	struct fvq_used u;
	uint64_t a, r;
	uint32_t type;

	setup(&e);
	CHECK_EQ(start(&e), 0);
	a = fvq_put(&e.m, &c, sizeof(c));
	r = fvq_alloc(&e.m, 64, 8);
	FVQ_ADD(&e.v[CTRL], { a, 3, 0 }, { a + 3, 22, 0 }, { a + 25, 15, 0 },
		{ r, 10, 1 }, { r + 10, 54, 1 });
	fvq_kick(e.d, CTRL);
	CHECK(fvq_get_used(&e.v[CTRL], &u) && u.len == 24);
	memcpy(&type, fvq_ptr(&e.m, r, 4), 4);
	CHECK_EQ(le32toh(type), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(create(&e, 9, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 4, 4),
		 VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	teardown(&e);
}

/* ---- 3D hook ------------------------------------------------------------ */

struct fake3d {
	unsigned calls, resets;
	uint32_t last_type;
	uint8_t first;		/* first payload byte after the header */
};

static uint32_t fake3d_command(void *ctx, const struct virtio_gpu_cmd *cmd,
			       void *payload, size_t cap, size_t *len)
{
	struct fake3d *f = ctx;

	f->calls++;
	f->last_type = cmd->type;
	if (cmd->type != VIRTIO_GPU_CMD_CTX_CREATE)
		return 0;
	if (virtio_gpu_cmd_read(cmd, 24, &f->first, 1) != 1 || cap < 4)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	memcpy(payload, "3d!!", 4);
	*len = 4;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static void fake3d_reset(void *ctx)
{
	((struct fake3d *)ctx)->resets++;
}

TEST(test_unknown_commands)
{
	static const uint32_t unknown[] = {
		0, 0x00ff, VIRTIO_GPU_CMD_GET_CAPSET_INFO, VIRTIO_GPU_CMD_GET_CAPSET,
		VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB, VIRTIO_GPU_CMD_CTX_CREATE,
		0x0207, VIRTIO_GPU_CMD_UPDATE_CURSOR, VIRTIO_GPU_CMD_MOVE_CURSOR,
		VIRTIO_GPU_RESP_OK_NODATA, 0xffffffff,
	};
	static const struct virtio_gpu_3d_ops ops = {
		.features = 1ULL << VIRTIO_GPU_F_VIRGL,
		.num_capsets = 2,
		.command = fake3d_command,
		.reset = fake3d_reset,
	};
	struct fake3d f = { 0 };
	struct env e;
	uint8_t buf[64] = { 0 };

	setup(&e);
	CHECK_EQ(start(&e), 0);
	for (unsigned i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		struct virtio_gpu_ctrl_hdr h = hdr(unknown[i]);

		memcpy(buf, &h, sizeof(h));
		CHECK_EQ(send(&e, buf, sizeof(buf)), VIRTIO_GPU_RESP_ERR_UNSPEC);
		CHECK_EQ(e.used_len, 24);
		CHECK(works(&e));
	}
	teardown(&e);

	/* With a 3D back end: its features and capsets are offered, it
	 * sees what the 2D core does not know, and resets. */
	setup(&e);
	virtio_gpu_set_3d(e.g, &ops, &f);
	fvq_mmio_write(e.d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_DEVICE_FEATURES) & 0xff,
		 F_EDID | 1);
	fvq_init(&e.v[CTRL], &e.m, QSIZE, NULL);
	fvq_init(&e.v[CURS], &e.m, QSIZE, NULL);
	CHECK_EQ(fvq_start(e.d, e.v, 2, F_EDID | 1), 0);
	CHECK_EQ(f.resets, 1);		/* fvq_start resets first */
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_CONFIG + 12), 2);
	{
		struct virtio_gpu_ctrl_hdr h = hdr(VIRTIO_GPU_CMD_CTX_CREATE);

		memcpy(buf, &h, sizeof(h));
		buf[24] = 0x77;
		CHECK_EQ(send(&e, buf, sizeof(buf)), VIRTIO_GPU_RESP_OK_NODATA);
		CHECK_EQ(e.used_len, 28);
		CHECK(!memcmp(fvq_ptr(&e.m, e.resp + 24, 4), "3d!!", 4));
		CHECK_EQ(f.first, 0x77);
		h = hdr(0x0207);
		memcpy(buf, &h, sizeof(h));
		CHECK_EQ(send(&e, buf, sizeof(buf)), VIRTIO_GPU_RESP_ERR_UNSPEC);
		CHECK_EQ(f.last_type, 0x0207);
		CHECK_EQ(f.calls, 2);
	}
	CHECK(works(&e));
	CHECK_EQ(f.calls, 2);		/* 2D commands stay in the core */
	teardown(&e);
}

/* ---- responses and fences --------------------------------------------- */

TEST(test_response_too_small)
{
	struct virtio_gpu_ctrl_hdr c = hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
	struct env e;
	struct fvq_used u;

	for (int k = 0; k < 3; k++) {
		setup(&e);
		CHECK_EQ(start(&e), 0);
		CHECK_EQ(create(&e, 1, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 8, 8),
			 VIRTIO_GPU_RESP_OK_NODATA);
		e.irq.pulses = 0;
		if (k == 0) {		/* display info into 24 bytes */
			CHECK_EQ(send_cap(&e, &c, sizeof(c), 24), 0);
		} else if (k == 1) {	/* EDID into a display info's room */
			struct virtio_gpu_get_edid g = {
				hdr(VIRTIO_GPU_CMD_GET_EDID), 0, 0 };

			CHECK_EQ(send_cap(&e, &g, sizeof(g), 408), 0);
		} else {		/* no writable buffer at all */
			FVQ_ADD(&e.v[CTRL], { fvq_put(&e.m, &c, sizeof(c)),
					      sizeof(c), 0 });
			fvq_kick(e.d, CTRL);
		}
		CHECK(needs_reset(&e));
		CHECK(fvq_mmio_read(e.d, VIRTIO_MMIO_INTERRUPT_STATUS) &
		      VIRTIO_ISR_CONFIG);
		CHECK_EQ(e.irq.pulses, 1);
		/* Stopped until reset. */
		CHECK_EQ(send(&e, &c, sizeof(c)), 0);
		/* After a reset, a fresh device: resources gone too. */
		CHECK_EQ(start(&e), 0);
		CHECK(works(&e));
		CHECK_EQ(create(&e, 1, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 8, 8),
			 VIRTIO_GPU_RESP_OK_NODATA);
		CHECK(!fvq_get_used(&e.v[CTRL], &u));
		teardown(&e);
	}
}

TEST(test_fence_echo)
{
	struct env e;
	struct virtio_gpu_resource_create_2d c = {
		hdr(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D), htole32(3),
		htole32(VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM), htole32(8), htole32(8) };
	const struct virtio_gpu_ctrl_hdr *r;

	setup(&e);
	CHECK_EQ(start(&e), 0);
	c.hdr.flags = htole32(VIRTIO_GPU_FLAG_FENCE);
	c.hdr.fence_id = htole64(0x1122334455667788ULL);
	c.hdr.ctx_id = htole32(7);
	c.hdr.ring_idx = 3;		/* no INFO_RING_IDX: not echoed */
	CHECK_EQ(SEND(&e, c), VIRTIO_GPU_RESP_OK_NODATA);
	r = resp_hdr(&e);
	CHECK_EQ(le32toh(r->flags), VIRTIO_GPU_FLAG_FENCE);
	CHECK_EQ(le64toh(r->fence_id), 0x1122334455667788ULL);
	CHECK_EQ(le32toh(r->ctx_id), 7);
	CHECK_EQ(r->ring_idx, 0);
	CHECK(!r->padding[0] && !r->padding[1] && !r->padding[2]);

	/* Errors are fenced too (the same id again: a duplicate). */
	c.hdr.fence_id = htole64(99);
	c.hdr.flags = htole32(VIRTIO_GPU_FLAG_FENCE | VIRTIO_GPU_FLAG_INFO_RING_IDX);
	CHECK_EQ(SEND(&e, c), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	r = resp_hdr(&e);
	CHECK_EQ(le32toh(r->flags),
		 VIRTIO_GPU_FLAG_FENCE | VIRTIO_GPU_FLAG_INFO_RING_IDX);
	CHECK_EQ(le64toh(r->fence_id), 99);
	CHECK_EQ(r->ring_idx, 3);

	/* No fence asked for: none reported. */
	c.hdr.flags = 0;
	c.resource_id = htole32(4);
	CHECK_EQ(SEND(&e, c), VIRTIO_GPU_RESP_OK_NODATA);
	r = resp_hdr(&e);
	CHECK(!r->flags && !r->fence_id && !r->ctx_id);

	/* Several fenced commands in one kick: answered in order, one
	 * interrupt. */
	{
		struct fvq_used u;
		uint64_t resp[3];

		e.irq.pulses = 0;
		for (int i = 0; i < 3; i++) {
			struct virtio_gpu_ctrl_hdr h =
				hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO);

			h.flags = htole32(VIRTIO_GPU_FLAG_FENCE);
			h.fence_id = htole64(100 + i);
			resp[i] = fvq_alloc(&e.m, 408, 8);
			FVQ_ADD(&e.v[CTRL], { fvq_put(&e.m, &h, sizeof(h)), 24, 0 },
				{ resp[i], 408, 1 });
		}
		fvq_kick(e.d, CTRL);
		for (int i = 0; i < 3; i++) {
			const struct virtio_gpu_ctrl_hdr *x =
				fvq_ptr(&e.m, resp[i], 24);

			CHECK(fvq_get_used(&e.v[CTRL], &u) && u.len == 408);
			CHECK_EQ(le64toh(x->fence_id), 100 + i);
		}
		CHECK_EQ(e.irq.pulses, 1);
	}
	teardown(&e);
}

/* ---- cursor ----------------------------------------------------------- */

static void cursor_cmd(struct env *e, uint32_t type, uint32_t sid, int32_t x,
		       int32_t y, uint32_t id, uint32_t hx, uint32_t hy,
		       uint32_t len)
{
	struct virtio_gpu_update_cursor c = {
		hdr(type), { htole32(sid), htole32((uint32_t)x),
			     htole32((uint32_t)y), 0 },
		htole32(id), htole32(hx), htole32(hy), 0 };
	struct fvq_used u;
	uint16_t h = FVQ_ADD(&e->v[CURS], { fvq_put(&e->m, &c, sizeof(c)), len, 0 });

	fvq_kick(e->d, CURS);
	CHECK(fvq_get_used(&e->v[CURS], &u) && u.id == h && u.len == 0);
}

#define CURSOR(e, type, sid, x, y, id, hx, hy)				\
	cursor_cmd(e, type, sid, x, y, id, hx, hy,			\
		   sizeof(struct virtio_gpu_update_cursor))

TEST(test_cursor)
{
	const uint32_t F = VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM;
	struct env e;
	int ok = 1;

	setup(&e);
	CHECK_EQ(start(&e), 0);
	make_res(&e, 50, F, 64, 64, 3);
	make_res(&e, 51, F, 32, 32, 3);
	CURSOR(&e, VIRTIO_GPU_CMD_UPDATE_CURSOR, 0, 100, 200, 50, 5, 6);
	CHECK_EQ(e.rec.defines, 1);
	CHECK(!e.rec.cursor_hidden);
	CHECK(e.rec.hot_x == 5 && e.rec.hot_y == 6);
	for (uint32_t y = 0; y < 64; y++)
		for (uint32_t x = 0; x < 64; x++) {
			uint8_t want[4];

			put_px(want, F, colour(x, y, 3), (uint8_t)(x + y));
			if (memcmp(e.rec.cursor + (y * 64 + x) * 4, want, 4))
				ok = 0;
		}
	CHECK(ok);
	CHECK(e.rec.moves == 1 && e.rec.cx == 100 && e.rec.cy == 200);

	/* Moves, also off the top-left corner. */
	CURSOR(&e, VIRTIO_GPU_CMD_MOVE_CURSOR, 0, -3, -40, 0, 0, 0);
	CHECK(e.rec.moves == 2 && e.rec.cx == -3 && e.rec.cy == -40);
	CHECK_EQ(e.rec.defines, 1);

	/* Ignored: wrong size, missing resource, another scanout, a short
	 * command, an unknown type. */
	CURSOR(&e, VIRTIO_GPU_CMD_UPDATE_CURSOR, 0, 1, 1, 51, 0, 0);
	CURSOR(&e, VIRTIO_GPU_CMD_UPDATE_CURSOR, 0, 1, 1, 52, 0, 0);
	CURSOR(&e, VIRTIO_GPU_CMD_MOVE_CURSOR, 1, 1, 1, 0, 0, 0);
	cursor_cmd(&e, VIRTIO_GPU_CMD_MOVE_CURSOR, 0, 1, 1, 0, 0, 0, 55);
	CURSOR(&e, VIRTIO_GPU_CMD_GET_DISPLAY_INFO, 0, 1, 1, 0, 0, 0);
	CHECK(e.rec.defines == 1 && e.rec.moves == 2);

	/* Hot spot beyond the image is clamped; resource 0 hides it. */
	CURSOR(&e, VIRTIO_GPU_CMD_UPDATE_CURSOR, 0, 7, 8, 50, 1000, 64);
	CHECK(e.rec.hot_x == 63 && e.rec.hot_y == 63);
	CURSOR(&e, VIRTIO_GPU_CMD_UPDATE_CURSOR, 0, 7, 8, 0, 0, 0);
	CHECK(e.rec.defines == 3 && e.rec.cursor_hidden);
	CHECK(e.rec.cx == 7 && e.rec.cy == 8);
	CHECK(!needs_reset(&e));
	CHECK(works(&e));
	teardown(&e);
}

/* ---- the scanout's resource going away --------------------------------- */

TEST(test_unref_scanout_resource)
{
	const uint32_t F = VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM;
	struct env e;
	char err[128], path[] = "/tmp/minivmm-gpu-unref-XXXXXX", png[64];

	setup(&e);
	CHECK_EQ(start(&e), 0);
	CHECK(mkdtemp(path) != NULL);
	snprintf(png, sizeof(png), "%s/shot.png", path);
	make_res(&e, 1, F, 16, 8, 0);
	CHECK_EQ(set_scanout(&e, 0, 1, rect(0, 0, 16, 8)),
		 VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(e.rec.d.ops->screenshot(&e.rec.d, png, err, sizeof(err)), 0);
	unlink(png);
	CHECK_EQ(unref(&e, 1), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK(e.rec.mode_w == 0 && e.rec.mode_h == 0);
	CHECK_EQ(flush(&e, 1, rect(0, 0, 16, 8)),
		 VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	CHECK_EQ(e.rec.d.ops->screenshot(&e.rec.d, png, err, sizeof(err)), -1);
	CHECK(strstr(err, "no frame yet") != NULL);
	CHECK(access(png, F_OK) != 0);
	/* A new resource with the same id is not on the scanout. */
	make_res(&e, 1, F, 16, 8, 0);
	e.rec.updates = 0;
	CHECK_EQ(flush(&e, 1, rect(0, 0, 16, 8)), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(e.rec.updates, 0);
	CHECK(works(&e));
	rmdir(path);
	teardown(&e);
}

/* A device reset drops resources and blanks the display. */
TEST(test_reset_drops_everything)
{
	const uint32_t F = VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM;
	struct env e;

	setup(&e);
	CHECK_EQ(start(&e), 0);
	make_res(&e, 1, F, 16, 8, 0);
	CHECK_EQ(set_scanout(&e, 0, 1, rect(0, 0, 16, 8)),
		 VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(virtio_gpu_resize(e.g, 640, 480), 0);
	CHECK_EQ(start(&e), 0);
	CHECK(e.rec.mode_w == 0 && e.rec.mode_h == 0);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_CONFIG), 0);
	CHECK_EQ(flush(&e, 1, rect(0, 0, 16, 8)),
		 VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	make_res(&e, 1, F, 16, 8, 0);
	teardown(&e);
}

/* Without a display the device still does its work. */
TEST(test_no_display)
{
	struct env e;
	char err[64];

	setup(&e);
	virtio_gpu_destroy(e.g);
	e.g = virtio_gpu_create(&e.m.gm, &e.line, NULL, 640, 480, err,
				sizeof(err));
	CHECK(e.g != NULL);
	e.d = virtio_gpu_dev(e.g);
	CHECK_EQ(start(&e), 0);
	make_res(&e, 1, VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM, 64, 64, 0);
	CHECK_EQ(set_scanout(&e, 0, 1, rect(0, 0, 64, 64)),
		 VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(flush(&e, 1, rect(0, 0, 64, 64)), VIRTIO_GPU_RESP_OK_NODATA);
	CURSOR(&e, VIRTIO_GPU_CMD_UPDATE_CURSOR, 0, 7, 8, 1, 0, 0);
	CHECK(works(&e));
	teardown(&e);
}

int main(void)
{
	RUN(test_id_features_config);
	RUN(test_display_info);
	RUN(test_edid);
	RUN(test_edid_sizes);
	RUN(test_resize_event);
	RUN(test_draw_and_screenshot);
	RUN(test_formats);
	RUN(test_partial_transfer_and_flush);
	RUN(test_scanout_subrect);
	RUN(test_bad_resource_ids);
	RUN(test_create_limits);
	RUN(test_bad_rects);
	RUN(test_transfer_bounds);
	RUN(test_bad_backing);
	RUN(test_many_backing_entries);
	RUN(test_truncated_requests);
	RUN(test_split_request);
	RUN(test_unknown_commands);
	RUN(test_response_too_small);
	RUN(test_fence_echo);
	RUN(test_cursor);
	RUN(test_unref_scanout_resource);
	RUN(test_reset_drops_everything);
	RUN(test_no_display);
	return CHECK_DONE();
}
