// SPDX-License-Identifier: LGPL-2.1-or-later
/* Reading what Docker sent: the protocol's fields are strings ("Name", "ID") and a map of strings ("Opts"). */
#include <errno.h>

#include "docker/plugin.h"

int plugin_req_string(struct plugin_call *c, const char *key, const char **ret)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(c->req, key, &v) || json_object_is_type(v, json_type_null))
		return plugin_fail(c, -EINVAL, "%s: the request has no %s", c->method, key);
	if (!json_object_is_type(v, json_type_string))
		return plugin_fail(c, -EINVAL, "%s: %s is not a string", c->method, key);
	s = json_object_get_string(v);
	if (!*s)
		return plugin_fail(c, -EINVAL, "%s: %s is empty", c->method, key);
	*ret = s;
	return 0;
}
