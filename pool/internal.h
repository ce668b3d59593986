/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMS_POOL_INTERNAL_H
#define DMS_POOL_INTERNAL_H

#include <limits.h>

#include "dmstore.h"

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

/* dm names and UUIDs: dmstore-<pool>-<kind>[-<name>], DMSTORE-<pool>-<kind>[-<id>] */
int dms_pool_dm_name(const char *pool, char *buf, size_t len);
int dms_pool_dm_uuid(const char *pool, char *buf, size_t len);
int dms_pool_uuid_prefix(const char *pool, char *buf, size_t len);

/* The least metadata a pool of DATA_SIZE bytes in BLOCK_SIZE blocks may have. */
uint64_t dms_pool_metadata_min(uint64_t data_size, uint32_t block_size);

/* Bring up / take down the kernel side of a configured pool. */
int dms_pool_table_load(struct dms_ctx *ctx, const struct dms_pool_config *cfg, bool check);
int dms_pool_thin_ids(struct dms_ctx *ctx, const struct dms_pool_config *cfg, uint32_t **ret_ids, size_t *ret_n);

#endif
