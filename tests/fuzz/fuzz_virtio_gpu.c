/* fuzz_virtio_gpu: the 2D virtio-gpu command stream (devices/virtio/gpu.c,
 * gpu_2d.c, gpu_cursor.c, gpu_edid.c) on controlq and cursorq, from a
 * negotiated driver, shown on a headless display; the limits of
 * virtio_gpu.h (dimensions, resources, host memory, backing entries) are
 * the real ones.
 *
 * Commands are mostly built from templates (a known type, small resource
 * ids that collide, rectangles and sizes that are often plausible, backing
 * entries pointing into guest RAM), sometimes raw; the response room and
 * the descriptor layout come from the input too.
 *
 * Input: [0] the preferred mode, [1] bit 0: a fake 3D back end answers
 * context and capset commands (virtio_gpu_set_3d), then the driver's
 * start (fuzz_common.h dr_start), then ops (op byte % 16): 0-8 a controlq
 * command, 9-10 a cursorq command, 11 a resize, the rest the generic
 * driver ops.
 *
 * Checks besides the sanitizers and the used ring: a transfer answered OK
 * put the backing's pixels where they belong (sampled); host memory counted
 * exactly (pixels + backing lists) and within VIRTIO_GPU_MAX_HOSTMEM,
 * at most VIRTIO_GPU_MAX_RESOURCES, every backing entry inside guest RAM,
 * the scanout showing an existing resource within its bounds, display
 * updates clipped to the mode and inside the resource's pixels, cursor
 * images of a whole 64x64 resource with the hot spot inside.
 */
#include <endian.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_common.h"
#include "gpu_priv.h"

static struct driver dr;
static struct virtio_gpu *gpu;

/* ---- a display that checks what it is given, then passes it on ----- */

struct check_disp {
	struct display d;
	struct display *inner;		/* headless */
	uint32_t mode_w, mode_h;
};

static const struct gpu_resource *shown(void)
{
	return gpu && gpu->scanout_res ? gpu_resource_find(gpu, gpu->scanout_res) :
	       NULL;
}

static void cd_set_mode(struct display *d, uint32_t w, uint32_t h)
{
	struct check_disp *c = (struct check_disp *)d;

	FZ_CHECK((w == 0) == (h == 0));
	FZ_CHECK(w <= VIRTIO_GPU_MAX_DIM && h <= VIRTIO_GPU_MAX_DIM);
	c->mode_w = w;
	c->mode_h = h;
	c->inner->ops->set_mode(c->inner, w, h);
}

static void cd_update(struct display *d, const uint8_t *src, uint32_t stride,
		      struct display_rect r)
{
	struct check_disp *c = (struct check_disp *)d;
	const struct gpu_resource *res = shown();
	uint64_t first, last;

	/* display.h: the rect is already clipped to the mode. */
	FZ_CHECK(r.w && r.h);
	FZ_CHECK(r.x < c->mode_w && r.w <= c->mode_w - r.x);
	FZ_CHECK(r.y < c->mode_h && r.h <= c->mode_h - r.y);
	/* And every pixel it names lies in the shown resource. */
	FZ_CHECK(res && res->pix);
	FZ_CHECK(stride == res->width * 4);
	first = (uint64_t)(src - res->pix) + (uint64_t)r.y * stride + (uint64_t)r.x * 4;
	last = first + (uint64_t)(r.h - 1) * stride + (uint64_t)r.w * 4;
	FZ_CHECK(src >= res->pix && last <= (uint64_t)res->width * res->height * 4);
	c->inner->ops->update(c->inner, src, stride, r);
}

static volatile uint8_t sink;

static void cd_cursor_define(struct display *d, const uint8_t *argb,
			     uint32_t hot_x, uint32_t hot_y)
{
	(void)d;
	FZ_CHECK(hot_x < VIRTIO_GPU_CURSOR_SIZE && hot_y < VIRTIO_GPU_CURSOR_SIZE);
	/* A back end reads the whole image: ASan checks it is there. */
	if (argb)
		for (unsigned i = 0; i < VIRTIO_GPU_CURSOR_SIZE * VIRTIO_GPU_CURSOR_SIZE * 4;
		     i += 61)
			sink = argb[i];
	if (argb)
		sink = argb[VIRTIO_GPU_CURSOR_SIZE * VIRTIO_GPU_CURSOR_SIZE * 4 - 1];
}

static void cd_cursor_move(struct display *d, int32_t x, int32_t y)
{
	(void)d, (void)x, (void)y;
}

static const struct display_ops cd_ops = {
	.name = "fuzz-check",
	.set_mode = cd_set_mode,
	.update = cd_update,
	.cursor_define = cd_cursor_define,
	.cursor_move = cd_cursor_move,
};

/* ---- a 3D back end that answers what the 2D core does not know ------ */

static unsigned resets3d;

static uint32_t fake3d_command(void *ctx, const struct virtio_gpu_cmd *cmd,
			       void *payload, size_t cap, size_t *len)
{
	uint8_t body[64];
	long n;

	(void)ctx;
	FZ_CHECK(cmd->len >= sizeof(struct virtio_gpu_ctrl_hdr));
	FZ_CHECK(cap >= 1024 && cap <= VIRTIO_GPU_RESP_MAX);
	/* Its own commands: contexts (0x02xx) and capsets. */
	if ((cmd->type & 0xff00) != 0x0200 &&
	    cmd->type != VIRTIO_GPU_CMD_GET_CAPSET_INFO &&
	    cmd->type != VIRTIO_GPU_CMD_GET_CAPSET)
		return 0;
	n = virtio_gpu_cmd_read(cmd, sizeof(struct virtio_gpu_ctrl_hdr), body,
				sizeof(body));
	FZ_CHECK(n >= 0 && (uint64_t)n <= sizeof(body) &&
		 (uint64_t)n == (cmd->len - 24 < sizeof(body) ? cmd->len - 24 :
				 sizeof(body)));
	/* A payload as long as the request's first byte says (x 16). */
	*len = n ? (size_t)body[0] * 16 : 0;
	if (*len > cap)
		*len = cap;
	memset(payload, 0x3d, *len);
	return *len ? VIRTIO_GPU_RESP_OK_CAPSET : VIRTIO_GPU_RESP_OK_NODATA;
}

static void fake3d_reset(void *ctx)
{
	(void)ctx;
	resets3d++;
}

static const struct virtio_gpu_3d_ops fake3d = {
	.features = 1ULL << VIRTIO_GPU_F_VIRGL,
	.num_capsets = 1,
	.command = fake3d_command,
	.reset = fake3d_reset,
};

/* ---- invariants of the device's state ------------------------------- */

static FZ_CHECKER void check_gpu(struct virtio_gpu *g)
{
	uint64_t mem = 0;
	unsigned n = 0;

	for (unsigned b = 0; b < GPU_BUCKETS; b++) {
		for (const struct gpu_resource *r = g->bucket[b]; r; r = r->next) {
			uint64_t blen = 0;

			n++;
			FZ_CHECK(r->id != 0);
			FZ_CHECK(r->width && r->height &&
				 r->width <= VIRTIO_GPU_MAX_DIM &&
				 r->height <= VIRTIO_GPU_MAX_DIM);
			mem += (uint64_t)r->width * r->height * 4;
			mem += (uint64_t)r->nr_backing * sizeof(struct iovec);
			FZ_CHECK(!r->nr_backing == !r->backing);
			FZ_CHECK(r->nr_backing <= VIRTIO_GPU_MAX_BACKING_ENTRIES);
			for (uint32_t i = 0; i < r->nr_backing; i++) {
				FZ_CHECK(dr_host_in_guest(&dr, r->backing[i].iov_base,
							  r->backing[i].iov_len));
				blen += r->backing[i].iov_len;
			}
			FZ_CHECK(blen == r->backing_len);
		}
	}
	FZ_CHECK(n == g->nr_resources);
	FZ_CHECK(n <= VIRTIO_GPU_MAX_RESOURCES);
	FZ_CHECK(mem == g->hostmem);
	FZ_CHECK(g->hostmem <= VIRTIO_GPU_MAX_HOSTMEM);
	if (g->scanout_res) {
		const struct gpu_resource *r = gpu_resource_find(g, g->scanout_res);
		const struct virtio_gpu_rect *s = &g->scanout;

		FZ_CHECK(r);
		FZ_CHECK(s->width && s->height);
		FZ_CHECK(s->x <= r->width && s->width <= r->width - s->x);
		FZ_CHECK(s->y <= r->height && s->height <= r->height - s->y);
	}
}

/* ---- what TRANSFER_TO_HOST_2D copied ------------------------------------- */

/* The transfer in flight: its request, and its head once published. */
static struct {
	int head;			/* -1: none */
	struct virtio_gpu_transfer_to_host_2d t;
} xfer = { .head = -1 };

/* Byte b of backing offset off, the slow and obvious way. */
static FZ_CHECKER uint8_t backing_byte(const struct gpu_resource *r, uint64_t off)
{
	for (uint32_t i = 0; i < r->nr_backing; i++) {
		if (off < r->backing[i].iov_len)
			return ((const uint8_t *)r->backing[i].iov_base)[off];
		off -= r->backing[i].iov_len;
	}
	FZ_CHECK(0);	/* the device checked the range */
	return 0;
}

/* A transfer answered OK: each pixel of the rect is the backing's pixel at
 * offset + row * stride + column * 4 (what Linux and QEMU agree on), in
 * B,G,R,A order whatever the resource format's byte order. */
static FZ_CHECKER void check_transfer(void)
{
	static const uint8_t order[][4] = {
		{ 0, 1, 2, 3 }, { 3, 2, 1, 0 }, { 2, 1, 0, 3 }, { 1, 2, 3, 0 },
	};
	const struct gpu_resource *r = gpu_resource_find(gpu, le32toh(xfer.t.resource_id));
	uint32_t x = le32toh(xfer.t.r.x), y = le32toh(xfer.t.r.y);
	uint32_t w = le32toh(xfer.t.r.width), h = le32toh(xfer.t.r.height);
	uint64_t off = le64toh(xfer.t.offset), stride;
	const uint8_t *o;

	FZ_CHECK(r && r->backing);
	switch (r->format) {
	case VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM:
	case VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM:
		o = order[0];
		break;
	case VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM:
	case VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM:
		o = order[1];
		break;
	case VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM:
	case VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM:
		o = order[2];
		break;
	default:
		o = order[3];
		break;
	}
	if (fz_trace())
		fprintf(stderr, "fuzz: transfer to resource %u checked\n", r->id);
	stride = (uint64_t)r->width * 4;
	/* Sampled: every row and column would make big transfers slow. */
	for (uint32_t j = 0; j < h; j += 1 + h / 16) {
		for (uint32_t i = 0; i < w; i += 1 + w / 16) {
			const uint8_t *px = r->pix + (uint64_t)(y + j) * stride +
					    (uint64_t)(x + i) * 4;
			uint64_t src = off + (uint64_t)j * stride + (uint64_t)i * 4;

			for (int c = 0; c < 4; c++)
				FZ_CHECK(px[c] == backing_byte(r, src + o[c]));
		}
	}
}

static void on_used(struct driver *d, unsigned qi, uint32_t id, uint32_t len)
{
	uint32_t type;

	if (qi != VIRTIO_GPU_CONTROLQ || (int)id != xfer.head)
		return;
	xfer.head = -1;
	if (len < 24 || dr_gather(d, qi, id, &type, 4) < 0)
		return;
	if (le32toh(type) == VIRTIO_GPU_RESP_OK_NODATA)
		check_transfer();
}

/* A reset drops every resource and the scanout. */
static void watch_reset(struct driver *d)
{
	if (d->d->status == 0)
		FZ_CHECK(!gpu->nr_resources && !gpu->hostmem && !gpu->scanout_res);
}

/* ---- commands ---------------------------------------------------------- */

static uint32_t res_id(struct fz *f)
{
	uint8_t b = fz_u8(f);

	return b == 0xff ? fz_u32(f) : b & 7;
}

static uint32_t scanout_id(struct fz *f)
{
	uint8_t b = fz_u8(f);

	return b < 0xf0 ? 0 : b == 0xff ? fz_u32(f) : b & 0xf;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
	return p + 4;
}

static uint8_t *put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
	return p + 8;
}

static uint8_t *rect(uint8_t *p, struct fz *f)
{
	for (int i = 0; i < 4; i++)
		p = put32(p, fz_dim(f));
	return p;
}

static const uint32_t formats[] = {
	VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM,
	VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM, VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM,
	VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM,
	VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM, VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM,
	0, 5,
};

#define MAX_ENTRIES 16

static FZ_CHECKER void fill_pixels(uint8_t *px, uint32_t len, uint8_t k)
{
	for (uint32_t j = 0; j < len; j++)
		px[j] = (uint8_t)(j * 7 + k);
}

/* Backing entries: guest RAM the input fills with pixels, the second
 * region, or anywhere at all. */
static uint8_t *entries(uint8_t *p, struct fz *f, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t k = fz_u8(f);
		uint32_t len = (uint32_t)fz_u8(f) * 256;
		uint64_t gpa;

		if (k & 0x40)
			len += fz_u8(f);

		switch (k & 3) {
		case 0:
		case 1:
			gpa = dr_alloc(&dr, len ? len : 1, 8);
			if (gpa && len)	/* pixels: no two neighbours alike */
				fill_pixels(fvq_ptr(&dr.m, gpa, len), len, k);
			break;
		case 2:
			gpa = DR_BASE + DR_MEM0 + fz_u16(f) % DR_MEM1;
			break;
		default:
			gpa = fz_u64(f);
			len = fz_u32(f);
			break;
		}
		p = put64(p, gpa);
		p = put32(p, len);
		p = put32(p, 0);
	}
	return p;
}

static const uint32_t ctrl_types[] = {
	VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
	VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, VIRTIO_GPU_CMD_SET_SCANOUT,
	VIRTIO_GPU_CMD_RESOURCE_FLUSH, VIRTIO_GPU_CMD_RESOURCE_UNREF,
	VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, VIRTIO_GPU_CMD_GET_DISPLAY_INFO,
	VIRTIO_GPU_CMD_GET_EDID, VIRTIO_GPU_CMD_GET_CAPSET_INFO,
	VIRTIO_GPU_CMD_CTX_CREATE, VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB,
	VIRTIO_GPU_CMD_GET_CAPSET, VIRTIO_GPU_CMD_CTX_CREATE + 5,
};

static void control(struct fz *f)
{
	static uint8_t req[64 + MAX_ENTRIES * 16 + 256];
	uint8_t sel = fz_u8(f), fl = fz_u8(f), layout = fz_u8(f), rk = fz_u8(f);
	uint32_t type = sel < 0xf0 ?
			ctrl_types[sel % (sizeof(ctrl_types) / sizeof(ctrl_types[0]))] :
			fz_u32(f);
	uint8_t *p = req;
	uint32_t resp;
	int head;

	/* Header: type, flags (FENCE, INFO_RING_IDX, others), fence, ctx. */
	p = put32(p, type);
	p = put32(p, fl & 0x80 ? fz_u32(f) : fl & 3);
	p = put64(p, fl & 4 ? fz_u64(f) : fl >> 3);
	p = put32(p, fl & 0x40 ? fz_u8(f) : 0);
	*p++ = fl & 0x20 ? fz_u8(f) : 0;
	*p++ = 0, *p++ = 0, *p++ = 0;
	switch (type) {
	case VIRTIO_GPU_CMD_RESOURCE_CREATE_2D: {
		uint8_t fm = fz_u8(f);

		p = put32(p, res_id(f));
		p = put32(p, fm < 0xf0 ? formats[fm % 10] : fz_u32(f));
		p = put32(p, fz_dim(f));
		p = put32(p, fz_dim(f));
		break;
	}
	case VIRTIO_GPU_CMD_RESOURCE_UNREF:
	case VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING:
		p = put32(p, res_id(f));
		p = put32(p, 0);
		break;
	case VIRTIO_GPU_CMD_SET_SCANOUT:
		p = rect(p, f);
		p = put32(p, scanout_id(f));
		p = put32(p, res_id(f));
		break;
	case VIRTIO_GPU_CMD_RESOURCE_FLUSH:
		p = rect(p, f);
		p = put32(p, res_id(f));
		p = put32(p, 0);
		break;
	case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D:
		p = rect(p, f);
		p = put64(p, fz_dim(f));
		p = put32(p, res_id(f));
		p = put32(p, 0);
		break;
	case VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING: {
		uint8_t k = fz_u8(f);
		unsigned n = k % 5, given;

		p = put32(p, res_id(f));
		p = put32(p, k == 0xff ? fz_u32(f) : n);
		/* Sometimes more or fewer entries than announced. */
		given = k & 0x80 ? fz_u8(f) % MAX_ENTRIES : n;
		p = entries(p, f, given);
		break;
	}
	case VIRTIO_GPU_CMD_GET_EDID:
		p = put32(p, scanout_id(f));
		p = put32(p, 0);
		break;
	case VIRTIO_GPU_CMD_GET_DISPLAY_INFO:
		break;
	default: {	/* unknown to 2D, or a raw type: raw bytes */
		unsigned n = fz_u8(f) % 128;

		fz_take(f, p, n);
		p += n;
		break;
	}
	}
	/* Sometimes the request is cut short. */
	if (layout & 0x80)
		p = req + fz_u8(f) % (size_t)(p - req + 1);
	resp = rk < 0xe0 ? (uint32_t)sizeof(struct virtio_gpu_resp_edid) + (rk & 7) :
	       (uint32_t)(rk - 0xe0) * 40;
	head = dr_request(&dr, VIRTIO_GPU_CONTROLQ, layout, req, (uint32_t)(p - req),
			  resp);
	/* A whole transfer, answered last in its batch: check its pixels. */
	if (head >= 0 && type == VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D &&
	    p - req == sizeof(xfer.t)) {
		memcpy(&xfer.t, req, sizeof(xfer.t));
		xfer.head = head;
	}
	dr_kick(&dr, VIRTIO_GPU_CONTROLQ);
	xfer.head = -1;
}

static void cursor(struct fz *f)
{
	uint8_t req[sizeof(struct virtio_gpu_update_cursor) + 8];
	uint8_t sel = fz_u8(f), layout = fz_u8(f), k = fz_u8(f);
	uint32_t type = sel < 0xf0 ? VIRTIO_GPU_CMD_UPDATE_CURSOR + (sel & 1) :
			fz_u32(f);
	uint8_t *p = req;
	uint32_t len = sizeof(struct virtio_gpu_update_cursor);

	memset(req, 0, sizeof(req));
	p = put32(p, type);
	p += 20;			/* the rest of the header */
	p = put32(p, scanout_id(f));
	p = put32(p, k & 1 ? fz_u32(f) : fz_u8(f));	/* x */
	p = put32(p, k & 2 ? fz_u32(f) : fz_u8(f));	/* y */
	p = put32(p, 0);
	p = put32(p, res_id(f));
	p = put32(p, k & 4 ? fz_u32(f) : fz_u8(f) % 64);	/* hot_x */
	p = put32(p, k & 8 ? fz_u32(f) : fz_u8(f) % 64);	/* hot_y */
	if (k & 0x80)
		len = fz_u8(f) % (sizeof(req) + 1);
	/* Cursor commands get no answer; a writable buffer may come anyway. */
	dr_request(&dr, VIRTIO_GPU_CURSORQ, layout, req, len, k & 0x40 ? 16 : 0);
	dr_kick(&dr, VIRTIO_GPU_CURSORQ);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	struct check_disp cd = { .d = { .ops = &cd_ops } };
	struct fvq_irq irq = { 0 };
	struct irq_line line = fvq_irq_line(&irq, 6);
	uint8_t m = fz_u8(&f), opts = fz_u8(&f);
	char err[256];
	unsigned ops = 0;

	dr_mem_init(&dr);
	cd.inner = display_headless_new();
	if (!cd.inner)
		abort();
	gpu = virtio_gpu_create(&dr.m.gm, &line, &cd.d, 64 + (m & 15) * 64,
				64 + (m >> 4) * 48, err, sizeof(err));
	if (!gpu)
		abort();
	if (opts & 1)
		virtio_gpu_set_3d(gpu, &fake3d, NULL);
	dr_init(&dr, virtio_gpu_dev(gpu), 1ULL << VIRTIO_GPU_F_EDID |
		(opts & 1 ? fake3d.features : 0));
	dr.on_used = on_used;
	dr.watch = watch_reset;
	xfer.head = -1;
	dr_start(&dr, &f);
	while (f.n && ops++ < 256) {
		uint8_t op = fz_u8(&f);

		switch (op % 16) {
		case 0 ... 8:
			control(&f);
			break;
		case 9:
		case 10:
			cursor(&f);
			break;
		case 11: {
			uint32_t w = fz_u16(&f), h = fz_u16(&f);

			if (virtio_gpu_resize(gpu, w, h) == 0)
				FZ_CHECK(w >= VIRTIO_GPU_MODE_MIN && w <= VIRTIO_GPU_MODE_MAX &&
					 h >= VIRTIO_GPU_MODE_MIN && h <= VIRTIO_GPU_MODE_MAX);
			break;
		}
		default:
			dr_op(&dr, &f, fz_u8(&f));
			break;
		}
		check_gpu(gpu);
	}
	virtio_gpu_destroy(gpu);
	gpu = NULL;
	cd.inner->ops->destroy(cd.inner);
	dr_mem_free(&dr);
	return 0;
}
