/* The SDL thread: owns SDL video (which must be driven from one thread),
 * the window and the renderer.  It sleeps in SDL_WaitEvent - so an idle
 * window costs no CPU - and is woken by host input or by a user event
 * the display ops push. */
#include <stdio.h>
#include <string.h>
#include "sdl_priv.h"

static int (*thread_hook)(void *opaque, char *err, size_t errlen);
static void *thread_hook_opaque;

void display_sdl_thread_hook(int (*fn)(void *opaque, char *err,
				       size_t errlen), void *opaque)
{
	thread_hook = fn;
	thread_hook_opaque = opaque;
}

static void set_state(struct sdl_display *s, int state)
{
	pthread_mutex_lock(&s->lock);
	s->state = state;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

static int fail(struct sdl_display *s)
{
	snprintf(s->err, sizeof(s->err), "cannot open an SDL window: %s",
		 SDL_GetError());
	return -1;
}

static SDL_Window *create_window(struct sdl_display *s, uint32_t flags)
{
	return SDL_CreateWindow(s->title, SDL_WINDOWPOS_UNDEFINED,
				SDL_WINDOWPOS_UNDEFINED, (int)s->start_w,
				(int)s->start_h, SDL_WINDOW_RESIZABLE | flags);
}

/* Is ren SDL's GL renderer on a GL that rasterizes on the CPU (Mesa's
 * llvmpipe or softpipe, a machine without a GPU)?  There the window is
 * better drawn by SDL's software renderer: a frame is then a copy into
 * the window's shared-memory image, where GL would first upload the
 * frame to a texture and shade every pixel of it on the CPU - measured
 * in the nested VM (softpipe under TCG) the GL window lagged the guest
 * by over 10 s, and the CPU it took starved the GPU thread so much that
 * the guest's GET_CAPSET requests timed out (Mesa then guessed the
 * host's caps wrongly and kmscube crashed).  The frames themselves come
 * from the read-back either way.  A renderer named in SDL_RENDER_DRIVER
 * is kept as asked. */
static int cpu_rasterizer(SDL_Renderer *ren)
{
	static const char *const cpu[] = { "llvmpipe", "softpipe",
					   "Software Rasterizer", "SWR" };
	const unsigned char *(*get_string)(unsigned);
	SDL_RendererInfo info;
	const char *hint = SDL_GetHint(SDL_HINT_RENDER_DRIVER), *r;

	if ((hint && *hint) || SDL_GetRendererInfo(ren, &info) ||
	    !info.name || strncmp(info.name, "opengl", 6))
		return 0;
	/* The renderer's context is current on this thread. */
	get_string = (const unsigned char *(*)(unsigned))
		SDL_GL_GetProcAddress("glGetString");
	r = get_string ? (const char *)get_string(0x1F01 /* GL_RENDERER */) :
			 NULL;
	for (size_t i = 0; r && i < sizeof(cpu) / sizeof(cpu[0]); i++)
		if (strstr(r, cpu[i]))
			return 1;
	return 0;
}

static int sdl_open(struct sdl_display *s)
{
	/* minivmm handles SIGINT/SIGTERM itself; SDL must not. */
	SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
	/* Closing the window is a request to the VM, reported once as a
	 * window event rather than also as SDL_QUIT. */
	SDL_SetHint(SDL_HINT_QUIT_ON_LAST_WINDOW_CLOSE, "0");
	/* A VM window is no reason to keep the host's screen awake. */
	SDL_SetHint(SDL_HINT_VIDEO_ALLOW_SCREENSAVER, "1");
	/* Smooth when the window is not the guest's size. */
	SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "linear");
	if (SDL_Init(SDL_INIT_VIDEO) < 0)
		return fail(s);
	s->wake_type = SDL_RegisterEvents(1);
	if (s->wake_type == (uint32_t)-1) {
		SDL_SetError("no SDL user event left");
		return fail(s);
	}
	s->win = create_window(s, SDL_WINDOW_ALLOW_HIGHDPI);
	if (!s->win)
		return fail(s);
	s->ren = SDL_CreateRenderer(s->win, -1, SDL_RENDERER_ACCELERATED);
	if (s->ren && cpu_rasterizer(s->ren)) {
		/* A new window: the GL renderer made this one a GL window. */
		SDL_DestroyRenderer(s->ren);
		s->ren = NULL;
		SDL_DestroyWindow(s->win);
		s->win = create_window(s, 0);
		if (!s->win)
			return fail(s);
	}
	if (!s->ren)
		s->ren = SDL_CreateRenderer(s->win, -1,
					    SDL_RENDERER_SOFTWARE);
	if (!s->ren)
		return fail(s);
	s->window_id = SDL_GetWindowID(s->win);
	/* Keys go to the guest by scan code; no IME or text events. */
	SDL_StopTextInput();
	s->redraw = 1;
	return 0;
}

static void sdl_close(struct sdl_display *s)
{
	if (s->tex)
		SDL_DestroyTexture(s->tex);
	if (s->sdl_cursor)
		SDL_FreeCursor(s->sdl_cursor);
	if (s->ren)
		SDL_DestroyRenderer(s->ren);
	if (s->win)
		SDL_DestroyWindow(s->win);
	SDL_Quit();
}

static void closed(struct sdl_display *s)
{
	void (*fn)(void *);
	void *ctx;

	pthread_mutex_lock(&s->lock);
	fn = s->on_close;
	ctx = s->close_ctx;
	pthread_mutex_unlock(&s->lock);
	if (fn)
		fn(ctx);
}

static void wake(struct sdl_display *s, const SDL_UserEvent *u)
{
	struct sdl_call *c = u->data1;

	switch (u->code) {
	case SDL_WAKE_FRAME:
		sdl_pull_frame(s);
		break;
	case SDL_WAKE_CALL:
		c->fn(s, c);
		pthread_mutex_lock(&s->lock);
		c->done = 1;
		pthread_cond_broadcast(&s->cond);
		pthread_mutex_unlock(&s->lock);
		break;
	case SDL_WAKE_QUIT:
		s->quit = 1;
		break;
	}
}

/* The renderer lost the texture's contents (or the texture itself):
 * upload everything again. */
static void lost(struct sdl_display *s, int device)
{
	pthread_mutex_lock(&s->lock);
	if (device)
		s->mode_changed = 1;
	else
		s->dirty = (struct display_rect){ 0, 0, s->w, s->h };
	pthread_mutex_unlock(&s->lock);
	sdl_pull_frame(s);
}

static void handle(struct sdl_display *s, const SDL_Event *ev)
{
	if (ev->type == s->wake_type) {
		wake(s, &ev->user);
		return;
	}
	switch (ev->type) {
	case SDL_QUIT:
		closed(s);
		break;
	case SDL_WINDOWEVENT:
		if (ev->window.event == SDL_WINDOWEVENT_CLOSE)
			closed(s);
		else
			s->redraw = 1;	/* resized, exposed, shown... */
		break;
	case SDL_RENDER_TARGETS_RESET:
		lost(s, 0);
		break;
	case SDL_RENDER_DEVICE_RESET:
		lost(s, 1);
		break;
	default:
		sdl_input_event(s, ev);
		break;
	}
}

void *sdl_thread_main(void *arg)
{
	struct sdl_display *s = arg;
	SDL_Event ev;
	int warned = 0;

	if (sdl_open(s) < 0 ||
	    (thread_hook && thread_hook(thread_hook_opaque, s->err,
					sizeof(s->err)))) {
		sdl_close(s);
		set_state(s, -1);
		return NULL;
	}
	set_state(s, 1);
	while (!s->quit) {
		if (!SDL_WaitEvent(&ev)) {
			if (!warned++)
				fprintf(stderr, "minivmm: sdl: %s\n",
					SDL_GetError());
			SDL_Delay(10);
			continue;
		}
		/* Handle everything queued, then draw once. */
		do
			handle(s, &ev);
		while (!s->quit && SDL_PollEvent(&ev));
		if (s->redraw && !s->quit) {
			s->redraw = 0;
			sdl_render(s);
			SDL_RenderPresent(s->ren);
		}
	}
	sdl_close(s);
	return NULL;
}
