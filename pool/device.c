// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The crash-safe create and delete of one thin device (DESIGN.md, "Crash
 * consistency"). The order is the whole point:
 *
 *   1. the intent (row state, thin id, pending_txn = T+1) is committed;
 *   2. the kernel changes (create_thin / create_snap / delete);
 *   3. the kernel's transaction id moves T -> T+1, atomically with its
 *      metadata commit;
 *   4. the catalogue commits the final state and txn = T+1.
 *
 * A crash before 3 leaves the kernel at T with an intent: recovery undoes the
 * kernel change. A crash after 3 leaves it at T+1: recovery finishes step 4.
 * The caller holds the pool lock and has checked that both sides are at T.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "dm/dm.h"
#include "dms-util.h"
#include "pool/internal.h"

static int send(struct dms_pool *pool, const char *msg)
{
	return dms_dm_message(pool->dm_name, msg);
}

static int kernel_create(struct dms_pool *pool, uint32_t thin_id, int64_t origin_id, uint32_t origin_thin_id)
{
	char msg[64];
	int r;

	if (origin_id > 0)
		r = dms_thin_msg_create_snap(msg, sizeof(msg), thin_id, origin_thin_id);
	else
		r = dms_thin_msg_create_thin(msg, sizeof(msg), thin_id);
	return r < 0 ? r : send(pool, msg);
}

static int kernel_delete(struct dms_pool *pool, uint32_t thin_id)
{
	char msg[64];
	int r = dms_thin_msg_delete(msg, sizeof(msg), thin_id);

	if (r == 0)
		r = send(pool, msg);
	/* ENODATA: the id is not in the metadata, which is what a delete wants. */
	return r == -ENODATA ? 0 : r;
}

static int kernel_set_txn(struct dms_pool *pool, uint64_t txn)
{
	char msg[96];
	int r = dms_thin_msg_set_transaction_id(msg, sizeof(msg), txn, txn + 1);

	return r < 0 ? r : send(pool, msg);
}

/* Step 4, and recovery's roll-forward: one catalogue transaction makes the row final and the clock T+1. */
static int finish(struct dms_pool *pool, struct dms_row *row, uint64_t new_txn, enum dms_state final_state,
		  bool remove)
{
	int r;

	r = dms_catalog_begin(pool->cat);
	if (r < 0)
		return r;
	if (remove) {
		r = dms_catalog_delete(pool->cat, row->id);
	} else {
		row->state = final_state;
		row->pending_txn = 0;
		r = dms_catalog_update(pool->cat, row);
	}
	if (r == 0)
		r = dms_catalog_set_txn(pool->cat, new_txn);
	if (r == 0)
		r = dms_catalog_commit(pool->cat);
	if (r < 0)
		dms_catalog_rollback(pool->cat);
	return r;
}

static int drop_intent(struct dms_pool *pool, const struct dms_row *row)
{
	return dms_catalog_delete(pool->cat, row->id);
}

/*
 * A thin id the catalogue thinks free may exist in the kernel, made behind
 * dmstore's back (dmsetup): the kernel answers EEXIST and the intent moves to
 * the next free id, committed before the next attempt. A crash between the
 * refusal and that commit would have recovery delete the stranger's id: a
 * window of one SQLite commit, open only to devices dmstore did not make.
 */
static int create_with_free_id(struct dms_pool *pool, struct dms_row *row, uint32_t origin_thin_id, const char *op)
{
	int r;

	for (int attempt = 0; attempt < 1024; attempt++) {
		r = kernel_create(pool, row->thin_id, row->origin_id, origin_thin_id);
		if (r != -EEXIST)
			return r;
		r = dms_catalog_free_thin_id(pool->cat, row->thin_id + 1, &row->thin_id);
		if (r == 0)
			r = dms_catalog_update(pool->cat, row);
		if (r < 0)
			return r;
		dms_crash_point(op, "after-eexist");
	}
	return -ENOSPC;
}

int dms_device_create(struct dms_pool *pool, struct dms_row *row, uint32_t origin_thin_id, uint64_t txn,
		      const char *op, enum dms_state final_state)
{
	int r;

	row->state = DMS_STATE_CREATING;
	row->pending_txn = txn + 1;
	r = dms_catalog_begin(pool->cat);
	if (r < 0)
		return r;
	r = dms_catalog_free_thin_id(pool->cat, 0, &row->thin_id);
	if (r == 0)
		r = dms_catalog_insert(pool->cat, row);
	if (r == 0)
		r = dms_catalog_commit(pool->cat);
	if (r < 0) {
		dms_catalog_rollback(pool->cat);
		return r;
	}
	dms_crash_point(op, "after-intent");

	r = create_with_free_id(pool, row, origin_thin_id, op);
	if (r < 0)
		goto out_drop_intent;
	dms_crash_point(op, "after-kernel");

	r = kernel_set_txn(pool, txn);
	if (r < 0)
		goto out_delete_thin;
	dms_crash_point(op, "after-txn");

	/* Past T+1 the kernel has it: a failure here is finished by recovery, not undone. */
	return finish(pool, row, txn + 1, final_state, false);

out_delete_thin:
	(void)kernel_delete(pool, row->thin_id);
out_drop_intent:
	(void)drop_intent(pool, row);
	return r;
}

int dms_device_delete(struct dms_pool *pool, struct dms_row *row, uint64_t txn, const char *op)
{
	int r;

	row->state = DMS_STATE_DELETING;
	row->pending_txn = txn + 1;
	r = dms_catalog_update(pool->cat, row);
	if (r < 0)
		return r;
	dms_crash_point(op, "after-intent");

	/* From here the device is going: a failure leaves a 'deleting' row that recovery deletes again. */
	r = kernel_delete(pool, row->thin_id);
	if (r < 0)
		return r;
	dms_crash_point(op, "after-kernel");

	r = kernel_set_txn(pool, txn);
	if (r < 0)
		return r;
	dms_crash_point(op, "after-txn");

	return finish(pool, row, txn + 1, DMS_STATE_DELETING, true);
}

/*
 * Recovery (DESIGN.md): with intents open at T+1, a kernel at T+1 finished
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
			/* An image or a new volume still needs its filesystem: it rolls forward only as far as 'importing'. */
			bool needs_contents = row->kind == DMS_KIND_IMAGE || (row->kind == DMS_KIND_VOLUME && !row->origin_id);
			enum dms_state final = needs_contents ? DMS_STATE_IMPORTING : DMS_STATE_READY;

			r = finish(pool, row, kernel_txn, final, remove);
			forward++;
		} else {
			/* The kernel did not commit: whatever it did to this id is undone, and the row goes. */
			r = kernel_delete(pool, row->thin_id);
			if (r == 0)
				r = drop_intent(pool, row);
			back++;
		}
		if (r < 0) {
			r = dms_fail(pool->ctx, r, "pool '%s': recovering %s '%s' (thin id %u) failed: %s", pool->cfg.name,
				     dms_kind_name(row->kind), row->name, row->thin_id, strerror(-r));
			goto out;
		}
	}

	/* An image or volume left without its contents by a dead dmstore: its device is deleted in a transaction of its own. */
	free(rows);
	rows = NULL;
	r = dms_catalog_list_unfinished(pool->cat, &rows, &n);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct dms_row *row = &rows[i];

		if (row->pending_txn || row->state != DMS_STATE_IMPORTING)
			continue;
		r = dms_pool_kernel_txn(pool, &kernel_txn);
		if (r == 0)
			r = dms_thin_dev_deactivate(pool, row);
		if (r == 0)
			r = dms_device_delete(pool, row, kernel_txn, "recover");
		if (r < 0) {
			r = dms_fail(pool->ctx, r, "pool '%s': removing half-made %s '%s' failed: %s", pool->cfg.name,
				     dms_kind_name(row->kind), row->name, strerror(-r));
			goto out;
		}
		back++;
	}
	r = 0;
	if (ret_forward)
		*ret_forward = forward;
	if (ret_back)
		*ret_back = back;
out:
	free(rows);
	return r;
}
