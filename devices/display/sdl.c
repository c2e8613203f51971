/* The SDL back end's display ops and lifetime.  The ops run on the GPU
 * device's thread: they only touch the shared frame under the lock and
 * wake the SDL thread (sdl_thread.c), which alone talks to SDL video. */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "display_sdl.h"
#include "sdl_priv.h"

static struct sdl_display *priv(struct display *d)
{
	return d->priv;
}

/* SDL_PushEvent is thread-safe and wakes SDL_WaitEvent; it only fails
 * when SDL's queue is full, which a busy SDL thread drains soon. */
void sdl_push_wake(struct sdl_display *s, int code, void *data)
{
	SDL_Event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = s->wake_type;
	ev.user.code = code;
	ev.user.data1 = data;
	while (SDL_PushEvent(&ev) < 0)
		SDL_Delay(1);
}

int sdl_frame_changed_locked(struct sdl_display *s)
{
	if (s->wake_pending)
		return 0;
	s->wake_pending = 1;
	return 1;
}

static void wake_frame(struct sdl_display *s, int push)
{
	if (push)
		sdl_push_wake(s, SDL_WAKE_FRAME, NULL);
}

static void sdl_set_mode(struct display *d, uint32_t w, uint32_t h)
{
	struct sdl_display *s = priv(d);
	uint8_t *pix = NULL, *old;
	int push;

	if (w && h) {
		pix = calloc((size_t)w * h, 4);
		if (!pix || framebuffer_resize(s->fb, w, h) < 0) {
			fprintf(stderr, "minivmm: sdl: no memory for a %ux%u "
				"frame, showing nothing\n", w, h);
			free(pix);
			pix = NULL;
		}
	}
	if (!pix) {
		w = h = 0;
		framebuffer_resize(s->fb, 0, 0);
	}
	pthread_mutex_lock(&s->lock);
	old = s->shadow;
	s->shadow = pix;
	s->w = w;
	s->h = h;
	s->mode_changed = 1;
	s->dirty.w = 0;
	push = sdl_frame_changed_locked(s);
	pthread_mutex_unlock(&s->lock);
	free(old);
	wake_frame(s, push);
}

static struct display_rect rect_union(struct display_rect a,
				      struct display_rect b)
{
	uint32_t x1, y1;

	if (!a.w || !a.h)
		return b;
	x1 = a.x + a.w > b.x + b.w ? a.x + a.w : b.x + b.w;
	y1 = a.y + a.h > b.y + b.h ? a.y + a.h : b.y + b.h;
	a.x = a.x < b.x ? a.x : b.x;
	a.y = a.y < b.y ? a.y : b.y;
	a.w = x1 - a.x;
	a.h = y1 - a.y;
	return a;
}

static void sdl_update(struct display *d, const uint8_t *src, uint32_t stride,
		       struct display_rect r)
{
	struct sdl_display *s = priv(d);
	int push;

	framebuffer_update(s->fb, src, stride, r);
	pthread_mutex_lock(&s->lock);
	/* The caller clips to the mode; clip again in case a mode change
	 * raced in, so the shadow is never overrun. */
	if (r.x >= s->w || r.y >= s->h) {
		pthread_mutex_unlock(&s->lock);
		return;
	}
	if (r.w > s->w - r.x)
		r.w = s->w - r.x;
	if (r.h > s->h - r.y)
		r.h = s->h - r.y;
	for (uint32_t y = r.y; y < r.y + r.h; y++)
		memcpy(s->shadow + ((size_t)y * s->w + r.x) * 4,
		       src + (size_t)y * stride + (size_t)r.x * 4,
		       (size_t)r.w * 4);
	s->dirty = rect_union(s->dirty, r);
	push = sdl_frame_changed_locked(s);
	pthread_mutex_unlock(&s->lock);
	wake_frame(s, push);
}

static void sdl_cursor_define(struct display *d, const uint8_t *argb,
			      uint32_t hot_x, uint32_t hot_y)
{
	struct sdl_display *s = priv(d);
	int push;

	pthread_mutex_lock(&s->lock);
	s->cursor_visible = argb != NULL;
	if (argb)
		memcpy(s->cursor, argb, sizeof(s->cursor));
	s->hot_x = hot_x < SDL_CURSOR_SIZE ? hot_x : SDL_CURSOR_SIZE - 1;
	s->hot_y = hot_y < SDL_CURSOR_SIZE ? hot_y : SDL_CURSOR_SIZE - 1;
	s->cursor_changed = 1;
	push = sdl_frame_changed_locked(s);
	pthread_mutex_unlock(&s->lock);
	wake_frame(s, push);
}

/* The host cursor follows the host mouse, and the guest learns where it
 * is from our absolute pointer events: nothing to move. */
static void sdl_cursor_move(struct display *d, int32_t x, int32_t y)
{
	(void)d;
	(void)x;
	(void)y;
}

static int sdl_screenshot(struct display *d, const char *path, char *err,
			  size_t errlen)
{
	return framebuffer_write_png(priv(d)->fb, path, err, errlen);
}

/* Runs fn on the SDL thread and waits.  The SDL thread runs until
 * destroy, so the call is always answered. */
static void sdl_call(struct sdl_display *s, struct sdl_call *c)
{
	c->done = 0;
	sdl_push_wake(s, SDL_WAKE_CALL, c);
	pthread_mutex_lock(&s->lock);
	while (!c->done)
		pthread_cond_wait(&s->cond, &s->lock);
	pthread_mutex_unlock(&s->lock);
}

static atomic_int sdl_in_use;

static void sdl_free(struct sdl_display *s)
{
	framebuffer_free(s->fb);
	free(s->shadow);
	free(s->title);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
	atomic_store(&sdl_in_use, 0);
}

static void sdl_destroy(struct display *d)
{
	struct sdl_display *s = priv(d);

	sdl_push_wake(s, SDL_WAKE_QUIT, NULL);
	pthread_join(s->thread, NULL);
	sdl_free(s);
}

static const struct display_ops sdl_ops = {
	.name = "sdl",
	.set_mode = sdl_set_mode,
	.update = sdl_update,
	.cursor_define = sdl_cursor_define,
	.cursor_move = sdl_cursor_move,
	.screenshot = sdl_screenshot,
	.destroy = sdl_destroy,
};

struct display *display_sdl_new(const char *title, uint32_t w, uint32_t h,
				char *err, size_t errlen)
{
	struct sdl_display *s;
	sigset_t all, old;
	int zero = 0, rc;

	/* SDL keeps global state: one window per process. */
	if (!atomic_compare_exchange_strong(&sdl_in_use, &zero, 1)) {
		snprintf(err, errlen, "an SDL window is already open");
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->title = strdup(title ? title : "minivmm")) ||
	    !(s->fb = framebuffer_new())) {
		snprintf(err, errlen, "out of memory");
		if (s)
			free(s->title);
		free(s);
		atomic_store(&sdl_in_use, 0);
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->d.ops = &sdl_ops;
	s->d.priv = s;
	/* The window's first size; the SDL thread reads it at start-up,
	 * before any op can run.  The mode itself starts as 0 x 0 (black). */
	s->start_w = w ? w : 640;
	s->start_h = h ? h : 480;

	/* Signals belong to the event thread (signalfd): the SDL thread
	 * starts with all of them blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&s->thread, NULL, sdl_thread_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		snprintf(err, errlen, "cannot start the SDL thread: %s",
			 strerror(rc));
		sdl_free(s);
		return NULL;
	}
	pthread_mutex_lock(&s->lock);
	while (!s->state)
		pthread_cond_wait(&s->cond, &s->lock);
	pthread_mutex_unlock(&s->lock);
	if (s->state < 0) {
		snprintf(err, errlen, "%s", s->err);
		pthread_join(s->thread, NULL);
		sdl_free(s);
		return NULL;
	}
	return &s->d;
}

void display_sdl_on_close(struct display *d, void (*fn)(void *ctx),
			  void *ctx)
{
	struct sdl_display *s = priv(d);

	pthread_mutex_lock(&s->lock);
	s->on_close = fn;
	s->close_ctx = ctx;
	pthread_mutex_unlock(&s->lock);
}

/* Test hooks. */

static void call_nothing(struct sdl_display *s, struct sdl_call *c)
{
	(void)s;
	(void)c;
}

void display_sdl_sync(struct display *d)
{
	struct sdl_call c = { .fn = call_nothing };

	sdl_call(priv(d), &c);
}

static void call_read_pixels(struct sdl_display *s, struct sdl_call *c)
{
	int ow, oh;

	c->ret = -1;
	sdl_render(s);
	if (SDL_GetRendererOutputSize(s->ren, &ow, &oh) == 0 &&
	    (uint32_t)ow == c->w && (uint32_t)oh == c->h &&
	    SDL_RenderReadPixels(s->ren, NULL, SDL_PIXELFORMAT_ARGB8888,
				 c->out, (int)c->w * 4) == 0)
		c->ret = 0;
	SDL_RenderPresent(s->ren);
}

int display_sdl_read_pixels(struct display *d, uint8_t *out, uint32_t w,
			    uint32_t h)
{
	struct sdl_call c = { .fn = call_read_pixels, .out = out,
			      .w = w, .h = h };

	sdl_call(priv(d), &c);
	return c.ret;
}

static void call_set_size(struct sdl_display *s, struct sdl_call *c)
{
	SDL_SetWindowSize(s->win, (int)c->w, (int)c->h);
	s->redraw = 1;
}

void display_sdl_set_window_size(struct display *d, uint32_t w, uint32_t h)
{
	struct sdl_call c = { .fn = call_set_size, .w = w, .h = h };

	sdl_call(priv(d), &c);
}

static void call_title(struct sdl_display *s, struct sdl_call *c)
{
	snprintf(c->buf, c->len, "%s", SDL_GetWindowTitle(s->win));
}

void display_sdl_window_title(struct display *d, char *buf, size_t len)
{
	struct sdl_call c = { .fn = call_title, .buf = buf, .len = len };

	sdl_call(priv(d), &c);
}

uint32_t display_sdl_window_id(struct display *d)
{
	return priv(d)->window_id;
}
