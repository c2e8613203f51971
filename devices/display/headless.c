/* The headless display: no window, just the frame store, so tests and
 * servers can still take screenshots of what the guest shows.  The
 * cursor is not drawn (a screenshot shows the scanout alone). */
#include "display.h"

#include <stdio.h>
#include <stdlib.h>

static struct framebuffer *fb_of(struct display *d)
{
	return d->priv;
}

static void headless_set_mode(struct display *d, uint32_t w, uint32_t h)
{
	static int logged;

	if (framebuffer_resize(fb_of(d), w, h) < 0 && !logged) {
		logged = 1;
		fprintf(stderr, "minivmm: headless display: no memory for a "
			"%ux%u frame\n", w, h);
	}
}

static void headless_update(struct display *d, const uint8_t *src,
			    uint32_t stride, struct display_rect r)
{
	framebuffer_update(fb_of(d), src, stride, r);
}

static int headless_screenshot(struct display *d, const char *path,
			       char *err, size_t errlen)
{
	return framebuffer_write_png(fb_of(d), path, err, errlen);
}

static void headless_destroy(struct display *d)
{
	framebuffer_free(fb_of(d));
	free(d);
}

static const struct display_ops headless_ops = {
	.name = "headless",
	.set_mode = headless_set_mode,
	.update = headless_update,
	.screenshot = headless_screenshot,
	.destroy = headless_destroy,
};

struct display *display_headless_new(void)
{
	struct display *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->ops = &headless_ops;
	d->priv = framebuffer_new();
	if (!d->priv) {
		free(d);
		return NULL;
	}
	return d;
}
