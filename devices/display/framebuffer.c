/* The frame store every display back end keeps (display.h): the last
 * scanout contents as XRGB8888, updated by rectangle from the GPU's
 * thread and written out as a PNG from any other.  A screenshot copies
 * the frame under the lock and encodes it outside, so the guest's GPU
 * never waits for zlib. */
#include "display.h"

#include <errno.h>
#include <png.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BPP 4

struct framebuffer {
	pthread_mutex_t lock;
	uint32_t w, h;
	uint8_t *pix;		/* w * h * BPP, bytes B,G,R,X */
};

struct framebuffer *framebuffer_new(void)
{
	struct framebuffer *fb = calloc(1, sizeof(*fb));

	if (fb)
		pthread_mutex_init(&fb->lock, NULL);
	return fb;
}

void framebuffer_free(struct framebuffer *fb)
{
	if (!fb)
		return;
	pthread_mutex_destroy(&fb->lock);
	free(fb->pix);
	free(fb);
}

/* w x h pixels in bytes, or 0 when that does not fit a size_t. */
static size_t frame_bytes(uint32_t w, uint32_t h)
{
	size_t n;

	if (__builtin_mul_overflow((size_t)w, (size_t)h, &n) ||
	    __builtin_mul_overflow(n, (size_t)BPP, &n))
		return 0;
	return n;
}

/* The new frame is black; 0 x 0 (or a failed allocation, -1) holds none. */
int framebuffer_resize(struct framebuffer *fb, uint32_t w, uint32_t h)
{
	size_t n = w && h ? frame_bytes(w, h) : 0;
	uint8_t *pix = n ? calloc(1, n) : NULL, *old;
	int ret = (w && h && !pix) ? -1 : 0;

	if (!pix)
		w = h = 0;
	pthread_mutex_lock(&fb->lock);
	old = fb->pix;
	fb->pix = pix;
	fb->w = w;
	fb->h = h;
	pthread_mutex_unlock(&fb->lock);
	free(old);
	return ret;
}

void framebuffer_update(struct framebuffer *fb, const uint8_t *src,
			uint32_t stride, struct display_rect r)
{
	pthread_mutex_lock(&fb->lock);
	/* Clipped to the frame: whatever the caller says, no row is
	 * written outside it. */
	if (r.x < fb->w && r.y < fb->h) {
		uint32_t w = r.w < fb->w - r.x ? r.w : fb->w - r.x;
		uint32_t h = r.h < fb->h - r.y ? r.h : fb->h - r.y;

		for (uint32_t y = r.y; y < r.y + h; y++)
			memcpy(fb->pix + ((size_t)y * fb->w + r.x) * BPP,
			       src + (size_t)y * stride + (size_t)r.x * BPP,
			       (size_t)w * BPP);
	}
	pthread_mutex_unlock(&fb->lock);
}

/* ---- PNG -------------------------------------------------------------- */

struct png_trouble {
	char msg[160];
};

static void png_fail(png_structp png, png_const_charp msg)
{
	struct png_trouble *t = png_get_error_ptr(png);

	snprintf(t->msg, sizeof(t->msg), "%s", msg);
	png_longjmp(png, 1);
}

static void png_warn(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

/* 8-bit RGB, rows converted from B,G,R,X through row (3 * w bytes). */
static int encode(FILE *f, const uint8_t *pix, uint32_t w, uint32_t h,
		  uint8_t *row, struct png_trouble *t)
{
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, t,
						  png_fail, png_warn);
	png_infop info = png ? png_create_info_struct(png) : NULL;

	if (!info) {
		png_destroy_write_struct(&png, NULL);
		snprintf(t->msg, sizeof(t->msg), "out of memory");
		return -1;
	}
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		return -1;
	}
	png_init_io(png, f);
	png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_RGB,
		     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
		     PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (uint32_t y = 0; y < h; y++) {
		const uint8_t *s = pix + (size_t)y * w * BPP;

		for (uint32_t x = 0; x < w; x++, s += BPP) {
			row[3 * (size_t)x] = s[2];
			row[3 * (size_t)x + 1] = s[1];
			row[3 * (size_t)x + 2] = s[0];
		}
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	return 0;
}

/* Written to PATH.tmp and renamed, so nobody sees half a picture. */
static int write_png(const char *path, const uint8_t *pix, uint32_t w,
		     uint32_t h, char *err, size_t errlen)
{
	struct png_trouble t = { "" };
	size_t n = strlen(path) + sizeof(".tmp");
	char *tmp = malloc(n);
	uint8_t *row = malloc((size_t)w * 3);
	FILE *f;
	int ret = -1, bad, e;

	if (!tmp || !row) {
		snprintf(err, errlen, "cannot write '%s': out of memory", path);
		goto out;
	}
	snprintf(tmp, n, "%s.tmp", path);
	f = fopen(tmp, "wb");
	if (!f) {
		snprintf(err, errlen, "cannot write '%s': %s", path,
			 strerror(errno));
		goto out;
	}
	if (encode(f, pix, w, h, row, &t) < 0) {
		snprintf(err, errlen, "cannot write '%s': %s", path, t.msg);
		fclose(f);
		unlink(tmp);
		goto out;
	}
	/* Buffered write errors (a full disk) show up here. */
	errno = 0;
	bad = fflush(f) != 0 || ferror(f);
	e = errno;
	if (fclose(f) && !bad) {
		bad = 1;
		e = errno;
	}
	if (bad) {
		snprintf(err, errlen, "cannot write '%s': %s", path,
			 strerror(e ? e : EIO));
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path)) {
		snprintf(err, errlen, "cannot write '%s': %s", path,
			 strerror(errno));
		unlink(tmp);
		goto out;
	}
	ret = 0;
out:
	free(row);
	free(tmp);
	return ret;
}

int framebuffer_write_png(struct framebuffer *fb, const char *path,
			  char *err, size_t errlen)
{
	uint8_t *copy = NULL;
	uint32_t w, h;
	int ret;

	pthread_mutex_lock(&fb->lock);
	w = fb->w;
	h = fb->h;
	if (w && h) {
		copy = malloc(frame_bytes(w, h));
		if (copy)
			memcpy(copy, fb->pix, frame_bytes(w, h));
	}
	pthread_mutex_unlock(&fb->lock);
	if (!w || !h) {
		snprintf(err, errlen, "no frame yet: the guest has not set a "
			 "scanout");
		return -1;
	}
	if (!copy) {
		snprintf(err, errlen, "cannot write '%s': out of memory", path);
		return -1;
	}
	ret = write_png(path, copy, w, h, err, errlen);
	free(copy);
	return ret;
}
