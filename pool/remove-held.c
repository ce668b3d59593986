// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Removing a device someone holds: a process with it open, or with files on
 * its filesystem in use, or a mount of it in another namespace. Without
 * --force the removal is refused before anything changes, naming the holder.
 * With it, the removal is deferred (dm's deferred remove): the mounts in our
 * namespace are detached lazily, the row goes to 'removing' (state deleting
 * with no intent: the thin id is still the kernel's and the row's), and the
 * kernel removes the dm device when the last holder lets go. The thin id can
 * only be deleted then (the kernel refuses to delete an open thin device): the
 * next change of the pool does it, under the usual intent protocol.
 *
 * Crash order: the row says 'removing' (durable) before the deferred remove is
 * asked for, so a crash in between leaves a row the next change finishes
 * (asking again is harmless); the device is never gone while its row says ready.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "dm/dm.h"
#include "dms-util.h"
#include "fs/holders.h"
#include "fs/mount.h"
#include "pool/internal.h"

#define HOLDERS_MAX 4

static const char *kind_word(const struct dms_row *row)
{
	return row->kind == DMS_KIND_IMAGE ? "image" : row->kind == DMS_KIND_CONTAINER ? "container" : "volume";
}

static int holders(struct dms_pool *pool, const struct dms_row *row, struct dms_holder *ret, size_t *ret_n)
{
	struct dms_dm_info info;
	int r;

	*ret_n = 0;
	r = dms_thin_dev_find(pool, row, &info);
	if (r < 0 || !info.exists)
		return r;
	return dms_dev_holders(makedev(info.major, info.minor), ret, HOLDERS_MAX, ret_n);
}

int dms_thin_dev_refuse_held(struct dms_pool *pool, const struct dms_row *row)
{
	struct dms_holder h[HOLDERS_MAX];
	char who[160], more[48] = "";
	size_t n;
	int r;

	r = holders(pool, row, h, &n);
	if (r < 0)
		return dms_fail(pool->ctx, r, "%s '%s': finding who holds its device failed: %s", kind_word(row),
				row->name, strerror(-r));
	if (n == 0)
		return 0;
	if (n > 1)
		snprintf(more, sizeof(more), " (and %zu more)", n - 1);
	return dms_fail(pool->ctx, -EBUSY,
			"%s '%s' is in use: %s%s; stop it, or use --force to remove it once it is let go",
			kind_word(row), row->name, dms_holder_format(&h[0], who, sizeof(who)), more);
}

int dms_thin_dev_held(struct dms_pool *pool, const struct dms_row *row, bool *ret_held)
{
	struct dms_holder h[HOLDERS_MAX];
	size_t n;
	int r;

	r = holders(pool, row, h, &n);
	if (r < 0)
		return dms_fail(pool->ctx, r, "%s '%s': finding who holds its device failed: %s", kind_word(row),
				row->name, strerror(-r));
	*ret_held = n > 0;
	return 0;
}

int dms_removal_describe(struct dms_pool *pool, const struct dms_row *row, char *buf, size_t len)
{
	struct dms_holder h[HOLDERS_MAX];
	struct dms_dm_info info;
	char who[160];
	size_t n = 0;
	int r;

	r = dms_thin_dev_find(pool, row, &info);
	if (r == 0 && info.exists)
		r = holders(pool, row, h, &n);
	if (r < 0)
		return dms_fail(pool->ctx, r, "%s '%s': finding who holds its device failed: %s", kind_word(row),
				row->name, strerror(-r));
	if (!info.exists)
		snprintf(buf, len, "its device is gone: the next change of the pool deletes its thin id");
	else if (n == 0)
		snprintf(buf, len, "its device is no longer held: the next change of the pool removes it");
	else if (n == 1)
		snprintf(buf, len, "waiting for %s", dms_holder_format(&h[0], who, sizeof(who)));
	else
		snprintf(buf, len, "waiting for %s (and %zu more)", dms_holder_format(&h[0], who, sizeof(who)), n - 1);
	return 0;
}

/* Our namespace's mounts of ROW's device, detached lazily: the holder keeps the filesystem, nobody else sees it. */
static int unmount_lazily(struct dms_pool *pool, const struct dms_row *row)
{
	char dev[PATH_MAX], where[PATH_MAX];
	int r;

	while (dms_thin_dev_path(pool, row, dev, sizeof(dev)) == 0 && dms_mount_find(dev, where, sizeof(where)) > 0) {
		r = dms_umount_lazy(where);
		if (r < 0)
			return dms_fail(pool->ctx, r, "%s '%s': detaching its mount at '%s' failed: %s", kind_word(row),
					row->name, where, strerror(-r));
	}
	return 0;
}

/* The device is gone (or never was): the thin id goes too, as any delete does. */
static int delete_now(struct dms_pool *pool, struct dms_row *row, uint64_t *txn, const char *op)
{
	int r;

	if (row->kind == DMS_KIND_VOLUME)
		r = dms_catalog_orphan_snapshots(pool->cat, row->id);
	else
		r = 0;
	if (r == 0)
		r = dms_device_delete(pool, row, *txn, op);
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': %s '%s' (thin id %u): delete failed: %s", pool->cfg.name,
				kind_word(row), row->name, row->thin_id, strerror(-r));
	(*txn)++;
	return 0;
}

static int ask_deferred_remove(struct dms_pool *pool, const struct dms_row *row, bool *ret_gone)
{
	struct dms_dm_info info;
	int r;

	r = dms_thin_dev_find(pool, row, &info);
	if (r == 0 && info.exists)
		r = dms_dm_remove(info.name, DMS_DM_REMOVE_DEFERRED);
	if (r == 0)
		r = dms_thin_dev_find(pool, row, &info);
	if (r < 0)
		return r;
	*ret_gone = !info.exists;
	return 0;
}

int dms_remove_deferred(struct dms_pool *pool, struct dms_row *row, uint64_t *txn, const char *op, bool *ret_deferred)
{
	bool gone;
	int r;

	r = unmount_lazily(pool, row);
	if (r < 0)
		return r;
	row->state = DMS_STATE_DELETING;
	row->pending_txn = 0;
	row->active = false;
	row->mountpoint[0] = '\0';
	r = dms_catalog_update(pool->cat, row);
	if (r < 0)
		return dms_fail(pool->ctx, r, "%s '%s': catalogue: %s", kind_word(row), row->name, strerror(-r));
	dms_crash_point(op, "after-removing");
	r = ask_deferred_remove(pool, row, &gone);
	if (r < 0)
		return dms_fail(pool->ctx, r, "%s '%s': deferred removal of its device failed: %s", kind_word(row),
				row->name, strerror(-r));
	*ret_deferred = !gone;
	return gone ? delete_now(pool, row, txn, op) : 0;
}

bool dms_row_removing(const struct dms_row *row)
{
	return row->state == DMS_STATE_DELETING && !row->pending_txn;
}

/* The 'removing' rows, in *RET_ROWS; reported. */
static int removing_rows(struct dms_pool *pool, struct dms_row **ret_rows, size_t *ret_n)
{
	struct dms_row *rows = NULL;
	size_t n = 0, kept = 0;
	int r;

	r = dms_catalog_list_unfinished(pool->cat, &rows, &n);
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': catalogue: %s", pool->cfg.name, strerror(-r));
	for (size_t i = 0; i < n; i++)
		if (dms_row_removing(&rows[i]))
			rows[kept++] = rows[i];
	*ret_rows = rows;
	*ret_n = kept;
	return 0;
}

int dms_finish_removals(struct dms_pool *pool, unsigned *ret_finished)
{
	_cleanup_free_ struct dms_row *rows = NULL;
	unsigned finished = 0;
	uint64_t txn;
	size_t n = 0;
	bool gone;
	int r;

	r = removing_rows(pool, &rows, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		/* Asked again: a dmstore that died before asking left the device without the flag. */
		r = ask_deferred_remove(pool, &rows[i], &gone);
		if (r < 0)
			return dms_fail(pool->ctx, r, "%s '%s': deferred removal of its device failed: %s",
					kind_word(&rows[i]), rows[i].name, strerror(-r));
		if (!gone)
			continue;
		r = dms_pool_kernel_txn(pool, &txn);
		if (r < 0)
			return dms_fail(pool->ctx, r, "pool '%s': reading its transaction id failed: %s",
					pool->cfg.name, strerror(-r));
		r = delete_now(pool, &rows[i], &txn, "deferred-rm");
		if (r < 0)
			return r;
		finished++;
	}
	if (ret_finished)
		*ret_finished = finished;
	return 0;
}

/* How many 'removing' rows have lost their device: the removals a change would finish now. */
static int removals_ready(struct dms_pool *pool, unsigned *ret_ready)
{
	_cleanup_free_ struct dms_row *rows = NULL;
	struct dms_dm_info info;
	unsigned ready = 0;
	size_t n = 0;
	int r;

	r = removing_rows(pool, &rows, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		r = dms_thin_dev_find(pool, &rows[i], &info);
		if (r < 0)
			return dms_fail(pool->ctx, r, "%s '%s': device-mapper: %s", kind_word(&rows[i]), rows[i].name,
					strerror(-r));
		if (!info.exists)
			ready++;
	}
	*ret_ready = ready;
	return 0;
}

/*
 * Every dm device that goes wakes a monitor, most of them not this pool's or
 * not a deferred removal: the catalogue is read without the lock first, so
 * that those cost no lock the pool's users would queue on.
 */
int dms_pool_finish_removals(struct dms_ctx *ctx, const char *name, unsigned *ret_finished)
{
	struct dms_pool *pool = NULL;
	unsigned ready = 0;
	uint64_t txn;
	int r;

	r = dms_pool_open(ctx, name, &pool);
	if (r < 0)
		return r;
	r = removals_ready(pool, &ready);
	if (r == 0 && ready) {
		/* What every change runs first: recovery, then the removals whose device went. */
		r = dms_change_begin(pool, &txn);
		if (r == 0)
			dms_change_end(pool, r);
	}
	dms_pool_close(pool);
	if (r == 0 && ret_finished)
		*ret_finished = ready;
	return r;
}
