/* On the SDL thread: bring the shared frame into the texture (only what
 * changed), follow mode changes and the guest's cursor image, and draw
 * the frame scaled into the window with its aspect ratio kept. */
#include <stdio.h>
#include <string.h>
#include "display_sdl.h"
#include "sdl_priv.h"

struct display_rect display_sdl_fit(uint32_t out_w, uint32_t out_h,
				    uint32_t img_w, uint32_t img_h)
{
	struct display_rect r = { 0, 0, out_w, out_h };

	if (!img_w || !img_h || !out_w || !out_h)
		return (struct display_rect){ 0, 0, 0, 0 };
	/* Compare the aspect ratios without division: the wider of the
	 * two sets which side has bars.  Rounded to the nearest pixel. */
	if ((uint64_t)out_w * img_h > (uint64_t)out_h * img_w)
		r.w = (uint32_t)(((uint64_t)img_w * out_h * 2 + img_h) /
				 (img_h * 2ull));
	else
		r.h = (uint32_t)(((uint64_t)img_h * out_w * 2 + img_w) /
				 (img_w * 2ull));
	r.x = (out_w - r.w) / 2;
	r.y = (out_h - r.h) / 2;
	return r;
}

/* A new mode: 1:1 pixels if the screen has room, else the largest
 * window of the same shape that fits. */
static void fit_window(struct sdl_display *s)
{
	SDL_Rect b;
	uint32_t w = s->mode_w, h = s->mode_h;
	int idx = SDL_GetWindowDisplayIndex(s->win);
	struct display_rect r;

	if (!w || !h || (SDL_GetWindowFlags(s->win) &
			 (SDL_WINDOW_MAXIMIZED | SDL_WINDOW_FULLSCREEN)))
		return;
	if (idx >= 0 && SDL_GetDisplayUsableBounds(idx, &b) == 0 &&
	    b.w > 0 && b.h > 0 && (w > (uint32_t)b.w || h > (uint32_t)b.h)) {
		r = display_sdl_fit((uint32_t)b.w, (uint32_t)b.h, w, h);
		w = r.w;
		h = r.h;
	}
	SDL_SetWindowSize(s->win, (int)w, (int)h);
}

/* Lock held. */
static void new_texture(struct sdl_display *s)
{
	static int warned;

	if (s->tex)
		SDL_DestroyTexture(s->tex);
	s->tex = NULL;
	s->mode_w = s->w;
	s->mode_h = s->h;
	if (!s->w || !s->h)
		return;
	/* ARGB8888 is XRGB8888's byte order (B, G, R, X) with X ignored:
	 * the texture is drawn without blending. */
	s->tex = SDL_CreateTexture(s->ren, SDL_PIXELFORMAT_ARGB8888,
				   SDL_TEXTUREACCESS_STREAMING, (int)s->w,
				   (int)s->h);
	if (!s->tex) {
		if (!warned++)
			fprintf(stderr, "minivmm: sdl: cannot show a %ux%u "
				"frame: %s\n", s->w, s->h, SDL_GetError());
		return;
	}
	SDL_SetTextureBlendMode(s->tex, SDL_BLENDMODE_NONE);
	s->dirty = (struct display_rect){ 0, 0, s->w, s->h };
}

static void set_cursor(struct sdl_display *s, int visible, uint8_t *argb,
		       uint32_t hot_x, uint32_t hot_y)
{
	SDL_Surface *surf;
	SDL_Cursor *c = NULL;

	if (visible) {
		surf = SDL_CreateRGBSurfaceWithFormatFrom(
			argb, SDL_CURSOR_SIZE, SDL_CURSOR_SIZE, 32,
			SDL_CURSOR_SIZE * 4, SDL_PIXELFORMAT_ARGB8888);
		if (surf) {
			c = SDL_CreateColorCursor(surf, (int)hot_x,
						  (int)hot_y);
			SDL_FreeSurface(surf);
		}
		/* Without colour cursors the host's arrow still works. */
		if (c)
			SDL_SetCursor(c);
	}
	if (s->sdl_cursor && c != s->sdl_cursor)
		SDL_FreeCursor(s->sdl_cursor);
	s->sdl_cursor = c;
	/* The guest hid its cursor (a text console, a full-screen game):
	 * so does the window. */
	SDL_ShowCursor(visible ? SDL_ENABLE : SDL_DISABLE);
}

void sdl_pull_frame(struct sdl_display *s)
{
	uint8_t cursor[SDL_CURSOR_SIZE * SDL_CURSOR_SIZE * 4];
	struct display_rect r;
	int new_mode, cursor_changed, cursor_visible = 0;
	uint32_t hot_x = 0, hot_y = 0;

	pthread_mutex_lock(&s->lock);
	s->wake_pending = 0;
	new_mode = s->mode_changed;
	if (new_mode) {
		s->mode_changed = 0;
		new_texture(s);
	}
	r = s->dirty;
	s->dirty.w = 0;
	if (s->tex && r.w && r.h) {
		SDL_Rect rect = { (int)r.x, (int)r.y, (int)r.w, (int)r.h };

		SDL_UpdateTexture(s->tex, &rect,
				  s->shadow + ((size_t)r.y * s->w + r.x) * 4,
				  (int)s->w * 4);
	}
	cursor_changed = s->cursor_changed;
	if (cursor_changed) {
		s->cursor_changed = 0;
		cursor_visible = s->cursor_visible;
		hot_x = s->hot_x;
		hot_y = s->hot_y;
		memcpy(cursor, s->cursor, sizeof(cursor));
	}
	pthread_mutex_unlock(&s->lock);

	if (new_mode)
		fit_window(s);
	if (cursor_changed)
		set_cursor(s, cursor_visible, cursor, hot_x, hot_y);
	s->redraw = 1;
}

void sdl_render(struct sdl_display *s)
{
	struct display_rect r;
	SDL_Rect dst;
	int ow = 0, oh = 0;

	SDL_SetRenderDrawColor(s->ren, 0, 0, 0, 255);
	SDL_RenderClear(s->ren);
	if (!s->tex || SDL_GetRendererOutputSize(s->ren, &ow, &oh) < 0)
		return;
	r = display_sdl_fit((uint32_t)ow, (uint32_t)oh, s->mode_w, s->mode_h);
	dst = (SDL_Rect){ (int)r.x, (int)r.y, (int)r.w, (int)r.h };
	SDL_RenderCopy(s->ren, s->tex, NULL, &dst);
}
