// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Images: one thin device per image holding its unpacked rootfs, written once
 * at import and kept inactive after, so snapshotting it needs no suspend.
 *
 * An import is two kinds of step. Making the device is a kernel transaction
 * (pool/txn.c) that ends with the row 'importing'; formatting and
 * unpacking are not, and only the final catalogue update to 'ready' makes
 * the image usable. The importer holds the pool lock throughout, so recovery
 * (which runs under it) meeting an 'importing' row knows its importer died,
 * and deletes the device.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <json-c/json.h>

#include "dms-util.h"
#include "fs/ext4.h"
#include "fs/mount.h"
#include "fs/unpack.h"
#include "pool/internal.h"

static int check_image_name(struct dms_pool *pool, const char *name)
{
	if (!dms_name_valid(name))
		return dms_fail_invalid(pool->ctx, -EINVAL, "image '%s': invalid name: use 1-%d of [A-Za-z0-9_.-], starting with a letter or digit",
					name, DMS_NAME_MAX);
	return 0;
}

static void image_meta(struct dms_row *row, const char *source, const struct dms_unpack_stats *st)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "source", json_object_new_string(source ? source : ""));
	json_object_object_add(o, "entries", json_object_new_uint64(st ? st->entries : 0));
	json_object_object_add(o, "bytes", json_object_new_uint64(st ? st->bytes : 0));
	snprintf(row->meta, sizeof(row->meta), "%s", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

/* Mount the new base at a private directory, unpack SOURCE (or apply OCI's layers) into it, unmount. */
static int unpack_into(struct dms_pool *pool, const struct dms_row *row, const char *dev, const char *source,
		       bool is_dir, struct dms_oci_import *oci, const struct dms_import_opts *opts,
		       struct dms_unpack_stats *st)
{
	char dir[PATH_MAX], err[512] = "";
	_cleanup_close_ int rootfd = -1;
	int r, u;

	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s/mnt/.import-%s", pool->ctx->state_dir, pool->cfg.name,
			     row->name) >= sizeof(dir))
		return dms_fail(pool->ctx, -ENAMETOOLONG, "image '%s': path too long", row->name);
	r = dms_mkdir_p(dir);
	if (r == 0)
		r = dms_mount_ext4(dev, dir, 0);
	if (r < 0)
		return dms_fail(pool->ctx, r, "image '%s': mounting its new filesystem failed: %s", row->name,
				strerror(-r));
	rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		r = -errno;
	else if (oci)
		r = dms_oci_apply(oci, rootfd, opts, st, err, sizeof(err));
	else if (is_dir)
		r = dms_unpack_dir(rootfd, source, st, err, sizeof(err));
	else
		r = dms_unpack_archive(rootfd, source, st, err, sizeof(err));
	(void)close(DMS_TAKE_FD(rootfd));
	u = dms_umount(dir);
	(void)rmdir(dir);
	/* An entry refused for escaping the rootfs is bad input, not a permission problem of the caller's. */
	if (r == -EPERM)
		r = -EINVAL;
	if (r == -ENOSPC)
		return dms_fail(pool->ctx, r, "image '%s': %s does not fit in %" PRIu64 " bytes: import again with a larger --size",
				row->name, source, row->size);
	if (r < 0)
		return dms_fail(pool->ctx, r, "image '%s': importing '%s' failed: %s", row->name, source,
				*err ? err : strerror(-r));
	if (u < 0)
		return dms_fail(pool->ctx, u, "image '%s': unmounting after the import failed: %s", row->name,
				strerror(-u));
	return 0;
}

/*
 * Create (SOURCE NULL: an empty ext4) or import an image. Every failure after
 * the device exists deletes it again: a failed import leaves nothing.
 */
static int image_make(struct dms_pool *pool, const char *name, const char *source,
		      const struct dms_import_opts *opts)
{
	uint64_t size = opts ? opts->size : 0;
	struct dms_oci_import *oci = NULL;
	_cleanup_free_ char *config = NULL;
	const char *op = source ? "image-import" : "image-create";
	struct dms_ext4_format_opts fmt = { .assume_zeroed = pool->cfg.zero };
	struct dms_row row = { .kind = DMS_KIND_IMAGE };
	struct dms_unpack_stats st = { 0 };
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
	/* Checked again under the lock; here so a taken name costs no spooling of an archive. */
	if (source && dms_catalog_find(pool->cat, DMS_KIND_IMAGE, name, &row) == 0)
		return dms_fail(pool->ctx, -EEXIST, "pool '%s': image '%s' already exists", pool->cfg.name, name);
	if (source && dms_image_source_is_image(source)) {
		r = dms_oci_open(pool, name, source, opts ? opts->platform : NULL, &oci);
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
	r = dms_change_begin(pool, &txn);
	if (r < 0) {
		dms_oci_close(oci);
		return r;
	}
	if (dms_catalog_find(pool->cat, DMS_KIND_IMAGE, name, &row) == 0) {
		r = dms_fail(pool->ctx, -EEXIST, "pool '%s': image '%s' already exists", pool->cfg.name, name);
		goto out;
	}
	r = dms_space_check(pool, "an image");
	if (r < 0)
		goto out;

	row = (struct dms_row){ .kind = DMS_KIND_IMAGE, .size = size, .created = (int64_t)time(NULL) };
	snprintf(row.name, sizeof(row.name), "%s", name);
	image_meta(&row, source, NULL);
	r = dms_device_create(pool, &row, 0, txn, op, DMS_STATE_IMPORTING);
	if (r < 0) {
		r = dms_fail(pool->ctx, r, "pool '%s': image '%s': creating its thin device failed: %s", pool->cfg.name,
			     name, strerror(-r));
		goto out;
	}
	txn++;

	r = dms_thin_dev_activate(pool, &row);
	if (r < 0)
		goto out_delete;
	r = dms_thin_dev_path(pool, &row, dev, sizeof(dev));
	if (r == 0)
		r = dms_ext4_format(dev, &fmt);
	if (r < 0) {
		dms_fail(pool->ctx, r, "image '%s' (thin id %u): making its filesystem failed: %s", name, row.thin_id,
			 strerror(-r));
		goto out_delete;
	}
	dms_crash_point(op, "after-format");
	if (source) {
		r = unpack_into(pool, &row, dev, source, is_dir, oci, opts, &st);
		if (r < 0)
			goto out_delete;
		dms_crash_point(op, "after-unpack");
	}
	/* With the row still 'importing': a crash from here on deletes the row, and its config with it. */
	if (config) {
		r = dms_catalog_image_config_set(pool->cat, row.id, config);
		if (r < 0) {
			dms_fail(pool->ctx, r, "image '%s': catalogue: %s", name, strerror(-r));
			goto out_delete;
		}
	}
	/* The base is never written again: it stays inactive from here on. */
	r = dms_thin_dev_deactivate(pool, &row);
	if (r < 0) {
		dms_fail(pool->ctx, r, "image '%s': deactivating its base failed: %s", name, strerror(-r));
		goto out_delete;
	}
	row.state = DMS_STATE_READY;
	image_meta(&row, source, &st);
	r = dms_catalog_update(pool->cat, &row);
	if (r < 0) {
		dms_fail(pool->ctx, r, "image '%s': catalogue: %s", name, strerror(-r));
		goto out_delete;
	}
	goto out;

out_delete:
	(void)dms_thin_dev_deactivate(pool, &row);
	(void)dms_device_delete(pool, &row, txn, "image-undo");
out:
	dms_change_end(pool);
	dms_oci_close(oci);
	return r;
}

int dms_image_create(struct dms_pool *pool, const char *name, uint64_t size)
{
	struct dms_import_opts opts = { .size = size };

	return image_make(pool, name, NULL, &opts);
}

int dms_image_import(struct dms_pool *pool, const char *name, const char *source, uint64_t size)
{
	struct dms_import_opts opts = { .size = size };

	return image_make(pool, name, source, &opts);
}

int dms_image_import_from(struct dms_pool *pool, const char *name, const char *source,
			  const struct dms_import_opts *opts)
{
	if (!source)
		return dms_fail_invalid(pool->ctx, -EINVAL, "image '%s': no source", name);
	return image_make(pool, name, source, opts);
}

static void image_info(struct dms_pool *pool, const struct dms_row *row, struct dms_image_info *info)
{
	json_object *o = json_tokener_parse(row->meta), *v;

	*info = (struct dms_image_info){
		.thin_id = row->thin_id,
		.size = row->size,
		.created = row->created,
		.ready = row->state == DMS_STATE_READY,
	};
	snprintf(info->name, sizeof(info->name), "%s", row->name);
	(void)dms_thin_dev_name(pool, row, info->dm_name, sizeof(info->dm_name));
	(void)dms_catalog_count_children(pool->cat, row->id, &info->containers);
	if (!o)
		return;
	if (json_object_object_get_ex(o, "source", &v))
		snprintf(info->source, sizeof(info->source), "%s", json_object_get_string(v));
	if (json_object_object_get_ex(o, "entries", &v))
		info->entries = json_object_get_uint64(v);
	if (json_object_object_get_ex(o, "bytes", &v))
		info->bytes = json_object_get_uint64(v);
	json_object_put(o);
}

static int find_image(struct dms_pool *pool, const char *name, struct dms_row *row)
{
	int r = check_image_name(pool, name);

	if (r < 0)
		return r;
	r = dms_catalog_find(pool->cat, DMS_KIND_IMAGE, name, row);
	if (r == -ENOENT)
		return dms_fail_missing(pool->ctx, r, "pool '%s': image '%s' does not exist", pool->cfg.name, name);
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': image '%s': catalogue: %s", pool->cfg.name, name,
				strerror(-r));
	return 0;
}

int dms_image_inspect(struct dms_pool *pool, const char *name, struct dms_image_info *ret_info)
{
	struct dms_row row;
	int r = find_image(pool, name, &row);

	if (r < 0)
		return r;
	image_info(pool, &row, ret_info);
	return 0;
}

int dms_image_list(struct dms_pool *pool, struct dms_image_info **ret_images, size_t *ret_n)
{
	_cleanup_free_ struct dms_row *rows = NULL;
	struct dms_image_info *images;
	size_t n, k = 0;
	int r;

	r = dms_catalog_list(pool->cat, DMS_KIND_IMAGE, 0, &rows, &n);
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': catalogue: %s", pool->cfg.name, strerror(-r));
	images = calloc(n ? n : 1, sizeof(*images));
	if (!images)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (rows[i].state == DMS_STATE_READY || rows[i].state == DMS_STATE_IMPORTING)
			image_info(pool, &rows[i], &images[k++]);
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
	dms_change_end(pool);
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
