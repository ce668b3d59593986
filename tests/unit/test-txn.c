// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pool/txn.c and pool/recover.c against a kernel that refuses chosen
 * messages: a real catalogue in a temp dir, a pool built by hand, and the
 * pool's messages and status answered here (the link wraps dms_dm_message
 * and dms_thin_pool_status). What is checked is the invariant of the crash
 * protocol: a thin id the kernel may still hold is always owned by a row.
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

#include "dm/dm.h"
#include "dms-util.h"
#include "pool/internal.h"

/* The kernel stand-in: its transaction id, the thin ids it holds, and the messages it refuses. */
static struct {
	uint64_t txn;
	bool ids[64];
	const char *refuse[4]; /* message prefixes answered with -EIO */
	unsigned deletes;      /* delete messages received */
} kernel;

static bool refused(const char *msg)
{
	for (size_t i = 0; i < DMS_ARRAY_SIZE(kernel.refuse); i++)
		if (kernel.refuse[i] && strncmp(msg, kernel.refuse[i], strlen(kernel.refuse[i])) == 0)
			return true;
	return false;
}

int __wrap_dms_dm_message(const char *name, const char *msg);
int __wrap_dms_dm_message(const char *name, const char *msg)
{
	unsigned a, b;
	unsigned long long old, new;

	if (strncmp(msg, "delete ", 7) == 0)
		kernel.deletes++;
	if (refused(msg))
		return -EIO;
	if (sscanf(msg, "create_thin %u", &a) == 1 || sscanf(msg, "create_snap %u %u", &a, &b) == 2) {
		if (kernel.ids[a])
			return -EEXIST;
		kernel.ids[a] = true;
	} else if (sscanf(msg, "delete %u", &a) == 1) {
		if (!kernel.ids[a])
			return -ENODATA;
		kernel.ids[a] = false;
	} else if (sscanf(msg, "set_transaction_id %llu %llu", &old, &new) == 2) {
		if (old != kernel.txn)
			return -EINVAL;
		kernel.txn = new;
	} else {
		return -EINVAL;
	}
	return 0;
}

int __wrap_dms_thin_pool_status(const char *name, struct dms_thin_pool_status *ret_status);
int __wrap_dms_thin_pool_status(const char *name, struct dms_thin_pool_status *ret_status)
{
	*ret_status = (struct dms_thin_pool_status){ .transaction_id = kernel.txn, .mode = DMS_THIN_POOL_RW };
	return 0;
}

struct env {
	char dir[64];
	struct dms_pool pool;
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	char path[96];

	memset(&kernel, 0, sizeof(kernel));
	kernel.txn = 5;
	snprintf(e->dir, sizeof(e->dir), "/tmp/dmstore-txn-XXXXXX");
	if (!mkdtemp(e->dir))
		return -1;
	snprintf(path, sizeof(path), "%s/catalog.db", e->dir);
	if (dms_ctx_new(&e->pool.ctx) < 0 || dms_catalog_open(path, &e->pool.cat) < 0 ||
	    dms_catalog_set_txn(e->pool.cat, kernel.txn) < 0)
		return -1;
	snprintf(e->pool.cfg.name, sizeof(e->pool.cfg.name), "t");
	snprintf(e->pool.dm_name, sizeof(e->pool.dm_name), "dmstore-t-pool");
	e->pool.lock_fd = -1;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	char cmd[128];

	dms_catalog_close(e->pool.cat);
	dms_ctx_free(e->pool.ctx);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
	(void)!system(cmd);
	free(e);
	return 0;
}

static struct dms_row volume_row(const char *name)
{
	struct dms_row row = { .kind = DMS_KIND_VOLUME, .size = 1 << 20 };

	snprintf(row.name, sizeof(row.name), "%s", name);
	return row;
}

/* Every thin id the kernel holds belongs to a catalogue row. */
static void assert_no_orphan(struct env *e)
{
	_cleanup_free_ struct dms_row *rows = NULL;
	size_t n = 0;

	assert_int_equal(dms_catalog_list(e->pool.cat, -1, 0, &rows, &n), 0);
	for (uint32_t id = 0; id < DMS_ARRAY_SIZE(kernel.ids); id++) {
		bool owned = false;

		for (size_t i = 0; i < n; i++)
			owned |= rows[i].thin_id == id;
		if (kernel.ids[id] && !owned)
			fail_msg("thin id %u is in the kernel but no catalogue row owns it", id);
	}
}

static void assert_rows(struct env *e, size_t want)
{
	_cleanup_free_ struct dms_row *rows = NULL;
	size_t n = 0;

	assert_int_equal(dms_catalog_list(e->pool.cat, -1, 0, &rows, &n), 0);
	assert_int_equal(n, want);
}

/* The undo of a create whose transaction id did not move: the kernel refuses the delete too. */
static void create_undo_delete_refused_keeps_the_intent(void **state)
{
	struct env *e = *state;
	struct dms_row row = volume_row("v"), kept;
	unsigned fwd = 9, back = 9;

	kernel.refuse[0] = "set_transaction_id";
	kernel.refuse[1] = "delete";
	assert_int_equal(dms_device_create(&e->pool, &row, 0, kernel.txn, "test", DMS_STATE_READY), -EIO);
	assert_true(kernel.ids[row.thin_id]);
	assert_int_equal(kernel.txn, 5);
	assert_no_orphan(e);
	assert_int_equal(dms_catalog_find(e->pool.cat, DMS_KIND_VOLUME, "v", &kept), 0);
	assert_int_equal(kept.state, DMS_STATE_CREATING);
	assert_int_equal(kept.pending_txn, 6);

	/* Once the kernel takes deletes again, recovery rolls the create back. */
	kernel.refuse[0] = kernel.refuse[1] = NULL;
	assert_int_equal(dms_recover(&e->pool, &fwd, &back), 0);
	assert_int_equal(fwd, 0);
	assert_int_equal(back, 1);
	assert_false(kernel.ids[row.thin_id]);
	assert_rows(e, 0);
}

/* The same undo when the kernel does delete: nothing is left on either side. */
static void create_undo_drops_the_intent(void **state)
{
	struct env *e = *state;
	struct dms_row row = volume_row("v");

	kernel.refuse[0] = "set_transaction_id";
	assert_int_equal(dms_device_create(&e->pool, &row, 0, kernel.txn, "test", DMS_STATE_READY), -EIO);
	assert_false(kernel.ids[row.thin_id]);
	assert_int_equal(kernel.deletes, 1);
	assert_rows(e, 0);
}

/* A delete the kernel refuses leaves a 'deleting' row; recovery deletes again, and only then forgets it. */
static void delete_refused_keeps_the_intent(void **state)
{
	struct env *e = *state;
	struct dms_row row = volume_row("v"), kept;
	unsigned fwd, back;

	assert_int_equal(dms_device_create(&e->pool, &row, 0, kernel.txn, "test", DMS_STATE_READY), 0);
	assert_int_equal(kernel.txn, 6);
	kernel.refuse[0] = "delete";
	assert_int_equal(dms_device_delete(&e->pool, &row, kernel.txn, "test"), -EIO);
	assert_no_orphan(e);
	assert_int_equal(dms_catalog_find(e->pool.cat, DMS_KIND_VOLUME, "v", &kept), 0);
	assert_int_equal(kept.state, DMS_STATE_DELETING);

	/* Recovery while the kernel still refuses: the intent survives that too. */
	assert_int_equal(dms_recover(&e->pool, &fwd, &back), -EIO);
	assert_no_orphan(e);
	assert_rows(e, 1);

	kernel.refuse[0] = NULL;
	assert_int_equal(dms_recover(&e->pool, &fwd, &back), 0);
	assert_int_equal(back, 1);
	assert_false(kernel.ids[row.thin_id]);
	assert_rows(e, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(create_undo_delete_refused_keeps_the_intent, setup, teardown),
		cmocka_unit_test_setup_teardown(create_undo_drops_the_intent, setup, teardown),
		cmocka_unit_test_setup_teardown(delete_refused_keeps_the_intent, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
