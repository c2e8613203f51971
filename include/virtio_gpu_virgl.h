/* virtio-gpu with 3D (virgl): the virtio_gpu device whose commands run
 * through virglrenderer (OpenGL on the host, here Mesa over surfaceless
 * EGL) on one dedicated GPU thread.  See virtio_gpu.h for the device and
 * its 2D command set; this back end takes both queues over:
 *
 *   event thread: a queue kick only sets a bit and writes an eventfd;
 *   GPU thread:   owns virglrenderer and its EGL context (virglrenderer
 *                 is not thread-safe), its own epoll over that eventfd and
 *                 virglrenderer's fence fd; it pops chains, runs commands
 *                 (2D ones on virgl resources too), pushes responses and
 *                 interrupts the guest, taking the device lock only to
 *                 touch the rings.
 *
 * Fenced commands are answered when virglrenderer signals their fence,
 * in fence order per timeline (the global one, or a context's ring with
 * VIRTIO_GPU_FLAG_INFO_RING_IDX); other commands are answered at once.
 * Nothing here blocks a vCPU or the event thread.
 *
 * Scanout: SET_SCANOUT / RESOURCE_FLUSH read the resource back with a
 * virglrenderer transfer, which yields the guest's view of it (rows top
 * first; virglrenderer inverts Y_0_TOP resources itself), and hand
 * XRGB8888 to the display from the GPU thread.
 *
 * Wiring (after virtio_gpu_create, before the guest starts):
 *	if (virtio_gpu_enable_virgl(g, err, sizeof(err)))
 *		fail with err ("virglrenderer could not initialise EGL: ...")
 * virtio_gpu_destroy() stops the GPU thread and frees everything.  The
 * event thread watches nothing extra.  One virgl device per process
 * (virglrenderer is a process-wide singleton). */
#ifndef MINIVMM_VIRTIO_GPU_VIRGL_H
#define MINIVMM_VIRTIO_GPU_VIRGL_H

#include <stddef.h>
#include <stdint.h>
#include "virtio_gpu.h"

/* 3D commands (virtio 1.2, 5.7.6.7) after VIRTIO_GPU_CMD_CTX_CREATE. */
enum {
	VIRTIO_GPU_CMD_CTX_DESTROY = VIRTIO_GPU_CMD_CTX_CREATE + 1,
	VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE,
	VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE,
	VIRTIO_GPU_CMD_RESOURCE_CREATE_3D,
	VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D,
	VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D,
	VIRTIO_GPU_CMD_SUBMIT_3D,
};

#define VIRTIO_GPU_CAPSET_VIRGL		1
#define VIRTIO_GPU_CAPSET_VIRGL2	2
/* CTX_CREATE's context_init: the capset id in the low byte. */
#define VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK	0xff
/* RESOURCE_CREATE_3D flags. */
#define VIRTIO_GPU_RESOURCE_FLAG_Y_0_TOP	(1u << 0)

/* Gallium texture targets (RESOURCE_CREATE_3D target). */
enum {
	VIRGL_TARGET_BUFFER, VIRGL_TARGET_1D, VIRGL_TARGET_2D, VIRGL_TARGET_3D,
	VIRGL_TARGET_CUBE, VIRGL_TARGET_RECT, VIRGL_TARGET_1D_ARRAY,
	VIRGL_TARGET_2D_ARRAY, VIRGL_TARGET_CUBE_ARRAY,
};

/* What a guest may ask of the 3D side (hostile guests, bounded host). */
#define VIRTIO_GPU_VIRGL_MAX_HOSTMEM	(1ULL << 30)	/* estimated texels */
#define VIRTIO_GPU_VIRGL_MAX_RESOURCES	16384
#define VIRTIO_GPU_VIRGL_MAX_CONTEXTS	256
#define VIRTIO_GPU_VIRGL_MAX_DEPTH	2048	/* 3D depth, array layers */
#define VIRTIO_GPU_VIRGL_MAX_BUFFER	(256u << 20)	/* a PIPE_BUFFER */
#define VIRTIO_GPU_VIRGL_MAX_SUBMIT	(1u << 20)	/* one SUBMIT_3D */

/* Wire structures, little-endian. */
struct virtio_gpu_get_capset_info {
	struct virtio_gpu_ctrl_hdr hdr;
	uint32_t capset_index;
	uint32_t padding;
};

struct virtio_gpu_resp_capset_info {
	struct virtio_gpu_ctrl_hdr hdr;
	uint32_t capset_id;
	uint32_t capset_max_version;
	uint32_t capset_max_size;
	uint32_t padding;
};

struct virtio_gpu_get_capset {
	struct virtio_gpu_ctrl_hdr hdr;
	uint32_t capset_id;
	uint32_t capset_version;
};	/* answered by the header and capset_max_size bytes */

struct virtio_gpu_ctx_create {
	struct virtio_gpu_ctrl_hdr hdr;
	uint32_t nlen;
	uint32_t context_init;		/* with VIRTIO_GPU_F_CONTEXT_INIT */
	char debug_name[64];
};

/* CTX_ATTACH_RESOURCE and CTX_DETACH_RESOURCE (CTX_DESTROY: a header). */
struct virtio_gpu_ctx_resource {
	struct virtio_gpu_ctrl_hdr hdr;
	uint32_t resource_id;
	uint32_t padding;
};

struct virtio_gpu_resource_create_3d {
	struct virtio_gpu_ctrl_hdr hdr;
	uint32_t resource_id;
	uint32_t target;
	uint32_t format;
	uint32_t bind;
	uint32_t width;
	uint32_t height;
	uint32_t depth;
	uint32_t array_size;
	uint32_t last_level;
	uint32_t nr_samples;
	uint32_t flags;
	uint32_t padding;
};

struct virtio_gpu_box {
	uint32_t x, y, z;
	uint32_t w, h, d;
};

/* TRANSFER_TO_HOST_3D and TRANSFER_FROM_HOST_3D. */
struct virtio_gpu_transfer_host_3d {
	struct virtio_gpu_ctrl_hdr hdr;
	struct virtio_gpu_box box;
	uint64_t offset;
	uint32_t resource_id;
	uint32_t level;
	uint32_t stride;
	uint32_t layer_stride;
};

/* Followed by size bytes of virgl command stream. */
struct virtio_gpu_cmd_submit {
	struct virtio_gpu_ctrl_hdr hdr;
	uint32_t size;
	uint32_t padding;
};

/* Starts the GPU thread, initialises virglrenderer there (EGL
 * surfaceless) and makes g a virgl device: VIRTIO_GPU_F_VIRGL and
 * VIRTIO_GPU_F_CONTEXT_INIT offered, capsets VIRGL and VIRGL2.  0, or -1
 * with one line in err (g is then unchanged). */
int virtio_gpu_enable_virgl(struct virtio_gpu *g, char *err, size_t errlen);

/* Optional, before virtio_gpu_enable_virgl (process-wide, like
 * virglrenderer): fn runs on the GPU thread once virglrenderer is up
 * and before the guest is served - e.g. to sandbox_enter() the GPU
 * role.  Non-zero fails the start-up with fn's err. */
void virtio_gpu_virgl_thread_hook(int (*fn)(void *opaque, char *err,
					    size_t errlen), void *opaque);

/* For tests: while held, the GPU thread leaves retired fences alone, so
 * fenced responses stay pending; releasing delivers them. */
void virtio_gpu_virgl_hold_fences(struct virtio_gpu *g, int hold);

#endif
