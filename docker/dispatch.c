// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * From a request to its answer, without any HTTP: the path names the
 * endpoint, the body is a JSON object, the answer is the endpoint's fields or
 * {"Err": "..."}. Docker (moby's pkg/plugins) takes the Err of a non-200
 * answer as the call's error, and shows it after the method's name.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "docker/plugin.h"

static const struct route {
	const char *path;
	int (*run)(struct plugin_call *c);
} routes[] = {
	{ "/Plugin.Activate", plugin_activate },
	{ "/VolumeDriver.Create", vd_create },
	{ "/VolumeDriver.Remove", vd_remove },
	{ "/VolumeDriver.Mount", vd_mount },
	{ "/VolumeDriver.Unmount", vd_unmount },
	{ "/VolumeDriver.Path", vd_path },
	{ "/VolumeDriver.Get", vd_get },
	{ "/VolumeDriver.List", vd_list },
	{ "/VolumeDriver.Capabilities", vd_capabilities },
};

int plugin_fail(struct plugin_call *c, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return r;
}

int plugin_lib_fail(struct plugin_call *c, int r)
{
	const char *msg = dms_ctx_error(c->plugin->ctx);

	return plugin_fail(c, r, "%s", msg && *msg ? msg : strerror(-r));
}

static int answer(int status, json_object *o, char **ret_json)
{
	char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));

	json_object_put(o);
	if (!s)
		return -ENOMEM;
	*ret_json = s;
	return status;
}

static int answer_err(int status, const char *msg, char **ret_json)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "Err", json_object_new_string(msg));
	return answer(status, o, ret_json);
}

/*
 * The body: one JSON value, strictly (RFC 8259), an object; Docker sends
 * nothing, or null, for the calls that take no arguments. json-c reads a
 * literal at the very end of its input only once told the input ended: the
 * terminating NUL, fed as one more byte.
 */
static int parse_body(const char *body, size_t len, json_object **ret, char *err, size_t errlen)
{
	enum json_tokener_error e;
	json_tokener *tok;
	json_object *o;

	if (len > PLUGIN_BODY_MAX) {
		snprintf(err, errlen, "the request body is over %u bytes", PLUGIN_BODY_MAX);
		return -E2BIG;
	}
	while (len > 0 && strchr(" \t\r\n", body[len - 1]))
		len--;
	if (len == 0) {
		*ret = json_object_new_object();
		return 0;
	}
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	/* Strict: text after the value is an error too, not the start of the next one. */
	o = json_tokener_parse_ex(tok, body, (int)len);
	e = json_tokener_get_error(tok);
	if (e == json_tokener_continue) {
		o = json_tokener_parse_ex(tok, "", 1);
		e = json_tokener_get_error(tok);
	}
	json_tokener_free(tok);
	if (e != json_tokener_success) {
		snprintf(err, errlen, "the request body is not JSON: %s", json_tokener_error_desc(e));
		json_object_put(o);
		return -EINVAL;
	}
	if (!o) {
		*ret = json_object_new_object();
		return 0;
	}
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		snprintf(err, errlen, "the request body is not a JSON object");
		return -EINVAL;
	}
	*ret = o;
	return 0;
}

int plugin_dispatch(struct plugin *p, const char *path, const char *body, size_t len, char **ret_json)
{
	struct plugin_call c = { .plugin = p };
	const struct route *rt = NULL;
	char err[256];
	int r;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (strcmp(routes[i].path, path) == 0)
			rt = &routes[i];
	if (!rt) {
		snprintf(err, sizeof(err), "no such endpoint '%s'", path);
		return answer_err(404, err, ret_json);
	}
	c.method = rt->path + 1;
	r = parse_body(body, len, &c.req, err, sizeof(err));
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return answer_err(r == -E2BIG ? 413 : 400, err, ret_json);
	c.resp = json_object_new_object();
	r = rt->run(&c);
	json_object_put(c.req);
	if (r < 0) {
		json_object_put(c.resp);
		return answer_err(500, c.err, ret_json);
	}
	return answer(200, c.resp, ret_json);
}
