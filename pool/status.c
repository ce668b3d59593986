// SPDX-License-Identifier: LGPL-2.1-or-later
/* What a pool is and how full: its configuration, and the kernel's status line when active. */
#include <dirent.h>
#include <errno.h>
#include <string.h>

#include "dm/dm.h"
#include "dms-util.h"
#include "fs/loop.h"
#include "pool/internal.h"

static const char *mode_name(enum dms_thin_pool_mode mode)
{
	switch (mode) {
	case DMS_THIN_POOL_RW:
		return "rw";
	case DMS_THIN_POOL_RO:
		return "ro";
	case DMS_THIN_POOL_OUT_OF_DATA_SPACE:
		return "out_of_data_space";
	case DMS_THIN_POOL_FAIL:
		return "fail";
	}
	return "unknown";
}

static const char *discards_name(enum dms_thin_discards d)
{
	switch (d) {
	case DMS_THIN_DISCARDS_PASSDOWN:
		return "passdown";
	case DMS_THIN_DISCARDS_NO_PASSDOWN:
		return "nopassdown";
	case DMS_THIN_DISCARDS_IGNORE:
		return "ignore";
	}
	return "unknown";
}

/*
 * The kernel refuses every message to a failed or read-only pool, and a failed
 * pool's status ("Fail") carries no numbers at all: nothing may change it, and
 * recovery must not read its transaction id. What brings it back: the pool
 * reloaded after thin_check passes (pool activate runs thin_check, which also
 * clears a needs_check flag), or thin_repair when thin_check finds damage.
 * A pool whose metadata ran out is read-only without needs_check, all of its
 * metadata used (dm-thin's out-of-metadata-space mode, "ro" in its status):
 * reloading changes nothing, but a bigger metadata device, taken online by a
 * resume (pool grow), puts it back in write mode.
 */
int dms_pool_kernel_refuses(const char *pool, const struct dms_thin_pool_status *st, char *why, size_t len)
{
	static const char remedy[] =
		"unmount its containers and volumes, run 'dmstore pool deactivate %s', then 'dmstore pool activate %s', which runs thin_check on its metadata; if thin_check finds damage, see REPAIR in dmstore(8)";
	char fix[512], used[32], total[32];

	snprintf(fix, sizeof(fix), remedy, pool, pool);
	if (st->mode == DMS_THIN_POOL_RO && !st->needs_check && st->total_metadata_blocks &&
	    st->used_metadata_blocks >= st->total_metadata_blocks) {
		snprintf(
			why, len,
			"pool '%s' is out of metadata space (%s of %s used: the kernel made it read-only, and writes that need a new block fail): grow its metadata, online: 'dmstore pool grow %s --metadata-size SIZE' for a pool on loop files, or grow its metadata device, then 'dmstore pool grow %s'",
			pool, dms_size_format(st->used_metadata_blocks * DMS_THIN_METADATA_BLOCK, used, sizeof(used)),
			dms_size_format(st->total_metadata_blocks * DMS_THIN_METADATA_BLOCK, total, sizeof(total)),
			pool, pool);
		return -EROFS;
	}
	if (st->mode == DMS_THIN_POOL_FAIL) {
		snprintf(why, len, "pool '%s' has failed (the kernel stopped it after a metadata or I/O error): %s", pool,
			 fix);
		return -EIO;
	}
	if (st->mode == DMS_THIN_POOL_RO || st->needs_check) {
		snprintf(why, len, "pool '%s' is read-only (the kernel found a metadata error%s): %s", pool,
			 st->needs_check ? " and set needs_check" : "", fix);
		return -EROFS;
	}
	return 0;
}

/* /dev/<kernel name> of a block device number, from the sysfs link; "M:m" if sysfs does not say. */
static void devnum_path(unsigned maj, unsigned min, char *buf, size_t len)
{
	char link[64], target[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/sys/dev/block/%u:%u", maj, min);
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0) {
		snprintf(buf, len, "%u:%u", maj, min);
		return;
	}
	target[n] = '\0';
	snprintf(buf, len, "/dev/%s", strrchr(target, '/') + 1);
}

/* The backing devices as the live table names them (major:minor). */
static void live_backing(const char *dm_name, char *data_dev, char *metadata_dev, size_t len)
{
	_cleanup_free_ char *params = NULL;
	unsigned mmaj, mmin, dmaj, dmin;

	if (dms_dm_table(dm_name, NULL, &params) < 0)
		return;
	if (sscanf(params, "%u:%u %u:%u", &mmaj, &mmin, &dmaj, &dmin) != 4)
		return;
	devnum_path(mmaj, mmin, metadata_dev, len);
	devnum_path(dmaj, dmin, data_dev, len);
}

void dms_pool_status_free(struct dms_pool_status *status)
{
	if (!status)
		return;
	free(status->name);
	free(status->dm_name);
	free(status->data_path);
	free(status->metadata_path);
	free(status->data_dev);
	free(status->metadata_dev);
	free(status);
}

/*
 * A pool's configuration and its device (found by UUID, whatever its name),
 * and the kernel's status of it when it is active; reported.
 */
static int pool_read_live(struct dms_ctx *ctx, const char *name, struct dms_pool_config *ret_cfg,
			  struct dms_dm_info *ret_info, struct dms_thin_pool_status *ret_ts)
{
	int r;

	r = dms_pool_config_load(ctx, name, ret_cfg);
	if (r < 0)
		return r;
	r = dms_pool_dm_find(name, ret_info);
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': device-mapper: %s", name, strerror(-r));
	if (!ret_info->exists)
		return 0;
	r = dms_thin_pool_status(ret_info->name, ret_ts);
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': reading the status of '%s' failed: %s", name, ret_info->name,
				strerror(-r));
	return 0;
}

int dms_pool_status(struct dms_ctx *ctx, const char *name, struct dms_pool_status **ret_status)
{
	struct dms_pool_status st = { .size = sizeof(st), .device_count = -1 };
	struct dms_pool_status *ret;
	char dm_name[DMS_DM_NAME_MAX + 1] = "", data_dev[64] = "", metadata_dev[64] = "";
	struct dms_pool_config cfg;
	struct dms_thin_pool_status ts;
	struct dms_dm_info info;
	_cleanup_free_ uint32_t *ids = NULL;
	size_t n_ids;
	int r;

	r = pool_read_live(ctx, name, &cfg, &info, &ts);
	if (r < 0)
		return r;

	st.mode = "inactive";
	st.discards = "";
	st.no_space = "";
	st.loop = cfg.loop;
	st.zero = cfg.zero;
	st.block_size = cfg.block_size;
	st.data_total = cfg.data_size;
	st.metadata_total = cfg.metadata_size;
	/* The kernel's name while active (dmstore 0.1.0 may have given another), else the one it gets. */
	if (info.exists)
		snprintf(dm_name, sizeof(dm_name), "%s", info.name);
	else
		r = dms_pool_dm_name(name, dm_name, sizeof(dm_name));
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': device-mapper: %s", name, strerror(-r));
	if (info.exists) {
		st.active = true;
		st.mode = mode_name(ts.mode);
		/* "Fail" is the whole status line: the sizes stay the configured ones, the rest unknown. */
		if (ts.mode != DMS_THIN_POOL_FAIL) {
			st.transaction_id = ts.transaction_id;
			st.data_total = ts.total_data_blocks * cfg.block_size;
			st.data_used = ts.used_data_blocks * cfg.block_size;
			st.metadata_total = ts.total_metadata_blocks * DMS_THIN_METADATA_BLOCK;
			st.metadata_used = ts.used_metadata_blocks * DMS_THIN_METADATA_BLOCK;
			st.discards = discards_name(ts.discards);
			st.no_space = ts.error_if_no_space ? "error" : "queue";
			st.needs_check = ts.needs_check;
		}
		live_backing(dm_name, data_dev, metadata_dev, sizeof(data_dev));
	}

	/*
	 * Reading the thin ids holds a metadata snapshot, of which only one may
	 * exist, so it needs the pool lock; status does not wait for a long
	 * change (an import) to get it, and reports the count as unknown.
	 */
	{
		_cleanup_close_ int lock = -1;

		if (dms_pool_trylock(ctx, name, &lock) == 0 && dms_pool_thin_ids(ctx, &cfg, &ids, &n_ids) == 0)
			st.device_count = (long)n_ids;
	}
	ret = malloc(sizeof(*ret));
	if (!ret)
		return dms_fail(ctx, -ENOMEM, "pool '%s': out of memory", name);
	*ret = st;
	if (dms_str_set(&ret->name, name) < 0 || dms_str_set(&ret->dm_name, dm_name) < 0 ||
	    dms_str_set(&ret->data_path, cfg.data_path) < 0 ||
	    dms_str_set(&ret->metadata_path, cfg.metadata_path) < 0 || dms_str_set(&ret->data_dev, data_dev) < 0 ||
	    dms_str_set(&ret->metadata_dev, metadata_dev) < 0) {
		dms_pool_status_free(ret);
		return dms_fail(ctx, -ENOMEM, "pool '%s': out of memory", name);
	}
	*ret_status = ret;
	return 0;
}

int dms_pool_space_used(struct dms_ctx *ctx, const char *name, uint64_t *ret_data_bytes, uint64_t *ret_metadata_bytes)
{
	struct dms_pool_config cfg;
	struct dms_thin_pool_status ts;
	struct dms_dm_info info;
	int r;

	r = pool_read_live(ctx, name, &cfg, &info, &ts);
	if (r < 0)
		return r;
	if (!info.exists)
		return dms_fail(ctx, -ENXIO, "pool '%s' is not active", name);
	if (ts.mode == DMS_THIN_POOL_FAIL)
		return dms_fail(ctx, -EIO, "pool '%s' has failed: the kernel reports no usage", name);
	*ret_data_bytes = ts.used_data_blocks * cfg.block_size;
	*ret_metadata_bytes = ts.used_metadata_blocks * DMS_THIN_METADATA_BLOCK;
	return 0;
}

static int strcmpp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void closedirp(DIR **d)
{
	if (*d)
		(void)closedir(*d);
}

int dms_pool_list(struct dms_ctx *ctx, char ***ret_names, size_t *ret_n)
{
	_cleanup_(closedirp) DIR *d = opendir(ctx->state_dir);
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;

	if (!d) {
		if (errno != ENOENT)
			return dms_fail(ctx, -errno, "state dir '%s': %s", ctx->state_dir, strerror(errno));
		*ret_names = NULL;
		*ret_n = 0;
		return 0;
	}
	while ((de = readdir(d))) {
		struct dms_pool_config cfg;
		char **grown;

		if (!dms_pool_name_valid(de->d_name) || dms_pool_config_read(ctx, de->d_name, &cfg) < 0)
			continue;
		grown = realloc(names, (n + 1) * sizeof(*names));
		if (!grown)
			goto oom;
		names = grown;
		names[n] = strdup(de->d_name);
		if (!names[n])
			goto oom;
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), strcmpp);
	*ret_names = names;
	*ret_n = n;
	return 0;
oom:
	dms_strv_free(names, n);
	return dms_fail(ctx, -ENOMEM, "listing pools: out of memory");
}
