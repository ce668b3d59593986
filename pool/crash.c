// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Crash points: DMSTORE_CRASH_AT=<op>:<step> kills the process with SIGKILL
 * when it reaches that step, as a power cut would stop it: no cleanup, no
 * atexit, no buffered output. Tests use it to prove recovery at every step.
 * Compiled into test builds only (the Makefile's DMS_TEST_HOOKS).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pool/internal.h"

#ifdef DMS_TEST_HOOKS

void dms_crash_point(const char *op, const char *step)
{
	const char *at = getenv("DMSTORE_CRASH_AT");
	size_t n;

	if (!at)
		return;
	n = strlen(op);
	if (strncmp(at, op, n) == 0 && at[n] == ':' && strcmp(at + n + 1, step) == 0)
		(void)kill(getpid(), SIGKILL);
}
#endif
