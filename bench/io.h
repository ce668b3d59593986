/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMS_BENCH_IO_H
#define DMS_BENCH_IO_H

/*
 * bench/io*.c: the data-plane benchmark behind `dmstore bench io`: what thin
 * provisioning does to I/O on the user's own disks. One engine (io_uring,
 * O_DIRECT, a latency histogram per direction) runs each workload on each
 * target; fio, run with the same job on the same target, is the referee.
 */

#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "bench/bench.h"

/* A workload, in fio's words: rw=, bs=, iodepth=, numjobs=, rwmixread=. */
struct bench_workload {
	char name[32];
	bool random;
	unsigned read_pct; /* 100: reads only, 0: writes only; between: each I/O drawn, as fio's rwmixread */
	uint32_t bs;	   /* bytes, a multiple of 512 */
	unsigned iodepth;
	unsigned jobs; /* each job its own thread, ring and slice of the region */
};

#define BENCH_WORKLOADS_MAX 32

/* io-workload.c: the built-in set, and a workload file (a fio job file restricted to the keys above). */
size_t bench_workloads_default(struct bench_workload *w, size_t max);
/* 0, or -EINVAL with the file, line and reason in ERR. */
int bench_workloads_load(const char *path, struct bench_workload *w, size_t max, size_t *ret_n, char *err, size_t len);
/* fio's rw= for W: "read", "randwrite", "randrw"... */
const char *bench_workload_rw(const struct bench_workload *w);

enum { BENCH_READ, BENCH_WRITE };

struct bench_io_dir_stats {
	uint64_t ios;
	uint64_t bytes;
	struct bench_hist lat; /* submission to completion, ns */
};

struct bench_io_stats {
	double seconds;	    /* first submission to last completion (the longest job's) */
	double cpu_seconds; /* the jobs' own CPU time, user and system, over their I/O loops, all jobs */
	struct bench_io_dir_stats dir[2];
};

struct bench_io_tick {
	double elapsed; /* seconds */
	uint64_t ios, bytes;
};

/* One workload on one block device or file. */
struct bench_io_spec {
	const char *path;
	uint64_t offset, size; /* the region; job k of n takes the k-th n-th of it */
	const struct bench_workload *w;
	uint64_t runtime_ns;		   /* time-based: issue until then, then drain; 0: size-based */
	uint64_t io_size;		   /* size-based: bytes per job (wrapping around its slice) */
	const volatile sig_atomic_t *stop; /* set by a signal: stop issuing, drain, return -EINTR */
	const char *cpus;		   /* job k runs on the k-th CPU of this list (cpus.c); NULL: anywhere */
	void (*tick)(void *arg, const struct bench_io_tick *t); /* about 4 times a second; may be NULL */
	void *arg;
};

/*
 * cpus.c: a CPU list in fio's cpus_allowed syntax into SET (0, or -EINVAL /
 * -ERANGE with the reason in ERR); whether this process may run on each CPU
 * of SET; and the CPU of SET job N runs on, as fio's cpus_allowed_policy=split.
 */
#define BENCH_CPUS_TEXT_MAX 64
int bench_cpus_parse(const char *text, cpu_set_t *set, char *err, size_t len);
int bench_cpus_usable(const cpu_set_t *set, char *err, size_t len);
int bench_cpus_nth(const cpu_set_t *set, unsigned n);

/* io-engine.c. RET (with its histograms: allocate it) is zeroed first. 0, -EINTR, or -errno with ERR. */
int bench_io_run(const struct bench_io_spec *spec, struct bench_io_stats *ret, char *err, size_t len);

/* fio.c: the same job run by fio (exec'd, its JSON read); its figures and histograms in RET, zeroed first. */
int bench_fio_run(const struct bench_io_spec *spec, struct bench_io_stats *ret, char *err, size_t len);

/* io.c: the benchmark. */
enum bench_target {
	BENCH_T_RAW,	     /* the baseline device itself */
	BENCH_T_FRESH,	     /* a new thin device: every first write provisions a block */
	BENCH_T_PROVISIONED, /* the same once fully written: overwrites */
	BENCH_T_SNAPSHOT,    /* a new snapshot of it: first writes break sharing */
	BENCH_T_SHARED,	     /* reads of a snapshot's blocks shared with its origin */
	BENCH_T_FS,	     /* a volume's ext4, a preallocated and written file, O_DIRECT */
	BENCH_T_COUNT,
};

const char *bench_target_name(enum bench_target t);

struct bench_io_opts {
	const char *pool;     /* an existing pool (NULL: the only one), unless data_dev */
	const char *data_dev; /* a scratch pool on these, made for the run and removed after */
	const char *metadata_dev;
	uint32_t block_size;  /* scratch pool; 0: default */
	bool no_zero;	      /* scratch pool */
	const char *baseline; /* the raw device for the baseline row; NULL: none */
	bool force;	      /* overwrite devices that carry a signature */
	unsigned targets;     /* 1 << enum bench_target */
	uint64_t size;	      /* per target */
	uint64_t runtime_ns;  /* 0: size-based */
	uint64_t io_size;     /* size-based: bytes per job; 0: SIZE / jobs */
	struct bench_workload workloads[BENCH_WORKLOADS_MAX];
	size_t n_workloads;
	bool fio;	 /* run fio on every target and workload too, and compare */
	unsigned rounds; /* runs per engine, workload and target, added up; the engines alternate */
	const char *cpus; /* pin each job, both engines' alike (bench_io_spec.cpus); NULL: do not */
	const volatile sig_atomic_t *stop;
	bench_progress_fn progress; /* a line of news */
	bench_progress_fn status;   /* a running status, overwritten in place on a terminal; may be NULL */
};

/* One engine's figures for one workload on one target. */
struct bench_io_dir_result {
	uint64_t ios, bytes;
	double iops, mb_per_s;		/* 10^6 bytes per second */
	double p50_us, p99_us, p999_us; /* NAN without I/O in this direction */
};

/*
 * The median of the rounds' own figures. The machine's speed drifts during a
 * run (other guests, other work on the host): a slow moment moves one round,
 * and so the sum of the rounds, but not their median. The referee compares
 * these.
 */
struct bench_io_medians {
	double mb_per_s, iops; /* both directions together */
	double p99_us[2];      /* each direction's; NAN without I/O in it */
};

struct bench_io_result {
	enum bench_target target;
	struct bench_workload w;
	bool fio;				/* fio's figures, not dmstore's */
	unsigned rounds;			/* runs added up */
	double seconds;				/* of I/O, all rounds */
	struct bench_io_dir_result dir[2], all; /* all: both directions together */
	struct bench_io_medians med;		/* over the rounds */
	bool has_pool;
	int64_t pool_blocks;	/* data blocks the pool allocated during the run */
	int64_t metadata_bytes; /* metadata the pool used more after the run */
	double blocks_per_gib;	/* pool_blocks per GiB written; NAN without writes */
	double cpu_us_per_io;	/* the engine's CPU time per I/O (bench_io_stats.cpu_seconds); NAN: unknown */
	char error[256];	/* "" unless this run failed */
};

struct bench_io_report {
	char title[512];
	char command[1024];
	char pool[DMS_POOL_NAME_MAX + 1];
	bool scratch_pool;
	uint32_t block_size;
	bool zero;
	char fio_version[32];
	struct bench_io_result *results;
	size_t n_results;
	struct bench_notes notes;
	double seconds;
	char error[512];
};

/*
 * baseline.c: open the baseline device PATH exclusively, with its size
 * (-ENOTBLK: not a block device; -EBUSY: mounted, in a pool, or held); then
 * 1 with the name of a signature it carries (a filesystem, a RAID member, a
 * partition table...) in TYPE, 0 when it is blank.
 */
int bench_baseline_open(const char *path, int *ret_fd, uint64_t *ret_bytes);
int bench_baseline_signature(int fd, char *type, size_t len);

int bench_io_bench(struct dms_ctx *ctx, const struct bench_io_opts *opts, struct bench_io_report *rep);
void bench_io_report_free(struct bench_io_report *rep);

/* io-report.c */
/* Whether fio and dmstore agree on R's workload within the bands: throughput 10%, p99 20%. */
#define BENCH_FIO_BAND_TPUT 0.10
#define BENCH_FIO_BAND_P99 0.20
const struct bench_io_result *bench_io_find(const struct bench_io_report *rep, enum bench_target t,
					    const char *workload, bool fio);
int bench_io_print(const struct bench_io_report *rep, FILE *f);
json_object *bench_io_json(const struct bench_io_report *rep, const struct bench_io_opts *opts);
/* A gnuplot chart of throughput and p99 per target and workload, PNG or SVG by PATH's suffix. */
int bench_io_plot(const struct bench_io_report *rep, const char *path, const volatile sig_atomic_t *stop, char *err,
		  size_t len);

#endif
