/* virgl resources: RESOURCE_CREATE_2D/3D, backing, transfers, unref and
 * context attachment, each checked here before virglrenderer sees it:
 * ids, shapes and sizes against limits (and an estimate of the host
 * memory they take), every backing entry against guest memory (rule 2),
 * every box against the resource.  virglrenderer checks again; we do
 * not rely on it.  GPU thread only. */
#include "gpu_virgl_priv.h"

#if __has_include(<virglrenderer.h>)

#include <virglrenderer.h>

#include <endian.h>
#include <stdlib.h>
#include <string.h>

/* Declared, not defined, by virglrenderer.h: its layout is the wire's. */
struct virgl_box {
	uint32_t x, y, z, w, h, d;
};
_Static_assert(sizeof(struct virgl_box) == sizeof(struct virtio_gpu_box),
	       "box layout");

#define BIND_RENDER_TARGET	(1u << 1)	/* VIRGL_RES_BIND_* */
#define MAX_LEVELS		15		/* 16384 down to 1 */
#define MAX_SAMPLES		16

static unsigned bucket_of(uint32_t id)
{
	return (id ^ (id >> 10)) % VG_BUCKETS;
}

struct vg_resource *vg_resource_find(struct virgl_gpu *v, uint32_t id)
{
	struct vg_resource *r = v->bucket[bucket_of(id)];

	while (r && r->id != id)
		r = r->next;
	return r;
}

int vg_format_2d(uint32_t format)
{
	switch (format) {
	case VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM:
	case VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM:
	case VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM:
	case VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM:
	case VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM:
	case VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM:
	case VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM:
	case VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM:
		return 4;
	}
	return 0;
}

/* Bytes per texel for the memory estimate: exact for the formats
 * guests use most (virgl format numbers), the largest any uncompressed
 * format takes otherwise, so the estimate never falls short. */
static uint32_t texel_bytes(uint32_t format)
{
	if (vg_format_2d(format))
		return 4;
	switch (format) {
	case 9: case 10: case 11: case 23: case 64:	/* L8 A8 I8 S8 R8 */
		return 1;
	case 5: case 6: case 7: case 16:	/* 16-bit colour, Z16 */
		return 2;
	case 8: case 17: case 18: case 19: case 20: case 21: case 22:
	case 98: case 99: case 100: case 101: case 102: case 103: case 104:
		return 4;		/* RGB10A2, Z32 and Z24S8 kinds, sRGB8 */
	}
	return 16;
}

static void insert(struct virgl_gpu *v, struct vg_resource *r)
{
	r->next = v->bucket[bucket_of(r->id)];
	v->bucket[bucket_of(r->id)] = r;
	v->nr_resources++;
	v->hostmem += r->bytes;
}

static void drop_backing(struct virgl_gpu *v, struct vg_resource *r)
{
	struct iovec *iov = NULL;
	int n = 0;

	if (!r->iov)
		return;
	virgl_renderer_resource_detach_iov((int)r->id, &iov, &n);
	v->hostmem -= (uint64_t)r->niov * sizeof(*r->iov);
	free(r->iov);		/* ours, whatever it handed back */
	r->iov = NULL;
	r->niov = 0;
	r->backing_len = 0;
}

static void resource_free(struct virgl_gpu *v, struct vg_resource *r)
{
	struct vg_resource **pp = &v->bucket[bucket_of(r->id)];

	vg_scanout_forget(v, r->id);
	while (*pp != r)
		pp = &(*pp)->next;
	*pp = r->next;
	drop_backing(v, r);
	virgl_renderer_resource_unref(r->id);	/* and detaches contexts */
	v->hostmem -= r->bytes;
	v->nr_resources--;
	free(r);
}

void vg_resources_free(struct virgl_gpu *v)
{
	for (unsigned b = 0; b < VG_BUCKETS; b++)
		while (v->bucket[b])
			resource_free(v, v->bucket[b]);
}

void vg_resources_drop_ctx(struct virgl_gpu *v, int s)
{
	for (unsigned b = 0; b < VG_BUCKETS; b++)
		for (struct vg_resource *r = v->bucket[b]; r; r = r->next)
			r->ctx_mask[s / 64] &= ~(1ULL << (s % 64));
}

static int attached(const struct vg_resource *r, int s)
{
	return !!(r->ctx_mask[s / 64] & 1ULL << (s % 64));
}

/* Creates resource a->handle in virglrenderer and our table.  bytes is
 * the host memory it is estimated to take. */
static uint32_t create(struct virgl_gpu *v,
		       struct virgl_renderer_resource_create_args *a,
		       uint64_t bytes)
{
	struct vg_resource *r;

	if (!a->handle || vg_resource_find(v, a->handle))
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (v->nr_resources >= VIRTIO_GPU_VIRGL_MAX_RESOURCES ||
	    bytes > VIRTIO_GPU_VIRGL_MAX_HOSTMEM - v->hostmem)
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	r = calloc(1, sizeof(*r));
	if (!r)
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	if (virgl_renderer_resource_create(a, NULL, 0)) {
		free(r);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	r->id = a->handle;
	r->target = a->target;
	r->format = a->format;
	r->width = a->width;
	r->height = a->height;
	r->depth = a->depth;
	r->array_size = a->array_size;
	r->last_level = a->last_level;
	r->bytes = bytes;
	insert(v, r);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t vg_resource_create_2d(struct virgl_gpu *v, struct vg_cmd *cmd)
{
	const struct virtio_gpu_resource_create_2d *c =
		VG_REQ(cmd, struct virtio_gpu_resource_create_2d);
	/* As QEMU: a render target, rows top first (Y_0_TOP), so guests
	 * may also draw into it with GL. */
	struct virgl_renderer_resource_create_args a = {
		.handle = le32toh(c->resource_id),
		.target = VIRGL_TARGET_2D,
		.format = le32toh(c->format),
		.bind = BIND_RENDER_TARGET,
		.width = le32toh(c->width),
		.height = le32toh(c->height),
		.depth = 1,
		.array_size = 1,
		.flags = VIRTIO_GPU_RESOURCE_FLAG_Y_0_TOP,
	};

	if (!a.handle || vg_resource_find(v, a.handle))
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!vg_format_2d(a.format) || !a.width || !a.height ||
	    a.width > VIRTIO_GPU_MAX_DIM || a.height > VIRTIO_GPU_MAX_DIM)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	return create(v, &a, (uint64_t)a.width * a.height * 4);
}

/* Is the shape one gallium knows, within our limits?  Sets *bytes to
 * an upper estimate of the host memory it takes. */
static int shape_ok(const struct virgl_renderer_resource_create_args *a,
		    uint64_t *bytes)
{
	uint64_t layers = a->array_size, n;

	if (!a->width || !a->height || !a->depth || !a->array_size)
		return 0;
	if (a->target == VIRGL_TARGET_BUFFER) {
		*bytes = a->width;
		return a->width <= VIRTIO_GPU_VIRGL_MAX_BUFFER &&
		       a->height == 1 && a->depth == 1 &&
		       a->array_size == 1 && !a->last_level;
	}
	if (a->width > VIRTIO_GPU_MAX_DIM || a->height > VIRTIO_GPU_MAX_DIM ||
	    a->depth > VIRTIO_GPU_VIRGL_MAX_DEPTH ||
	    a->array_size > VIRTIO_GPU_VIRGL_MAX_DEPTH ||
	    a->last_level >= MAX_LEVELS || a->nr_samples > MAX_SAMPLES)
		return 0;
	switch (a->target) {
	case VIRGL_TARGET_1D:
	case VIRGL_TARGET_1D_ARRAY:
		if (a->height != 1 || a->depth != 1 ||
		    (a->target == VIRGL_TARGET_1D && a->array_size != 1))
			return 0;
		break;
	case VIRGL_TARGET_2D:
	case VIRGL_TARGET_RECT:
	case VIRGL_TARGET_3D:
		if (a->array_size != 1 ||
		    (a->target != VIRGL_TARGET_3D && a->depth != 1))
			return 0;
		break;
	case VIRGL_TARGET_CUBE:
		if (a->depth != 1 || (a->array_size != 1 && a->array_size != 6))
			return 0;
		layers = 6;
		break;
	case VIRGL_TARGET_2D_ARRAY:
	case VIRGL_TARGET_CUBE_ARRAY:
		if (a->depth != 1)
			return 0;
		break;
	default:
		return 0;
	}
	/* Each factor is bounded above: no overflow (< 2^62). */
	n = (uint64_t)a->width * a->height * a->depth * layers *
	    texel_bytes(a->format) * (a->nr_samples ? a->nr_samples : 1);
	*bytes = a->last_level ? 2 * n : n;	/* a mip chain: < 4/3 */
	return 1;
}

uint32_t vg_resource_create_3d(struct virgl_gpu *v, struct vg_cmd *cmd)
{
	const struct virtio_gpu_resource_create_3d *c =
		VG_REQ(cmd, struct virtio_gpu_resource_create_3d);
	struct virgl_renderer_resource_create_args a = {
		.handle = le32toh(c->resource_id),
		.target = le32toh(c->target),
		.format = le32toh(c->format),
		.bind = le32toh(c->bind),
		.width = le32toh(c->width),
		.height = le32toh(c->height),
		.depth = le32toh(c->depth),
		.array_size = le32toh(c->array_size),
		.last_level = le32toh(c->last_level),
		.nr_samples = le32toh(c->nr_samples),
		.flags = le32toh(c->flags),
	};
	uint64_t bytes;

	if (!a.handle || vg_resource_find(v, a.handle))
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!shape_ok(&a, &bytes))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	return create(v, &a, bytes);
}

uint32_t vg_resource_unref(struct virgl_gpu *v, struct vg_cmd *cmd)
{
	const struct virtio_gpu_resource_unref *c =
		VG_REQ(cmd, struct virtio_gpu_resource_unref);
	struct vg_resource *r = vg_resource_find(v, le32toh(c->resource_id));

	if (!r)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	resource_free(v, r);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t vg_attach_backing(struct virgl_gpu *v, struct vg_cmd *cmd)
{
	const struct virtio_gpu_resource_attach_backing *c =
		VG_REQ(cmd, struct virtio_gpu_resource_attach_backing);
	struct vg_resource *r = vg_resource_find(v, le32toh(c->resource_id));
	uint32_t nr = le32toh(c->nr_entries);
	struct virtio_gpu_mem_entry *e = NULL;
	struct iovec *iov = NULL;
	uint64_t total = 0, bytes = (uint64_t)nr * sizeof(*e);
	uint32_t type = VIRTIO_GPU_RESP_ERR_UNSPEC;

	if (!r)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	/* As the 2D core: a second backing, no entries or too many. */
	if (r->iov || nr == 0 || nr > VIRTIO_GPU_MAX_BACKING_ENTRIES)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (cmd->c.len - sizeof(*c) < bytes)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	if ((uint64_t)nr * sizeof(*iov) > VIRTIO_GPU_VIRGL_MAX_HOSTMEM - v->hostmem)
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

		/* Every entry wholly inside guest memory (rule 2); guest RAM
		 * stays where it is while the VM runs. */
		iov[i].iov_base = guest_mem_ptr(v->d->mem, addr, len);
		iov[i].iov_len = len;
		if (!iov[i].iov_base || !range_add_ok(total, len, &total))
			goto out;
	}
	/* More backing than any resource can use is a guest's mistake. */
	if (total > VIRTIO_GPU_VIRGL_MAX_HOSTMEM)
		goto out;
	if (virgl_renderer_resource_attach_iov((int)r->id, iov, (int)nr))
		goto out;
	r->iov = iov;
	r->niov = nr;
	r->backing_len = total;
	v->hostmem += (uint64_t)nr * sizeof(*iov);
	iov = NULL;
	type = VIRTIO_GPU_RESP_OK_NODATA;
out:
	free(iov);
	free(e);
	return type;
}

uint32_t vg_detach_backing(struct virgl_gpu *v, struct vg_cmd *cmd)
{
	const struct virtio_gpu_resource_unref *c =
		VG_REQ(cmd, struct virtio_gpu_resource_unref);
	struct vg_resource *r = vg_resource_find(v, le32toh(c->resource_id));

	if (!r)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!r->iov)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	drop_backing(v, r);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

/* Is r (guest values, host order) inside a w x h resource?  No sum can
 * wrap: each test subtracts from a bound already checked. */
static int rect_inside(const struct virtio_gpu_rect *r, uint32_t w, uint32_t h)
{
	return r->x <= w && r->width <= w - r->x &&
	       r->y <= h && r->height <= h - r->y;
}

static int span_inside(uint32_t at, uint32_t len, uint32_t size)
{
	return at <= size && len <= size - at;
}

static uint32_t minify(uint32_t size, uint32_t level)
{
	size >>= level;
	return size ? size : 1;
}

/* Is box b inside mip level l of r?  Gallium's box: 1D arrays index
 * layers with y, 2D arrays and cubes with z; 3D depth shrinks with the
 * level, layers do not. */
static int box_inside(const struct vg_resource *r, uint32_t l,
		      const struct virgl_box *b)
{
	uint32_t w = minify(r->width, l), h = 1, d = 1;

	if (l > r->last_level)
		return 0;
	switch (r->target) {
	case VIRGL_TARGET_BUFFER:
	case VIRGL_TARGET_1D:
		break;
	case VIRGL_TARGET_1D_ARRAY:
		h = r->array_size;
		break;
	case VIRGL_TARGET_2D:
	case VIRGL_TARGET_RECT:
		h = minify(r->height, l);
		break;
	case VIRGL_TARGET_3D:
		h = minify(r->height, l);
		d = minify(r->depth, l);
		break;
	case VIRGL_TARGET_CUBE:
		h = minify(r->height, l);
		d = 6;
		break;
	default:		/* 2D and cube arrays */
		h = minify(r->height, l);
		d = r->array_size;
		break;
	}
	return span_inside(b->x, b->w, w) && span_inside(b->y, b->h, h) &&
	       span_inside(b->z, b->d, d);
}

uint32_t vg_transfer_to_host_2d(struct virgl_gpu *v, struct vg_cmd *cmd)
{
	const struct virtio_gpu_transfer_to_host_2d *c =
		VG_REQ(cmd, struct virtio_gpu_transfer_to_host_2d);
	struct vg_resource *r = vg_resource_find(v, le32toh(c->resource_id));
	struct virtio_gpu_rect rc = { le32toh(c->r.x), le32toh(c->r.y),
				      le32toh(c->r.width), le32toh(c->r.height) };
	uint64_t off = le64toh(c->offset), stride, end;
	struct virgl_box box = { rc.x, rc.y, 0, rc.width, rc.height, 1 };

	if (!r)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!r->iov)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (r->target != VIRGL_TARGET_2D || !vg_format_2d(r->format) ||
	    !rect_inside(&rc, r->width, r->height))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	if (!rc.width || !rc.height)
		return VIRTIO_GPU_RESP_OK_NODATA;
	/* Rows lie at off + y * stride in the backing, laid out like the
	 * resource; the last byte must be inside it. */
	stride = (uint64_t)r->width * 4;
	if (!range_add_ok(off, (rc.height - 1) * stride + (uint64_t)rc.width * 4,
			  &end) || end > r->backing_len)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	if (virgl_renderer_transfer_write_iov(r->id, 0, 0, (uint32_t)stride, 0,
					      &box, off, NULL, 0))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t vg_transfer_3d(struct virgl_gpu *v, struct vg_cmd *cmd)
{
	const struct virtio_gpu_transfer_host_3d *c =
		VG_REQ(cmd, struct virtio_gpu_transfer_host_3d);
	struct vg_resource *r = vg_resource_find(v, le32toh(c->resource_id));
	uint32_t ctx_id = cmd->c.ctx_id, level = le32toh(c->level);
	uint32_t stride = le32toh(c->stride), lstride = le32toh(c->layer_stride);
	uint64_t off = le64toh(c->offset);
	struct virgl_box box = {
		le32toh(c->box.x), le32toh(c->box.y), le32toh(c->box.z),
		le32toh(c->box.w), le32toh(c->box.h), le32toh(c->box.d) };
	int s = -1, e;

	if (ctx_id && (s = vg_ctx_slot(v, ctx_id)) < 0)
		return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
	/* Through a context only what is attached to it. */
	if (!r || (s >= 0 && !attached(r, s)))
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!r->iov)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (!box_inside(r, level, &box) || off > r->backing_len)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	/* virglrenderer checks that the strides keep the box inside the
	 * backing (its check_iov_bounds). */
	if (cmd->c.type == VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D)
		e = virgl_renderer_transfer_write_iov(r->id, ctx_id, (int)level,
						      stride, lstride, &box, off,
						      NULL, 0);
	else
		e = virgl_renderer_transfer_read_iov(r->id, ctx_id, level,
						     stride, lstride, &box, off,
						     NULL, 0);
	return e ? VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER :
		   VIRTIO_GPU_RESP_OK_NODATA;
}

/* Where each byte of a display pixel (B, G, R, A) comes from in a
 * pixel of a 2D format. */
static const uint8_t *byte_order(uint32_t format)
{
	static const uint8_t bgra[4] = { 0, 1, 2, 3 };
	static const uint8_t argb[4] = { 3, 2, 1, 0 };
	static const uint8_t rgba[4] = { 2, 1, 0, 3 };
	static const uint8_t abgr[4] = { 1, 2, 3, 0 };

	switch (format) {
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
	return bgra;
}

int vg_read_rect(struct virgl_gpu *v, struct vg_resource *r,
		 const struct virtio_gpu_rect *rc, uint8_t *dst,
		 uint32_t stride)
{
	struct virgl_box box = { rc->x, rc->y, 0, rc->width, rc->height, 1 };
	struct iovec iov = {
		dst, (size_t)(rc->height - 1) * stride + (size_t)rc->width * 4 };
	const uint8_t *o = byte_order(r->format);

	(void)v;
	if (!rc->width || !rc->height)
		return 0;
	/* The guest's view: rows top first whatever GL keeps. */
	if (virgl_renderer_transfer_read_iov(r->id, 0, 0, stride, 0, &box, 0,
					     &iov, 1))
		return -1;
	if (o[0] == 0 && o[1] == 1 && o[2] == 2)
		return 0;
	for (uint32_t y = 0; y < rc->height; y++) {
		uint8_t *p = dst + (size_t)y * stride, s[4];

		for (uint32_t x = 0; x < rc->width; x++, p += 4) {
			memcpy(s, p, 4);
			p[0] = s[o[0]];
			p[1] = s[o[1]];
			p[2] = s[o[2]];
			p[3] = s[o[3]];
		}
	}
	return 0;
}

/* ---- context attachment --------------------------------------------- */

static uint32_t ctx_resource(struct virgl_gpu *v, struct vg_cmd *cmd,
			     int attach)
{
	const struct virtio_gpu_ctx_resource *c =
		VG_REQ(cmd, struct virtio_gpu_ctx_resource);
	struct vg_resource *r = vg_resource_find(v, le32toh(c->resource_id));
	int s = vg_ctx_slot(v, cmd->c.ctx_id);

	if (s < 0)
		return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
	if (!r || (!attach && !attached(r, s)))
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (attach) {
		virgl_renderer_ctx_attach_resource((int)cmd->c.ctx_id, (int)r->id);
		r->ctx_mask[s / 64] |= 1ULL << (s % 64);
	} else {
		virgl_renderer_ctx_detach_resource((int)cmd->c.ctx_id, (int)r->id);
		r->ctx_mask[s / 64] &= ~(1ULL << (s % 64));
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t vg_ctx_attach(struct virgl_gpu *v, struct vg_cmd *cmd)
{
	return ctx_resource(v, cmd, 1);
}

uint32_t vg_ctx_detach(struct virgl_gpu *v, struct vg_cmd *cmd)
{
	return ctx_resource(v, cmd, 0);
}

#endif
