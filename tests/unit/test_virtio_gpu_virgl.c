/* virtio-gpu with virgl, driven by a fake guest driver through the
 * virtio-mmio transport, rendering with Mesa (llvmpipe) over surfaceless
 * EGL - no KVM, no GPU.  Commands run on the device's GPU thread, so
 * every answer is waited for.  Covered: capsets, contexts, 2D drawing
 * on virgl resources down to the display's pixels and a PNG, 3D
 * transfers both ways, a real virgl command stream (a clear), fences
 * held until they retire and answered in order, resets, and what a
 * hostile driver can send (garbage streams, bad ids, unattached
 * resources, oversized resources, boxes outside resources) - each an
 * error answer while the device and other contexts keep working.
 *
 * Skipped (SKIP lines) when minivmm was built without virglrenderer or
 * the machine has no usable EGL. */
#include <dlfcn.h>
#include <png.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "display.h"
#include "fake_virtq.h"
#include "virtio_gpu.h"
#include "virtio_gpu_virgl.h"

#define MEM_GPA		0x100000ULL
#define MEM_SIZE	(16ULL << 20)
#define QSIZE		64
#define CTRL		VIRTIO_GPU_CONTROLQ
#define CURS		VIRTIO_GPU_CURSORQ
#define FEATURES	(1ULL << VIRTIO_GPU_F_EDID | 1ULL << VIRTIO_GPU_F_VIRGL | \
			 1ULL << VIRTIO_GPU_F_CONTEXT_INIT)
#define MODE_W		800
#define MODE_H		600
#define MIRROR		64	/* the recording display keeps 64x64 */
#define WAIT_MS		10000	/* for an answer from the GPU thread */

#define OK		VIRTIO_GPU_RESP_OK_NODATA
#define E_UNSPEC	VIRTIO_GPU_RESP_ERR_UNSPEC
#define E_OOM		VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY
#define E_SCANOUT	VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID
#define E_RES		VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID
#define E_CTX		VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID
#define E_PARAM		VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER

#define FMT_BGRA	VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM
#define FMT_RGBA	VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM
#define BIND_RT		(1u << 1)	/* render target */
#define BIND_SAMPLER	(1u << 3)

/* The few pieces of the virgl protocol the tests speak (virglrenderer's
 * virgl_protocol.h, not installed): a dword header of opcode, object
 * type and length in dwords. */
#define VCMD(op, obj, len)	((uint32_t)(op) | (uint32_t)(obj) << 8 | \
				 (uint32_t)(len) << 16)
#define VCCMD_CREATE_OBJECT	1
#define VCCMD_SET_FRAMEBUFFER	5
#define VCCMD_CLEAR		7
#define VCCMD_SET_SHADER_IMAGES	35
#define VOBJ_SURFACE		8
#define PIPE_CLEAR_COLOR0	(1u << 2)

static const char *skip_reason;

/* ---- a display that records what the device asks of it --------------- */

struct rec {
	struct display d;
	struct display *inner;	/* headless: the frame store, PNGs */
	unsigned modes, updates, defines, moves;
	uint32_t mode_w, mode_h;
	uint8_t pix[MIRROR * MIRROR * 4];
	int cursor_hidden;
	uint8_t cursor[64 * 64 * 4];
	int32_t cx, cy;
	int gone;		/* destroyed: the device must not call */
};

static void rec_set_mode(struct display *d, uint32_t w, uint32_t h)
{
	struct rec *r = d->priv;

	CHECK(!r->gone);

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

	CHECK(!r->gone);

	r->updates++;
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

	CHECK(!r->gone);

	(void)hot_x;
	(void)hot_y;
	r->defines++;
	r->cursor_hidden = !argb;
	if (argb)
		memcpy(r->cursor, argb, sizeof(r->cursor));
}

static void rec_cursor_move(struct display *d, int32_t x, int32_t y)
{
	struct rec *r = d->priv;

	CHECK(!r->gone);

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

/* ---- the environment --------------------------------------------------- */

struct env {
	struct fvq_mem m;
	struct fvq v[2];
	struct fvq_irq irq;
	struct irq_line line;
	struct rec rec;
	struct virtio_gpu *g;
	struct virtio_dev *d;
	uint64_t resp;		/* the response buffer of the last command */
	uint32_t used_len;
};

/* 0, or -1 when virgl cannot run here (skip_reason says why). */
static int setup(struct env *e)
{
	static char why[256];
	char err[256];

	memset(e, 0, sizeof(*e));
	fvq_mem_init(&e->m, MEM_GPA, MEM_SIZE);
	e->line = fvq_irq_line(&e->irq, 20);
	e->rec.d.ops = &rec_ops;
	e->rec.d.priv = &e->rec;
	e->rec.inner = display_headless_new();
	e->g = virtio_gpu_create(&e->m.gm, &e->line, &e->rec.d, MODE_W, MODE_H,
				 err, sizeof(err));
	if (!e->rec.inner || !e->g)
		abort();
	e->d = virtio_gpu_dev(e->g);
	if (virtio_gpu_enable_virgl(e->g, err, sizeof(err))) {
		snprintf(why, sizeof(why), "%s", err);
		skip_reason = why;
		return -1;
	}
	return 0;
}

static int start_with(struct env *e, uint64_t features)
{
	fvq_init(&e->v[CTRL], &e->m, QSIZE, NULL);
	fvq_init(&e->v[CURS], &e->m, QSIZE, NULL);
	return fvq_start(e->d, e->v, 2, features);
}

static int start(struct env *e)
{
	return start_with(e, FEATURES);
}

static void teardown(struct env *e)
{
	virtio_gpu_destroy(e->g);
	e->rec.inner->ops->destroy(e->rec.inner);
	fvq_mem_free(&e->m);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* The next used entry of queue q, waiting for the GPU thread. */
static int wait_used(struct env *e, unsigned q, struct fvq_used *u)
{
	for (int i = 0; i < WAIT_MS; i++) {
		if (fvq_get_used(&e->v[q], u))
			return 1;
		sleep_ms(1);
	}
	return 0;
}

/* Nothing comes back on q for a while. */
static int quiet(struct env *e, unsigned q)
{
	uint16_t idx = fvq_used_idx(&e->v[q]);

	sleep_ms(150);
	return fvq_used_idx(&e->v[q]) == idx;
}

static int needs_reset(struct env *e)
{
	return !!(fvq_mmio_read(e->d, VIRTIO_MMIO_STATUS) &
		  VIRTIO_STATUS_NEEDS_RESET);
}

static struct virtio_gpu_ctrl_hdr hdr(uint32_t type)
{
	return (struct virtio_gpu_ctrl_hdr){ .type = htole32(type) };
}

static struct virtio_gpu_ctrl_hdr hdr_ctx(uint32_t type, uint32_t ctx)
{
	return (struct virtio_gpu_ctrl_hdr){ .type = htole32(type),
					     .ctx_id = htole32(ctx) };
}

static struct virtio_gpu_rect rect(uint32_t x, uint32_t y, uint32_t w,
				   uint32_t h)
{
	return (struct virtio_gpu_rect){ htole32(x), htole32(y), htole32(w),
					 htole32(h) };
}

/* Queues req (len bytes, one descriptor) with a cap-byte answer buffer
 * in e->resp, kicks; returns the head. */
static uint16_t post(struct env *e, const void *req, uint32_t len,
		     uint32_t cap)
{
	uint64_t r = fvq_put(&e->m, req, len);

	e->resp = fvq_alloc(&e->m, cap, 8);
	memset(fvq_ptr(&e->m, e->resp, cap), 0xee, cap);
	return FVQ_ADD(&e->v[CTRL], { r, len, 0 }, { e->resp, cap, 1 });
}

static uint32_t resp_type(struct env *e, uint64_t resp)
{
	uint32_t t;

	memcpy(&t, fvq_ptr(&e->m, resp, 4), 4);
	return le32toh(t);
}

/* Sends req and waits for its answer: the response type, 0 for none. */
static uint32_t send_cap(struct env *e, const void *req, uint32_t len,
			 uint32_t cap)
{
	struct fvq_used u;
	uint16_t h = post(e, req, len, cap);

	fvq_kick(e->d, CTRL);
	if (!wait_used(e, CTRL, &u) || u.id != h)
		return 0;
	e->used_len = u.len;
	return resp_type(e, e->resp);
}

static uint32_t send(struct env *e, const void *req, uint32_t len)
{
	return send_cap(e, req, len, 2048);
}

#define SEND(e, s) send(e, &(s), sizeof(s))

static int works(struct env *e)
{
	struct virtio_gpu_ctrl_hdr c = hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO);

	return SEND(e, c) == VIRTIO_GPU_RESP_OK_DISPLAY_INFO && !needs_reset(e);
}

/* ---- command builders ---------------------------------------------------- */

static uint32_t create_2d(struct env *e, uint32_t id, uint32_t format,
			  uint32_t w, uint32_t h)
{
	struct virtio_gpu_resource_create_2d c = {
		hdr(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D), htole32(id),
		htole32(format), htole32(w), htole32(h) };

	return SEND(e, c);
}

static struct virtio_gpu_resource_create_3d c3d(uint32_t id, uint32_t target,
						uint32_t format, uint32_t w,
						uint32_t h)
{
	return (struct virtio_gpu_resource_create_3d){
		.hdr = hdr(VIRTIO_GPU_CMD_RESOURCE_CREATE_3D),
		.resource_id = htole32(id), .target = htole32(target),
		.format = htole32(format),
		.bind = htole32(BIND_RT | BIND_SAMPLER),
		.width = htole32(w), .height = htole32(h), .depth = htole32(1),
		.array_size = htole32(1) };
}

static uint32_t create_3d(struct env *e, uint32_t id, uint32_t w, uint32_t h,
			  uint32_t flags)
{
	struct virtio_gpu_resource_create_3d c =
		c3d(id, VIRGL_TARGET_2D, FMT_BGRA, w, h);

	c.flags = htole32(flags);
	return SEND(e, c);
}

static uint32_t res_cmd(struct env *e, uint32_t type, uint32_t id)
{
	struct virtio_gpu_resource_unref c = { hdr(type), htole32(id), 0 };

	return SEND(e, c);
}

/* Attach-backing with the entries in the same buffer. */
static uint32_t attach_n(struct env *e, uint32_t id, uint32_t nr,
			 const struct virtio_gpu_mem_entry *ents, unsigned n)
{
	struct virtio_gpu_resource_attach_backing c = {
		hdr(VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING), htole32(id),
		htole32(nr) };
	size_t len = sizeof(c) + n * sizeof(*ents);
	uint8_t *buf = malloc(len);
	uint32_t t;

	memcpy(buf, &c, sizeof(c));
	if (n)
		memcpy(buf + sizeof(c), ents, n * sizeof(*ents));
	t = send(e, buf, (uint32_t)len);
	free(buf);
	return t;
}

static struct virtio_gpu_mem_entry ent(uint64_t addr, uint32_t len)
{
	return (struct virtio_gpu_mem_entry){ htole64(addr), htole32(len), 0 };
}

/* len bytes of fresh guest memory as id's backing, in two entries (so
 * transfers cross an entry); its gpa. */
static uint64_t attach(struct env *e, uint32_t id, uint32_t len)
{
	uint64_t gpa = fvq_alloc(&e->m, len, 4096);
	struct virtio_gpu_mem_entry en[2] = {
		ent(gpa, len / 2), ent(gpa + len / 2, len - len / 2) };

	CHECK_EQ(attach_n(e, id, 2, en, 2), OK);
	return gpa;
}

static uint32_t transfer_2d(struct env *e, uint32_t id,
			    struct virtio_gpu_rect r, uint64_t off)
{
	struct virtio_gpu_transfer_to_host_2d c = {
		hdr(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D), r, htole64(off),
		htole32(id), 0 };

	return SEND(e, c);
}

static uint32_t set_scanout(struct env *e, uint32_t sid, uint32_t id,
			    struct virtio_gpu_rect r)
{
	struct virtio_gpu_set_scanout c = {
		hdr(VIRTIO_GPU_CMD_SET_SCANOUT), r, htole32(sid), htole32(id) };

	return SEND(e, c);
}

static uint32_t flush(struct env *e, uint32_t id, struct virtio_gpu_rect r)
{
	struct virtio_gpu_resource_flush c = {
		hdr(VIRTIO_GPU_CMD_RESOURCE_FLUSH), r, htole32(id), 0 };

	return SEND(e, c);
}

static uint32_t ctx_create_init(struct env *e, uint32_t ctx, uint32_t init)
{
	struct virtio_gpu_ctx_create c = {
		.hdr = hdr_ctx(VIRTIO_GPU_CMD_CTX_CREATE, ctx),
		.nlen = htole32(4), .context_init = htole32(init) };

	memcpy(c.debug_name, "test", 4);
	return SEND(e, c);
}

static uint32_t ctx_create(struct env *e, uint32_t ctx)
{
	return ctx_create_init(e, ctx, 0);
}

static uint32_t ctx_destroy(struct env *e, uint32_t ctx)
{
	struct virtio_gpu_ctrl_hdr c = hdr_ctx(VIRTIO_GPU_CMD_CTX_DESTROY, ctx);

	return SEND(e, c);
}

static uint32_t ctx_res(struct env *e, uint32_t type, uint32_t ctx,
			uint32_t id)
{
	struct virtio_gpu_ctx_resource c = { hdr_ctx(type, ctx), htole32(id), 0 };

	return SEND(e, c);
}

static struct virtio_gpu_transfer_host_3d t3d(uint32_t type, uint32_t ctx,
					      uint32_t id, uint32_t x,
					      uint32_t y, uint32_t w,
					      uint32_t h, uint64_t off)
{
	return (struct virtio_gpu_transfer_host_3d){
		.hdr = hdr_ctx(type, ctx),
		.box = { htole32(x), htole32(y), 0, htole32(w), htole32(h),
			 htole32(1) },
		.offset = htole64(off), .resource_id = htole32(id) };
}

static uint32_t transfer_3d(struct env *e, uint32_t type, uint32_t ctx,
			    uint32_t id, uint32_t w, uint32_t h)
{
	struct virtio_gpu_transfer_host_3d c = t3d(type, ctx, id, 0, 0, w, h, 0);

	return SEND(e, c);
}

/* SUBMIT_3D of n dwords to ctx. */
static uint32_t submit(struct env *e, uint32_t ctx, const uint32_t *dw,
		       uint32_t n)
{
	struct virtio_gpu_cmd_submit c = {
		hdr_ctx(VIRTIO_GPU_CMD_SUBMIT_3D, ctx), htole32(n * 4), 0 };
	uint8_t *buf = malloc(sizeof(c) + n * 4 + 1);
	uint32_t t;

	memcpy(buf, &c, sizeof(c));
	for (uint32_t i = 0; i < n; i++) {
		uint32_t le = htole32(dw[i]);

		memcpy(buf + sizeof(c) + i * 4, &le, 4);
	}
	t = send(e, buf, (uint32_t)(sizeof(c) + n * 4));
	free(buf);
	return t;
}

static uint32_t f2u(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	return u;
}

/* A virgl stream clearing resource res to (r, g, b, 1) through a
 * surface bound as the only colour buffer; returns its length. */
static uint32_t clear_stream(uint32_t *s, uint32_t res, float r, float g,
			     float b)
{
	uint32_t n = 0;

	s[n++] = VCMD(VCCMD_CREATE_OBJECT, VOBJ_SURFACE, 5);
	s[n++] = 1;			/* surface handle */
	s[n++] = res;
	s[n++] = FMT_BGRA;
	s[n++] = 0;			/* level */
	s[n++] = 0;			/* first and last layer */
	s[n++] = VCMD(VCCMD_SET_FRAMEBUFFER, 0, 3);
	s[n++] = 1;			/* one colour buffer */
	s[n++] = 0;			/* no depth/stencil surface */
	s[n++] = 1;			/* the surface */
	s[n++] = VCMD(VCCMD_CLEAR, 0, 8);
	s[n++] = PIPE_CLEAR_COLOR0;
	s[n++] = f2u(r);
	s[n++] = f2u(g);
	s[n++] = f2u(b);
	s[n++] = f2u(1.0f);
	s[n++] = 0;			/* depth: a double, 0.0 */
	s[n++] = 0;
	s[n++] = 0;			/* stencil */
	return n;
}

/* A recognisable colour for pixel (x, y). */
static uint32_t colour(uint32_t x, uint32_t y, uint32_t salt)
{
	return ((x * 37 + salt) & 0xff) << 16 | ((y * 11 + salt * 3) & 0xff) << 8 |
	       ((x + y * 5 + salt * 7) & 0xff);
}

/* Fills a w x h image at gpa with colour(salt), bytes B,G,R,A (or
 * R,G,B,A for FMT_RGBA). */
static void fill(struct env *e, uint64_t gpa, uint32_t format, uint32_t w,
		 uint32_t h, uint32_t salt)
{
	uint8_t *p = fvq_ptr(&e->m, gpa, (uint64_t)w * h * 4);

	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++, p += 4) {
			uint32_t c = colour(x, y, salt);
			uint8_t r = (uint8_t)(c >> 16), g = (uint8_t)(c >> 8);
			uint8_t b = (uint8_t)c;

			p[0] = format == FMT_RGBA ? r : b;
			p[1] = g;
			p[2] = format == FMT_RGBA ? b : r;
			p[3] = 0xff;
		}
}

static uint32_t px_at(struct env *e, uint64_t gpa, uint32_t w, uint32_t x,
		      uint32_t y)
{
	uint8_t *p = fvq_ptr(&e->m, gpa + ((uint64_t)y * w + x) * 4, 4);

	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[1] << 8 | p[0];
}

/* A 3D texture (2D target, BGRA) of w x h with backing, attached to
 * ctx when ctx != 0; the backing's gpa. */
static uint64_t make_tex(struct env *e, uint32_t ctx, uint32_t id, uint32_t w,
			 uint32_t h, uint32_t flags)
{
	uint64_t gpa;

	CHECK_EQ(create_3d(e, id, w, h, flags), OK);
	gpa = attach(e, id, w * h * 4);
	if (ctx)
		CHECK_EQ(ctx_res(e, VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, ctx, id),
			 OK);
	return gpa;
}

/* ---- capsets, features, contexts ----------------------------------------- */

TEST(test_features_and_capsets)
{
	struct env e;
	struct virtio_gpu_get_capset_info ci = {
		hdr(VIRTIO_GPU_CMD_GET_CAPSET_INFO), 0, 0 };
	struct virtio_gpu_get_capset cs = { hdr(VIRTIO_GPU_CMD_GET_CAPSET), 0, 0 };
	const struct virtio_gpu_resp_capset_info *r;
	uint32_t size[2] = { 0, 0 };

	if (setup(&e))
		return;
	fvq_mmio_write(e.d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_DEVICE_FEATURES) & 0xff,
		 FEATURES);
	CHECK_EQ(start(&e), 0);
	CHECK_EQ(fvq_mmio_read(e.d, VIRTIO_MMIO_CONFIG + 12), 2);

	for (uint32_t i = 0; i < 2; i++) {
		ci.capset_index = htole32(i);
		CHECK_EQ(SEND(&e, ci), VIRTIO_GPU_RESP_OK_CAPSET_INFO);
		CHECK_EQ(e.used_len, sizeof(*r));
		r = fvq_ptr(&e.m, e.resp, sizeof(*r));
		CHECK_EQ(le32toh(r->capset_id), i + 1);	/* VIRGL, VIRGL2 */
		CHECK(le32toh(r->capset_max_version) >= 1);
		size[i] = le32toh(r->capset_max_size);
		CHECK(size[i] > 0 && size[i] < 4096);
	}
	ci.capset_index = htole32(2);
	CHECK_EQ(SEND(&e, ci), E_PARAM);

	for (uint32_t i = 0; i < 2; i++) {
		const uint8_t *p;
		int nonzero = 0;

		cs.capset_id = htole32(i + 1);
		cs.capset_version = htole32(1);
		CHECK_EQ(SEND(&e, cs), VIRTIO_GPU_RESP_OK_CAPSET);
		CHECK_EQ(e.used_len, 24 + size[i]);
		p = fvq_ptr(&e.m, e.resp + 24, size[i]);
		for (uint32_t k = 0; k < size[i]; k++)
			nonzero |= p[k];
		CHECK(nonzero);
	}
	cs.capset_id = htole32(4);		/* venus: not offered */
	CHECK_EQ(SEND(&e, cs), E_PARAM);
	cs.capset_id = htole32(1);
	cs.capset_version = htole32(99);
	CHECK_EQ(SEND(&e, cs), E_PARAM);
	CHECK(works(&e));
	teardown(&e);
}

TEST(test_contexts)
{
	struct env e;

	if (setup(&e))
		return;
	CHECK_EQ(start(&e), 0);
	CHECK_EQ(ctx_create(&e, 1), OK);
	CHECK_EQ(ctx_create(&e, 1), E_CTX);		/* already there */
	CHECK_EQ(ctx_create(&e, 0), E_CTX);
	CHECK_EQ(ctx_create_init(&e, 2, VIRTIO_GPU_CAPSET_VIRGL2), OK);
	CHECK_EQ(ctx_create_init(&e, 3, VIRTIO_GPU_CAPSET_VIRGL), OK);
	CHECK_EQ(ctx_create_init(&e, 4, 4), E_PARAM);	/* venus */
	CHECK_EQ(ctx_create_init(&e, 4, 0x100 | 2), E_PARAM);	/* unknown bits */
	CHECK_EQ(ctx_destroy(&e, 1), OK);
	CHECK_EQ(ctx_destroy(&e, 1), E_CTX);
	CHECK_EQ(ctx_destroy(&e, 77), E_CTX);
	CHECK_EQ(ctx_create(&e, 1), OK);		/* the id is free again */
	CHECK_EQ(ctx_destroy(&e, 2), OK);
	CHECK(works(&e));
	teardown(&e);

	/* Without CONTEXT_INIT negotiated, context_init is padding. */
	if (setup(&e))
		return;
	CHECK_EQ(start_with(&e, 1ULL << VIRTIO_GPU_F_VIRGL), 0);
	CHECK_EQ(ctx_create_init(&e, 5, 0xabcd), OK);
	CHECK_EQ(ctx_destroy(&e, 5), OK);
	teardown(&e);
}

/* ---- 2D commands on virgl resources ---------------------------------------- */

static uint8_t *read_png(const char *path, uint32_t *w, uint32_t *h)
{
	png_image img;
	uint8_t *buf;

	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_file(&img, path))
		return NULL;
	img.format = PNG_FORMAT_RGB;
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

TEST(test_2d_draw_and_screenshot)
{
	struct env e;
	char dir[] = "/tmp/minivmm-virgl-XXXXXX", png[64], err[128];
	uint32_t w = 48, h = 40, pw = 0, ph = 0;
	uint64_t gpa;
	uint8_t *px;
	int bad = 0;

	if (setup(&e))
		return;
	CHECK_EQ(start(&e), 0);
	CHECK_EQ(create_2d(&e, 1, FMT_BGRA, w, h), OK);
	gpa = attach(&e, 1, w * h * 4);
	fill(&e, gpa, FMT_BGRA, w, h, 5);
	CHECK_EQ(transfer_2d(&e, 1, rect(0, 0, w, h), 0), OK);
	CHECK_EQ(set_scanout(&e, 0, 1, rect(0, 0, w, h)), OK);
	CHECK_EQ(flush(&e, 1, rect(0, 0, w, h)), OK);
	CHECK_EQ(e.rec.mode_w, w);
	CHECK_EQ(e.rec.mode_h, h);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			bad += shown(&e.rec, x, y) != colour(x, y, 5);
	CHECK_EQ(bad, 0);

	/* The same pixels in a PNG of the headless frame. */
	CHECK(mkdtemp(dir) != NULL);
	snprintf(png, sizeof(png), "%s/shot.png", dir);
	CHECK_EQ(e.rec.d.ops->screenshot(&e.rec.d, png, err, sizeof(err)), 0);
	px = read_png(png, &pw, &ph);
	CHECK(px != NULL);
	if (px) {
		CHECK_EQ(pw, w);
		CHECK_EQ(ph, h);
		bad = 0;
		for (uint32_t y = 0; y < h; y++)
			for (uint32_t x = 0; x < w; x++) {
				const uint8_t *p = px + (y * w + x) * 3;
				uint32_t c = (uint32_t)p[0] << 16 |
					     (uint32_t)p[1] << 8 | p[2];

				bad += c != colour(x, y, 5);
			}
		CHECK_EQ(bad, 0);
		free(px);
	}
	unlink(png);
	rmdir(dir);
	teardown(&e);
}

TEST(test_2d_partial_update_and_format)
{
	struct env e;
	uint32_t w = 32, h = 32, bad = 0;
	uint64_t gpa;

	if (setup(&e))
		return;
	CHECK_EQ(start(&e), 0);
	/* R,G,B,A bytes: the display still gets B,G,R,X. */
	CHECK_EQ(create_2d(&e, 7, FMT_RGBA, w, h), OK);
	gpa = attach(&e, 7, w * h * 4);
	fill(&e, gpa, FMT_RGBA, w, h, 1);
	CHECK_EQ(transfer_2d(&e, 7, rect(0, 0, w, h), 0), OK);
	CHECK_EQ(set_scanout(&e, 0, 7, rect(0, 0, w, h)), OK);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			bad += shown(&e.rec, x, y) != colour(x, y, 1);
	CHECK_EQ(bad, 0);

	/* New pixels everywhere, but only rows 20..23, columns 8..15 sent
	 * and flushed: the display shows them there (not mirrored) and
	 * the old image elsewhere. */
	fill(&e, gpa, FMT_RGBA, w, h, 9);
	CHECK_EQ(transfer_2d(&e, 7, rect(8, 20, 8, 4), (20 * w + 8) * 4), OK);
	CHECK_EQ(flush(&e, 7, rect(8, 20, 8, 4)), OK);
	bad = 0;
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			int in = x >= 8 && x < 16 && y >= 20 && y < 24;

			bad += shown(&e.rec, x, y) != colour(x, y, in ? 9 : 1);
		}
	CHECK_EQ(bad, 0);

	/* A scanout showing part of the resource. */
	CHECK_EQ(set_scanout(&e, 0, 7, rect(4, 14, 20, 10)), OK);
	CHECK_EQ(e.rec.mode_w, 20);
	CHECK_EQ(e.rec.mode_h, 10);
	CHECK_EQ(shown(&e.rec, 0, 0), colour(4, 14, 1));
	CHECK_EQ(shown(&e.rec, 19, 9), colour(23, 23, 1));
	CHECK_EQ(shown(&e.rec, 4, 6), colour(8, 20, 9));
	CHECK_EQ(shown(&e.rec, 11, 9), colour(15, 23, 9));
	teardown(&e);
}

TEST(test_2d_hostile)
{
	struct env e;
	struct virtio_gpu_mem_entry bad_ent[2];
	uint64_t gpa;

	if (setup(&e))
		return;
	CHECK_EQ(start(&e), 0);
	CHECK_EQ(create_2d(&e, 0, FMT_BGRA, 8, 8), E_RES);
	CHECK_EQ(create_2d(&e, 1, 999, 8, 8), E_PARAM);
	CHECK_EQ(create_2d(&e, 1, FMT_BGRA, 0, 8), E_PARAM);
	CHECK_EQ(create_2d(&e, 1, FMT_BGRA, 16385, 8), E_PARAM);
	CHECK_EQ(create_2d(&e, 1, FMT_BGRA, 16, 16), OK);
	CHECK_EQ(create_2d(&e, 1, FMT_BGRA, 16, 16), E_RES);	/* twice */

	/* Backing outside guest memory, wrapping, none, too many. */
	bad_ent[0] = ent(MEM_GPA + MEM_SIZE - 16, 32);
	CHECK_EQ(attach_n(&e, 1, 1, bad_ent, 1), E_UNSPEC);
	bad_ent[0] = ent(0xfffffffffffff000ULL, 0x2000);
	CHECK_EQ(attach_n(&e, 1, 1, bad_ent, 1), E_UNSPEC);
	CHECK_EQ(attach_n(&e, 1, 0, NULL, 0), E_UNSPEC);
	CHECK_EQ(attach_n(&e, 1, 100000, NULL, 0), E_UNSPEC);
	bad_ent[0] = ent(MEM_GPA, 64);
	CHECK_EQ(attach_n(&e, 1, 2, bad_ent, 1), E_UNSPEC);	/* 1 of 2 */
	CHECK_EQ(attach_n(&e, 9, 1, bad_ent, 1), E_RES);

	/* Transfers: no backing yet, then outside the resource or the
	 * backing. */
	CHECK_EQ(transfer_2d(&e, 1, rect(0, 0, 16, 16), 0), E_UNSPEC);
	gpa = attach(&e, 1, 16 * 16 * 4);
	(void)gpa;
	CHECK_EQ(transfer_2d(&e, 1, rect(0, 0, 17, 16), 0), E_PARAM);
	CHECK_EQ(transfer_2d(&e, 1, rect(0xffffffff, 0, 2, 1), 0), E_PARAM);
	CHECK_EQ(transfer_2d(&e, 1, rect(0, 0, 16, 16), 4), E_PARAM);
	CHECK_EQ(transfer_2d(&e, 1, rect(0, 0, 1, 1), ~0ULL), E_PARAM);
	CHECK_EQ(transfer_2d(&e, 2, rect(0, 0, 1, 1), 0), E_RES);

	/* Scanout and flush. */
	CHECK_EQ(set_scanout(&e, 1, 1, rect(0, 0, 16, 16)), E_SCANOUT);
	CHECK_EQ(set_scanout(&e, 0, 2, rect(0, 0, 16, 16)), E_RES);
	CHECK_EQ(set_scanout(&e, 0, 1, rect(8, 0, 9, 16)), E_PARAM);
	CHECK_EQ(set_scanout(&e, 0, 1, rect(0, 0, 0, 16)), E_PARAM);
	CHECK_EQ(flush(&e, 1, rect(0, 0, 16, 17)), E_PARAM);
	CHECK_EQ(flush(&e, 3, rect(0, 0, 1, 1)), E_RES);

	CHECK_EQ(res_cmd(&e, VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, 1), OK);
	CHECK_EQ(res_cmd(&e, VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, 1), E_UNSPEC);
	CHECK_EQ(res_cmd(&e, VIRTIO_GPU_CMD_RESOURCE_UNREF, 1), OK);
	CHECK_EQ(res_cmd(&e, VIRTIO_GPU_CMD_RESOURCE_UNREF, 1), E_RES);
	CHECK(works(&e));
	teardown(&e);
}

TEST(test_truncated_and_unknown)
{
	static const uint32_t types[] = {
		VIRTIO_GPU_CMD_CTX_CREATE, VIRTIO_GPU_CMD_RESOURCE_CREATE_3D,
		VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, VIRTIO_GPU_CMD_SUBMIT_3D,
		VIRTIO_GPU_CMD_GET_CAPSET, VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
		VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE };
	struct env e;
	uint8_t buf[128];

	if (setup(&e))
		return;
	CHECK_EQ(start(&e), 0);
	CHECK_EQ(ctx_create(&e, 1), OK);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct virtio_gpu_ctrl_hdr h = hdr_ctx(types[i], 1);

		memset(buf, 0x11, sizeof(buf));
		memcpy(buf, &h, sizeof(h));
		CHECK_EQ(send(&e, buf, 28), E_UNSPEC);	/* header + 4 bytes */
	}
	CHECK_EQ(send(&e, buf, 10), E_UNSPEC);		/* half a header */
	{
		struct virtio_gpu_ctrl_hdr h = hdr(0x0299);

		CHECK_EQ(SEND(&e, h), E_UNSPEC);
	}
	CHECK(works(&e));
	teardown(&e);
}

TEST(test_response_too_small)
{
	struct env e;
	struct virtio_gpu_ctrl_hdr c = hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO);

	if (setup(&e))
		return;
	CHECK_EQ(start(&e), 0);
	post(&e, &c, sizeof(c), 100);
	fvq_kick(e.d, CTRL);
	for (int i = 0; i < WAIT_MS && !needs_reset(&e); i++)
		sleep_ms(1);
	CHECK(needs_reset(&e));
	CHECK(quiet(&e, CTRL));			/* and no answer */
	/* A reset brings it back. */
	CHECK_EQ(start(&e), 0);
	CHECK(works(&e));
	teardown(&e);
}

TEST(test_cursor)
{
	struct env e;
	struct virtio_gpu_update_cursor c = {
		.hdr = hdr(VIRTIO_GPU_CMD_UPDATE_CURSOR),
		.pos = { 0, htole32(100), htole32(50), 0 },
		.resource_id = htole32(3), .hot_x = htole32(4) };
	struct fvq_used u;
	uint64_t gpa;

	if (setup(&e))
		return;
	CHECK_EQ(start(&e), 0);
	CHECK_EQ(create_2d(&e, 3, FMT_BGRA, 64, 64), OK);
	gpa = attach(&e, 3, 64 * 64 * 4);
	fill(&e, gpa, FMT_BGRA, 64, 64, 3);
	CHECK_EQ(transfer_2d(&e, 3, rect(0, 0, 64, 64), 0), OK);
	FVQ_ADD(&e.v[CURS], { fvq_put(&e.m, &c, sizeof(c)), sizeof(c), 0 });
	fvq_kick(e.d, CURS);
	CHECK(wait_used(&e, CURS, &u));
	CHECK_EQ(e.rec.defines, 1);
	CHECK(!e.rec.cursor_hidden);
	CHECK_EQ(memcmp(e.rec.cursor, fvq_ptr(&e.m, gpa, 64 * 64 * 4),
			64 * 64 * 4), 0);
	CHECK_EQ(e.rec.cx, 100);
	CHECK_EQ(e.rec.cy, 50);

	/* A missing resource is ignored; id 0 hides. */
	c.resource_id = htole32(99);
	FVQ_ADD(&e.v[CURS], { fvq_put(&e.m, &c, sizeof(c)), sizeof(c), 0 });
	c.resource_id = 0;
	FVQ_ADD(&e.v[CURS], { fvq_put(&e.m, &c, sizeof(c)), sizeof(c), 0 });
	fvq_kick(e.d, CURS);
	CHECK(wait_used(&e, CURS, &u));
	CHECK(wait_used(&e, CURS, &u));
	CHECK_EQ(e.rec.defines, 2);
	CHECK(e.rec.cursor_hidden);
	CHECK(works(&e));
	teardown(&e);
}

/* ---- 3D resources and transfers ----------------------------------------- */

TEST(test_3d_transfer_round_trip)
{
	struct env e;
	uint32_t w = 24, h = 12;
	uint64_t gpa, buf;
	uint8_t *p, *copy;

	if (setup(&e))
		return;
	CHECK_EQ(start(&e), 0);
	CHECK_EQ(ctx_create(&e, 1), OK);
	for (uint32_t flags = 0; flags < 2; flags++) {
		uint32_t id = 10 + flags;

		gpa = make_tex(&e, 1, id, w, h, flags);
		fill(&e, gpa, FMT_BGRA, w, h, 7 + flags);
		p = fvq_ptr(&e.m, gpa, w * h * 4);
		copy = malloc(w * h * 4);
		memcpy(copy, p, w * h * 4);
		CHECK_EQ(transfer_3d(&e, VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, 1,
				     id, w, h), OK);
		memset(p, 0, w * h * 4);
		CHECK_EQ(transfer_3d(&e, VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D, 1,
				     id, w, h), OK);
		CHECK_EQ(memcmp(p, copy, w * h * 4), 0);
		/* A box in the middle comes back where it belongs. */
		memset(p, 0, w * h * 4);
		{
			struct virtio_gpu_transfer_host_3d c = t3d(
				VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D, 1, id,
				3, 5, 4, 2, (5 * w + 3) * 4);

			CHECK_EQ(SEND(&e, c), OK);
		}
		CHECK_EQ(px_at(&e, gpa, w, 3, 5), 0xff000000 | colour(3, 5, 7 + flags));
		CHECK_EQ(px_at(&e, gpa, w, 6, 6), 0xff000000 | colour(6, 6, 7 + flags));
		CHECK_EQ(px_at(&e, gpa, w, 2, 5), 0);
		CHECK_EQ(px_at(&e, gpa, w, 3, 7), 0);
		free(copy);
	}

	/* A buffer resource: bytes. */
	{
		struct virtio_gpu_resource_create_3d c =
			c3d(20, VIRGL_TARGET_BUFFER, 64 /* R8 */, 4096, 1);
		uint8_t *bp;

		c.bind = htole32(1u << 4);		/* vertex buffer */
		CHECK_EQ(SEND(&e, c), OK);
		buf = attach(&e, 20, 4096);
		CHECK_EQ(ctx_res(&e, VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, 1, 20), OK);
		bp = fvq_ptr(&e.m, buf, 4096);
		for (int i = 0; i < 4096; i++)
			bp[i] = (uint8_t)(i * 7 + 1);
		CHECK_EQ(transfer_3d(&e, VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, 1, 20,
				     4096, 1), OK);
		memset(bp, 0, 4096);
		CHECK_EQ(transfer_3d(&e, VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D, 1,
				     20, 4096, 1), OK);
		CHECK_EQ(bp[0], 1);
		CHECK_EQ(bp[4095], (uint8_t)(4095 * 7 + 1));
	}
	/* Without a context (ctx 0) the host's own path is used. */
	CHECK_EQ(transfer_3d(&e, VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D, 0, 10,
			     w, h), OK);
	CHECK(works(&e));
	teardown(&e);
}

/* The display shows a resource's row 0 on top, Y_0_TOP or not: the
 * read-back yields the guest's view. */
TEST(test_3d_scanout_orientation)
{
	struct env e;

	if (setup(&e))
		return;
	CHECK_EQ(start(&e), 0);
	for (uint32_t flags = 0; flags < 2; flags++) {
		uint32_t id = 30 + flags, w = 16, h = 16, bad = 0;
		uint64_t gpa = make_tex(&e, 0, id, w, h, flags);

		fill(&e, gpa, FMT_BGRA, w, h, 11 + flags);
		CHECK_EQ(transfer_3d(&e, VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, 0,
				     id, w, h), OK);
		CHECK_EQ(set_scanout(&e, 0, id, rect(0, 0, w, h)), OK);
		for (uint32_t y = 0; y < h; y++)
			for (uint32_t x = 0; x < w; x++)
				bad += shown(&e.rec, x, y) != colour(x, y, 11 + flags);
		CHECK_EQ(bad, 0);
		/* A flush of one row shows that row where it is. */
		fill(&e, gpa, FMT_BGRA, w, h, 40);
		CHECK_EQ(transfer_3d(&e, VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, 0,
				     id, w, h), OK);
		CHECK_EQ(flush(&e, id, rect(0, 3, w, 1)), OK);
		CHECK_EQ(shown(&e.rec, 5, 3), colour(5, 3, 40));
		CHECK_EQ(shown(&e.rec, 5, 2), colour(5, 2, 11 + flags));
		CHECK_EQ(shown(&e.rec, 5, 12), colour(5, 12, 11 + flags));
	}
	teardown(&e);
}

TEST(test_3d_oversized)
{
	struct env e;
	struct virtio_gpu_resource_create_3d c;

	if (setup(&e))
		return;
	CHECK_EQ(start(&e), 0);
	c = c3d(1, VIRGL_TARGET_2D, FMT_BGRA, 16385, 16);
	CHECK_EQ(SEND(&e, c), E_PARAM);
	c = c3d(1, VIRGL_TARGET_2D, FMT_BGRA, 0, 16);
	CHECK_EQ(SEND(&e, c), E_PARAM);
	c = c3d(1, 9, FMT_BGRA, 16, 16);			/* no such target */
	CHECK_EQ(SEND(&e, c), E_PARAM);
	c = c3d(1, VIRGL_TARGET_BUFFER, 64, (256u << 20) + 1, 1);
	CHECK_EQ(SEND(&e, c), E_PARAM);
	c = c3d(1, VIRGL_TARGET_3D, FMT_BGRA, 16, 16);
	c.depth = htole32(4096);
	CHECK_EQ(SEND(&e, c), E_PARAM);
	c = c3d(1, VIRGL_TARGET_2D, FMT_BGRA, 16, 16);
	c.last_level = htole32(15);
	CHECK_EQ(SEND(&e, c), E_PARAM);
	c.last_level = 0;
	c.depth = htole32(2);				/* 2D with depth */
	CHECK_EQ(SEND(&e, c), E_PARAM);
	c = c3d(0, VIRGL_TARGET_2D, FMT_BGRA, 16, 16);
	CHECK_EQ(SEND(&e, c), E_RES);
	c = c3d(5, VIRGL_TARGET_2D, 5000, 16, 16);	/* unknown to virgl */
	CHECK_EQ(SEND(&e, c), E_PARAM);
	/* Shapes within limits that would take more memory than allowed:
	 * 16384^2 RGBA32F is 4 GiB; buffers of 256 MiB, four fit (buffers:
	 * the host does not touch their pages, so this stays quick). */
	c = c3d(1, VIRGL_TARGET_2D, 31, 16384, 16384);
	CHECK_EQ(SEND(&e, c), E_OOM);
	for (uint32_t i = 0; i < 4; i++) {
		c = c3d(100 + i, VIRGL_TARGET_BUFFER, 64, 256u << 20, 1);
		c.bind = htole32(1u << 4);
		CHECK_EQ(SEND(&e, c), OK);
	}
	c = c3d(104, VIRGL_TARGET_BUFFER, 64, 256u << 20, 1);
	c.bind = htole32(1u << 4);
	CHECK_EQ(SEND(&e, c), E_OOM);
	CHECK_EQ(res_cmd(&e, VIRTIO_GPU_CMD_RESOURCE_UNREF, 100), OK);
	CHECK_EQ(SEND(&e, c), OK);			/* room again */
	CHECK(works(&e));
	teardown(&e);
}

TEST(test_3d_transfer_bounds)
{
	struct env e;
	struct virtio_gpu_transfer_host_3d c;
	uint32_t to = VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D;
	uint32_t from = VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D;

	if (setup(&e))
		return;
	CHECK_EQ(start(&e), 0);
	CHECK_EQ(ctx_create(&e, 1), OK);
	make_tex(&e, 1, 1, 16, 16, 0);
	CHECK_EQ(create_3d(&e, 2, 16, 16, 0), OK);	/* no backing */
	CHECK_EQ(ctx_res(&e, VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, 1, 2), OK);

	c = t3d(to, 1, 1, 0, 0, 17, 16, 0);
	CHECK_EQ(SEND(&e, c), E_PARAM);
	c = t3d(from, 1, 1, 15, 0, 2, 1, 0);
	CHECK_EQ(SEND(&e, c), E_PARAM);
	c = t3d(to, 1, 1, 0xffffffff, 0, 2, 1, 0);	/* wraps */
	CHECK_EQ(SEND(&e, c), E_PARAM);
	c = t3d(from, 1, 1, 0, 0xfffffff0, 1, 0x20, 0);
	CHECK_EQ(SEND(&e, c), E_PARAM);
	c = t3d(to, 1, 1, 0, 0, 1, 1, 0);
	c.box.z = htole32(1);				/* a 2D texture */
	CHECK_EQ(SEND(&e, c), E_PARAM);
	c = t3d(to, 1, 1, 0, 0, 1, 1, 0);
	c.level = htole32(1);				/* no mip levels */
	CHECK_EQ(SEND(&e, c), E_PARAM);
	c = t3d(from, 1, 1, 0, 0, 16, 16, 16 * 16 * 4 + 1);	/* offset */
	CHECK_EQ(SEND(&e, c), E_PARAM);
	c = t3d(from, 1, 1, 0, 0, 16, 16, 4);		/* runs past backing */
	CHECK_EQ(SEND(&e, c), E_PARAM);
	c = t3d(from, 1, 1, 0, 0, 16, 16, 0);
	c.stride = htole32(1u << 20);			/* rows past backing */
	CHECK_EQ(SEND(&e, c), E_PARAM);
	c = t3d(from, 1, 2, 0, 0, 16, 16, 0);
	CHECK_EQ(SEND(&e, c), E_UNSPEC);		/* no backing */
	c = t3d(from, 1, 9, 0, 0, 1, 1, 0);
	CHECK_EQ(SEND(&e, c), E_RES);
	c = t3d(from, 7, 1, 0, 0, 1, 1, 0);
	CHECK_EQ(SEND(&e, c), E_CTX);
	c = t3d(from, 1, 1, 0, 0, 16, 16, 0);
	CHECK_EQ(SEND(&e, c), OK);			/* and a good one */
	CHECK(works(&e));
	teardown(&e);
}

TEST(test_unattached_resources)
{
	struct env e;
	uint32_t s[32], n;

	if (setup(&e))
		return;
	CHECK_EQ(start(&e), 0);
	CHECK_EQ(ctx_create(&e, 1), OK);
	CHECK_EQ(ctx_create(&e, 2), OK);
	make_tex(&e, 1, 5, 8, 8, 0);		/* attached to ctx 1 only */

	/* Context 2 cannot reach it: not by transfer... */
	CHECK_EQ(transfer_3d(&e, VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, 2, 5, 8, 8),
		 E_RES);
	CHECK_EQ(ctx_res(&e, VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE, 2, 5), E_RES);
	/* ...nor in a command stream (virglrenderer's context error). */
	n = clear_stream(s, 5, 1, 0, 0);
	CHECK_EQ(submit(&e, 2, s, n), E_PARAM);
	/* Context 1 still can; detached, it cannot any more. */
	CHECK_EQ(transfer_3d(&e, VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, 1, 5, 8, 8),
		 OK);
	CHECK_EQ(ctx_res(&e, VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE, 1, 5), OK);
	CHECK_EQ(transfer_3d(&e, VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, 1, 5, 8, 8),
		 E_RES);
	/* Bad ids for attach. */
	CHECK_EQ(ctx_res(&e, VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, 9, 5), E_CTX);
	CHECK_EQ(ctx_res(&e, VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, 1, 77), E_RES);
	/* A destroyed context's attachments go with it. */
	CHECK_EQ(ctx_res(&e, VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, 1, 5), OK);
	CHECK_EQ(ctx_destroy(&e, 1), OK);
	CHECK_EQ(ctx_create(&e, 1), OK);
	CHECK_EQ(transfer_3d(&e, VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, 1, 5, 8, 8),
		 E_RES);
	CHECK(works(&e));
	teardown(&e);
}

/* ---- SUBMIT_3D ------------------------------------------------------------ */

TEST(test_submit_clear)
{
	struct env e;
	uint32_t s[32], n, w = 16, h = 8, bad = 0;
	uint64_t gpa;

	if (setup(&e))
		return;
	CHECK_EQ(start(&e), 0);
	CHECK_EQ(ctx_create_init(&e, 1, VIRTIO_GPU_CAPSET_VIRGL2), OK);
	gpa = make_tex(&e, 1, 3, w, h, 0);
	n = clear_stream(s, 3, 1.0f, 0.0f, 1.0f);	/* magenta */
	CHECK_EQ(submit(&e, 1, s, n), OK);
	CHECK_EQ(transfer_3d(&e, VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D, 1, 3,
			     w, h), OK);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			bad += px_at(&e, gpa, w, x, y) != 0xffff00ff;
	CHECK_EQ(bad, 0);
	/* And on the screen. */
	CHECK_EQ(set_scanout(&e, 0, 3, rect(0, 0, w, h)), OK);
	CHECK_EQ(shown(&e.rec, 0, 0), 0xff00ff);
	CHECK_EQ(shown(&e.rec, w - 1, h - 1), 0xff00ff);
	/* Cleared again, flushed. */
	n = clear_stream(s, 3, 0.0f, 1.0f, 0.0f);
	s[1] = 2;				/* a second surface */
	s[9] = 2;
	CHECK_EQ(submit(&e, 1, s, n), OK);
	CHECK_EQ(flush(&e, 3, rect(0, 0, w, h)), OK);
	CHECK_EQ(shown(&e.rec, 3, 4), 0x00ff00);
	teardown(&e);
}

#define ROUNDS 200

static uint32_t rnd(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed ^ (*seed >> 15);
}

TEST(test_submit_hostile)
{
	struct env e;
	uint32_t s[64], n, seed = 12345, bad = 0;
	uint64_t gpa;

	if (setup(&e))
		return;
	CHECK_EQ(start(&e), 0);
	CHECK_EQ(ctx_create(&e, 1), OK);
	CHECK_EQ(ctx_create(&e, 2), OK);
	gpa = make_tex(&e, 2, 3, 8, 8, 0);

	/* Bad contexts, sizes that do not add up. */
	n = clear_stream(s, 3, 1, 0, 0);
	CHECK_EQ(submit(&e, 9, s, n), E_CTX);
	CHECK_EQ(submit(&e, 0, s, n), E_CTX);
	{
		struct virtio_gpu_cmd_submit c = {
			hdr_ctx(VIRTIO_GPU_CMD_SUBMIT_3D, 1), htole32(64), 0 };

		CHECK_EQ(SEND(&e, c), E_PARAM);		/* 64 announced, 0 sent */
		c.size = htole32((1u << 20) + 4);
		CHECK_EQ(SEND(&e, c), E_PARAM);		/* over the bound */
		c.size = htole32(2);
		CHECK_EQ(SEND(&e, c), E_PARAM);		/* not whole dwords */
	}

	/* Random bytes behind an opcode there is none of: refused. */
	for (uint32_t i = 0; i < 60; i++)
		s[i] = rnd(&seed);
	s[0] = VCMD(0xff, 0, 59);
	CHECK_EQ(submit(&e, 1, s, 60), E_PARAM);
	/* An image view with a format number from nowhere on a resource
	 * the context may use: virglrenderer 0.10 would index a table with
	 * it and crash; refused before it gets there. */
	s[0] = VCMD(VCCMD_SET_SHADER_IMAGES, 0, 7);
	s[1] = 5;					/* compute */
	s[2] = 0;					/* slot */
	s[3] = 0xc1b39c94;				/* format */
	s[4] = 7;
	s[5] = 0;
	s[6] = 64;
	s[7] = 3;					/* the resource */
	CHECK_EQ(submit(&e, 2, s, 8), E_PARAM);
	/* Streams of well-formed headers (real opcodes and object types,
	 * lengths that fit) over random payloads, each into a context of
	 * its own: every one answered, the process keeps running. */
	for (uint32_t round = 0; round < ROUNDS; round++) {
		uint32_t len = 0, t;

		CHECK_EQ(ctx_create(&e, 100 + round), OK);
		CHECK_EQ(ctx_res(&e, VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE,
				 100 + round, 3), OK);
		while (len < 56) {
			uint32_t op = rnd(&seed) % 64, obj = rnd(&seed) % 12;
			uint32_t n = rnd(&seed) % 16;

			if (n > 63 - len)
				n = 63 - len;
			s[len++] = VCMD(op, obj, n);
			for (uint32_t i = 0; i < n; i++)
				s[len++] = rnd(&seed) % 4 ? rnd(&seed) % 8 : rnd(&seed);
		}
		t = submit(&e, 100 + round, s, len);
		CHECK(t == OK || t == E_PARAM);
		CHECK_EQ(ctx_destroy(&e, 100 + round), OK);
	}
	n = clear_stream(s, 3, 0, 0, 1);	/* blue */
	CHECK_EQ(submit(&e, 2, s, n), OK);
	CHECK_EQ(transfer_3d(&e, VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D, 2, 3, 8, 8),
		 OK);
	for (uint32_t y = 0; y < 8; y++)
		for (uint32_t x = 0; x < 8; x++)
			bad += px_at(&e, gpa, 8, x, y) != 0xff0000ff;
	CHECK_EQ(bad, 0);
	/* The broken context goes away cleanly and its id is reusable. */
	CHECK_EQ(ctx_destroy(&e, 1), OK);
	CHECK_EQ(ctx_create(&e, 1), OK);
	CHECK(works(&e));
	teardown(&e);
}

/* ---- fences --------------------------------------------------------------- */

TEST(test_fences_wait_and_keep_order)
{
	struct env e;
	struct virtio_gpu_resource_create_2d cr = {
		hdr(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D), htole32(1),
		htole32(FMT_BGRA), htole32(8), htole32(8) };
	struct virtio_gpu_ctrl_hdr di = hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
	uint32_t s[32], n;
	struct virtio_gpu_cmd_submit sc;
	uint8_t sub[32 + sizeof(s)];
	uint64_t resp[4];
	uint16_t head[4];
	struct fvq_used u;
	const struct virtio_gpu_ctrl_hdr *r;

	if (setup(&e))
		return;
	CHECK_EQ(start(&e), 0);
	CHECK_EQ(ctx_create(&e, 1), OK);
	make_tex(&e, 1, 3, 8, 8, 0);

	virtio_gpu_virgl_hold_fences(e.g, 1);
	/* Fenced: a 2D create (fence 10), a submit (11), an error (12);
	 * then an unfenced command, which is answered at once. */
	cr.hdr.flags = htole32(VIRTIO_GPU_FLAG_FENCE);
	cr.hdr.fence_id = htole64(10);
	head[0] = post(&e, &cr, sizeof(cr), 64);
	resp[0] = e.resp;
	n = clear_stream(s, 3, 1, 1, 1);
	sc = (struct virtio_gpu_cmd_submit){
		hdr_ctx(VIRTIO_GPU_CMD_SUBMIT_3D, 1), htole32(n * 4), 0 };
	sc.hdr.flags = htole32(VIRTIO_GPU_FLAG_FENCE);
	sc.hdr.fence_id = htole64(11);
	memcpy(sub, &sc, sizeof(sc));
	memcpy(sub + sizeof(sc), s, n * 4);
	head[1] = post(&e, sub, (uint32_t)(sizeof(sc) + n * 4), 64);
	resp[1] = e.resp;
	cr.hdr.fence_id = htole64(12);		/* the same id again: error */
	head[2] = post(&e, &cr, sizeof(cr), 64);
	resp[2] = e.resp;
	head[3] = post(&e, &di, sizeof(di), 512);
	resp[3] = e.resp;
	fvq_kick(e.d, CTRL);
	CHECK(wait_used(&e, CTRL, &u));
	CHECK_EQ(u.id, head[3]);
	CHECK_EQ(resp_type(&e, resp[3]), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	CHECK(quiet(&e, CTRL));			/* the fenced ones wait */

	virtio_gpu_virgl_hold_fences(e.g, 0);
	for (int i = 0; i < 3; i++) {
		CHECK(wait_used(&e, CTRL, &u));
		CHECK_EQ(u.id, head[i]);
		CHECK_EQ(u.len, 24);
		r = fvq_ptr(&e.m, resp[i], sizeof(*r));
		CHECK_EQ(le32toh(r->type), i == 2 ? E_RES : OK);
		CHECK_EQ(le32toh(r->flags), VIRTIO_GPU_FLAG_FENCE);
		CHECK_EQ(le64toh(r->fence_id), 10 + i);
	}
	CHECK(works(&e));
	teardown(&e);
}

TEST(test_fences_per_context_ring)
{
	struct env e;
	struct virtio_gpu_ctx_resource c = {
		hdr_ctx(VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, 1), htole32(3), 0 };
	const struct virtio_gpu_ctrl_hdr *r;
	uint16_t head[2];
	uint64_t resp[2];
	struct fvq_used u;

	if (setup(&e))
		return;
	CHECK_EQ(start(&e), 0);
	CHECK_EQ(ctx_create_init(&e, 1, VIRTIO_GPU_CAPSET_VIRGL2), OK);
	CHECK_EQ(create_3d(&e, 3, 8, 8, 0), OK);

	virtio_gpu_virgl_hold_fences(e.g, 1);
	/* Ring 0 of context 1 (a context fence), then ring 2 (which virgl
	 * contexts lack: the global timeline); both echo their ring. */
	for (int i = 0; i < 2; i++) {
		c.hdr.flags = htole32(VIRTIO_GPU_FLAG_FENCE |
				      VIRTIO_GPU_FLAG_INFO_RING_IDX);
		c.hdr.fence_id = htole64(100 + i);
		c.hdr.ring_idx = (uint8_t)(2 * i);
		head[i] = post(&e, &c, sizeof(c), 64);
		resp[i] = e.resp;
		c.hdr.type = htole32(VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE);
	}
	fvq_kick(e.d, CTRL);
	CHECK(quiet(&e, CTRL));
	virtio_gpu_virgl_hold_fences(e.g, 0);
	/* Two timelines: the order between them is free. */
	for (int k = 0; k < 2; k++) {
		int i;

		CHECK(wait_used(&e, CTRL, &u));
		CHECK(u.id == head[0] || u.id == head[1]);
		i = u.id == head[0] ? 0 : 1;
		r = fvq_ptr(&e.m, resp[i], sizeof(*r));
		CHECK_EQ(le32toh(r->type), OK);
		CHECK_EQ(le32toh(r->flags), VIRTIO_GPU_FLAG_FENCE |
					    VIRTIO_GPU_FLAG_INFO_RING_IDX);
		CHECK_EQ(le64toh(r->fence_id), 100 + i);
		CHECK_EQ(le32toh(r->ctx_id), 1);
		CHECK_EQ(r->ring_idx, 2 * i);
	}
	CHECK(works(&e));
	teardown(&e);
}

/* ---- resets and start-up ------------------------------------------------- */

TEST(test_reset_drops_everything)
{
	struct env e;
	struct virtio_gpu_resource_create_2d cr = {
		hdr(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D), htole32(50),
		htole32(FMT_BGRA), htole32(8), htole32(8) };
	struct fvq_used u;

	if (setup(&e))
		return;
	CHECK_EQ(start(&e), 0);
	CHECK_EQ(ctx_create(&e, 1), OK);
	make_tex(&e, 1, 3, 16, 16, 0);
	CHECK_EQ(set_scanout(&e, 0, 3, rect(0, 0, 16, 16)), OK);
	CHECK_EQ(e.rec.mode_w, 16);

	/* A fenced command held when the driver resets: never answered. */
	virtio_gpu_virgl_hold_fences(e.g, 1);
	cr.hdr.flags = htole32(VIRTIO_GPU_FLAG_FENCE);
	cr.hdr.fence_id = htole64(1);
	post(&e, &cr, sizeof(cr), 64);
	fvq_kick(e.d, CTRL);
	CHECK(quiet(&e, CTRL));
	CHECK_EQ(start(&e), 0);			/* resets first */
	virtio_gpu_virgl_hold_fences(e.g, 0);
	CHECK(works(&e));
	CHECK(!fvq_get_used(&e.v[CTRL], &u));
	CHECK_EQ(e.rec.mode_w, 0);		/* nothing shown */
	/* Ids are free again. */
	CHECK_EQ(ctx_create(&e, 1), OK);
	CHECK_EQ(create_3d(&e, 3, 16, 16, 0), OK);
	CHECK_EQ(create_2d(&e, 50, FMT_BGRA, 8, 8), OK);
	teardown(&e);
}

/* virtio_gpu_destroy() may come after the display is gone (the 2D
 * core allows that): tearing down shows nothing. */
TEST(test_destroy_after_display)
{
	struct env e;

	if (setup(&e))
		return;
	CHECK_EQ(start(&e), 0);
	make_tex(&e, 0, 3, 16, 16, 0);
	CHECK_EQ(set_scanout(&e, 0, 3, rect(0, 0, 16, 16)), OK);
	CHECK_EQ(e.rec.mode_w, 16);
	e.rec.gone = 1;
	teardown(&e);
}

TEST(test_one_virgl_device)
{
	struct env e;
	struct virtio_gpu *g2;
	char err[256];

	if (setup(&e))
		return;
	g2 = virtio_gpu_create(&e.m.gm, &e.line, NULL, MODE_W, MODE_H, err,
			       sizeof(err));
	CHECK(g2 != NULL);
	CHECK_EQ(virtio_gpu_enable_virgl(g2, err, sizeof(err)), -1);
	CHECK(strstr(err, "already in use") != NULL);
	virtio_gpu_destroy(g2);
	teardown(&e);
}

static pthread_t hook_thread;
static int hook_calls;

static int hook_ok(void *opaque, char *err, size_t errlen)
{
	(void)opaque;
	(void)err;
	(void)errlen;
	hook_thread = pthread_self();
	hook_calls++;
	return 0;
}

static int hook_fail(void *opaque, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", (const char *)opaque);
	return -1;
}

/* The thread hook runs on the GPU thread; a failing one fails start-up
 * cleanly, and the device can be enabled afterwards. */
TEST(test_thread_hook)
{
	struct env e;
	struct virtio_gpu *g;
	char err[256];

	virtio_gpu_virgl_thread_hook(hook_fail, "sandbox says no");
	g = virtio_gpu_create(NULL, NULL, NULL, MODE_W, MODE_H, err,
			      sizeof(err));
	CHECK(g != NULL);
	CHECK_EQ(virtio_gpu_enable_virgl(g, err, sizeof(err)), -1);
	CHECK(!strcmp(err, "sandbox says no"));
	virtio_gpu_destroy(g);

	virtio_gpu_virgl_thread_hook(hook_ok, NULL);
	hook_calls = 0;
	if (setup(&e) == 0) {
		CHECK_EQ(hook_calls, 1);
		CHECK(!pthread_equal(hook_thread, pthread_self()));
		CHECK_EQ(start(&e), 0);
		CHECK(works(&e));
	}
	virtio_gpu_virgl_thread_hook(NULL, NULL);
	teardown(&e);
}

/* Without usable EGL (no EGL vendor library at all), start-up fails
 * with one clear line.  Run in a fresh process: EGL is loaded once. */
static int no_egl_child(void)
{
	struct fvq_mem m;
	struct fvq_irq irq = { 0 };
	struct irq_line line = fvq_irq_line(&irq, 20);
	struct virtio_gpu *g;
	char err[256] = "";
	int r;

	fvq_mem_init(&m, MEM_GPA, 1 << 20);
	g = virtio_gpu_create(&m.gm, &line, NULL, MODE_W, MODE_H, err,
			      sizeof(err));
	r = virtio_gpu_enable_virgl(g, err, sizeof(err));
	fprintf(stderr, "child: %s\n", err);
	virtio_gpu_destroy(g);
	fvq_mem_free(&m);
	return r == -1 && !strncmp(err, "virglrenderer could not initialise "
				   "EGL: ", 39) && !strchr(err, '\n') ? 0 : 1;
}

TEST(test_no_egl_fails_cleanly)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int st;
	pid_t pid;

	CHECK(n > 0);
	if (n <= 0)
		return;
	self[n] = '\0';
	pid = fork();
	if (pid == 0) {
		setenv("__EGL_VENDOR_LIBRARY_FILENAMES", "/nonexistent.json", 1);
		setenv("__EGL_VENDOR_LIBRARY_DIRS", "/nonexistent", 1);
		execl(self, self, "--no-egl-child", (char *)NULL);
		_exit(127);
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Mesa unloads its driver whenever virglrenderer lets EGL go, so the
 * allocations it leaks would be reported against an unknown module that
 * no LeakSanitizer suppression can name: keep the drivers loaded. */
static void pin_gl_drivers(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512], *path;

	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		path = strchr(line, '/');
		if (path && strstr(path, "_dri.so"))
			dlopen(path, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
	}
	if (f)
		fclose(f);
}

int main(int argc, char **argv)
{
	struct env e;

	/* Fast software GL, and no shader cache in $HOME. */
	setenv("GALLIUM_DRIVER", "llvmpipe", 0);
	setenv("MESA_SHADER_CACHE_DISABLE", "true", 0);
	if (argc > 1 && !strcmp(argv[1], "--no-egl-child"))
		return no_egl_child();

	if (setup(&e)) {
		printf("SKIP test_virtio_gpu_virgl: %s\n", skip_reason);
		teardown(&e);
		return 0;
	}
	pin_gl_drivers();
	teardown(&e);
	RUN(test_features_and_capsets);
	RUN(test_contexts);
	RUN(test_2d_draw_and_screenshot);
	RUN(test_2d_partial_update_and_format);
	RUN(test_2d_hostile);
	RUN(test_truncated_and_unknown);
	RUN(test_response_too_small);
	RUN(test_cursor);
	RUN(test_3d_transfer_round_trip);
	RUN(test_3d_scanout_orientation);
	RUN(test_3d_oversized);
	RUN(test_3d_transfer_bounds);
	RUN(test_unattached_resources);
	RUN(test_submit_clear);
	RUN(test_submit_hostile);
	RUN(test_fences_wait_and_keep_order);
	RUN(test_fences_per_context_ring);
	RUN(test_reset_drops_everything);
	RUN(test_destroy_after_display);
	RUN(test_one_virgl_device);
	RUN(test_thread_hook);
	RUN(test_no_egl_fails_cleanly);
	return CHECK_DONE();
}
