/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMS_BENCH_OPS_H
#define DMS_BENCH_OPS_H

/* What ops.c and ops-methods.c share: the benchmark's state and its methods. */

#include "bench/bench.h"

#define OPS_STEPS_MAX 3

struct ops_bench;

/*
 * One way of doing one operation pair (create, then remove): by the library,
 * or by the programs another stack would exec. Each phase of the benchmark
 * (a population of the pool) has its own copy, with its own samples.
 */
struct ops_method {
	const char *label; /* "dmstore (library)" */
	const char *op;	   /* "snap", "vol", "import" */
	const char *tag;   /* in the names of what it makes: bench-<tag>-<phase>-<i> */
	uint64_t size;	   /* vol: the volume's size */
	bool exec;	   /* exec'd: measured only where the methods are compared */
	int (*create)(struct ops_bench *b, struct ops_method *m, unsigned i, double *ms);
	int (*remove)(struct ops_bench *b, struct ops_method *m, unsigned i, double *ms);
	const char *create_steps[OPS_STEPS_MAX]; /* names of the timed steps, for the detail rows */
	const char *remove_steps[OPS_STEPS_MAX];
	unsigned phase;
	bool enabled;
	bool timed;    /* record samples (false while warming up) */
	unsigned next; /* index of the next object it makes */
	struct bench_samples create_s, remove_s;
	struct bench_samples create_step_s[OPS_STEPS_MAX], remove_step_s[OPS_STEPS_MAX];
	struct bench_samples bytes; /* vol: pool space its create allocated */
	char error[256];
};

struct ops_bench {
	struct dms_ctx *ctx;
	struct dms_pool *pool;
	const struct bench_ops_opts *o;
	const char *pool_name;
	char pool_dm[128];
	uint32_t block_size;
	char image[DMS_NAME_MAX + 1];
	char image_dm[160];
	uint32_t image_thin_id;
	uint64_t image_size;
	bool made_image;
	char lvm_vg[128];
	char import_dir[4096]; /* the tree made to import, "" if none */
	const char *import_source;
	unsigned fillers;
	struct bench_samples fill_s, drain_s;
	char error[512]; /* set for failures the library did not report */
};

/* ops-methods.c: the method templates; *RET_N of them. */
const struct ops_method *ops_methods(size_t *ret_n);
/* Each pool-space figure in bytes: its used data blocks. */
int ops_pool_used(struct ops_bench *b, uint64_t *ret_bytes);

#endif
