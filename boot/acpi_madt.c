/* MADT: one enabled local APIC per vCPU (ACPI UID = APIC id = index), the
 * IOAPIC with GSIs from 0, ISA IRQ0 routed to GSI 2 (where KVM's PIT
 * lands), and LINT1 as NMI on every CPU - the PC layout Linux expects. */
#include "acpi_tables.h"
#include "layout.h"

#define MADT_PCAT_COMPAT	1u	/* dual 8259s present (KVM has them) */

#define MADT_LAPIC		0
#define MADT_IOAPIC		1
#define MADT_INT_OVERRIDE	2
#define MADT_LAPIC_NMI		4

#define MADT_LAPIC_LEN		8
#define MADT_IOAPIC_LEN		12
#define MADT_INT_OVERRIDE_LEN	10
#define MADT_LAPIC_NMI_LEN	6

#define LAPIC_ENABLED		1u
#define MPS_HIGH_EDGE		0x0005	/* polarity 01 high, trigger 01 edge */

uint32_t acpi_madt_len(unsigned nr_cpus)
{
	return ACPI_HEADER_LEN + 8 + nr_cpus * MADT_LAPIC_LEN +
	       MADT_IOAPIC_LEN + MADT_INT_OVERRIDE_LEN + MADT_LAPIC_NMI_LEN;
}

void acpi_madt(uint8_t *t, unsigned nr_cpus)
{
	uint32_t len = acpi_madt_len(nr_cpus);
	uint8_t *e = t + ACPI_HEADER_LEN + 8;

	acpi_header(t, "APIC", len, 5);
	acpi_put32(t + 36, (uint32_t)LAPIC_ADDR);
	acpi_put32(t + 40, MADT_PCAT_COMPAT);

	for (unsigned i = 0; i < nr_cpus; i++, e += MADT_LAPIC_LEN) {
		acpi_put8(e + 0, MADT_LAPIC);
		acpi_put8(e + 1, MADT_LAPIC_LEN);
		acpi_put8(e + 2, (uint8_t)i);	/* ACPI processor UID */
		acpi_put8(e + 3, (uint8_t)i);	/* APIC id */
		acpi_put32(e + 4, LAPIC_ENABLED);
	}

	/* The IOAPIC id follows the CPUs' so the APIC ids stay distinct. */
	acpi_put8(e + 0, MADT_IOAPIC);
	acpi_put8(e + 1, MADT_IOAPIC_LEN);
	acpi_put8(e + 2, (uint8_t)nr_cpus);
	acpi_put32(e + 4, (uint32_t)IOAPIC_ADDR);
	acpi_put32(e + 8, 0);			/* GSI base */
	e += MADT_IOAPIC_LEN;

	acpi_put8(e + 0, MADT_INT_OVERRIDE);
	acpi_put8(e + 1, MADT_INT_OVERRIDE_LEN);
	acpi_put8(e + 2, 0);			/* bus: ISA */
	acpi_put8(e + 3, 0);			/* source: IRQ0 */
	acpi_put32(e + 4, 2);			/* GSI 2 */
	acpi_put16(e + 8, MPS_HIGH_EDGE);
	e += MADT_INT_OVERRIDE_LEN;

	acpi_put8(e + 0, MADT_LAPIC_NMI);
	acpi_put8(e + 1, MADT_LAPIC_NMI_LEN);
	acpi_put8(e + 2, 0xff);			/* all processors */
	acpi_put16(e + 3, MPS_HIGH_EDGE);
	acpi_put8(e + 5, 1);			/* LINT1 */

	acpi_seal(t, len);
}
