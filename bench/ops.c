// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * `dmstore bench ops`: the control plane, in phases. Each phase fills the
 * pool with containers to one of the populations (devices in the pool), then
 * every method of every operation does its create+remove pairs, the methods
 * taking turns so that a slow moment of the machine lands on all of them
 * alike. In the first phase the exec'd methods (ops-methods.c) join the
 * library; the others time the library alone. A last phase empties the pool
 * back to the first population and times the library again, so that a drift
 * of the machine over the run shows as the two differing, and the scale
 * checks divide by the faster of the two.
 *
 * What the issues asked, kept as checks: LVM at least 10x and containerd's
 * dmsetup path at least 3x slower than the library (issue 3); the library at
 * the largest population within 1.5x of the smallest (issue 3); volume create
 * no slower than mkfs.ext4 and no more pool space, and a 1 TiB one within 2x
 * of a 10 GiB one (issue 4).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/ops.h"
#include "dms-util.h"

#define FILL_FMT "bench-fill-%05u"
#define METHODS_MAX 16
#define PHASES_MAX (BENCH_OPS_POPULATIONS_MAX + 1)

struct phase {
	unsigned population; /* devices in the pool */
	bool compare;	     /* the exec'd methods run too */
	bool again;	     /* the first population, measured again at the end */
	struct ops_method m[METHODS_MAX];
	size_t n;
};

static void progress(struct ops_bench *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void progress(struct ops_bench *b, const char *fmt, ...)
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

static bool stopped(const struct ops_bench *b)
{
	return b->o->stop && *b->o->stop;
}

static int record(struct ops_method *m, struct bench_samples *s, double ms)
{
	return m->timed ? bench_samples_add(s, ms) : 0;
}

/* One create+remove pair. A method that fails is dropped, after an attempt to leave nothing behind. */
static int pair(struct ops_bench *b, struct ops_method *m)
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
	progress(b, "%s %s failed and is dropped: %s", m->label, m->op, m->error);
	return 0;
}

static unsigned pairs_of(const struct ops_bench *b, const struct ops_method *m)
{
	if (m->exec)
		return b->o->exec_iterations;
	return strcmp(m->op, "import") == 0 ? b->o->import_iterations : b->o->iterations;
}

/*
 * The methods take turns: each does its pairs spread evenly over the rounds,
 * so those with fewer pairs still alternate with the others throughout
 * (round k brings every method to ceil((k+1) * pairs / rounds)).
 */
static int run_phase(struct ops_bench *b, struct phase *ph, bool timed, unsigned warmup)
{
	unsigned rounds = 0, done[METHODS_MAX] = { 0 }, pairs[METHODS_MAX];
	int r;

	for (size_t k = 0; k < ph->n; k++) {
		ph->m[k].timed = timed;
		pairs[k] = timed ? pairs_of(b, &ph->m[k]) : warmup;
		if (ph->m[k].enabled && pairs[k] > rounds)
			rounds = pairs[k];
	}
	for (unsigned it = 0; it < rounds; it++) {
		for (size_t k = 0; k < ph->n; k++) {
			unsigned want = (unsigned)(((uint64_t)(it + 1) * pairs[k] + rounds - 1) / rounds);

			for (; ph->m[k].enabled && done[k] < want; done[k]++) {
				if (stopped(b))
					return -EINTR;
				if ((r = pair(b, &ph->m[k])) < 0)
					return r;
			}
		}
		if (timed && ((it + 1) % 10 == 0 || it + 1 == rounds))
			progress(b, "%u/%u rounds with %u devices in the pool", it + 1, rounds, ph->population);
	}
	return 0;
}

static int fill_to(struct ops_bench *b, unsigned n)
{
	char name[DMS_NAME_MAX + 1];
	uint64_t t0;
	int r;

	while (b->fillers < n) {
		if (stopped(b))
			return -EINTR;
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

/* Also the cleanup: it does not look at the stop flag when draining to 0. */
static int drain_to(struct ops_bench *b, unsigned n)
{
	char name[DMS_NAME_MAX + 1];
	uint64_t t0;
	int r;

	while (b->fillers > n) {
		if (n > 0 && stopped(b))
			return -EINTR;
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

/* --- set-up ---------------------------------------------------------------------------------- */

/* A small tree to import, when none is given: 64 files of 4 KiB in 8 directories, and a symlink. */
static int make_import_tree(struct ops_bench *b)
{
	char path[4200], block[4096];
	int r = 0;

	snprintf(b->import_dir, sizeof(b->import_dir), "%s/.bench-ops-%ld-XXXXXX", dms_ctx_state_dir(b->ctx),
		 (long)getpid());
	if (!mkdtemp(b->import_dir)) {
		r = -errno;
		snprintf(b->error, sizeof(b->error), "making a tree to import under '%.400s' failed: %s",
			 dms_ctx_state_dir(b->ctx), strerror(-r));
		b->import_dir[0] = '\0';
		return r;
	}
	memset(block, 'x', sizeof(block));
	for (int d = 0; d < 8 && r == 0; d++) {
		snprintf(path, sizeof(path), "%s/d%d", b->import_dir, d);
		if (mkdir(path, 0755) < 0)
			r = -errno;
		for (int f = 0; f < 8 && r == 0; f++) {
			_cleanup_close_ int fd = -1;

			snprintf(path, sizeof(path), "%s/d%d/f%d", b->import_dir, d, f);
			fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
			if (fd < 0 || write(fd, block, sizeof(block)) != (ssize_t)sizeof(block))
				r = -errno;
		}
	}
	snprintf(path, sizeof(path), "%s/link", b->import_dir);
	if (r == 0 && symlink("d0/f0", path) < 0)
		r = -errno;
	if (r < 0)
		snprintf(b->error, sizeof(b->error), "making a tree to import in '%.400s' failed: %s", b->import_dir,
			 strerror(-r));
	b->import_source = b->import_dir;
	return r;
}

static void remove_import_tree(struct ops_bench *b)
{
	char path[4200];

	if (!*b->import_dir)
		return;
	for (int d = 0; d < 8; d++) {
		for (int f = 0; f < 8; f++) {
			snprintf(path, sizeof(path), "%s/d%d/f%d", b->import_dir, d, f);
			(void)unlink(path);
		}
		snprintf(path, sizeof(path), "%s/d%d", b->import_dir, d);
		(void)rmdir(path);
	}
	snprintf(path, sizeof(path), "%s/link", b->import_dir);
	(void)unlink(path);
	(void)rmdir(b->import_dir);
	b->import_dir[0] = '\0';
}

/* Devices already in the pool, whatever they are: the populations count them. */
static int count_devices(struct ops_bench *b, unsigned *ret)
{
	struct dms_image_info **images = NULL;
	struct dms_snap_info **snaps = NULL;
	struct dms_vol_info **vols = NULL;
	struct dms_layer **layers = NULL;
	size_t n_images = 0, n_snaps = 0, n_vols = 0, n_layers = 0;
	int r;

	r = dms_image_list(b->pool, &images, &n_images);
	if (r == 0)
		r = dms_snap_list(b->pool, &snaps, &n_snaps);
	if (r == 0)
		r = dms_vol_list(b->pool, &vols, &n_vols);
	if (r == 0)
		r = dms_layer_list(b->pool, &layers, &n_layers);
	dms_image_list_free(images, n_images);
	dms_snap_list_free(snaps, n_snaps);
	dms_vol_list_free(vols, n_vols);
	dms_layer_list_free(layers, n_layers);
	if (r < 0)
		return r;
	*ret = (unsigned)(n_images + n_snaps + n_vols + n_layers);
	return 0;
}

static int setup(struct ops_bench *b)
{
	struct dms_pool_status *st;
	struct dms_image_info *img;
	const char *slash;
	bool active;
	int r;

	r = dms_pool_open(b->ctx, b->o->pool, &b->pool);
	if (r < 0)
		return r;
	b->pool_name = dms_pool_name(b->pool);
	r = dms_pool_status(b->ctx, b->pool_name, &st);
	if (r < 0)
		return r;
	active = st->active;
	snprintf(b->pool_dm, sizeof(b->pool_dm), "%s", st->dm_name);
	b->block_size = st->block_size;
	dms_pool_status_free(st);
	if (!active) {
		snprintf(b->error, sizeof(b->error), "pool '%s' is not active", b->pool_name);
		return -ENXIO;
	}
	if (b->o->lvm_origin) {
		slash = strchr(b->o->lvm_origin, '/');
		if (!slash || slash == b->o->lvm_origin || (size_t)(slash - b->o->lvm_origin) >= sizeof(b->lvm_vg)) {
			snprintf(b->error, sizeof(b->error), "--lvm '%s': not VG/LV", b->o->lvm_origin);
			return -EINVAL;
		}
		snprintf(b->lvm_vg, sizeof(b->lvm_vg), "%.*s", (int)(slash - b->o->lvm_origin), b->o->lvm_origin);
	}
	if (b->o->image) {
		snprintf(b->image, sizeof(b->image), "%s", b->o->image);
	} else {
		snprintf(b->image, sizeof(b->image), "bench-image-%ld", (long)getpid());
		progress(b, "making image '%s' in pool '%s'", b->image, b->pool_name);
		r = dms_image_create(b->pool, b->image, b->o->image_size);
		if (r < 0)
			return r;
		b->made_image = true;
	}
	r = dms_image_inspect(b->pool, b->image, &img);
	if (r < 0)
		return r;
	b->image_thin_id = img->thin_id;
	b->image_size = img->virtual_size;
	/* The image's dm name, as the library names it: the containerd path asks dmsetup about it. */
	snprintf(b->image_dm, sizeof(b->image_dm), "%s", img->dm_name);
	dms_image_info_free(img);
	if (!b->o->import_source)
		r = make_import_tree(b);
	else
		b->import_source = b->o->import_source;
	return r;
}

/* --- the report ------------------------------------------------------------------------------ */

static void op_names(const struct ops_method *m, char *create, char *remove, size_t len)
{
	char z[16];

	if (strcmp(m->op, "snap") == 0) {
		snprintf(create, len, "container create");
		snprintf(remove, len, "container rm");
	} else if (strcmp(m->op, "vol") == 0) {
		dms_size_format(m->size, z, sizeof(z));
		snprintf(create, len, "vol create %s", z);
		snprintf(remove, len, "vol rm %s", z);
	} else {
		snprintf(create, len, "image import");
		snprintf(remove, len, "image rm");
	}
}

static void row_bytes(struct bench_row *row, const struct bench_samples *bytes)
{
	if (!row || !bytes->n)
		return;
	row->has_bytes = true;
	row->bytes = (uint64_t)bench_percentile(bytes, 50);
	row->bytes_min = (uint64_t)bench_percentile(bytes, 0.0001);
	row->bytes_max = (uint64_t)bench_percentile(bytes, 100);
}

static void add_rows(struct bench_report *rep, const struct phase *ph, const struct ops_method *m)
{
	char create[32], remove[32], label[64];
	struct bench_row *row;

	op_names(m, create, remove, sizeof(create));
	snprintf(label, sizeof(label), "%s%s", m->label, ph->again ? ", again" : "");
	row = bench_report_row(rep, label, create, ph->population, &m->create_s);
	if (row)
		snprintf(row->error, sizeof(row->error), "%s", m->error);
	row_bytes(row, &m->bytes);
	for (int s = 0; s < OPS_STEPS_MAX && m->create_steps[s]; s++)
		if ((row = bench_report_row(rep, m->create_steps[s], create, ph->population, &m->create_step_s[s])))
			row->step = true;
	bench_report_row(rep, label, remove, ph->population, &m->remove_s);
	for (int s = 0; s < OPS_STEPS_MAX && m->remove_steps[s]; s++)
		if ((row = bench_report_row(rep, m->remove_steps[s], remove, ph->population, &m->remove_step_s[s])))
			row->step = true;
}

static const struct ops_method *find(const struct phase *ph, const char *op, const char *tag, uint64_t size)
{
	for (size_t k = 0; k < ph->n; k++)
		if (strcmp(ph->m[k].op, op) == 0 && strcmp(ph->m[k].tag, tag) == 0 && ph->m[k].size == size &&
		    (ph->m[k].create_s.n || *ph->m[k].error))
			return &ph->m[k];
	return NULL;
}

static double pct(const struct ops_method *m, bool remove, double p)
{
	return m ? bench_percentile(remove ? &m->remove_s : &m->create_s, p) : NAN;
}

/* Ratios of a competitor's container percentiles to dmstore's (MINE): "how many times faster dmstore is". */
static void vs(struct bench_report *rep, const struct phase *ph, const char *mine, const char *other, double target,
	       bool p99_too, bool info)
{
	const struct ops_method *a = find(ph, "snap", mine, 0), *b = find(ph, "snap", other, 0);
	static const double pcts[] = { 50, 99 };
	char what[160];

	if (!a || !b)
		return;
	for (int op = 0; op < 2; op++)
		for (size_t p = 0; p < (p99_too ? 2 : 1); p++) {
			struct bench_check *c;

			snprintf(what, sizeof(what), "%s container %s p%.0f / %s", b->label, op ? "rm" : "create",
				 pcts[p], a->label);
			c = bench_report_check(rep, what, pct(b, op, pcts[p]), pct(a, op, pcts[p]), true, target);
			if (c)
				c->info = info;
		}
}

static void vol_checks(struct bench_report *rep, const struct phase *ph)
{
	char what[160], z[32], z0[32];

	for (size_t k = 0; k < ph->n; k++) {
		const struct ops_method *lib = &ph->m[k], *mkfs;
		struct bench_check *c;

		if (strcmp(lib->op, "vol") != 0 || strcmp(lib->tag, "vol") != 0)
			continue;
		mkfs = find(ph, "vol", "mkfs", lib->size);
		if (!mkfs)
			continue;
		dms_size_format(lib->size, z, sizeof(z));
		snprintf(what, sizeof(what), "%s: dms_vol_create p50 / mkfs.ext4 p50", z);
		bench_report_check(rep, what, pct(lib, false, 50), bench_percentile(&mkfs->create_step_s[2], 50), false,
				   1);
		snprintf(what, sizeof(what), "%s: dms_vol_create p50 / (create_thin+create+mkfs.ext4) p50", z);
		c = bench_report_check(rep, what, pct(lib, false, 50), pct(mkfs, false, 50), false, 1);
		if (c)
			c->info = true; /* the target is mkfs.ext4's own time */
		snprintf(what, sizeof(what), "%s: dmstore pool space / mkfs.ext4 pool space", z);
		bench_report_check(rep, what, bench_percentile(&lib->bytes, 50), bench_percentile(&mkfs->bytes, 50),
				   false, 1);
	}
	/* The largest size against the smallest (issue 4: "cost" read as time; space shown, not judged). */
	{
		const struct ops_method *small = NULL, *large = NULL;
		struct bench_check *c;

		for (size_t k = 0; k < ph->n; k++) {
			const struct ops_method *m = &ph->m[k];

			if (strcmp(m->op, "vol") != 0 || strcmp(m->tag, "vol") != 0 || !m->create_s.n)
				continue;
			if (!small || m->size < small->size)
				small = m;
			if (!large || m->size > large->size)
				large = m;
		}
		if (!small || small == large)
			return;
		dms_size_format(large->size, z, sizeof(z));
		dms_size_format(small->size, z0, sizeof(z0));
		snprintf(what, sizeof(what), "dms_vol_create p50: %s / %s", z, z0);
		bench_report_check(rep, what, pct(large, false, 50), pct(small, false, 50), false, 2);
		snprintf(what, sizeof(what), "dmstore pool space: %s / %s", z, z0);
		c = bench_report_check(rep, what, bench_percentile(&large->bytes, 50),
				       bench_percentile(&small->bytes, 50), false, 2);
		if (c)
			c->info = true;
	}
}

/* The library at the largest population against the faster of its two runs at the first: issue 3's 1.5x. */
static void scale_checks(struct bench_report *rep, const struct phase *first, const struct phase *large,
			 const struct phase *again)
{
	static const double pcts[] = { 50, 99 };
	char what[160], create[32], remove[32];

	for (size_t k = 0; k < large->n; k++) {
		const struct ops_method *m = &large->m[k], *a, *c;

		if (m->exec || !m->create_s.n)
			continue;
		a = find(first, m->op, m->tag, m->size);
		c = find(again, m->op, m->tag, m->size);
		op_names(m, create, remove, sizeof(create));
		for (int op = 0; op < 2; op++)
			for (int p = 0; p < 2; p++) {
				double before = pct(a, op, pcts[p]), after = pct(c, op, pcts[p]);
				struct bench_check *chk;

				snprintf(what, sizeof(what), "dmstore (library) %s p%.0f at %u devices / at %u",
					 op ? remove : create, pcts[p], large->population, first->population);
				chk = bench_report_check(rep, what, pct(m, op, pcts[p]),
							 isnan(after) || before < after ? before : after, false, 1.5);
				/* Issue 3 set this target for containers; the other operations are shown for the record. */
				if (chk)
					chk->info = strcmp(m->op, "snap") != 0;
			}
	}
}

static json_object *samples_json(const struct bench_samples *s)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < s->n; i++)
		json_object_array_add(a, json_object_new_double((double)(int64_t)(s->ms[i] * 1000.0 + 0.5) / 1000.0));
	return a;
}

static json_object *params_json(const struct ops_bench *b, const struct phase *ph, size_t n_ph)
{
	const struct bench_ops_opts *o = b->o;
	json_object *p = json_object_new_object(), *pops = json_object_new_array(), *sizes = json_object_new_array();

	for (size_t k = 0; k < n_ph; k++)
		if (!ph[k].again)
			json_object_array_add(pops, json_object_new_int64(ph[k].population));
	for (size_t k = 0; k < o->n_vol_sizes; k++)
		json_object_array_add(sizes, json_object_new_uint64(o->vol_sizes[k]));
	json_object_object_add(p, "pool", json_object_new_string(b->pool_name));
	json_object_object_add(p, "image", json_object_new_string(b->image));
	json_object_object_add(p, "populations", pops);
	json_object_object_add(p, "vol_sizes", sizes);
	json_object_object_add(p, "iterations", json_object_new_int64(o->iterations));
	json_object_object_add(p, "import_iterations", json_object_new_int64(o->import_iterations));
	json_object_object_add(p, "exec_iterations", json_object_new_int64(o->exec_iterations));
	json_object_object_add(p, "warmup", json_object_new_int64(o->warmup));
	json_object_object_add(p, "lvm", o->lvm_origin ? json_object_new_string(o->lvm_origin) : NULL);
	return p;
}

static void report(struct ops_bench *b, struct bench_report *rep, struct phase *ph, size_t n_ph)
{
	const struct bench_ops_opts *o = b->o;
	json_object *samples = json_object_new_object();
	char key[160], create[32], remove[32];

	rep->params = params_json(b, ph, n_ph);
	for (size_t p = 0; p < n_ph; p++)
		for (size_t k = 0; k < ph[p].n; k++)
			if (ph[p].m[k].enabled || *ph[p].m[k].error)
				add_rows(rep, &ph[p], &ph[p].m[k]);
	if (b->fill_s.n) {
		bench_report_row(rep, "dmstore (library), filling the pool", "container create", 0, &b->fill_s);
		bench_report_row(rep, "dmstore (library), emptying the pool", "container rm", 0, &b->drain_s);
	}
	vs(rep, &ph[0], "lib", "lvm", 10, true, false);
	vs(rep, &ph[0], "lib", "dmsetup", 3, true, false);
	vs(rep, &ph[0], "cli", "lvm", 10, false, true);
	vs(rep, &ph[0], "cli", "dmsetup", 3, false, true);
	vol_checks(rep, &ph[0]);
	if (n_ph > 2)
		scale_checks(rep, &ph[0], &ph[n_ph - 2], &ph[n_ph - 1]);

	bench_notes_add(
		&rep->notes,
		"populations: devices in pool '%s' (its own, the image, and containers of it added to reach the number) while measured; the exec'd methods run at %u only",
		b->pool_name, ph[0].population);
	bench_notes_add(
		&rep->notes,
		"the methods take turns within a phase: %u pairs per operation by the library, %u image imports, %u per exec'd method, spread evenly",
		o->iterations, o->import_iterations, o->exec_iterations);
	if (o->dmsetup)
		bench_notes_add(
			&rep->notes,
			"containerd path: the dmsetup calls of snapshots/devmapper/pool_device.go (info, [suspend,] message create_snap, create; info, remove --retry --force, message delete), thin ids from %" PRIu32
			"; its bolt metadata commits (about 5 per create) are not reproduced",
			o->dmsetup_id);
	bench_notes_add(&rep->notes, "every exec'd method pays process start-up");
	bench_notes_add(
		&rep->notes,
		"vol pool space = the pool's used data blocks after the create less before, in %u KiB blocks; mkfs.ext4 with lazy_itable_init=1 leaves inode tables to the kernel's ext4lazyinit thread after the first mount, not counted here",
		b->block_size / 1024);
	bench_notes_add(&rep->notes, "image import: %s, into an image of the default size",
			  b->import_dir[0] ? "a tree of 64 files of 4 KiB in 8 directories and a symlink" :
					     b->import_source);

	for (size_t p = 0; p < n_ph; p++)
		for (size_t k = 0; k < ph[p].n; k++) {
			const struct ops_method *m = &ph[p].m[k];

			if (!m->create_s.n)
				continue;
			op_names(m, create, remove, sizeof(create));
			snprintf(key, sizeof(key), "%s%s %s at %u", m->label, ph[p].again ? ", again" : "", create,
				 ph[p].population);
			json_object_object_add(samples, key, samples_json(&m->create_s));
			snprintf(key, sizeof(key), "%s%s %s at %u", m->label, ph[p].again ? ", again" : "", remove,
				 ph[p].population);
			json_object_object_add(samples, key, samples_json(&m->remove_s));
		}
	rep->extra = json_object_new_object();
	json_object_object_add(rep->extra, "samples_ms", samples);
}

/* --- the run --------------------------------------------------------------------------------- */

static void init_phase(struct ops_bench *b, struct phase *ph, unsigned index, unsigned population, bool again)
{
	const struct bench_ops_opts *o = b->o;
	const struct ops_method *tpl;
	size_t n_tpl;

	*ph = (struct phase){ .population = population, .compare = index == 0, .again = again };
	tpl = ops_methods(&n_tpl);
	for (size_t t = 0; t < n_tpl; t++) {
		bool on = !tpl[t].exec || ph->compare;
		size_t sizes = strcmp(tpl[t].op, "vol") == 0 ? o->n_vol_sizes : 1;

		if (strcmp(tpl[t].tag, "cli") == 0)
			on = on && o->cli;
		if (strcmp(tpl[t].tag, "dmsetup") == 0)
			on = on && o->dmsetup;
		if (strcmp(tpl[t].tag, "lvm") == 0)
			on = on && o->lvm_origin;
		if (strcmp(tpl[t].op, "import") == 0)
			on = on && o->import_iterations > 0;
		for (size_t s = 0; s < sizes && on && ph->n < METHODS_MAX; s++) {
			struct ops_method *m = &ph->m[ph->n++];

			*m = tpl[t];
			m->phase = index;
			m->enabled = true;
			m->size = strcmp(tpl[t].op, "vol") == 0 ? o->vol_sizes[s] : 0;
		}
	}
}

static void free_phase(struct phase *ph)
{
	for (size_t k = 0; k < ph->n; k++) {
		struct ops_method *m = &ph->m[k];

		bench_samples_free(&m->create_s);
		bench_samples_free(&m->remove_s);
		bench_samples_free(&m->bytes);
		for (int s = 0; s < OPS_STEPS_MAX; s++) {
			bench_samples_free(&m->create_step_s[s]);
			bench_samples_free(&m->remove_step_s[s]);
		}
	}
}

int bench_ops_run(struct dms_ctx *ctx, const struct bench_ops_opts *o, struct bench_report *rep)
{
	struct phase *phases = calloc(PHASES_MAX, sizeof(*phases));
	struct ops_bench b = { .ctx = ctx, .o = o };
	uint64_t t0 = bench_now_ns();
	unsigned base = 0;
	size_t n_ph = 0;
	int r, cleanup;

	if (!phases)
		return -ENOMEM;
	snprintf(rep->bench, sizeof(rep->bench), "ops");
	r = setup(&b);
	if (r == 0)
		r = count_devices(&b, &base);
	if (r < 0)
		goto out_clean;
	snprintf(rep->title, sizeof(rep->title),
		 "dmstore bench ops: pool '%s', image '%s' (%" PRIu64 " MiB, thin id %" PRIu32
		 "), %u pairs per operation and population, %u per exec'd method, %u warm-up",
		 b.pool_name, b.image, (uint64_t)(b.image_size / DMS_MIB), b.image_thin_id, o->iterations,
		 o->exec_iterations, o->warmup);
	for (size_t p = 0; p < o->n_populations; p++)
		init_phase(&b, &phases[n_ph++], (unsigned)p, o->populations[p], false);
	if (o->n_populations > 1)
		init_phase(&b, &phases[n_ph++], (unsigned)o->n_populations, o->populations[0], true);

	for (size_t p = 0; p < n_ph && r == 0; p++) {
		struct phase *ph = &phases[p];
		unsigned want = ph->population > base ? ph->population - base : 0;

		if (ph->population < base)
			bench_notes_add(&rep->notes, "the pool holds %u devices, more than %u: that phase ran with %u", base,
					  ph->population, base);
		ph->population = base + want;
		if (want > b.fillers) {
			progress(&b, "filling the pool to %u devices", ph->population);
			r = fill_to(&b, want);
		} else if (want < b.fillers) {
			progress(&b, "emptying the pool to %u devices", ph->population);
			r = drain_to(&b, want);
		}
		if (r == 0)
			r = run_phase(&b, ph, false, o->warmup);
		if (r == 0)
			r = run_phase(&b, ph, true, 0);
	}
	if (r == 0)
		report(&b, rep, phases, n_ph);

out_clean:
	if (stopped(&b))
		progress(&b, "stopped: removing what the benchmark made");
	progress(&b, "removing the %u containers the benchmark made", b.fillers);
	cleanup = b.pool ? drain_to(&b, 0) : 0;
	if (b.made_image) {
		int rr = dms_image_remove(b.pool, b.image, true);

		cleanup = cleanup < 0 ? cleanup : rr;
	}
	remove_import_tree(&b);
	if (r == 0 && cleanup < 0)
		r = cleanup;
	if (r == 0 && stopped(&b))
		r = -EINTR;
	rep->seconds = bench_ms_since(t0) / 1000.0;
	if (r < 0)
		snprintf(rep->error, sizeof(rep->error), "%s",
			 *b.error	     ? b.error :
			 *dms_ctx_error(ctx) ? dms_ctx_error(ctx) :
					       strerror(-r));
	for (size_t p = 0; p < n_ph; p++)
		free_phase(&phases[p]);
	free(phases);
	bench_samples_free(&b.fill_s);
	bench_samples_free(&b.drain_s);
	dms_pool_close(b.pool);
	return r;
}
