/* The EDID virtio-gpu hands the guest (VESA E-EDID 1.4 base block).  With
 * VIRTIO_GPU_F_EDID, Linux builds the connector's mode list from it
 * alone, so it lists exactly one mode - a detailed timing of the very
 * size GET_DISPLAY_INFO reports - and nothing Linux could prefer over it:
 * no established or standard timings and no continuous-frequency flag
 * (which would make Linux add inferred modes). */
#include "gpu_priv.h"

#include <endian.h>
#include <string.h>

/* Blanking in the spirit of CVT reduced blanking, fixed so any size up
 * to VIRTIO_GPU_MODE_MAX fits the descriptor's bit fields. */
#define H_FRONT		48
#define H_SYNC		32
#define H_BLANK		160
#define V_FRONT		3
#define V_SYNC		5
#define V_BLANK		31
#define REFRESH_HZ	60
#define MIN_CLOCK_HZ	10000000
#define DPI		96	/* for the physical size the guest sees */

/* sRGB primaries and D65 white, CIE 1931 (x, y) in 1/10000. */
static const unsigned chroma[8] = {
	6400, 3300,	/* red */
	3000, 6000,	/* green */
	1500, 600,	/* blue */
	3127, 3290,	/* white */
};

static void put_chromaticity(uint8_t *e)
{
	unsigned v[8];

	/* 10-bit binary fractions: two low bits packed in bytes 25-26. */
	for (int i = 0; i < 8; i++)
		v[i] = (chroma[i] * 1024 + 5000) / 10000;
	e[25] = (uint8_t)((v[0] & 3) << 6 | (v[1] & 3) << 4 | (v[2] & 3) << 2 |
			  (v[3] & 3));
	e[26] = (uint8_t)((v[4] & 3) << 6 | (v[5] & 3) << 4 | (v[6] & 3) << 2 |
			  (v[7] & 3));
	for (int i = 0; i < 8; i++)
		e[27 + i] = (uint8_t)(v[i] >> 2);
}

/* An 18-byte detailed timing descriptor for w x h (64..4095 each). */
static void put_timing(uint8_t *d, uint32_t w, uint32_t h, uint32_t w_mm,
		       uint32_t h_mm)
{
	uint32_t vtotal = h + V_BLANK;
	/* Small modes get a wider blank: a pixel clock under 10 MHz reads
	 * as invalid data to EDID checkers. */
	uint32_t htotal = (MIN_CLOCK_HZ / REFRESH_HZ + vtotal - 1) / vtotal;
	uint32_t hblank = htotal > w + H_BLANK ? htotal - w : H_BLANK;
	uint64_t clock;

	if (hblank > 0xfff)
		hblank = 0xfff;
	/* 10 kHz units, capped by the 16-bit field: huge modes refresh
	 * below 60 Hz rather than lie about their size. */
	clock = ((uint64_t)(w + hblank) * vtotal * REFRESH_HZ + 9999) / 10000;
	if (clock > 0xffff)
		clock = 0xffff;
	d[0] = (uint8_t)clock;
	d[1] = (uint8_t)(clock >> 8);
	d[2] = (uint8_t)w;
	d[3] = (uint8_t)hblank;
	d[4] = (uint8_t)((w >> 8) << 4 | hblank >> 8);
	d[5] = (uint8_t)h;
	d[6] = (uint8_t)V_BLANK;
	d[7] = (uint8_t)((h >> 8) << 4 | V_BLANK >> 8);
	d[8] = (uint8_t)H_FRONT;
	d[9] = (uint8_t)H_SYNC;
	d[10] = (uint8_t)((V_FRONT & 0xf) << 4 | (V_SYNC & 0xf));
	d[11] = (uint8_t)((H_FRONT >> 8) << 6 | (H_SYNC >> 8) << 4 |
			  (V_FRONT >> 4) << 2 | (V_SYNC >> 4));
	d[12] = (uint8_t)w_mm;
	d[13] = (uint8_t)h_mm;
	d[14] = (uint8_t)((w_mm >> 8) << 4 | (h_mm >> 8));
	/* No borders; progressive, digital separate sync, +hsync +vsync. */
	d[17] = 0x18 | 0x04 | 0x02;
}

/* A display descriptor (tag 0xfc: name; 0x10: dummy). */
static void put_descriptor(uint8_t *d, uint8_t tag, const char *text)
{
	size_t n = strlen(text);

	memset(d, 0, 18);
	d[3] = tag;
	if (!n)
		return;
	/* Text: up to 13 bytes, ended by a line feed, padded with spaces. */
	memset(d + 5, ' ', 13);
	memcpy(d + 5, text, n);
	d[5 + n] = '\n';
}

void virtio_gpu_edid(uint8_t e[VIRTIO_GPU_EDID_SIZE], uint32_t width,
		     uint32_t height)
{
	static const uint8_t header[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff,
					   0xff, 0 };
	/* "MVM": three 5-bit letters ('A' = 1), big-endian. */
	const uint16_t maker = ('M' - '@') << 10 | ('V' - '@') << 5 | ('M' - '@');
	uint32_t w_mm = (width * 254 + DPI * 5) / (DPI * 10);
	uint32_t h_mm = (height * 254 + DPI * 5) / (DPI * 10);
	uint8_t sum = 0;

	memset(e, 0, VIRTIO_GPU_EDID_SIZE);
	memcpy(e, header, sizeof(header));
	e[8] = (uint8_t)(maker >> 8);
	e[9] = (uint8_t)maker;
	e[10] = 0x01;			/* product code, le16 */
	e[16] = 1;			/* week 1 of */
	e[17] = 2024 - 1990;		/* model year 2024 */
	e[18] = 1;			/* EDID 1.4 */
	e[19] = 4;
	e[20] = 0x80 | 0x20;		/* digital, 8 bits per colour */
	e[21] = (uint8_t)((w_mm + 5) / 10 ? (w_mm + 5) / 10 : 1);	/* cm */
	e[22] = (uint8_t)((h_mm + 5) / 10 ? (h_mm + 5) / 10 : 1);
	e[23] = 120;			/* gamma 2.2: (2.2 - 1) * 100 */
	/* RGB 4:4:4, sRGB default, first timing is the native mode. */
	e[24] = 0x04 | 0x02;
	put_chromaticity(e);
	/* 35-37: no established timings; 38-53: standard timings unused. */
	for (int i = 38; i < 54; i++)
		e[i] = 1;
	put_timing(e + 54, width, height, w_mm, h_mm);
	put_descriptor(e + 72, 0xfc, "minivmm");
	put_descriptor(e + 90, 0x10, "");
	put_descriptor(e + 108, 0x10, "");
	e[126] = 0;			/* no extension blocks */
	for (int i = 0; i < VIRTIO_GPU_EDID_SIZE - 1; i++)
		sum = (uint8_t)(sum + e[i]);
	e[127] = (uint8_t)(0x100 - sum);
}

uint32_t gpu_get_edid(struct virtio_gpu *g, struct gpu_cmd *cmd)
{
	const struct virtio_gpu_get_edid *c = (const void *)g->req;
	struct virtio_gpu_resp_edid *r = (void *)g->resp;

	/* As QEMU: a scanout we do not have is a bad parameter here. */
	if (le32toh(c->scanout) != 0)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	memset((uint8_t *)r + sizeof(r->hdr), 0, sizeof(*r) - sizeof(r->hdr));
	r->size = htole32(VIRTIO_GPU_EDID_SIZE);
	virtio_gpu_edid(r->edid, g->width, g->height);
	cmd->resp_len = sizeof(*r) - sizeof(r->hdr);
	return VIRTIO_GPU_RESP_OK_EDID;
}
