// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The Docker volume plugin's request handling, without HTTP and without a
 * pool: the routes, the bodies it refuses, the create options, and that a
 * refusal is one line of {"Err": ...}. A request that passes every check
 * reaches the library, which finds no pool in the empty state dir. And its
 * share of dmstore.conf, taken as the dmstore command takes it.
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

#include "docker/plugin.h"
#include "pool/internal.h"

static char state_dir[] = "/tmp/dmstore-unit-docker-XXXXXX";
static struct plugin plugin = { .default_size = PLUGIN_DEFAULT_SIZE };

static int setup(void **state)
{
	char run[sizeof(state_dir) + 8];

	if (!mkdtemp(state_dir))
		return -1;
	snprintf(run, sizeof(run), "%s/run", state_dir);
	setenv("DMSTORE_STATE_DIR", state_dir, 1);
	setenv("DMSTORE_RUN_DIR", run, 1);
	return dms_ctx_new(&plugin.ctx);
}

static int teardown(void **state)
{
	char cmd[sizeof(state_dir) + 16];

	dms_ctx_free(plugin.ctx);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", state_dir);
	return system(cmd);
}

/* POST BODY to PATH; the answer's status is checked, its JSON returned (put it). */
static json_object *call(const char *path, const char *body, int want_status)
{
	char *text = NULL;
	json_object *o;
	int status;

	status = plugin_dispatch(&plugin, path, body, strlen(body), &text);
	assert_int_equal(status, want_status);
	o = json_tokener_parse(text);
	assert_non_null(o);
	free(text);
	return o;
}

/* The call fails with STATUS and an Err of one line that contains MSG. */
static void refused(const char *path, const char *body, int status, const char *msg)
{
	json_object *o = call(path, body, status), *err;
	const char *s;

	assert_true(json_object_object_get_ex(o, "Err", &err));
	s = json_object_get_string(err);
	if (!strstr(s, msg))
		fail_msg("%s %s: Err '%s' does not say '%s'", path, body, s, msg);
	assert_null(strchr(s, '\n'));
	assert_int_equal(json_object_object_length(o), 1);
	json_object_put(o);
}

/* As refused, with 500, for the plugin P. */
static void refused_by(struct plugin *p, const char *path, const char *msg)
{
	char *text = NULL;

	assert_int_equal(plugin_dispatch(p, path, "", 0, &text), 500);
	if (!strstr(text, msg))
		fail_msg("%s: '%s' does not say '%s'", path, text, msg);
	free(text);
}

static void activate_and_capabilities(void **state)
{
	const char *bodies[] = { "", "{}", "null\n", "  {}  \n" };
	json_object *o, *v;

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		o = call("/Plugin.Activate", bodies[i], 200);
		assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
				    "{\"Implements\":[\"VolumeDriver\"]}");
		json_object_put(o);
	}
	o = call("/VolumeDriver.Capabilities", "{}", 200);
	assert_true(json_object_object_get_ex(o, "Capabilities", &v));
	assert_true(json_object_object_get_ex(v, "Scope", &v));
	assert_string_equal(json_object_get_string(v), "local");
	json_object_put(o);
}

static void bad_bodies(void **state)
{
	char *big = malloc(PLUGIN_BODY_MAX + 2);

	refused("/VolumeDriver.Frobnicate", "{}", 404, "no such endpoint '/VolumeDriver.Frobnicate'");
	refused("/VolumeDriver.Create", "{\"Name\":", 400, "not JSON: unexpected end of data");
	refused("/VolumeDriver.Create", "{} {}", 400, "not JSON: unexpected character");
	refused("/VolumeDriver.Create", "{\"Name\":\"v1\",}", 400, "not JSON");
	refused("/VolumeDriver.Create", "[\"v1\"]", 400, "not a JSON object");
	refused("/VolumeDriver.Create", "\"v1\"", 400, "not a JSON object");
	assert_non_null(big);
	memset(big, ' ', PLUGIN_BODY_MAX + 1);
	big[0] = '{';
	big[PLUGIN_BODY_MAX] = '}';
	big[PLUGIN_BODY_MAX + 1] = '\0';
	refused("/VolumeDriver.Create", big, 413, "over");
	free(big);
}

static void names_and_ids(void **state)
{
	refused("/VolumeDriver.Create", "{\"Opts\":{}}", 500, "VolumeDriver.Create: the request has no Name");
	refused("/VolumeDriver.Create", "{\"Name\":null}", 500, "the request has no Name");
	refused("/VolumeDriver.Create", "{\"Name\":7}", 500, "VolumeDriver.Create: Name is not a string");
	refused("/VolumeDriver.Remove", "{\"Name\":\"\"}", 500, "VolumeDriver.Remove: Name is empty");
	refused("/VolumeDriver.Mount", "{\"Name\":\"v1\"}", 500, "VolumeDriver.Mount: the request has no ID");
	refused("/VolumeDriver.Unmount", "{\"Name\":\"v1\",\"ID\":[]}", 500,
		"VolumeDriver.Unmount: ID is not a string");
	refused("/VolumeDriver.Get", "{}", 500, "VolumeDriver.Get: the request has no Name");
	refused("/VolumeDriver.Path", "{}", 500, "VolumeDriver.Path: the request has no Name");
}

static void create_options_refused(void **state)
{
	refused("/VolumeDriver.Create", "{\"Name\":\"v1\",\"Opts\":{\"sise\":\"1G\"}}", 500,
		"unknown option 'sise': a dmstore volume takes size, snapshot-of and label");
	refused("/VolumeDriver.Create", "{\"Name\":\"v1\",\"Opts\":{\"size\":\"12Q\"}}", 500,
		"--opt size: invalid size '12Q' (use a number with an optional K, M, G, T suffix)");
	refused("/VolumeDriver.Create", "{\"Name\":\"v1\",\"Opts\":{\"size\":\"\"}}", 500,
		"--opt size: invalid size ''");
	refused("/VolumeDriver.Create", "{\"Name\":\"v1\",\"Opts\":{\"size\":\"0\"}}", 500,
		"--opt size must be more than 0");
	refused("/VolumeDriver.Create", "{\"Name\":\"v1\",\"Opts\":{\"size\":1073741824}}", 500,
		"--opt size: the value is not a string");
	refused("/VolumeDriver.Create", "{\"Name\":\"v1\",\"Opts\":\"size=1G\"}", 500, "Opts is not a map of strings");
	refused("/VolumeDriver.Create", "{\"Name\":\"v1\",\"Opts\":{\"snapshot-of\":\"v0\",\"size\":\"1G\"}}", 500,
		"--opt snapshot-of takes neither size nor label");
	refused("/VolumeDriver.Create", "{\"Name\":\"v1\",\"Opts\":{\"label\":\"x\",\"snapshot-of\":\"v0\"}}", 500,
		"--opt snapshot-of takes neither size nor label");
}

/* Past every check of the plugin's own, a request is the library's: here it finds no pool, and nothing is made. */
static void good_requests_reach_the_library(void **state)
{
	const char *ok[] = {
		"{\"Name\":\"v1\"}",
		"{\"Name\":\"v1\",\"Opts\":null}",
		"{\"Name\":\"v1\",\"Opts\":{\"size\":\"20G\",\"label\":\"data\"}}",
		"{\"Name\":\"v1\",\"Opts\":{\"snapshot-of\":\"v0\"}}",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		refused("/VolumeDriver.Create", ok[i], 500, "there is no pool");
	refused("/VolumeDriver.Mount", "{\"Name\":\"v1\",\"ID\":\"abc\"}", 500, "there is no pool");
	refused("/VolumeDriver.List", "", 500, "there is no pool");
	assert_int_equal(rmdir(state_dir), 0);
	assert_int_equal(mkdir(state_dir, 0700), 0);
}

static void create_options_parsed(void **state)
{
	struct plugin_call c = { .plugin = &plugin, .method = "VolumeDriver.Create" };
	struct plugin_create_opts o;
	json_object *opts;

	opts = json_tokener_parse("{\"size\":\"1G\",\"label\":\"data\"}");
	assert_int_equal(plugin_create_opts_parse(&c, opts, &o), 0);
	assert_int_equal(o.size, 1ULL << 30);
	assert_string_equal(o.label, "data");
	assert_null(o.snapshot_of);
	json_object_put(opts);

	opts = json_tokener_parse("{\"snapshot-of\":\"v0\"}");
	assert_int_equal(plugin_create_opts_parse(&c, opts, &o), 0);
	assert_int_equal(o.size, 0);
	assert_string_equal(o.snapshot_of, "v0");
	json_object_put(opts);

	assert_int_equal(plugin_create_opts_parse(&c, NULL, &o), 0);
	assert_int_equal(o.size, 0);
	assert_null(o.label);
	assert_int_equal(plugin_create_opts_parse(&c, json_object_new_null(), &o), 0);
}

/* Write TEXT to the config file under the state dir; its path. */
static const char *conf(const char *text)
{
	static char path[sizeof(state_dir) + 16];
	FILE *f;

	snprintf(path, sizeof(path), "%s/plugin.conf", state_dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* The pool, the free-space floor and the mount options come from the file; --pool, then $DMSTORE_POOL, win. */
static void config_file_read(void **state)
{
	struct plugin p = { .default_size = PLUGIN_DEFAULT_SIZE };
	const char *path = conf("[dmstore]\npool = fromfile\nmin_free = 25\nmount_options = discard\n"
				"image_size = 1G\n[autoextend]\nlimit = 1T\n");
	char err[512] = "";

	unsetenv("DMSTORE_POOL");
	unsetenv("DMSTORE_CONFIG");
	assert_int_equal(dms_ctx_new(&p.ctx), 0);
	assert_int_equal(plugin_configure(&p, path, NULL, err, sizeof(err)), 0);
	assert_string_equal(p.pool_name, "fromfile");
	assert_int_equal(p.ctx->min_free_percent, 25);
	assert_string_equal(p.ctx->mount_options, "discard");
	refused_by(&p, "/VolumeDriver.List", "pool 'fromfile' does not exist");

	setenv("DMSTORE_POOL", "fromenv", 1);
	assert_int_equal(plugin_configure(&p, path, NULL, err, sizeof(err)), 0);
	assert_string_equal(p.pool_name, "fromenv");
	assert_int_equal(plugin_configure(&p, path, "fromflag", err, sizeof(err)), 0);
	assert_string_equal(p.pool_name, "fromflag");
	/* --pool "": the only pool there is. */
	assert_int_equal(plugin_configure(&p, path, "", err, sizeof(err)), 0);
	assert_null(p.pool_name);
	unsetenv("DMSTORE_POOL");

	/* $DMSTORE_CONFIG names the file as for dmstore; a bad line is named. */
	setenv("DMSTORE_CONFIG", conf("[dmstore]\nmin_free = 5\nmount_options = ro\n"), 1);
	assert_int_equal(plugin_configure(&p, NULL, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "plugin.conf, line 3: "));
	conf("[dmstore]\nsize = 5\n");
	assert_int_equal(plugin_configure(&p, NULL, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "plugin.conf, line 2: unknown key 'size' in [dmstore]"));
	assert_int_equal(plugin_configure(&p, NULL, "-bad", err, sizeof(err)), -EINVAL);
	unsetenv("DMSTORE_CONFIG");
	assert_int_equal(plugin_configure(&p, "/nonexistent/dmstore.conf", NULL, err, sizeof(err)), -ENOENT);
	assert_int_equal(unlink(path), 0);
	dms_ctx_free(p.ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(activate_and_capabilities),
		cmocka_unit_test(bad_bodies),
		cmocka_unit_test(names_and_ids),
		cmocka_unit_test(create_options_refused),
		cmocka_unit_test(good_requests_reach_the_library),
		cmocka_unit_test(create_options_parsed),
		cmocka_unit_test(config_file_read),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
