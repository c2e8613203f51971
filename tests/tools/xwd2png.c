/* xwd2png: turns an X window dump (xwd -silent ...) of a TrueColor
 * window into an RGB PNG, so the boot tests can check what an SDL window
 * showed with build/pngcheck.
 *   xwd2png IN.xwd OUT.png
 * Takes ZPixmap dumps of 24 or 32 bits per pixel, either byte order, and
 * the masks the dump gives; refuses anything else with one line.
 * Built on demand by tests/boot/test-virgl.sh (cc ... -lpng). */
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* XWDFileHeader: 25 CARD32s, most significant byte first. */
enum {
	H_HEADER_SIZE, H_VERSION, H_FORMAT, H_DEPTH, H_WIDTH, H_HEIGHT,
	H_XOFFSET, H_BYTE_ORDER, H_BITMAP_UNIT, H_BIT_ORDER, H_PAD, H_BPP,
	H_BYTES_PER_LINE, H_VISUAL_CLASS, H_RED_MASK, H_GREEN_MASK,
	H_BLUE_MASK, H_BITS_PER_RGB, H_CMAP_ENTRIES, H_NCOLORS,
	H_FIELDS = 25
};
#define XWD_VERSION	7
#define ZPIXMAP		2
#define TRUECOLOR	4
#define DIRECTCOLOR	5
#define COLOR_SIZE	12	/* XWDColor */

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* The mask's value scaled to 8 bits. */
static uint8_t channel(uint32_t px, uint32_t mask)
{
	unsigned shift = 0, bits = 0;
	uint32_t v;

	if (!mask)
		return 0;
	while (!(mask >> shift & 1))
		shift++;
	while (shift + bits < 32 && mask >> (shift + bits) & 1)
		bits++;
	v = (px & mask) >> shift;
	if (bits >= 8)
		return (uint8_t)(v >> (bits - 8));
	return (uint8_t)(v * 255 / ((1u << bits) - 1));
}

static int fail(const char *path, const char *why)
{
	fprintf(stderr, "xwd2png: %s: %s\n", path, why);
	return 1;
}

int main(int argc, char **argv)
{
	uint32_t h[H_FIELDS], w, ht, bpp, bpl, Bpp;
	uint8_t *buf = NULL, *rgb = NULL;
	size_t len = 0, cap = 0, n, off;
	png_image img;
	FILE *f;
	int r = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: xwd2png IN.xwd OUT.png\n");
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (!f)
		return fail(argv[1], "cannot open");
	do {
		if (len == cap) {
			uint8_t *p = realloc(buf, cap = cap ? cap * 2 : 1 << 20);

			if (!p) {
				fclose(f);
				free(buf);
				return fail(argv[1], "out of memory");
			}
			buf = p;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n);
	fclose(f);
	if (len < H_FIELDS * 4) {
		fail(argv[1], "too short for an XWD header");
		goto out;
	}
	for (int i = 0; i < H_FIELDS; i++)
		h[i] = be32(buf + i * 4);
	w = h[H_WIDTH];
	ht = h[H_HEIGHT];
	bpp = h[H_BPP];
	bpl = h[H_BYTES_PER_LINE];
	Bpp = bpp / 8;
	if (h[H_VERSION] != XWD_VERSION || h[H_FORMAT] != ZPIXMAP ||
	    (h[H_VISUAL_CLASS] != TRUECOLOR && h[H_VISUAL_CLASS] != DIRECTCOLOR) ||
	    (bpp != 24 && bpp != 32) || !w || !ht || w > 16384 || ht > 16384 ||
	    h[H_HEADER_SIZE] < H_FIELDS * 4 || h[H_NCOLORS] > 65536 ||
	    (uint64_t)bpl < (uint64_t)w * Bpp) {
		fail(argv[1], "not a TrueColor ZPixmap XWD of 24 or 32 bpp");
		goto out;
	}
	off = (size_t)h[H_HEADER_SIZE] + (size_t)h[H_NCOLORS] * COLOR_SIZE;
	if (off > len || (uint64_t)bpl * ht > len - off) {
		fail(argv[1], "truncated");
		goto out;
	}
	rgb = malloc((size_t)w * ht * 3);
	if (!rgb) {
		fail(argv[1], "out of memory");
		goto out;
	}
	for (uint32_t y = 0; y < ht; y++)
		for (uint32_t x = 0; x < w; x++) {
			const uint8_t *p = buf + off + (size_t)y * bpl +
					   (size_t)x * Bpp;
			uint8_t *o = rgb + ((size_t)y * w + x) * 3;
			uint32_t px = 0;

			/* byte_order 0: LSBFirst. */
			for (uint32_t i = 0; i < Bpp; i++)
				px |= (uint32_t)p[h[H_BYTE_ORDER] ? i : Bpp - 1 - i]
				      << (8 * (Bpp - 1 - i));
			o[0] = channel(px, h[H_RED_MASK]);
			o[1] = channel(px, h[H_GREEN_MASK]);
			o[2] = channel(px, h[H_BLUE_MASK]);
		}
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	img.width = w;
	img.height = ht;
	img.format = PNG_FORMAT_RGB;
	if (!png_image_write_to_file(&img, argv[2], 0, rgb, 0, NULL)) {
		fail(argv[2], img.message);
		goto out;
	}
	printf("%ux%u\n", w, ht);
	r = 0;
out:
	free(rgb);
	free(buf);
	return r;
}
