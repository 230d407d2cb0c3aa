/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * SysGenId: tells userspace that the system was restored from a snapshot.
 *
 * /dev/sysgenid exposes a 32-bit system generation that changes on every
 * restore.  See Documentation/misc-devices/sysgenid.rst.
 */
#ifndef _UAPI_LINUX_SYSGENID_H
#define _UAPI_LINUX_SYSGENID_H

#include <linux/ioctl.h>

#define SYSGENID_IOCTL			0xE4

/* arg 1: count this fd as a watcher (needs write access); arg 0: stop. */
#define SYSGENID_SET_WATCHER_TRACKING	_IO(SYSGENID_IOCTL, 1)
/* arg: timeout in milliseconds, 0 waits without limit. */
#define SYSGENID_WAIT_WATCHERS		_IO(SYSGENID_IOCTL, 2)
/*
 * arg: the lowest acceptable new generation.  Needs CAP_CHECKPOINT_RESTORE or
 * CAP_SYS_ADMIN in the initial user namespace.
 */
#define SYSGENID_FORCE_GEN_UPDATE	_IO(SYSGENID_IOCTL, 3)
/* The name existing userspace uses for SYSGENID_FORCE_GEN_UPDATE. */
#define SYSGENID_TRIGGER_GEN_UPDATE	SYSGENID_FORCE_GEN_UPDATE
/* Returns the number of watchers that have not acknowledged the generation. */
#define SYSGENID_GET_OUTDATED_WATCHERS	_IO(SYSGENID_IOCTL, 4)

#endif /* _UAPI_LINUX_SYSGENID_H */
