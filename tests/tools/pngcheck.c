/* pngcheck: checks a screenshot taken through the control socket.
 *   pngcheck pattern FILE.png   every pixel equals mvtool's test pattern
 *                               (tools/guest/mvtool.c), for the PNG's size
 *   pngcheck text FILE.png N    at least N pixels differ from the most
 *                               common colour (console text was drawn)
 *   pngcheck center FILE.png N  at least N pixels of the middle quarter of
 *                               the image (half its width and height)
 *                               differ from the top-left pixel, the
 *                               background (something was drawn there)
 *   pngcheck differ A.png B.png N
 *                               the two have the same size and at least N
 *                               pixels differ between them (it moved)
 * Prints one line saying what it found; exit 0 when the check holds. */
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *load(const char *path, uint32_t *w, uint32_t *h)
{
	png_image img;
	uint8_t *buf;

	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_file(&img, path)) {
		fprintf(stderr, "pngcheck: %s: %s\n", path, img.message);
		return NULL;
	}
	img.format = PNG_FORMAT_RGB;
	buf = malloc(PNG_IMAGE_SIZE(img));
	if (!buf || !png_image_finish_read(&img, NULL, buf, 0, NULL)) {
		fprintf(stderr, "pngcheck: %s: %s\n", path, img.message);
		free(buf);
		return NULL;
	}
	*w = img.width;
	*h = img.height;
	return buf;
}

static int check_pattern(const uint8_t *px, uint32_t w, uint32_t h)
{
	unsigned long bad = 0;

	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			const uint8_t *p = px + ((size_t)y * w + x) * 3;
			uint32_t r = (x * 255) / (w - 1), g = (y * 255) / (h - 1);
			uint32_t b = ((x / 32) + (y / 32)) % 2 ? 0xff : 0x00;

			if (p[0] != r || p[1] != g || p[2] != b) {
				if (!bad)
					printf("first mismatch at %u,%u: %02x%02x%02x, "
					       "want %02x%02x%02x\n", x, y, p[0],
					       p[1], p[2], r, g, b);
				bad++;
			}
		}
	printf("%ux%u: %lu of %lu pixels differ from the pattern\n", w, h, bad,
	       (unsigned long)w * h);
	return bad ? 1 : 0;
}

static int check_text(const uint8_t *px, uint32_t w, uint32_t h, unsigned long min)
{
	unsigned long n = (unsigned long)w * h, differ = 0;
	const uint8_t *bg = px;	/* the top-left pixel: console background */

	for (unsigned long i = 0; i < n; i++)
		differ += memcmp(px + i * 3, bg, 3) != 0;
	printf("%ux%u: %lu pixels differ from the background\n", w, h, differ);
	return differ >= min ? 0 : 1;
}

static int check_center(const uint8_t *px, uint32_t w, uint32_t h, unsigned long min)
{
	unsigned long differ = 0, n = 0;
	const uint8_t *bg = px;

	for (uint32_t y = h / 4; y < h - h / 4; y++)
		for (uint32_t x = w / 4; x < w - w / 4; x++, n++)
			differ += memcmp(px + ((size_t)y * w + x) * 3, bg, 3) != 0;
	printf("%ux%u: %lu of %lu pixels in the middle differ from the background "
	       "%02x%02x%02x\n", w, h, differ, n, bg[0], bg[1], bg[2]);
	return differ >= min ? 0 : 1;
}

static int check_differ(const char *a, const char *b, unsigned long min)
{
	uint32_t wa, ha, wb, hb;
	uint8_t *pa = load(a, &wa, &ha), *pb = pa ? load(b, &wb, &hb) : NULL;
	unsigned long differ = 0;
	int r = 1;

	if (pa && pb) {
		if (wa != wb || ha != hb) {
			printf("sizes differ: %ux%u vs %ux%u\n", wa, ha, wb, hb);
		} else {
			for (size_t i = 0; i < (size_t)wa * ha; i++)
				differ += memcmp(pa + i * 3, pb + i * 3, 3) != 0;
			printf("%ux%u: %lu pixels differ between the two\n", wa, ha,
			       differ);
			r = differ >= min ? 0 : 1;
		}
	}
	free(pa);
	free(pb);
	return r;
}

int main(int argc, char **argv)
{
	uint32_t w, h;
	uint8_t *px;
	int r;

	if (argc >= 4 && !strcmp(argv[1], "differ"))
		return check_differ(argv[2], argv[3],
				    argc > 4 ? strtoul(argv[4], NULL, 10) : 100);
	if (argc < 3 || (strcmp(argv[1], "pattern") && strcmp(argv[1], "text") &&
			 strcmp(argv[1], "center"))) {
		fprintf(stderr, "usage: pngcheck pattern FILE | text FILE N | "
			"center FILE N | differ A B N\n");
		return 2;
	}
	px = load(argv[2], &w, &h);
	if (!px)
		return 1;
	if (!strcmp(argv[1], "pattern"))
		r = w > 1 && h > 1 ? check_pattern(px, w, h) : 1;
	else if (!strcmp(argv[1], "text"))
		r = check_text(px, w, h, argc > 3 ? strtoul(argv[3], NULL, 10) : 100);
	else
		r = check_center(px, w, h, argc > 3 ? strtoul(argv[3], NULL, 10) : 100);
	free(px);
	return r;
}
