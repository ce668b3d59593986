// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A container's run, step by step, each undone on the way out:
 *
 *   run lock -> recorded as started -> rootfs mounted -> volumes attached
 *   -> bundle written -> runtime started ... runtime exited -> recorded as
 *   ended -> bundle removed -> volumes detached -> rootfs unmounted -> unlock
 *
 * "Started" is recorded before anything else changes, so a dmstore killed at
 * any later step leaves a run that run_reap recognises (pid set, lock
 * free) and undoes with the same, idempotent, steps: the runtime is told to
 * kill and delete its container (its state is under our --root), volumes are
 * detached, the rootfs unmounted, the bundle removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "dms-exec.h"
#include "dms-util.h"
#include "fs/mount.h"
#include "fs/remove.h"
#include "pool/internal.h"
#include "runtime/runtime.h"

struct dms_run {
	struct dms_pool *pool;
	char name[DMS_NAME_MAX + 1];
	struct dms_run_spec spec;
	int lock_fd;
	char runtime[PATH_MAX];
	char rootfs[PATH_MAX];
	bool mounted; /* by us: unmounted at the end */
	size_t n_attached;
};

__attribute__((format(printf, 4, 5))) static int errf(char *errbuf, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;

	if (errbuf && errlen) {
		va_start(ap, fmt);
		(void)vsnprintf(errbuf, errlen, fmt, ap);
		va_end(ap);
	}
	return r;
}

static const char *const crun_paths[] = { "/usr/bin/crun", "/usr/local/bin/crun", "/usr/sbin/crun" };
static const char *const runc_paths[] = { "/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc",
					  "/usr/local/bin/runc" };

static bool executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

static int first_of(const char *const *paths, size_t n, char *buf, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (executable(paths[i])) {
			snprintf(buf, len, "%s", paths[i]);
			return 0;
		}
	return -ENOENT;
}

int dms_runtime_find(const char *want, char *buf, size_t len, char *errbuf, size_t errlen)
{
	if (!want || !*want) {
		if (first_of(crun_paths, DMS_ARRAY_SIZE(crun_paths), buf, len) == 0 ||
		    first_of(runc_paths, DMS_ARRAY_SIZE(runc_paths), buf, len) == 0)
			return 0;
		return errf(errbuf, errlen, -ENOENT, "no OCI runtime found: install crun or runc, or name one with --runtime PATH");
	}
	if (strcmp(want, "crun") == 0) {
		if (first_of(crun_paths, DMS_ARRAY_SIZE(crun_paths), buf, len) == 0)
			return 0;
		return errf(errbuf, errlen, -ENOENT, "runtime 'crun' not found (looked in /usr/bin, /usr/local/bin, /usr/sbin)");
	}
	if (strcmp(want, "runc") == 0) {
		if (first_of(runc_paths, DMS_ARRAY_SIZE(runc_paths), buf, len) == 0)
			return 0;
		return errf(errbuf, errlen, -ENOENT, "runtime 'runc' not found (looked in /usr/sbin, /usr/bin, /usr/local/sbin, /usr/local/bin)");
	}
	if (want[0] != '/')
		return errf(errbuf, errlen, -EINVAL, "runtime '%s': use crun, runc or an absolute path", want);
	/* A path the caller gave that leads nowhere is bad input (-EINVAL), not a runtime missing from the host. */
	if (!executable(want))
		return errf(errbuf, errlen, -EINVAL, "runtime '%s' not found or not executable", want);
	snprintf(buf, len, "%s", want);
	return 0;
}

static int run_path(struct dms_pool *pool, const char *what, const char *name, char *buf, size_t len)
{
	int n = name ? snprintf(buf, len, "%s/%s.%s/%s", dms_ctx_run_dir(dms_pool_ctx(pool)), dms_pool_name(pool),
				what, name) :
		       snprintf(buf, len, "%s/%s.%s", dms_ctx_run_dir(dms_pool_ctx(pool)), dms_pool_name(pool), what);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int runtime_id(struct dms_pool *pool, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "dmstore-%s-%s", dms_pool_name(pool), name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Every volume of the spec: it exists, and no other container has it attached read-write. */
static int check_volumes(struct dms_pool *pool, const char *name, const struct dms_run_spec *spec, char *errbuf,
			 size_t errlen)
{
	for (size_t i = 0; i < spec->n_volumes; i++) {
		struct dms_vol_info *v;
		int r = dms_vol_inspect(pool, spec->volumes[i].name, &v);

		if (r < 0)
			return errf(errbuf, errlen, r, "%s", dms_ctx_error(dms_pool_ctx(pool)));
		for (size_t k = 0; r == 0 && k < v->n_attachments; k++)
			if (strcmp(v->attachments[k]->container, name) != 0 && !v->attachments[k]->read_only)
				r = errf(errbuf, errlen, -EBUSY,
					 "volume '%s' is attached read-write to container '%s'; detach it first",
					 v->name, v->attachments[k]->container);
		dms_vol_info_free(v);
		if (r < 0)
			return r;
	}
	return 0;
}

static char *image_config(struct dms_pool *pool, const char *image, int *ret_r)
{
	char *json = NULL;

	*ret_r = dms_image_config(pool, image, &json);
	return json;
}

/* Whether container NAME exists: 0 if not, -EEXIST if so, or why it cannot be told. */
static int container_free(struct dms_pool *pool, const char *name)
{
	struct dms_snap_info *info = NULL;
	int r = dms_snap_inspect(pool, name, &info);

	dms_snap_info_free(info);
	return r == -ENOENT ? 0 : r == 0 ? -EEXIST : r;
}

/* Made from the image's name and the time: "busybox-5f3a9c". */
static int generate_name(struct dms_pool *pool, const char *image, char *buf, size_t len)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	for (unsigned i = 0; i < 16; i++) {
		unsigned long tag = ((unsigned long)ts.tv_nsec ^ (unsigned long)getpid() * 2654435761UL) + i * 7919UL;

		snprintf(buf, len, "%.40s-%06lx", image, tag & 0xffffff);
		if (container_free(pool, buf) == 0)
			return 0;
	}
	return -EEXIST;
}

static int run_create(struct dms_pool *pool, const struct dms_run_opts *opts, char *ret_name, size_t len, char *errbuf,
		      size_t errlen)
{
	_cleanup_free_ char *config = NULL, *json = NULL;
	struct dms_run_spec spec = { 0 };
	char runtime[PATH_MAX], name[DMS_NAME_MAX + 1];
	int r;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	r = dms_runtime_find(opts->runtime, runtime, sizeof(runtime), errbuf, errlen);
	if (r < 0)
		return r;
	config = image_config(pool, opts->image, &r);
	if (r < 0)
		return errf(errbuf, errlen, r, "%s", dms_ctx_error(dms_pool_ctx(pool)));
	if (opts->name) {
		snprintf(name, sizeof(name), "%s", opts->name);
		if (container_free(pool, name) == -EEXIST)
			return errf(errbuf, errlen, -EEXIST, "container '%s' already exists", name);
	} else {
		r = generate_name(pool, opts->image, name, sizeof(name));
		if (r < 0)
			return errf(errbuf, errlen, r, "no free container name for image '%s'", opts->image);
	}
	r = dms_run_spec_make(opts, config, name, &spec, errbuf, errlen);
	if (r < 0)
		return r;
	r = check_volumes(pool, name, &spec, errbuf, errlen);
	if (r == 0)
		r = dms_run_spec_to_json(&spec, &json);
	dms_run_spec_clear(&spec);
	if (r < 0 && !*errbuf)
		errf(errbuf, errlen, r, "container '%s': %s", name, strerror(-r));
	if (r < 0)
		return r;

	r = dms_snap_create(pool, name, opts->image, 0);
	if (r < 0)
		return errf(errbuf, errlen, r, "%s", dms_ctx_error(dms_pool_ctx(pool)));
	r = dms_snap_run_set_spec(pool, name, json);
	if (r < 0) {
		errf(errbuf, errlen, r, "%s", dms_ctx_error(dms_pool_ctx(pool)));
		(void)dms_snap_remove(pool, name);
		return r;
	}
	snprintf(ret_name, len, "%s", name);
	return 0;
}

static int write_bundle(struct dms_run *run, uid_t uid, gid_t gid, char *errbuf, size_t errlen)
{
	char dir[PATH_MAX], file[PATH_MAX + 16];
	json_object *cfg = NULL;
	int r;

	r = run_path(run->pool, "bundles", run->name, dir, sizeof(dir));
	if (r == 0)
		r = dms_mkdir_p(dir);
	if (r == 0)
		r = dms_bundle_config(&run->spec, run->rootfs, uid, gid, &cfg);
	if (r < 0)
		return errf(errbuf, errlen, r, "container '%s': writing its bundle: %s", run->name, strerror(-r));
	snprintf(file, sizeof(file), "%s/config.json", dir);
	if (json_object_to_file_ext(file, cfg, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE) < 0)
		r = errf(errbuf, errlen, -EIO, "container '%s': writing '%s' failed", run->name, file);
	json_object_put(cfg);
	return r;
}

static void remove_bundle(struct dms_pool *pool, const char *name)
{
	char dir[PATH_MAX];
	int fd;

	if (run_path(pool, "bundles", NULL, dir, sizeof(dir)) < 0)
		return;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	(void)dms_remove_tree_at(fd, name);
	(void)close(fd);
}

/* The runtime's own leftovers of a run whose watcher died: its container killed and deleted. */
static void runtime_forget(struct dms_pool *pool, const char *name, const struct dms_run_spec *spec)
{
	char runtime[PATH_MAX], root[PATH_MAX], id[160];
	const char *kill_argv[] = { runtime, "--root", root, "kill", id, "KILL", NULL };
	const char *delete_argv[] = { runtime, "--root", root, "delete", "--force", id, NULL };
	int status;

	if (dms_runtime_find(spec ? spec->runtime : NULL, runtime, sizeof(runtime), NULL, 0) < 0 ||
	    run_path(pool, "runtime", NULL, root, sizeof(root)) < 0 || runtime_id(pool, name, id, sizeof(id)) < 0)
		return;
	/* Either may find nothing (the runtime ended on its own): fine. */
	(void)dms_exec(kill_argv, NULL, NULL, &status);
	for (int i = 0; i < 50; i++) {
		if (dms_exec(delete_argv, NULL, NULL, &status) < 0 || status == 0)
			break;
		usleep(100 * 1000);
	}
}

/* Undo the steps of a run, from where it got to; whatever fails, the rest is still tried. */
static int undo(struct dms_pool *pool, const char *name, const struct dms_run_spec *spec, size_t n_attached,
		bool unmount, char *errbuf, size_t errlen)
{
	int r = 0, k;

	remove_bundle(pool, name);
	for (size_t i = n_attached; i-- > 0;) {
		k = dms_vol_detach(pool, spec->volumes[i].name, name);
		if (k < 0 && k != -ENOENT && r == 0)
			r = errf(errbuf, errlen, k, "%s", dms_ctx_error(dms_pool_ctx(pool)));
	}
	if (unmount) {
		/* The kernel lets go of a rootfs a moment after the last process in it has gone. */
		for (int i = 0; i < 50; i++) {
			k = dms_snap_umount(pool, name);
			if (k != -EBUSY)
				break;
			usleep(100 * 1000);
		}
		if (k < 0 && r == 0)
			r = errf(errbuf, errlen, k, "%s", dms_ctx_error(dms_pool_ctx(pool)));
	}
	return r;
}

static int reap_locked(struct dms_pool *pool, const char *name, const struct dms_run_info *info, char *errbuf,
		       size_t errlen)
{
	struct dms_run_spec spec = { 0 };
	bool have_spec = *info->spec && dms_run_spec_from_json(info->spec, &spec) == 0;
	int r;

	runtime_forget(pool, name, have_spec ? &spec : NULL);
	r = undo(pool, name, &spec, have_spec ? spec.n_volumes : 0, true, errbuf, errlen);
	if (r == 0)
		r = dms_snap_run_ended(pool, name, -1);
	dms_run_spec_clear(&spec);
	return r < 0 ? r : 1;
}

/* After a dmstore that died mid-run: 1 if something was cleaned up, 0 if nothing needed to be. */
static int run_reap(struct dms_pool *pool, const char *name, char *errbuf, size_t errlen)
{
	struct dms_run_info *info;
	int fd = -1, r;

	r = dms_snap_run_get(pool, name, &info);
	if (r < 0)
		return errf(errbuf, errlen, r, "%s", dms_ctx_error(dms_pool_ctx(pool)));
	if (info->pid != 0) {
		r = dms_snap_run_lock(pool, name, &fd);
		if (r == -EBUSY)
			r = 0; /* its dmstore is alive: running */
		else if (r < 0)
			r = errf(errbuf, errlen, r, "container '%s': run lock: %s", name, strerror(-r));
		else
			r = reap_locked(pool, name, info, errbuf, errlen);
		if (fd >= 0)
			(void)close(fd);
	}
	dms_run_info_free(info);
	return r;
}

static int run_state(struct dms_pool *pool, const char *name, enum dms_run_state *ret_state,
		     struct dms_run_info **ret_info, char *errbuf, size_t errlen)
{
	struct dms_run_info *info;
	int r = run_reap(pool, name, errbuf, errlen);

	if (r < 0)
		return r;
	r = dms_snap_run_get(pool, name, &info);
	if (r < 0)
		return errf(errbuf, errlen, r, "%s", dms_ctx_error(dms_pool_ctx(pool)));
	*ret_state = info->pid ? DMS_RUN_RUNNING : info->has_exit_code || info->finished ? DMS_RUN_EXITED : DMS_RUN_CREATED;
	*ret_info = info;
	return 0;
}

static void run_free(struct dms_run *run)
{
	if (!run)
		return;
	dms_run_spec_clear(&run->spec);
	if (run->lock_fd >= 0)
		(void)close(run->lock_fd);
	free(run);
}

static int mount_and_attach(struct dms_run *run, uid_t *uid, gid_t *gid, char *errbuf, size_t errlen)
{
	struct dms_snap_info *info = NULL;
	_cleanup_free_ char *mounted = NULL;
	int rootfd, r;

	r = dms_snap_inspect(run->pool, run->name, &info);
	if (r == 0 && *info->mountpoint) {
		snprintf(run->rootfs, sizeof(run->rootfs), "%s", info->mountpoint);
	} else if (r == 0) {
		r = dms_snap_mount(run->pool, run->name, NULL, DMS_SNAP_MOUNT_CONTAINER_ROOT, &mounted);
		run->mounted = r == 0;
		if (r == 0)
			snprintf(run->rootfs, sizeof(run->rootfs), "%s", mounted);
	}
	dms_snap_info_free(info);
	if (r < 0)
		return errf(errbuf, errlen, r, "%s", dms_ctx_error(dms_pool_ctx(run->pool)));
	rootfd = open(run->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return errf(errbuf, errlen, -errno, "container '%s': %s", run->name, strerror(errno));
	r = dms_run_user_resolve(rootfd, run->spec.user, uid, gid, errbuf, errlen);
	(void)close(rootfd);
	if (r < 0)
		return r;
	for (size_t i = 0; i < run->spec.n_volumes; i++) {
		const struct dms_spec_volume *v = &run->spec.volumes[i];

		r = dms_vol_attach(run->pool, v->name, run->name, v->path, v->read_only);
		if (r < 0)
			return errf(errbuf, errlen, r, "%s", dms_ctx_error(dms_pool_ctx(run->pool)));
		run->n_attached++;
	}
	return 0;
}

static int run_begin(struct dms_pool *pool, const char *name, struct dms_run **ret_run, char *errbuf, size_t errlen)
{
	struct dms_run_info *info = NULL;
	struct dms_run *run;
	uid_t uid = 0;
	gid_t gid = 0;
	int r;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	run = calloc(1, sizeof(*run));
	if (!run)
		return -ENOMEM;
	run->pool = pool;
	run->lock_fd = -1;
	snprintf(run->name, sizeof(run->name), "%s", name);
	r = dms_snap_run_get(pool, name, &info);
	if (r < 0) {
		errf(errbuf, errlen, r, "%s", dms_ctx_error(dms_pool_ctx(pool)));
		goto fail;
	}
	r = dms_snap_run_lock(pool, name, &run->lock_fd);
	if (r == -EBUSY) {
		errf(errbuf, errlen, r, "container '%s' is running", name);
		goto fail;
	}
	if (r < 0) {
		errf(errbuf, errlen, r, "container '%s': run lock: %s", name, strerror(-r));
		goto fail;
	}
	if (info->pid != 0) {
		r = reap_locked(pool, name, info, errbuf, errlen);
		if (r < 0)
			goto fail;
	}
	if (!*info->spec) {
		r = errf(errbuf, errlen, -EINVAL, "container '%s' has no run spec (it was made by 'snap create'): use 'dmstore run'",
			 name);
		goto fail;
	}
	r = dms_run_spec_from_json(info->spec, &run->spec);
	if (r < 0) {
		errf(errbuf, errlen, r, "container '%s': its run spec is unreadable", name);
		goto fail;
	}
	r = dms_runtime_find(run->spec.runtime, run->runtime, sizeof(run->runtime), errbuf, errlen);
	if (r == 0)
		r = check_volumes(pool, name, &run->spec, errbuf, errlen);
	if (r < 0)
		goto fail;

	/* From here on a crash is reaped: the record comes first. */
	r = dms_snap_run_started(pool, name, (int64_t)getpid());
	if (r < 0) {
		errf(errbuf, errlen, r, "%s", dms_ctx_error(dms_pool_ctx(pool)));
		goto fail;
	}
	r = mount_and_attach(run, &uid, &gid, errbuf, errlen);
	if (r == 0)
		r = write_bundle(run, uid, gid, errbuf, errlen);
	if (r < 0) {
		(void)undo(pool, name, &run->spec, run->n_attached, run->mounted, NULL, 0);
		(void)dms_snap_run_ended(pool, name, -1);
		goto fail;
	}
	dms_run_info_free(info);
	*ret_run = run;
	return 0;
fail:
	dms_run_info_free(info);
	run_free(run);
	return r;
}

static int run_spawn(struct dms_run *run, pid_t *ret_pid, char *errbuf, size_t errlen)
{
	char root[PATH_MAX], bundle[PATH_MAX], id[160];
	sigset_t none;
	pid_t pid;
	int r;

	r = run_path(run->pool, "runtime", NULL, root, sizeof(root));
	if (r == 0)
		r = run_path(run->pool, "bundles", run->name, bundle, sizeof(bundle));
	if (r == 0)
		r = runtime_id(run->pool, run->name, id, sizeof(id));
	if (r < 0)
		return errf(errbuf, errlen, r, "container '%s': %s", run->name, strerror(-r));
	sigemptyset(&none);
	pid = fork();
	if (pid < 0)
		return errf(errbuf, errlen, -errno, "container '%s': fork: %s", run->name, strerror(errno));
	if (pid == 0) {
		const char *argv[] = { run->runtime, "--root", root, "run", "--bundle", bundle, id, NULL };

		/* The runtime starts with the signal state a program expects, not the caller's. */
		(void)sigprocmask(SIG_SETMASK, &none, NULL);
		execv(run->runtime, (char *const *)argv);
		_exit(127);
	}
	*ret_pid = pid;
	return 0;
}

static int run_end(struct dms_run *run, int exit_code, char *errbuf, size_t errlen)
{
	int r, k;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	r = dms_snap_run_ended(run->pool, run->name, exit_code);
	if (r < 0)
		errf(errbuf, errlen, r, "%s", dms_ctx_error(dms_pool_ctx(run->pool)));
	k = undo(run->pool, run->name, &run->spec, run->n_attached, run->mounted, r < 0 ? NULL : errbuf,
		 r < 0 ? 0 : errlen);
	if (r == 0)
		r = k;
	run_free(run);
	return r;
}

/* --- the public calls: checked input, and the steps' messages as the context's error ---------- */

/*
 * A failure of the library's that a step passed on (ERR is then the
 * library's message) keeps the kind the library gave it. The runtime's own
 * refusals are of what it was given (-EINVAL: no command to run, a user the
 * image lacks, a runtime path that leads nowhere) or of a container in use
 * (-EBUSY, -EEXIST); dms_fail tells those apart from the rest.
 */
static int run_fail(struct dms_pool *pool, const char *name, int r, const char *err)
{
	struct dms_ctx *ctx = dms_pool_ctx(pool);

	if (*err && strcmp(err, dms_ctx_error(ctx)) == 0)
		return r;
	if (!*err)
		return dms_fail(ctx, r, "container '%s': %s", name, strerror(-r));
	if (r == -EINVAL)
		return dms_fail_invalid(ctx, r, "%s", err);
	return dms_fail(ctx, r, "%s", err);
}

static int check_volume_opts(struct dms_ctx *ctx, const struct dms_run_volume *v)
{
	if (!dms_name_valid(v->name))
		return dms_fail_invalid(ctx, -EINVAL, "volume '%s': invalid name", v->name ? v->name : "");
	if (!v->path || v->path[0] != '/' || strlen(v->path) >= sizeof(((struct dms_spec_volume *)0)->path))
		return dms_fail_invalid(ctx, -EINVAL,
					"volume '%s': the path inside the container must be absolute, '%s' is not",
					v->name, v->path ? v->path : "");
	return 0;
}

int dms_run_create(struct dms_pool *pool, const struct dms_run_opts *opts, char **ret_name)
{
	struct dms_ctx *ctx = dms_pool_ctx(pool);
	struct dms_run_volume vols[DMS_RUN_VOLUMES_MAX];
	const struct dms_run_volume *vol_ptrs[DMS_RUN_VOLUMES_MAX];
	struct dms_run_opts o;
	char err[DMS_ERROR_MAX] = "", name[DMS_NAME_MAX + 1];
	int r;

	if (!opts)
		return dms_fail_invalid(ctx, -EINVAL, "run options: none given");
	r = dms_opts_read(ctx, "image", opts->image ? opts->image : "", opts,
			  dms_offsetofend(struct dms_run_opts, n_volumes), &o, sizeof(o));
	if (r < 0)
		return r;
	if (!dms_name_valid(o.image))
		return dms_fail_invalid(ctx, -EINVAL, "image '%s': invalid name", o.image ? o.image : "");
	if (o.name && !dms_name_valid(o.name))
		return dms_fail_invalid(ctx, -EINVAL, "container '%s': invalid name", o.name);
	if ((o.n_args && !o.args) || (o.n_env && !o.env) || (o.n_volumes && !o.volumes))
		return dms_fail_invalid(ctx, -EINVAL, "run options: a count without its list");
	if (o.n_volumes > DMS_RUN_VOLUMES_MAX)
		return dms_fail_invalid(ctx, -EINVAL, "run options: %zu volumes, at most %d", o.n_volumes,
					DMS_RUN_VOLUMES_MAX);
	for (size_t i = 0; i < o.n_volumes; i++) {
		const struct dms_run_volume *v = o.volumes[i];

		if (!v)
			return dms_fail_invalid(ctx, -EINVAL, "run options: volume %zu: NULL", i + 1);
		r = dms_opts_read(ctx, "volume", v->name ? v->name : "", v,
				  dms_offsetofend(struct dms_run_volume, read_only), &vols[i], sizeof(vols[i]));
		if (r < 0)
			return r;
		r = check_volume_opts(ctx, &vols[i]);
		if (r < 0)
			return r;
		vol_ptrs[i] = &vols[i];
	}
	o.volumes = vol_ptrs;
	r = run_create(pool, &o, name, sizeof(name), err, sizeof(err));
	if (r < 0)
		return run_fail(pool, o.name ? o.name : o.image, r, err);
	if (ret_name) {
		*ret_name = strdup(name);
		if (!*ret_name)
			return dms_fail(ctx, -ENOMEM, "container '%s': made, but its name could not be returned: %s",
					name, strerror(ENOMEM));
	}
	return 0;
}

int dms_run_begin(struct dms_pool *pool, const char *name, struct dms_run **ret_run)
{
	char err[DMS_ERROR_MAX] = "";
	int r;

	if (!dms_name_valid(name))
		return dms_fail_invalid(dms_pool_ctx(pool), -EINVAL, "container '%s': invalid name", name ? name : "");
	r = run_begin(pool, name, ret_run, err, sizeof(err));
	return r < 0 ? run_fail(pool, name, r, err) : 0;
}

int dms_run_spawn(struct dms_run *run, pid_t *ret_pid)
{
	char err[DMS_ERROR_MAX] = "";
	int r = run_spawn(run, ret_pid, err, sizeof(err));

	return r < 0 ? run_fail(run->pool, run->name, r, err) : 0;
}

int dms_run_end(struct dms_run *run, int exit_code)
{
	struct dms_pool *pool;
	char err[DMS_ERROR_MAX] = "", name[DMS_NAME_MAX + 1];
	int r;

	if (!run)
		return 0;
	pool = run->pool;
	snprintf(name, sizeof(name), "%s", run->name);
	r = run_end(run, exit_code, err, sizeof(err));
	return r < 0 ? run_fail(pool, name, r, err) : 0;
}

void dms_run_status_free(struct dms_run_status *status)
{
	if (!status)
		return;
	free(status->image);
	for (size_t i = 0; i < status->n_args; i++)
		free(status->args[i]);
	free(status->args);
	free(status);
}

/* What the run spec says the container runs; an unreadable spec says nothing. */
static int status_from_spec(struct dms_run_status *st, const char *json)
{
	struct dms_run_spec spec = { 0 };
	int r = 0;

	if (*json && dms_run_spec_from_json(json, &spec) == 0) {
		st->image = DMS_TAKE_PTR(spec.image);
		st->args = calloc(spec.n_args + 1, sizeof(*st->args));
		if (st->args) {
			memcpy(st->args, spec.args, spec.n_args * sizeof(*st->args));
			st->n_args = spec.n_args;
			spec.n_args = 0;
		}
	}
	if (!st->image)
		st->image = strdup("");
	if (!st->args)
		st->args = calloc(1, sizeof(*st->args));
	if (!st->image || !st->args)
		r = -ENOMEM;
	dms_run_spec_clear(&spec);
	return r;
}

int dms_run_status(struct dms_pool *pool, const char *name, struct dms_run_status **ret_status)
{
	struct dms_run_info *info = NULL;
	struct dms_run_status *st;
	char err[DMS_ERROR_MAX] = "";
	enum dms_run_state state = DMS_RUN_CREATED;
	int r;

	if (!dms_name_valid(name))
		return dms_fail_invalid(dms_pool_ctx(pool), -EINVAL, "container '%s': invalid name", name ? name : "");
	r = run_state(pool, name, &state, &info, err, sizeof(err));
	if (r < 0)
		return run_fail(pool, name, r, err);
	st = calloc(1, sizeof(*st));
	r = st ? status_from_spec(st, info->spec) : -ENOMEM;
	if (r < 0) {
		dms_run_info_free(info);
		dms_run_status_free(st);
		return dms_fail(dms_pool_ctx(pool), r, "container '%s': %s", name, strerror(-r));
	}
	st->size = sizeof(*st);
	st->state = state;
	st->pid = info->pid;
	st->has_exit_code = info->has_exit_code;
	st->exit_code = info->exit_code;
	st->started = info->started;
	st->finished = info->finished;
	dms_run_info_free(info);
	*ret_status = st;
	return 0;
}
