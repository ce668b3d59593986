/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMS_BENCH_H
#define DMS_BENCH_H

/*
 * bench/: the benchmarks behind `dmstore bench` and `make bench`: the control
 * plane (ops.c) and the data plane (io*.c, io.h).
 *
 * The control-plane benchmark times one operation at a time with
 * CLOCK_MONOTONIC, keeps every sample, and fills a report: rows of latency
 * percentiles and checks of measured ratios against the targets the issues
 * set. Programs it compares against (dmsetup, lvcreate, mkfs.ext4, the
 * dmstore CLI) are run with posix_spawn and waited for, so their time
 * includes what a caller that execs them pays. Nothing here prints; progress
 * goes through a callback and the report is printed by cmd/.
 */

#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "dmstore.h"

/* Latencies in milliseconds, in the order they were taken. */
struct bench_samples {
	double *ms;
	size_t n;
	size_t cap;
};

int bench_samples_add(struct bench_samples *s, double ms);
void bench_samples_free(struct bench_samples *s);
/* Nearest-rank percentile P (0 < P <= 100): the smallest sample with at least P% of them at or below it. */
double bench_percentile(const struct bench_samples *s, double p);
/* The middle sample, or the mean of the middle two; NAN without samples. */
double bench_median(const struct bench_samples *s);

/* hist.c: a log-linear latency histogram (HdrHistogram's layout), in nanoseconds. */
#define BENCH_HIST_SUB_BITS 7
#define BENCH_HIST_MAX_NS ((1ULL << 40) - 1) /* 18 minutes; longer values count as this */
#define BENCH_HIST_BUCKETS ((40 - BENCH_HIST_SUB_BITS + 1) << BENCH_HIST_SUB_BITS)

struct bench_hist {
	uint64_t count;
	uint64_t min_ns, max_ns;
	double sum_ns;
	uint64_t buckets[BENCH_HIST_BUCKETS];
};

void bench_hist_add(struct bench_hist *h, uint64_t ns);
void bench_hist_merge(struct bench_hist *into, const struct bench_hist *from);
/* Nearest rank over the buckets, reported as its bucket's middle (as fio does); NAN when empty. */
double bench_hist_percentile(const struct bench_hist *h, double p);

/*
 * spawn.c: run ARGV (searched in PATH, in a process group of its own) with
 * STDIN_TEXT on its standard input (NULL: /dev/null), its standard output in
 * *RET_STDOUT (may be NULL). When *STOP (may be NULL) is set by a signal
 * meanwhile, the program is sent SIGTERM and -EINTR returned. 0 when it ran
 * and exited 0, or ran at all if RET_STATUS takes its exit status (128+signal
 * if killed); -ENOENT when it is not installed; else -EIO with its last line
 * of complaint in ERR.
 */
int bench_spawn(const char *const argv[], const char *stdin_text, char **ret_stdout, int *ret_status,
		const volatile sig_atomic_t *stop, char *err, size_t len);

uint64_t bench_now_ns(void);
double bench_ms_since(uint64_t t0_ns);

/*
 * Run ARGV (searched in PATH) and wait for it, its wall time in *RET_MS.
 * 0 if it exited 0; 1 if it exited otherwise and MAY_FAIL (a probe, like
 * `dmsetup info` of a device that may not exist); else a negative errno,
 * with the program's complaint (its last stderr line) or why it did not run
 * in ERR.
 */
int bench_exec(const char *const argv[], bool may_fail, double *ret_ms, char *err, size_t len);

/* A report's notes: sentences printed after its tables, in the order said; both benchmarks' reports keep them. */
struct bench_notes {
	char **text;
	size_t n;
};

/* Out of memory: the note is dropped (a report is still worth printing without it). */
void bench_notes_add(struct bench_notes *notes, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void bench_notes_free(struct bench_notes *notes);
/* "\nnote: ...\n" a line each; nothing without notes. */
void bench_notes_print(const struct bench_notes *notes, FILE *f);
/* An array of strings. */
json_object *bench_notes_json(const struct bench_notes *notes);

/* The report: rows of percentiles, checks against targets, notes. */
struct bench_row {
	char label[64];		/* "dmstore (library)" */
	char op[32];		/* "create", "remove" */
	unsigned population;	/* containers in the pool while measured; 0: not applicable */
	bool step;		/* one step of the row above it, shown indented */
	size_t n;
	double p50, p99, min, max; /* ms */
	bool has_bytes;
	uint64_t bytes;		/* pool space the operation used (median over samples) */
	uint64_t bytes_min, bytes_max;
	char error[256];	/* "" unless this method failed and was dropped */
};

struct bench_check {
	char what[160];		/* "LVM create p50 / dmstore (library) create p50" */
	double value;
	bool at_least;		/* target: value >= limit (else value <= limit) */
	double limit;
	bool valid;		/* false when a side is missing (a method failed) */
	bool met;
	bool info;		/* shown for comparison, not one of the targets */
	const char *unit;	/* "x" */
};

struct bench_report {
	char bench[16];		/* "ops" */
	char title[256];
	char command[1024];
	json_object *params;	/* what was run, for --json */
	json_object *extra;	/* benchmark-specific detail, for --json */
	struct bench_row *rows;
	size_t n_rows;
	struct bench_check *checks;
	size_t n_checks;
	struct bench_notes notes;
	double seconds;		/* the whole benchmark's wall time */
	char error[512];	/* why the benchmark failed, when it returns < 0 */
};

struct bench_row *bench_report_row(struct bench_report *rep, const char *label, const char *op, unsigned population,
				   const struct bench_samples *s);
/* VALUE = NUM / DEN; invalid when either is missing (NAN). NULL only when out of memory. */
struct bench_check *bench_report_check(struct bench_report *rep, const char *what, double num, double den, bool at_least,
			double limit);
void bench_report_free(struct bench_report *rep);
json_object *bench_report_json(const struct bench_report *rep);
int bench_report_print(const struct bench_report *rep, FILE *f);

typedef void (*bench_progress_fn)(const char *msg);

/* plot.c: charts by gnuplot, PNG or SVG by the suffix, of this size in pixels. */
#define BENCH_PLOT_WIDTH 1280
#define BENCH_PLOT_HEIGHT 960
bool bench_plot_suffix_ok(const char *path);
/* p50 and p99 of each operation against the number of devices in the pool. */
int bench_ops_plot(const struct bench_report *rep, const char *path, const volatile sig_atomic_t *stop, char *err,
		   size_t len);

/*
 * ops.c — the control plane: container create+activate and rm, volume create
 * (with its filesystem) and rm, image import and rm, each timed by libdmstore
 * with POPULATIONS[k] devices in the pool, and, where the pool holds the
 * first of them, compared with what other tools pay for the same: the
 * dmstore CLI, containerd's dmsetup calls, LVM thin snapshots, mkfs.ext4.
 */
#define BENCH_OPS_POPULATIONS_MAX 6
#define BENCH_OPS_SIZES_MAX 4

struct bench_ops_opts {
	const char *pool;	/* NULL: the only pool */
	const char *image;	/* containers' image; NULL: an empty image made for the run and removed after */
	uint64_t image_size;	/* for the image made for the run */
	const char *import_source; /* NULL: a small tree made for the run */
	unsigned populations[BENCH_OPS_POPULATIONS_MAX]; /* devices in the pool while measured, ascending */
	size_t n_populations;
	uint64_t vol_sizes[BENCH_OPS_SIZES_MAX];
	size_t n_vol_sizes;
	unsigned iterations;	/* pairs per operation by the library, per population */
	unsigned import_iterations; /* image import+rm pairs per population */
	unsigned exec_iterations; /* pairs per exec'd method (CLI, dmsetup, LVM, mkfs.ext4) */
	unsigned warmup;	/* untimed pairs per method first */
	bool cli;		/* `dmstore snap create|rm` exec'd */
	bool dmsetup;		/* containerd's devmapper snapshotter's dmsetup calls */
	uint32_t dmsetup_id;	/* first thin id for the dmsetup path, clear of dmstore's */
	uint32_t mkfs_thin_id;	/* thin id for the mkfs.ext4 device, clear of dmstore's */
	const char *lvm_origin;	/* "VG/LV", a thin LV: lvcreate -s / lvremove; NULL: skip */
	const char *self;	/* the dmstore binary, for the CLI method */
	const volatile sig_atomic_t *stop; /* set by a signal: stop, clean up, return -EINTR */
	bench_progress_fn progress;
};

int bench_ops_run(struct dms_ctx *ctx, const struct bench_ops_opts *opts, struct bench_report *rep);

#endif
