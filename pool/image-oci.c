// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Images from container image sources: oci:DIR[:REF], oci-archive:FILE[:REF],
 * docker-archive:FILE[:REF] ("-" for standard input). The source is opened
 * and resolved down to one manifest, with every JSON blob checked, before the
 * image's device is made, so a wrong REF, a missing platform or a tampered
 * manifest changes nothing. An archive is first unpacked ("spooled") into a
 * directory of its own under the pool's state dir, through the same chroot'ed
 * writer as a rootfs tarball; the spool goes when the import ends, and one a
 * killed dmstore left is removed by the next import.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "dms-util.h"
#include "fs/image-source.h"
#include "fs/layer.h"
#include "fs/mount.h"
#include "fs/remove.h"
#include "fs/unpack.h"
#include "pool/internal.h"

enum transport { T_OCI, T_OCI_ARCHIVE, T_DOCKER_ARCHIVE };

static const struct {
	const char *prefix;
	enum transport t;
} transports[] = {
	{ "oci:", T_OCI },
	{ "oci-archive:", T_OCI_ARCHIVE },
	{ "docker-archive:", T_DOCKER_ARCHIVE },
};

struct dms_oci_import {
	struct dms_image_source *src;
	int spool_parent; /* <state>/<pool>/spool, when spooled */
	char spool_dir[PATH_MAX];
	char spool[DMS_NAME_MAX + 32];
	const char *source;
};

bool dms_image_source_is_image(const char *source)
{
	for (size_t i = 0; i < DMS_ARRAY_SIZE(transports); i++)
		if (strncmp(source, transports[i].prefix, strlen(transports[i].prefix)) == 0)
			return true;
	return false;
}

/* "PATH[:REF]": the path ends at the first ':' (as skopeo's transports read it); "-" is standard input. */
static int split_source(const char *source, enum transport *ret_t, char **ret_path, char **ret_ref)
{
	const char *rest = NULL, *colon;

	for (size_t i = 0; i < DMS_ARRAY_SIZE(transports); i++)
		if (strncmp(source, transports[i].prefix, strlen(transports[i].prefix)) == 0) {
			*ret_t = transports[i].t;
			rest = source + strlen(transports[i].prefix);
		}
	if (!rest || !*rest)
		return -EINVAL;
	colon = strchr(rest, ':');
	*ret_path = colon ? strndup(rest, (size_t)(colon - rest)) : strdup(rest);
	*ret_ref = colon && colon[1] ? strdup(colon + 1) : NULL;
	if (!*ret_path || (colon && colon[1] && !*ret_ref))
		return -ENOMEM;
	if (!**ret_path || (colon && !colon[1]))
		return -EINVAL;
	return 0;
}

/* Spools named <image>.<pid>.<random> whose dmstore is gone. */
static void remove_stale_spools(int parent)
{
	int fd = fcntl(parent, F_DUPFD_CLOEXEC, 3);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (!d) {
		if (fd >= 0)
			(void)close(fd);
		return;
	}
	while ((e = readdir(d))) {
		const char *dot = strchr(e->d_name, '.');
		long pid;

		if (!dot || e->d_name[0] == '.')
			continue;
		pid = strtol(dot + 1, NULL, 10);
		if (pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH)
			(void)dms_remove_tree_at(parent, e->d_name);
	}
	(void)closedir(d);
}

static int spool(struct dms_pool *pool, struct dms_oci_import *imp, const char *name, const char *path,
		 int *ret_fd)
{
	char dir[PATH_MAX], tmpl[PATH_MAX + 96], err[512] = "";
	_cleanup_close_ int fd = -1;
	int r;

	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s/spool", pool->ctx->state_dir, pool->cfg.name) >= sizeof(dir))
		return dms_fail(pool->ctx, -ENAMETOOLONG, "image '%s': path too long", name);
	snprintf(imp->spool_dir, sizeof(imp->spool_dir), "%s", dir);
	r = dms_mkdir_p(dir);
	if (r == 0) {
		imp->spool_parent = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (imp->spool_parent < 0)
			r = -errno;
	}
	if (r < 0)
		return dms_fail(pool->ctx, r, "image '%s': making '%s' failed: %s", name, dir, strerror(-r));
	remove_stale_spools(imp->spool_parent);
	/* mkdtemp: a name no other import (of the same image name, by another thread) can hold. */
	if ((size_t)snprintf(tmpl, sizeof(tmpl), "%s/%s.%d.XXXXXX", dir, name, (int)getpid()) >= sizeof(tmpl))
		return dms_fail(pool->ctx, -ENAMETOOLONG, "image '%s': path too long", name);
	if (!mkdtemp(tmpl))
		return dms_fail(pool->ctx, -errno, "image '%s': making its spool directory failed: %s", name,
				strerror(errno));
	snprintf(imp->spool, sizeof(imp->spool), "%s", strrchr(tmpl, '/') + 1);
	fd = openat(imp->spool_parent, imp->spool, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return dms_fail(pool->ctx, -errno, "image '%s': %s", name, strerror(errno));
	r = dms_unpack_archive(fd, path, NULL, NULL, err, sizeof(err));
	if (r == -EPERM)
		r = -EINVAL;
	if (r < 0)
		return dms_fail(pool->ctx, r, "image '%s': reading the archive '%s' failed: %s", name, path,
				*err ? err : strerror(-r));
	*ret_fd = DMS_TAKE_FD(fd);
	return 0;
}

void dms_oci_close(struct dms_oci_import *imp)
{
	if (!imp)
		return;
	dms_image_source_free(imp->src);
	if (imp->spool_parent >= 0) {
		if (*imp->spool)
			(void)dms_remove_tree_at(imp->spool_parent, imp->spool);
		(void)close(imp->spool_parent);
		/* The spool directory itself only while an import needs it; another may still (ENOTEMPTY). */
		(void)rmdir(imp->spool_dir);
	}
	free(imp);
}

int dms_oci_open(struct dms_pool *pool, const char *name, const char *source, const char *platform,
		 struct dms_oci_import **ret)
{
	_cleanup_free_ char *path = NULL, *ref = NULL;
	_cleanup_close_ int dirfd = -1;
	struct dms_oci_import *imp;
	enum transport t = T_OCI;
	char err[512] = "";
	int r;

	r = split_source(source, &t, &path, &ref);
	if (r == -EINVAL)
		return dms_fail_invalid(pool->ctx, r, "image '%s': source '%s': use oci:DIR[:REF], oci-archive:FILE[:REF] or docker-archive:FILE[:REF]",
				name, source);
	if (r < 0)
		return r;
	imp = calloc(1, sizeof(*imp));
	if (!imp)
		return -ENOMEM;
	imp->spool_parent = -1;
	imp->source = source;
	if (t == T_OCI) {
		dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0)
			r = dms_fail_path(pool->ctx, -errno, "image '%s': source '%s': %s", name, path, strerror(errno));
	} else {
		r = spool(pool, imp, name, strcmp(path, "-") == 0 ? "/dev/stdin" : path, &dirfd);
	}
	if (r == 0) {
		if (t == T_DOCKER_ARCHIVE)
			r = dms_docker_archive_open(dirfd, ref, &imp->src, err, sizeof(err));
		else
			r = dms_oci_layout_open(dirfd, ref, platform, &imp->src, err, sizeof(err));
		/* A ref or a layout that is not there is the caller's SOURCE, not a missing object. */
		if (r < 0)
			r = dms_fail_path(pool->ctx, r, "image '%s': source '%s': %s", name, source, err);
	}
	if (r < 0) {
		dms_oci_close(imp);
		return r;
	}
	*ret = imp;
	return 0;
}

int dms_oci_apply(struct dms_oci_import *imp, int rootfd, const struct dms_import_opts *opts,
		  struct dms_unpack_stats *st, char *errbuf, size_t errlen)
{
	return dms_layers_apply(rootfd, imp->src, opts ? opts->progress : NULL, opts ? opts->progress_arg : NULL, st,
				errbuf, errlen);
}

static void add_string(json_object *o, const char *key, const char *value)
{
	if (value && *value)
		json_object_object_add(o, key, json_object_new_string(value));
}

/* What is kept of the image config: the runtime part ("config") whole, and where it came from. */
int dms_oci_config_json(const struct dms_oci_import *imp, char **ret)
{
	json_object *cfg = json_tokener_parse(imp->src->config_json), *o = json_object_new_object(), *v;
	int r = 0;

	if (!cfg || !o) {
		r = -ENOMEM;
		goto out;
	}
	add_string(o, "source", imp->source);
	add_string(o, "ref", imp->src->ref);
	add_string(o, "manifest", imp->src->manifest_digest);
	add_string(o, "config_digest", imp->src->config_digest);
	for (size_t i = 0; i < 3; i++) {
		static const char *const keys[] = { "architecture", "os", "created" };

		if (json_object_object_get_ex(cfg, keys[i], &v) && json_object_is_type(v, json_type_string))
			add_string(o, keys[i], json_object_get_string(v));
	}
	json_object_object_add(o, "layers", json_object_new_int64((int64_t)imp->src->n_layers));
	if (json_object_object_get_ex(cfg, "config", &v) && json_object_is_type(v, json_type_object))
		json_object_object_add(o, "config", json_object_get(v));
	else
		json_object_object_add(o, "config", json_object_new_object());
	*ret = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	if (!*ret)
		r = -ENOMEM;
out:
	json_object_put(cfg);
	json_object_put(o);
	return r;
}
