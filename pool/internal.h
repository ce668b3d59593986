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
	long lock_wait_ms; /* how long a change waits for the pool lock; DMS_LOCK_WAIT_FOREVER */
	dms_lock_wait_fn *lock_wait_notify;
	void *lock_wait_userdata;
	unsigned min_free_percent;	/* the space floor; DMS_MIN_FREE_DEFAULT */
	char *mount_options;		/* ext4 options for host mounts; NULL: none */
};

/*
 * Record the one-line reason for the failure R, and its kind, and return R,
 * so a failure reads `return dms_fail(ctx, r, ...)`. dms_fail takes the kind
 * from R: -EEXIST, -EBUSY and -ENOTEMPTY say the object exists or is in use,
 * anything else is DMS_ERROR_FAILED. Never -ENOENT as "not found": a file,
 * device or program missing down below is not the object the caller named;
 * the catalogue says that, with dms_fail_missing. Input the library refuses
 * before doing anything is dms_fail_invalid, whatever R is.
 */
int dms_fail(struct dms_ctx *ctx, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int dms_fail_kind(struct dms_ctx *ctx, enum dms_error_kind kind, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
#define dms_fail_invalid(ctx, r, ...) dms_fail_kind(ctx, DMS_ERROR_INVALID, r, __VA_ARGS__)
#define dms_fail_missing(ctx, r, ...) dms_fail_kind(ctx, DMS_ERROR_NOT_FOUND, r, __VA_ARGS__)
/*
 * A path the caller gave (a device, a source, a mount point) that does not
 * lead to anything usable (-ENOENT, -ENOTDIR, -ELOOP, -ENAMETOOLONG, -ENOTBLK)
 * is invalid input; anything else is as dms_fail.
 */
int dms_fail_path(struct dms_ctx *ctx, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * versioned.c. Options OPTS the caller passed, read into RET, the library's
 * own struct of SIZE bytes, by the size rules of include/dmstore.h: fields
 * the caller's SIZE leaves out are zero; FIRST_SIZE is the first version's
 * (up to the end of its last field). Reported, naming OBJECT 'NAME'.
 */
#define dms_offsetofend(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))
int dms_opts_read(struct dms_ctx *ctx, const char *object, const char *name, const void *opts, size_t first_size,
		  void *ret, size_t size);
/* *DST an allocated copy of SRC, "" for NULL: the strings of a struct handed out. 0 or -ENOMEM. */
int dms_str_set(char **dst, const char *src);

/* What persists of a pool under <state dir>/<name>/pool.json. */
struct dms_pool_config {
	char name[DMS_POOL_NAME_MAX + 1];
	bool loop;		/* dmstore made (and owns) the backing files */
	char data_path[PATH_MAX];	/* as the user gave it (/dev/disk/by-id/...), never resolved */
	char metadata_path[PATH_MAX];
	uint64_t data_size;	/* bytes the pool maps, a multiple of block_size */
	uint64_t data_size_min;	/* before its first grow; 0: never grown (pool/grow.c) */
	uint64_t metadata_size;
	uint32_t block_size;
	bool zero;
	int64_t created;	/* unix seconds */
	/* Dedicated devices: the pool's identity, in the data device's label at LABEL_OFFSET; "" from 0.1.0. */
	char uuid[37];
	uint64_t label_offset;
};

int dms_pool_dir(const struct dms_ctx *ctx, const char *name, char *buf, size_t len);
int dms_pool_config_read(const struct dms_ctx *ctx, const char *name, struct dms_pool_config *ret_cfg);
int dms_pool_config_load(struct dms_ctx *ctx, const char *name, struct dms_pool_config *ret_cfg);
int dms_pool_config_write(const struct dms_ctx *ctx, const struct dms_pool_config *cfg);

/*
 * lock.c: the pool lock. Every mutation of a pool holds it; reads do not.
 * dms_pool_lock waits as the context says (dms_ctx_set_lock_wait), giving the
 * notice and, past the limit, failing with -EBUSY and a message naming the
 * holder; dms_pool_lock_wait waits TIMEOUT_MS instead. Both report their
 * failure (dms_fail). *RET_CLEAN: the last holder let go cleanly; false if
 * it may have died holding the lock, leaving what a change mends first
 * (pool/open.c). RET_CLEAN NULL: the caller mends nothing, and its release
 * (a close) leaves its note, so the next change mends.
 */
int dms_pool_lock(struct dms_ctx *ctx, const char *name, int *ret_fd, bool *ret_clean);
int dms_pool_lock_wait(struct dms_ctx *ctx, const char *name, long timeout_ms, int *ret_fd, bool *ret_clean);
/* -EBUSY at once if a change holds it; reports nothing. A reader's: leaves the note as it is. */
int dms_pool_trylock(const struct dms_ctx *ctx, const char *name, int *ret_fd);
/*
 * Let go of FD. CLEAN: nothing a dead holder left is unmended and this holder
 * left nothing either, so its note goes; else the note stays for the next.
 */
void dms_pool_unlock(int fd, bool clean);

/*
 * lock.c: the import lock of IMAGE, held by its importer from before its row
 * exists until it is final; taken and released under the pool lock. Held:
 * 1 (and who holds it in *RET_HOLDER, which may be NULL; dms_lock_holder_clear
 * it), 0 if not (no import, or a dead one's lock left behind), or a negative errno. any_held names the
 * first image of POOL being imported in RET_IMAGE. Release with FD -1 removes
 * a lock a dead importer left.
 */
int dms_import_lock_take(struct dms_pool *pool, const char *image, int *ret_fd);
void dms_import_lock_release(struct dms_pool *pool, const char *image, int fd);
int dms_import_lock_held(const struct dms_ctx *ctx, const char *pool, const char *image,
			 struct dms_lock_holder *ret_holder);
int dms_import_lock_any_held(const struct dms_ctx *ctx, const char *pool, char *ret_image, size_t len,
			     struct dms_lock_holder *ret_holder);

/*
 * lock-holder.c: the note a lock's holder leaves in the lock file (write:
 * 0 or a negative errno; *RET_LEFT, unless NULL, whether a note was there
 * before), and who holds the lock on FD (read, 0 or -ENOMEM): the note, checked
 * against the kernel's /proc/locks; clear frees what read and parse
 * allocated. The parse functions read a note, and a line of /proc/locks.
 */
int dms_lock_holder_write(int fd, bool *ret_left);
int dms_lock_holder_read(int fd, struct dms_lock_holder *ret);
void dms_lock_holder_clear(struct dms_lock_holder *h);
int dms_lock_holder_parse(const char *note, struct dms_lock_holder *ret);
int dms_proc_locks_parse(const char *line, unsigned *ret_major, unsigned *ret_minor, uint64_t *ret_ino, int *ret_pid);

/*
 * dm names and UUIDs: dmstore-<pool>-<kind>[-<name>], DMSTORE-<pool>-<kind>[-<id>].
 * In a name, '-' inside POOL and NAME is doubled; ID ends a NAME cut to fit.
 */
int dms_dm_name(const char *pool, const char *kind, const char *name, int64_t id, char *buf, size_t len);
int dms_pool_dm_name(const char *pool, char *buf, size_t len);
int dms_pool_dm_uuid(const char *pool, char *buf, size_t len);
int dms_pool_uuid_prefix(const char *pool, char *buf, size_t len);
bool dms_uuid_is_thin_of(const char *uuid, const char *pool);

/* The least metadata a pool of DATA_SIZE bytes in BLOCK_SIZE blocks may have. */
uint64_t dms_pool_metadata_min(uint64_t data_size, uint32_t block_size);

/*
 * table.c: the pool's dm device, found by its UUID (DMSTORE-<pool>-pool)
 * whatever its name; and the name it would take, refused (reported, naming
 * its holder) while another device holds it.
 */
struct dms_dm_info;
int dms_pool_dm_find(const char *pool, struct dms_dm_info *ret_info);
int dms_pool_dm_name_free(struct dms_ctx *ctx, const char *pool);

/*
 * identity.c: that dedicated devices are this pool's, whatever their paths
 * name today. A new pool gets a uuid, and the data it maps stops before the
 * label's place on its data device of DATA_DEV_SIZE bytes.
 */
void dms_pool_identity_new(struct dms_pool_config *cfg, uint64_t data_dev_size);
int dms_pool_label_write(const struct dms_pool_config *cfg, int data_fd);
/* 1, with its name, if the device of SIZE bytes carries the label of a pool that exists. */
int dms_pool_label_owner(struct dms_ctx *ctx, int fd, uint64_t size, char *ret_pool, size_t len);
/* 0 if both are; else -EMEDIUMTYPE (or the I/O error) and WHY, naming the device, its path now, and the reason. */
int dms_pool_devices_verify(const struct dms_ctx *ctx, const struct dms_pool_config *cfg, int data_fd,
			    int metadata_fd, char *why, size_t len);

struct dms_thin_pool_status;
/* status.c: -EIO (failed) or -EROFS (read-only) if the kernel takes no change of POOL; WHY says what to run. */
int dms_pool_kernel_refuses(const char *pool, const struct dms_thin_pool_status *st, char *why, size_t len);

/* Bring up / take down the kernel side of a configured pool. */
int dms_pool_table_load(struct dms_ctx *ctx, const struct dms_pool_config *cfg, bool check);
/* A live pool's table again, DATA_SIZE bytes long with PARAMS, suspended and resumed; reports nothing. */
int dms_pool_table_reload(const char *dm_name, uint64_t data_size, const char *params);
int dms_pool_thin_ids(struct dms_ctx *ctx, const struct dms_pool_config *cfg, uint32_t **ret_ids, size_t *ret_n);
/* thin_check, changing nothing: LIVE, on the metadata snapshot the caller reserved. -EUCLEAN: damaged. */
int dms_pool_metadata_check(struct dms_ctx *ctx, const struct dms_pool_config *cfg, bool live);

/* An open pool: its configuration, its catalogue, and the lock while a change runs. */
struct dms_pool {
	struct dms_ctx *ctx;
	struct dms_pool_config cfg;
	struct dms_catalog *cat;
	char dm_name[128];
	int lock_fd;
	/* Nothing a dead holder of the lock left is waiting to be mended: its release empties the note. */
	bool lock_clean;
};

/*
 * Kill the process here if DMSTORE_CRASH_AT names OP:STEP, so tests can crash
 * every step; stop it (SIGSTOP) if DMSTORE_STOP_AT does, so a test can act
 * while it stands there, then let it go on (SIGCONT). Only test builds
 * (DMS_TEST_HOOKS) have it: a library a daemon links must not die because of
 * a variable in its environment.
 */
#ifdef DMS_TEST_HOOKS
void dms_crash_point(const char *op, const char *step);
/* STEP-N: "entry-12" */
void dms_crash_point_n(const char *op, const char *step, uint64_t n);
#else
static inline void dms_crash_point(const char *op, const char *step)
{
}
static inline void dms_crash_point_n(const char *op, const char *step, uint64_t n)
{
}
#endif

/*
 * open.c: every change of a pool runs between these: the lock is taken, the
 * pool must be active, recovery runs, and the kernel's and the catalogue's
 * transaction ids must agree. *RET_TXN is that id, T. A caller that took the
 * lock itself hands it over in lock_fd, and lock_clean as dms_pool_lock said
 * (false: recovery looks for all a dead holder may have left). R is the
 * change's result: a change that failed, whatever the kind, may have left what
 * a dead one leaves, so the next change looks for it too.
 */
int dms_change_begin(struct dms_pool *pool, uint64_t *ret_txn);
void dms_change_end(struct dms_pool *pool, int r);

/* txn.c: the kernel transaction, and the crash-safe create and delete of one thin device. */
int dms_pool_kernel_txn(struct dms_pool *pool, uint64_t *ret_txn);
int dms_device_create(struct dms_pool *pool, struct dms_row *row, uint32_t origin_thin_id, uint64_t txn,
		      const char *op, enum dms_state final_state);
/*
 * The same, with WITH_INTENT called inside the intent's catalogue transaction,
 * ROW's id assigned: rows that belong to the device (a layer's) are then made
 * and undone with it. Its failure (a negative errno) makes nothing.
 */
typedef int dms_intent_fn(struct dms_pool *pool, const struct dms_row *row, void *arg);
int dms_device_create_with(struct dms_pool *pool, struct dms_row *row, uint32_t origin_thin_id, uint64_t txn,
			   const char *op, enum dms_state final_state, dms_intent_fn *with_intent, void *arg);
int dms_device_delete(struct dms_pool *pool, struct dms_row *row, uint64_t txn, const char *op);
/* For recovery: delete THIN_ID (absent is fine); finish ROW's intent at NEW_TXN; drop ROW's intent. */
int dms_txn_kernel_delete(struct dms_pool *pool, uint32_t thin_id);
int dms_txn_finish(struct dms_pool *pool, struct dms_row *row, uint64_t new_txn, enum dms_state final_state,
		   bool remove);
int dms_txn_drop_intent(struct dms_pool *pool, const struct dms_row *row);
/* Delete IDS, thin ids no row owns, one transaction each; reports the first failure, naming its id. */
int dms_orphans_delete(struct dms_pool *pool, const uint32_t *ids, size_t n);

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
/*
 * Activate every device the catalogue says is active and the kernel lacks
 * (pool activate's restore, and what each change does first). Best effort:
 * fails only when the catalogue cannot be read.
 */
int dms_activate_recorded(struct dms_pool *pool);
/* Release the metadata snapshot a dead dmstore left held; the caller holds the pool lock. */
int dms_pool_release_dead_snap(const char *dm_name, bool *ret_released);

/* check.c: the thin ids in the pool's metadata that no catalogue row owns, sorted; the lock is held. */
int dms_pool_orphans(struct dms_pool *pool, uint32_t **ret_ids, size_t *ret_n);

/*
 * mounted.c: the mounts the catalogue records, checked against the kernel's.
 * dms_mount_root: ROW's filesystem at its recorded mount point as an O_PATH
 * fd, or -ENOTCONN when it is not mounted there (any more).
 */
int dms_mount_root(struct dms_pool *pool, const struct dms_row *row, int *ret_fd);
int dms_mount_alive(struct dms_pool *pool, const struct dms_row *row, bool *ret_alive);
int dms_attachment_alive(struct dms_pool *pool, const struct dms_attachment *a, bool *ret_alive);

/*
 * thin-dev.c: activation of one thin device, found by its UUID, never by its
 * name. _name is the kernel's name while active, else the one activation
 * gives it (to show); _path is the active device's, else -ENXIO (to use).
 */
int dms_thin_dev_find(const struct dms_pool *pool, const struct dms_row *row, struct dms_dm_info *ret_info);
int dms_thin_dev_name(const struct dms_pool *pool, const struct dms_row *row, char *buf, size_t len);
int dms_thin_dev_path(const struct dms_pool *pool, const struct dms_row *row, char *buf, size_t len);
/* Reports its own failures (dms_fail): a name taken by another's device is refused, naming it. */
int dms_thin_dev_activate(struct dms_pool *pool, const struct dms_row *row);
int dms_thin_dev_deactivate(struct dms_pool *pool, const struct dms_row *row);
int dms_thin_dev_is_active(const struct dms_pool *pool, const struct dms_row *row, bool *ret_active);
/* Bytes the device maps now; -ENXIO if it is not active. */
int dms_thin_dev_used(const struct dms_pool *pool, const struct dms_row *row, uint64_t *ret_bytes);

/*
 * image.c, under the pool lock: -EBUSY, reported, for a change ROW's import
 * has not finished for; and for a change of the whole pool (deactivate,
 * remove) while any import runs, which would pull its device from under it
 * (0 if none runs).
 */
int dms_image_refuse_importing(struct dms_pool *pool, const struct dms_row *row);
int dms_image_refuse_pool_change(struct dms_ctx *ctx, const char *pool);

/*
 * image-oci.c: an image from a container image source (oci:, oci-archive:,
 * docker-archive:). Open resolves (and spools an archive) and reports with
 * dms_fail; apply writes the layers into ROOTFD (ERRBUF as fs/layer.h); the
 * config JSON is what the catalogue keeps (free it); close removes the spool.
 */
struct dms_unpack_stats;
struct dms_oci_import;
bool dms_image_source_is_image(const char *source);
int dms_oci_open(struct dms_pool *pool, const char *name, const char *source, const char *platform,
		 struct dms_oci_import **ret);
int dms_oci_apply(struct dms_oci_import *imp, int rootfd, const struct dms_import_opts *opts,
		  struct dms_unpack_stats *st, char *errbuf, size_t errlen);
int dms_oci_config_json(const struct dms_oci_import *imp, char **ret);
void dms_oci_close(struct dms_oci_import *imp);

/*
 * remove-held.c: devices held by others (fs/holders.h). _refuse_held fails
 * -EBUSY, reported, naming the holder; _held says whether there is one.
 * dms_remove_deferred: ROW goes 'removing' (dms_row_removing) and its device
 * when the holder lets go; if it is gone already, the thin id goes at once
 * (*TXN moves past it) and *RET_DEFERRED is false. dms_finish_removals deletes
 * the thin ids of 'removing' rows whose device is gone. The lock is held.
 * dms_removal_describe: for pool check, in BUF, what a 'removing' row waits for
 * (who holds its device) or what the next change does with it.
 */
int dms_thin_dev_refuse_held(struct dms_pool *pool, const struct dms_row *row);
int dms_thin_dev_held(struct dms_pool *pool, const struct dms_row *row, bool *ret_held);
int dms_remove_deferred(struct dms_pool *pool, struct dms_row *row, uint64_t *txn, const char *op,
			bool *ret_deferred);
bool dms_row_removing(const struct dms_row *row);
int dms_removal_describe(struct dms_pool *pool, const struct dms_row *row, char *buf, size_t len);
int dms_finish_removals(struct dms_pool *pool, unsigned *ret_finished);

/* snap.c: remove a container while the lock is held; *TXN moves past the delete. */
int dms_snap_remove_locked(struct dms_pool *pool, struct dms_row *row, uint64_t *txn);

/*
 * layer-labels.c: a layer's labels, a JSON object of strings (-EINVAL if not),
 * in the catalogue's form; and NEW applied to OLD along containerd's field
 * paths ("labels", "labels.K"; none: all of NEW), -EPROTO for any other.
 */
int dms_layer_labels_normalize(const char *text, char **ret);
int dms_layer_labels_merge(const char *old, const char *new, const char *const *fields, size_t n_fields,
			   char **ret);

/* space.c: refuse a create below the free-space floor, or a size over DMS_SIZE_MAX (WHAT 'NAME': "volume"). */
int dms_space_check(struct dms_pool *pool, const char *what);
int dms_size_check(struct dms_ctx *ctx, const char *what, const char *name, uint64_t size);

/* volume.c, volume-attach.c, volume-snap.c: what volumes share, and what containers need of them. The lock is held. */
int dms_vol_find(struct dms_pool *pool, const char *name, struct dms_row *ret_row);
int dms_vol_name_free(struct dms_pool *pool, const char *name);
/* Made by dms_vol_create_raw: no filesystem, so nothing to mount, attach or grow but the device. */
bool dms_vol_is_raw(const struct dms_row *row);
/* What the catalogue says of volume ROW, every attachment: its info but the device's state (device ""). */
int dms_vol_info_catalogued(struct dms_pool *pool, const struct dms_row *row, struct dms_vol_info **ret_info);
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
/* The catalogue's record of VOL's attachments, dropped (their mounts are the caller's business). */
int dms_vol_forget_attachments(struct dms_pool *pool, const struct dms_row *vol);
/* Recovery: attachments a dead dmstore left pending, marked done or forgotten; each counted in *RET_FORWARD or *RET_BACK. */
int dms_vol_settle_attachments(struct dms_pool *pool, unsigned *ret_forward, unsigned *ret_back);
/* -EBUSY, naming the first, if volumes are attached to CTR: its rootfs cannot be unmounted under them. */
int dms_vol_check_unattached(struct dms_pool *pool, const struct dms_row *ctr);

/*
 * volume-hold.c: ROW's holders now (the lock need not be held), sorted; free
 * with dms_strv_free. Where a volume's holders are mounted: HOLDER's
 * directory, or with HOLDER NULL the volume's directory of them. Once a
 * volume is gone, the empty directories of holders whose mounts a crash or a
 * reboot took (rmdir, which leaves anything mounted alone).
 */
int dms_vol_held(struct dms_pool *pool, const struct dms_row *row, char ***ret_holders, size_t *ret_n);
int dms_vol_holders_dir(const struct dms_pool *pool, const char *name, const char *holder, char *buf, size_t len);
void dms_vol_holders_forget(struct dms_pool *pool, const char *name);
#endif
