// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Activation of one thin device: a dm device with a single thin target over
 * the pool. Activation is not part of the thin metadata; the catalogue's
 * `active` column remembers what `pool activate` must bring back.
 *
 * A device is this object's by its UUID, DMSTORE-<pool>-<kind>-<catalogue
 * id>, never by its name: the kernel is asked for the UUID and the name it
 * answers is the one used, so a device that dmstore 0.1.0 activated under its
 * name of then is found, used and removed alike. A device that holds the name
 * this one would get, with another UUID or none, is someone else's: it is
 * named and refused, never formatted over, never removed.
 */
#include <errno.h>
#include <inttypes.h>
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

static int thin_dev_uuid(const struct dms_pool *pool, const struct dms_row *row, char *buf, size_t len)
{
	int n = snprintf(buf, len, "DMSTORE-%s-%s-%" PRId64, pool->cfg.name, row_kind(row), row->id);

	return n < 0 || (size_t)n >= len || n > DMS_DM_UUID_MAX ? -ENAMETOOLONG : 0;
}

int dms_thin_dev_find(const struct dms_pool *pool, const struct dms_row *row, struct dms_dm_info *ret_info)
{
	char uuid[DMS_DM_UUID_MAX + 1];
	int r;

	r = thin_dev_uuid(pool, row, uuid, sizeof(uuid));
	if (r < 0)
		return r;
	return dms_dm_info_by_uuid(uuid, ret_info);
}

int dms_thin_dev_name(const struct dms_pool *pool, const struct dms_row *row, char *buf, size_t len)
{
	struct dms_dm_info info;
	int r;

	r = dms_thin_dev_find(pool, row, &info);
	if (r < 0)
		return r;
	if (!info.exists)
		return dms_dm_name(pool->cfg.name, row_kind(row), row->name, row->id, buf, len);
	if ((size_t)snprintf(buf, len, "%s", info.name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int dms_thin_dev_path(const struct dms_pool *pool, const struct dms_row *row, char *buf, size_t len)
{
	struct dms_dm_info info;
	int r;

	r = dms_thin_dev_find(pool, row, &info);
	if (r < 0)
		return r;
	if (!info.exists)
		return -ENXIO;
	return dms_dm_path(info.name, buf, len);
}

int dms_thin_dev_is_active(const struct dms_pool *pool, const struct dms_row *row, bool *ret_active)
{
	struct dms_dm_info info;
	int r;

	r = dms_thin_dev_find(pool, row, &info);
	if (r < 0)
		return r;
	*ret_active = info.exists;
	return 0;
}

/* Reports its failures itself: a refusal must name the device in the way and its owner. */
int dms_thin_dev_activate(struct dms_pool *pool, const struct dms_row *row)
{
	char name[DMS_DM_NAME_MAX + 1], uuid[DMS_DM_UUID_MAX + 1], params[64];
	struct dms_dm_info pool_info, info;
	struct dms_dm_target target;
	const char *kind = dms_kind_name(row->kind);
	int r;

	if ((r = dms_dm_name(pool->cfg.name, row_kind(row), row->name, row->id, name, sizeof(name))) < 0 ||
	    (r = thin_dev_uuid(pool, row, uuid, sizeof(uuid))) < 0)
		return dms_fail(pool->ctx, r, "pool '%s': %s '%s': name too long for device-mapper", pool->cfg.name,
				kind, row->name);
	r = dms_dm_info_by_uuid(uuid, &info);
	if (r == 0 && info.exists)
		return 0;
	if (r == 0)
		r = dms_dm_info(name, &info);
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': %s '%s': device-mapper: %s", pool->cfg.name, kind, row->name,
				strerror(-r));
	if (info.exists)
		return dms_fail(pool->ctx, -EEXIST, "pool '%s': %s '%s': its dm name '%s' is taken by a device that is not its own (%s%s%s); refusing to touch it",
				pool->cfg.name, kind, row->name, name, *info.uuid ? "uuid '" : "no uuid", info.uuid,
				*info.uuid ? "'" : "");
	r = dms_pool_dm_find(pool->cfg.name, &pool_info);
	if (r == 0 && !pool_info.exists)
		r = -ENXIO;
	if (r == 0)
		r = dms_thin_params(params, sizeof(params), pool_info.major, pool_info.minor, row->thin_id);
	if (r == 0) {
		target = (struct dms_dm_target){
			.start = 0,
			.length = row->size / DMS_SECTOR_SIZE,
			.type = "thin",
			.params = params,
		};
		r = dms_dm_create(name, uuid, &target, 1, false);
	}
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': %s '%s' (thin id %u): activation failed: %s", pool->cfg.name,
				kind, row->name, row->thin_id, strerror(-r));
	return 0;
}

int dms_thin_dev_deactivate(struct dms_pool *pool, const struct dms_row *row)
{
	struct dms_dm_info info;
	int r;

	r = dms_thin_dev_find(pool, row, &info);
	if (r < 0)
		return r;
	if (!info.exists)
		return 0;
	return dms_dm_remove(info.name, DMS_DM_REMOVE_RETRY);
}

int dms_thin_dev_used(const struct dms_pool *pool, const struct dms_row *row, uint64_t *ret_bytes)
{
	struct dms_thin_status st;
	struct dms_dm_info info;
	int r;

	r = dms_thin_dev_find(pool, row, &info);
	if (r < 0)
		return r;
	if (!info.exists)
		return -ENXIO;
	r = dms_thin_status(info.name, &st);
	if (r < 0)
		return r;
	*ret_bytes = st.mapped_sectors * DMS_SECTOR_SIZE;
	return 0;
}
