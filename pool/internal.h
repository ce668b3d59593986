/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMS_POOL_INTERNAL_H
#define DMS_POOL_INTERNAL_H

#include <limits.h>
#include <sys/types.h>

#include "dmstore.h"
#include "pool/catalog.h"

struct dms_ctx {
	char *state_dir;
	char *run_dir;
	char error[1024];
};

/* Record the one-line reason for the failure R and return R, so a failure reads `return dms_fail(ctx, r, ...)`. */
int dms_fail(struct dms_ctx *ctx, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* What persists of a pool under <state dir>/<name>/pool.json. */
struct dms_pool_config {
	char name[DMS_POOL_NAME_MAX + 1];
	bool loop;		/* dmstore made (and owns) the backing files */
	char data_path[PATH_MAX];
	char metadata_path[PATH_MAX];
	uint64_t data_size;	/* bytes the pool maps, a multiple of block_size */
	uint64_t metadata_size;
	uint32_t block_size;
	bool zero;
	int64_t created;	/* unix seconds */
};

int dms_pool_dir(const struct dms_ctx *ctx, const char *name, char *buf, size_t len);
int dms_pool_config_read(const struct dms_ctx *ctx, const char *name, struct dms_pool_config *ret_cfg);
int dms_pool_config_write(const struct dms_ctx *ctx, const struct dms_pool_config *cfg);

/* The pool lock: every mutation of a pool holds it; reads do not. */
int dms_pool_lock(const struct dms_ctx *ctx, const char *name, int *ret_fd);
/* -EBUSY at once if a change holds it. */
int dms_pool_trylock(const struct dms_ctx *ctx, const char *name, int *ret_fd);

/* dm names and UUIDs: dmstore-<pool>-<kind>[-<name>], DMSTORE-<pool>-<kind>[-<id>] */
int dms_pool_dm_name(const char *pool, char *buf, size_t len);
int dms_pool_dm_uuid(const char *pool, char *buf, size_t len);
int dms_pool_uuid_prefix(const char *pool, char *buf, size_t len);
bool dms_uuid_is_thin_of(const char *uuid, const char *pool);

/* The least metadata a pool of DATA_SIZE bytes in BLOCK_SIZE blocks may have. */
uint64_t dms_pool_metadata_min(uint64_t data_size, uint32_t block_size);

/* Bring up / take down the kernel side of a configured pool. */
int dms_pool_table_load(struct dms_ctx *ctx, const struct dms_pool_config *cfg, bool check);
int dms_pool_thin_ids(struct dms_ctx *ctx, const struct dms_pool_config *cfg, uint32_t **ret_ids, size_t *ret_n);

/* An open pool: its configuration, its catalogue, and the lock while a change runs. */
struct dms_pool {
	struct dms_ctx *ctx;
	struct dms_pool_config cfg;
	struct dms_catalog *cat;
	char dm_name[128];
	int lock_fd;
};

/*
 * Kill the process here if DMSTORE_CRASH_AT names OP:STEP, so tests can crash
 * every step. Only test builds (DMS_TEST_HOOKS) have it: a library a daemon
 * links must not die because of a variable in its environment.
 */
#ifdef DMS_TEST_HOOKS
void dms_crash_point(const char *op, const char *step);
#else
static inline void dms_crash_point(const char *op, const char *step)
{
}
#endif

/*
 * open.c: every change of a pool runs between these: the lock is taken, the
 * pool must be active, recovery runs, and the kernel's and the catalogue's
 * transaction ids must agree. *RET_TXN is that id, T.
 */
int dms_change_begin(struct dms_pool *pool, uint64_t *ret_txn);
void dms_change_end(struct dms_pool *pool);

/* txn.c: the kernel transaction, and the crash-safe create and delete of one thin device. */
int dms_pool_kernel_txn(struct dms_pool *pool, uint64_t *ret_txn);
int dms_device_create(struct dms_pool *pool, struct dms_row *row, uint32_t origin_thin_id, uint64_t txn,
		      const char *op, enum dms_state final_state);
int dms_device_delete(struct dms_pool *pool, struct dms_row *row, uint64_t txn, const char *op);
/* For recovery: delete THIN_ID (absent is fine); finish ROW's intent at NEW_TXN; drop ROW's intent. */
int dms_txn_kernel_delete(struct dms_pool *pool, uint32_t thin_id);
int dms_txn_finish(struct dms_pool *pool, struct dms_row *row, uint64_t new_txn, enum dms_state final_state,
		   bool remove);
int dms_txn_drop_intent(struct dms_pool *pool, const struct dms_row *row);

/*
 * recover.c, under the pool lock. dms_recover rolls intents forward or back
 * and deletes what a dead dmstore left half-made. dms_resume_suspended
 * resumes every volume left suspended (all its I/O blocked) by a dmstore
 * that died between suspend and resume; only under the lock is no live
 * dmstore mid-snapshot. The names of the volumes resumed go in RET_NAMES
 * (free with dms_strv_free), unless it is NULL.
 */
int dms_recover(struct dms_pool *pool, unsigned *ret_rolled_forward, unsigned *ret_rolled_back);
int dms_resume_suspended(struct dms_pool *pool, char ***ret_names, size_t *ret_n);

/* thin-dev.c: activation of one thin device. */
int dms_thin_dev_name(const struct dms_pool *pool, const struct dms_row *row, char *buf, size_t len);
int dms_thin_dev_path(const struct dms_pool *pool, const struct dms_row *row, char *buf, size_t len);
int dms_thin_dev_activate(struct dms_pool *pool, const struct dms_row *row);
int dms_thin_dev_deactivate(struct dms_pool *pool, const struct dms_row *row);
int dms_thin_dev_is_active(const struct dms_pool *pool, const struct dms_row *row, bool *ret_active);
/* Bytes the device maps now; -ENXIO if it is not active. */
int dms_thin_dev_used(const struct dms_pool *pool, const struct dms_row *row, uint64_t *ret_bytes);

/* snap.c: remove a container while the lock is held; *TXN moves past the delete. */
int dms_snap_remove_locked(struct dms_pool *pool, struct dms_row *row, uint64_t *txn);

/* space.c: refuse a create below the free-space floor. */
int dms_space_check(struct dms_pool *pool, const char *what);

/* volume.c, volume-attach.c, volume-snap.c: what volumes share, and what containers need of them. The lock is held. */
int dms_vol_find(struct dms_pool *pool, const char *name, struct dms_row *ret_row);
int dms_vol_name_free(struct dms_pool *pool, const char *name);
/* Made by dms_vol_create_raw: no filesystem, so nothing to mount, attach or grow but the device. */
bool dms_vol_is_raw(const struct dms_row *row);
/* Activate (and record it should stay active), and resume if left suspended. */
int dms_vol_device_up(struct dms_pool *pool, struct dms_row *row);
/* Resume the volume's device if a dmstore that died left it suspended. */
int dms_vol_device_resume(struct dms_pool *pool, const struct dms_row *row);
/* The device number of an active volume; -ENXIO if inactive. */
int dms_vol_devnum(struct dms_pool *pool, const struct dms_row *row, dev_t *ret_dev);
/* Unmount from inside the container (CTR, or NULL: looked up), and forget the attachment. */
int dms_vol_detach_one(struct dms_pool *pool, const struct dms_attachment *a, const struct dms_row *ctr);
/* Before a container goes: every volume attached to it is detached, none is deleted. */
int dms_vol_detach_container(struct dms_pool *pool, const struct dms_row *ctr);
/* -EBUSY, naming the first, if volumes are attached to CTR: its rootfs cannot be unmounted under them. */
int dms_vol_check_unattached(struct dms_pool *pool, const struct dms_row *ctr);
#endif
