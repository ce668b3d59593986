// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The thin-pool and thin targets (Documentation/admin-guide/device-mapper/
 * thin-provisioning.rst): table lines, pool messages and status lines.
 * Devices are named by major:minor so a table never depends on /dev paths.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include <libdevmapper.h>

#include "dms-util.h"
#include "dm/dm.h"

static int format_into(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int format_into(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -ENOBUFS : 0;
}

/*
 * thin-pool <metadata dev> <data dev> <data block size (sectors)> <low water mark (blocks)>
 *           [<number of feature args> [<arg>]*]
 * features: skip_block_zeroing ignore_discard no_discard_passdown read_only error_if_no_space
 */
int dms_thin_pool_params(char *buf, size_t len, unsigned meta_major, unsigned meta_minor, unsigned data_major,
			 unsigned data_minor, uint32_t block_sectors, uint64_t low_water_blocks, unsigned flags)
{
	static const struct {
		unsigned flag;
		const char *arg;
	} features[] = {
		{ DMS_THIN_POOL_NO_ZERO, " skip_block_zeroing" },
		{ DMS_THIN_POOL_ERROR_IF_NO_SPACE, " error_if_no_space" },
		{ DMS_THIN_POOL_READ_ONLY, " read_only" },
	};
	char args[64] = "";
	unsigned n = 0;

	if (block_sectors < DMS_THIN_BLOCK_MIN_SECTORS || block_sectors > DMS_THIN_BLOCK_MAX_SECTORS ||
	    block_sectors % DMS_THIN_BLOCK_MIN_SECTORS)
		return -EINVAL;
	for (size_t i = 0; i < DMS_ARRAY_SIZE(features); i++) {
		if (flags & features[i].flag) {
			strcat(args, features[i].arg);
			n++;
		}
	}
	return format_into(buf, len, "%u:%u %u:%u %" PRIu32 " %" PRIu64 " %u%s", meta_major, meta_minor, data_major,
			   data_minor, block_sectors, low_water_blocks, n, args);
}

/* thin <pool dev> <dev id> */
int dms_thin_params(char *buf, size_t len, unsigned pool_major, unsigned pool_minor, uint32_t dev_id)
{
	if (dev_id > DMS_THIN_DEV_ID_MAX)
		return -EINVAL;
	return format_into(buf, len, "%u:%u %" PRIu32, pool_major, pool_minor, dev_id);
}

/* Pool messages: create_thin <dev id> | create_snap <dev id> <origin id> | delete <dev id> */
int dms_thin_msg_create_thin(char *buf, size_t len, uint32_t dev_id)
{
	if (dev_id > DMS_THIN_DEV_ID_MAX)
		return -EINVAL;
	return format_into(buf, len, "create_thin %" PRIu32, dev_id);
}

int dms_thin_msg_create_snap(char *buf, size_t len, uint32_t dev_id, uint32_t origin_id)
{
	if (dev_id > DMS_THIN_DEV_ID_MAX || origin_id > DMS_THIN_DEV_ID_MAX || dev_id == origin_id)
		return -EINVAL;
	return format_into(buf, len, "create_snap %" PRIu32 " %" PRIu32, dev_id, origin_id);
}

int dms_thin_msg_delete(char *buf, size_t len, uint32_t dev_id)
{
	if (dev_id > DMS_THIN_DEV_ID_MAX)
		return -EINVAL;
	return format_into(buf, len, "delete %" PRIu32, dev_id);
}

/* set_transaction_id <current id> <new id>: the kernel refuses (EINVAL) unless current matches. */
int dms_thin_msg_set_transaction_id(char *buf, size_t len, uint64_t old_id, uint64_t new_id)
{
	return format_into(buf, len, "set_transaction_id %" PRIu64 " %" PRIu64, old_id, new_id);
}

static void dm_pool_destroyp(struct dm_pool **p)
{
	if (*p)
		dm_pool_destroy(*p);
}

/*
 * <transaction id> <used metadata blocks>/<total metadata blocks>
 * <used data blocks>/<total data blocks> <held metadata root>
 * ro|rw|out_of_data_space [no_]discard_passdown [error|queue]_if_no_space
 * needs_check|- [metadata_low_watermark]
 * or the single word "Fail". libdevmapper parses it, all but the held
 * metadata root (its FIXME), which is read here.
 */
int dms_thin_pool_parse_status(const char *params, struct dms_thin_pool_status *ret_status)
{
	_cleanup_(dm_pool_destroyp) struct dm_pool *mem = dm_pool_create("dmstore-status", 256);
	struct dm_status_thin_pool *s;
	char held[24] = "-";

	if (!mem)
		return -ENOMEM;
	if (!dm_get_status_thin_pool(mem, params, &s))
		return -EBADMSG;
	/* libdevmapper takes "2048/204<junk>" too: more used than there is, never the kernel's, taken for room by the floor. */
	if (s->used_metadata_blocks > s->total_metadata_blocks || s->used_data_blocks > s->total_data_blocks)
		return -EBADMSG;
	(void)sscanf(params, "%*u %*u/%*u %*u/%*u %23s", held);
	*ret_status = (struct dms_thin_pool_status){
		.transaction_id = s->transaction_id,
		.used_metadata_blocks = s->used_metadata_blocks,
		.total_metadata_blocks = s->total_metadata_blocks,
		.used_data_blocks = s->used_data_blocks,
		.total_data_blocks = s->total_data_blocks,
		.held_metadata_root = strcmp(held, "-") == 0 ? 0 : strtoull(held, NULL, 10),
		.error_if_no_space = s->error_if_no_space,
		.needs_check = s->needs_check,
	};
	if (s->fail)
		ret_status->mode = DMS_THIN_POOL_FAIL;
	else if (s->out_of_data_space)
		ret_status->mode = DMS_THIN_POOL_OUT_OF_DATA_SPACE;
	else if (s->read_only)
		ret_status->mode = DMS_THIN_POOL_RO;
	else
		ret_status->mode = DMS_THIN_POOL_RW;
	switch (s->discards) {
	case DM_THIN_DISCARDS_PASSDOWN:
		ret_status->discards = DMS_THIN_DISCARDS_PASSDOWN;
		break;
	case DM_THIN_DISCARDS_NO_PASSDOWN:
		ret_status->discards = DMS_THIN_DISCARDS_NO_PASSDOWN;
		break;
	default:
		ret_status->discards = DMS_THIN_DISCARDS_IGNORE;
		break;
	}
	return 0;
}

/* <nr mapped sectors> <highest mapped sector> | "Fail" */
int dms_thin_parse_status(const char *params, struct dms_thin_status *ret_status)
{
	_cleanup_(dm_pool_destroyp) struct dm_pool *mem = dm_pool_create("dmstore-status", 128);
	struct dm_status_thin *s;

	if (!mem)
		return -ENOMEM;
	if (!dm_get_status_thin(mem, params, &s))
		return -EBADMSG;
	*ret_status = (struct dms_thin_status){
		.mapped_sectors = s->mapped_sectors,
		.highest_mapped_sector = s->highest_mapped_sector,
		.fail = s->fail,
	};
	return 0;
}

static int target_status(const char *name, const char *want_type, char **ret_params)
{
	_cleanup_free_ char *type = NULL;
	int r;

	r = dms_dm_status(name, &type, ret_params);
	if (r < 0)
		return r;
	if (strcmp(type, want_type) != 0) {
		free(*ret_params);
		*ret_params = NULL;
		return -EMEDIUMTYPE;
	}
	return 0;
}

int dms_thin_pool_status(const char *name, struct dms_thin_pool_status *ret_status)
{
	_cleanup_free_ char *params = NULL;
	int r;

	r = target_status(name, "thin-pool", &params);
	if (r < 0)
		return r;
	return dms_thin_pool_parse_status(params, ret_status);
}

int dms_thin_status(const char *name, struct dms_thin_status *ret_status)
{
	_cleanup_free_ char *params = NULL;
	int r;

	r = target_status(name, "thin", &params);
	if (r < 0)
		return r;
	return dms_thin_parse_status(params, ret_status);
}
