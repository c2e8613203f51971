/* Private to boot/acpi*.c: the pieces acpi_build() assembles.  Each table
 * builder fills a zeroed host buffer; acpi.c lays them out, checksums them
 * and copies the lot into guest memory in one write. */
#ifndef MINIVMM_BOOT_ACPI_TABLES_H
#define MINIVMM_BOOT_ACPI_TABLES_H

#include <stddef.h>
#include <stdint.h>
#include "acpi.h"

#define ACPI_HEADER_LEN	36
#define ACPI_OEM_ID	"MINVMM"	/* 6 bytes */
#define ACPI_OEM_TABLE_ID "MINIVMM "	/* 8 bytes */
#define ACPI_OEM_REV	1
#define ACPI_CREATOR_ID	"MVMM"
#define ACPI_CREATOR_REV 1

#define ACPI_FADT_LEN	276	/* revision 6 */
#define ACPI_MAX_CPUS	254	/* APIC ids 0..253; 0xff means "all" */

static inline void acpi_put8(uint8_t *p, uint8_t v)
{
	p[0] = v;
}

static inline void acpi_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void acpi_put32(uint8_t *p, uint32_t v)
{
	acpi_put16(p, (uint16_t)v);
	acpi_put16(p + 2, (uint16_t)(v >> 16));
}

static inline void acpi_put64(uint8_t *p, uint64_t v)
{
	acpi_put32(p, (uint32_t)v);
	acpi_put32(p + 4, (uint32_t)(v >> 32));
}

/* The 36-byte System Description Table header, checksum left at 0. */
void acpi_header(uint8_t *t, const char sig[4], uint32_t len, uint8_t rev);
/* Sets the header checksum so the whole table sums to 0. */
void acpi_seal(uint8_t *t, uint32_t len);

/* FADT into t[ACPI_FADT_LEN], pointing at the DSDT. */
void acpi_fadt(uint8_t *t, uint64_t dsdt_addr);

/* MADT for nr_cpus (1..ACPI_MAX_CPUS) into t[acpi_madt_len(nr_cpus)]. */
uint32_t acpi_madt_len(unsigned nr_cpus);
void acpi_madt(uint8_t *t, unsigned nr_cpus);

/* The DSDT's AML body (no header): \_SB with each device, then \_S5.
 * Returns 0, or -1 with *why. */
int acpi_dsdt_aml(struct aml *a, const struct acpi_config *cfg,
		  const char **why);

#endif
