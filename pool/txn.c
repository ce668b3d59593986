// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The crash-safe create and delete of one thin device (doc/DESIGN.md, "Crash
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
#include <time.h>

#include "dm/dm.h"
#include "dms-util.h"
#include "pool/internal.h"

int dms_pool_kernel_txn(struct dms_pool *pool, uint64_t *ret_txn)
{
	struct dms_thin_pool_status st;
	int r = dms_thin_pool_status(pool->dm_name, &st);

	if (r < 0)
		return r;
	/* A failed pool's status has no transaction id: what reads as 0 is not one. */
	if (st.mode == DMS_THIN_POOL_FAIL)
		return -EIO;
	*ret_txn = st.transaction_id;
	return 0;
}

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

int dms_txn_kernel_delete(struct dms_pool *pool, uint32_t thin_id)
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
int dms_txn_finish(struct dms_pool *pool, struct dms_row *row, uint64_t new_txn, enum dms_state final_state,
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

int dms_txn_drop_intent(struct dms_pool *pool, const struct dms_row *row)
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
	return dms_device_create_with(pool, row, origin_thin_id, txn, op, final_state, NULL, NULL);
}

int dms_device_create_with(struct dms_pool *pool, struct dms_row *row, uint32_t origin_thin_id, uint64_t txn,
			   const char *op, enum dms_state final_state, dms_intent_fn *with_intent, void *arg)
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
	if (r == 0 && with_intent)
		r = with_intent(pool, row, arg);
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
	return dms_txn_finish(pool, row, txn + 1, final_state, false);

out_delete_thin:
	/*
	 * A delete the kernel refused leaves the id in its metadata: the intent
	 * stays, so recovery (kernel at T, intent for T+1) deletes it again.
	 * Dropped, nothing would ever own or delete that id.
	 */
	if (dms_txn_kernel_delete(pool, row->thin_id) < 0)
		return r;
out_drop_intent:
	(void)dms_txn_drop_intent(pool, row);
	return r;
}

/* Steps 3 and 4 of a delete the kernel did. */
static int delete_commit(struct dms_pool *pool, struct dms_row *row, uint64_t txn, const char *op)
{
	int r;

	dms_crash_point(op, "after-kernel");
	r = kernel_set_txn(pool, txn);
	if (r < 0)
		return r;
	dms_crash_point(op, "after-txn");

	return dms_txn_finish(pool, row, txn + 1, DMS_STATE_DELETING, true);
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
	r = dms_txn_kernel_delete(pool, row->thin_id);
	if (r < 0)
		return r;
	return delete_commit(pool, row, txn, op);
}

/*
 * An orphan (a thin id no row owns) goes under the same protocol as any
 * device, so the transaction ids stay in step: a row stands for it while the
 * kernel changes, and a crash leaves an intent that recovery finishes or
 * undoes. The row is a container's, a kind nothing walks but recovery, named
 * as no object can be (a leading '.'); it is never activated.
 */
static int orphan_delete(struct dms_pool *pool, uint32_t thin_id, uint64_t txn)
{
	struct dms_row row = {
		.kind = DMS_KIND_CONTAINER,
		.thin_id = thin_id,
		.size = pool->cfg.block_size,
		.state = DMS_STATE_DELETING,
		.pending_txn = txn + 1,
		.created = (int64_t)time(NULL),
	};
	int r;

	snprintf(row.name, sizeof(row.name), ".orphan-%" PRIu32, thin_id);
	r = dms_catalog_insert(pool->cat, &row);
	if (r < 0)
		return r;
	dms_crash_point("orphan-delete", "after-intent");
	/*
	 * A delete the kernel refused (the id is in use) changed nothing: the id
	 * stays an orphan, as it was, and the intent goes, or recovery would
	 * retry a delete that cannot succeed before every later change.
	 */
	r = dms_txn_kernel_delete(pool, thin_id);
	if (r < 0) {
		(void)dms_txn_drop_intent(pool, &row);
		return r;
	}
	return delete_commit(pool, &row, txn, "orphan-delete");
}

int dms_orphans_delete(struct dms_pool *pool, const uint32_t *ids, size_t n)
{
	uint64_t txn;
	int r;

	for (size_t i = 0; i < n; i++) {
		r = dms_pool_kernel_txn(pool, &txn);
		if (r == 0)
			r = orphan_delete(pool, ids[i], txn);
		if (r == -EBUSY)
			return dms_fail(pool->ctx, r, "pool '%s': thin id %" PRIu32 " is in use (a device not made by dmstore maps it, see 'dmsetup table'): not deleted; %zu orphan(s) before it were",
					pool->cfg.name, ids[i], i);
		if (r < 0)
			return dms_fail(pool->ctx, r, "pool '%s': deleting thin id %" PRIu32 ", which no catalogue row owns, failed: %s; %zu orphan(s) before it were deleted",
					pool->cfg.name, ids[i], strerror(-r), i);
	}
	return 0;
}
