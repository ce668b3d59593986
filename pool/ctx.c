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
	ctx->lock_wait_ms = DMS_LOCK_WAIT_FOREVER;
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

void dms_ctx_set_lock_wait(struct dms_ctx *ctx, long timeout_ms)
{
	ctx->lock_wait_ms = timeout_ms < 0 ? DMS_LOCK_WAIT_FOREVER : timeout_ms;
}

void dms_ctx_set_lock_wait_notify(struct dms_ctx *ctx, dms_lock_wait_fn *fn, void *userdata)
{
	ctx->lock_wait_notify = fn;
	ctx->lock_wait_userdata = userdata;
}

int dms_fail(struct dms_ctx *ctx, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->error, sizeof(ctx->error), fmt, ap);
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
