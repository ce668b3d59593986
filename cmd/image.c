// SPDX-License-Identifier: LGPL-2.1-or-later
/* dmstore image create|import|ls|inspect|rm */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "dms-util.h"

static const char image_help[] =
	"usage: dmstore image <command> [--pool POOL] [<args>]\n\n"
	"  create NAME [--size 10G] [--json]   an empty image (ext4)\n"
	"  import NAME SOURCE [--size 10G] [--platform OS/ARCH] [--json]\n"
	"                                      an image from a rootfs tarball (plain, gzip, zstd, xz) or directory,\n"
	"                                      or oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REF]\n"
	"  ls [--json]\n"
	"  inspect NAME [--json]\n"
	"  rm NAME [--force] [--json]          --force removes its containers first\n\n"
	"--pool defaults to $DMSTORE_POOL, else the config file's pool, else the only pool there is.\n"
	"Commands that change the pool take --wait SECONDS: give up (exit 4) if another change holds it that long.\n";

static json_object *image_json(const struct dms_image_info *im)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(im->name));
	json_object_object_add(o, "state", json_object_new_string(im->ready ? "ready" : "importing"));
	json_object_object_add(o, "thin_id", json_object_new_int64(im->thin_id));
	json_object_object_add(o, "size", json_object_new_uint64(im->virtual_size));
	json_object_object_add(o, "containers", json_object_new_int64(im->containers));
	json_object_object_add(o, "source", json_object_new_string(im->source));
	json_object_object_add(o, "entries", json_object_new_uint64(im->entries));
	json_object_object_add(o, "bytes", json_object_new_uint64(im->bytes));
	json_object_object_add(o, "xattrs_dropped", json_object_new_uint64(im->xattrs_dropped));
	json_object_object_add(o, "created", json_object_new_int64(im->created));
	return o;
}

/* The image as 'image inspect --json' shows it, after a change; closes the pool. */
static int print_image_json(struct cmd_ctx *ctx, struct cmd_args *a, const char *name)
{
	_cleanup_(image_info_freep) struct dms_image_info *im = NULL;
	int r;

	r = dms_image_inspect(a->pool, name, &im);
	if (r < 0)
		return cmd_done(ctx, a, lib_error(ctx, r));
	json_print(image_json(im));
	return cmd_done(ctx, a, EXIT_OK);
}

static int image_create(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const char help[] = "usage: dmstore image create NAME [--size SIZE] [--json] [--pool POOL]\n\n"
				   "An empty image: a thin device of SIZE (default: image_size in dmstore.conf, else 10G;\n"
				   "virtual) with ext4.\n"
				   "--json prints the new image as 'image inspect --json' does.\n";
	struct cmd_args a = { .cmd = "image create", .help = help, .min_operands = 1, .max_operands = 1,
			      .allow_size = true, .allow_json = true, .allow_wait = true };
	int r;

	r = cmd_parse(ctx, &a, argc, argv);
	if (r)
		return r < 0 ? EXIT_OK : r;
	if (!dms_name_valid(a.operands[0]))
		return usage_error("image create: invalid image name '%s'", a.operands[0]);
	r = cmd_open_pool(ctx, &a);
	if (r)
		return r;
	r = dms_image_create(a.pool, a.operands[0], a.size ? a.size : ctx->config.image_size);
	if (r < 0)
		return cmd_done(ctx, &a, lib_error(ctx, r));
	if (!a.json) {
		printf("image '%s' created\n", a.operands[0]);
		return cmd_done(ctx, &a, EXIT_OK);
	}
	return print_image_json(ctx, &a, a.operands[0]);
}

static int image_import(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const char help[] =
		"usage: dmstore image import NAME SOURCE [--size SIZE] [--platform OS/ARCH] [--json] [--pool POOL]\n\n"
		"Unpack SOURCE into a new image of SIZE (default: image_size in dmstore.conf, else 10G;\n"
		"virtual). SOURCE is one of:\n"
		"  FILE | DIR                   a rootfs tarball (plain, gzip, zstd, xz, ...) or a directory\n"
		"  oci:DIR[:REF]                an OCI image layout; REF its org.opencontainers.image.ref.name\n"
		"  oci-archive:FILE[:REF]       a tar of an OCI image layout\n"
		"  docker-archive:FILE[:REF]    what 'docker save' writes; REF one of its tags\n"
		"FILE '-' is standard input. Without REF, the only image there is. --platform picks from a\n"
		"multi-platform index (default linux/amd64). Layers are applied in order, whiteouts deleting;\n"
		"every blob is checked against its digest. Owners, modes, links, device nodes, user.* xattrs,\n"
		"file capabilities and ACLs are kept (no other xattr: dmstore(8)); an entry that would land\n"
		"outside the rootfs fails the import, naming it. Other changes of the pool run while it\n"
		"unpacks; one killed leaves nothing the next change does not remove. --json prints the new\n"
		"image as 'image inspect --json' does, without the config.\n";
	struct cmd_args a = { .cmd = "image import", .help = help, .min_operands = 2, .max_operands = 2,
			      .allow_size = true, .allow_platform = true, .allow_json = true, .allow_wait = true };
	_cleanup_(image_info_freep) struct dms_image_info *im = NULL;
	struct progress prog;
	struct dms_import_opts opts = { .size = sizeof(opts), .progress = progress_show, .progress_arg = &prog };
	char b[32];
	int r;

	r = cmd_parse(ctx, &a, argc, argv);
	if (r)
		return r < 0 ? EXIT_OK : r;
	if (!dms_name_valid(a.operands[0]))
		return usage_error("image import: invalid image name '%s'", a.operands[0]);
	r = cmd_open_pool(ctx, &a);
	if (r)
		return r;
	/* For a human watching a long import; a script reads one line on failure, nothing else. */
	progress_init(&prog);
	if (prog.tty)
		fprintf(stderr, "importing '%s' into image '%s'...\n", a.operands[1], a.operands[0]);
	opts.image_size = a.size ? a.size : ctx->config.image_size;
	opts.platform = a.platform;
	r = dms_image_import_from(a.pool, a.operands[0], a.operands[1], &opts);
	progress_done(&prog);
	if (r < 0)
		return cmd_done(ctx, &a, lib_error(ctx, r));
	r = dms_image_inspect(a.pool, a.operands[0], &im);
	if (r < 0)
		return cmd_done(ctx, &a, lib_error(ctx, r));
	if (a.json) {
		json_print(image_json(im));
		return cmd_done(ctx, &a, EXIT_OK);
	}
	printf("image '%s' imported: %" PRIu64 " entries, %s of file data\n", im->name, im->entries,
	       dms_size_format(im->bytes, b, sizeof(b)));
	if (im->xattrs_dropped)
		printf("%" PRIu64 " xattr%s not imported: an image brings only user.*, security.capability and ACLs\n",
		       im->xattrs_dropped, im->xattrs_dropped == 1 ? "" : "s");
	return cmd_done(ctx, &a, EXIT_OK);
}

static int image_ls(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const char help[] = "usage: dmstore image ls [--json] [--pool POOL]\n";
	struct cmd_args a = { .cmd = "image ls", .help = help, .allow_json = true };
	struct dms_image_info **ims = NULL;
	size_t n = 0;
	int r;

	r = cmd_parse(ctx, &a, argc, argv);
	if (r)
		return r < 0 ? EXIT_OK : r;
	r = cmd_open_pool(ctx, &a);
	if (r)
		return r;
	r = dms_image_list(a.pool, &ims, &n);
	if (r < 0)
		return cmd_done(ctx, &a, lib_error(ctx, r));
	if (a.json) {
		json_object *arr = json_object_new_array();

		for (size_t i = 0; i < n; i++)
			json_object_array_add(arr, image_json(ims[i]));
		json_print(arr);
	} else {
		printf("%-24s %-9s %10s %10s %10s %8s\n", "NAME", "STATE", "SIZE", "DATA", "CONTAINERS", "THIN-ID");
		for (size_t i = 0; i < n; i++) {
			char s[32], d[32];

			printf("%-24s %-9s %10s %10s %10u %8" PRIu32 "\n", ims[i]->name,
			       ims[i]->ready ? "ready" : "importing",
			       dms_size_format(ims[i]->virtual_size, s, sizeof(s)),
			       dms_size_format(ims[i]->bytes, d, sizeof(d)), ims[i]->containers, ims[i]->thin_id);
		}
	}
	dms_image_list_free(ims, n);
	return cmd_done(ctx, &a, EXIT_OK);
}

/* A JSON value on one line, as the config has it: ["/bin/sh","-c"], {"80/tcp":{}}. */
static void print_field(const char *label, json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return;
	if (json_object_is_type(v, json_type_string))
		printf("%-11s %s\n", label, json_object_get_string(v));
	else
		printf("%-11s %s\n", label, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
									   JSON_C_TO_STRING_NOSLASHESCAPE));
}

static void print_config(json_object *cfg)
{
	json_object *c, *env;

	print_field("ref", cfg, "ref");
	print_field("manifest", cfg, "manifest");
	print_field("config", cfg, "config_digest");
	print_field("os", cfg, "os");
	print_field("arch", cfg, "architecture");
	print_field("layers", cfg, "layers");
	if (!json_object_object_get_ex(cfg, "config", &c))
		return;
	print_field("entrypoint", c, "Entrypoint");
	print_field("cmd", c, "Cmd");
	print_field("workdir", c, "WorkingDir");
	print_field("user", c, "User");
	if (json_object_object_get_ex(c, "Env", &env) && json_object_is_type(env, json_type_array))
		for (size_t i = 0; i < json_object_array_length(env); i++)
			printf("%-11s %s\n", "env", json_object_get_string(json_object_array_get_idx(env, i)));
	print_field("ports", c, "ExposedPorts");
	print_field("labels", c, "Labels");
}

static int image_inspect(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const char help[] = "usage: dmstore image inspect NAME [--json] [--pool POOL]\n";
	struct cmd_args a = { .cmd = "image inspect", .help = help, .min_operands = 1, .max_operands = 1,
			      .allow_json = true };
	_cleanup_(image_info_freep) struct dms_image_info *im = NULL;
	_cleanup_free_ char *config = NULL;
	json_object *cfg = NULL;
	char s[32], d[32];
	int r;

	r = cmd_parse(ctx, &a, argc, argv);
	if (r)
		return r < 0 ? EXIT_OK : r;
	r = cmd_open_pool(ctx, &a);
	if (r)
		return r;
	r = dms_image_inspect(a.pool, a.operands[0], &im);
	if (r == 0)
		r = dms_image_config(a.pool, a.operands[0], &config);
	if (r < 0)
		return cmd_done(ctx, &a, lib_error(ctx, r));
	cfg = json_tokener_parse(config);
	if (!cfg)
		cfg = json_object_new_object();
	if (a.json) {
		json_object *o = image_json(im);

		/* The kept config's keys beside the image's own; its "created" is the image author's date. */
		json_object_object_foreach(cfg, key, val) {
			if (strcmp(key, "source") == 0)
				continue;
			json_object_object_add(o, strcmp(key, "created") == 0 ? "image_created" : key, json_object_get(val));
		}
		json_print(o);
	} else {
		printf("%-11s %s\n%-11s %s\n%-11s %s\n%-11s %" PRIu32 "\n%-11s %s\n%-11s %" PRIu64
		       " entries, %s\n%-11s %u\n",
		       "image", im->name, "state", im->ready ? "ready" : "importing", "size",
		       dms_size_format(im->virtual_size, s, sizeof(s)), "thin id", im->thin_id, "source",
		       *im->source ? im->source : "(empty)", "contents", im->entries,
		       dms_size_format(im->bytes, d, sizeof(d)), "containers", im->containers);
		if (im->xattrs_dropped)
			printf("%-11s %" PRIu64 " not imported (only user.*, security.capability and ACLs are)\n", "xattrs",
			       im->xattrs_dropped);
		print_config(cfg);
	}
	json_object_put(cfg);
	return cmd_done(ctx, &a, EXIT_OK);
}

static int image_rm(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const char help[] = "usage: dmstore image rm NAME [--force] [--json] [--pool POOL]\n\n"
				   "Refused while containers use the image, unless --force, which removes them first.\n"
				   "--json prints {\"type\": \"image\", \"name\", \"pool\", \"removed\": true}.\n";
	struct cmd_args a = { .cmd = "image rm", .help = help, .min_operands = 1, .max_operands = 1,
			      .allow_force = true, .allow_json = true, .allow_wait = true };
	int r;

	r = cmd_parse(ctx, &a, argc, argv);
	if (r)
		return r < 0 ? EXIT_OK : r;
	r = cmd_open_pool(ctx, &a);
	if (r)
		return r;
	r = dms_image_remove(a.pool, a.operands[0], a.force);
	if (r < 0)
		return cmd_done(ctx, &a, lib_error(ctx, r));
	if (a.json)
		json_print(removed_json("image", a.operands[0], dms_pool_name(a.pool)));
	else
		printf("image '%s' removed\n", a.operands[0]);
	return cmd_done(ctx, &a, EXIT_OK);
}

static const struct cmd image_cmds[] = {
	{ "create", image_create, "an empty image" },
	{ "import", image_import, "an image from a tarball or directory" },
	{ "ls", image_ls, "list images" },
	{ "inspect", image_inspect, "one image" },
	{ "rm", image_rm, "remove an image" },
	{ NULL, NULL, NULL },
};

int cmd_image(int argc, char **argv, struct cmd_ctx *ctx)
{
	return dispatch("image", image_cmds, argc, argv, ctx, image_help);
}
