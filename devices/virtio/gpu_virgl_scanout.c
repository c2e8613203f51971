/* virgl scanout and cursor: what the display shows.  A virgl resource
 * lives in GL, so SET_SCANOUT and RESOURCE_FLUSH read the shown rect
 * back (vg_read_rect: the guest's view, rows top first) into a shadow
 * of the scanout and hand that to the display - which is how a GL
 * guest's frames reach a headless screenshot too.  Display calls come
 * from the GPU thread only.  Also GET_DISPLAY_INFO and GET_EDID, which
 * answer from the preferred mode as the 2D core does. */
#include "gpu_virgl_priv.h"

#if __has_include(<virglrenderer.h>)

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#define HDR_SIZE sizeof(struct virtio_gpu_ctrl_hdr)

uint32_t vg_get_display_info(struct virgl_gpu *v, struct vg_cmd *cmd)
{
	struct virtio_gpu_display_one *one = (void *)(v->resp + HDR_SIZE);

	cmd->resp_len = sizeof(struct virtio_gpu_resp_display_info) - HDR_SIZE;
	memset(one, 0, cmd->resp_len);
	one->r.width = htole32(v->pref_w);
	one->r.height = htole32(v->pref_h);
	one->enabled = htole32(1);
	return VIRTIO_GPU_RESP_OK_DISPLAY_INFO;
}

uint32_t vg_get_edid(struct virgl_gpu *v, struct vg_cmd *cmd)
{
	const struct virtio_gpu_get_edid *c =
		VG_REQ(cmd, struct virtio_gpu_get_edid);
	struct virtio_gpu_resp_edid *r = (void *)v->resp;

	if (le32toh(c->scanout) != 0)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	memset((uint8_t *)r + HDR_SIZE, 0, sizeof(*r) - HDR_SIZE);
	r->size = htole32(VIRTIO_GPU_EDID_SIZE);
	virtio_gpu_edid(r->edid, v->pref_w, v->pref_h);
	cmd->resp_len = sizeof(*r) - HDR_SIZE;
	return VIRTIO_GPU_RESP_OK_EDID;
}

/* The display, unless the device is being destroyed (the display may
 * be gone by then, as virtio_gpu_destroy() allows). */
static struct display *display(struct virgl_gpu *v)
{
	return v->display_gone ? NULL : v->g->disp;
}

static void display_mode(struct virgl_gpu *v, uint32_t w, uint32_t h)
{
	struct display *disp = display(v);

	if (w == v->mode_w && h == v->mode_h)
		return;
	v->mode_w = w;
	v->mode_h = h;
	if (disp && disp->ops->set_mode)
		disp->ops->set_mode(disp, w, h);
}

static void disable(struct virgl_gpu *v)
{
	v->scanout_res = 0;
	memset(&v->scanout, 0, sizeof(v->scanout));
	free(v->shadow);
	v->shadow = NULL;
	v->shadow_size = 0;
	display_mode(v, 0, 0);
}

void vg_scanout_forget(struct virgl_gpu *v, uint32_t id)
{
	if (v->scanout_res == id)
		disable(v);
}

void vg_scanout_reset(struct virgl_gpu *v)
{
	disable(v);
}

/* Can r be shown or be a cursor: a plain 2D image of 4-byte pixels. */
static int showable(const struct vg_resource *r)
{
	return (r->target == VIRGL_TARGET_2D || r->target == VIRGL_TARGET_RECT) &&
	       vg_format_2d(r->format);
}

static int rect_inside(const struct virtio_gpu_rect *r, uint32_t w, uint32_t h)
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

/* Shows rect rc (resource coordinates) of the scanout resource r. */
static void show(struct virgl_gpu *v, struct vg_resource *r,
		 const struct virtio_gpu_rect *rc)
{
	const struct virtio_gpu_rect *s = &v->scanout;
	struct display *disp = display(v);
	uint32_t x0 = rc->x > s->x ? rc->x : s->x;
	uint32_t y0 = rc->y > s->y ? rc->y : s->y;
	uint32_t x1 = rc->x + rc->width, y1 = rc->y + rc->height;
	uint32_t stride = s->width * 4;
	struct virtio_gpu_rect part;

	/* Both rects are inside r (<= 16384 wide): the sums cannot wrap. */
	if (x1 > s->x + s->width)
		x1 = s->x + s->width;
	if (y1 > s->y + s->height)
		y1 = s->y + s->height;
	if (x0 >= x1 || y0 >= y1 || !disp || !disp->ops->update)
		return;
	part = (struct virtio_gpu_rect){ x0, y0, x1 - x0, y1 - y0 };
	if (vg_read_rect(v, r, &part, v->shadow + (size_t)(y0 - s->y) * stride +
			 (size_t)(x0 - s->x) * 4, stride))
		return;		/* virglrenderer said why */
	disp->ops->update(disp, v->shadow, stride,
			  (struct display_rect){ x0 - s->x, y0 - s->y,
						 part.width, part.height });
}

uint32_t vg_set_scanout(struct virgl_gpu *v, struct vg_cmd *cmd)
{
	const struct virtio_gpu_set_scanout *c =
		VG_REQ(cmd, struct virtio_gpu_set_scanout);
	uint32_t id = le32toh(c->resource_id);
	struct virtio_gpu_rect rc = rect_host(&c->r);
	struct vg_resource *r;
	size_t size;

	if (le32toh(c->scanout_id) != 0)
		return VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
	if (id == 0) {
		disable(v);
		return VIRTIO_GPU_RESP_OK_NODATA;
	}
	r = vg_resource_find(v, id);
	if (!r)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!showable(r) || !rect_inside(&rc, r->width, r->height) ||
	    !rc.width || !rc.height)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	size = (size_t)rc.width * rc.height * 4;
	if (size != v->shadow_size) {
		uint8_t *p = calloc(1, size);

		if (!p)
			return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
		free(v->shadow);
		v->shadow = p;
		v->shadow_size = size;
	}
	v->scanout_res = id;
	v->scanout = rc;
	display_mode(v, rc.width, rc.height);
	show(v, r, &rc);	/* the scanout shows the resource as it is */
	return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t vg_resource_flush(struct virgl_gpu *v, struct vg_cmd *cmd)
{
	const struct virtio_gpu_resource_flush *c =
		VG_REQ(cmd, struct virtio_gpu_resource_flush);
	uint32_t id = le32toh(c->resource_id);
	struct virtio_gpu_rect rc = rect_host(&c->r);
	struct vg_resource *r = vg_resource_find(v, id);

	if (!r)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!rect_inside(&rc, r->width, r->height))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	if (v->scanout_res == id)
		show(v, r, &rc);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

/* ---- cursor (from the cursor queue; mistakes logged once) ---------- */

void vg_cursor_command(struct virgl_gpu *v,
		       const struct virtio_gpu_update_cursor *c)
{
	static const struct virtio_gpu_rect all = {
		0, 0, VIRTIO_GPU_CURSOR_SIZE, VIRTIO_GPU_CURSOR_SIZE };
	struct display *disp = display(v);
	const struct display_ops *ops = disp ? disp->ops : NULL;
	uint32_t id = le32toh(c->resource_id);
	uint32_t hot_x = le32toh(c->hot_x), hot_y = le32toh(c->hot_y);
	uint8_t img[VIRTIO_GPU_CURSOR_SIZE * VIRTIO_GPU_CURSOR_SIZE * 4];

	if (le32toh(c->pos.scanout_id) != 0) {
		vg_warn_once(v, VG_WARN_CURSOR, "cursor on a missing scanout; "
			     "ignored");
		return;
	}
	if (le32toh(c->hdr.type) == VIRTIO_GPU_CMD_UPDATE_CURSOR) {
		struct vg_resource *r = id ? vg_resource_find(v, id) : NULL;

		if (id && (!r || !showable(r) ||
			   r->width != VIRTIO_GPU_CURSOR_SIZE ||
			   r->height != VIRTIO_GPU_CURSOR_SIZE ||
			   vg_read_rect(v, r, &all, img,
					VIRTIO_GPU_CURSOR_SIZE * 4))) {
			vg_warn_once(v, VG_WARN_CURSOR, "cursor resource missing "
				     "or not 64x64; ignored");
			return;
		}
		/* Back ends may index the image with the hot spot. */
		if (hot_x >= VIRTIO_GPU_CURSOR_SIZE)
			hot_x = VIRTIO_GPU_CURSOR_SIZE - 1;
		if (hot_y >= VIRTIO_GPU_CURSOR_SIZE)
			hot_y = VIRTIO_GPU_CURSOR_SIZE - 1;
		if (ops && ops->cursor_define)
			ops->cursor_define(disp, r ? img : NULL, hot_x, hot_y);
	}
	/* Linux sends crtc_x/crtc_y, which go negative at the left/top. */
	if (ops && ops->cursor_move)
		ops->cursor_move(disp, (int32_t)le32toh(c->pos.x),
				 (int32_t)le32toh(c->pos.y));
}

#endif
