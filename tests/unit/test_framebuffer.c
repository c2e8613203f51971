/* The frame store and the headless display: rectangles clipped to the
 * frame, PNGs that read back as exactly the pixels put in, clear errors
 * when there is no frame or the file cannot be written, and screenshots
 * taken while the frame changes. */
#include <errno.h>
#include <png.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "display.h"

static char dir[] = "/tmp/minivmm-fb-XXXXXX";

static const char *in_dir(const char *name)
{
	static char p[128];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

/* An image of w x h XRGB pixels, pixel (x, y) = px(x, y). */
static uint32_t px(uint32_t x, uint32_t y)
{
	return ((x * 40 + 7) & 0xff) << 16 | ((y * 30 + 3) & 0xff) << 8 |
	       ((x ^ y) * 17 & 0xff);
}

static uint8_t *image(uint32_t w, uint32_t h, uint32_t stride)
{
	uint8_t *b = calloc(1, (size_t)stride * h);

	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			uint32_t v = px(x, y);
			uint8_t *p = b + y * stride + x * 4;

			p[0] = (uint8_t)v;
			p[1] = (uint8_t)(v >> 8);
			p[2] = (uint8_t)(v >> 16);
			p[3] = 0x99;	/* X: ignored */
		}
	return b;
}

/* Reads an 8-bit RGB PNG back as 0x00RRGGBB words (caller frees). */
static uint32_t *read_png(const char *path, uint32_t *w, uint32_t *h)
{
	png_image img;
	uint8_t *buf;
	uint32_t *out;

	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_file(&img, path))
		return NULL;
	if (img.format != PNG_FORMAT_RGB) {
		png_image_free(&img);
		return NULL;
	}
	buf = malloc(PNG_IMAGE_SIZE(img));
	out = malloc((size_t)img.width * img.height * 4);
	if (!buf || !out || !png_image_finish_read(&img, NULL, buf, 0, NULL)) {
		free(buf);
		free(out);
		png_image_free(&img);
		return NULL;
	}
	for (size_t i = 0; i < (size_t)img.width * img.height; i++)
		out[i] = (uint32_t)buf[3 * i] << 16 | (uint32_t)buf[3 * i + 1] << 8 |
			 buf[3 * i + 2];
	*w = img.width;
	*h = img.height;
	free(buf);
	return out;
}

TEST(test_no_frame)
{
	struct framebuffer *fb = framebuffer_new();
	char err[128] = "";

	CHECK(fb != NULL);
	CHECK_EQ(framebuffer_write_png(fb, in_dir("none.png"), err, sizeof(err)),
		 -1);
	CHECK(!strcmp(err, "no frame yet: the guest has not set a scanout"));
	CHECK(access(in_dir("none.png"), F_OK) != 0);
	/* Updates without a frame go nowhere. */
	framebuffer_update(fb, (const uint8_t *)"abcd", 4,
			   (struct display_rect){ 0, 0, 1, 1 });
	/* Back to 0x0 after a frame: no frame again. */
	CHECK_EQ(framebuffer_resize(fb, 4, 4), 0);
	CHECK_EQ(framebuffer_resize(fb, 0, 0), 0);
	CHECK_EQ(framebuffer_write_png(fb, in_dir("none.png"), err, sizeof(err)),
		 -1);
	CHECK(strstr(err, "no frame yet") != NULL);
	/* A size that cannot be allocated: refused, no frame. */
	CHECK_EQ(framebuffer_resize(fb, 0xffffffff, 0xffffffff), -1);
	CHECK_EQ(framebuffer_write_png(fb, in_dir("none.png"), err, sizeof(err)),
		 -1);
	framebuffer_free(fb);
	framebuffer_free(NULL);
}

TEST(test_png_exact_pixels)
{
	const uint32_t W = 37, H = 23, S = 37 * 4 + 12;	/* padded stride */
	struct framebuffer *fb = framebuffer_new();
	uint8_t *src = image(W, H, S);
	char err[128];
	uint32_t *got, w = 0, h = 0;
	int ok = 1;

	CHECK_EQ(framebuffer_resize(fb, W, H), 0);
	/* A black frame first. */
	CHECK_EQ(framebuffer_write_png(fb, in_dir("a.png"), err, sizeof(err)), 0);
	got = read_png(in_dir("a.png"), &w, &h);
	CHECK(got && w == W && h == H);
	for (uint32_t i = 0; got && i < W * H; i++)
		if (got[i])
			ok = 0;
	CHECK(ok);
	free(got);

	framebuffer_update(fb, src, S, (struct display_rect){ 0, 0, W, H });
	CHECK_EQ(framebuffer_write_png(fb, in_dir("a.png"), err, sizeof(err)), 0);
	got = read_png(in_dir("a.png"), &w, &h);
	CHECK(got && w == W && h == H);
	for (uint32_t y = 0; got && y < H; y++)
		for (uint32_t x = 0; x < W; x++)
			if (got[y * W + x] != px(x, y))
				ok = 0;
	CHECK(ok);
	free(got);
	/* Written through a temporary that is gone now. */
	CHECK(access(in_dir("a.png.tmp"), F_OK) != 0);

	/* A resize starts black again. */
	CHECK_EQ(framebuffer_resize(fb, 5, 2), 0);
	CHECK_EQ(framebuffer_write_png(fb, in_dir("a.png"), err, sizeof(err)), 0);
	got = read_png(in_dir("a.png"), &w, &h);
	CHECK(got && w == 5 && h == 2 && !got[0] && !got[9]);
	free(got);
	unlink(in_dir("a.png"));
	free(src);
	framebuffer_free(fb);
}

/* Rects are clipped to the frame, including ones whose end wraps. */
TEST(test_update_clipped)
{
	static const struct display_rect rects[] = {
		{ 6, 2, 100, 100 },		/* hangs over right and bottom */
		{ 8, 0, 1, 1 },			/* just outside */
		{ 0, 6, 8, 1 },
		{ 3, 1, 0xffffffff, 1 },	/* x + w wraps */
		{ 0xffffffff, 0xffffffff, 2, 2 },
	};
	const uint32_t W = 8, H = 6;
	struct framebuffer *fb = framebuffer_new();
	/* A source as big as any clipped rect could read. */
	uint8_t *src = image(W, H, W * 4);
	char err[128];
	uint32_t *got, w, h;
	int ok = 1;

	CHECK_EQ(framebuffer_resize(fb, W, H), 0);
	for (unsigned i = 0; i < sizeof(rects) / sizeof(rects[0]); i++)
		framebuffer_update(fb, src, W * 4, rects[i]);
	CHECK_EQ(framebuffer_write_png(fb, in_dir("c.png"), err, sizeof(err)), 0);
	got = read_png(in_dir("c.png"), &w, &h);
	CHECK(got && w == W && h == H);
	for (uint32_t y = 0; got && y < H; y++)
		for (uint32_t x = 0; x < W; x++) {
			int in = (x >= 6 && y >= 2) || (y == 1 && x >= 3);

			if (got[y * W + x] != (in ? px(x, y) : 0))
				ok = 0;
		}
	CHECK(ok);
	free(got);
	unlink(in_dir("c.png"));
	free(src);
	framebuffer_free(fb);
}

TEST(test_write_errors)
{
	struct framebuffer *fb = framebuffer_new();
	char err[256], p[160];
	struct stat st;

	CHECK_EQ(framebuffer_resize(fb, 4, 4), 0);
	snprintf(p, sizeof(p), "%s/no/such/dir/x.png", dir);
	CHECK_EQ(framebuffer_write_png(fb, p, err, sizeof(err)), -1);
	snprintf(p, sizeof(p), "cannot write '%s/no/such/dir/x.png': %s", dir,
		 strerror(ENOENT));
	CHECK(!strcmp(err, p));

	/* The target is a directory: the rename fails, no temporary left. */
	CHECK_EQ(mkdir(in_dir("isdir"), 0700), 0);
	CHECK_EQ(framebuffer_write_png(fb, in_dir("isdir"), err, sizeof(err)), -1);
	CHECK(strstr(err, "cannot write '") == err);
	CHECK(strstr(err, "isdir': ") != NULL);
	CHECK(access(in_dir("isdir.tmp"), F_OK) != 0);
	CHECK(stat(in_dir("isdir"), &st) == 0 && S_ISDIR(st.st_mode));
	rmdir(in_dir("isdir"));

	/* A read-only directory (root ignores the mode: skip it there). */
	if (geteuid() != 0) {
		CHECK_EQ(mkdir(in_dir("ro"), 0500), 0);
		snprintf(p, sizeof(p), "%s/ro/x.png", dir);
		CHECK_EQ(framebuffer_write_png(fb, p, err, sizeof(err)), -1);
		CHECK(strstr(err, strerror(EACCES)) != NULL);
		rmdir(in_dir("ro"));
	}
	framebuffer_free(fb);
}

struct churn {
	struct framebuffer *fb;
	volatile int stop;
};

static void *churn_thread(void *arg)
{
	struct churn *c = arg;
	uint8_t *src = image(64, 64, 256);
	unsigned n = 0;

	while (!c->stop) {
		if (++n % 16 == 0)
			framebuffer_resize(c->fb, 32 + n % 33, 32 + n % 17);
		framebuffer_update(c->fb, src, 256,
				   (struct display_rect){ n % 8, n % 5, 40, 40 });
	}
	free(src);
	return NULL;
}

/* Screenshots while another thread resizes and draws: each PNG is whole
 * and readable. */
TEST(test_concurrent_screenshots)
{
	struct churn c = { framebuffer_new(), 0 };
	pthread_t t;
	char err[128];

	CHECK_EQ(framebuffer_resize(c.fb, 64, 64), 0);
	CHECK_EQ(pthread_create(&t, NULL, churn_thread, &c), 0);
	for (int i = 0; i < 20; i++) {
		uint32_t *got, w = 0, h = 0;

		CHECK_EQ(framebuffer_write_png(c.fb, in_dir("t.png"), err,
					       sizeof(err)), 0);
		got = read_png(in_dir("t.png"), &w, &h);
		CHECK(got && w >= 32 && h >= 32);
		free(got);
	}
	c.stop = 1;
	pthread_join(t, NULL);
	unlink(in_dir("t.png"));
	framebuffer_free(c.fb);
}

TEST(test_headless_display)
{
	struct display *d = display_headless_new();
	uint8_t *src = image(16, 8, 64);
	char err[128];
	uint32_t *got, w = 0, h = 0;
	int ok = 1;

	CHECK(d && !strcmp(d->ops->name, "headless"));
	CHECK_EQ(d->ops->screenshot(d, in_dir("h.png"), err, sizeof(err)), -1);
	CHECK(strstr(err, "no frame yet") != NULL);
	d->ops->set_mode(d, 16, 8);
	d->ops->update(d, src, 64, (struct display_rect){ 0, 0, 16, 8 });
	/* The cursor is optional and not drawn. */
	if (d->ops->cursor_define)
		d->ops->cursor_define(d, src, 1, 1);
	if (d->ops->cursor_move)
		d->ops->cursor_move(d, 3, 3);
	CHECK_EQ(d->ops->screenshot(d, in_dir("h.png"), err, sizeof(err)), 0);
	got = read_png(in_dir("h.png"), &w, &h);
	CHECK(got && w == 16 && h == 8);
	for (uint32_t i = 0; got && i < 16 * 8; i++)
		if (got[i] != px(i % 16, i / 16))
			ok = 0;
	CHECK(ok);
	free(got);
	unlink(in_dir("h.png"));
	d->ops->set_mode(d, 0, 0);
	CHECK_EQ(d->ops->screenshot(d, in_dir("h.png"), err, sizeof(err)), -1);
	free(src);
	d->ops->destroy(d);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_no_frame);
	RUN(test_png_exact_pixels);
	RUN(test_update_clipped);
	RUN(test_write_errors);
	RUN(test_concurrent_screenshots);
	RUN(test_headless_display);
	rmdir(dir);
	return CHECK_DONE();
}
