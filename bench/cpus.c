// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The CPUs `bench io --cpus` runs its jobs on, in fio's cpus_allowed syntax
 * ("1", "0,2", "4-7,9"), so that the same text goes to fio unchanged. Job k
 * gets the k-th CPU of the set, in ascending order, wrapping: what fio's
 * cpus_allowed_policy=split does (fio_cpus_split in fio's backend.c), so that
 * each engine's job k runs where the other's does.
 *
 * Why pin: under the scheduler the two engines' jobs land on different CPUs
 * from run to run, and in a guest one vCPU may be slower than another for the
 * whole run (the host schedules it); a 1 MiB write run's p99 was seen at two to
 * three times the other engine's one way or the other, and the same within 3%
 * when both ran on the same vCPU.
 *
 * Written here, not taken from a library: glibc has the cpu_set_t macros but
 * no list parser (libnuma's numa_parse_cpustring would be a new dependency for
 * this alone).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/io.h"

static int read_cpu(const char **p, unsigned *ret)
{
	char *end;
	unsigned long v;

	if (**p < '0' || **p > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(*p, &end, 10);
	if (errno || v >= CPU_SETSIZE)
		return -ERANGE;
	*p = end;
	*ret = (unsigned)v;
	return 0;
}

int bench_cpus_parse(const char *text, cpu_set_t *ret, char *err, size_t len)
{
	const char *p = text;

	CPU_ZERO(ret);
	if (strlen(text) > BENCH_CPUS_TEXT_MAX) {
		snprintf(err, len, "longer than %d characters", BENCH_CPUS_TEXT_MAX);
		return -EINVAL;
	}
	for (;;) {
		unsigned first, last;
		int r = read_cpu(&p, &first);

		last = first;
		if (r == 0 && *p == '-') {
			p++;
			r = read_cpu(&p, &last);
		}
		if (r == -ERANGE) {
			snprintf(err, len, "CPU numbers go up to %d", CPU_SETSIZE - 1);
			return r;
		}
		if (r < 0 || (*p && *p != ',') || last < first) {
			snprintf(err, len, "not a CPU list (CPU numbers and ranges, comma-separated: 1, 0,2 or 4-7,9)");
			return -EINVAL;
		}
		for (unsigned c = first; c <= last; c++)
			CPU_SET(c, ret);
		if (!*p)
			return 0;
		p++;
	}
}

int bench_cpus_usable(const cpu_set_t *set, char *err, size_t len)
{
	cpu_set_t allowed;

	if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0) {
		int r = -errno;

		snprintf(err, len, "the CPUs this process may run on: %s", strerror(-r));
		return r;
	}
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, set) && !CPU_ISSET(c, &allowed)) {
			snprintf(err, len, "CPU %d is not one this process may run on (it may use %d CPUs)", c,
				 CPU_COUNT(&allowed));
			return -EINVAL;
		}
	return 0;
}

int bench_cpus_nth(const cpu_set_t *set, unsigned n)
{
	int count = CPU_COUNT(set), index = 0;

	if (!count)
		return -EINVAL;
	n %= (unsigned)count;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, set) && (unsigned)index++ == n)
			return c;
	return -EINVAL;
}
