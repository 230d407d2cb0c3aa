// SPDX-License-Identifier: GPL-2.0

#include <linux/acpi.h>

#ifdef CONFIG_ACPI
__rust_helper struct acpi_device *rust_helper_acpi_companion(struct device *dev)
{
	return ACPI_COMPANION(dev);
}

__rust_helper void rust_helper_acpi_free(void *memory)
{
	ACPI_FREE(memory);
}
#endif
