// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The layer calls (dms_layer_*, which have no command) for the VM cases that
 * kill them at their crash points: linked with the test hooks, so that
 * DMSTORE_CRASH_AT works as in build/dmstore-test. It stands in for the
 * snapshotter's calls, one call per run:
 *
 *   layer-driver POOL prepare KEY [PARENT]   prints the new layer's device
 *   layer-driver POOL commit NAME KEY
 *   layer-driver POOL rm KEY
 *
 * Exit status as dmstore's: 0, 1 failed, 2 usage, 3 not found, 4 exists or in use.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dmstore.h>

#define LAYER_SIZE (64ULL << 20)

static int call(struct dms_pool *pool, int argc, char **argv)
{
	const char *verb = argv[2];
	char *dev = NULL;
	bool ro;
	int r;

	if (strcmp(verb, "prepare") == 0 && (argc == 4 || argc == 5)) {
		r = dms_layer_prepare(pool, argv[3], argc == 5 ? argv[4] : NULL, NULL, LAYER_SIZE, NULL);
		if (r == 0)
			r = dms_layer_mounts(pool, argv[3], &dev, &ro);
		if (r == 0)
			printf("%s\n", dev);
		free(dev);
		return r;
	}
	if (strcmp(verb, "commit") == 0 && argc == 5)
		return dms_layer_commit(pool, argv[3], argv[4], NULL);
	if (strcmp(verb, "rm") == 0 && argc == 4)
		return dms_layer_remove(pool, argv[3]);
	return 1;
}

int main(int argc, char **argv)
{
	static const int codes[] = {
		[DMS_ERROR_NOT_FOUND] = 3,
		[DMS_ERROR_EXISTS] = 4,
		[DMS_ERROR_INVALID] = 2,
	};
	struct dms_pool *pool = NULL;
	struct dms_ctx *ctx;
	enum dms_error_kind kind;
	int r;

	if (argc < 4) {
		fprintf(stderr, "usage: layer-driver POOL prepare KEY [PARENT] | commit NAME KEY | rm KEY\n");
		return 2;
	}
	if (dms_ctx_new(&ctx) < 0) {
		fprintf(stderr, "layer-driver: out of memory\n");
		return 1;
	}
	r = dms_pool_open(ctx, argv[1], &pool);
	if (r == 0)
		r = call(pool, argc, argv);
	if (r == 1)
		fprintf(stderr, "usage: layer-driver POOL prepare KEY [PARENT] | commit NAME KEY | rm KEY\n");
	else if (r < 0)
		fprintf(stderr, "layer-driver: %s\n", dms_ctx_error(ctx));
	kind = dms_ctx_error_kind(ctx);
	dms_pool_close(pool);
	dms_ctx_free(ctx);
	if (r == 1)
		return 2;
	if (r == 0)
		return 0;
	return (size_t)kind < sizeof(codes) / sizeof(codes[0]) && codes[kind] ? codes[kind] : 1;
}
