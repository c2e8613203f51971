/* ACPI tables built at start-up: RSDP, XSDT, FADT (hardware-reduced, with
 * sleep and reset registers on I/O ports), MADT (one local APIC per vCPU,
 * the IOAPIC, the ISA IRQ0 override) and a DSDT written with aml.h. */
#ifndef MINIVMM_ACPI_H
#define MINIVMM_ACPI_H

#include <stdint.h>
#include "aml.h"
#include "guest_mem.h"

/* A device that describes itself in the DSDT (each virtio-mmio device,
 * the UART, pvpanic) adds AML through this callback. */
struct acpi_dsdt_dev {
	void (*write_aml)(void *dev, struct aml *a);
	void *dev;
};

struct acpi_config {
	unsigned nr_cpus;
	const struct acpi_dsdt_dev *devs;
	unsigned nr_devs;
};

/* Writes all tables into guest memory at [base, base+size) and returns the
 * RSDP's guest address (== base), or 0 with *why on error. */
uint64_t acpi_build(struct guest_mem *gm, uint64_t base, uint64_t size,
		    const struct acpi_config *cfg, const char **why);

/* Sum of bytes mod 256; a valid table sums to 0. */
uint8_t acpi_checksum(const void *p, size_t len);

#endif
