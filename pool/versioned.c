// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The rules that let the ABI grow (include/dmstore.h, "Structs, so the ABI
 * can grow"): how options passed in are read whatever header the caller was
 * built with, and the strings of what the library hands out, never NULL.
 */
#include <errno.h>
#include <string.h>

#include "pool/internal.h"

int dms_opts_read(struct dms_ctx *ctx, const char *object, const char *name, const void *opts, size_t first_size,
		  void *ret, size_t size)
{
	const unsigned char *tail = (const unsigned char *)opts + size;
	uint32_t given;

	memcpy(&given, opts, sizeof(given));
	if (given < first_size)
		return dms_fail_invalid(ctx, -EINVAL,
					"%s '%s': options of size %u: set their size to their sizeof (DMS_OPTS_INIT)",
					object, name, given);
	/* A newer caller's fields this library does not know are fine as long as they ask for nothing. */
	for (size_t i = 0; given > size && i < given - size; i++)
		if (tail[i])
			return dms_fail_invalid(
				ctx, -E2BIG,
				"%s '%s': options of size %u set fields this libdmstore (%s, size %zu) does not know",
				object, name, given, DMS_VERSION, size);
	memset(ret, 0, size);
	memcpy(ret, opts, given < size ? given : size);
	memcpy(ret, &(uint32_t){ (uint32_t)size }, sizeof(uint32_t));
	return 0;
}

int dms_str_set(char **dst, const char *src)
{
	*dst = strdup(src ? src : "");
	return *dst ? 0 : -ENOMEM;
}
