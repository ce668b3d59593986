// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * dms_size_parse, and its promises: what it accepts is at most DMS_SIZE_MAX and
 * reads back the same in plain bytes; dms_size_format prints any of it.
 */
#include <stdio.h>
#include <stdlib.h>

#include "dmstore.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), buf[32];
	uint64_t n, m;

	if (dms_size_parse(s, &n) == 0) {
		if (n > DMS_SIZE_MAX)
			abort();
		dms_size_format(n, buf, sizeof(buf));
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)n);
		if (dms_size_parse(buf, &m) != 0 || m != n)
			abort();
	}
	free(s);
	return 0;
}
