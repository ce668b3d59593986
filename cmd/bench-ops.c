// SPDX-License-Identifier: LGPL-2.1-or-later
/* dmstore bench ops: the control-plane benchmark (bench/ops*.c), as a table, JSON or a chart */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"
#include "cmd/bench.h"
#include "dms-util.h"

/* "10,100,1000" */
static int parse_populations(const char *text, struct bench_ops_opts *o)
{
	_cleanup_free_ char *copy = strdup(text);
	char *save = NULL;

	if (!copy)
		return usage_error("bench ops: out of memory");
	o->n_populations = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned v;

		if (o->n_populations == BENCH_OPS_POPULATIONS_MAX)
			return usage_error("bench ops: --populations: at most %d", BENCH_OPS_POPULATIONS_MAX);
		if (bench_parse_uint("--populations", tok, 0, 100000, &v))
			return EXIT_USAGE;
		if (o->n_populations && v <= o->populations[o->n_populations - 1])
			return usage_error("bench ops: --populations must ascend");
		o->populations[o->n_populations++] = v;
	}
	return o->n_populations ? 0 : usage_error("bench ops: --populations is empty");
}

/* "10G,1T" */
static int parse_sizes(const char *text, struct bench_ops_opts *o)
{
	_cleanup_free_ char *copy = strdup(text);
	char *save = NULL;

	if (!copy)
		return usage_error("bench ops: out of memory");
	o->n_vol_sizes = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (o->n_vol_sizes == BENCH_OPS_SIZES_MAX)
			return usage_error("bench ops: --vol-sizes: at most %d", BENCH_OPS_SIZES_MAX);
		if (parse_size_arg("--vol-sizes", tok, &o->vol_sizes[o->n_vol_sizes]))
			return EXIT_USAGE;
		if (o->vol_sizes[o->n_vol_sizes] < 16 * DMS_MIB || o->vol_sizes[o->n_vol_sizes] % 4096)
			return usage_error("bench ops: --vol-sizes: '%s' is not a volume size (16M or more, whole 4K)",
					   tok);
		o->n_vol_sizes++;
	}
	return o->n_vol_sizes ? 0 : usage_error("bench ops: --vol-sizes is empty");
}

static int finish(struct cmd_ctx *ctx, struct bench_report *rep, int r, bool json, const char *output, const char *plot)
{
	int code = EXIT_OK;
	char err[512];

	bench_clear_status();
	if (r == -EINTR) {
		code = bench_stopped_code("bench ops");
	} else if (r < 0) {
		fprintf(stderr, "dmstore: bench ops: %s\n", *rep->error ? rep->error : strerror(-r));
		code = bench_failed_code(ctx, rep->error, r);
	} else {
		if (json)
			json_print(bench_report_json(rep));
		else if (bench_report_print(rep, stdout) < 0)
			code = EXIT_FAILURE_;
		if (output) {
			json_object *j = bench_report_json(rep);

			if (bench_write_json(j, output) != EXIT_OK)
				code = EXIT_FAILURE_;
			json_object_put(j);
		}
		if (plot && bench_ops_plot(rep, plot, &bench_stop_signal, err, sizeof(err)) < 0) {
			fprintf(stderr, "dmstore: bench ops: %s\n", err);
			code = EXIT_FAILURE_;
		}
	}
	bench_report_free(rep);
	return code;
}

int cmd_bench_ops(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const char help[] =
		"usage: dmstore bench ops [--pool POOL] [options]\n\n"
		"Times the control plane in create+remove pairs: container create+activate and rm,\n"
		"volume create (thin device + ext4) and rm, image import and rm, by libdmstore in this\n"
		"process, with the pool holding each of --populations devices (containers are added to\n"
		"reach them). With the first population, the same operations by other means take turns\n"
		"with the library: `dmstore snap create|rm` exec'd, the dmsetup programs containerd's\n"
		"devmapper snapshotter runs, LVM thin snapshots (--lvm), and mkfs.ext4 on a thin device\n"
		"made with dmsetup. Last, the first population again: a drift of the machine shows.\n\n"
		"  --populations LIST   devices in the pool while measuring (default 10,100,1000)\n"
		"  --iterations N       pairs per operation by the library, per population (default 50)\n"
		"  --import-iterations N  image imports per population (default 10; 0: none)\n"
		"  --exec-iterations N  pairs per exec'd method (default 30)\n"
		"  --warmup N           untimed pairs per method first (default 3)\n"
		"  --vol-sizes LIST     volume sizes (default 10G,1T)\n"
		"  --image IMG          containers of IMG (default: an empty image made for the run)\n"
		"  --image-size SIZE    the size of the image made for the run (default 10G)\n"
		"  --import SOURCE      the tarball or directory to import (default: a small tree made for\n"
		"                       the run: 64 files of 4 KiB)\n"
		"  --lvm VG/LV          a thin LV to snapshot with LVM (default: no LVM)\n"
		"  --no-cli             skip the exec'd dmstore\n"
		"  --no-dmsetup         skip the containerd dmsetup path\n"
		"  --dmsetup-id N       first thin id for the dmsetup path (default 100000)\n"
		"  --thin-id N          thin id for the mkfs.ext4 device (default 200000)\n"
		"  --json               the report as JSON (schema: dmstore(8))\n"
		"  --output FILE        also write the JSON report to FILE\n"
		"  --plot FILE          a chart of p50 and p99 against the pool's devices: FILE.png or .svg\n";
	enum {
		OPT_POOL = 256,
		OPT_JSON,
		OPT_ITER,
		OPT_IMPORT_ITER,
		OPT_EXEC_ITER,
		OPT_WARMUP,
		OPT_POPULATIONS,
		OPT_SIZES,
		OPT_IMAGE,
		OPT_IMAGE_SIZE,
		OPT_IMPORT,
		OPT_LVM,
		OPT_NO_CLI,
		OPT_NO_DMSETUP,
		OPT_DMSETUP_ID,
		OPT_THIN_ID,
		OPT_OUTPUT,
		OPT_PLOT,
		OPT_HELP,
	};
	static const struct option opts[] = {
		{ "pool", required_argument, NULL, OPT_POOL },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "iterations", required_argument, NULL, OPT_ITER },
		{ "import-iterations", required_argument, NULL, OPT_IMPORT_ITER },
		{ "exec-iterations", required_argument, NULL, OPT_EXEC_ITER },
		{ "warmup", required_argument, NULL, OPT_WARMUP },
		{ "populations", required_argument, NULL, OPT_POPULATIONS },
		{ "vol-sizes", required_argument, NULL, OPT_SIZES },
		{ "image", required_argument, NULL, OPT_IMAGE },
		{ "image-size", required_argument, NULL, OPT_IMAGE_SIZE },
		{ "import", required_argument, NULL, OPT_IMPORT },
		{ "lvm", required_argument, NULL, OPT_LVM },
		{ "no-cli", no_argument, NULL, OPT_NO_CLI },
		{ "no-dmsetup", no_argument, NULL, OPT_NO_DMSETUP },
		{ "dmsetup-id", required_argument, NULL, OPT_DMSETUP_ID },
		{ "thin-id", required_argument, NULL, OPT_THIN_ID },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ "plot", required_argument, NULL, OPT_PLOT },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct bench_ops_opts o = {
		.pool = cmd_default_pool(ctx),
		.image_size = DMS_IMAGE_SIZE_DEFAULT,
		.populations = { 10, 100, 1000 },
		.n_populations = 3,
		.vol_sizes = { 10ULL << 30, 1ULL << 40 },
		.n_vol_sizes = 2,
		.iterations = 50,
		.import_iterations = 10,
		.exec_iterations = 30,
		.warmup = 3,
		.cli = true,
		.dmsetup = true,
		.dmsetup_id = 100000,
		.mkfs_thin_id = 200000,
		.stop = &bench_stop_signal,
		.progress = bench_progress,
	};
	struct bench_report rep = { 0 };
	const char *output = NULL, *plot = NULL;
	char self[PATH_MAX];
	bool json = false;
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
		case OPT_PLOT:
			plot = optarg;
			break;
		case OPT_ITER:
			if (bench_parse_uint("--iterations", optarg, 1, 1000000, &o.iterations))
				return EXIT_USAGE;
			break;
		case OPT_IMPORT_ITER:
			if (bench_parse_uint("--import-iterations", optarg, 0, 100000, &o.import_iterations))
				return EXIT_USAGE;
			break;
		case OPT_EXEC_ITER:
			if (bench_parse_uint("--exec-iterations", optarg, 1, 1000000, &o.exec_iterations))
				return EXIT_USAGE;
			break;
		case OPT_WARMUP:
			if (bench_parse_uint("--warmup", optarg, 0, 1000, &o.warmup))
				return EXIT_USAGE;
			break;
		case OPT_POPULATIONS:
			if (parse_populations(optarg, &o))
				return EXIT_USAGE;
			break;
		case OPT_SIZES:
			if (parse_sizes(optarg, &o))
				return EXIT_USAGE;
			break;
		case OPT_IMAGE:
			o.image = optarg;
			break;
		case OPT_IMAGE_SIZE:
			if (parse_size_arg("--image-size", optarg, &o.image_size))
				return EXIT_USAGE;
			break;
		case OPT_IMPORT:
			o.import_source = optarg;
			break;
		case OPT_LVM:
			if (!strchr(optarg, '/'))
				return usage_error("bench ops: --lvm wants VG/LV, not '%s'", optarg);
			o.lvm_origin = optarg;
			break;
		case OPT_NO_CLI:
			o.cli = false;
			break;
		case OPT_NO_DMSETUP:
			o.dmsetup = false;
			break;
		case OPT_DMSETUP_ID:
			if (bench_parse_uint("--dmsetup-id", optarg, 0, (1U << 24) - 1, &id))
				return EXIT_USAGE;
			o.dmsetup_id = id;
			break;
		case OPT_THIN_ID:
			if (bench_parse_uint("--thin-id", optarg, 0, (1U << 24) - 1, &id))
				return EXIT_USAGE;
			o.mkfs_thin_id = id;
			break;
		default:
			return usage_error("bench ops: unknown option '%s'; see 'dmstore bench ops --help'",
					   argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("bench ops: unexpected argument '%s'", argv[optind]);
	if (o.pool && !*o.pool)
		o.pool = NULL;
	if (o.pool && !dms_pool_name_valid(o.pool))
		return usage_error("bench ops: invalid pool name '%s'", o.pool);
	if (o.image && !dms_name_valid(o.image))
		return usage_error("bench ops: invalid image name '%s'", o.image);
	if (o.dmsetup_id + o.exec_iterations + o.warmup > (1U << 24) - 1)
		return usage_error("bench ops: --dmsetup-id leaves no room for %u thin ids",
				   o.exec_iterations + o.warmup);
	if (plot && !bench_plot_suffix_ok(plot))
		return usage_error("bench ops: --plot '%s': the file name must end in .png or .svg", plot);
	if (require_root("bench ops"))
		return EXIT_PERM;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return usage_error("bench ops: cannot find the dmstore binary: %s", strerror(errno));
	self[n] = '\0';
	o.self = self;

	bench_command_line(argc, argv, rep.command, sizeof(rep.command));
	bench_start_clock();
	bench_catch_stop_signals();
	r = bench_ops_run(ctx->lib, &o, &rep);
	return finish(ctx, &rep, r, json, output, plot);
}
