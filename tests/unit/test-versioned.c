// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The size rules of versioned structs (include/dmstore.h): options the caller
 * passes in are read by their size, whatever header the caller was built
 * with; what the library hands out says its own size.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pool/internal.h"

/* What a caller built against a newer header passes: our options, and a field we do not know. */
struct newer_create_opts {
	struct dms_pool_create_opts o;
	uint64_t unknown;
};

struct newer_import_opts {
	struct dms_import_opts o;
	uint64_t unknown;
};

static void create_opts_sizes(void **state)
{
	struct dms_ctx *ctx;
	struct dms_pool_create_opts o = DMS_OPTS_INIT(struct dms_pool_create_opts);
	struct newer_create_opts n = { .o = { .size = sizeof(n), .loop = true, .data_size = 8ULL << 60 } };

	assert_int_equal(dms_ctx_new(&ctx), 0);
	/* No size, or less than the first version's: the caller did not say what it passes. */
	o.size = 0;
	assert_int_equal(dms_pool_create(ctx, "p", &o, NULL), -EINVAL);
	assert_int_equal(dms_ctx_error_kind(ctx), DMS_ERROR_INVALID);
	assert_non_null(strstr(dms_ctx_error(ctx), "pool 'p': options of size 0"));
	o.size = offsetof(struct dms_pool_create_opts, force);
	assert_int_equal(dms_pool_create(ctx, "p", &o, NULL), -EINVAL);
	/* Bigger, its tail all zero: read as ours (the size check past it is reached). */
	assert_int_equal(dms_pool_create(ctx, "p", &n.o, NULL), -ERANGE);
	assert_non_null(strstr(dms_ctx_error(ctx), "too large"));
	/* Bigger, asking for something we do not know: refused, as openat2(2) does. */
	n.unknown = 1;
	assert_int_equal(dms_pool_create(ctx, "p", &n.o, NULL), -E2BIG);
	assert_int_equal(dms_ctx_error_kind(ctx), DMS_ERROR_INVALID);
	assert_non_null(strstr(dms_ctx_error(ctx), "does not know"));
	dms_ctx_free(ctx);
}

static void import_opts_sizes(void **state)
{
	struct dms_pool pool = { .lock_fd = -1 };
	struct dms_import_opts o = { .size = 0 };
	struct newer_import_opts n = { .o = { .size = sizeof(n), .image_size = 8ULL << 60 } };

	assert_int_equal(dms_ctx_new(&pool.ctx), 0);
	snprintf(pool.cfg.name, sizeof(pool.cfg.name), "p");
	assert_int_equal(dms_image_import_from(&pool, "i", "/nonexistent", &o), -EINVAL);
	assert_non_null(strstr(dms_ctx_error(pool.ctx), "image 'i': options of size 0"));
	assert_int_equal(dms_image_import_from(&pool, "i", "/nonexistent", &n.o), -ERANGE);
	n.unknown = 1ULL << 63;
	assert_int_equal(dms_image_import_from(&pool, "i", "/nonexistent", &n.o), -E2BIG);
	assert_int_equal(dms_ctx_error_kind(pool.ctx), DMS_ERROR_INVALID);
	/* Refused before anything is locked. */
	assert_int_equal(pool.lock_fd, -1);
	dms_ctx_free(pool.ctx);
}

/* A version 2 of some options, and a caller built against version 1 of them. */
struct opts_v2 {
	uint32_t size;
	uint64_t a;
	uint64_t b; /* appended in version 2 */
};

static void older_caller_reads_zero(void **state)
{
	struct dms_ctx *ctx;
	struct opts_v2 v1 = { .size = dms_offsetofend(struct opts_v2, a), .a = 7, .b = 99 }, got;

	assert_int_equal(dms_ctx_new(&ctx), 0);
	/* B lies past the caller's size: whatever is there is not read. */
	assert_int_equal(dms_opts_read(ctx, "thing", "t", &v1, dms_offsetofend(struct opts_v2, a), &got, sizeof(got)),
			 0);
	assert_int_equal(got.size, sizeof(got));
	assert_int_equal(got.a, 7);
	assert_int_equal(got.b, 0);
	dms_ctx_free(ctx);
}

/* A program built against a newer header asks before it reads a field an older library lacks. */
static void has_field(void **state)
{
	struct dms_vol_info v = { .size = offsetof(struct dms_vol_info, created) };

	assert_true(DMS_HAS_FIELD(&v, n_attachments));
	assert_false(DMS_HAS_FIELD(&v, created));
	v.size = sizeof(v);
	assert_true(DMS_HAS_FIELD(&v, created));
}

/*
 * A volume attached to more containers than 0.1.0's fixed array held (16):
 * every attachment listed. Catalogue rows only: no device-mapper here.
 */
static void every_attachment_listed(void **state)
{
	char dir[] = "/tmp/dms-test-versioned-XXXXXX", path[64], cmd[96];
	struct dms_pool pool = { .lock_fd = -1 };
	struct dms_row vol = { .kind = DMS_KIND_VOLUME, .thin_id = 1, .size = 1 << 20, .state = DMS_STATE_READY };
	struct dms_vol_info *info = NULL;
	enum { N = 40 };

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/catalog.db", dir);
	assert_int_equal(dms_ctx_new(&pool.ctx), 0);
	snprintf(pool.cfg.name, sizeof(pool.cfg.name), "p");
	assert_int_equal(dms_catalog_open(path, &pool.cat), 0);
	snprintf(vol.name, sizeof(vol.name), "shared");
	assert_int_equal(dms_catalog_insert(pool.cat, &vol), 0);
	for (unsigned i = 0; i < N; i++) {
		struct dms_row c = { .kind = DMS_KIND_CONTAINER, .thin_id = 2 + i, .size = 1, .state = DMS_STATE_READY };
		struct dms_attachment a = { .volume_id = vol.id, .read_only = i % 2 };

		snprintf(c.name, sizeof(c.name), "c%u", i);
		assert_int_equal(dms_catalog_insert(pool.cat, &c), 0);
		a.container_id = c.id;
		snprintf(a.path, sizeof(a.path), "/data/%u", i);
		assert_int_equal(dms_catalog_attach_insert(pool.cat, &a), 0);
	}
	assert_int_equal(dms_vol_info_catalogued(&pool, &vol, &info), 0);
	assert_int_equal(info->size, sizeof(*info));
	assert_string_equal(info->name, "shared");
	assert_string_equal(info->origin, "");
	assert_int_equal(info->n_attachments, N);
	for (unsigned i = 0; i < N; i++) {
		char want[16];
		bool found = false;

		snprintf(want, sizeof(want), "c%u", i);
		for (size_t k = 0; k < info->n_attachments; k++) {
			const struct dms_vol_attachment *a = info->attachments[k];

			if (strcmp(a->container, want) != 0)
				continue;
			assert_int_equal(a->size, sizeof(*a));
			assert_int_equal(a->read_only, i % 2);
			assert_int_equal(strncmp(a->path, "/data/", 6), 0);
			found = true;
		}
		assert_true(found);
	}
	dms_vol_info_free(info);
	dms_catalog_close(pool.cat);
	dms_ctx_free(pool.ctx);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_opts_sizes),
		cmocka_unit_test(import_opts_sizes),
		cmocka_unit_test(older_caller_reads_zero),
		cmocka_unit_test(has_field),
		cmocka_unit_test(every_attachment_listed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
