// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A latency histogram in the manner of HdrHistogram (and of fio's own): log-
 * linear buckets, 2^BENCH_HIST_SUB_BITS of them per power of two, so a value
 * lands in a bucket no wider than 1/128 of it. Recording is an index
 * computation and an increment, memory is fixed (35 KiB) whatever the run's
 * length, and two histograms merge by adding counts. No C HdrHistogram is
 * packaged in Debian; this is the part of it the benchmark needs, by hand.
 *
 * Bucket index of v: e = max(0, msb(v) - SUB_BITS), index = e * 2^SUB_BITS + (v >> e).
 * Values below 2^(SUB_BITS + 1) are exact; above, bucket e spans 2^e values.
 */
#include <string.h>

#include "bench/bench.h"

static unsigned bucket_of(uint64_t v)
{
	unsigned e = 0, msb;

	if (v > BENCH_HIST_MAX_NS)
		v = BENCH_HIST_MAX_NS;
	msb = v ? 63 - (unsigned)__builtin_clzll(v) : 0;
	if (msb > BENCH_HIST_SUB_BITS)
		e = msb - BENCH_HIST_SUB_BITS;
	return (e << BENCH_HIST_SUB_BITS) + (unsigned)(v >> e);
}

/* The middle of bucket I, as fio reports its own buckets. */
static double value_of(unsigned i)
{
	unsigned e = i >> BENCH_HIST_SUB_BITS;
	uint64_t base;

	if (e > 0)
		e--;
	/* Undo bucket_of: for e >= 1 the sub-bucket (v >> e) runs from 2^SUB_BITS to 2^(SUB_BITS+1) - 1. */
	base = (uint64_t)(i - (e << BENCH_HIST_SUB_BITS)) << e;
	return (double)base + ((double)(1ULL << e) - 1.0) / 2.0;
}

void bench_hist_add(struct bench_hist *h, uint64_t ns)
{
	h->buckets[bucket_of(ns)]++;
	h->count++;
	h->sum_ns += (double)ns;
	if (h->count == 1 || ns < h->min_ns)
		h->min_ns = ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

void bench_hist_merge(struct bench_hist *into, const struct bench_hist *from)
{
	if (!from->count)
		return;
	for (size_t i = 0; i < BENCH_HIST_BUCKETS; i++)
		into->buckets[i] += from->buckets[i];
	if (!into->count || from->min_ns < into->min_ns)
		into->min_ns = from->min_ns;
	if (from->max_ns > into->max_ns)
		into->max_ns = from->max_ns;
	into->count += from->count;
	into->sum_ns += from->sum_ns;
}

double bench_hist_percentile(const struct bench_hist *h, double p)
{
	uint64_t want, seen = 0;
	double exact;

	if (!h->count)
		return NAN;
	/* Nearest rank, as bench_percentile: the smallest bucket with at least P% of the values at or below it. */
	exact = p / 100.0 * (double)h->count;
	want = (uint64_t)exact;
	if ((double)want < exact)
		want++;
	if (want < 1)
		want = 1;
	for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= want)
			return value_of(i);
	}
	return (double)h->max_ns;
}
