/* virgl control commands: the decoder (every command's fixed size checked
 * before its handler runs), capsets, contexts and SUBMIT_3D.  Resources
 * are in gpu_virgl_res.c, the scanout in gpu_virgl_scanout.c.  GPU
 * thread only. */
#include "gpu_virgl_priv.h"

#if __has_include(<virglrenderer.h>)

#include <virglrenderer.h>

#include <endian.h>
#include <string.h>

#define HDR_SIZE sizeof(struct virtio_gpu_ctrl_hdr)

_Static_assert(sizeof(struct virtio_gpu_ctx_create) == 96, "wire layout");
_Static_assert(sizeof(struct virtio_gpu_resource_create_3d) == 72,
	       "wire layout");
_Static_assert(sizeof(struct virtio_gpu_transfer_host_3d) == 72,
	       "wire layout");
_Static_assert(sizeof(struct virtio_gpu_cmd_submit) == 32, "wire layout");
_Static_assert(sizeof(struct virtio_gpu_resp_capset_info) == 40,
	       "wire layout");

static const uint32_t capset_ids[VG_NR_CAPSETS] = {
	VIRTIO_GPU_CAPSET_VIRGL, VIRTIO_GPU_CAPSET_VIRGL2 };

/* Index of an offered capset id, or -1. */
static int capset_index(struct virgl_gpu *v, uint32_t id)
{
	for (int i = 0; i < VG_NR_CAPSETS; i++)
		if (capset_ids[i] == id && v->capset_size[i])
			return i;
	return -1;
}

static uint32_t get_capset_info(struct virgl_gpu *v, struct vg_cmd *cmd)
{
	const struct virtio_gpu_get_capset_info *c =
		VG_REQ(cmd, struct virtio_gpu_get_capset_info);
	struct virtio_gpu_resp_capset_info *r = (void *)v->resp;
	uint32_t i = le32toh(c->capset_index);

	if (i >= VG_NR_CAPSETS || !v->capset_size[i])
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	r->capset_id = htole32(capset_ids[i]);
	r->capset_max_version = htole32(v->capset_ver[i]);
	r->capset_max_size = htole32(v->capset_size[i]);
	r->padding = 0;
	cmd->resp_len = sizeof(*r) - HDR_SIZE;
	return VIRTIO_GPU_RESP_OK_CAPSET_INFO;
}

static uint32_t get_capset(struct virgl_gpu *v, struct vg_cmd *cmd)
{
	const struct virtio_gpu_get_capset *c =
		VG_REQ(cmd, struct virtio_gpu_get_capset);
	uint32_t id = le32toh(c->capset_id), ver = le32toh(c->capset_version);
	int i = capset_index(v, id);

	if (i < 0 || ver > v->capset_ver[i])
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	/* Sizes were checked against the response buffer at start-up. */
	memset(v->resp + HDR_SIZE, 0, v->capset_size[i]);
	vg_fill_caps(id, ver, v->resp + HDR_SIZE);
	cmd->resp_len = v->capset_size[i];
	return VIRTIO_GPU_RESP_OK_CAPSET;
}

/* ---- contexts ----------------------------------------------------------- */

int vg_ctx_slot(struct virgl_gpu *v, uint32_t id)
{
	if (!id)
		return -1;
	for (int s = 0; s < VIRTIO_GPU_VIRGL_MAX_CONTEXTS; s++)
		if (v->ctx[s].id == id)
			return s;
	return -1;
}

static uint32_t ctx_create(struct virgl_gpu *v, struct vg_cmd *cmd)
{
	const struct virtio_gpu_ctx_create *c =
		VG_REQ(cmd, struct virtio_gpu_ctx_create);
	uint32_t id = cmd->c.ctx_id, nlen = le32toh(c->nlen);
	/* Without CONTEXT_INIT negotiated the field is padding. */
	uint32_t init = v->ctx_init_ok ? le32toh(c->context_init) : 0;
	uint32_t capset = init & VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK;
	int s, e;

	if (!id || vg_ctx_slot(v, id) >= 0)
		return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
	/* Only the capset id is defined; virgl capsets only. */
	if (init & ~VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK ||
	    (capset && capset_index(v, capset) < 0))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	for (s = 0; s < VIRTIO_GPU_VIRGL_MAX_CONTEXTS && v->ctx[s].id; s++)
		;
	if (s == VIRTIO_GPU_VIRGL_MAX_CONTEXTS)
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	if (nlen > sizeof(c->debug_name))
		nlen = sizeof(c->debug_name);
	e = capset ? virgl_renderer_context_create_with_flags(id, capset, nlen,
							       c->debug_name) :
		     virgl_renderer_context_create(id, nlen, c->debug_name);
	if (e)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	v->ctx[s].id = id;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static void ctx_free(struct virgl_gpu *v, int s)
{
	uint32_t id = v->ctx[s].id;

	virgl_renderer_context_destroy(id);
	vg_resources_drop_ctx(v, s);
	vg_context_gone(v, id);
	v->ctx[s].id = 0;
}

static uint32_t ctx_destroy(struct virgl_gpu *v, struct vg_cmd *cmd)
{
	int s = vg_ctx_slot(v, cmd->c.ctx_id);

	if (s < 0)
		return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
	ctx_free(v, s);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

void vg_contexts_free(struct virgl_gpu *v)
{
	for (int s = 0; s < VIRTIO_GPU_VIRGL_MAX_CONTEXTS; s++)
		if (v->ctx[s].id)
			ctx_free(v, s);
}

/* The command stream is virglrenderer's to validate; ours are its size
 * and where it comes from.  A stream it rejects leaves the context in
 * error (later submits to it fail too); other contexts carry on. */
static uint32_t submit_3d(struct virgl_gpu *v, struct vg_cmd *cmd)
{
	const struct virtio_gpu_cmd_submit *c =
		VG_REQ(cmd, struct virtio_gpu_cmd_submit);
	uint32_t size = le32toh(c->size);

	if (vg_ctx_slot(v, cmd->c.ctx_id) < 0)
		return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
	if (size > VIRTIO_GPU_VIRGL_MAX_SUBMIT || size % 4 ||
	    cmd->c.len - sizeof(*c) < size)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	if (!size)
		return VIRTIO_GPU_RESP_OK_NODATA;
	if (virtio_gpu_cmd_read(&cmd->c, sizeof(*c), v->submit_buf, size) !=
	    (long)size)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (!vg_stream_ok((const uint32_t *)(const void *)v->submit_buf,
			  size / 4)) {
		vg_warn_once(v, VG_WARN_STREAM, "a command stream virglrenderer "
			     "would crash on; refused");
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	if (virgl_renderer_submit_cmd(v->submit_buf, (int)cmd->c.ctx_id,
				      (int)(size / 4))) {
		vg_warn_once(v, VG_WARN_SUBMIT, "virglrenderer rejected a "
			     "command stream (context in error)");
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

/* ---- the decoder -------------------------------------------------------- */

static const struct vg_cmd_desc {
	uint32_t type;
	uint32_t size;			/* of the fixed part */
	uint32_t (*run)(struct virgl_gpu *v, struct vg_cmd *cmd);
} commands[] = {
	{ VIRTIO_GPU_CMD_GET_DISPLAY_INFO, HDR_SIZE, vg_get_display_info },
	{ VIRTIO_GPU_CMD_GET_EDID, sizeof(struct virtio_gpu_get_edid),
	  vg_get_edid },
	{ VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
	  sizeof(struct virtio_gpu_resource_create_2d), vg_resource_create_2d },
	{ VIRTIO_GPU_CMD_RESOURCE_UNREF,
	  sizeof(struct virtio_gpu_resource_unref), vg_resource_unref },
	{ VIRTIO_GPU_CMD_SET_SCANOUT, sizeof(struct virtio_gpu_set_scanout),
	  vg_set_scanout },
	{ VIRTIO_GPU_CMD_RESOURCE_FLUSH,
	  sizeof(struct virtio_gpu_resource_flush), vg_resource_flush },
	{ VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D,
	  sizeof(struct virtio_gpu_transfer_to_host_2d),
	  vg_transfer_to_host_2d },
	{ VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
	  sizeof(struct virtio_gpu_resource_attach_backing), vg_attach_backing },
	{ VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING,
	  sizeof(struct virtio_gpu_resource_unref), vg_detach_backing },
	{ VIRTIO_GPU_CMD_GET_CAPSET_INFO,
	  sizeof(struct virtio_gpu_get_capset_info), get_capset_info },
	{ VIRTIO_GPU_CMD_GET_CAPSET, sizeof(struct virtio_gpu_get_capset),
	  get_capset },
	{ VIRTIO_GPU_CMD_CTX_CREATE, sizeof(struct virtio_gpu_ctx_create),
	  ctx_create },
	{ VIRTIO_GPU_CMD_CTX_DESTROY, HDR_SIZE, ctx_destroy },
	{ VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE,
	  sizeof(struct virtio_gpu_ctx_resource), vg_ctx_attach },
	{ VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE,
	  sizeof(struct virtio_gpu_ctx_resource), vg_ctx_detach },
	{ VIRTIO_GPU_CMD_RESOURCE_CREATE_3D,
	  sizeof(struct virtio_gpu_resource_create_3d), vg_resource_create_3d },
	{ VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D,
	  sizeof(struct virtio_gpu_transfer_host_3d), vg_transfer_3d },
	{ VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D,
	  sizeof(struct virtio_gpu_transfer_host_3d), vg_transfer_3d },
	{ VIRTIO_GPU_CMD_SUBMIT_3D, sizeof(struct virtio_gpu_cmd_submit),
	  submit_3d },
};

uint32_t vg_run_command(struct virgl_gpu *v, struct vg_cmd *cmd)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (commands[i].type != cmd->c.type)
			continue;
		/* The fixed part fits cmd->req (asserted below); a shorter
		 * request is refused, trailing bytes are ignored. */
		if (cmd->c.len < commands[i].size)
			return VIRTIO_GPU_RESP_ERR_UNSPEC;
		return commands[i].run(v, cmd);
	}
	vg_warn_once(v, VG_WARN_UNKNOWN, "unknown command; ignored");
	return VIRTIO_GPU_RESP_ERR_UNSPEC;
}

_Static_assert(sizeof(((struct vg_cmd *)0)->req) >=
	       sizeof(struct virtio_gpu_ctx_create), "request buffer");
_Static_assert(VIRTIO_GPU_RESP_MAX >= sizeof(struct virtio_gpu_resp_edid),
	       "response buffer");

#endif
