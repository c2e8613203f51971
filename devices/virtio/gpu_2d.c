/* virtio-gpu 2D resources: host pixel buffers the guest creates, backs
 * with its own pages, copies into (TRANSFER_TO_HOST_2D) and shows on the
 * scanout (SET_SCANOUT, RESOURCE_FLUSH).  Every size, id and rectangle
 * comes from a hostile guest and is checked with overflow-safe
 * arithmetic before any pixel moves. */
#include "gpu_priv.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#define BPP 4

/* The fixed part of the request in hand, as type T. */
#define REQ(g, T) ((const T *)(const void *)(g)->req)

static unsigned bucket_of(uint32_t id)
{
	return (id ^ (id >> 8)) % GPU_BUCKETS;
}

struct gpu_resource *gpu_resource_find(struct virtio_gpu *g, uint32_t id)
{
	struct gpu_resource *r = g->bucket[bucket_of(id)];

	while (r && r->id != id)
		r = r->next;
	return r;
}

static uint64_t res_bytes(const struct gpu_resource *r)
{
	return (uint64_t)r->width * r->height * BPP;
}

static void drop_backing(struct virtio_gpu *g, struct gpu_resource *r)
{
	g->hostmem -= (uint64_t)r->nr_backing * sizeof(*r->backing);
	free(r->backing);
	r->backing = NULL;
	r->nr_backing = 0;
	r->backing_len = 0;
}

static void disable_scanout(struct virtio_gpu *g)
{
	g->scanout_res = 0;
	memset(&g->scanout, 0, sizeof(g->scanout));
	gpu_display_mode(g, 0, 0);
}

static void resource_free(struct virtio_gpu *g, struct gpu_resource *r)
{
	struct gpu_resource **pp = &g->bucket[bucket_of(r->id)];

	if (g->scanout_res == r->id)
		disable_scanout(g);
	while (*pp != r)
		pp = &(*pp)->next;
	*pp = r->next;
	g->hostmem -= res_bytes(r);
	g->nr_resources--;
	drop_backing(g, r);
	free(r->pix);
	free(r);
}

void gpu_resources_free(struct virtio_gpu *g)
{
	for (unsigned b = 0; b < GPU_BUCKETS; b++)
		while (g->bucket[b])
			resource_free(g, g->bucket[b]);
	disable_scanout(g);
}

/* Is r (guest values, host order) inside a w x h resource?  No sum can
 * wrap: each test subtracts from a bound it has already checked. */
static int rect_inside(const struct virtio_gpu_rect *r, uint32_t w,
		       uint32_t h)
{
	return r->x <= w && r->width <= w - r->x &&
	       r->y <= h && r->height <= h - r->y;
}

static struct virtio_gpu_rect rect_host(const struct virtio_gpu_rect *le)
{
	return (struct virtio_gpu_rect){ le32toh(le->x), le32toh(le->y),
					 le32toh(le->width),
					 le32toh(le->height) };
}

/* ---- pixel formats ---------------------------------------------------- */

/* Where each output byte (B, G, R, A) comes from in a source pixel. */
static const uint8_t *format_order(uint32_t format)
{
	static const uint8_t bgra[4] = { 0, 1, 2, 3 };	/* already ours */
	static const uint8_t argb[4] = { 3, 2, 1, 0 };
	static const uint8_t rgba[4] = { 2, 1, 0, 3 };
	static const uint8_t abgr[4] = { 1, 2, 3, 0 };

	switch (format) {
	case VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM:
	case VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM:
		return bgra;
	case VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM:
	case VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM:
		return argb;
	case VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM:
	case VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM:
		return rgba;
	case VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM:
	case VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM:
		return abgr;
	}
	return NULL;
}

/* Converts n pixels in place to bytes B,G,R,A: done once per transfer,
 * so flushes and cursors hand the display its own format as is. */
static void to_bgra(uint8_t *p, uint32_t n, uint32_t format)
{
	const uint8_t *o = format_order(format);
	uint8_t s[4];

	if (o[0] == 0 && o[1] == 1 && o[2] == 2)
		return;
	for (uint32_t i = 0; i < n; i++, p += BPP) {
		memcpy(s, p, BPP);
		p[0] = s[o[0]];
		p[1] = s[o[1]];
		p[2] = s[o[2]];
		p[3] = s[o[3]];
	}
}

/* ---- commands --------------------------------------------------------- */

uint32_t gpu_resource_create_2d(struct virtio_gpu *g, struct gpu_cmd *cmd)
{
	const struct virtio_gpu_resource_create_2d *c =
		REQ(g, struct virtio_gpu_resource_create_2d);
	uint32_t id = le32toh(c->resource_id), format = le32toh(c->format);
	uint32_t w = le32toh(c->width), h = le32toh(c->height);
	struct gpu_resource *r;
	uint64_t bytes;

	(void)cmd;
	if (id == 0 || gpu_resource_find(g, id))
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!format_order(format) || w == 0 || h == 0 ||
	    w > VIRTIO_GPU_MAX_DIM || h > VIRTIO_GPU_MAX_DIM)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	bytes = (uint64_t)w * h * BPP;	/* <= 2^30: no overflow */
	if (g->nr_resources >= VIRTIO_GPU_MAX_RESOURCES ||
	    bytes > VIRTIO_GPU_MAX_HOSTMEM - g->hostmem)
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	r = calloc(1, sizeof(*r));
	/* Zeroed: a resource never shows what the host had there before. */
	if (!r || !(r->pix = calloc(1, bytes))) {
		free(r);
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	r->id = id;
	r->format = format;
	r->width = w;
	r->height = h;
	r->next = g->bucket[bucket_of(id)];
	g->bucket[bucket_of(id)] = r;
	g->nr_resources++;
	g->hostmem += bytes;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t gpu_resource_unref(struct virtio_gpu *g, struct gpu_cmd *cmd)
{
	const struct virtio_gpu_resource_unref *c =
		REQ(g, struct virtio_gpu_resource_unref);
	struct gpu_resource *r = gpu_resource_find(g, le32toh(c->resource_id));

	(void)cmd;
	if (!r)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	resource_free(g, r);	/* detaches the scanout showing it */
	return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t gpu_attach_backing(struct virtio_gpu *g, struct gpu_cmd *cmd)
{
	const struct virtio_gpu_resource_attach_backing *c =
		REQ(g, struct virtio_gpu_resource_attach_backing);
	struct gpu_resource *r = gpu_resource_find(g, le32toh(c->resource_id));
	uint32_t nr = le32toh(c->nr_entries);
	struct virtio_gpu_mem_entry *e = NULL;
	struct iovec *iov = NULL;
	uint64_t total = 0, bytes = (uint64_t)nr * sizeof(*e);
	uint32_t type = VIRTIO_GPU_RESP_ERR_UNSPEC;

	if (!r)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	/* As QEMU: a second backing, no entries or too many are refused. */
	if (r->backing || nr == 0 || nr > VIRTIO_GPU_MAX_BACKING_ENTRIES)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	/* The entries follow the fixed part; all of them must be there. */
	if (cmd->c.len - sizeof(*c) < bytes)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	/* The list we keep counts against the cap too, or many small
	 * resources with huge lists would sidestep it. */
	if ((uint64_t)nr * sizeof(*iov) > VIRTIO_GPU_MAX_HOSTMEM - g->hostmem)
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	e = malloc(bytes);
	iov = calloc(nr, sizeof(*iov));
	if (!e || !iov) {
		type = VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
		goto out;
	}
	if (virtio_gpu_cmd_read(&cmd->c, sizeof(*c), e, bytes) != (long)bytes)
		goto out;
	for (uint32_t i = 0; i < nr; i++) {
		uint64_t addr = le64toh(e[i].addr);
		uint32_t len = le32toh(e[i].length);

		/* The whole entry inside guest memory (rule 2), once: guest
		 * RAM does not move while the VM runs. */
		iov[i].iov_base = guest_mem_ptr(g->dev.mem, addr, len);
		iov[i].iov_len = len;
		if (!iov[i].iov_base || !range_add_ok(total, len, &total))
			goto out;
	}
	r->backing = iov;
	r->nr_backing = nr;
	r->backing_len = total;
	g->hostmem += (uint64_t)nr * sizeof(*iov);
	iov = NULL;
	type = VIRTIO_GPU_RESP_OK_NODATA;
out:
	free(iov);
	free(e);
	return type;
}

uint32_t gpu_detach_backing(struct virtio_gpu *g, struct gpu_cmd *cmd)
{
	const struct virtio_gpu_resource_unref *c =
		REQ(g, struct virtio_gpu_resource_unref);
	struct gpu_resource *r = gpu_resource_find(g, le32toh(c->resource_id));

	(void)cmd;
	if (!r)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!r->backing)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	drop_backing(g, r);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

/* A forward-only walk over the scattered backing: rows are copied at
 * growing offsets, so the whole transfer costs O(entries + rows). */
struct backing_cursor {
	uint32_t i;		/* current entry */
	uint64_t start;		/* backing offset where entry i begins */
};

static void backing_copy(const struct gpu_resource *r,
			 struct backing_cursor *cur, uint64_t off,
			 uint8_t *dst, uint64_t len)
{
	while (len) {
		const struct iovec *v = &r->backing[cur->i];
		uint64_t in, n;

		if (off >= cur->start + v->iov_len) {
			cur->start += v->iov_len;
			cur->i++;
			continue;
		}
		in = off - cur->start;
		n = v->iov_len - in < len ? v->iov_len - in : len;
		memcpy(dst, (const uint8_t *)v->iov_base + in, n);
		dst += n;
		off += n;
		len -= n;
	}
}

uint32_t gpu_transfer_to_host_2d(struct virtio_gpu *g, struct gpu_cmd *cmd)
{
	const struct virtio_gpu_transfer_to_host_2d *c =
		REQ(g, struct virtio_gpu_transfer_to_host_2d);
	struct gpu_resource *r = gpu_resource_find(g, le32toh(c->resource_id));
	struct virtio_gpu_rect rc = rect_host(&c->r);
	uint64_t off = le64toh(c->offset), stride, row, end;
	struct backing_cursor cur = { 0, 0 };

	(void)cmd;
	if (!r)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!r->backing)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (!rect_inside(&rc, r->width, r->height))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	if (rc.width == 0 || rc.height == 0)
		return VIRTIO_GPU_RESP_OK_NODATA;
	/* Row y of the rect is at off + y * stride in the backing, laid
	 * out like the resource (what Linux and QEMU agree on); its last
	 * byte must be inside the backing. */
	stride = (uint64_t)r->width * BPP;
	row = (uint64_t)rc.width * BPP;
	if (!range_add_ok(off, (rc.height - 1) * stride + row, &end) ||
	    end > r->backing_len)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	for (uint32_t y = 0; y < rc.height; y++) {
		uint8_t *dst = r->pix + (rc.y + y) * stride + (uint64_t)rc.x * BPP;

		backing_copy(r, &cur, off + y * stride, dst, row);
		to_bgra(dst, rc.width, r->format);
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

/* Shows rect rc (resource coordinates) of the scanout resource r. */
static void show(struct virtio_gpu *g, const struct gpu_resource *r,
		 const struct virtio_gpu_rect *rc)
{
	const struct virtio_gpu_rect *s = &g->scanout;
	uint32_t x0 = rc->x > s->x ? rc->x : s->x;
	uint32_t y0 = rc->y > s->y ? rc->y : s->y;
	uint32_t x1 = rc->x + rc->width, y1 = rc->y + rc->height;
	uint64_t stride = (uint64_t)r->width * BPP;

	/* Both rects are inside r (<= 16384 wide): the sums cannot wrap. */
	if (x1 > s->x + s->width)
		x1 = s->x + s->width;
	if (y1 > s->y + s->height)
		y1 = s->y + s->height;
	if (x0 >= x1 || y0 >= y1 || !g->disp || !g->disp->ops->update)
		return;
	g->disp->ops->update(g->disp,
			     r->pix + s->y * stride + (uint64_t)s->x * BPP,
			     (uint32_t)stride,
			     (struct display_rect){ x0 - s->x, y0 - s->y,
						    x1 - x0, y1 - y0 });
}

uint32_t gpu_set_scanout(struct virtio_gpu *g, struct gpu_cmd *cmd)
{
	const struct virtio_gpu_set_scanout *c =
		REQ(g, struct virtio_gpu_set_scanout);
	uint32_t id = le32toh(c->resource_id);
	struct virtio_gpu_rect rc = rect_host(&c->r);
	struct gpu_resource *r;

	(void)cmd;
	if (le32toh(c->scanout_id) != 0)
		return VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
	if (id == 0) {
		disable_scanout(g);
		return VIRTIO_GPU_RESP_OK_NODATA;
	}
	r = gpu_resource_find(g, id);
	if (!r)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!rect_inside(&rc, r->width, r->height) || rc.width == 0 ||
	    rc.height == 0)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	g->scanout_res = id;
	g->scanout = rc;
	gpu_display_mode(g, rc.width, rc.height);
	/* The scanout shows the resource from now on, as it is. */
	show(g, r, &rc);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t gpu_resource_flush(struct virtio_gpu *g, struct gpu_cmd *cmd)
{
	const struct virtio_gpu_resource_flush *c =
		REQ(g, struct virtio_gpu_resource_flush);
	uint32_t id = le32toh(c->resource_id);
	struct virtio_gpu_rect rc = rect_host(&c->r);
	struct gpu_resource *r = gpu_resource_find(g, id);

	(void)cmd;
	if (!r)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!rect_inside(&rc, r->width, r->height))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	if (g->scanout_res == id)
		show(g, r, &rc);
	return VIRTIO_GPU_RESP_OK_NODATA;
}
