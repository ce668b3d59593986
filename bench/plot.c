// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Charts, drawn by gnuplot (exec'd, the script on its standard input, the
 * data inline as datablocks): PNG (pngcairo) or SVG by the file's suffix,
 * BENCH_PLOT_WIDTH x BENCH_PLOT_HEIGHT, two panels: throughput or median on
 * top, the tail below, log scales.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/io.h"
#include "dms-util.h"

bool bench_plot_suffix_ok(const char *path)
{
	const char *dot = strrchr(path, '.');

	return dot && (strcmp(dot, ".png") == 0 || strcmp(dot, ".svg") == 0);
}

/* gnuplot's single-quoted strings take '' for a quote; a newline cannot be in one. */
static int quoted(FILE *f, const char *s)
{
	if (strchr(s, '\n'))
		return -EINVAL;
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputc('\'', f);
		fputc(*s, f);
	}
	fputc('\'', f);
	return 0;
}

static int run_gnuplot(const char *path, const char *title, const char *body, const volatile sig_atomic_t *stop,
		       char *err, size_t len)
{
	const char *argv[] = { "gnuplot", NULL };
	_cleanup_free_ char *script = NULL;
	bool svg = strcmp(strrchr(path, '.'), ".svg") == 0;
	size_t n;
	FILE *f;
	int r;

	f = open_memstream(&script, &n);
	if (!f)
		return -ENOMEM;
	fprintf(f, "set terminal %s size %d,%d font 'sans,10'\nset output ", svg ? "svg" : "pngcairo", BENCH_PLOT_WIDTH,
		BENCH_PLOT_HEIGHT);
	r = quoted(f, path);
	/* Names like io_uring and create_thin are text, not subscripts. */
	fprintf(f, "\nset termoption noenhanced\nset multiplot layout 2,1 title ");
	if (r == 0)
		r = quoted(f, title);
	fprintf(f, "\nset datafile missing '-'\n%s\nunset multiplot\nset output\n", body);
	if (fclose(f) != 0)
		return -ENOMEM;
	if (r < 0) {
		snprintf(err, len, "plot: a newline in the file name or title");
		return r;
	}
	r = bench_spawn(argv, script, NULL, NULL, stop, err, len);
	if (r == -ENOENT)
		snprintf(err, len, "plot: gnuplot is not installed (Debian: apt-get install gnuplot-nox)");
	return r;
}

/* One datablock: a header line of column names, then a row per workload, '-' where there is no figure. */
static void io_block(FILE *f, const char *name, const struct bench_io_report *rep, const bool *shown, bool p99)
{
	fprintf(f, "$%s << EOD\nworkload", name);
	for (int t = 0; t < BENCH_T_COUNT; t++)
		if (shown[t])
			fprintf(f, " %s", bench_target_name(t));
	fputc('\n', f);
	for (size_t i = 0; i < rep->n_results; i++) {
		const struct bench_io_result *r = &rep->results[i];
		bool first = true;

		/* Each workload once, in the order it first ran. */
		for (size_t k = 0; k < i && first; k++)
			first = rep->results[k].fio || strcmp(rep->results[k].w.name, r->w.name) != 0;
		if (r->fio || !first)
			continue;
		fprintf(f, "%s", r->w.name);
		for (int t = 0; t < BENCH_T_COUNT; t++) {
			const struct bench_io_result *x;
			double v;

			if (!shown[t])
				continue;
			x = bench_io_find(rep, t, r->w.name, false);
			v = !x ? NAN : p99 ? x->all.p99_us : x->all.mb_per_s;
			if (isnan(v) || v <= 0)
				fprintf(f, " -");
			else
				fprintf(f, " %.3f", v);
		}
		fputc('\n', f);
	}
	fprintf(f, "EOD\n");
}

int bench_io_plot(const struct bench_io_report *rep, const char *path, const volatile sig_atomic_t *stop, char *err,
		  size_t len)
{
	_cleanup_free_ char *body = NULL;
	bool shown[BENCH_T_COUNT] = { 0 };
	int columns = 0;
	size_t n;
	FILE *f;

	for (size_t i = 0; i < rep->n_results; i++)
		if (!rep->results[i].fio && !*rep->results[i].error && !shown[rep->results[i].target]) {
			shown[rep->results[i].target] = true;
			columns++;
		}
	if (!columns) {
		snprintf(err, len, "plot: no result to draw");
		return -ENODATA;
	}
	f = open_memstream(&body, &n);
	if (!f)
		return -ENOMEM;
	io_block(f, "tput", rep, shown, false);
	io_block(f, "p99", rep, shown, true);
	fprintf(f,
		"set style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.8 border -1\n"
		"set boxwidth 0.9\nset logscale y\nset grid ytics\nset key outside right top\nset xtics rotate by -20\n"
		"set ylabel 'throughput, MB/s'\nplot for [i=2:%d] $tput using i:xtic(1) title columnheader(i)\n"
		"set ylabel 'p99 latency, us'\nplot for [i=2:%d] $p99 using i:xtic(1) title columnheader(i)\n",
		columns + 1, columns + 1);
	if (fclose(f) != 0)
		return -ENOMEM;
	return run_gnuplot(path, rep->title, body, stop, err, len);
}

static bool same_series(const struct bench_row *x, const struct bench_row *r)
{
	return !x->step && x->population && !isnan(x->p50) && strcmp(x->label, r->label) == 0 &&
	       strcmp(x->op, r->op) == 0;
}

int bench_ops_plot(const struct bench_report *rep, const char *path, const volatile sig_atomic_t *stop, char *err,
		   size_t len)
{
	_cleanup_free_ char *body = NULL;
	char series[16][96];
	size_t n, n_series = 0;
	FILE *f;

	/* A line per (method, op) measured at more than one population: p50 and p99 against the pool's size. */
	f = open_memstream(&body, &n);
	if (!f)
		return -ENOMEM;
	for (size_t i = 0; i < rep->n_rows && n_series < DMS_ARRAY_SIZE(series); i++) {
		const struct bench_row *r = &rep->rows[i];
		size_t points = 0;
		char key[96];
		bool seen = false;

		if (r->step || !r->population || isnan(r->p50))
			continue;
		snprintf(key, sizeof(key), "%s %s", r->label, r->op);
		for (size_t k = 0; k < n_series && !seen; k++)
			seen = strcmp(series[k], key) == 0;
		for (size_t k = i; k < rep->n_rows; k++)
			points += same_series(&rep->rows[k], r);
		if (seen || points < 2)
			continue;
		snprintf(series[n_series], sizeof(series[n_series]), "%s", key);
		fprintf(f, "$s%zu << EOD\n", n_series);
		for (size_t k = i; k < rep->n_rows; k++) {
			const struct bench_row *x = &rep->rows[k];

			if (same_series(x, r))
				fprintf(f, "%u %.3f %.3f\n", x->population, x->p50, x->p99);
		}
		fprintf(f, "EOD\n");
		n_series++;
	}
	if (!n_series) {
		fclose(f);
		snprintf(err, len, "plot: no result to draw");
		return -ENODATA;
	}
	fprintf(f, "set logscale xy\nset grid\nset key outside right top\nset xlabel 'devices in the pool'\n"
		   "set style data linespoints\n");
	for (int p = 0; p < 2; p++) {
		fprintf(f, "set ylabel '%s, ms'\nplot ", p ? "p99" : "p50");
		for (size_t k = 0; k < n_series; k++) {
			fprintf(f, "%s$s%zu using 1:%d title ", k ? ", " : "", k, p ? 3 : 2);
			(void)quoted(f, series[k]); /* labels are ours: no newline */
		}
		fputc('\n', f);
	}
	if (fclose(f) != 0)
		return -ENOMEM;
	return run_gnuplot(path, rep->title, body, stop, err, len);
}
