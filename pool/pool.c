// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Pool lifecycle: create, activate, deactivate, remove.
 *
 * Ordering on create: every check that can refuse runs before anything is
 * written; then the configuration is made durable, then the kernel table is
 * loaded. A crash between the two leaves a configured, inactive pool that
 * `pool activate` brings up, or `pool rm` removes: never a kernel pool the
 * state dir does not know.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include "dm/dm.h"
#include "dms-util.h"
#include "fs/blockdev.h"
#include "fs/label.h"
#include "fs/loop.h"
#include "pool/internal.h"

#define LOOP_DATA_DEFAULT (100ULL * DMS_GIB)
#define LOOP_METADATA_MIN (64ULL * DMS_MIB)
#define DATA_MIN (64ULL * DMS_MIB)

/*
 * The kernel's guide (thin-provisioning.rst): 48 bytes of metadata per data
 * block, and no less than 2 MiB.
 */
uint64_t dms_pool_metadata_min(uint64_t data_size, uint32_t block_size)
{
	uint64_t bytes = 48 * (data_size / block_size);

	if (bytes < 2 * DMS_MIB)
		bytes = 2 * DMS_MIB;
	return (bytes + DMS_THIN_METADATA_BLOCK - 1) / DMS_THIN_METADATA_BLOCK * DMS_THIN_METADATA_BLOCK;
}

static int require_dm(struct dms_ctx *ctx)
{
	unsigned v[3];
	int r = dms_dm_available();

	if (r < 0)
		return dms_fail(ctx, -ENODEV, "device-mapper is not available (%s): is the dm_mod module loaded?",
				strerror(-r));
	r = dms_dm_target_version("thin-pool", v);
	if (r < 0)
		return dms_fail(ctx, -ENODEV, "the kernel has no thin-pool target (%s): is dm_thin_pool loaded?",
				strerror(-r));
	return 0;
}

static int pool_exists(struct dms_ctx *ctx, const char *name, bool *ret_configured, bool *ret_active)
{
	struct dms_pool_config cfg;
	struct dms_dm_info info;
	int r;

	r = dms_pool_config_read(ctx, name, &cfg);
	if (r < 0 && r != -ENOENT)
		return dms_fail(ctx, r, "pool '%s': configuration unreadable: %s", name, strerror(-r));
	*ret_configured = r == 0;
	r = dms_pool_dm_find(name, &info);
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': device-mapper: %s", name, strerror(-r));
	*ret_active = info.exists;
	return 0;
}

/* A device that another configured pool names is that pool's data, even while it is inactive and looks blank. */
static int device_owner(struct dms_ctx *ctx, const char *dev, char *ret_pool, size_t len)
{
	char want[PATH_MAX];
	char **names = NULL;
	size_t n = 0;
	int r;

	if (!realpath(dev, want))
		return -errno;
	r = dms_pool_list(ctx, &names, &n);
	if (r < 0)
		return r;
	r = 0;
	for (size_t i = 0; i < n && r == 0; i++) {
		struct dms_pool_config cfg;
		char a[PATH_MAX], b[PATH_MAX];

		if (dms_pool_config_read(ctx, names[i], &cfg) < 0)
			continue;
		if ((realpath(cfg.data_path, a) && strcmp(a, want) == 0) ||
		    (realpath(cfg.metadata_path, b) && strcmp(b, want) == 0)) {
			snprintf(ret_pool, len, "%s", names[i]);
			r = 1;
		}
	}
	dms_strv_free(names, n);
	return r;
}

/* Checks one dedicated device; on success its size is known and nothing has been written. */
static int check_device(struct dms_ctx *ctx, const char *pool, const char *role, const char *dev, bool force,
			uint64_t *ret_size, unsigned *ret_major, unsigned *ret_minor)
{
	_cleanup_close_ int fd = -1;
	char sig[64], owner[DMS_POOL_NAME_MAX + 1];
	int r;

	r = dms_blockdev_open(dev, !force, &fd);
	if (r == -EBUSY)
		return dms_fail(ctx, r, "pool '%s': %s device '%s' is in use (mounted, in another device, or open exclusively); use --force to take it anyway",
				pool, role, dev);
	if (r == -ENOTBLK)
		return dms_fail_path(ctx, r, "pool '%s': %s device '%s' is not a block device (use --loop for files)",
				     pool, role, dev);
	if (r < 0)
		return dms_fail_path(ctx, r, "pool '%s': %s device '%s': %s", pool, role, dev, strerror(-r));
	r = device_owner(ctx, dev, owner, sizeof(owner));
	if (r > 0)
		return dms_fail(ctx, -EBUSY, "pool '%s': %s device '%s' belongs to pool '%s'", pool, role, dev,
				owner);
	r = dms_blockdev_size(fd, ret_size);
	if (r == 0)
		r = dms_blockdev_devnum(fd, ret_major, ret_minor);
	if (r == 0)
		r = dms_pool_label_owner(ctx, fd, *ret_size, owner, sizeof(owner));
	if (r > 0)
		return dms_fail(ctx, -EBUSY, "pool '%s': %s device '%s' carries the label of pool '%s'", pool, role, dev,
				owner);
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': %s device '%s': %s", pool, role, dev, strerror(-r));
	if (force)
		return 0;
	r = dms_signature_probe(fd, sig, sizeof(sig));
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': %s device '%s': probing for signatures failed: %s", pool, role,
				dev, strerror(-r));
	if (r > 0)
		return dms_fail(ctx, -EEXIST, "pool '%s': %s device '%s' carries a signature (%s); use --force to overwrite it",
				pool, role, dev, sig);
	return 0;
}

/* The path as the user gave it, made absolute but never resolved: a /dev/disk/by-id link must stay one. */
static int absolute_path(const char *path, char *buf, size_t len)
{
	char cwd[PATH_MAX];
	int n;

	if (path[0] == '/')
		n = snprintf(buf, len, "%s", path);
	else if (getcwd(cwd, sizeof(cwd)))
		n = snprintf(buf, len, "%s/%s", cwd, path);
	else
		return -errno;
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int check_sizes(struct dms_ctx *ctx, const char *pool, uint64_t data_size, uint64_t metadata_size,
		       uint32_t block_size)
{
	char a[32], b[32], c[32], d[32];
	uint64_t need;

	if (data_size / block_size * block_size < DATA_MIN || data_size < block_size)
		return dms_fail_invalid(ctx, -ENOSPC, "pool '%s': data is too small: %s, needs at least %s", pool,
					dms_size_format(data_size, a, sizeof(a)),
					dms_size_format(DATA_MIN, b, sizeof(b)));
	need = dms_pool_metadata_min(data_size, block_size);
	if (metadata_size < need)
		return dms_fail_invalid(ctx, -ENOSPC, "pool '%s': metadata is too small: %s, needs at least %s for %s of data in %s blocks",
					pool, dms_size_format(metadata_size, a, sizeof(a)),
					dms_size_format(need, b, sizeof(b)), dms_size_format(data_size, c, sizeof(c)),
					dms_size_format(block_size, d, sizeof(d)));
	return 0;
}

static bool block_size_valid(uint32_t bs)
{
	return bs >= DMS_BLOCK_SIZE_MIN && bs <= DMS_BLOCK_SIZE_MAX && bs % DMS_BLOCK_SIZE_MIN == 0;
}

/* Sparse files cost nothing up front, but a pool larger than the filesystem under it fails late and badly. */
static int loop_default_sizes(struct dms_ctx *ctx, const char *name, struct dms_pool_config *cfg,
			      const struct dms_pool_create_opts *o)
{
	struct statvfs vfs;
	uint64_t avail;

	cfg->data_size = o->data_size;
	if (!cfg->data_size) {
		char dir[PATH_MAX];

		/* The state dir may not exist yet: ask the filesystem it will be made on. */
		snprintf(dir, sizeof(dir), "%s", ctx->state_dir);
		while (statvfs(dir, &vfs) < 0) {
			char *slash = strrchr(dir, '/');

			if (errno != ENOENT || !slash || slash == dir)
				return dms_fail(ctx, -errno, "pool '%s': state dir '%s': %s", name, ctx->state_dir,
						strerror(errno));
			*slash = '\0';
		}
		avail = (uint64_t)vfs.f_bavail * vfs.f_frsize / 10 * 9 / DMS_GIB * DMS_GIB;
		cfg->data_size = avail < LOOP_DATA_DEFAULT ? avail : LOOP_DATA_DEFAULT;
		if (cfg->data_size < DMS_GIB)
			cfg->data_size = DMS_GIB;
	}
	cfg->metadata_size = o->metadata_size;
	if (!cfg->metadata_size) {
		cfg->metadata_size = 4 * dms_pool_metadata_min(cfg->data_size, cfg->block_size);
		if (cfg->metadata_size < LOOP_METADATA_MIN)
			cfg->metadata_size = LOOP_METADATA_MIN;
		if (cfg->metadata_size > DMS_THIN_METADATA_MAX)
			cfg->metadata_size = DMS_THIN_METADATA_MAX;
	}
	return 0;
}

static int make_pool_dir(struct dms_ctx *ctx, const char *name, char *dir, size_t len)
{
	int r = dms_pool_dir(ctx, name, dir, len);

	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': state dir path too long", name);
	if (mkdir(ctx->state_dir, 0700) < 0 && errno != EEXIST)
		return dms_fail(ctx, -errno, "state dir '%s': %s", ctx->state_dir, strerror(errno));
	if (mkdir(dir, 0700) < 0)
		return dms_fail(ctx, -errno, "pool '%s': '%s': %s", name, dir, strerror(errno));
	return 0;
}

static int create_loop_files(struct dms_ctx *ctx, struct dms_pool_config *cfg, const char *dir)
{
	int r;

	if ((size_t)snprintf(cfg->data_path, sizeof(cfg->data_path), "%s/data.img", dir) >= sizeof(cfg->data_path) ||
	    (size_t)snprintf(cfg->metadata_path, sizeof(cfg->metadata_path), "%s/metadata.img", dir) >=
		    sizeof(cfg->metadata_path))
		return dms_fail(ctx, -ENAMETOOLONG, "pool '%s': state dir path too long", cfg->name);
	r = dms_loop_file_create(cfg->metadata_path, cfg->metadata_size);
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': '%s': %s", cfg->name, cfg->metadata_path, strerror(-r));
	r = dms_loop_file_create(cfg->data_path, cfg->data_size);
	if (r < 0) {
		(void)unlink(cfg->metadata_path);
		return dms_fail(ctx, r, "pool '%s': '%s': %s", cfg->name, cfg->data_path, strerror(-r));
	}
	return 0;
}

/*
 * New metadata: the kernel formats it on first load only if its superblock
 * reads as zeroes. The data device gets the pool's label.
 */
static int prepare_devices(struct dms_ctx *ctx, const struct dms_pool_config *cfg, bool force)
{
	_cleanup_close_ int data_fd = -1, meta_fd = -1;
	int r;

	r = dms_blockdev_open(cfg->metadata_path, false, &meta_fd);
	if (r == 0 && force)
		r = dms_signature_wipe(meta_fd);
	if (r == 0)
		r = dms_thin_metadata_wipe(meta_fd);
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': preparing metadata device '%s' failed: %s", cfg->name,
				cfg->metadata_path, strerror(-r));
	r = dms_blockdev_open(cfg->data_path, false, &data_fd);
	if (r == 0 && force)
		r = dms_signature_wipe(data_fd);
	if (r == 0)
		r = dms_pool_label_write(cfg, data_fd);
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': preparing data device '%s' failed: %s", cfg->name, cfg->data_path,
				strerror(-r));
	return 0;
}

static void remove_pool_dir(const struct dms_pool_config *cfg, const char *dir)
{
	static const char *const files[] = { "pool.json", "catalog.db", "catalog.db-wal", "catalog.db-shm" };
	char path[PATH_MAX + 16];

	for (size_t i = 0; i < DMS_ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		(void)unlink(path);
	}
	snprintf(path, sizeof(path), "%s/mnt", dir);
	(void)rmdir(path);
	if (cfg->loop) {
		(void)unlink(cfg->data_path);
		(void)unlink(cfg->metadata_path);
	}
	(void)rmdir(dir);
}

/* Made now, migrated, so that what reads it right after create (a script, sqlite3) finds it. */
static int make_catalog(struct dms_ctx *ctx, const char *name, const char *dir)
{
	struct dms_catalog *cat;
	char path[PATH_MAX + 16];
	int r;

	snprintf(path, sizeof(path), "%s/catalog.db", dir);
	r = dms_catalog_open(path, &cat);
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': making the catalogue '%s' failed: %s", name, path, strerror(-r));
	dms_catalog_close(cat);
	return 0;
}

int dms_pool_create(struct dms_ctx *ctx, const char *name, const struct dms_pool_create_opts *opts,
		    struct dms_pool_status **ret_status)
{
	_cleanup_close_ int lock = -1;
	struct dms_pool_create_opts given;
	const struct dms_pool_create_opts *o = &given;
	struct dms_pool_config cfg = { 0 };
	char dir[PATH_MAX];
	bool configured = false, active = false;
	int r;

	if (!dms_pool_name_valid(name))
		return dms_fail_invalid(ctx, -EINVAL, "pool '%s': invalid name: use 1-%d of [A-Za-z0-9_.-], starting with a letter or digit",
					name, DMS_POOL_NAME_MAX);
	r = dms_opts_read(ctx, "pool", name, opts, dms_offsetofend(struct dms_pool_create_opts, force), &given,
			  sizeof(given));
	if (r < 0)
		return r;
	cfg.block_size = o->block_size ? o->block_size : DMS_BLOCK_SIZE_DEFAULT;
	if (!block_size_valid(cfg.block_size))
		return dms_fail_invalid(ctx, -EINVAL, "pool '%s': block size %u is not a multiple of 64 KiB between 64 KiB and 1 GiB",
					name, cfg.block_size);
	if (o->loop == (o->data_dev || o->metadata_dev) || (!o->loop && !(o->data_dev && o->metadata_dev)))
		return dms_fail_invalid(ctx, -EINVAL, "pool '%s': give either --loop or both --data and --metadata",
					name);
	if (!o->loop && (o->data_size || o->metadata_size))
		return dms_fail_invalid(ctx, -EINVAL, "pool '%s': sizes are given only with --loop; a device's size is its own",
					name);
	if ((r = dms_size_check(ctx, "pool", name, o->data_size)) < 0 ||
	    (r = dms_size_check(ctx, "pool", name, o->metadata_size)) < 0)
		return r;
	r = require_dm(ctx);
	if (r < 0)
		return r;
	r = dms_pool_lock(ctx, name, &lock, NULL);
	if (r < 0)
		return r;
	r = pool_exists(ctx, name, &configured, &active);
	if (r < 0)
		return r;
	if (configured || active)
		return dms_fail(ctx, -EEXIST, "pool '%s' already exists", name);
	r = dms_pool_dm_name_free(ctx, name);
	if (r < 0)
		return r;

	snprintf(cfg.name, sizeof(cfg.name), "%s", name);
	cfg.loop = o->loop;
	cfg.zero = !o->no_zero;
	cfg.created = (int64_t)time(NULL);
	if (o->loop) {
		r = loop_default_sizes(ctx, name, &cfg, o);
		if (r < 0)
			return r;
		cfg.data_size = cfg.data_size / cfg.block_size * cfg.block_size;
		r = check_sizes(ctx, name, cfg.data_size, cfg.metadata_size, cfg.block_size);
		if (r < 0)
			return r;
		r = make_pool_dir(ctx, name, dir, sizeof(dir));
		if (r < 0)
			return r;
		r = create_loop_files(ctx, &cfg, dir);
		if (r < 0) {
			(void)rmdir(dir);
			return r;
		}
	} else {
		unsigned dmaj, dmin, mmaj, mmin;

		r = check_device(ctx, name, "data", o->data_dev, o->force, &cfg.data_size, &dmaj, &dmin);
		if (r < 0)
			return r;
		r = check_device(ctx, name, "metadata", o->metadata_dev, o->force, &cfg.metadata_size, &mmaj, &mmin);
		if (r < 0)
			return r;
		if (dmaj == mmaj && dmin == mmin)
			return dms_fail_invalid(ctx, -EINVAL, "pool '%s': data and metadata are the same device '%s'",
						name, o->data_dev);
		dms_pool_identity_new(&cfg, cfg.data_size);
		r = check_sizes(ctx, name, cfg.data_size, cfg.metadata_size, cfg.block_size);
		if (r < 0)
			return r;
		if ((r = absolute_path(o->data_dev, cfg.data_path, sizeof(cfg.data_path))) < 0 ||
		    (r = absolute_path(o->metadata_dev, cfg.metadata_path, sizeof(cfg.metadata_path))) < 0)
			return dms_fail_path(ctx, r, "pool '%s': device paths: %s", name, strerror(-r));
		r = prepare_devices(ctx, &cfg, o->force);
		if (r < 0)
			return r;
		r = make_pool_dir(ctx, name, dir, sizeof(dir));
		if (r < 0)
			return r;
	}

	r = dms_pool_config_write(ctx, &cfg);
	if (r < 0) {
		dms_fail(ctx, r, "pool '%s': writing its configuration in '%s' failed: %s", name, dir, strerror(-r));
		goto out_remove_dir;
	}
	r = make_catalog(ctx, name, dir);
	if (r < 0)
		goto out_remove_dir;
	r = dms_pool_table_load(ctx, &cfg, false);
	if (r < 0)
		goto out_remove_dir;
	/* Status takes the lock itself, and flock does not nest across descriptors. */
	(void)close(DMS_TAKE_FD(lock));
	if (ret_status) {
		r = dms_pool_status(ctx, name, ret_status);
		if (r < 0)
			return r;
	}
	return 0;

out_remove_dir:
	remove_pool_dir(&cfg, dir);
	return r;
}

/*
 * The mount points and attachments the catalogue remembers that are not
 * there (a deactivation or a reboot took them all; an earlier activate may
 * have kept some that are) go, in one transaction, so a crash leaves the
 * catalogue as it was or wholly mended, never a volume attached to a
 * container that lost its mount point. Those that are there stay: activate
 * runs again on an active pool, to finish a restore that failed or crashed.
 */
static int forget_dead_mounts(struct dms_pool *pool, struct dms_row *rows, size_t n)
{
	_cleanup_free_ struct dms_attachment *att = NULL;
	size_t n_att = 0;
	bool alive;
	int r;

	r = dms_catalog_attach_list(pool->cat, 0, 0, &att, &n_att);
	if (r < 0)
		return r;
	r = dms_catalog_begin(pool->cat);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n_att && r == 0; i++) {
		r = dms_attachment_alive(pool, &att[i], &alive);
		if (r == 0 && !alive)
			r = dms_catalog_attach_delete(pool->cat, att[i].id);
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		if (!*rows[i].mountpoint)
			continue;
		r = dms_mount_alive(pool, &rows[i], &alive);
		if (r < 0 || alive)
			continue;
		rows[i].mountpoint[0] = '\0';
		r = dms_catalog_update(pool->cat, &rows[i]);
	}
	if (r == 0)
		r = dms_catalog_commit(pool->cat);
	if (r < 0)
		dms_catalog_rollback(pool->cat);
	return r;
}

/*
 * The devices the catalogue says were active come back; mounts do not survive
 * a deactivation, so the catalogue forgets those that are gone first. Each
 * step is a no-op when done already, so a restore that failed or crashed is
 * finished by running it again. *LOCK is the pool lock, held since the table
 * was loaded: the pool takes it over as a dead holder's, so the change looks
 * for all a dead one may have left, whatever the lock's note says.
 */
static int restore_thin_devices(struct dms_ctx *ctx, const char *name, int *lock)
{
	_cleanup_free_ struct dms_row *rows = NULL;
	struct dms_pool *pool = NULL;
	size_t n = 0;
	uint64_t txn;
	int r;

	r = dms_pool_open(ctx, name, &pool);
	if (r == 0) {
		pool->lock_fd = DMS_TAKE_FD(*lock);
		r = dms_change_begin(pool, &txn);
	}
	if (r == 0)
		r = dms_catalog_list(pool->cat, -1, 0, &rows, &n);
	if (r == 0) {
		r = forget_dead_mounts(pool, rows, n);
		if (r < 0)
			r = dms_fail(ctx, r, "pool '%s': forgetting mounts that did not survive its deactivation failed: %s",
				     name, strerror(-r));
	}
	/* Reported here, where it was asked for: a change only tries (dms_activate_recorded). */
	for (size_t i = 0; i < n && r == 0; i++) {
		if (rows[i].state != DMS_STATE_READY || rows[i].kind == DMS_KIND_IMAGE || !rows[i].active)
			continue;
		r = dms_thin_dev_activate(pool, &rows[i]);
	}
	if (pool)
		dms_change_end(pool, r);
	dms_pool_close(pool);
	return r;
}

/*
 * After a reboot: the metadata is checked while no kernel holds it, then the
 * same table goes back. The restore runs on a pool that is active already
 * too: an activate that crashed or failed after the load left it undone.
 */
int dms_pool_activate(struct dms_ctx *ctx, const char *name)
{
	_cleanup_close_ int lock = -1;
	struct dms_pool_config cfg;
	struct dms_dm_info info;
	int r;

	r = dms_pool_config_load(ctx, name, &cfg);
	if (r < 0)
		return r;
	r = require_dm(ctx);
	if (r < 0)
		return r;
	r = dms_pool_lock(ctx, name, &lock, NULL);
	if (r < 0)
		return r;
	r = dms_pool_dm_find(name, &info);
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': device-mapper: %s", name, strerror(-r));
	if (!info.exists) {
		r = dms_pool_table_load(ctx, &cfg, true);
		if (r < 0)
			return r;
		dms_crash_point("pool-activate", "after-load");
	}
	/*
	 * The lock stays held from the load through the restore. Once the table is
	 * in, a vol mount, vol attach or snap mount may run on the pool; one that
	 * ran before the restore would have its fresh mount point and attachment
	 * wiped by forget_mounts() as if they had not survived the deactivation.
	 */
	return restore_thin_devices(ctx, name, &lock);
}

/*
 * dmstore's own thin devices on the pool go first (the catalogue remembers
 * them, for activate); one that is open (mounted, in use) stops everything,
 * named. Devices made by hand keep the pool open and are refused by count.
 */
static int thin_devices_remove(struct dms_ctx *ctx, const char *name)
{
	struct dms_dm_device *devs = NULL;
	char prefix[DMS_DM_UUID_MAX + 1];
	size_t n = 0;
	int r;

	r = dms_pool_uuid_prefix(name, prefix, sizeof(prefix));
	if (r == 0)
		r = dms_dm_list(prefix, &devs, &n);
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': listing its devices failed: %s", name, strerror(-r));
	for (size_t i = 0; i < n && r == 0; i++) {
		struct dms_dm_info info;

		if (!dms_uuid_is_thin_of(devs[i].uuid, name))
			continue;
		r = dms_dm_info(devs[i].name, &info);
		if (r == 0 && info.exists && info.open_count > 0)
			r = dms_fail(ctx, -EBUSY, "pool '%s': '%s' is in use (mounted or open); unmount it first", name,
				     devs[i].name);
		else if (r == 0)
			r = dms_dm_remove(devs[i].name, DMS_DM_REMOVE_RETRY);
		if (r < 0 && r != -EBUSY)
			r = dms_fail(ctx, r, "pool '%s': removing '%s' failed: %s", name, devs[i].name, strerror(-r));
	}
	dms_dm_devices_free(devs, n);
	return r;
}

/* The kernel refuses to remove a pool that is open; we do not tear down someone else's device to make it so. */
static int pool_table_remove(struct dms_ctx *ctx, const char *name)
{
	struct dms_dm_info info;
	int r;

	r = dms_pool_dm_find(name, &info);
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': device-mapper: %s", name, strerror(-r));
	if (!info.exists)
		return 0;
	r = thin_devices_remove(ctx, name);
	if (r < 0)
		return r;
	r = dms_pool_dm_find(name, &info);
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': device-mapper: %s", name, strerror(-r));
	if (!info.exists)
		return 0;
	if (info.open_count > 0)
		return dms_fail(ctx, -EBUSY, "pool '%s' is in use: %d thin device(s) not made by dmstore are active on it",
				name, info.open_count);
	r = dms_dm_remove(info.name, DMS_DM_REMOVE_RETRY);
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': removing '%s' failed: %s", name, info.name, strerror(-r));
	return 0;
}

int dms_pool_deactivate(struct dms_ctx *ctx, const char *name)
{
	_cleanup_close_ int lock = -1;
	struct dms_pool_config cfg;
	int r;

	r = dms_pool_config_load(ctx, name, &cfg);
	if (r < 0)
		return r;
	r = dms_pool_lock(ctx, name, &lock, NULL);
	if (r == 0)
		r = dms_image_refuse_pool_change(ctx, name);
	if (r < 0)
		return r;
	return pool_table_remove(ctx, name);
}

/*
 * pool rm wipes what marks the dedicated devices as the pool's, and only on
 * devices shown to be its own: a configured path may name another disk now.
 * With FORCE, a pool whose devices are not its own any more is forgotten
 * without touching them.
 */
static int devices_mine(struct dms_ctx *ctx, const struct dms_pool_config *cfg, bool force, bool *ret_mine)
{
	_cleanup_close_ int data_fd = -1, meta_fd = -1;
	char why[2 * PATH_MAX];
	int r;

	*ret_mine = false;
	if (cfg->loop)
		return 0;
	r = dms_blockdev_open(cfg->data_path, false, &data_fd);
	if (r < 0)
		snprintf(why, sizeof(why), "data device '%s': %s", cfg->data_path, strerror(-r));
	if (r == 0 && (r = dms_blockdev_open(cfg->metadata_path, false, &meta_fd)) < 0)
		snprintf(why, sizeof(why), "metadata device '%s': %s", cfg->metadata_path, strerror(-r));
	if (r == 0)
		r = dms_pool_devices_verify(ctx, cfg, data_fd, meta_fd, why, sizeof(why));
	*ret_mine = r == 0;
	if (r == 0 || force)
		return 0;
	return dms_fail(ctx, r, "pool '%s': %s; use --force to forget the pool without touching its devices", cfg->name,
			why);
}

static int devices_wipe(struct dms_ctx *ctx, const struct dms_pool_config *cfg)
{
	_cleanup_close_ int data_fd = -1, meta_fd = -1;
	int r;

	/* A dedicated metadata device must not keep a superblock a later pool would open as its own. */
	r = dms_blockdev_open(cfg->metadata_path, true, &meta_fd);
	if (r == 0)
		r = dms_thin_metadata_wipe(meta_fd);
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': clearing metadata device '%s' failed: %s", cfg->name,
				cfg->metadata_path, strerror(-r));
	if (!*cfg->uuid)
		return 0;
	r = dms_blockdev_open(cfg->data_path, true, &data_fd);
	if (r == 0)
		r = dms_label_wipe(data_fd, cfg->label_offset);
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': clearing the label of data device '%s' failed: %s", cfg->name,
				cfg->data_path, strerror(-r));
	return 0;
}

int dms_pool_remove(struct dms_ctx *ctx, const char *name, bool force)
{
	_cleanup_close_ int lock = -1;
	_cleanup_free_ uint32_t *ids = NULL;
	struct dms_pool_config cfg;
	char dir[PATH_MAX];
	size_t n_ids = 0;
	bool mine;
	int r;

	r = dms_pool_config_load(ctx, name, &cfg);
	if (r < 0)
		return r;
	r = dms_pool_lock(ctx, name, &lock, NULL);
	if (r == 0)
		r = dms_image_refuse_pool_change(ctx, name);
	if (r < 0)
		return r;
	r = devices_mine(ctx, &cfg, force, &mine);
	if (r < 0)
		return r;
	if (!force) {
		r = dms_pool_thin_ids(ctx, &cfg, &ids, &n_ids);
		if (r < 0)
			return r;
		if (n_ids > 0)
			return dms_fail(ctx, -ENOTEMPTY, "pool '%s' holds %zu thin device(s) (first id %u); remove them or use --force",
					name, n_ids, ids[0]);
	}
	r = pool_table_remove(ctx, name);
	if (r == 0 && mine)
		r = devices_wipe(ctx, &cfg);
	if (r < 0)
		return r;
	r = dms_pool_dir(ctx, name, dir, sizeof(dir));
	if (r < 0)
		return r;
	remove_pool_dir(&cfg, dir);
	return 0;
}
