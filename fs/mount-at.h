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

#include "fs/mount.h"

/*
 * Mount the ext4 on DEVICE onto the directory DIRFD refers to (O_PATH is
 * fine), nosuid, nodev and noatime as every dmstore mount (fs/mount.h). The
 * superblock is always read-write, so a device mounted elsewhere already is
 * shared (the same superblock), not refused; DMS_MOUNT_RDONLY in FLAGS makes
 * only this mount read-only. OPTIONS as for dms_mount_ext4.
 */
int dms_mount_ext4_at(const char *device, int dirfd, unsigned flags, const char *options);

/*
 * Unmount the mount whose root FD refers to (an O_PATH fd from a scoped
 * lookup). FD is always closed, since an open fd keeps its mount busy: the
 * mount is found again as its name in the directory above it, pinned by an
 * fd, not followed if it became a symlink, and must still be the same root.
 * -EINVAL: FD is not the root of a mount; -ESTALE: the mount moved away
 * meanwhile; -EBUSY: something uses it.
 */
int dms_umount_fd(int fd);

/*
 * Mount the ext4 on DEVICE read-write, nosuid, nodev, noatime, attached
 * nowhere: the mount is in no mount namespace's tree, and *RET_FD (O_PATH) is
 * the only way to it. It lives as long as something holds it (that fd, an fd
 * opened through it, a thread's cwd or root inside it) and is unmounted when
 * the last goes, also when the process is killed: a crash leaves no mount
 * behind. close() of the last holder unmounts before it returns, so the
 * device is free right after.
 */
int dms_mount_ext4_detached(const char *device, int *ret_fd);

#endif
