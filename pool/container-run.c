// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What the catalogue keeps of a container's runs (runtime/ runs them): how it
 * is run (a spec, JSON) and how its last run went. A run is watched by one
 * dmstore, which holds the container's run lock (an flock under the run dir)
 * for as long as it does: the kernel drops the lock when that dmstore dies,
 * so "pid set and lock free" reads as "its dmstore died mid-run", and
 * runtime/ cleans up after it. The rows are written only by the lock's holder,
 * each in one SQLite statement, and need no pool lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "dms-util.h"
#include "pool/internal.h"

const char *dms_ctx_run_dir(const struct dms_ctx *ctx)
{
	return ctx->run_dir;
}

static int find_container(struct dms_pool *pool, const char *name, struct dms_row *row)
{
	int r;

	if (!dms_name_valid(name))
		return dms_fail_invalid(pool->ctx, -EINVAL, "container '%s': invalid name: use 1-%d of [A-Za-z0-9_.-], starting with a letter or digit",
				name ? name : "", DMS_NAME_MAX);
	r = dms_catalog_find(pool->cat, DMS_KIND_CONTAINER, name, row);
	if (r == -ENOENT || (r == 0 && row->state != DMS_STATE_READY))
		return dms_fail_missing(pool->ctx, -ENOENT, "pool '%s': container '%s' does not exist", pool->cfg.name, name);
	if (r < 0)
		return dms_fail(pool->ctx, r, "pool '%s': container '%s': catalogue: %s", pool->cfg.name, name,
				strerror(-r));
	return 0;
}

static int get_run(struct dms_pool *pool, const struct dms_row *row, struct dms_run_row *run)
{
	int r = dms_catalog_run_get(pool->cat, row->id, run);

	if (r == -ENOENT) {
		*run = (struct dms_run_row){ .container_id = row->id };
		return 0;
	}
	return r < 0 ? dms_fail(pool->ctx, r, "container '%s': catalogue: %s", row->name, strerror(-r)) : 0;
}

int dms_snap_run_get(struct dms_pool *pool, const char *name, struct dms_run_info **ret_info)
{
	struct dms_run_info *info;
	struct dms_run_row run;
	struct dms_row row;
	int r;

	r = find_container(pool, name, &row);
	if (r == 0)
		r = get_run(pool, &row, &run);
	if (r < 0)
		return r;
	info = calloc(1, sizeof(*info));
	r = info ? dms_str_set(&info->spec, run.spec) : -ENOMEM;
	free(run.spec);
	if (r < 0) {
		free(info);
		return dms_fail(pool->ctx, r, "container '%s': out of memory", name);
	}
	info->size = sizeof(*info);
	info->pid = run.pid;
	info->has_exit_code = run.has_exit_code;
	info->exit_code = run.exit_code;
	info->started = run.started;
	info->finished = run.finished;
	*ret_info = info;
	return 0;
}

void dms_run_info_free(struct dms_run_info *info)
{
	if (!info)
		return;
	free(info->spec);
	free(info);
}

/* Read-modify-write of one row: only the run lock's holder writes it. */
static int update(struct dms_pool *pool, const char *name, const char *spec, int64_t pid, int exit_code,
		  bool ended)
{
	struct dms_run_row run;
	struct dms_row row;
	int r;

	r = find_container(pool, name, &row);
	if (r == 0)
		r = get_run(pool, &row, &run);
	if (r < 0)
		return r;
	if (spec) {
		free(run.spec);
		run.spec = strdup(spec);
		if (!run.spec)
			return -ENOMEM;
	} else if (ended) {
		run.pid = 0;
		run.finished = (int64_t)time(NULL);
		run.has_exit_code = exit_code >= 0;
		run.exit_code = exit_code >= 0 ? exit_code : 0;
	} else {
		run.pid = pid;
		run.started = (int64_t)time(NULL);
		run.finished = 0;
		run.has_exit_code = false;
	}
	r = dms_catalog_run_set(pool->cat, &run);
	free(run.spec);
	return r < 0 ? dms_fail(pool->ctx, r, "container '%s': recording its run failed: %s", name, strerror(-r)) : 0;
}

int dms_snap_run_set_spec(struct dms_pool *pool, const char *name, const char *spec)
{
	return spec ? update(pool, name, spec, 0, 0, false) : -EINVAL;
}

int dms_snap_run_started(struct dms_pool *pool, const char *name, int64_t pid)
{
	return update(pool, name, NULL, pid, 0, false);
}

int dms_snap_run_ended(struct dms_pool *pool, const char *name, int exit_code)
{
	return update(pool, name, NULL, 0, exit_code, true);
}

int dms_snap_run_lock(struct dms_pool *pool, const char *name, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	char path[PATH_MAX];

	if (!dms_name_valid(name))
		return -EINVAL;
	if (mkdir(pool->ctx->run_dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.ctr-%s.lock", pool->ctx->run_dir, pool->cfg.name, name) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX | LOCK_NB) < 0)
		if (errno != EINTR)
			return errno == EWOULDBLOCK ? -EBUSY : -errno;
	*ret_fd = DMS_TAKE_FD(fd);
	return 0;
}
