// SPDX-License-Identifier: LGPL-2.1-or-later
/* dmstore bench snap|vol-create: the control-plane benchmarks (bench/), as a table or JSON */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"
#include "cmd/cmd.h"
#include "dms-util.h"

static const char bench_help[] =
	"usage: dmstore bench <command> [--pool POOL] [options]\n\n"
	"  snap         container snapshot create+activate and remove: dmstore (library and CLI)\n"
	"               against containerd's dmsetup calls and LVM thin snapshots, then at scale\n"
	"  vol-create   volume create (thin device + ext4) against mkfs.ext4 on a thin device\n\n"
	"Benchmarks change the pool while they run (they make and remove objects named bench-*),\n"
	"print percentiles in milliseconds and the ratios against the targets, and exit 0 when\n"
	"they ran, whether or not a target was met. `make bench` runs both in scripts/vm.\n";

static double start_ns;

static void progress(const char *msg)
{
	fprintf(stderr, "bench: [%6.1fs] %s\n", ((double)bench_now_ns() - start_ns) / 1e9, msg);
}

/* "dmstore bench snap --iterations 200 ...", quoted where a shell would need it. */
static void command_line(int argc, char **argv, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "dmstore bench");

	for (int i = 0; i < argc && n < len; i++) {
		bool plain = *argv[i] && strspn(argv[i], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=,:") == strlen(argv[i]);

		n += (size_t)snprintf(buf + n, len - n, plain ? " %s" : " '%s'", argv[i]);
	}
}

static int parse_uint(const char *opt, const char *text, unsigned max, unsigned *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || end == text || *end || v > max || *text == '-')
		return usage_error("%s: invalid number '%s' (0-%u)", opt, text, max);
	*ret = (unsigned)v;
	return 0;
}

/* The JSON report into PATH as well, for scripts/bench to keep. */
static int write_json(const struct bench_report *rep, const char *path)
{
	json_object *o = bench_report_json(rep);
	int r = json_object_to_file_ext(path, o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);

	json_object_put(o);
	if (r < 0)
		fprintf(stderr, "dmstore: bench: writing '%s' failed: %s\n", path, json_util_get_last_err());
	return r < 0 ? EXIT_FAILURE_ : EXIT_OK;
}

/* A failure is the library's kind of failure when the report quotes the library, else the benchmark's own: 1. */
static int finish(struct cmd_ctx *ctx, struct bench_report *rep, int r, bool json, const char *output)
{
	int code = EXIT_OK;

	if (r < 0) {
		fprintf(stderr, "dmstore: bench: %s\n", *rep->error ? rep->error : strerror(-r));
		code = strcmp(rep->error, dms_ctx_error(ctx->lib)) == 0 ? exit_code_for(dms_ctx_error_kind(ctx->lib)) :
									  EXIT_FAILURE_;
	} else {
		if (json)
			json_print(bench_report_json(rep));
		else if (bench_report_print(rep, stdout) < 0)
			code = EXIT_FAILURE_;
		if (output && write_json(rep, output) != EXIT_OK)
			code = EXIT_FAILURE_;
	}
	bench_report_free(rep);
	return code;
}

enum {
	OPT_POOL = 256, OPT_JSON, OPT_ITER, OPT_EXEC_ITER, OPT_WARMUP, OPT_IMAGE, OPT_IMAGE_SIZE, OPT_CONTAINERS, OPT_SCALE,
	OPT_LVM, OPT_NO_CLI, OPT_NO_DMSETUP, OPT_DMSETUP_ID, OPT_SIZES, OPT_THIN_ID, OPT_OUTPUT, OPT_HELP,
};

static int bench_snap(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const char help[] =
		"usage: dmstore bench snap [--pool POOL] [options]\n\n"
		"Times a container snapshot's create+activate and its removal in pairs, by:\n"
		"dms_snap_create/dms_snap_remove in this process; `dmstore snap create|rm` exec'd; the\n"
		"dmsetup programs containerd's devmapper snapshotter runs, on the same pool; and, with\n"
		"--lvm, lvcreate -s / lvremove on an LVM thin pool. The methods take turns while\n"
		"--containers containers stay in the pool. Then dmstore is timed alone, with\n"
		"--containers and, after filling the pool, with --scale containers.\n\n"
		"  --image IMG          snapshot IMG (default: make an empty image for the run)\n"
		"  --image-size SIZE    size of the image made for the run (default 10G)\n"
		"  --iterations N       create+remove pairs by the library, per phase (default 200)\n"
		"  --exec-iterations N  pairs per exec'd method: CLI, dmsetup, LVM (default: --iterations)\n"
		"  --warmup N           untimed pairs per method first (default 3)\n"
		"  --containers N       containers kept in the pool while comparing (default 10)\n"
		"  --scale N            containers in the pool for the second dmstore run (default 1000; 0: skip)\n"
		"  --lvm VG/LV          a thin LV to snapshot with LVM (default: no LVM)\n"
		"  --no-cli             skip the exec'd dmstore\n"
		"  --no-dmsetup         skip the containerd dmsetup path\n"
		"  --dmsetup-id N       first thin id for the dmsetup path (default 100000)\n"
		"  --json               the report as JSON\n"
		"  --output FILE        also write the JSON report to FILE\n";
	static const struct option opts[] = {
		{ "pool", required_argument, NULL, OPT_POOL },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "iterations", required_argument, NULL, OPT_ITER },
		{ "exec-iterations", required_argument, NULL, OPT_EXEC_ITER },
		{ "warmup", required_argument, NULL, OPT_WARMUP },
		{ "image", required_argument, NULL, OPT_IMAGE },
		{ "image-size", required_argument, NULL, OPT_IMAGE_SIZE },
		{ "containers", required_argument, NULL, OPT_CONTAINERS },
		{ "scale", required_argument, NULL, OPT_SCALE },
		{ "lvm", required_argument, NULL, OPT_LVM },
		{ "no-cli", no_argument, NULL, OPT_NO_CLI },
		{ "no-dmsetup", no_argument, NULL, OPT_NO_DMSETUP },
		{ "dmsetup-id", required_argument, NULL, OPT_DMSETUP_ID },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct bench_snap_opts o = {
		.pool = getenv("DMSTORE_POOL"),
		.image_size = DMS_IMAGE_SIZE_DEFAULT,
		.iterations = 200,
		.warmup = 3,
		.small = 10,
		.large = 1000,
		.cli = true,
		.dmsetup = true,
		.dmsetup_id = 100000,
		.progress = progress,
	};
	struct bench_report rep = { 0 };
	char self[PATH_MAX];
	const char *output = NULL;
	bool json = false, exec_iterations_set = false;
	unsigned id;
	ssize_t n;
	int opt, r;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
		case OPT_HELP:
			fputs(help, stdout);
			return EXIT_OK;
		case OPT_POOL:
			o.pool = optarg;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_OUTPUT:
			output = optarg;
			break;
		case OPT_ITER:
			if (parse_uint("--iterations", optarg, 1000000, &o.iterations))
				return EXIT_USAGE;
			break;
		case OPT_EXEC_ITER:
			if (parse_uint("--exec-iterations", optarg, 1000000, &o.exec_iterations))
				return EXIT_USAGE;
			exec_iterations_set = true;
			break;
		case OPT_WARMUP:
			if (parse_uint("--warmup", optarg, 1000, &o.warmup))
				return EXIT_USAGE;
			break;
		case OPT_IMAGE:
			o.image = optarg;
			break;
		case OPT_IMAGE_SIZE:
			if (parse_size_arg("--image-size", optarg, &o.image_size))
				return EXIT_USAGE;
			break;
		case OPT_CONTAINERS:
			if (parse_uint("--containers", optarg, 100000, &o.small))
				return EXIT_USAGE;
			break;
		case OPT_SCALE:
			if (parse_uint("--scale", optarg, 1000000, &o.large))
				return EXIT_USAGE;
			break;
		case OPT_LVM:
			if (!strchr(optarg, '/'))
				return usage_error("bench snap: --lvm wants VG/LV, not '%s'", optarg);
			o.lvm_origin = optarg;
			break;
		case OPT_NO_CLI:
			o.cli = false;
			break;
		case OPT_NO_DMSETUP:
			o.dmsetup = false;
			break;
		case OPT_DMSETUP_ID:
			if (parse_uint("--dmsetup-id", optarg, (1U << 24) - 1, &id))
				return EXIT_USAGE;
			o.dmsetup_id = id;
			break;
		default:
			return usage_error("bench snap: unknown option '%s'; see 'dmstore bench snap --help'",
					   argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("bench snap: unexpected argument '%s'", argv[optind]);
	if (o.pool && !*o.pool)
		o.pool = NULL;
	if (o.pool && !dms_pool_name_valid(o.pool))
		return usage_error("bench snap: invalid pool name '%s'", o.pool);
	if (o.image && !dms_name_valid(o.image))
		return usage_error("bench snap: invalid image name '%s'", o.image);
	if (!exec_iterations_set)
		o.exec_iterations = o.iterations;
	if (o.iterations == 0 || o.exec_iterations == 0)
		return usage_error("bench snap: --iterations and --exec-iterations must be more than 0");
	if (o.dmsetup_id + o.exec_iterations + 2 * o.warmup > (1U << 24) - 1)
		return usage_error("bench snap: --dmsetup-id leaves no room for %u thin ids",
				   o.exec_iterations + 2 * o.warmup);
	if (require_root("bench snap"))
		return EXIT_PERM;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return usage_error("bench snap: cannot find the dmstore binary: %s", strerror(errno));
	self[n] = '\0';
	o.self = self;

	command_line(argc, argv, rep.command, sizeof(rep.command));
	start_ns = (double)bench_now_ns();
	r = bench_snap_run(ctx->lib, &o, &rep);
	return finish(ctx, &rep, r, json, output);
}

/* "10G,1T" */
static int parse_sizes(const char *text, struct bench_vol_opts *o)
{
	_cleanup_free_ char *copy = strdup(text);
	char *save = NULL;

	if (!copy)
		return usage_error("bench vol-create: out of memory");
	o->n_sizes = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (o->n_sizes == BENCH_VOL_SIZES_MAX)
			return usage_error("bench vol-create: at most %d sizes", BENCH_VOL_SIZES_MAX);
		if (parse_size_arg("--sizes", tok, &o->sizes[o->n_sizes]))
			return EXIT_USAGE;
		o->n_sizes++;
	}
	return o->n_sizes ? 0 : usage_error("bench vol-create: --sizes is empty");
}

static int bench_vol_create(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const char help[] =
		"usage: dmstore bench vol-create [--pool POOL] [options]\n\n"
		"Times volume create (thin device + ext4, dms_vol_create in this process) against\n"
		"`mkfs.ext4 -E lazy_itable_init=1,lazy_journal_init=1,nodiscard` on a thin device of the\n"
		"same size made in the same pool (dmsetup message create_thin + dmsetup create), and the\n"
		"pool space each one's formatting allocates. Each is deleted before the next.\n\n"
		"  --sizes LIST         comma-separated sizes (default 10G,1T)\n"
		"  --iterations N       creates per size and method (default 10)\n"
		"  --thin-id N          thin id for the mkfs.ext4 device (default 200000)\n"
		"  --json               the report as JSON\n"
		"  --output FILE        also write the JSON report to FILE\n";
	static const struct option opts[] = {
		{ "pool", required_argument, NULL, OPT_POOL },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "iterations", required_argument, NULL, OPT_ITER },
		{ "sizes", required_argument, NULL, OPT_SIZES },
		{ "thin-id", required_argument, NULL, OPT_THIN_ID },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct bench_vol_opts o = {
		.pool = getenv("DMSTORE_POOL"),
		.sizes = { 10ULL << 30, 1ULL << 40 },
		.n_sizes = 2,
		.iterations = 10,
		.thin_id = 200000,
		.progress = progress,
	};
	struct bench_report rep = { 0 };
	const char *output = NULL;
	bool json = false;
	unsigned id;
	int opt, r;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
		case OPT_HELP:
			fputs(help, stdout);
			return EXIT_OK;
		case OPT_POOL:
			o.pool = optarg;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_OUTPUT:
			output = optarg;
			break;
		case OPT_ITER:
			if (parse_uint("--iterations", optarg, 100000, &o.iterations))
				return EXIT_USAGE;
			break;
		case OPT_SIZES:
			if (parse_sizes(optarg, &o))
				return EXIT_USAGE;
			break;
		case OPT_THIN_ID:
			if (parse_uint("--thin-id", optarg, (1U << 24) - 1, &id))
				return EXIT_USAGE;
			o.thin_id = id;
			break;
		default:
			return usage_error("bench vol-create: unknown option '%s'; see 'dmstore bench vol-create --help'",
					   argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("bench vol-create: unexpected argument '%s'", argv[optind]);
	if (o.pool && !*o.pool)
		o.pool = NULL;
	if (o.pool && !dms_pool_name_valid(o.pool))
		return usage_error("bench vol-create: invalid pool name '%s'", o.pool);
	if (o.iterations == 0)
		return usage_error("bench vol-create: --iterations must be more than 0");
	if (require_root("bench vol-create"))
		return EXIT_PERM;

	command_line(argc, argv, rep.command, sizeof(rep.command));
	start_ns = (double)bench_now_ns();
	r = bench_vol_run(ctx->lib, &o, &rep);
	return finish(ctx, &rep, r, json, output);
}

static const struct cmd bench_cmds[] = {
	{ "snap", bench_snap, "container snapshot create and remove, against dmsetup and LVM" },
	{ "vol-create", bench_vol_create, "volume create against mkfs.ext4" },
	{ NULL, NULL, NULL },
};

int cmd_bench(int argc, char **argv, struct cmd_ctx *ctx)
{
	return dispatch("bench", bench_cmds, argc, argv, ctx, bench_help);
}
