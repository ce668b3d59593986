// SPDX-License-Identifier: LGPL-2.1-or-later
/* The import progress line: layers done, bytes read, rate; on a terminal only. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"

#define REDRAW_SECONDS 0.2

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_init(struct progress *p)
{
	*p = (struct progress){ .tty = isatty(STDERR_FILENO) == 1, .start = now() };
}

static void draw(struct progress *p, double t)
{
	const struct dms_import_progress *ip = &p->now;
	char done[32], total[32], rate[32];
	double secs = t - p->start;

	dms_size_format(ip->bytes, done, sizeof(done));
	dms_size_format(ip->total, total, sizeof(total));
	dms_size_format(secs > 0 ? (uint64_t)((double)ip->bytes / secs) : 0, rate, sizeof(rate));
	/* \033[K clears what a longer line left. */
	fprintf(stderr, "\r  layer %u/%u  %s of %s  %s/s  %llu entries\033[K", ip->layer, ip->layers, done,
		ip->total ? total : "?", rate, (unsigned long long)ip->entries);
	fflush(stderr);
}

void progress_show(const struct dms_import_progress *ip, void *arg)
{
	struct progress *p = arg;
	double t;

	if (!p->tty)
		return;
	p->now = *ip;
	p->seen = true;
	t = now();
	if (t - p->last < REDRAW_SECONDS)
		return;
	p->last = t;
	draw(p, t);
}

/* The last state is drawn whatever the redraw rate skipped: the line ends on the totals. */
void progress_done(struct progress *p)
{
	if (!p->seen)
		return;
	draw(p, now());
	fputc('\n', stderr);
	p->seen = false;
}
