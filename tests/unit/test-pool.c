// SPDX-License-Identifier: LGPL-2.1-or-later
/* The pool layer's edge: names, sizes, metadata sizing, and the persisted configuration. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "dm/dm.h"
#include "dms-util.h"
#include "pool/internal.h"

static void names(void **state)
{
	char long_name[80];

	assert_true(dms_name_valid("web1"));
	assert_true(dms_name_valid("a.b_c-d"));
	assert_true(dms_name_valid("9"));
	assert_false(dms_name_valid(""));
	assert_false(dms_name_valid(NULL));
	assert_false(dms_name_valid("-x"));
	assert_false(dms_name_valid(".hidden"));
	assert_false(dms_name_valid("a/b"));
	assert_false(dms_name_valid(".."));
	assert_false(dms_name_valid("a b"));
	assert_false(dms_name_valid("caf\xc3\xa9"));
	memset(long_name, 'a', sizeof(long_name));
	long_name[64] = '\0';
	assert_true(dms_name_valid(long_name));
	long_name[64] = 'a';
	long_name[65] = '\0';
	assert_false(dms_name_valid(long_name));
	long_name[32] = '\0';
	assert_true(dms_pool_name_valid(long_name));
	long_name[32] = 'a';
	long_name[33] = '\0';
	assert_false(dms_pool_name_valid(long_name));
}

/* Docker's mount IDs are 64 hex digits: holders take names up to 128, of the same characters as objects. */
static void holder_names(void **state)
{
	char id[DMS_HOLDER_MAX + 2];

	assert_true(dms_holder_valid("4f2a9c"));
	assert_true(dms_holder_valid("a1.b_c-d"));
	assert_false(dms_holder_valid(""));
	assert_false(dms_holder_valid(NULL));
	assert_false(dms_holder_valid(".."));
	assert_false(dms_holder_valid("../x"));
	assert_false(dms_holder_valid("a/b"));
	memset(id, 'f', sizeof(id));
	id[DMS_HOLDER_MAX] = '\0';
	assert_true(dms_holder_valid(id));
	id[DMS_HOLDER_MAX] = 'f';
	id[DMS_HOLDER_MAX + 1] = '\0';
	assert_false(dms_holder_valid(id));
}

static void uuids_of_a_pool(void **state)
{
	assert_true(dms_uuid_is_thin_of("DMSTORE-a-ctr-5", "a"));
	assert_true(dms_uuid_is_thin_of("DMSTORE-a-vsnap-12", "a"));
	assert_false(dms_uuid_is_thin_of("DMSTORE-a-pool", "a"));
	/* Pool "a" must not claim the devices of pool "a-ctr", nor that pool itself. */
	assert_false(dms_uuid_is_thin_of("DMSTORE-a-ctr-ctr-5", "a"));
	assert_false(dms_uuid_is_thin_of("DMSTORE-a-ctr-pool", "a"));
	assert_true(dms_uuid_is_thin_of("DMSTORE-a-ctr-ctr-5", "a-ctr"));
	assert_false(dms_uuid_is_thin_of("DMSTORE-a-ctr-", "a"));
	assert_false(dms_uuid_is_thin_of("LVM-xyz", "a"));
}

static void metadata_min(void **state)
{
	/* Small pools get the kernel's 2 MiB floor. */
	assert_int_equal(dms_pool_metadata_min(64ULL << 20, 65536), 2ULL << 20);
	/* 100 GiB of 64 KiB blocks: 1638400 blocks * 48 bytes, rounded up to 4 KiB. */
	assert_int_equal(dms_pool_metadata_min(100ULL << 30, 65536), 78643200);
	/* Bigger blocks, less metadata. */
	assert_true(dms_pool_metadata_min(1ULL << 40, 1U << 20) < dms_pool_metadata_min(1ULL << 40, 65536));
}

struct env {
	char dir[64];
	struct dms_ctx *ctx;
};

static int env_setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	snprintf(e->dir, sizeof(e->dir), "/tmp/dmstore-unit-XXXXXX");
	if (!mkdtemp(e->dir))
		return -1;
	setenv("DMSTORE_STATE_DIR", e->dir, 1);
	setenv("DMSTORE_RUN_DIR", e->dir, 1);
	if (dms_ctx_new(&e->ctx) < 0)
		return -1;
	*state = e;
	return 0;
}

static int env_teardown(void **state)
{
	struct env *e = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
	(void)!system(cmd);
	dms_ctx_free(e->ctx);
	free(e);
	return 0;
}

/* What a command that the kernel's pool mode refuses says to run: a full metadata is grown, not re-checked. */
static void kernel_refusals(void **state)
{
	struct dms_thin_pool_status st;
	char why[1024];

	/* dm-thin's out-of-metadata-space mode, as a pool of 2 MiB of metadata showed it in the VM. */
	assert_int_equal(dms_thin_pool_parse_status("75 512/512 1609/16384 - ro discard_passdown error_if_no_space - 512", &st), 0);
	assert_int_equal(dms_pool_kernel_refuses("p", &st, why, sizeof(why)), -EROFS);
	assert_non_null(strstr(why, "pool 'p' is out of metadata space (2 MiB of 2 MiB used: "));
	assert_non_null(strstr(why, "'dmstore pool grow p --metadata-size SIZE'"));

	/* Read-only after a metadata error: checked again on activation. */
	assert_int_equal(dms_thin_pool_parse_status("75 100/512 1609/16384 - ro discard_passdown error_if_no_space needs_check 512", &st), 0);
	assert_int_equal(dms_pool_kernel_refuses("p", &st, why, sizeof(why)), -EROFS);
	assert_non_null(strstr(why, "pool 'p' is read-only (the kernel found a metadata error and set needs_check): "));
	assert_non_null(strstr(why, "'dmstore pool activate p', which runs thin_check"));

	assert_int_equal(dms_thin_pool_parse_status("Fail", &st), 0);
	assert_int_equal(dms_pool_kernel_refuses("p", &st, why, sizeof(why)), -EIO);
	assert_int_equal(dms_thin_pool_parse_status("75 512/512 1609/16384 - rw discard_passdown error_if_no_space - 512", &st), 0);
	assert_int_equal(dms_pool_kernel_refuses("p", &st, why, sizeof(why)), 0);
}

static void config_roundtrip(void **state)
{
	struct env *e = *state;
	struct dms_pool_config in = {
		.name = "p0",
		.loop = true,
		.data_path = "/var/lib/dmstore/p0/data.img",
		.metadata_path = "/var/lib/dmstore/p0/metadata.img",
		.data_size = 100ULL << 30,
		.metadata_size = 1ULL << 30,
		.block_size = 65536,
		.zero = true,
		.created = 1764300000,
	};
	struct dms_pool_config out;
	char dir[128];
	char **names;
	size_t n;

	snprintf(dir, sizeof(dir), "%s/p0", e->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(dms_pool_config_write(e->ctx, &in), 0);
	assert_int_equal(dms_pool_config_read(e->ctx, "p0", &out), 0);
	assert_memory_equal(&in, &out, sizeof(in));

	assert_int_equal(dms_pool_list(e->ctx, &names, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(names[0], "p0");
	dms_strv_free(names, n);
}

static void config_missing_and_corrupt(void **state)
{
	struct env *e = *state;
	struct dms_pool_config out;
	char path[128];
	FILE *f;

	assert_int_equal(dms_pool_config_read(e->ctx, "nope", &out), -ENOENT);
	snprintf(path, sizeof(path), "%s/bad", e->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/bad/pool.json", e->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{ \"version\": 1, \"name\": \"other\" }", f);
	fclose(f);
	assert_int_equal(dms_pool_config_read(e->ctx, "bad", &out), -EBADMSG);
}

static void pool_status_of_unknown_pool(void **state)
{
	struct env *e = *state;
	struct dms_pool_status *st = NULL;

	assert_int_equal(dms_ctx_error_kind(e->ctx), DMS_ERROR_NONE);
	assert_int_equal(dms_pool_status(e->ctx, "ghost", &st), -ENOENT);
	assert_non_null(strstr(dms_ctx_error(e->ctx), "'ghost'"));
	assert_int_equal(dms_ctx_error_kind(e->ctx), DMS_ERROR_NOT_FOUND);
	assert_int_equal(dms_pool_status(e->ctx, "../etc", &st), -EINVAL);
	assert_int_equal(dms_ctx_error_kind(e->ctx), DMS_ERROR_INVALID);
	assert_null(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names),
		cmocka_unit_test(holder_names),
		cmocka_unit_test(uuids_of_a_pool),
		cmocka_unit_test(metadata_min),
		cmocka_unit_test(kernel_refusals),
		cmocka_unit_test_setup_teardown(config_roundtrip, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(config_missing_and_corrupt, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(pool_status_of_unknown_pool, env_setup, env_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
