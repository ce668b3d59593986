// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A pool's configuration, <state dir>/<name>/pool.json: what `pool activate`
 * needs after a reboot to put the same table back. Written to a temporary
 * file, synced, renamed over the old one, and the directory synced, so a
 * crash leaves the old version or the new one, never half of either.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "dms-util.h"
#include "pool/internal.h"

#define CONFIG_VERSION 1

int dms_pool_dir(const struct dms_ctx *ctx, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", ctx->state_dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static void json_putp(json_object **o)
{
	if (*o)
		json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_putp)

static int fsync_dir(const char *dir)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return fsync(fd) < 0 ? -errno : 0;
}

int dms_pool_config_write(const struct dms_ctx *ctx, const struct dms_pool_config *cfg)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	char dir[PATH_MAX], path[PATH_MAX + 16], tmp[PATH_MAX + 16];
	_cleanup_close_ int fd = -1;
	const char *text;
	size_t len;
	int r;

	if (!o)
		return -ENOMEM;
	r = dms_pool_dir(ctx, cfg->name, dir, sizeof(dir));
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/pool.json", dir);
	snprintf(tmp, sizeof(tmp), "%s/.pool.json.tmp", dir);

	json_object_object_add(o, "version", json_object_new_int(CONFIG_VERSION));
	json_object_object_add(o, "name", json_object_new_string(cfg->name));
	json_object_object_add(o, "loop", json_object_new_boolean(cfg->loop));
	json_object_object_add(o, "data_path", json_object_new_string(cfg->data_path));
	json_object_object_add(o, "metadata_path", json_object_new_string(cfg->metadata_path));
	json_object_object_add(o, "data_size", json_object_new_uint64(cfg->data_size));
	json_object_object_add(o, "metadata_size", json_object_new_uint64(cfg->metadata_size));
	json_object_object_add(o, "block_size", json_object_new_uint64(cfg->block_size));
	json_object_object_add(o, "zero", json_object_new_boolean(cfg->zero));
	json_object_object_add(o, "created", json_object_new_int64(cfg->created));
	if (cfg->data_size_min)
		json_object_object_add(o, "data_size_min", json_object_new_uint64(cfg->data_size_min));
	if (*cfg->uuid) {
		json_object_object_add(o, "uuid", json_object_new_string(cfg->uuid));
		json_object_object_add(o, "label_offset", json_object_new_uint64(cfg->label_offset));
	}
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(text);

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 || fsync(fd) < 0) {
		r = errno ? -errno : -EIO;
		(void)unlink(tmp);
		return r;
	}
	if (rename(tmp, path) < 0) {
		r = -errno;
		(void)unlink(tmp);
		return r;
	}
	return fsync_dir(dir);
}

static int get_string(json_object *o, const char *key, char *buf, size_t len)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return -EBADMSG;
	if ((size_t)snprintf(buf, len, "%s", json_object_get_string(v)) >= len)
		return -EBADMSG;
	return 0;
}

static int get_u64(json_object *o, const char *key, uint64_t *ret)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return -EBADMSG;
	*ret = json_object_get_uint64(v);
	return 0;
}

static int get_bool(json_object *o, const char *key, bool *ret)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_boolean))
		return -EBADMSG;
	*ret = json_object_get_boolean(v);
	return 0;
}

/* -ENOENT when there is no such pool; -EBADMSG when the file is not one we wrote. */
int dms_pool_config_read(const struct dms_ctx *ctx, const char *name, struct dms_pool_config *ret_cfg)
{
	struct dms_pool_config cfg = { 0 };
	char dir[PATH_MAX], path[PATH_MAX + 16];
	_cleanup_json_ json_object *o = NULL;
	uint64_t version, block_size, created;
	int r;

	r = dms_pool_dir(ctx, name, dir, sizeof(dir));
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/pool.json", dir);
	if (access(path, F_OK) < 0)
		return -errno;
	o = json_object_from_file(path);
	if (!o)
		return -EBADMSG;
	r = get_u64(o, "version", &version);
	if (r < 0)
		return r;
	if (version != CONFIG_VERSION)
		return -EPROTONOSUPPORT;
	if ((r = get_string(o, "name", cfg.name, sizeof(cfg.name))) < 0 ||
	    (r = get_bool(o, "loop", &cfg.loop)) < 0 ||
	    (r = get_string(o, "data_path", cfg.data_path, sizeof(cfg.data_path))) < 0 ||
	    (r = get_string(o, "metadata_path", cfg.metadata_path, sizeof(cfg.metadata_path))) < 0 ||
	    (r = get_u64(o, "data_size", &cfg.data_size)) < 0 ||
	    (r = get_u64(o, "metadata_size", &cfg.metadata_size)) < 0 ||
	    (r = get_u64(o, "block_size", &block_size)) < 0 || (r = get_bool(o, "zero", &cfg.zero)) < 0 ||
	    (r = get_u64(o, "created", &created)) < 0)
		return r;
	/* Pools made by dmstore 0.1.0 have no identity. */
	if (json_object_object_get_ex(o, "uuid", NULL) &&
	    ((r = get_string(o, "uuid", cfg.uuid, sizeof(cfg.uuid))) < 0 ||
	     (r = get_u64(o, "label_offset", &cfg.label_offset)) < 0))
		return r;
	if (json_object_object_get_ex(o, "data_size_min", NULL) &&
	    (r = get_u64(o, "data_size_min", &cfg.data_size_min)) < 0)
		return r;
	if (strcmp(cfg.name, name) != 0 || block_size == 0 || block_size > UINT32_MAX)
		return -EBADMSG;
	cfg.block_size = (uint32_t)block_size;
	cfg.created = (int64_t)created;
	*ret_cfg = cfg;
	return 0;
}

/* dms_pool_config_read for a name from a caller: checked first, and each failure reported naming the pool. */
int dms_pool_config_load(struct dms_ctx *ctx, const char *name, struct dms_pool_config *ret_cfg)
{
	int r;

	if (!dms_pool_name_valid(name))
		return dms_fail_invalid(ctx, -EINVAL, "pool '%s': invalid name", name);
	r = dms_pool_config_read(ctx, name, ret_cfg);
	if (r == -ENOENT)
		return dms_fail_missing(ctx, r, "pool '%s' does not exist", name);
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': configuration unreadable: %s", name, strerror(-r));
	return 0;
}
