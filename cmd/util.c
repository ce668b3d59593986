// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"

int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("dmstore: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

/* Not from an errno: EXIT_PERM is require_root()'s alone, and a missing file is not a missing object. */
int exit_code_for(enum dms_error_kind kind)
{
	switch (kind) {
	case DMS_ERROR_INVALID:
		return EXIT_USAGE;
	case DMS_ERROR_NOT_FOUND:
		return EXIT_NOT_FOUND;
	case DMS_ERROR_EXISTS:
		return EXIT_EXISTS;
	default:
		return EXIT_FAILURE_;
	}
}

int lib_error(struct cmd_ctx *ctx, int r)
{
	const char *msg = dms_ctx_error(ctx->lib);

	fprintf(stderr, "dmstore: %s\n", *msg ? msg : strerror(-r));
	return exit_code_for(*msg ? dms_ctx_error_kind(ctx->lib) : DMS_ERROR_FAILED);
}

int require_root(const char *what)
{
	if (geteuid() == 0)
		return 0;
	fprintf(stderr, "dmstore: %s: must be run as root (device-mapper needs CAP_SYS_ADMIN)\n", what);
	return EXIT_PERM;
}

void print_lock_wait(const char *pool, const struct dms_lock_holder *holder, void *userdata)
{
	_cleanup_free_ char *who = dms_lock_holder_format(holder);

	fprintf(stderr, "dmstore: pool '%s' is busy: held by %s; waiting for it\n", pool,
		who ? who : "another process");
}

/* Whole seconds, 0 included; the library counts milliseconds in a long. */
#define WAIT_MAX_SECONDS 2147483L

int parse_wait_arg(const char *cmd, const char *text, long *ret_ms)
{
	unsigned long s;

	errno = 0;
	s = strtoul(text, NULL, 10);
	if (!*text || text[strspn(text, "0123456789")] || errno || s > WAIT_MAX_SECONDS)
		return usage_error("%s: --wait '%s': give whole seconds, 0 to %ld", cmd, text, WAIT_MAX_SECONDS);
	*ret_ms = (long)s * 1000L;
	return 0;
}

int dispatch(const char *group, const struct cmd *table, int argc, char **argv, struct cmd_ctx *ctx,
	     const char *help)
{
	if (argc < 2)
		return usage_error("%s: missing subcommand; see 'dmstore %s --help'", group, group);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		fputs(help, stdout);
		return EXIT_OK;
	}
	for (const struct cmd *c = table; c->name; c++)
		if (strcmp(c->name, argv[1]) == 0)
			return c->run(argc - 1, argv + 1, ctx);
	return usage_error("%s: unknown subcommand '%s'; see 'dmstore %s --help'", group, argv[1], group);
}

int parse_size_arg(const char *opt, const char *text, uint64_t *ret)
{
	char max[32];
	int r = dms_size_parse(text, ret);

	if (r == -ERANGE)
		return usage_error("%s: size '%s' is too large: at most %s", opt, text,
				   dms_size_format(DMS_SIZE_MAX, max, sizeof(max)));
	if (r < 0)
		return usage_error("%s: invalid size '%s' (digits and an optional K, M, G, T, P or E: 512M, 10G)", opt,
				   text);
	return 0;
}

void json_print(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

json_object *removed_json(const char *type, const char *name, const char *pool)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "pool", json_object_new_string(pool));
	json_object_object_add(o, "removed", json_object_new_boolean(true));
	return o;
}
