/* virtio-gpu: the device, its config space and queues, and the command
 * decoder; see virtio_gpu.h.  The commands themselves live in gpu_2d.c
 * (resources, scanout), gpu_cursor.c and gpu_edid.c. */
#include "gpu_priv.h"

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Each control command and the size of its fixed part: a shorter
 * request is refused before its handler sees it. */
static const struct gpu_cmd_desc {
	uint32_t type;
	uint32_t size;
	uint32_t (*run)(struct virtio_gpu *g, struct gpu_cmd *cmd);
} commands[] = {
	{ VIRTIO_GPU_CMD_GET_DISPLAY_INFO, sizeof(struct virtio_gpu_ctrl_hdr),
	  gpu_get_display_info },
	{ VIRTIO_GPU_CMD_GET_EDID, sizeof(struct virtio_gpu_get_edid),
	  gpu_get_edid },
	{ VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
	  sizeof(struct virtio_gpu_resource_create_2d), gpu_resource_create_2d },
	{ VIRTIO_GPU_CMD_RESOURCE_UNREF,
	  sizeof(struct virtio_gpu_resource_unref), gpu_resource_unref },
	{ VIRTIO_GPU_CMD_SET_SCANOUT, sizeof(struct virtio_gpu_set_scanout),
	  gpu_set_scanout },
	{ VIRTIO_GPU_CMD_RESOURCE_FLUSH,
	  sizeof(struct virtio_gpu_resource_flush), gpu_resource_flush },
	{ VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D,
	  sizeof(struct virtio_gpu_transfer_to_host_2d),
	  gpu_transfer_to_host_2d },
	{ VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
	  sizeof(struct virtio_gpu_resource_attach_backing),
	  gpu_attach_backing },
	{ VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING,
	  sizeof(struct virtio_gpu_resource_unref), gpu_detach_backing },
};

_Static_assert(sizeof(struct virtio_gpu_ctrl_hdr) == 24, "wire layout");
_Static_assert(sizeof(struct virtio_gpu_resp_display_info) == 408,
	       "wire layout");
_Static_assert(sizeof(struct virtio_gpu_resp_edid) == 1056, "wire layout");
_Static_assert(sizeof(struct virtio_gpu_transfer_to_host_2d) == 56,
	       "wire layout");
_Static_assert(sizeof(struct virtio_gpu_update_cursor) == 56, "wire layout");
_Static_assert(sizeof(struct virtio_gpu_mem_entry) == 16, "wire layout");
/* g->req holds the largest fixed part. */
_Static_assert(sizeof(((struct virtio_gpu *)0)->req) >=
	       sizeof(struct virtio_gpu_update_cursor), "request buffer");
_Static_assert(VIRTIO_GPU_RESP_MAX >= sizeof(struct virtio_gpu_resp_edid),
	       "response buffer");

void gpu_warn_once(struct virtio_gpu *g, unsigned bit, const char *what)
{
	if (g->warned & bit)
		return;
	g->warned |= bit;
	fprintf(stderr, "minivmm: virtio-gpu: %s; ignored\n", what);
}

long virtio_gpu_cmd_read(const struct virtio_gpu_cmd *c, uint64_t off,
			 void *dst, size_t len)
{
	return virtq_chain_read(c->q, c->chain, off, dst, len);
}

void gpu_display_mode(struct virtio_gpu *g, uint32_t w, uint32_t h)
{
	if (w == g->mode_w && h == g->mode_h)
		return;
	g->mode_w = w;
	g->mode_h = h;
	if (g->disp && g->disp->ops->set_mode)
		g->disp->ops->set_mode(g->disp, w, h);
}

uint32_t gpu_get_display_info(struct virtio_gpu *g, struct gpu_cmd *cmd)
{
	struct virtio_gpu_display_one *one =
		(void *)(g->resp + sizeof(struct virtio_gpu_ctrl_hdr));

	cmd->resp_len = sizeof(struct virtio_gpu_resp_display_info) -
			sizeof(struct virtio_gpu_ctrl_hdr);
	memset(one, 0, cmd->resp_len);
	/* Scanout 0 is always connected, at the preferred mode. */
	one->r.width = htole32(g->width);
	one->r.height = htole32(g->height);
	one->enabled = htole32(1);
	return VIRTIO_GPU_RESP_OK_DISPLAY_INFO;
}

/* ---- control queue ---------------------------------------------------- */

static uint32_t run_3d(struct virtio_gpu *g, struct gpu_cmd *cmd)
{
	size_t cap = sizeof(g->resp) - sizeof(struct virtio_gpu_ctrl_hdr);
	uint32_t type = 0;

	if (g->ops3d && g->ops3d->command) {
		type = g->ops3d->command(g->ctx3d, &cmd->c,
					 g->resp + sizeof(struct virtio_gpu_ctrl_hdr),
					 cap, &cmd->resp_len);
		if (cmd->resp_len > cap)	/* the back end's bug */
			abort();
	}
	if (!type) {
		cmd->resp_len = 0;
		gpu_warn_once(g, GPU_WARN_UNKNOWN, "unknown command");
		type = VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	return type;
}

/* Decodes and runs the request in g->chain; fills the response header
 * (fence echoed) and returns the response length. */
static size_t run_control(struct virtio_gpu *g, struct virtq *q)
{
	struct virtio_gpu_ctrl_hdr hdr, *resp = (void *)g->resp;
	struct gpu_cmd cmd = { .c = { .q = q, .chain = &g->chain,
				      .len = g->chain.out_len } };
	size_t want = sizeof(g->req) < cmd.c.len ? sizeof(g->req) :
		      (size_t)cmd.c.len;
	uint32_t type = VIRTIO_GPU_RESP_ERR_UNSPEC;

	memset(resp, 0, sizeof(*resp));
	memset(g->req, 0, sizeof(g->req));
	/* The walker already checked the buffers, so this only comes up
	 * short for a short request. */
	if (virtq_chain_read(q, &g->chain, 0, g->req, want) != (long)want ||
	    want < sizeof(hdr))
		goto out;	/* no header to echo */
	memcpy(&hdr, g->req, sizeof(hdr));
	cmd.c.type = le32toh(hdr.type);
	cmd.c.flags = le32toh(hdr.flags);
	cmd.c.fence_id = le64toh(hdr.fence_id);
	cmd.c.ctx_id = le32toh(hdr.ctx_id);

	type = 0;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (commands[i].type != cmd.c.type)
			continue;
		type = cmd.c.len < commands[i].size ?
		       VIRTIO_GPU_RESP_ERR_UNSPEC : commands[i].run(g, &cmd);
		break;
	}
	if (!type)
		type = run_3d(g, &cmd);
	if (type >= VIRTIO_GPU_RESP_ERR_UNSPEC)
		cmd.resp_len = 0;	/* errors carry no payload */
	/* 2D is synchronous: the fence has signalled, say so now. */
	if (cmd.c.flags & VIRTIO_GPU_FLAG_FENCE) {
		resp->flags = htole32(VIRTIO_GPU_FLAG_FENCE |
				      (cmd.c.flags & VIRTIO_GPU_FLAG_INFO_RING_IDX));
		resp->fence_id = hdr.fence_id;
		resp->ctx_id = hdr.ctx_id;
		if (cmd.c.flags & VIRTIO_GPU_FLAG_INFO_RING_IDX)
			resp->ring_idx = hdr.ring_idx;
	}
out:
	resp->type = htole32(type);
	return sizeof(*resp) + cmd.resp_len;
}

static void control_queue(struct virtio_gpu *g)
{
	struct virtio_dev *d = &g->dev;
	struct virtq *q = &d->vq[VIRTIO_GPU_CONTROLQ];
	int pushed = 0;

	while (!(d->status & VIRTIO_STATUS_NEEDS_RESET)) {
		int e = virtq_pop(q, &g->chain);
		size_t n;

		if (e == VIRTQ_EMPTY)
			break;
		if (e < 0) {
			virtio_set_needs_reset(d, "bad descriptor chain");
			break;
		}
		n = run_control(g, q);
		/* A driver that gives no room for the answer cannot learn
		 * what happened: that is its bug, not a command error. */
		if (g->chain.in_len < n) {
			virtio_set_needs_reset(d, "response buffer too small");
			break;
		}
		if (virtq_chain_write(q, &g->chain, 0, g->resp, n) != (long)n ||
		    virtq_push(q, g->chain.head, (uint32_t)n) != VIRTQ_OK) {
			virtio_set_needs_reset(d, "used ring unwritable");
			break;
		}
		pushed = 1;
	}
	if (pushed)
		virtio_notify_used(d, VIRTIO_GPU_CONTROLQ);
}

/* ---- cursor queue: no responses, mistakes are logged and dropped ----- */

static void cursor_queue(struct virtio_gpu *g)
{
	struct virtio_dev *d = &g->dev;
	struct virtq *q = &d->vq[VIRTIO_GPU_CURSORQ];
	const size_t size = sizeof(struct virtio_gpu_update_cursor);
	int pushed = 0;

	while (!(d->status & VIRTIO_STATUS_NEEDS_RESET)) {
		int e = virtq_pop(q, &g->chain);
		uint32_t type;

		if (e == VIRTQ_EMPTY)
			break;
		if (e < 0) {
			virtio_set_needs_reset(d, "bad descriptor chain");
			break;
		}
		memset(g->req, 0, sizeof(g->req));
		if (g->chain.out_len < size ||
		    virtq_chain_read(q, &g->chain, 0, g->req, size) != (long)size) {
			gpu_warn_once(g, GPU_WARN_CURSORQ, "short cursor command");
		} else {
			memcpy(&type, g->req, 4);
			type = le32toh(type);
			if (type == VIRTIO_GPU_CMD_UPDATE_CURSOR ||
			    type == VIRTIO_GPU_CMD_MOVE_CURSOR)
				gpu_cursor_command(g, type);
			else
				gpu_warn_once(g, GPU_WARN_CURSORQ,
					      "unknown command on the cursor queue");
		}
		if (virtq_push(q, g->chain.head, 0) != VIRTQ_OK) {
			virtio_set_needs_reset(d, "used ring unwritable");
			break;
		}
		pushed = 1;
	}
	if (pushed)
		virtio_notify_used(d, VIRTIO_GPU_CURSORQ);
}

/* ---- the device -------------------------------------------------------- */

static void gpu_queue_notify(struct virtio_dev *d, unsigned q)
{
	struct virtio_gpu *g = d->priv;

	if (g->ops3d && g->ops3d->queue_notify)
		g->ops3d->queue_notify(g->ctx3d, q);	/* its own queues */
	else if (q == VIRTIO_GPU_CONTROLQ)
		control_queue(d->priv);
	else if (q == VIRTIO_GPU_CURSORQ)
		cursor_queue(d->priv);
}

static uint64_t gpu_features(struct virtio_dev *d)
{
	struct virtio_gpu *g = d->priv;

	return 1ULL << VIRTIO_GPU_F_EDID | (g->ops3d ? g->ops3d->features : 0);
}

static void gpu_config_read(struct virtio_dev *d, uint32_t off, void *data,
			    unsigned len)
{
	struct virtio_gpu *g = d->priv;
	uint32_t cfg[4] = {
		htole32(g->events_read),
		0,				/* events_clear reads 0 */
		htole32(1),			/* num_scanouts */
		htole32(g->ops3d ? g->ops3d->num_capsets : 0),
	};

	memcpy(data, (uint8_t *)cfg + off, len);
}

static void gpu_config_write(struct virtio_dev *d, uint32_t off,
			     const void *data, unsigned len)
{
	struct virtio_gpu *g = d->priv;
	uint8_t clear[4] = { 0 };
	uint32_t v;

	/* Only events_clear is writable, byte-wise if the driver likes. */
	if (off < VIRTIO_GPU_CFG_EVENTS_CLEAR ||
	    off + len > VIRTIO_GPU_CFG_EVENTS_CLEAR + 4)
		return;
	memcpy(clear + (off - VIRTIO_GPU_CFG_EVENTS_CLEAR), data, len);
	memcpy(&v, clear, 4);
	g->events_read &= ~le32toh(v);
}

static void gpu_reset(struct virtio_dev *d)
{
	struct virtio_gpu *g = d->priv;

	gpu_resources_free(g);
	g->events_read = 0;
	if (g->ops3d && g->ops3d->reset)
		g->ops3d->reset(g->ctx3d);
}

static const struct virtio_dev_ops gpu_ops = {
	.name = "virtio-gpu",
	.device_id = VIRTIO_ID_GPU,
	.nr_queues = 2,
	.queue_max = VIRTIO_GPU_QUEUE_SIZE,
	.features = gpu_features,
	.config_size = VIRTIO_GPU_CFG_SIZE,
	.config_read = gpu_config_read,
	.config_write = gpu_config_write,
	.queue_notify = gpu_queue_notify,
	.reset = gpu_reset,
};

static int mode_ok(uint32_t w, uint32_t h)
{
	return w >= VIRTIO_GPU_MODE_MIN && w <= VIRTIO_GPU_MODE_MAX &&
	       h >= VIRTIO_GPU_MODE_MIN && h <= VIRTIO_GPU_MODE_MAX;
}

struct virtio_gpu *virtio_gpu_create(const struct guest_mem *mem,
				     const struct irq_line *irq,
				     struct display *disp, uint32_t width,
				     uint32_t height, char *err, size_t errlen)
{
	struct virtio_gpu *g;

	if (!mode_ok(width, height)) {
		snprintf(err, errlen, "virtio-gpu: display size %ux%u is outside "
			 "%ux%u..%ux%u", width, height, VIRTIO_GPU_MODE_MIN,
			 VIRTIO_GPU_MODE_MIN, VIRTIO_GPU_MODE_MAX,
			 VIRTIO_GPU_MODE_MAX);
		return NULL;
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		snprintf(err, errlen, "virtio-gpu: out of memory");
		return NULL;
	}
	g->disp = disp;
	g->width = width;
	g->height = height;
	virtio_dev_init(&g->dev, &gpu_ops, g, mem, irq);
	return g;
}

struct virtio_dev *virtio_gpu_dev(struct virtio_gpu *g)
{
	return &g->dev;
}

int virtio_gpu_resize(struct virtio_gpu *g, uint32_t width, uint32_t height)
{
	if (!mode_ok(width, height))
		return -1;
	pthread_mutex_lock(&g->dev.lock);
	if (width != g->width || height != g->height) {
		g->width = width;
		g->height = height;
		g->events_read |= VIRTIO_GPU_EVENT_DISPLAY;
		virtio_config_changed(&g->dev);
	}
	pthread_mutex_unlock(&g->dev.lock);
	return 0;
}

void virtio_gpu_set_3d(struct virtio_gpu *g, const struct virtio_gpu_3d_ops *ops,
		       void *ctx)
{
	pthread_mutex_lock(&g->dev.lock);
	g->ops3d = ops;
	g->ctx3d = ctx;
	pthread_mutex_unlock(&g->dev.lock);
}

void virtio_gpu_destroy(struct virtio_gpu *g)
{
	if (!g)
		return;
	if (g->ops3d && g->ops3d->destroy)
		g->ops3d->destroy(g->ctx3d);
	g->disp = NULL;		/* may be gone already: leave it alone */
	gpu_resources_free(g);
	pthread_mutex_destroy(&g->dev.lock);
	free(g);
}
