// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * `pool check`: what the kernel has against what the catalogue says, under
 * the pool lock so that neither moves meanwhile. It changes nothing, but for
 * a metadata snapshot a dead dmstore left held, which must go before anything
 * can be read (and is reported). Each finding is one line that names the
 * object and what to run; they come in the order the pool is, its metadata,
 * its transaction, its thin ids, mounts, devices.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "dm/dm.h"
#include "dms-util.h"
#include "pool/internal.h"

static const char *const kind_names[] = {
	[DMS_CHECK_POOL_FAILED] = "pool_failed",
	[DMS_CHECK_POOL_READ_ONLY] = "pool_read_only",
	[DMS_CHECK_METADATA_DAMAGED] = "metadata_damaged",
	[DMS_CHECK_HELD_METADATA_SNAP] = "held_metadata_snap",
	[DMS_CHECK_TXN_MISMATCH] = "transaction_mismatch",
	[DMS_CHECK_OPEN_INTENT] = "open_intent",
	[DMS_CHECK_UNFINISHED] = "unfinished",
	[DMS_CHECK_ORPHAN_THIN_ID] = "orphan_thin_id",
	[DMS_CHECK_MISSING_THIN_ID] = "missing_thin_id",
	[DMS_CHECK_STALE_MOUNT] = "stale_mount",
	[DMS_CHECK_STALE_ATTACHMENT] = "stale_attachment",
	[DMS_CHECK_DEVICE_INACTIVE] = "device_inactive",
	[DMS_CHECK_DEVICE_UNEXPECTED] = "device_unexpected",
	[DMS_CHECK_PENDING_REMOVAL] = "pending_removal",
};

const char *dms_check_kind_name(enum dms_check_kind kind)
{
	return (size_t)kind < DMS_ARRAY_SIZE(kind_names) ? kind_names[kind] : "unknown";
}

static void finding_free(struct dms_check_finding *f)
{
	if (!f)
		return;
	free(f->object_type);
	free(f->object);
	free(f->message);
	free(f);
}

void dms_check_report_free(struct dms_check_report *report)
{
	if (!report)
		return;
	for (size_t i = 0; i < report->n_findings; i++)
		finding_free(report->findings[i]);
	free(report->findings);
	free(report);
}

/* What a row is called in messages, and the command group that removes or unmounts one. */
static const char *object_word(const struct dms_row *row)
{
	switch (row->kind) {
	case DMS_KIND_IMAGE:
		return "image";
	case DMS_KIND_CONTAINER:
		return "container";
	case DMS_KIND_VOLUME:
		return "volume";
	case DMS_KIND_LAYER:
		return "layer";
	}
	return "?";
}

static const char *group_of(const struct dms_row *row)
{
	return row->kind == DMS_KIND_CONTAINER ? "snap" : row->kind == DMS_KIND_VOLUME ? "vol" : "image";
}

static int add(struct dms_check_report *rep, enum dms_check_kind kind, const struct dms_row *row, int64_t thin_id,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int add(struct dms_check_report *rep, enum dms_check_kind kind, const struct dms_row *row, int64_t thin_id,
	       const char *fmt, ...)
{
	struct dms_check_finding **grown, *f;
	va_list ap;
	int n;

	grown = realloc(rep->findings, (rep->n_findings + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	rep->findings = grown;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	*f = (struct dms_check_finding){ .size = sizeof(*f), .kind = kind, .thin_id = thin_id };
	va_start(ap, fmt);
	n = vasprintf(&f->message, fmt, ap);
	va_end(ap);
	if (n < 0)
		f->message = NULL;
	if (!f->message || dms_str_set(&f->object_type, row ? object_word(row) : "") < 0 ||
	    dms_str_set(&f->object, row ? row->name : "") < 0) {
		finding_free(f);
		return -ENOMEM;
	}
	rep->findings[rep->n_findings++] = f;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* The thin ids the catalogue's rows own, sorted, for owned(). */
static int row_thin_ids(const struct dms_row *rows, size_t n, uint32_t **ret_ids)
{
	uint32_t *ids = malloc((n ? n : 1) * sizeof(*ids));

	if (!ids)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		ids[i] = rows[i].thin_id;
	qsort(ids, n, sizeof(*ids), cmp_u32);
	*ret_ids = ids;
	return 0;
}

static bool owned(const uint32_t *sorted, size_t n, uint32_t id)
{
	return n && bsearch(&id, sorted, n, sizeof(id), cmp_u32);
}

/* KERNEL_IDS less those ROWS own, in place. */
static size_t keep_orphans(uint32_t *kernel_ids, size_t n_ids, const uint32_t *row_ids, size_t n_rows)
{
	size_t k = 0;

	for (size_t i = 0; i < n_ids; i++)
		if (!owned(row_ids, n_rows, kernel_ids[i]))
			kernel_ids[k++] = kernel_ids[i];
	return k;
}

int dms_pool_orphans(struct dms_pool *pool, uint32_t **ret_ids, size_t *ret_n)
{
	_cleanup_free_ struct dms_row *rows = NULL;
	_cleanup_free_ uint32_t *ids = NULL, *row_ids = NULL;
	size_t n_rows = 0, n_ids = 0;
	int r;

	r = dms_pool_thin_ids(pool->ctx, &pool->cfg, &ids, &n_ids);
	if (r < 0)
		return r;
	r = dms_catalog_list(pool->cat, -1, 0, &rows, &n_rows);
	if (r == 0)
		r = row_thin_ids(rows, n_rows, &row_ids);
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': catalogue: %s", pool->cfg.name, strerror(-r));
	qsort(ids, n_ids, sizeof(*ids), cmp_u32);
	*ret_n = keep_orphans(ids, n_ids, row_ids, n_rows);
	*ret_ids = DMS_TAKE_PTR(ids);
	return 0;
}

/*
 * The kernel side of a live pool: its mode, then thin_check on a metadata
 * snapshot (thin_check reads a live pool's metadata only that way), then its
 * thin ids. A failed or read-only pool takes no message, not even the
 * reserve: only its state is reported. *RET_TXN is set when the kernel has one.
 */
static int check_live(struct dms_pool *pool, struct dms_check_report *rep, uint32_t **ret_ids, size_t *ret_n,
		      uint64_t *ret_txn, bool *ret_has_txn)
{
	struct dms_thin_pool_status st;
	char why[1024];
	bool released;
	int r;

	r = dms_thin_pool_status(pool->dm_name, &st);
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': reading its status failed: %s", pool->cfg.name, strerror(-r));
	r = dms_pool_kernel_refuses(pool->cfg.name, &st, why, sizeof(why));
	if (r < 0)
		return add(rep, r == -EIO ? DMS_CHECK_POOL_FAILED : DMS_CHECK_POOL_READ_ONLY, NULL, -1, "%s", why);
	*ret_txn = st.transaction_id;
	*ret_has_txn = true;

	r = dms_pool_release_dead_snap(pool->dm_name, &released);
	if (r < 0)
		return dms_fail(pool->ctx, r,
				"pool '%s': releasing the metadata snapshot a dmstore that died held failed: %s",
				pool->cfg.name, strerror(-r));
	if (released) {
		r = add(rep, DMS_CHECK_HELD_METADATA_SNAP, NULL, -1,
			"pool '%s': a metadata snapshot held by a dmstore that died (it blocks reading the thin ids) was released",
			pool->cfg.name);
		if (r < 0)
			return r;
	}

	r = dms_thin_pool_reserve_snap(pool->dm_name);
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': reserving a metadata snapshot failed: %s", pool->cfg.name,
				strerror(-r));
	dms_crash_point("pool-check", "snap-held");
	r = dms_pool_metadata_check(pool->ctx, &pool->cfg, true);
	(void)dms_thin_pool_release_snap(pool->dm_name);
	if (r == -EUCLEAN)
		return add(
			rep, DMS_CHECK_METADATA_DAMAGED, NULL, -1,
			"pool '%s': thin_check found its metadata damaged (read from a snapshot of the live metadata): stop using the pool and see REPAIR in dmstore(8)",
			pool->cfg.name);
	if (r < 0)
		return r;
	rep->metadata_checked = true;

	r = dms_pool_thin_ids(pool->ctx, &pool->cfg, ret_ids, ret_n);
	if (r == 0)
		rep->thin_ids_checked = true;
	return r;
}

/* An inactive pool: its metadata is read where it lies, as pool activate would. */
static int check_offline(struct dms_pool *pool, struct dms_check_report *rep, uint32_t **ret_ids, size_t *ret_n)
{
	int r;

	r = dms_pool_metadata_check(pool->ctx, &pool->cfg, false);
	if (r == -EUCLEAN)
		return add(
			rep, DMS_CHECK_METADATA_DAMAGED, NULL, -1,
			"pool '%s': thin_check found its metadata in '%s' damaged: see REPAIR in dmstore(8) before activating it",
			pool->cfg.name, pool->cfg.metadata_path);
	if (r < 0)
		return r;
	rep->metadata_checked = true;
	r = dms_pool_thin_ids(pool->ctx, &pool->cfg, ret_ids, ret_n);
	if (r == 0)
		rep->thin_ids_checked = true;
	return r;
}

static const char *intent_name(enum dms_state state)
{
	return state == DMS_STATE_DELETING ? "deleting" : "creating";
}

/* Intents, the transaction ids, and thin ids on either side that the other lacks. */
static int check_rows(struct dms_pool *pool, struct dms_check_report *rep, const struct dms_row *rows, size_t n_rows,
		      uint32_t *ids, size_t n_ids, const uint64_t *kernel_txn)
{
	const char *p = pool->cfg.name;
	_cleanup_free_ uint32_t *row_ids = NULL;
	uint64_t cat_txn;
	bool intents = false;
	int r;

	r = dms_catalog_get_txn(pool->cat, &cat_txn);
	if (r == 0)
		r = row_thin_ids(rows, n_rows, &row_ids);
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': catalogue: %s", p, strerror(-r));
	rep->catalogue_txn = cat_txn;
	for (size_t i = 0; i < n_rows && r == 0; i++) {
		const struct dms_row *row = &rows[i];
		char why[256];

		if (row->pending_txn) {
			intents = true;
			r = add(rep, DMS_CHECK_OPEN_INTENT, row, row->thin_id,
				"%s '%s' (thin id %u): a change was interrupted (%s, for transaction %" PRIu64
				"): run 'dmstore pool recover %s'",
				object_word(row), row->name, row->thin_id, intent_name(row->state), row->pending_txn,
				p);
		} else if (row->state == DMS_STATE_IMPORTING &&
			   !(row->kind == DMS_KIND_IMAGE && dms_import_lock_held(pool->ctx, p, row->name, NULL) > 0)) {
			/* A live import (its import lock held) is work under way, not a finding. */
			r = add(rep, DMS_CHECK_UNFINISHED, row, row->thin_id,
				"%s '%s' (thin id %u) has no contents: a dmstore that died while making it left it, and the next change of the pool removes it",
				object_word(row), row->name, row->thin_id);
		} else if (dms_row_removing(row)) {
			/* Expected state, not damage: an rm --force whose holder has not let go yet. */
			r = dms_removal_describe(pool, row, why, sizeof(why));
			if (r == 0)
				r = add(rep, DMS_CHECK_PENDING_REMOVAL, row, row->thin_id,
					"%s '%s' (thin id %u) is being removed (rm --force): %s", object_word(row),
					row->name, row->thin_id, why);
		}
	}
	if (r == 0 && kernel_txn && !intents && *kernel_txn != cat_txn)
		r = add(rep, DMS_CHECK_TXN_MISMATCH, NULL, -1,
			"pool '%s': the kernel's transaction id is %" PRIu64 " and the catalogue's %" PRIu64
			", with no interrupted change to explain it: every change is refused until they agree; see RECOVERY in dmstore(8)",
			p, *kernel_txn, cat_txn);
	if (!rep->thin_ids_checked)
		return r;

	qsort(ids, n_ids, sizeof(*ids), cmp_u32);
	for (size_t i = 0; i < n_ids && r == 0; i++)
		if (!owned(row_ids, n_rows, ids[i]))
			r = add(rep, DMS_CHECK_ORPHAN_THIN_ID, NULL, ids[i],
				"thin id %" PRIu32
				" is in the kernel but no catalogue row owns it: delete it with 'dmstore pool recover %s --orphans'",
				ids[i], p);
	/* An intent's id may be absent (a create not done, a delete done): recovery settles it. */
	for (size_t i = 0; i < n_rows && r == 0; i++)
		if (!rows[i].pending_txn && !owned(ids, n_ids, rows[i].thin_id))
			r = add(rep, DMS_CHECK_MISSING_THIN_ID, &rows[i], rows[i].thin_id,
				"%s '%s' (thin id %u) is in the catalogue but not in the kernel: its data is gone; remove it with 'dmstore %s rm %s --pool %s'",
				object_word(&rows[i]), rows[i].name, rows[i].thin_id, group_of(&rows[i]), rows[i].name,
				p);
	return r;
}

/* Mount points and attachments the catalogue records, against the mounts there are. */
static int check_mounts(struct dms_pool *pool, struct dms_check_report *rep, const struct dms_row *rows, size_t n_rows)
{
	_cleanup_free_ struct dms_attachment *att = NULL;
	size_t n_att = 0;
	bool alive;
	int r = 0;

	for (size_t i = 0; i < n_rows && r == 0; i++) {
		const struct dms_row *row = &rows[i];

		if (row->state != DMS_STATE_READY || !*row->mountpoint)
			continue;
		r = dms_mount_alive(pool, row, &alive);
		if (r == 0 && !alive)
			r = add(rep, DMS_CHECK_STALE_MOUNT, row, row->thin_id,
				"%s '%s' is recorded as mounted at '%s' but is not mounted there: forget it with 'dmstore %s umount %s --pool %s'",
				object_word(row), row->name, row->mountpoint, group_of(row), row->name, pool->cfg.name);
	}
	if (r == 0)
		r = dms_catalog_attach_list(pool->cat, 0, 0, &att, &n_att);
	for (size_t i = 0; i < n_att && r == 0; i++) {
		struct dms_row vol = { .kind = DMS_KIND_VOLUME };

		r = dms_attachment_alive(pool, &att[i], &alive);
		if (r < 0 || alive)
			continue;
		snprintf(vol.name, sizeof(vol.name), "%s", att[i].volume);
		/* Pending under the lock: its attach died before the mount. */
		if (att[i].pending)
			r = add(rep, DMS_CHECK_UNFINISHED, &vol, -1,
				"volume '%s' was being attached to container '%s' at %s by a dmstore that died before mounting it: the next change of the pool, or 'dmstore pool recover %s', forgets it",
				att[i].volume, att[i].container, att[i].path, pool->cfg.name);
		else
			r = add(rep, DMS_CHECK_STALE_ATTACHMENT, &vol, -1,
				"volume '%s' is recorded as attached to container '%s' at %s but is not mounted there: forget it with 'dmstore vol detach %s --container %s --pool %s'",
				att[i].volume, att[i].container, att[i].path, att[i].volume, att[i].container,
				pool->cfg.name);
	}
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': checking its mounts failed: %s", pool->cfg.name,
				strerror(-r));
	return 0;
}

/*
 * Which of the pool's dm devices are up, against what the catalogue says
 * should be (pool activate restores that). Devices are this pool's by their
 * UUID prefix; each is matched to the row whose dm name it has.
 */
static int check_devices(struct dms_pool *pool, struct dms_check_report *rep, const struct dms_row *rows, size_t n_rows)
{
	const char *p = pool->cfg.name;
	char prefix[DMS_DM_UUID_MAX + 1], name[DMS_DM_NAME_MAX + 1];
	struct dms_dm_device *devs = NULL;
	size_t n_devs = 0;
	bool active;
	int r;

	r = 0;
	for (size_t i = 0; i < n_rows && r == 0; i++) {
		const struct dms_row *row = &rows[i];

		if (row->state != DMS_STATE_READY)
			continue;
		r = dms_thin_dev_is_active(pool, row, &active);
		if (r < 0)
			return dms_fail(pool->ctx, r, "pool '%s': %s '%s': device-mapper: %s", p, object_word(row),
					row->name, strerror(-r));
		if (row->active && !active)
			r = add(rep, DMS_CHECK_DEVICE_INACTIVE, row, row->thin_id,
				"%s '%s' (thin id %u) should be active but its device is not: run 'dmstore pool activate %s'",
				object_word(row), row->name, row->thin_id, p);
		else if (!row->active && active && dms_thin_dev_name(pool, row, name, sizeof(name)) == 0)
			r = add(rep, DMS_CHECK_DEVICE_UNEXPECTED, row, row->thin_id,
				"%s '%s' (thin id %u) is active but should not be: deactivate it with 'dmsetup remove %s'",
				object_word(row), row->name, row->thin_id, name);
		if (r < 0)
			return r;
	}

	r = dms_pool_uuid_prefix(p, prefix, sizeof(prefix));
	if (r == 0)
		r = dms_dm_list(prefix, &devs, &n_devs);
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': listing its devices failed: %s", p, strerror(-r));
	for (size_t d = 0; d < n_devs && r == 0; d++) {
		bool known = false;

		if (!dms_uuid_is_thin_of(devs[d].uuid, p))
			continue;
		for (size_t i = 0; i < n_rows && !known; i++)
			known = dms_thin_dev_name(pool, &rows[i], name, sizeof(name)) == 0 &&
				strcmp(name, devs[d].name) == 0;
		if (!known)
			r = add(rep, DMS_CHECK_DEVICE_UNEXPECTED, NULL, -1,
				"device '%s' carries this pool's uuid (%s) but no catalogue row is it: remove it with 'dmsetup remove %s'",
				devs[d].name, devs[d].uuid, devs[d].name);
	}
	dms_dm_devices_free(devs, n_devs);
	return r;
}

int dms_pool_check(struct dms_pool *pool, struct dms_check_report **ret_report)
{
	struct dms_check_report *rep = calloc(1, sizeof(*rep));
	_cleanup_free_ struct dms_row *rows = NULL;
	_cleanup_free_ uint32_t *ids = NULL;
	size_t n_rows = 0, n_ids = 0;
	struct dms_dm_info info;
	uint64_t kernel_txn = 0;
	bool has_txn = false;
	int r;

	if (!rep)
		return dms_fail(pool->ctx, -ENOMEM, "pool '%s': out of memory", pool->cfg.name);
	rep->size = sizeof(*rep);
	r = dms_pool_lock(pool->ctx, pool->cfg.name, &pool->lock_fd, &pool->lock_clean);
	if (r < 0) {
		dms_check_report_free(rep);
		return r;
	}
	r = dms_pool_dm_find(pool->cfg.name, &info);
	if (r < 0) {
		r = dms_fail(pool->ctx, r, "pool '%s': device-mapper: %s", pool->cfg.name, strerror(-r));
		goto out;
	}
	rep->active = info.exists;
	if (info.exists)
		snprintf(pool->dm_name, sizeof(pool->dm_name), "%s", info.name);
	r = dms_catalog_list(pool->cat, -1, 0, &rows, &n_rows);
	if (r < 0) {
		r = dms_fail(pool->ctx, r, "pool '%s': catalogue: %s", pool->cfg.name, strerror(-r));
		goto out;
	}
	rep->n_rows = n_rows;
	if (rep->active)
		r = check_live(pool, rep, &ids, &n_ids, &kernel_txn, &has_txn);
	else
		r = check_offline(pool, rep, &ids, &n_ids);
	rep->n_thin_ids = n_ids;
	if (r == 0)
		r = check_rows(pool, rep, rows, n_rows, ids, n_ids, has_txn ? &kernel_txn : NULL);
	/* Nothing of an inactive pool can be mounted or active: activate forgets its mounts and restores its devices. */
	if (r == 0 && rep->active)
		r = check_mounts(pool, rep, rows, n_rows);
	if (r == 0 && rep->active)
		r = check_devices(pool, rep, rows, n_rows);
out:
	dms_change_end(pool, r);
	if (r < 0) {
		if (r == -ENOMEM)
			dms_fail(pool->ctx, r, "pool '%s': out of memory", pool->cfg.name);
		dms_check_report_free(rep);
		return r;
	}
	*ret_report = rep;
	return 0;
}
