/* A small AML (ACPI Machine Language) writer for the DSDT: just what
 * minivmm's devices need to describe themselves (Device, Name, _HID, _UID,
 * _CRS resource templates with I/O, memory and interrupt descriptors,
 * packages and integers).  Writes append to a growable buffer; nested
 * scopes get their PkgLength patched when closed. */
#ifndef MINIVMM_AML_H
#define MINIVMM_AML_H

#include <stddef.h>
#include <stdint.h>

struct aml {
	uint8_t *buf;
	size_t len, cap;
	size_t open[16];	/* offsets of open PkgLength fields */
	unsigned depth;
	int error;		/* sticky: out of memory or bad nesting */
};

void aml_init(struct aml *a);
void aml_free(struct aml *a);

/* Scope(name) { ... } / Device(name) { ... } - close with aml_end(). */
void aml_scope(struct aml *a, const char *name);
void aml_device(struct aml *a, const char *name);
void aml_end(struct aml *a);

/* Name(NAME, "string") / Name(NAME, integer) / Name(_HID, EisaId("PNP0501")) */
void aml_name_string(struct aml *a, const char *name, const char *value);
void aml_name_integer(struct aml *a, const char *name, uint64_t value);
void aml_name_eisaid(struct aml *a, const char *name, const char *eisaid);

/* Name(NAME, Package() { ints... }) */
void aml_name_package_ints(struct aml *a, const char *name,
			   const uint64_t *vals, unsigned n);

/* Name(_CRS, ResourceTemplate() { ... }): open, add descriptors, close. */
void aml_crs_begin(struct aml *a);
void aml_crs_io(struct aml *a, uint16_t port, uint8_t len);
void aml_crs_irq(struct aml *a, uint8_t irq);	/* IRQNoFlags, ISA edge */
void aml_crs_memory32(struct aml *a, uint32_t base, uint32_t len);
/* Extended interrupt: level-triggered, active-high, exclusive (virtio). */
void aml_crs_interrupt(struct aml *a, uint32_t gsi, int edge);
void aml_crs_end(struct aml *a);

/* Building blocks, exposed for tests: PkgLength encoding of a value that
 * already counts the encoding's own bytes (returns 1-4 bytes written, 0 when
 * value exceeds 28 bits) and the 32-bit compressed EISA ID of "PNP0501"
 * style strings (0, or -1 when malformed). */
size_t aml_pkglength_encode(uint8_t out[4], uint32_t value);
int aml_eisaid(const char *id, uint32_t *out);

#endif
