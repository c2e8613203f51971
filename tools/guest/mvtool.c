/* mvtool: a tiny static helper put into the default guest's initramfs for
 * the boot tests (built by tools/mkguest.sh).  It speaks only kernel
 * interfaces (DRM ioctls, evdev), so it needs no library in the guest.
 *
 *   mvtool pattern [SECONDS]  draw the known test pattern full-screen on
 *                             the first connected DRM connector through a
 *                             dumb buffer, print "pattern WxH", hold it
 *   mvtool keys N [DEVNAME]   print the next N EV_KEY events of the input
 *                             device named DEVNAME (default: the first
 *                             with "keyboard" in its name) as
 *                             "key CODE VALUE"
 *   mvtool gpufuzz SEED N [-v]
 *                             a hostile virgl guest: N operations (the
 *                             same for the same SEED) through the
 *                             virtio-gpu DRM device - SUBMIT_3D streams of
 *                             random bytes, of plausible commands on
 *                             valid, foreign and made-up resource handles
 *                             (some mutated), resources of odd shapes,
 *                             transfers outside a resource or its backing
 *                             - in contexts opened and closed as it goes.
 *                             Meanwhile a second context clears a texture
 *                             and reads it back every 50 operations (its
 *                             fence must signal, the pixels must be
 *                             right); at the end a fresh context must
 *                             render too.  Exit 0 and "gpufuzz: done"
 *                             when all held; -v prints every stream.
 *   mvtool caps [ID [VER]]    print virgl capset ID (default 2, VIRGL2)
 *                             version VER (default 2) as the host gave it
 *
 * The pattern, pixel (x, y) as 0xRRGGBB, must match tests/boot/pattern.py:
 *   R = (x * 255) / (W - 1), G = (y * 255) / (H - 1),
 *   B = ((x / 32) + (y / 32)) % 2 ? 0xff : 0x00 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "drm.h"
#include "drm_mode.h"

static int die(const char *what)
{
	fprintf(stderr, "mvtool: %s: %s\n", what, strerror(errno));
	return 1;
}

static uint32_t pattern_pixel(uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	uint32_t r = (x * 255) / (w - 1), g = (y * 255) / (h - 1);
	uint32_t b = ((x / 32) + (y / 32)) % 2 ? 0xff : 0x00;

	return (r << 16) | (g << 8) | b;
}

static int pattern(int seconds)
{
	struct drm_mode_card_res res = { 0 };
	uint32_t conn_ids[16], crtc_ids[16], enc_ids[16];
	struct drm_mode_get_connector conn;
	struct drm_mode_modeinfo modes[64];
	struct drm_mode_create_dumb dumb = { 0 };
	struct drm_mode_map_dumb map = { 0 };
	struct drm_mode_fb_cmd fb = { 0 };
	struct drm_mode_crtc crtc = { 0 };
	int fd = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
	uint32_t w, h;
	uint8_t *px;

	if (fd < 0)
		return die("/dev/dri/card0");
	if (ioctl(fd, DRM_IOCTL_SET_MASTER, 0) < 0)
		return die("SET_MASTER");
	if (ioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res) < 0)
		return die("GETRESOURCES");
	if (res.count_connectors > 16 || res.count_crtcs > 16 ||
	    res.count_encoders > 16 || !res.count_connectors || !res.count_crtcs)
		return fprintf(stderr, "mvtool: odd DRM resources\n"), 1;
	res.connector_id_ptr = (uintptr_t)conn_ids;
	res.crtc_id_ptr = (uintptr_t)crtc_ids;
	res.encoder_id_ptr = (uintptr_t)enc_ids;
	res.count_fbs = 0;
	if (ioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res) < 0)
		return die("GETRESOURCES");
	memset(&conn, 0, sizeof(conn));
	conn.connector_id = conn_ids[0];
	if (ioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, &conn) < 0)
		return die("GETCONNECTOR");
	if (!conn.count_modes || conn.count_modes > 64)
		return fprintf(stderr, "mvtool: connector has %u modes\n",
			       conn.count_modes), 1;
	conn.modes_ptr = (uintptr_t)modes;
	conn.count_props = conn.count_encoders = 0;
	if (ioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, &conn) < 0)
		return die("GETCONNECTOR");
	/* The preferred mode comes first. */
	w = modes[0].hdisplay;
	h = modes[0].vdisplay;

	dumb.width = w;
	dumb.height = h;
	dumb.bpp = 32;
	if (ioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &dumb) < 0)
		return die("CREATE_DUMB");
	fb.width = w;
	fb.height = h;
	fb.pitch = dumb.pitch;
	fb.bpp = 32;
	fb.depth = 24;
	fb.handle = dumb.handle;
	if (ioctl(fd, DRM_IOCTL_MODE_ADDFB, &fb) < 0)
		return die("ADDFB");
	map.handle = dumb.handle;
	if (ioctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &map) < 0)
		return die("MAP_DUMB");
	px = mmap(NULL, dumb.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		  (off_t)map.offset);
	if (px == MAP_FAILED)
		return die("mmap");
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			uint32_t v = pattern_pixel(x, y, w, h);
			memcpy(px + (size_t)y * dumb.pitch + x * 4, &v, 4);
		}
	crtc.crtc_id = crtc_ids[0];
	crtc.fb_id = fb.fb_id;
	crtc.set_connectors_ptr = (uintptr_t)&conn.connector_id;
	crtc.count_connectors = 1;
	crtc.mode = modes[0];
	crtc.mode_valid = 1;
	if (ioctl(fd, DRM_IOCTL_MODE_SETCRTC, &crtc) < 0)
		return die("SETCRTC");
	/* Dumb buffers need a dirty call on virtio-gpu to reach the host. */
	{
		struct drm_clip_rect clip = { 0, 0, (unsigned short)w, (unsigned short)h };
		struct drm_mode_fb_dirty_cmd dirty = {
			.fb_id = fb.fb_id, .num_clips = 1,
			.clips_ptr = (uintptr_t)&clip,
		};
		ioctl(fd, DRM_IOCTL_MODE_DIRTYFB, &dirty);
	}
	printf("pattern %ux%u\n", w, h);
	fflush(stdout);
	sleep((unsigned)seconds);
	return 0;
}

static int find_input(const char *want, char *path, size_t len)
{
	for (int i = 0; i < 32; i++) {
		char name[256] = "";
		int fd;

		snprintf(path, len, "/dev/input/event%d", i);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ioctl(fd, EVIOCGNAME(sizeof(name) - 1), name);
		if (strstr(name, want))
			return fd;
		close(fd);
	}
	return -1;
}

static int keys(int n, const char *want)
{
	char path[64];
	int fd = find_input(want, path, sizeof(path));
	struct input_event ev;

	if (fd < 0)
		return fprintf(stderr, "mvtool: no input device named *%s*\n",
			       want), 1;
	printf("reading %s\n", path);
	fflush(stdout);
	while (n > 0 && read(fd, &ev, sizeof(ev)) == sizeof(ev)) {
		if (ev.type != EV_KEY)
			continue;
		printf("key %u %d\n", ev.code, ev.value);
		fflush(stdout);
		n--;
	}
	return 0;
}

/* ---- gpufuzz: a hostile virgl guest ------------------------------------ */

/* The virtio-gpu uapi as Linux 6.1 has it (libdrm's copy predates
 * CONTEXT_INIT, ring indices and the transfer strides). */
struct vgf_execbuffer {
	uint32_t flags, size;
	uint64_t command, bo_handles;
	uint32_t num_bo_handles;
	int32_t fence_fd;
	uint32_t ring_idx, pad;
};
struct vgf_getparam {
	uint64_t param, value;		/* value: a pointer to an int */
};
struct vgf_resource_create {
	uint32_t target, format, bind, width, height, depth, array_size;
	uint32_t last_level, nr_samples, flags, bo_handle, res_handle;
	uint32_t size, stride;
};
struct vgf_transfer {
	uint32_t bo_handle;
	uint32_t x, y, z, w, h, d;
	uint32_t level, offset, stride, layer_stride;
};
struct vgf_wait {
	uint32_t handle, flags;
};
struct vgf_map {
	uint64_t offset;
	uint32_t handle, pad;
};
struct vgf_ctx_param {
	uint64_t param, value;
};
struct vgf_context_init {
	uint32_t num_params, pad;
	uint64_t ctx_set_params;
};
#define VGF_IOCTL(nr, T)	DRM_IOWR(DRM_COMMAND_BASE + (nr), T)
#define VGF_MAP			VGF_IOCTL(0x01, struct vgf_map)
#define VGF_EXECBUFFER		VGF_IOCTL(0x02, struct vgf_execbuffer)
#define VGF_GETPARAM		VGF_IOCTL(0x03, struct vgf_getparam)
#define VGF_RESOURCE_CREATE	VGF_IOCTL(0x04, struct vgf_resource_create)
#define VGF_FROM_HOST		VGF_IOCTL(0x06, struct vgf_transfer)
#define VGF_TO_HOST		VGF_IOCTL(0x07, struct vgf_transfer)
#define VGF_WAIT		VGF_IOCTL(0x08, struct vgf_wait)
#define VGF_CONTEXT_INIT	VGF_IOCTL(0x0b, struct vgf_context_init)
#define VGF_PARAM_3D_FEATURES	1
#define VGF_PARAM_CONTEXT_INIT	6
#define VGF_CTX_CAPSET_ID	1
#define VGF_CTX_NUM_RINGS	2
#define VGF_EXEC_FENCE_FD_OUT	0x02
#define VGF_EXEC_RING_IDX	0x04

/* The virgl protocol pieces used (virglrenderer's virgl_protocol.h). */
#define VHDR(op, obj, len)	((uint32_t)(op) | (uint32_t)(obj) << 8 | \
				 (uint32_t)(len) << 16)
enum {
	V_CREATE_OBJECT = 1, V_SET_FRAMEBUFFER = 5, V_SET_VERTEX_BUFFERS = 6,
	V_CLEAR = 7, V_DRAW_VBO = 8, V_INLINE_WRITE = 9,
	V_SET_SAMPLER_VIEWS = 10, V_BLIT = 16, V_COPY_REGION = 17,
	V_BEGIN_QUERY = 19, V_END_QUERY = 20, V_GET_QUERY_RESULT = 21,
	V_SET_SUB_CTX = 28, V_CREATE_SUB_CTX = 29, V_DESTROY_SUB_CTX = 30,
	V_SET_SHADER_IMAGES = 35, V_LAUNCH_GRID = 37, V_TRANSFER3D = 43,
	V_CLEAR_TEXTURE = 47,
};
enum { VO_SAMPLER_VIEW = 6, VO_SURFACE = 8, VO_QUERY = 9 };
#define V_FMT_BGRA	1		/* VIRGL_FORMAT_B8G8R8A8_UNORM */
#define V_FMT_R8	64
#define V_TARGET_BUFFER	0
#define V_TARGET_2D	2
#define V_BIND_RT	(1u << 1)
#define V_BIND_SAMPLER	(1u << 3)
#define V_BIND_VERTEX	(1u << 4)

#define FZ_DW		1024		/* stream dwords at most */
#define FZ_BOS		8		/* fuzz context's resources */
#define FZ_TEX		64		/* the textures' side */

struct fz_bo {
	uint32_t handle, res, w, h, size;
};

struct fz {
	uint64_t rng;
	int fd, rings, ctx_init;
	struct fz_bo bo[FZ_BOS];
	int nbo;
	/* A second context, kept through the run, that must keep
	 * rendering: its texture is cleared and read back now and then. */
	int keep_fd;
	struct fz_bo keep;
	volatile uint32_t *keep_px;
	uint32_t s[FZ_DW];
	uint32_t hdr[FZ_DW];		/* where the stream's headers are */
	uint32_t nhdr;
	int verbose;
	long submits, transfers, contexts, odd, checks;
};

static uint32_t rnd(struct fz *f)
{
	/* xorshift64*: the same seed, the same run. */
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return (uint32_t)((f->rng * 0x2545f4914f6cdd1dull) >> 32);
}

static uint32_t below(struct fz *f, uint32_t n)
{
	return n ? rnd(f) % n : 0;
}

static int chance(struct fz *f, uint32_t pct)
{
	return below(f, 100) < pct;
}

/* A value a field could hold: mostly small or meaningful ones. */
static uint32_t fz_value(struct fz *f)
{
	static const uint32_t edge[] = { 0, 1, 2, 0x7fffffff, 0x80000000,
					 0xffffffff, 0xffff, 0x10000, 16384,
					 16385, 4096, 65, 63, 322 };

	switch (below(f, 10)) {
	case 0: case 1: case 2:
		return below(f, 8);
	case 3:
		return f->nbo ? f->bo[below(f, f->nbo)].res : 0;
	case 4:		/* another context's resource */
		return chance(f, 50) ? f->keep.res : f->keep.res + below(f, 8);
	case 5:
		return below(f, 64);
	case 6:
		return below(f, 400);
	case 7:
		return edge[below(f, sizeof(edge) / sizeof(edge[0]))];
	default:
		return rnd(f);
	}
}

static uint32_t fz_res(struct fz *f)
{
	return chance(f, 85) && f->nbo ? f->bo[below(f, f->nbo)].res :
					 fz_value(f);
}

static uint32_t f2u(float x)
{
	uint32_t u;

	memcpy(&u, &x, 4);
	return u;
}

/* Appends a command: header, then len payload dwords from p. */
static uint32_t put(struct fz *f, uint32_t n, uint32_t op, uint32_t obj,
		    const uint32_t *p, uint32_t len)
{
	if (n + 1 + len > FZ_DW)
		return n;
	f->hdr[f->nhdr++] = n;
	f->s[n++] = VHDR(op, obj, len);
	memcpy(f->s + n, p, len * 4);
	return n + len;
}

/* A surface on res as the only colour buffer, cleared to (r, g, b). */
static uint32_t b_clear(struct fz *f, uint32_t n, uint32_t res, float r,
			float g, float b)
{
	uint32_t h = 1 + below(f, 8);
	uint32_t surf[5] = { h, res, V_FMT_BGRA, 0, 0 };
	uint32_t fb[3] = { 1, 0, h };
	uint32_t clr[8] = { 1u << 2, f2u(r), f2u(g), f2u(b), f2u(1.0f), 0, 0, 0 };

	n = put(f, n, V_CREATE_OBJECT, VO_SURFACE, surf, 5);
	n = put(f, n, V_SET_FRAMEBUFFER, 0, fb, 3);
	return put(f, n, V_CLEAR, 0, clr, 8);
}

/* One plausible command (or a few), resource handles from the pool. */
static uint32_t b_valid(struct fz *f, uint32_t n)
{
	uint32_t p[32], w = 1 + below(f, FZ_TEX), h = 1 + below(f, FZ_TEX);

	switch (below(f, 13)) {
	case 0:
		return b_clear(f, n, fz_res(f), 0.25f, 0.5f, 1.0f);
	case 1:		/* sub-contexts */
		p[0] = 1 + below(f, 4);
		n = put(f, n, V_CREATE_SUB_CTX, 0, p, 1);
		n = put(f, n, V_SET_SUB_CTX, 0, p, 1);
		if (chance(f, 30))
			n = put(f, n, V_DESTROY_SUB_CTX, 0, p, 1);
		return n;
	case 2: {	/* inline write: a box of a buffer or texture */
		uint32_t k = 1 + below(f, 16);

		p[0] = fz_res(f);
		p[1] = 0; p[2] = 0; p[3] = 0; p[4] = 0;
		p[5] = below(f, 64); p[6] = 0; p[7] = 0;
		p[8] = k * 4; p[9] = 1; p[10] = 1;
		if (chance(f, 50)) {	/* a texture's 2 x 2 */
			p[8] = 2; p[9] = 2; p[6] = below(f, FZ_TEX);
			k = 4;
		}
		for (uint32_t i = 0; i < k; i++)
			p[11 + i] = rnd(f);
		return put(f, n, V_INLINE_WRITE, 0, p, 11 + k);
	}
	case 3:		/* blit texture to texture */
		p[0] = 0xf; p[1] = 0; p[2] = w | h << 16;
		p[3] = fz_res(f); p[4] = 0; p[5] = V_FMT_BGRA;
		p[6] = below(f, 8); p[7] = below(f, 8); p[8] = 0;
		p[9] = w; p[10] = h; p[11] = 1;
		p[12] = fz_res(f); p[13] = 0; p[14] = V_FMT_BGRA;
		p[15] = 0; p[16] = 0; p[17] = 0;
		p[18] = w; p[19] = h; p[20] = 1;
		return put(f, n, V_BLIT, 0, p, 21);
	case 4:		/* copy region */
		p[0] = fz_res(f); p[1] = 0; p[2] = below(f, 8); p[3] = below(f, 8);
		p[4] = 0; p[5] = fz_res(f); p[6] = 0; p[7] = 0; p[8] = 0;
		p[9] = 0; p[10] = w; p[11] = h; p[12] = 1;
		return put(f, n, V_COPY_REGION, 0, p, 13);
	case 5:		/* clear a box of a texture */
		p[0] = fz_res(f); p[1] = 0; p[2] = 0; p[3] = 0; p[4] = 0;
		p[5] = w; p[6] = h; p[7] = 1;
		for (int i = 8; i < 12; i++)
			p[i] = rnd(f);
		return put(f, n, V_CLEAR_TEXTURE, 0, p, 12);
	case 6:		/* a sampler view, bound */
		p[0] = 1 + below(f, 8); p[1] = fz_res(f); p[2] = V_FMT_BGRA;
		p[3] = 0; p[4] = 0; p[5] = 0x688;	/* RGBA swizzle */
		n = put(f, n, V_CREATE_OBJECT, VO_SAMPLER_VIEW, p, 6);
		p[1] = p[0];
		p[0] = 1;	/* fragment shader */
		p[2] = p[1];
		p[1] = 0;
		return put(f, n, V_SET_SAMPLER_VIEWS, 0, p, 3);
	case 7: {	/* a query written into a buffer */
		uint32_t q = 1 + below(f, 8);

		p[0] = q; p[1] = below(f, 10); p[2] = below(f, 8) * 4;
		p[3] = fz_res(f);
		n = put(f, n, V_CREATE_OBJECT, VO_QUERY, p, 4);
		n = put(f, n, V_BEGIN_QUERY, 0, &q, 1);
		n = put(f, n, V_END_QUERY, 0, &q, 1);
		p[0] = q; p[1] = 0;
		return put(f, n, V_GET_QUERY_RESULT, 0, p, 2);
	}
	case 8:		/* a transfer inside the stream */
		p[0] = fz_res(f); p[1] = 0; p[2] = 0; p[3] = 0; p[4] = 0;
		p[5] = 0; p[6] = 0; p[7] = 0; p[8] = w; p[9] = h; p[10] = 1;
		p[11] = 0; p[12] = 1 + below(f, 2);	/* to / from host */
		return put(f, n, V_TRANSFER3D, 0, p, 13);
	case 9:		/* vertex buffers, then a draw without shaders */
		p[0] = 16; p[1] = 0; p[2] = fz_res(f);
		n = put(f, n, V_SET_VERTEX_BUFFERS, 0, p, 3);
		memset(p, 0, 12 * 4);
		p[1] = below(f, 100); p[2] = below(f, 10); p[4] = 1;
		return put(f, n, V_DRAW_VBO, 0, p, 12);
	case 10:	/* shader images, formats in range */
		p[0] = below(f, 6); p[1] = 0; p[2] = below(f, 322);
		p[3] = 1 + below(f, 3); p[4] = 0; p[5] = 64; p[6] = fz_res(f);
		return put(f, n, V_SET_SHADER_IMAGES, 0, p, 7);
	case 11:	/* compute without a program */
		for (int i = 0; i < 6; i++)
			p[i] = 1 + below(f, 4);
		p[6] = 0; p[7] = 0;
		return put(f, n, V_LAUNCH_GRID, 0, p, 8);
	default:	/* any opcode, object and length */
		for (uint32_t i = 0, k = below(f, 16); i < k; i++)
			p[i] = fz_value(f);
		return put(f, n, below(f, 64), below(f, 16), p, below(f, 16));
	}
}

/* ---- the device ---- */

static int fz_open(void)
{
	int fd = open("/dev/dri/renderD128", O_RDWR | O_CLOEXEC);

	return fd >= 0 ? fd : open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
}

static int fz_param(int fd, uint64_t param)
{
	int v = 0;
	struct vgf_getparam g = { param, (uintptr_t)&v };

	return ioctl(fd, VGF_GETPARAM, &g) < 0 ? -1 : v;
}

static int fz_create(int fd, struct fz_bo *b, uint32_t target,
		     uint32_t format, uint32_t bind, uint32_t w, uint32_t h,
		     uint32_t size)
{
	struct vgf_resource_create c = {
		.target = target, .format = format, .bind = bind, .width = w,
		.height = h, .depth = 1, .array_size = 1, .size = size };

	if (ioctl(fd, VGF_RESOURCE_CREATE, &c) < 0)
		return -1;
	*b = (struct fz_bo){ c.bo_handle, c.res_handle, w, h, size };
	return 0;
}

/* Waits until bo is idle: 0, or -1 when the host held it 60 s. */
static int fz_wait(int fd, uint32_t handle)
{
	struct vgf_wait w = { handle, 0 };

	/* Each wait gives up after 15 s (-EBUSY). */
	for (int i = 0; i < 4; i++) {
		if (ioctl(fd, VGF_WAIT, &w) == 0)
			return 0;
		if (errno != EBUSY && errno != EINTR)
			return 0;	/* a handle the host refused: idle */
	}
	return -1;
}

static int fz_submit(struct fz *f, int fd, uint32_t bytes, uint32_t *bos,
		     uint32_t nbos, int fence_out)
{
	struct vgf_execbuffer e = {
		.size = bytes, .command = (uintptr_t)f->s,
		.bo_handles = (uintptr_t)bos, .num_bo_handles = nbos,
		.fence_fd = -1 };

	if (fence_out)
		e.flags |= VGF_EXEC_FENCE_FD_OUT;
	if (fd == f->fd && f->rings && chance(f, 50)) {
		e.flags |= VGF_EXEC_RING_IDX;
		e.ring_idx = below(f, f->rings);
	}
	if (f->verbose) {
		printf("gpufuzz: submit %u bytes:", bytes);
		for (uint32_t i = 0; i < bytes / 4; i++)
			printf(" %08x", f->s[i]);
		printf("\n");
		fflush(stdout);
	}
	f->submits++;
	if (ioctl(fd, VGF_EXECBUFFER, &e) < 0)
		return -1;
	return fence_out ? e.fence_fd : 0;
}

/* A context for fuzzing: CONTEXT_INIT or not, four resources - two
 * textures, a buffer, and a texture with less backing than it needs. */
static int fz_context(struct fz *f)
{
	int fd = fz_open();

	if (fd < 0)
		return -1;
	f->rings = 0;
	f->ctx_init = 0;
	if (fz_param(fd, VGF_PARAM_CONTEXT_INIT) == 1 && chance(f, 60)) {
		struct vgf_ctx_param p[2] = {
			{ VGF_CTX_CAPSET_ID, chance(f, 80) ? 2 : 1 },
			{ VGF_CTX_NUM_RINGS, below(f, 3) } };
		struct vgf_context_init c = { 2, 0, (uintptr_t)p };

		if (ioctl(fd, VGF_CONTEXT_INIT, &c) == 0) {
			f->ctx_init = 1;
			f->rings = (int)p[1].value;
		}
	}
	f->nbo = 0;
	if (fz_create(fd, &f->bo[0], V_TARGET_2D, V_FMT_BGRA,
		      V_BIND_RT | V_BIND_SAMPLER, FZ_TEX, FZ_TEX,
		      FZ_TEX * FZ_TEX * 4) ||
	    fz_create(fd, &f->bo[1], V_TARGET_2D, V_FMT_BGRA,
		      V_BIND_RT | V_BIND_SAMPLER, FZ_TEX, FZ_TEX,
		      FZ_TEX * FZ_TEX * 4) ||
	    fz_create(fd, &f->bo[2], V_TARGET_BUFFER, V_FMT_R8, V_BIND_VERTEX,
		      4096, 1, 4096) ||
	    fz_create(fd, &f->bo[3], V_TARGET_2D, V_FMT_BGRA,
		      V_BIND_RT | V_BIND_SAMPLER, FZ_TEX, FZ_TEX, 4096)) {
		close(fd);
		return -1;
	}
	f->nbo = 4;
	f->fd = fd;
	f->contexts++;
	return 0;
}

/* A resource of any shape the kernel passes on. */
static void fz_odd_resource(struct fz *f)
{
	struct vgf_resource_create c = {
		.target = below(f, 12),
		.format = chance(f, 50) ? V_FMT_BGRA : fz_value(f),
		.bind = chance(f, 50) ? V_BIND_RT | V_BIND_SAMPLER : rnd(f),
		.width = chance(f, 70) ? 1 + below(f, 128) : fz_value(f),
		.height = chance(f, 70) ? 1 + below(f, 128) : fz_value(f),
		.depth = chance(f, 80) ? 1 : fz_value(f),
		.array_size = chance(f, 80) ? 1 : fz_value(f),
		.last_level = chance(f, 80) ? 0 : below(f, 20),
		.nr_samples = chance(f, 80) ? 0 : below(f, 33),
		.flags = chance(f, 80) ? 0 : rnd(f),
		.size = 4096 * (1 + below(f, 16)) };

	f->odd++;
	if (ioctl(f->fd, VGF_RESOURCE_CREATE, &c) < 0)
		return;
	if (f->nbo < FZ_BOS)
		f->bo[f->nbo++] = (struct fz_bo){ c.bo_handle, c.res_handle,
						  c.width, c.height, c.size };
	else {
		struct drm_gem_close g = { .handle = c.bo_handle };

		ioctl(f->fd, DRM_IOCTL_GEM_CLOSE, &g);
	}
}

/* A transfer, inside or (mostly) outside its resource or backing. */
static void fz_transfer(struct fz *f)
{
	struct fz_bo *b = &f->bo[below(f, f->nbo)];
	struct vgf_transfer t = { .bo_handle = b->handle, .h = 1, .d = 1 };
	uint32_t w = b->w ? b->w : 1, h = b->h ? b->h : 1;

	switch (below(f, 5)) {
	case 0:		/* inside */
		t.x = below(f, w);
		t.w = 1 + below(f, w - t.x);
		t.y = below(f, h);
		t.h = 1 + below(f, h - t.y);
		break;
	case 1:		/* a little past the edge */
		t.x = below(f, w);
		t.w = w - t.x + 1 + below(f, 4);
		t.h = h;
		break;
	case 2:		/* far bigger than the resource */
		t.w = w * (2 + below(f, 100));
		t.h = h * (2 + below(f, 100));
		break;
	case 3:		/* sums that wrap */
		t.x = 0xffffffffu - below(f, 4);
		t.w = 1 + below(f, 8);
		t.y = chance(f, 50) ? 0 : 0xfffffff0u;
		t.h = 32;
		break;
	default:
		t.x = fz_value(f); t.y = fz_value(f);
		t.w = fz_value(f); t.h = fz_value(f);
		t.z = fz_value(f); t.d = fz_value(f);
		break;
	}
	if (chance(f, 20))
		t.level = fz_value(f);
	if (chance(f, 40))
		t.offset = chance(f, 50) ? b->size - 4 * below(f, 4) : fz_value(f);
	f->transfers++;
	if (f->verbose) {
		printf("gpufuzz: transfer res %u box %u,%u,%u %ux%ux%u level %u "
		       "offset %u\n", b->res, t.x, t.y, t.z, t.w, t.h, t.d,
		       t.level, t.offset);
		fflush(stdout);
	}
	ioctl(f->fd, chance(f, 60) ? VGF_TO_HOST : VGF_FROM_HOST, &t);
}

/* The kept context clears its texture to a new colour and reads it
 * back: 0 when every pixel has it. */
static int fz_keep_check(struct fz *f, const char *when)
{
	static const float col[][3] = { { 1, 0, 1 }, { 0, 1, 0 }, { 0, 0, 1 },
					{ 1, 1, 0 } };
	const float *c = col[f->checks % 4];
	uint32_t want = 0xff000000u | (uint32_t)(c[0] * 255) << 16 |
			(uint32_t)(c[1] * 255) << 8 | (uint32_t)(c[2] * 255);
	struct vgf_transfer t = { .bo_handle = f->keep.handle, .w = FZ_TEX,
				  .h = FZ_TEX, .d = 1 };
	uint32_t n, bad = 0;
	int fence;
	struct pollfd pfd;

	f->nhdr = 0;
	n = b_clear(f, 0, f->keep.res, c[0], c[1], c[2]);
	fence = fz_submit(f, f->keep_fd, n * 4, &f->keep.handle, 1, 1);
	if (fence < 0) {
		printf("gpufuzz: FAIL %s: the kept context cannot submit: %s\n",
		       when, strerror(errno));
		return -1;
	}
	/* Fences signal when the host has run the command. */
	pfd = (struct pollfd){ .fd = fence, .events = POLLIN };
	if (poll(&pfd, 1, 60000) != 1) {
		printf("gpufuzz: FAIL %s: a fence did not signal in 60 s\n",
		       when);
		close(fence);
		return -1;
	}
	close(fence);
	if (ioctl(f->keep_fd, VGF_FROM_HOST, &t) < 0 ||
	    fz_wait(f->keep_fd, f->keep.handle)) {
		printf("gpufuzz: FAIL %s: read-back of the kept texture: %s\n",
		       when, strerror(errno));
		return -1;
	}
	for (uint32_t i = 0; i < FZ_TEX * FZ_TEX; i++)
		bad += f->keep_px[i] != want;
	f->checks++;
	if (bad) {
		printf("gpufuzz: FAIL %s: the kept context's clear to %08x left "
		       "%u of %u pixels wrong (first %08x)\n", when, want, bad,
		       FZ_TEX * FZ_TEX, f->keep_px[0]);
		return -1;
	}
	return 0;
}

static int fz_keep_open(struct fz *f)
{
	struct vgf_map m = { 0 };
	void *p;

	f->keep_fd = fz_open();
	if (f->keep_fd < 0)
		return -1;
	if (fz_create(f->keep_fd, &f->keep, V_TARGET_2D, V_FMT_BGRA,
		      V_BIND_RT | V_BIND_SAMPLER, FZ_TEX, FZ_TEX,
		      FZ_TEX * FZ_TEX * 4))
		return -1;
	m.handle = f->keep.handle;
	if (ioctl(f->keep_fd, VGF_MAP, &m) < 0)
		return -1;
	p = mmap(NULL, FZ_TEX * FZ_TEX * 4, PROT_READ | PROT_WRITE,
		 MAP_SHARED, f->keep_fd, (off_t)m.offset);
	if (p == MAP_FAILED)
		return -1;
	f->keep_px = p;
	return 0;
}

/* One fuzzing operation in the current context. */
static void fz_op(struct fz *f)
{
	uint32_t r = below(f, 100), n = 0, bytes, bos[4], nbos = 0;
	int fence;

	f->nhdr = 0;
	if (r < 15) {
		fz_transfer(f);
		return;
	}
	if (r < 20) {
		fz_odd_resource(f);
		return;
	}
	if (r < 30) {		/* random bytes, any length */
		bytes = 4 * below(f, 256);
		for (uint32_t i = 0; i < bytes / 4; i++)
			f->s[i] = rnd(f);
		if (chance(f, 10))
			bytes += 1 + below(f, 3);
	} else {		/* commands, some mutated */
		uint32_t k = 1 + below(f, 6), m;

		for (uint32_t i = 0; i < k; i++)
			n = b_valid(f, n);
		m = r < 55 ? 0 : 1 + below(f, 4);
		while (m-- && n) {
			uint32_t at = below(f, n);

			switch (below(f, 4)) {
			case 0:
				f->s[at] ^= 1u << below(f, 32);
				break;
			case 1:
				if (f->nhdr) {	/* a header's length */
					at = f->hdr[below(f, f->nhdr)];
					f->s[at] = (f->s[at] & 0xffff) |
						   fz_value(f) << 16;
				}
				break;
			case 2:
				n = at + 1;	/* cut short */
				break;
			default:
				f->s[at] = fz_value(f);
				break;
			}
		}
		bytes = n * 4;
	}
	/* The buffer objects the command uses: any of the context's, or
	 * (rarely) a handle it does not have, which the kernel refuses. */
	for (uint32_t i = below(f, 4); i > 0; i--)
		bos[nbos++] = chance(f, 95) ? f->bo[below(f, f->nbo)].handle :
					      fz_value(f);
	fence = fz_submit(f, f->fd, bytes, bos, nbos, chance(f, 20));
	if (fence > 0)
		close(fence);
}

static int gpufuzz(uint32_t seed, long nops, int verbose)
{
	struct fz *f = calloc(1, sizeof(*f));
	long life = 0;
	int ret = 0;

	if (!f)
		return 1;
	f->rng = 0x9e3779b97f4a7c15ull ^ ((uint64_t)seed << 1 | 1);
	f->verbose = verbose;
	f->fd = -1;
	if ((f->keep_fd = fz_open()) < 0)
		return die("no virtio-gpu DRM device");
	if (fz_param(f->keep_fd, VGF_PARAM_3D_FEATURES) != 1) {
		fprintf(stderr, "mvtool: gpufuzz: the device has no 3D (virgl)\n");
		return 1;
	}
	close(f->keep_fd);
	if (fz_keep_open(f))
		return die("gpufuzz: the kept context's texture");
	printf("gpufuzz: seed %u, %ld operations\n", seed, nops);
	fflush(stdout);
	if (fz_keep_check(f, "before fuzzing"))
		return 1;
	for (long i = 0; i < nops; i++) {
		if (life <= 0) {
			if (f->fd >= 0)
				close(f->fd);	/* the context and its resources */
			f->fd = -1;
			if (fz_context(f))
				return die("gpufuzz: a new context");
			life = 6 + below(f, 25);
		}
		if (verbose) {
			printf("gpufuzz: op %ld (context %ld)\n", i, f->contexts);
			fflush(stdout);
		}
		fz_op(f);
		life--;
		if ((i + 1) % 50 == 0 || i + 1 == nops) {
			char when[64];

			snprintf(when, sizeof(when), "after %ld operations", i + 1);
			if (fz_keep_check(f, when)) {
				ret = 1;
				break;
			}
			printf("gpufuzz: %ld operations: %ld submits, %ld "
			       "transfers, %ld contexts, %ld odd resources; the "
			       "kept context renders\n", i + 1, f->submits,
			       f->transfers, f->contexts, f->odd);
			fflush(stdout);
		}
	}
	if (f->fd >= 0)
		close(f->fd);
	close(f->keep_fd);
	/* A context opened after all that renders too. */
	if (!ret && (fz_keep_open(f) || fz_keep_check(f, "a fresh context"))) {
		printf("gpufuzz: FAIL a fresh context does not render\n");
		ret = 1;
	}
	if (!ret)
		printf("gpufuzz: done: a fresh context renders\n");
	fflush(stdout);
	return ret;
}

/* Prints capset ID (its version 0..N, as the kernel has it) as hex
 * dwords, 8 a line: what the host's virglrenderer can do, as the
 * guest's Mesa sees it. */
struct vgf_get_caps {
	uint32_t cap_set_id, cap_set_ver;
	uint64_t addr;
	uint32_t size, pad;
};
#define VGF_GET_CAPS		VGF_IOCTL(0x09, struct vgf_get_caps)

static int caps(uint32_t id, uint32_t ver)
{
	static uint32_t buf[1024];
	struct vgf_get_caps c = { id, ver, (uintptr_t)buf, sizeof(buf), 0 };
	int fd = fz_open();
	uint32_t n, hash = 2166136261u;

	if (fd < 0)
		return die("no virtio-gpu DRM device");
	if (ioctl(fd, VGF_GET_CAPS, &c) < 0)
		return die("GET_CAPS");
	/* The kernel copies at most the capset's size and does not say
	 * it: trailing zeros are left out. */
	for (n = sizeof(buf) / 4; n && !buf[n - 1]; n--)
		;
	for (uint32_t i = 0; i < n * 4; i++)
		hash = (hash ^ ((uint8_t *)buf)[i]) * 16777619u;
	printf("caps %u v%u: %u dwords, fnv1a %08x\n", id, ver, n, hash);
	for (uint32_t i = 0; i < n; i++)
		printf("%s%08x%s", i % 8 ? " " : "caps: ", buf[i],
		       i % 8 == 7 || i == n - 1 ? "\n" : "");
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "pattern"))
		return pattern(argc > 2 ? atoi(argv[2]) : 3600);
	if (argc >= 3 && !strcmp(argv[1], "keys"))
		return keys(atoi(argv[2]), argc > 3 ? argv[3] : "keyboard");
	if (argc >= 2 && !strcmp(argv[1], "caps"))
		return caps(argc > 2 ? (uint32_t)atoi(argv[2]) : 2,
			    argc > 3 ? (uint32_t)atoi(argv[3]) : 2);
	if (argc >= 4 && !strcmp(argv[1], "gpufuzz"))
		return gpufuzz((uint32_t)strtoul(argv[2], NULL, 0),
			       strtol(argv[3], NULL, 0),
			       argc > 4 && !strcmp(argv[4], "-v"));
	fprintf(stderr, "usage: mvtool pattern [SECONDS] | keys N [NAME] | "
		"gpufuzz SEED N [-v] | caps [ID [VERSION]]\n");
	return 2;
}
