/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The catalogue's attachments (schema 2): where volumes are mounted in
 * containers, the foreign keys that keep either row from going while one is
 * attached, and volume snapshots that outlive their origin.
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

static char tmpdir[] = "/tmp/dms-test-catalog-XXXXXX";
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

/* A fresh catalogue for each case. */
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
	struct dms_row row = { .kind = kind, .thin_id = thin_id++, .size = 1 << 20, .origin_id = origin_id,
			       .state = DMS_STATE_READY, .created = 1 };

	snprintf(row.name, sizeof(row.name), "%s", name);
	assert_int_equal(dms_catalog_insert(cat, &row), 0);
	return row.id;
}

static int64_t attach(struct dms_catalog *cat, int64_t vol, int64_t ctr, const char *path, bool ro)
{
	struct dms_attachment a = { .volume_id = vol, .container_id = ctr, .read_only = ro };

	snprintf(a.path, sizeof(a.path), "%s", path);
	assert_int_equal(dms_catalog_attach_insert(cat, &a), 0);
	return a.id;
}

static void attachments_listed_and_found(void **state)
{
	struct dms_catalog *cat = fresh();
	int64_t v1 = add(cat, DMS_KIND_VOLUME, "v1", 0), v2 = add(cat, DMS_KIND_VOLUME, "v2", 0);
	int64_t c1 = add(cat, DMS_KIND_CONTAINER, "c1", 0), c2 = add(cat, DMS_KIND_CONTAINER, "c2", 0);
	struct dms_attachment *list = NULL, a, dup = { .volume_id = v1, .container_id = c1 };
	size_t n = 0;

	attach(cat, v1, c1, "/data", false);
	attach(cat, v1, c2, "/shared", true);
	attach(cat, v2, c1, "/other", false);

	/* One attachment per volume and container; a missing row is refused too. */
	snprintf(dup.path, sizeof(dup.path), "/again");
	assert_int_equal(dms_catalog_attach_insert(cat, &dup), -EEXIST);
	dup = (struct dms_attachment){ .volume_id = 999, .container_id = c1 };
	snprintf(dup.path, sizeof(dup.path), "/x");
	assert_int_equal(dms_catalog_attach_insert(cat, &dup), -EEXIST);

	assert_int_equal(dms_catalog_attach_find(cat, v1, c2, &a), 0);
	assert_string_equal(a.path, "/shared");
	assert_true(a.read_only);
	assert_string_equal(a.volume, "v1");
	assert_string_equal(a.container, "c2");
	assert_int_equal(dms_catalog_attach_find(cat, v2, c2, &a), -ENOENT);

	assert_int_equal(dms_catalog_attach_list(cat, v1, 0, &list, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].container, "c1");
	assert_string_equal(list[1].container, "c2");
	free(list);
	assert_int_equal(dms_catalog_attach_list(cat, 0, c1, &list, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].volume, "v1");
	assert_string_equal(list[1].volume, "v2");
	free(list);
	assert_int_equal(dms_catalog_attach_list(cat, 0, 0, &list, &n), 0);
	assert_int_equal(n, 3);
	free(list);

	assert_int_equal(dms_catalog_attach_delete(cat, 12345), -ENOENT);
	dms_catalog_close(cat);
}

/* Neither the volume nor the container row can go while the catalogue says one is mounted in the other. */
static void attached_rows_stay(void **state)
{
	struct dms_catalog *cat = fresh();
	int64_t v = add(cat, DMS_KIND_VOLUME, "v", 0), c = add(cat, DMS_KIND_CONTAINER, "c", 0);
	int64_t id = attach(cat, v, c, "/data", false);

	assert_int_equal(dms_catalog_delete(cat, v), -EEXIST);
	assert_int_equal(dms_catalog_delete(cat, c), -EEXIST);
	assert_int_equal(dms_catalog_attach_delete(cat, id), 0);
	assert_int_equal(dms_catalog_attach_delete(cat, id), -ENOENT);
	assert_int_equal(dms_catalog_delete(cat, v), 0);
	assert_int_equal(dms_catalog_delete(cat, c), 0);
	dms_catalog_close(cat);
}

/* Snapshots outlive their origin: they point at themselves, stay snapshots, and can go in turn. */
static void snapshots_outlive_their_origin(void **state)
{
	struct dms_catalog *cat = fresh();
	int64_t v = add(cat, DMS_KIND_VOLUME, "v", 0);
	int64_t s1 = add(cat, DMS_KIND_VOLUME, "s1", v), s2 = add(cat, DMS_KIND_VOLUME, "s2", s1);
	struct dms_row row;

	assert_int_equal(dms_catalog_delete(cat, v), -EEXIST);
	assert_int_equal(dms_catalog_orphan_snapshots(cat, v), 0);
	assert_int_equal(dms_catalog_delete(cat, v), 0);
	assert_int_equal(dms_catalog_get(cat, s1, &row), 0);
	assert_int_equal(row.origin_id, s1);
	/* A snapshot of a snapshot keeps its origin while that one lives. */
	assert_int_equal(dms_catalog_get(cat, s2, &row), 0);
	assert_int_equal(row.origin_id, s1);
	assert_int_equal(dms_catalog_orphan_snapshots(cat, s1), 0);
	assert_int_equal(dms_catalog_delete(cat, s1), 0);
	assert_int_equal(dms_catalog_get(cat, s2, &row), 0);
	assert_int_equal(row.origin_id, s2);
	assert_int_equal(dms_catalog_delete(cat, s2), 0);
	dms_catalog_close(cat);
}

/* A version 1 catalogue is migrated on open, its rows kept. */
static void migrates_from_version_1(void **state)
{
	struct dms_catalog *cat = fresh();
	struct dms_row row;
	sqlite3 *raw;

	add(cat, DMS_KIND_IMAGE, "base", 0);
	dms_catalog_close(cat);
	assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
	assert_int_equal(sqlite3_exec(raw, "DROP TABLE layers; DROP TABLE attachments; DROP TABLE image_configs; DROP TABLE container_runs;"
					  " PRAGMA user_version = 1", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(raw);

	assert_int_equal(dms_catalog_open(db, &cat), 0);
	assert_int_equal(dms_catalog_find(cat, DMS_KIND_IMAGE, "base", &row), 0);
	int64_t v = add(cat, DMS_KIND_VOLUME, "v", 0), c = add(cat, DMS_KIND_CONTAINER, "c", 0);
	attach(cat, v, c, "/data", false);
	dms_catalog_close(cat);
}

/* Schema 5: an attachment recorded pending stays so until settled; one from before 5 is settled. */
static void pending_until_settled(void **state)
{
	struct dms_catalog *cat = fresh();
	int64_t v = add(cat, DMS_KIND_VOLUME, "v", 0), c = add(cat, DMS_KIND_CONTAINER, "c", 0);
	struct dms_attachment a = { .volume_id = v, .container_id = c, .pending = true }, got;
	sqlite3 *raw;

	snprintf(a.path, sizeof(a.path), "/data");
	assert_int_equal(dms_catalog_attach_insert(cat, &a), 0);
	assert_int_equal(dms_catalog_attach_find(cat, v, c, &got), 0);
	assert_true(got.pending);
	assert_int_equal(dms_catalog_attach_settle(cat, a.id), 0);
	assert_int_equal(dms_catalog_attach_find(cat, v, c, &got), 0);
	assert_false(got.pending);
	assert_int_equal(dms_catalog_attach_settle(cat, a.id + 1), -ENOENT);
	dms_catalog_close(cat);

	/* A version 4 catalogue, its attachment made by a dmstore that knew no pending. */
	assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
	assert_int_equal(sqlite3_exec(raw, "ALTER TABLE attachments DROP COLUMN pending; PRAGMA user_version = 4", NULL,
				      NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(raw);
	assert_int_equal(dms_catalog_open(db, &cat), 0);
	assert_int_equal(dms_catalog_attach_find(cat, v, c, &got), 0);
	assert_false(got.pending);
	assert_string_equal(got.path, "/data");
	dms_catalog_close(cat);
}

/* Schema 3: an image's config and a container's runs, gone with their rows. */
static void configs_and_runs_go_with_their_rows(void **state)
{
	struct dms_catalog *cat = fresh();
	int64_t img = add(cat, DMS_KIND_IMAGE, "img", 0), c = add(cat, DMS_KIND_CONTAINER, "c", img);
	struct dms_run_row run = { .container_id = c, .spec = "{\"image\":\"img\"}", .pid = 42, .started = 7 };
	char big[8192], *json = NULL;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(dms_catalog_image_config_set(cat, img, big), 0);
	assert_int_equal(dms_catalog_image_config_get(cat, img, &json), 0);
	assert_int_equal(strlen(json), sizeof(big) - 1); /* no cap, unlike devices.meta */
	free(json);
	assert_int_equal(dms_catalog_image_config_get(cat, c, &json), -ENOENT);

	assert_int_equal(dms_catalog_run_get(cat, c, &run), -ENOENT);
	run = (struct dms_run_row){ .container_id = c, .spec = "{\"image\":\"img\"}", .pid = 42, .started = 7 };
	assert_int_equal(dms_catalog_run_set(cat, &run), 0);
	run = (struct dms_run_row){ .container_id = c, .spec = "{\"image\":\"img\"}", .has_exit_code = true,
				    .exit_code = 137, .finished = 9 };
	assert_int_equal(dms_catalog_run_set(cat, &run), 0);
	assert_int_equal(dms_catalog_run_get(cat, c, &run), 0);
	assert_true(run.has_exit_code);
	assert_int_equal(run.exit_code, 137);
	assert_int_equal(run.pid, 0);
	assert_string_equal(run.spec, "{\"image\":\"img\"}");
	free(run.spec);

	assert_int_equal(dms_catalog_delete(cat, c), 0);
	assert_int_equal(dms_catalog_run_get(cat, c, &run), -ENOENT);
	assert_int_equal(dms_catalog_delete(cat, img), 0);
	assert_int_equal(dms_catalog_image_config_get(cat, img, &json), -ENOENT);
	/* A run for a row that is not there is refused. */
	run = (struct dms_run_row){ .container_id = c, .spec = "{}" };
	assert_int_equal(dms_catalog_run_set(cat, &run), -EEXIST);
	dms_catalog_close(cat);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(attachments_listed_and_found),
		cmocka_unit_test(attached_rows_stay),
		cmocka_unit_test(snapshots_outlive_their_origin),
		cmocka_unit_test(migrates_from_version_1),
		cmocka_unit_test(pending_until_settled),
		cmocka_unit_test(configs_and_runs_go_with_their_rows),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
