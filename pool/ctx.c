// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "dm/dm.h"
#include "dms-util.h"
#include "pool/internal.h"

/*
 * The last failure, per thread, as errno is: the threads of a daemon share
 * one context, and each must read its own call's error, not another's. It
 * names the context it came from, so a thread that uses two reads the one
 * it asks about.
 */
struct last_error {
	const struct dms_ctx *ctx;
	enum dms_error_kind kind;
	char message[DMS_ERROR_MAX];
};

static _Thread_local struct last_error last_error;

static char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);

	return strdup(v && *v ? v : fallback);
}

int dms_ctx_new(struct dms_ctx **ret_ctx)
{
	struct dms_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return -ENOMEM;
	ctx->state_dir = env_or("DMSTORE_STATE_DIR", "/var/lib/dmstore");
	ctx->run_dir = env_or("DMSTORE_RUN_DIR", "/run/dmstore");
	ctx->lock_wait_ms = DMS_LOCK_WAIT_FOREVER;
	ctx->min_free_percent = DMS_MIN_FREE_DEFAULT;
	if (!ctx->state_dir || !ctx->run_dir) {
		dms_ctx_free(ctx);
		return -ENOMEM;
	}
	*ret_ctx = ctx;
	return 0;
}

void dms_ctx_free(struct dms_ctx *ctx)
{
	if (!ctx)
		return;
	/* A context made later at the same address must not inherit this one's error. */
	if (last_error.ctx == ctx)
		last_error = (struct last_error){ 0 };
	free(ctx->state_dir);
	free(ctx->run_dir);
	free(ctx->mount_options);
	free(ctx);
}

const char *dms_ctx_error(const struct dms_ctx *ctx)
{
	return last_error.ctx == ctx ? last_error.message : "";
}

void dms_devmapper_quiet(void)
{
	dms_dm_quiet();
}

const char *dms_ctx_state_dir(const struct dms_ctx *ctx)
{
	return ctx->state_dir;
}

void dms_ctx_set_lock_wait(struct dms_ctx *ctx, long timeout_ms)
{
	ctx->lock_wait_ms = timeout_ms < 0 ? DMS_LOCK_WAIT_FOREVER : timeout_ms;
}

void dms_ctx_set_lock_wait_notify(struct dms_ctx *ctx, dms_lock_wait_fn *fn, void *userdata)
{
	ctx->lock_wait_notify = fn;
	ctx->lock_wait_userdata = userdata;
}

int dms_ctx_set_min_free(struct dms_ctx *ctx, unsigned percent)
{
	if (percent > 99)
		return dms_fail_invalid(ctx, -EINVAL, "free-space floor %u%%: give 0 to 99", percent);
	ctx->min_free_percent = percent;
	return 0;
}

/* The mount(8) words that are mount flags, not ext4 options: dmstore sets those itself. */
static const char *const mount_flags[] = {
	"ro", "rw", "suid", "nosuid", "dev", "nodev", "exec", "noexec", "atime", "noatime", "relatime",
	"norelatime", "strictatime", "nostrictatime", "diratime", "nodiratime", "lazytime", "nolazytime",
	"sync", "async", "dirsync", "mand", "nomand", "remount", "bind", "rbind", "move", "defaults",
	"silent", "loud", "user", "nouser", "users", "owner", "group", "auto", "noauto",
};

static bool is_mount_flag(const char *option)
{
	for (size_t i = 0; i < sizeof(mount_flags) / sizeof(mount_flags[0]); i++)
		if (strcmp(option, mount_flags[i]) == 0)
			return true;
	return false;
}

int dms_ctx_set_mount_options(struct dms_ctx *ctx, const char *options)
{
	_cleanup_free_ char *copy = NULL;
	char *save = NULL, *keep = NULL;
	size_t n = options ? strlen(options) : 0;

	if (n) {
		if (n >= DMS_MOUNT_OPTIONS_MAX ||
		    options[strspn(options, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_=,.:/-")])
			return dms_fail_invalid(ctx, -EINVAL,
						"mount options '%s': use up to %d of [A-Za-z0-9_=,.:/-], comma-separated",
						options, DMS_MOUNT_OPTIONS_MAX - 1);
		if (strstr(options, ",,") || options[0] == ',' || options[n - 1] == ',')
			return dms_fail_invalid(ctx, -EINVAL, "mount options '%s': an empty option", options);
		copy = strdup(options);
		if (!copy)
			return -ENOMEM;
		for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save))
			if (is_mount_flag(o))
				return dms_fail_invalid(ctx, -EINVAL,
							"mount options '%s': '%s' is a mount flag, which dmstore sets itself",
							options, o);
		keep = strdup(options);
		if (!keep)
			return -ENOMEM;
	}
	free(ctx->mount_options);
	ctx->mount_options = keep;
	return 0;
}

enum dms_error_kind dms_ctx_error_kind(const struct dms_ctx *ctx)
{
	return last_error.ctx == ctx ? last_error.kind : DMS_ERROR_NONE;
}

static int vfail(struct dms_ctx *ctx, enum dms_error_kind kind, int r, const char *fmt, va_list ap)
{
	vsnprintf(last_error.message, sizeof(last_error.message), fmt, ap);
	last_error.kind = kind;
	last_error.ctx = ctx;
	return r;
}

static enum dms_error_kind kind_of(int r)
{
	return r == -EEXIST || r == -EBUSY || r == -ENOTEMPTY ? DMS_ERROR_EXISTS : DMS_ERROR_FAILED;
}

int dms_fail(struct dms_ctx *ctx, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	r = vfail(ctx, kind_of(r), r, fmt, ap);
	va_end(ap);
	return r;
}

int dms_fail_kind(struct dms_ctx *ctx, enum dms_error_kind kind, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	r = vfail(ctx, kind, r, fmt, ap);
	va_end(ap);
	return r;
}

int dms_fail_path(struct dms_ctx *ctx, int r, const char *fmt, ...)
{
	bool bad = r == -ENOENT || r == -ENOTDIR || r == -ELOOP || r == -ENAMETOOLONG || r == -ENOTBLK;
	va_list ap;

	va_start(ap, fmt);
	r = vfail(ctx, bad ? DMS_ERROR_INVALID : kind_of(r), r, fmt, ap);
	va_end(ap);
	return r;
}

void dms_strv_free(char **strv, size_t n)
{
	if (!strv)
		return;
	for (size_t i = 0; i < n; i++)
		free(strv[i]);
	free(strv);
}
