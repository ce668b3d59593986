// SPDX-License-Identifier: LGPL-2.1-or-later
#include "dmstore.h"

/* The library's version, as built: a program linked against an older header learns what it runs with. */
const char *dms_version(void)
{
	return DMS_VERSION;
}
