/* The one-byte platform ports that end the VM or answer legacy probes.
 * They run on any vCPU thread, so their little state is atomic. */
#include "platform.h"

#include <stdio.h>
#include <string.h>

#include "layout.h"

/* ACPI hardware-reduced sleep control/status register (ACPI 6.5, 4.8.3.7),
 * one port for both as the FADT describes it. */
#define SLP_EN		0x20
#define SLP_TYP(v)	(((v) >> 2) & 7)
#define SLP_TYP_S5	5	/* must match \_S5 in the DSDT */
#define WAK_STS		0x80

#define I8042_PULSE_RESET	0xfe

#define PVPANIC_PANICKED	0x01
#define PVPANIC_CRASH_LOADED	0x02

void platform_init(struct platform *p, const struct vm_stopper *stopper)
{
	memset(p, 0, sizeof(*p));
	p->stopper = *stopper;
}

/* Every port is one byte wide; a wider read sees it zero-extended. */
static void read_byte(uint8_t *data, unsigned len, uint8_t v)
{
	memset(data, 0, len);
	if (len)
		data[0] = v;
}

/* Linux clears WAK_STS (write 1) before sleeping and, for S1-S4, polls
 * until it is set again.  We do not sleep, so an ignored request wakes at
 * once: reads then show WAK_STS and the guest carries on instead of
 * spinning.  S5 never comes back, so it needs nothing here. */
static void acpi_sleep_read(void *dev, uint64_t off, uint8_t *data,
			    unsigned len)
{
	struct platform *p = dev;

	(void)off;
	read_byte(data, len, atomic_load(&p->wake_sts) ? WAK_STS : 0);
}

static void acpi_sleep_write(void *dev, uint64_t off, const uint8_t *data,
			     unsigned len)
{
	struct platform *p = dev;
	uint8_t v = data[0];

	(void)off;
	(void)len;
	if (v & WAK_STS)
		atomic_store(&p->wake_sts, 0);
	if (!(v & SLP_EN))
		return;
	if (SLP_TYP(v) == SLP_TYP_S5) {
		vm_stopper_stop(&p->stopper, EXIT_POWEROFF);
		return;
	}
	if (!atomic_exchange(&p->sleep_logged, 1))
		fprintf(stderr, "minivmm: guest asked for sleep state %u, ignored\n",
			SLP_TYP(v));
	atomic_store(&p->wake_sts, 1);
}

const struct bus_ops acpi_sleep_ops = {
	.read = acpi_sleep_read,
	.write = acpi_sleep_write,
};

static void zero_read(void *dev, uint64_t off, uint8_t *data, unsigned len)
{
	(void)dev;
	(void)off;
	read_byte(data, len, 0);
}

static void acpi_reset_write(void *dev, uint64_t off, const uint8_t *data,
			     unsigned len)
{
	struct platform *p = dev;

	(void)off;
	(void)len;
	if (data[0] == ACPI_RESET_VALUE)
		vm_stopper_stop(&p->stopper, EXIT_REBOOT);
}

const struct bus_ops acpi_reset_ops = {
	.read = zero_read,
	.write = acpi_reset_write,
};

/* Status 0: output buffer empty, input buffer empty, so a guest waiting
 * for the controller to accept a command never waits. */
static void i8042_write(void *dev, uint64_t off, const uint8_t *data,
			unsigned len)
{
	struct platform *p = dev;

	(void)off;
	(void)len;
	if (data[0] == I8042_PULSE_RESET)
		vm_stopper_stop(&p->stopper, EXIT_REBOOT);
}

const struct bus_ops i8042_ops = {
	.read = zero_read,
	.write = i8042_write,
};

/* Reads advertise the events we understand; Linux masks what it sends
 * with them.  CRASH_LOADED (a kdump kernel is ready) is not an exit. */
static void pvpanic_read(void *dev, uint64_t off, uint8_t *data, unsigned len)
{
	(void)dev;
	(void)off;
	read_byte(data, len, PVPANIC_PANICKED | PVPANIC_CRASH_LOADED);
}

static void pvpanic_write(void *dev, uint64_t off, const uint8_t *data,
			  unsigned len)
{
	struct platform *p = dev;

	(void)off;
	(void)len;
	if (data[0] & PVPANIC_PANICKED)
		vm_stopper_stop(&p->stopper, EXIT_PANIC);
}

const struct bus_ops pvpanic_ops = {
	.read = pvpanic_read,
	.write = pvpanic_write,
};

/* As QEMU describes it, so Linux's pvpanic driver binds: a string _HID,
 * and _STA present|enabled|functioning but hidden from UIs. */
void pvpanic_write_aml(void *platform, struct aml *a)
{
	(void)platform;
	aml_device(a, "PEVT");
	aml_name_string(a, "_HID", "QEMU0001");
	aml_crs_begin(a);
	aml_crs_io(a, PVPANIC_PORT, 1);
	aml_crs_end(a);
	aml_name_integer(a, "_STA", 0x0b);
	aml_end(a);
}
