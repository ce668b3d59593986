// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What the kernel does not tell about thin metadata: its consistency, and the
 * set of thin device ids in it. Both come from thin-provisioning-tools, which
 * read the on-disk btrees; no library exposes them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "dms-exec.h"
#include "dms-util.h"
#include "dm/dm.h"

/*
 * reserve_metadata_snap | release_metadata_snap: the pool keeps one frozen
 * copy of its metadata for the tools to read (their --metadata-snap) while it
 * runs. The kernel answers EBUSY to a reserve while one is held, EINVAL to a
 * release while none is, and refuses both once the pool is read-only or failed.
 */
int dms_thin_pool_reserve_snap(const char *pool_name)
{
	return dms_dm_message(pool_name, "reserve_metadata_snap");
}

int dms_thin_pool_release_snap(const char *pool_name)
{
	return dms_dm_message(pool_name, "release_metadata_snap");
}

int dms_thin_metadata_check(const char *metadata_dev, unsigned flags)
{
	const char *argv[5] = { "thin_check", "-q" };
	size_t n = 2;
	int r, status;

	if (flags & DMS_THIN_CHECK_METADATA_SNAP)
		argv[n++] = "--metadata-snap";
	else if (flags & DMS_THIN_CHECK_CLEAR_NEEDS_CHECK)
		argv[n++] = "--clear-needs-check-flag";
	argv[n] = metadata_dev;
	r = dms_exec(argv, NULL, NULL, &status);
	if (r < 0)
		return r;
	return status == 0 ? 0 : -EUCLEAN;
}

static int parse_id_list(const char *text, uint32_t **ret_ids, size_t *ret_n)
{
	_cleanup_free_ uint32_t *ids = NULL;
	size_t n = 0, cap = 0;
	const char *p = text;

	while (*p) {
		char *end;
		unsigned long long v;

		p += strspn(p, " \t\n");
		if (!*p)
			break;
		errno = 0;
		v = strtoull(p, &end, 10);
		if (errno || end == p || v > DMS_THIN_DEV_ID_MAX)
			return -EBADMSG;
		if (n == cap) {
			uint32_t *grown;

			cap = cap ? cap * 2 : 64;
			grown = realloc(ids, cap * sizeof(*ids));
			if (!grown)
				return -ENOMEM;
			ids = grown;
		}
		ids[n++] = (uint32_t)v;
		p = end;
	}
	*ret_ids = DMS_TAKE_PTR(ids);
	*ret_n = n;
	return 0;
}

/*
 * The thin ids in a pool's metadata. On a live pool (POOL_NAME set) the tools
 * may only read a metadata snapshot, so one is held for the read and released
 * on every path; the caller holds the pool lock so no one else holds one.
 */
int dms_thin_metadata_list(const char *pool_name, const char *metadata_dev, uint32_t **ret_ids, size_t *ret_n)
{
	const char *live[] = { "thin_ls", "--metadata-snap", "--no-headers", "--format", "DEV", metadata_dev, NULL };
	const char *offline[] = { "thin_ls", "--no-headers", "--format", "DEV", metadata_dev, NULL };
	_cleanup_free_ char *out = NULL;
	int r, status;

	if (pool_name) {
		r = dms_thin_pool_reserve_snap(pool_name);
		if (r < 0)
			return r;
	}
	r = dms_exec(pool_name ? live : offline, &out, NULL, &status);
	if (pool_name)
		(void)dms_thin_pool_release_snap(pool_name);
	if (r < 0)
		return r;
	if (status != 0)
		return -EIO;
	return parse_id_list(out, ret_ids, ret_n);
}

int dms_thin_metadata_wipe(int metadata_fd)
{
	static const char zero[DMS_THIN_METADATA_BLOCK];
	ssize_t n = pwrite(metadata_fd, zero, sizeof(zero), 0);

	if (n < 0)
		return -errno;
	if ((size_t)n != sizeof(zero))
		return -EIO;
	return fsync(metadata_fd) < 0 ? -errno : 0;
}
