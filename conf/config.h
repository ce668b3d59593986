/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMS_CONF_CONFIG_H
#define DMS_CONF_CONFIG_H

/*
 * The configuration of the dmstore programs, /etc/dmstore/dmstore.conf (INI),
 * read by dmstore, dmstore-docker-plugin (which takes pool, min_free and
 * mount_options) and dmstore-snapshotter (Go, through cgo: pool, image_size and
 * min_free):
 *
 *   [dmstore]
 *   pool = p0              the pool object commands use without --pool or $DMSTORE_POOL
 *   image_size = 10G       an image's size without --size
 *   min_free = 10          the free-space floor, percent of data and metadata
 *   mount_options = discard  ext4 options for every host mount
 *   runtime = crun         dmstore run's runtime without --runtime: crun, runc or a path
 *   [autoextend]           pool monitor: warn past the threshold; grow loop-file pools
 *   threshold = 80         when this percent of data or metadata is used (1-100)
 *   percent = 20           grow by this percent of the data size (1-100)
 *   limit = 1T             never past this data size; 0 (the default): never grow
 *
 * A flag wins over the environment, which wins over the file, which wins over
 * the defaults. Only the programs read the file: they hand the values to the
 * library (config_apply: dms_ctx_set_*), which reads no configuration of its own.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmstore.h"

#define DMSTORE_CONFIG_PATH "/etc/dmstore/dmstore.conf"

enum config_source { CONFIG_DEFAULT, CONFIG_FILE, CONFIG_ENV, CONFIG_FLAG };

enum config_key {
	CONFIG_POOL,
	CONFIG_IMAGE_SIZE,
	CONFIG_MIN_FREE,
	CONFIG_MOUNT_OPTIONS,
	CONFIG_RUNTIME,
	CONFIG_AUTOEXTEND_THRESHOLD,
	CONFIG_AUTOEXTEND_PERCENT,
	CONFIG_AUTOEXTEND_LIMIT,
	CONFIG_N_KEYS,
};

struct config {
	char path[4096];
	enum config_source path_source; /* default, env ($DMSTORE_CONFIG) or flag (--config) */
	bool read;			/* the file was there, and was read */

	char pool[DMS_POOL_NAME_MAX + 1]; /* "": the only pool there is */
	uint64_t image_size;
	unsigned min_free;
	char mount_options[DMS_MOUNT_OPTIONS_MAX];
	char runtime[4096]; /* "": crun, else runc */
	unsigned autoextend_threshold;
	unsigned autoextend_percent;
	uint64_t autoextend_limit;

	enum config_source source[CONFIG_N_KEYS];
	int line[CONFIG_N_KEYS]; /* of the file, for CONFIG_FILE */
};

void config_init(struct config *c);
/*
 * Read the file: FLAG_PATH (--config) if given, else $DMSTORE_CONFIG, else
 * DMSTORE_CONFIG_PATH, which alone may be missing. Then $DMSTORE_POOL. 0, or
 * -EINVAL (a bad line or value) or another -errno (the file cannot be read)
 * with the reason in ERR: "/etc/dmstore/dmstore.conf, line 3: ...".
 */
int config_load(struct config *c, const char *flag_path, char *err, size_t len);
/*
 * Hand LIB what is the library's: the free-space floor and the mount options.
 * 0, or -EINVAL with the reason in ERR, naming the file's line.
 */
int config_apply(const struct config *c, struct dms_ctx *lib, char *err, size_t len);
/* Set KEY to the text VALUE from SOURCE (LINE of the file, for CONFIG_FILE): 0, or -EINVAL with the reason in ERR. */
int config_set(struct config *c, enum config_key key, const char *value, enum config_source source, int line, char *err,
	       size_t len);
/* "pool", "autoextend.limit", ... */
const char *config_key_name(enum config_key key);
/* The value as the file would spell it: "10G", "discard", "" when unset. */
const char *config_value_format(const struct config *c, enum config_key key, char *buf, size_t len);
/* "default", "file:12", "env" or "flag". */
const char *config_source_format(const struct config *c, enum config_key key, char *buf, size_t len);

#endif
