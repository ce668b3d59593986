/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMS_FS_MOUNT_H
#define DMS_FS_MOUNT_H

#include <stddef.h>

/*
 * Every mount dmstore makes is nosuid, nodev and noatime. Each is a host
 * mount: a container's layer or a volume on the host, or a volume inside a
 * container's rootfs, which is still the host's until a runtime takes it
 * over. A setuid binary or a device node that an image or a container wrote
 * must not work there. The one exception is a rootfs handed to a runtime as
 * the container's own root (DMS_MOUNT_CONTAINER_ROOT): in there, the image's
 * setuid binaries must work as they do under any runtime, and what the
 * container may reach is the runtime's business (its own /dev, capabilities).
 */
enum dms_mount_flags {
	DMS_MOUNT_RDONLY = 1 << 0,
	DMS_MOUNT_CONTAINER_ROOT = 1 << 1, /* without nosuid and nodev: only where root alone can reach it */
};

/*
 * Mount the ext4 on DEVICE at DIR (an existing directory); FLAGS: DMS_MOUNT_*.
 * OPTIONS: ext4's own, comma-separated ("discard,commit=30"), or NULL; the
 * caller has refused mount flags among them (dms_ctx_set_mount_options).
 */
int dms_mount_ext4(const char *device, const char *dir, unsigned flags, const char *options);
/* Unmount DIR; -EBUSY while something uses it, -EINVAL if nothing is mounted there. */
int dms_umount(const char *dir);
/* Detach DIR now (MNT_DETACH): the filesystem lives on, out of reach, until its last user lets go. */
int dms_umount_lazy(const char *dir);
/* Where DEVICE is mounted: 1 and the first mount point in RET_DIR, 0 if nowhere. */
int dms_mount_find(const char *device, char *ret_dir, size_t len);
/* mkdir -p, each component 0755; existing directories are fine. */
int dms_mkdir_p(const char *path);

#endif
