// SPDX-License-Identifier: LGPL-2.1-or-later
/* dmstore image create|import|ls|inspect|rm */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"

static const char image_help[] =
	"usage: dmstore image <command> [--pool POOL] [<args>]\n\n"
	"  create NAME [--size 10G]            an empty image (ext4)\n"
	"  import NAME SOURCE [--size 10G]     an image from a rootfs tarball (plain, gzip, zstd, xz) or directory\n"
	"  ls [--json]\n"
	"  inspect NAME [--json]\n"
	"  rm NAME [--force]                   --force removes its containers first\n\n"
	"--pool defaults to $DMSTORE_POOL, or to the only pool there is.\n";

static json_object *image_json(const struct dms_image_info *im)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(im->name));
	json_object_object_add(o, "state", json_object_new_string(im->ready ? "ready" : "importing"));
	json_object_object_add(o, "thin_id", json_object_new_int64(im->thin_id));
	json_object_object_add(o, "size", json_object_new_uint64(im->size));
	json_object_object_add(o, "containers", json_object_new_int64(im->containers));
	json_object_object_add(o, "source", json_object_new_string(im->source));
	json_object_object_add(o, "entries", json_object_new_uint64(im->entries));
	json_object_object_add(o, "bytes", json_object_new_uint64(im->bytes));
	json_object_object_add(o, "created", json_object_new_int64(im->created));
	return o;
}

static int image_create(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const char help[] = "usage: dmstore image create NAME [--size SIZE] [--pool POOL]\n\n"
				   "An empty image: a thin device of SIZE (default 10G, virtual) with ext4.\n";
	struct cmd_args a = { .cmd = "image create", .help = help, .min_operands = 1, .max_operands = 1,
			      .allow_size = true };
	int r;

	r = cmd_parse(&a, argc, argv);
	if (r)
		return r < 0 ? EXIT_OK : r;
	if (!dms_name_valid(a.operands[0]))
		return usage_error("image create: invalid image name '%s'", a.operands[0]);
	r = cmd_open_pool(ctx, &a);
	if (r)
		return r;
	r = dms_image_create(a.pool, a.operands[0], a.size);
	if (r < 0)
		return cmd_done(ctx, &a, lib_error(ctx, r));
	printf("image '%s' created\n", a.operands[0]);
	return cmd_done(ctx, &a, EXIT_OK);
}

static int image_import(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const char help[] =
		"usage: dmstore image import NAME SOURCE [--size SIZE] [--pool POOL]\n\n"
		"Unpack SOURCE, a rootfs tarball (plain, gzip, zstd, xz, ...) or a directory, into a new image\n"
		"of SIZE (default 10G, virtual). Owners, modes, links, device nodes, user.* xattrs, file\n"
		"capabilities and ACLs are kept (no other xattr: dmstore(8)); an entry that would land outside\n"
		"the rootfs fails the import, naming it.\n";
	struct cmd_args a = { .cmd = "image import", .help = help, .min_operands = 2, .max_operands = 2,
			      .allow_size = true };
	struct dms_image_info im;
	char b[32];
	int r;

	r = cmd_parse(&a, argc, argv);
	if (r)
		return r < 0 ? EXIT_OK : r;
	if (!dms_name_valid(a.operands[0]))
		return usage_error("image import: invalid image name '%s'", a.operands[0]);
	r = cmd_open_pool(ctx, &a);
	if (r)
		return r;
	/* For a human watching a long import; a script reads one line on failure, nothing else. */
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "importing '%s' into image '%s'...\n", a.operands[1], a.operands[0]);
	r = dms_image_import(a.pool, a.operands[0], a.operands[1], a.size);
	if (r < 0)
		return cmd_done(ctx, &a, lib_error(ctx, r));
	r = dms_image_inspect(a.pool, a.operands[0], &im);
	if (r < 0)
		return cmd_done(ctx, &a, lib_error(ctx, r));
	printf("image '%s' imported: %" PRIu64 " entries, %s of file data\n", im.name, im.entries,
	       dms_size_format(im.bytes, b, sizeof(b)));
	return cmd_done(ctx, &a, EXIT_OK);
}

static int image_ls(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const char help[] = "usage: dmstore image ls [--json] [--pool POOL]\n";
	struct cmd_args a = { .cmd = "image ls", .help = help, .allow_json = true };
	struct dms_image_info *ims = NULL;
	size_t n = 0;
	int r;

	r = cmd_parse(&a, argc, argv);
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
			json_object_array_add(arr, image_json(&ims[i]));
		json_print(arr);
	} else {
		printf("%-24s %-9s %10s %10s %10s %8s\n", "NAME", "STATE", "SIZE", "DATA", "CONTAINERS", "THIN-ID");
		for (size_t i = 0; i < n; i++) {
			char s[32], d[32];

			printf("%-24s %-9s %10s %10s %10u %8" PRIu32 "\n", ims[i].name,
			       ims[i].ready ? "ready" : "importing", dms_size_format(ims[i].size, s, sizeof(s)),
			       dms_size_format(ims[i].bytes, d, sizeof(d)), ims[i].containers, ims[i].thin_id);
		}
	}
	free(ims);
	return cmd_done(ctx, &a, EXIT_OK);
}

static int image_inspect(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const char help[] = "usage: dmstore image inspect NAME [--json] [--pool POOL]\n";
	struct cmd_args a = { .cmd = "image inspect", .help = help, .min_operands = 1, .max_operands = 1,
			      .allow_json = true };
	struct dms_image_info im;
	char s[32], d[32];
	int r;

	r = cmd_parse(&a, argc, argv);
	if (r)
		return r < 0 ? EXIT_OK : r;
	r = cmd_open_pool(ctx, &a);
	if (r)
		return r;
	r = dms_image_inspect(a.pool, a.operands[0], &im);
	if (r < 0)
		return cmd_done(ctx, &a, lib_error(ctx, r));
	if (a.json) {
		json_print(image_json(&im));
	} else {
		printf("%-11s %s\n%-11s %s\n%-11s %s\n%-11s %" PRIu32 "\n%-11s %s\n%-11s %" PRIu64 " entries, %s\n%-11s %u\n",
		       "image", im.name, "state", im.ready ? "ready" : "importing", "size",
		       dms_size_format(im.size, s, sizeof(s)), "thin id", im.thin_id, "source",
		       *im.source ? im.source : "(empty)", "contents", im.entries,
		       dms_size_format(im.bytes, d, sizeof(d)), "containers", im.containers);
	}
	return cmd_done(ctx, &a, EXIT_OK);
}

static int image_rm(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const char help[] = "usage: dmstore image rm NAME [--force] [--pool POOL]\n\n"
				   "Refused while containers use the image, unless --force, which removes them first.\n";
	struct cmd_args a = { .cmd = "image rm", .help = help, .min_operands = 1, .max_operands = 1,
			      .allow_force = true };
	int r;

	r = cmd_parse(&a, argc, argv);
	if (r)
		return r < 0 ? EXIT_OK : r;
	r = cmd_open_pool(ctx, &a);
	if (r)
		return r;
	r = dms_image_remove(a.pool, a.operands[0], a.force);
	if (r < 0)
		return cmd_done(ctx, &a, lib_error(ctx, r));
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
