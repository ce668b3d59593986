// SPDX-License-Identifier: LGPL-2.1-or-later
/* dmstore snap create|mount|umount|rm|ls|inspect: containers' writable layers */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"

static const char snap_help[] =
	"usage: dmstore snap <command> [--pool POOL] [<args>]\n\n"
	"  create NAME --image IMG [--size S] [--json]\n"
	"                                       a container's writable layer: a thin snapshot of IMG, activated\n"
	"  mount NAME [DIR] [--json]            mount it (default DIR: $DMSTORE_STATE_DIR/POOL/mnt/NAME)\n"
	"  umount NAME [--json]\n"
	"  rm NAME [--json]                     unmount, deactivate and delete it: its data is gone\n"
	"  ls [--json]\n"
	"  inspect NAME [--json]\n\n"
	"--pool defaults to $DMSTORE_POOL, else the config file's pool, else the only pool there is.\n"
	"Commands that change the pool take --wait SECONDS: give up (exit 4) if another change holds it that long.\n";

static json_object *snap_json(const struct dms_snap_info *s)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(s->name));
	json_object_object_add(o, "image", json_object_new_string(s->image));
	json_object_object_add(o, "thin_id", json_object_new_int64(s->thin_id));
	json_object_object_add(o, "size", json_object_new_uint64(s->virtual_size));
	json_object_object_add(o, "used", s->active ? json_object_new_uint64(s->used) : NULL);
	json_object_object_add(o, "active", json_object_new_boolean(s->active));
	json_object_object_add(o, "device", json_object_new_string(s->device));
	json_object_object_add(o, "mountpoint", *s->mountpoint ? json_object_new_string(s->mountpoint) : NULL);
	json_object_object_add(o, "created", json_object_new_int64(s->created));
	return o;
}

/* The container as 'snap inspect --json' shows it, after a change; closes the pool. */
static int print_snap_json(struct cmd_ctx *ctx, struct cmd_args *a, const char *name)
{
	_cleanup_(snap_info_freep) struct dms_snap_info *s = NULL;
	int r;

	r = dms_snap_inspect(a->pool, name, &s);
	if (r < 0)
		return cmd_done(ctx, a, lib_error(ctx, r));
	json_print(snap_json(s));
	return cmd_done(ctx, a, EXIT_OK);
}

static int snap_create(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const char help[] =
		"usage: dmstore snap create NAME --image IMG [--size SIZE] [--json] [--pool POOL]\n\n"
		"A thin snapshot of IMG's base device, activated: the container's writable layer. It costs no\n"
		"space until written. SIZE (default: the image's) may be larger; the filesystem grows to it.\n";
	struct cmd_args a = { .cmd = "snap create", .help = help, .min_operands = 1, .max_operands = 1,
			      .allow_size = true, .allow_image = true, .allow_json = true, .allow_wait = true };
	_cleanup_(snap_info_freep) struct dms_snap_info *s = NULL;
	int r;

	r = cmd_parse(ctx, &a, argc, argv);
	if (r)
		return r < 0 ? EXIT_OK : r;
	if (!cmd_check_name("snap create", "container", a.operands[0]))
		return EXIT_USAGE;
	if (!a.image)
		return usage_error("snap create: --image IMG is required");
	if (!dms_name_valid(a.image))
		return usage_error("snap create: invalid image name '%s'", a.image);
	r = cmd_open_pool(ctx, &a);
	if (r)
		return r;
	r = dms_snap_create(a.pool, a.operands[0], a.image, a.size);
	if (r == 0)
		r = dms_snap_inspect(a.pool, a.operands[0], &s);
	if (r < 0)
		return cmd_done(ctx, &a, lib_error(ctx, r));
	if (a.json)
		json_print(snap_json(s));
	else
		printf("container '%s' created from image '%s': %s\n", s->name, s->image, s->device);
	return cmd_done(ctx, &a, EXIT_OK);
}

static int snap_mount(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const char help[] = "usage: dmstore snap mount NAME [DIR] [--json] [--pool POOL]\n\n"
				   "Mount the container's layer at DIR (an existing directory), or at\n"
				   "$DMSTORE_STATE_DIR/POOL/mnt/NAME. Prints the mount point; --json prints the\n"
				   "container as 'snap inspect --json' does.\n";
	struct cmd_args a = { .cmd = "snap mount", .help = help, .min_operands = 1, .max_operands = 2,
			      .allow_json = true, .allow_wait = true };
	_cleanup_free_ char *dir = NULL;
	int r;

	r = cmd_parse(ctx, &a, argc, argv);
	if (r)
		return r < 0 ? EXIT_OK : r;
	if (!cmd_check_name("snap mount", "container", a.operands[0]))
		return EXIT_USAGE;
	r = cmd_open_pool(ctx, &a);
	if (r)
		return r;
	r = dms_snap_mount(a.pool, a.operands[0], a.n_operands > 1 ? a.operands[1] : NULL, 0, &dir);
	if (r < 0)
		return cmd_done(ctx, &a, lib_error(ctx, r));
	if (a.json)
		return print_snap_json(ctx, &a, a.operands[0]);
	puts(dir);
	return cmd_done(ctx, &a, EXIT_OK);
}

static int snap_one(int argc, char **argv, struct cmd_ctx *ctx, const char *cmd, const char *help,
		    int (*op)(struct dms_pool *, const char *), const char *done)
{
	struct cmd_args a = { .cmd = cmd, .help = help, .min_operands = 1, .max_operands = 1, .allow_json = true,
			      .allow_wait = true };
	int r;

	r = cmd_parse(ctx, &a, argc, argv);
	if (r)
		return r < 0 ? EXIT_OK : r;
	if (!cmd_check_name(cmd, "container", a.operands[0]))
		return EXIT_USAGE;
	r = cmd_open_pool(ctx, &a);
	if (r)
		return r;
	r = op(a.pool, a.operands[0]);
	if (r < 0)
		return cmd_done(ctx, &a, lib_error(ctx, r));
	if (a.json)
		return print_snap_json(ctx, &a, a.operands[0]);
	printf("container '%s' %s\n", a.operands[0], done);
	return cmd_done(ctx, &a, EXIT_OK);
}

static int snap_umount(int argc, char **argv, struct cmd_ctx *ctx)
{
	return snap_one(argc, argv, ctx, "snap umount", "usage: dmstore snap umount NAME [--json] [--pool POOL]\n\n"
			"--json prints the container as 'snap inspect --json' does.\n",
			dms_snap_umount, "unmounted");
}

static int snap_rm(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const char help[] = "usage: dmstore snap rm NAME [--force] [--json] [--pool POOL]\n\n"
				   "Unmount, deactivate and delete the container's layer: what it wrote is gone and its\n"
				   "blocks return to the pool. Volumes attached to it are detached, never deleted.\n"
				   "Refused while the container runs, or while a process holds its device (named);\n"
				   "--force removes it once that process lets go (the next dmstore command finishes it).\n"
				   "--json prints {\"type\": \"container\", \"name\", \"pool\", \"removed\": true}.\n";
	struct cmd_args a = { .cmd = "snap rm", .help = help, .min_operands = 1, .max_operands = 1, .allow_json = true,
			      .allow_force = true, .allow_wait = true };
	struct dms_run_status *st = NULL;
	bool running, deferred = false;
	int r;

	r = cmd_parse(ctx, &a, argc, argv);
	if (r)
		return r < 0 ? EXIT_OK : r;
	if (!cmd_check_name(a.cmd, "container", a.operands[0]))
		return EXIT_USAGE;
	r = cmd_open_pool(ctx, &a);
	if (r)
		return r;
	/* A run whose dmstore died is cleaned up first (runtime/); a live one keeps its container. */
	r = dms_run_status(a.pool, a.operands[0], &st);
	running = r == 0 && st->state == DMS_RUN_RUNNING;
	dms_run_status_free(st);
	if (running) {
		fprintf(stderr, "dmstore: container '%s' is running; stop it first\n", a.operands[0]);
		return cmd_done(ctx, &a, EXIT_EXISTS);
	}
	r = dms_snap_remove_flags(a.pool, a.operands[0], a.force ? DMS_REMOVE_FORCE : 0, &deferred);
	if (r < 0)
		return cmd_done(ctx, &a, lib_error(ctx, r));
	if (a.json)
		json_print(removed_json("container", a.operands[0], dms_pool_name(a.pool)));
	else if (deferred)
		printf("container '%s' removed; its device goes when its last user lets go\n", a.operands[0]);
	else
		printf("container '%s' removed\n", a.operands[0]);
	return cmd_done(ctx, &a, EXIT_OK);
}

static void print_snap(const struct dms_snap_info *s)
{
	char z[32], u[32];

	printf("%-11s %s\n%-11s %s\n%-11s %" PRIu32 "\n%-11s %s\n%-11s %s\n%-11s %s\n%-11s %s\n", "container", s->name,
	       "image", s->image, "thin id", s->thin_id, "size", dms_size_format(s->virtual_size, z, sizeof(z)), "used",
	       s->active ? dms_size_format(s->used, u, sizeof(u)) : "- (inactive)", "device", s->device, "mountpoint",
	       *s->mountpoint ? s->mountpoint : "-");
}

static int snap_inspect(int argc, char **argv, struct cmd_ctx *ctx)
{
	struct cmd_args a = { .cmd = "snap inspect", .help = "usage: dmstore snap inspect NAME [--json] [--pool POOL]\n",
			      .min_operands = 1, .max_operands = 1, .allow_json = true };
	_cleanup_(snap_info_freep) struct dms_snap_info *s = NULL;
	int r;

	r = cmd_parse(ctx, &a, argc, argv);
	if (r)
		return r < 0 ? EXIT_OK : r;
	if (!cmd_check_name("snap inspect", "container", a.operands[0]))
		return EXIT_USAGE;
	r = cmd_open_pool(ctx, &a);
	if (r)
		return r;
	r = dms_snap_inspect(a.pool, a.operands[0], &s);
	if (r < 0)
		return cmd_done(ctx, &a, lib_error(ctx, r));
	if (a.json)
		json_print(snap_json(s));
	else
		print_snap(s);
	return cmd_done(ctx, &a, EXIT_OK);
}

static int snap_ls(int argc, char **argv, struct cmd_ctx *ctx)
{
	struct cmd_args a = { .cmd = "snap ls", .help = "usage: dmstore snap ls [--json] [--pool POOL]\n",
			      .allow_json = true };
	struct dms_snap_info **snaps = NULL;
	size_t n = 0;
	int r;

	r = cmd_parse(ctx, &a, argc, argv);
	if (r)
		return r < 0 ? EXIT_OK : r;
	r = cmd_open_pool(ctx, &a);
	if (r)
		return r;
	r = dms_snap_list(a.pool, &snaps, &n);
	if (r < 0)
		return cmd_done(ctx, &a, lib_error(ctx, r));
	if (a.json) {
		json_object *arr = json_object_new_array();

		for (size_t i = 0; i < n; i++)
			json_object_array_add(arr, snap_json(snaps[i]));
		json_print(arr);
	} else {
		printf("%-24s %-20s %10s %10s %-7s %s\n", "NAME", "IMAGE", "SIZE", "USED", "ACTIVE", "MOUNTPOINT");
		for (size_t i = 0; i < n; i++) {
			char z[32], u[32];

			printf("%-24s %-20s %10s %10s %-7s %s\n", snaps[i]->name, snaps[i]->image,
			       dms_size_format(snaps[i]->virtual_size, z, sizeof(z)),
			       snaps[i]->active ? dms_size_format(snaps[i]->used, u, sizeof(u)) : "-",
			       snaps[i]->active ? "yes" : "no", *snaps[i]->mountpoint ? snaps[i]->mountpoint : "-");
		}
	}
	dms_snap_list_free(snaps, n);
	return cmd_done(ctx, &a, EXIT_OK);
}

static const struct cmd snap_cmds[] = {
	{ "create", snap_create, "a container's writable layer" },
	{ "mount", snap_mount, "mount a container's layer" },
	{ "umount", snap_umount, "unmount it" },
	{ "rm", snap_rm, "remove a container's layer" },
	{ "ls", snap_ls, "list containers" },
	{ "inspect", snap_inspect, "one container" },
	{ NULL, NULL, NULL },
};

int cmd_snap(int argc, char **argv, struct cmd_ctx *ctx)
{
	return dispatch("snap", snap_cmds, argc, argv, ctx, snap_help);
}
