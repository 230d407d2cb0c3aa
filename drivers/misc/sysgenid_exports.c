// SPDX-License-Identifier: GPL-2.0
/*
 * Rust code cannot use EXPORT_SYMBOL_GPL(), so the C interface that
 * drivers/misc/sysgenid.rs defines is exported to modules here, the way
 * rust/exports.c exports the kernel crate.
 */
#include <linux/export.h>
#include <linux/sysgenid.h>

EXPORT_SYMBOL_GPL(sysgenid_bump_generation);
EXPORT_SYMBOL_GPL(sysgenid_get_generation);
EXPORT_SYMBOL_GPL(sysgenid_register_revalidate);
EXPORT_SYMBOL_GPL(sysgenid_unregister_revalidate);
