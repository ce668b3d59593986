/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* runtime/: the run spec from an image config and options, config.json, users in the image. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "dms-util.h"
#include "pool/internal.h"
#include "runtime/runtime.h"

static const char image_config[] =
	"{\"manifest\":\"sha256:00\",\"config\":{\"Env\":[\"A=1\",\"B=two\"],\"Entrypoint\":[\"/bin/ep\"],"
	"\"Cmd\":[\"--flag\"],\"WorkingDir\":\"/data\",\"User\":\"app\"}}";

static const char *arg(const struct dms_run_spec *s, size_t i)
{
	assert_true(i < s->n_args);
	return s->args[i];
}

static void test_spec_from_image(void **state)
{
	struct dms_run_opts o = { .image = "img" };
	struct dms_run_spec s;
	char err[256];

	assert_int_equal(dms_run_spec_make(&o, image_config, "c1", &s, err, sizeof(err)), 0);
	assert_int_equal(s.n_args, 2);
	assert_string_equal(arg(&s, 0), "/bin/ep");
	assert_string_equal(arg(&s, 1), "--flag");
	assert_string_equal(s.workdir, "/data");
	assert_string_equal(s.user, "app");
	assert_string_equal(s.hostname, "c1");
	/* The image's env, a PATH it lacked, HOSTNAME. */
	assert_int_equal(s.n_env, 4);
	assert_string_equal(s.env[0], "A=1");
	assert_true(strncmp(s.env[2], "PATH=", 5) == 0);
	assert_string_equal(s.env[3], "HOSTNAME=c1");
	dms_run_spec_clear(&s);
}

static void test_spec_overrides(void **state)
{
	const char *env[] = { "B=three", "C=4", "DMS_TEST_UNSET_VAR" };
	const char *args[] = { "sh", "-c", "true" };
	struct dms_run_opts o = { .image = "img", .env = env, .n_env = 3, .args = args, .n_args = 3,
				  .workdir = "/w", .user = "0:0", .hostname = "h" };
	struct dms_run_opts ep = { .image = "img", .entrypoint = "/bin/other" };
	struct dms_run_spec s;
	char err[256];

	assert_int_equal(dms_run_spec_make(&o, image_config, "c1", &s, err, sizeof(err)), 0);
	/* CMD replaces Cmd only: the Entrypoint stays. */
	assert_int_equal(s.n_args, 4);
	assert_string_equal(arg(&s, 0), "/bin/ep");
	assert_string_equal(arg(&s, 1), "sh");
	assert_string_equal(s.env[1], "B=three");
	assert_string_equal(s.env[4], "C=4");
	assert_int_equal(s.n_env, 5);
	assert_string_equal(s.workdir, "/w");
	assert_string_equal(s.user, "0:0");
	dms_run_spec_clear(&s);
	/* --entrypoint drops the image's Cmd too. */
	assert_int_equal(dms_run_spec_make(&ep, image_config, "c1", &s, err, sizeof(err)), 0);
	assert_int_equal(s.n_args, 1);
	assert_string_equal(arg(&s, 0), "/bin/other");
	dms_run_spec_clear(&s);
}

static void test_spec_no_command(void **state)
{
	struct dms_run_opts o = { .image = "img" };
	struct dms_run_spec s;
	char err[256];

	assert_int_equal(dms_run_spec_make(&o, "{\"config\":{\"Env\":[]}}", "c1", &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "image 'img' has no command"));
	assert_int_equal(dms_run_spec_make(&o, "{}", "c1", &s, err, sizeof(err)), -EINVAL);
}

static void test_spec_json_round_trip(void **state)
{
	struct dms_run_volume vol = { .size = sizeof(vol), .name = "data", .path = "/vol", .read_only = true };
	const struct dms_run_volume *vols[] = { &vol };
	const char *args[] = { "echo", "hi" };
	struct dms_run_opts o = { .image = "img", .args = args, .n_args = 2, .volumes = vols, .n_volumes = 1,
				  .runtime = "runc", .host_network = true, .read_only = true };
	struct dms_run_spec s, back;
	char err[256], *json = NULL, *again = NULL;

	assert_int_equal(dms_run_spec_make(&o, NULL, "c1", &s, err, sizeof(err)), 0);
	assert_int_equal(dms_run_spec_to_json(&s, &json), 0);
	assert_int_equal(dms_run_spec_from_json(json, &back), 0);
	assert_int_equal(dms_run_spec_to_json(&back, &again), 0);
	assert_string_equal(json, again);
	assert_int_equal(back.n_volumes, 1);
	assert_true(back.volumes[0].read_only);
	assert_true(back.host_network && back.read_only);
	assert_string_equal(back.runtime, "runc");
	dms_run_spec_clear(&back);
	assert_int_equal(dms_run_spec_from_json("{\"image\":\"x\"}", &back), -EINVAL);
	dms_run_spec_clear(&s);
	free(json);
	free(again);
}

static json_object *path(json_object *o, const char *key)
{
	json_object *v = NULL;

	assert_true(json_object_object_get_ex(o, key, &v));
	return v;
}

static bool has_namespace(json_object *cfg, const char *type)
{
	json_object *ns = path(path(cfg, "linux"), "namespaces");

	for (size_t i = 0; i < json_object_array_length(ns); i++)
		if (strcmp(json_object_get_string(path(json_object_array_get_idx(ns, i), "type")), type) == 0)
			return true;
	return false;
}

static void test_bundle_config(void **state)
{
	const char *args[] = { "sh" };
	struct dms_run_opts o = { .image = "img", .args = args, .n_args = 1, .read_only = true };
	struct dms_run_spec s;
	json_object *cfg, *caps;
	char err[256];

	assert_int_equal(dms_run_spec_make(&o, NULL, "c1", &s, err, sizeof(err)), 0);
	assert_int_equal(dms_bundle_config(&s, "/mnt/c1", 1234, 5678, &cfg), 0);
	assert_string_equal(json_object_get_string(path(path(cfg, "root"), "path")), "/mnt/c1");
	assert_true(json_object_get_boolean(path(path(cfg, "root"), "readonly")));
	assert_int_equal(json_object_get_int(path(path(path(cfg, "process"), "user"), "uid")), 1234);
	assert_int_equal(json_object_get_int(path(path(path(cfg, "process"), "user"), "gid")), 5678);
	caps = path(path(cfg, "process"), "capabilities");
	/* Not root: the defaults bound it, none are effective. */
	assert_int_equal(json_object_array_length(path(caps, "effective")), 0);
	assert_true(json_object_array_length(path(caps, "bounding")) > 10);
	assert_true(has_namespace(cfg, "pid") && has_namespace(cfg, "mount") && has_namespace(cfg, "network"));
	assert_false(json_object_object_get_ex(path(cfg, "linux"), "seccomp", NULL));
	json_object_put(cfg);
	s.host_network = true;
	assert_int_equal(dms_bundle_config(&s, "/mnt/c1", 0, 0, &cfg), 0);
	assert_false(has_namespace(cfg, "network"));
	assert_true(json_object_array_length(path(path(path(cfg, "process"), "capabilities"), "effective")) > 10);
	json_object_put(cfg);
	dms_run_spec_clear(&s);
}

static int rm_one(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(p) < 0 ? -1 : 0;
}

static void put(const char *dir, const char *name, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_user_resolve(void **state)
{
	char dir[] = "/tmp/dms-runtime-XXXXXX", root[64], etc[96], err[256];
	int rootfd;
	uid_t uid;
	gid_t gid;

	assert_non_null(mkdtemp(dir));
	snprintf(root, sizeof(root), "%s/root", dir);
	assert_int_equal(mkdir(root, 0755), 0);
	snprintf(etc, sizeof(etc), "%s/etc", root);
	put(dir, "hostpasswd", "root:x:0:0::/root:/bin/sh\n");
	assert_int_equal(mkdir(etc, 0755), 0);
	put(etc, "passwd", "root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n");
	put(etc, "group", "root:x:0:\nstaff:x:50:\n");
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(rootfd >= 0);
	assert_int_equal(dms_run_user_resolve(rootfd, "", &uid, &gid, err, sizeof(err)), 0);
	assert_true(uid == 0 && gid == 0);
	assert_int_equal(dms_run_user_resolve(rootfd, "app", &uid, &gid, err, sizeof(err)), 0);
	assert_true(uid == 1000 && gid == 1001);
	assert_int_equal(dms_run_user_resolve(rootfd, "1000", &uid, &gid, err, sizeof(err)), 0);
	assert_true(uid == 1000 && gid == 1001);
	assert_int_equal(dms_run_user_resolve(rootfd, "app:staff", &uid, &gid, err, sizeof(err)), 0);
	assert_true(uid == 1000 && gid == 50);
	assert_int_equal(dms_run_user_resolve(rootfd, "4321:8765", &uid, &gid, err, sizeof(err)), 0);
	assert_true(uid == 4321 && gid == 8765);
	assert_int_equal(dms_run_user_resolve(rootfd, "nobody", &uid, &gid, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "user 'nobody'"));
	/* The image's /etc, never the host's: a symlink out of the rootfs stays inside it. */
	assert_int_equal(unlink(strcat(etc, "/passwd")), 0);
	assert_int_equal(symlink("../../hostpasswd", etc), 0);
	assert_int_equal(dms_run_user_resolve(rootfd, "root", &uid, &gid, err, sizeof(err)), -EINVAL);
	(void)close(rootfd);
	(void)nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/*
 * The public dms_run_create refuses what it is given before it touches the
 * pool (this one has no catalogue: a call that got further would crash), as
 * invalid input, naming what is wrong.
 */
static void test_run_create_refuses_bad_opts(void **state)
{
	struct dms_ctx *ctx;
	struct dms_pool pool = { 0 };
	struct dms_run_volume rel = { .size = sizeof(rel), .name = "data", .path = "vol" };
	/* A newer caller's struct, a field this library does not know set. */
	struct {
		struct dms_run_volume v;
		uint64_t unknown;
	} big = { .v = { .size = sizeof(big), .name = "data", .path = "/vol" }, .unknown = 1 };
	struct dms_run_volume bad = { .size = sizeof(bad), .name = "../x", .path = "/vol" };
	const struct dms_run_volume *rel_v[] = { &rel }, *big_v[] = { &big.v }, *bad_v[] = { &bad };
	const struct dms_run_volume *many[DMS_RUN_VOLUMES_MAX + 1];
	struct dms_run_opts o = { .size = sizeof(o), .image = "img" };
	struct {
		struct dms_run_opts o;
		uint64_t unknown;
	} larger = { .o = o, .unknown = 1 };
	char *name = NULL;

	assert_int_equal(dms_ctx_new(&ctx), 0);
	pool.ctx = ctx;
	assert_int_equal(dms_run_create(&pool, NULL, &name), -EINVAL);
	larger.o.size = sizeof(larger);
	assert_int_equal(dms_run_create(&pool, &larger.o, &name), -E2BIG);
	assert_int_equal(dms_ctx_error_kind(ctx), DMS_ERROR_INVALID);
	assert_non_null(strstr(dms_ctx_error(ctx), "does not know"));
	o.size = 4;
	assert_int_equal(dms_run_create(&pool, &o, &name), -EINVAL);
	assert_non_null(strstr(dms_ctx_error(ctx), "DMS_OPTS_INIT"));
	o.size = sizeof(o);
	o.image = "no/such";
	assert_int_equal(dms_run_create(&pool, &o, &name), -EINVAL);
	assert_non_null(strstr(dms_ctx_error(ctx), "image 'no/such'"));
	o.image = "img";
	o.name = "..";
	assert_int_equal(dms_run_create(&pool, &o, &name), -EINVAL);
	assert_non_null(strstr(dms_ctx_error(ctx), "container '..'"));
	o.name = NULL;
	o.n_args = 1;
	assert_int_equal(dms_run_create(&pool, &o, &name), -EINVAL);
	o.n_args = 0;
	o.n_volumes = 1;
	o.volumes = rel_v;
	assert_int_equal(dms_run_create(&pool, &o, &name), -EINVAL);
	assert_non_null(strstr(dms_ctx_error(ctx), "must be absolute"));
	o.volumes = big_v;
	assert_int_equal(dms_run_create(&pool, &o, &name), -E2BIG);
	o.volumes = bad_v;
	assert_int_equal(dms_run_create(&pool, &o, &name), -EINVAL);
	assert_non_null(strstr(dms_ctx_error(ctx), "volume '../x'"));
	for (size_t i = 0; i < DMS_ARRAY_SIZE(many); i++)
		many[i] = &rel;
	o.volumes = many;
	o.n_volumes = DMS_ARRAY_SIZE(many);
	assert_int_equal(dms_run_create(&pool, &o, &name), -EINVAL);
	assert_int_equal(dms_ctx_error_kind(ctx), DMS_ERROR_INVALID);
	assert_int_equal(dms_run_begin(&pool, "a/b", NULL), -EINVAL);
	assert_int_equal(dms_run_status(&pool, "", NULL), -EINVAL);
	/* Freeing nothing is fine. */
	assert_int_equal(dms_run_end(NULL, 0), 0);
	dms_run_status_free(NULL);
	assert_null(name);
	dms_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_from_image),
		cmocka_unit_test(test_spec_overrides),
		cmocka_unit_test(test_spec_no_command),
		cmocka_unit_test(test_spec_json_round_trip),
		cmocka_unit_test(test_bundle_config),
		cmocka_unit_test(test_user_resolve),
		cmocka_unit_test(test_run_create_refuses_bad_opts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
