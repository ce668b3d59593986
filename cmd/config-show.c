// SPDX-License-Identifier: LGPL-2.1-or-later
/* dmstore config: the configuration in effect, each value with where it came from. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"

static const char config_help[] =
	"usage: dmstore [--config FILE] config [--json] [--pool POOL]\n\n"
	"The configuration in effect: each key of dmstore.conf with its value and where it came\n"
	"from: default, file:LINE, env ($DMSTORE_POOL) or flag. The file is --config FILE, else\n"
	"$DMSTORE_CONFIG, else " DMSTORE_CONFIG_PATH " (which may be missing). A bad value\n"
	"stops every command, naming the file and the line (exit 2).\n\n"
	"  --json         one object: path, path_source, read, and values {KEY: {value, source}}\n"
	"  --pool POOL    as the object commands take it, to see which pool they would use\n";

static bool is_number(enum config_key key)
{
	return key != CONFIG_POOL && key != CONFIG_MOUNT_OPTIONS && key != CONFIG_RUNTIME;
}

int cmd_config(int argc, char **argv, struct cmd_ctx *ctx)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pool", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct config *c = &ctx->config;
	static const char *const sources[] = { "default", "file", "env", "flag" };
	char value[4096], source[32], err[512];
	bool json = false;
	int opt;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(config_help, stdout);
			return EXIT_OK;
		} else if (opt == 'j') {
			json = true;
		} else if (opt == 'p') {
			if (config_set(c, CONFIG_POOL, optarg, CONFIG_FLAG, 0, err, sizeof(err)) < 0)
				return usage_error("config: --pool %s", err);
		} else {
			return usage_error("config: unknown option '%s'; see 'dmstore config --help'",
					   argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("config: unexpected argument '%s'", argv[optind]);
	if (json) {
		json_object *o = json_object_new_object(), *values = json_object_new_object();

		json_object_object_add(o, "path", json_object_new_string(c->path));
		json_object_object_add(o, "path_source", json_object_new_string(sources[c->path_source]));
		json_object_object_add(o, "read", json_object_new_boolean(c->read));
		for (int k = 0; k < CONFIG_N_KEYS; k++) {
			json_object *v = json_object_new_object();

			config_value_format(c, k, value, sizeof(value));
			json_object_object_add(v, "value",
					       is_number(k) ? json_object_new_uint64(strtoull(value, NULL, 10)) :
					       *value	    ? json_object_new_string(value) :
							      NULL);
			json_object_object_add(
				v, "source",
				json_object_new_string(config_source_format(c, k, source, sizeof(source))));
			json_object_object_add(values, config_key_name(k), v);
		}
		json_object_object_add(o, "values", values);
		json_print(o);
		return EXIT_OK;
	}
	printf("# %s (%s%s)\n", c->path, sources[c->path_source], c->read ? "" : ", not there: defaults");
	for (int k = 0; k < CONFIG_N_KEYS; k++)
		printf("%-22s %-24s %s\n", config_key_name(k),
		       *config_value_format(c, k, value, sizeof(value)) ? value : "-",
		       config_source_format(c, k, source, sizeof(source)));
	return EXIT_OK;
}
