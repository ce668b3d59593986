// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * `docker volume create -d dmstore --opt KEY=VALUE`: size (the CLI's size
 * grammar), snapshot-of (a volume of the pool to copy), label (the ext4
 * label). Checked whole before anything changes; names and labels are the
 * library's to judge, with the messages the CLI prints.
 */
#include <errno.h>
#include <string.h>

#include "docker/plugin.h"

int plugin_create_opts_parse(struct plugin_call *c, json_object *opts, struct plugin_create_opts *ret)
{
	struct plugin_create_opts o = { 0 };

	if (opts && !json_object_is_type(opts, json_type_null) && !json_object_is_type(opts, json_type_object))
		return plugin_fail(c, -EINVAL, "%s: Opts is not a map of strings", c->method);
	if (opts && json_object_is_type(opts, json_type_object)) {
		json_object_object_foreach(opts, key, v)
		{
			const char *s;

			if (!json_object_is_type(v, json_type_string))
				return plugin_fail(c, -EINVAL, "--opt %s: the value is not a string", key);
			s = json_object_get_string(v);
			if (strcmp(key, "size") == 0) {
				if (dms_size_parse(s, &o.size) < 0)
					return plugin_fail(
						c, -EINVAL,
						"--opt size: invalid size '%s' (use a number with an optional K, M, G, T suffix)",
						s);
				if (o.size == 0)
					return plugin_fail(c, -EINVAL, "--opt size must be more than 0");
			} else if (strcmp(key, "snapshot-of") == 0) {
				o.snapshot_of = s;
			} else if (strcmp(key, "label") == 0) {
				o.label = s;
			} else {
				return plugin_fail(
					c, -EINVAL,
					"unknown option '%s': a dmstore volume takes size, snapshot-of and label", key);
			}
		}
	}
	/* A snapshot is a copy of its origin's filesystem, size and label included. */
	if (o.snapshot_of && (o.size || o.label))
		return plugin_fail(
			c, -EINVAL,
			"--opt snapshot-of takes neither size nor label: a snapshot has its origin's (grow it after with 'dmstore vol grow')");
	*ret = o;
	return 0;
}
