// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The options the object commands (image, snap, vol) share, parsed in one place so
 * every command spells them the same: --pool --json --force --size --image --wait.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"

enum { OPT_POOL = 256, OPT_JSON, OPT_FORCE, OPT_SIZE, OPT_IMAGE, OPT_PLATFORM, OPT_WAIT, OPT_HELP };

static bool allowed(const struct cmd_args *a, int opt)
{
	switch (opt) {
	case OPT_POOL:
	case OPT_HELP:
		return true;
	case OPT_JSON:
		return a->allow_json;
	case OPT_FORCE:
		return a->allow_force;
	case OPT_SIZE:
		return a->allow_size;
	case OPT_IMAGE:
		return a->allow_image;
	case OPT_PLATFORM:
		return a->allow_platform;
	case OPT_WAIT:
		return a->allow_wait;
	}
	return false;
}

int cmd_parse(struct cmd_ctx *ctx, struct cmd_args *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pool", required_argument, NULL, OPT_POOL },	 { "json", no_argument, NULL, OPT_JSON },
		{ "force", no_argument, NULL, OPT_FORCE },	 { "size", required_argument, NULL, OPT_SIZE },
		{ "image", required_argument, NULL, OPT_IMAGE }, { "help", no_argument, NULL, OPT_HELP },
		{ "platform", required_argument, NULL, OPT_PLATFORM },
		{ "wait", required_argument, NULL, OPT_WAIT },
		{ NULL, 0, NULL, 0 },
	};
	int opt, idx;

	a->pool_name = cmd_default_pool(ctx);
	a->wait_ms = DMS_LOCK_WAIT_FOREVER;
	optind = 0;
	opterr = 0;
	while ((idx = -1, opt = getopt_long(argc, argv, "h", opts, &idx)) != -1) {
		if (opt == 'h')
			opt = OPT_HELP;
		/* An option of another command is named as such: argv[optind - 1] may be its value. */
		if (opt != '?' && !allowed(a, opt) && idx >= 0)
			return usage_error("%s: unknown option '--%s'; see 'dmstore %s --help'", a->cmd, opts[idx].name,
					   a->cmd);
		if (opt == '?' || !allowed(a, opt))
			return usage_error("%s: unknown option '%s'; see 'dmstore %s --help'", a->cmd, argv[optind - 1],
					   a->cmd);
		switch (opt) {
		case OPT_HELP:
			fputs(a->help, stdout);
			return -1;
		case OPT_POOL:
			a->pool_name = optarg;
			break;
		case OPT_JSON:
			a->json = true;
			break;
		case OPT_FORCE:
			a->force = true;
			break;
		case OPT_SIZE:
			if (parse_size_arg("--size", optarg, &a->size))
				return EXIT_USAGE;
			if (a->size == 0)
				return usage_error("%s: --size must be more than 0", a->cmd);
			break;
		case OPT_IMAGE:
			a->image = optarg;
			break;
		case OPT_PLATFORM:
			a->platform = optarg;
			break;
		case OPT_WAIT:
			if (parse_wait_arg(a->cmd, optarg, &a->wait_ms))
				return EXIT_USAGE;
			break;
		}
	}
	a->n_operands = argc - optind;
	if (a->n_operands < a->min_operands)
		return usage_error("%s: missing operand; see 'dmstore %s --help'", a->cmd, a->cmd);
	if (a->n_operands > a->max_operands)
		return usage_error("%s: unexpected argument '%s'", a->cmd, argv[optind + a->max_operands]);
	for (int i = 0; i < a->n_operands; i++)
		a->operands[i] = argv[optind + i];
	if (a->pool_name && *a->pool_name && !dms_pool_name_valid(a->pool_name))
		return usage_error("%s: invalid pool name '%s'", a->cmd, a->pool_name);
	if (a->pool_name && !*a->pool_name)
		a->pool_name = NULL;
	return 0;
}

const char *cmd_default_pool(const struct cmd_ctx *ctx)
{
	return *ctx->config.pool ? ctx->config.pool : NULL;
}

int cmd_open_pool(struct cmd_ctx *ctx, struct cmd_args *a)
{
	int r;

	if (require_root(a->cmd))
		return EXIT_PERM;
	dms_ctx_set_lock_wait(ctx->lib, a->wait_ms);
	r = dms_pool_open(ctx->lib, a->pool_name, &a->pool);
	return r < 0 ? lib_error(ctx, r) : 0;
}

int cmd_done(struct cmd_ctx *ctx, struct cmd_args *a, int code)
{
	dms_pool_close(a->pool);
	a->pool = NULL;
	return code;
}

bool cmd_check_name(const char *cmd, const char *what, const char *name)
{
	if (dms_name_valid(name))
		return true;
	usage_error("%s: invalid %s name '%s': use 1-%d of [A-Za-z0-9_.-], starting with a letter or digit", cmd,
		    what, name, DMS_NAME_MAX);
	return false;
}
