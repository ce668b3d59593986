// SPDX-License-Identifier: LGPL-2.1-or-later
/* dmstore bench io|ops: the benchmarks (bench/); what their commands share. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"
#include "cmd/bench.h"
#include "dms-util.h"

static const char bench_help[] =
	"usage: dmstore bench <command> [--pool POOL] [options]\n\n"
	"  io    the data plane: throughput and latency on thin devices (fresh, provisioned,\n"
	"        snapshot, shared blocks, ext4) against the raw disk; fio as the referee\n"
	"  ops   the control plane: container create and rm, volume create, image import at\n"
	"        10, 100 and 1000 devices; against the dmstore CLI, containerd's dmsetup calls,\n"
	"        LVM and mkfs.ext4\n\n"
	"Benchmarks change the pool while they run (they make and remove objects named bench-*,\n"
	"and remove them on Ctrl-C too), print a table (--json, --plot FILE.png|.svg), and exit 0\n"
	"when they ran, whether or not a target was met. `make bench` runs both in scripts/vm.\n";

volatile sig_atomic_t bench_stop_signal;
static bool status_shown;
static double start_ns;

static void on_stop_signal(int sig)
{
	bench_stop_signal = sig;
}

void bench_catch_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal, .sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
}

int bench_stopped_code(const char *what)
{
	bench_clear_status();
	fprintf(stderr, "dmstore: %s: stopped by signal %d; what it made is removed\n", what, (int)bench_stop_signal);
	return 128 + (int)bench_stop_signal;
}

int bench_failed_code(struct cmd_ctx *ctx, const char *error, int r)
{
	const char *lib = dms_ctx_error(ctx->lib);

	if (*lib && strcmp(error, lib) == 0)
		return exit_code_for(dms_ctx_error_kind(ctx->lib));
	switch (r) {
	case -EINVAL:
		return EXIT_USAGE;
	case -EEXIST:
	case -EBUSY:
		return EXIT_EXISTS;
	default:
		return EXIT_FAILURE_;
	}
}

void bench_start_clock(void)
{
	start_ns = (double)bench_now_ns();
}

void bench_clear_status(void)
{
	if (status_shown)
		fputs("\r\033[K", stderr);
	status_shown = false;
}

void bench_progress(const char *msg)
{
	bench_clear_status();
	fprintf(stderr, "bench: [%6.1fs] %s\n", ((double)bench_now_ns() - start_ns) / 1e9, msg);
}

void bench_status(const char *msg)
{
	fprintf(stderr, "\r\033[Kbench: %.150s", msg);
	status_shown = true;
}

void bench_command_line(int argc, char **argv, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "dmstore bench");

	for (int i = 0; i < argc && n < len; i++) {
		bool plain = *argv[i] &&
			     strspn(argv[i], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=,:") ==
				     strlen(argv[i]);

		n += (size_t)snprintf(buf + n, len - n, plain ? " %s" : " '%s'", argv[i]);
	}
}

int bench_parse_uint(const char *opt, const char *text, unsigned min, unsigned max, unsigned *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || end == text || *end || v < min || v > max || *text == '-')
		return usage_error("%s: invalid number '%s' (%u-%u)", opt, text, min, max);
	*ret = (unsigned)v;
	return 0;
}

int bench_write_json(json_object *o, const char *path)
{
	int r = json_object_to_file_ext(path, o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);

	if (r < 0)
		fprintf(stderr, "dmstore: bench: writing '%s' failed: %s\n", path, json_util_get_last_err());
	return r < 0 ? EXIT_FAILURE_ : EXIT_OK;
}

static const struct cmd bench_cmds[] = {
	{ "io", cmd_bench_io, "the data plane: I/O on thin devices against the raw disk, fio as referee" },
	{ "ops", cmd_bench_ops, "the control plane: create, rm and import at 10 to 1000 devices" },
	{ NULL, NULL, NULL },
};

int cmd_bench(int argc, char **argv, struct cmd_ctx *ctx)
{
	return dispatch("bench", bench_cmds, argc, argv, ctx, bench_help);
}
