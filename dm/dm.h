/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMS_DM_H
#define DMS_DM_H

/*
 * dm/: the only code that talks to device-mapper. It knows tables, targets,
 * messages and status lines; it knows nothing of pools, images or containers.
 *
 * Every function returns 0 or a negative errno taken from the kernel's answer
 * (dm_task_get_errno), never from libdevmapper's log text. -ENXIO means the
 * named device does not exist. Nothing here prints.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DMS_DM_NAME_MAX 127 /* DM_NAME_LEN less the NUL */
#define DMS_DM_UUID_MAX 128 /* DM_UUID_LEN less the NUL */

struct dms_dm_target {
	uint64_t start;  /* sectors */
	uint64_t length; /* sectors */
	const char *type;
	const char *params;
};

struct dms_dm_info {
	bool exists;
	char name[DMS_DM_NAME_MAX + 1]; /* the kernel's: "" when it does not exist */
	char uuid[DMS_DM_UUID_MAX + 1]; /* "" when it has none */
	bool suspended;
	bool read_only;
	bool live_table;
	int open_count;
	unsigned major;
	unsigned minor;
	uint32_t event_nr; /* how many events the device has raised (a target's dm_table_event) */
};

struct dms_dm_device {
	char *name;
	char *uuid;
	unsigned major;
	unsigned minor;
};

enum dms_dm_remove_flags {
	DMS_DM_REMOVE_RETRY = 1 << 0,	 /* retry while something briefly holds it open */
	DMS_DM_REMOVE_DEFERRED = 1 << 1, /* remove when the last opener closes */
};

/* task.c */
/* Silence libdevmapper's own logging, process-wide (DMSTORE_DEBUG=1 lets it through); idempotent. */
void dms_dm_quiet(void);
int dms_dm_create(const char *name, const char *uuid, const struct dms_dm_target *table, size_t n_targets,
		  bool read_only);
int dms_dm_reload(const char *name, const struct dms_dm_target *table, size_t n_targets);
int dms_dm_suspend(const char *name, bool flush);
int dms_dm_resume(const char *name);
int dms_dm_remove(const char *name, unsigned flags);
int dms_dm_info(const char *name, struct dms_dm_info *ret_info);
/* The device that carries UUID, whatever its name; .exists false when none does. */
int dms_dm_info_by_uuid(const char *uuid, struct dms_dm_info *ret_info);
int dms_dm_message(const char *name, const char *message);
/*
 * Block until NAME raises an event after the EVENT_NR-th (DM_DEV_WAIT: the
 * kernel wakes the waiter; no polling). -EINTR when a signal came first,
 * -ENXIO when the device went away.
 */
int dms_dm_wait_event(const char *name, uint32_t event_nr);
int dms_dm_status(const char *name, char **ret_type, char **ret_params);
int dms_dm_table(const char *name, char **ret_type, char **ret_params);
int dms_dm_list(const char *uuid_prefix, struct dms_dm_device **ret_devices, size_t *ret_n);
void dms_dm_devices_free(struct dms_dm_device *devices, size_t n);
int dms_dm_target_version(const char *target, unsigned ret_version[3]);
int dms_dm_available(void);
/* The /dev/mapper path of NAME; fails with -ENAMETOOLONG past PATH_MAX. */
int dms_dm_path(const char *name, char *buf, size_t len);

/* thin.c — the thin-pool and thin targets: tables, messages, status */
enum dms_thin_pool_flags {
	DMS_THIN_POOL_NO_ZERO = 1 << 0,	      /* skip_block_zeroing */
	DMS_THIN_POOL_ERROR_IF_NO_SPACE = 1 << 1, /* fail writes instead of queueing them */
	DMS_THIN_POOL_READ_ONLY = 1 << 2,
};

#define DMS_THIN_BLOCK_MIN_SECTORS 128U	      /* 64 KiB */
#define DMS_THIN_BLOCK_MAX_SECTORS 2097152U   /* 1 GiB */
#define DMS_THIN_METADATA_BLOCK 4096U
#define DMS_THIN_METADATA_MAX (16ULL << 30)   /* the kernel ignores what lies past this */
#define DMS_THIN_DEV_ID_MAX ((1U << 24) - 1)

int dms_thin_pool_params(char *buf, size_t len, unsigned meta_major, unsigned meta_minor, unsigned data_major,
			 unsigned data_minor, uint32_t block_sectors, uint64_t low_water_blocks, unsigned flags);
int dms_thin_params(char *buf, size_t len, unsigned pool_major, unsigned pool_minor, uint32_t dev_id);

int dms_thin_msg_create_thin(char *buf, size_t len, uint32_t dev_id);
int dms_thin_msg_create_snap(char *buf, size_t len, uint32_t dev_id, uint32_t origin_id);
int dms_thin_msg_delete(char *buf, size_t len, uint32_t dev_id);
int dms_thin_msg_set_transaction_id(char *buf, size_t len, uint64_t old_id, uint64_t new_id);

enum dms_thin_pool_mode {
	DMS_THIN_POOL_RW,
	DMS_THIN_POOL_RO,
	DMS_THIN_POOL_OUT_OF_DATA_SPACE,
	DMS_THIN_POOL_FAIL,
};

enum dms_thin_discards {
	DMS_THIN_DISCARDS_PASSDOWN,
	DMS_THIN_DISCARDS_NO_PASSDOWN,
	DMS_THIN_DISCARDS_IGNORE,
};

struct dms_thin_pool_status {
	uint64_t transaction_id;
	uint64_t used_metadata_blocks;	/* of DMS_THIN_METADATA_BLOCK bytes */
	uint64_t total_metadata_blocks;
	uint64_t used_data_blocks;	/* of the pool's block size */
	uint64_t total_data_blocks;
	uint64_t held_metadata_root;	/* 0: no metadata snapshot held */
	enum dms_thin_pool_mode mode;
	enum dms_thin_discards discards;
	bool error_if_no_space;
	bool needs_check;
};

struct dms_thin_status {
	uint64_t mapped_sectors;
	uint64_t highest_mapped_sector;
	bool fail;
};

int dms_thin_pool_parse_status(const char *params, struct dms_thin_pool_status *ret_status);
int dms_thin_parse_status(const char *params, struct dms_thin_status *ret_status);
int dms_thin_pool_status(const char *name, struct dms_thin_pool_status *ret_status);
int dms_thin_status(const char *name, struct dms_thin_status *ret_status);

/* thin-metadata.c — the thin-provisioning-tools, for what the kernel does not tell */
int dms_thin_pool_reserve_snap(const char *pool_name);
int dms_thin_pool_release_snap(const char *pool_name);
enum dms_thin_check_flags {
	/* Check the metadata snapshot a live pool holds (the caller reserved it), not the live metadata. */
	DMS_THIN_CHECK_METADATA_SNAP = 1 << 0,
	/*
	 * Offline only: clear the needs_check flag the kernel set after a metadata
	 * error if the check passes (lvm2's default); the kernel keeps a pool with
	 * the flag read-only, so loading it again would not bring it back.
	 */
	DMS_THIN_CHECK_CLEAR_NEEDS_CHECK = 1 << 1,
};

/* thin_check: -EUCLEAN if it finds damage. */
int dms_thin_metadata_check(const char *metadata_dev, unsigned flags);
int dms_thin_metadata_list(const char *pool_name, const char *metadata_dev, uint32_t **ret_ids, size_t *ret_n);
/* Zero the first metadata block so the kernel formats fresh metadata on first load. */
int dms_thin_metadata_wipe(int metadata_fd);

/* thin-superblock.c — what block 0 of a metadata device says of its pool */
struct dms_thin_superblock {
	uint64_t transaction_id;
	uint64_t data_blocks;	     /* the data device's size the metadata knows, in pool blocks */
	uint32_t data_block_sectors; /* the pool's block size */
	uint64_t metadata_blocks;
};

/* BLOCK is DMS_THIN_METADATA_BLOCK bytes; -ENODATA if it is all zeroes (blank), -EMEDIUMTYPE if no superblock. */
int dms_thin_superblock_parse(const void *block, struct dms_thin_superblock *ret_sb);

#endif
