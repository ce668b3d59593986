// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Volumes: standalone thin devices with ext4, outliving every container they
 * are attached to (volume-attach.c). A volume snapshot (volume-snap.c) is a
 * volume whose row names its origin.
 *
 * A create is two steps, like an image import: the thin device is a kernel
 * transaction (pool/txn.c) that ends with the row 'importing'; only after
 * the filesystem is made does the row become 'ready'. The creator holds the
 * pool lock throughout, so recovery meeting an 'importing' volume knows its
 * creator died before the format finished and deletes it: a volume is never
 * 'ready' without a filesystem.
 *
 * Volumes stay active (row.active): they are the devices containers use.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <json-c/json.h>

#include "dm/dm.h"
#include "dms-exec.h"
#include "dms-util.h"
#include "fs/ext4.h"
#include "fs/mount-at.h"
#include "fs/mount.h"
#include "pool/internal.h"

#define VOL_SIZE_MIN (16 * DMS_MIB)

static int check_vol_name(struct dms_pool *pool, const char *name)
{
	if (!dms_name_valid(name))
		return dms_fail_invalid(pool->ctx, -EINVAL, "volume '%s': invalid name: use 1-%d of [A-Za-z0-9_.-], starting with a letter or digit",
					name ? name : "", DMS_NAME_MAX);
	return 0;
}

int dms_vol_find(struct dms_pool *pool, const char *name, struct dms_row *ret_row)
{
	int r = check_vol_name(pool, name);

	if (r < 0)
		return r;
	r = dms_catalog_find(pool->cat, DMS_KIND_VOLUME, name, ret_row);
	/* A row mid-create is not a volume yet. */
	if (r == -ENOENT || (r == 0 && ret_row->state != DMS_STATE_READY))
		return dms_fail_missing(pool->ctx, -ENOENT, "pool '%s': volume '%s' does not exist", pool->cfg.name,
					name);
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': volume '%s': catalogue: %s", pool->cfg.name, name,
				strerror(-r));
	return 0;
}

/* -EEXIST if NAME is taken by a volume or a volume snapshot (one namespace: both are volume rows). */
int dms_vol_name_free(struct dms_pool *pool, const char *name)
{
	struct dms_row row;
	int r = dms_catalog_find(pool->cat, DMS_KIND_VOLUME, name, &row);

	if (r == 0)
		return dms_fail(pool->ctx, -EEXIST,
				dms_row_removing(&row) ? "pool '%s': volume '%s' is being removed: its name is free once its device's last user lets go" :
							 "pool '%s': volume '%s' already exists",
				pool->cfg.name, name);
	if (r != -ENOENT)
		return dms_fail(pool->ctx, r, "pool '%s': catalogue: %s", pool->cfg.name, strerror(-r));
	return 0;
}

/*
 * A dmstore that died between suspend and resume (a snapshot, a grow) left
 * this volume suspended, blocking all its I/O. The lock is ours, so no live
 * dmstore is mid-way: resuming is safe.
 */
int dms_vol_device_resume(struct dms_pool *pool, const struct dms_row *row)
{
	struct dms_dm_info info;
	int r;

	r = dms_thin_dev_find(pool, row, &info);
	if (r == 0 && info.exists && info.suspended)
		r = dms_dm_resume(info.name);
	if (r < 0)
		return dms_fail(pool->ctx, r, "volume '%s': resuming its suspended device failed: %s", row->name,
				strerror(-r));
	return 0;
}

/* Active and not suspended, and the catalogue knows it should stay active. */
int dms_vol_device_up(struct dms_pool *pool, struct dms_row *row)
{
	int r;

	r = dms_thin_dev_activate(pool, row);
	if (r < 0)
		return r;
	r = dms_vol_device_resume(pool, row);
	if (r < 0 || row->active)
		return r;
	row->active = true;
	r = dms_catalog_update(pool->cat, row);
	return r < 0 ? dms_fail(pool->ctx, r, "volume '%s': catalogue: %s", row->name, strerror(-r)) : 0;
}

/* The device number of an active volume; -ENXIO if it is not active. */
int dms_vol_devnum(struct dms_pool *pool, const struct dms_row *row, dev_t *ret_dev)
{
	char dev[PATH_MAX];
	struct stat st;
	bool active;
	int r;

	r = dms_thin_dev_is_active(pool, row, &active);
	if (r < 0)
		return r;
	if (!active)
		return -ENXIO;
	r = dms_thin_dev_path(pool, row, dev, sizeof(dev));
	if (r < 0)
		return r;
	if (stat(dev, &st) < 0)
		return -errno;
	if (!S_ISBLK(st.st_mode))
		return -ENOTBLK;
	*ret_dev = st.st_rdev;
	return 0;
}

static int check_label(struct dms_pool *pool, const char *name, const char *label)
{
	if (!label)
		return 0;
	if (strlen(label) > 16)
		return dms_fail_invalid(pool->ctx, -EINVAL, "volume '%s': label '%s' is longer than ext4's 16 bytes",
					name, label);
	for (const unsigned char *p = (const unsigned char *)label; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return dms_fail_invalid(pool->ctx, -EINVAL, "volume '%s': the label has a control character",
						name);
	return 0;
}

static void vol_meta(struct dms_row *row, const char *label, bool raw)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "label", json_object_new_string(label ? label : ""));
	/* Absent in rows made before raw volumes existed: those all have ext4. */
	if (raw)
		json_object_object_add(o, "raw", json_object_new_boolean(true));
	snprintf(row->meta, sizeof(row->meta), "%s", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

static void meta_label(const struct dms_row *row, char *buf, size_t len)
{
	json_object *o = json_tokener_parse(row->meta), *v;

	*buf = '\0';
	if (o && json_object_object_get_ex(o, "label", &v))
		snprintf(buf, len, "%s", json_object_get_string(v));
	json_object_put(o);
}

bool dms_vol_is_raw(const struct dms_row *row)
{
	json_object *o = json_tokener_parse(row->meta), *v;
	bool raw = o && json_object_object_get_ex(o, "raw", &v) && json_object_get_boolean(v);

	json_object_put(o);
	return raw;
}

/*
 * RAW: the device only, for callers that put their own data or filesystem on
 * it (a Kubernetes raw block volume, a benchmark). It goes through the same
 * two steps, so a crash before 'ready' still leaves nothing.
 */
static int vol_create(struct dms_pool *pool, const char *name, uint64_t size, const char *label, bool raw)
{
	struct dms_ext4_format_opts fmt = { .label = label, .assume_zeroed = pool->cfg.zero };
	struct dms_row row = { .kind = DMS_KIND_VOLUME };
	char dev[PATH_MAX];
	uint64_t txn;
	int r;

	r = check_vol_name(pool, name);
	if (r == 0)
		r = check_label(pool, name, label);
	if (r < 0)
		return r;
	r = dms_size_check(pool->ctx, "volume", name, size);
	if (r < 0)
		return r;
	if (size % 4096 || size < VOL_SIZE_MIN)
		return dms_fail_invalid(pool->ctx, -EINVAL, "volume '%s': size must be a multiple of 4 KiB and at least 16 MiB",
					name);
	r = dms_change_begin(pool, &txn);
	if (r < 0)
		return r;
	r = dms_vol_name_free(pool, name);
	if (r == 0)
		r = dms_space_check(pool, "a volume");
	if (r < 0)
		goto out;

	row = (struct dms_row){ .kind = DMS_KIND_VOLUME, .size = size, .created = (int64_t)time(NULL) };
	snprintf(row.name, sizeof(row.name), "%s", name);
	vol_meta(&row, label, raw);
	r = dms_device_create(pool, &row, 0, txn, "vol-create", DMS_STATE_IMPORTING);
	if (r < 0) {
		r = dms_fail(pool->ctx, r, "pool '%s': volume '%s': creating its thin device failed: %s",
			     pool->cfg.name, name, strerror(-r));
		goto out;
	}
	txn++;

	r = dms_thin_dev_activate(pool, &row);
	if (r < 0)
		goto out_delete;
	r = dms_thin_dev_path(pool, &row, dev, sizeof(dev));
	if (r == 0 && !raw)
		r = dms_ext4_format(dev, &fmt);
	if (r < 0) {
		dms_fail(pool->ctx, r, "volume '%s' (thin id %u): %s failed: %s", name, row.thin_id,
			 raw ? "activation" : "making its filesystem", strerror(-r));
		goto out_delete;
	}
	dms_crash_point("vol-create", "after-format");
	row.state = DMS_STATE_READY;
	row.active = true;
	r = dms_catalog_update(pool->cat, &row);
	if (r < 0) {
		dms_fail(pool->ctx, r, "volume '%s': catalogue: %s", name, strerror(-r));
		goto out_delete;
	}
	goto out;

out_delete:
	/* Nothing half-made is left: the device goes again, in a transaction of its own. */
	(void)dms_thin_dev_deactivate(pool, &row);
	(void)dms_device_delete(pool, &row, txn, "vol-create-undo");
out:
	dms_change_end(pool, r);
	return r;
}

int dms_vol_create(struct dms_pool *pool, const char *name, uint64_t size, const char *label)
{
	return vol_create(pool, name, size, label, false);
}

int dms_vol_create_raw(struct dms_pool *pool, const char *name, uint64_t size)
{
	return vol_create(pool, name, size, NULL, true);
}

void dms_vol_info_free(struct dms_vol_info *info)
{
	if (!info)
		return;
	for (size_t i = 0; i < info->n_attachments; i++) {
		free(info->attachments[i]->container);
		free(info->attachments[i]->path);
		free(info->attachments[i]);
	}
	free(info->attachments);
	free(info->name);
	free(info->label);
	free(info->origin);
	free(info->device);
	free(info->mountpoint);
	free(info);
}

void dms_vol_list_free(struct dms_vol_info **vols, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dms_vol_info_free(vols[i]);
	free(vols);
}

/* Every attachment the catalogue has of ROW, however many. */
static int vol_attachments(struct dms_pool *pool, const struct dms_row *row, struct dms_vol_info *info)
{
	_cleanup_free_ struct dms_attachment *att = NULL;
	size_t n = 0;
	int r;

	r = dms_catalog_attach_list(pool->cat, row->id, 0, &att, &n);
	if (r < 0)
		return r;
	info->attachments = calloc(n ? n : 1, sizeof(*info->attachments));
	if (!info->attachments)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct dms_vol_attachment *a = calloc(1, sizeof(*a));

		if (!a)
			return -ENOMEM;
		info->attachments[info->n_attachments++] = a;
		*a = (struct dms_vol_attachment){ .size = sizeof(*a), .read_only = att[i].read_only };
		if (dms_str_set(&a->container, att[i].container) < 0 || dms_str_set(&a->path, att[i].path) < 0)
			return -ENOMEM;
	}
	return 0;
}

int dms_vol_info_catalogued(struct dms_pool *pool, const struct dms_row *row, struct dms_vol_info **ret_info)
{
	struct dms_vol_info *info = calloc(1, sizeof(*info));
	struct dms_row origin;
	const char *origin_name = "";
	char label[17];
	int r;

	if (!info)
		return -ENOMEM;
	*info = (struct dms_vol_info){
		.size = sizeof(*info),
		.thin_id = row->thin_id,
		.virtual_size = row->size,
		.created = row->created,
		.raw = dms_vol_is_raw(row),
	};
	meta_label(row, label, sizeof(label));
	/* origin_id == id: the origin was removed (dms_catalog_orphan_snapshots). */
	if (row->origin_id > 0 && row->origin_id != row->id && dms_catalog_get(pool->cat, row->origin_id, &origin) == 0)
		origin_name = origin.name;
	r = vol_attachments(pool, row, info);
	if (r == 0 && (dms_str_set(&info->name, row->name) < 0 || dms_str_set(&info->label, label) < 0 ||
		       dms_str_set(&info->origin, origin_name) < 0 || dms_str_set(&info->device, "") < 0 ||
		       dms_str_set(&info->mountpoint, row->mountpoint) < 0))
		r = -ENOMEM;
	if (r < 0) {
		dms_vol_info_free(info);
		return r;
	}
	*ret_info = info;
	return 0;
}

static int vol_info(struct dms_pool *pool, const struct dms_row *row, struct dms_vol_info **ret_info)
{
	char dm_name[DMS_DM_NAME_MAX + 1], device[PATH_MAX];
	struct dms_vol_info *info;
	int r;

	r = dms_vol_info_catalogued(pool, row, &info);
	if (r < 0)
		return r;
	r = dms_thin_dev_name(pool, row, dm_name, sizeof(dm_name));
	if (r == 0)
		r = dms_dm_path(dm_name, device, sizeof(device));
	if (r == 0)
		r = dms_thin_dev_is_active(pool, row, &info->active);
	if (r == 0 && info->active)
		r = dms_thin_dev_used(pool, row, &info->used);
	if (r == 0) {
		free(info->device);
		r = dms_str_set(&info->device, device);
	}
	if (r < 0) {
		dms_vol_info_free(info);
		return r;
	}
	*ret_info = info;
	return 0;
}

int dms_vol_inspect(struct dms_pool *pool, const char *name, struct dms_vol_info **ret_info)
{
	struct dms_row row;
	int r;

	r = dms_vol_find(pool, name, &row);
	if (r < 0)
		return r;
	r = vol_info(pool, &row, ret_info);
	return r < 0 ? dms_fail(pool->ctx, r, "volume '%s': %s", name, strerror(-r)) : 0;
}

int dms_vol_list(struct dms_pool *pool, struct dms_vol_info ***ret_vols, size_t *ret_n)
{
	_cleanup_free_ struct dms_row *rows = NULL;
	struct dms_vol_info **vols;
	size_t n, k = 0;
	int r;

	r = dms_catalog_list(pool->cat, DMS_KIND_VOLUME, 0, &rows, &n);
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': catalogue: %s", pool->cfg.name, strerror(-r));
	vols = calloc(n ? n : 1, sizeof(*vols));
	if (!vols)
		return dms_fail(pool->ctx, -ENOMEM, "pool '%s': out of memory", pool->cfg.name);
	for (size_t i = 0; i < n; i++) {
		/* A row mid-change belongs to another process's transaction: not a volume yet, or not any more. */
		if (rows[i].state != DMS_STATE_READY)
			continue;
		r = vol_info(pool, &rows[i], &vols[k]);
		if (r < 0) {
			dms_vol_list_free(vols, k);
			return dms_fail(pool->ctx, r, "volume '%s': %s", rows[i].name, strerror(-r));
		}
		k++;
	}
	*ret_vols = vols;
	*ret_n = k;
	return 0;
}

/* The host mount (vol mount), if it is still there: found by the directory the row names, checked to be ours. */
static int host_unmount(struct dms_pool *pool, struct dms_row *row)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	dev_t dev;
	int r;

	if (!*row->mountpoint)
		return 0;
	fd = open(row->mountpoint, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0 && dms_vol_devnum(pool, row, &dev) == 0 && st.st_dev == dev) {
		r = dms_umount_fd(DMS_TAKE_FD(fd));
		if (r < 0)
			return dms_fail(pool->ctx, r, "volume '%s': unmounting '%s' failed: %s", row->name,
					row->mountpoint, strerror(-r));
	}
	row->mountpoint[0] = '\0';
	r = dms_catalog_update(pool->cat, row);
	return r < 0 ? dms_fail(pool->ctx, r, "volume '%s': catalogue: %s", row->name, strerror(-r)) : 0;
}

int dms_vol_mount(struct dms_pool *pool, const char *name, const char *dir)
{
	_cleanup_close_ int fd = -1;
	char where[PATH_MAX], dev[PATH_MAX];
	struct dms_row row;
	uint64_t txn;
	int r;

	r = check_vol_name(pool, name);
	if (r < 0)
		return r;
	if (!dir || !*dir)
		return dms_fail_invalid(pool->ctx, -EINVAL, "volume '%s': a mount point directory is required", name);
	r = dms_change_begin(pool, &txn);
	if (r < 0)
		return r;
	r = dms_vol_find(pool, name, &row);
	if (r < 0)
		goto out;
	if (dms_vol_is_raw(&row)) {
		r = dms_fail(pool->ctx, -EINVAL, "volume '%s' is a raw block device: it has no filesystem to mount", name);
		goto out;
	}
	if (*row.mountpoint) {
		r = dms_fail(pool->ctx, -EBUSY, "volume '%s' is already mounted at '%s'", name, row.mountpoint);
		goto out;
	}
	if (!realpath(dir, where) || (fd = open(where, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = dms_fail_path(pool->ctx, -errno, "volume '%s': mount point '%s': %s", name, dir, strerror(errno));
		goto out;
	}
	r = dms_vol_device_up(pool, &row);
	if (r < 0)
		goto out;
	r = dms_thin_dev_path(pool, &row, dev, sizeof(dev));
	if (r == 0)
		r = dms_mount_ext4_at(dev, fd, 0, pool->ctx->mount_options);
	if (r < 0) {
		r = dms_fail(pool->ctx, r, "volume '%s': mounting at '%s' failed: %s", name, where, strerror(-r));
		goto out;
	}
	snprintf(row.mountpoint, sizeof(row.mountpoint), "%s", where);
	r = dms_catalog_update(pool->cat, &row);
	if (r < 0) {
		(void)dms_umount(where);
		r = dms_fail(pool->ctx, r, "volume '%s': recording the mount failed: %s", name, strerror(-r));
	}
out:
	dms_change_end(pool, r);
	return r;
}

int dms_vol_umount(struct dms_pool *pool, const char *name)
{
	struct dms_row row;
	uint64_t txn;
	int r;

	r = check_vol_name(pool, name);
	if (r < 0)
		return r;
	r = dms_change_begin(pool, &txn);
	if (r < 0)
		return r;
	r = dms_vol_find(pool, name, &row);
	if (r == 0)
		r = dms_vol_device_resume(pool, &row);
	if (r == 0)
		r = host_unmount(pool, &row);
	dms_change_end(pool, r);
	return r;
}

/*
 * Refused while anything holds the volume, naming the holder; FORCE lets go
 * of what dmstore holds. A holder (volume-hold.c) is another program's user,
 * a container most likely: FORCE does not take the volume from under it.
 */
/* A holder by mount ID (the Docker plugin's, pool/volume-hold.c) is refused even with --force. */
static int refuse_held_by_id(struct dms_pool *pool, const struct dms_row *row)
{
	char where[PATH_MAX], **holders = NULL;
	size_t n = 0;
	int r;

	r = dms_vol_held(pool, row, &holders, &n);
	if (r < 0)
		return dms_fail(pool->ctx, r, "volume '%s': finding its holders failed: %s", row->name, strerror(-r));
	if (n == 0)
		return 0;
	r = dms_vol_holders_dir(pool, row->name, holders[0], where, sizeof(where));
	r = dms_fail(pool->ctx, -EBUSY, "volume '%s' is held by '%s' (mounted at '%s'); it is in use", row->name,
		     holders[0], r == 0 ? where : "?");
	dms_strv_free(holders, n);
	return r;
}

static int vol_release(struct dms_pool *pool, struct dms_row *row, bool force)
{
	_cleanup_free_ struct dms_attachment *att = NULL;
	char dev[PATH_MAX], where[PATH_MAX];
	size_t n = 0;
	int r;

	r = refuse_held_by_id(pool, row);
	if (r < 0)
		return r;
	r = dms_catalog_attach_list(pool->cat, row->id, 0, &att, &n);
	if (r < 0)
		return dms_fail(pool->ctx, r, "volume '%s': catalogue: %s", row->name, strerror(-r));
	if (n > 0 && !force)
		return dms_fail(pool->ctx, -EBUSY, "volume '%s' is attached to container '%s' at %s; detach it or use --force",
				row->name, att[0].container, att[0].path);
	if (*row->mountpoint && !force)
		return dms_fail(pool->ctx, -EBUSY, "volume '%s' is mounted at '%s'; unmount it or use --force",
				row->name, row->mountpoint);
	for (size_t i = 0; i < n; i++) {
		r = dms_vol_detach_one(pool, &att[i], NULL);
		if (r < 0)
			return r;
	}
	r = host_unmount(pool, row);
	if (r < 0)
		return r;
	/* Mounted behind dmstore's back: not ours to undo. */
	if (dms_thin_dev_path(pool, row, dev, sizeof(dev)) == 0 && dms_mount_find(dev, where, sizeof(where)) > 0)
		return dms_fail(pool->ctx, -EBUSY, "volume '%s' is mounted at '%s' (not by dmstore); unmount it first",
				row->name, where);
	return 0;
}

int dms_vol_remove_flags(struct dms_pool *pool, const char *name, unsigned flags, bool *ret_deferred)
{
	bool force = flags & DMS_REMOVE_FORCE, held = false, deferred = false;
	struct dms_row row;
	uint64_t txn;
	int r;

	r = check_vol_name(pool, name);
	if (r < 0)
		return r;
	r = dms_change_begin(pool, &txn);
	if (r < 0)
		return r;
	r = dms_vol_find(pool, name, &row);
	if (r == 0)
		r = dms_vol_device_resume(pool, &row);
	if (r == 0 && force)
		r = dms_thin_dev_held(pool, &row, &held);
	if (r == 0 && held) {
		/* Mounts go lazily in dms_remove_deferred; the catalogue's attachments go first. */
		r = refuse_held_by_id(pool, &row);
		if (r == 0)
			r = dms_vol_forget_attachments(pool, &row);
		if (r == 0)
			r = dms_catalog_orphan_snapshots(pool->cat, row.id);
		if (r == 0)
			r = dms_remove_deferred(pool, &row, &txn, "vol-rm", &deferred);
		if (r == 0) {
			dms_vol_holders_forget(pool, name);
			if (ret_deferred)
				*ret_deferred = deferred;
		}
		goto out;
	}
	if (r == 0)
		r = vol_release(pool, &row, force);
	/* Refused before anything changes, naming who holds it. */
	if (r == 0)
		r = dms_thin_dev_refuse_held(pool, &row);
	if (r < 0)
		goto out;
	if (ret_deferred)
		*ret_deferred = false;
	r = dms_thin_dev_deactivate(pool, &row);
	if (r < 0) {
		r = dms_fail(pool->ctx, r, "volume '%s': deactivating failed: %s", name, strerror(-r));
		goto out;
	}
	/* dm-thin snapshots do not depend on their origin: they stay, remembering only that it is gone. */
	r = dms_catalog_orphan_snapshots(pool->cat, row.id);
	if (r == 0)
		r = dms_device_delete(pool, &row, txn, "vol-rm");
	if (r < 0)
		r = dms_fail(pool->ctx, r, "pool '%s': volume '%s' (thin id %u): delete failed: %s", pool->cfg.name,
			     name, row.thin_id, strerror(-r));
	else
		dms_vol_holders_forget(pool, name);
out:
	dms_change_end(pool, r);
	return r;
}

int dms_vol_remove(struct dms_pool *pool, const char *name, bool force)
{
	return dms_vol_remove_flags(pool, name, force ? DMS_REMOVE_FORCE : 0, NULL);
}

/*
 * A table reload takes effect on resume; the suspend flushes (and freezes a
 * mounted filesystem) first. Resume runs on every path: a device left
 * suspended blocks all its I/O.
 */
static int reload_length(struct dms_pool *pool, const struct dms_row *row, uint64_t size)
{
	_cleanup_free_ char *type = NULL, *params = NULL;
	struct dms_dm_info info;
	struct dms_dm_target t;
	int r;

	r = dms_thin_dev_find(pool, row, &info);
	if (r == 0 && !info.exists)
		r = -ENXIO;
	if (r == 0)
		r = dms_dm_table(info.name, &type, &params);
	if (r < 0)
		return r;
	/* The same mapping, longer: "thin <pool major:minor> <dev id>". */
	t = (struct dms_dm_target){ .start = 0, .length = size / DMS_SECTOR_SIZE, .type = type, .params = params };
	r = dms_dm_reload(info.name, &t, 1);
	if (r < 0)
		return r;
	r = dms_dm_suspend(info.name, true);
	if (r < 0)
		return r;
	dms_crash_point("vol-grow", "after-suspend");
	return dms_dm_resume(info.name);
}

int dms_vol_grow(struct dms_pool *pool, const char *name, uint64_t size)
{
	char dev[PATH_MAX], a[32], b[32], why[160];
	struct dms_row row;
	uint64_t txn;
	int r;

	r = check_vol_name(pool, name);
	if (r < 0)
		return r;
	r = dms_size_check(pool->ctx, "volume", name, size);
	if (r < 0)
		return r;
	if (size % 4096)
		return dms_fail_invalid(pool->ctx, -EINVAL, "volume '%s': size must be a multiple of 4 KiB", name);
	r = dms_change_begin(pool, &txn);
	if (r < 0)
		return r;
	r = dms_vol_find(pool, name, &row);
	if (r < 0)
		goto out;
	if (size < row.size) {
		r = dms_fail_invalid(pool->ctx, -EINVAL, "volume '%s': cannot shrink from %s to %s; volumes only grow", name,
				     dms_size_format(row.size, a, sizeof(a)), dms_size_format(size, b, sizeof(b)));
		goto out;
	}
	r = dms_vol_device_up(pool, &row);
	if (r < 0)
		goto out;
	if (size > row.size) {
		r = reload_length(pool, &row, size);
		if (r < 0) {
			r = dms_fail(pool->ctx, r, "volume '%s': loading the larger table failed: %s", name, strerror(-r));
			goto out;
		}
		/* The device is larger now; the catalogue follows, so a reactivation brings the same size back. */
		row.size = size;
		r = dms_catalog_update(pool->cat, &row);
		if (r < 0) {
			r = dms_fail(pool->ctx, r, "volume '%s': catalogue: %s", name, strerror(-r));
			goto out;
		}
	}
	if (dms_vol_is_raw(&row))
		goto out;
	/* Also when the size is unchanged: a grow that died before this point is finished by running it again. */
	r = dms_thin_dev_path(pool, &row, dev, sizeof(dev));
	if (r == 0)
		r = dms_ext4_grow(dev, size);
	if (r < 0)
		r = dms_fail(pool->ctx, r, "volume '%s': growing its filesystem to %s failed: %s", name,
			     dms_size_format(size, a, sizeof(a)), dms_exec_strerror(r, "resize2fs", why, sizeof(why)));
out:
	dms_change_end(pool, r);
	return r;
}
