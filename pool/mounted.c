// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Whether the mounts the catalogue remembers are still there. A recorded
 * mount point may have been unmounted by hand, lost with a deactivation or a
 * reboot, or never made (a crash between the record and the mount): what
 * counts is that the directory is on the device's filesystem now, never the
 * path string alone. An attachment is there when its container's rootfs is,
 * and its path, resolved inside that rootfs (fs/resolve.h), is on the
 * volume's filesystem.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "dms-util.h"
#include "fs/resolve.h"
#include "pool/internal.h"

int dms_mount_root(struct dms_pool *pool, const struct dms_row *row, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	char dev[PATH_MAX];
	struct stat st, dst;
	int r;

	if (!*row->mountpoint)
		return -ENOTCONN;
	fd = open(row->mountpoint, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR || errno == ELOOP ? -ENOTCONN : -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	/* An inactive device (-ENXIO: after a deactivation or a reboot) has no filesystem mounted anywhere. */
	r = dms_thin_dev_path(pool, row, dev, sizeof(dev));
	if (r == -ENXIO)
		return -ENOTCONN;
	if (r < 0)
		return r;
	if (stat(dev, &dst) < 0 || !S_ISBLK(dst.st_mode) || dst.st_rdev != st.st_dev)
		return -ENOTCONN;
	*ret_fd = DMS_TAKE_FD(fd);
	return 0;
}

int dms_mount_alive(struct dms_pool *pool, const struct dms_row *row, bool *ret_alive)
{
	_cleanup_close_ int fd = -1;
	int r = dms_mount_root(pool, row, &fd);

	if (r < 0 && r != -ENOTCONN)
		return r;
	*ret_alive = r == 0;
	return 0;
}

int dms_attachment_alive(struct dms_pool *pool, const struct dms_attachment *a, bool *ret_alive)
{
	_cleanup_close_ int rootfd = -1, fd = -1;
	struct dms_row vol, ctr;
	struct stat st;
	dev_t dev;
	int r;

	r = dms_catalog_get(pool->cat, a->volume_id, &vol);
	if (r == 0)
		r = dms_catalog_get(pool->cat, a->container_id, &ctr);
	if (r < 0)
		return r;
	*ret_alive = false;
	r = dms_mount_root(pool, &ctr, &rootfd);
	if (r == -ENOTCONN)
		return 0;
	if (r == 0)
		r = dms_vol_devnum(pool, &vol, &dev);
	if (r == -ENXIO)
		return 0;
	if (r == 0)
		r = dms_path_open_in_root(rootfd, a->path, O_PATH | O_DIRECTORY, 0, &fd);
	if (r == -ENOENT || r == -ENOTDIR)
		return 0;
	if (r == 0 && fstat(fd, &st) < 0)
		r = -errno;
	if (r < 0)
		return r;
	*ret_alive = st.st_dev == dev;
	return 0;
}
