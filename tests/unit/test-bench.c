/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * bench/ is linked into the dmstore program, not the library: its pure parts
 * (CPU lists, the histogram, the workload file, samples and reports) are compiled in here.
 */
#include "bench/cpus.c"
#include "bench/hist.c"
#include "bench/io-workload.c"
#include "bench/report.c"
#include "bench/spawn.c"
#include "bench/stats.c"

/* splitmix64, for values spread the same way every run. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest rank over the exact values, as the histogram promises to approximate. */
static double exact_percentile(const uint64_t *sorted, size_t n, double p)
{
	double want = p / 100.0 * (double)n;
	size_t rank = (size_t)want;

	if ((double)rank < want)
		rank++;
	return (double)sorted[rank ? rank - 1 : 0];
}

/* Every percentile within a bucket of the exact one: 1/128 of the value, or exact below 256 ns. */
static void hist_matches_exact(void **state)
{
	static const double pcts[] = { 0.1, 1, 10, 50, 90, 99, 99.9, 99.99, 100 };
	struct bench_hist *h = calloc(1, sizeof(*h));
	size_t n = 200000;
	uint64_t *v = malloc(n * sizeof(*v)), seed = 42;

	(void)state;
	assert_non_null(h);
	for (size_t i = 0; i < n; i++) {
		/* Log-uniform from 50 ns to ~5 s, like latencies: most buckets see use. */
		double x = 50.0 * exp((double)(next_random(&seed) % 1000000) / 1000000.0 * 18.4);

		v[i] = (uint64_t)x;
		bench_hist_add(h, v[i]);
	}
	qsort(v, n, sizeof(*v), cmp_u64);
	assert_int_equal(h->count, n);
	assert_int_equal(h->min_ns, v[0]);
	assert_int_equal(h->max_ns, v[n - 1]);
	for (size_t k = 0; k < sizeof(pcts) / sizeof(pcts[0]); k++) {
		double want = exact_percentile(v, n, pcts[k]), got = bench_hist_percentile(h, pcts[k]);

		if (fabs(got - want) > want / 128.0 + 0.5)
			fail_msg("p%g: histogram %.1f, exact %.1f", pcts[k], got, want);
	}
	free(v);
	free(h);
}

static void hist_small_values_exact_and_merge(void **state)
{
	struct bench_hist *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));

	(void)state;
	for (uint64_t i = 1; i <= 100; i++)
		bench_hist_add(i % 2 ? a : b, i);
	bench_hist_merge(a, b);
	assert_int_equal(a->count, 100);
	assert_true(bench_hist_percentile(a, 50) == 50.0);
	assert_true(bench_hist_percentile(a, 99) == 99.0);
	assert_true(bench_hist_percentile(a, 100) == 100.0);
	assert_int_equal(a->min_ns, 1);
	assert_int_equal(a->max_ns, 100);
	/* Past the top, values count in the last bucket rather than anywhere out of bounds. */
	bench_hist_add(b, UINT64_MAX);
	assert_true(bench_hist_percentile(b, 100) >= (double)BENCH_HIST_MAX_NS * 0.99);
	free(a);
	free(b);
}

static void hist_empty_is_nan(void **state)
{
	struct bench_hist *h = calloc(1, sizeof(*h));

	(void)state;
	assert_true(isnan(bench_hist_percentile(h, 50)));
	free(h);
}

static char *write_file(const char *text)
{
	char *path = strdup("/tmp/test-bench-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static int load(const char *text, struct bench_workload *w, size_t *n, char *err, size_t len)
{
	char *path = write_file(text);
	int r = bench_workloads_load(path, w, BENCH_WORKLOADS_MAX, n, err, len);

	unlink(path);
	free(path);
	return r;
}

static void workload_file_as_fio_reads_it(void **state)
{
	struct bench_workload w[BENCH_WORKLOADS_MAX];
	char err[256] = "";
	size_t n = 0;

	(void)state;
	assert_int_equal(load("# a comment\n[global]\nbs=8k\niodepth=4\n\n"
			      "[mix]\nrwmixread=90\nrw=randrw\nnumjobs=2\n"
			      "[seq]\nrw=write\nbs=1M\n"
			      "[plain]\nrw=randrw\n",
			      w, &n, err, sizeof(err)),
			 0);
	assert_int_equal(n, 3);
	assert_string_equal(w[0].name, "mix");
	assert_true(w[0].random);
	assert_int_equal(w[0].read_pct, 90); /* rwmixread before rw= stands */
	assert_int_equal(w[0].bs, 8192);
	assert_int_equal(w[0].iodepth, 4);
	assert_int_equal(w[0].jobs, 2);
	assert_string_equal(bench_workload_rw(&w[0]), "randrw");
	assert_string_equal(w[1].name, "seq");
	assert_false(w[1].random);
	assert_int_equal(w[1].read_pct, 0);
	assert_int_equal(w[1].bs, 1 << 20);
	assert_int_equal(w[1].jobs, 1);
	assert_string_equal(bench_workload_rw(&w[1]), "write");
	assert_int_equal(w[2].read_pct, 50); /* fio's default mix */
}

static void workload_file_errors_name_the_line(void **state)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "[a]\nrw=sideways\n", "line 2: rw=sideways" },
		{ "[a]\nrw=read\nbs=1000\n", "line 3: bs=1000" },
		{ "[a]\niodepth=0\n", "line 2: iodepth=0" },
		{ "[a]\nnumjobs=65\n", "line 2: numjobs=65" },
		{ "[a]\nrwmixread=101\n", "line 2: rwmixread=101" },
		{ "[a]\nruntime=10\n", "line 2: unknown key 'runtime'" },
		{ "rw=read\n", "line 1: 'rw=' outside a [section]" },
		{ "[a]\nrw=read\n[global]\nbs=4k\n", "line 4: [global] must come before" },
		{ "[a b]\nrw=read\n", "line 2: [a b]: name a workload" },
		{ "[a]\nrw=read\n[a]\nrw=write\n", "line 4: [a] appears twice" },
		{ "[a]\nnot a key value line\n", "line 2: not a key=value line" },
		{ "# nothing\n", "no workload" },
	};
	struct bench_workload w[BENCH_WORKLOADS_MAX];
	char err[256];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(load(bad[i].text, w, &n, err, sizeof(err)), -EINVAL);
		if (!strstr(err, bad[i].want))
			fail_msg("case %zu: '%s' does not say '%s'", i, err, bad[i].want);
	}
	assert_int_equal(bench_workloads_load("/nonexistent/file", w, BENCH_WORKLOADS_MAX, &n, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "/nonexistent/file"));
}

/* The referee's medians: the middle round, or the mean of the middle two. */
static void median_of_rounds(void **state)
{
	struct bench_samples s = { 0 };

	(void)state;
	assert_true(isnan(bench_median(&s)));
	for (int i = 0; i < 3; i++)
		assert_int_equal(bench_samples_add(&s, (double[]){ 30, 10, 20 }[i]), 0);
	assert_true(bench_median(&s) == 20);
	assert_int_equal(bench_samples_add(&s, 1000), 0); /* one slow moment moves the median a little */
	assert_true(bench_median(&s) == 25);
	assert_true(s.ms[0] == 30); /* the samples themselves are left in their order */
	bench_samples_free(&s);
}

/* Both reports keep their notes in one list: printed in order after a blank line, and as a JSON array. */
static void notes_print_and_json(void **state)
{
	struct bench_notes notes = { 0 };
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	json_object *a;

	(void)state;
	f = open_memstream(&text, &len);
	assert_non_null(f);
	bench_notes_print(&notes, f);
	assert_int_equal(fflush(f), 0);
	assert_int_equal(len, 0); /* no notes: not even the blank line */
	bench_notes_add(&notes, "pool '%s' holds %d", "p", 3);
	bench_notes_add(&notes, "second");
	bench_notes_print(&notes, f);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(text, "\nnote: pool 'p' holds 3\nnote: second\n");
	a = bench_notes_json(&notes);
	assert_int_equal(json_object_array_length(a), 2);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(a, 1)), "second");
	json_object_put(a);
	bench_notes_free(&notes);
	assert_null(notes.text);
	assert_int_equal(notes.n, 0);
	free(text);
}

/* fio's cpus_allowed syntax; job k on the k-th CPU of the set, ascending, wrapping (cpus_allowed_policy=split). */
static void cpu_lists_as_fio_splits_them(void **state)
{
	static const char *bad[] = { "", "a", "1,", ",1", "1-", "3-1", "1 2", "-1", "0x1", "1024", "99999999999999999999" };
	cpu_set_t set, allowed;
	char err[128], text[16];

	(void)state;
	assert_int_equal(bench_cpus_parse("4-6,1,9", &set, err, sizeof(err)), 0);
	assert_int_equal(CPU_COUNT(&set), 5);
	assert_int_equal(bench_cpus_nth(&set, 0), 1);
	assert_int_equal(bench_cpus_nth(&set, 1), 4);
	assert_int_equal(bench_cpus_nth(&set, 3), 6);
	assert_int_equal(bench_cpus_nth(&set, 4), 9);
	assert_int_equal(bench_cpus_nth(&set, 5), 1);
	assert_int_equal(bench_cpus_parse("1023", &set, err, sizeof(err)), 0);
	assert_int_equal(bench_cpus_nth(&set, 7), 1023);
	assert_int_equal(bench_cpus_parse("2,2,1-2", &set, err, sizeof(err)), 0);
	assert_int_equal(CPU_COUNT(&set), 2);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_true(bench_cpus_parse(bad[i], &set, err, sizeof(err)) < 0);
		assert_true(strlen(err) > 0);
	}
	/* Longer than fio's argument can carry. */
	assert_int_equal(bench_cpus_parse("0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0", &set, err,
					  sizeof(err)),
			 -EINVAL);
	/* The first CPU this process may run on is usable; the last one a set can name is not, on a smaller machine. */
	assert_int_equal(sched_getaffinity(0, sizeof(allowed), &allowed), 0);
	snprintf(text, sizeof(text), "%d", bench_cpus_nth(&allowed, 0));
	assert_int_equal(bench_cpus_parse(text, &set, err, sizeof(err)), 0);
	assert_int_equal(bench_cpus_usable(&set, err, sizeof(err)), 0);
	assert_int_equal(bench_cpus_parse("1023", &set, err, sizeof(err)), 0);
	if (sysconf(_SC_NPROCESSORS_CONF) < 1024)
		assert_int_equal(bench_cpus_usable(&set, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hist_matches_exact),
		cmocka_unit_test(hist_small_values_exact_and_merge),
		cmocka_unit_test(hist_empty_is_nan),
		cmocka_unit_test(workload_file_as_fio_reads_it),
		cmocka_unit_test(workload_file_errors_name_the_line),
		cmocka_unit_test(median_of_rounds),
		cmocka_unit_test(notes_print_and_json),
		cmocka_unit_test(cpu_lists_as_fio_splits_them),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
