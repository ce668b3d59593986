// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "dms-util.h"
#include "pool/internal.h"

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
	free(ctx->state_dir);
	free(ctx->run_dir);
	free(ctx);
}

const char *dms_ctx_error(const struct dms_ctx *ctx)
{
	return ctx->error;
}

const char *dms_ctx_state_dir(const struct dms_ctx *ctx)
{
	return ctx->state_dir;
}

enum dms_error_kind dms_ctx_error_kind(const struct dms_ctx *ctx)
{
	return ctx->error_kind;
}

static int vfail(struct dms_ctx *ctx, enum dms_error_kind kind, int r, const char *fmt, va_list ap)
{
	vsnprintf(ctx->error, sizeof(ctx->error), fmt, ap);
	ctx->error_kind = kind;
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
