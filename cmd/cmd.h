/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMS_CMD_H
#define DMS_CMD_H

#include <stdbool.h>

#include <json-c/json.h>

#include "conf/config.h"
#include "dms-util.h"
#include "dmstore.h"

/*
 * Exit codes, documented in dmstore(8). Scripts branch on them, so each means
 * one thing and never changes.
 */
enum {
	EXIT_OK = 0,
	EXIT_FAILURE_ = 1,  /* the operation failed */
	EXIT_USAGE = 2,	    /* bad syntax, invalid name, size or option */
	EXIT_NOT_FOUND = 3, /* the named object does not exist */
	EXIT_EXISTS = 4,    /* the object exists already, or is in use */
	EXIT_PERM = 5,	    /* not root */
};

struct cmd_ctx {
	struct dms_ctx *lib;
	const char *group; /* "pool", for messages */
	struct config config;
};

struct cmd {
	const char *name;
	int (*run)(int argc, char **argv, struct cmd_ctx *ctx);
	const char *summary;
};

/* One line to stderr: "dmstore: <msg>". Returns EXIT_USAGE, for `return usage_error(...)`. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Report the library's message for failure R and return the exit code of the kind of failure it was. */
int lib_error(struct cmd_ctx *ctx, int r);
int exit_code_for(enum dms_error_kind kind);
int require_root(const char *what);
/* Run the subcommand of GROUP named by argv[1] from TABLE; prints the group's help for -h/--help. */
int dispatch(const char *group, const struct cmd *table, int argc, char **argv, struct cmd_ctx *ctx,
	     const char *help);

/* The notice while a change waits for a pool's lock (dms_ctx_set_lock_wait_notify): one line on stderr. */
void print_lock_wait(const char *pool, const struct dms_lock_holder *holder, void *userdata);

int parse_size_arg(const char *opt, const char *text, uint64_t *ret);
/* --wait SECONDS of command CMD, in milliseconds for dms_ctx_set_lock_wait: 0, or EXIT_USAGE (reported). */
int parse_wait_arg(const char *cmd, const char *text, long *ret_ms);
/* Print O as pretty JSON on stdout, and release it. */
void json_print(json_object *o);
/* What a removal prints with --json: {"type", "name", "pool", "removed": true}; schema in dmstore(8). */
json_object *removed_json(const char *type, const char *name, const char *pool);

/* Scope-bound owners of what the library hands out (dms-util.h's _cleanup_). */
static inline void pool_status_freep(struct dms_pool_status **p)
{
	dms_pool_status_free(*p);
}
static inline void image_info_freep(struct dms_image_info **p)
{
	dms_image_info_free(*p);
}
static inline void snap_info_freep(struct dms_snap_info **p)
{
	dms_snap_info_free(*p);
}
static inline void vol_info_freep(struct dms_vol_info **p)
{
	dms_vol_info_free(*p);
}
static inline void run_info_freep(struct dms_run_info **p)
{
	dms_run_info_free(*p);
}

/* What an object command (image, snap) accepts, and what it was given. */
struct cmd_args {
	const char *cmd;  /* "image create", for messages */
	const char *help; /* printed for --help */
	int min_operands, max_operands;
	bool allow_json, allow_force, allow_size, allow_image, allow_platform;
	bool allow_wait; /* the command changes the pool, so it may wait for its lock */

	const char *operands[4];
	int n_operands;
	const char *pool_name; /* --pool, else cmd_default_pool(), else NULL: the only pool */
	bool json, force;
	uint64_t size;
	const char *image;
	const char *platform; /* --platform OS/ARCH */
	long wait_ms; /* --wait; DMS_LOCK_WAIT_FOREVER unless given */
	struct dms_pool *pool;
};

/* 0 parsed; -1 help was printed; else the exit code of a usage error (already reported). */
int cmd_parse(struct cmd_ctx *ctx, struct cmd_args *a, int argc, char **argv);
/* The pool an object command uses without --pool: $DMSTORE_POOL, else the config file's; NULL: the only one. */
const char *cmd_default_pool(const struct cmd_ctx *ctx);
/* Root check and dms_pool_open, with --wait set for its changes: 0, or the exit code (reported). */
int cmd_open_pool(struct cmd_ctx *ctx, struct cmd_args *a);
/* Whether NAME is a valid name for a WHAT (volume, container...); if not, says so for CMD. */
bool cmd_check_name(const char *cmd, const char *what, const char *name);
/* Close the pool and pass CODE through. */
int cmd_done(struct cmd_ctx *ctx, struct cmd_args *a, int code);

/*
 * A progress line on stderr for a long import, redrawn in place at most a few
 * times a second, only when stderr is a terminal; ended by progress_done.
 */
struct progress {
	bool tty;
	double start, last;
	bool seen;
	struct dms_import_progress now;
};
void progress_init(struct progress *p);
void progress_show(const struct dms_import_progress *ip, void *arg);
void progress_done(struct progress *p);

/* The pools' statuses *ST[N] in Prometheus' text format on stdout: EXIT_OK, or the exit code of a failure (reported). */
int pool_metrics_print(struct cmd_ctx *ctx, struct dms_pool_status *const *st, size_t n);

int cmd_pool(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_image(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_snap(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_vol(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_bench(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_run(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_start(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_ps(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_config(int argc, char **argv, struct cmd_ctx *ctx);
int pool_monitor(int argc, char **argv, struct cmd_ctx *ctx);

#endif
