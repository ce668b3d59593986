// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The catalogue opened on a corrupt file: the migrations and every reader
 * must fail cleanly (an errno), never crash or read past a row's fields.
 */
#include <stdio.h>
#include <stdlib.h>

#include "pool/catalog.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dir = fuzz_scratch();
	struct dms_catalog *cat;
	struct dms_row *rows = NULL, row;
	char path[4096];
	uint64_t txn;
	uint32_t id;
	size_t n = 0;

	fuzz_write(dir, "catalog.db", data, size);
	snprintf(path, sizeof(path), "%s/catalog.db", dir);
	if (dms_catalog_open(path, &cat) < 0)
		return 0;
	(void)dms_catalog_get_txn(cat, &txn);
	(void)dms_catalog_free_thin_id(cat, 0, &id);
	if (dms_catalog_list(cat, -1, 0, &rows, &n) == 0) {
		for (size_t i = 0; i < n; i++)
			(void)dms_catalog_get(cat, rows[i].id, &row);
		free(rows);
	}
	if (dms_catalog_list_unfinished(cat, &rows, &n) == 0)
		free(rows);
	dms_catalog_close(cat);
	return 0;
}
