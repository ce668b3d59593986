/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMSTORE_H
#define DMSTORE_H

/*
 * libdmstore: block-level container storage on device-mapper thin provisioning.
 *
 * Every call that can fail returns 0 or a negative errno. On failure the
 * context holds one line that names the object and the cause, for a human:
 * dms_ctx_error(). The library never prints and never exits.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DMS_EXPORT __attribute__((visibility("default")))

struct dms_ctx;

/*
 * State lives under DMSTORE_STATE_DIR (default /var/lib/dmstore), locks under
 * DMSTORE_RUN_DIR (default /run/dmstore).
 */
DMS_EXPORT int dms_ctx_new(struct dms_ctx **ret_ctx);
DMS_EXPORT void dms_ctx_free(struct dms_ctx *ctx);
DMS_EXPORT const char *dms_ctx_error(const struct dms_ctx *ctx);
DMS_EXPORT const char *dms_ctx_state_dir(const struct dms_ctx *ctx);

/* Object names: [A-Za-z0-9][A-Za-z0-9_.-]{0,63}; pool names at most 32 characters, so dm names fit. */
#define DMS_NAME_MAX 64
#define DMS_POOL_NAME_MAX 32
DMS_EXPORT bool dms_name_valid(const char *name);
DMS_EXPORT bool dms_pool_name_valid(const char *name);

#define DMS_BLOCK_SIZE_DEFAULT (64U * 1024U)
#define DMS_BLOCK_SIZE_MIN (64U * 1024U)
#define DMS_BLOCK_SIZE_MAX (1024U * 1024U * 1024U)

struct dms_pool_create_opts {
	/* Dedicated block devices ... */
	const char *data_dev;
	const char *metadata_dev;
	/* ... or sparse files under the state dir, attached as loop devices. */
	bool loop;
	uint64_t data_size;	/* loop only; 0: dmstore picks */
	uint64_t metadata_size; /* loop only; 0: dmstore picks */
	uint32_t block_size;	/* bytes; 0: DMS_BLOCK_SIZE_DEFAULT */
	bool no_zero;		/* do not zero newly provisioned blocks */
	bool force;		/* take devices that carry a signature or are open elsewhere */
};

struct dms_pool_status {
	char name[DMS_POOL_NAME_MAX + 1];
	bool active;
	bool loop;
	bool zero;
	uint32_t block_size;
	uint64_t data_total;	 /* bytes */
	uint64_t data_used;
	uint64_t metadata_total; /* bytes */
	uint64_t metadata_used;
	uint64_t transaction_id;
	const char *mode;	 /* "rw", "ro", "out_of_data_space", "fail", or "inactive" */
	const char *discards;	 /* "passdown", "nopassdown", "ignore" */
	const char *no_space;	 /* "error" or "queue" */
	bool needs_check;
	long device_count;	 /* thin devices in the pool's metadata; -1 when unknown */
	char dm_name[128];
	char data_path[4096];	 /* the device, or the sparse file */
	char metadata_path[4096];
	char data_dev[64];	 /* the block device under the pool now ("/dev/loop3"), "" if inactive */
	char metadata_dev[64];
};

DMS_EXPORT int dms_pool_create(struct dms_ctx *ctx, const char *name, const struct dms_pool_create_opts *opts,
			       struct dms_pool_status *ret_status);
DMS_EXPORT int dms_pool_activate(struct dms_ctx *ctx, const char *name);
DMS_EXPORT int dms_pool_deactivate(struct dms_ctx *ctx, const char *name);
DMS_EXPORT int dms_pool_remove(struct dms_ctx *ctx, const char *name, bool force);
DMS_EXPORT int dms_pool_status(struct dms_ctx *ctx, const char *name, struct dms_pool_status *ret_status);
/* Names of the pools with a configuration under the state dir, sorted; free with dms_strv_free. */
DMS_EXPORT int dms_pool_list(struct dms_ctx *ctx, char ***ret_names, size_t *ret_n);
DMS_EXPORT void dms_strv_free(char **strv, size_t n);

/*
 * An open pool, for the objects in it. NAME NULL opens the only pool there is.
 * Reads need no lock; every change takes the pool lock, runs recovery first,
 * and refuses if the pool is not active.
 */
struct dms_pool;
DMS_EXPORT int dms_pool_open(struct dms_ctx *ctx, const char *name, struct dms_pool **ret_pool);
DMS_EXPORT void dms_pool_close(struct dms_pool *pool);
DMS_EXPORT const char *dms_pool_name(const struct dms_pool *pool);
/*
 * Finish or undo what a crashed dmstore left, as every change does first:
 * resume the volumes it left suspended, then roll its changes forward or back.
 * Counts the changes; the names of the volumes resumed go in RET_RESUMED (free
 * with dms_strv_free), which may be NULL.
 */
DMS_EXPORT int dms_pool_recover(struct dms_pool *pool, unsigned *ret_rolled_forward, unsigned *ret_rolled_back,
				char ***ret_resumed, size_t *ret_n_resumed);

#define DMS_IMAGE_SIZE_DEFAULT (10ULL << 30)

struct dms_image_info {
	char name[DMS_NAME_MAX + 1];
	uint32_t thin_id;
	uint64_t size;		/* virtual bytes */
	int64_t created;	/* unix seconds */
	unsigned containers;	/* snapshots of it */
	char source[1024];	/* what it was imported from; "" for an empty image */
	uint64_t entries;	/* files, dirs, links imported */
	uint64_t bytes;		/* file bytes imported */
	bool ready;		/* false while an import runs */
};

DMS_EXPORT int dms_image_create(struct dms_pool *pool, const char *name, uint64_t size);
/* SOURCE: a rootfs tarball (any compression libarchive reads) or a directory. SIZE 0: the default. */
DMS_EXPORT int dms_image_import(struct dms_pool *pool, const char *name, const char *source, uint64_t size);
DMS_EXPORT int dms_image_inspect(struct dms_pool *pool, const char *name, struct dms_image_info *ret_info);
DMS_EXPORT int dms_image_list(struct dms_pool *pool, struct dms_image_info **ret_images, size_t *ret_n);
/* Refused while containers use it, unless FORCE, which removes them first. */
DMS_EXPORT int dms_image_remove(struct dms_pool *pool, const char *name, bool force);

struct dms_snap_info {
	char name[DMS_NAME_MAX + 1];
	char image[DMS_NAME_MAX + 1];
	uint32_t thin_id;
	uint64_t size;		/* virtual bytes */
	uint64_t used;		/* bytes the device maps (shared with the image or its own); 0 if inactive */
	bool active;
	char device[4096];	/* /dev/mapper/... */
	char mountpoint[4096];	/* "" if not mounted by dmstore */
	int64_t created;
};

/* A thin snapshot of IMAGE's base, activated. SIZE 0: the image's size; larger grows the filesystem. */
DMS_EXPORT int dms_snap_create(struct dms_pool *pool, const char *name, const char *image, uint64_t size);
/* Mount at DIR, or at <state dir>/<pool>/mnt/<name> when DIR is NULL; the directory used goes in RET_DIR. */
DMS_EXPORT int dms_snap_mount(struct dms_pool *pool, const char *name, const char *dir, char *ret_dir, size_t len);
DMS_EXPORT int dms_snap_umount(struct dms_pool *pool, const char *name);
/* Unmount, deactivate, delete: the writable layer is gone and its blocks go back to the pool. */
DMS_EXPORT int dms_snap_remove(struct dms_pool *pool, const char *name);
DMS_EXPORT int dms_snap_inspect(struct dms_pool *pool, const char *name, struct dms_snap_info *ret_info);
DMS_EXPORT int dms_snap_list(struct dms_pool *pool, struct dms_snap_info **ret_snaps, size_t *ret_n);

struct dms_vol_attachment {
	char container[DMS_NAME_MAX + 1];
	char path[4096];	/* inside the container's rootfs */
	bool read_only;
};

struct dms_vol_info {
	char name[DMS_NAME_MAX + 1];
	char label[17];
	bool raw;			/* no filesystem: made by dms_vol_create_raw, or a snapshot of such a volume */
	char origin[DMS_NAME_MAX + 1];	/* the volume this one is a snapshot of; "" if none */
	uint32_t thin_id;
	uint64_t size;			/* virtual bytes */
	uint64_t used;			/* bytes the device maps; 0 if inactive */
	bool active;
	char device[4096];
	char mountpoint[4096];		/* host mount (vol mount), "" if none */
	size_t n_attachments;
	struct dms_vol_attachment attachments[16];
	int64_t created;
};

/* A standalone thin device of SIZE with ext4 (LABEL may be NULL), activated. */
DMS_EXPORT int dms_vol_create(struct dms_pool *pool, const char *name, uint64_t size, const char *label);
/*
 * A standalone thin device of SIZE with no filesystem, activated: a raw block
 * volume, the caller's to fill. It cannot be mounted or attached; a grow grows the device.
 */
DMS_EXPORT int dms_vol_create_raw(struct dms_pool *pool, const char *name, uint64_t size);
DMS_EXPORT int dms_vol_inspect(struct dms_pool *pool, const char *name, struct dms_vol_info *ret_info);
DMS_EXPORT int dms_vol_list(struct dms_pool *pool, struct dms_vol_info **ret_vols, size_t *ret_n);
/* Mount NAME at PATH inside container CONTAINER's mounted rootfs, resolved in that root only. */
DMS_EXPORT int dms_vol_attach(struct dms_pool *pool, const char *name, const char *container, const char *path,
			      bool read_only);
DMS_EXPORT int dms_vol_detach(struct dms_pool *pool, const char *name, const char *container);
DMS_EXPORT int dms_vol_mount(struct dms_pool *pool, const char *name, const char *dir);
DMS_EXPORT int dms_vol_umount(struct dms_pool *pool, const char *name);
/* Refused while attached or mounted (naming who holds it) unless FORCE, which detaches first. */
DMS_EXPORT int dms_vol_remove(struct dms_pool *pool, const char *name, bool force);
/* A point-in-time copy of NAME, itself a volume named SNAP. */
DMS_EXPORT int dms_vol_snapshot(struct dms_pool *pool, const char *name, const char *snap);
/* Grow to SIZE: a bigger thin table, then ext4 grown online or offline; shrinking is refused. */
DMS_EXPORT int dms_vol_grow(struct dms_pool *pool, const char *name, uint64_t size);

/* Sizes: "100G", "64K", "512M", "1T", "4096" (bytes); binary units. -EINVAL, -ERANGE. */
DMS_EXPORT int dms_size_parse(const char *text, uint64_t *ret_bytes);
/* "1.5 GiB"; BUF of at least 16 bytes. */
DMS_EXPORT const char *dms_size_format(uint64_t bytes, char *buf, size_t len);

#endif
