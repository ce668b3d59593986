// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The ways `bench ops` does each operation pair:
 *
 *   container   dmstore (library)  dms_snap_create / dms_snap_remove in this
 *                                  process: what a runtime linking libdmstore
 *                                  pays, crash-safe catalogue and all;
 *               dmstore (CLI)      `dmstore snap create|rm` exec'd;
 *               containerd path    the dmsetup programs containerd's devmapper
 *                                  snapshotter execs (snapshots/devmapper/
 *                                  pool_device.go): `dmsetup info` of the origin
 *                                  (suspend/resume it if loaded), `message
 *                                  create_snap`, `create --table`; then `info`,
 *                                  `remove --retry --force`, `message delete`.
 *                                  Its own bolt database is not reproduced, so
 *                                  this path is if anything flattered;
 *               LVM                lvcreate -s -ay -K / lvremove -f on an LVM
 *                                  thin pool.
 *   volume      dmstore (library)  dms_vol_create (thin device + ext4) / dms_vol_remove;
 *               mkfs.ext4          what an administrator runs on the same pool:
 *                                  `dmsetup message create_thin`, `dmsetup
 *                                  create`, `mkfs.ext4 -E lazy_itable_init=1,
 *                                  lazy_journal_init=1,nodiscard`.
 *   image       dmstore (library)  dms_image_import / dms_image_remove.
 *
 * The dmsetup and mkfs.ext4 paths make thin ids behind dmstore's back (from
 * --dmsetup-id and --thin-id), and delete them after each pair.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "bench/ops.h"
#include "dms-util.h"

static int record(struct ops_method *m, struct bench_samples *s, double ms)
{
	return m->timed ? bench_samples_add(s, ms) : 0;
}

static void name_of(const struct ops_method *m, unsigned i, char *buf, size_t len)
{
	snprintf(buf, len, "bench-%s-%u-%u", m->tag, m->phase, i);
}

int ops_pool_used(struct ops_bench *b, uint64_t *ret_bytes)
{
	uint64_t metadata;
	int r = dms_pool_space_used(b->ctx, b->pool_name, ret_bytes, &metadata);

	if (r < 0)
		snprintf(b->error, sizeof(b->error), "%s", dms_ctx_error(b->ctx));
	return r;
}

static int lib_fail(struct ops_bench *b, struct ops_method *m, int r)
{
	snprintf(m->error, sizeof(m->error), "%s", *dms_ctx_error(b->ctx) ? dms_ctx_error(b->ctx) : strerror(-r));
	return r;
}

/* --- containers ------------------------------------------------------------------------------ */

static int lib_snap_create(struct ops_bench *b, struct ops_method *m, unsigned i, double *ms)
{
	char name[DMS_NAME_MAX + 1];
	uint64_t t0;
	int r;

	name_of(m, i, name, sizeof(name));
	t0 = bench_now_ns();
	r = dms_snap_create(b->pool, name, b->image, 0);
	*ms = bench_ms_since(t0);
	return r < 0 ? lib_fail(b, m, r) : 0;
}

static int lib_snap_remove(struct ops_bench *b, struct ops_method *m, unsigned i, double *ms)
{
	char name[DMS_NAME_MAX + 1];
	uint64_t t0;
	int r;

	name_of(m, i, name, sizeof(name));
	t0 = bench_now_ns();
	r = dms_snap_remove(b->pool, name);
	*ms = bench_ms_since(t0);
	return r < 0 ? lib_fail(b, m, r) : 0;
}

static int cli_snap_create(struct ops_bench *b, struct ops_method *m, unsigned i, double *ms)
{
	char name[DMS_NAME_MAX + 1];
	const char *argv[] = { b->o->self, "snap", "create", name, "--image", b->image, "--pool", b->pool_name, NULL };

	name_of(m, i, name, sizeof(name));
	return bench_exec(argv, false, ms, m->error, sizeof(m->error));
}

static int cli_snap_remove(struct ops_bench *b, struct ops_method *m, unsigned i, double *ms)
{
	char name[DMS_NAME_MAX + 1];
	const char *argv[] = { b->o->self, "snap", "rm", name, "--pool", b->pool_name, NULL };

	name_of(m, i, name, sizeof(name));
	return bench_exec(argv, false, ms, m->error, sizeof(m->error));
}

/* containerd's dmsetup.Info(): IsLoaded() is "this ran without error". */
static int dmsetup_info(struct ops_method *m, const char *name, double *ms)
{
	const char *argv[] = { "dmsetup",     "info",
			       "--columns",   "--noheadings",
			       "-o",	      "name,blkdevname,attr,major,minor,open,segments,events",
			       "--separator", " ",
			       name,	      NULL };

	return bench_exec(argv, true, ms, m->error, sizeof(m->error));
}

static int dmsetup_snap_create(struct ops_bench *b, struct ops_method *m, unsigned i, double *ms)
{
	char name[64], msg[64], table[256];
	const char *msg_argv[] = { "dmsetup", "message", b->pool_dm, "0", msg, NULL };
	const char *create_argv[] = { "dmsetup", "create", name, "--table", table, NULL };
	const char *suspend_argv[] = { "dmsetup", "suspend", b->image_dm, NULL };
	const char *resume_argv[] = { "dmsetup", "resume", b->image_dm, NULL };
	uint32_t id = b->o->dmsetup_id + i;
	double step[OPS_STEPS_MAX], x;
	bool loaded;
	uint64_t t0;
	int r;

	name_of(m, i, name, sizeof(name));
	snprintf(msg, sizeof(msg), "create_snap %" PRIu32 " %" PRIu32, id, b->image_thin_id);
	/* containerd names the pool by its /dev/mapper path in the thin table. */
	snprintf(table, sizeof(table), "0 %" PRIu64 " thin /dev/mapper/%s %" PRIu32,
		 (uint64_t)(b->image_size / DMS_SECTOR_SIZE), b->pool_dm, id);

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
	for (int s = 0; s < OPS_STEPS_MAX; s++)
		if ((r = record(m, &m->create_step_s[s], step[s])) < 0)
			return r;
	return 0;
}

static int dmsetup_snap_remove(struct ops_bench *b, struct ops_method *m, unsigned i, double *ms)
{
	char name[64], path[96], msg[64];
	const char *remove_argv[] = { "dmsetup", "remove", "--retry", "--force", path, NULL };
	const char *msg_argv[] = { "dmsetup", "message", b->pool_dm, "0", msg, NULL };
	double step[OPS_STEPS_MAX] = { 0 };
	uint64_t t0;
	int r;

	name_of(m, i, name, sizeof(name));
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
	for (int s = 0; s < OPS_STEPS_MAX; s++)
		if ((r = record(m, &m->remove_step_s[s], step[s])) < 0)
			return r;
	return 0;
}

static int lvm_snap_create(struct ops_bench *b, struct ops_method *m, unsigned i, double *ms)
{
	char name[64];
	const char *argv[] = { "lvcreate", "-s", "-ay", "-K", "-n", name, b->o->lvm_origin, NULL };

	name_of(m, i, name, sizeof(name));
	return bench_exec(argv, false, ms, m->error, sizeof(m->error));
}

static int lvm_snap_remove(struct ops_bench *b, struct ops_method *m, unsigned i, double *ms)
{
	char name[64], lv[256];
	const char *argv[] = { "lvremove", "-f", lv, NULL };

	name_of(m, i, name, sizeof(name));
	snprintf(lv, sizeof(lv), "%s/%s", b->lvm_vg, name);
	return bench_exec(argv, false, ms, m->error, sizeof(m->error));
}

/* --- volumes --------------------------------------------------------------------------------- */

static int lib_vol_create(struct ops_bench *b, struct ops_method *m, unsigned i, double *ms)
{
	char name[DMS_NAME_MAX + 1];
	uint64_t before, after, t0;
	int r;

	name_of(m, i, name, sizeof(name));
	r = ops_pool_used(b, &before);
	if (r < 0)
		return r;
	t0 = bench_now_ns();
	r = dms_vol_create(b->pool, name, m->size, NULL);
	*ms = bench_ms_since(t0);
	if (r < 0)
		return lib_fail(b, m, r);
	r = ops_pool_used(b, &after);
	return r < 0 ? r : record(m, &m->bytes, (double)(after - before));
}

static int lib_vol_remove(struct ops_bench *b, struct ops_method *m, unsigned i, double *ms)
{
	char name[DMS_NAME_MAX + 1];
	uint64_t t0;
	int r;

	name_of(m, i, name, sizeof(name));
	t0 = bench_now_ns();
	r = dms_vol_remove(b->pool, name, false);
	*ms = bench_ms_since(t0);
	return r < 0 ? lib_fail(b, m, r) : 0;
}

static int mkfs_vol_create(struct ops_bench *b, struct ops_method *m, unsigned i, double *ms)
{
	char name[64], dev[96], msg[64], table[256];
	const char *create_thin[] = { "dmsetup", "message", b->pool_dm, "0", msg, NULL };
	const char *activate[] = { "dmsetup", "create", name, "--table", table, NULL };
	const char *mkfs[] = { "mkfs.ext4", "-q", "-E", "lazy_itable_init=1,lazy_journal_init=1,nodiscard", dev, NULL };
	double step[OPS_STEPS_MAX] = { 0 };
	uint64_t before, after, t0;
	int r;

	name_of(m, i, name, sizeof(name));
	snprintf(dev, sizeof(dev), "/dev/mapper/%s", name);
	snprintf(msg, sizeof(msg), "create_thin %" PRIu32, b->o->mkfs_thin_id);
	snprintf(table, sizeof(table), "0 %" PRIu64 " thin /dev/mapper/%s %" PRIu32,
		 (uint64_t)(m->size / DMS_SECTOR_SIZE), b->pool_dm, b->o->mkfs_thin_id);
	r = ops_pool_used(b, &before);
	if (r < 0)
		return r;
	t0 = bench_now_ns();
	r = bench_exec(create_thin, false, &step[0], m->error, sizeof(m->error));
	if (r == 0)
		r = bench_exec(activate, false, &step[1], m->error, sizeof(m->error));
	if (r == 0)
		r = bench_exec(mkfs, false, &step[2], m->error, sizeof(m->error));
	*ms = bench_ms_since(t0);
	if (r == 0)
		r = ops_pool_used(b, &after);
	if (r == 0)
		r = record(m, &m->bytes, (double)(after - before));
	for (int s = 0; s < OPS_STEPS_MAX && r == 0; s++)
		r = record(m, &m->create_step_s[s], step[s]);
	return r;
}

/* Also the undo of a create that failed half-way: each step only if its object is there. */
static int mkfs_vol_remove(struct ops_bench *b, struct ops_method *m, unsigned i, double *ms)
{
	char name[64], msg[64];
	const char *deactivate[] = { "dmsetup", "remove", "--retry", name, NULL };
	const char *delete[] = { "dmsetup", "message", b->pool_dm, "0", msg, NULL };
	double step[OPS_STEPS_MAX] = { 0 }, x;
	bool exists;
	uint64_t t0;
	int r;

	name_of(m, i, name, sizeof(name));
	snprintf(msg, sizeof(msg), "delete %" PRIu32, b->o->mkfs_thin_id);
	/* Whether there is a device to deactivate is the undo's question, not part of the removal timed. */
	r = dmsetup_info(m, name, &x);
	if (r < 0)
		return r;
	exists = r == 0;
	t0 = bench_now_ns();
	r = exists ? bench_exec(deactivate, false, &step[0], m->error, sizeof(m->error)) : 0;
	if (r == 0) {
		/*
		 * A delete of an id the pool does not have fails: after a failed
		 * create_thin that is fine; after a good one, the next create_thin
		 * fails on the id still there, and says so.
		 */
		r = bench_exec(delete, true, &step[1], m->error, sizeof(m->error));
		r = r > 0 ? 0 : r;
	}
	*ms = bench_ms_since(t0);
	for (int s = 0; s < 2 && r == 0; s++)
		r = record(m, &m->remove_step_s[s], step[s]);
	return r;
}

/* --- images ---------------------------------------------------------------------------------- */

static int lib_import(struct ops_bench *b, struct ops_method *m, unsigned i, double *ms)
{
	char name[DMS_NAME_MAX + 1];
	uint64_t t0;
	int r;

	name_of(m, i, name, sizeof(name));
	t0 = bench_now_ns();
	r = dms_image_import(b->pool, name, b->import_source, 0);
	*ms = bench_ms_since(t0);
	return r < 0 ? lib_fail(b, m, r) : 0;
}

static int lib_image_remove(struct ops_bench *b, struct ops_method *m, unsigned i, double *ms)
{
	char name[DMS_NAME_MAX + 1];
	uint64_t t0;
	int r;

	name_of(m, i, name, sizeof(name));
	t0 = bench_now_ns();
	r = dms_image_remove(b->pool, name, false);
	*ms = bench_ms_since(t0);
	return r < 0 ? lib_fail(b, m, r) : 0;
}

static const struct ops_method methods[] = {
	{ .label = "dmstore (library)",
	  .op = "snap",
	  .tag = "lib",
	  .create = lib_snap_create,
	  .remove = lib_snap_remove },
	{ .label = "dmstore (CLI, exec'd)",
	  .op = "snap",
	  .tag = "cli",
	  .exec = true,
	  .create = cli_snap_create,
	  .remove = cli_snap_remove },
	{ .label = "containerd path (dmsetup exec'd)",
	  .op = "snap",
	  .tag = "dmsetup",
	  .exec = true,
	  .create = dmsetup_snap_create,
	  .remove = dmsetup_snap_remove,
	  .create_steps = { "dmsetup info (origin)", "dmsetup message create_snap", "dmsetup create" },
	  .remove_steps = { "dmsetup info", "dmsetup remove --retry --force", "dmsetup message delete" } },
	{ .label = "LVM (lvcreate -s / lvremove)",
	  .op = "snap",
	  .tag = "lvm",
	  .exec = true,
	  .create = lvm_snap_create,
	  .remove = lvm_snap_remove },
	{ .label = "dmstore (library)", .op = "vol", .tag = "vol", .create = lib_vol_create, .remove = lib_vol_remove },
	{ .label = "create_thin + dmsetup create + mkfs.ext4",
	  .op = "vol",
	  .tag = "mkfs",
	  .exec = true,
	  .create = mkfs_vol_create,
	  .remove = mkfs_vol_remove,
	  .create_steps = { "dmsetup message create_thin", "dmsetup create", "mkfs.ext4" },
	  .remove_steps = { "dmsetup remove", "dmsetup message delete" } },
	{ .label = "dmstore (library)", .op = "import", .tag = "img", .create = lib_import, .remove = lib_image_remove },
};

const struct ops_method *ops_methods(size_t *ret_n)
{
	*ret_n = DMS_ARRAY_SIZE(methods);
	return methods;
}
