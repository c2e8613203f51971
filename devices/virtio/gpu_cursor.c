/* virtio-gpu cursorq: UPDATE_CURSOR (image from a 64x64 resource, or
 * none) and MOVE_CURSOR.  The queue has no responses, so a mistake is
 * logged once and the command dropped, as QEMU does. */
#include "gpu_priv.h"

#include <endian.h>

void gpu_cursor_command(struct virtio_gpu *g, uint32_t type)
{
	const struct virtio_gpu_update_cursor *c = (const void *)g->req;
	const struct display_ops *ops = g->disp ? g->disp->ops : NULL;
	uint32_t id = le32toh(c->resource_id);
	uint32_t hot_x = le32toh(c->hot_x), hot_y = le32toh(c->hot_y);

	if (le32toh(c->pos.scanout_id) != 0) {
		gpu_warn_once(g, GPU_WARN_CURSOR, "cursor on a missing scanout");
		return;
	}
	if (type == VIRTIO_GPU_CMD_UPDATE_CURSOR) {
		const struct gpu_resource *r = id ? gpu_resource_find(g, id) : NULL;

		if (id && (!r || r->width != VIRTIO_GPU_CURSOR_SIZE ||
			   r->height != VIRTIO_GPU_CURSOR_SIZE)) {
			gpu_warn_once(g, GPU_WARN_CURSOR,
				      "cursor resource missing or not 64x64");
			return;
		}
		/* Back ends may index the image with the hot spot. */
		if (hot_x >= VIRTIO_GPU_CURSOR_SIZE)
			hot_x = VIRTIO_GPU_CURSOR_SIZE - 1;
		if (hot_y >= VIRTIO_GPU_CURSOR_SIZE)
			hot_y = VIRTIO_GPU_CURSOR_SIZE - 1;
		/* Pixels are already ARGB8888 (bytes B,G,R,A); id 0 hides. */
		if (ops && ops->cursor_define)
			ops->cursor_define(g->disp, r ? r->pix : NULL, hot_x, hot_y);
	}
	/* Linux sends crtc_x/crtc_y, which go negative at the left/top. */
	if (ops && ops->cursor_move)
		ops->cursor_move(g->disp, (int32_t)le32toh(c->pos.x),
				 (int32_t)le32toh(c->pos.y));
}
