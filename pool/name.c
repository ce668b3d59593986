// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Names are checked here, at the library's edge, whatever the caller did:
 * they become file names, dm names and UUIDs, so nothing but
 * [A-Za-z0-9][A-Za-z0-9_.-]{0,63} gets through. A pool name is kept to 32
 * characters so "dmstore-<pool>-vsnap-<64-character name>" fits DM_NAME_LEN.
 */
#include <string.h>

#include "dm/dm.h"
#include "dms-util.h"
#include "pool/internal.h"

static bool name_valid(const char *name, size_t max)
{
	size_t n;

	if (!name)
		return false;
	n = strlen(name);
	if (n == 0 || n > max)
		return false;
	if (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") < 1)
		return false;
	return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

bool dms_name_valid(const char *name)
{
	return name_valid(name, DMS_NAME_MAX);
}

bool dms_pool_name_valid(const char *name)
{
	return name_valid(name, DMS_POOL_NAME_MAX);
}

bool dms_holder_valid(const char *holder)
{
	return name_valid(holder, DMS_HOLDER_MAX);
}

static int format_name(char *buf, size_t len, const char *fmt, const char *pool)
{
	int n = snprintf(buf, len, fmt, pool);

	return n < 0 || (size_t)n >= len || (size_t)n > DMS_DM_NAME_MAX ? -ENAMETOOLONG : 0;
}

int dms_pool_dm_name(const char *pool, char *buf, size_t len)
{
	return format_name(buf, len, "dmstore-%s-pool", pool);
}

int dms_pool_dm_uuid(const char *pool, char *buf, size_t len)
{
	return format_name(buf, len, "DMSTORE-%s-pool", pool);
}

/* Every dm device of this pool, the pool itself included, carries this UUID prefix. */
int dms_pool_uuid_prefix(const char *pool, char *buf, size_t len)
{
	return format_name(buf, len, "DMSTORE-%s-", pool);
}

/*
 * Whether UUID names a thin device of POOL: DMSTORE-<pool>-<kind>-<digits>.
 * The tail is parsed strictly, since pool "a" must not claim the devices of
 * pool "a-ctr" (DMSTORE-a-ctr-ctr-5) or that pool itself (DMSTORE-a-ctr-pool).
 */
bool dms_uuid_is_thin_of(const char *uuid, const char *pool)
{
	static const char *const kinds[] = { "img-", "ctr-", "vol-", "vsnap-" };
	char prefix[DMS_DM_UUID_MAX + 1];
	const char *rest;

	if (dms_pool_uuid_prefix(pool, prefix, sizeof(prefix)) < 0 || strncmp(uuid, prefix, strlen(prefix)) != 0)
		return false;
	rest = uuid + strlen(prefix);
	for (size_t i = 0; i < DMS_ARRAY_SIZE(kinds); i++) {
		size_t k = strlen(kinds[i]);

		if (strncmp(rest, kinds[i], k) == 0)
			return rest[k] && strspn(rest + k, "0123456789") == strlen(rest + k);
	}
	return false;
}
