/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* util/size.c: the one size grammar every --size, --data-size, --block-size and `vol grow` goes through. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "dms-util.h"
#include "dmstore.h"
#include "pool/internal.h"

static const struct {
	const char *text;
	uint64_t bytes;
} accepted[] = {
	{ "0", 0 },
	{ "4096", 4096 },
	{ "007", 7 },
	{ "64K", 64 * DMS_KIB },
	{ "64k", 64 * DMS_KIB },
	{ "100G", 100 * DMS_GIB },
	{ "512MiB", 512 * DMS_MIB },
	{ "512mib", 512 * DMS_MIB },
	{ "512MIB", 512 * DMS_MIB },
	{ "2MB", 2 * DMS_MIB },
	{ "2mb", 2 * DMS_MIB },
	{ "1T", DMS_TIB },
	{ "1tb", DMS_TIB },
	{ "256T", 256 * DMS_TIB },
	{ "256TiB", 256 * DMS_TIB },
	{ "262144G", 256 * DMS_TIB },
	{ "281474976710656", 256 * DMS_TIB },
	{ "0P", 0 },
	{ "0E", 0 },
};

static const struct {
	const char *text;
	int r;
} refused[] = {
	{ "", -EINVAL },
	{ "G", -EINVAL },
	{ "iB", -EINVAL },
	{ " 1G", -EINVAL },
	{ "1G ", -EINVAL },
	{ "1 G", -EINVAL },
	{ "+1G", -EINVAL },
	{ "-1G", -EINVAL },
	{ "-0", -EINVAL },
	{ "1.5T", -EINVAL },
	{ "0.3", -EINVAL },
	{ "1,5G", -EINVAL },
	{ "1e3", -EINVAL },
	{ "1E3", -EINVAL },
	{ "0x1p30", -EINVAL },
	{ "0x10", -EINVAL },
	{ "1B", -EINVAL },
	{ "12X", -EINVAL },
	{ "12Q", -EINVAL },
	{ "1GG", -EINVAL },
	{ "1GiBB", -EINVAL },
	{ "1Gi", -EINVAL },
	{ "1GBi", -EINVAL },
	{ "1iG", -EINVAL },
	{ "inf", -EINVAL },
	{ "nan", -EINVAL },
	{ "\xd9\xa1G", -EINVAL }, /* ARABIC-INDIC DIGIT ONE */
	{ "256TiB1", -EINVAL },
	/* Over DMS_SIZE_MAX (256 TiB), however it is spelt. */
	{ "257T", -ERANGE },
	{ "281474976710657", -ERANGE },
	{ "1P", -ERANGE },
	{ "8E", -ERANGE },
	{ "16E", -ERANGE },
	{ "18446744073709551615", -ERANGE },
	{ "18446744073709551616", -ERANGE },
	{ "99999999999999999999999999K", -ERANGE },
};

static void test_accepted(void **state)
{
	for (size_t i = 0; i < DMS_ARRAY_SIZE(accepted); i++) {
		uint64_t v = 1;

		if (dms_size_parse(accepted[i].text, &v) != 0 || v != accepted[i].bytes)
			fail_msg("'%s': got %d, %llu; expected %llu", accepted[i].text,
				 dms_size_parse(accepted[i].text, &v), (unsigned long long)v,
				 (unsigned long long)accepted[i].bytes);
	}
}

static void test_refused(void **state)
{
	for (size_t i = 0; i < DMS_ARRAY_SIZE(refused); i++) {
		uint64_t v = 12345;
		int r = dms_size_parse(refused[i].text, &v);

		if (r != refused[i].r || v != 12345)
			fail_msg("'%s': got %d (value %llu), expected %d and no value", refused[i].text, r,
				 (unsigned long long)v, refused[i].r);
	}
	assert_int_equal(dms_size_parse(NULL, NULL), -EINVAL);
}

static void test_format(void **state)
{
	char buf[32];

	assert_string_equal(dms_size_format(0, buf, sizeof(buf)), "0 B");
	assert_string_equal(dms_size_format(65536, buf, sizeof(buf)), "64 KiB");
	assert_string_equal(dms_size_format(3ULL << 29, buf, sizeof(buf)), "1.5 GiB");
	assert_string_equal(dms_size_format(100ULL << 30, buf, sizeof(buf)), "100 GiB");
	assert_string_equal(dms_size_format(DMS_SIZE_MAX, buf, sizeof(buf)), "256 TiB");
}

/* A library caller passes bytes, not text: refused before the pool is locked or any table loaded. */
static void test_library_refuses_too_large(void **state)
{
	struct dms_pool pool = { .lock_fd = -1 };
	struct dms_pool_create_opts o = { .size = sizeof(o), .loop = true, .data_size = 8ULL << 60 };

	assert_int_equal(dms_ctx_new(&pool.ctx), 0);
	snprintf(pool.cfg.name, sizeof(pool.cfg.name), "p");
	assert_int_equal(dms_vol_grow(&pool, "v", 8ULL << 60), -ERANGE);
	assert_string_equal(dms_ctx_error(pool.ctx), "volume 'v': size 8 EiB is too large: at most 256 TiB");
	assert_int_equal(dms_ctx_error_kind(pool.ctx), DMS_ERROR_INVALID);
	assert_int_equal(dms_vol_create(&pool, "v", DMS_SIZE_MAX + 4096, NULL), -ERANGE);
	assert_int_equal(dms_image_create(&pool, "i", DMS_SIZE_MAX + 4096), -ERANGE);
	assert_int_equal(dms_snap_create(&pool, "c", "i", DMS_SIZE_MAX + 4096), -ERANGE);
	assert_int_equal(dms_pool_create(pool.ctx, "p", &o, NULL), -ERANGE);
	assert_int_equal(pool.lock_fd, -1);
	dms_ctx_free(pool.ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_library_refuses_too_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
