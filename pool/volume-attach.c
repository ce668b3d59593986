// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Attaching a volume: mounting it at a path inside a container's mounted
 * rootfs. The path is the image's, and an image may carry any symlink
 * ("/data -> /", "data -> ../../.."), so it is never looked up as a string
 * from the host's "/": the kernel resolves it with the rootfs as the root
 * (fs/resolve.h), the mount point is held as an fd, and the mount goes onto
 * that fd (fs/mount-at.h). Detaching finds the mount the same way, and checks
 * it is the volume's before unmounting it.
 *
 * The catalogue row is written, pending, before the mount, marked done after
 * it, and deleted after the unmount: never a mount the catalogue does not
 * know. A dmstore that dies in between leaves a pending row, which the next
 * change (or pool recover) settles by looking: the mount is there, the row is
 * marked done; it is not, the row goes (dms_vol_settle_attachments).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "dms-util.h"
#include "fs/mount-at.h"
#include "fs/resolve.h"
#include "pool/internal.h"

static int find_container(struct dms_pool *pool, const char *name, struct dms_row *row)
{
	int r;

	if (!dms_name_valid(name))
		return dms_fail_invalid(pool->ctx, -EINVAL, "container '%s': invalid name: use 1-%d of [A-Za-z0-9_.-], starting with a letter or digit",
					name ? name : "", DMS_NAME_MAX);
	r = dms_catalog_find(pool->cat, DMS_KIND_CONTAINER, name, row);
	if (r == -ENOENT || (r == 0 && row->state != DMS_STATE_READY))
		return dms_fail_missing(pool->ctx, -ENOENT, "pool '%s': container '%s' does not exist", pool->cfg.name,
					name);
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': container '%s': catalogue: %s", pool->cfg.name, name,
				strerror(-r));
	return 0;
}

/*
 * The resolved mount point must be a directory of the container's own
 * filesystem below its root: "/", or a symlink that resolves to it, would hide
 * the whole rootfs; a directory something is mounted on already would stack.
 */
static int check_mount_point(struct dms_pool *pool, const char *ctr, const char *path, int rootfd, int fd)
{
	struct stat root, st;

	if (fstat(rootfd, &root) < 0 || fstat(fd, &st) < 0)
		return dms_fail(pool->ctx, -errno, "container '%s': mount point '%s': %s", ctr, path, strerror(errno));
	if (st.st_dev == root.st_dev && st.st_ino == root.st_ino)
		return dms_fail_invalid(pool->ctx, -EINVAL, "container '%s': '%s' resolves to the container's root directory; attach below it",
					ctr, path);
	if (st.st_dev != root.st_dev)
		return dms_fail(pool->ctx, -EBUSY, "container '%s': '%s' is a mount point already", ctr, path);
	return 0;
}

int dms_vol_attach(struct dms_pool *pool, const char *name, const char *container, const char *path,
		   bool read_only)
{
	_cleanup_close_ int rootfd = -1, fd = -1;
	struct dms_attachment a = { 0 };
	struct dms_row vol, ctr;
	char dev[PATH_MAX];
	uint64_t txn;
	int r;

	if (!path || path[0] != '/' || strlen(path) >= sizeof(a.path))
		return dms_fail_invalid(pool->ctx, -EINVAL, "volume '%s': the path to attach at must be absolute (inside the container), not '%s'",
					name ? name : "", path ? path : "");
	r = dms_change_begin(pool, &txn);
	if (r < 0)
		return r;
	r = dms_vol_find(pool, name, &vol);
	if (r == 0 && dms_vol_is_raw(&vol))
		r = dms_fail(pool->ctx, -EINVAL, "volume '%s' is a raw block device: it has no filesystem to attach", name);
	if (r == 0)
		r = find_container(pool, container, &ctr);
	if (r < 0)
		goto out;
	if (dms_catalog_attach_find(pool->cat, vol.id, ctr.id, &a) == 0) {
		r = dms_fail(pool->ctx, -EEXIST, "volume '%s' is already attached to container '%s' at %s", name,
			     container, a.path);
		goto out;
	}
	r = dms_mount_root(pool, &ctr, &rootfd);
	if (r == -ENOTCONN)
		r = dms_fail(pool->ctx, r, "container '%s' is not mounted: mount it first with 'dmstore snap mount %s'",
			     container, container);
	else if (r < 0)
		r = dms_fail(pool->ctx, r, "container '%s': opening its rootfs failed: %s", container, strerror(-r));
	if (r < 0)
		goto out;
	r = dms_path_mkdir_in_root(rootfd, path, 0755, &fd);
	if (r < 0) {
		r = dms_fail_path(pool->ctx, r, "container '%s': mount point '%s': %s", container, path, strerror(-r));
		goto out;
	}
	r = check_mount_point(pool, container, path, rootfd, fd);
	if (r == 0)
		r = dms_vol_device_up(pool, &vol);
	if (r < 0)
		goto out;

	a = (struct dms_attachment){ .volume_id = vol.id, .container_id = ctr.id, .read_only = read_only, .pending = true };
	snprintf(a.path, sizeof(a.path), "%s", path);
	r = dms_catalog_attach_insert(pool->cat, &a);
	if (r < 0) {
		r = dms_fail(pool->ctx, r, "volume '%s': recording the attachment failed: %s", name, strerror(-r));
		goto out;
	}
	dms_crash_point("vol-attach", "after-record");
	r = dms_thin_dev_path(pool, &vol, dev, sizeof(dev));
	if (r == 0)
		r = dms_mount_ext4_at(dev, fd, read_only ? DMS_MOUNT_RDONLY : 0, pool->ctx->mount_options);
	if (r < 0) {
		r = dms_fail(pool->ctx, r, "volume '%s': mounting it in container '%s' at %s failed: %s", name,
			     container, path, strerror(-r));
		(void)dms_catalog_attach_delete(pool->cat, a.id);
		goto out;
	}
	dms_crash_point("vol-attach", "after-mount");
	r = dms_catalog_attach_settle(pool->cat, a.id);
	if (r < 0)
		r = dms_fail(pool->ctx, r, "volume '%s' is mounted in container '%s' at %s, but recording it failed: %s; the next change of pool '%s' records it",
			     name, container, path, strerror(-r), pool->cfg.name);
out:
	dms_change_end(pool, r);
	return r;
}

/* Unmount the volume from inside the container, if it is mounted there; anything else there is not ours. */
static int unmount_attachment(struct dms_pool *pool, const struct dms_row *vol, const struct dms_row *ctr,
			      const struct dms_attachment *a)
{
	_cleanup_close_ int rootfd = -1, fd = -1;
	struct stat st;
	dev_t dev;
	int r;

	/* The container is not mounted, or the volume not active: nothing can be mounted in there. */
	if (dms_mount_root(pool, ctr, &rootfd) < 0 || dms_vol_devnum(pool, vol, &dev) < 0)
		return 0;
	r = dms_path_open_in_root(rootfd, a->path, O_PATH | O_DIRECTORY, 0, &fd);
	if (r == -ENOENT || r == -ENOTDIR)
		return 0;
	if (r == 0 && fstat(fd, &st) < 0)
		r = -errno;
	if (r == 0 && st.st_dev != dev)
		return 0;
	if (r == 0)
		r = dms_umount_fd(DMS_TAKE_FD(fd));
	if (r < 0)
		return dms_fail(pool->ctx, r, "volume '%s': unmounting it from container '%s' at %s failed: %s",
				vol->name, ctr->name, a->path, strerror(-r));
	return 0;
}

int dms_vol_detach_one(struct dms_pool *pool, const struct dms_attachment *a, const struct dms_row *ctr)
{
	struct dms_row vol, c;
	int r;

	r = dms_catalog_get(pool->cat, a->volume_id, &vol);
	if (r == 0 && !ctr) {
		r = dms_catalog_get(pool->cat, a->container_id, &c);
		ctr = &c;
	}
	if (r < 0)
		return dms_fail(pool->ctx, r, "volume '%s': catalogue: %s", a->volume, strerror(-r));
	r = dms_vol_device_resume(pool, &vol);
	if (r == 0)
		r = unmount_attachment(pool, &vol, ctr, a);
	if (r < 0)
		return r;
	r = dms_catalog_attach_delete(pool->cat, a->id);
	if (r < 0)
		return dms_fail(pool->ctx, r, "volume '%s': forgetting its attachment to container '%s' failed: %s",
				a->volume, a->container, strerror(-r));
	return 0;
}

int dms_vol_detach(struct dms_pool *pool, const char *name, const char *container)
{
	struct dms_attachment a;
	struct dms_row vol, ctr;
	uint64_t txn;
	int r;

	r = dms_change_begin(pool, &txn);
	if (r < 0)
		return r;
	r = dms_vol_find(pool, name, &vol);
	if (r == 0)
		r = find_container(pool, container, &ctr);
	if (r < 0)
		goto out;
	r = dms_catalog_attach_find(pool->cat, vol.id, ctr.id, &a);
	if (r == -ENOENT)
		r = dms_fail_missing(pool->ctx, r, "volume '%s' is not attached to container '%s'", name, container);
	else if (r < 0)
		r = dms_fail(pool->ctx, r, "volume '%s': catalogue: %s", name, strerror(-r));
	if (r == 0)
		r = dms_vol_detach_one(pool, &a, &ctr);
out:
	dms_change_end(pool, r);
	return r;
}

int dms_vol_detach_container(struct dms_pool *pool, const struct dms_row *ctr)
{
	_cleanup_free_ struct dms_attachment *att = NULL;
	size_t n = 0;
	int r;

	r = dms_catalog_attach_list(pool->cat, 0, ctr->id, &att, &n);
	if (r < 0)
		return dms_fail(pool->ctx, r, "container '%s': catalogue: %s", ctr->name, strerror(-r));
	for (size_t i = 0; i < n; i++) {
		r = dms_vol_detach_one(pool, &att[i], ctr);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * Under the pool lock, a pending attachment was left by a dmstore that died
 * between recording it and marking it done: it is done if its mount is there,
 * and forgotten if not (nothing was mounted, or the mount went with a reboot).
 */
int dms_vol_settle_attachments(struct dms_pool *pool, unsigned *ret_forward, unsigned *ret_back)
{
	_cleanup_free_ struct dms_attachment *att = NULL;
	size_t n = 0;
	bool alive;
	int r;

	r = dms_catalog_attach_list(pool->cat, 0, 0, &att, &n);
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': catalogue: %s", pool->cfg.name, strerror(-r));
	for (size_t i = 0; i < n; i++) {
		if (!att[i].pending)
			continue;
		r = dms_attachment_alive(pool, &att[i], &alive);
		if (r == 0)
			r = alive ? dms_catalog_attach_settle(pool->cat, att[i].id) :
				    dms_catalog_attach_delete(pool->cat, att[i].id);
		if (r < 0)
			return dms_fail(pool->ctx, r, "pool '%s': settling volume '%s''s attachment to container '%s', left by a dmstore that died, failed: %s",
					pool->cfg.name, att[i].volume, att[i].container, strerror(-r));
		(*(alive ? ret_forward : ret_back))++;
	}
	return 0;
}

int dms_vol_forget_attachments(struct dms_pool *pool, const struct dms_row *vol)
{
	_cleanup_free_ struct dms_attachment *att = NULL;
	size_t n = 0;
	int r;

	r = dms_catalog_attach_list(pool->cat, vol->id, 0, &att, &n);
	for (size_t i = 0; i < n && r == 0; i++)
		r = dms_catalog_attach_delete(pool->cat, att[i].id);
	return r < 0 ? dms_fail(pool->ctx, r, "volume '%s': catalogue: %s", vol->name, strerror(-r)) : 0;
}

int dms_vol_check_unattached(struct dms_pool *pool, const struct dms_row *ctr)
{
	_cleanup_free_ struct dms_attachment *att = NULL;
	size_t n = 0;
	int r;

	r = dms_catalog_attach_list(pool->cat, 0, ctr->id, &att, &n);
	if (r < 0)
		return dms_fail(pool->ctx, r, "container '%s': catalogue: %s", ctr->name, strerror(-r));
	if (n > 0)
		return dms_fail(pool->ctx, -EBUSY, "container '%s' has volume '%s' attached at %s; detach it first with 'dmstore vol detach %s --container %s'",
				ctr->name, att[0].volume, att[0].path, att[0].volume, ctr->name);
	return 0;
}
