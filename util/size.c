// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmstore.h"

/*
 * The largest size dmstore takes: 256 TiB. What bounds it:
 *  - The catalogue keeps sizes as SQLite's int64 (below 8 EiB); dm tables count
 *    512-byte sectors in 64 bits; a thin device's virtual size has no limit of
 *    its own in dm-thin (64-bit block numbers). None of these binds first.
 *  - ext4 as fs/ext4.c makes it (64bit, extents, flex_bg): 48-bit block numbers,
 *    1 EiB at 4 KiB blocks, and fs/ext4.c refuses above 2^47 blocks (512 PiB).
 *    Not binding either.
 *  - What a format costs, which is what binds. Measured on sparse files (tmpfs),
 *    fs/ext4.c's format as a volume create runs it (assume_zeroed):
 *        size   pool space written   peak memory   time
 *         16T          203 MiB           20 MiB    0.3 s
 *         64T          874 MiB           76 MiB    1.9 s
 *        128T         1876 MiB          150 MiB    2.6 s
 *        256T          424 MiB          565 MiB    2.7 s   (meta_bg from here)
 *          1P         1600 MiB         2156 MiB   17 s
 *          4P         6272 MiB         8491 MiB   52 s
 *    Up to 256 TiB an empty filesystem costs at most ~4 GiB of the pool (just
 *    below 256 TiB, before libext2fs switches to meta_bg: extrapolated from
 *    the doubling above), well under a GiB of memory, and seconds; e2fsck -fn
 *    finds the 256 TiB one clean. Past it the
 *    memory a format takes in the caller's process grows by ~2 GiB per PiB: a
 *    daemon must not be asked for that by a typo.
 */
#define UNITS "KMGTPE"

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Case-blind, but not through the locale: a daemon's Turkish locale must not turn "GIB" into something else. */
static bool ascii_equal_nocase(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (ascii_lower(*a) != ascii_lower(*b))
			return false;
	return *a == *b;
}

/* K: 10, M: 20, ... E: 60; -1 for anything else. */
static int unit_shift(char c)
{
	for (int i = 0; UNITS[i]; i++)
		if (c == UNITS[i] || c == ascii_lower(UNITS[i]))
			return 10 * (i + 1);
	return -1;
}

/*
 * SIZE = DIGITS [UNIT ["iB" | "B"]], UNIT one of K M G T P E (any case),
 * binary: "4096", "64K", "100G", "512MiB", "1tb". Nothing else: no sign, no
 * spaces, no fraction, no exponent, no hex (strtold took "1e3" and "0x1p30").
 */
int dms_size_parse(const char *text, uint64_t *ret_bytes)
{
	const char *p = text;
	bool overflow = false;
	unsigned shift = 0;
	uint64_t v = 0;

	if (!text || *p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			overflow = true;
		else
			v = v * 10 + d;
	}
	if (*p) {
		int u = unit_shift(*p++);

		if (u < 0)
			return -EINVAL;
		shift = (unsigned)u;
		if (*p && !ascii_equal_nocase(p, "iB") && !ascii_equal_nocase(p, "B"))
			return -EINVAL;
	}
	if (overflow || v > DMS_SIZE_MAX >> shift)
		return -ERANGE;
	*ret_bytes = v << shift;
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
