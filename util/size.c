// SPDX-License-Identifier: LGPL-2.1-or-later
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmstore.h"

/* "100G", "64K", "1.5T", "512MiB", "4096": binary units, as lvm and dmsetup users expect. */
int dms_size_parse(const char *text, uint64_t *ret_bytes)
{
	static const char units[] = "KMGTPE";
	const char *unit;
	char *end;
	long double v;
	unsigned shift = 0;

	if (!text || !isdigit((unsigned char)text[0]))
		return -EINVAL;
	errno = 0;
	v = strtold(text, &end);
	if (errno || end == text)
		return -EINVAL;
	if (*end) {
		unit = strchr(units, toupper((unsigned char)*end));
		if (!unit)
			return -EINVAL;
		shift = 10U * (unsigned)(unit - units + 1);
		end++;
		if (strcasecmp(end, "iB") == 0 || strcasecmp(end, "B") == 0)
			end += strlen(end);
		if (*end)
			return -EINVAL;
	}
	v *= (long double)(1ULL << shift);
	if (v >= 18446744073709551616.0L)
		return -ERANGE;
	if (v != (long double)(uint64_t)v)
		return -EINVAL; /* fractions of a byte */
	*ret_bytes = (uint64_t)v;
	return 0;
}

const char *dms_size_format(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	long double v = (long double)bytes;
	unsigned i = 0;

	while (v >= 1024.0L && i < 6) {
		v /= 1024.0L;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	else if (v == (long double)(uint64_t)v)
		snprintf(buf, len, "%llu %s", (unsigned long long)v, units[i]);
	else
		snprintf(buf, len, "%.1Lf %s", v, units[i]);
	return buf;
}
