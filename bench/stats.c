// SPDX-License-Identifier: LGPL-2.1-or-later
/* Samples, percentiles, the clock, and timing a program run. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench.h"
#include "dms-util.h"

int bench_samples_add(struct bench_samples *s, double ms)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		double *grown = realloc(s->ms, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		s->ms = grown;
		s->cap = cap;
	}
	s->ms[s->n++] = ms;
	return 0;
}

void bench_samples_free(struct bench_samples *s)
{
	free(s->ms);
	*s = (struct bench_samples){ 0 };
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The samples sorted, in a copy the caller frees; NULL when there are none or no memory. */
static double *sorted_copy(const struct bench_samples *s)
{
	double *sorted;

	if (!s->n)
		return NULL;
	sorted = malloc(s->n * sizeof(*sorted));
	if (!sorted)
		return NULL;
	memcpy(sorted, s->ms, s->n * sizeof(*sorted));
	qsort(sorted, s->n, sizeof(*sorted), cmp_double);
	return sorted;
}

double bench_percentile(const struct bench_samples *s, double p)
{
	_cleanup_free_ double *sorted = sorted_copy(s);
	double exact;
	size_t rank;

	if (!sorted)
		return NAN;
	/* Nearest rank: ceil(p/100 * n), 1-based; p99 of 200 samples is the 198th. */
	exact = p / 100.0 * (double)s->n;
	rank = (size_t)exact;
	if ((double)rank < exact)
		rank++;
	if (rank < 1)
		rank = 1;
	if (rank > s->n)
		rank = s->n;
	return sorted[rank - 1];
}

double bench_median(const struct bench_samples *s)
{
	_cleanup_free_ double *sorted = sorted_copy(s);

	if (!sorted)
		return NAN;
	return s->n % 2 ? sorted[s->n / 2] : (sorted[s->n / 2 - 1] + sorted[s->n / 2]) / 2;
}

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

double bench_ms_since(uint64_t t0_ns)
{
	return (double)(bench_now_ns() - t0_ns) / 1e6;
}

int bench_exec(const char *const argv[], bool may_fail, double *ret_ms, char *err, size_t len)
{
	uint64_t t0 = bench_now_ns();
	int r, status;

	/* The pipes are part of what any caller that captures errors pays. */
	r = bench_spawn(argv, NULL, NULL, &status, NULL, err, len);
	if (r < 0)
		return r;
	*ret_ms = bench_ms_since(t0);
	if (status != 0 && may_fail) {
		*err = '\0'; /* a probe's "no": not a failure to report */
		return 1;
	}
	return status != 0 ? -EIO : 0; /* ERR says why */
}
