/* A look at a SUBMIT_3D command stream before virglrenderer decodes it.
 * virglrenderer validates streams itself; this only closes the holes
 * found in the version we build against (Debian's 0.10.4), where a
 * guest's stream crashed the host process instead of failing:
 *
 *  - SET_SHADER_IMAGES takes each image's format from the guest and
 *    indexes a format table with it unchecked (found by the structured
 *    fuzzing in tests/unit/test_virtio_gpu_virgl.c).
 *
 * The walk follows the dword headers (opcode, object type, length) with
 * every length checked against what is left. */
#include "gpu_virgl_priv.h"

#include <endian.h>

#define OP(hdr)		((hdr) & 0xff)
#define LEN(hdr)	((hdr) >> 16)

#define CCMD_SET_SHADER_IMAGES	35
#define IMAGE_DWORDS		5	/* format, access, offset, size, handle */
#define FORMAT_LIMIT		322	/* virglrenderer 0.10's format table */

static int images_ok(const uint32_t *c, uint32_t len)
{
	/* shader type, start slot, then the images. */
	for (uint32_t at = 2; at + IMAGE_DWORDS <= len; at += IMAGE_DWORDS)
		if (le32toh(c[1 + at]) >= FORMAT_LIMIT)
			return 0;
	return 1;
}

int vg_stream_ok(const uint32_t *dw, uint32_t n)
{
	uint32_t at = 0;

	while (at < n) {
		uint32_t hdr = le32toh(dw[at]), len = LEN(hdr);

		if (len > n - at - 1)
			return 1;	/* virglrenderer refuses it */
		if (OP(hdr) == CCMD_SET_SHADER_IMAGES && !images_ok(dw + at, len))
			return 0;
		at += 1 + len;
	}
	return 1;
}
