// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Activation of one thin device: a dm device with a single thin target over
 * the pool. Activation is not part of the thin metadata; the catalogue's
 * `active` column remembers what `pool activate` must bring back.
 */
#include <errno.h>
#include <string.h>

#include "dm/dm.h"
#include "dms-util.h"
#include "pool/internal.h"

/* A volume that is a snapshot of another shows as "vsnap", so an admin reading dmsetup ls can tell. */
static const char *row_kind(const struct dms_row *row)
{
	if (row->kind == DMS_KIND_VOLUME && row->origin_id > 0)
		return "vsnap";
	return dms_kind_name(row->kind);
}

int dms_thin_dev_name(const struct dms_pool *pool, const struct dms_row *row, char *buf, size_t len)
{
	int n = snprintf(buf, len, "dmstore-%s-%s-%s", pool->cfg.name, row_kind(row), row->name);

	return n < 0 || (size_t)n >= len || n > DMS_DM_NAME_MAX ? -ENAMETOOLONG : 0;
}

static int thin_dev_uuid(const struct dms_pool *pool, const struct dms_row *row, char *buf, size_t len)
{
	int n = snprintf(buf, len, "DMSTORE-%s-%s-%lld", pool->cfg.name, row_kind(row), (long long)row->id);

	return n < 0 || (size_t)n >= len || n > DMS_DM_UUID_MAX ? -ENAMETOOLONG : 0;
}

int dms_thin_dev_path(const struct dms_pool *pool, const struct dms_row *row, char *buf, size_t len)
{
	char name[DMS_DM_NAME_MAX + 1];
	int r = dms_thin_dev_name(pool, row, name, sizeof(name));

	return r < 0 ? r : dms_dm_path(name, buf, len);
}

int dms_thin_dev_is_active(const struct dms_pool *pool, const struct dms_row *row, bool *ret_active)
{
	char name[DMS_DM_NAME_MAX + 1];
	struct dms_dm_info info;
	int r;

	r = dms_thin_dev_name(pool, row, name, sizeof(name));
	if (r == 0)
		r = dms_dm_info(name, &info);
	if (r < 0)
		return r;
	*ret_active = info.exists;
	return 0;
}

int dms_thin_dev_activate(struct dms_pool *pool, const struct dms_row *row)
{
	char name[DMS_DM_NAME_MAX + 1], uuid[DMS_DM_UUID_MAX + 1], params[64];
	struct dms_dm_info pool_info, info;
	struct dms_dm_target target;
	int r;

	if ((r = dms_thin_dev_name(pool, row, name, sizeof(name))) < 0 ||
	    (r = thin_dev_uuid(pool, row, uuid, sizeof(uuid))) < 0)
		return r;
	r = dms_dm_info(name, &info);
	if (r < 0)
		return r;
	if (info.exists)
		return 0;
	r = dms_dm_info(pool->dm_name, &pool_info);
	if (r < 0)
		return r;
	if (!pool_info.exists)
		return -ENXIO;
	r = dms_thin_params(params, sizeof(params), pool_info.major, pool_info.minor, row->thin_id);
	if (r < 0)
		return r;
	target = (struct dms_dm_target){
		.start = 0,
		.length = row->size / DMS_SECTOR_SIZE,
		.type = "thin",
		.params = params,
	};
	return dms_dm_create(name, uuid, &target, 1, false);
}

int dms_thin_dev_deactivate(struct dms_pool *pool, const struct dms_row *row)
{
	char name[DMS_DM_NAME_MAX + 1];
	struct dms_dm_info info;
	int r;

	r = dms_thin_dev_name(pool, row, name, sizeof(name));
	if (r == 0)
		r = dms_dm_info(name, &info);
	if (r < 0)
		return r;
	if (!info.exists)
		return 0;
	return dms_dm_remove(name, DMS_DM_REMOVE_RETRY);
}

int dms_thin_dev_used(const struct dms_pool *pool, const struct dms_row *row, uint64_t *ret_bytes)
{
	char name[DMS_DM_NAME_MAX + 1];
	struct dms_thin_status st;
	int r;

	r = dms_thin_dev_name(pool, row, name, sizeof(name));
	if (r == 0)
		r = dms_thin_status(name, &st);
	if (r < 0)
		return r;
	*ret_bytes = st.mapped_sectors * DMS_SECTOR_SIZE;
	return 0;
}
