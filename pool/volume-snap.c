// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Volume snapshots: a thin snapshot of a volume is itself a volume (a volume
 * row whose origin_id is the source's row; dm kind "vsnap").
 *
 * dm-thin wants an active origin suspended while create_snap runs. The
 * suspend flushes, and freezes a mounted filesystem (dm's lockfs), so the
 * copy is a clean ext4, not one that needs its journal replayed. Resume runs
 * on every path, errors included. A dmstore killed in between leaves the
 * origin suspended with all its I/O blocked: recovery (pool/recover.c), run
 * under the pool lock by the next change and by `pool recover`, lets it go.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "dm/dm.h"
#include "dms-util.h"
#include "pool/internal.h"

int dms_vol_snapshot(struct dms_pool *pool, const char *name, const char *snap)
{
	struct dms_dm_info src_dm;
	struct dms_row src, row;
	bool suspended = false;
	uint64_t txn;
	int r, rr;

	if (!dms_name_valid(snap))
		return dms_fail_invalid(pool->ctx, -EINVAL, "volume '%s': invalid name: use 1-%d of [A-Za-z0-9_.-], starting with a letter or digit",
					snap ? snap : "", DMS_NAME_MAX);
	r = dms_change_begin(pool, &txn);
	if (r < 0)
		return r;
	r = dms_vol_find(pool, name, &src);
	if (r == 0)
		r = dms_vol_name_free(pool, snap);
	if (r == 0)
		r = dms_space_check(pool, "a volume snapshot");
	if (r == 0)
		r = dms_vol_device_resume(pool, &src);
	if (r < 0)
		goto out;
	r = dms_thin_dev_find(pool, &src, &src_dm);
	if (r < 0) {
		r = dms_fail(pool->ctx, r, "volume '%s': device-mapper: %s", name, strerror(-r));
		goto out;
	}

	row = (struct dms_row){
		.kind = DMS_KIND_VOLUME,
		.size = src.size,
		.origin_id = src.id,
		.created = (int64_t)time(NULL),
	};
	snprintf(row.name, sizeof(row.name), "%s", snap);
	snprintf(row.meta, sizeof(row.meta), "%s", src.meta); /* the same filesystem, so the same label */
	if (src_dm.exists) {
		r = dms_dm_suspend(src_dm.name, true);
		if (r < 0) {
			r = dms_fail(pool->ctx, r, "volume '%s': suspending it for the snapshot failed: %s", name,
				     strerror(-r));
			goto out;
		}
		suspended = true;
		dms_crash_point("vol-snapshot", "after-suspend");
	}
	r = dms_device_create(pool, &row, src.thin_id, txn, "vol-snapshot", DMS_STATE_READY);
	if (r < 0)
		dms_fail(pool->ctx, r, "pool '%s': volume '%s': creating snapshot '%s' failed: %s", pool->cfg.name, name,
			 snap, strerror(-r));
	if (suspended) {
		rr = dms_dm_resume(src_dm.name);
		/* The snapshot, if made, is whole: it stays, and the failure to report is the resume. */
		if (rr < 0 && r == 0)
			r = dms_fail(pool->ctx, rr, "volume '%s': resuming it after the snapshot failed: %s", name,
				     strerror(-rr));
	}
	if (r < 0)
		goto out;
	txn++;

	r = dms_thin_dev_activate(pool, &row);
	if (r == 0) {
		row.active = true;
		r = dms_catalog_update(pool->cat, &row);
		if (r < 0)
			dms_fail(pool->ctx, r, "volume '%s': catalogue: %s", snap, strerror(-r));
	}
	if (r < 0) {
		/* Nothing half-made is left: the snapshot goes again, in a transaction of its own. */
		if (dms_thin_dev_deactivate(pool, &row) == 0 && dms_catalog_get(pool->cat, row.id, &row) == 0)
			(void)dms_device_delete(pool, &row, txn, "vol-snapshot-undo");
	}
out:
	dms_change_end(pool, r);
	return r;
}
