// SPDX-License-Identifier: LGPL-2.1-or-later
/* dmstore: the command table, shared setup, and the one place that exits. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"

static const struct cmd groups[] = {
	{ "pool", cmd_pool, "thin pools: create, status, ls, activate, deactivate, recover, check, grow, monitor, rm" },
	{ "image", cmd_image, "images: one base device each; create, import, ls, inspect, rm" },
	{ "snap", cmd_snap, "containers: a thin snapshot each; create, mount, umount, rm, ls, inspect" },
	{ "vol", cmd_vol, "volumes: create, ls, inspect, attach, detach, mount, umount, rm, snapshot, grow" },
	{ "run", cmd_run, "run a container from an image on an OCI runtime (crun, runc)" },
	{ "start", cmd_start, "run a container again" },
	{ "ps", cmd_ps, "containers, their state and last exit code" },
	{ "config", cmd_config, "the configuration in effect: each value and where it came from" },
	{ "bench", cmd_bench, "benchmarks: io (thin devices vs the raw disk, fio as referee), ops (create, rm, import)" },
	{ NULL, NULL, NULL },
};

static void print_help(void)
{
	printf("usage: dmstore [--version] [--help] [--config FILE] <group> <command> [<args>]\n\n"
	       "Block-level container storage on device-mapper thin provisioning.\n\n");
	for (const struct cmd *g = groups; g->name; g++)
		printf("  %-8s %s\n", g->name, g->summary);
	printf("\nSee 'dmstore help <group> [<command>]' and dmstore(8).\n"
	       "Exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 exists or in use, 5 not root.\n"
	       "Environment: DMSTORE_STATE_DIR (default /var/lib/dmstore), DMSTORE_RUN_DIR (default /run/dmstore),\n"
	       "DMSTORE_CONFIG (default " DMSTORE_CONFIG_PATH "), DMSTORE_POOL.\n");
}

/* A full disk or closed pipe on stdout must not pass for success. */
static int flush_stdout(int code)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "dmstore: writing output failed: %s\n", strerror(errno));
		return code ? code : EXIT_FAILURE_;
	}
	return code;
}

/*
 * The configuration file, read for every command, handed to the library: a
 * bad value stops every command, naming the file and the line.
 */
static int load_config(struct cmd_ctx *ctx, const char *path)
{
	char err[1024];
	int r;

	config_init(&ctx->config);
	r = config_load(&ctx->config, path, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "dmstore: %s\n", err);
		/* A file the caller named and that is not there is a bad argument too. */
		return r == -EINVAL || r == -ENOENT ? EXIT_USAGE : EXIT_FAILURE_;
	}
	r = config_apply(&ctx->config, ctx->lib, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "dmstore: %s\n", err);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	struct cmd_ctx ctx = { 0 };
	const char *config = NULL;
	char *help_argv[5];
	int r, code;

	/* dmstore --config FILE <group> ...: the one option before the group. */
	if (argc > 1 && strncmp(argv[1], "--config=", 9) == 0) {
		config = argv[1] + 9;
		argc--, argv++;
	} else if (argc > 2 && strcmp(argv[1], "--config") == 0) {
		config = argv[2];
		argc -= 2, argv += 2;
	} else if (argc == 2 && strcmp(argv[1], "--config") == 0) {
		return usage_error("--config needs a FILE");
	}
	if (argc < 2)
		return usage_error("missing command; see 'dmstore --help'");
	/* dmstore help GROUP [CMD] is dmstore GROUP [CMD] --help. */
	if (strcmp(argv[1], "help") == 0 && (argc == 3 || argc == 4)) {
		help_argv[0] = argv[0];
		for (int i = 2; i < argc; i++)
			help_argv[i - 1] = argv[i];
		help_argv[argc - 1] = (char *)"--help";
		help_argv[argc] = NULL;
		argv = help_argv;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		print_help();
		return flush_stdout(EXIT_OK);
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("dmstore %s\n", dms_version());
		return flush_stdout(EXIT_OK);
	}
	for (const struct cmd *g = groups; g->name; g++) {
		if (strcmp(g->name, argv[1]) != 0)
			continue;
		/* Our stderr is the user's: the library's one-line errors say what failed, not libdevmapper. */
		dms_devmapper_quiet();
		r = dms_ctx_new(&ctx.lib);
		if (r < 0) {
			fprintf(stderr, "dmstore: %s\n", strerror(-r));
			return EXIT_FAILURE_;
		}
		code = load_config(&ctx, config);
		if (code == EXIT_OK) {
			dms_ctx_set_lock_wait_notify(ctx.lib, print_lock_wait, NULL);
			ctx.group = g->name;
			code = g->run(argc - 1, argv + 1, &ctx);
		}
		dms_ctx_free(ctx.lib);
		return flush_stdout(code);
	}
	return usage_error("unknown command '%s'; see 'dmstore --help'", argv[1]);
}
