// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Issue 3's benchmark: a container snapshot's create+activate and its removal,
 * on one pool, by four callers:
 *
 *   dmstore (library)  dms_snap_create / dms_snap_remove in this process: what a
 *                      runtime linking libdmstore pays, crash-safe catalogue and all;
 *   dmstore (CLI)      `dmstore snap create|rm` exec'd;
 *   containerd path    the dmsetup programs containerd's devmapper snapshotter
 *                      execs (snapshots/devmapper/pool_device.go): `dmsetup info`
 *                      of the origin (suspend/resume it if loaded), `message
 *                      create_snap`, `create --table`; then `info`, `remove
 *                      --retry --force`, `message delete`. Its own bolt database
 *                      is not reproduced, so this path is if anything flattered;
 *   LVM                lvcreate -s -ay -K / lvremove -f on an LVM thin pool.
 *
 * The methods take turns, one create+remove pair each, so a slow moment of the
 * machine lands on all of them alike. Then the pool is filled with containers
 * and the library is measured again, for the cost of scale.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"
#include "dms-util.h"

#define FILL_FMT "bench-fill-%05u"
#define STEPS_MAX 3
#define METHODS_MAX 4

struct snap_bench;

struct method {
	const char *label;
	int (*create)(struct snap_bench *b, struct method *m, unsigned i, double *ms);
	int (*remove)(struct snap_bench *b, struct method *m, unsigned i, double *ms);
	const char *create_steps[STEPS_MAX];	/* names of the timed steps, for the detail rows */
	const char *remove_steps[STEPS_MAX];
	bool enabled;
	unsigned next;				/* index of the next object it makes */
	struct bench_samples create_s, remove_s;
	struct bench_samples create_step_s[STEPS_MAX], remove_step_s[STEPS_MAX];
	bool timed;				/* record samples (false while warming up) */
	char error[256];
};

struct snap_bench {
	struct dms_ctx *ctx;
	struct dms_pool *pool;
	const struct bench_snap_opts *o;
	const char *pool_name;
	char pool_dm[128];
	char image[DMS_NAME_MAX + 1];
	char image_dm[128];
	uint32_t image_thin_id;
	uint64_t image_size;
	bool made_image;
	char lvm_vg[128];
	unsigned fillers;
	struct bench_samples fill_s, drain_s;
	char error[256];	/* set for failures the library did not report */
};

static void progress(struct snap_bench *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void progress(struct snap_bench *b, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!b->o->progress)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	b->o->progress(msg);
}

static int record(struct method *m, struct bench_samples *s, double ms)
{
	return m->timed ? bench_samples_add(s, ms) : 0;
}

/* --- dmstore, in this process ------------------------------------------------------------- */

static int lib_fail(struct snap_bench *b, struct method *m, int r)
{
	snprintf(m->error, sizeof(m->error), "%s", *dms_ctx_error(b->ctx) ? dms_ctx_error(b->ctx) : strerror(-r));
	return r;
}

static int lib_create(struct snap_bench *b, struct method *m, unsigned i, double *ms)
{
	char name[DMS_NAME_MAX + 1];
	uint64_t t0;
	int r;

	snprintf(name, sizeof(name), "bench-lib-%u", i);
	t0 = bench_now_ns();
	r = dms_snap_create(b->pool, name, b->image, 0);
	*ms = bench_ms_since(t0);
	return r < 0 ? lib_fail(b, m, r) : 0;
}

static int lib_remove(struct snap_bench *b, struct method *m, unsigned i, double *ms)
{
	char name[DMS_NAME_MAX + 1];
	uint64_t t0;
	int r;

	snprintf(name, sizeof(name), "bench-lib-%u", i);
	t0 = bench_now_ns();
	r = dms_snap_remove(b->pool, name);
	*ms = bench_ms_since(t0);
	return r < 0 ? lib_fail(b, m, r) : 0;
}

/* --- dmstore, exec'd --------------------------------------------------------------------- */

static int cli_create(struct snap_bench *b, struct method *m, unsigned i, double *ms)
{
	char name[DMS_NAME_MAX + 1];
	const char *argv[] = { b->o->self, "snap", "create", name, "--image", b->image, "--pool", b->pool_name, NULL };

	snprintf(name, sizeof(name), "bench-cli-%u", i);
	return bench_exec(argv, false, ms, m->error, sizeof(m->error));
}

static int cli_remove(struct snap_bench *b, struct method *m, unsigned i, double *ms)
{
	char name[DMS_NAME_MAX + 1];
	const char *argv[] = { b->o->self, "snap", "rm", name, "--pool", b->pool_name, NULL };

	snprintf(name, sizeof(name), "bench-cli-%u", i);
	return bench_exec(argv, false, ms, m->error, sizeof(m->error));
}

/* --- containerd's devmapper snapshotter: dmsetup, exec'd ----------------------------------- */

static void dmsetup_name(unsigned i, char *buf, size_t len)
{
	snprintf(buf, len, "bench-dmsetup-%u", i);
}

/* containerd's dmsetup.Info(): IsLoaded() is "this ran without error". */
static int dmsetup_info(struct method *m, const char *name, double *ms)
{
	const char *argv[] = { "dmsetup", "info", "--columns", "--noheadings", "-o",
			       "name,blkdevname,attr,major,minor,open,segments,events", "--separator", " ", name, NULL };

	return bench_exec(argv, true, ms, m->error, sizeof(m->error));
}

static int dmsetup_create(struct snap_bench *b, struct method *m, unsigned i, double *ms)
{
	char name[64], msg[64], table[256];
	const char *msg_argv[] = { "dmsetup", "message", b->pool_dm, "0", msg, NULL };
	const char *create_argv[] = { "dmsetup", "create", name, "--table", table, NULL };
	const char *suspend_argv[] = { "dmsetup", "suspend", b->image_dm, NULL };
	const char *resume_argv[] = { "dmsetup", "resume", b->image_dm, NULL };
	uint32_t id = b->o->dmsetup_id + i;
	double step[STEPS_MAX], x;
	bool loaded;
	uint64_t t0;
	int r;

	dmsetup_name(i, name, sizeof(name));
	snprintf(msg, sizeof(msg), "create_snap %" PRIu32 " %" PRIu32, id, b->image_thin_id);
	/* containerd names the pool by its /dev/mapper path in the thin table. */
	snprintf(table, sizeof(table), "0 %" PRIu64 " thin /dev/mapper/%s %" PRIu32, (uint64_t)(b->image_size / DMS_SECTOR_SIZE),
		 b->pool_dm, id);

	t0 = bench_now_ns();
	r = dmsetup_info(m, b->image_dm, &step[0]);
	if (r < 0)
		return r;
	/* A loaded origin is suspended around the snapshot; dmstore keeps image bases inactive, so normally not. */
	loaded = r == 0;
	if (loaded && (r = bench_exec(suspend_argv, false, &x, m->error, sizeof(m->error))) < 0)
		return r;
	r = bench_exec(msg_argv, false, &step[1], m->error, sizeof(m->error));
	if (r == 0)
		r = bench_exec(create_argv, false, &step[2], m->error, sizeof(m->error));
	if (loaded) {
		int resumed = bench_exec(resume_argv, false, &x, m->error, sizeof(m->error));

		r = r < 0 ? r : resumed;
	}
	*ms = bench_ms_since(t0);
	if (r < 0)
		return r;
	for (int s = 0; s < STEPS_MAX; s++)
		if ((r = record(m, &m->create_step_s[s], step[s])) < 0)
			return r;
	return 0;
}

static int dmsetup_remove(struct snap_bench *b, struct method *m, unsigned i, double *ms)
{
	char name[64], path[96], msg[64];
	const char *remove_argv[] = { "dmsetup", "remove", "--retry", "--force", path, NULL };
	const char *msg_argv[] = { "dmsetup", "message", b->pool_dm, "0", msg, NULL };
	double step[STEPS_MAX] = { 0 };
	uint64_t t0;
	int r;

	dmsetup_name(i, name, sizeof(name));
	snprintf(path, sizeof(path), "/dev/mapper/%s", name);
	snprintf(msg, sizeof(msg), "delete %" PRIu32, b->o->dmsetup_id + i);

	t0 = bench_now_ns();
	/* DeactivateDevice(): remove only what is loaded; then deleteDevice(), ENODATA being fine. */
	r = dmsetup_info(m, name, &step[0]);
	if (r == 0)
		r = bench_exec(remove_argv, false, &step[1], m->error, sizeof(m->error));
	if (r >= 0)
		r = bench_exec(msg_argv, false, &step[2], m->error, sizeof(m->error));
	*ms = bench_ms_since(t0);
	if (r < 0)
		return r;
	for (int s = 0; s < STEPS_MAX; s++)
		if ((r = record(m, &m->remove_step_s[s], step[s])) < 0)
			return r;
	return 0;
}

/* --- LVM thin snapshots -------------------------------------------------------------------- */

static int lvm_create(struct snap_bench *b, struct method *m, unsigned i, double *ms)
{
	char name[64];
	const char *argv[] = { "lvcreate", "-s", "-ay", "-K", "-n", name, b->o->lvm_origin, NULL };

	snprintf(name, sizeof(name), "bench-lvm-%u", i);
	return bench_exec(argv, false, ms, m->error, sizeof(m->error));
}

static int lvm_remove(struct snap_bench *b, struct method *m, unsigned i, double *ms)
{
	char lv[256];
	const char *argv[] = { "lvremove", "-f", lv, NULL };

	snprintf(lv, sizeof(lv), "%s/bench-lvm-%u", b->lvm_vg, i);
	return bench_exec(argv, false, ms, m->error, sizeof(m->error));
}

/* --- the runs ------------------------------------------------------------------------------ */

/* One create+remove pair. A method that fails is dropped, after an attempt to leave nothing behind. */
static int pair(struct snap_bench *b, struct method *m)
{
	unsigned i = m->next++;
	char why[256];
	double ms;
	int r;

	r = m->create(b, m, i, &ms);
	if (r == 0)
		r = record(m, &m->create_s, ms);
	else if (r > 0)
		r = -EIO;
	if (r < 0) {
		snprintf(why, sizeof(why), "create #%u: %.200s", i, m->error);
		(void)m->remove(b, m, i, &ms);
		goto drop;
	}
	r = m->remove(b, m, i, &ms);
	if (r == 0)
		r = record(m, &m->remove_s, ms);
	if (r < 0) {
		snprintf(why, sizeof(why), "remove #%u: %.200s", i, m->error);
		goto drop;
	}
	return 0;
drop:
	if (r == -ENOMEM)
		return r;
	snprintf(m->error, sizeof(m->error), "%s", why);
	m->enabled = false;
	progress(b, "%s failed and is dropped: %s", m->label, m->error);
	return 0;
}

/*
 * One phase: each method does its PAIRS create+remove pairs, spread evenly over
 * the rounds so that methods with fewer pairs still take turns with the others
 * throughout (round k brings every method to ceil((k+1) * pairs / rounds)).
 */
static int run_phase(struct snap_bench *b, struct method *ms, size_t n, const unsigned *pairs, bool timed,
		     const char *what)
{
	unsigned rounds = 0, done[METHODS_MAX];
	int r;

	if (n > METHODS_MAX)
		return -EINVAL;
	for (size_t k = 0; k < n; k++) {
		ms[k].timed = timed;
		done[k] = 0;
		if (ms[k].enabled && pairs[k] > rounds)
			rounds = pairs[k];
	}
	for (unsigned it = 0; it < rounds; it++) {
		for (size_t k = 0; k < n; k++) {
			unsigned want = (unsigned)(((uint64_t)(it + 1) * pairs[k] + rounds - 1) / rounds);

			for (; ms[k].enabled && done[k] < want; done[k]++)
				if ((r = pair(b, &ms[k])) < 0)
					return r;
		}
		if ((it + 1) % 25 == 0 || it + 1 == rounds)
			progress(b, "%s: %u/%u rounds with %u containers in the pool", what, it + 1, rounds, b->fillers);
	}
	return 0;
}

static int fill_to(struct snap_bench *b, unsigned n)
{
	char name[DMS_NAME_MAX + 1];
	uint64_t t0;
	int r;

	while (b->fillers < n) {
		snprintf(name, sizeof(name), FILL_FMT, b->fillers);
		t0 = bench_now_ns();
		r = dms_snap_create(b->pool, name, b->image, 0);
		if (r < 0)
			return r;
		r = bench_samples_add(&b->fill_s, bench_ms_since(t0));
		if (r < 0)
			return r;
		b->fillers++;
		if (b->fillers % 100 == 0)
			progress(b, "filling the pool: %u containers", b->fillers);
	}
	return 0;
}

static int drain_to(struct snap_bench *b, unsigned n)
{
	char name[DMS_NAME_MAX + 1];
	uint64_t t0;
	int r;

	while (b->fillers > n) {
		snprintf(name, sizeof(name), FILL_FMT, b->fillers - 1);
		t0 = bench_now_ns();
		r = dms_snap_remove(b->pool, name);
		if (r < 0)
			return r;
		(void)bench_samples_add(&b->drain_s, bench_ms_since(t0));
		b->fillers--;
		if (b->fillers % 100 == 0 && b->fillers > n)
			progress(b, "emptying the pool: %u containers", b->fillers);
	}
	return 0;
}

/* The pool, the image and the LVM origin, checked before anything is timed. */
static int setup(struct snap_bench *b)
{
	struct dms_pool_status st;
	struct dms_image_info img;
	const char *slash;
	int r;

	r = dms_pool_open(b->ctx, b->o->pool, &b->pool);
	if (r < 0)
		return r;
	b->pool_name = dms_pool_name(b->pool);
	r = dms_pool_status(b->ctx, b->pool_name, &st);
	if (r < 0)
		return r;
	snprintf(b->pool_dm, sizeof(b->pool_dm), "%s", st.dm_name);

	if (b->o->image) {
		snprintf(b->image, sizeof(b->image), "%s", b->o->image);
	} else {
		snprintf(b->image, sizeof(b->image), "bench-image");
		progress(b, "making image '%s' in pool '%s'", b->image, b->pool_name);
		r = dms_image_create(b->pool, b->image, b->o->image_size);
		if (r < 0)
			return r;
		b->made_image = true;
	}
	r = dms_image_inspect(b->pool, b->image, &img);
	if (r < 0)
		return r;
	b->image_thin_id = img.thin_id;
	b->image_size = img.size;
	snprintf(b->image_dm, sizeof(b->image_dm), "%s", img.dm_name);

	if (b->o->lvm_origin) {
		slash = strchr(b->o->lvm_origin, '/');
		if (!slash || slash == b->o->lvm_origin || (size_t)(slash - b->o->lvm_origin) >= sizeof(b->lvm_vg)) {
			snprintf(b->error, sizeof(b->error), "--lvm '%s': not VG/LV", b->o->lvm_origin);
			return -EINVAL;
		}
		snprintf(b->lvm_vg, sizeof(b->lvm_vg), "%.*s", (int)(slash - b->o->lvm_origin), b->o->lvm_origin);
	}
	return 0;
}

static void add_rows(struct bench_report *rep, struct method *m, unsigned population)
{
	struct bench_row *row;

	row = bench_report_row(rep, m->label, "create", population, &m->create_s);
	if (row)
		snprintf(row->error, sizeof(row->error), "%s", m->error);
	for (int s = 0; s < STEPS_MAX && m->create_steps[s]; s++)
		if ((row = bench_report_row(rep, m->create_steps[s], "create", population, &m->create_step_s[s])))
			row->step = true;
	bench_report_row(rep, m->label, "remove", population, &m->remove_s);
	for (int s = 0; s < STEPS_MAX && m->remove_steps[s]; s++)
		if ((row = bench_report_row(rep, m->remove_steps[s], "remove", population, &m->remove_step_s[s])))
			row->step = true;
}

static void add_samples(json_object *o, const char *key, const struct bench_samples *s)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < s->n; i++)
		json_object_array_add(a, json_object_new_double((double)(int64_t)(s->ms[i] * 1000.0 + 0.5) / 1000.0));
	json_object_object_add(o, key, a);
}

/* Ratios of a competitor's percentile to the library's: "how many times faster dmstore is". */
static void add_checks(struct bench_report *rep, const struct method *lib, const struct method *other,
		       const char *name, double target, bool p99_too, bool info)
{
	static const double pcts[] = { 50, 99 };
	char what[160];

	for (int op = 0; op < 2; op++) {
		const struct bench_samples *mine = op ? &lib->remove_s : &lib->create_s;
		const struct bench_samples *theirs = op ? &other->remove_s : &other->create_s;

		for (size_t p = 0; p < (p99_too ? 2 : 1); p++) {
			snprintf(what, sizeof(what), "%s %s p%.0f / %s", name, op ? "remove" : "create", pcts[p],
				 lib->label);
			struct bench_check *c = bench_report_check(rep, what, bench_percentile(theirs, pcts[p]),
								   bench_percentile(mine, pcts[p]), true, target);

			if (c)
				c->info = info;
		}
	}
}

static void free_method(struct method *m)
{
	bench_samples_free(&m->create_s);
	bench_samples_free(&m->remove_s);
	for (int s = 0; s < STEPS_MAX; s++) {
		bench_samples_free(&m->create_step_s[s]);
		bench_samples_free(&m->remove_step_s[s]);
	}
}

static int exec_baseline(struct bench_samples *s, char *err, size_t len)
{
	const char *argv[] = { "dmsetup", "version", NULL };
	double ms;
	int r;

	for (int i = 0; i < 21; i++) {
		r = bench_exec(argv, false, &ms, err, len);
		if (r < 0)
			return r;
		if (i > 0 && (r = bench_samples_add(s, ms)) < 0) /* the first loads the program: not counted */
			return r;
	}
	return 0;
}

int bench_snap_run(struct dms_ctx *ctx, const struct bench_snap_opts *o, struct bench_report *rep)
{
	enum { LIB, CLI, DMSETUP, LVM, N_METHODS };
	struct method ms[N_METHODS] = {
		[LIB] = { .label = "dmstore (library)", .create = lib_create, .remove = lib_remove, .enabled = true },
		[CLI] = { .label = "dmstore (CLI, exec'd)", .create = cli_create, .remove = cli_remove, .enabled = o->cli },
		[DMSETUP] = { .label = "containerd path (dmsetup exec'd)", .create = dmsetup_create,
			      .remove = dmsetup_remove, .enabled = o->dmsetup,
			      .create_steps = { "dmsetup info (origin)", "dmsetup message create_snap", "dmsetup create" },
			      .remove_steps = { "dmsetup info", "dmsetup remove --retry --force", "dmsetup message delete" } },
		[LVM] = { .label = "LVM (lvcreate -s / lvremove)", .create = lvm_create, .remove = lvm_remove,
			  .enabled = o->lvm_origin != NULL },
	};
	struct method alone[3] = {
		{ .label = "dmstore (library), alone", .create = lib_create, .remove = lib_remove, .enabled = true },
		{ .label = "dmstore (library), alone", .create = lib_create, .remove = lib_remove, .enabled = true },
		{ .label = "dmstore (library), alone, again", .create = lib_create, .remove = lib_remove, .enabled = true },
	};
	unsigned pairs[N_METHODS];
	struct snap_bench b = { .ctx = ctx, .o = o };
	struct bench_samples baseline = { 0 };
	json_object *samples = json_object_new_object();
	char what[160], err[256] = "";
	uint64_t t0 = bench_now_ns();
	int r, cleanup;

	r = setup(&b);
	if (r < 0)
		goto out;
	snprintf(rep->title, sizeof(rep->title),
		 "dmstore bench snap: pool '%s', image '%s' (%" PRIu64 " MiB, thin id %" PRIu32 "), create+remove pairs: %u in process, %u per exec'd method, %u warm-up",
		 b.pool_name, b.image, (uint64_t)(b.image_size / DMS_MIB), b.image_thin_id, o->iterations,
		 o->exec_iterations, o->warmup);

	progress(&b, "timing a bare exec (dmsetup version) for reference");
	if (exec_baseline(&baseline, err, sizeof(err)) < 0)
		bench_report_note(rep, "exec baseline failed: %s", err);

	progress(&b, "filling the pool to %u containers", o->small);
	r = fill_to(&b, o->small);
	if (r < 0)
		goto out_clean;
	for (int k = 0; k < N_METHODS; k++)
		pairs[k] = o->warmup;
	r = run_phase(&b, ms, N_METHODS, pairs, false, "warm-up");
	for (int k = 0; k < N_METHODS; k++)
		pairs[k] = k == LIB ? o->iterations : o->exec_iterations;
	if (r == 0)
		r = run_phase(&b, ms, N_METHODS, pairs, true, "compare");
	if (r < 0)
		goto out_clean;

	/*
	 * Scale: the library alone with SMALL containers, with LARGE, and with SMALL
	 * again after emptying the pool back, so the runs differ in the pool's
	 * population only, and a drift over time shows as the two SMALL runs differing.
	 */
	if (o->large > o->small) {
		r = run_phase(&b, &alone[0], 1, &o->warmup, false, "warm-up, dmstore alone");
		if (r == 0)
			r = run_phase(&b, &alone[0], 1, &o->iterations, true, "dmstore alone");
		if (r == 0) {
			progress(&b, "filling the pool to %u containers", o->large);
			r = fill_to(&b, o->large);
		}
		if (r == 0)
			r = run_phase(&b, &alone[1], 1, &o->warmup, false, "warm-up, dmstore alone at scale");
		if (r == 0)
			r = run_phase(&b, &alone[1], 1, &o->iterations, true, "dmstore alone at scale");
		if (r == 0) {
			progress(&b, "emptying the pool to %u containers", o->small);
			r = drain_to(&b, o->small);
		}
		if (r == 0)
			r = run_phase(&b, &alone[2], 1, &o->iterations, true, "dmstore alone again");
		if (r < 0)
			goto out_clean;
	}

	bench_report_row(rep, "reference: exec of `dmsetup version`", "exec", 0, &baseline);
	for (int k = 0; k < N_METHODS; k++)
		if (ms[k].enabled || *ms[k].error)
			add_rows(rep, &ms[k], o->small);
	if (o->large > o->small) {
		add_rows(rep, &alone[0], o->small);
		add_rows(rep, &alone[1], o->large);
		add_rows(rep, &alone[2], o->small);
		snprintf(what, sizeof(what), "%s, filling %u->%u", ms[LIB].label, o->small, o->large);
		bench_report_row(rep, what, "create", 0, &b.fill_s);
		snprintf(what, sizeof(what), "%s, emptying %u->%u", ms[LIB].label, o->large, o->small);
		bench_report_row(rep, what, "remove", 0, &b.drain_s);
	}

	if (o->lvm_origin)
		add_checks(rep, &ms[LIB], &ms[LVM], "LVM", 10, true, false);
	if (o->dmsetup)
		add_checks(rep, &ms[LIB], &ms[DMSETUP], "containerd path", 3, true, false);
	if (o->cli && o->lvm_origin)
		add_checks(rep, &ms[CLI], &ms[LVM], "LVM", 10, false, true);
	if (o->cli && o->dmsetup)
		add_checks(rep, &ms[CLI], &ms[DMSETUP], "containerd path", 3, false, true);
	if (o->large > o->small) {
		static const double pcts[] = { 50, 99 };

		/* Against the faster of the two runs with SMALL containers: the stricter reading. */
		for (int op = 0; op < 2; op++)
			for (int p = 0; p < 2; p++) {
				double at_large = bench_percentile(op ? &alone[1].remove_s : &alone[1].create_s, pcts[p]);
				double before = bench_percentile(op ? &alone[0].remove_s : &alone[0].create_s, pcts[p]);
				double after = bench_percentile(op ? &alone[2].remove_s : &alone[2].create_s, pcts[p]);

				snprintf(what, sizeof(what), "dmstore (library) alone %s p%.0f at %u containers / at %u",
					 op ? "remove" : "create", pcts[p], o->large, o->small);
				bench_report_check(rep, what, at_large, before < after ? before : after, false, 1.5);
			}
	}
	bench_report_note(rep, "compare: the methods take turns (%u pairs for dmstore (library), %u for each exec'd method, spread evenly), %u containers of image '%s' staying in the pool throughout",
			  o->iterations, o->exec_iterations, o->small, b.image);
	if (o->large > o->small)
		bench_report_note(rep, "scale: dmstore (library) alone, %u pairs each with %u, %u and again %u containers in the pool; the checks divide by the faster run with %u",
				  o->iterations, o->small, o->large, o->small, o->small);
	if (o->dmsetup)
		bench_report_note(rep, "containerd path: the dmsetup calls of snapshots/devmapper/pool_device.go (info, [suspend,] message create_snap, create; info, remove --retry --force, message delete), thin ids from %" PRIu32 "; its bolt metadata commits (about 5 per create) are not reproduced", o->dmsetup_id);
	bench_report_note(rep, "every exec'd method pays process start-up: see the reference row");

	for (int k = 0; k < N_METHODS; k++) {
		char key[96];

		snprintf(key, sizeof(key), "%s create", ms[k].label);
		add_samples(samples, key, &ms[k].create_s);
		snprintf(key, sizeof(key), "%s remove", ms[k].label);
		add_samples(samples, key, &ms[k].remove_s);
	}
	add_samples(samples, "dmstore (library) alone create", &alone[0].create_s);
	add_samples(samples, "dmstore (library) alone remove", &alone[0].remove_s);
	add_samples(samples, "dmstore (library) alone create at scale", &alone[1].create_s);
	add_samples(samples, "dmstore (library) alone remove at scale", &alone[1].remove_s);
	add_samples(samples, "dmstore (library) alone create again", &alone[2].create_s);
	add_samples(samples, "dmstore (library) alone remove again", &alone[2].remove_s);
	add_samples(samples, "dmstore (library) create while filling", &b.fill_s);
	add_samples(samples, "dmstore (library) remove while emptying", &b.drain_s);
	rep->extra = json_object_new_object();
	json_object_object_add(rep->extra, "samples_ms", json_object_get(samples));

out_clean:
	progress(&b, "removing the %u containers the benchmark made", b.fillers);
	cleanup = drain_to(&b, 0);
	if (b.made_image) {
		int rr = dms_image_remove(b.pool, b.image, false);

		cleanup = cleanup < 0 ? cleanup : rr;
	}
	if (r == 0 && cleanup < 0)
		r = cleanup;
out:
	rep->seconds = bench_ms_since(t0) / 1000.0;
	if (r < 0)
		snprintf(rep->error, sizeof(rep->error), "%s", *b.error ? b.error : *dms_ctx_error(ctx) ? dms_ctx_error(ctx) : strerror(-r));
	json_object_put(samples);
	for (int k = 0; k < N_METHODS; k++)
		free_method(&ms[k]);
	for (int k = 0; k < 3; k++)
		free_method(&alone[k]);
	bench_samples_free(&baseline);
	bench_samples_free(&b.fill_s);
	bench_samples_free(&b.drain_s);
	dms_pool_close(b.pool);
	return r;
}
