// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * dmstore pool monitor NAME: sleeps on the pool's device-mapper events (the
 * kernel wakes it; see dms_pool_wait_event), logs on stderr each time data
 * or metadata use crosses the threshold, either way, and the pool's mode
 * changes, and grows a loop-file pool by a percent of its size, up to a
 * limit, before it fills (as dmeventd's autoextend does for LVM thin pools).
 * SIGTERM or SIGINT ends it, exit 0. Run by dmstore-monitor@.service.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"

/*
 * A stop ends the monitor at once, from the handler, unless it is changing
 * the pool (a grow, a new low water mark): then it ends after. Ending at once
 * is what the wait needs (a flag and a check before the wait would leave a
 * window where the signal comes and the wait then sleeps on), and it is
 * safe: the monitor holds nothing else, and a grow is crash-safe anyway.
 */
static volatile sig_atomic_t busy, stop;

static void on_stop(int sig)
{
	static const char msg[] = "dmstore: pool monitor stopped\n";

	if (busy) {
		stop = 1;
		return;
	}
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(EXIT_OK);
}

static void catch_stop(void)
{
	struct sigaction sa = { .sa_handler = on_stop, .sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
}

static unsigned percent_used(uint64_t used, uint64_t total)
{
	return total ? (unsigned)(used * 100 / total) : 0;
}

struct watch {
	const char *name;
	unsigned threshold, percent;
	uint64_t limit;
	bool data_above, metadata_above, at_limit;
	char mode[32];
};

static void say(const struct watch *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(const struct watch *w, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "dmstore: pool '%s': ", w->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

static void crossing(const struct watch *w, const char *what, bool *above, uint64_t used, uint64_t total)
{
	unsigned p = percent_used(used, total);
	bool now = p >= w->threshold;
	char u[32], t[32];

	if (now == *above)
		return;
	*above = now;
	say(w, "%s %u%% used (%s of %s), %s the %u%% threshold", what, p, dms_size_format(used, u, sizeof(u)),
	    dms_size_format(total, t, sizeof(t)), now ? "past" : "back below", w->threshold);
}

/* Past the threshold: a loop pool grows by PERCENT of its data, not past the limit. 1 if it grew. */
static int autoextend(struct cmd_ctx *ctx, struct watch *w, const struct dms_pool_status *st)
{
	/* Below 256 TiB times 2: no overflow. Whole blocks, as the pool counts them. */
	uint64_t grown = st->data_total * (100 + w->percent) / 100 / st->block_size * st->block_size;
	char a[32], b[32], c[32];
	int r;

	if (!st->loop || !w->data_above || !w->limit)
		return 0;
	if (grown > w->limit)
		grown = w->limit / st->block_size * st->block_size;
	if (grown < st->data_total + st->block_size) {
		if (!w->at_limit)
			say(w, "data is at its autoextend limit, %s: not grown",
			    dms_size_format(w->limit, a, sizeof(a)));
		w->at_limit = true;
		return 0;
	}
	r = dms_pool_grow(ctx->lib, w->name, grown, 0);
	if (r < 0)
		return r;
	say(w, "data grown from %s to %s (autoextend by %u%%, limit %s)", dms_size_format(st->data_total, a, sizeof(a)),
	    dms_size_format(grown, b, sizeof(b)), w->percent, dms_size_format(w->limit, c, sizeof(c)));
	/* The low water mark counts blocks: set again for the new size. */
	r = dms_pool_set_low_water(ctx->lib, w->name, w->threshold);
	return r < 0 ? r : 1;
}

static int watch(struct cmd_ctx *ctx, struct watch *w)
{
	struct dms_pool_status *st;
	uint32_t nr;
	int r;

	busy = 1;
	r = dms_pool_set_low_water(ctx->lib, w->name, w->threshold);
	busy = 0;
	if (r < 0)
		return r;
	say(w, "watching: threshold %u%%, autoextend %s", w->threshold, w->limit ? "on" : "off");
	while (!stop) {
		/* The counter before the status: an event between the two is not lost. */
		r = dms_pool_event_nr(ctx->lib, w->name, &nr);
		if (r == 0)
			r = dms_pool_status(ctx->lib, w->name, &st);
		if (r < 0)
			return r;
		if (strcmp(st->mode, w->mode) != 0) {
			if (*w->mode || strcmp(st->mode, "rw") != 0)
				say(w, "mode %s", st->mode);
			snprintf(w->mode, sizeof(w->mode), "%s", st->mode);
		}
		crossing(w, "data", &w->data_above, st->data_used, st->data_total);
		crossing(w, "metadata", &w->metadata_above, st->metadata_used, st->metadata_total);
		busy = 1;
		r = autoextend(ctx, w, st);
		busy = 0;
		dms_pool_status_free(st);
		if (r < 0)
			return r;
		if (r > 0 || stop)
			continue;
		r = dms_pool_wait_event(ctx->lib, w->name, nr);
		if (r < 0)
			return r;
	}
	say(w, "monitor stopped");
	return 0;
}

int pool_monitor(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const char help[] =
		"usage: dmstore pool monitor NAME [--threshold PERCENT] [--percent PERCENT] [--limit SIZE]\n\n"
		"Wait on the pool's device-mapper events (no polling) and log on stderr when its data or\n"
		"metadata use crosses the threshold, and when its mode changes. A loop-file pool whose data\n"
		"is past the threshold grows by PERCENT of its size, up to SIZE, before it fills. Defaults:\n"
		"[autoextend] in dmstore.conf, else 80%, 20%, and no growth. SIGTERM ends it (exit 0).\n\n"
		"  --threshold PERCENT  1 to 100\n"
		"  --percent PERCENT    grow by this much of the data size, 1 to 100\n"
		"  --limit SIZE         never grow past this data size; 0: never grow\n";
	static const struct option opts[] = {
		{ "threshold", required_argument, NULL, 't' },
		{ "percent", required_argument, NULL, 'p' },
		{ "limit", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cmd_config *c = &ctx->config;
	struct watch w = { 0 };
	char err[512];
	int opt, r, key;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(help, stdout);
			return EXIT_OK;
		}
		key = opt == 't' ? CONFIG_AUTOEXTEND_THRESHOLD :
		      opt == 'p' ? CONFIG_AUTOEXTEND_PERCENT :
		      opt == 'l' ? CONFIG_AUTOEXTEND_LIMIT :
				   -1;
		if (key < 0)
			return usage_error("pool monitor: unknown option '%s'; see 'dmstore pool monitor --help'",
					   argv[optind - 1]);
		if (config_set(c, key, optarg, CONFIG_FLAG, 0, err, sizeof(err)) < 0)
			return usage_error("pool monitor: --%s", err + strlen("autoextend."));
	}
	if (optind + 1 != argc)
		return usage_error("pool monitor: give one pool NAME");
	if (!dms_pool_name_valid(argv[optind]))
		return usage_error("pool monitor: invalid pool name '%s'", argv[optind]);
	if (require_root("pool monitor"))
		return EXIT_PERM;
	w.name = argv[optind];
	w.threshold = c->autoextend_threshold;
	w.percent = c->autoextend_percent;
	w.limit = c->autoextend_limit;
	catch_stop();
	r = watch(ctx, &w);
	return r < 0 ? lib_error(ctx, r) : EXIT_OK;
}
