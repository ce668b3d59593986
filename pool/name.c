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
