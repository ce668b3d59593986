/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * util/exec.c: helpers are found in DMS_EXEC_PATH only, whatever $PATH says,
 * and run with an environment of their own, whatever the caller's holds.
 */
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

#include "dms-exec.h"
#include "dms-util.h"

static char dir[] = "/tmp/dms-test-exec-XXXXXX";
static char marker[128];
static char *saved_path;

/* An executable shell script NAME in DIR that leaves the marker file behind when it runs. */
static void fake_program(const char *name)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\ntouch '%s'\n", marker);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0755), 0);
}

static int setup(void **state)
{
	const char *path = getenv("PATH");
	char *with_fakes = NULL;

	if (!mkdtemp(dir))
		return -1;
	snprintf(marker, sizeof(marker), "%s/ran", dir);
	fake_program("thin_check");
	fake_program("dms-test-only-on-path");
	saved_path = strdup(path ? path : "");
	/* The fakes come first on $PATH, as a hostile or careless caller's PATH would put them. */
	if (!saved_path || asprintf(&with_fakes, "%s:%s", dir, saved_path) < 0)
		return -1;
	setenv("PATH", with_fakes, 1);
	setenv("DMS_TEST_SECRET", "hunter2", 1);
	free(with_fakes);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	setenv("PATH", saved_path, 1);
	unsetenv("DMS_TEST_SECRET");
	free(saved_path);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_path_is_not_searched(void **state)
{
	const char *check[] = { "thin_check", "-V", NULL };
	const char *only[] = { "dms-test-only-on-path", NULL };
	_cleanup_free_ char *out = NULL;
	int r, status = -1;

	r = dms_exec(check, &out, NULL, &status);
	/* The real one from /usr/sbin, or none at all: never the one $PATH offers. */
	assert_true(r == 0 || r == -ENOPKG);
	if (r == 0) {
		assert_int_equal(status, 0);
		assert_true(out[0] >= '0' && out[0] <= '9'); /* its version */
	}
	assert_int_equal(dms_exec(only, NULL, NULL, &status), -ENOPKG);
	assert_int_equal(access(marker, F_OK), -1);
}

static void test_environment_is_clean(void **state)
{
	const char *env[] = { "env", NULL };
	_cleanup_free_ char *out = NULL;
	int status = -1;

	assert_int_equal(dms_exec(env, &out, NULL, &status), 0);
	assert_int_equal(status, 0);
	assert_string_equal(out, "PATH=" DMS_EXEC_PATH "\nLC_ALL=C\n");
}

static void test_environment_when_given(void **state)
{
	const char *env[] = { "/usr/bin/env", NULL };
	char *const envp[] = { "A=1", NULL };
	_cleanup_free_ char *out = NULL;
	int status = -1;

	assert_int_equal(dms_exec_env(env, envp, &out, NULL, &status), 0);
	assert_string_equal(out, "A=1\n");
}

static void test_status_and_output(void **state)
{
	const char *sh[] = { "sh", "-c", "echo out; echo err >&2; exit 3", NULL };
	const char *relative[] = { "./thin_check", NULL };
	_cleanup_free_ char *out = NULL, *err = NULL;
	int status = -1;

	assert_int_equal(dms_exec(sh, &out, &err, &status), 0);
	assert_int_equal(status, 3);
	assert_string_equal(out, "out\n");
	assert_string_equal(err, "err\n");
	assert_int_equal(dms_exec(relative, NULL, NULL, &status), -EINVAL);
}

static void test_missing_names_the_package(void **state)
{
	char buf[160];

	assert_string_equal(dms_exec_strerror(-ENOPKG, "thin_check", buf, sizeof(buf)),
			    "thin_check not found in /usr/sbin:/usr/bin:/sbin:/bin (install thin-provisioning-tools)");
	assert_string_equal(dms_exec_strerror(-ENOPKG, "resize2fs", buf, sizeof(buf)),
			    "resize2fs not found in /usr/sbin:/usr/bin:/sbin:/bin (install e2fsprogs)");
	assert_string_equal(dms_exec_strerror(-ENOPKG, "frob", buf, sizeof(buf)),
			    "frob not found in /usr/sbin:/usr/bin:/sbin:/bin");
	assert_string_equal(dms_exec_strerror(-EIO, "thin_check", buf, sizeof(buf)), strerror(EIO));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_is_not_searched),
		cmocka_unit_test(test_environment_is_clean),
		cmocka_unit_test(test_environment_when_given),
		cmocka_unit_test(test_status_and_output),
		cmocka_unit_test(test_missing_names_the_package),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
