// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <libmount.h>

#include "dms-util.h"
#include "fs/mount.h"

int dms_mount_ext4(const char *device, const char *dir, unsigned flags, const char *options)
{
	unsigned long ms = MS_NOATIME | (flags & DMS_MOUNT_RDONLY ? MS_RDONLY : 0) |
			   (flags & DMS_MOUNT_CONTAINER_ROOT ? 0 : MS_NOSUID | MS_NODEV);

	return mount(device, dir, "ext4", ms, options && *options ? options : NULL) < 0 ? -errno : 0;
}

int dms_umount(const char *dir)
{
	return umount2(dir, UMOUNT_NOFOLLOW) < 0 ? -errno : 0;
}

int dms_umount_lazy(const char *dir)
{
	return umount2(dir, UMOUNT_NOFOLLOW | MNT_DETACH) < 0 ? -errno : 0;
}

static void mnt_unref_tablep(struct libmnt_table **t)
{
	mnt_unref_table(*t);
}

/* libmount reads the kernel's mountinfo, escapes and all; a device is matched by its number, not its name. */
int dms_mount_find(const char *device, char *ret_dir, size_t len)
{
	_cleanup_(mnt_unref_tablep) struct libmnt_table *tab = mnt_new_table();
	struct libmnt_fs *fs;
	struct stat st;
	int r;

	if (!tab)
		return -ENOMEM;
	if (stat(device, &st) < 0)
		return -errno;
	if (!S_ISBLK(st.st_mode))
		return -ENOTBLK;
	r = mnt_table_parse_file(tab, "/proc/self/mountinfo");
	if (r < 0)
		return r;
	fs = mnt_table_find_devno(tab, st.st_rdev, MNT_ITER_FORWARD);
	if (!fs)
		return 0;
	if ((size_t)snprintf(ret_dir, len, "%s", mnt_fs_get_target(fs)) >= len)
		return -ENAMETOOLONG;
	return 1;
}

int dms_mkdir_p(const char *path)
{
	char buf[PATH_MAX];

	if ((size_t)snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}
