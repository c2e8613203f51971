/* virtio-gpu, 2D (virtio 1.2, 5.7): one scanout shown through a display
 * back end (display.h), resources the guest draws into and copies to the
 * host, a 64x64 cursor.  3D (virgl) plugs in through virtio_gpu_set_3d()
 * (virtio_gpu_virgl.h).
 *
 * Queues: controlq (0) answers every command with a response in the
 * chain's writable buffer; cursorq (1) takes UPDATE_CURSOR/MOVE_CURSOR and
 * answers nothing.  2D work is synchronous, so a fenced command's fence
 * has signalled by the time its response is written.
 *
 * Choices (QEMU's virtio-gpu is the reference for the guest-visible
 * behaviour): a request shorter than its type's structure is refused with
 * ERR_UNSPEC (trailing bytes are ignored), a response buffer too small
 * for the answer or a chain without one is a driver bug
 * (DEVICE_NEEDS_RESET).  Resource pixels are kept as XRGB/ARGB8888
 * (bytes B,G,R,A): the R/G/B-ordered formats are converted while
 * transferred, so flushes and cursors hand the display its own format.
 *
 * Wiring:
 *	struct virtio_gpu *g = virtio_gpu_create(mem, &irq, disp, 1024, 768,
 *						 err, sizeof(err));
 *	register virtio_gpu_dev(g) on the MMIO bus with virtio_mmio_ops
 *	... virtio_gpu_resize(g, w, h) when the window changes size ...
 *	virtio_gpu_destroy(g);		(event thread and vCPUs stopped) */
#ifndef MINIVMM_VIRTIO_GPU_H
#define MINIVMM_VIRTIO_GPU_H

#include <stddef.h>
#include <stdint.h>
#include "display.h"
#include "virtio.h"

#define VIRTIO_ID_GPU			16

#define VIRTIO_GPU_CONTROLQ		0
#define VIRTIO_GPU_CURSORQ		1
#define VIRTIO_GPU_QUEUE_SIZE		256

/* Feature bits (5.7.3); only EDID is offered by the 2D device. */
#define VIRTIO_GPU_F_VIRGL		0
#define VIRTIO_GPU_F_EDID		1
#define VIRTIO_GPU_F_RESOURCE_UUID	2
#define VIRTIO_GPU_F_RESOURCE_BLOB	3
#define VIRTIO_GPU_F_CONTEXT_INIT	4

/* Config space (struct virtio_gpu_config, le32 each). */
#define VIRTIO_GPU_CFG_EVENTS_READ	0
#define VIRTIO_GPU_CFG_EVENTS_CLEAR	4	/* write 1 to clear */
#define VIRTIO_GPU_CFG_NUM_SCANOUTS	8
#define VIRTIO_GPU_CFG_NUM_CAPSETS	12
#define VIRTIO_GPU_CFG_SIZE		16
#define VIRTIO_GPU_EVENT_DISPLAY	(1u << 0)

#define VIRTIO_GPU_MAX_SCANOUTS		16	/* in GET_DISPLAY_INFO */

/* Command and response types (5.7.6.7). */
enum {
	VIRTIO_GPU_CMD_GET_DISPLAY_INFO = 0x0100,
	VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
	VIRTIO_GPU_CMD_RESOURCE_UNREF,
	VIRTIO_GPU_CMD_SET_SCANOUT,
	VIRTIO_GPU_CMD_RESOURCE_FLUSH,
	VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D,
	VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
	VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING,
	VIRTIO_GPU_CMD_GET_CAPSET_INFO,
	VIRTIO_GPU_CMD_GET_CAPSET,
	VIRTIO_GPU_CMD_GET_EDID,
	VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID,
	VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB,
	VIRTIO_GPU_CMD_SET_SCANOUT_BLOB,

	VIRTIO_GPU_CMD_CTX_CREATE = 0x0200,	/* 3D: for a back end */

	VIRTIO_GPU_CMD_UPDATE_CURSOR = 0x0300,
	VIRTIO_GPU_CMD_MOVE_CURSOR,

	VIRTIO_GPU_RESP_OK_NODATA = 0x1100,
	VIRTIO_GPU_RESP_OK_DISPLAY_INFO,
	VIRTIO_GPU_RESP_OK_CAPSET_INFO,
	VIRTIO_GPU_RESP_OK_CAPSET,
	VIRTIO_GPU_RESP_OK_EDID,

	VIRTIO_GPU_RESP_ERR_UNSPEC = 0x1200,
	VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY,
	VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID,
	VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID,
	VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID,
	VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
};

#define VIRTIO_GPU_FLAG_FENCE		(1u << 0)
#define VIRTIO_GPU_FLAG_INFO_RING_IDX	(1u << 1)

/* Resource formats (5.7.6.8): all 4 bytes per pixel, named by their
 * byte order in memory. */
enum {
	VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM = 1,
	VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM = 2,
	VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM = 3,
	VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM = 4,
	VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM = 67,
	VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM = 68,
	VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM = 121,
	VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM = 134,
};

/* Limits on what a guest may ask for (hostile guests, bounded host). */
#define VIRTIO_GPU_MAX_DIM		16384	/* resource width/height */
#define VIRTIO_GPU_MAX_HOSTMEM		(256ULL << 20)	/* pixels + backing lists */
#define VIRTIO_GPU_MAX_RESOURCES	1024
#define VIRTIO_GPU_MAX_BACKING_ENTRIES	16384	/* per attach */
#define VIRTIO_GPU_CURSOR_SIZE		64
/* The display mode: a detailed timing in the EDID holds 12-bit sizes,
 * and Linux ignores modes smaller than 64 in either direction. */
#define VIRTIO_GPU_MODE_MIN		64
#define VIRTIO_GPU_MODE_MAX		4095
#define VIRTIO_GPU_EDID_SIZE		128

/* Wire structures, little-endian, laid out without padding. */
struct virtio_gpu_ctrl_hdr {
	uint32_t type;
	uint32_t flags;
	uint64_t fence_id;
	uint32_t ctx_id;
	uint8_t ring_idx;
	uint8_t padding[3];
};

struct virtio_gpu_rect {
	uint32_t x, y, width, height;
};

struct virtio_gpu_resp_display_info {
	struct virtio_gpu_ctrl_hdr hdr;
	struct virtio_gpu_display_one {
		struct virtio_gpu_rect r;
		uint32_t enabled;
		uint32_t flags;
	} pmodes[VIRTIO_GPU_MAX_SCANOUTS];
};

struct virtio_gpu_get_edid {
	struct virtio_gpu_ctrl_hdr hdr;
	uint32_t scanout;
	uint32_t padding;
};

struct virtio_gpu_resp_edid {
	struct virtio_gpu_ctrl_hdr hdr;
	uint32_t size;
	uint32_t padding;
	uint8_t edid[1024];
};

struct virtio_gpu_resource_create_2d {
	struct virtio_gpu_ctrl_hdr hdr;
	uint32_t resource_id;
	uint32_t format;
	uint32_t width;
	uint32_t height;
};

/* RESOURCE_UNREF and RESOURCE_DETACH_BACKING. */
struct virtio_gpu_resource_unref {
	struct virtio_gpu_ctrl_hdr hdr;
	uint32_t resource_id;
	uint32_t padding;
};

struct virtio_gpu_set_scanout {
	struct virtio_gpu_ctrl_hdr hdr;
	struct virtio_gpu_rect r;
	uint32_t scanout_id;
	uint32_t resource_id;
};

struct virtio_gpu_resource_flush {
	struct virtio_gpu_ctrl_hdr hdr;
	struct virtio_gpu_rect r;
	uint32_t resource_id;
	uint32_t padding;
};

struct virtio_gpu_transfer_to_host_2d {
	struct virtio_gpu_ctrl_hdr hdr;
	struct virtio_gpu_rect r;
	uint64_t offset;
	uint32_t resource_id;
	uint32_t padding;
};

/* Followed by nr_entries struct virtio_gpu_mem_entry. */
struct virtio_gpu_resource_attach_backing {
	struct virtio_gpu_ctrl_hdr hdr;
	uint32_t resource_id;
	uint32_t nr_entries;
};

struct virtio_gpu_mem_entry {
	uint64_t addr;
	uint32_t length;
	uint32_t padding;
};

/* UPDATE_CURSOR and MOVE_CURSOR. */
struct virtio_gpu_update_cursor {
	struct virtio_gpu_ctrl_hdr hdr;
	struct virtio_gpu_cursor_pos {
		uint32_t scanout_id;
		uint32_t x, y;		/* signed in practice (Linux's crtc_x) */
		uint32_t padding;
	} pos;
	uint32_t resource_id;
	uint32_t hot_x, hot_y;
	uint32_t padding;
};

struct virtio_gpu;

/* A device showing its scanout on disp (may be NULL: nothing shown) with
 * a preferred mode of width x height (VIRTIO_GPU_MODE_MIN..MAX).  NULL
 * with a message on bad sizes or no memory. */
struct virtio_gpu *virtio_gpu_create(const struct guest_mem *mem,
				     const struct irq_line *irq,
				     struct display *disp, uint32_t width,
				     uint32_t height, char *err, size_t errlen);

struct virtio_dev *virtio_gpu_dev(struct virtio_gpu *g);

/* A new preferred mode (the window was resized): GET_DISPLAY_INFO and
 * the EDID report it from now on, and the driver gets a display event
 * (config change).  0, or -1 for a size outside MODE_MIN..MODE_MAX.
 * Takes the device lock: call it from any thread but the GPU's own. */
int virtio_gpu_resize(struct virtio_gpu *g, uint32_t width, uint32_t height);

/* NULL is ignored. */
void virtio_gpu_destroy(struct virtio_gpu *g);

/* The 128-byte EDID 1.4 block describing a width x height monitor named
 * "minivmm" whose preferred (and only) mode is that size. */
void virtio_gpu_edid(uint8_t edid[VIRTIO_GPU_EDID_SIZE], uint32_t width,
		     uint32_t height);

/* ---- Room for a 3D back end (virgl); nothing implements it yet. ------
 * Control commands the 2D core does not know (contexts, 3D resources,
 * capsets) go to ops->command before they would be refused.  It runs
 * where the 2D commands do (the event thread, device lock held) and
 * answers synchronously; fences that signal later will need a deferred
 * response path added alongside. */
struct virtio_gpu_cmd {
	uint32_t type, flags;		/* the header, host byte order */
	uint64_t fence_id;
	uint32_t ctx_id;
	const struct virtq *q;		/* the request: read it with */
	const struct virtq_chain *chain;	/* virtio_gpu_cmd_read */
	uint64_t len;			/* request bytes, header included */
};

/* Copies request bytes [off, off+len); returns bytes copied (short at
 * the end of the request) or -1 when guest memory refuses. */
long virtio_gpu_cmd_read(const struct virtio_gpu_cmd *c, uint64_t off,
			 void *dst, size_t len);

#define VIRTIO_GPU_RESP_MAX	4096	/* header and payload */

struct virtio_gpu_3d_ops {
	uint64_t features;		/* offered besides EDID, e.g. VIRGL */
	uint32_t num_capsets;		/* reported in config space */
	/* Fills up to cap bytes of response payload (what follows the
	 * header), sets *len and returns the response type; 0 means "not
	 * mine" (ERR_UNSPEC is sent). */
	uint32_t (*command)(void *ctx, const struct virtio_gpu_cmd *cmd,
			    void *payload, size_t cap, size_t *len);
	void (*reset)(void *ctx);	/* the driver reset the device */
	/* Optional: a back end that runs both queues itself (virgl, on its
	 * own thread).  Kicks go to it instead of the 2D core, on the event
	 * thread with the device lock held: it must only hand them on. */
	void (*queue_notify)(void *ctx, unsigned q);
	/* Optional: first thing virtio_gpu_destroy() does. */
	void (*destroy)(void *ctx);
};

/* Before the guest starts. */
void virtio_gpu_set_3d(struct virtio_gpu *g, const struct virtio_gpu_3d_ops *ops,
		       void *ctx);

#endif
