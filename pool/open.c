// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Opening a pool for use, and the bracket every change of it runs in: the
 * lock, a pool the kernel has, and recovery (pool/recover.c) first.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "dm/dm.h"
#include "dms-util.h"
#include "pool/internal.h"

int dms_pool_open(struct dms_ctx *ctx, const char *name, struct dms_pool **ret_pool)
{
	_cleanup_free_ struct dms_pool *pool = NULL;
	char path[PATH_MAX + 16], dir[PATH_MAX];
	char **names = NULL;
	size_t n = 0;
	int r;

	if (!name) {
		/* No name: the pool, if there is exactly one. */
		r = dms_pool_list(ctx, &names, &n);
		if (r < 0)
			return r;
		if (n != 1) {
			dms_strv_free(names, n);
			return dms_fail(ctx, n ? -EINVAL : -ENOENT,
					n ? "there are %zu pools: name one with --pool" : "there is no pool: create one with 'dmstore pool create NAME --loop'",
					n);
		}
		name = names[0];
	}
	pool = calloc(1, sizeof(*pool));
	if (!pool) {
		r = -ENOMEM;
		goto out;
	}
	pool->ctx = ctx;
	pool->lock_fd = -1;
	if (!dms_pool_name_valid(name)) {
		r = dms_fail(ctx, -EINVAL, "pool '%s': invalid name", name);
		goto out;
	}
	r = dms_pool_config_read(ctx, name, &pool->cfg);
	if (r == -ENOENT) {
		r = dms_fail(ctx, r, "pool '%s' does not exist", name);
		goto out;
	}
	if (r < 0) {
		r = dms_fail(ctx, r, "pool '%s': configuration unreadable: %s", name, strerror(-r));
		goto out;
	}
	r = dms_pool_dm_name(name, pool->dm_name, sizeof(pool->dm_name));
	if (r == 0)
		r = dms_pool_dir(ctx, name, dir, sizeof(dir));
	if (r < 0) {
		r = dms_fail(ctx, r, "pool '%s': name too long", name);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/catalog.db", dir);
	r = dms_catalog_open(path, &pool->cat);
	if (r < 0) {
		r = dms_fail(ctx, r, "pool '%s': opening the catalogue '%s' failed: %s", name, path, strerror(-r));
		goto out;
	}
	*ret_pool = DMS_TAKE_PTR(pool);
out:
	dms_strv_free(names, n);
	return r;
}

void dms_pool_close(struct dms_pool *pool)
{
	if (!pool)
		return;
	dms_change_end(pool);
	dms_catalog_close(pool->cat);
	free(pool);
}

const char *dms_pool_name(const struct dms_pool *pool)
{
	return pool->cfg.name;
}

struct dms_ctx *dms_pool_ctx(const struct dms_pool *pool)
{
	return pool->ctx;
}


/*
 * The lock, and a pool the kernel has: nothing can change a pool that is not
 * active. A caller that already holds the lock hands it over in lock_fd (pool
 * activate, which must not let a change in between loading the table and
 * restoring the devices); flock does not nest across descriptors, so taking it
 * again would wait forever.
 */
static int lock_active(struct dms_pool *pool)
{
	struct dms_dm_info info;
	int r = 0;

	if (pool->lock_fd < 0)
		r = dms_pool_lock(pool->ctx, pool->cfg.name, &pool->lock_fd);
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': taking the pool lock failed: %s", pool->cfg.name,
				strerror(-r));
	r = dms_dm_info(pool->dm_name, &info);
	if (r < 0)
		r = dms_fail(pool->ctx, r, "pool '%s': device-mapper: %s", pool->cfg.name, strerror(-r));
	else if (!info.exists)
		r = dms_fail(pool->ctx, -ENXIO, "pool '%s' is not active: run 'dmstore pool activate %s'",
			     pool->cfg.name, pool->cfg.name);
	if (r < 0)
		dms_change_end(pool);
	return r;
}

int dms_change_begin(struct dms_pool *pool, uint64_t *ret_txn)
{
	int r;

	r = lock_active(pool);
	if (r < 0)
		return r;
	/* A volume left suspended by a dmstore that died blocks its users' I/O: that is undone first. */
	r = dms_resume_suspended(pool, NULL, NULL);
	if (r == 0)
		r = dms_recover(pool, NULL, NULL);
	if (r < 0)
		goto fail;
	r = dms_pool_kernel_txn(pool, ret_txn);
	if (r < 0) {
		r = dms_fail(pool->ctx, r, "pool '%s': reading its transaction id failed: %s", pool->cfg.name,
			     strerror(-r));
		goto fail;
	}
	return 0;
fail:
	dms_change_end(pool);
	return r;
}

void dms_change_end(struct dms_pool *pool)
{
	if (pool->lock_fd >= 0)
		(void)close(pool->lock_fd);
	pool->lock_fd = -1;
}

/*
 * What an admin runs after a crash does all that the next change would have
 * done first: a volume the dead dmstore left suspended blocks its users' I/O
 * until it is resumed, whatever the transaction ids say.
 */
int dms_pool_recover(struct dms_pool *pool, unsigned *ret_rolled_forward, unsigned *ret_rolled_back,
		     char ***ret_resumed, size_t *ret_n_resumed)
{
	char **resumed = NULL;
	size_t n_resumed = 0;
	int r;

	r = lock_active(pool);
	if (r < 0)
		return r;
	r = dms_resume_suspended(pool, &resumed, &n_resumed);
	if (r == 0)
		r = dms_recover(pool, ret_rolled_forward, ret_rolled_back);
	dms_change_end(pool);
	if (r == 0 && ret_resumed) {
		*ret_resumed = DMS_TAKE_PTR(resumed);
		*ret_n_resumed = n_resumed;
	}
	dms_strv_free(resumed, n_resumed);
	return r;
}
