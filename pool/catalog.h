/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMS_POOL_CATALOG_H
#define DMS_POOL_CATALOG_H

/*
 * The catalogue: what each thin device of a pool is. One SQLite database per
 * pool (<state dir>/<pool>/catalog.db), WAL, synchronous=FULL, so a commit
 * that returned is on disk. It knows nothing of the kernel; pool/txn.c keeps
 * the two in step.
 *
 * Rows carry an intent while a kernel change is in flight: state 'creating'
 * or 'deleting' with pending_txn = T+1. An 'importing' image has its thin
 * device but not yet its contents. All functions return 0 or a negative
 * errno: -ENOENT no such row, -EEXIST name taken, -EIO for SQLite failures.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

enum dms_kind {
	DMS_KIND_IMAGE,
	DMS_KIND_CONTAINER,
	DMS_KIND_VOLUME,
	DMS_KIND_LAYER, /* schema 4: a containerd snapshot; its layer row says which */
};

enum dms_state {
	DMS_STATE_CREATING,
	DMS_STATE_IMPORTING,
	DMS_STATE_READY,
	DMS_STATE_DELETING,
};

#define DMS_CATALOG_NAME_MAX 64

struct dms_row {
	int64_t id;
	enum dms_kind kind;
	char name[DMS_CATALOG_NAME_MAX + 1];
	uint32_t thin_id;
	uint64_t size;
	int64_t origin_id;	/* 0: none */
	enum dms_state state;
	uint64_t pending_txn;	/* 0: no intent */
	bool active;		/* should be active (restored by pool activate) */
	char mountpoint[4096];	/* "" when not mounted by dmstore */
	int64_t created;
	char meta[1024];	/* JSON, kind-specific (an image's source and counts) */
};

struct dms_catalog;

int dms_catalog_open(const char *path, struct dms_catalog **ret_cat);
void dms_catalog_close(struct dms_catalog *cat);

int dms_catalog_begin(struct dms_catalog *cat);
int dms_catalog_commit(struct dms_catalog *cat);
void dms_catalog_rollback(struct dms_catalog *cat);

int dms_catalog_get_txn(struct dms_catalog *cat, uint64_t *ret_txn);
int dms_catalog_set_txn(struct dms_catalog *cat, uint64_t txn);

/* The lowest thin id no row holds, at or above FROM. -ENOSPC when all 2^24 are taken. */
int dms_catalog_free_thin_id(struct dms_catalog *cat, uint32_t from, uint32_t *ret_id);

/* Insert ROW (its id is assigned); -EEXIST if a row of that kind and name exists. */
int dms_catalog_insert(struct dms_catalog *cat, struct dms_row *row);
int dms_catalog_update(struct dms_catalog *cat, const struct dms_row *row);
int dms_catalog_delete(struct dms_catalog *cat, int64_t id);

int dms_catalog_find(struct dms_catalog *cat, enum dms_kind kind, const char *name, struct dms_row *ret_row);
int dms_catalog_get(struct dms_catalog *cat, int64_t id, struct dms_row *ret_row);

/* Rows of KIND (all kinds if KIND < 0) in name order; ORIGIN_ID > 0 selects the snapshots of one row. */
int dms_catalog_list(struct dms_catalog *cat, int kind, int64_t origin_id, struct dms_row **ret_rows, size_t *ret_n);
/* Rows with an open intent, or in STATE (pass -1 for intents only). */
int dms_catalog_list_unfinished(struct dms_catalog *cat, struct dms_row **ret_rows, size_t *ret_n);
int dms_catalog_count_children(struct dms_catalog *cat, int64_t origin_id, unsigned *ret_n);

const char *dms_kind_name(enum dms_kind kind);

/*
 * Attachments (schema 2): a volume mounted at PATH inside a container's rootfs.
 * At most one per volume and container. While one exists, neither row can be
 * deleted (foreign keys: -EEXIST), so volume and container removal detach first.
 */
struct dms_attachment {
	int64_t id;
	int64_t volume_id;
	int64_t container_id;
	char path[4096];
	bool read_only;
	bool pending;				  /* recorded, its mount not known to be made yet */
	char volume[DMS_CATALOG_NAME_MAX + 1];	  /* joined in by find and list */
	char container[DMS_CATALOG_NAME_MAX + 1];
};

/* Its id is assigned; -EEXIST if that volume is attached to that container already (or a row is missing). */
int dms_catalog_attach_insert(struct dms_catalog *cat, struct dms_attachment *a);
int dms_catalog_attach_delete(struct dms_catalog *cat, int64_t id);
/* Its mount is made: no longer pending. */
int dms_catalog_attach_settle(struct dms_catalog *cat, int64_t id);
int dms_catalog_attach_find(struct dms_catalog *cat, int64_t volume_id, int64_t container_id,
			    struct dms_attachment *ret_a);
/* Those of one volume (VOLUME_ID > 0), of one container (CONTAINER_ID > 0), or all, in the order made. */
int dms_catalog_attach_list(struct dms_catalog *cat, int64_t volume_id, int64_t container_id,
			    struct dms_attachment **ret_list, size_t *ret_n);
/*
 * Before ORIGIN_ID's row goes: its snapshots point at themselves instead
 * (origin_id = id), which reads as "origin removed" and keeps them snapshots.
 */
int dms_catalog_orphan_snapshots(struct dms_catalog *cat, int64_t origin_id);

/*
 * Image configs (schema 3): the JSON kept for an image imported from an OCI or
 * docker source, deleted with its image's row.
 */
int dms_catalog_image_config_set(struct dms_catalog *cat, int64_t image_id, const char *json);
/* -ENOENT when the image has none; free *RET_JSON. */
int dms_catalog_image_config_get(struct dms_catalog *cat, int64_t image_id, char **ret_json);

/*
 * Container runs (schema 3): how a container is run (SPEC, JSON: the process,
 * volumes, runtime) and its last run: PID of the dmstore watching it while it
 * runs (0 when not running), its exit code once ended. Deleted with the row.
 */
struct dms_run_row {
	int64_t container_id;
	char *spec; /* owned; free() it after dms_catalog_run_get */
	int64_t pid;
	bool has_exit_code;
	int exit_code;
	int64_t started, finished;
};

/*
 * Layers (schema 4): containerd's snapshots, each on a device row of kind
 * DMS_KIND_LAYER. KEY is containerd's (any string); PARENT_ID another layer.
 * Times are unix nanoseconds. Strings are allocated: dms_layer_row_clear.
 */
struct dms_layer_row {
	int64_t id;
	int64_t device_id;
	char *key;
	int64_t parent_id;	/* 0: none */
	char *parent;		/* the parent's key, joined in by find and list; "" if none */
	int kind;		/* enum dms_layer_kind */
	char *labels;		/* a JSON object of strings */
	uint64_t used;		/* bytes mapped when committed */
	int64_t created, updated;
	int device_state;	/* enum dms_state of its device row, joined in */
};

void dms_layer_row_clear(struct dms_layer_row *l);
void dms_layer_rows_free(struct dms_layer_row *rows, size_t n);
/* Its id is assigned; -EEXIST if KEY is taken. */
int dms_catalog_layer_insert(struct dms_catalog *cat, struct dms_layer_row *l);
/* Writes key, kind, labels, used, created, updated; -EEXIST if the new key is taken. */
int dms_catalog_layer_update(struct dms_catalog *cat, const struct dms_layer_row *l);
/* *RET is zeroed when nothing is found (or on failure): dms_layer_row_clear is always safe. */
int dms_catalog_layer_find(struct dms_catalog *cat, const char *key, struct dms_layer_row *ret);
int dms_catalog_layer_get(struct dms_catalog *cat, int64_t id, struct dms_layer_row *ret);
/* Every layer, in key order. */
int dms_catalog_layer_list(struct dms_catalog *cat, struct dms_layer_row **ret_rows, size_t *ret_n);
int dms_catalog_layer_count_children(struct dms_catalog *cat, int64_t id, unsigned *ret_n);

int dms_catalog_run_set(struct dms_catalog *cat, const struct dms_run_row *run);
int dms_catalog_run_get(struct dms_catalog *cat, int64_t container_id, struct dms_run_row *ret_run);

#endif
