// SPDX-License-Identifier: LGPL-2.1-or-later
/* pool/catalog.c on a real SQLite file: ids, uniqueness, intents, the transaction clock. */
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

#include "pool/catalog.h"

struct env {
	char dir[64];
	char path[96];
	struct dms_catalog *cat;
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	snprintf(e->dir, sizeof(e->dir), "/tmp/dmstore-cat-XXXXXX");
	if (!mkdtemp(e->dir))
		return -1;
	snprintf(e->path, sizeof(e->path), "%s/catalog.db", e->dir);
	if (dms_catalog_open(e->path, &e->cat) < 0)
		return -1;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	char cmd[128];

	dms_catalog_close(e->cat);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
	(void)!system(cmd);
	free(e);
	return 0;
}

static void add(struct dms_catalog *cat, enum dms_kind kind, const char *name, uint32_t thin_id)
{
	struct dms_row row = { .kind = kind, .thin_id = thin_id, .size = 1 << 20, .state = DMS_STATE_READY };

	snprintf(row.name, sizeof(row.name), "%s", name);
	assert_int_equal(dms_catalog_insert(cat, &row), 0);
	assert_true(row.id > 0);
}

static void free_ids_fill_gaps(void **state)
{
	struct env *e = *state;
	uint32_t id;

	assert_int_equal(dms_catalog_free_thin_id(e->cat, 0, &id), 0);
	assert_int_equal(id, 0);
	add(e->cat, DMS_KIND_IMAGE, "a", 0);
	add(e->cat, DMS_KIND_IMAGE, "b", 1);
	add(e->cat, DMS_KIND_IMAGE, "c", 3);
	assert_int_equal(dms_catalog_free_thin_id(e->cat, 0, &id), 0);
	assert_int_equal(id, 2);
	assert_int_equal(dms_catalog_free_thin_id(e->cat, 3, &id), 0);
	assert_int_equal(id, 4);
	add(e->cat, DMS_KIND_IMAGE, "top", 16777215);
	assert_int_equal(dms_catalog_free_thin_id(e->cat, 16777215, &id), -ENOSPC);
}

static void names_unique_per_kind(void **state)
{
	struct env *e = *state;
	struct dms_row row = { .kind = DMS_KIND_IMAGE, .thin_id = 9, .size = 4096 };
	struct dms_row found;

	add(e->cat, DMS_KIND_IMAGE, "web", 1);
	add(e->cat, DMS_KIND_CONTAINER, "web", 2);
	snprintf(row.name, sizeof(row.name), "web");
	assert_int_equal(dms_catalog_insert(e->cat, &row), -EEXIST);
	/* A thin id is one device's, whatever its kind. */
	row.kind = DMS_KIND_VOLUME;
	row.thin_id = 2;
	assert_int_equal(dms_catalog_insert(e->cat, &row), -EEXIST);
	assert_int_equal(dms_catalog_find(e->cat, DMS_KIND_CONTAINER, "web", &found), 0);
	assert_int_equal(found.thin_id, 2);
	assert_int_equal(dms_catalog_find(e->cat, DMS_KIND_VOLUME, "web", &found), -ENOENT);
}

static void intents_and_clock(void **state)
{
	struct env *e = *state;
	struct dms_row row = { .kind = DMS_KIND_CONTAINER, .thin_id = 5, .size = 4096, .state = DMS_STATE_CREATING,
			       .pending_txn = 8 };
	struct dms_row *rows;
	uint64_t txn;
	size_t n;

	assert_int_equal(dms_catalog_get_txn(e->cat, &txn), 0);
	assert_int_equal(txn, 0);
	add(e->cat, DMS_KIND_IMAGE, "done", 1);
	snprintf(row.name, sizeof(row.name), "c1");
	assert_int_equal(dms_catalog_insert(e->cat, &row), 0);
	assert_int_equal(dms_catalog_list_unfinished(e->cat, &rows, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].name, "c1");
	assert_int_equal(rows[0].pending_txn, 8);
	free(rows);

	/* A rolled-back transaction leaves nothing. */
	assert_int_equal(dms_catalog_begin(e->cat), 0);
	assert_int_equal(dms_catalog_set_txn(e->cat, 7), 0);
	dms_catalog_rollback(e->cat);
	assert_int_equal(dms_catalog_get_txn(e->cat, &txn), 0);
	assert_int_equal(txn, 0);

	assert_int_equal(dms_catalog_begin(e->cat), 0);
	row.state = DMS_STATE_READY;
	row.pending_txn = 0;
	assert_int_equal(dms_catalog_update(e->cat, &row), 0);
	assert_int_equal(dms_catalog_set_txn(e->cat, 8), 0);
	assert_int_equal(dms_catalog_commit(e->cat), 0);
	assert_int_equal(dms_catalog_list_unfinished(e->cat, &rows, &n), 0);
	assert_int_equal(n, 0);
	free(rows);
}

static void survives_reopen(void **state)
{
	struct env *e = *state;
	struct dms_row found;
	uint64_t txn;

	add(e->cat, DMS_KIND_VOLUME, "data", 4);
	assert_int_equal(dms_catalog_set_txn(e->cat, 41), 0);
	dms_catalog_close(e->cat);
	assert_int_equal(dms_catalog_open(e->path, &e->cat), 0);
	assert_int_equal(dms_catalog_get_txn(e->cat, &txn), 0);
	assert_int_equal(txn, 41);
	assert_int_equal(dms_catalog_find(e->cat, DMS_KIND_VOLUME, "data", &found), 0);
	assert_int_equal(dms_catalog_delete(e->cat, found.id), 0);
	assert_int_equal(dms_catalog_delete(e->cat, found.id), -ENOENT);
}

static void refuses_a_newer_schema(void **state)
{
	struct env *e = *state;
	char cmd[256];
	struct dms_catalog *cat;

	dms_catalog_close(e->cat);
	e->cat = NULL;
	snprintf(cmd, sizeof(cmd), "sqlite3 '%s' 'PRAGMA user_version = 999'", e->path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(dms_catalog_open(e->path, &cat), -EPROTONOSUPPORT);
}

/* The sqlite3 program's SQL on the closed catalogue, as a hand edit would be. */
static void edit(struct env *e, const char *sql)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "sqlite3 '%s' \"%s\"", e->path, sql);
	assert_int_equal(system(cmd), 0);
}

/* A hand-edited catalogue may hold NULL where dmstore never writes one: read as "", not "(null)" or a crash. */
static void null_text_reads_empty(void **state)
{
	struct env *e = *state;
	char spec[] = "{}";
	struct dms_run_row run = { .spec = spec };
	struct dms_row found;

	add(e->cat, DMS_KIND_CONTAINER, "web", 4);
	assert_int_equal(dms_catalog_find(e->cat, DMS_KIND_CONTAINER, "web", &found), 0);
	run.container_id = found.id;
	assert_int_equal(dms_catalog_run_set(e->cat, &run), 0);
	dms_catalog_close(e->cat);
	e->cat = NULL;
	edit(e, "PRAGMA writable_schema = ON; UPDATE sqlite_master SET sql = "
		"replace(replace(replace(sql, 'mountpoint TEXT NOT NULL', 'mountpoint TEXT'), "
		"'meta TEXT NOT NULL', 'meta TEXT'), 'spec TEXT NOT NULL', 'spec TEXT') "
		"WHERE name IN ('devices', 'container_runs')");
	edit(e, "UPDATE devices SET mountpoint = NULL, meta = NULL; UPDATE container_runs SET spec = NULL");
	assert_int_equal(dms_catalog_open(e->path, &e->cat), 0);
	assert_int_equal(dms_catalog_find(e->cat, DMS_KIND_CONTAINER, "web", &found), 0);
	assert_string_equal(found.mountpoint, "");
	assert_string_equal(found.meta, "");
	run = (struct dms_run_row){ 0 };
	assert_int_equal(dms_catalog_run_get(e->cat, found.id, &run), 0);
	assert_string_equal(run.spec, "");
	free(run.spec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(free_ids_fill_gaps, setup, teardown),
		cmocka_unit_test_setup_teardown(names_unique_per_kind, setup, teardown),
		cmocka_unit_test_setup_teardown(intents_and_clock, setup, teardown),
		cmocka_unit_test_setup_teardown(survives_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(refuses_a_newer_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(null_text_reads_empty, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
