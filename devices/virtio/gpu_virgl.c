/* virtio-gpu virgl back end: start-up, the hooks the 2D core calls
 * (kick, reset, destroy) and virglrenderer's callbacks.  The GPU thread
 * itself is in gpu_virgl_thread.c.
 *
 * Built only when pkg-config's virglrenderer flags are in use (its
 * include directory makes <virglrenderer.h> visible); otherwise
 * virtio_gpu_enable_virgl() says so and fails. */
#include "gpu_virgl_priv.h"

#include <stdio.h>

#if __has_include(<virglrenderer.h>)

#define VIRGL_RENDERER_UNSTABLE_APIS	/* per-context fences */
#include <virglrenderer.h>
#include <EGL/egl.h>
#include <EGL/eglext.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* virglrenderer is one per process: so are we. */
static int in_use;
static int (*thread_hook)(void *opaque, char *err, size_t errlen);
static void *thread_hook_opaque;

/* ---- virglrenderer's log ---------------------------------------------
 * Its messages are mostly about what a guest's command stream did wrong
 * (rule 8: logged, rate-limited).  During start-up they are kept
 * instead, so a failure can say why in one line. */

#define LOG_LIMIT 8

static int log_capture;			/* GPU thread, during init */
static char log_last[128];
static unsigned log_count;

static void vg_log(const char *fmt, va_list ap)
{
	char line[256];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (!n)
		return;
	if (log_capture) {
		snprintf(log_last, sizeof(log_last), "%s", line);
		return;
	}
	n = __atomic_fetch_add(&log_count, 1, __ATOMIC_RELAXED);
	if (n < LOG_LIMIT)
		fprintf(stderr, "minivmm: virglrenderer: %s\n", line);
	else if (n == LOG_LIMIT)
		fprintf(stderr, "minivmm: virglrenderer: further messages "
			"not shown\n");
}

void vg_warn_once(struct virgl_gpu *v, unsigned bit, const char *what)
{
	if (v->warned & bit)
		return;
	v->warned |= bit;
	fprintf(stderr, "minivmm: virtio-gpu: %s\n", what);
}

/* ---- callbacks (GPU thread, from inside virgl_renderer_poll) --------- */

static void cb_write_fence(void *cookie, uint32_t fence)
{
	vg_fence_retired(cookie, 0, 0, 0, fence);
}

static void cb_write_context_fence(void *cookie, uint32_t ctx_id,
				   uint32_t ring_idx, uint64_t fence)
{
	vg_fence_retired(cookie, 1, ctx_id, ring_idx, (uint32_t)fence);
}

static struct virgl_renderer_callbacks callbacks = {
	.version = 4,
	.write_fence = cb_write_fence,
	.write_context_fence = cb_write_context_fence,
};

#define EGL_FAIL "virglrenderer could not initialise EGL: "

/* virglrenderer 0.10 crashes when EGL has no display to give, and says
 * nothing when it fails otherwise: ask EGL first.  0, or -1 and why. */
static int egl_preflight(char *err, size_t errlen)
{
	EGLDisplay dpy = eglGetPlatformDisplay(EGL_PLATFORM_SURFACELESS_MESA,
					       EGL_DEFAULT_DISPLAY, NULL);
	EGLint major, minor;

	if (dpy == EGL_NO_DISPLAY) {
		snprintf(err, errlen, EGL_FAIL "no surfaceless EGL display "
			 "(EGL error 0x%x; is Mesa's libEGL installed?)",
			 (unsigned)eglGetError());
		return -1;
	}
	if (!eglInitialize(dpy, &major, &minor)) {
		snprintf(err, errlen, EGL_FAIL "eglInitialize failed (EGL error "
			 "0x%x; no usable GL driver?)", (unsigned)eglGetError());
		return -1;
	}
	/* Left up: virglrenderer takes this very display over (EGL has one
	 * per platform) and terminates it in virgl_renderer_cleanup. */
	return 0;
}

int vg_renderer_init(struct virgl_gpu *v, char *err, size_t errlen)
{
	static const uint32_t ids[VG_NR_CAPSETS] = {
		VIRTIO_GPU_CAPSET_VIRGL, VIRTIO_GPU_CAPSET_VIRGL2 };
	/* Thread sync: virglrenderer waits for GL fences on a thread of its
	 * own and wakes us through an fd, so nobody polls. */
	int flags = VIRGL_RENDERER_USE_EGL | VIRGL_RENDERER_USE_SURFACELESS |
		    VIRGL_RENDERER_THREAD_SYNC;

	if (egl_preflight(err, errlen))
		return -1;
	log_capture = 1;
	log_last[0] = '\0';
	virgl_set_debug_callback(vg_log);
	if (virgl_renderer_init(v, flags, &callbacks)) {
		snprintf(err, errlen, EGL_FAIL "EGL works, but virglrenderer "
			 "found no usable OpenGL context%s%s",
			 log_last[0] ? ": " : "", log_last);
		log_capture = 0;
		return -1;
	}
	v->fence_fd = virgl_renderer_get_poll_fd();
	for (int i = 0; i < VG_NR_CAPSETS; i++)
		virgl_renderer_get_cap_set(ids[i], &v->capset_ver[i],
					   &v->capset_size[i]);
	log_capture = 0;	/* what it said starting up was not news */
	/* The guest gets each capset whole in one response. */
	for (int i = 0; i < VG_NR_CAPSETS; i++)
		if (v->capset_size[i] > VIRTIO_GPU_RESP_MAX -
					sizeof(struct virtio_gpu_ctrl_hdr))
			v->capset_size[i] = 0;
	if (!v->capset_size[0]) {
		snprintf(err, errlen, "virglrenderer offers no virgl capset");
		virgl_renderer_cleanup(v);
		return -1;
	}
	return 0;
}

void vg_fill_caps(uint32_t id, uint32_t version, void *dst)
{
	/* virglrenderer reports its GLSL level here, every time. */
	log_capture = 1;
	virgl_renderer_fill_caps(id, version, dst);
	log_capture = 0;
}

void vg_renderer_fini(struct virgl_gpu *v)
{
	virgl_renderer_cleanup(v);
}

/* ---- the hooks the 2D core calls ------------------------------------- */

static void wake(struct virgl_gpu *v)
{
	uint64_t one = 1;

	/* Fails only when the counter is saturated: awake anyway. */
	if (write(v->kick_fd, &one, sizeof(one)) < 0) {
	}
}

/* Event thread, device lock held: hand the kick on, nothing more. */
static void vg_queue_notify(void *ctx, unsigned q)
{
	struct virgl_gpu *v = ctx;

	if (q > VIRTIO_GPU_CURSORQ)
		return;
	__atomic_or_fetch(&v->kicks, 1u << q, __ATOMIC_RELEASE);
	wake(v);
}

/* vCPU thread, device lock held: the GPU thread drops everything before
 * it pops anything new (it compares epochs under the same lock). */
static void vg_reset(void *ctx)
{
	struct virgl_gpu *v = ctx;

	v->epoch++;
	__atomic_or_fetch(&v->kicks, 3u, __ATOMIC_RELEASE);
	wake(v);
}

static void vg_free(struct virgl_gpu *v)
{
	if (v->epfd >= 0)
		close(v->epfd);
	if (v->kick_fd >= 0)
		close(v->kick_fd);
	pthread_mutex_destroy(&v->init_lock);
	pthread_cond_destroy(&v->init_cond);
	free(v->submit_buf);
	free(v);
	__atomic_store_n(&in_use, 0, __ATOMIC_RELEASE);
}

static void vg_destroy(void *ctx)
{
	struct virgl_gpu *v = ctx;

	__atomic_store_n(&v->stop, 1, __ATOMIC_RELEASE);
	wake(v);
	pthread_join(v->thread, NULL);
	vg_free(v);
}

static struct virtio_gpu_3d_ops virgl_ops = {
	.features = 1ULL << VIRTIO_GPU_F_VIRGL |
		    1ULL << VIRTIO_GPU_F_CONTEXT_INIT,
	.reset = vg_reset,
	.queue_notify = vg_queue_notify,
	.destroy = vg_destroy,
};

int virtio_gpu_enable_virgl(struct virtio_gpu *g, char *err, size_t errlen)
{
	struct virgl_gpu *v;
	sigset_t all, old;
	int e;

	if (__atomic_exchange_n(&in_use, 1, __ATOMIC_ACQ_REL)) {
		snprintf(err, errlen, "virglrenderer is already in use by "
			 "another virtio-gpu");
		return -1;
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		__atomic_store_n(&in_use, 0, __ATOMIC_RELEASE);
		snprintf(err, errlen, "virtio-gpu: out of memory");
		return -1;
	}
	v->g = g;
	v->d = virtio_gpu_dev(g);
	v->fence_fd = -1;
	v->pending_tail = &v->pending;
	v->next_seq = 1;		/* 0 looks like "no fence" */
	pthread_mutex_init(&v->init_lock, NULL);
	pthread_cond_init(&v->init_cond, NULL);
	v->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	v->epfd = epoll_create1(EPOLL_CLOEXEC);
	v->submit_buf = malloc(VIRTIO_GPU_VIRGL_MAX_SUBMIT);
	if (v->kick_fd < 0 || v->epfd < 0 || !v->submit_buf) {
		snprintf(err, errlen, "virtio-gpu: %s", strerror(errno));
		vg_free(v);
		return -1;
	}
	/* Signals are for the vCPU and event threads, not this one. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&v->thread, NULL, vg_thread_main, v);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e) {
		snprintf(err, errlen, "virtio-gpu: cannot start the GPU thread: "
			 "%s", strerror(e));
		vg_free(v);
		return -1;
	}
	pthread_mutex_lock(&v->init_lock);
	while (!v->init_state)
		pthread_cond_wait(&v->init_cond, &v->init_lock);
	pthread_mutex_unlock(&v->init_lock);
	if (v->init_state < 0) {
		pthread_join(v->thread, NULL);
		snprintf(err, errlen, "%s", v->init_err);
		vg_free(v);
		return -1;
	}
	virgl_ops.num_capsets = v->capset_size[1] ? 2 : 1;
	virtio_gpu_set_3d(g, &virgl_ops, v);
	return 0;
}

void virtio_gpu_virgl_thread_hook(int (*fn)(void *opaque, char *err,
					    size_t errlen), void *opaque)
{
	thread_hook = fn;
	thread_hook_opaque = opaque;
}

int vg_run_thread_hook(char *err, size_t errlen)
{
	err[0] = '\0';
	return thread_hook && thread_hook(thread_hook_opaque, err, errlen) ?
	       -1 : 0;
}

void virtio_gpu_virgl_hold_fences(struct virtio_gpu *g, int hold)
{
	struct virgl_gpu *v = g->ctx3d;

	if (!v || g->ops3d != &virgl_ops)
		return;
	__atomic_store_n(&v->hold_fences, hold, __ATOMIC_RELEASE);
	wake(v);
}

#else	/* no virglrenderer */

int virtio_gpu_enable_virgl(struct virtio_gpu *g, char *err, size_t errlen)
{
	(void)g;
	snprintf(err, errlen, "this minivmm was built without virglrenderer");
	return -1;
}

void virtio_gpu_virgl_thread_hook(int (*fn)(void *opaque, char *err,
					    size_t errlen), void *opaque)
{
	(void)fn;
	(void)opaque;
}

void virtio_gpu_virgl_hold_fences(struct virtio_gpu *g, int hold)
{
	(void)g;
	(void)hold;
}

#endif
