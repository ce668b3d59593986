/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMS_FUZZ_H
#define DMS_FUZZ_H

/*
 * What the libFuzzer targets share: the input as a C string, and a scratch
 * directory of the process's own (under $TMPDIR) for the targets that parse
 * files. A target returns 0; what it finds, it finds by crashing (ASan,
 * UBSan, or an abort() on a broken promise).
 */

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* DATA as a NUL-terminated string (embedded NULs end it early, as they would for a caller); free it. */
char *fuzz_string(const uint8_t *data, size_t size);
/* A directory of this process's own, emptied: its path (static). */
const char *fuzz_scratch(void);
/* Write SIZE bytes to DIR/NAME (directories on the way made), aborting on failure. */
void fuzz_write(const char *dir, const char *name, const void *data, size_t size);

#endif
