// SPDX-License-Identifier: LGPL-2.1-or-later
/* dmstore vol create|ls|inspect|attach|detach|mount|umount|rm|snapshot|grow: volumes */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"

static const char vol_help[] =
	"usage: dmstore vol <command> [--pool POOL] [<args>]\n\n"
	"  create NAME --size S [--label L | --raw]    a thin volume with ext4 (or none: --raw), activated\n"
	"  ls [--json]\n"
	"  inspect NAME [--json]                       size, bytes used, label, attachments\n"
	"  attach NAME --container C --at PATH [--ro]  mount it at PATH inside container C's mounted rootfs\n"
	"  detach NAME --container C\n"
	"  mount NAME DIR                              mount it on the host (backups, inspection)\n"
	"  umount NAME\n"
	"  rm NAME [--force]                           refused while attached or mounted; --force detaches first\n"
	"  snapshot NAME SNAP                          a point-in-time copy, itself a volume\n"
	"  grow NAME SIZE                              a bigger device, and the filesystem grown (online too)\n\n"
	"Every command takes --json: the volume as 'vol inspect --json' shows it after the change\n"
	"(rm: {\"type\": \"volume\", \"name\", \"pool\", \"removed\": true}).\n"
	"Volumes outlive containers: removing a container detaches its volumes, never deletes them.\n"
	"--pool defaults to $DMSTORE_POOL, else the config file's pool, else the only pool there is.\n"
	"Commands that change the pool take --wait SECONDS: give up (exit 4) if another change holds it that long.\n";

/* The options only vol commands take; cmd_parse handles the shared ones (--pool --json --force --size). */
struct vol_opts {
	bool allow_label, allow_container, allow_at, allow_ro, allow_raw;
	const char *label, *container, *at;
	bool ro, raw;
};

static const char *opt_value(const char *arg, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(arg, "--", 2) != 0 || strncmp(arg + 2, name, n) != 0)
		return NULL;
	if (arg[2 + n] == '\0')
		return "";
	return arg[2 + n] == '=' ? arg + 3 + n : NULL;
}

/*
 * Take the vol-only options out of ARGV into O, leaving the rest, in order,
 * in OUT (of ARGC + 1 slots) for cmd_parse, which reports anything unknown.
 * "--name VALUE" and "--name=VALUE"; "--" ends the options.
 */
static int take_vol_opts(const char *cmd, struct vol_opts *o, int argc, char **argv, char **out, int *ret_argc)
{
	const struct {
		const char *name;
		bool allowed;
		const char **value;
	} opts[] = {
		{ "label", o->allow_label, &o->label },
		{ "container", o->allow_container, &o->container },
		{ "at", o->allow_at, &o->at },
	};
	int n = 0;

	out[n++] = argv[0];
	for (int i = 1; i < argc; i++) {
		const char *v = NULL;
		size_t k;

		if (strcmp(argv[i], "--") == 0) {
			while (i < argc)
				out[n++] = argv[i++];
			break;
		}
		if (o->allow_ro && strcmp(argv[i], "--ro") == 0) {
			o->ro = true;
			continue;
		}
		if (o->allow_raw && strcmp(argv[i], "--raw") == 0) {
			o->raw = true;
			continue;
		}
		for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++)
			if (opts[k].allowed && (v = opt_value(argv[i], opts[k].name)))
				break;
		if (!v) {
			out[n++] = argv[i];
			continue;
		}
		if (!*v && strchr(argv[i], '=') == NULL) {
			if (i + 1 >= argc)
				return usage_error("%s: option '--%s' needs a value", cmd, opts[k].name);
			v = argv[++i];
		}
		*opts[k].value = v;
	}
	out[n] = NULL;
	*ret_argc = n;
	return 0;
}

/* cmd_parse after the vol-only options are taken out: 0, -1 (help printed) or an exit code. */
static int vol_parse(struct cmd_ctx *ctx, struct cmd_args *a, struct vol_opts *o, int argc, char **argv, char **buf)
{
	int n, r;

	r = take_vol_opts(a->cmd, o, argc, argv, buf, &n);
	return r ? r : cmd_parse(ctx, a, n, buf);
}

static json_object *vol_json(const struct dms_vol_info *v)
{
	json_object *o = json_object_new_object(), *att = json_object_new_array();

	for (size_t i = 0; i < v->n_attachments; i++) {
		json_object *a = json_object_new_object();

		json_object_object_add(a, "container", json_object_new_string(v->attachments[i]->container));
		json_object_object_add(a, "path", json_object_new_string(v->attachments[i]->path));
		json_object_object_add(a, "read_only", json_object_new_boolean(v->attachments[i]->read_only));
		json_object_array_add(att, a);
	}
	json_object_object_add(o, "name", json_object_new_string(v->name));
	json_object_object_add(o, "origin", *v->origin ? json_object_new_string(v->origin) : NULL);
	json_object_object_add(o, "filesystem", v->raw ? NULL : json_object_new_string("ext4"));
	json_object_object_add(o, "label", json_object_new_string(v->label));
	json_object_object_add(o, "thin_id", json_object_new_int64(v->thin_id));
	json_object_object_add(o, "size", json_object_new_uint64(v->virtual_size));
	json_object_object_add(o, "used", v->active ? json_object_new_uint64(v->used) : NULL);
	json_object_object_add(o, "active", json_object_new_boolean(v->active));
	json_object_object_add(o, "device", json_object_new_string(v->device));
	json_object_object_add(o, "mountpoint", *v->mountpoint ? json_object_new_string(v->mountpoint) : NULL);
	json_object_object_add(o, "attachments", att);
	json_object_object_add(o, "created", json_object_new_int64(v->created));
	return o;
}

static void print_vol(const struct dms_vol_info *v)
{
	char z[32], u[32], fs[64];

	if (v->raw)
		snprintf(fs, sizeof(fs), "none (raw block device)");
	else
		snprintf(fs, sizeof(fs), "ext4, label '%s'", v->label);
	printf("%-11s %s\n%-11s %s\n%-11s %s\n%-11s %" PRIu32 "\n%-11s %s\n%-11s %s\n%-11s %s\n"
	       "%-11s %s\n",
	       "volume", v->name, "origin", *v->origin ? v->origin : "-", "filesystem", fs, "thin id", v->thin_id,
	       "size", dms_size_format(v->virtual_size, z, sizeof(z)), "used",
	       v->active ? dms_size_format(v->used, u, sizeof(u)) : "- (inactive)", "device", v->device, "mountpoint",
	       *v->mountpoint ? v->mountpoint : "-");
	if (v->n_attachments == 0)
		printf("%-11s -\n", "attached");
	for (size_t i = 0; i < v->n_attachments; i++)
		printf("%-11s container '%s' at %s%s\n", i ? "" : "attached", v->attachments[i]->container,
		       v->attachments[i]->path, v->attachments[i]->read_only ? " (read-only)" : "");
}

/* After a change: the volume as it is now, as JSON, or LINE for a human. */
static int report(struct cmd_ctx *ctx, struct cmd_args *a, const char *name, const char *line)
{
	_cleanup_(vol_info_freep) struct dms_vol_info *v = NULL;
	int r;

	if (!a->json) {
		puts(line);
		return cmd_done(ctx, a, EXIT_OK);
	}
	r = dms_vol_inspect(a->pool, name, &v);
	if (r < 0)
		return cmd_done(ctx, a, lib_error(ctx, r));
	json_print(vol_json(v));
	return cmd_done(ctx, a, EXIT_OK);
}

static int vol_create(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const char help[] =
		"usage: dmstore vol create NAME --size SIZE [--label LABEL | --raw] [--json] [--pool POOL]\n\n"
		"A thin device of SIZE (virtual: it costs pool space only as it is written) with ext4,\n"
		"activated. LABEL: the filesystem label, at most 16 bytes. --raw: no filesystem, a raw\n"
		"block device for its user to fill (it cannot be mounted or attached by dmstore).\n";
	struct cmd_args a = { .cmd = "vol create", .help = help, .min_operands = 1, .max_operands = 1,
			      .allow_size = true, .allow_json = true, .allow_wait = true };
	struct vol_opts o = { .allow_label = true, .allow_raw = true };
	char *buf[argc + 1], line[256], z[32];
	int r;

	r = vol_parse(ctx, &a, &o, argc, argv, buf);
	if (r)
		return r < 0 ? EXIT_OK : r;
	if (!cmd_check_name(a.cmd, "volume", a.operands[0]))
		return EXIT_USAGE;
	if (!a.size)
		return usage_error("vol create: --size SIZE is required");
	if (o.label && strlen(o.label) > 16)
		return usage_error("vol create: --label '%s' is longer than 16 bytes", o.label);
	if (o.label && o.raw)
		return usage_error("vol create: --label names a filesystem, and --raw makes none");
	r = cmd_open_pool(ctx, &a);
	if (r)
		return r;
	if (o.raw)
		r = dms_vol_create_raw(a.pool, a.operands[0], a.size);
	else
		r = dms_vol_create(a.pool, a.operands[0], a.size, o.label);
	if (r < 0)
		return cmd_done(ctx, &a, lib_error(ctx, r));
	snprintf(line, sizeof(line), "volume '%s' created: %s, %s", a.operands[0],
		 dms_size_format(a.size, z, sizeof(z)), o.raw ? "raw (no filesystem)" : "ext4");
	return report(ctx, &a, a.operands[0], line);
}

static int vol_inspect(int argc, char **argv, struct cmd_ctx *ctx)
{
	struct cmd_args a = { .cmd = "vol inspect", .help = "usage: dmstore vol inspect NAME [--json] [--pool POOL]\n",
			      .min_operands = 1, .max_operands = 1, .allow_json = true };
	_cleanup_(vol_info_freep) struct dms_vol_info *v = NULL;
	int r;

	r = cmd_parse(ctx, &a, argc, argv);
	if (r)
		return r < 0 ? EXIT_OK : r;
	if (!cmd_check_name(a.cmd, "volume", a.operands[0]))
		return EXIT_USAGE;
	r = cmd_open_pool(ctx, &a);
	if (r)
		return r;
	r = dms_vol_inspect(a.pool, a.operands[0], &v);
	if (r < 0)
		return cmd_done(ctx, &a, lib_error(ctx, r));
	if (a.json)
		json_print(vol_json(v));
	else
		print_vol(v);
	return cmd_done(ctx, &a, EXIT_OK);
}

static int vol_ls(int argc, char **argv, struct cmd_ctx *ctx)
{
	struct cmd_args a = { .cmd = "vol ls", .help = "usage: dmstore vol ls [--json] [--pool POOL]\n",
			      .allow_json = true };
	struct dms_vol_info **vols = NULL;
	size_t n = 0;
	int r;

	r = cmd_parse(ctx, &a, argc, argv);
	if (r)
		return r < 0 ? EXIT_OK : r;
	r = cmd_open_pool(ctx, &a);
	if (r)
		return r;
	r = dms_vol_list(a.pool, &vols, &n);
	if (r < 0)
		return cmd_done(ctx, &a, lib_error(ctx, r));
	if (a.json) {
		json_object *arr = json_object_new_array();

		for (size_t i = 0; i < n; i++)
			json_object_array_add(arr, vol_json(vols[i]));
		json_print(arr);
	} else {
		printf("%-24s %-16s %10s %10s %-7s %-8s %s\n", "NAME", "ORIGIN", "SIZE", "USED", "ACTIVE", "ATTACHED",
		       "MOUNTPOINT");
		for (size_t i = 0; i < n; i++) {
			char z[32], u[32];

			printf("%-24s %-16s %10s %10s %-7s %-8zu %s\n", vols[i]->name,
			       *vols[i]->origin ? vols[i]->origin : "-",
			       dms_size_format(vols[i]->virtual_size, z, sizeof(z)),
			       vols[i]->active ? dms_size_format(vols[i]->used, u, sizeof(u)) : "-",
			       vols[i]->active ? "yes" : "no", vols[i]->n_attachments,
			       *vols[i]->mountpoint ? vols[i]->mountpoint : "-");
		}
	}
	dms_vol_list_free(vols, n);
	return cmd_done(ctx, &a, EXIT_OK);
}

static int vol_attach(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const char help[] =
		"usage: dmstore vol attach NAME --container C --at PATH [--ro] [--json] [--pool POOL]\n\n"
		"Mount the volume at PATH inside container C's mounted rootfs ('dmstore snap mount C' first),\n"
		"making the directory if needed. PATH is resolved inside the rootfs only: the image's symlinks\n"
		"never lead out of it. --ro: this mount is read-only. A volume may be attached to several\n"
		"containers at once; they share one filesystem.\n";
	struct cmd_args a = { .cmd = "vol attach", .help = help, .min_operands = 1, .max_operands = 1,
			      .allow_json = true, .allow_wait = true };
	struct vol_opts o = { .allow_container = true, .allow_at = true, .allow_ro = true };
	char *buf[argc + 1], line[4352];
	int r;

	r = vol_parse(ctx, &a, &o, argc, argv, buf);
	if (r)
		return r < 0 ? EXIT_OK : r;
	if (!cmd_check_name(a.cmd, "volume", a.operands[0]))
		return EXIT_USAGE;
	if (!o.container || !o.at)
		return usage_error("vol attach: --container C and --at PATH are required");
	if (!cmd_check_name(a.cmd, "container", o.container))
		return EXIT_USAGE;
	if (o.at[0] != '/')
		return usage_error("vol attach: --at '%s' must be an absolute path (inside the container)", o.at);
	r = cmd_open_pool(ctx, &a);
	if (r)
		return r;
	r = dms_vol_attach(a.pool, a.operands[0], o.container, o.at, o.ro);
	if (r < 0)
		return cmd_done(ctx, &a, lib_error(ctx, r));
	snprintf(line, sizeof(line), "volume '%s' attached to container '%s' at %s%s", a.operands[0], o.container,
		 o.at, o.ro ? " (read-only)" : "");
	return report(ctx, &a, a.operands[0], line);
}

static int vol_detach(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const char help[] = "usage: dmstore vol detach NAME --container C [--json] [--pool POOL]\n\n"
				   "Unmount the volume from inside container C; the volume and its data stay.\n";
	struct cmd_args a = { .cmd = "vol detach", .help = help, .min_operands = 1, .max_operands = 1,
			      .allow_json = true, .allow_wait = true };
	char line[256];
	struct vol_opts o = { .allow_container = true };
	char *buf[argc + 1];
	int r;

	r = vol_parse(ctx, &a, &o, argc, argv, buf);
	if (r)
		return r < 0 ? EXIT_OK : r;
	if (!cmd_check_name(a.cmd, "volume", a.operands[0]))
		return EXIT_USAGE;
	if (!o.container)
		return usage_error("vol detach: --container C is required");
	if (!cmd_check_name(a.cmd, "container", o.container))
		return EXIT_USAGE;
	r = cmd_open_pool(ctx, &a);
	if (r)
		return r;
	r = dms_vol_detach(a.pool, a.operands[0], o.container);
	if (r < 0)
		return cmd_done(ctx, &a, lib_error(ctx, r));
	snprintf(line, sizeof(line), "volume '%s' detached from container '%s'", a.operands[0], o.container);
	return report(ctx, &a, a.operands[0], line);
}

static int vol_mount(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const char help[] = "usage: dmstore vol mount NAME DIR [--json] [--pool POOL]\n\n"
				   "Mount the volume on the host at DIR, an existing directory (backups, inspection).\n";
	struct cmd_args a = { .cmd = "vol mount", .help = help, .min_operands = 2, .max_operands = 2,
			      .allow_json = true, .allow_wait = true };
	char line[4352];
	int r;

	r = cmd_parse(ctx, &a, argc, argv);
	if (r)
		return r < 0 ? EXIT_OK : r;
	if (!cmd_check_name(a.cmd, "volume", a.operands[0]))
		return EXIT_USAGE;
	r = cmd_open_pool(ctx, &a);
	if (r)
		return r;
	r = dms_vol_mount(a.pool, a.operands[0], a.operands[1]);
	if (r < 0)
		return cmd_done(ctx, &a, lib_error(ctx, r));
	snprintf(line, sizeof(line), "volume '%s' mounted at %s", a.operands[0], a.operands[1]);
	return report(ctx, &a, a.operands[0], line);
}

static int vol_umount(int argc, char **argv, struct cmd_ctx *ctx)
{
	struct cmd_args a = { .cmd = "vol umount", .help = "usage: dmstore vol umount NAME [--json] [--pool POOL]\n",
			      .min_operands = 1, .max_operands = 1, .allow_json = true, .allow_wait = true };
	char line[256];
	int r;

	r = cmd_parse(ctx, &a, argc, argv);
	if (r)
		return r < 0 ? EXIT_OK : r;
	if (!cmd_check_name(a.cmd, "volume", a.operands[0]))
		return EXIT_USAGE;
	r = cmd_open_pool(ctx, &a);
	if (r)
		return r;
	r = dms_vol_umount(a.pool, a.operands[0]);
	if (r < 0)
		return cmd_done(ctx, &a, lib_error(ctx, r));
	snprintf(line, sizeof(line), "volume '%s' unmounted", a.operands[0]);
	return report(ctx, &a, a.operands[0], line);
}

static int vol_rm(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const char help[] =
		"usage: dmstore vol rm NAME [--force] [--json] [--pool POOL]\n\n"
		"Delete the volume and its data. Refused while it is attached to a container or mounted,\n"
		"or a process holds its device, naming who holds it; --force detaches and unmounts it\n"
		"first, and removes a device a process holds once it lets go. Its snapshots stay.\n";
	struct cmd_args a = { .cmd = "vol rm", .help = help, .min_operands = 1, .max_operands = 1,
			      .allow_force = true, .allow_json = true, .allow_wait = true };
	bool deferred = false;
	int r;

	r = cmd_parse(ctx, &a, argc, argv);
	if (r)
		return r < 0 ? EXIT_OK : r;
	if (!cmd_check_name(a.cmd, "volume", a.operands[0]))
		return EXIT_USAGE;
	r = cmd_open_pool(ctx, &a);
	if (r)
		return r;
	r = dms_vol_remove_flags(a.pool, a.operands[0], a.force ? DMS_REMOVE_FORCE : 0, &deferred);
	if (r < 0)
		return cmd_done(ctx, &a, lib_error(ctx, r));
	if (a.json)
		json_print(removed_json("volume", a.operands[0], dms_pool_name(a.pool)));
	else if (deferred)
		printf("volume '%s' removed; its device goes when its last user lets go\n", a.operands[0]);
	else
		printf("volume '%s' removed\n", a.operands[0]);
	return cmd_done(ctx, &a, EXIT_OK);
}

static int vol_snapshot(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const char help[] =
		"usage: dmstore vol snapshot NAME SNAP [--json] [--pool POOL]\n\n"
		"A point-in-time copy of volume NAME, itself a volume named SNAP. An active volume is\n"
		"suspended (its filesystem frozen) for the instant the snapshot takes, then resumed.\n";
	struct cmd_args a = { .cmd = "vol snapshot", .help = help, .min_operands = 2, .max_operands = 2,
			      .allow_json = true, .allow_wait = true };
	char line[256];
	int r;

	r = cmd_parse(ctx, &a, argc, argv);
	if (r)
		return r < 0 ? EXIT_OK : r;
	if (!cmd_check_name(a.cmd, "volume", a.operands[0]) || !cmd_check_name(a.cmd, "snapshot", a.operands[1]))
		return EXIT_USAGE;
	r = cmd_open_pool(ctx, &a);
	if (r)
		return r;
	r = dms_vol_snapshot(a.pool, a.operands[0], a.operands[1]);
	if (r < 0)
		return cmd_done(ctx, &a, lib_error(ctx, r));
	snprintf(line, sizeof(line), "volume '%s' created, a snapshot of '%s'", a.operands[1], a.operands[0]);
	return report(ctx, &a, a.operands[1], line);
}

static int vol_grow(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const char help[] = "usage: dmstore vol grow NAME SIZE [--json] [--pool POOL]\n\n"
				   "Grow the volume's device to SIZE, then its filesystem, mounted or not.\n"
				   "Shrinking is refused.\n";
	struct cmd_args a = { .cmd = "vol grow", .help = help, .min_operands = 2, .max_operands = 2,
			      .allow_json = true, .allow_wait = true };
	uint64_t size;
	char z[32], line[256];
	int r;

	r = cmd_parse(ctx, &a, argc, argv);
	if (r)
		return r < 0 ? EXIT_OK : r;
	if (!cmd_check_name(a.cmd, "volume", a.operands[0]))
		return EXIT_USAGE;
	if (parse_size_arg("SIZE", a.operands[1], &size))
		return EXIT_USAGE;
	r = cmd_open_pool(ctx, &a);
	if (r)
		return r;
	r = dms_vol_grow(a.pool, a.operands[0], size);
	if (r < 0)
		return cmd_done(ctx, &a, lib_error(ctx, r));
	snprintf(line, sizeof(line), "volume '%s' is %s", a.operands[0], dms_size_format(size, z, sizeof(z)));
	return report(ctx, &a, a.operands[0], line);
}

static const struct cmd vol_cmds[] = {
	{ "create", vol_create, "a volume" },
	{ "ls", vol_ls, "list volumes" },
	{ "inspect", vol_inspect, "one volume" },
	{ "attach", vol_attach, "mount a volume inside a container" },
	{ "detach", vol_detach, "unmount it from the container" },
	{ "mount", vol_mount, "mount a volume on the host" },
	{ "umount", vol_umount, "unmount it" },
	{ "rm", vol_rm, "remove a volume" },
	{ "snapshot", vol_snapshot, "a point-in-time copy" },
	{ "grow", vol_grow, "grow a volume" },
	{ NULL, NULL, NULL },
};

int cmd_vol(int argc, char **argv, struct cmd_ctx *ctx)
{
	return dispatch("vol", vol_cmds, argc, argv, ctx, vol_help);
}
