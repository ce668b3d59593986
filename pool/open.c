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
			return dms_fail_kind(ctx, n ? DMS_ERROR_INVALID : DMS_ERROR_NOT_FOUND, n ? -EINVAL : -ENOENT,
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
		r = dms_fail_invalid(ctx, -EINVAL, "pool '%s': invalid name", name);
		goto out;
	}
	r = dms_pool_config_read(ctx, name, &pool->cfg);
	if (r == -ENOENT) {
		r = dms_fail_missing(ctx, r, "pool '%s' does not exist", name);
		goto out;
	}
	if (r < 0) {
		r = dms_fail(ctx, r, "pool '%s': configuration unreadable: %s", name, strerror(-r));
		goto out;
	}
	/* Refreshed under the lock (lock_active), where it is used: a reader needs no device-mapper. */
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
	/* A change not ended is one whose outcome nobody said: the next change looks. */
	pool->lock_clean = false;
	dms_change_end(pool, 0);
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
		r = dms_pool_lock(pool->ctx, pool->cfg.name, &pool->lock_fd, &pool->lock_clean);
	if (r < 0)
		return r;
	r = dms_pool_dm_find(pool->cfg.name, &info);
	if (r < 0)
		r = dms_fail(pool->ctx, r, "pool '%s': device-mapper: %s", pool->cfg.name, strerror(-r));
	else if (!info.exists)
		r = dms_fail(pool->ctx, -ENXIO, "pool '%s' is not active: run 'dmstore pool activate %s'",
			     pool->cfg.name, pool->cfg.name);
	else
		snprintf(pool->dm_name, sizeof(pool->dm_name), "%s", info.name);
	if (r < 0)
		dms_change_end(pool, r);
	return r;
}

/*
 * The kernel must take changes: a failed or read-only pool is refused, saying
 * what to run, before recovery reads a transaction id it does not have. A
 * metadata snapshot held now was left by a dead dmstore (the lock is held).
 */
static int kernel_ready(struct dms_pool *pool, bool *ret_released)
{
	struct dms_thin_pool_status st;
	char why[DMS_ERROR_MAX];
	int r;

	r = dms_thin_pool_status(pool->dm_name, &st);
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': reading its status failed: %s", pool->cfg.name,
				strerror(-r));
	r = dms_pool_kernel_refuses(pool->cfg.name, &st, why, sizeof(why));
	if (r < 0)
		return dms_fail(pool->ctx, r, "%s", why);
	r = dms_pool_release_dead_snap(pool->dm_name, ret_released);
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': releasing the metadata snapshot a dmstore that died held failed: %s",
				pool->cfg.name, strerror(-r));
	return 0;
}

/*
 * A dmstore that died holding the lock may have left a volume or layer
 * suspended (all its users' I/O blocked) or a row active without its device:
 * looking costs an info ioctl per device, thousands for a snapshotter's
 * layers, so a change looks only when the lock says its last holder did not
 * let go cleanly (pool/lock.c). Intents and deferred removals are one query
 * each: looked at by every change.
 */
int dms_change_begin(struct dms_pool *pool, uint64_t *ret_txn)
{
	int r;

	r = lock_active(pool);
	if (r < 0)
		return r;
	r = kernel_ready(pool, NULL);
	if (r < 0)
		goto fail;
	/* A volume left suspended blocks its users' I/O: that is undone first. */
	if (!pool->lock_clean)
		r = dms_resume_suspended(pool, NULL, NULL);
	if (r == 0)
		r = dms_recover(pool, NULL, NULL);
	/* Removals deferred until their holder let go (pool/remove-held.c) are finished by the next change. */
	if (r == 0)
		r = dms_finish_removals(pool, NULL);
	if (r == 0 && !pool->lock_clean)
		r = dms_activate_recorded(pool);
	if (r < 0)
		goto fail;
	pool->lock_clean = true;
	r = dms_pool_kernel_txn(pool, ret_txn);
	if (r < 0) {
		r = dms_fail(pool->ctx, r, "pool '%s': reading its transaction id failed: %s", pool->cfg.name,
			     strerror(-r));
		goto fail;
	}
	return 0;
fail:
	dms_change_end(pool, r);
	return r;
}

/*
 * The lock's note goes only after a change that looked for what a dead holder
 * left and ended well. A failure of any kind may come from an undo that failed
 * too (a resume refused busy): its note stays, and the next change looks.
 */
void dms_change_end(struct dms_pool *pool, int r)
{
	bool clean = pool->lock_clean && r >= 0;

	dms_pool_unlock(pool->lock_fd, clean);
	pool->lock_fd = -1;
	pool->lock_clean = false;
}

/*
 * What an admin runs after a crash does all that the next change would have
 * done first: a volume the dead dmstore left suspended blocks its users' I/O
 * until it is resumed, whatever the transaction ids say. Then what no change
 * looks for: thin ids no row owns, told apart only once no intent is open
 * (an intent's id is its row's), and deleted only when asked.
 */
int dms_pool_recover(struct dms_pool *pool, unsigned flags, struct dms_recover_report **ret_report)
{
	struct dms_recover_report *rep = calloc(1, sizeof(*rep));
	int r;

	if (!rep)
		return dms_fail(pool->ctx, -ENOMEM, "pool '%s': out of memory", pool->cfg.name);
	rep->size = sizeof(*rep);
	r = lock_active(pool);
	if (r < 0) {
		dms_recover_report_free(rep);
		return r;
	}
	r = kernel_ready(pool, &rep->released_metadata_snap);
	if (r == 0)
		r = dms_resume_suspended(pool, &rep->resumed, &rep->n_resumed);
	if (r == 0)
		r = dms_recover(pool, &rep->rolled_forward, &rep->rolled_back);
	if (r == 0)
		r = dms_finish_removals(pool, NULL);
	if (r == 0)
		r = dms_activate_recorded(pool);
	if (r == 0)
		r = dms_pool_orphans(pool, &rep->orphans, &rep->n_orphans);
	if (r == 0 && rep->n_orphans && (flags & DMS_RECOVER_DELETE_ORPHANS)) {
		r = dms_orphans_delete(pool, rep->orphans, rep->n_orphans);
		rep->orphans_deleted = r == 0;
	}
	/* All a dead holder may have left was looked for, whatever the lock said. */
	if (r == 0)
		pool->lock_clean = true;
	dms_change_end(pool, r);
	if (r < 0) {
		dms_recover_report_free(rep);
		return r;
	}
	*ret_report = rep;
	return 0;
}

void dms_recover_report_free(struct dms_recover_report *report)
{
	if (!report)
		return;
	dms_strv_free(report->resumed, report->n_resumed);
	free(report->orphans);
	free(report);
}
