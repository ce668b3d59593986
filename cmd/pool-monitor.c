// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * dmstore pool monitor NAME: sleeps on the pool's device-mapper events (the
 * kernel wakes it; see dms_pool_wait_event), logs on stderr each time data
 * or metadata use crosses the threshold, either way, and the pool's mode
 * changes, and grows a loop-file pool by a percent of its size, up to a
 * limit, before it fills (as dmeventd's autoextend does for LVM thin pools).
 * It also finishes the removals `rm --force` deferred, as soon as their
 * holder lets go: the kernel then removes the device with a uevent but raises
 * no pool event, so a second thread listens to the kernel's uevents (netlink,
 * through libudev's monitor of the "kernel" source: no udevd needed) and
 * interrupts the wait. SIGTERM or SIGINT ends it, exit 0. Run by
 * dmstore-monitor@.service.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libudev.h>

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
	struct udev_monitor *mon; /* the kernel's uevents of block devices */
	pthread_t waiter;	  /* the thread that waits on the pool's events */
	atomic_bool dm_removed;	  /* a dm device went since the waiter last looked */
};

/* SIGUSR1 only interrupts the waiter's wait (no SA_RESTART): the loop then looks at the removals. */
static void on_wake(int sig)
{
}

/* The waiter's wait is the only place it takes SIGUSR1: elsewhere an EINTR would fail a change. */
static void wake_signal(int how)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(how, &set, NULL);
}

static bool is_dm_removal(struct udev_monitor *mon)
{
	struct udev_device *d = udev_monitor_receive_device(mon);
	const char *action, *sysname;
	bool yes;

	if (!d)
		return false;
	action = udev_device_get_action(d);
	sysname = udev_device_get_sysname(d);
	yes = action && sysname && strcmp(action, "remove") == 0 && strncmp(sysname, "dm-", 3) == 0;
	udev_device_unref(d);
	return yes;
}

/*
 * The uevent thread. A dm device's removal is told to the waiter by a flag and
 * SIGUSR1; the signal is sent again every 100 ms until the waiter has taken the
 * flag, since one that came just before its wait began would wake nothing.
 * Which device went is not looked at: its uevent names no UUID, and the
 * library's check costs no lock when none of the pool's removals is ready.
 */
static void *uevent_thread(void *arg)
{
	struct watch *w = arg;
	struct udev_monitor *mon = w->mon;
	struct pollfd p = { .fd = udev_monitor_get_fd(mon), .events = POLLIN };

	for (;;) {
		if (poll(&p, 1, atomic_load(&w->dm_removed) ? 100 : -1) > 0 && is_dm_removal(mon))
			atomic_store(&w->dm_removed, true);
		if (atomic_load(&w->dm_removed))
			pthread_kill(w->waiter, SIGUSR1);
	}
	return NULL;
}

/*
 * Listening starts before the first look at the removals: a device that goes
 * in between is seen. The thread takes none of the signals: they are the
 * waiter's (a stop is handled where `busy` is known).
 */
static int uevents_start(struct watch *w, struct udev **ret_udev, pthread_t *ret_thread)
{
	struct udev *udev = udev_new();
	sigset_t all, old;
	int r;

	if (!udev)
		return -ENOMEM;
	w->mon = udev_monitor_new_from_netlink(udev, "kernel");
	if (!w->mon) {
		udev_unref(udev);
		return errno ? -errno : -ENOMEM;
	}
	r = udev_monitor_filter_add_match_subsystem_devtype(w->mon, "block", "disk");
	if (r >= 0)
		r = udev_monitor_enable_receiving(w->mon);
	if (r >= 0) {
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		r = -pthread_create(ret_thread, NULL, uevent_thread, w);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (r < 0) {
		udev_monitor_unref(w->mon);
		udev_unref(udev);
		return r;
	}
	*ret_udev = udev;
	return 0;
}

static void uevents_stop(struct watch *w, struct udev *udev, pthread_t thread)
{
	pthread_cancel(thread);
	pthread_join(thread, NULL);
	udev_monitor_unref(w->mon);
	udev_unref(udev);
}

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

static int finish_removals(struct cmd_ctx *ctx, struct watch *w)
{
	unsigned n = 0;
	int r;

	r = dms_pool_finish_removals(ctx->lib, w->name, &n);
	if (r == 0 && n)
		say(w, "%u deferred removal%s finished: the device%s holder let go", n, n > 1 ? "s" : "",
		    n > 1 ? "s'" : "'s");
	return r;
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
	/* Those whose holder let go while no monitor ran. */
	atomic_store(&w->dm_removed, true);
	while (!stop) {
		if (atomic_exchange(&w->dm_removed, false)) {
			busy = 1;
			r = finish_removals(ctx, w);
			busy = 0;
			if (r < 0)
				return r;
		}
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
		wake_signal(SIG_UNBLOCK);
		r = dms_pool_wait_event(ctx->lib, w->name, nr);
		wake_signal(SIG_BLOCK);
		if (r < 0 && r != -EINTR)
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
	struct sigaction wake = { .sa_handler = on_wake };
	struct config *c = &ctx->config;
	struct watch w = { 0 };
	struct udev *udev = NULL;
	pthread_t uevents;
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
	sigemptyset(&wake.sa_mask);
	(void)sigaction(SIGUSR1, &wake, NULL);
	wake_signal(SIG_BLOCK);
	w.waiter = pthread_self();
	r = uevents_start(&w, &udev, &uevents);
	if (r < 0) {
		fprintf(stderr, "dmstore: pool monitor: listening to the kernel's uevents failed: %s\n", strerror(-r));
		return EXIT_FAILURE_;
	}
	r = watch(ctx, &w);
	uevents_stop(&w, udev, uevents);
	return r < 0 ? lib_error(ctx, r) : EXIT_OK;
}
