// SPDX-License-Identifier: LGPL-2.1-or-later
/* The thin-pool and thin status parsers, on any line the kernel might (or might not) send. */
#include <stdlib.h>

#include "dm/dm.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size);
	struct dms_thin_pool_status ps;
	struct dms_thin_status ts;

	if (dms_thin_pool_parse_status(s, &ps) == 0 &&
	    (ps.used_metadata_blocks > ps.total_metadata_blocks || ps.used_data_blocks > ps.total_data_blocks))
		abort();
	(void)dms_thin_parse_status(s, &ts);
	free(s);
	return 0;
}
