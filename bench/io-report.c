// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * `bench io`'s report: the table, the referee's side-by-side, JSON (its
 * schema is documented in dmstore(8), BENCHMARKS; change both together), and
 * the chart, drawn by gnuplot.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/io.h"
#include "dms-util.h"

const struct bench_io_result *bench_io_find(const struct bench_io_report *rep, enum bench_target t,
					    const char *workload, bool fio)
{
	for (size_t i = 0; i < rep->n_results; i++) {
		const struct bench_io_result *r = &rep->results[i];

		if (r->target == t && r->fio == fio && strcmp(r->w.name, workload) == 0 && !*r->error)
			return r;
	}
	return NULL;
}

static double ratio(double a, double b)
{
	return isnan(a) || isnan(b) || b <= 0 ? NAN : a / b;
}

/* The dmstore result's raw counterpart: the same workload on the baseline. */
static const struct bench_io_result *raw_of(const struct bench_io_report *rep, const struct bench_io_result *r)
{
	return r->target == BENCH_T_RAW ? NULL : bench_io_find(rep, BENCH_T_RAW, r->w.name, r->fio);
}

static void cell(char *buf, size_t len, const char *fmt, double v)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, fmt, v);
}

/*
 * The referee's verdict on one direction of one workload: throughput within
 * 10% of fio's, p99 within 20%, each engine's median over the rounds (see
 * struct bench_io_medians). Throughput is both directions' together (the
 * workload's), p99 each direction's own (fio has no joint percentiles).
 */
struct verdict {
	double tput, p99;
	bool valid, met;
};

static struct verdict judge(const struct bench_io_result *mine, const struct bench_io_result *fio, int d)
{
	struct verdict v = { .tput = ratio(mine->med.mb_per_s, fio->med.mb_per_s),
			     .p99 = ratio(mine->med.p99_us[d], fio->med.p99_us[d]) };

	v.valid = !isnan(v.tput) && !isnan(v.p99);
	v.met = v.valid && fabs(v.tput - 1) <= BENCH_FIO_BAND_TPUT && fabs(v.p99 - 1) <= BENCH_FIO_BAND_P99;
	return v;
}

static void print_referee(const struct bench_io_report *rep, FILE *f)
{
	unsigned judged = 0, met = 0;

	fprintf(f,
		"\nreferee: %s, the same job on the same target, run next to dmstore's (the two take turns going first)\n",
		*rep->fio_version ? rep->fio_version : "fio");
	fprintf(f,
		"bands: throughput within %.0f%%, p99 within %.0f%%; each engine's median over its rounds (p99 per direction: fio gives no joint percentiles)\n"
		"CPU: each engine's job threads' own CPU time per I/O, user and system, in us (what an engine costs the machine per I/O)\n\n",
		BENCH_FIO_BAND_TPUT * 100, BENCH_FIO_BAND_P99 * 100);
	fprintf(f, "%-12s %-16s %-5s %9s %9s %8s %8s %6s %10s %10s %6s  %-10s %7s %7s\n", "target", "workload", "dir",
		"dms MB/s", "fio MB/s", "dms IOPS", "fio IOPS", "ratio", "dms p99us", "fio p99us", "ratio", "result",
		"dms CPU", "fio CPU");
	for (size_t i = 0; i < rep->n_results; i++) {
		const struct bench_io_result *mine = &rep->results[i], *fio;

		if (mine->fio || *mine->error)
			continue;
		fio = bench_io_find(rep, mine->target, mine->w.name, true);
		for (int d = 0; d < 2; d++) {
			char c[8][32];
			struct verdict v;

			if (!mine->dir[d].ios)
				continue;
			cell(c[6], sizeof(c[6]), "%.1f", mine->cpu_us_per_io);
			if (!fio) {
				fprintf(f, "%-12s %-16s %-5s %9.1f %9s %8.0f %8s %6s %10.1f %10s %6s  %-10s %7s %7s\n",
					bench_target_name(mine->target), mine->w.name,
					d == BENCH_READ ? "read" : "write", mine->med.mb_per_s, "-", mine->med.iops,
					"-", "-", mine->med.p99_us[d], "-", "-", "NO FIO RUN", c[6], "-");
				continue;
			}
			v = judge(mine, fio, d);
			judged++;
			met += v.met;
			cell(c[0], sizeof(c[0]), "%.1f", fio->med.mb_per_s);
			cell(c[1], sizeof(c[1]), "%.0f", fio->med.iops);
			cell(c[2], sizeof(c[2]), "%.2f", v.tput);
			cell(c[3], sizeof(c[3]), "%.1f", fio->med.p99_us[d]);
			cell(c[4], sizeof(c[4]), "%.2f", v.p99);
			cell(c[5], sizeof(c[5]), "%.1f", mine->med.p99_us[d]);
			cell(c[7], sizeof(c[7]), "%.1f", fio->cpu_us_per_io);
			fprintf(f, "%-12s %-16s %-5s %9.1f %9s %8.0f %8s %6s %10s %10s %6s  %-10s %7s %7s\n",
				bench_target_name(mine->target), mine->w.name, d == BENCH_READ ? "read" : "write",
				mine->med.mb_per_s, c[0], mine->med.iops, c[1], c[2], c[5], c[3], c[4],
				v.met ? "agree" : "OUTSIDE", c[6], c[7]);
		}
	}
	fprintf(f, "\nreferee: %u of %u within the bands\n", met, judged);
}

int bench_io_print(const struct bench_io_report *rep, FILE *f)
{
	bool fio = false;

	fprintf(f, "%s\ncommand: %s\n\n", rep->title, rep->command);
	fprintf(f, "%-12s %-16s %9s %9s %9s %9s %9s %8s %9s %8s %8s\n", "target", "workload", "MB/s", "IOPS", "p50 us",
		"p99 us", "p99.9 us", "blk/GiB", "meta KiB", "MB/s:raw", "p99:raw");
	for (size_t i = 0; i < rep->n_results; i++) {
		const struct bench_io_result *r = &rep->results[i], *raw;
		char c[9][32];

		fio |= r->fio;
		if (r->fio)
			continue;
		if (*r->error) {
			fprintf(f, "%-12s %-16s failed: %s\n", bench_target_name(r->target), r->w.name, r->error);
			continue;
		}
		raw = raw_of(rep, r);
		cell(c[0], sizeof(c[0]), "%.1f", r->all.mb_per_s);
		cell(c[1], sizeof(c[1]), "%.0f", r->all.iops);
		cell(c[2], sizeof(c[2]), "%.1f", r->all.p50_us);
		cell(c[3], sizeof(c[3]), "%.1f", r->all.p99_us);
		cell(c[4], sizeof(c[4]), "%.1f", r->all.p999_us);
		cell(c[5], sizeof(c[5]), "%.0f", r->has_pool ? r->blocks_per_gib : NAN);
		cell(c[6], sizeof(c[6]), "%.0f", r->has_pool ? (double)r->metadata_bytes / 1024.0 : NAN);
		cell(c[7], sizeof(c[7]), "%.2f", raw ? ratio(r->all.mb_per_s, raw->all.mb_per_s) : NAN);
		cell(c[8], sizeof(c[8]), "%.2f", raw ? ratio(r->all.p99_us, raw->all.p99_us) : NAN);
		fprintf(f, "%-12s %-16s %9s %9s %9s %9s %9s %8s %9s %8s %8s\n", bench_target_name(r->target), r->w.name,
			c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]);
	}
	if (fio)
		print_referee(rep, f);
	bench_notes_print(&rep->notes, f);
	fprintf(f, "\n(%.0f s in all)\n", rep->seconds);
	return ferror(f) ? -EIO : 0;
}

/* --- JSON ---------------------------------------------------------------------------------- */

static json_object *num(double v, double scale)
{
	return isnan(v) ? NULL : json_object_new_double(round(v * scale) / scale);
}

static json_object *dir_json(const struct bench_io_dir_result *d)
{
	json_object *o = json_object_new_object(), *lat = json_object_new_object();

	json_object_object_add(o, "ios", json_object_new_uint64(d->ios));
	json_object_object_add(o, "bytes", json_object_new_uint64(d->bytes));
	json_object_object_add(o, "iops", num(d->iops, 10));
	json_object_object_add(o, "mb_per_s", num(d->mb_per_s, 1000));
	json_object_object_add(lat, "p50", num(d->p50_us, 1000));
	json_object_object_add(lat, "p99", num(d->p99_us, 1000));
	json_object_object_add(lat, "p99.9", num(d->p999_us, 1000));
	json_object_object_add(o, "lat_us", lat);
	return o;
}

static json_object *workload_json(const struct bench_workload *w)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(w->name));
	json_object_object_add(o, "rw", json_object_new_string(bench_workload_rw(w)));
	json_object_object_add(o, "bs", json_object_new_int64(w->bs));
	json_object_object_add(o, "iodepth", json_object_new_int64(w->iodepth));
	json_object_object_add(o, "jobs", json_object_new_int64(w->jobs));
	json_object_object_add(o, "rwmixread", json_object_new_int64(w->read_pct));
	return o;
}

static json_object *vs_raw_json(const struct bench_io_report *rep, const struct bench_io_result *r)
{
	const struct bench_io_result *raw = raw_of(rep, r);
	json_object *o;

	if (!raw)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "mb_per_s", num(ratio(r->all.mb_per_s, raw->all.mb_per_s), 1000));
	json_object_object_add(o, "iops", num(ratio(r->all.iops, raw->all.iops), 1000));
	json_object_object_add(o, "p50", num(ratio(r->all.p50_us, raw->all.p50_us), 1000));
	json_object_object_add(o, "p99", num(ratio(r->all.p99_us, raw->all.p99_us), 1000));
	json_object_object_add(o, "p99.9", num(ratio(r->all.p999_us, raw->all.p999_us), 1000));
	return o;
}

/* Each round's own figure, their median: what the referee compares. */
static json_object *median_json(const struct bench_io_medians *m)
{
	json_object *o = json_object_new_object(), *p99 = json_object_new_object();

	json_object_object_add(o, "mb_per_s", num(m->mb_per_s, 1000));
	json_object_object_add(o, "iops", num(m->iops, 10));
	json_object_object_add(p99, "read", num(m->p99_us[BENCH_READ], 1000));
	json_object_object_add(p99, "write", num(m->p99_us[BENCH_WRITE], 1000));
	json_object_object_add(o, "p99_us", p99);
	return o;
}

static json_object *result_json(const struct bench_io_report *rep, const struct bench_io_result *r)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "target", json_object_new_string(bench_target_name(r->target)));
	json_object_object_add(o, "workload", json_object_new_string(r->w.name));
	json_object_object_add(o, "engine", json_object_new_string(r->fio ? "fio" : "dmstore"));
	json_object_object_add(o, "rounds", json_object_new_int64(r->rounds));
	json_object_object_add(o, "seconds", num(r->seconds, 1000));
	json_object_object_add(o, "cpu_us_per_io", num(r->cpu_us_per_io, 1000));
	json_object_object_add(o, "all", dir_json(&r->all));
	json_object_object_add(o, "read", r->dir[BENCH_READ].ios ? dir_json(&r->dir[BENCH_READ]) : NULL);
	json_object_object_add(o, "write", r->dir[BENCH_WRITE].ios ? dir_json(&r->dir[BENCH_WRITE]) : NULL);
	json_object_object_add(o, "median", r->rounds ? median_json(&r->med) : NULL);
	json_object_object_add(o, "pool_blocks", r->has_pool ? json_object_new_int64(r->pool_blocks) : NULL);
	json_object_object_add(o, "pool_blocks_per_gib", r->has_pool ? num(r->blocks_per_gib, 10) : NULL);
	json_object_object_add(o, "metadata_bytes", r->has_pool ? json_object_new_int64(r->metadata_bytes) : NULL);
	json_object_object_add(o, "vs_raw", *r->error ? NULL : vs_raw_json(rep, r));
	json_object_object_add(o, "error", *r->error ? json_object_new_string(r->error) : NULL);
	return o;
}

static json_object *referee_json(const struct bench_io_report *rep)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < rep->n_results; i++) {
		const struct bench_io_result *mine = &rep->results[i], *fio;

		if (mine->fio || *mine->error || !(fio = bench_io_find(rep, mine->target, mine->w.name, true)))
			continue;
		for (int d = 0; d < 2; d++) {
			json_object *o;
			struct verdict v;

			if (!mine->dir[d].ios)
				continue;
			v = judge(mine, fio, d);
			o = json_object_new_object();
			json_object_object_add(o, "target", json_object_new_string(bench_target_name(mine->target)));
			json_object_object_add(o, "workload", json_object_new_string(mine->w.name));
			json_object_object_add(o, "direction",
					       json_object_new_string(d == BENCH_READ ? "read" : "write"));
			json_object_object_add(o, "mb_per_s_ratio", num(v.tput, 1000));
			json_object_object_add(o, "p99_ratio", num(v.p99, 1000));
			json_object_object_add(o, "within_bands", json_object_new_boolean(v.met));
			json_object_array_add(a, o);
		}
	}
	return a;
}

json_object *bench_io_json(const struct bench_io_report *rep, const struct bench_io_opts *opts)
{
	json_object *o = json_object_new_object(), *params = json_object_new_object();
	json_object *targets = json_object_new_array(), *workloads = json_object_new_array();
	json_object *results = json_object_new_array();
	bool fio = false;

	for (int t = 0; t < BENCH_T_COUNT; t++)
		if (opts->targets & (1U << t))
			json_object_array_add(targets, json_object_new_string(bench_target_name(t)));
	for (size_t i = 0; i < opts->n_workloads; i++)
		json_object_array_add(workloads, workload_json(&opts->workloads[i]));
	json_object_object_add(params, "pool", json_object_new_string(rep->pool));
	json_object_object_add(params, "scratch_pool", json_object_new_boolean(rep->scratch_pool));
	json_object_object_add(params, "block_size", json_object_new_int64(rep->block_size));
	json_object_object_add(params, "zero", json_object_new_boolean(rep->zero));
	json_object_object_add(params, "baseline", opts->baseline ? json_object_new_string(opts->baseline) : NULL);
	json_object_object_add(params, "size", json_object_new_uint64(opts->size));
	json_object_object_add(params, "runtime_s",
			       opts->runtime_ns ? num((double)opts->runtime_ns / 1e9, 1000) : NULL);
	json_object_object_add(params, "io_size", opts->runtime_ns ? NULL : json_object_new_uint64(opts->io_size));
	json_object_object_add(params, "rounds", json_object_new_int64(opts->rounds));
	json_object_object_add(params, "cpus", opts->cpus ? json_object_new_string(opts->cpus) : NULL);
	json_object_object_add(params, "targets", targets);
	json_object_object_add(params, "workloads", workloads);
	json_object_object_add(params, "fio", *rep->fio_version ? json_object_new_string(rep->fio_version) : NULL);

	json_object_object_add(o, "bench", json_object_new_string("io"));
	json_object_object_add(o, "title", json_object_new_string(rep->title));
	json_object_object_add(o, "command", json_object_new_string(rep->command));
	json_object_object_add(o, "params", params);
	json_object_object_add(o, "seconds", num(rep->seconds, 1000));
	for (size_t i = 0; i < rep->n_results; i++) {
		json_object_array_add(results, result_json(rep, &rep->results[i]));
		fio |= rep->results[i].fio;
	}
	json_object_object_add(o, "results", results);
	json_object_object_add(o, "referee", fio ? referee_json(rep) : NULL);
	json_object_object_add(o, "notes", bench_notes_json(&rep->notes));
	return o;
}
