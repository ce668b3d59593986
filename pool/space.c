// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Space policy (doc/DESIGN.md): no create below the floor (dms_ctx_set_min_free) of data or metadata,
 * and never in a pool that is out of space or failing. Nothing is ever
 * deleted or shrunk to make room; the refusal names the numbers instead.
 * And no size above DMS_SIZE_MAX, for callers that did not parse it with
 * dms_size_parse.
 */
#include <errno.h>
#include <string.h>

#include "dm/dm.h"
#include "dms-util.h"
#include "pool/internal.h"

static bool below_floor(uint64_t used, uint64_t total, unsigned percent)
{
	return total == 0 || (total - used) * 100 < total * percent;
}

int dms_size_check(struct dms_ctx *ctx, const char *what, const char *name, uint64_t size)
{
	char a[32], b[32];

	if (size <= DMS_SIZE_MAX)
		return 0;
	return dms_fail_invalid(ctx, -ERANGE, "%s '%s': size %s is too large: at most %s", what, name,
				dms_size_format(size, a, sizeof(a)), dms_size_format(DMS_SIZE_MAX, b, sizeof(b)));
}

int dms_space_check(struct dms_pool *pool, const char *what)
{
	struct dms_thin_pool_status st;
	char f[32], t[32];
	uint64_t used, total;
	int r;

	r = dms_thin_pool_status(pool->dm_name, &st);
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': reading its status failed: %s", pool->cfg.name,
				strerror(-r));
	used = st.used_data_blocks * pool->cfg.block_size;
	total = st.total_data_blocks * pool->cfg.block_size;
	/* The kernel may call a pool full with a few blocks left (in flight, or freed since): numbers help either way. */
	if (st.mode == DMS_THIN_POOL_OUT_OF_DATA_SPACE)
		return dms_fail(pool->ctx, -ENOSPC, "pool '%s': cannot create %s: the pool is out of data space: %s of %s data free",
				pool->cfg.name, what, dms_size_format(total - used, f, sizeof(f)),
				dms_size_format(total, t, sizeof(t)));
	if (st.mode != DMS_THIN_POOL_RW)
		return dms_fail(pool->ctx, -ENOSPC, "pool '%s': cannot create %s: the pool is %s",
				pool->cfg.name, what,
				st.mode == DMS_THIN_POOL_RO ? "read-only (metadata trouble: see 'dmstore pool status')" :
							       "failed");
	if (below_floor(used, total, pool->ctx->min_free_percent))
		return dms_fail(pool->ctx, -ENOSPC, "pool '%s': cannot create %s: %s of %s data free (%.1f%%), below the %u%% floor",
				pool->cfg.name, what, dms_size_format(total - used, f, sizeof(f)),
				dms_size_format(total, t, sizeof(t)), 100.0 * (double)(total - used) / (double)total,
				pool->ctx->min_free_percent);
	used = st.used_metadata_blocks * DMS_THIN_METADATA_BLOCK;
	total = st.total_metadata_blocks * DMS_THIN_METADATA_BLOCK;
	if (below_floor(used, total, pool->ctx->min_free_percent))
		return dms_fail(pool->ctx, -ENOSPC, "pool '%s': cannot create %s: %s of %s metadata free (%.1f%%), below the %u%% floor",
				pool->cfg.name, what, dms_size_format(total - used, f, sizeof(f)),
				dms_size_format(total, t, sizeof(t)), 100.0 * (double)(total - used) / (double)total,
				pool->ctx->min_free_percent);
	return 0;
}
