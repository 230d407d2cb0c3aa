/* SPDX-License-Identifier: GPL-2.0 */
/*
 * In-kernel interface of SysGenId, the system generation ID
 * (drivers/misc/sysgenid.rs), for the backends that learn about a restore:
 * a hypervisor notification, or a container restore tool through the ioctl.
 */
#ifndef _LINUX_SYSGENID_H
#define _LINUX_SYSGENID_H

#include <linux/types.h>
#include <uapi/linux/sysgenid.h>

#if IS_ENABLED(CONFIG_SYSGENID)
/* Move to a new generation and tell every watcher.  Any context. */
void sysgenid_bump_generation(void);
/* The current generation.  Any context. */
u32 sysgenid_get_generation(void);
/*
 * Install the one revalidate hook.  SysGenId calls revalidate(data) in
 * process context before answering read(), poll() and ioctl(), so that a
 * backend can notice a restore whose notification has not arrived yet and
 * bump for it.  Returns -EBUSY if another hook is installed.
 */
int sysgenid_register_revalidate(void (*revalidate)(void *data), void *data);
/* Remove the hook; on return no call to it is in progress.  May sleep. */
void sysgenid_unregister_revalidate(void (*revalidate)(void *data));
#else
static inline void sysgenid_bump_generation(void)
{
}

static inline u32 sysgenid_get_generation(void)
{
	return 0;
}

static inline int sysgenid_register_revalidate(void (*revalidate)(void *data),
					       void *data)
{
	return 0;
}

static inline void sysgenid_unregister_revalidate(void (*revalidate)(void *data))
{
}
#endif

#endif /* _LINUX_SYSGENID_H */
