/* The DSDT body: \_SB holding every device's Device() object, and \_S5 so
 * Linux offers ACPI poweroff (it writes SLP_TYP 5 with SLP_EN to the FADT's
 * sleep control register, which minivmm turns into a clean exit). */
#include "acpi_tables.h"

int acpi_dsdt_aml(struct aml *a, const struct acpi_config *cfg,
		  const char **why)
{
	/* SLP_TYPa, SLP_TYPb, then two reserved. */
	static const uint64_t s5[4] = { 5, 0, 0, 0 };

	aml_scope(a, "\\_SB");
	if (a->error) {
		*why = "out of memory building the DSDT";
		return -1;
	}
	for (unsigned i = 0; i < cfg->nr_devs; i++) {
		const struct acpi_dsdt_dev *d = &cfg->devs[i];
		unsigned depth = a->depth;

		if (!d->write_aml) {
			*why = "ACPI device without an AML writer";
			return -1;
		}
		d->write_aml(d->dev, a);
		/* A device must close everything it opens. */
		if (!a->error && a->depth != depth)
			a->error = 1;
		if (a->error) {
			*why = "a device wrote malformed AML";
			return -1;
		}
	}
	aml_end(a);
	aml_name_package_ints(a, "_S5", s5, 4);
	if (a->error) {
		*why = "out of memory building the DSDT";
		return -1;
	}
	return 0;
}
