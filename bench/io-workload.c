// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Workloads: the built-in set the issue names, and a workload file for custom
 * mixes. The file is a fio job file restricted to the keys the engine honours,
 * so the same file can be handed to fio:
 *
 *   [global]
 *   bs=4k
 *   [randrw-90-10]
 *   rw=randrw
 *   rwmixread=90
 *   iodepth=16
 *   numjobs=2
 *
 * Sections are workloads, in order; [global] sets defaults for the sections
 * after it. Keys: rw (read, write, randread, randwrite, randrw), bs, iodepth,
 * numjobs, rwmixread. Anything else is refused, naming the line. Parsed with
 * inih.
 */
#include <errno.h>
#include <ini.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/io.h"
#include "dms-util.h"

/* clang-format off: a workload a line */
static const struct bench_workload defaults[] = {
	/* name              random  read%  bs           iodepth jobs */
	{ "seq-write",       false,  0,     1024 * 1024, 8,      1 },
	{ "seq-read",        false,  100,   1024 * 1024, 8,      1 },
	{ "randwrite-qd1",   true,   0,     4096,        1,      1 },
	{ "randwrite-qd32",  true,   0,     4096,        32,     1 },
	{ "randread-qd1",    true,   100,   4096,        1,      1 },
	{ "randread-qd32",   true,   100,   4096,        32,     1 },
	{ "randrw70-qd32",   true,   70,    4096,        32,     1 },
};
/* clang-format on */

size_t bench_workloads_default(struct bench_workload *w, size_t max)
{
	size_t n = DMS_ARRAY_SIZE(defaults) < max ? DMS_ARRAY_SIZE(defaults) : max;

	memcpy(w, defaults, n * sizeof(*w));
	return n;
}

const char *bench_workload_rw(const struct bench_workload *w)
{
	if (w->read_pct >= 100)
		return w->random ? "randread" : "read";
	if (w->read_pct == 0)
		return w->random ? "randwrite" : "write";
	return w->random ? "randrw" : "rw";
}

struct parse {
	FILE *f;
	unsigned headers;	 /* [section] lines read so far */
	unsigned header_of_last; /* ... when the last workload began */
	struct bench_workload *w;
	size_t max, n;
	struct bench_workload global;
	bool mix_set; /* rwmixread= seen for the current section */
	char why[160];
};

static int bad(struct parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The reason for the error at this line: -1, for set_key's callers. */
static int bad(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
	return -1;
}

/* The same, as inih wants it from a handler: 0 stops the parse at this line. */
#define halt(p, ...) (bad(p, __VA_ARGS__) + 1)

static int parse_uint(const char *text, unsigned lo, unsigned hi, unsigned *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || end == text || *end || *text == '-' || v < lo || v > hi)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

static int set_rw(struct bench_workload *w, const char *v, bool mix_set)
{
	static const struct {
		const char *name;
		bool random;
		unsigned read_pct;
	} rws[] = { { "read", false, 100 },
		    { "write", false, 0 },
		    { "randread", true, 100 },
		    { "randwrite", true, 0 },
		    { "randrw", true, 50 } };

	for (size_t i = 0; i < DMS_ARRAY_SIZE(rws); i++) {
		if (strcmp(v, rws[i].name) != 0)
			continue;
		w->random = rws[i].random;
		/* fio's default mix is 50/50; a rwmixread= given first stands. */
		if (!(mix_set && rws[i].read_pct == 50))
			w->read_pct = rws[i].read_pct;
		return 0;
	}
	return -EINVAL;
}

static int set_key(struct parse *p, struct bench_workload *w, const char *name, const char *v)
{
	uint64_t bytes;
	unsigned u;

	if (strcmp(name, "rw") == 0 || strcmp(name, "readwrite") == 0) {
		if (set_rw(w, v, p->mix_set) < 0)
			return bad(p, "rw=%s: use read, write, randread, randwrite or randrw", v);
	} else if (strcmp(name, "bs") == 0) {
		if (dms_size_parse(v, &bytes) < 0 || bytes < 512 || bytes % 512 || bytes > 64 * DMS_MIB)
			return bad(p, "bs=%s: a multiple of 512 bytes up to 64M", v);
		w->bs = (uint32_t)bytes;
	} else if (strcmp(name, "iodepth") == 0) {
		if (parse_uint(v, 1, 4096, &w->iodepth) < 0)
			return bad(p, "iodepth=%s: 1 to 4096", v);
	} else if (strcmp(name, "numjobs") == 0) {
		if (parse_uint(v, 1, 64, &w->jobs) < 0)
			return bad(p, "numjobs=%s: 1 to 64", v);
	} else if (strcmp(name, "rwmixread") == 0) {
		if (parse_uint(v, 0, 100, &u) < 0)
			return bad(p, "rwmixread=%s: 0 to 100", v);
		w->read_pct = u;
		p->mix_set = true;
	} else {
		return bad(p, "unknown key '%s' (a workload file takes rw, bs, iodepth, numjobs, rwmixread)", name);
	}
	return 0;
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < sizeof(((struct bench_workload *)0)->name) &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/* inih: 1 to go on, 0 to stop at this line. */
static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;
	struct bench_workload *w;

	if (strcmp(section, "global") == 0) {
		if (p->n > 0)
			return halt(p, "[global] must come before the workloads");
		return set_key(p, &p->global, name, value) == 0;
	}
	if (!*section)
		return halt(p, "'%s=' outside a [section]", name);
	if (p->n == 0 || p->headers != p->header_of_last) {
		/* A new section: a new workload, starting from [global]. */
		if (!name_ok(section))
			return halt(p, "[%.60s]: name a workload with 1-31 of [A-Za-z0-9_.-]", section);
		for (size_t i = 0; i < p->n; i++)
			if (strcmp(p->w[i].name, section) == 0)
				return halt(p, "[%s] appears twice", section);
		if (p->n == p->max)
			return halt(p, "more than %zu workloads", p->max);
		p->w[p->n] = p->global;
		snprintf(p->w[p->n].name, sizeof(p->w[p->n].name), "%s", section);
		p->header_of_last = p->headers;
		p->mix_set = false;
		p->n++;
	}
	w = &p->w[p->n - 1];
	return set_key(p, w, name, value) == 0;
}

/*
 * inih's line reader, counting section headers on the way: inih reports keys
 * only, so a [section] repeated right after itself would otherwise read as
 * one, where fio makes two jobs.
 */
static char *read_line(char *buf, int size, void *stream)
{
	struct parse *p = stream;
	char *line = fgets(buf, size, p->f);

	if (line && line[strspn(line, " \t")] == '[')
		p->headers++;
	return line;
}

int bench_workloads_load(const char *path, struct bench_workload *w, size_t max, size_t *ret_n, char *err, size_t len)
{
	/* fio's defaults: rw=read, bs=4k, iodepth=1, numjobs=1. */
	struct parse p = { .w = w, .max = max, .global = { "", false, 100, 4096, 1, 1 } };
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	int line;

	if (!f) {
		snprintf(err, len, "workload file '%s': %s", path, strerror(errno));
		return -EINVAL;
	}
	p.f = f;
	line = ini_parse_stream(read_line, &p, on_key, &p);
	if (line != 0) {
		snprintf(err, len, "workload file '%s', line %d: %s", path, line,
			 *p.why ? p.why : "not a key=value line");
		return -EINVAL;
	}
	/* A section with no keys has no line of its own for inih: it is not seen, so say what is missing. */
	if (p.n == 0) {
		snprintf(err, len, "workload file '%s': no workload ([name] followed by at least one key=value)", path);
		return -EINVAL;
	}
	*ret_n = p.n;
	return 0;
}
