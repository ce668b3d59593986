// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A context shared by threads: each thread reads the error of its own call,
 * not the last one any thread made (include/dmstore.h, "Threads").
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmstore.h"

struct caller {
	struct dms_ctx *ctx;
	pthread_barrier_t *failed, *read;
	const char *pool;
	int r;
	char message[DMS_ERROR_MAX];
	enum dms_error_kind kind;
};

/* Fail, wait until the other thread has failed too, then read. */
static void *fail_then_read(void *arg)
{
	struct caller *c = arg;
	struct dms_pool *pool = NULL;

	c->r = dms_pool_open(c->ctx, c->pool, &pool);
	pthread_barrier_wait(c->failed);
	snprintf(c->message, sizeof(c->message), "%s", dms_ctx_error(c->ctx));
	c->kind = dms_ctx_error_kind(c->ctx);
	pthread_barrier_wait(c->read);
	return NULL;
}

static void test_errors_are_per_thread(void **state)
{
	pthread_barrier_t failed, read;
	struct dms_ctx *ctx;
	pthread_t t[2];
	struct caller c[2] = {
		{ .pool = "bad/name" },
		{ .pool = "nosuch" },
	};

	setenv("DMSTORE_STATE_DIR", "/nonexistent/dmstore-test-ctx", 1);
	assert_int_equal(dms_ctx_new(&ctx), 0);
	pthread_barrier_init(&failed, NULL, 2);
	pthread_barrier_init(&read, NULL, 2);
	for (int i = 0; i < 2; i++) {
		c[i].ctx = ctx;
		c[i].failed = &failed;
		c[i].read = &read;
		assert_int_equal(pthread_create(&t[i], NULL, fail_then_read, &c[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);

	assert_int_equal(c[0].r, -EINVAL);
	assert_non_null(strstr(c[0].message, "pool 'bad/name': invalid name"));
	assert_int_equal(c[0].kind, DMS_ERROR_INVALID);
	assert_int_equal(c[1].r, -ENOENT);
	assert_non_null(strstr(c[1].message, "pool 'nosuch' does not exist"));
	assert_int_equal(c[1].kind, DMS_ERROR_NOT_FOUND);
	/* This thread made no call: it has no error. */
	assert_string_equal(dms_ctx_error(ctx), "");
	assert_int_equal(dms_ctx_error_kind(ctx), DMS_ERROR_NONE);
	pthread_barrier_destroy(&failed);
	pthread_barrier_destroy(&read);
	dms_ctx_free(ctx);
}

static void test_error_names_its_context(void **state)
{
	struct dms_ctx *a, *b;
	struct dms_pool *pool = NULL;

	setenv("DMSTORE_STATE_DIR", "/nonexistent/dmstore-test-ctx", 1);
	assert_int_equal(dms_ctx_new(&a), 0);
	assert_int_equal(dms_ctx_new(&b), 0);
	assert_int_equal(dms_pool_open(a, "nosuch", &pool), -ENOENT);
	assert_non_null(strstr(dms_ctx_error(a), "does not exist"));
	assert_string_equal(dms_ctx_error(b), "");
	dms_ctx_free(a);
	/* Freed: a context made at the same address starts clean. */
	assert_int_equal(dms_ctx_new(&a), 0);
	assert_string_equal(dms_ctx_error(a), "");
	dms_ctx_free(a);
	dms_ctx_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors_are_per_thread),
		cmocka_unit_test(test_error_names_its_context),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
