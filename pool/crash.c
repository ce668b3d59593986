// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Crash points: DMSTORE_CRASH_AT=<op>:<step> kills the process with SIGKILL
 * when it reaches that step, as a power cut would stop it: no cleanup, no
 * atexit, no buffered output. Tests use it to prove recovery at every step.
 * DMSTORE_STOP_AT=<op>:<step> stops it there instead (SIGSTOP), holding
 * whatever it holds at that step, so a test can show what other processes
 * can do meanwhile, and then let it go on (SIGCONT).
 * Compiled into test builds only (the Makefile's DMS_TEST_HOOKS).
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pool/internal.h"

#ifdef DMS_TEST_HOOKS

static bool names(const char *var, const char *op, const char *step)
{
	const char *at = getenv(var);
	size_t n;

	if (!at)
		return false;
	n = strlen(op);
	return strncmp(at, op, n) == 0 && at[n] == ':' && strcmp(at + n + 1, step) == 0;
}

void dms_crash_point(const char *op, const char *step)
{
	if (names("DMSTORE_CRASH_AT", op, step))
		(void)kill(getpid(), SIGKILL);
	if (names("DMSTORE_STOP_AT", op, step))
		(void)kill(getpid(), SIGSTOP);
}

void dms_crash_point_n(const char *op, const char *step, uint64_t n)
{
	char name[64];

	snprintf(name, sizeof(name), "%s-%" PRIu64, step, n);
	dms_crash_point(op, name);
}
#endif
