/* acpi_build(): lays the tables out from `base` (RSDP first, so the RSDP
 * sits on the 16-byte boundary the kernel's BIOS-area scan checks), builds
 * them in one host buffer and copies that into guest memory in one write. */
#include "acpi.h"
#include "acpi_tables.h"

#include <stdlib.h>
#include <string.h>

#define RSDP_LEN	36
#define XSDT_ENTRIES	2	/* FADT, MADT; the DSDT hangs off the FADT */

uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return sum;
}

void acpi_header(uint8_t *t, const char sig[4], uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	acpi_put32(t + 4, len);
	acpi_put8(t + 8, rev);
	acpi_put8(t + 9, 0);		/* checksum, set by acpi_seal */
	memcpy(t + 10, ACPI_OEM_ID, 6);
	memcpy(t + 16, ACPI_OEM_TABLE_ID, 8);
	acpi_put32(t + 24, ACPI_OEM_REV);
	memcpy(t + 28, ACPI_CREATOR_ID, 4);
	acpi_put32(t + 32, ACPI_CREATOR_REV);
}

void acpi_seal(uint8_t *t, uint32_t len)
{
	t[9] = 0;
	t[9] = (uint8_t)(0x100 - acpi_checksum(t, len));
}

/* RSDP, ACPI 2.0 form: the first 20 bytes carry their own checksum for
 * ACPI 1.0 readers; the extended checksum covers all 36. */
static void rsdp(uint8_t *t, uint64_t xsdt_addr)
{
	memcpy(t, "RSD PTR ", 8);
	memcpy(t + 9, ACPI_OEM_ID, 6);
	acpi_put8(t + 15, 2);		/* revision */
	acpi_put32(t + 16, 0);		/* no RSDT: the XSDT replaces it */
	acpi_put32(t + 20, RSDP_LEN);
	acpi_put64(t + 24, xsdt_addr);
	t[8] = (uint8_t)(0x100 - acpi_checksum(t, 20));
	t[32] = (uint8_t)(0x100 - acpi_checksum(t, RSDP_LEN));
}

static void xsdt(uint8_t *t, const uint64_t *entries, unsigned n)
{
	uint32_t len = ACPI_HEADER_LEN + 8 * n;

	acpi_header(t, "XSDT", len, 1);
	for (unsigned i = 0; i < n; i++)
		acpi_put64(t + ACPI_HEADER_LEN + 8 * i, entries[i]);
	acpi_seal(t, len);
}

static uint64_t align16(uint64_t x)
{
	return (x + 15) & ~(uint64_t)15;
}

uint64_t acpi_build(struct guest_mem *gm, uint64_t base, uint64_t size,
		    const struct acpi_config *cfg, const char **why)
{
	const char *dummy;
	struct aml a;
	uint8_t *blob = NULL;
	uint64_t off_xsdt, off_fadt, off_madt, off_dsdt, total, end, ret = 0;
	uint32_t madt_len, dsdt_len;

	if (!why)
		why = &dummy;
	if (!gm || !cfg) {
		*why = "ACPI: no guest memory or configuration";
		return 0;
	}
	if (cfg->nr_cpus == 0 || cfg->nr_cpus > ACPI_MAX_CPUS) {
		*why = "ACPI: vCPU count must be 1..254";
		return 0;
	}
	if (cfg->nr_devs && !cfg->devs) {
		*why = "ACPI: device list missing";
		return 0;
	}
	if (base == 0 || base % 16) {
		*why = "ACPI: tables must start on a 16-byte boundary above 0";
		return 0;
	}

	aml_init(&a);
	if (acpi_dsdt_aml(&a, cfg, why))
		goto out;
	if (a.len > UINT32_MAX - ACPI_HEADER_LEN) {
		*why = "ACPI: DSDT too large";
		goto out;
	}
	dsdt_len = (uint32_t)(ACPI_HEADER_LEN + a.len);
	madt_len = acpi_madt_len(cfg->nr_cpus);

	off_xsdt = align16(RSDP_LEN);
	off_fadt = align16(off_xsdt + ACPI_HEADER_LEN + 8 * XSDT_ENTRIES);
	off_madt = align16(off_fadt + ACPI_FADT_LEN);
	off_dsdt = align16(off_madt + madt_len);
	total = off_dsdt + dsdt_len;
	if (total > size) {
		*why = "ACPI: tables do not fit in the space reserved for them";
		goto out;
	}
	if (!range_add_ok(base, total, &end)) {
		*why = "ACPI: table area wraps the address space";
		goto out;
	}

	blob = calloc(1, total);
	if (!blob) {
		*why = "ACPI: out of memory";
		goto out;
	}
	rsdp(blob, base + off_xsdt);
	const uint64_t entries[XSDT_ENTRIES] = { base + off_fadt,
						 base + off_madt };
	xsdt(blob + off_xsdt, entries, XSDT_ENTRIES);
	acpi_fadt(blob + off_fadt, base + off_dsdt);
	acpi_madt(blob + off_madt, cfg->nr_cpus);
	acpi_header(blob + off_dsdt, "DSDT", dsdt_len, 2);
	memcpy(blob + off_dsdt + ACPI_HEADER_LEN, a.buf, a.len);
	acpi_seal(blob + off_dsdt, dsdt_len);

	if (guest_mem_write(gm, base, blob, total)) {
		*why = "ACPI: table area is not in guest RAM";
		goto out;
	}
	ret = base;
out:
	free(blob);
	aml_free(&a);
	return ret;
}
