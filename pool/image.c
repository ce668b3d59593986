// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Images: one thin device per image holding its unpacked rootfs, written once
 * at import and kept inactive after, so snapshotting it needs no suspend.
 *
 * An import takes minutes, and other changes (a container's start) must not
 * wait for it. So it holds the pool lock only for its kernel transactions:
 *
 *   1. under the pool lock: the import lock of its name is taken
 *      (pool/lock.c), the device is made (pool/txn.c; the row is then
 *      'importing') and activated;
 *   2. under the import lock alone: ext4 is made and SOURCE unpacked into it,
 *      through a mount attached nowhere (fs/mount-at.h), which goes with the
 *      process if it is killed;
 *   3. under the pool lock again: the device is deactivated and the row made
 *      'ready', or, if anything failed, the device deleted.
 *
 * Recovery, which runs under the pool lock, meets an 'importing' image
 * whose import lock is held (step 2 of a live import) and leaves it alone; if
 * the lock is not held, its importer died, and it deletes the device.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "dm/dm.h"
#include "dms-util.h"
#include "fs/ext4.h"
#include "fs/mount-at.h"
#include "fs/unpack.h"
#include "pool/internal.h"

static int check_image_name(struct dms_pool *pool, const char *name)
{
	if (!dms_name_valid(name))
		return dms_fail_invalid(pool->ctx, -EINVAL, "image '%s': invalid name: use 1-%d of [A-Za-z0-9_.-], starting with a letter or digit",
					name, DMS_NAME_MAX);
	return 0;
}

/* False when the record does not fit the row (and is cut short there): the source is too long. */
static bool image_meta(struct dms_row *row, const char *source, const struct dms_unpack_stats *st)
{
	json_object *o = json_object_new_object();
	int n;

	json_object_object_add(o, "source", json_object_new_string(source ? source : ""));
	json_object_object_add(o, "entries", json_object_new_uint64(st ? st->entries : 0));
	json_object_object_add(o, "bytes", json_object_new_uint64(st ? st->bytes : 0));
	json_object_object_add(o, "xattrs_dropped", json_object_new_uint64(st ? st->xattrs_dropped : 0));
	n = snprintf(row->meta, sizeof(row->meta), "%s", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return n >= 0 && (size_t)n < sizeof(row->meta);
}

/* Whether SOURCE leaves room in the row for the largest counts an import can record. */
static bool source_fits(const char *source)
{
	const struct dms_unpack_stats most = { .entries = UINT64_MAX, .bytes = UINT64_MAX, .xattrs_dropped = UINT64_MAX };
	struct dms_row scratch;

	return image_meta(&scratch, source, &most);
}

int dms_image_refuse_importing(struct dms_pool *pool, const struct dms_row *row)
{
	struct dms_lock_holder h = { .size = sizeof(h) };
	_cleanup_free_ char *who = NULL;

	if (dms_import_lock_held(pool->ctx, pool->cfg.name, row->name, &h) > 0)
		who = dms_lock_holder_format(&h);
	dms_lock_holder_clear(&h);
	if (who)
		return dms_fail(pool->ctx, -EBUSY, "pool '%s': image '%s' is still being imported, by %s",
				pool->cfg.name, row->name, who);
	return dms_fail(pool->ctx, -EBUSY, "pool '%s': image '%s' is still being imported", pool->cfg.name, row->name);
}

int dms_image_refuse_pool_change(struct dms_ctx *ctx, const char *pool)
{
	struct dms_lock_holder h = { .size = sizeof(h) };
	_cleanup_free_ char *who = NULL;
	char image[DMS_NAME_MAX + 1];
	int r = dms_import_lock_any_held(ctx, pool, image, sizeof(image), &h);

	if (r > 0)
		who = dms_lock_holder_format(&h);
	dms_lock_holder_clear(&h);
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': looking for running imports failed: %s", pool, strerror(-r));
	if (r > 0)
		return dms_fail(ctx, -EBUSY,
				"pool '%s': image '%s' is being imported, by %s; let it finish or stop it first", pool,
				image, who ? who : "another process");
	return 0;
}

/* Test builds crash or stop here at "entry-N", once the Nth entry of a rootfs is written. */
static int import_written(void *arg, const struct dms_unpack_stats *so_far)
{
	dms_crash_point_n("image-import", "entry", so_far->entries);
	return 0;
}

/*
 * syncfs, because close() of the mount cannot report what its unmount fails
 * to write: a pool out of space fails writeback, not the writes the unpack
 * made. O_PATH (the mount's own fd) is not enough for syncfs.
 */
static int flush(int mnt)
{
	_cleanup_close_ int fd = openat(mnt, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return syncfs(fd) < 0 ? -errno : 0;
}

/*
 * Unpack SOURCE (or apply OCI's layers) into the new base through a mount
 * attached nowhere. Closing the mount's last fd on return unmounts it, before
 * the caller deactivates the device: the unpack thread holds nothing in it by
 * then (fs/unpack.h).
 */
static int unpack_into(struct dms_pool *pool, const struct dms_row *row, const char *dev, const char *source,
		       bool is_dir, struct dms_oci_import *oci, const struct dms_import_opts *opts,
		       struct dms_unpack_stats *st)
{
	const struct dms_unpack_hooks hooks = { .written = import_written };
	_cleanup_close_ int mnt = -1;
	char err[512] = "";
	int r;

	r = dms_mount_ext4_detached(dev, &mnt);
	if (r < 0)
		return dms_fail(pool->ctx, r, "image '%s': mounting its new filesystem failed: %s", row->name,
				strerror(-r));
	dms_crash_point("image-import", "after-mount");
	if (oci)
		r = dms_oci_apply(oci, mnt, opts, st, err, sizeof(err));
	else if (is_dir)
		r = dms_unpack_dir(mnt, source, &hooks, st, err, sizeof(err));
	else
		r = dms_unpack_archive(mnt, source, &hooks, st, err, sizeof(err));
	if (r == 0)
		r = flush(mnt);
	/* An entry refused for escaping the rootfs is bad input, not a permission problem of the caller's. */
	if (r == -EPERM)
		r = -EINVAL;
	if (r == -ENOSPC)
		return dms_fail(pool->ctx, r, "image '%s': %s does not fit in %" PRIu64 " bytes: import again with a larger --size",
				row->name, source, row->size);
	if (r < 0)
		return dms_fail(pool->ctx, r, "image '%s': importing '%s' failed: %s", row->name, source,
				*err ? err : strerror(-r));
	return 0;
}

/* Step 2: the filesystem, and SOURCE in it (NULL: an empty image). */
static int image_fill(struct dms_pool *pool, const struct dms_row *row, const char *dev, const char *source,
		      bool is_dir, struct dms_oci_import *oci, const struct dms_import_opts *opts,
		      struct dms_unpack_stats *st)
{
	const char *op = source ? "image-import" : "image-create";
	struct dms_ext4_format_opts fmt = { .assume_zeroed = pool->cfg.zero };
	int r;

	r = dms_ext4_format(dev, &fmt);
	if (r < 0)
		return dms_fail(pool->ctx, r, "image '%s' (thin id %u): making its filesystem failed: %s", row->name,
				row->thin_id, strerror(-r));
	dms_crash_point(op, "after-format");
	if (!source)
		return 0;
	r = unpack_into(pool, row, dev, source, is_dir, oci, opts, st);
	if (r < 0)
		return r;
	dms_crash_point(op, "after-unpack");
	return 0;
}

/* The row made 'ready', with the image's config if it has one, in one catalogue transaction. */
static int image_ready(struct dms_pool *pool, struct dms_row *row, const char *source,
		       const struct dms_unpack_stats *st, const char *config)
{
	int r;

	row->state = DMS_STATE_READY;
	(void)image_meta(row, source, st);
	r = dms_catalog_begin(pool->cat);
	if (r < 0)
		return r;
	if (config)
		r = dms_catalog_image_config_set(pool->cat, row->id, config);
	if (r == 0)
		r = dms_catalog_update(pool->cat, row);
	if (r == 0)
		r = dms_catalog_commit(pool->cat);
	if (r < 0) {
		dms_catalog_rollback(pool->cat);
		row->state = DMS_STATE_IMPORTING;
	}
	return r;
}

/*
 * Step 3, whatever step 2 did (R): the base goes inactive, never to be
 * written again; then, under the pool lock, the row becomes 'ready', or the
 * device goes. The lock is waited for without the context's limit: the work
 * is done, and only a few short changes can be ahead. If the pool cannot be
 * changed now, the row stays 'importing' with its import lock let go, which
 * the next change's recovery deletes.
 */
static int image_finish(struct dms_pool *pool, struct dms_row *row, const char *source,
			const struct dms_unpack_stats *st, const char *config, int r, int *import_lock)
{
	enum dms_error_kind kind = DMS_ERROR_NONE;
	char err[DMS_ERROR_MAX] = "";
	bool inactive;
	uint64_t txn;
	int q;

	q = dms_thin_dev_deactivate(pool, row);
	inactive = q == 0;
	if (r == 0 && q < 0)
		r = dms_fail(pool->ctx, q, "image '%s': deactivating its base failed: %s", row->name, strerror(-q));
	/* What failed first is what the caller hears, whatever the undo has to say. */
	if (r < 0) {
		snprintf(err, sizeof(err), "%s", dms_ctx_error(pool->ctx));
		kind = dms_ctx_error_kind(pool->ctx);
	}

	q = dms_pool_lock_wait(pool->ctx, pool->cfg.name, DMS_LOCK_WAIT_FOREVER, &pool->lock_fd, &pool->lock_clean);
	if (q == 0)
		q = dms_change_begin(pool, &txn);
	if (q < 0)
		return r < 0 ? dms_fail_kind(pool->ctx, kind, r, "%s", err) : q;
	if (r == 0) {
		r = image_ready(pool, row, source, st, config);
		if (r < 0) {
			kind = DMS_ERROR_FAILED;
			snprintf(err, sizeof(err), "image '%s': catalogue: %s", row->name, strerror(-r));
		}
	}
	/* A device still open cannot be deleted: the row stays for recovery, which says what holds it. */
	if (r < 0 && inactive)
		(void)dms_device_delete(pool, row, txn, "image-undo");
	dms_import_lock_release(pool, row->name, DMS_TAKE_FD(*import_lock));
	dms_change_end(pool, r);
	return r < 0 ? dms_fail_kind(pool->ctx, kind, r, "%s", err) : 0;
}

/*
 * A name is taken by a ready image, and by one a live import is making. What
 * a dead one left (a row whose import lock nobody holds, or one with an
 * intent) does not take it: recovery removes that before the import begins.
 */
static int image_name_free(struct dms_pool *pool, const char *name)
{
	struct dms_row row;
	int r = dms_catalog_find(pool->cat, DMS_KIND_IMAGE, name, &row);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': image '%s': catalogue: %s", pool->cfg.name, name,
				strerror(-r));
	if (row.state == DMS_STATE_READY)
		return dms_fail(pool->ctx, -EEXIST, "pool '%s': image '%s' already exists", pool->cfg.name, name);
	if (row.state == DMS_STATE_IMPORTING && !row.pending_txn &&
	    dms_import_lock_held(pool->ctx, pool->cfg.name, name, NULL) > 0)
		return dms_image_refuse_importing(pool, &row);
	return 0;
}

/*
 * Create (SOURCE NULL: an empty ext4) or import an image. Every failure after
 * the device exists deletes it again: a failed import leaves nothing.
 */
static int image_make(struct dms_pool *pool, const char *name, const char *source,
		      const struct dms_import_opts *opts)
{
	uint64_t size = opts->image_size;
	struct dms_oci_import *oci = NULL;
	_cleanup_free_ char *config = NULL;
	const char *op = source ? "image-import" : "image-create";
	struct dms_row row = { .kind = DMS_KIND_IMAGE };
	struct dms_unpack_stats st = { 0 };
	_cleanup_close_ int import_lock = -1;
	char dev[PATH_MAX];
	struct stat sst;
	bool is_dir = false;
	uint64_t txn;
	int r;

	r = check_image_name(pool, name);
	if (r < 0)
		return r;
	if (size == 0)
		size = DMS_IMAGE_SIZE_DEFAULT;
	r = dms_size_check(pool->ctx, "image", name, size);
	if (r < 0)
		return r;
	if (size % 4096 || size < 16 * DMS_MIB)
		return dms_fail_invalid(pool->ctx, -EINVAL, "image '%s': size must be a multiple of 4 KiB and at least 16 MiB",
					name);
	if (source && !source_fits(source))
		return dms_fail_invalid(pool->ctx, -ENAMETOOLONG,
					"image '%s': source '%.48s...' is too long to record (%zu bytes): give a shorter path",
					name, source, strlen(source));
	/* Checked again under the lock; here so a taken name costs no spooling of an archive. */
	if (source) {
		r = image_name_free(pool, name);
		if (r < 0)
			return r;
	}
	if (source && dms_image_source_is_image(source)) {
		r = dms_oci_open(pool, name, source, opts->platform, &oci);
		if (r == 0)
			r = dms_oci_config_json(oci, &config);
		if (r < 0) {
			dms_oci_close(oci);
			return r;
		}
	} else if (source) {
		/* "-": a tarball on standard input, as a pipe or a file. */
		if (strcmp(source, "-") == 0)
			source = "/dev/stdin";
		if (stat(source, &sst) < 0)
			return dms_fail_path(pool->ctx, -errno, "image '%s': source '%s': %s", name, source,
					     strerror(errno));
		is_dir = S_ISDIR(sst.st_mode);
		if (!is_dir && !S_ISREG(sst.st_mode) && !S_ISFIFO(sst.st_mode))
			return dms_fail_invalid(pool->ctx, -EINVAL, "image '%s': source '%s' is neither a tarball nor a directory",
						name, source);
	}

	/* Step 1. */
	r = dms_change_begin(pool, &txn);
	if (r < 0)
		goto out_close;
	r = image_name_free(pool, name);
	if (r == 0)
		r = dms_space_check(pool, "an image");
	if (r < 0)
		goto out;
	/* Before the row exists: recovery never sees this import's row without its lock held. */
	r = dms_import_lock_take(pool, name, &import_lock);
	if (r < 0) {
		r = dms_fail(pool->ctx, r, "pool '%s': image '%s': taking its import lock failed: %s", pool->cfg.name,
			     name, strerror(-r));
		goto out;
	}
	row = (struct dms_row){ .kind = DMS_KIND_IMAGE, .size = size, .created = (int64_t)time(NULL) };
	snprintf(row.name, sizeof(row.name), "%s", name);
	(void)image_meta(&row, source, NULL);
	r = dms_device_create(pool, &row, 0, txn, op, DMS_STATE_IMPORTING);
	if (r < 0) {
		r = dms_fail(pool->ctx, r, "pool '%s': image '%s': creating its thin device failed: %s", pool->cfg.name,
			     name, strerror(-r));
		goto out_unlock;
	}
	txn++;
	r = dms_thin_dev_activate(pool, &row);
	if (r == 0)
		r = dms_thin_dev_path(pool, &row, dev, sizeof(dev));
	if (r < 0) {
		r = dms_fail(pool->ctx, r, "image '%s' (thin id %u): activating its device failed: %s", name,
			     row.thin_id, strerror(-r));
		(void)dms_thin_dev_deactivate(pool, &row);
		(void)dms_device_delete(pool, &row, txn, "image-undo");
		goto out_unlock;
	}
	dms_change_end(pool, r);

	/* Steps 2 and 3: other changes may run meanwhile. */
	r = image_fill(pool, &row, dev, source, is_dir, oci, opts, &st);
	r = image_finish(pool, &row, source, &st, config, r, &import_lock);
	dms_oci_close(oci);
	return r;

out_unlock:
	dms_import_lock_release(pool, name, DMS_TAKE_FD(import_lock));
out:
	dms_change_end(pool, r);
out_close:
	dms_oci_close(oci);
	return r;
}

int dms_image_create(struct dms_pool *pool, const char *name, uint64_t size)
{
	struct dms_import_opts opts = { .size = sizeof(opts), .image_size = size };

	return image_make(pool, name, NULL, &opts);
}

int dms_image_import(struct dms_pool *pool, const char *name, const char *source, uint64_t size)
{
	struct dms_import_opts opts = { .size = sizeof(opts), .image_size = size };

	return image_make(pool, name, source, &opts);
}

int dms_image_import_from(struct dms_pool *pool, const char *name, const char *source,
			  const struct dms_import_opts *opts)
{
	struct dms_import_opts given = { .size = sizeof(given) };
	int r;

	if (!source)
		return dms_fail_invalid(pool->ctx, -EINVAL, "image '%s': no source", name);
	if (opts) {
		r = dms_opts_read(pool->ctx, "image", name, opts, dms_offsetofend(struct dms_import_opts, progress_arg),
				  &given, sizeof(given));
		if (r < 0)
			return r;
	}
	return image_make(pool, name, source, &given);
}

void dms_image_info_free(struct dms_image_info *info)
{
	if (!info)
		return;
	free(info->name);
	free(info->source);
	free(info->dm_name);
	free(info);
}

void dms_image_list_free(struct dms_image_info **images, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dms_image_info_free(images[i]);
	free(images);
}

static int image_info(struct dms_pool *pool, const struct dms_row *row, struct dms_image_info **ret_info)
{
	json_object *o = json_tokener_parse(row->meta), *v;
	const char *source = NULL;
	char dm_name[DMS_DM_NAME_MAX + 1] = "";
	struct dms_image_info *info = calloc(1, sizeof(*info));
	int r = -ENOMEM;

	if (!info)
		goto out;
	*info = (struct dms_image_info){
		.size = sizeof(*info),
		.thin_id = row->thin_id,
		.virtual_size = row->size,
		.created = row->created,
		.ready = row->state == DMS_STATE_READY,
	};
	(void)dms_thin_dev_name(pool, row, dm_name, sizeof(dm_name));
	(void)dms_catalog_count_children(pool->cat, row->id, &info->containers);
	if (o && json_object_object_get_ex(o, "source", &v))
		source = json_object_get_string(v);
	if (o && json_object_object_get_ex(o, "entries", &v))
		info->entries = json_object_get_uint64(v);
	if (o && json_object_object_get_ex(o, "bytes", &v))
		info->bytes = json_object_get_uint64(v);
	if (o && json_object_object_get_ex(o, "xattrs_dropped", &v))
		info->xattrs_dropped = json_object_get_uint64(v);
	if (dms_str_set(&info->name, row->name) < 0 || dms_str_set(&info->source, source) < 0 ||
	    dms_str_set(&info->dm_name, dm_name) < 0)
		goto out;
	*ret_info = DMS_TAKE_PTR(info);
	r = 0;
out:
	json_object_put(o);
	dms_image_info_free(info);
	return r;
}

/*
 * An 'importing' row whose import lock nobody holds is what a dead importer
 * left: the next change deletes it, and a reader does not show it meanwhile.
 */
static bool import_died(struct dms_pool *pool, const struct dms_row *row)
{
	return row->state == DMS_STATE_IMPORTING &&
	       dms_import_lock_held(pool->ctx, pool->cfg.name, row->name, NULL) == 0;
}

static int find_image(struct dms_pool *pool, const char *name, struct dms_row *row)
{
	int r = check_image_name(pool, name);

	if (r < 0)
		return r;
	r = dms_catalog_find(pool->cat, DMS_KIND_IMAGE, name, row);
	if (r == 0 && import_died(pool, row))
		r = -ENOENT;
	if (r == -ENOENT)
		return dms_fail_missing(pool->ctx, r, "pool '%s': image '%s' does not exist", pool->cfg.name, name);
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': image '%s': catalogue: %s", pool->cfg.name, name,
				strerror(-r));
	return 0;
}

int dms_image_inspect(struct dms_pool *pool, const char *name, struct dms_image_info **ret_info)
{
	struct dms_row row;
	int r = find_image(pool, name, &row);

	if (r < 0)
		return r;
	r = image_info(pool, &row, ret_info);
	return r < 0 ? dms_fail(pool->ctx, r, "image '%s': %s", name, strerror(-r)) : 0;
}

int dms_image_list(struct dms_pool *pool, struct dms_image_info ***ret_images, size_t *ret_n)
{
	_cleanup_free_ struct dms_row *rows = NULL;
	struct dms_image_info **images;
	size_t n, k = 0;
	int r;

	r = dms_catalog_list(pool->cat, DMS_KIND_IMAGE, 0, &rows, &n);
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': catalogue: %s", pool->cfg.name, strerror(-r));
	images = calloc(n ? n : 1, sizeof(*images));
	if (!images)
		return dms_fail(pool->ctx, -ENOMEM, "pool '%s': out of memory", pool->cfg.name);
	for (size_t i = 0; i < n; i++) {
		if (rows[i].state != DMS_STATE_READY &&
		    (rows[i].state != DMS_STATE_IMPORTING || import_died(pool, &rows[i])))
			continue;
		r = image_info(pool, &rows[i], &images[k]);
		if (r < 0) {
			dms_image_list_free(images, k);
			return dms_fail(pool->ctx, r, "image '%s': %s", rows[i].name, strerror(-r));
		}
		k++;
	}
	*ret_images = images;
	*ret_n = k;
	return 0;
}

int dms_image_remove(struct dms_pool *pool, const char *name, bool force)
{
	_cleanup_free_ struct dms_row *children = NULL;
	struct dms_row row;
	size_t n = 0;
	uint64_t txn;
	int r;

	r = check_image_name(pool, name);
	if (r < 0)
		return r;
	r = dms_change_begin(pool, &txn);
	if (r < 0)
		return r;
	r = find_image(pool, name, &row);
	if (r == 0 && row.state == DMS_STATE_IMPORTING)
		r = dms_image_refuse_importing(pool, &row);
	if (r < 0)
		goto out;
	r = dms_catalog_list(pool->cat, DMS_KIND_CONTAINER, row.id, &children, &n);
	if (r < 0) {
		r = dms_fail(pool->ctx, r, "pool '%s': catalogue: %s", pool->cfg.name, strerror(-r));
		goto out;
	}
	if (n > 0 && !force) {
		r = dms_fail(pool->ctx, -EBUSY, "pool '%s': image '%s' is used by %zu container(s), '%s' first; remove them or use --force",
			     pool->cfg.name, name, n, children[0].name);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		r = dms_snap_remove_locked(pool, &children[i], &txn);
		if (r < 0)
			goto out;
	}
	r = dms_thin_dev_deactivate(pool, &row);
	if (r == 0)
		r = dms_device_delete(pool, &row, txn, "image-rm");
	if (r < 0)
		r = dms_fail(pool->ctx, r, "pool '%s': image '%s' (thin id %u): delete failed: %s", pool->cfg.name,
			     name, row.thin_id, strerror(-r));
out:
	dms_change_end(pool, r);
	return r;
}

int dms_image_config(struct dms_pool *pool, const char *name, char **ret_json)
{
	struct dms_row row;
	char *json = NULL;
	int r = find_image(pool, name, &row);

	if (r < 0)
		return r;
	r = dms_catalog_image_config_get(pool->cat, row.id, &json);
	if (r == -ENOENT)
		json = strdup("{}");
	else if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': image '%s': catalogue: %s", pool->cfg.name, name,
				strerror(-r));
	if (!json)
		return -ENOMEM;
	*ret_json = json;
	return 0;
}
