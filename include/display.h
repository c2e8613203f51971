/* Display back ends (design rule 7): what the guest's GPU shows - one
 * scanout of width x height pixels - and where input comes back from.
 * The GPU device calls these from its thread; every back end keeps its
 * own copy of the last frame (under its own lock), so a screenshot can be
 * taken at any time and a slow window never stalls the guest.
 *
 * Pixel format everywhere: DISPLAY_FORMAT_XRGB8888, i.e. 32-bit words
 * 0xXXRRGGBB stored little-endian as bytes B, G, R, X (what the Linux
 * virtio-gpu driver and DRM_FORMAT_XRGB8888 use). */
#ifndef MINIVMM_DISPLAY_H
#define MINIVMM_DISPLAY_H

#include <stddef.h>
#include <stdint.h>
#include "input_event.h"

struct display_rect {
	uint32_t x, y, w, h;
};

struct display;

struct display_ops {
	const char *name;		/* "headless", "sdl" */
	/* The scanout is now w x h (0 x 0: disabled, show nothing). */
	void (*set_mode)(struct display *d, uint32_t w, uint32_t h);
	/* Pixels of rect r changed; src points at pixel (0,0) of a w x h
	 * image with the given stride in bytes (rect already clipped to
	 * the mode by the caller). */
	void (*update)(struct display *d, const uint8_t *src, uint32_t stride,
		       struct display_rect r);
	/* Cursor image (64x64 XRGB/ARGB8888, may be NULL to hide) with
	 * its hot spot, and its position.  Optional. */
	void (*cursor_define)(struct display *d, const uint8_t *argb,
			      uint32_t hot_x, uint32_t hot_y);
	void (*cursor_move)(struct display *d, int32_t x, int32_t y);
	/* Writes the current frame as a PNG; 0, or -1 with a message. */
	int (*screenshot)(struct display *d, const char *path, char *err,
			  size_t errlen);
	void (*destroy)(struct display *d);
};

struct display {
	const struct display_ops *ops;
	struct input_sink keyboard;	/* set by whoever wires input */
	struct input_sink pointer;
	void *priv;
};

/* The frame store shared by back ends: a w x h XRGB8888 copy under a
 * mutex, updated by rect, written out as PNG (libpng). */
struct framebuffer;
struct framebuffer *framebuffer_new(void);
int framebuffer_resize(struct framebuffer *fb, uint32_t w, uint32_t h);
void framebuffer_update(struct framebuffer *fb, const uint8_t *src,
			uint32_t stride, struct display_rect r);
int framebuffer_write_png(struct framebuffer *fb, const char *path,
			  char *err, size_t errlen);
void framebuffer_free(struct framebuffer *fb);

/* Back ends. */
struct display *display_headless_new(void);
/* NULL with a message when no window can be opened (no display server). */
struct display *display_sdl_new(const char *title, uint32_t w, uint32_t h,
				char *err, size_t errlen);

#endif
