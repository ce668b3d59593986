// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A layer's labels: a JSON object of strings, as containerd's map[string]string,
 * and containerd's field paths for changing them ("labels", "labels.<key>").
 */
#include <errno.h>
#include <string.h>

#include <json-c/json.h>

#include "pool/internal.h"

/* -EINVAL unless TEXT (NULL: none) is a JSON object whose values are all strings. */
static int labels_parse(const char *text, json_object **ret)
{
	json_object *o;

	o = json_tokener_parse(text && *text ? text : "{}");
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return -EINVAL;
	}
	json_object_object_foreach(o, k, v)
	{
		(void)k;
		if (!json_object_is_type(v, json_type_string)) {
			json_object_put(o);
			return -EINVAL;
		}
	}
	*ret = o;
	return 0;
}

static int labels_string(json_object *o, char **ret)
{
	char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));

	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

int dms_layer_labels_normalize(const char *text, char **ret)
{
	json_object *o;
	int r = labels_parse(text, &o);

	if (r < 0)
		return r;
	r = labels_string(o, ret);
	json_object_put(o);
	return r;
}

int dms_layer_labels_merge(const char *old, const char *new, const char *const *fields, size_t n_fields, char **ret)
{
	json_object *cur = NULL, *upd = NULL, *v;
	int r;

	r = labels_parse(new, &upd);
	if (r == 0)
		r = labels_parse(old, &cur);
	if (r < 0)
		goto out;
	if (n_fields == 0) {
		r = labels_string(upd, ret);
		goto out;
	}
	for (size_t i = 0; i < n_fields; i++) {
		const char *f = fields[i];

		if (strcmp(f, "labels") == 0) {
			json_object_put(cur);
			cur = json_object_get(upd);
		} else if (strncmp(f, "labels.", 7) == 0 && f[7]) {
			if (json_object_object_get_ex(upd, f + 7, &v))
				json_object_object_add(cur, f + 7, json_object_get(v));
			else
				json_object_object_del(cur, f + 7);
		} else {
			r = -EPROTO;
			goto out;
		}
	}
	r = labels_string(cur, ret);
out:
	json_object_put(cur);
	json_object_put(upd);
	return r;
}
