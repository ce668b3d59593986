// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The name checks, and the dm names made of what they accept: a name that
 * passes holds no '/', is no "." or "..", and its dm name, when it fits, reads
 * back one way only (a single '-' always separates).
 */
#include <stdlib.h>
#include <string.h>

#include "dmstore.h"
#include "dm/dm.h"
#include "pool/internal.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), *name, dm[DMS_DM_NAME_MAX + 1];
	const char *pool = "p-1";

	/* The first NUL-free half is the pool's name, if it is one. */
	name = strchr(s, ',');
	if (name) {
		*name++ = '\0';
		if (dms_pool_name_valid(s))
			pool = s;
	} else {
		name = s;
	}
	if (dms_name_valid(name)) {
		if (strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
			abort();
		if (dms_dm_name(pool, "vol", name, 7, dm, sizeof(dm)) == 0) {
			size_t seps = 0;

			for (const char *p = dm; *p; p++) {
				if (p[0] == '-' && p[1] == '-') {
					p++;
					continue;
				}
				seps += *p == '-';
			}
			if (seps != 3 || strlen(dm) > DMS_DM_NAME_MAX)
				abort();
		}
	}
	free(s);
	return 0;
}
