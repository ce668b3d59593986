/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Layers in the catalogue (schema 4): the devices table rebuilt for kind 3
 * with its rows and the other tables' references intact, layer rows that go
 * with their device's, parents that cannot go before their children; and
 * the labels' field paths (pool/layer-labels.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dms-util.h"
#include "pool/catalog.h"
#include "pool/internal.h"

static char tmpdir[] = "/tmp/dms-test-layer-XXXXXX";
static char db[128];

static int setup(void **state)
{
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(db, sizeof(db), "%s/catalog.db", tmpdir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct dms_catalog *fresh(void)
{
	struct dms_catalog *cat = NULL;
	char path[160];

	for (size_t i = 0; i < 3; i++) {
		static const char *const suffixes[] = { "", "-wal", "-shm" };

		snprintf(path, sizeof(path), "%s%s", db, suffixes[i]);
		(void)unlink(path);
	}
	assert_int_equal(dms_catalog_open(db, &cat), 0);
	return cat;
}

static int64_t add(struct dms_catalog *cat, enum dms_kind kind, const char *name, int64_t origin_id)
{
	static uint32_t thin_id;
	struct dms_row row = { .kind = kind,
			       .thin_id = thin_id++,
			       .size = 1 << 20,
			       .origin_id = origin_id,
			       .state = DMS_STATE_READY };

	snprintf(row.name, sizeof(row.name), "%s", name);
	assert_int_equal(dms_catalog_insert(cat, &row), 0);
	return row.id;
}

static int64_t add_layer(struct dms_catalog *cat, const char *key, int64_t parent_id, int64_t parent_dev,
			 int64_t *ret_dev)
{
	struct dms_layer_row l = {
		.key = (char *)key,
		.parent_id = parent_id,
		.kind = parent_id ? 2 : 3,
		.labels = "{\"a\":\"b\"}",
		.created = 1,
		.updated = 1,
	};

	l.device_id = add(cat, DMS_KIND_LAYER, key, parent_dev);
	assert_int_equal(dms_catalog_layer_insert(cat, &l), 0);
	if (ret_dev)
		*ret_dev = l.device_id;
	return l.id;
}

/*
 * A version 3 catalogue (no layers, kind 3 refused) is migrated on open: its
 * rows kept, and the references other tables make to them still hold.
 */
static void migrates_from_version_3(void **state)
{
	struct dms_catalog *cat = fresh();
	struct dms_attachment a = { 0 };
	struct dms_row row;
	char *json = NULL;
	sqlite3 *raw;
	int64_t img, vol, ctr;

	img = add(cat, DMS_KIND_IMAGE, "base", 0);
	ctr = add(cat, DMS_KIND_CONTAINER, "c", img);
	vol = add(cat, DMS_KIND_VOLUME, "v", 0);
	a = (struct dms_attachment){ .volume_id = vol, .container_id = ctr };
	snprintf(a.path, sizeof(a.path), "/data");
	assert_int_equal(dms_catalog_attach_insert(cat, &a), 0);
	assert_int_equal(dms_catalog_image_config_set(cat, img, "{}"), 0);
	dms_catalog_close(cat);

	/* What schema 3 was: the devices table of schema 1, no layers, attachments never pending. */
	assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
	assert_int_equal(
		sqlite3_exec(
			raw,
			"PRAGMA foreign_keys=OFF; BEGIN; DROP TABLE layers; ALTER TABLE attachments DROP COLUMN pending;"
			" CREATE TABLE d3 AS SELECT * FROM devices; DROP TABLE devices;"
			" CREATE TABLE devices (id INTEGER PRIMARY KEY, kind INTEGER NOT NULL CHECK (kind BETWEEN 0 AND 2),"
			" name TEXT NOT NULL, thin_id INTEGER NOT NULL UNIQUE, size INTEGER NOT NULL,"
			" origin_id INTEGER REFERENCES devices(id), state INTEGER NOT NULL, pending_txn INTEGER,"
			" active INTEGER NOT NULL DEFAULT 0, mountpoint TEXT NOT NULL DEFAULT '',"
			" created INTEGER NOT NULL, meta TEXT NOT NULL DEFAULT '{}', UNIQUE (kind, name));"
			" INSERT INTO devices SELECT * FROM d3; DROP TABLE d3; COMMIT; PRAGMA user_version = 3",
			NULL, NULL, NULL),
		SQLITE_OK);
	assert_int_not_equal(
		sqlite3_exec(raw, "INSERT INTO devices VALUES (99, 3, 'x', 99, 1, NULL, 2, NULL, 0, '', 0, '{}')", NULL,
			     NULL, NULL),
		SQLITE_OK);
	sqlite3_close(raw);

	assert_int_equal(dms_catalog_open(db, &cat), 0);
	assert_int_equal(dms_catalog_find(cat, DMS_KIND_IMAGE, "base", &row), 0);
	assert_int_equal(row.id, img);
	assert_int_equal(dms_catalog_find(cat, DMS_KIND_CONTAINER, "c", &row), 0);
	assert_int_equal(row.origin_id, img);
	/* Still guarded: an attached volume, an image with a container. */
	assert_int_equal(dms_catalog_delete(cat, vol), -EEXIST);
	assert_int_equal(dms_catalog_delete(cat, img), -EEXIST);
	assert_int_equal(dms_catalog_attach_delete(cat, a.id), 0);
	assert_int_equal(dms_catalog_delete(cat, ctr), 0);
	/* Still cascading: the image's config goes with it. */
	assert_int_equal(dms_catalog_delete(cat, img), 0);
	assert_int_equal(dms_catalog_image_config_get(cat, img, &json), -ENOENT);
	add_layer(cat, "first", 0, 0, NULL);
	dms_catalog_close(cat);
}

static void layers_go_with_their_devices(void **state)
{
	struct dms_catalog *cat = fresh();
	struct dms_layer_row l, *rows = NULL;
	int64_t base_dev, child_dev, base, child;
	unsigned n_children;
	size_t n;

	base = add_layer(cat, "sha256:base layer/1", 0, 0, &base_dev);
	child = add_layer(cat, "default/2/extract 123", base, base_dev, &child_dev);
	assert_true(child > base);

	/* Keys are unique, whatever the kind. */
	l = (struct dms_layer_row){ .key = "sha256:base layer/1", .kind = 2, .device_id = child_dev };
	assert_int_equal(dms_catalog_layer_insert(cat, &l), -EEXIST);

	assert_int_equal(dms_catalog_layer_find(cat, "default/2/extract 123", &l), 0);
	assert_string_equal(l.parent, "sha256:base layer/1");
	assert_int_equal(l.parent_id, base);
	assert_int_equal(l.device_id, child_dev);
	assert_int_equal(l.device_state, DMS_STATE_READY);
	assert_string_equal(l.labels, "{\"a\":\"b\"}");
	/* A commit: new key, kind, labels. */
	free(l.key);
	l.key = strdup("committed");
	l.kind = 3;
	assert_int_equal(dms_catalog_layer_update(cat, &l), 0);
	dms_layer_row_clear(&l);
	/* Nothing found leaves nothing to free: clearing it is safe whatever it held before. */
	memset(&l, 0xa5, sizeof(l));
	assert_int_equal(dms_catalog_layer_find(cat, "default/2/extract 123", &l), -ENOENT);
	dms_layer_row_clear(&l);

	assert_int_equal(dms_catalog_layer_list(cat, &rows, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].key, "committed");
	assert_string_equal(rows[1].key, "sha256:base layer/1");
	assert_string_equal(rows[1].parent, "");
	dms_layer_rows_free(rows, n);

	assert_int_equal(dms_catalog_layer_count_children(cat, base, &n_children), 0);
	assert_int_equal(n_children, 1);
	/* The parent's device cannot go before its child's. */
	assert_int_equal(dms_catalog_delete(cat, base_dev), -EEXIST);
	assert_int_equal(dms_catalog_delete(cat, child_dev), 0);
	assert_int_equal(dms_catalog_layer_get(cat, child, &l), -ENOENT);
	assert_int_equal(dms_catalog_layer_count_children(cat, base, &n_children), 0);
	assert_int_equal(n_children, 0);
	assert_int_equal(dms_catalog_delete(cat, base_dev), 0);
	assert_int_equal(dms_catalog_layer_list(cat, &rows, &n), 0);
	assert_int_equal(n, 0);
	dms_layer_rows_free(rows, n);
	dms_catalog_close(cat);
}

static void merged(const char *old, const char *new, const char *const *fields, size_t n, const char *expect)
{
	char *out = NULL;

	assert_int_equal(dms_layer_labels_merge(old, new, fields, n, &out), 0);
	assert_string_equal(out, expect);
	free(out);
}

/* containerd's field paths, as its snapshotter suite's Update case uses them. */
static void labels_follow_field_paths(void **state)
{
	static const char *const l1_l2[] = { "labels.l1", "labels.l2" };
	static const char *const all[] = { "labels" };
	static const char *const parent[] = { "parent" };
	static const char *const empty[] = { "labels." };
	char *out = NULL;

	merged("{\"a\":\"1\"}", "{\"b\":\"2\"}", NULL, 0, "{\"b\":\"2\"}");
	merged("{\"l1\":\"v1\",\"l2\":\"v2\",\"l3\":\"v3\"}", "{\"l1\":\"updated\",\"l4\":\"v4\"}", l1_l2, 2,
	       "{\"l1\":\"updated\",\"l3\":\"v3\"}");
	merged("{\"l1\":\"v1\"}", "{\"l4\":\"v4\"}", all, 1, "{\"l4\":\"v4\"}");
	merged("{}", NULL, NULL, 0, "{}");
	assert_int_equal(dms_layer_labels_merge("{}", "{}", parent, 1, &out), -EPROTO);
	assert_int_equal(dms_layer_labels_merge("{}", "{}", empty, 1, &out), -EPROTO);
	assert_int_equal(dms_layer_labels_merge("{}", "{\"a\":1}", NULL, 0, &out), -EINVAL);

	assert_int_equal(dms_layer_labels_normalize(NULL, &out), 0);
	assert_string_equal(out, "{}");
	free(out);
	assert_int_equal(dms_layer_labels_normalize("{ \"k\" : \"v\" }", &out), 0);
	assert_string_equal(out, "{\"k\":\"v\"}");
	free(out);
	assert_int_equal(dms_layer_labels_normalize("[\"k\"]", &out), -EINVAL);
	assert_int_equal(dms_layer_labels_normalize("{\"k\":null}", &out), -EINVAL);
	assert_int_equal(dms_layer_labels_normalize("{\"k\":", &out), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(migrates_from_version_3),
		cmocka_unit_test(layers_go_with_their_devices),
		cmocka_unit_test(labels_follow_field_paths),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
