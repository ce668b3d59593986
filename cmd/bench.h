/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMS_CMD_BENCH_H
#define DMS_CMD_BENCH_H

/* What `dmstore bench io` and `bench ops` (cmd/bench-*.c) share: cmd/bench.c. */

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "cmd/cmd.h"

/* The signal that asked the benchmark to stop (SIGINT, SIGTERM, SIGHUP), 0 while none has. */
extern volatile sig_atomic_t bench_stop_signal;
/*
 * From here on those signals only set bench_stop_signal: the benchmark stops
 * at its next step and removes what it made. SA_RESTART, so that no library
 * call is cut in the middle: it finishes, and the benchmark stops after it.
 */
void bench_catch_stop_signals(void);
/* The exit code for a benchmark a signal stopped: 128 + the signal, as a shell reports it. */
int bench_stopped_code(const char *what);
/*
 * The exit code for a benchmark that failed with R, ERROR being its report's
 * message: the library's kind of failure when the report quotes the library,
 * else the benchmark's own, by errno (bad input 2, in use or carrying data 4).
 */
int bench_failed_code(struct cmd_ctx *ctx, const char *error, int r);

/* Progress on stderr: lines, and on a terminal a status line rewritten in place. */
void bench_start_clock(void);
void bench_progress(const char *msg);
void bench_status(const char *msg);
void bench_clear_status(void);

/* "dmstore bench io --size 1G ...", quoted where a shell would need it. */
void bench_command_line(int argc, char **argv, char *buf, size_t len);
/* A whole number from MIN to MAX, or a usage error (reported). */
int bench_parse_uint(const char *opt, const char *text, unsigned min, unsigned max, unsigned *ret);
int bench_write_json(json_object *o, const char *path);

int cmd_bench_io(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_bench_ops(int argc, char **argv, struct cmd_ctx *ctx);

#endif
