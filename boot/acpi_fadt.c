/* FADT, revision 6.3: a hardware-reduced platform (no PM1/GPE blocks, no
 * SCI) whose only fixed registers are the sleep control/status byte and the
 * reset byte, both on I/O ports that minivmm traps. */
#include "acpi_tables.h"
#include "layout.h"

/* Field offsets from the ACPI 6.5 FADT table (5.2.9). */
#define FADT_DSDT		40
#define FADT_PM_PROFILE		45
#define FADT_IAPC_BOOT_ARCH	109
#define FADT_FLAGS		112
#define FADT_RESET_REG		116
#define FADT_RESET_VALUE	128
#define FADT_MINOR_VERSION	131
#define FADT_X_DSDT		140
#define FADT_SLEEP_CONTROL	244
#define FADT_SLEEP_STATUS	256
#define FADT_HYPERVISOR_ID	268

/* FADT flags. */
#define FADT_F_PWR_BUTTON	(1u << 4)	/* no fixed power button */
#define FADT_F_SLP_BUTTON	(1u << 5)	/* no fixed sleep button */
#define FADT_F_RESET_REG_SUP	(1u << 10)
#define FADT_F_HW_REDUCED_ACPI	(1u << 20)

/* IA-PC boot architecture flags.  LEGACY_DEVICES and 8042 stay clear: with
 * the 8042 bit clear Linux does not probe for a PS/2 controller. */
#define IAPC_VGA_NOT_PRESENT	(1u << 2)
#define IAPC_CMOS_RTC_NOT_PRESENT (1u << 5)	/* no RTC at 0x70 */

#define GAS_SYSTEM_IO		1
#define GAS_ACCESS_BYTE		1

/* A Generic Address Structure for one byte-wide I/O port. */
static void gas_io8(uint8_t *g, uint16_t port)
{
	acpi_put8(g + 0, GAS_SYSTEM_IO);
	acpi_put8(g + 1, 8);		/* register bit width */
	acpi_put8(g + 2, 0);		/* bit offset */
	acpi_put8(g + 3, GAS_ACCESS_BYTE);
	acpi_put64(g + 4, port);
}

void acpi_fadt(uint8_t *t, uint64_t dsdt_addr)
{
	static const char hypervisor_id[8] = "MINIVMM";

	acpi_header(t, "FACP", ACPI_FADT_LEN, 6);
	/* DSDT and X_DSDT agree, so ACPICA takes either without a warning;
	 * the 32-bit copy only when the address fits. */
	if (dsdt_addr <= 0xffffffffu)
		acpi_put32(t + FADT_DSDT, (uint32_t)dsdt_addr);
	acpi_put64(t + FADT_X_DSDT, dsdt_addr);
	acpi_put8(t + FADT_PM_PROFILE, 0);	/* unspecified */
	acpi_put16(t + FADT_IAPC_BOOT_ARCH,
		   IAPC_VGA_NOT_PRESENT | IAPC_CMOS_RTC_NOT_PRESENT);
	acpi_put32(t + FADT_FLAGS, FADT_F_HW_REDUCED_ACPI |
		   FADT_F_RESET_REG_SUP | FADT_F_PWR_BUTTON |
		   FADT_F_SLP_BUTTON);
	gas_io8(t + FADT_RESET_REG, ACPI_RESET_PORT);
	acpi_put8(t + FADT_RESET_VALUE, ACPI_RESET_VALUE);
	acpi_put8(t + FADT_MINOR_VERSION, 3);
	gas_io8(t + FADT_SLEEP_CONTROL, ACPI_SLEEP_PORT);
	gas_io8(t + FADT_SLEEP_STATUS, ACPI_SLEEP_PORT);
	for (int i = 0; i < 8; i++)
		acpi_put8(t + FADT_HYPERVISOR_ID + i, (uint8_t)hypervisor_id[i]);
	acpi_seal(t, ACPI_FADT_LEN);
}
