/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMS_RUNTIME_H
#define DMS_RUNTIME_H

/*
 * Running containers on an OCI runtime (crun or runc), on top of the pool's
 * public API: a container's snapshot is mounted, its volumes attached, an OCI
 * runtime bundle written (config.json per the runtime spec, runtime-spec
 * config.md and config-linux.md), and the runtime started on it.
 *
 * State: the spec (how the container runs) and its last run are in the
 * catalogue (dms_snap_run_*); the runtime's own state lives under
 * <run dir>/<pool>.runtime (its --root), bundles under <run dir>/<pool>.bundles.
 * The dmstore watching a run holds the container's run lock; when it dies
 * mid-run, dms_run_reap (called by the next run, start, ps or rm) kills what
 * the runtime still runs, detaches the volumes, unmounts, and records the run
 * as ended with an unknown exit code.
 *
 * Functions return 0 or a negative errno and put one line in ERRBUF.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "dmstore.h"

struct dms_run_volume {
	char name[DMS_NAME_MAX + 1];
	char path[4096];
	bool read_only;
};

/* How a container runs: kept as JSON in the catalogue, made once by `run`. */
struct dms_run_spec {
	char *image;
	char **args;	/* the process: entrypoint and command, resolved */
	size_t n_args;
	char **env;	/* K=V, the image's, a default PATH, then -e's */
	size_t n_env;
	char *workdir;	/* absolute */
	char *user;	/* "UID[:GID]", a name from the image's /etc/passwd, "" for root */
	char *hostname;
	bool host_network;
	bool read_only;
	char *runtime;	/* "crun", "runc", a path; NULL: crun, else runc */
	struct dms_run_volume *volumes;
	size_t n_volumes;
};

void dms_run_spec_clear(struct dms_run_spec *spec);
int dms_run_spec_to_json(const struct dms_run_spec *spec, char **ret_json);
int dms_run_spec_from_json(const char *json, struct dms_run_spec *ret_spec);

/* What `dmstore run` is given. */
struct dms_run_opts {
	const char *name; /* NULL: generated */
	const char *image;
	const struct dms_run_volume *volumes;
	size_t n_volumes;
	char *const *env; /* K=V, or K: taken from this process's environment if set there */
	size_t n_env;
	const char *workdir, *user, *entrypoint, *hostname;
	bool host_network;
	bool read_only;
	const char *runtime;
	char *const *args; /* CMD ARG..., replacing the image's Cmd */
	size_t n_args;
};

/*
 * The spec for OPTS from the image's config (IMAGE_CONFIG, as dms_image_config
 * gives it): the process from Entrypoint and Cmd unless given, Env, WorkingDir,
 * User. -EINVAL when there is no process to run.
 */
int dms_run_spec_make(const struct dms_run_opts *opts, const char *image_config, const char *name,
		      struct dms_run_spec *ret_spec, char *errbuf, size_t errlen);

/* The runtime's executable for WANT (see dms_run_spec.runtime); -ENOENT naming where it looked. */
int dms_runtime_find(const char *want, char *buf, size_t len, char *errbuf, size_t errlen);

/*
 * config.json for SPEC with ROOTFS as root.path, the process run as UID:GID:
 * namespaces (pid, ipc, uts, mount, cgroup, and network unless host), /proc,
 * /dev, /dev/pts, /dev/shm, /dev/mqueue, /sys, Docker's default capability
 * set (effective only for root), masked and read-only paths, no seccomp.
 */
struct json_object;
int dms_bundle_config(const struct dms_run_spec *spec, const char *rootfs, uid_t uid, gid_t gid,
		      struct json_object **ret);

/*
 * A user in the image: "UID[:GID]" numeric, or names looked up in the
 * rootfs's /etc/passwd and /etc/group (resolved inside ROOTFD). A numeric UID
 * without a group takes its passwd entry's group, else 0. "" is root.
 */
int dms_run_user_resolve(int rootfd, const char *user, uid_t *ret_uid, gid_t *ret_gid, char *errbuf,
			 size_t errlen);

/*
 * `dmstore run`'s first half: check everything (the runtime, the image and its
 * process, the volumes: none may be attached read-write to another container),
 * then make the container (name in RET_NAME) and record its spec. On failure
 * nothing is left.
 */
int dms_run_create(struct dms_pool *pool, const struct dms_run_opts *opts, char *ret_name, size_t len,
		   char *errbuf, size_t errlen);

/* A run in progress, from dms_run_begin to dms_run_end. */
struct dms_run;

/*
 * Take the run lock (-EBUSY: running already), clean up after a dead run,
 * mount the container, attach its volumes, write the bundle, record the run as
 * started. Then dms_run_spawn starts the runtime in the foreground (the
 * caller's stdio), and the caller waits for RET_PID itself (it may forward
 * signals to it); dms_run_end records EXIT_CODE, detaches, unmounts, and
 * frees RUN, whatever happened.
 */
int dms_run_begin(struct dms_pool *pool, const char *name, struct dms_run **ret_run, char *errbuf, size_t errlen);
int dms_run_spawn(struct dms_run *run, pid_t *ret_pid, char *errbuf, size_t errlen);
int dms_run_end(struct dms_run *run, int exit_code, char *errbuf, size_t errlen);

/* After a dmstore that died mid-run: 1 if something was cleaned up, 0 if nothing needed to be. */
int dms_run_reap(struct dms_pool *pool, const char *name, char *errbuf, size_t errlen);

enum dms_run_state { DMS_RUN_CREATED, DMS_RUN_RUNNING, DMS_RUN_EXITED };
/* Reaps first. */
int dms_run_state(struct dms_pool *pool, const char *name, enum dms_run_state *ret_state,
		  struct dms_run_info **ret_info, char *errbuf, size_t errlen);

#endif
