// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What a pool monitor needs of the kernel, with no polling: dm-thin raises an
 * event on the pool's device (dm_table_event) when its free data blocks fall
 * to the table's low water mark (check_low_water_mark, once until the next
 * resume), when free metadata falls below the kernel's own threshold, and
 * when its mode changes (out of data space, read-only, failed). A waiter on
 * the device's event counter (DM_DEV_WAIT) sleeps until then.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dm/dm.h"
#include "dms-util.h"
#include "pool/internal.h"

static int find_active(struct dms_ctx *ctx, const char *name, struct dms_dm_info *ret_info)
{
	int r;

	if (!dms_pool_name_valid(name))
		return dms_fail_invalid(ctx, -EINVAL, "pool '%s': invalid name", name);
	r = dms_pool_dm_find(name, ret_info);
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': device-mapper: %s", name, strerror(-r));
	if (!ret_info->exists)
		return dms_fail(ctx, -ENXIO, "pool '%s' is not active: run 'dmstore pool activate %s'", name, name);
	return 0;
}

int dms_pool_event_nr(struct dms_ctx *ctx, const char *name, uint32_t *ret_nr)
{
	struct dms_dm_info info;
	int r;

	r = find_active(ctx, name, &info);
	if (r < 0)
		return r;
	*ret_nr = info.event_nr;
	return 0;
}

int dms_pool_wait_event(struct dms_ctx *ctx, const char *name, uint32_t event_nr)
{
	struct dms_dm_info info;
	int r;

	r = find_active(ctx, name, &info);
	if (r < 0)
		return r;
	r = dms_dm_wait_event(info.name, event_nr);
	if (r == -EINTR)
		return r;
	if (r == -ENXIO)
		return dms_fail(ctx, r, "pool '%s' was deactivated", name);
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': waiting for its events failed: %s", name, strerror(-r));
	return 0;
}

/*
 * The thin-pool table's parameters, as the kernel gives them back:
 *   <metadata dev> <data dev> <data block size> <low water mark> <#features> <feature>*
 * PARAMS with the low water mark (in data blocks) set to LWM, in BUF.
 */
static int params_with_low_water(const char *params, uint64_t lwm, char *buf, size_t len)
{
	char meta[32], data[32], rest[256];
	unsigned long block_sectors;
	uint64_t old;
	int n = 0;

	if (sscanf(params, "%31s %31s %lu %" SCNu64 " %n", meta, data, &block_sectors, &old, &n) != 4 || !n)
		return -EBADMSG;
	if ((size_t)snprintf(rest, sizeof(rest), "%s", params + n) >= sizeof(rest))
		return -EBADMSG;
	if ((size_t)snprintf(buf, len, "%s %s %lu %" PRIu64 " %s", meta, data, block_sectors, lwm, rest) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int dms_pool_set_low_water(struct dms_ctx *ctx, const char *name, unsigned percent)
{
	_cleanup_close_ int lock = -1;
	_cleanup_free_ char *type = NULL, *params = NULL;
	struct dms_thin_pool_status st;
	struct dms_pool_config cfg;
	struct dms_dm_info info;
	char changed[512];
	uint64_t lwm;
	int r;

	if (percent < 1 || percent > 100)
		return dms_fail_invalid(ctx, -EINVAL, "pool '%s': threshold %u%%: give 1 to 100", name, percent);
	r = find_active(ctx, name, &info);
	if (r < 0)
		return r;
	r = dms_pool_lock(ctx, name, &lock, NULL);
	if (r < 0)
		return r;
	r = dms_pool_config_load(ctx, name, &cfg);
	if (r < 0)
		return r;
	r = dms_thin_pool_status(info.name, &st);
	if (r == 0)
		r = dms_dm_table(info.name, &type, &params);
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': reading its status failed: %s", name, strerror(-r));
	/* The kernel's event comes when free blocks fall to the mark: used crosses PERCENT. */
	lwm = st.total_data_blocks - st.total_data_blocks * percent / 100;
	r = params_with_low_water(params, lwm, changed, sizeof(changed));
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': its table '%s' is not a thin-pool's", name, params);
	if (strcmp(changed, params) == 0)
		return 0;
	/* pool.json's size: the table's, or more if a grow was cut short, which this finishes. */
	r = dms_pool_table_reload(info.name, cfg.data_size, changed);
	if (r < 0) {
		(void)dms_dm_resume(info.name);
		return dms_fail(ctx, r, "pool '%s': setting its low water mark failed: %s", name, strerror(-r));
	}
	return 0;
}
