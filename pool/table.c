// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The kernel side of a configured pool: backing devices found (or loop files
 * attached), the thin-pool table loaded. Shared by create and activate so a
 * pool comes back after a reboot with exactly the table it was made with.
 */
#include <errno.h>
#include <string.h>

#include "dm/dm.h"
#include "dms-exec.h"
#include "dms-util.h"
#include "fs/blockdev.h"
#include "fs/loop.h"
#include "pool/internal.h"

/*
 * The pool's own dm device is the one with its UUID, DMSTORE-<pool>-pool,
 * whatever its name: dmstore 0.1.0 named pool "a-vol"'s "dmstore-a-vol-pool",
 * which is now pool "a"'s volume "pool", and such a device must keep working
 * until it is next deactivated.
 */
int dms_pool_dm_find(const char *pool, struct dms_dm_info *ret_info)
{
	char uuid[DMS_DM_UUID_MAX + 1];
	int r;

	r = dms_pool_dm_uuid(pool, uuid, sizeof(uuid));
	if (r < 0)
		return r;
	return dms_dm_info_by_uuid(uuid, ret_info);
}

/* The kernel refuses a name that is taken too, but does not say whose it is. */
int dms_pool_dm_name_free(struct dms_ctx *ctx, const char *pool)
{
	char name[DMS_DM_NAME_MAX + 1];
	struct dms_dm_info info;
	int r;

	r = dms_pool_dm_name(pool, name, sizeof(name));
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': name too long for device-mapper", pool);
	r = dms_dm_info(name, &info);
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': device-mapper: %s", pool, strerror(-r));
	if (info.exists)
		return dms_fail(ctx, -EEXIST, "pool '%s': its dm name '%s' is taken by a device that is not its own (%s%s%s); refusing to touch it",
				pool, name, *info.uuid ? "uuid '" : "no uuid", info.uuid, *info.uuid ? "'" : "");
	return 0;
}

struct backing {
	char dev[PATH_MAX];
	int fd; /* held until the table holds the device: loop autoclear would detach it otherwise */
	unsigned major, minor;
	uint64_t size;
};

static void backing_close(struct backing *b)
{
	if (b->fd >= 0)
		(void)close(b->fd);
	b->fd = -1;
}

static int backing_open(const struct dms_pool_config *cfg, const char *path, uint64_t need, struct backing *b)
{
	int r;

	b->fd = -1;
	if (cfg->loop) {
		/* After a crash between attach and load, the file may still be attached: reuse it. */
		r = dms_loop_find(path, b->dev, sizeof(b->dev));
		if (r == 0)
			r = dms_blockdev_open(b->dev, false, &b->fd);
		else if (r == -ENOENT)
			r = dms_loop_attach(path, b->dev, sizeof(b->dev), &b->fd);
	} else {
		snprintf(b->dev, sizeof(b->dev), "%s", path);
		r = dms_blockdev_open(path, false, &b->fd);
	}
	if (r < 0)
		return r;
	r = dms_blockdev_devnum(b->fd, &b->major, &b->minor);
	if (r == 0)
		r = dms_blockdev_size(b->fd, &b->size);
	if (r == 0 && b->size < need)
		r = -ENOSPC;
	if (r < 0)
		backing_close(b);
	return r;
}

static const char *backing_what(int r)
{
	switch (r) {
	case -ENOSPC:
		return "smaller than the pool expects";
	case -ENOTBLK:
		return "not a block device";
	default:
		return strerror(-r);
	}
}

/*
 * With CHECK, thin_check reads the metadata through the very device the table
 * will name, before the kernel opens it: thin_check uses O_DIRECT, which a
 * loop device always has and the file under it may not (tmpfs).
 */
int dms_pool_table_load(struct dms_ctx *ctx, const struct dms_pool_config *cfg, bool check)
{
	struct backing data = { .fd = -1 }, meta = { .fd = -1 };
	char name[DMS_DM_NAME_MAX + 1], uuid[DMS_DM_UUID_MAX + 1], params[256], why[2 * PATH_MAX];
	struct dms_dm_target target;
	int r;

	if ((r = dms_pool_dm_name(cfg->name, name, sizeof(name))) < 0 ||
	    (r = dms_pool_dm_uuid(cfg->name, uuid, sizeof(uuid))) < 0)
		return dms_fail(ctx, r, "pool '%s': name too long for device-mapper", cfg->name);
	r = dms_pool_dm_name_free(ctx, cfg->name);
	if (r < 0)
		return r;

	/* Whose the devices are is asked before how big: a disk that is not the pool's is said so, not "too small". */
	r = backing_open(cfg, cfg->metadata_path, 0, &meta);
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': metadata '%s': %s", cfg->name, cfg->metadata_path,
				backing_what(r));
	r = backing_open(cfg, cfg->data_path, 0, &data);
	if (r < 0) {
		dms_fail(ctx, r, "pool '%s': data '%s': %s", cfg->name, cfg->data_path, backing_what(r));
		goto out_meta;
	}
	r = dms_pool_devices_verify(ctx, cfg, data.fd, meta.fd, why, sizeof(why));
	if (r < 0) {
		dms_fail(ctx, r, "pool '%s': %s", cfg->name, why);
		goto out_data;
	}
	if (meta.size < cfg->metadata_size || data.size < cfg->data_size) {
		r = -ENOSPC;
		dms_fail(ctx, r, "pool '%s': %s '%s': %s", cfg->name, meta.size < cfg->metadata_size ? "metadata" : "data",
			 meta.size < cfg->metadata_size ? cfg->metadata_path : cfg->data_path, backing_what(r));
		goto out_data;
	}
	if (check) {
		r = dms_thin_metadata_check(meta.dev, DMS_THIN_CHECK_CLEAR_NEEDS_CHECK);
		if (r == -EUCLEAN)
			dms_fail(ctx, r, "pool '%s': thin_check found the metadata in '%s' damaged; repair it with thin_repair before activating (see REPAIR in dmstore(8))",
				 cfg->name, cfg->metadata_path);
		else if (r < 0)
			dms_fail(ctx, r, "pool '%s': running thin_check on '%s' failed: %s", cfg->name, meta.dev,
				 dms_exec_strerror(r, "thin_check", why, sizeof(why)));
		if (r < 0)
			goto out_data;
	}
	r = dms_thin_pool_params(params, sizeof(params), meta.major, meta.minor, data.major, data.minor,
				 cfg->block_size / DMS_SECTOR_SIZE, 0,
				 DMS_THIN_POOL_ERROR_IF_NO_SPACE | (cfg->zero ? 0 : DMS_THIN_POOL_NO_ZERO));
	if (r < 0) {
		dms_fail(ctx, r, "pool '%s': block size %u is not valid", cfg->name, cfg->block_size);
		goto out_data;
	}
	target = (struct dms_dm_target){
		.start = 0,
		.length = cfg->data_size / DMS_SECTOR_SIZE,
		.type = "thin-pool",
		.params = params,
	};
	r = dms_dm_create(name, uuid, &target, 1, false);
	if (r < 0)
		dms_fail(ctx, r, "pool '%s': loading the thin-pool table failed: %s", cfg->name, strerror(-r));
out_data:
	backing_close(&data);
out_meta:
	backing_close(&meta);
	return r;
}

/*
 * A live pool's table replaced by one of DATA_SIZE bytes with PARAMS, the
 * kernel's own (dms_dm_table) or a change of them, then suspended (flushed:
 * I/O in flight completes, new I/O waits) and resumed, which is when dm-thin
 * takes a new size and low water mark.
 */
int dms_pool_table_reload(const char *dm_name, uint64_t data_size, const char *params)
{
	struct dms_dm_target target = {
		.start = 0,
		.length = data_size / DMS_SECTOR_SIZE,
		.type = "thin-pool",
		.params = params,
	};
	int r;

	r = dms_dm_reload(dm_name, &target, 1);
	if (r < 0)
		return r;
	dms_crash_point("pool-reload", "after-load");
	r = dms_dm_suspend(dm_name, true);
	return r < 0 ? r : dms_dm_resume(dm_name);
}

/* The device a live pool's metadata is on, for the tools to read its snapshot. */
static int live_metadata_dev(struct dms_ctx *ctx, const struct dms_pool_config *cfg, char *dev, size_t len)
{
	int r;

	if (!cfg->loop) {
		snprintf(dev, len, "%s", cfg->metadata_path);
		return 0;
	}
	r = dms_loop_find(cfg->metadata_path, dev, len);
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': metadata file '%s' is not attached to a loop device", cfg->name,
				cfg->metadata_path);
	return 0;
}

/*
 * The thin device ids in the pool's metadata, read from the metadata itself,
 * so devices made by hand (dmsetup) count too. An inactive pool's metadata
 * is read through a loop device too, for the tools' O_DIRECT. A live pool's
 * is read from a metadata snapshot: the caller holds the pool lock, so one
 * held already is a dead dmstore's, and is released first.
 */
int dms_pool_thin_ids(struct dms_ctx *ctx, const struct dms_pool_config *cfg, uint32_t **ret_ids, size_t *ret_n)
{
	char dev[PATH_MAX], why[160];
	struct dms_dm_info info;
	int r;

	r = dms_pool_dm_find(cfg->name, &info);
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': device-mapper: %s", cfg->name, strerror(-r));
	if (!info.exists) {
		struct backing meta;

		r = backing_open(cfg, cfg->metadata_path, cfg->metadata_size, &meta);
		if (r < 0)
			return dms_fail(ctx, r, "pool '%s': metadata '%s': %s", cfg->name, cfg->metadata_path,
					backing_what(r));
		r = dms_thin_metadata_list(NULL, meta.dev, ret_ids, ret_n);
		backing_close(&meta);
		goto out;
	}
	r = live_metadata_dev(ctx, cfg, dev, sizeof(dev));
	if (r < 0)
		return r;
	r = dms_pool_release_dead_snap(info.name, NULL);
	if (r == 0)
		r = dms_thin_metadata_list(info.name, dev, ret_ids, ret_n);
out:
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': reading the thin device ids from '%s' failed: %s", cfg->name,
				cfg->metadata_path, dms_exec_strerror(r, "thin_ls", why, sizeof(why)));
	return 0;
}

/*
 * thin_check on the pool's metadata, changing nothing: with LIVE, the
 * metadata snapshot the caller reserved (the live metadata is the kernel's
 * alone); else the metadata itself, the pool being inactive. -EUCLEAN when
 * it finds damage, without a message: the caller says what it means.
 */
int dms_pool_metadata_check(struct dms_ctx *ctx, const struct dms_pool_config *cfg, bool live)
{
	struct backing meta = { .fd = -1 };
	char dev[PATH_MAX];
	int r;

	if (live) {
		r = live_metadata_dev(ctx, cfg, dev, sizeof(dev));
		if (r < 0)
			return r;
		r = dms_thin_metadata_check(dev, DMS_THIN_CHECK_METADATA_SNAP);
	} else {
		r = backing_open(cfg, cfg->metadata_path, cfg->metadata_size, &meta);
		if (r < 0)
			return dms_fail(ctx, r, "pool '%s': metadata '%s': %s", cfg->name, cfg->metadata_path,
					backing_what(r));
		snprintf(dev, sizeof(dev), "%s", meta.dev);
		r = dms_thin_metadata_check(dev, 0);
		backing_close(&meta);
	}
	if (r < 0 && r != -EUCLEAN)
		return dms_fail(ctx, r, "pool '%s': running thin_check on '%s' failed: %s", cfg->name, dev,
				strerror(-r));
	return r;
}
