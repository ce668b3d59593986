// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "dms-util.h"
#include "fs/mount-at.h"

/* "a,b=c": fsconfig takes one option a call, a flag or a key with its value. */
static int set_options(int fsfd, const char *options)
{
	_cleanup_free_ char *copy = options ? strdup(options) : NULL;
	char *save = NULL, *eq;

	if (options && !copy)
		return -ENOMEM;
	for (char *o = copy ? strtok_r(copy, ",", &save) : NULL; o; o = strtok_r(NULL, ",", &save)) {
		eq = strchr(o, '=');
		if (eq)
			*eq = '\0';
		if (fsconfig(fsfd, eq ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, o, eq ? eq + 1 : NULL, 0) < 0)
			return -errno;
	}
	return 0;
}

int dms_mount_ext4_at(const char *device, int dirfd, unsigned flags, const char *options)
{
	_cleanup_close_ int fsfd = -1, mfd = -1;
	int r;
	unsigned int attr = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOATIME |
			    (flags & DMS_MOUNT_RDONLY ? MOUNT_ATTR_RDONLY : 0);

	fsfd = fsopen("ext4", FSOPEN_CLOEXEC);
	if (fsfd < 0)
		return -errno;
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "source", device, 0) < 0)
		return -errno;
	r = set_options(fsfd, options);
	if (r < 0)
		return r;
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return -errno;
	mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, attr);
	if (mfd < 0)
		return -errno;
	/* Both ends are fds: the target is the directory DIRFD holds, not a path looked up again. */
	if (move_mount(mfd, "", dirfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return -errno;
	return 0;
}

static int mount_root_id(int fd, struct statx *ret)
{
	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_INO, ret) < 0)
		return -errno;
	if (!(ret->stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
		return -EOPNOTSUPP;
	return ret->stx_attributes & STATX_ATTR_MOUNT_ROOT ? 0 : -EINVAL;
}

/*
 * umount2 has no fd form, and FD itself must be closed first (umount counts
 * it as a user). So: ".." from a mount root is the directory holding its
 * mount point, in the mount below; that directory is pinned by an fd, the
 * mount point's name comes from the kernel's own path of FD, and the name is
 * unmounted relative to the pinned directory, with the last component not
 * followed. A rename in the window can only point it at another name in that
 * same directory, which is checked to be the same mount root first.
 */
int dms_umount_fd(int fd)
{
	_cleanup_close_ int owned = fd, parent = -1;
	char self[64], target[PATH_MAX], path[PATH_MAX + 64];
	struct statx want, now;
	const char *name;
	ssize_t n;
	int r;

	r = mount_root_id(owned, &want);
	if (r < 0)
		return r;
	snprintf(self, sizeof(self), "/proc/self/fd/%d", owned);
	n = readlink(self, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	name = strrchr(target, '/');
	if (!name || !name[1])
		return -EINVAL; /* "/" or not a path at all: nothing we may unmount */
	name++;
	parent = openat(owned, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (parent < 0)
		return -errno;
	(void)close(DMS_TAKE_FD(owned));

	if (statx(parent, name, AT_SYMLINK_NOFOLLOW, STATX_INO, &now) < 0)
		return errno == ENOENT ? -ESTALE : -errno;
	if (now.stx_ino != want.stx_ino || now.stx_dev_major != want.stx_dev_major ||
	    now.stx_dev_minor != want.stx_dev_minor || !(now.stx_attributes & STATX_ATTR_MOUNT_ROOT))
		return -ESTALE;
	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", parent, name);
	return umount2(path, UMOUNT_NOFOLLOW) < 0 ? -errno : 0;
}

int dms_mount_ext4_detached(const char *device, int *ret_fd)
{
	_cleanup_close_ int fsfd = -1;
	int mfd;

	fsfd = fsopen("ext4", FSOPEN_CLOEXEC);
	if (fsfd < 0)
		return -errno;
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "source", device, 0) < 0 ||
	    fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return -errno;
	/* Never move_mount()ed: the fd alone keeps it, and the kernel unmounts it with the fd's last holder. */
	mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOATIME);
	if (mfd < 0)
		return -errno;
	*ret_fd = mfd;
	return 0;
}
