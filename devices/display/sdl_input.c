/* On the SDL thread: host keyboard and mouse -> evdev events for the
 * guest, and the Ctrl+Alt+G input grab. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/input-event-codes.h>
#include "display_sdl.h"
#include "sdl_priv.h"

void sdl_set_grab(struct sdl_display *s, int on)
{
	size_t n = strlen(s->title) + sizeof(DISPLAY_SDL_GRAB_HINT);
	char *t = malloc(n);

	/* The keyboard grab is what lets Alt+Tab and the like reach the
	 * guest; the mouse stays absolute, only kept inside the window. */
	SDL_SetWindowKeyboardGrab(s->win, on ? SDL_TRUE : SDL_FALSE);
	SDL_SetWindowMouseGrab(s->win, on ? SDL_TRUE : SDL_FALSE);
	s->grabbed = on;
	if (t) {
		snprintf(t, n, "%s%s", s->title, on ? DISPLAY_SDL_GRAB_HINT : "");
		SDL_SetWindowTitle(s->win, t);
		free(t);
	}
}

static void key(struct sdl_display *s, const SDL_KeyboardEvent *k)
{
	int down = k->type == SDL_KEYDOWN;
	uint16_t code;

	if (k->keysym.scancode == SDL_SCANCODE_G) {
		if (down && (k->keysym.mod & KMOD_CTRL) &&
		    (k->keysym.mod & KMOD_ALT)) {
			if (!k->repeat)
				sdl_set_grab(s, !s->grabbed);
			s->swallow_g = 1;
			return;
		}
		/* The G of the hot key is ours: its release too. */
		if (s->swallow_g) {
			if (!down)
				s->swallow_g = 0;
			return;
		}
	}
	/* The guest's input core repeats held keys itself. */
	if (k->repeat)
		return;
	code = display_sdl_key_code(k->keysym.scancode);
	if (!code)
		return;
	input_send(&s->d.keyboard, EV_KEY, code, down);
	input_send(&s->d.keyboard, EV_SYN, SYN_REPORT, 0);
}

/* Window coordinate v -> 0..INPUT_ABS_MAX across the image's extent
 * [start, start + len), clamped at its edges (the black bars). */
static int32_t to_abs(int32_t v, uint32_t start, uint32_t len)
{
	int64_t a;

	if (len <= 1)
		return 0;
	a = ((int64_t)v - start) * INPUT_ABS_MAX / (int64_t)(len - 1);
	return a < 0 ? 0 : a > INPUT_ABS_MAX ? INPUT_ABS_MAX : (int32_t)a;
}

/* The pointer at window position (x, y): absolute over the displayed
 * image, not the window, so the guest's pointer is under the host's even
 * with letterboxing.  0 when there is no image to point at. */
static int move_to(struct sdl_display *s, int32_t x, int32_t y)
{
	struct display_rect r;
	int ww, wh;

	SDL_GetWindowSize(s->win, &ww, &wh);
	r = display_sdl_fit((uint32_t)ww, (uint32_t)wh, s->mode_w, s->mode_h);
	if (!r.w || !r.h)
		return 0;
	input_send(&s->d.pointer, EV_ABS, ABS_X, to_abs(x, r.x, r.w));
	input_send(&s->d.pointer, EV_ABS, ABS_Y, to_abs(y, r.y, r.h));
	return 1;
}

static uint16_t button_code(uint8_t b)
{
	switch (b) {
	case SDL_BUTTON_LEFT:	return BTN_LEFT;
	case SDL_BUTTON_MIDDLE:	return BTN_MIDDLE;
	case SDL_BUTTON_RIGHT:	return BTN_RIGHT;
	case SDL_BUTTON_X1:	return BTN_SIDE;
	case SDL_BUTTON_X2:	return BTN_EXTRA;
	}
	return 0;
}

static void button(struct sdl_display *s, const SDL_MouseButtonEvent *b)
{
	uint16_t code = button_code(b->button);

	/* Press where the button went down, whatever motion was lost. */
	if (!code || !move_to(s, b->x, b->y))
		return;
	input_send(&s->d.pointer, EV_KEY, code, b->state == SDL_PRESSED);
	input_send(&s->d.pointer, EV_SYN, SYN_REPORT, 0);
}

static void wheel(struct sdl_display *s, const SDL_MouseWheelEvent *w)
{
	int32_t flip = w->direction == SDL_MOUSEWHEEL_FLIPPED ? -1 : 1;

	/* Both count up for "away from the user" and "right". */
	if (w->y)
		input_send(&s->d.pointer, EV_REL, REL_WHEEL, w->y * flip);
	if (w->x)
		input_send(&s->d.pointer, EV_REL, REL_HWHEEL, w->x * flip);
	if (w->x || w->y)
		input_send(&s->d.pointer, EV_SYN, SYN_REPORT, 0);
}

void sdl_input_event(struct sdl_display *s, const SDL_Event *ev)
{
	switch (ev->type) {
	case SDL_KEYDOWN:
	case SDL_KEYUP:
		key(s, &ev->key);
		break;
	case SDL_MOUSEMOTION:
		if (move_to(s, ev->motion.x, ev->motion.y))
			input_send(&s->d.pointer, EV_SYN, SYN_REPORT, 0);
		break;
	case SDL_MOUSEBUTTONDOWN:
	case SDL_MOUSEBUTTONUP:
		button(s, &ev->button);
		break;
	case SDL_MOUSEWHEEL:
		wheel(s, &ev->wheel);
		break;
	}
}
