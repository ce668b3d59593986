// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Recovery: what a dmstore that died left behind is finished or undone
 * before any change runs (pool/open.c calls this under the pool lock), and
 * by `dmstore pool recover`. Two things: volumes it left suspended are
 * resumed, since they block their users' I/O whatever the transaction ids
 * say; then intents are rolled forward or back (doc/DESIGN.md, "Crash
 * consistency"), images or volumes left without their contents go, and
 * attachments left half-made are settled.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "dm/dm.h"
#include "dms-util.h"
#include "fs/mount.h"
#include "pool/internal.h"

/*
 * Only volumes and layers (the parent of a snapshot, pool/layer.c) are ever
 * suspended by dmstore, so only they are looked at: one catalogue query and
 * one info ioctl each, not a walk of every dm device on the host, since this
 * runs before every change.
 */
int dms_resume_suspended(struct dms_pool *pool, char ***ret_names, size_t *ret_n)
{
	_cleanup_free_ struct dms_row *rows = NULL;
	char **names = NULL;
	size_t n = 0, n_names = 0;
	int r;

	r = dms_catalog_list(pool->cat, -1, 0, &rows, &n);
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': catalogue: %s", pool->cfg.name, strerror(-r));
	/* Room for every name up front: once a volume is resumed, only its name can still fail to be kept. */
	if (ret_names && n > 0) {
		names = calloc(n, sizeof(*names));
		if (!names)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		struct dms_dm_info info;

		if (rows[i].kind != DMS_KIND_VOLUME && rows[i].kind != DMS_KIND_LAYER)
			continue;
		r = dms_thin_dev_find(pool, &rows[i], &info);
		if (r == 0 && info.exists && info.suspended)
			r = dms_dm_resume(info.name);
		if (r < 0) {
			r = dms_fail(pool->ctx, r, "pool '%s': resuming %s '%s', left suspended by a dmstore that died, failed: %s",
				     pool->cfg.name, rows[i].kind == DMS_KIND_LAYER ? "layer device" : "volume",
				     rows[i].name, strerror(-r));
			break;
		}
		if (names && info.exists && info.suspended) {
			names[n_names] = strdup(rows[i].name);
			if (!names[n_names++])
				r = -ENOMEM;
		}
	}
	if (r == 0 && ret_names) {
		*ret_names = DMS_TAKE_PTR(names);
		*ret_n = n_names;
	}
	dms_strv_free(names, n_names);
	return r;
}

/*
 * A dmstore killed between a commit and the activation it was for (snap
 * create, a layer's snapshot), or between a deactivation and the change that
 * needed it (snap rm, layer commit or remove), left a row that says active and
 * no device: it comes back, as pool activate would bring it. One info ioctl
 * per active row (dms_thin_dev_activate finds it by UUID first). A device that
 * cannot be activated (its name taken by someone else's) stays down and pool
 * check names it: a change of other objects is not refused for it.
 */
int dms_activate_recorded(struct dms_pool *pool)
{
	_cleanup_free_ struct dms_row *rows = NULL;
	size_t n = 0;
	int r;

	r = dms_catalog_list(pool->cat, -1, 0, &rows, &n);
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': catalogue: %s", pool->cfg.name, strerror(-r));
	for (size_t i = 0; i < n; i++)
		if (rows[i].state == DMS_STATE_READY && rows[i].kind != DMS_KIND_IMAGE && rows[i].active)
			(void)dms_thin_dev_activate(pool, &rows[i]);
	return 0;
}

/*
 * A half-made device that cannot be deactivated is held by something this
 * process cannot let go: a mount (an older dmstore mounted imports in the
 * tree, and a kill left them there) or a process that opened it. Say which,
 * and what to do; deleting it under its holder is not an option.
 */
static int half_made_busy(struct dms_pool *pool, const struct dms_row *row)
{
	char dev[PATH_MAX], where[PATH_MAX];
	/* Only images, new volumes and new layers are ever left half-made. */
	const char *kind = row->kind == DMS_KIND_IMAGE ? "image" : row->kind == DMS_KIND_LAYER ? "layer device" : "volume";

	if (dms_thin_dev_path(pool, row, dev, sizeof(dev)) < 0)
		snprintf(dev, sizeof(dev), "its device");
	if (dms_mount_find(dev, where, sizeof(where)) == 1)
		return dms_fail(pool->ctx, -EBUSY, "pool '%s': %s '%s', left half-made by a dmstore that died, is still mounted at '%s': unmount it, then run 'dmstore pool recover %s'",
				pool->cfg.name, kind, row->name, where, pool->cfg.name);
	return dms_fail(pool->ctx, -EBUSY, "pool '%s': %s '%s', left half-made by a dmstore that died, cannot be removed: '%s' is open (a process or a mount in another namespace holds it); close it, then run 'dmstore pool recover %s'",
			pool->cfg.name, kind, row->name, dev, pool->cfg.name);
}

/*
 * Recovery (doc/DESIGN.md): with intents open at T+1, a kernel at T+1 finished
 * (roll forward); a kernel at T did not (roll back: undo a create, redo a
 * delete). Anything else cannot be told apart and is refused.
 */
int dms_recover(struct dms_pool *pool, unsigned *ret_forward, unsigned *ret_back)
{
	struct dms_row *rows = NULL;
	uint64_t kernel_txn, cat_txn;
	unsigned forward = 0, back = 0;
	size_t n = 0;
	bool intents = false;
	int r;

	r = dms_pool_kernel_txn(pool, &kernel_txn);
	if (r == 0)
		r = dms_catalog_get_txn(pool->cat, &cat_txn);
	if (r == 0)
		r = dms_catalog_list_unfinished(pool->cat, &rows, &n);
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': reading transaction state failed: %s", pool->cfg.name,
				strerror(-r));

	for (size_t i = 0; i < n; i++) {
		if (!rows[i].pending_txn)
			continue;
		intents = true;
		if (rows[i].pending_txn != cat_txn + 1) {
			r = dms_fail(pool->ctx, -EUCLEAN, "pool '%s': %s '%s' has an intent for transaction %" PRIu64 " but the catalogue is at %" PRIu64 "; refusing to guess",
				     pool->cfg.name, dms_kind_name(rows[i].kind), rows[i].name, rows[i].pending_txn, cat_txn);
			goto out;
		}
	}
	if (!intents && kernel_txn != cat_txn) {
		r = dms_fail(pool->ctx, -EUCLEAN, "pool '%s': the kernel's transaction id is %" PRIu64 " and the catalogue's %" PRIu64 ", with no intent to explain it; refusing to guess",
			     pool->cfg.name, kernel_txn, cat_txn);
		goto out;
	}
	if (intents && kernel_txn != cat_txn && kernel_txn != cat_txn + 1) {
		r = dms_fail(pool->ctx, -EUCLEAN, "pool '%s': the kernel's transaction id is %" PRIu64 " and the catalogue's %" PRIu64 " with an intent for %" PRIu64 "; refusing to guess",
			     pool->cfg.name, kernel_txn, cat_txn, cat_txn + 1);
		goto out;
	}

	for (size_t i = 0; i < n; i++) {
		struct dms_row *row = &rows[i];

		if (!row->pending_txn)
			continue;
		if (kernel_txn == cat_txn + 1) {
			/* The kernel committed: finish what the crashed process could not. */
			bool remove = row->state == DMS_STATE_DELETING;
			/* An image, a new volume or a new layer still needs its filesystem: it rolls forward only as far as 'importing'. */
			bool needs_contents = row->kind == DMS_KIND_IMAGE ||
					      ((row->kind == DMS_KIND_VOLUME || row->kind == DMS_KIND_LAYER) && !row->origin_id);
			enum dms_state final = needs_contents ? DMS_STATE_IMPORTING : DMS_STATE_READY;

			r = dms_txn_finish(pool, row, kernel_txn, final, remove);
			forward++;
		} else {
			/* The kernel did not commit: whatever it did to this id is undone, and the row goes. */
			r = dms_txn_kernel_delete(pool, row->thin_id);
			if (r == 0)
				r = dms_txn_drop_intent(pool, row);
			back++;
		}
		if (r < 0) {
			r = dms_fail(pool->ctx, r, "pool '%s': recovering %s '%s' (thin id %u) failed: %s", pool->cfg.name,
				     dms_kind_name(row->kind), row->name, row->thin_id, strerror(-r));
			goto out;
		}
	}

	/*
	 * An image or volume left without its contents by a dead dmstore: its device is deleted in a
	 * transaction of its own. An image's importer unpacks without the pool lock (pool/image.c):
	 * while its import lock is held, it is alive, and its row is not ours to touch.
	 */
	free(rows);
	rows = NULL;
	r = dms_catalog_list_unfinished(pool->cat, &rows, &n);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct dms_row *row = &rows[i];
		bool image = row->kind == DMS_KIND_IMAGE;

		if (row->pending_txn || row->state != DMS_STATE_IMPORTING)
			continue;
		r = image ? dms_import_lock_held(pool->ctx, pool->cfg.name, row->name, NULL) : 0;
		if (r > 0)
			continue;
		if (r == 0)
			r = dms_pool_kernel_txn(pool, &kernel_txn);
		if (r == 0) {
			r = dms_thin_dev_deactivate(pool, row);
			if (r == -EBUSY) {
				r = half_made_busy(pool, row);
				goto out;
			}
		}
		if (r == 0)
			r = dms_device_delete(pool, row, kernel_txn, "recover");
		if (r < 0) {
			r = dms_fail(pool->ctx, r, "pool '%s': removing half-made %s '%s' failed: %s", pool->cfg.name,
				     dms_kind_name(row->kind), row->name, strerror(-r));
			goto out;
		}
		if (image)
			dms_import_lock_release(pool, row->name, -1);
		back++;
	}
	r = dms_vol_settle_attachments(pool, &forward, &back);
	if (r < 0)
		goto out;
	if (ret_forward)
		*ret_forward = forward;
	if (ret_back)
		*ret_back = back;
out:
	free(rows);
	return r;
}

/*
 * Only one metadata snapshot may be held at a time, and dmstore reserves one
 * only while it holds the pool lock, releasing it before the lock: one seen
 * by a holder of the lock was left by a dmstore that died in between. Left
 * held, it refuses every later reading of the thin ids (pool status, rm,
 * check) and pins the old metadata blocks. A pool that takes no messages
 * (read-only, failed) keeps it: nothing can be read from it meanwhile.
 */
int dms_pool_release_dead_snap(const char *dm_name, bool *ret_released)
{
	struct dms_thin_pool_status st;
	int r;

	r = dms_thin_pool_status(dm_name, &st);
	if (r < 0)
		return r;
	if (ret_released)
		*ret_released = false;
	if (!st.held_metadata_root || (st.mode != DMS_THIN_POOL_RW && st.mode != DMS_THIN_POOL_OUT_OF_DATA_SPACE))
		return 0;
	r = dms_thin_pool_release_snap(dm_name);
	if (r < 0)
		return r;
	if (ret_released)
		*ret_released = true;
	return 0;
}
