// SPDX-License-Identifier: LGPL-2.1-or-later
/* dmstore pool create|status|ls|activate|deactivate|recover|check|rm */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"

static const char pool_help[] =
	"usage: dmstore pool <command> [<args>]\n\n"
	"  create NAME --data DEV --metadata DEV [--block-size 64K] [--no-zero] [--force]\n"
	"  create NAME --loop [--data-size 100G] [--metadata-size SIZE] [--block-size 64K] [--no-zero]\n"
	"  status [NAME] [--json | --format table|json|prometheus]\n"
	"  ls [--json]\n"
	"  activate [NAME|--all] [--json]\n"
	"  deactivate NAME|--all [--json]\n"
	"  recover NAME [--orphans] [--json]\n"
	"  check NAME [--json]\n"
	"  grow NAME [--data-size SIZE] [--metadata-size SIZE] [--json]\n"
	"  monitor NAME [--threshold PERCENT] [--percent PERCENT] [--limit SIZE]\n"
	"  rm NAME [--force] [--json]\n\n"
	"create, activate, deactivate, recover, grow and rm take --wait SECONDS: give up (exit 4) if another\n"
	"change holds the pool that long.\n";

static const char create_help[] =
	"usage: dmstore pool create NAME --data DEV --metadata DEV [options]\n"
	"       dmstore pool create NAME --loop [--data-size SIZE] [--metadata-size SIZE] [options]\n\n"
	"Create a thin pool on two dedicated block devices, or on sparse files under\n"
	"$DMSTORE_STATE_DIR/NAME attached as loop devices (--loop, the embedded default).\n\n"
	"  --data DEV            block device for data blocks\n"
	"  --metadata DEV        block device for thin metadata (at least 48 bytes per data block, 2 MiB minimum)\n"
	"  --loop                use sparse files instead of devices\n"
	"  --data-size SIZE      loop data file size (default: 100G, or 90% of free space if less)\n"
	"  --metadata-size SIZE  loop metadata file size (default: 4x the minimum, 64M at least)\n"
	"  --block-size SIZE     allocation unit, 64K..1G, a multiple of 64K (default 64K)\n"
	"  --no-zero             do not zero newly provisioned blocks (faster; a new thin device may show old data)\n"
	"  --force               take devices that carry a signature or are open elsewhere (wipes signatures)\n"
	"  --json                print the new pool's status as JSON\n";

static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return true;
	}
	return false;
}

/* The one NAME operand every pool command but ls takes, checked before anything runs. */
static int pool_name_arg(const char *cmd, int argc, char **argv, bool optional, const char **ret)
{
	if (optind == argc) {
		if (optional) {
			*ret = NULL;
			return 0;
		}
		return usage_error("pool %s: missing pool NAME", cmd);
	}
	if (optind + 1 < argc)
		return usage_error("pool %s: unexpected argument '%s'", cmd, argv[optind + 1]);
	if (!dms_pool_name_valid(argv[optind]))
		return usage_error("pool %s: invalid pool name '%s': use 1-%d of [A-Za-z0-9_.-], starting with a letter or digit",
				   cmd, argv[optind], DMS_POOL_NAME_MAX);
	*ret = argv[optind];
	return 0;
}

/* A failed pool's status line has no numbers: only what the pool was configured with is known. */
static bool status_live(const struct dms_pool_status *st)
{
	return st->active && strcmp(st->mode, "fail") != 0;
}

static json_object *status_json(const struct dms_pool_status *st)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(st->name));
	json_object_object_add(o, "active", json_object_new_boolean(st->active));
	json_object_object_add(o, "mode", json_object_new_string(st->mode));
	json_object_object_add(o, "data_total", json_object_new_uint64(st->data_total));
	json_object_object_add(o, "data_used", json_object_new_uint64(st->data_used));
	json_object_object_add(o, "data_available", json_object_new_uint64(st->data_total - st->data_used));
	json_object_object_add(o, "metadata_total", json_object_new_uint64(st->metadata_total));
	json_object_object_add(o, "metadata_used", json_object_new_uint64(st->metadata_used));
	json_object_object_add(o, "metadata_available",
			       json_object_new_uint64(st->metadata_total - st->metadata_used));
	json_object_object_add(o, "block_size", json_object_new_uint64(st->block_size));
	json_object_object_add(o, "transaction_id",
			       status_live(st) ? json_object_new_uint64(st->transaction_id) : NULL);
	json_object_object_add(o, "needs_check", json_object_new_boolean(st->needs_check));
	json_object_object_add(o, "discards", status_live(st) ? json_object_new_string(st->discards) : NULL);
	json_object_object_add(o, "no_space", status_live(st) ? json_object_new_string(st->no_space) : NULL);
	json_object_object_add(o, "zero", json_object_new_boolean(st->zero));
	json_object_object_add(o, "device_count",
			       st->device_count >= 0 ? json_object_new_int64(st->device_count) : NULL);
	json_object_object_add(o, "backing", json_object_new_string(st->loop ? "loop" : "block"));
	json_object_object_add(o, "data_path", json_object_new_string(st->data_path));
	json_object_object_add(o, "metadata_path", json_object_new_string(st->metadata_path));
	json_object_object_add(o, "data_device", *st->data_dev ? json_object_new_string(st->data_dev) : NULL);
	json_object_object_add(o, "metadata_device",
			       *st->metadata_dev ? json_object_new_string(st->metadata_dev) : NULL);
	json_object_object_add(o, "dm_name", json_object_new_string(st->dm_name));
	return o;
}

static double percent(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static void print_usage_line(const char *label, uint64_t used, uint64_t total, const struct dms_pool_status *st)
{
	char u[32], t[32], a[32];

	if (!status_live(st)) {
		printf("%-13s %s (%s)\n", label, dms_size_format(total, t, sizeof(t)), st->active ? "failed" : "inactive");
		return;
	}
	printf("%-13s %s used of %s (%.1f%%), %s available\n", label, dms_size_format(used, u, sizeof(u)),
	       dms_size_format(total, t, sizeof(t)), percent(used, total),
	       dms_size_format(total - used, a, sizeof(a)));
}

static void status_print(const struct dms_pool_status *st)
{
	char b[32];

	printf("%-13s %s\n", "pool", st->name);
	printf("%-13s %s\n", "state", st->active ? "active" : "inactive");
	if (st->active)
		printf("%-13s %s\n", "mode", st->mode);
	print_usage_line("data", st->data_used, st->data_total, st);
	print_usage_line("metadata", st->metadata_used, st->metadata_total, st);
	printf("%-13s %s\n", "block size", dms_size_format(st->block_size, b, sizeof(b)));
	if (status_live(st)) {
		printf("%-13s %" PRIu64 "\n", "transaction", st->transaction_id);
		printf("%-13s %s\n", "needs check", st->needs_check ? "yes" : "no");
		printf("%-13s %s\n", "discards", st->discards);
		printf("%-13s %s\n", "no space", st->no_space);
	}
	printf("%-13s %s\n", "zeroing", st->zero ? "yes" : "no");
	if (st->device_count >= 0)
		printf("%-13s %ld\n", "devices", st->device_count);
	else
		printf("%-13s unknown\n", "devices");
	printf("%-13s %s%s%s%s\n", st->loop ? "data file" : "data device", st->data_path,
	       *st->data_dev ? " (" : "", st->data_dev, *st->data_dev ? ")" : "");
	printf("%-13s %s%s%s%s\n", st->loop ? "metadata file" : "metadata dev", st->metadata_path,
	       *st->metadata_dev ? " (" : "", st->metadata_dev, *st->metadata_dev ? ")" : "");
	printf("%-13s %s\n", "dm device", st->dm_name);
}

static int pool_create(int argc, char **argv, struct cmd_ctx *ctx)
{
	enum { OPT_DATA = 256, OPT_META, OPT_LOOP, OPT_DATA_SIZE, OPT_META_SIZE, OPT_BLOCK, OPT_NO_ZERO, OPT_FORCE,
	       OPT_JSON, OPT_WAIT };
	static const struct option opts[] = {
		{ "data", required_argument, NULL, OPT_DATA },
		{ "metadata", required_argument, NULL, OPT_META },
		{ "loop", no_argument, NULL, OPT_LOOP },
		{ "data-size", required_argument, NULL, OPT_DATA_SIZE },
		{ "metadata-size", required_argument, NULL, OPT_META_SIZE },
		{ "block-size", required_argument, NULL, OPT_BLOCK },
		{ "no-zero", no_argument, NULL, OPT_NO_ZERO },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "wait", required_argument, NULL, OPT_WAIT },
		{ NULL, 0, NULL, 0 },
	};
	struct dms_pool_create_opts o = DMS_OPTS_INIT(struct dms_pool_create_opts);
	long wait_ms = DMS_LOCK_WAIT_FOREVER;
	_cleanup_(pool_status_freep) struct dms_pool_status *st = NULL;
	const char *name;
	uint64_t block_size = DMS_BLOCK_SIZE_DEFAULT;
	bool json = false;
	char a[32], b[32], c[32];
	int opt, r;

	if (wants_help(argc, argv)) {
		fputs(create_help, stdout);
		return EXIT_OK;
	}
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_DATA:
			o.data_dev = optarg;
			break;
		case OPT_META:
			o.metadata_dev = optarg;
			break;
		case OPT_LOOP:
			o.loop = true;
			break;
		case OPT_DATA_SIZE:
			if (parse_size_arg("--data-size", optarg, &o.data_size))
				return EXIT_USAGE;
			break;
		case OPT_META_SIZE:
			if (parse_size_arg("--metadata-size", optarg, &o.metadata_size))
				return EXIT_USAGE;
			break;
		case OPT_BLOCK:
			if (parse_size_arg("--block-size", optarg, &block_size))
				return EXIT_USAGE;
			break;
		case OPT_NO_ZERO:
			o.no_zero = true;
			break;
		case OPT_FORCE:
			o.force = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_WAIT:
			if (parse_wait_arg("pool create", optarg, &wait_ms))
				return EXIT_USAGE;
			break;
		default:
			return usage_error("pool create: see 'dmstore pool create --help'");
		}
	}
	if (pool_name_arg("create", argc, argv, false, &name))
		return EXIT_USAGE;
	if (block_size < DMS_BLOCK_SIZE_MIN || block_size > DMS_BLOCK_SIZE_MAX || block_size % DMS_BLOCK_SIZE_MIN)
		return usage_error("pool create: --block-size %s: must be a multiple of 64K between 64K and 1G",
				   dms_size_format(block_size, a, sizeof(a)));
	o.block_size = (uint32_t)block_size;
	if (o.loop && (o.data_dev || o.metadata_dev))
		return usage_error("pool create: --loop and --data/--metadata exclude each other");
	if (!o.loop && !(o.data_dev && o.metadata_dev))
		return usage_error("pool create: give --data DEV and --metadata DEV, or --loop");
	if (!o.loop && (o.data_size || o.metadata_size))
		return usage_error("pool create: --data-size and --metadata-size go with --loop only");
	if (o.loop && o.data_size && o.data_size < 64 * 1024 * 1024)
		return usage_error("pool create: --data-size %s: at least 64M", dms_size_format(o.data_size, a, sizeof(a)));
	if (require_root("pool create"))
		return EXIT_PERM;
	dms_ctx_set_lock_wait(ctx->lib, wait_ms);

	r = dms_pool_create(ctx->lib, name, &o, &st);
	if (r < 0)
		return lib_error(ctx, r);
	if (json) {
		json_print(status_json(st));
		return EXIT_OK;
	}
	if (o.loop)
		printf("pool '%s' created: data %s, metadata %s%s, block size %s, sparse files in %s/%s\n", name,
		       dms_size_format(st->data_total, a, sizeof(a)), dms_size_format(st->metadata_total, b, sizeof(b)),
		       (o.data_size && o.metadata_size) ? "" : " (sizes picked by dmstore)",
		       dms_size_format(st->block_size, c, sizeof(c)), dms_ctx_state_dir(ctx->lib), name);
	else
		printf("pool '%s' created: data %s on %s, metadata %s on %s, block size %s\n", name,
		       dms_size_format(st->data_total, a, sizeof(a)), st->data_path,
		       dms_size_format(st->metadata_total, b, sizeof(b)), st->metadata_path,
		       dms_size_format(st->block_size, c, sizeof(c)));
	return EXIT_OK;
}

/*
 * Parses [--json] [--force] [--wait SECONDS] [--all] for status/ls/activate/deactivate/recover/rm;
 * WAIT_MS NULL: no --wait; ALL NULL: no --all.
 */
static int simple_args(const char *cmd, const char *help, int argc, char **argv, bool allow_json, bool allow_force,
		       bool *json, bool *force, long *wait_ms, bool *all)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "force", no_argument, NULL, 'f' },
		{ "wait", required_argument, NULL, 'w' },
		{ "all", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	char what[32];
	int opt;

	if (wants_help(argc, argv)) {
		fputs(help, stdout);
		return -1;
	}
	snprintf(what, sizeof(what), "pool %s", cmd);
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'j' && allow_json) {
			*json = true;
		} else if (opt == 'f' && allow_force) {
			*force = true;
		} else if (opt == 'w' && wait_ms) {
			if (parse_wait_arg(what, optarg, wait_ms))
				return EXIT_USAGE;
		} else if (opt == 'a' && all) {
			*all = true;
		} else {
			return usage_error("pool %s: see 'dmstore pool %s --help'", cmd, cmd);
		}
	}
	return 0;
}

enum status_format { FORMAT_TABLE, FORMAT_JSON, FORMAT_PROMETHEUS };

static int pool_status(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const char help[] =
		"usage: dmstore pool status [NAME] [--json | --format table|json|prometheus]\n\n"
		"Space, mode and backing of one pool, or of every pool.\n\n"
		"  --json                 the same as --format json\n"
		"  --format prometheus    Prometheus' text exposition format, for node_exporter's textfile\n"
		"                         collector (metrics: dmstore(8))\n";
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct dms_pool_status **sts = NULL;
	enum status_format format = FORMAT_TABLE;
	const char *name;
	char **names = NULL;
	size_t n = 0, n_st = 0;
	json_object *arr;
	int opt, r, code = EXIT_OK;

	if (wants_help(argc, argv)) {
		fputs(help, stdout);
		return EXIT_OK;
	}
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'j')
			format = FORMAT_JSON;
		else if (opt == 'f' && strcmp(optarg, "table") == 0)
			format = FORMAT_TABLE;
		else if (opt == 'f' && strcmp(optarg, "json") == 0)
			format = FORMAT_JSON;
		else if (opt == 'f' && strcmp(optarg, "prometheus") == 0)
			format = FORMAT_PROMETHEUS;
		else if (opt == 'f')
			return usage_error("pool status: --format '%s': use table, json or prometheus", optarg);
		else
			return usage_error("pool status: see 'dmstore pool status --help'");
	}
	if (pool_name_arg("status", argc, argv, true, &name))
		return EXIT_USAGE;
	if (require_root("pool status"))
		return EXIT_PERM;
	if (name) {
		names = calloc(1, sizeof(*names));
		if (!names || !(names[0] = strdup(name))) {
			free(names);
			fprintf(stderr, "dmstore: pool status: %s\n", strerror(ENOMEM));
			return EXIT_FAILURE_;
		}
		n = 1;
	} else {
		r = dms_pool_list(ctx->lib, &names, &n);
		if (r < 0)
			return lib_error(ctx, r);
	}
	sts = calloc(n ? n : 1, sizeof(*sts));
	if (!sts) {
		dms_strv_free(names, n);
		fprintf(stderr, "dmstore: pool status: %s\n", strerror(ENOMEM));
		return EXIT_FAILURE_;
	}
	/* A pool that cannot be read is reported; the others are still shown. */
	for (size_t i = 0; i < n; i++) {
		r = dms_pool_status(ctx->lib, names[i], &sts[n_st]);
		if (r < 0)
			code = lib_error(ctx, r);
		else
			n_st++;
	}
	dms_strv_free(names, n);
	if (format == FORMAT_PROMETHEUS) {
		r = pool_metrics_print(ctx, sts, n_st);
		code = code ? code : r;
	} else if (format == FORMAT_JSON && name) {
		if (n_st)
			json_print(status_json(sts[0]));
	} else if (format == FORMAT_JSON) {
		arr = json_object_new_array();
		for (size_t i = 0; i < n_st; i++)
			json_object_array_add(arr, status_json(sts[i]));
		json_print(arr);
	} else {
		for (size_t i = 0; i < n_st; i++) {
			if (i)
				putchar('\n');
			status_print(sts[i]);
		}
	}
	for (size_t i = 0; i < n_st; i++)
		dms_pool_status_free(sts[i]);
	free(sts);
	return code;
}

static int pool_ls(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const char help[] = "usage: dmstore pool ls [--json]\n\nOne line per pool.\n";
	struct dms_pool_status *st;
	char **names = NULL;
	size_t n = 0;
	bool json = false, force = false;
	json_object *arr = NULL;
	int r, code = EXIT_OK;

	r = simple_args("ls", help, argc, argv, true, false, &json, &force, NULL, NULL);
	if (r)
		return r < 0 ? EXIT_OK : r;
	if (optind != argc)
		return usage_error("pool ls: unexpected argument '%s'", argv[optind]);
	if (require_root("pool ls"))
		return EXIT_PERM;
	r = dms_pool_list(ctx->lib, &names, &n);
	if (r < 0)
		return lib_error(ctx, r);
	if (json)
		arr = json_object_new_array();
	else
		printf("%-20s %-10s %-8s %11s %11s %6s %7s\n", "NAME", "STATE", "BACKING", "DATA", "USED", "USED%",
		       "DEVICES");
	for (size_t i = 0; i < n; i++) {
		char t[32], u[32], d[16];

		r = dms_pool_status(ctx->lib, names[i], &st);
		if (r < 0) {
			code = lib_error(ctx, r);
			continue;
		}
		if (json) {
			json_object_array_add(arr, status_json(st));
		} else {
			snprintf(d, sizeof(d), st->device_count >= 0 ? "%ld" : "-", st->device_count);
			printf("%-20s %-10s %-8s %11s %11s %5.1f%% %7s\n", st->name, st->active ? st->mode : "inactive",
			       st->loop ? "loop" : "block", dms_size_format(st->data_total, t, sizeof(t)),
			       status_live(st) ? dms_size_format(st->data_used, u, sizeof(u)) : "-",
			       percent(st->data_used, st->data_total), d);
		}
		dms_pool_status_free(st);
	}
	if (json)
		json_print(arr);
	dms_strv_free(names, n);
	return code;
}

static int op_activate(struct cmd_ctx *ctx, const char *name, bool force)
{
	return dms_pool_activate(ctx->lib, name);
}

static int op_deactivate(struct cmd_ctx *ctx, const char *name, bool force)
{
	return dms_pool_deactivate(ctx->lib, name);
}

static int op_remove(struct cmd_ctx *ctx, const char *name, bool force)
{
	return dms_pool_remove(ctx->lib, name, force);
}

/* One pool's change, and what it prints; with --json, the pool's status after (rm: what is gone). */
static int pool_simple_one(int (*op)(struct cmd_ctx *, const char *, bool), const char *done, struct cmd_ctx *ctx,
			   const char *name, bool force, bool json, json_object *all)
{
	_cleanup_(pool_status_freep) struct dms_pool_status *st = NULL;
	int r;

	r = op(ctx, name, force);
	if (r < 0)
		return lib_error(ctx, r);
	if (!json) {
		printf("pool '%s' %s\n", name, done);
		return EXIT_OK;
	}
	if (op == op_remove) {
		json_print(removed_json("pool", name, name));
		return EXIT_OK;
	}
	r = dms_pool_status(ctx->lib, name, &st);
	if (r < 0)
		return lib_error(ctx, r);
	if (all)
		json_object_array_add(all, status_json(st));
	else
		json_print(status_json(st));
	return EXIT_OK;
}

/*
 * activate, deactivate, rm: one NAME, maybe --force. activate and deactivate take --all
 * instead (boot and shutdown): every configured pool, each tried whatever the others did,
 * the exit code the last failure's; with --json, an array. activate without either takes
 * the pool the object commands would (a unit starting a daemon on that pool activates it
 * first); a removal or deactivation is never of a pool left unnamed.
 */
static int pool_simple(const char *cmd, const char *help, bool allow_force, bool allow_all, bool name_default,
		       int (*op)(struct cmd_ctx *, const char *, bool), const char *done, int argc, char **argv,
		       struct cmd_ctx *ctx)
{
	char what[32], only[DMS_POOL_NAME_MAX + 1];
	const char *name;
	struct dms_pool *pool = NULL;
	char **names = NULL;
	size_t n = 0;
	bool json = false, force = false, all = false;
	long wait_ms = DMS_LOCK_WAIT_FOREVER;
	json_object *arr;
	int r, code = EXIT_OK;

	r = simple_args(cmd, help, argc, argv, true, allow_force, &json, &force, &wait_ms, allow_all ? &all : NULL);
	if (r)
		return r < 0 ? EXIT_OK : r;
	if (all && optind < argc)
		return usage_error("pool %s: --all or a pool NAME, not both", cmd);
	if (!all && pool_name_arg(cmd, argc, argv, name_default, &name))
		return EXIT_USAGE;
	snprintf(what, sizeof(what), "pool %s", cmd);
	if (require_root(what))
		return EXIT_PERM;
	dms_ctx_set_lock_wait(ctx->lib, wait_ms);
	if (!all && !name)
		name = cmd_default_pool(ctx);
	/* Else the only pool there is, as dms_pool_open finds it. */
	if (!all && !name) {
		r = dms_pool_open(ctx->lib, NULL, &pool);
		if (r < 0)
			return lib_error(ctx, r);
		snprintf(only, sizeof(only), "%s", dms_pool_name(pool));
		dms_pool_close(pool);
		name = only;
	}
	if (!all)
		return pool_simple_one(op, done, ctx, name, force, json, NULL);
	r = dms_pool_list(ctx->lib, &names, &n);
	if (r < 0)
		return lib_error(ctx, r);
	arr = json ? json_object_new_array() : NULL;
	for (size_t i = 0; i < n; i++) {
		r = pool_simple_one(op, done, ctx, names[i], force, json, arr);
		if (r != EXIT_OK)
			code = r;
	}
	if (arr)
		json_print(arr);
	dms_strv_free(names, n);
	return code;
}

static int pool_activate(int argc, char **argv, struct cmd_ctx *ctx)
{
	return pool_simple("activate",
			   "usage: dmstore pool activate [NAME|--all] [--json]\n\n"
			   "Bring a configured pool back (after a reboot): reattach its loop files, check its\n"
			   "metadata with thin_check, load its table. Does nothing if it is active. Without NAME:\n"
			   "$DMSTORE_POOL, else the config file's pool, else the only pool there is.\n\n"
			   "  --all          every configured pool (dmstore-pools.service, at boot)\n"
			   "  --json         print the pool's status as JSON (as 'pool status --json')\n"
			   "  --wait SECONDS give up (exit 4) if another change holds the pool that long\n",
			   false, true, true, op_activate, "is active", argc, argv, ctx);
}

static int pool_deactivate(int argc, char **argv, struct cmd_ctx *ctx)
{
	return pool_simple("deactivate",
			   "usage: dmstore pool deactivate NAME|--all [--json]\n\n"
			   "Remove the pool's kernel device, keeping its data and configuration.\n"
			   "Refused while thin devices on it are active.\n\n"
			   "  --all          every configured pool (dmstore-pools.service, at shutdown)\n"
			   "  --json         print the pool's status as JSON (as 'pool status --json')\n"
			   "  --wait SECONDS give up (exit 4) if another change holds the pool that long\n",
			   false, true, false, op_deactivate, "is inactive", argc, argv, ctx);
}

static int pool_rm(int argc, char **argv, struct cmd_ctx *ctx)
{
	return pool_simple("rm",
			   "usage: dmstore pool rm NAME [--force] [--json]\n\n"
			   "Remove the pool: its kernel device, its configuration, and the loop files dmstore made\n"
			   "(dedicated devices are left in place with their metadata superblock cleared).\n"
			   "Refused while the pool holds thin devices, unless --force.\n\n"
			   "  --force        remove it although it holds thin devices\n"
			   "  --json         print {\"type\": \"pool\", \"name\", \"pool\", \"removed\": true}\n"
			   "  --wait SECONDS give up (exit 4) if another change holds the pool that long\n",
			   true, false, false, op_remove, "removed", argc, argv, ctx);
}

static json_object *recover_json(const char *name, const struct dms_recover_report *rep)
{
	json_object *o = json_object_new_object(), *resumed = json_object_new_array(),
		    *orphans = json_object_new_array();

	for (size_t i = 0; i < rep->n_resumed; i++)
		json_object_array_add(resumed, json_object_new_string(rep->resumed[i]));
	for (size_t i = 0; i < rep->n_orphans; i++)
		json_object_array_add(orphans, json_object_new_int64(rep->orphans[i]));
	json_object_object_add(o, "pool", json_object_new_string(name));
	json_object_object_add(o, "rolled_forward", json_object_new_int64(rep->rolled_forward));
	json_object_object_add(o, "rolled_back", json_object_new_int64(rep->rolled_back));
	json_object_object_add(o, "resumed", resumed);
	json_object_object_add(o, "released_metadata_snap", json_object_new_boolean(rep->released_metadata_snap));
	json_object_object_add(o, "orphans", orphans);
	json_object_object_add(o, "orphans_deleted", json_object_new_boolean(rep->orphans_deleted));
	return o;
}

static int pool_recover(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const char help[] =
		"usage: dmstore pool recover NAME [--orphans] [--json]\n\n"
		"Finish or undo what an interrupted dmstore left half done, by comparing the kernel's\n"
		"transaction id with the catalogue's, resume any volume it left suspended (its I/O\n"
		"blocked), and release a metadata snapshot it held. Every change runs this first; this\n"
		"command runs it alone, and then looks for thin ids that no catalogue row owns.\n\n"
		"  --orphans      delete those thin ids (their data is lost), one line each\n"
		"  --json         print what was done and found as JSON (schema: dmstore(8))\n"
		"  --wait SECONDS give up (exit 4) if another change holds the pool that long\n";
	static const struct option opts[] = {
		{ "orphans", no_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "wait", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	struct dms_recover_report *rep;
	struct dms_pool *pool = NULL;
	const char *name;
	long wait_ms = DMS_LOCK_WAIT_FOREVER;
	unsigned flags = 0;
	bool json = false;
	int opt, r;

	if (wants_help(argc, argv)) {
		fputs(help, stdout);
		return EXIT_OK;
	}
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'o')
			flags |= DMS_RECOVER_DELETE_ORPHANS;
		else if (opt == 'j')
			json = true;
		else if (opt != 'w')
			return usage_error("pool recover: see 'dmstore pool recover --help'");
		else if (parse_wait_arg("pool recover", optarg, &wait_ms))
			return EXIT_USAGE;
	}
	if (pool_name_arg("recover", argc, argv, false, &name))
		return EXIT_USAGE;
	if (require_root("pool recover"))
		return EXIT_PERM;
	dms_ctx_set_lock_wait(ctx->lib, wait_ms);
	r = dms_pool_open(ctx->lib, name, &pool);
	if (r == 0)
		r = dms_pool_recover(pool, flags, &rep);
	dms_pool_close(pool);
	if (r < 0)
		return lib_error(ctx, r);
	if (json) {
		json_print(recover_json(name, rep));
		dms_recover_report_free(rep);
		return EXIT_OK;
	}
	if (rep->released_metadata_snap)
		printf("pool '%s': a metadata snapshot held by a dmstore that died was released\n", name);
	for (size_t i = 0; i < rep->n_resumed; i++)
		printf("pool '%s': volume '%s' was left suspended: resumed\n", name, rep->resumed[i]);
	for (size_t i = 0; i < rep->n_orphans; i++)
		printf("pool '%s': thin id %" PRIu32 " is in the kernel but no catalogue row owns it%s\n", name,
		       rep->orphans[i], rep->orphans_deleted ? ": deleted" : "");
	printf("pool '%s': %u change(s) rolled forward, %u rolled back, %zu volume(s) resumed\n", name,
	       rep->rolled_forward, rep->rolled_back, rep->n_resumed);
	if (rep->n_orphans && !rep->orphans_deleted)
		printf("pool '%s': %zu thin id(s) no catalogue row owns: delete them with 'dmstore pool recover %s --orphans'\n",
		       name, rep->n_orphans, name);
	dms_recover_report_free(rep);
	return EXIT_OK;
}

static int pool_grow(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const char help[] =
		"usage: dmstore pool grow NAME [--data-size SIZE] [--metadata-size SIZE] [--json]\n\n"
		"Grow a pool, online: containers and volumes keep running. A loop-file pool's data or\n"
		"metadata file grows to SIZE (sparse). A pool on dedicated devices takes what they hold\n"
		"after they grew (lvextend, a bigger LUN): give no size. Shrinking is refused.\n\n"
		"  --data-size SIZE      the loop data file's new size\n"
		"  --metadata-size SIZE  the loop metadata file's new size (the kernel uses at most 16G)\n"
		"  --json                print the pool's status as JSON (as 'pool status --json')\n"
		"  --wait SECONDS        give up (exit 4) if another change holds the pool that long\n";
	static const struct option opts[] = {
		{ "data-size", required_argument, NULL, 'd' },
		{ "metadata-size", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "wait", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_(pool_status_freep) struct dms_pool_status *st = NULL;
	uint64_t data_size = 0, metadata_size = 0;
	long wait_ms = DMS_LOCK_WAIT_FOREVER;
	const char *name;
	bool json = false;
	char a[32], b[32];
	int opt, r;

	if (wants_help(argc, argv)) {
		fputs(help, stdout);
		return EXIT_OK;
	}
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'd' && parse_size_arg("--data-size", optarg, &data_size))
			return EXIT_USAGE;
		else if (opt == 'm' && parse_size_arg("--metadata-size", optarg, &metadata_size))
			return EXIT_USAGE;
		else if (opt == 'w' && parse_wait_arg("pool grow", optarg, &wait_ms))
			return EXIT_USAGE;
		else if (opt == 'j')
			json = true;
		else if (opt != 'd' && opt != 'm' && opt != 'w')
			return usage_error("pool grow: see 'dmstore pool grow --help'");
	}
	if (pool_name_arg("grow", argc, argv, false, &name))
		return EXIT_USAGE;
	if (require_root("pool grow"))
		return EXIT_PERM;
	dms_ctx_set_lock_wait(ctx->lib, wait_ms);
	r = dms_pool_grow(ctx->lib, name, data_size, metadata_size);
	if (r == 0)
		r = dms_pool_status(ctx->lib, name, &st);
	if (r < 0)
		return lib_error(ctx, r);
	if (json)
		json_print(status_json(st));
	else
		printf("pool '%s': data %s, metadata %s\n", name, dms_size_format(st->data_total, a, sizeof(a)),
		       dms_size_format(st->metadata_total, b, sizeof(b)));
	return EXIT_OK;
}

/* A removal waiting for its holder is what rm --force asked for: reported, not a problem. */
static size_t check_problems(const struct dms_check_report *rep)
{
	size_t n = 0;

	for (size_t i = 0; i < rep->n_findings; i++)
		n += rep->findings[i]->kind != DMS_CHECK_PENDING_REMOVAL;
	return n;
}

static json_object *check_json(const char *name, const struct dms_check_report *rep)
{
	json_object *o = json_object_new_object(), *arr = json_object_new_array();

	json_object_object_add(o, "pool", json_object_new_string(name));
	json_object_object_add(o, "clean", json_object_new_boolean(check_problems(rep) == 0));
	json_object_object_add(o, "active", json_object_new_boolean(rep->active));
	json_object_object_add(o, "metadata_checked", json_object_new_boolean(rep->metadata_checked));
	json_object_object_add(o, "thin_ids_checked", json_object_new_boolean(rep->thin_ids_checked));
	json_object_object_add(o, "thin_ids", json_object_new_uint64(rep->n_thin_ids));
	json_object_object_add(o, "catalogue_rows", json_object_new_uint64(rep->n_rows));
	json_object_object_add(o, "catalogue_transaction_id", json_object_new_uint64(rep->catalogue_txn));
	for (size_t i = 0; i < rep->n_findings; i++) {
		const struct dms_check_finding *f = rep->findings[i];
		json_object *j = json_object_new_object();

		json_object_object_add(j, "kind", json_object_new_string(dms_check_kind_name(f->kind)));
		json_object_object_add(j, "object_type", *f->object_type ? json_object_new_string(f->object_type) : NULL);
		json_object_object_add(j, "object", *f->object ? json_object_new_string(f->object) : NULL);
		json_object_object_add(j, "thin_id", f->thin_id >= 0 ? json_object_new_int64(f->thin_id) : NULL);
		json_object_object_add(j, "message", json_object_new_string(f->message));
		json_object_array_add(arr, j);
	}
	json_object_object_add(o, "findings", arr);
	return o;
}

static int pool_check(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const char help[] =
		"usage: dmstore pool check NAME [--json]\n\n"
		"Compare what the kernel has with what the catalogue says, changing nothing: thin_check\n"
		"on the metadata (a snapshot of it while the pool is active), thin ids on either side\n"
		"that the other lacks, interrupted changes, mounts and attachments that are gone, devices\n"
		"active that should not be or not active that should be. One line per finding, saying\n"
		"what to run, then a summary. A removal still waiting for its holder to let go is listed,\n"
		"naming the holder, but is not a problem. Exit status 0 when clean, 1 when it found\n"
		"something.\n";
	struct dms_check_report *rep;
	struct dms_pool *pool = NULL;
	const char *name;
	bool json = false, force = false;
	int r;

	r = simple_args("check", help, argc, argv, true, false, &json, &force, NULL, NULL);
	if (r)
		return r < 0 ? EXIT_OK : r;
	if (pool_name_arg("check", argc, argv, false, &name))
		return EXIT_USAGE;
	if (require_root("pool check"))
		return EXIT_PERM;
	r = dms_pool_open(ctx->lib, name, &pool);
	if (r == 0)
		r = dms_pool_check(pool, &rep);
	dms_pool_close(pool);
	if (r < 0)
		return lib_error(ctx, r);
	if (json) {
		json_print(check_json(name, rep));
	} else {
		for (size_t i = 0; i < rep->n_findings; i++)
			printf("%s\n", rep->findings[i]->message);
		size_t problems = check_problems(rep), pending = rep->n_findings - problems;
		char found[96] = "clean";

		if (problems)
			snprintf(found, sizeof(found), "%zu problem(s) found", problems);
		if (pending)
			snprintf(found + strlen(found), sizeof(found) - strlen(found), ", %zu removal(s) pending",
				 pending);
		printf("pool '%s'%s: %s; %zu thin id(s) in the kernel%s, %zu catalogue row(s), metadata %s\n", name,
		       rep->active ? "" : " (inactive)", found, rep->n_thin_ids,
		       rep->thin_ids_checked ? "" : " (not read)", rep->n_rows,
		       rep->metadata_checked ? "checked by thin_check" : "not checked");
	}
	r = check_problems(rep) ? EXIT_FAILURE_ : EXIT_OK;
	dms_check_report_free(rep);
	return r;
}

static const struct cmd pool_cmds[] = {
	{ "create", pool_create, "create a pool" },
	{ "status", pool_status, "show a pool's space and state" },
	{ "ls", pool_ls, "list pools" },
	{ "activate", pool_activate, "bring a pool up" },
	{ "deactivate", pool_deactivate, "take a pool down" },
	{ "recover", pool_recover, "finish or undo interrupted changes" },
	{ "check", pool_check, "compare the kernel's state with the catalogue's" },
	{ "grow", pool_grow, "grow a pool's data or metadata, online" },
	{ "monitor", pool_monitor, "watch a pool's events: thresholds, autoextend" },
	{ "rm", pool_rm, "remove a pool" },
	{ NULL, NULL, NULL },
};

int cmd_pool(int argc, char **argv, struct cmd_ctx *ctx)
{
	optind = 0;
	return dispatch("pool", pool_cmds, argc, argv, ctx, pool_help);
}
