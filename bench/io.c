// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * `dmstore bench io`: what thin provisioning does to I/O, target by target,
 * workload by workload, on the user's own disks.
 *
 * Targets, each a row of the report:
 *   raw          the baseline device itself, written end to end first (its contents are destroyed);
 *   fresh        a new thin device, made for each run: every first write provisions a block;
 *   provisioned  one thin device written end to end first: overwrites;
 *   snapshot     a new snapshot of that device for each run: first writes break sharing;
 *   shared       one snapshot of it, only read: every block shared with the origin;
 *   fs           a volume's ext4, a file preallocated and written end to end, O_DIRECT.
 * Targets that only write (fresh, snapshot) skip read-only workloads, and
 * shared skips those that write: a read of a block never written is not a read
 * of the disk, and a write to shared is the snapshot row.
 *
 * Scratch devices are volumes in the catalogue like any other (raw ones,
 * dms_vol_create_raw), named bench-io-<pid>-..., so they go through the
 * crash-safe protocol: a benchmark killed with SIGKILL leaves volumes dmstore
 * knows and can remove, never a thin id it does not. On a stop (SIGINT, SIGTERM:
 * the caller's flag) or an error, everything made is removed: devices, the
 * mount, the scratch pool.
 *
 * With fio, each workload on each target is run twice, by each engine on a
 * target prepared the same way (a fresh device or snapshot each), the two
 * runs next to each other in time and taking turns at going first, so that a
 * slow moment of the machine does not land on one engine only.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/io.h"
#include "dms-util.h"

#define SCRATCH_MAX 8
/* What writes a target end to end before it is measured: sequential, 1 MiB, queue depth 8. */
static const struct bench_workload fill_workload = { "fill", false, 0, 1024 * 1024, 8, 1 };

struct io_bench {
	struct dms_ctx *ctx;
	const struct bench_io_opts *o;
	struct bench_io_report *rep;
	struct dms_pool *pool;
	char pool_name[DMS_POOL_NAME_MAX + 1];
	uint64_t block_size;
	bool made_pool;
	char prefix[32]; /* bench-io-<pid> */
	unsigned seq;
	char scratch[SCRATCH_MAX][DMS_NAME_MAX + 1]; /* volumes made and not yet removed */
	char origin[DMS_NAME_MAX + 1];		     /* the provisioned device, once written */
	char shared[DMS_NAME_MAX + 1];
	char fs_vol[DMS_NAME_MAX + 1];
	char mnt[PATH_MAX - 32]; /* where fs_vol is mounted, "" if not */
	char fs_file[PATH_MAX];
	int baseline_fd;       /* held O_EXCL: nobody mounts it under us */
	bool baseline_written; /* end to end, before the raw rows */
	const char *what;      /* the run in progress, for the status line */
	char error[512];
};

static const char *const target_names[BENCH_T_COUNT] = {
	[BENCH_T_RAW] = "raw",		 [BENCH_T_FRESH] = "fresh",   [BENCH_T_PROVISIONED] = "provisioned",
	[BENCH_T_SNAPSHOT] = "snapshot", [BENCH_T_SHARED] = "shared", [BENCH_T_FS] = "fs",
};

const char *bench_target_name(enum bench_target t)
{
	return t < BENCH_T_COUNT ? target_names[t] : "?";
}

static void progress(struct io_bench *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void progress(struct io_bench *b, const char *fmt, ...)
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

static int fail(struct io_bench *b, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(struct io_bench *b, int r, const char *fmt, ...)
{
	va_list ap;

	if (*b->error)
		return r;
	va_start(ap, fmt);
	vsnprintf(b->error, sizeof(b->error), fmt, ap);
	va_end(ap);
	return r;
}

static int lib_fail(struct io_bench *b, int r)
{
	return fail(b, r, "%s", *dms_ctx_error(b->ctx) ? dms_ctx_error(b->ctx) : strerror(-r));
}

static bool stopped(const struct io_bench *b)
{
	return b->o->stop && *b->o->stop;
}

/* --- scratch volumes ------------------------------------------------------------------------ */

static int scratch_add(struct io_bench *b, const char *name)
{
	for (size_t i = 0; i < SCRATCH_MAX; i++) {
		if (!*b->scratch[i]) {
			snprintf(b->scratch[i], sizeof(b->scratch[i]), "%s", name);
			return 0;
		}
	}
	return fail(b, -ENOSPC, "internal: more than %d scratch volumes", SCRATCH_MAX);
}

/* Remove scratch volume NAME (unmounting it if need be) and forget it; "" is nothing. */
static int scratch_remove(struct io_bench *b, char *name)
{
	int r;

	if (!*name)
		return 0;
	r = dms_vol_remove(b->pool, name, true);
	/* Absent: its create was interrupted or failed before the volume was whole, and it left nothing. */
	if (r < 0 && r != -ENOENT)
		return lib_fail(b, r);
	for (size_t i = 0; i < SCRATCH_MAX; i++)
		if (strcmp(b->scratch[i], name) == 0)
			b->scratch[i][0] = '\0';
	name[0] = '\0';
	return 0;
}

static int device_of(struct io_bench *b, const char *name, char *dev, size_t len)
{
	struct dms_vol_info *info;
	int r = dms_vol_inspect(b->pool, name, &info);

	if (r < 0)
		return lib_fail(b, r);
	snprintf(dev, len, "%s", info->device);
	dms_vol_info_free(info);
	return 0;
}

/* A new scratch volume (RAW: no filesystem) named <prefix>-KIND-<n>, and its device's path. */
static int scratch_create(struct io_bench *b, const char *kind, bool raw, uint64_t size, char *name, char *dev,
			  size_t len)
{
	int r;

	snprintf(name, DMS_NAME_MAX + 1, "%s-%s-%u", b->prefix, kind, b->seq++);
	/* Recorded first: if the create is interrupted half-way, cleanup still tries to remove it. */
	r = scratch_add(b, name);
	if (r == 0)
		r = raw ? dms_vol_create_raw(b->pool, name, size) : dms_vol_create(b->pool, name, size, NULL);
	if (r < 0)
		return lib_fail(b, r);
	return dev ? device_of(b, name, dev, len) : 0;
}

static int scratch_snapshot(struct io_bench *b, const char *origin, const char *kind, char *name, char *dev, size_t len)
{
	int r;

	snprintf(name, DMS_NAME_MAX + 1, "%s-%s-%u", b->prefix, kind, b->seq++);
	r = scratch_add(b, name);
	if (r == 0)
		r = dms_vol_snapshot(b->pool, origin, name);
	if (r < 0)
		return lib_fail(b, r);
	return device_of(b, name, dev, len);
}

/* --- running one workload ------------------------------------------------------------------ */

static void tick(void *arg, const struct bench_io_tick *t)
{
	struct io_bench *b = arg;
	char msg[256];

	if (!b->o->status)
		return;
	snprintf(msg, sizeof(msg), "%s: %.1f s, %.0f IOPS, %.1f MB/s", b->what, t->elapsed,
		 t->elapsed > 0 ? (double)t->ios / t->elapsed : 0.0,
		 t->elapsed > 0 ? (double)t->bytes / t->elapsed / 1e6 : 0.0);
	b->o->status(msg);
}

/* Write PATH's first SIZE bytes end to end, so that every block of it is provisioned (or allocated). */
static int fill(struct io_bench *b, const char *path, uint64_t size)
{
	struct bench_io_spec sp = { .path = path,
				    .size = size,
				    .w = &fill_workload,
				    .io_size = size,
				    .stop = b->o->stop,
				    .tick = tick,
				    .arg = b };
	_cleanup_free_ struct bench_io_stats *st = calloc(1, sizeof(*st));
	char err[256];
	int r;

	if (!st)
		return -ENOMEM;
	b->what = "writing it end to end";
	r = bench_io_run(&sp, st, err, sizeof(err));
	if (r < 0 && r != -EINTR)
		return fail(b, r, "writing '%s' end to end: %s", path, err);
	if (r == 0)
		progress(b, "wrote %s in %.1f s (%.1f MB/s)", path, st->seconds,
			 st->seconds > 0 ? (double)size / st->seconds / 1e6 : 0.0);
	return r;
}

static void dir_from_hist(struct bench_io_dir_result *d, uint64_t ios, uint64_t bytes, const struct bench_hist *h,
			  double seconds)
{
	d->ios = ios;
	d->bytes = bytes;
	d->iops = seconds > 0 ? (double)ios / seconds : NAN;
	d->mb_per_s = seconds > 0 ? (double)bytes / seconds / 1e6 : NAN;
	d->p50_us = bench_hist_percentile(h, 50) / 1000.0;
	d->p99_us = bench_hist_percentile(h, 99) / 1000.0;
	d->p999_us = bench_hist_percentile(h, 99.9) / 1000.0;
}

/* What the pool's data and metadata hold: before and after each round. */
struct pool_used {
	uint64_t data, metadata; /* bytes */
};

/* One engine's rounds of one workload on one target, added up. */
struct tally {
	struct bench_io_stats st; /* seconds and I/Os summed, histograms merged */
	int64_t pool_blocks, metadata_bytes;
	unsigned rounds;
	struct bench_samples mb_per_s, iops, p99_us[2]; /* each round's own, for the medians */
	char error[256];
};

static void tally_reset(struct tally *t)
{
	bench_samples_free(&t->mb_per_s);
	bench_samples_free(&t->iops);
	for (int d = 0; d < 2; d++)
		bench_samples_free(&t->p99_us[d]);
	memset(t, 0, sizeof(*t));
}

/* One round's figures, kept for the medians. */
static int tally_round(struct tally *t, const struct bench_io_stats *st)
{
	uint64_t ios = st->dir[0].ios + st->dir[1].ios, bytes = st->dir[0].bytes + st->dir[1].bytes;
	int r;

	if (st->seconds <= 0)
		return 0;
	r = bench_samples_add(&t->mb_per_s, (double)bytes / st->seconds / 1e6);
	if (r == 0)
		r = bench_samples_add(&t->iops, (double)ios / st->seconds);
	for (int d = 0; d < 2 && r == 0; d++)
		if (st->dir[d].ios)
			r = bench_samples_add(&t->p99_us[d], bench_hist_percentile(&st->dir[d].lat, 99) / 1000.0);
	return r;
}

static int pool_usage(struct io_bench *b, struct pool_used *u)
{
	int r = dms_pool_space_used(b->ctx, b->pool_name, &u->data, &u->metadata);

	return r < 0 ? lib_fail(b, r) : 0;
}

/* One round: one engine, one workload, on PATH (a target prepared for it), added to TALLY. */
static int run_round(struct io_bench *b, enum bench_target t, const struct bench_workload *w, bool fio,
		     const char *path, struct tally *tally)
{
	struct bench_io_spec sp = {
		.path = path,
		.size = b->o->size,
		.w = w,
		.runtime_ns = b->o->runtime_ns,
		.stop = b->o->stop,
		.cpus = b->o->cpus,
		.tick = tick,
		.arg = b,
	};
	_cleanup_free_ struct bench_io_stats *st = calloc(1, sizeof(*st));
	struct pool_used before, after;
	bool pooled = t != BENCH_T_RAW;
	char what[160];
	int r;

	if (!st)
		return -ENOMEM;
	sp.io_size = b->o->io_size ? b->o->io_size : b->o->size / w->jobs / w->bs * w->bs;
	snprintf(what, sizeof(what), "%s / %s by %s", bench_target_name(t), w->name, fio ? "fio" : "dmstore");
	b->what = what;
	if (pooled && (r = pool_usage(b, &before)) < 0)
		return r;
	if (fio && b->o->status)
		b->o->status(what);
	r = fio ? bench_fio_run(&sp, st, tally->error, sizeof(tally->error)) :
		  bench_io_run(&sp, st, tally->error, sizeof(tally->error));
	if (r == -EINTR || r == -ENOMEM)
		return r;
	if (r < 0) {
		progress(b, "%s failed: %s", what, tally->error);
		return 0; /* a failed run is a row that says so; the others go on */
	}
	if (pooled) {
		r = pool_usage(b, &after);
		if (r < 0)
			return r;
		tally->pool_blocks += ((int64_t)after.data - (int64_t)before.data) / (int64_t)b->block_size;
		tally->metadata_bytes += (int64_t)after.metadata - (int64_t)before.metadata;
	}
	r = tally_round(tally, st);
	if (r < 0)
		return r;
	tally->st.seconds += st->seconds;
	tally->st.cpu_seconds += st->cpu_seconds;
	for (int d = 0; d < 2; d++) {
		tally->st.dir[d].ios += st->dir[d].ios;
		tally->st.dir[d].bytes += st->dir[d].bytes;
		bench_hist_merge(&tally->st.dir[d].lat, &st->dir[d].lat);
	}
	tally->rounds++;
	progress(b, "%-40s %10.1f MB/s %10.0f IOPS  p99 %9.1f us", what,
		 st->seconds > 0 ? (double)(st->dir[0].bytes + st->dir[1].bytes) / st->seconds / 1e6 : 0.0,
		 st->seconds > 0 ? (double)(st->dir[0].ios + st->dir[1].ios) / st->seconds : 0.0,
		 bench_hist_percentile(&st->dir[st->dir[BENCH_READ].ios ? BENCH_READ : BENCH_WRITE].lat, 99) / 1000.0);
	return 0;
}

/* The report's row for one engine's tally. */
static int add_result(struct io_bench *b, enum bench_target t, const struct bench_workload *w, bool fio,
		      const struct tally *tally)
{
	struct bench_io_report *rep = b->rep;
	struct bench_io_result *grown = realloc(rep->results, (rep->n_results + 1) * sizeof(*grown)), *res;
	_cleanup_free_ struct bench_hist *all = calloc(1, sizeof(*all));
	const struct bench_io_stats *st = &tally->st;

	if (grown)
		rep->results = grown;
	if (!grown || !all)
		return -ENOMEM;
	res = &rep->results[rep->n_results++];
	*res = (struct bench_io_result){ .target = t,
					 .w = *w,
					 .fio = fio,
					 .seconds = st->seconds,
					 .rounds = tally->rounds,
					 .med = { NAN, NAN, { NAN, NAN } },
					 .blocks_per_gib = NAN,
					 .cpu_us_per_io = NAN };
	if (!tally->rounds) {
		snprintf(res->error, sizeof(res->error), "%s", *tally->error ? tally->error : "did not run");
		return 0;
	}
	for (int d = 0; d < 2; d++) {
		dir_from_hist(&res->dir[d], st->dir[d].ios, st->dir[d].bytes, &st->dir[d].lat, st->seconds);
		bench_hist_merge(all, &st->dir[d].lat);
	}
	dir_from_hist(&res->all, st->dir[0].ios + st->dir[1].ios, st->dir[0].bytes + st->dir[1].bytes, all,
		      st->seconds);
	if (st->cpu_seconds > 0 && st->dir[0].ios + st->dir[1].ios)
		res->cpu_us_per_io = st->cpu_seconds * 1e6 / (double)(st->dir[0].ios + st->dir[1].ios);
	res->med.mb_per_s = bench_median(&tally->mb_per_s);
	res->med.iops = bench_median(&tally->iops);
	for (int d = 0; d < 2; d++)
		res->med.p99_us[d] = bench_median(&tally->p99_us[d]);
	if (t != BENCH_T_RAW) {
		res->has_pool = true;
		res->pool_blocks = tally->pool_blocks;
		res->metadata_bytes = tally->metadata_bytes;
		if (st->dir[BENCH_WRITE].bytes)
			res->blocks_per_gib =
				(double)tally->pool_blocks / ((double)st->dir[BENCH_WRITE].bytes / DMS_GIB);
	}
	return 0;
}

/* --- targets ------------------------------------------------------------------------------- */

static bool applies(enum bench_target t, const struct bench_workload *w)
{
	bool writes = w->read_pct<100, reads = w->read_pct> 0;

	switch (t) {
	case BENCH_T_FRESH:
	case BENCH_T_SNAPSHOT:
		return writes;
	case BENCH_T_SHARED:
		return !writes && reads;
	default:
		return true;
	}
}

/* The provisioned device: a raw volume written end to end, made once and kept for the snapshot rows. */
static int ensure_origin(struct io_bench *b, char *dev, size_t len)
{
	int r;

	if (*b->origin)
		return device_of(b, b->origin, dev, len);
	progress(b, "making the provisioned device: a %s volume written end to end", "raw");
	r = scratch_create(b, "origin", true, b->o->size, b->origin, dev, len);
	if (r == 0)
		r = fill(b, dev, b->o->size);
	return r;
}

/*
 * The fs row's file: a volume with ext4 room for it (journal, tables), mounted
 * in a directory of our own, the file preallocated (fallocate) and then
 * written end to end, so that its extents are written ones and every block
 * is provisioned: what is measured is ext4's O_DIRECT path over thin blocks.
 */
static int ensure_fs(struct io_bench *b)
{
	uint64_t size = (b->o->size + b->o->size / 4 + 96 * DMS_MIB + DMS_MIB - 1) / DMS_MIB * DMS_MIB;
	_cleanup_close_ int fd = -1;
	int r;

	if (*b->fs_vol)
		return 0;
	progress(b, "making the fs target: an ext4 volume, mounted, with a file preallocated and written end to end");
	r = scratch_create(b, "fs", false, size, b->fs_vol, NULL, 0);
	if (r < 0)
		return r;
	snprintf(b->mnt, sizeof(b->mnt), "%s/.%s-XXXXXX", dms_ctx_state_dir(b->ctx), b->prefix);
	if (!mkdtemp(b->mnt)) {
		r = -errno;
		b->mnt[0] = '\0';
		return fail(b, r, "making a mount point under '%s' failed: %s", dms_ctx_state_dir(b->ctx),
			    strerror(-r));
	}
	r = dms_vol_mount(b->pool, b->fs_vol, b->mnt);
	if (r < 0)
		return lib_fail(b, r);
	snprintf(b->fs_file, sizeof(b->fs_file), "%s/bench-io.dat", b->mnt);
	fd = open(b->fs_file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return fail(b, -errno, "creating '%s' failed: %s", b->fs_file, strerror(errno));
	r = posix_fallocate(fd, 0, (off_t)b->o->size);
	if (r)
		return fail(b, -r, "preallocating '%s' failed: %s", b->fs_file, strerror(r));
	return fill(b, b->fs_file, b->o->size);
}

static int drop_fs(struct io_bench *b)
{
	int r = 0;

	if (*b->fs_vol && *b->mnt) {
		r = dms_vol_umount(b->pool, b->fs_vol);
		if (r < 0)
			return lib_fail(b, r);
	}
	if (*b->mnt && rmdir(b->mnt) < 0 && errno != ENOENT)
		r = fail(b, -errno, "removing the mount point '%s' failed: %s", b->mnt, strerror(errno));
	b->mnt[0] = '\0';
	return r < 0 ? r : scratch_remove(b, b->fs_vol);
}

/* The target T prepared for one run: PATH to run on; *ONCE names a scratch volume to remove after the run. */
static int prepare(struct io_bench *b, enum bench_target t, char *path, size_t len, char *once)
{
	char dev[PATH_MAX];
	int r;

	*once = '\0';
	switch (t) {
	case BENCH_T_RAW:
		snprintf(path, len, "%s", b->o->baseline);
		/*
		 * Written end to end once, as the provisioned device is: a disk's
		 * first writes may cost what later ones do not (a sparse image's
		 * allocation on the host, a trimmed SSD's), and that would land on
		 * whichever engine writes first.
		 */
		if (b->baseline_written)
			return 0;
		r = fill(b, path, b->o->size);
		b->baseline_written = r == 0;
		return r;
	case BENCH_T_FRESH:
		return scratch_create(b, "fresh", true, b->o->size, once, path, len);
	case BENCH_T_PROVISIONED:
		return ensure_origin(b, path, len);
	case BENCH_T_SNAPSHOT:
		r = ensure_origin(b, dev, sizeof(dev));
		return r < 0 ? r : scratch_snapshot(b, b->origin, "snap", once, path, len);
	case BENCH_T_SHARED:
		r = ensure_origin(b, dev, sizeof(dev));
		if (r == 0 && !*b->shared)
			r = scratch_snapshot(b, b->origin, "shared", b->shared, path, len);
		else if (r == 0)
			r = device_of(b, b->shared, path, len);
		return r;
	case BENCH_T_FS:
		r = ensure_fs(b);
		if (r == 0)
			snprintf(path, len, "%s", b->fs_file);
		return r;
	default:
		return -EINVAL;
	}
}

static int run_target(struct io_bench *b, enum bench_target t)
{
	static const char *const what[BENCH_T_COUNT] = {
		[BENCH_T_RAW] = "the baseline device itself",
		[BENCH_T_FRESH] = "a new thin device for each run: every first write provisions a block",
		[BENCH_T_PROVISIONED] = "a thin device written end to end: overwrites",
		[BENCH_T_SNAPSHOT] = "a new snapshot of it for each run: first writes break sharing",
		[BENCH_T_SHARED] = "a snapshot of it, read: blocks shared with the origin",
		[BENCH_T_FS] = "a file on a volume's ext4, preallocated and written, O_DIRECT",
	};
	char path[PATH_MAX], once[DMS_NAME_MAX + 1];
	struct tally *tally = calloc(2, sizeof(*tally));
	unsigned turn = 0, engines = b->o->fio ? 2 : 1;
	int r = 0;

	if (!tally)
		return -ENOMEM;
	progress(b, "target '%s': %s", bench_target_name(t), what[t]);
	for (size_t i = 0; i < b->o->n_workloads && r == 0; i++) {
		const struct bench_workload *w = &b->o->workloads[i];

		if (!applies(t, w))
			continue;
		for (unsigned k = 0; k < 2; k++)
			tally_reset(&tally[k]);
		/* Rounds, and with the referee the two engines in each, take turns at going first. */
		for (unsigned round = 0; round < b->o->rounds && r == 0; round++, turn++) {
			for (unsigned k = 0; k < engines && r == 0; k++) {
				bool fio = b->o->fio && (k + turn) % 2 == 1;

				if (*tally[fio].error)
					continue; /* it failed a round: its row says so */
				r = prepare(b, t, path, sizeof(path), once);
				if (r == 0 && stopped(b))
					r = -EINTR;
				if (r == 0)
					r = run_round(b, t, w, fio, path, &tally[fio]);
				if (*once) {
					int rr = scratch_remove(b, once);

					r = r < 0 ? r : rr;
				}
				if (r == 0 && stopped(b))
					r = -EINTR;
			}
		}
		for (unsigned k = 0; k < engines && r == 0; k++)
			r = add_result(b, t, w, k == 1, &tally[k]);
	}
	for (unsigned k = 0; k < 2; k++)
		tally_reset(&tally[k]);
	free(tally);
	return r;
}

/* Which of the origin's users come after T: the origin stays until the last of them is done. */
static bool origin_needed_after(const struct io_bench *b, enum bench_target t)
{
	for (int u = t + 1; u < BENCH_T_COUNT; u++)
		if ((b->o->targets & (1U << u)) &&
		    (u == BENCH_T_PROVISIONED || u == BENCH_T_SNAPSHOT || u == BENCH_T_SHARED))
			return true;
	return false;
}

/* --- set-up and tear-down ------------------------------------------------------------------- */

static int check_baseline(struct io_bench *b)
{
	uint64_t bytes;
	char sig[64];
	int r;

	r = bench_baseline_open(b->o->baseline, &b->baseline_fd, &bytes);
	if (r == -EBUSY)
		return fail(b, r, "baseline '%s' is in use (mounted, in a pool, or held): it is not touched",
			    b->o->baseline);
	if (r < 0)
		return fail(b, r, "baseline '%s': %s", b->o->baseline, strerror(-r));
	if (bytes < b->o->size) {
		char z[32], s[32];

		return fail(b, -EINVAL, "baseline '%s' holds %s, less than the %s of --size", b->o->baseline,
			    dms_size_format(bytes, z, sizeof(z)), dms_size_format(b->o->size, s, sizeof(s)));
	}
	r = bench_baseline_signature(b->baseline_fd, sig, sizeof(sig));
	if (r < 0)
		return fail(b, r, "baseline '%s': probing for signatures failed: %s", b->o->baseline, strerror(-r));
	if (r > 0 && !b->o->force)
		return fail(
			b, -EEXIST,
			"baseline '%s' carries a signature (%s), and the benchmark destroys its contents: use --force to overwrite it",
			b->o->baseline, sig);
	return 0;
}

/* What the run needs of the pool at most at once, above its free-space floor. */
static int check_space(struct io_bench *b, const struct dms_pool_status *st)
{
	uint64_t need = 0, avail, floor = st->data_total / 10;
	char n[32], a[32];

	/* A fresh device or a snapshot's copies, the origin, the fs volume's file and its ext4. */
	if (b->o->targets & ((1U << BENCH_T_FRESH) | (1U << BENCH_T_SNAPSHOT)))
		need += b->o->size;
	if (b->o->targets & ((1U << BENCH_T_PROVISIONED) | (1U << BENCH_T_SNAPSHOT) | (1U << BENCH_T_SHARED)))
		need += b->o->size;
	if (b->o->targets & (1U << BENCH_T_FS))
		need += b->o->size + 64 * DMS_MIB;
	avail = st->data_total > st->data_used + floor ? st->data_total - st->data_used - floor : 0;
	if (need > avail)
		return fail(
			b, -ENOSPC,
			"pool '%s' has %s free above its 10%% floor; the benchmark may write %s: use a smaller --size",
			b->pool_name, dms_size_format(avail, a, sizeof(a)), dms_size_format(need, n, sizeof(n)));
	return 0;
}

static int setup_pool(struct io_bench *b)
{
	struct dms_pool_status *st = NULL;
	int r;

	if (b->o->data_dev) {
		struct dms_pool_create_opts po = {
			.size = sizeof(po),
			.data_dev = b->o->data_dev,
			.metadata_dev = b->o->metadata_dev,
			.block_size = b->o->block_size,
			.no_zero = b->o->no_zero,
			.force = b->o->force,
		};

		snprintf(b->pool_name, sizeof(b->pool_name), "%s", b->prefix);
		progress(b, "making scratch pool '%s' on %s (data) and %s (metadata)", b->pool_name, b->o->data_dev,
			 b->o->metadata_dev);
		r = dms_pool_create(b->ctx, b->pool_name, &po, NULL);
		if (r < 0)
			return lib_fail(b, r);
		b->made_pool = true;
		r = dms_pool_open(b->ctx, b->pool_name, &b->pool);
	} else {
		r = dms_pool_open(b->ctx, b->o->pool, &b->pool);
		if (r == 0)
			snprintf(b->pool_name, sizeof(b->pool_name), "%s", dms_pool_name(b->pool));
	}
	if (r == 0)
		r = dms_pool_status(b->ctx, b->pool_name, &st);
	if (r < 0)
		return lib_fail(b, r);
	if (!st->active) {
		dms_pool_status_free(st);
		return fail(b, -ENXIO, "pool '%s' is not active: 'dmstore pool activate %s' first", b->pool_name,
			    b->pool_name);
	}
	snprintf(b->rep->pool, sizeof(b->rep->pool), "%s", b->pool_name);
	b->rep->scratch_pool = b->made_pool;
	b->rep->block_size = st->block_size;
	b->rep->zero = st->zero;
	b->block_size = st->block_size;
	r = check_space(b, st);
	dms_pool_status_free(st);
	return r;
}

/* Volumes an earlier benchmark killed with SIGKILL left: named in a note, not touched (they may be another run's). */
static void note_leftovers(struct io_bench *b)
{
	struct dms_vol_info **vols = NULL;
	char list[400] = "";
	size_t n = 0, k = 0;

	if (dms_vol_list(b->pool, &vols, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (strncmp(vols[i]->name, "bench-io-", 9) != 0 ||
		    strncmp(vols[i]->name, b->prefix, strlen(b->prefix)) == 0)
			continue;
		size_t len = strlen(list);
		int w = snprintf(list + len, sizeof(list) - len, "%s'%s'", k ? ", " : "", vols[i]->name);

		/* One that does not fit is counted, not named. */
		if (w < 0 || (size_t)w >= sizeof(list) - len)
			list[len] = '\0';
		k++;
	}
	dms_vol_list_free(vols, n);
	if (k)
		bench_notes_add(
			&b->rep->notes,
			"pool '%s' holds %zu volume(s) named like another benchmark's scratch devices (%s): a benchmark killed outright leaves them; 'dmstore vol rm' removes them",
			b->pool_name, k, list);
}

static int fio_version(struct io_bench *b)
{
	const char *argv[] = { "fio", "--version", NULL };
	_cleanup_free_ char *out = NULL;
	char err[256];
	int r;

	r = bench_spawn(argv, NULL, &out, NULL, b->o->stop, err, sizeof(err));
	if (r == -ENOENT)
		return fail(b, r, "fio is not installed: the referee needs it (Debian: apt-get install fio)");
	if (r < 0)
		return fail(b, r, "%s", err);
	snprintf(b->rep->fio_version, sizeof(b->rep->fio_version), "%.*s", (int)strcspn(out, "\n"), out);
	return 0;
}

static void title(struct io_bench *b)
{
	const struct bench_io_opts *o = b->o;
	char z[32], run[160];

	if (o->runtime_ns)
		snprintf(run, sizeof(run), "%.3g s per run", (double)o->runtime_ns / 1e9);
	else
		snprintf(run, sizeof(run), "size-based runs");
	if (o->rounds > 1)
		snprintf(run + strlen(run), sizeof(run) - strlen(run), ", %u runs each", o->rounds);
	if (o->cpus)
		snprintf(run + strlen(run), sizeof(run) - strlen(run), ", jobs pinned (--cpus %s)", o->cpus);
	snprintf(b->rep->title, sizeof(b->rep->title),
		 "dmstore bench io: pool '%s'%s (%" PRIu64
		 " KiB blocks, %s), %s per target, %s, io_uring + O_DIRECT%s%s",
		 b->pool_name, b->made_pool ? ", scratch" : "", b->block_size / 1024,
		 b->rep->zero ? "zeroing" : "no zeroing", dms_size_format(o->size, z, sizeof(z)), run,
		 o->fio ? ", referee " : "", o->fio ? b->rep->fio_version : "");
}

/* Everything the run made goes, whatever state it is in; the first failure is kept. */
static int teardown(struct io_bench *b)
{
	int r = 0, rr;

	if (b->pool) {
		r = drop_fs(b);
		for (size_t i = 0; i < SCRATCH_MAX; i++) {
			char name[DMS_NAME_MAX + 1];

			snprintf(name, sizeof(name), "%s", b->scratch[i]);
			rr = scratch_remove(b, name);
			r = r < 0 ? r : rr;
		}
	}
	dms_pool_close(b->pool);
	b->pool = NULL;
	if (b->made_pool) {
		rr = dms_pool_remove(b->ctx, b->pool_name, true);
		if (rr < 0)
			rr = lib_fail(b, rr);
		r = r < 0 ? r : rr;
		b->made_pool = false;
	}
	if (b->baseline_fd >= 0)
		(void)close(b->baseline_fd);
	b->baseline_fd = -1;
	return r;
}

void bench_io_report_free(struct bench_io_report *rep)
{
	bench_notes_free(&rep->notes);
	free(rep->results);
	*rep = (struct bench_io_report){ 0 };
}

int bench_io_bench(struct dms_ctx *ctx, const struct bench_io_opts *o, struct bench_io_report *rep)
{
	struct io_bench b = { .ctx = ctx, .o = o, .rep = rep, .baseline_fd = -1 };
	uint64_t t0 = bench_now_ns();
	int r, rr;

	snprintf(b.prefix, sizeof(b.prefix), "bench-io-%ld", (long)getpid());
	r = o->fio ? fio_version(&b) : 0;
	if (r == 0 && o->baseline)
		r = check_baseline(&b);
	if (r == 0)
		r = setup_pool(&b);
	if (r < 0)
		goto out;
	note_leftovers(&b);
	title(&b);
	if (o->baseline)
		progress(&b, "the baseline '%s' is written to: its contents are destroyed", o->baseline);

	for (int t = 0; t < BENCH_T_COUNT && r == 0; t++) {
		if (!(o->targets & (1U << t)))
			continue;
		r = run_target(&b, t);
		/* What the next targets do not need goes now, so the pool holds no more than it must. */
		if (r == 0 && t == BENCH_T_SHARED)
			r = scratch_remove(&b, b.shared);
		if (r == 0 && t == BENCH_T_FS)
			r = drop_fs(&b);
		if (r == 0 && *b.origin && !origin_needed_after(&b, t))
			r = scratch_remove(&b, b.origin);
	}
out:
	if (r == -EINTR || stopped(&b))
		progress(&b, "stopped: removing what the benchmark made");
	rr = teardown(&b);
	if (r == 0 && rr < 0)
		r = rr;
	if (r == 0 && stopped(&b))
		r = -EINTR;
	rep->seconds = bench_ms_since(t0) / 1000.0;
	if (r < 0)
		snprintf(rep->error, sizeof(rep->error), "%s", *b.error ? b.error : strerror(-r));
	return r;
}
