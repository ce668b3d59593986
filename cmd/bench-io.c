// SPDX-License-Identifier: LGPL-2.1-or-later
/* dmstore bench io: the data-plane benchmark (bench/io*.c), as a table, JSON or a chart */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/io.h"
#include "cmd/bench.h"
#include "dms-util.h"

/* "30s", "500ms", "2m", "10" (seconds); 0 is allowed: size-based. */
static int parse_duration(const char *opt, const char *text, uint64_t *ret_ns)
{
	static const struct {
		const char *suffix;
		uint64_t ns;
	} units[] = { { "", 1000000000ULL }, { "s", 1000000000ULL }, { "ms", 1000000ULL }, { "m", 60000000000ULL } };
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (!errno && end != text && *text != '-')
		for (size_t i = 0; i < DMS_ARRAY_SIZE(units); i++)
			if (strcmp(end, units[i].suffix) == 0 && v <= UINT64_MAX / units[i].ns / 2) {
				*ret_ns = v * units[i].ns;
				return 0;
			}
	return usage_error("%s: invalid time '%s' (a whole number with s, ms or m; 0: size-based)", opt, text);
}

static int parse_targets(const char *text, unsigned *ret)
{
	_cleanup_free_ char *copy = strdup(text);
	char *save = NULL;
	unsigned set = 0;

	if (!copy)
		return usage_error("bench io: out of memory");
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int t;

		for (t = 0; t < BENCH_T_COUNT && strcmp(tok, bench_target_name(t)) != 0; t++)
			;
		if (t == BENCH_T_COUNT)
			return usage_error(
				"bench io: --targets: unknown target '%s' (raw, fresh, provisioned, snapshot, shared, fs)",
				tok);
		set |= 1U << t;
	}
	if (!set)
		return usage_error("bench io: --targets is empty");
	*ret = set;
	return 0;
}

/* Keep the workloads LIST names, in its order. */
static int pick_workloads(struct bench_io_opts *o, const char *list)
{
	struct bench_workload all[BENCH_WORKLOADS_MAX];
	_cleanup_free_ char *copy = strdup(list);
	size_t n_all = o->n_workloads;
	char *save = NULL;

	if (!copy)
		return usage_error("bench io: out of memory");
	memcpy(all, o->workloads, n_all * sizeof(all[0]));
	o->n_workloads = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t k;

		for (k = 0; k < n_all && strcmp(all[k].name, tok) != 0; k++)
			;
		if (k == n_all)
			return usage_error(
				"bench io: --workloads: no workload named '%s'; see 'dmstore bench io --help'", tok);
		if (o->n_workloads == BENCH_WORKLOADS_MAX)
			return usage_error("bench io: --workloads: at most %d", BENCH_WORKLOADS_MAX);
		o->workloads[o->n_workloads++] = all[k];
	}
	return o->n_workloads ? 0 : usage_error("bench io: --workloads is empty");
}

static int finish(struct cmd_ctx *ctx, struct bench_io_report *rep, const struct bench_io_opts *o, int r, bool json, const char *output,
		  const char *plot)
{
	int code = EXIT_OK;
	char err[512];

	bench_clear_status();
	if (r == -EINTR) {
		code = bench_stopped_code("bench io");
	} else if (r < 0) {
		fprintf(stderr, "dmstore: bench io: %s\n", *rep->error ? rep->error : strerror(-r));
		code = bench_failed_code(ctx, rep->error, r);
	} else {
		if (json) {
			json_print(bench_io_json(rep, o));
		} else if (bench_io_print(rep, stdout) < 0) {
			code = EXIT_FAILURE_;
		}
		if (output) {
			json_object *j = bench_io_json(rep, o);

			if (bench_write_json(j, output) != EXIT_OK)
				code = EXIT_FAILURE_;
			json_object_put(j);
		}
		if (plot && (r = bench_io_plot(rep, plot, &bench_stop_signal, err, sizeof(err))) < 0) {
			fprintf(stderr, "dmstore: bench io: %s\n", err);
			code = EXIT_FAILURE_;
		}
	}
	bench_io_report_free(rep);
	return code;
}

int cmd_bench_io(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const char help[] =
		"usage: dmstore bench io [--pool POOL | --data DEV --metadata DEV] [options]\n\n"
		"What thin provisioning does to I/O on this machine's disks. Each workload runs on each\n"
		"target, by an io_uring engine with O_DIRECT; latency percentiles come from a histogram.\n"
		"Targets: raw (--baseline DEV), fresh (a new thin device: every first write provisions a\n"
		"block), provisioned (written end to end: overwrites), snapshot (a new snapshot of it:\n"
		"first writes break sharing), shared (reads of a snapshot's shared blocks), fs (--fs: a\n"
		"file on a volume's ext4). Scratch devices are volumes named bench-io-PID-*, always\n"
		"removed, also on Ctrl-C.\n\n"
		"  --pool POOL          use this pool (default: $DMSTORE_POOL, the config's, or the only pool)\n"
		"  --data DEV --metadata DEV\n"
		"                       a scratch pool on these devices instead, removed after the run\n"
		"  --block-size SIZE    the scratch pool's block size (default 64K)\n"
		"  --no-zero            the scratch pool does not zero new blocks\n"
		"  --baseline DEV       the raw row: DEV itself. ITS CONTENTS ARE DESTROYED. Refused when\n"
		"                       DEV carries a signature, unless --force\n"
		"  --force              overwrite devices that carry a signature\n"
		"  --fs                 add the fs row\n"
		"  --targets LIST       only these (raw,fresh,provisioned,snapshot,shared,fs)\n"
		"  --size SIZE          the region each run covers, per target (default 4G)\n"
		"  --runtime TIME       each run's length: 30s, 500ms, 2m (default 30s); 0: size-based\n"
		"  --io-size SIZE       size-based: bytes each job transfers (default: --size / jobs)\n"
		"  --workloads LIST     only these, in this order (default: all)\n"
		"  --workload-file F    workloads from F, a fio job file with rw=, bs=, iodepth=,\n"
		"                       numjobs=, rwmixread= only\n"
		"  --bs SIZE, --iodepth N, --jobs N\n"
		"                       override every workload's\n"
		"  --fio                run fio with the same job on the same target too, and compare\n"
		"  --rounds N           run each workload N times per engine, alternating, and add the\n"
		"                       runs up (default 1): a slow moment of the machine is shared\n"
		"  --cpus LIST          run job k of each workload on the k-th CPU of LIST (as 1, 0,2 or\n"
		"                       4-7), fio's too (cpus_allowed, policy split); default: anywhere\n"
		"  --json               the report as JSON (schema: dmstore(8))\n"
		"  --output FILE        also write the JSON report to FILE\n"
		"  --plot FILE          a chart of throughput and p99 per target: FILE.png or FILE.svg\n\n"
		"Built-in workloads: seq-write and seq-read (1M, QD 8), randwrite-qd1, randwrite-qd32,\n"
		"randread-qd1, randread-qd32 (4K), randrw70-qd32 (4K, 70% reads).\n";
	enum {
		IO_POOL = 256,
		IO_DATA,
		IO_META,
		IO_BLOCK,
		IO_NO_ZERO,
		IO_BASELINE,
		IO_FORCE,
		IO_FS,
		IO_TARGETS,
		IO_SIZE,
		IO_RUNTIME,
		IO_IO_SIZE,
		IO_WORKLOADS,
		IO_FILE,
		IO_BS,
		IO_QD,
		IO_JOBS,
		IO_FIO,
		IO_ROUNDS,
		IO_CPUS,
		IO_JSON,
		IO_OUTPUT,
		IO_PLOT,
		IO_HELP,
	};
	static const struct option opts[] = {
		{ "pool", required_argument, NULL, IO_POOL },
		{ "data", required_argument, NULL, IO_DATA },
		{ "metadata", required_argument, NULL, IO_META },
		{ "block-size", required_argument, NULL, IO_BLOCK },
		{ "no-zero", no_argument, NULL, IO_NO_ZERO },
		{ "baseline", required_argument, NULL, IO_BASELINE },
		{ "force", no_argument, NULL, IO_FORCE },
		{ "fs", no_argument, NULL, IO_FS },
		{ "targets", required_argument, NULL, IO_TARGETS },
		{ "size", required_argument, NULL, IO_SIZE },
		{ "runtime", required_argument, NULL, IO_RUNTIME },
		{ "io-size", required_argument, NULL, IO_IO_SIZE },
		{ "workloads", required_argument, NULL, IO_WORKLOADS },
		{ "workload-file", required_argument, NULL, IO_FILE },
		{ "bs", required_argument, NULL, IO_BS },
		{ "iodepth", required_argument, NULL, IO_QD },
		{ "jobs", required_argument, NULL, IO_JOBS },
		{ "fio", no_argument, NULL, IO_FIO },
		{ "rounds", required_argument, NULL, IO_ROUNDS },
		{ "cpus", required_argument, NULL, IO_CPUS },
		{ "json", no_argument, NULL, IO_JSON },
		{ "output", required_argument, NULL, IO_OUTPUT },
		{ "plot", required_argument, NULL, IO_PLOT },
		{ "help", no_argument, NULL, IO_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct bench_io_opts o;
	struct bench_io_report rep = { 0 };
	const char *output = NULL, *plot = NULL, *file = NULL, *pick = NULL;
	uint64_t bs = 0, block_size = 0;
	unsigned iodepth = 0, jobs = 0, targets = 0;
	bool json = false, fs = false, runtime_set = false, pool_set = false;
	char err[512];
	cpu_set_t cpus;
	int opt, r;

	o = (struct bench_io_opts){
		.pool = cmd_default_pool(ctx),
		.size = 4 * DMS_GIB,
		.runtime_ns = 30 * 1000000000ULL,
		.rounds = 1,
		.stop = &bench_stop_signal,
		.progress = bench_progress,
		.status = isatty(STDERR_FILENO) ? bench_status : NULL,
	};
	o.n_workloads = bench_workloads_default(o.workloads, BENCH_WORKLOADS_MAX);
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
		case IO_HELP:
			fputs(help, stdout);
			return EXIT_OK;
		case IO_POOL:
			o.pool = optarg;
			pool_set = true;
			break;
		case IO_DATA:
			o.data_dev = optarg;
			break;
		case IO_META:
			o.metadata_dev = optarg;
			break;
		case IO_BLOCK:
			if (parse_size_arg("--block-size", optarg, &block_size))
				return EXIT_USAGE;
			break;
		case IO_NO_ZERO:
			o.no_zero = true;
			break;
		case IO_BASELINE:
			o.baseline = optarg;
			break;
		case IO_FORCE:
			o.force = true;
			break;
		case IO_FS:
			fs = true;
			break;
		case IO_TARGETS:
			if (parse_targets(optarg, &targets))
				return EXIT_USAGE;
			break;
		case IO_SIZE:
			if (parse_size_arg("--size", optarg, &o.size))
				return EXIT_USAGE;
			break;
		case IO_RUNTIME:
			if (parse_duration("--runtime", optarg, &o.runtime_ns))
				return EXIT_USAGE;
			runtime_set = true;
			break;
		case IO_IO_SIZE:
			if (parse_size_arg("--io-size", optarg, &o.io_size))
				return EXIT_USAGE;
			break;
		case IO_WORKLOADS:
			pick = optarg;
			break;
		case IO_FILE:
			file = optarg;
			break;
		case IO_BS:
			if (parse_size_arg("--bs", optarg, &bs))
				return EXIT_USAGE;
			if (bs < 512 || bs % 512 || bs > 64 * DMS_MIB)
				return usage_error("bench io: --bs must be a multiple of 512 bytes, up to 64M");
			break;
		case IO_QD:
			if (bench_parse_uint("--iodepth", optarg, 1, 4096, &iodepth))
				return EXIT_USAGE;
			break;
		case IO_JOBS:
			if (bench_parse_uint("--jobs", optarg, 1, 64, &jobs))
				return EXIT_USAGE;
			break;
		case IO_FIO:
			o.fio = true;
			break;
		case IO_ROUNDS:
			if (bench_parse_uint("--rounds", optarg, 1, 1000, &o.rounds))
				return EXIT_USAGE;
			break;
		case IO_CPUS:
			if (bench_cpus_parse(optarg, &cpus, err, sizeof(err)) < 0 ||
			    bench_cpus_usable(&cpus, err, sizeof(err)) < 0)
				return usage_error("bench io: --cpus '%s': %s", optarg, err);
			o.cpus = optarg;
			break;
		case IO_JSON:
			json = true;
			break;
		case IO_OUTPUT:
			output = optarg;
			break;
		case IO_PLOT:
			plot = optarg;
			break;
		default:
			return usage_error("bench io: unknown option '%s'; see 'dmstore bench io --help'",
					   argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("bench io: unexpected argument '%s'", argv[optind]);
	if (o.pool && !*o.pool)
		o.pool = NULL;
	if (!o.data_dev != !o.metadata_dev)
		return usage_error("bench io: a scratch pool needs both --data and --metadata");
	if (o.data_dev && pool_set)
		return usage_error("bench io: --pool, or a scratch pool on --data and --metadata: not both");
	if (o.data_dev)
		o.pool = NULL; /* $DMSTORE_POOL does not apply to a scratch pool */
	if (!o.data_dev && (block_size || o.no_zero))
		return usage_error("bench io: --block-size and --no-zero are for a scratch pool (--data, --metadata)");
	if (block_size > UINT32_MAX)
		return usage_error("bench io: --block-size too large");
	o.block_size = (uint32_t)block_size;
	if (o.pool && !dms_pool_name_valid(o.pool))
		return usage_error("bench io: invalid pool name '%s'", o.pool);
	if (o.size < 16 * DMS_MIB || o.size % DMS_MIB)
		return usage_error("bench io: --size must be a whole number of MiB, at least 16M");
	if (o.io_size && runtime_set && o.runtime_ns)
		return usage_error("bench io: --io-size is for size-based runs: give --runtime 0 too, or leave it out");
	if (o.io_size)
		o.runtime_ns = 0;
	if (plot && !bench_plot_suffix_ok(plot))
		return usage_error("bench io: --plot '%s': the file name must end in .png or .svg", plot);
	if (file && bench_workloads_load(file, o.workloads, BENCH_WORKLOADS_MAX, &o.n_workloads, err, sizeof(err)) < 0)
		return usage_error("bench io: %s", err);
	if (pick && pick_workloads(&o, pick))
		return EXIT_USAGE;
	for (size_t i = 0; i < o.n_workloads; i++) {
		if (bs)
			o.workloads[i].bs = (uint32_t)bs;
		if (iodepth)
			o.workloads[i].iodepth = iodepth;
		if (jobs)
			o.workloads[i].jobs = jobs;
		if (o.size / o.workloads[i].jobs < o.workloads[i].bs)
			return usage_error("bench io: workload '%s': %u job(s) of %u-byte blocks do not fit in --size",
					   o.workloads[i].name, o.workloads[i].jobs, o.workloads[i].bs);
	}
	if (!targets)
		targets = ((1U << BENCH_T_COUNT) - 1) &
			  ~((o.baseline ? 0 : 1U << BENCH_T_RAW) | (fs ? 0 : 1U << BENCH_T_FS));
	else if (fs)
		targets |= 1U << BENCH_T_FS;
	if ((targets & (1U << BENCH_T_RAW)) && !o.baseline)
		return usage_error("bench io: the raw target needs --baseline DEV");
	o.targets = targets;
	if (require_root("bench io"))
		return EXIT_PERM;

	bench_command_line(argc, argv, rep.command, sizeof(rep.command));
	bench_start_clock();
	bench_catch_stop_signals();
	r = bench_io_bench(ctx->lib, &o, &rep);
	return finish(ctx, &rep, &o, r, json, output, plot);
}
