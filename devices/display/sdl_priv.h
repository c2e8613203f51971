/* Private to the SDL back end (sdl*.c): the state shared between the
 * GPU-side display ops (any thread) and the SDL thread that owns the
 * window, renderer and texture. */
#ifndef MINIVMM_SDL_PRIV_H
#define MINIVMM_SDL_PRIV_H

#include <pthread.h>
#include <SDL.h>
#include "display.h"

#define SDL_CURSOR_SIZE 64

/* ev.user.code of the one user event type the SDL thread is woken with. */
enum { SDL_WAKE_FRAME, SDL_WAKE_CALL, SDL_WAKE_QUIT };

struct sdl_display;

/* A function run on the SDL thread for another thread, which waits. */
struct sdl_call {
	void (*fn)(struct sdl_display *s, struct sdl_call *c);
	uint8_t *out;
	char *buf;
	size_t len;
	uint32_t w, h;
	int ret;
	int done;		/* under sdl_display.lock */
};

struct sdl_display {
	struct display d;
	char *title;
	pthread_t thread;
	uint32_t wake_type;	/* SDL_RegisterEvents(), set before start-up ends */
	uint32_t window_id;
	uint32_t start_w, start_h;	/* the window's first size */

	/* Everything below up to "SDL thread only" is under lock. */
	pthread_mutex_t lock;
	pthread_cond_t cond;	/* start-up finished, a call done */
	int state;		/* 0 starting, 1 running, -1 failed */
	char err[256];

	/* The frame: fb for screenshots; shadow is the SDL thread's source
	 * for texture uploads, since framebuffer.c has no reader. */
	struct framebuffer *fb;
	uint8_t *shadow;
	uint32_t w, h;
	int mode_changed;
	struct display_rect dirty;	/* w == 0: nothing */
	int wake_pending;		/* one SDL_WAKE_FRAME in flight at most */
	int cursor_changed, cursor_visible;
	uint32_t hot_x, hot_y;
	uint8_t cursor[SDL_CURSOR_SIZE * SDL_CURSOR_SIZE * 4];
	void (*on_close)(void *ctx);
	void *close_ctx;

	/* SDL thread only. */
	SDL_Window *win;
	SDL_Renderer *ren;
	SDL_Texture *tex;
	SDL_Cursor *sdl_cursor;
	uint32_t mode_w, mode_h;	/* what the window shows */
	int redraw, quit, grabbed, swallow_g;
};

/* sdl.c: marks the frame changed and wakes the SDL thread (lock held:
 * returns whether the caller must push the wake event after unlocking). */
int sdl_frame_changed_locked(struct sdl_display *s);
void sdl_push_wake(struct sdl_display *s, int code, void *data);

/* sdl_thread.c */
void *sdl_thread_main(void *arg);

/* sdl_render.c: on the SDL thread. */
void sdl_pull_frame(struct sdl_display *s);
void sdl_render(struct sdl_display *s);

/* sdl_input.c: on the SDL thread. */
void sdl_input_event(struct sdl_display *s, const SDL_Event *ev);
void sdl_set_grab(struct sdl_display *s, int on);

#endif
