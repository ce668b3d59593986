// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Names are checked here, at the library's edge, whatever the caller did:
 * they become file names, dm names and UUIDs, so nothing but
 * [A-Za-z0-9][A-Za-z0-9_.-]{0,63} gets through (a pool name: 32 characters).
 *
 * dm names are made here too, and only here (doc/DESIGN.md, "Naming").
 */
#include <inttypes.h>
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

/*
 * Pool names may contain '-', the separator, so "dmstore-a-vol-pool" once was
 * both pool "a"'s volume "pool" and pool "a-vol"'s pool device. As LVM does,
 * every '-' inside the pool's and the object's name is doubled: a single '-'
 * is then always a separator (a name never starts with '-', so the separator
 * is the odd one at the end of a run), and a name reads one way only. Names
 * without '-' keep the names dmstore 0.1.0 gave them.
 *
 * Doubling can outgrow DM_NAME_LEN (a 64-character name of dashes in a
 * 32-character pool of dashes is 205 bytes), and such names were valid in
 * 0.1.0, so they are not refused: the object's part is then cut, whole
 * characters only, and "+<catalogue id>" ends it. '+' is in no name, so a cut
 * name never equals a whole one, and the id is unique in its pool.
 */
#define DM_NAME_PREFIX "dmstore-"

/* Room left for the object's part of the longest pool's longest kind; a cut name keeps at least this. */
#define DM_NAME_OBJECT_MIN 32
_Static_assert(sizeof(DM_NAME_PREFIX) - 1 + 2 * DMS_POOL_NAME_MAX - 1 + sizeof("-vsnap-") - 1 + DM_NAME_OBJECT_MIN <=
		       DMS_DM_NAME_MAX,
	       "a pool name of dashes must leave room for the object's name");

/* Append S with each '-' doubled, while whole characters fit below MAX; false if not all of S did. */
static bool put_escaped(char *buf, size_t *pos, size_t max, const char *s)
{
	for (; *s; s++) {
		size_t need = *s == '-' ? 2 : 1;

		if (*pos + need > max)
			return false;
		buf[(*pos)++] = *s;
		if (*s == '-')
			buf[(*pos)++] = '-';
	}
	return true;
}

static bool put(char *buf, size_t *pos, size_t max, const char *s)
{
	size_t n = strlen(s);

	if (*pos + n > max)
		return false;
	memcpy(buf + *pos, s, n);
	*pos += n;
	return true;
}

int dms_dm_name(const char *pool, const char *kind, const char *name, int64_t id, char *buf, size_t len)
{
	char out[DMS_DM_NAME_MAX + 1], tail[24];
	size_t pos = 0, object;

	if (!put(out, &pos, DMS_DM_NAME_MAX, DM_NAME_PREFIX) || !put_escaped(out, &pos, DMS_DM_NAME_MAX, pool) ||
	    !put(out, &pos, DMS_DM_NAME_MAX, "-") || !put(out, &pos, DMS_DM_NAME_MAX, kind))
		return -ENAMETOOLONG;
	if (name) {
		if (!put(out, &pos, DMS_DM_NAME_MAX, "-"))
			return -ENAMETOOLONG;
		object = pos;
		if (!put_escaped(out, &pos, DMS_DM_NAME_MAX, name)) {
			snprintf(tail, sizeof(tail), "+%" PRId64, id);
			pos = object;
			if (id <= 0 || pos + strlen(tail) > DMS_DM_NAME_MAX)
				return -ENAMETOOLONG;
			(void)put_escaped(out, &pos, DMS_DM_NAME_MAX - strlen(tail), name);
			(void)put(out, &pos, DMS_DM_NAME_MAX, tail);
		}
	}
	out[pos] = '\0';
	if (pos >= len)
		return -ENAMETOOLONG;
	memcpy(buf, out, pos + 1);
	return 0;
}

int dms_pool_dm_name(const char *pool, char *buf, size_t len)
{
	return dms_dm_name(pool, "pool", NULL, 0, buf, len);
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
