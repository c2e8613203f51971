/* virtio-gpu internals shared by gpu.c (device, queues, dispatch),
 * gpu_2d.c (resources and 2D commands) and gpu_cursor.c.  Everything
 * here runs on the event thread with dev.lock held. */
#ifndef MINIVMM_GPU_PRIV_H
#define MINIVMM_GPU_PRIV_H

#include <stdint.h>
#include <sys/uio.h>
#include "virtio_gpu.h"

#define GPU_BUCKETS	256	/* resource id hash */

struct gpu_resource {
	uint32_t id, format, width, height;
	uint8_t *pix;		/* width*height*4, bytes B,G,R,A */
	struct iovec *backing;	/* host pointers into guest memory */
	uint32_t nr_backing;
	uint64_t backing_len;	/* sum of the lengths */
	struct gpu_resource *next;	/* hash chain */
};

struct virtio_gpu {
	struct virtio_dev dev;		/* dev.lock guards everything below */
	struct display *disp;
	uint32_t width, height;		/* the preferred mode */
	uint32_t events_read;

	struct gpu_resource *bucket[GPU_BUCKETS];
	unsigned nr_resources;
	uint64_t hostmem;		/* bytes of all resources' pixels */

	/* Scanout 0: the resource shown (0 for none) and its rect. */
	uint32_t scanout_res;
	struct virtio_gpu_rect scanout;
	uint32_t mode_w, mode_h;	/* what the display was last told */

	const struct virtio_gpu_3d_ops *ops3d;
	void *ctx3d;

	unsigned warned;		/* guest mistakes logged once */
	struct virtq_chain chain;	/* scratch for the chain in hand */
	/* Aligned: the wire structures are read in place. */
	_Alignas(8) uint8_t req[64];	/* the fixed part of a request */
	_Alignas(8) uint8_t resp[VIRTIO_GPU_RESP_MAX];
};

/* One control command in hand: its fixed part is in g->req (at least
 * the size its type needs), the response payload goes to g->resp after
 * the header. */
struct gpu_cmd {
	struct virtio_gpu_cmd c;
	size_t resp_len;		/* payload bytes, after the header */
};

/* Handlers return the response type. */
uint32_t gpu_get_display_info(struct virtio_gpu *g, struct gpu_cmd *cmd);
uint32_t gpu_get_edid(struct virtio_gpu *g, struct gpu_cmd *cmd);
uint32_t gpu_resource_create_2d(struct virtio_gpu *g, struct gpu_cmd *cmd);
uint32_t gpu_resource_unref(struct virtio_gpu *g, struct gpu_cmd *cmd);
uint32_t gpu_set_scanout(struct virtio_gpu *g, struct gpu_cmd *cmd);
uint32_t gpu_resource_flush(struct virtio_gpu *g, struct gpu_cmd *cmd);
uint32_t gpu_transfer_to_host_2d(struct virtio_gpu *g, struct gpu_cmd *cmd);
uint32_t gpu_attach_backing(struct virtio_gpu *g, struct gpu_cmd *cmd);
uint32_t gpu_detach_backing(struct virtio_gpu *g, struct gpu_cmd *cmd);

/* A cursorq request (its fixed part in g->req): nothing is answered. */
void gpu_cursor_command(struct virtio_gpu *g, uint32_t type);

struct gpu_resource *gpu_resource_find(struct virtio_gpu *g, uint32_t id);
/* Drops every resource and disables the scanout (device reset). */
void gpu_resources_free(struct virtio_gpu *g);
/* Tells the display the scanout size when it changed. */
void gpu_display_mode(struct virtio_gpu *g, uint32_t w, uint32_t h);

/* Logs a guest mistake once per device (bit from GPU_WARN_*). */
void gpu_warn_once(struct virtio_gpu *g, unsigned bit, const char *what);
enum {
	GPU_WARN_CURSOR = 1,
	GPU_WARN_CURSORQ = 2,
	GPU_WARN_UNKNOWN = 4,
};

#endif
