/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMS_FS_RESOLVE_H
#define DMS_FS_RESOLVE_H

/*
 * Paths inside a container rootfs, resolved by the kernel as if ROOTFD were "/":
 * openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS). An image's own symlinks
 * ("/data -> /", "data -> ../../..", "etc -> /etc") and ".." past the top all stay
 * inside the rootfs; procfs magic links (/proc/self/root, /proc/<pid>/fd/N) are
 * refused with -ELOOP rather than followed out.
 *
 * There is no fallback to unscoped resolution: a kernel (or a seccomp filter) without
 * openat2 gets -ENOSYS. Returned fds are O_CLOEXEC; *ret_fd is written only on success.
 */

#include <sys/types.h>

/* Open PATH (absolute or relative, both from ROOTFD) with open(2)-style FLAGS and MODE. */
int dms_path_open_in_root(int rootfd, const char *path, int flags, mode_t mode, int *ret_fd);

/*
 * Like `mkdir -p` inside the rootfs, then open the final directory O_PATH|O_DIRECTORY
 * (for a mount point, say). Each missing directory is made with mkdirat() on the fd of
 * its parent, itself resolved in-root, never by a string path from the host's "/".
 * MODE is filtered by the umask, as mkdir's is. A component that exists and is not a
 * directory: -ENOTDIR; a dangling symlink: -ENOENT (its target is not created).
 */
int dms_path_mkdir_in_root(int rootfd, const char *path, mode_t mode, int *ret_fd);

#endif
