/* bzimage_parse: good images give the right fields, each kind of bad file
 * its own message, and a real Debian kernel (when built) parses. */
#include <stdio.h>
#include <stdlib.h>
#include "boot.h"
#include "check.h"
#include "fake_bzimage.h"

#define SETUP_BYTES	((FAKE_SETUP_SECTS + 1) * 512)
#define PAYLOAD		0x3001	/* odd on purpose: syssize rounds up */

/* Parses and returns the message, or NULL when the image is accepted. */
static const char *parse_why(const uint8_t *img, size_t size)
{
	struct bzimage_info bi;
	const char *why = "unset";

	if (bzimage_parse(img, size, &bi, &why) == 0)
		return NULL;
	if (!why || !*why)
		return "(error without a message)";
	return why;
}

static int contains(const char *s, const char *sub)
{
	return s && strstr(s, sub);
}

TEST(test_good_image)
{
	size_t size;
	uint8_t *img = fake_bzimage(PAYLOAD, &size);
	struct bzimage_info bi;
	const char *why = "unset";

	CHECK_EQ(bzimage_parse(img, size, &bi, &why), 0);
	CHECK(why == NULL);
	CHECK_EQ(bi.version, 0x020f);
	CHECK_EQ(bi.setup_size, SETUP_BYTES);
	CHECK_EQ(bi.payload_offset, SETUP_BYTES);
	CHECK_EQ(bi.payload_size, PAYLOAD);
	CHECK_EQ(bi.init_size, FAKE_INIT_SIZE);
	CHECK_EQ(bi.initrd_addr_max, FAKE_INITRD_ADDR_MAX);
	CHECK_EQ(bi.cmdline_size, FAKE_CMDLINE_SIZE);
	CHECK_EQ(bi.kernel_alignment, 0x200000);
	CHECK_EQ(bi.pref_address, FAKE_PREF_ADDRESS);
	CHECK_EQ(bi.relocatable, 1);
	free(img);
}

TEST(test_setup_sects_zero_means_four)
{
	size_t size;
	uint8_t *img = fake_bzimage(PAYLOAD, &size);
	struct bzimage_info bi;
	const char *why;

	img[0x1f1] = 0;
	CHECK_EQ(bzimage_parse(img, size, &bi, &why), 0);
	CHECK_EQ(bi.setup_size, 5 * 512);
	CHECK_EQ(bi.payload_offset, 5 * 512);
	CHECK_EQ(bi.payload_size, size - 5 * 512);
	free(img);
}

TEST(test_minimum_protocol_and_fields)
{
	size_t size;
	uint8_t *img = fake_bzimage(PAYLOAD, &size);
	struct bzimage_info bi;
	const char *why;

	put16(img, 0x206, 0x020c);	/* 2.12 is enough */
	img[0x234] = 0;			/* not relocatable */
	CHECK_EQ(bzimage_parse(img, size, &bi, &why), 0);
	CHECK_EQ(bi.version, 0x020c);
	CHECK_EQ(bi.relocatable, 0);
	free(img);
}

TEST(test_syssize_consistency)
{
	size_t size;
	uint8_t *img = fake_bzimage(PAYLOAD, &size);
	uint32_t sys = get32(img, 0x1f4);

	/* Extra bytes after the kernel (an appended signature) are fine. */
	put32(img, 0x1f4, sys - 0x10);
	CHECK(parse_why(img, size) == NULL);
	/* One paragraph more than the file holds is a truncated file. */
	put32(img, 0x1f4, sys + 1);
	CHECK(contains(parse_why(img, size), "truncated"));
	put32(img, 0x1f4, 0);
	CHECK(contains(parse_why(img, size), "syssize"));
	put32(img, 0x1f4, 0xffffffff);
	CHECK(contains(parse_why(img, size), "truncated"));
	free(img);
}

TEST(test_truncated_payload)
{
	size_t size;
	uint8_t *img = fake_bzimage(PAYLOAD, &size);

	CHECK(parse_why(img, size) == NULL);
	CHECK(contains(parse_why(img, size - 0x100), "kernel is truncated"));
	/* Exactly the setup sectors: nothing to boot. */
	CHECK(contains(parse_why(img, SETUP_BYTES), "no protected-mode kernel"));
	free(img);
}

TEST(test_setup_sects_beyond_file)
{
	size_t size;
	uint8_t *img = fake_bzimage(PAYLOAD, &size);

	img[0x1f1] = 255;	/* 128 KiB of setup in a ~16 KiB file */
	CHECK(contains(parse_why(img, size), "setup sectors run past"));
	free(img);
}

TEST(test_short_and_empty_files)
{
	size_t size;
	uint8_t *img = fake_bzimage(PAYLOAD, &size);

	CHECK(contains(parse_why(img, 0), "empty"));
	CHECK(contains(parse_why(img, 0x26b), "too short"));
	CHECK(contains(parse_why(img, 1), "too short"));
	free(img);
}

TEST(test_signatures)
{
	size_t size;
	uint8_t *img = fake_bzimage(PAYLOAD, &size);

	put16(img, 0x1fe, 0x55aa);
	CHECK(contains(parse_why(img, size), "0xAA55"));
	put16(img, 0x1fe, 0xaa55);
	img[0x205] = 'T';
	CHECK(contains(parse_why(img, size), "no HdrS signature"));
	free(img);
}

TEST(test_elf_vmlinux)
{
	size_t size;
	uint8_t *img = fake_bzimage(PAYLOAD, &size);

	memcpy(img, "\177ELF\2\1\1", 7);
	CHECK(contains(parse_why(img, size), "ELF vmlinux, minivmm needs a bzImage"));
	CHECK(contains(parse_why(img, 64), "ELF vmlinux"));	/* even when short */
	free(img);
}

TEST(test_old_protocol)
{
	size_t size;
	uint8_t *img = fake_bzimage(PAYLOAD, &size);
	struct bzimage_info bi;
	const char *why;

	put16(img, 0x206, 0x020b);
	CHECK_EQ(bzimage_parse(img, size, &bi, &why), -1);
	CHECK(contains(why, "2.11 too old"));
	CHECK(contains(why, "need 2.12"));
	CHECK_EQ(bi.version, 0x020b);	/* reported for the caller too */
	put16(img, 0x206, 0x0200);
	CHECK(contains(parse_why(img, size), "2.00 too old"));
	free(img);
}

TEST(test_zimage_refused)
{
	size_t size;
	uint8_t *img = fake_bzimage(PAYLOAD, &size);

	img[0x211] = 0;		/* loadflags without LOADED_HIGH */
	CHECK(contains(parse_why(img, size), "zImage"));
	free(img);
}

TEST(test_32bit_kernel_refused)
{
	size_t size;
	uint8_t *img = fake_bzimage(PAYLOAD, &size);

	put16(img, 0x236, 0x2);	/* above-4G but no XLF_KERNEL_64 */
	CHECK(contains(parse_why(img, size), "64-bit entry"));
	free(img);
}

TEST(test_bad_alignment_refused)
{
	size_t size;
	uint8_t *img = fake_bzimage(PAYLOAD, &size);

	put32(img, 0x230, 0x300000);
	CHECK(contains(parse_why(img, size), "kernel_alignment"));
	put32(img, 0x230, 0);
	CHECK(contains(parse_why(img, size), "kernel_alignment"));
	img[0x234] = 0;		/* unused when not relocatable */
	CHECK(parse_why(img, size) == NULL);
	free(img);
}

/* Every refusal says something different, so a user can tell them apart. */
TEST(test_messages_are_distinct)
{
	size_t size;
	uint8_t *img = fake_bzimage(PAYLOAD, &size);
	const char *msgs[16];
	unsigned n = 0;

#define CORRUPT(stmt, len)						\
	do {								\
		uint8_t *c = malloc(size);				\
		memcpy(c, img, size);					\
		stmt;							\
		msgs[n++] = parse_why(c, len);				\
		free(c);						\
	} while (0)
	CORRUPT((void)0, 0);
	CORRUPT((void)0, 100);
	CORRUPT(memcpy(c, "\177ELF", 4), size);
	CORRUPT(c[0x202] = 0, size);
	CORRUPT(c[0x1fe] = 0, size);
	CORRUPT(c[0x211] = 0, size);
	CORRUPT(c[0x236] = 0, size);
	CORRUPT(c[0x1f1] = 200, size);
	CORRUPT((void)0, SETUP_BYTES);
	CORRUPT((void)0, size - 32);
	CORRUPT(put32(c, 0x1f4, 0), size);
	CORRUPT(put32(c, 0x230, 3), size);
#undef CORRUPT
	/* The old-protocol message is formatted; check it last (it may be
	 * reused on the next call). */
	for (unsigned i = 0; i < n; i++) {
		CHECK(msgs[i] != NULL);
		for (unsigned j = 0; j < i; j++)
			CHECK(!msgs[i] || !msgs[j] || strcmp(msgs[i], msgs[j]));
	}
	put16(img, 0x206, 0x0201);
	const char *old = parse_why(img, size);
	CHECK(contains(old, "too old"));
	for (unsigned i = 0; i < n; i++)
		CHECK(!msgs[i] || strcmp(old, msgs[i]));
	free(img);
}

static uint8_t *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc(len)) &&
	    fread(buf, 1, len, f) != (size_t)len) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*size = buf ? (size_t)len : 0;
	return buf;
}

#define REAL_KERNEL "build/guest/vmlinuz"

/* Debian's stock kernel, as tools/mkguest.sh fetches it. */
TEST(test_real_kernel)
{
	size_t size;
	uint8_t *img = read_file(REAL_KERNEL, &size);
	struct bzimage_info bi;
	const char *why = NULL;

	CHECK(img != NULL);
	CHECK_EQ(bzimage_parse(img, size, &bi, &why), 0);
	if (why)
		fprintf(stderr, "  %s: %s\n", REAL_KERNEL, why);
	CHECK(bi.version >= 0x020f);
	CHECK(bi.relocatable);
	CHECK(bi.payload_size > 1 << 20);
	CHECK(bi.init_size > bi.payload_size);
	CHECK(bi.cmdline_size >= 255);
	CHECK(bi.initrd_addr_max >= 0x37ffffff);
	CHECK_EQ(bi.payload_offset, bi.setup_size);
	free(img);
}

int main(void)
{
	FILE *f;

	RUN(test_good_image);
	RUN(test_setup_sects_zero_means_four);
	RUN(test_minimum_protocol_and_fields);
	RUN(test_syssize_consistency);
	RUN(test_truncated_payload);
	RUN(test_setup_sects_beyond_file);
	RUN(test_short_and_empty_files);
	RUN(test_signatures);
	RUN(test_elf_vmlinux);
	RUN(test_old_protocol);
	RUN(test_zimage_refused);
	RUN(test_32bit_kernel_refused);
	RUN(test_bad_alignment_refused);
	RUN(test_messages_are_distinct);
	/* Loudly skipped, never counted as passed, when not built yet. */
	if ((f = fopen(REAL_KERNEL, "rb"))) {
		fclose(f);
		RUN(test_real_kernel);
	} else {
		printf("SKIP test_real_kernel (no %s: run make guest)\n", REAL_KERNEL);
	}
	return CHECK_DONE();
}
