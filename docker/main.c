// SPDX-License-Identifier: LGPL-2.1-or-later
/* dmstore-docker-plugin: the options, the pool checked once, the socket, and serving until told to stop. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "docker/plugin.h"

static const char usage[] =
	"usage: " PLUGIN_PROG " [--config FILE] [--pool POOL] [--socket PATH] [--default-size SIZE]\n\n"
	"Serve Docker's volume plugin protocol: every volume of the driver 'dmstore'\n"
	"(docker volume create -d dmstore --opt size=20G NAME) is a dmstore thin volume\n"
	"with its own ext4, in POOL.\n\n"
	"  --config FILE        the configuration (default: $DMSTORE_CONFIG, else " DMSTORE_CONFIG_PATH "):\n"
	"                       its pool, min_free and mount_options, as dmstore takes them\n"
	"  --pool POOL          the pool (default: $DMSTORE_POOL, else the configuration's pool,\n"
	"                       else the only pool there is)\n"
	"  --socket PATH        where Docker connects (default " PLUGIN_SOCKET_DEFAULT ");\n"
	"                       under systemd socket activation the passed socket is used\n"
	"  --default-size SIZE  a volume created without --opt size (default 10G)\n\n"
	"Options of `docker volume create -d dmstore`: size=SIZE, snapshot-of=VOLUME, label=LABEL.\n";

/* "dmstore-docker-plugin: WHAT: <errno text>", and the failure's exit code. */
static int fail(const char *what, int r)
{
	fprintf(stderr, "%s: %s: %s\n", PLUGIN_PROG, what, strerror(-r));
	return 1;
}

/* The pool must be there when the plugin starts: a typo is told now, not at Docker's first call. */
static int check_pool(struct plugin *p)
{
	struct dms_pool *pool;
	int r;

	r = dms_pool_open(p->ctx, p->pool_name, &pool);
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", PLUGIN_PROG, dms_ctx_error(p->ctx));
		return 1;
	}
	fprintf(stderr, "%s: serving pool '%s'\n", PLUGIN_PROG, dms_pool_name(pool));
	dms_pool_close(pool);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "pool", required_argument, NULL, 'p' },
		{ "socket", required_argument, NULL, 's' },
		{ "default-size", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct plugin p = { .default_size = PLUGIN_DEFAULT_SIZE };
	const char *socket_path = PLUGIN_SOCKET_DEFAULT, *config_path = NULL, *pool_flag = NULL;
	char err[1024];
	bool bound = false;
	int opt, fd, sig, r;
	sigset_t sigs;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'p':
			pool_flag = optarg;
			break;
		case 's':
			socket_path = optarg;
			break;
		case 'd':
			if (dms_size_parse(optarg, &p.default_size) < 0 || p.default_size == 0) {
				fprintf(stderr,
					"%s: --default-size: invalid size '%s' (use a number with an optional K, M, G, T suffix)\n",
					PLUGIN_PROG, optarg);
				return 2;
			}
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fprintf(stderr, "%s: unknown option '%s'; see '%s --help'\n", PLUGIN_PROG, argv[optind - 1],
				PLUGIN_PROG);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", PLUGIN_PROG, argv[optind]);
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "%s: must be run as root (device-mapper and mounts need CAP_SYS_ADMIN)\n", PLUGIN_PROG);
		return 5;
	}
	/* Docker gets the library's one-line errors; libdevmapper's own would only repeat them in the log. */
	dms_devmapper_quiet();
	r = dms_ctx_new(&p.ctx);
	if (r < 0)
		return fail("starting libdmstore", r);
	r = plugin_configure(&p, config_path, pool_flag, err, sizeof(err));
	if (r < 0) {
		dms_ctx_free(p.ctx);
		fprintf(stderr, "%s: %s\n", PLUGIN_PROG, err);
		/* As dmstore: a bad value, or a file the caller named that is not there, is a usage error. */
		return r == -EINVAL || r == -ENOENT ? 2 : 1;
	}
	if (check_pool(&p)) {
		dms_ctx_free(p.ctx);
		return 1;
	}
	/* A write to a connection Docker closed is an error to that request, not the plugin's end. */
	signal(SIGPIPE, SIG_IGN);
	r = plugin_listen(socket_path, &fd, &bound);
	if (r < 0) {
		dms_ctx_free(p.ctx);
		fprintf(stderr, "%s: socket '%s': %s\n", PLUGIN_PROG, socket_path,
			r == -EADDRINUSE ? "another plugin is serving there" : strerror(-r));
		return 1;
	}
	fprintf(stderr, "%s: listening on %s\n", PLUGIN_PROG, bound ? socket_path : "the socket systemd passed");
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	r = plugin_serve(&p, fd, &sigs, &sig);
	if (bound)
		(void)unlink(socket_path);
	dms_ctx_free(p.ctx);
	if (r < 0)
		return fail("serving", r);
	fprintf(stderr, "%s: stopped by signal %d\n", PLUGIN_PROG, sig);
	return 0;
}
