/* AML writer: byte-exact encodings checked against what iasl 20200925
 * produces for the same ASL, PkgLength width changes, and the sticky error
 * flag on misuse. */
#include "aml.h"
#include "check.h"

#include <stdlib.h>

/* Compares the writer's whole output with an expected byte string. */
static int same(const struct aml *a, const uint8_t *want, size_t n)
{
	if (a->error || a->len != n || memcmp(a->buf, want, n)) {
		fprintf(stderr, "  got (error %d, %zu bytes):", a->error, a->len);
		for (size_t i = 0; i < a->len && i < 64; i++)
			fprintf(stderr, " %02x", a->buf[i]);
		fprintf(stderr, "\n");
		return 0;
	}
	return 1;
}

#define SAME(a, ...)							\
	do {								\
		static const uint8_t _w[] = { __VA_ARGS__ };		\
		CHECK(same(a, _w, sizeof(_w)));				\
	} while (0)

/* Decodes the PkgLength at p: value, and its width in *n. */
static uint32_t pkglen(const uint8_t *p, size_t *n)
{
	size_t follow = p[0] >> 6;
	uint32_t v;

	if (!follow) {
		*n = 1;
		return p[0] & 0x3f;
	}
	v = p[0] & 0xf;
	for (size_t i = 1; i <= follow; i++)
		v |= (uint32_t)p[i] << (4 + 8 * (i - 1));
	*n = follow + 1;
	return v;
}

TEST(name_eisaid_matches_iasl)
{
	struct aml a;
	uint32_t v;

	aml_init(&a);
	aml_name_eisaid(&a, "_HID", "PNP0501");
	SAME(&a, 0x08, 0x5f, 0x48, 0x49, 0x44, 0x0c, 0x41, 0xd0, 0x05, 0x01);
	aml_free(&a);

	CHECK_EQ(aml_eisaid("PNP0A03", &v), 0);
	CHECK_EQ(v, 0x030ad041);
	CHECK_EQ(aml_eisaid("QEMU0001", &v), -1);	/* too long */
	CHECK_EQ(aml_eisaid("pnp0501", &v), -1);	/* lower case */
	CHECK_EQ(aml_eisaid("PNP050G", &v), -1);	/* not hex */
	CHECK_EQ(aml_eisaid("PN0501", &v), -1);		/* too short */
}

TEST(name_paths)
{
	struct aml a;

	aml_init(&a);
	aml_scope(&a, "\\_SB");
	aml_end(&a);
	SAME(&a, 0x10, 0x06, 0x5c, '_', 'S', 'B', '_');
	aml_free(&a);

	aml_init(&a);
	aml_scope(&a, "_SB_");
	aml_end(&a);
	SAME(&a, 0x10, 0x05, '_', 'S', 'B', '_');
	aml_free(&a);

	aml_init(&a);
	aml_scope(&a, "\\");
	aml_end(&a);
	SAME(&a, 0x10, 0x03, 0x5c, 0x00);
	aml_free(&a);

	aml_init(&a);
	aml_scope(&a, "\\_SB.PCI0");
	aml_end(&a);
	SAME(&a, 0x10, 0x0b, 0x5c, 0x2e, '_', 'S', 'B', '_',
	     'P', 'C', 'I', '0');
	aml_free(&a);

	aml_init(&a);
	aml_device(&a, "^^A.B.C9");
	aml_end(&a);
	SAME(&a, 0x5b, 0x82, 0x11, 0x5e, 0x5e, 0x2f, 0x03,
	     'A', '_', '_', '_', 'B', '_', '_', '_', 'C', '9', '_', '_');
	aml_free(&a);

	static const char *const bad[] = {
		"", "com1", "TOOLONG", "1ABC", "A..B", "A.", ".A", "\\\\A",
		"A-B", "^\\A",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		aml_init(&a);
		aml_device(&a, bad[i]);
		aml_end(&a);
		if (!a.error)
			fprintf(stderr, "  accepted bad name \"%s\"\n", bad[i]);
		CHECK(a.error);
		aml_free(&a);
	}
}

TEST(integers_take_the_shortest_form)
{
	static const struct {
		uint64_t v;
		uint8_t enc[9];
		size_t n;
	} t[] = {
		{ 0, { 0x00 }, 1 },
		{ 1, { 0x01 }, 1 },
		{ 2, { 0x0a, 0x02 }, 2 },
		{ 0xff, { 0x0a, 0xff }, 2 },
		{ 0x100, { 0x0b, 0x00, 0x01 }, 3 },
		{ 0xffff, { 0x0b, 0xff, 0xff }, 3 },
		{ 0x10000, { 0x0c, 0x00, 0x00, 0x01, 0x00 }, 5 },
		{ 0xffffffff, { 0x0c, 0xff, 0xff, 0xff, 0xff }, 5 },
		{ 0x100000000ULL,
		  { 0x0e, 0, 0, 0, 0, 0x01, 0, 0, 0 }, 9 },
		{ 0x0123456789abcdefULL,
		  { 0x0e, 0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01 }, 9 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct aml a;
		uint8_t want[14] = { 0x08, 'X', '_', '_', '_' };

		memcpy(want + 5, t[i].enc, t[i].n);
		aml_init(&a);
		aml_name_integer(&a, "X", t[i].v);
		CHECK(same(&a, want, 5 + t[i].n));
		aml_free(&a);
	}
}

TEST(strings_and_packages)
{
	struct aml a;
	static const uint64_t s5[4] = { 5, 0, 0, 0 };

	aml_init(&a);
	aml_name_string(&a, "_HID", "LNRO0005");
	SAME(&a, 0x08, '_', 'H', 'I', 'D', 0x0d,
	     'L', 'N', 'R', 'O', '0', '0', '0', '5', 0x00);
	aml_free(&a);

	aml_init(&a);
	aml_name_package_ints(&a, "_S5", s5, 4);
	SAME(&a, 0x08, '_', 'S', '5', '_', 0x12, 0x07, 0x04, 0x0a, 0x05,
	     0x00, 0x00, 0x00);
	aml_free(&a);

	aml_init(&a);
	aml_name_package_ints(&a, "EMPT", NULL, 0);
	SAME(&a, 0x08, 'E', 'M', 'P', 'T', 0x12, 0x02, 0x00);
	aml_free(&a);

	aml_init(&a);
	aml_name_string(&a, "STR", "caf\xc3\xa9");	/* not ASCII */
	CHECK(a.error);
	aml_free(&a);
}

TEST(pkglength_encoding_boundaries)
{
	uint8_t e[4];

	CHECK_EQ(aml_pkglength_encode(e, 0), 1);
	CHECK_EQ(e[0], 0x00);
	CHECK_EQ(aml_pkglength_encode(e, 63), 1);
	CHECK_EQ(e[0], 0x3f);
	CHECK_EQ(aml_pkglength_encode(e, 64), 2);
	CHECK_EQ(e[0], 0x40);
	CHECK_EQ(e[1], 0x04);
	CHECK_EQ(aml_pkglength_encode(e, 4095), 2);
	CHECK_EQ(e[0], 0x4f);
	CHECK_EQ(e[1], 0xff);
	CHECK_EQ(aml_pkglength_encode(e, 4096), 3);
	CHECK_EQ(e[0], 0x80);
	CHECK_EQ(e[1], 0x00);
	CHECK_EQ(e[2], 0x01);
	CHECK_EQ(aml_pkglength_encode(e, 0xfffff), 3);
	CHECK_EQ(e[0], 0x8f);
	CHECK_EQ(e[1], 0xff);
	CHECK_EQ(e[2], 0xff);
	CHECK_EQ(aml_pkglength_encode(e, 0x100000), 4);
	CHECK_EQ(e[0], 0xc0);
	CHECK_EQ(e[1], 0x00);
	CHECK_EQ(e[2], 0x00);
	CHECK_EQ(e[3], 0x01);
	CHECK_EQ(aml_pkglength_encode(e, 0x0fffffff), 4);
	CHECK_EQ(e[0], 0xcf);
	CHECK_EQ(e[3], 0xff);
	CHECK_EQ(aml_pkglength_encode(e, 0x10000000), 0);
}

/* Scope(ABCD) { Name(S___, "xxx...") } with a string of slen bytes: the
 * scope's body is 4 + 1 + 4 + 1 + slen + 1 = slen + 11 bytes. */
static void scope_with_string(size_t slen, size_t want_width,
			      uint32_t want_value)
{
	struct aml a;
	char *s = malloc(slen + 1);
	size_t n;

	if (!s) {
		CHECK(0);
		return;
	}
	memset(s, 'x', slen);
	s[slen] = 0;
	aml_init(&a);
	aml_scope(&a, "ABCD");
	aml_name_string(&a, "S", s);
	aml_end(&a);
	CHECK(!a.error);
	CHECK_EQ(a.len, 1 + want_width + slen + 11);
	if (a.len == 1 + want_width + slen + 11) {
		const uint8_t *body;

		CHECK_EQ(a.buf[0], 0x10);
		CHECK_EQ(pkglen(a.buf + 1, &n), want_value);
		CHECK_EQ(n, want_width);
		/* The body moved intact behind the wider PkgLength. */
		body = a.buf + 1 + n;
		CHECK(!memcmp(body, "ABCD\x08S___\x0d", 10));
		CHECK(!memcmp(body + 10, s, slen));
		CHECK_EQ(body[10 + slen], 0);
	}
	aml_free(&a);
	free(s);
}

TEST(pkglength_grows_in_place)
{
	scope_with_string(51, 1, 63);		/* body 62: the 1-byte limit */
	scope_with_string(52, 2, 65);		/* body 63: 2 bytes */
	scope_with_string(4082, 2, 4095);	/* body 4093: 2-byte limit */
	scope_with_string(4083, 3, 4097);	/* body 4094: 3 bytes */
	scope_with_string(0xfffff - 3 - 11, 3, 0xfffff);
	scope_with_string(0xfffff - 3 - 10, 4, 0xfffff - 3 - 10 + 11 + 4);
}

TEST(nested_scopes_all_widen)
{
	struct aml a;
	size_t n1, n2;
	uint32_t outer, inner;
	char s[200];

	memset(s, 'y', sizeof(s) - 1);
	s[sizeof(s) - 1] = 0;
	aml_init(&a);
	aml_scope(&a, "\\_SB");
	aml_device(&a, "DEV0");
	aml_name_string(&a, "STR0", s);
	aml_end(&a);
	aml_name_integer(&a, "INT0", 7);
	aml_end(&a);
	CHECK(!a.error);
	CHECK_EQ(a.depth, 0);
	/* outer: 10 PL 5C _SB_ [5B 82 PL DEV0 Name...] Name(INT0, 7) */
	outer = pkglen(a.buf + 1, &n1);
	CHECK_EQ(n1, 2);
	CHECK_EQ(1 + outer, a.len);
	CHECK_EQ(a.buf[1 + n1 + 5], 0x5b);
	CHECK_EQ(a.buf[1 + n1 + 6], 0x82);
	inner = pkglen(a.buf + 1 + n1 + 7, &n2);
	CHECK_EQ(n2, 2);
	CHECK_EQ(inner, n2 + 4 + 1 + 4 + 1 + 200);
	CHECK(!memcmp(a.buf + a.len - 7, "\x08INT0\x0a\x07", 7));
	aml_free(&a);
}

/* The COM1 device the serial port adds and one virtio-mmio device, byte
 * for byte as iasl compiles the equivalent ASL. */
TEST(com1_and_virtio_devices_match_iasl)
{
	struct aml a;

	aml_init(&a);
	aml_device(&a, "COM1");
	aml_name_eisaid(&a, "_HID", "PNP0501");
	aml_name_integer(&a, "_UID", 1);
	aml_crs_begin(&a);
	aml_crs_io(&a, 0x3f8, 8);
	aml_crs_irq(&a, 4);
	aml_crs_end(&a);
	aml_end(&a);
	aml_device(&a, "VR00");
	aml_name_string(&a, "_HID", "LNRO0005");
	aml_name_integer(&a, "_UID", 0);
	aml_crs_begin(&a);
	aml_crs_memory32(&a, 0xd0000000, 0x1000);
	aml_crs_interrupt(&a, 16, 0);
	aml_crs_end(&a);
	aml_end(&a);
	SAME(&a,
	     0x5b, 0x82, 0x2b, 'C', 'O', 'M', '1',
	     0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x05, 0x01,
	     0x08, '_', 'U', 'I', 'D', 0x01,
	     0x08, '_', 'C', 'R', 'S', 0x11, 0x10, 0x0a, 0x0d,
	     0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,
	     0x22, 0x10, 0x00,
	     0x79, 0x00,
	     0x5b, 0x82, 0x3a, 'V', 'R', '0', '0',
	     0x08, '_', 'H', 'I', 'D', 0x0d,
	     'L', 'N', 'R', 'O', '0', '0', '0', '5', 0x00,
	     0x08, '_', 'U', 'I', 'D', 0x00,
	     0x08, '_', 'C', 'R', 'S', 0x11, 0x1a, 0x0a, 0x17,
	     0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xd0,
	     0x00, 0x10, 0x00, 0x00,
	     0x89, 0x06, 0x00, 0x01, 0x01, 0x10, 0x00, 0x00, 0x00,
	     0x79, 0x00);
	aml_free(&a);
}

TEST(edge_interrupt_flag)
{
	struct aml a;

	aml_init(&a);
	aml_crs_begin(&a);
	aml_crs_interrupt(&a, 0x12345678, 1);
	aml_crs_end(&a);
	SAME(&a, 0x08, '_', 'C', 'R', 'S', 0x11, 0x0e, 0x0a, 0x0b,
	     0x89, 0x06, 0x00, 0x03, 0x01, 0x78, 0x56, 0x34, 0x12,
	     0x79, 0x00);
	aml_free(&a);
}

TEST(large_resource_template_size_widens)
{
	struct aml a;
	size_t n;

	/* 40 I/O descriptors: 322 template bytes, so BufferSize needs a
	 * WordConst and the Buffer's PkgLength two bytes. */
	aml_init(&a);
	aml_crs_begin(&a);
	for (int i = 0; i < 40; i++)
		aml_crs_io(&a, (uint16_t)(0x100 + i), 1);
	aml_crs_end(&a);
	CHECK(!a.error);
	CHECK_EQ(a.buf[5], 0x11);
	CHECK_EQ(pkglen(a.buf + 6, &n), n + 3 + 40 * 8 + 2);
	CHECK_EQ(n, 2);
	CHECK_EQ(a.buf[6 + n], 0x0b);
	CHECK_EQ(a.buf[7 + n] | a.buf[8 + n] << 8, 40 * 8 + 2);
	CHECK_EQ(a.buf[9 + n], 0x47);
	CHECK_EQ(a.len, 6 + n + 3 + 40 * 8 + 2);
	aml_free(&a);
}

TEST(misuse_sets_sticky_error)
{
	struct aml a;

	aml_init(&a);
	aml_end(&a);			/* nothing open */
	CHECK(a.error);
	aml_scope(&a, "_SB");
	aml_end(&a);
	CHECK(a.error);			/* stays set */
	CHECK_EQ(a.len, 0);		/* and nothing more is written */
	aml_free(&a);

	aml_init(&a);
	aml_crs_io(&a, 0x3f8, 8);	/* descriptor outside a template */
	CHECK(a.error);
	aml_free(&a);

	aml_init(&a);
	aml_crs_begin(&a);
	aml_device(&a, "DEV0");		/* named object inside a template */
	CHECK(a.error);
	aml_free(&a);

	aml_init(&a);
	aml_crs_begin(&a);
	aml_end(&a);			/* template closed the wrong way */
	CHECK(a.error);
	aml_free(&a);

	aml_init(&a);
	aml_device(&a, "DEV0");
	aml_crs_end(&a);		/* no template open */
	CHECK(a.error);
	aml_free(&a);

	aml_init(&a);
	aml_crs_begin(&a);
	aml_crs_irq(&a, 16);		/* not an ISA IRQ */
	CHECK(a.error);
	aml_free(&a);

	aml_init(&a);
	aml_name_eisaid(&a, "_HID", "PNP05O1");
	CHECK(a.error);
	aml_free(&a);

	aml_init(&a);
	for (int i = 0; i < 17; i++)	/* deeper than open[] */
		aml_scope(&a, "S");
	CHECK(a.error);
	aml_free(&a);

	aml_init(&a);
	for (int i = 0; i < 16; i++)
		aml_scope(&a, "S");
	for (int i = 0; i < 16; i++)
		aml_end(&a);
	CHECK(!a.error);
	CHECK_EQ(a.depth, 0);
	aml_free(&a);
}

int main(void)
{
	RUN(name_eisaid_matches_iasl);
	RUN(name_paths);
	RUN(integers_take_the_shortest_form);
	RUN(strings_and_packages);
	RUN(pkglength_encoding_boundaries);
	RUN(pkglength_grows_in_place);
	RUN(nested_scopes_all_widen);
	RUN(com1_and_virtio_devices_match_iasl);
	RUN(edge_interrupt_flag);
	RUN(large_resource_template_size_widens);
	RUN(misuse_sets_sticky_error);
	return CHECK_DONE();
}
