/* AML writer: appends encoded terms to a growable buffer.  Scopes, devices,
 * packages and buffers get a one-byte PkgLength placeholder when opened;
 * aml_end() widens it in place (memmove) once the body length is known,
 * which keeps every writer a plain append. */
#include "aml.h"

#include <stdlib.h>
#include <string.h>

#define AML_NAME_OP	0x08
#define AML_SCOPE_OP	0x10
#define AML_BUFFER_OP	0x11
#define AML_PACKAGE_OP	0x12
#define AML_EXT_PREFIX	0x5b
#define AML_DEVICE_OP	0x82
#define AML_ZERO_OP	0x00
#define AML_ONE_OP	0x01
#define AML_BYTE_PREFIX	0x0a
#define AML_WORD_PREFIX	0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_STRING_PREFIX 0x0d
#define AML_QWORD_PREFIX 0x0e
#define AML_DUAL_NAME	0x2e
#define AML_MULTI_NAME	0x2f
#define AML_ROOT_CHAR	0x5c
#define AML_PARENT_CHAR	0x5e

/* Small resource descriptor tags (ACPI 6.5, 6.4.2) and large ones (6.4.3). */
#define RES_IRQ_NOFLAGS	0x22
#define RES_IO		0x47
#define RES_END_TAG	0x79
#define RES_MEMORY32_FIXED 0x86
#define RES_EXT_IRQ	0x89

#define PKGLEN_MAX	0x0fffffffu	/* 28 bits: the 4-byte form's limit */

void aml_init(struct aml *a)
{
	memset(a, 0, sizeof(*a));
}

void aml_free(struct aml *a)
{
	free(a->buf);
	aml_init(a);
}

static int reserve(struct aml *a, size_t more)
{
	size_t need, cap;

	if (a->error)
		return -1;
	if (__builtin_add_overflow(a->len, more, &need))
		goto fail;
	if (need <= a->cap)
		return 0;
	cap = a->cap ? a->cap : 256;
	while (cap < need)
		if (__builtin_mul_overflow(cap, 2, &cap))
			goto fail;
	uint8_t *nb = realloc(a->buf, cap);
	if (!nb)
		goto fail;
	a->buf = nb;
	a->cap = cap;
	return 0;
fail:
	a->error = 1;
	return -1;
}

static void emit(struct aml *a, const void *p, size_t n)
{
	if (reserve(a, n))
		return;
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void emit_byte(struct aml *a, uint8_t b)
{
	emit(a, &b, 1);
}

static void emit_le(struct aml *a, uint64_t v, unsigned bytes)
{
	uint8_t b[8];

	for (unsigned i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	emit(a, b, bytes);
}

size_t aml_pkglength_encode(uint8_t out[4], uint32_t value)
{
	size_t n;

	if (value <= 0x3f) {
		out[0] = (uint8_t)value;
		return 1;
	}
	if (value > PKGLEN_MAX)
		return 0;
	/* Lead byte: bits 7-6 = count of following bytes, bits 3-0 = the
	 * low nibble; the following bytes carry the rest, little-endian. */
	n = value <= 0xfff ? 2 : value <= 0xfffff ? 3 : 4;
	out[0] = (uint8_t)(((n - 1) << 6) | (value & 0xf));
	for (size_t i = 1; i < n; i++)
		out[i] = (uint8_t)(value >> (4 + 8 * (i - 1)));
	return n;
}

/* Writes a NameString: optional '\' or '^'s, then segments separated by
 * '.', each 1-4 characters padded with '_'.  Returns -1 on a bad name. */
static int emit_namestring(struct aml *a, const char *name)
{
	uint8_t segs[255][4];
	unsigned nseg = 0;
	const char *p = name;

	if (!name)
		goto bad;
	if (*p == '\\') {
		emit_byte(a, AML_ROOT_CHAR);
		p++;
	} else {
		while (*p == '^') {
			emit_byte(a, AML_PARENT_CHAR);
			p++;
		}
	}
	while (*p) {
		unsigned n = 0;

		if (nseg == 255)
			goto bad;
		while (*p && *p != '.') {
			char c = *p++;
			int ok = (c >= 'A' && c <= 'Z') || c == '_' ||
				 (n > 0 && c >= '0' && c <= '9');
			if (!ok || n == 4)
				goto bad;
			segs[nseg][n++] = (uint8_t)c;
		}
		if (n == 0)
			goto bad;
		while (n < 4)
			segs[nseg][n++] = '_';
		nseg++;
		if (*p == '.' && !*++p)
			goto bad;	/* trailing dot */
	}
	if (nseg == 0) {
		if (p == name)
			goto bad;	/* "" names nothing */
		emit_byte(a, 0x00);	/* NullName: plain "\" */
	} else if (nseg == 2) {
		emit_byte(a, AML_DUAL_NAME);
	} else if (nseg > 2) {
		emit_byte(a, AML_MULTI_NAME);
		emit_byte(a, (uint8_t)nseg);
	}
	emit(a, segs, 4 * (size_t)nseg);
	return 0;
bad:
	a->error = 1;
	return -1;
}

static void emit_integer(struct aml *a, uint64_t v)
{
	if (v == 0) {
		emit_byte(a, AML_ZERO_OP);
	} else if (v == 1) {
		emit_byte(a, AML_ONE_OP);
	} else if (v <= 0xff) {
		emit_byte(a, AML_BYTE_PREFIX);
		emit_le(a, v, 1);
	} else if (v <= 0xffff) {
		emit_byte(a, AML_WORD_PREFIX);
		emit_le(a, v, 2);
	} else if (v <= 0xffffffff) {
		emit_byte(a, AML_DWORD_PREFIX);
		emit_le(a, v, 4);
	} else {
		emit_byte(a, AML_QWORD_PREFIX);
		emit_le(a, v, 8);
	}
}

/* Opens a PkgLength-prefixed body: the caller has written the opcode. */
static void open_pkg(struct aml *a)
{
	if (a->error)
		return;
	if (a->depth == sizeof(a->open) / sizeof(a->open[0])) {
		a->error = 1;
		return;
	}
	a->open[a->depth++] = a->len;
	emit_byte(a, 0);	/* placeholder, widened by close_pkg */
}

static void close_pkg(struct aml *a)
{
	uint8_t enc[4];
	size_t off, body, n;

	if (a->error)
		return;
	if (a->depth == 0) {
		a->error = 1;
		return;
	}
	off = a->open[--a->depth];
	body = a->len - off - 1;
	/* PkgLength counts its own bytes too, so try each width in turn. */
	n = 0;
	for (size_t w = 1; w <= 4 && !n; w++) {
		if (body + w > PKGLEN_MAX)
			break;
		if (aml_pkglength_encode(enc, (uint32_t)(body + w)) == w)
			n = w;
	}
	if (!n || reserve(a, n - 1)) {
		a->error = 1;
		return;
	}
	memmove(a->buf + off + n, a->buf + off + 1, body);
	memcpy(a->buf + off, enc, n);
	a->len += n - 1;
}

/* True when the innermost open body is a resource-template Buffer. */
static int in_crs(const struct aml *a)
{
	return a->depth && a->buf[a->open[a->depth - 1] - 1] == AML_BUFFER_OP;
}

/* Named objects may not appear inside a resource template. */
static int term_ok(struct aml *a)
{
	if (a->error)
		return 0;
	if (in_crs(a)) {
		a->error = 1;
		return 0;
	}
	return 1;
}

void aml_scope(struct aml *a, const char *name)
{
	if (!term_ok(a))
		return;
	emit_byte(a, AML_SCOPE_OP);
	open_pkg(a);
	emit_namestring(a, name);
}

void aml_device(struct aml *a, const char *name)
{
	if (!term_ok(a))
		return;
	emit_byte(a, AML_EXT_PREFIX);
	emit_byte(a, AML_DEVICE_OP);
	open_pkg(a);
	emit_namestring(a, name);
}

void aml_end(struct aml *a)
{
	if (a->error)
		return;
	if (in_crs(a)) {	/* a template closes with aml_crs_end */
		a->error = 1;
		return;
	}
	close_pkg(a);
}

static void name_op(struct aml *a, const char *name)
{
	emit_byte(a, AML_NAME_OP);
	emit_namestring(a, name);
}

static void emit_string(struct aml *a, const char *s)
{
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p > 0x7f) {	/* AML strings are ASCII */
			a->error = 1;
			return;
		}
	emit_byte(a, AML_STRING_PREFIX);
	emit(a, s, strlen(s) + 1);
}

void aml_name_string(struct aml *a, const char *name, const char *value)
{
	if (!term_ok(a) || !value) {
		a->error = 1;
		return;
	}
	name_op(a, name);
	emit_string(a, value);
}

void aml_name_integer(struct aml *a, const char *name, uint64_t value)
{
	if (!term_ok(a))
		return;
	name_op(a, name);
	emit_integer(a, value);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int aml_eisaid(const char *id, uint32_t *out)
{
	uint32_t v;
	int h[4];

	if (!id || strlen(id) != 7)
		return -1;
	for (int i = 0; i < 3; i++)
		if (id[i] < 'A' || id[i] > 'Z')
			return -1;
	for (int i = 0; i < 4; i++)
		if ((h[i] = hexval(id[3 + i])) < 0)
			return -1;
	/* Three 5-bit letters (A = 1) then four hex digits, stored so the
	 * bytes read in the ID's own order (big-endian in a little-endian
	 * DWord). */
	uint8_t b0 = (uint8_t)(((id[0] - 0x40) << 2) | ((id[1] - 0x40) >> 3));
	uint8_t b1 = (uint8_t)((((id[1] - 0x40) & 7) << 5) | (id[2] - 0x40));
	uint8_t b2 = (uint8_t)(h[0] << 4 | h[1]);
	uint8_t b3 = (uint8_t)(h[2] << 4 | h[3]);
	v = (uint32_t)b0 | (uint32_t)b1 << 8 | (uint32_t)b2 << 16 |
	    (uint32_t)b3 << 24;
	*out = v;
	return 0;
}

void aml_name_eisaid(struct aml *a, const char *name, const char *eisaid)
{
	uint32_t v;

	if (!term_ok(a))
		return;
	if (aml_eisaid(eisaid, &v)) {
		a->error = 1;
		return;
	}
	name_op(a, name);
	/* Always a DWord, as iasl emits it, even when a shorter form fits. */
	emit_byte(a, AML_DWORD_PREFIX);
	emit_le(a, v, 4);
}

void aml_name_package_ints(struct aml *a, const char *name,
			   const uint64_t *vals, unsigned n)
{
	if (!term_ok(a))
		return;
	if (n > 255 || (n && !vals)) {	/* NumElements is one byte */
		a->error = 1;
		return;
	}
	name_op(a, name);
	emit_byte(a, AML_PACKAGE_OP);
	open_pkg(a);
	emit_byte(a, (uint8_t)n);
	for (unsigned i = 0; i < n; i++)
		emit_integer(a, vals[i]);
	close_pkg(a);
}

void aml_crs_begin(struct aml *a)
{
	if (!term_ok(a))
		return;
	name_op(a, "_CRS");
	emit_byte(a, AML_BUFFER_OP);
	open_pkg(a);
	/* BufferSize goes here; aml_crs_end inserts it once known. */
}

/* Descriptors may only be added between aml_crs_begin and aml_crs_end. */
static int crs_ok(struct aml *a)
{
	if (a->error)
		return 0;
	if (!in_crs(a)) {
		a->error = 1;
		return 0;
	}
	return 1;
}

void aml_crs_io(struct aml *a, uint16_t port, uint8_t len)
{
	if (!crs_ok(a))
		return;
	if (len == 0) {
		a->error = 1;
		return;
	}
	/* IO(Decode16, port, port, 1, len): one fixed range. */
	emit_byte(a, RES_IO);
	emit_byte(a, 0x01);		/* 16-bit address decode */
	emit_le(a, port, 2);		/* range minimum */
	emit_le(a, port, 2);		/* range maximum */
	emit_byte(a, 1);		/* alignment */
	emit_byte(a, len);
}

void aml_crs_irq(struct aml *a, uint8_t irq)
{
	if (!crs_ok(a))
		return;
	if (irq > 15) {		/* an ISA IRQ mask has 16 bits */
		a->error = 1;
		return;
	}
	emit_byte(a, RES_IRQ_NOFLAGS);
	emit_le(a, 1u << irq, 2);
}

void aml_crs_memory32(struct aml *a, uint32_t base, uint32_t len)
{
	if (!crs_ok(a))
		return;
	emit_byte(a, RES_MEMORY32_FIXED);
	emit_le(a, 9, 2);		/* length of the body below */
	emit_byte(a, 0x01);		/* read-write */
	emit_le(a, base, 4);
	emit_le(a, len, 4);
}

void aml_crs_interrupt(struct aml *a, uint32_t gsi, int edge)
{
	if (!crs_ok(a))
		return;
	emit_byte(a, RES_EXT_IRQ);
	emit_le(a, 6, 2);		/* flags + count + one DWord */
	/* bit 0 consumer, bit 1 edge; active-high and exclusive are 0. */
	emit_byte(a, (uint8_t)(0x01 | (edge ? 0x02 : 0)));
	emit_byte(a, 1);		/* interrupt table length */
	emit_le(a, gsi, 4);
}

void aml_crs_end(struct aml *a)
{
	struct aml size = { 0 };
	size_t start, data;

	if (!crs_ok(a))
		return;
	/* End tag with checksum 0, which means "not checksummed". */
	emit_byte(a, RES_END_TAG);
	emit_byte(a, 0x00);
	if (a->error)
		return;
	/* Insert the BufferSize integer ahead of the template bytes. */
	start = a->open[a->depth - 1] + 1;
	data = a->len - start;
	emit_integer(&size, data);
	if (size.error || reserve(a, size.len)) {
		aml_free(&size);
		a->error = 1;
		return;
	}
	memmove(a->buf + start + size.len, a->buf + start, data);
	memcpy(a->buf + start, size.buf, size.len);
	a->len += size.len;
	aml_free(&size);
	close_pkg(a);
}
