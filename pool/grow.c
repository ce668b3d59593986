// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Growing a pool, online. dm-thin sizes its data space from the table's
 * length (maybe_resize_data_dev: ti->len / block size) and its metadata space
 * from the metadata device's size (maybe_resize_metadata_dev), both when the
 * pool is resumed: so the backing grows first, pool.json says the new size,
 * and a reload of the same table with the new length, suspended and resumed,
 * makes the kernel take it. The kernel records the new data size in the
 * metadata at its next commit.
 *
 * Crash ordering: each step leaves a pool that activates. A bigger file or
 * device under an unchanged pool.json is only unused room. A pool.json that
 * says more than the kernel's table is what the next activate (or grow) loads;
 * its metadata may still count a size the pool had before, from data_size_min
 * (its size before its first grow) up, which dms_pool_devices_verify takes.
 * A dedicated data device gets its label at its new last MiB before pool.json
 * names that place; the old label, inside the data the pool maps from then
 * on, is the pool's to overwrite.
 */
#include <errno.h>
#include <string.h>

#include "dm/dm.h"
#include "dms-util.h"
#include "fs/blockdev.h"
#include "fs/label.h"
#include "fs/loop.h"
#include "pool/internal.h"

/*
 * The thin-pool table as the kernel has it, with the new length:
 *   <start> <length> thin-pool <metadata dev> <data dev> <block size> <low water mark> <#features> <feature>*
 * The parameters are the kernel's own, so nothing else of the table changes.
 */
static int reload(struct dms_ctx *ctx, const struct dms_pool_config *cfg, uint64_t old_data_size, const char *dm_name)
{
	_cleanup_free_ char *type = NULL, *params = NULL;
	int r;

	r = dms_dm_table(dm_name, &type, &params);
	if (r == 0 && (!type || strcmp(type, "thin-pool") != 0))
		r = -EMEDIUMTYPE;
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': reading its table failed: %s", cfg->name, strerror(-r));
	r = dms_pool_table_reload(dm_name, cfg->data_size, params);
	if (r < 0) {
		/* Never leave the pool suspended on a table the kernel refused: the old length goes back. */
		if (dms_pool_table_reload(dm_name, old_data_size, params) < 0)
			(void)dms_dm_resume(dm_name);
		return dms_fail(ctx, r, "pool '%s': the kernel did not take the grown table: %s", cfg->name,
				strerror(-r));
	}
	return 0;
}

/* A loop pool's files grow to the sizes asked for (0: unchanged); none may shrink. */
static int grow_loop(struct dms_ctx *ctx, struct dms_pool_config *cfg, uint64_t data_size, uint64_t metadata_size)
{
	char a[32], b[32];
	int r;

	data_size = data_size / cfg->block_size * cfg->block_size;
	if (data_size && data_size < cfg->data_size)
		return dms_fail_invalid(ctx, -EINVAL, "pool '%s': data is %s; cannot shrink it to %s", cfg->name,
					dms_size_format(cfg->data_size, a, sizeof(a)),
					dms_size_format(data_size, b, sizeof(b)));
	if (metadata_size && metadata_size < cfg->metadata_size)
		return dms_fail_invalid(ctx, -EINVAL, "pool '%s': metadata is %s; cannot shrink it to %s", cfg->name,
					dms_size_format(cfg->metadata_size, a, sizeof(a)),
					dms_size_format(metadata_size, b, sizeof(b)));
	if (metadata_size > DMS_THIN_METADATA_MAX)
		return dms_fail_invalid(ctx, -EINVAL, "pool '%s': metadata of %s: the kernel uses at most %s",
					cfg->name, dms_size_format(metadata_size, a, sizeof(a)),
					dms_size_format(DMS_THIN_METADATA_MAX, b, sizeof(b)));
	if (data_size > cfg->data_size) {
		r = dms_loop_file_grow(cfg->data_path, data_size);
		if (r < 0)
			return dms_fail(ctx, r, "pool '%s': growing '%s' failed: %s", cfg->name, cfg->data_path,
					strerror(-r));
		cfg->data_size = data_size;
	}
	if (metadata_size > cfg->metadata_size) {
		r = dms_loop_file_grow(cfg->metadata_path, metadata_size);
		if (r < 0)
			return dms_fail(ctx, r, "pool '%s': growing '%s' failed: %s", cfg->name, cfg->metadata_path,
					strerror(-r));
		cfg->metadata_size = metadata_size;
	}
	return 0;
}

/* Dedicated devices: the pool takes what they hold now, once they show they are its own. */
static int grow_dedicated(struct dms_ctx *ctx, struct dms_pool_config *cfg)
{
	_cleanup_close_ int data = -1, meta = -1;
	uint64_t data_dev_size, meta_dev_size, offset;
	char why[2 * PATH_MAX];
	int r;

	r = dms_blockdev_open(cfg->data_path, false, &data);
	if (r < 0)
		return dms_fail_path(ctx, r, "pool '%s': data device '%s': %s", cfg->name, cfg->data_path,
				     strerror(-r));
	r = dms_blockdev_open(cfg->metadata_path, false, &meta);
	if (r < 0)
		return dms_fail_path(ctx, r, "pool '%s': metadata device '%s': %s", cfg->name, cfg->metadata_path,
				     strerror(-r));
	r = dms_pool_devices_verify(ctx, cfg, data, meta, why, sizeof(why));
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': %s", cfg->name, why);
	r = dms_blockdev_size(data, &data_dev_size);
	if (r == 0)
		r = dms_blockdev_size(meta, &meta_dev_size);
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': reading its devices' sizes failed: %s", cfg->name, strerror(-r));
	if (meta_dev_size > cfg->metadata_size)
		cfg->metadata_size = meta_dev_size < DMS_THIN_METADATA_MAX ? meta_dev_size : DMS_THIN_METADATA_MAX;
	/* 0.1.0's pools have no label: their data ends where the device did, and may end where it does now. */
	offset = *cfg->uuid ? dms_label_offset(data_dev_size) : data_dev_size;
	if (offset / cfg->block_size * cfg->block_size <= cfg->data_size)
		return 0;
	if (*cfg->uuid) {
		struct dms_pool_config grown = *cfg;

		grown.label_offset = offset;
		r = dms_pool_label_write(&grown, data);
		if (r < 0)
			return dms_fail(ctx, r, "pool '%s': writing its label on '%s' failed: %s", cfg->name,
					cfg->data_path, strerror(-r));
		dms_crash_point("pool-grow", "after-label");
		cfg->label_offset = offset;
	}
	cfg->data_size = offset / cfg->block_size * cfg->block_size;
	return 0;
}

int dms_pool_grow(struct dms_ctx *ctx, const char *name, uint64_t data_size, uint64_t metadata_size)
{
	_cleanup_close_ int lock = -1;
	struct dms_pool_config cfg;
	struct dms_dm_info info;
	uint64_t old_data_size;
	int r;

	r = dms_pool_config_load(ctx, name, &cfg);
	if (r < 0)
		return r;
	if (!cfg.loop && (data_size || metadata_size))
		return dms_fail_invalid(
			ctx, -EINVAL,
			"pool '%s': its devices are dedicated: grow them (lvextend, a bigger LUN), then grow the pool without sizes",
			name);
	if (cfg.loop && !data_size && !metadata_size)
		return dms_fail_invalid(ctx, -EINVAL, "pool '%s': give the new data size, metadata size, or both",
					name);
	r = dms_size_check(ctx, "pool", name, data_size);
	if (r == 0)
		r = dms_size_check(ctx, "pool", name, metadata_size);
	if (r < 0)
		return r;
	r = dms_pool_lock(ctx, name, &lock, NULL);
	if (r < 0)
		return r;
	/* Read again under the lock: another grow may have run meanwhile. */
	r = dms_pool_config_load(ctx, name, &cfg);
	if (r < 0)
		return r;
	old_data_size = cfg.data_size;
	if (!cfg.data_size_min)
		cfg.data_size_min = cfg.data_size;
	r = cfg.loop ? grow_loop(ctx, &cfg, data_size, metadata_size) : grow_dedicated(ctx, &cfg);
	if (r < 0)
		return r;
	r = dms_pool_config_write(ctx, &cfg);
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': writing its configuration failed: %s", name, strerror(-r));
	dms_crash_point("pool-grow", "after-config");
	r = dms_pool_dm_find(name, &info);
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': device-mapper: %s", name, strerror(-r));
	/* Inactive: the next activate loads the new size. Active: always reloaded, so a grow a crash cut short is finished. */
	return info.exists ? reload(ctx, &cfg, old_data_size, info.name) : 0;
}
