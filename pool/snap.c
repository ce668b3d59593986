// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Containers: one thin snapshot of an image's base each, the container's
 * writable layer. The base stays inactive, so create_snap needs no suspend.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "dm/dm.h"
#include "dms-exec.h"
#include "dms-util.h"
#include "fs/ext4.h"
#include "fs/mount.h"
#include "pool/internal.h"

static int find_container(struct dms_pool *pool, const char *name, struct dms_row *row)
{
	int r;

	if (!dms_name_valid(name))
		return dms_fail_invalid(pool->ctx, -EINVAL, "container '%s': invalid name: use 1-%d of [A-Za-z0-9_.-], starting with a letter or digit",
					name, DMS_NAME_MAX);
	r = dms_catalog_find(pool->cat, DMS_KIND_CONTAINER, name, row);
	/* A removal waiting for its holder (pool/remove-held.c) is gone for every purpose but its name. */
	if (r == 0 && dms_row_removing(row))
		return dms_fail_missing(pool->ctx, -ENOENT, "pool '%s': container '%s' is being removed: its device goes when its last user lets go",
					pool->cfg.name, name);
	if (r == -ENOENT)
		return dms_fail_missing(pool->ctx, r, "pool '%s': container '%s' does not exist", pool->cfg.name, name);
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': container '%s': catalogue: %s", pool->cfg.name, name,
				strerror(-r));
	return 0;
}

int dms_snap_create(struct dms_pool *pool, const char *name, const char *image, uint64_t size)
{
	struct dms_row img, row = { .kind = DMS_KIND_CONTAINER };
	char dev[PATH_MAX], why[160];
	uint64_t txn;
	int r;

	if (!dms_name_valid(name))
		return dms_fail_invalid(pool->ctx, -EINVAL, "container '%s': invalid name: use 1-%d of [A-Za-z0-9_.-], starting with a letter or digit",
					name, DMS_NAME_MAX);
	if (!dms_name_valid(image))
		return dms_fail_invalid(pool->ctx, -EINVAL, "image '%s': invalid name", image);
	r = dms_size_check(pool->ctx, "container", name, size);
	if (r < 0)
		return r;
	r = dms_change_begin(pool, &txn);
	if (r < 0)
		return r;
	r = dms_catalog_find(pool->cat, DMS_KIND_IMAGE, image, &img);
	if (r == 0 && img.state == DMS_STATE_IMPORTING) {
		r = dms_image_refuse_importing(pool, &img);
		goto out;
	}
	if (r == -ENOENT || (r == 0 && img.state != DMS_STATE_READY)) {
		r = dms_fail_missing(pool->ctx, -ENOENT, "pool '%s': image '%s' does not exist", pool->cfg.name, image);
		goto out;
	}
	if (r == 0 && dms_catalog_find(pool->cat, DMS_KIND_CONTAINER, name, &row) == 0) {
		r = dms_fail(pool->ctx, -EEXIST,
			     dms_row_removing(&row) ? "pool '%s': container '%s' is being removed: its name is free once its device's last user lets go" :
						      "pool '%s': container '%s' already exists",
			     pool->cfg.name, name);
		goto out;
	}
	if (r < 0) {
		r = dms_fail(pool->ctx, r, "pool '%s': catalogue: %s", pool->cfg.name, strerror(-r));
		goto out;
	}
	if (size == 0)
		size = img.size;
	if (size < img.size || size % 4096) {
		r = dms_fail_invalid(pool->ctx, -EINVAL, "container '%s': size must be a multiple of 4 KiB and at least its image's (%llu bytes)",
				     name, (unsigned long long)img.size);
		goto out;
	}
	r = dms_space_check(pool, "a container");
	if (r < 0)
		goto out;

	/* Marked active from the start: one commit fewer, and a crash before activation leaves a row that pool activate or snap mount brings up. */
	row = (struct dms_row){
		.kind = DMS_KIND_CONTAINER,
		.size = size,
		.origin_id = img.id,
		.active = true,
		.created = (int64_t)time(NULL),
	};
	snprintf(row.name, sizeof(row.name), "%s", name);
	r = dms_device_create(pool, &row, img.thin_id, txn, "snap-create", DMS_STATE_READY);
	if (r < 0) {
		r = dms_fail(pool->ctx, r, "pool '%s': container '%s': creating the snapshot of image '%s' failed: %s",
			     pool->cfg.name, name, image, strerror(-r));
		goto out;
	}
	dms_crash_point("snap-create", "after-commit");

	r = dms_thin_dev_activate(pool, &row);
	if (r == 0 && size > img.size) {
		r = dms_thin_dev_path(pool, &row, dev, sizeof(dev));
		if (r == 0)
			r = dms_ext4_grow(dev, size);
		if (r < 0)
			dms_fail(pool->ctx, r, "pool '%s': container '%s' (thin id %u): growing its filesystem failed: %s",
				 pool->cfg.name, name, row.thin_id, dms_exec_strerror(r, "resize2fs", why, sizeof(why)));
	}
	if (r < 0) {
		int undo;

		/* Nothing half-made is left: the snapshot goes again in a transaction of its own. */
		undo = dms_thin_dev_deactivate(pool, &row);
		if (undo == 0)
			undo = dms_catalog_get(pool->cat, row.id, &row);
		if (undo == 0)
			undo = dms_device_delete(pool, &row, txn + 1, "snap-create-undo");
		goto out;
	}
	dms_crash_point("snap-create", "after-activate");
out:
	dms_change_end(pool, r);
	return r;
}

static int default_mount_dir(struct dms_pool *pool, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s/mnt/%s", pool->ctx->state_dir, pool->cfg.name, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int dms_snap_mount(struct dms_pool *pool, const char *name, const char *dir, unsigned flags, char **ret_dir)
{
	_cleanup_free_ char *dir_copy = NULL;
	struct dms_row row;
	char where[PATH_MAX], dev[PATH_MAX], now[PATH_MAX];
	uint64_t txn;
	int r;

	if ((flags & ~DMS_SNAP_MOUNT_CONTAINER_ROOT) || ((flags & DMS_SNAP_MOUNT_CONTAINER_ROOT) && dir))
		return dms_fail_invalid(pool->ctx, -EINVAL, "container '%s': a container root is mounted only at its default place",
					name);
	r = dms_change_begin(pool, &txn);
	if (r < 0)
		return r;
	r = find_container(pool, name, &row);
	if (r < 0)
		goto out;
	if (*row.mountpoint) {
		r = dms_fail(pool->ctx, -EBUSY, "container '%s' is already mounted at '%s'", name, row.mountpoint);
		goto out;
	}
	if (dir) {
		if (!realpath(dir, where)) {
			r = dms_fail_path(pool->ctx, -errno, "container '%s': mount point '%s': %s", name, dir,
					  strerror(errno));
			goto out;
		}
	} else {
		r = default_mount_dir(pool, name, where, sizeof(where));
		if (r == 0)
			r = dms_mkdir_p(where);
		if (r < 0) {
			r = dms_fail(pool->ctx, r, "container '%s': making its mount point failed: %s", name,
				     strerror(-r));
			goto out;
		}
	}
	/* Before the mount, so nothing past it fails for want of memory. */
	if (ret_dir && dms_str_set(&dir_copy, where) < 0) {
		r = dms_fail(pool->ctx, -ENOMEM, "container '%s': out of memory", name);
		goto out;
	}
	r = dms_thin_dev_activate(pool, &row);
	if (r < 0)
		goto out;
	r = dms_thin_dev_path(pool, &row, dev, sizeof(dev));
	if (r == 0 && dms_mount_find(dev, now, sizeof(now)) > 0)
		r = -EBUSY;
	if (r == 0)
		r = dms_mount_ext4(dev, where, flags & DMS_SNAP_MOUNT_CONTAINER_ROOT ? DMS_MOUNT_CONTAINER_ROOT : 0,
				   pool->ctx->mount_options);
	if (r < 0) {
		r = dms_fail(pool->ctx, r, "container '%s': mounting at '%s' failed: %s", name, where, strerror(-r));
		goto out;
	}
	row.active = true;
	snprintf(row.mountpoint, sizeof(row.mountpoint), "%s", where);
	r = dms_catalog_update(pool->cat, &row);
	if (r < 0) {
		(void)dms_umount(where);
		r = dms_fail(pool->ctx, r, "container '%s': recording the mount failed: %s", name, strerror(-r));
		goto out;
	}
	if (ret_dir)
		*ret_dir = DMS_TAKE_PTR(dir_copy);
out:
	dms_change_end(pool, r);
	return r;
}

/* Unmount what dmstore mounted; a mount point dmstore made itself is removed with it. */
static int snap_unmount(struct dms_pool *pool, struct dms_row *row)
{
	char def[PATH_MAX], dev[PATH_MAX], where[PATH_MAX];
	int r;

	/* Mounted by hand, or the catalogue lost track: the kernel's mount table is the truth. */
	while (dms_thin_dev_path(pool, row, dev, sizeof(dev)) == 0 && dms_mount_find(dev, where, sizeof(where)) > 0) {
		r = dms_umount(where);
		if (r < 0)
			return dms_fail(pool->ctx, r, "container '%s': unmounting '%s' failed: %s", row->name, where,
					strerror(-r));
	}
	if (default_mount_dir(pool, row->name, def, sizeof(def)) == 0 && strcmp(def, row->mountpoint) == 0)
		(void)rmdir(def);
	if (!*row->mountpoint)
		return 0;
	row->mountpoint[0] = '\0';
	r = dms_catalog_update(pool->cat, row);
	return r < 0 ? dms_fail(pool->ctx, r, "container '%s': catalogue: %s", row->name, strerror(-r)) : 0;
}

int dms_snap_umount(struct dms_pool *pool, const char *name)
{
	struct dms_row row;
	uint64_t txn;
	int r;

	r = dms_change_begin(pool, &txn);
	if (r < 0)
		return r;
	r = find_container(pool, name, &row);
	/* The rootfs cannot come off while volumes are mounted inside it; detaching is the user's call. */
	if (r == 0)
		r = dms_vol_check_unattached(pool, &row);
	if (r == 0)
		r = snap_unmount(pool, &row);
	dms_change_end(pool, r);
	return r;
}

/* The lock is held: unmount, deactivate, delete. Shared with image removal. */
int dms_snap_remove_locked(struct dms_pool *pool, struct dms_row *row, uint64_t *txn)
{
	int r;

	/* Refused before anything changes: a half-removed container (unmounted, volumes detached) is no good to anyone. */
	r = dms_thin_dev_refuse_held(pool, row);
	if (r < 0)
		return r;
	/* Its volumes outlive it: detached (unmounted, forgotten here), never deleted. */
	r = dms_vol_detach_container(pool, row);
	if (r == 0)
		r = snap_unmount(pool, row);
	if (r < 0)
		return r;
	r = dms_thin_dev_deactivate(pool, row);
	if (r < 0)
		return dms_fail(pool->ctx, r, "container '%s': deactivating failed: %s", row->name, strerror(-r));
	dms_crash_point("snap-rm", "after-deactivate");
	r = dms_device_delete(pool, row, *txn, "snap-rm");
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': container '%s' (thin id %u): delete failed: %s",
				pool->cfg.name, row->name, row->thin_id, strerror(-r));
	(*txn)++;
	return 0;
}

int dms_snap_remove_flags(struct dms_pool *pool, const char *name, unsigned flags, bool *ret_deferred)
{
	struct dms_row row;
	bool held = false, deferred = false;
	uint64_t txn;
	int r;

	r = dms_change_begin(pool, &txn);
	if (r < 0)
		return r;
	r = find_container(pool, name, &row);
	if (r == 0 && (flags & DMS_REMOVE_FORCE))
		r = dms_thin_dev_held(pool, &row, &held);
	if (r < 0)
		goto out;
	if (held) {
		/* Its volumes are detached as always: a holder inside one of them is refused there. */
		r = dms_vol_detach_container(pool, &row);
		if (r == 0)
			r = dms_remove_deferred(pool, &row, &txn, "snap-rm", &deferred);
	} else {
		r = dms_snap_remove_locked(pool, &row, &txn);
	}
	if (r == 0 && ret_deferred)
		*ret_deferred = deferred;
out:
	dms_change_end(pool, r);
	return r;
}

int dms_snap_remove(struct dms_pool *pool, const char *name)
{
	return dms_snap_remove_flags(pool, name, 0, NULL);
}

void dms_snap_info_free(struct dms_snap_info *info)
{
	if (!info)
		return;
	free(info->name);
	free(info->image);
	free(info->device);
	free(info->mountpoint);
	free(info);
}

void dms_snap_list_free(struct dms_snap_info **snaps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dms_snap_info_free(snaps[i]);
	free(snaps);
}

static int snap_info(struct dms_pool *pool, const struct dms_row *row, struct dms_snap_info **ret_info)
{
	char name[DMS_DM_NAME_MAX + 1], device[PATH_MAX];
	struct dms_snap_info *info = calloc(1, sizeof(*info));
	const char *image = "";
	struct dms_row img;
	int r;

	if (!info)
		return -ENOMEM;
	*info = (struct dms_snap_info){
		.size = sizeof(*info),
		.thin_id = row->thin_id,
		.virtual_size = row->size,
		.created = row->created,
	};
	if (dms_catalog_get(pool->cat, row->origin_id, &img) == 0)
		image = img.name;
	r = dms_thin_dev_name(pool, row, name, sizeof(name));
	if (r == 0)
		r = dms_dm_path(name, device, sizeof(device));
	if (r == 0)
		r = dms_thin_dev_is_active(pool, row, &info->active);
	if (r == 0 && info->active)
		r = dms_thin_dev_used(pool, row, &info->used);
	if (r == 0 && (dms_str_set(&info->name, row->name) < 0 || dms_str_set(&info->image, image) < 0 ||
		       dms_str_set(&info->device, device) < 0 || dms_str_set(&info->mountpoint, row->mountpoint) < 0))
		r = -ENOMEM;
	if (r < 0) {
		dms_snap_info_free(info);
		return r;
	}
	*ret_info = info;
	return 0;
}

int dms_snap_inspect(struct dms_pool *pool, const char *name, struct dms_snap_info **ret_info)
{
	struct dms_row row;
	int r;

	r = find_container(pool, name, &row);
	if (r < 0)
		return r;
	r = snap_info(pool, &row, ret_info);
	return r < 0 ? dms_fail(pool->ctx, r, "container '%s': %s", name, strerror(-r)) : 0;
}

int dms_snap_list(struct dms_pool *pool, struct dms_snap_info ***ret_snaps, size_t *ret_n)
{
	_cleanup_free_ struct dms_row *rows = NULL;
	struct dms_snap_info **snaps;
	size_t n, k = 0;
	int r;

	r = dms_catalog_list(pool->cat, DMS_KIND_CONTAINER, 0, &rows, &n);
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': catalogue: %s", pool->cfg.name, strerror(-r));
	snaps = calloc(n ? n : 1, sizeof(*snaps));
	if (!snaps)
		return dms_fail(pool->ctx, -ENOMEM, "pool '%s': out of memory", pool->cfg.name);
	for (size_t i = 0; i < n; i++) {
		/* A row mid-change belongs to another process's transaction: not a container yet, or not any more. */
		if (rows[i].state != DMS_STATE_READY)
			continue;
		r = snap_info(pool, &rows[i], &snaps[k]);
		if (r < 0) {
			dms_snap_list_free(snaps, k);
			return dms_fail(pool->ctx, r, "container '%s': %s", rows[i].name, strerror(-r));
		}
		k++;
	}
	*ret_snaps = snaps;
	*ret_n = k;
	return 0;
}
