// SPDX-License-Identifier: LGPL-2.1-or-later
/* dmstore bench snap|vol-create: the control-plane benchmarks (bench/), as a table or JSON */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/io.h"
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

static int finish(struct bench_report *rep, int r, bool json, const char *output)
{
	int code = EXIT_OK;

	if (r < 0) {
		fprintf(stderr, "dmstore: bench: %s\n", *rep->error ? rep->error : strerror(-r));
		code = exit_code_for(r);
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
	return finish(&rep, r, json, output);
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
	return finish(&rep, r, json, output);
}


/* --- bench io --------------------------------------------------------------------------------- */

static volatile sig_atomic_t stop_signal;
static bool status_shown;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

/*
 * Ctrl-C, a hang-up or a kill ask the benchmark to stop and clean up: the
 * handler only sets the flag the engine watches. SA_RESTART, so no library
 * call is cut in the middle: it finishes, and the benchmark stops after it.
 */
static void catch_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal, .sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
}

static void clear_status(void)
{
	if (status_shown)
		fputs("\r\033[K", stderr);
	status_shown = false;
}

static void io_progress(const char *msg)
{
	clear_status();
	progress(msg);
}

/* On a terminal only: one line, rewritten in place. */
static void io_status(const char *msg)
{
	fprintf(stderr, "\r\033[Kbench: %s", msg);
	status_shown = true;
}

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
			return usage_error("bench io: --targets: unknown target '%s' (raw, fresh, provisioned, snapshot, shared, fs)",
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
			return usage_error("bench io: --workloads: no workload named '%s'; see 'dmstore bench io --help'", tok);
		if (o->n_workloads == BENCH_WORKLOADS_MAX)
			return usage_error("bench io: --workloads: at most %d", BENCH_WORKLOADS_MAX);
		o->workloads[o->n_workloads++] = all[k];
	}
	return o->n_workloads ? 0 : usage_error("bench io: --workloads is empty");
}

static int finish_io(struct bench_io_report *rep, const struct bench_io_opts *o, int r, bool json,
		     const char *output, const char *plot)
{
	int code = EXIT_OK;
	char err[512];

	clear_status();
	if (r == -EINTR) {
		fprintf(stderr, "dmstore: bench io: interrupted by signal %d; what it made is removed\n", (int)stop_signal);
		code = 128 + (int)stop_signal;
	} else if (r < 0) {
		fprintf(stderr, "dmstore: bench io: %s\n", *rep->error ? rep->error : strerror(-r));
		/* What the user gave that cannot be used is a usage error; what failed on the way is a failure. */
		code = r == -EINVAL || r == -EEXIST || r == -ENOSPC ? EXIT_USAGE : exit_code_for(r);
	} else {
		if (json) {
			json_print(bench_io_json(rep, o));
		} else if (bench_io_print(rep, stdout) < 0) {
			code = EXIT_FAILURE_;
		}
		if (output) {
			json_object *j = bench_io_json(rep, o);

			if (json_object_to_file_ext(output, j, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE) < 0) {
				fprintf(stderr, "dmstore: bench io: writing '%s' failed: %s\n", output, json_util_get_last_err());
				code = EXIT_FAILURE_;
			}
			json_object_put(j);
		}
		if (plot && (r = bench_io_plot(rep, plot, &stop_signal, err, sizeof(err))) < 0) {
			fprintf(stderr, "dmstore: bench io: %s\n", err);
			code = EXIT_FAILURE_;
		}
	}
	bench_io_report_free(rep);
	return code;
}

static int bench_io(int argc, char **argv, struct cmd_ctx *ctx)
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
		"  --pool POOL          use this pool (default: $DMSTORE_POOL, or the only pool)\n"
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
		"  --json               the report as JSON (schema: dmstore(8))\n"
		"  --output FILE        also write the JSON report to FILE\n"
		"  --plot FILE          a chart of throughput and p99 per target: FILE.png or FILE.svg\n\n"
		"Built-in workloads: seq-write and seq-read (1M, QD 8), randwrite-qd1, randwrite-qd32,\n"
		"randread-qd1, randread-qd32 (4K), randrw70-qd32 (4K, 70% reads).\n";
	enum {
		IO_POOL = 256, IO_DATA, IO_META, IO_BLOCK, IO_NO_ZERO, IO_BASELINE, IO_FORCE, IO_FS, IO_TARGETS, IO_SIZE,
		IO_RUNTIME, IO_IO_SIZE, IO_WORKLOADS, IO_FILE, IO_BS, IO_QD, IO_JOBS, IO_FIO, IO_JSON, IO_OUTPUT, IO_PLOT,
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
		{ "json", no_argument, NULL, IO_JSON },
		{ "output", required_argument, NULL, IO_OUTPUT },
		{ "plot", required_argument, NULL, IO_PLOT },
		{ "help", no_argument, NULL, IO_HELP },
		{ NULL, 0, NULL, 0 },
	};
	static struct bench_io_opts o;
	struct bench_io_report rep = { 0 };
	const char *output = NULL, *plot = NULL, *file = NULL, *pick = NULL;
	uint64_t bs = 0, block_size = 0;
	unsigned iodepth = 0, jobs = 0, targets = 0;
	bool json = false, fs = false, runtime_set = false, pool_set = false;
	char err[512];
	int opt, r;

	o = (struct bench_io_opts){
		.pool = getenv("DMSTORE_POOL"), .size = 4 * DMS_GIB, .runtime_ns = 30 * 1000000000ULL,
		.stop = &stop_signal, .progress = io_progress, .status = isatty(STDERR_FILENO) ? io_status : NULL,
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
			if (parse_uint("--iodepth", optarg, 4096, &iodepth) || !iodepth)
				return iodepth ? EXIT_USAGE : usage_error("bench io: --iodepth must be 1 or more");
			break;
		case IO_JOBS:
			if (parse_uint("--jobs", optarg, 64, &jobs) || !jobs)
				return jobs ? EXIT_USAGE : usage_error("bench io: --jobs must be 1 or more");
			break;
		case IO_FIO:
			o.fio = true;
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
			return usage_error("bench io: unknown option '%s'; see 'dmstore bench io --help'", argv[optind - 1]);
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
		targets = ((1U << BENCH_T_COUNT) - 1) & ~((o.baseline ? 0 : 1U << BENCH_T_RAW) | (fs ? 0 : 1U << BENCH_T_FS));
	else if (fs)
		targets |= 1U << BENCH_T_FS;
	if ((targets & (1U << BENCH_T_RAW)) && !o.baseline)
		return usage_error("bench io: the raw target needs --baseline DEV");
	o.targets = targets;
	if (require_root("bench io"))
		return EXIT_PERM;

	command_line(argc, argv, rep.command, sizeof(rep.command));
	start_ns = (double)bench_now_ns();
	catch_stop_signals();
	r = bench_io_bench(ctx->lib, &o, &rep);
	return finish_io(&rep, &o, r, json, output, plot);
}

static const struct cmd bench_cmds[] = {
	{ "io", bench_io, "the data plane: I/O on thin devices against the raw disk, with fio as referee" },
	{ "snap", bench_snap, "container snapshot create and remove, against dmsetup and LVM" },
	{ "vol-create", bench_vol_create, "volume create against mkfs.ext4" },
	{ NULL, NULL, NULL },
};

int cmd_bench(int argc, char **argv, struct cmd_ctx *ctx)
{
	return dispatch("bench", bench_cmds, argc, argv, ctx, bench_help);
}
