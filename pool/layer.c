// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Layers: containerd's snapshots (doc/DESIGN.md, "Engines"). Each layer is a
 * thin device (a device row of kind DMS_KIND_LAYER) and a layer row with
 * containerd's key, parent, kind and labels; both are made in the intent's
 * catalogue transaction and go together (the layer row cascades with its
 * device's), so recovery, check and thin id allocation know layers as they
 * know every other device.
 *
 * A layer without a parent is a new thin device that becomes 'ready' only
 * once its ext4 is made, as a volume: recovery deletes one whose maker died
 * before. A child is a thin snapshot of its parent's device. Committed layers
 * are deactivated when nothing holds them, and never written again; one
 * that is still mounted (containerd's callers may commit before unmounting)
 * is suspended while it is snapshotted, as a volume is, so the child is a
 * clean filesystem.
 *
 * The device row's name is random: keys are any string, and may change (a
 * commit gives a new one); the dm device is found by its UUID anyway.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "dm/dm.h"
#include "dms-util.h"
#include "fs/ext4.h"
#include "pool/internal.h"

struct dms_layer {
	char *key;
	char *parent;
	enum dms_layer_kind kind;
	char *labels;
	int64_t created, updated;
	uint32_t thin_id;
	uint64_t size;
};

void dms_layer_free(struct dms_layer *layer)
{
	if (!layer)
		return;
	free(layer->key);
	free(layer->parent);
	free(layer->labels);
	free(layer);
}

const char *dms_layer_key(const struct dms_layer *layer)
{
	return layer->key;
}

const char *dms_layer_parent(const struct dms_layer *layer)
{
	return layer->parent;
}

enum dms_layer_kind dms_layer_kind(const struct dms_layer *layer)
{
	return layer->kind;
}

const char *dms_layer_labels(const struct dms_layer *layer)
{
	return layer->labels;
}

int64_t dms_layer_created(const struct dms_layer *layer)
{
	return layer->created;
}

int64_t dms_layer_updated(const struct dms_layer *layer)
{
	return layer->updated;
}

uint32_t dms_layer_thin_id(const struct dms_layer *layer)
{
	return layer->thin_id;
}

uint64_t dms_layer_size(const struct dms_layer *layer)
{
	return layer->size;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int layer_new(const struct dms_layer_row *l, const struct dms_row *dev, struct dms_layer **ret)
{
	struct dms_layer *layer = calloc(1, sizeof(*layer));

	if (!layer)
		return -ENOMEM;
	*layer = (struct dms_layer){
		.key = strdup(l->key),
		.parent = strdup(l->parent ? l->parent : ""),
		.kind = (enum dms_layer_kind)l->kind,
		.labels = strdup(l->labels),
		.created = l->created,
		.updated = l->updated,
		.thin_id = dev->thin_id,
		.size = dev->size,
	};
	if (!layer->key || !layer->parent || !layer->labels) {
		dms_layer_free(layer);
		return -ENOMEM;
	}
	*ret = layer;
	return 0;
}

static int check_key(struct dms_pool *pool, const char *what, const char *key)
{
	size_t n = key ? strlen(key) : 0;

	if (n == 0 || n > DMS_LAYER_KEY_MAX)
		return dms_fail_invalid(pool->ctx, -EINVAL, "layer %s '%.64s': must be 1-%d bytes", what,
					key ? key : "", DMS_LAYER_KEY_MAX);
	return 0;
}

/*
 * The layer KEY, with its device row. Rows mid-change (a dead maker's, or a
 * first layer before its filesystem) are not layers yet: not found.
 */
static int find_layer(struct dms_pool *pool, const char *key, struct dms_layer_row *ret, struct dms_row *ret_dev)
{
	int r;

	r = check_key(pool, "key", key);
	if (r < 0)
		return r;
	r = dms_catalog_layer_find(pool->cat, key, ret);
	if (r == 0 && ret->device_state != DMS_STATE_READY) {
		dms_layer_row_clear(ret);
		r = -ENOENT;
	}
	if (r == 0 && ret_dev) {
		r = dms_catalog_get(pool->cat, ret->device_id, ret_dev);
		if (r < 0)
			dms_layer_row_clear(ret);
	}
	if (r == -ENOENT)
		return dms_fail_missing(pool->ctx, r, "pool '%s': layer '%s' does not exist", pool->cfg.name, key);
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': layer '%s': catalogue: %s", pool->cfg.name, key,
				strerror(-r));
	return 0;
}

/* -EEXIST, reported, if KEY names a layer (in any state: recovery has run, so a row is a live one). */
static int key_free(struct dms_pool *pool, const char *key)
{
	struct dms_layer_row l;
	int r = dms_catalog_layer_find(pool->cat, key, &l);

	dms_layer_row_clear(&l);
	if (r == 0)
		return dms_fail(pool->ctx, -EEXIST, "pool '%s': layer '%s' already exists", pool->cfg.name, key);
	if (r != -ENOENT)
		return dms_fail(pool->ctx, r, "pool '%s': layer '%s': catalogue: %s", pool->cfg.name, key,
				strerror(-r));
	return 0;
}

/*
 * -EBUSY at once while something holds the device open (a mount): the retries
 * of a remove are for udev's brief opens, not for a mount that stays.
 */
static int deactivate_unless_open(struct dms_pool *pool, const struct dms_row *dev)
{
	struct dms_dm_info info;
	int r = dms_thin_dev_find(pool, dev, &info);

	if (r < 0 || !info.exists)
		return r;
	if (info.open_count > 0)
		return -EBUSY;
	return dms_dm_remove(info.name, DMS_DM_REMOVE_RETRY);
}

static int random_name(char *buf, size_t len)
{
	uint64_t v;

	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		return -EIO;
	snprintf(buf, len, "%016" PRIx64, v);
	return 0;
}

/* Inside the intent's transaction (dms_device_create_with): the layer row, on the device row just made. */
static int insert_layer_row(struct dms_pool *pool, const struct dms_row *dev, void *arg)
{
	struct dms_layer_row *l = arg;

	l->device_id = dev->id;
	return dms_catalog_layer_insert(pool->cat, l);
}

/*
 * A thin snapshot of PARENT's device. A parent still active (committed while
 * mounted) is suspended around it: the suspend flushes and freezes its
 * filesystem, so the snapshot is a clean one. A kill in between leaves it
 * suspended: recovery (dms_resume_suspended) lets it go.
 */
static int snapshot_parent(struct dms_pool *pool, struct dms_row *dev, struct dms_layer_row *l,
			   const struct dms_row *parent, uint64_t txn)
{
	struct dms_dm_info info = { 0 };
	int r, rr;

	r = dms_thin_dev_find(pool, parent, &info);
	if (r == 0 && info.exists && !info.suspended) {
		r = dms_dm_suspend(info.name, true);
		if (r < 0)
			return dms_fail(pool->ctx, r,
					"pool '%s': layer '%s': suspending its parent '%s' for the snapshot failed: %s",
					pool->cfg.name, l->key, l->parent, strerror(-r));
		dms_crash_point("layer-prepare", "after-suspend");
	}
	if (r == 0)
		r = dms_device_create_with(pool, dev, parent->thin_id, txn, "layer-prepare", DMS_STATE_READY,
					   insert_layer_row, l);
	if (r < 0)
		r = dms_fail(pool->ctx, r, "pool '%s': layer '%s': snapshotting its parent '%s' failed: %s",
			     pool->cfg.name, l->key, l->parent, strerror(-r));
	if (info.exists) {
		rr = dms_dm_resume(info.name);
		/* The snapshot, if made, is whole: it stays, and the failure to report is the resume. */
		if (rr < 0 && r == 0)
			r = dms_fail(pool->ctx, rr, "pool '%s': layer '%s': resuming its parent '%s' failed: %s",
				     pool->cfg.name, l->key, l->parent, strerror(-rr));
	}
	return r;
}

/* A new device of its own, and its empty ext4, before the row is 'ready'. */
static int make_base(struct dms_pool *pool, struct dms_row *dev, struct dms_layer_row *l, uint64_t txn)
{
	struct dms_ext4_format_opts fmt = { .assume_zeroed = pool->cfg.zero, .no_lost_found = true };
	char path[PATH_MAX];
	int r;

	r = dms_device_create_with(pool, dev, 0, txn, "layer-prepare", DMS_STATE_IMPORTING, insert_layer_row, l);
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': layer '%s': creating its thin device failed: %s",
				pool->cfg.name, l->key, strerror(-r));
	r = dms_thin_dev_activate(pool, dev);
	if (r < 0)
		goto out_delete;
	r = dms_thin_dev_path(pool, dev, path, sizeof(path));
	if (r == 0)
		r = dms_ext4_format(path, &fmt);
	if (r < 0) {
		dms_fail(pool->ctx, r, "pool '%s': layer '%s' (thin id %u): making its filesystem failed: %s",
			 pool->cfg.name, l->key, dev->thin_id, strerror(-r));
		goto out_delete;
	}
	dms_crash_point("layer-prepare", "after-format");
	dev->state = DMS_STATE_READY;
	r = dms_catalog_update(pool->cat, dev);
	if (r < 0) {
		dms_fail(pool->ctx, r, "pool '%s': layer '%s': catalogue: %s", pool->cfg.name, l->key, strerror(-r));
		goto out_delete;
	}
	return 0;

out_delete:
	/* Nothing half-made is left: the device (and its layer row) goes in a transaction of its own. */
	(void)dms_thin_dev_deactivate(pool, dev);
	(void)dms_device_delete(pool, dev, txn + 1, "layer-prepare-undo");
	return r;
}

static int layer_make(struct dms_pool *pool, enum dms_layer_kind kind, const char *key, const char *parent,
		      const char *labels, uint64_t size, struct dms_layer **ret_layer)
{
	struct dms_layer_row l = { 0 }, p = { 0 };
	struct dms_row dev, pdev;
	_cleanup_free_ char *norm = NULL;
	bool has_parent = parent && *parent;
	uint64_t txn;
	int r;

	r = check_key(pool, "key", key);
	if (r == 0 && has_parent)
		r = check_key(pool, "parent", parent);
	if (r < 0)
		return r;
	r = dms_layer_labels_normalize(labels, &norm);
	if (r == -EINVAL)
		return dms_fail_invalid(pool->ctx, r, "layer '%s': labels must be a JSON object of strings", key);
	if (r < 0)
		return dms_fail(pool->ctx, r, "layer '%s': %s", key, strerror(-r));
	if (size == 0)
		size = DMS_IMAGE_SIZE_DEFAULT;
	r = dms_size_check(pool->ctx, "layer", key, size);
	if (r < 0)
		return r;
	if (size % 4096 || size < 16 * DMS_MIB)
		return dms_fail_invalid(pool->ctx, -EINVAL,
					"layer '%s': size must be a multiple of 4 KiB and at least 16 MiB", key);

	r = dms_change_begin(pool, &txn);
	if (r < 0)
		return r;
	r = key_free(pool, key);
	if (r == 0 && has_parent) {
		r = find_layer(pool, parent, &p, &pdev);
		if (r == 0 && p.kind != DMS_LAYER_COMMITTED)
			r = dms_fail_invalid(pool->ctx, -EINVAL,
					     "pool '%s': layer '%s': its parent '%s' is not committed", pool->cfg.name,
					     key, parent);
	}
	if (r == 0)
		r = dms_space_check(pool, "a layer");
	if (r < 0)
		goto out;

	dev = (struct dms_row){
		.kind = DMS_KIND_LAYER,
		.size = has_parent ? pdev.size : size,
		.origin_id = has_parent ? pdev.id : 0,
		.active = true,
		.created = (int64_t)time(NULL),
	};
	r = random_name(dev.name, sizeof(dev.name));
	if (r < 0) {
		r = dms_fail(pool->ctx, r, "layer '%s': %s", key, strerror(-r));
		goto out;
	}
	l = (struct dms_layer_row){
		.key = strdup(key),
		.parent_id = has_parent ? p.id : 0,
		.parent = strdup(has_parent ? parent : ""),
		.kind = kind,
		.labels = DMS_TAKE_PTR(norm),
		.created = now_ns(),
	};
	l.updated = l.created;
	if (!l.key || !l.parent) {
		r = dms_fail(pool->ctx, -ENOMEM, "layer '%s': %s", key, strerror(ENOMEM));
		goto out;
	}
	r = has_parent ? snapshot_parent(pool, &dev, &l, &pdev, txn) : make_base(pool, &dev, &l, txn);
	if (r < 0)
		goto out;
	dms_crash_point("layer-prepare", "after-commit");
	r = dms_thin_dev_activate(pool, &dev);
	/* A failure leaves a whole layer, which containerd removes: nothing to undo here. */
	if (r == 0 && ret_layer)
		r = layer_new(&l, &dev, ret_layer);
out:
	dms_change_end(pool, r);
	dms_layer_row_clear(&l);
	dms_layer_row_clear(&p);
	return r;
}

int dms_layer_prepare(struct dms_pool *pool, const char *key, const char *parent, const char *labels, uint64_t size,
		      struct dms_layer **ret_layer)
{
	return layer_make(pool, DMS_LAYER_ACTIVE, key, parent, labels, size, ret_layer);
}

int dms_layer_view(struct dms_pool *pool, const char *key, const char *parent, const char *labels, uint64_t size,
		   struct dms_layer **ret_layer)
{
	return layer_make(pool, DMS_LAYER_VIEW, key, parent, labels, size, ret_layer);
}

int dms_layer_mounts(struct dms_pool *pool, const char *key, char **ret_device, bool *ret_read_only)
{
	struct dms_layer_row l;
	struct dms_row dev;
	char path[PATH_MAX];
	bool active;
	uint64_t txn;
	int r;

	r = find_layer(pool, key, &l, &dev);
	if (r < 0)
		return r;
	if (l.kind == DMS_LAYER_COMMITTED) {
		r = dms_fail_invalid(pool->ctx, -EINVAL,
				     "pool '%s': layer '%s' is committed: only active layers and views are mounted",
				     pool->cfg.name, key);
		goto out;
	}
	r = dms_thin_dev_is_active(pool, &dev, &active);
	/* After a reboot: brought up under the lock, as every change of the kernel's devices. */
	if (r == 0 && !active) {
		r = dms_change_begin(pool, &txn);
		if (r < 0)
			goto out;
		r = dms_thin_dev_activate(pool, &dev);
		dms_change_end(pool, r);
		if (r < 0)
			goto out;
	}
	if (r == 0)
		r = dms_thin_dev_path(pool, &dev, path, sizeof(path));
	if (r < 0) {
		r = dms_fail(pool->ctx, r, "pool '%s': layer '%s': device-mapper: %s", pool->cfg.name, key,
			     strerror(-r));
		goto out;
	}
	*ret_device = strdup(path);
	if (!*ret_device) {
		r = -ENOMEM;
		goto out;
	}
	*ret_read_only = l.kind == DMS_LAYER_VIEW;
out:
	dms_layer_row_clear(&l);
	return r;
}

int dms_layer_commit(struct dms_pool *pool, const char *name, const char *key, const char *labels)
{
	struct dms_layer_row l = { 0 };
	_cleanup_free_ char *norm = NULL;
	struct dms_row dev;
	uint64_t txn, used = 0;
	int r;

	r = check_key(pool, "name", name);
	if (r < 0)
		return r;
	r = dms_layer_labels_normalize(labels, &norm);
	if (r == -EINVAL)
		return dms_fail_invalid(pool->ctx, r, "layer '%s': labels must be a JSON object of strings", name);
	if (r < 0)
		return dms_fail(pool->ctx, r, "layer '%s': %s", name, strerror(-r));
	r = dms_change_begin(pool, &txn);
	if (r < 0)
		return r;
	r = find_layer(pool, key, &l, &dev);
	if (r == 0 && l.kind != DMS_LAYER_ACTIVE)
		r = dms_fail_invalid(pool->ctx, -EINVAL,
				     "pool '%s': layer '%s' is not active: only an active layer is committed",
				     pool->cfg.name, key);
	if (r == 0)
		r = key_free(pool, name);
	if (r < 0)
		goto out;
	/* What it maps is fixed from now on: kept, since a committed layer's device is not kept active. */
	r = dms_thin_dev_used(pool, &dev, &used);
	if (r < 0 && r != -ENXIO) {
		r = dms_fail(pool->ctx, r, "pool '%s': layer '%s': reading its usage failed: %s", pool->cfg.name, key,
			     strerror(-r));
		goto out;
	}
	/* Still mounted by the caller: it stays active until it is not, and is suspended while snapshotted. */
	r = deactivate_unless_open(pool, &dev);
	if (r < 0 && r != -EBUSY) {
		r = dms_fail(pool->ctx, r, "pool '%s': layer '%s': deactivating it failed: %s", pool->cfg.name, key,
			     strerror(-r));
		goto out;
	}
	dms_crash_point("layer-commit", "after-deactivate");
	dev.active = r == -EBUSY;
	free(l.key);
	free(l.labels);
	l.key = strdup(name);
	l.labels = DMS_TAKE_PTR(norm);
	if (!l.key) {
		r = dms_fail(pool->ctx, -ENOMEM, "layer '%s': %s", name, strerror(ENOMEM));
		goto out;
	}
	l.kind = DMS_LAYER_COMMITTED;
	l.used = used;
	l.created = l.updated = now_ns();
	r = dms_catalog_begin(pool->cat);
	if (r == 0)
		r = dms_catalog_layer_update(pool->cat, &l);
	if (r == 0)
		r = dms_catalog_update(pool->cat, &dev);
	if (r == 0)
		r = dms_catalog_commit(pool->cat);
	if (r < 0) {
		dms_catalog_rollback(pool->cat);
		r = dms_fail(pool->ctx, r, "pool '%s': layer '%s': committing it as '%s' failed: %s", pool->cfg.name,
			     key, name, strerror(-r));
	}
out:
	dms_change_end(pool, r);
	dms_layer_row_clear(&l);
	return r;
}

int dms_layer_remove(struct dms_pool *pool, const char *key)
{
	struct dms_layer_row l = { 0 };
	struct dms_row dev;
	unsigned children = 0;
	uint64_t txn;
	int r;

	r = dms_change_begin(pool, &txn);
	if (r < 0)
		return r;
	r = find_layer(pool, key, &l, &dev);
	if (r < 0)
		goto out;
	r = dms_catalog_layer_count_children(pool->cat, l.id, &children);
	if (r < 0) {
		r = dms_fail(pool->ctx, r, "pool '%s': layer '%s': catalogue: %s", pool->cfg.name, key, strerror(-r));
		goto out;
	}
	if (children) {
		r = dms_fail(
			pool->ctx, -EBUSY,
			"pool '%s': layer '%s' cannot be removed: %u layer(s) have it as parent; remove them first",
			pool->cfg.name, key, children);
		goto out;
	}
	r = deactivate_unless_open(pool, &dev);
	if (r == -EBUSY) {
		r = dms_fail(pool->ctx, r,
			     "pool '%s': layer '%s' cannot be removed: its device is open (mounted?); unmount it first",
			     pool->cfg.name, key);
		goto out;
	}
	if (r < 0) {
		r = dms_fail(pool->ctx, r, "pool '%s': layer '%s': deactivating it failed: %s", pool->cfg.name, key,
			     strerror(-r));
		goto out;
	}
	dms_crash_point("layer-remove", "after-deactivate");
	r = dms_device_delete(pool, &dev, txn, "layer-remove");
	if (r < 0)
		r = dms_fail(pool->ctx, r, "pool '%s': layer '%s' (thin id %u): remove failed: %s", pool->cfg.name, key,
			     dev.thin_id, strerror(-r));
out:
	dms_change_end(pool, r);
	dms_layer_row_clear(&l);
	return r;
}

int dms_layer_stat(struct dms_pool *pool, const char *key, struct dms_layer **ret_layer)
{
	struct dms_layer_row l;
	struct dms_row dev;
	int r;

	r = find_layer(pool, key, &l, &dev);
	if (r < 0)
		return r;
	r = layer_new(&l, &dev, ret_layer);
	dms_layer_row_clear(&l);
	return r;
}

int dms_layer_update(struct dms_pool *pool, const char *key, const char *labels, const char *const *fields,
		     size_t n_fields, struct dms_layer **ret_layer)
{
	struct dms_layer_row l = { 0 };
	char *merged = NULL;
	struct dms_row dev;
	uint64_t txn;
	int r;

	r = check_key(pool, "key", key);
	if (r < 0)
		return r;
	r = dms_change_begin(pool, &txn);
	if (r < 0)
		return r;
	r = find_layer(pool, key, &l, &dev);
	if (r < 0)
		goto out;
	r = dms_layer_labels_merge(l.labels, labels, fields, n_fields, &merged);
	if (r == -EINVAL)
		r = dms_fail_invalid(pool->ctx, r, "layer '%s': labels must be a JSON object of strings", key);
	else if (r == -EPROTO)
		r = dms_fail_invalid(pool->ctx, -EINVAL,
				     "layer '%s': only its labels can be updated (\"labels\", \"labels.KEY\")", key);
	else if (r < 0)
		r = dms_fail(pool->ctx, r, "layer '%s': %s", key, strerror(-r));
	if (r < 0)
		goto out;
	free(l.labels);
	l.labels = merged;
	l.updated = now_ns();
	r = dms_catalog_layer_update(pool->cat, &l);
	if (r < 0) {
		r = dms_fail(pool->ctx, r, "pool '%s': layer '%s': catalogue: %s", pool->cfg.name, key, strerror(-r));
		goto out;
	}
	if (ret_layer)
		r = layer_new(&l, &dev, ret_layer);
out:
	dms_change_end(pool, r);
	dms_layer_row_clear(&l);
	return r;
}

int dms_layer_usage(struct dms_pool *pool, const char *key, uint64_t *ret_bytes)
{
	struct dms_layer_row l;
	struct dms_row dev;
	uint64_t used;
	int r;

	r = find_layer(pool, key, &l, &dev);
	if (r < 0)
		return r;
	used = l.used;
	if (l.kind != DMS_LAYER_COMMITTED) {
		r = dms_thin_dev_used(pool, &dev, &used);
		/* Inactive (after a reboot): nothing maps it now; its blocks are counted when it is mounted again. */
		if (r == -ENXIO)
			r = 0;
	}
	dms_layer_row_clear(&l);
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': layer '%s': reading its usage failed: %s", pool->cfg.name,
				key, strerror(-r));
	*ret_bytes = used;
	return 0;
}

void dms_layer_list_free(struct dms_layer **layers, size_t n)
{
	for (size_t i = 0; layers && i < n; i++)
		dms_layer_free(layers[i]);
	free(layers);
}

int dms_layer_list(struct dms_pool *pool, struct dms_layer ***ret_layers, size_t *ret_n)
{
	struct dms_layer_row *rows = NULL;
	struct dms_layer **layers = NULL;
	size_t n = 0, k = 0;
	int r;

	r = dms_catalog_layer_list(pool->cat, &rows, &n);
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': catalogue: %s", pool->cfg.name, strerror(-r));
	layers = calloc(n ? n : 1, sizeof(*layers));
	if (!layers) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct dms_row dev;

		/* A row mid-change belongs to another process's transaction: not a layer yet, or not any more. */
		if (rows[i].device_state != DMS_STATE_READY)
			continue;
		r = dms_catalog_get(pool->cat, rows[i].device_id, &dev);
		/* Removed since the list was read. */
		if (r == -ENOENT)
			continue;
		if (r == 0)
			r = layer_new(&rows[i], &dev, &layers[k]);
		if (r < 0) {
			r = dms_fail(pool->ctx, r, "pool '%s': layer '%s': %s", pool->cfg.name, rows[i].key,
				     strerror(-r));
			goto out;
		}
		k++;
	}
	*ret_layers = DMS_TAKE_PTR(layers);
	*ret_n = k;
out:
	dms_layer_list_free(layers, k);
	dms_layer_rows_free(rows, n);
	return r;
}
