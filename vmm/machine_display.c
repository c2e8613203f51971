/* The machine's screen: a virtio-gpu shown by a display back end (SDL
 * window or headless frame), a virtio keyboard and tablet fed by the
 * window or the control socket, and the control socket itself. */
#include "machine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "gpu_module.h"
#include "sandbox.h"
#include "virtio_gpu.h"
#include "virtio_input.h"

/* The machine sits between the GPU and the back end to know the screen
 * size (the control socket scales pointer positions with it). */
static struct machine *proxied;	/* one machine per process */

static void proxy_set_mode(struct display *d, uint32_t w, uint32_t h)
{
	__atomic_store_n(&proxied->screen_w, w, __ATOMIC_RELAXED);
	__atomic_store_n(&proxied->screen_h, h, __ATOMIC_RELAXED);
	proxied->display_real->set_mode(d, w, h);
}

static void screen_size(void *ctx, uint32_t *w, uint32_t *h)
{
	struct machine *m = ctx;

	*w = __atomic_load_n(&m->screen_w, __ATOMIC_RELAXED);
	*h = __atomic_load_n(&m->screen_h, __ATOMIC_RELAXED);
}

static unsigned keyboard_pending(void *ctx)
{
	return virtio_input_pending(ctx);
}

static void control_stop_vm(void *ctx)
{
	vm_stop(ctx, EXIT_STOPPED);
}

/* The SDL thread must not stop the VM itself: it wakes the event loop. */
static void window_closed(void *ctx)
{
	struct machine *m = ctx;
	uint64_t one = 1;

	if (write(m->close_fd, &one, sizeof(one)) < 0) {
		/* already signalled */
	}
}

static void on_window_closed(void *opaque, uint32_t events)
{
	struct machine *m = opaque;
	uint64_t v;

	(void)events;
	if (read(m->close_fd, &v, sizeof(v)) < 0)
		return;
	fprintf(stderr, "\r\nminivmm: the window was closed\n");
	vm_stop(&m->vm, EXIT_STOPPED);
}

static struct display *open_display(struct machine *m, const struct vm_options *o,
				    const struct gpu_module *gm)
{
	char err[256];
	struct display *d;
	int want_sdl = o->display == DISPLAY_SDL;

	if (o->display == DISPLAY_NONE)
		return NULL;
	if (o->display == DISPLAY_AUTO) {
		if (!getenv("DISPLAY") && !getenv("WAYLAND_DISPLAY")) {
			fprintf(stderr, "minivmm: no display server ($DISPLAY "
				"unset): running headless (screenshots through "
				"--control)\n");
			return gm->headless_new();
		}
		want_sdl = 1;
	}
	if (want_sdl) {
		d = gm->sdl_new(o->name, o->width, o->height, err, sizeof(err));
		if (d) {
			m->close_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			if (m->close_fd < 0 ||
			    loop_add(&m->loop, m->close_fd, EPOLLIN,
				     on_window_closed, m)) {
				fprintf(stderr, "minivmm: window set-up: %s\n",
					strerror(errno));
				d->ops->destroy(d);
				return NULL;
			}
			gm->sdl_on_close(d, window_closed, m);
			return d;
		}
		if (o->display == DISPLAY_SDL) {
			fprintf(stderr, "minivmm: %s\n", err);
			return NULL;
		}
		fprintf(stderr, "minivmm: %s: running headless instead\n", err);
	}
	return gm->headless_new();
}

static int add_input(struct machine *m, struct virtio_input **in,
		     enum virtio_input_kind kind)
{
	struct virtio_slot *s = machine_next_slot(m);

	if (!s)
		return -1;
	*in = virtio_input_create(&m->vm.mem, &s->irq, kind);
	if (!*in) {
		fprintf(stderr, "minivmm: cannot create the virtio %s\n",
			kind == VIRTIO_INPUT_KEYBOARD ? "keyboard" : "tablet");
		return -1;
	}
	return virtio_slot_attach(s, &m->loop, virtio_input_dev(*in));
}

/* The GPU and SDL threads filter themselves once their set-up is done. */
static int enter_sandbox_hook(void *role, char *err, size_t errlen)
{
	return sandbox_enter((enum sandbox_role)(intptr_t)role, NULL, err,
			     errlen);
}

int machine_add_display(struct machine *m, const struct vm_options *o)
{
	const struct gpu_module *gm;
	struct virtio_slot *s;
	char err[256];

	if (o->gpu == GPU_NONE)
		return 0;
	gm = gpu_module_load(err, sizeof(err));
	if (!gm) {
		fprintf(stderr, "minivmm: --gpu: %s\n", err);
		return -1;
	}
	gm->virgl_thread_hook(enter_sandbox_hook, (void *)(intptr_t)SANDBOX_GPU);
	gm->sdl_thread_hook(enter_sandbox_hook,
			    (void *)(intptr_t)SANDBOX_DISPLAY);
	m->display = open_display(m, o, gm);
	if (!m->display && o->display != DISPLAY_NONE)
		return -1;
	if (m->display) {
		proxied = m;
		m->display_real = m->display->ops;
		m->display_proxy = *m->display->ops;
		m->display_proxy.set_mode = proxy_set_mode;
		m->display->ops = &m->display_proxy;
	}
	s = machine_next_slot(m);
	if (!s)
		return -1;
	m->gpu = virtio_gpu_create(&m->vm.mem, &s->irq, m->display, o->width,
				   o->height, err, sizeof(err));
	if (!m->gpu) {
		fprintf(stderr, "minivmm: virtio-gpu: %s\n", err);
		return -1;
	}
	/* virgl: virglrenderer on its own GPU thread, EGL surfaceless (no
	 * window system or render node needed). */
	if (o->gpu == GPU_VIRGL &&
	    gm->enable_virgl(m->gpu, err, sizeof(err))) {
		fprintf(stderr, "minivmm: --gpu virgl: %s\n", err);
		return -1;
	}
	if (virtio_slot_attach(s, &m->loop, virtio_gpu_dev(m->gpu)) ||
	    add_input(m, &m->keyboard, VIRTIO_INPUT_KEYBOARD) ||
	    add_input(m, &m->tablet, VIRTIO_INPUT_TABLET))
		return -1;
	if (m->display) {
		m->display->keyboard = virtio_input_sink(m->keyboard);
		m->display->pointer = virtio_input_sink(m->tablet);
	}
	return 0;
}

int machine_start_control(struct machine *m, const struct vm_options *o)
{
	struct control_hooks h;
	char err[256];

	if (!o->control)
		return 0;
	memset(&h, 0, sizeof(h));
	h.display = m->display;
	if (m->keyboard) {
		h.keyboard = virtio_input_sink(m->keyboard);
		h.keyboard_pending = keyboard_pending;
		h.pending_ctx = m->keyboard;
	}
	if (m->tablet)
		h.pointer = virtio_input_sink(m->tablet);
	h.screen_size = screen_size;
	h.screen_ctx = m;
	h.stop = control_stop_vm;
	h.stop_ctx = &m->vm;
	if (control_start(&m->control, &m->loop, o->control, &h, err,
			  sizeof(err))) {
		fprintf(stderr, "minivmm: --control: %s\n", err);
		return -1;
	}
	return 0;
}

/* After the vCPUs stopped.  The GPU goes first (virgl's thread draws into
 * the display until it is joined), then the window (its thread feeds the
 * input devices until it is joined), then the input devices. */
void machine_stop_display(struct machine *m)
{
	control_stop(&m->control);
	virtio_gpu_destroy(m->gpu);
	m->gpu = NULL;
	if (m->display) {
		m->display->ops = m->display_real;
		m->display->ops->destroy(m->display);
	}
	m->display = NULL;
	if (m->keyboard)
		virtio_input_destroy(m->keyboard);
	if (m->tablet)
		virtio_input_destroy(m->tablet);
	m->keyboard = m->tablet = NULL;
	if (m->close_fd >= 0)
		close(m->close_fd);
	m->close_fd = -1;
}
