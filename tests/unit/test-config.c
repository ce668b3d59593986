/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* conf/config.c: dmstore.conf, its values and where each came from; bad lines named. */
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

#include "conf/config.c"
#include "pool/internal.h"

static char dir[] = "/tmp/test-config-XXXXXX";
static char path[sizeof(dir) + 32];

/* Write TEXT as the config file. */
static void conf(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/dmstore.conf", dir);
	unsetenv("DMSTORE_POOL");
	unsetenv("DMSTORE_CONFIG");
	return 0;
}

static int teardown(void **state)
{
	unlink(path);
	rmdir(dir);
	return 0;
}

static void assert_source(const struct config *c, enum config_key k, const char *want)
{
	char buf[32];

	assert_string_equal(config_source_format(c, k, buf, sizeof(buf)), want);
}

static void test_defaults(void **state)
{
	struct config c;

	config_init(&c);
	assert_string_equal(c.path, "/etc/dmstore/dmstore.conf");
	assert_string_equal(c.pool, "");
	assert_int_equal(c.image_size, DMS_IMAGE_SIZE_DEFAULT);
	assert_int_equal(c.min_free, DMS_MIN_FREE_DEFAULT);
	assert_int_equal(c.autoextend_threshold, 80);
	assert_int_equal(c.autoextend_percent, 20);
	assert_int_equal(c.autoextend_limit, 0);
	for (int k = 0; k < CONFIG_N_KEYS; k++)
		assert_source(&c, k, "default");
}

static void test_file_values_and_lines(void **state)
{
	struct config c;
	char err[512] = "", buf[64];

	conf("# dmstore\n[dmstore]\npool = p1\nimage_size = 2G\n\nmin_free = 5%\nmount_options = discard,commit=30\n"
	     "runtime = /usr/local/bin/crun\n[autoextend]\n; grow\nthreshold = 70\npercent = 25\nlimit = 1T\n");
	config_init(&c);
	assert_int_equal(config_load(&c, path, err, sizeof(err)), 0);
	assert_true(c.read);
	assert_int_equal(c.path_source, CONFIG_FLAG);
	assert_string_equal(c.pool, "p1");
	assert_int_equal(c.image_size, 2ULL << 30);
	assert_int_equal(c.min_free, 5);
	assert_string_equal(c.mount_options, "discard,commit=30");
	assert_string_equal(c.runtime, "/usr/local/bin/crun");
	assert_int_equal(c.autoextend_threshold, 70);
	assert_int_equal(c.autoextend_percent, 25);
	assert_int_equal(c.autoextend_limit, 1ULL << 40);
	assert_source(&c, CONFIG_POOL, "file:3");
	assert_source(&c, CONFIG_IMAGE_SIZE, "file:4");
	assert_source(&c, CONFIG_MIN_FREE, "file:6");
	assert_source(&c, CONFIG_AUTOEXTEND_THRESHOLD, "file:11");
	assert_source(&c, CONFIG_AUTOEXTEND_LIMIT, "file:13");
	assert_string_equal(config_value_format(&c, CONFIG_IMAGE_SIZE, buf, sizeof(buf)), "2147483648");
}

/* A flag wins over the environment, which wins over the file, which wins over the default. */
static void test_precedence(void **state)
{
	struct config c;
	char err[512] = "";

	conf("[dmstore]\npool = from-file\n");
	setenv("DMSTORE_CONFIG", path, 1);
	config_init(&c);
	assert_int_equal(config_load(&c, NULL, err, sizeof(err)), 0);
	assert_int_equal(c.path_source, CONFIG_ENV);
	assert_string_equal(c.pool, "from-file");
	assert_source(&c, CONFIG_POOL, "file:2");

	setenv("DMSTORE_POOL", "from-env", 1);
	config_init(&c);
	assert_int_equal(config_load(&c, NULL, err, sizeof(err)), 0);
	assert_string_equal(c.pool, "from-env");
	assert_source(&c, CONFIG_POOL, "env");

	assert_int_equal(config_set(&c, CONFIG_POOL, "from-flag", CONFIG_FLAG, 0, err, sizeof(err)), 0);
	assert_string_equal(c.pool, "from-flag");
	assert_source(&c, CONFIG_POOL, "flag");
	unsetenv("DMSTORE_POOL");
	unsetenv("DMSTORE_CONFIG");
}

static void test_bad_lines_named(void **state)
{
	static const struct {
		const char *text, *message;
	} bad[] = {
		{ "[dmstore]\npool = a/b\n", "line 2: pool 'a/b': not a pool name" },
		{ "[dmstore]\n\nimage_size = 1.5G\n", "line 3: image_size '1.5G': not a size" },
		{ "[dmstore]\nimage_size = 0\n", "line 2: image_size '0': not a size" },
		{ "[dmstore]\nmin_free = 100\n", "line 2: min_free '100': give a percent, 0 to 99" },
		{ "[dmstore]\nmin_free = ten\n", "line 2: min_free 'ten'" },
		{ "[dmstore]\nruntime = ./crun\n", "line 2: runtime './crun': give crun, runc or an absolute path" },
		{ "[autoextend]\nthreshold = 0\n", "line 2: autoextend.threshold '0': give a percent, 1 to 100" },
		{ "[autoextend]\npercent = 101\n", "line 2: autoextend.percent '101'" },
		{ "[autoextend]\nlimit = lots\n", "line 2: autoextend.limit 'lots': not a size" },
		{ "[dmstore]\nfoo = 1\n", "line 2: unknown key 'foo' in [dmstore]" },
		{ "[pools]\npool = p\n", "line 2: unknown key 'pool' in [pools]" },
		{ "pool = p\n", "line 1: 'pool' outside a section" },
		{ "[dmstore]\npool = p\npool = q\n", "line 3: pool is set twice (line 2 too)" },
		{ "[dmstore]\njust words\n", "line 2: not a key = value line" },
	};
	struct config c;
	char err[512], want[600];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		conf(bad[i].text);
		config_init(&c);
		err[0] = '\0';
		assert_int_equal(config_load(&c, path, err, sizeof(err)), -EINVAL);
		snprintf(want, sizeof(want), "%s, %s", path, bad[i].message);
		if (strncmp(err, want, strlen(want)) != 0)
			fail_msg("'%s': got '%s', want '%s...'", bad[i].text, err, want);
	}
}

static void test_missing_files(void **state)
{
	struct config c;
	char err[512] = "", missing[sizeof(path) + 8];

	snprintf(missing, sizeof(missing), "%s/none", dir);
	/* Named by the caller: an error. */
	config_init(&c);
	assert_int_equal(config_load(&c, missing, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "No such file"));
	setenv("DMSTORE_CONFIG", missing, 1);
	config_init(&c);
	assert_int_equal(config_load(&c, NULL, err, sizeof(err)), -ENOENT);
	unsetenv("DMSTORE_CONFIG");
	/* The default path: fine when it is not there (a test machine has none, or ours is read). */
	config_init(&c);
	snprintf(c.path, sizeof(c.path), "%s", missing);
	assert_int_equal(config_load(&c, NULL, err, sizeof(err)), 0);
	assert_false(c.read);
}

/* The library takes the values the program read: the floor and the mount options, checked again there. */
static void test_library_settings(void **state)
{
	struct dms_ctx *ctx;

	assert_int_equal(dms_ctx_new(&ctx), 0);
	assert_int_equal(ctx->min_free_percent, DMS_MIN_FREE_DEFAULT);
	assert_int_equal(dms_ctx_set_min_free(ctx, 25), 0);
	assert_int_equal(ctx->min_free_percent, 25);
	assert_int_equal(dms_ctx_set_min_free(ctx, 100), -EINVAL);
	assert_int_equal(dms_ctx_error_kind(ctx), DMS_ERROR_INVALID);
	assert_int_equal(ctx->min_free_percent, 25);

	assert_null(ctx->mount_options);
	assert_int_equal(dms_ctx_set_mount_options(ctx, "discard,commit=30"), 0);
	assert_string_equal(ctx->mount_options, "discard,commit=30");
	assert_int_equal(dms_ctx_set_mount_options(ctx, "discard,nosuid"), -EINVAL);
	assert_string_equal(dms_ctx_error(ctx),
			    "mount options 'discard,nosuid': 'nosuid' is a mount flag, which dmstore sets itself");
	assert_int_equal(dms_ctx_set_mount_options(ctx, "suid"), -EINVAL);
	assert_int_equal(dms_ctx_set_mount_options(ctx, "discard,,x"), -EINVAL);
	assert_int_equal(dms_ctx_set_mount_options(ctx, "a b"), -EINVAL);
	/* Refused: what was set stays. */
	assert_string_equal(ctx->mount_options, "discard,commit=30");
	assert_int_equal(dms_ctx_set_mount_options(ctx, ""), 0);
	assert_null(ctx->mount_options);
	dms_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),      cmocka_unit_test(test_file_values_and_lines),
		cmocka_unit_test(test_precedence),    cmocka_unit_test(test_bad_lines_named),
		cmocka_unit_test(test_missing_files), cmocka_unit_test(test_library_settings),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
