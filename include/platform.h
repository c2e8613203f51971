/* The small x86 platform devices that end a VM or answer legacy probes:
 *  - ACPI sleep control/status registers (FADT, hardware-reduced): the
 *    guest writes SLP_TYP=5|SLP_EN for S5 -> poweroff;
 *  - ACPI reset register: ACPI_RESET_VALUE -> reboot;
 *  - i8042 command port 0x64: 0xfe (pulse reset line) -> reboot, status
 *    reads answer "no data, input buffer empty";
 *  - pvpanic (QEMU0001, port 0x505): bit 0 written -> guest panicked.
 * Each ends the VM through the vm_stopper callback; no KVM here. */
#ifndef MINIVMM_PLATFORM_H
#define MINIVMM_PLATFORM_H

#include <stdatomic.h>

#include "aml.h"
#include "bus.h"
#include "exit_status.h"

/* A zeroed struct with stopper filled in is ready; platform_init() does
 * just that. */
struct platform {
	struct vm_stopper stopper;
	atomic_int sleep_logged;	/* ignored sleep state reported once */
	atomic_int wake_sts;		/* ACPI WAK_STS after an ignored sleep */
};

void platform_init(struct platform *p, const struct vm_stopper *stopper);

/* One port each; register at ACPI_SLEEP_PORT, ACPI_RESET_PORT,
 * I8042_CMD_PORT and PVPANIC_PORT (layout.h), length 1. */
extern const struct bus_ops acpi_sleep_ops;
extern const struct bus_ops acpi_reset_ops;
extern const struct bus_ops i8042_ops;
extern const struct bus_ops pvpanic_ops;

/* DSDT entries: pvpanic device (_HID "QEMU0001", IO 0x505). */
void pvpanic_write_aml(void *platform, struct aml *a);

#endif
