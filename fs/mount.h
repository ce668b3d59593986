/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMS_FS_MOUNT_H
#define DMS_FS_MOUNT_H

#include <stdbool.h>
#include <stddef.h>

/* Mount the ext4 on DEVICE at DIR (an existing directory). */
int dms_mount_ext4(const char *device, const char *dir, bool read_only);
/* Unmount DIR; -EBUSY while something uses it, -EINVAL if nothing is mounted there. */
int dms_umount(const char *dir);
/* Where DEVICE is mounted: 1 and the first mount point in RET_DIR, 0 if nowhere. */
int dms_mount_find(const char *device, char *ret_dir, size_t len);
/* mkdir -p, each component 0755; existing directories are fine. */
int dms_mkdir_p(const char *path);

#endif
