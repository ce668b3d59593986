// SPDX-License-Identifier: LGPL-2.1-or-later
/* A benchmark's report: percentile rows, target checks and notes, as a table or as JSON. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "dms-util.h"

static void *grow(void *array, size_t n, size_t size)
{
	/* Reports hold tens of entries: one realloc per entry is fine. */
	return realloc(array, (n + 1) * size);
}

struct bench_row *bench_report_row(struct bench_report *rep, const char *label, const char *op, unsigned population,
				   const struct bench_samples *s)
{
	struct bench_row *rows = grow(rep->rows, rep->n_rows, sizeof(*rows)), *row;

	if (!rows)
		return NULL;
	rep->rows = rows;
	row = &rows[rep->n_rows++];
	*row = (struct bench_row){ .population = population, .p50 = NAN, .p99 = NAN, .min = NAN, .max = NAN };
	snprintf(row->label, sizeof(row->label), "%s", label);
	snprintf(row->op, sizeof(row->op), "%s", op);
	if (s && s->n) {
		row->n = s->n;
		row->p50 = bench_percentile(s, 50);
		row->p99 = bench_percentile(s, 99);
		row->min = bench_percentile(s, 0.0001);
		row->max = bench_percentile(s, 100);
	}
	return row;
}

struct bench_check *bench_report_check(struct bench_report *rep, const char *what, double num, double den,
				       bool at_least, double limit)
{
	struct bench_check *checks = grow(rep->checks, rep->n_checks, sizeof(*checks)), *c;

	if (!checks)
		return NULL;
	rep->checks = checks;
	c = &checks[rep->n_checks++];
	*c = (struct bench_check){ .at_least = at_least, .limit = limit, .unit = "x" };
	snprintf(c->what, sizeof(c->what), "%s", what);
	c->valid = !isnan(num) && !isnan(den) && den > 0;
	c->value = c->valid ? num / den : NAN;
	c->met = c->valid && (at_least ? c->value >= limit : c->value <= limit);
	return c;
}

void bench_notes_add(struct bench_notes *notes, const char *fmt, ...)
{
	char **text = grow(notes->text, notes->n, sizeof(*text));
	va_list ap;
	int n;

	if (!text)
		return;
	notes->text = text;
	va_start(ap, fmt);
	n = vasprintf(&text[notes->n], fmt, ap);
	va_end(ap);
	if (n >= 0)
		notes->n++;
}

void bench_notes_free(struct bench_notes *notes)
{
	for (size_t i = 0; i < notes->n; i++)
		free(notes->text[i]);
	free(notes->text);
	*notes = (struct bench_notes){ 0 };
}

void bench_notes_print(const struct bench_notes *notes, FILE *f)
{
	if (notes->n)
		fputc('\n', f);
	for (size_t i = 0; i < notes->n; i++)
		fprintf(f, "note: %s\n", notes->text[i]);
}

json_object *bench_notes_json(const struct bench_notes *notes)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < notes->n; i++)
		json_object_array_add(a, json_object_new_string(notes->text[i]));
	return a;
}

void bench_report_free(struct bench_report *rep)
{
	bench_notes_free(&rep->notes);
	free(rep->rows);
	free(rep->checks);
	json_object_put(rep->params);
	json_object_put(rep->extra);
	*rep = (struct bench_report){ 0 };
}

/* Three decimals: microseconds for a millisecond figure. (No libm: values are positive.) */
static double round3(double x)
{
	return (double)(int64_t)(x * 1000.0 + 0.5) / 1000.0;
}

static json_object *ms_json(double ms)
{
	return isnan(ms) ? NULL : json_object_new_double(round3(ms));
}

json_object *bench_report_json(const struct bench_report *rep)
{
	json_object *o = json_object_new_object(), *rows = json_object_new_array();
	json_object *checks = json_object_new_array();

	json_object_object_add(o, "bench", json_object_new_string(rep->bench));
	json_object_object_add(o, "title", json_object_new_string(rep->title));
	json_object_object_add(o, "command", json_object_new_string(rep->command));
	json_object_object_add(o, "params", rep->params ? json_object_get(rep->params) : NULL);
	json_object_object_add(o, "seconds", ms_json(rep->seconds));
	for (size_t i = 0; i < rep->n_rows; i++) {
		const struct bench_row *r = &rep->rows[i];
		json_object *j = json_object_new_object();

		json_object_object_add(j, "label", json_object_new_string(r->label));
		json_object_object_add(j, "op", json_object_new_string(r->op));
		json_object_object_add(j, "population", r->population ? json_object_new_int64(r->population) : NULL);
		json_object_object_add(j, "step", json_object_new_boolean(r->step));
		json_object_object_add(j, "n", json_object_new_int64((int64_t)r->n));
		json_object_object_add(j, "p50_ms", ms_json(r->p50));
		json_object_object_add(j, "p99_ms", ms_json(r->p99));
		json_object_object_add(j, "min_ms", ms_json(r->min));
		json_object_object_add(j, "max_ms", ms_json(r->max));
		if (r->has_bytes) {
			json_object_object_add(j, "bytes", json_object_new_uint64(r->bytes));
			json_object_object_add(j, "bytes_min", json_object_new_uint64(r->bytes_min));
			json_object_object_add(j, "bytes_max", json_object_new_uint64(r->bytes_max));
		}
		json_object_object_add(j, "error", *r->error ? json_object_new_string(r->error) : NULL);
		json_object_array_add(rows, j);
	}
	json_object_object_add(o, "rows", rows);
	for (size_t i = 0; i < rep->n_checks; i++) {
		const struct bench_check *c = &rep->checks[i];
		json_object *j = json_object_new_object();

		json_object_object_add(j, "what", json_object_new_string(c->what));
		json_object_object_add(j, "value", c->valid ? json_object_new_double(round3(c->value)) : NULL);
		json_object_object_add(j, "target", json_object_new_string(c->at_least ? ">=" : "<="));
		json_object_object_add(j, "limit", json_object_new_double(c->limit));
		json_object_object_add(j, "met", c->valid ? json_object_new_boolean(c->met) : NULL);
		json_object_object_add(j, "informational", json_object_new_boolean(c->info));
		json_object_array_add(checks, j);
	}
	json_object_object_add(o, "checks", checks);
	json_object_object_add(o, "notes", bench_notes_json(&rep->notes));
	json_object_object_add(o, "detail", rep->extra ? json_object_get(rep->extra) : NULL);
	return o;
}

static void format_ms(double ms, char *buf, size_t len)
{
	if (isnan(ms))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.2f", ms);
}

static void format_bytes(const struct bench_row *r, char *buf, size_t len)
{
	char a[32], b[32];

	if (!r->has_bytes) {
		snprintf(buf, len, "%s", "");
		return;
	}
	dms_size_format(r->bytes, a, sizeof(a));
	if (r->bytes_min == r->bytes_max)
		snprintf(buf, len, "%s", a);
	else
		snprintf(buf, len, "%s (%s..)", a, dms_size_format(r->bytes_min, b, sizeof(b)));
}

int bench_report_print(const struct bench_report *rep, FILE *f)
{
	bool bytes = false;

	for (size_t i = 0; i < rep->n_rows; i++)
		bytes |= rep->rows[i].has_bytes;
	fprintf(f, "%s\ncommand: %s\n\n", rep->title, rep->command);
	fprintf(f, "%-40s %-18s %7s %5s %10s %10s%s\n", "method", "operation", "devices", "n", "p50 ms", "p99 ms",
		bytes ? "  pool space used" : "");
	for (size_t i = 0; i < rep->n_rows; i++) {
		const struct bench_row *r = &rep->rows[i];
		char label[80], pop[16], p50[32], p99[32], space[80];

		snprintf(label, sizeof(label), "%s%s", r->step ? "  - " : "", r->label);
		if (r->population)
			snprintf(pop, sizeof(pop), "%u", r->population);
		else
			snprintf(pop, sizeof(pop), "-");
		format_ms(r->p50, p50, sizeof(p50));
		format_ms(r->p99, p99, sizeof(p99));
		format_bytes(r, space, sizeof(space));
		fprintf(f, "%-40s %-18s %7s %5zu %10s %10s%s%s\n", label, r->op, pop, r->n, p50, p99, *space ? "  " : "",
			space);
		if (*r->error)
			fprintf(f, "    failed: %s\n", r->error);
	}
	if (rep->n_checks) {
		fprintf(f, "\n%-72s %9s %8s  %s\n", "target", "measured", "target", "result");
		for (size_t i = 0; i < rep->n_checks; i++) {
			const struct bench_check *c = &rep->checks[i];
			char value[32], limit[32];

			if (c->valid)
				snprintf(value, sizeof(value), "%.2f%s", c->value, c->unit);
			else
				snprintf(value, sizeof(value), "-");
			snprintf(limit, sizeof(limit), "%s %g%s", c->at_least ? ">=" : "<=", c->limit, c->unit);
			fprintf(f, "%-72s %9s %8s  %s%s\n", c->what, value, limit,
				!c->valid ? "NOT MEASURED" : c->met ? "met" : c->info ? "below" : "MISSED",
				c->valid && c->info ? " (info, not a target)" : "");
		}
	}
	bench_notes_print(&rep->notes, f);
	fprintf(f, "\n(%.0f s in all)\n", rep->seconds);
	return ferror(f) ? -EIO : 0;
}
