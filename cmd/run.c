// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * dmstore run | start | ps: containers on an OCI runtime (runtime/). The
 * runtime runs in the foreground on the terminal's stdio; dmstore waits for
 * it, forwards SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to it (not those the
 * terminal sends the whole process group, which the runtime got too), and
 * exits with the container's exit code, 128+N when signal N killed it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"

static volatile sig_atomic_t child_pid, pending_signal;

static void forward_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (si && si->si_code == SI_KERNEL)
		return;
	if (child_pid > 0)
		(void)kill((pid_t)child_pid, sig);
	else
		pending_signal = sig;
}

/* From before the run begins: a signal during set-up is held until the runtime can take it, so set-up is never cut short. */
static void catch_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction sa = { .sa_sigaction = forward_signal, .sa_flags = SA_SIGINFO | SA_RESTART };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		(void)sigaction(sigs[i], &sa, NULL);
}

/* Begin, run the runtime, wait, end: the container's exit code, or dmstore's failure code. */
static int run_foreground(struct cmd_ctx *ctx, struct dms_pool *pool, const char *name)
{
	struct dms_run *run = NULL;
	int status = 0, code, r;
	pid_t pid;

	catch_signals();
	r = dms_run_begin(pool, name, &run);
	if (r < 0)
		return lib_error(ctx, r);
	r = dms_run_spawn(run, &pid);
	if (r < 0) {
		/* The spawn's error is the one to report, not what ending the run may add. */
		code = lib_error(ctx, r);
		(void)dms_run_end(run, -1);
		return code;
	}
	child_pid = pid;
	if (pending_signal)
		(void)kill(pid, pending_signal);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			status = 0xff00; /* lost: exit code 255 */
			break;
		}
	child_pid = 0;
	code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	r = dms_run_end(run, code);
	if (r < 0) {
		lib_error(ctx, r);
		return code ? code : EXIT_FAILURE_;
	}
	return code;
}

/* What -v names: the strings a struct dms_run_volume points to. */
struct volume_arg {
	char name[DMS_NAME_MAX + 1];
	char path[4096];
};

static int parse_volume(const char *arg, struct volume_arg *buf, struct dms_run_volume *v)
{
	const char *c1 = strchr(arg, ':'), *c2;

	if (!c1 || c1 == arg || (size_t)(c1 - arg) > DMS_NAME_MAX)
		return usage_error("run: -v takes VOLUME:PATH[:ro], not '%s'", arg);
	memset(buf, 0, sizeof(*buf));
	memcpy(buf->name, arg, (size_t)(c1 - arg));
	c2 = strchr(c1 + 1, ':');
	if (c2 && strcmp(c2, ":ro") != 0 && strcmp(c2, ":rw") != 0)
		return usage_error("run: -v '%s': the mode is ro or rw", arg);
	if ((size_t)snprintf(buf->path, sizeof(buf->path), "%.*s", (int)(c2 ? c2 - c1 - 1 : (long)strlen(c1 + 1)),
			     c1 + 1) >= sizeof(buf->path) ||
	    buf->path[0] != '/')
		return usage_error("run: -v '%s': the path inside the container must be absolute", arg);
	if (!cmd_check_name("run", "volume", buf->name))
		return EXIT_USAGE;
	*v = (struct dms_run_volume){ .size = sizeof(*v),
				      .name = buf->name,
				      .path = buf->path,
				      .read_only = c2 && strcmp(c2, ":ro") == 0 };
	return 0;
}

enum { OPT_NAME = 256, OPT_RM, OPT_ENTRYPOINT, OPT_HOSTNAME, OPT_NETWORK, OPT_READ_ONLY, OPT_RUNTIME, OPT_POOL,
       OPT_HELP };

static const char run_help[] =
	"usage: dmstore run [--name C] [--rm] [-v VOL:PATH[:ro]]... [-e K=V]... [-w DIR] [-u UID[:GID]]\n"
	"                   [--entrypoint P] [--hostname H] [--network none|host] [--read-only]\n"
	"                   [--runtime crun|runc|PATH] [--pool POOL] IMAGE [CMD ARG...]\n\n"
	"Make container C (a snapshot of IMAGE; named IMAGE-XXXXXX when not given), mount it, attach the\n"
	"volumes, and run it on an OCI runtime (crun, else runc) in the foreground. The process is the\n"
	"image's Entrypoint and Cmd unless CMD is given. Exits with the container's exit code (128+N when\n"
	"signal N killed it). Afterwards the rootfs is unmounted and the volumes detached; --rm removes\n"
	"the container too. Volumes always stay. --pool defaults to $DMSTORE_POOL, else the config file's\n"
	"pool, else the only pool there is.\n";

int cmd_run(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, OPT_NAME },	   { "rm", no_argument, NULL, OPT_RM },
		{ "volume", required_argument, NULL, 'v' },	   { "env", required_argument, NULL, 'e' },
		{ "workdir", required_argument, NULL, 'w' },	   { "user", required_argument, NULL, 'u' },
		{ "entrypoint", required_argument, NULL, OPT_ENTRYPOINT },
		{ "hostname", required_argument, NULL, OPT_HOSTNAME },
		{ "network", required_argument, NULL, OPT_NETWORK }, { "read-only", no_argument, NULL, OPT_READ_ONLY },
		{ "runtime", required_argument, NULL, OPT_RUNTIME }, { "pool", required_argument, NULL, OPT_POOL },
		{ "help", no_argument, NULL, OPT_HELP },	   { NULL, 0, NULL, 0 },
	};
	struct volume_arg vol_args[DMS_RUN_VOLUMES_MAX];
	struct dms_run_volume vols[DMS_RUN_VOLUMES_MAX];
	const struct dms_run_volume *vol_ptrs[DMS_RUN_VOLUMES_MAX];
	struct dms_run_opts o = { .size = sizeof(o),
				  .volumes = vol_ptrs,
				  .runtime = *ctx->config.runtime ? ctx->config.runtime : NULL };
	struct cmd_args a = { .cmd = "run" };
	const char **env = NULL;
	_cleanup_free_ char *name = NULL;
	bool remove = false;
	int opt, r, code;

	a.pool_name = cmd_default_pool(ctx);
	env = calloc((size_t)argc, sizeof(*env));
	if (!env)
		return EXIT_FAILURE_;
	o.env = env;
	optind = 0;
	opterr = 0;
	/* "+": options end at IMAGE; what follows is the container's command line. */
	while ((opt = getopt_long(argc, argv, "+v:e:w:u:", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_HELP:
			fputs(run_help, stdout);
			free(env);
			return EXIT_OK;
		case OPT_NAME:
			if (!cmd_check_name("run", "container", optarg))
				goto usage;
			o.name = optarg;
			break;
		case OPT_RM:
			remove = true;
			break;
		case 'v':
			if (o.n_volumes == DMS_RUN_VOLUMES_MAX) {
				usage_error("run: at most %d volumes", DMS_RUN_VOLUMES_MAX);
				goto usage;
			}
			if (parse_volume(optarg, &vol_args[o.n_volumes], &vols[o.n_volumes]))
				goto usage;
			vol_ptrs[o.n_volumes] = &vols[o.n_volumes];
			o.n_volumes++;
			break;
		case 'e':
			env[o.n_env++] = optarg;
			break;
		case 'w':
			o.workdir = optarg;
			break;
		case 'u':
			o.user = optarg;
			break;
		case OPT_ENTRYPOINT:
			o.entrypoint = optarg;
			break;
		case OPT_HOSTNAME:
			o.hostname = optarg;
			break;
		case OPT_NETWORK:
			if (strcmp(optarg, "host") != 0 && strcmp(optarg, "none") != 0) {
				usage_error("run: --network is none or host, not '%s'", optarg);
				goto usage;
			}
			o.host_network = strcmp(optarg, "host") == 0;
			break;
		case OPT_READ_ONLY:
			o.read_only = true;
			break;
		case OPT_RUNTIME:
			o.runtime = optarg;
			break;
		case OPT_POOL:
			a.pool_name = optarg;
			break;
		default:
			usage_error("run: unknown option '%s'; see 'dmstore run --help'", argv[optind - 1]);
			goto usage;
		}
	}
	if (optind >= argc) {
		usage_error("run: missing IMAGE; see 'dmstore run --help'");
		goto usage;
	}
	o.image = argv[optind];
	if (!cmd_check_name("run", "image", o.image))
		goto usage;
	o.args = (const char *const *)(argv + optind + 1);
	o.n_args = (size_t)(argc - optind - 1);
	if (a.pool_name && !*a.pool_name)
		a.pool_name = NULL;
	if (a.pool_name && !dms_pool_name_valid(a.pool_name)) {
		usage_error("run: invalid pool name '%s'", a.pool_name);
		goto usage;
	}
	r = cmd_open_pool(ctx, &a);
	if (r) {
		free(env);
		return r;
	}
	r = dms_run_create(a.pool, &o, &name);
	free(env);
	if (r < 0)
		return cmd_done(ctx, &a, lib_error(ctx, r));
	code = run_foreground(ctx, a.pool, name);
	if (remove && dms_snap_remove(a.pool, name) < 0) {
		lib_error(ctx, -EIO);
		if (code == 0)
			code = EXIT_FAILURE_;
	}
	return cmd_done(ctx, &a, code);
usage:
	free(env);
	return EXIT_USAGE;
}

/* What a detached start tells its caller when the run did not start: the exit code, then the message. */
static void tell_failure(int fd, const struct cmd_ctx *ctx, int r)
{
	const char *err = dms_ctx_error(ctx->lib);

	dprintf(fd, "%d %s", *err ? exit_code_for(dms_ctx_error_kind(ctx->lib)) : EXIT_FAILURE_,
		*err ? err : strerror(-r));
}

/*
 * start without -a: the run goes on in a process of its own, out of the
 * terminal's session, with its output discarded. That process opens the pool
 * itself (an open SQLite connection must not cross a fork) and tells the
 * caller over a pipe whether the container started: "ok", or a code and a
 * message.
 */
static int start_detached(struct cmd_args *a, struct cmd_ctx *ctx, const char *name)
{
	char msg[1100] = "";
	int fds[2], devnull, status;
	ssize_t n;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return EXIT_FAILURE_;
	pid = fork();
	if (pid < 0)
		return EXIT_FAILURE_;
	if (pid == 0) {
		struct dms_run *run = NULL;
		pid_t rt;
		int r;

		(void)close(fds[0]);
		(void)setsid();
		/* Away from the terminal's session, and reparented: the caller does not wait for the run. */
		if (fork() != 0)
			_exit(0);
		devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (devnull >= 0) {
			(void)dup2(devnull, STDIN_FILENO);
			(void)dup2(devnull, STDOUT_FILENO);
			(void)dup2(devnull, STDERR_FILENO);
		}
		catch_signals();
		r = dms_pool_open(ctx->lib, a->pool_name, &a->pool);
		if (r == 0)
			r = dms_run_begin(a->pool, name, &run);
		if (r == 0 && (r = dms_run_spawn(run, &rt)) < 0) {
			/* The spawn's error is the one to tell, not what ending the run may add. */
			tell_failure(fds[1], ctx, r);
			(void)dms_run_end(run, -1);
			_exit(1);
		}
		if (r < 0) {
			tell_failure(fds[1], ctx, r);
			_exit(1);
		}
		dprintf(fds[1], "ok");
		(void)close(fds[1]);
		child_pid = rt;
		while (waitpid(rt, &status, 0) < 0 && errno == EINTR)
			;
		child_pid = 0;
		(void)dms_run_end(run, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		dms_pool_close(a->pool);
		_exit(0);
	}
	(void)close(fds[1]);
	(void)waitpid(pid, &status, 0);
	n = read(fds[0], msg, sizeof(msg) - 1);
	(void)close(fds[0]);
	if (n > 0 && strncmp(msg, "ok", 2) == 0) {
		printf("container '%s' started\n", name);
		return EXIT_OK;
	}
	if (n <= 0) {
		fprintf(stderr, "dmstore: start: container '%s': the run ended before it started\n", name);
		return EXIT_FAILURE_;
	}
	msg[n] = '\0';
	fprintf(stderr, "dmstore: %s\n", strchr(msg, ' ') ? strchr(msg, ' ') + 1 : msg);
	return atoi(msg) > 0 ? atoi(msg) : EXIT_FAILURE_;
}

int cmd_start(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const char help[] = "usage: dmstore start [-a] [--pool POOL] C\n\n"
				   "Run container C again, as 'dmstore run' made it, on the layer it kept. With -a\n"
				   "(--attach), in the foreground on this terminal, exiting with its exit code;\n"
				   "without, in the background: 'dmstore ps' shows it. --pool defaults to $DMSTORE_POOL,\n"
				   "else the config file's pool, else the only pool there is.\n";
	bool attach = false;
	struct cmd_args a = { .cmd = "start", .help = help, .min_operands = 1, .max_operands = 1 };
	int r, i;

	/* -a/--attach is start's own; the rest is the common grammar. */
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "-a") == 0 || strcmp(argv[i], "--attach") == 0) {
			attach = true;
			memmove(&argv[i], &argv[i + 1], (size_t)(argc - i) * sizeof(*argv));
			argc--;
			i--;
		}
	r = cmd_parse(ctx, &a, argc, argv);
	if (r)
		return r < 0 ? EXIT_OK : r;
	if (!cmd_check_name("start", "container", a.operands[0]))
		return EXIT_USAGE;
	if (!attach) {
		if (require_root(a.cmd))
			return EXIT_PERM;
		fflush(stdout);
		return start_detached(&a, ctx, a.operands[0]);
	}
	r = cmd_open_pool(ctx, &a);
	if (r)
		return r;
	return cmd_done(ctx, &a, run_foreground(ctx, a.pool, a.operands[0]));
}

static const char *state_name(enum dms_run_state s)
{
	switch (s) {
	case DMS_RUN_CREATED:
		return "created";
	case DMS_RUN_RUNNING:
		return "running";
	case DMS_RUN_EXITED:
		return "exited";
	}
	return "?";
}

int cmd_ps(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const char help[] = "usage: dmstore ps [--json] [--pool POOL]\n\n"
				   "Containers with their image, state (created, running, exited) and last exit code.\n"
				   "--pool defaults to $DMSTORE_POOL, else the config file's pool, else the only pool there is.\n";
	struct cmd_args a = { .cmd = "ps", .help = help, .allow_json = true };
	struct dms_snap_info **snaps = NULL;
	json_object *arr = NULL;
	size_t n = 0;
	int r, code = EXIT_OK;

	r = cmd_parse(ctx, &a, argc, argv);
	if (r)
		return r < 0 ? EXIT_OK : r;
	r = cmd_open_pool(ctx, &a);
	if (r)
		return r;
	r = dms_snap_list(a.pool, &snaps, &n);
	if (r < 0)
		return cmd_done(ctx, &a, lib_error(ctx, r));
	if (a.json)
		arr = json_object_new_array();
	else
		printf("%-24s %-20s %-8s %5s %s\n", "NAME", "IMAGE", "STATE", "EXIT", "COMMAND");
	for (size_t i = 0; i < n; i++) {
		struct dms_run_status *st = NULL;
		char exit_text[16] = "-";

		r = dms_run_status(a.pool, snaps[i]->name, &st);
		if (r < 0) {
			code = lib_error(ctx, r);
			continue;
		}
		if (st->has_exit_code)
			snprintf(exit_text, sizeof(exit_text), "%d", st->exit_code);
		else if (st->state == DMS_RUN_EXITED)
			snprintf(exit_text, sizeof(exit_text), "?");
		if (a.json) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "name", json_object_new_string(snaps[i]->name));
			json_object_object_add(o, "image", json_object_new_string(snaps[i]->image));
			json_object_object_add(o, "state", json_object_new_string(state_name(st->state)));
			json_object_object_add(o, "exit_code",
					       st->has_exit_code ? json_object_new_int(st->exit_code) : NULL);
			json_object_object_add(o, "pid", json_object_new_int64(st->pid));
			json_object_object_add(o, "started", json_object_new_int64(st->started));
			json_object_object_add(o, "finished", json_object_new_int64(st->finished));
			if (st->n_args) {
				json_object *args = json_object_new_array();

				for (size_t k = 0; k < st->n_args; k++)
					json_object_array_add(args, json_object_new_string(st->args[k]));
				json_object_object_add(o, "command", args);
			}
			json_object_array_add(arr, o);
		} else {
			printf("%-24s %-20s %-8s %5s %s\n", snaps[i]->name, snaps[i]->image, state_name(st->state),
			       exit_text, st->n_args ? st->args[0] : "");
		}
		dms_run_status_free(st);
	}
	if (a.json)
		json_print(arr);
	dms_snap_list_free(snaps, n);
	return cmd_done(ctx, &a, code);
}
