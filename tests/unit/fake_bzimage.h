/* Builds small synthetic bzImages for the boot tests.  Fields are written
 * at their boot.rst offsets by hand, not through boot/bootparam.h, so the
 * tests check those offsets instead of trusting them. */
#ifndef MINIVMM_FAKE_BZIMAGE_H
#define MINIVMM_FAKE_BZIMAGE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline void put16(uint8_t *p, size_t off, uint16_t v)
{
	memcpy(p + off, &v, sizeof(v));
}

static inline void put32(uint8_t *p, size_t off, uint32_t v)
{
	memcpy(p + off, &v, sizeof(v));
}

static inline void put64(uint8_t *p, size_t off, uint64_t v)
{
	memcpy(p + off, &v, sizeof(v));
}

static inline uint16_t get16(const uint8_t *p, size_t off)
{
	uint16_t v;
	memcpy(&v, p + off, sizeof(v));
	return v;
}

static inline uint32_t get32(const uint8_t *p, size_t off)
{
	uint32_t v;
	memcpy(&v, p + off, sizeof(v));
	return v;
}

static inline uint64_t get64(const uint8_t *p, size_t off)
{
	uint64_t v;
	memcpy(&v, p + off, sizeof(v));
	return v;
}

#define FAKE_SETUP_SECTS	8
#define FAKE_INIT_SIZE		0x400000u	/* 4 MiB */
#define FAKE_PREF_ADDRESS	0x1000000u	/* 16 MiB, as distributions */
#define FAKE_INITRD_ADDR_MAX	0x7fffffffu
#define FAKE_CMDLINE_SIZE	2047u

static inline uint8_t fake_payload_byte(size_t i)
{
	return (uint8_t)(i * 7 + 3);
}

/* A valid protocol-2.15 x86_64 bzImage with `payload` kernel bytes after
 * FAKE_SETUP_SECTS setup sectors; free() it.  *size gets the file size. */
static inline uint8_t *fake_bzimage(size_t payload, size_t *size)
{
	size_t setup = (FAKE_SETUP_SECTS + 1) * 512;
	uint8_t *img = calloc(1, setup + payload);

	if (!img)
		abort();
	img[0x1f1] = FAKE_SETUP_SECTS;
	put32(img, 0x1f4, (uint32_t)((payload + 15) / 16));	/* syssize */
	put16(img, 0x1fe, 0xaa55);
	img[0x200] = 0xeb;			/* jmp short past the header */
	img[0x201] = 0x26c - 0x202;
	memcpy(img + 0x202, "HdrS", 4);
	put16(img, 0x206, 0x020f);		/* version 2.15 */
	img[0x211] = 0x01;			/* loadflags: LOADED_HIGH */
	put32(img, 0x214, 0x100000);		/* code32_start */
	put32(img, 0x22c, FAKE_INITRD_ADDR_MAX);
	put32(img, 0x230, 0x200000);		/* kernel_alignment */
	img[0x234] = 1;				/* relocatable_kernel */
	put16(img, 0x236, 0x3);			/* XLF_KERNEL_64 | above 4G */
	put32(img, 0x238, FAKE_CMDLINE_SIZE);
	put64(img, 0x258, FAKE_PREF_ADDRESS);
	put32(img, 0x260, FAKE_INIT_SIZE);
	for (size_t i = 0; i < payload; i++)
		img[setup + i] = fake_payload_byte(i);
	*size = setup + payload;
	return img;
}

#endif
