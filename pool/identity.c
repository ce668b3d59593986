// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Which dedicated devices are this pool's. pool.json keeps the paths the user
 * gave (/dev/disk/by-id/...), and what a path names can change under it: after
 * a reboot that renames disks, /dev/sdb may be another disk. So before a table
 * is loaded, and before `pool rm` wipes anything, each device must show that
 * it is this pool's:
 *
 * - the data device carries the pool's label (fs/label.c) in its last MiB,
 *   which the pool never maps: dm-thin sizes its data space from the table's
 *   length (pool_preresume -> maybe_resize_data_dev: ti->len / block size),
 *   not from the device, and the table stops before the label;
 * - the metadata device, all of which the kernel uses, has no room for one:
 *   its thin superblock must match the pool: block size, number of data
 *   blocks, and a transaction id the catalogue's (or one past it, a change
 *   cut short). Blank metadata passes only for a pool whose catalogue never
 *   saw a change, as after a `pool create` cut short before the first load.
 *
 * Pools made by dmstore 0.1.0 have no uuid and no label: their metadata is
 * checked all the same. Loop pools' files live in the state dir, by name.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include <uuid/uuid.h>

#include "dm/dm.h"
#include "dms-util.h"
#include "fs/blockdev.h"
#include "fs/label.h"
#include "pool/internal.h"

void dms_pool_identity_new(struct dms_pool_config *cfg, uint64_t data_dev_size)
{
	uuid_t u;

	uuid_generate_random(u);
	uuid_unparse_lower(u, cfg->uuid);
	cfg->label_offset = dms_label_offset(data_dev_size);
	cfg->data_size = cfg->label_offset / cfg->block_size * cfg->block_size;
}

int dms_pool_label_write(const struct dms_pool_config *cfg, int data_fd)
{
	struct dms_label label = { 0 };

	snprintf(label.uuid, sizeof(label.uuid), "%s", cfg->uuid);
	snprintf(label.pool, sizeof(label.pool), "%s", cfg->name);
	return dms_label_write(data_fd, cfg->label_offset, &label);
}

int dms_pool_label_owner(struct dms_ctx *ctx, int fd, uint64_t size, char *ret_pool, size_t len)
{
	struct dms_pool_config cfg;
	struct dms_label label;
	int r;

	r = dms_label_read(fd, dms_label_offset(size), &label);
	if (r == -ENODATA || r == -EBADMSG)
		return 0;
	if (r < 0)
		return r;
	/* A label outlives a pool removed without it, or re-created under its name: only a living pool's counts. */
	if (!dms_pool_name_valid(label.pool) || dms_pool_config_read(ctx, label.pool, &cfg) < 0 ||
	    strcmp(cfg.uuid, label.uuid) != 0)
		return 0;
	snprintf(ret_pool, len, "%s", label.pool);
	return 1;
}

/* "'PATH' (now /dev/X)": what the configured path resolves to today, when that says more. */
static void describe(const char *role, const char *path, char *buf, size_t len)
{
	char now[PATH_MAX];

	if (realpath(path, now) && strcmp(now, path) != 0)
		snprintf(buf, len, "%s device '%s' (now %s)", role, path, now);
	else
		snprintf(buf, len, "%s device '%s'", role, path);
}

static int check_data(const struct dms_pool_config *cfg, int fd, char *why, size_t len)
{
	char dev[PATH_MAX + 64];
	struct dms_label label;
	uint64_t size;
	int r;

	describe("data", cfg->data_path, dev, sizeof(dev));
	r = dms_label_read(fd, cfg->label_offset, &label);
	if (r == 0 && strcmp(label.uuid, cfg->uuid) == 0)
		return 0;
	/* Not where this pool wrote its label: whose, then, where a label lies on a device of this size. */
	if (r == -ENODATA && dms_blockdev_size(fd, &size) == 0 &&
	    dms_label_read(fd, dms_label_offset(size), &label) == 0)
		r = 0;
	if (r == 0 && strcmp(label.pool, cfg->name) == 0)
		snprintf(why, len, "%s is not this pool's: it carries the label of another pool named '%s'", dev,
			 label.pool);
	else if (r == 0)
		snprintf(why, len, "%s is not this pool's: it carries pool '%s''s label", dev, label.pool);
	else if (r == -ENODATA)
		snprintf(why, len, "%s is not this pool's: it carries no dmstore label", dev);
	else if (r == -EBADMSG)
		snprintf(why, len, "%s is not this pool's: its dmstore label is damaged", dev);
	else
		snprintf(why, len, "%s: reading its label failed: %s", dev, strerror(-r));
	return r == 0 || r == -ENODATA || r == -EBADMSG ? -EMEDIUMTYPE : r;
}

/* The catalogue's transaction id; 0 before the catalogue exists (a pool never opened). */
static int catalog_txn(const struct dms_ctx *ctx, const struct dms_pool_config *cfg, uint64_t *ret_txn)
{
	struct dms_catalog *cat;
	char dir[PATH_MAX], path[PATH_MAX + 16];
	int r;

	r = dms_pool_dir(ctx, cfg->name, dir, sizeof(dir));
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/catalog.db", dir);
	if (access(path, F_OK) < 0) {
		*ret_txn = 0;
		return errno == ENOENT ? 0 : -errno;
	}
	r = dms_catalog_open(path, &cat);
	if (r < 0)
		return r;
	r = dms_catalog_get_txn(cat, ret_txn);
	dms_catalog_close(cat);
	return r;
}

static int check_metadata(const struct dms_ctx *ctx, const struct dms_pool_config *cfg, int fd, char *why, size_t len)
{
	uint8_t block[DMS_THIN_METADATA_BLOCK];
	char dev[PATH_MAX + 64], a[32], b[32];
	struct dms_thin_superblock sb;
	uint64_t txn;
	int r;

	describe("metadata", cfg->metadata_path, dev, sizeof(dev));
	r = dms_blockdev_read_block(fd, 0, block);
	if (r < 0) {
		snprintf(why, len, "%s: reading its superblock failed: %s", dev, strerror(-r));
		return r;
	}
	r = catalog_txn(ctx, cfg, &txn);
	if (r < 0) {
		snprintf(why, len, "reading the catalogue's transaction id failed: %s", strerror(-r));
		return r;
	}
	r = dms_thin_superblock_parse(block, &sb);
	if (r == -ENODATA && txn == 0)
		return 0;
	if (r == -ENODATA)
		snprintf(why, len, "%s is not this pool's: it is blank, and this pool's catalogue is at transaction %" PRIu64,
			 dev, txn);
	else if (r < 0)
		snprintf(why, len, "%s is not this pool's: it holds no thin-pool metadata", dev);
	else if ((uint64_t)sb.data_block_sectors * DMS_SECTOR_SIZE != cfg->block_size)
		snprintf(why, len, "%s is not this pool's: its thin-pool metadata is for blocks of %s, this pool's are %s",
			 dev, dms_size_format((uint64_t)sb.data_block_sectors * DMS_SECTOR_SIZE, a, sizeof(a)),
			 dms_size_format(cfg->block_size, b, sizeof(b)));
	/* A grown pool's metadata counts a size it has had until the kernel commits the new one (pool/grow.c). */
	else if (sb.data_blocks != cfg->data_size / cfg->block_size &&
		 !(cfg->data_size_min && sb.data_blocks >= cfg->data_size_min / cfg->block_size &&
		   sb.data_blocks < cfg->data_size / cfg->block_size))
		snprintf(why, len, "%s is not this pool's: its thin-pool metadata maps %" PRIu64 " data blocks, this pool has %" PRIu64,
			 dev, sb.data_blocks, cfg->data_size / cfg->block_size);
	else if (sb.transaction_id != txn && sb.transaction_id != txn + 1)
		snprintf(why, len, "%s is not this pool's: its transaction id is %" PRIu64 ", this pool's catalogue is at %" PRIu64,
			 dev, sb.transaction_id, txn);
	else
		return 0;
	return -EMEDIUMTYPE;
}

int dms_pool_devices_verify(const struct dms_ctx *ctx, const struct dms_pool_config *cfg, int data_fd,
			    int metadata_fd, char *why, size_t len)
{
	int r = 0;

	if (cfg->loop)
		return 0;
	if (*cfg->uuid)
		r = check_data(cfg, data_fd, why, len);
	if (r == 0)
		r = check_metadata(ctx, cfg, metadata_fd, why, len);
	return r;
}
