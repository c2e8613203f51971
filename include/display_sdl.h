/* The SDL2 display back end (display_sdl_new() in display.h): a window on
 * its own thread, since SDL video must be driven from one thread while the
 * GPU device calls the display ops from another.
 *
 * Keyboard and mouse go to display->keyboard / display->pointer as Linux
 * evdev events: keys by scan code (layout-independent, the guest applies
 * its own keymap), the pointer absolute over the shown image.  Host key
 * repeats are dropped: the guest's input core repeats by itself.
 *
 * Ctrl+Alt+G grabs the keyboard and confines the mouse to the window (so
 * Alt+Tab and friends reach the guest), and releases it again; the title
 * says so while grabbed. */
#ifndef MINIVMM_DISPLAY_SDL_H
#define MINIVMM_DISPLAY_SDL_H

#include <stddef.h>
#include <stdint.h>
#include "display.h"

#define DISPLAY_SDL_GRAB_HINT " - input grabbed, Ctrl+Alt+G releases"

/* fn(ctx) runs on the SDL thread each time the user closes the window
 * (or the desktop session asks SDL to quit); minivmm stops the VM from
 * there.  The window stays until destroy.  Set it right after
 * display_sdl_new().  fn must not destroy the display (destroy joins
 * the very thread fn runs on): wake the event loop, e.g. an eventfd. */
void display_sdl_on_close(struct display *d, void (*fn)(void *ctx),
			  void *ctx);

/* fn runs on each SDL thread once its window is open, before any display
 * op is served - e.g. to sandbox_enter() the thread.  Non-zero (with a
 * message in err) makes display_sdl_new() fail.  Set before
 * display_sdl_new(). */
void display_sdl_thread_hook(int (*fn)(void *opaque, char *err,
				       size_t errlen), void *opaque);

/* Linux key code (KEY_*) for an SDL_Scancode, 0 when it has none. */
uint16_t display_sdl_key_code(int sdl_scancode);

/* Where an img_w x img_h image goes in an out_w x out_h area, scaled with
 * its aspect ratio kept and centred (black bars fill the rest). */
struct display_rect display_sdl_fit(uint32_t out_w, uint32_t out_h,
				    uint32_t img_w, uint32_t img_h);

/* Test hooks: each runs on the SDL thread after everything queued before
 * it (display updates and pushed SDL events) and waits for it. */
void display_sdl_sync(struct display *d);
/* Renders the current frame, reads back the window's top-left w x h
 * pixels as ARGB8888 (bytes B, G, R, A) into out, then presents.  -1 when
 * the window's drawable is not exactly w x h (e.g. a resize not seen yet). */
int display_sdl_read_pixels(struct display *d, uint8_t *out, uint32_t w,
			    uint32_t h);
void display_sdl_set_window_size(struct display *d, uint32_t w, uint32_t h);
void display_sdl_window_title(struct display *d, char *buf, size_t len);
/* The SDL window id, for events a test pushes with SDL_PushEvent. */
uint32_t display_sdl_window_id(struct display *d);

#endif
