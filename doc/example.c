// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A first program on libdmstore: the library's version, a size as the
 * command line takes it, and a pool's status, or the error that says why
 * there is none. Build it against an installed libdmstore:
 *
 *   cc -o example example.c $(pkg-config --cflags --libs dmstore)
 *
 * Run it as root on a machine with device-mapper to see a real pool:
 *
 *   ./example 64M p0
 *
 * `make check` builds it against a `make install` into a scratch DESTDIR and
 * runs it on a pool that does not exist (no device-mapper needed), expecting
 * exit status 3.
 */
#include <inttypes.h>
#include <stdio.h>

#include <dmstore.h>

int main(int argc, char **argv)
{
	const char *size = argc > 1 ? argv[1] : "512M";
	const char *name = argc > 2 ? argv[2] : "p0";
	struct dms_pool_status *st;
	struct dms_ctx *ctx;
	uint64_t bytes;
	char human[32];
	int r;

	printf("libdmstore %s\n", dms_version());

	r = dms_size_parse(size, &bytes);
	if (r < 0) {
		fprintf(stderr, "example: '%s' is not a size\n", size);
		return 2;
	}
	printf("%s is %" PRIu64 " bytes (%s)\n", size, bytes, dms_size_format(bytes, human, sizeof(human)));

	r = dms_ctx_new(&ctx);
	if (r < 0) {
		fprintf(stderr, "example: dms_ctx_new failed (%d)\n", r);
		return 1;
	}
	/* Errors are the calling thread's own: read them right after the call that failed. */
	r = dms_pool_status(ctx, name, &st);
	if (r < 0) {
		fprintf(stderr, "example: %s\n", dms_ctx_error(ctx));
		r = dms_ctx_error_kind(ctx) == DMS_ERROR_NOT_FOUND ? 3 : 1;
		dms_ctx_free(ctx);
		return r;
	}
	printf("pool '%s': %s, %" PRIu64 " of %" PRIu64 " data bytes used\n", st->name, st->mode, st->data_used,
	       st->data_total);
	/* How to read a field appended after the oldest libdmstore this runs with (this one is in all). */
	if (DMS_HAS_FIELD(st, device_count) && st->device_count >= 0)
		printf("pool '%s': %ld thin devices\n", st->name, st->device_count);
	dms_pool_status_free(st);
	dms_ctx_free(ctx);
	return 0;
}
