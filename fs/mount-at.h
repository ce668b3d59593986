/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMS_FS_MOUNT_AT_H
#define DMS_FS_MOUNT_AT_H

/*
 * Mounts that are never found again by a path string: a mount point resolved
 * inside a container's rootfs (fs/resolve.h) is held as an fd, and the mount
 * goes onto exactly that directory, whatever the container's symlinks say
 * meanwhile. The new mount API (fsopen, fsmount, move_mount; Linux 5.2):
 * there is no fallback, an older kernel gets -ENOSYS.
 */

#include <stdbool.h>

/*
 * Mount the ext4 on DEVICE onto the directory DIRFD refers to (O_PATH is
 * fine), noatime. The superblock is always read-write, so a device mounted
 * elsewhere already is shared (the same superblock), not refused; READ_ONLY
 * makes only this mount read-only.
 */
int dms_mount_ext4_at(const char *device, int dirfd, bool read_only);
/*
 * The same, for a mount handed to another program's users (a Docker volume
 * plugin's containers): read-write, noatime, nosuid, nodev, so a volume's
 * contents cannot become a setuid binary or a device node on the host.
 */
int dms_mount_ext4_at_nosuid(const char *device, int dirfd);

/*
 * Unmount the mount whose root FD refers to (an O_PATH fd from a scoped
 * lookup). FD is always closed, since an open fd keeps its mount busy: the
 * mount is found again as its name in the directory above it, pinned by an
 * fd, not followed if it became a symlink, and must still be the same root.
 * -EINVAL: FD is not the root of a mount; -ESTALE: the mount moved away
 * meanwhile; -EBUSY: something uses it.
 */
int dms_umount_fd(int fd);

#endif
