/* virtio-gpu virgl back end internals, shared by gpu_virgl.c (set-up,
 * virglrenderer callbacks, tear-down), gpu_virgl_thread.c (the GPU
 * thread: queues, responses, fences), gpu_virgl_cmd.c (command decoder,
 * capsets, contexts, SUBMIT_3D), gpu_virgl_res.c (resources, backing,
 * transfers) and gpu_virgl_scanout.c (display info, EDID, scanout,
 * cursor).  Unless a field says otherwise, everything here belongs to
 * the GPU thread and is touched by it alone. */
#ifndef MINIVMM_GPU_VIRGL_PRIV_H
#define MINIVMM_GPU_VIRGL_PRIV_H

#include <pthread.h>
#include <stdint.h>
#include <sys/uio.h>
#include "gpu_priv.h"
#include "virtio_gpu_virgl.h"

#define VG_BUCKETS	1024		/* resource id hash */
#define VG_CTX_WORDS	(VIRTIO_GPU_VIRGL_MAX_CONTEXTS / 64)
#define VG_NR_CAPSETS	2		/* VIRGL, VIRGL2 */

struct vg_resource {
	uint32_t id, target, format, width, height, depth, array_size;
	uint32_t last_level;
	uint64_t bytes;			/* counted against the memory cap */
	struct iovec *iov;		/* backing, checked guest pointers */
	uint32_t niov;
	uint64_t backing_len;
	uint64_t ctx_mask[VG_CTX_WORDS];	/* attached to context slot i */
	struct vg_resource *next;	/* hash chain */
};

struct vg_context {
	uint32_t id;			/* 0: a free slot */
};

/* A fenced command's response, held until its fence retires. */
struct vg_pending {
	struct vg_pending *next;
	uint32_t seq;			/* our fence number */
	int ctx_fence;			/* on ctx_id's ring (else global) */
	uint32_t ctx_id, ring_idx;
	int done;			/* retired: push it */
	unsigned epoch;			/* device resets seen when popped */
	uint32_t len;			/* response bytes in resp */
	uint8_t *resp;
	struct virtq_chain chain;
};

/* The control command in hand. */
struct vg_cmd {
	struct virtio_gpu_cmd c;
	uint8_t ring_idx;
	_Alignas(8) uint8_t req[128];	/* its fixed part, zero padded */
	size_t resp_len;		/* payload bytes after the header */
};

struct virgl_gpu {
	struct virtio_gpu *g;
	struct virtio_dev *d;
	pthread_t thread;
	int kick_fd;			/* eventfd: kicks, resets, stop */
	int epfd;
	int fence_fd;			/* virglrenderer's, or -1: poll */

	/* Set from other threads, read by the GPU thread. */
	unsigned kicks;			/* atomic: 1 << queue */
	int stop;			/* atomic */
	int hold_fences;		/* atomic, tests only */
	unsigned epoch;			/* d->lock: bumped by every reset */

	/* Start-up hand-shake: the thread reports how virgl_init went. */
	pthread_mutex_t init_lock;
	pthread_cond_t init_cond;
	int init_state;			/* 0 running, 1 ok, -1 failed */
	char init_err[192];

	/* GPU thread only from here on. */
	unsigned seen_epoch;
	int ctx_init_ok;		/* the driver took CONTEXT_INIT */
	uint32_t pref_w, pref_h;	/* the preferred mode, snapshot */
	uint32_t capset_ver[VG_NR_CAPSETS], capset_size[VG_NR_CAPSETS];

	struct vg_resource *bucket[VG_BUCKETS];
	unsigned nr_resources;
	uint64_t hostmem;
	struct vg_context ctx[VIRTIO_GPU_VIRGL_MAX_CONTEXTS];

	/* Scanout 0 and the display. */
	uint32_t scanout_res;
	struct virtio_gpu_rect scanout;
	uint32_t mode_w, mode_h;	/* what the display was last told */
	int display_gone;		/* tearing down: the display may be */
	uint8_t *shadow;		/* the scanout rect, XRGB8888 */
	size_t shadow_size;

	/* Fenced responses, oldest first. */
	struct vg_pending *pending, **pending_tail;
	unsigned nr_pending;
	uint32_t next_seq;
	int retired;			/* a fence callback marked some done */

	unsigned warned;		/* guest mistakes logged once */
	struct virtq_chain chain;	/* the chain in hand */
	uint8_t *submit_buf;		/* VIRTIO_GPU_VIRGL_MAX_SUBMIT bytes */
	_Alignas(8) uint8_t resp[VIRTIO_GPU_RESP_MAX];
};

enum {
	VG_WARN_UNKNOWN = 1,
	VG_WARN_CURSOR = 2,
	VG_WARN_CURSORQ = 4,
	VG_WARN_SUBMIT = 8,
	VG_WARN_FENCE = 16,
	VG_WARN_STREAM = 32,
};
void vg_warn_once(struct virgl_gpu *v, unsigned bit, const char *what);

/* gpu_virgl.c: virglrenderer in and out (GPU thread). */
int vg_renderer_init(struct virgl_gpu *v, char *err, size_t errlen);
void vg_renderer_fini(struct virgl_gpu *v);
/* virgl_renderer_fill_caps, its chatter not logged. */
void vg_fill_caps(uint32_t id, uint32_t version, void *dst);

/* gpu_virgl.c: runs the thread hook, if any (GPU thread); 0 or -1. */
int vg_run_thread_hook(char *err, size_t errlen);

/* gpu_virgl_thread.c */
void *vg_thread_main(void *arg);
void vg_fence_retired(struct virgl_gpu *v, int ctx_fence, uint32_t ctx_id,
		      uint32_t ring_idx, uint32_t seq);
/* Context ctx_id was destroyed: answers held on its ring go out. */
void vg_context_gone(struct virgl_gpu *v, uint32_t ctx_id);

/* gpu_virgl_cmd.c: runs one control command, fills v->resp after the
 * header, returns the response type. */
uint32_t vg_run_command(struct virgl_gpu *v, struct vg_cmd *cmd);
/* The context slot of id, or -1. */
int vg_ctx_slot(struct virgl_gpu *v, uint32_t id);
void vg_contexts_free(struct virgl_gpu *v);

/* gpu_virgl_stream.c: 0 when a SUBMIT_3D stream of n dwords would hit
 * a known hole in virglrenderer. */
int vg_stream_ok(const uint32_t *dw, uint32_t n);

/* gpu_virgl_res.c: handlers (return the response type). */
uint32_t vg_resource_create_2d(struct virgl_gpu *v, struct vg_cmd *cmd);
uint32_t vg_resource_create_3d(struct virgl_gpu *v, struct vg_cmd *cmd);
uint32_t vg_resource_unref(struct virgl_gpu *v, struct vg_cmd *cmd);
uint32_t vg_attach_backing(struct virgl_gpu *v, struct vg_cmd *cmd);
uint32_t vg_detach_backing(struct virgl_gpu *v, struct vg_cmd *cmd);
uint32_t vg_transfer_to_host_2d(struct virgl_gpu *v, struct vg_cmd *cmd);
uint32_t vg_transfer_3d(struct virgl_gpu *v, struct vg_cmd *cmd);
uint32_t vg_ctx_attach(struct virgl_gpu *v, struct vg_cmd *cmd);
uint32_t vg_ctx_detach(struct virgl_gpu *v, struct vg_cmd *cmd);
struct vg_resource *vg_resource_find(struct virgl_gpu *v, uint32_t id);
void vg_resources_free(struct virgl_gpu *v);
/* Forgets context slot s in every resource (the context is gone). */
void vg_resources_drop_ctx(struct virgl_gpu *v, int s);
/* Bytes per pixel of the 2D formats (the display's), else 0. */
int vg_format_2d(uint32_t format);
/* Reads rect r of a 2D-shaped resource into dst (stride bytes a row,
 * bytes B,G,R,X whatever the resource's format); 0 or -1. */
int vg_read_rect(struct virgl_gpu *v, struct vg_resource *r,
		 const struct virtio_gpu_rect *rc, uint8_t *dst,
		 uint32_t stride);

/* gpu_virgl_scanout.c */
uint32_t vg_get_display_info(struct virgl_gpu *v, struct vg_cmd *cmd);
uint32_t vg_get_edid(struct virgl_gpu *v, struct vg_cmd *cmd);
uint32_t vg_set_scanout(struct virgl_gpu *v, struct vg_cmd *cmd);
uint32_t vg_resource_flush(struct virgl_gpu *v, struct vg_cmd *cmd);
void vg_cursor_command(struct virgl_gpu *v, const struct virtio_gpu_update_cursor *c);
/* The resource going away is shown: stop showing it. */
void vg_scanout_forget(struct virgl_gpu *v, uint32_t id);
/* Device reset or tear-down: nothing shown, cursor hidden. */
void vg_scanout_reset(struct virgl_gpu *v);

#define VG_REQ(cmd, T) ((const T *)(const void *)(cmd)->req)

#endif
