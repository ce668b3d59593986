// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A container's run spec: made once by `run` from the image's config and the
 * options (as `docker run` reads them: --entrypoint replaces the image's
 * Entrypoint and drops its Cmd; CMD ARG... replaces Cmd; -e adds to or
 * replaces the image's Env; a PATH is supplied when the image has none), and
 * kept as JSON so `start` runs the container the same way again.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "dms-util.h"
#include "runtime/runtime.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

__attribute__((format(printf, 4, 5))) static int errf(char *errbuf, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;

	if (errbuf && errlen) {
		va_start(ap, fmt);
		(void)vsnprintf(errbuf, errlen, fmt, ap);
		va_end(ap);
	}
	return r;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void dms_run_spec_clear(struct dms_run_spec *spec)
{
	free(spec->image);
	strv_free(spec->args, spec->n_args);
	strv_free(spec->env, spec->n_env);
	free(spec->workdir);
	free(spec->user);
	free(spec->hostname);
	free(spec->runtime);
	free(spec->volumes);
	*spec = (struct dms_run_spec){ 0 };
}

static int strv_push(char ***v, size_t *n, const char *s)
{
	char **grown = realloc(*v, (*n + 1) * sizeof(**v));

	if (!grown)
		return -ENOMEM;
	*v = grown;
	grown[*n] = strdup(s);
	if (!grown[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

/* K=V replaces an earlier K. */
static int env_set(char ***v, size_t *n, const char *kv)
{
	size_t klen = strcspn(kv, "=");

	for (size_t i = 0; i < *n; i++)
		if (strncmp((*v)[i], kv, klen) == 0 && (*v)[i][klen] == '=') {
			char *copy = strdup(kv);

			if (!copy)
				return -ENOMEM;
			free((*v)[i]);
			(*v)[i] = copy;
			return 0;
		}
	return strv_push(v, n, kv);
}

static json_object *strv_json(char *const *v, size_t n)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

static void add_str(json_object *o, const char *key, const char *value)
{
	if (value)
		json_object_object_add(o, key, json_object_new_string(value));
}

int dms_run_spec_to_json(const struct dms_run_spec *spec, char **ret_json)
{
	json_object *o = json_object_new_object(), *vols = json_object_new_array();
	int r = 0;

	add_str(o, "image", spec->image);
	json_object_object_add(o, "args", strv_json(spec->args, spec->n_args));
	json_object_object_add(o, "env", strv_json(spec->env, spec->n_env));
	add_str(o, "workdir", spec->workdir);
	add_str(o, "user", spec->user);
	add_str(o, "hostname", spec->hostname);
	json_object_object_add(o, "network", json_object_new_string(spec->host_network ? "host" : "none"));
	json_object_object_add(o, "read_only", json_object_new_boolean(spec->read_only));
	add_str(o, "runtime", spec->runtime);
	for (size_t i = 0; i < spec->n_volumes; i++) {
		json_object *v = json_object_new_object();

		add_str(v, "name", spec->volumes[i].name);
		add_str(v, "path", spec->volumes[i].path);
		json_object_object_add(v, "read_only", json_object_new_boolean(spec->volumes[i].read_only));
		json_object_array_add(vols, v);
	}
	json_object_object_add(o, "volumes", vols);
	*ret_json = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	if (!*ret_json)
		r = -ENOMEM;
	json_object_put(o);
	return r;
}

static const char *get_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int dup_str(json_object *o, const char *key, char **ret)
{
	const char *s = get_str(o, key);

	if (!s)
		return 0;
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

static int strv_from(json_object *o, const char *key, char ***v, size_t *n)
{
	json_object *a;
	int r;

	if (!json_object_object_get_ex(o, key, &a) || !json_object_is_type(a, json_type_array))
		return 0;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *s = json_object_array_get_idx(a, i);

		if (!json_object_is_type(s, json_type_string))
			return -EINVAL;
		r = strv_push(v, n, json_object_get_string(s));
		if (r < 0)
			return r;
	}
	return 0;
}

int dms_run_spec_from_json(const char *json, struct dms_run_spec *ret_spec)
{
	json_object *o = json_tokener_parse(json), *vols, *b;
	struct dms_run_spec spec = { 0 };
	int r = 0;

	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return -EINVAL;
	}
	r = dup_str(o, "image", &spec.image);
	if (r == 0)
		r = strv_from(o, "args", &spec.args, &spec.n_args);
	if (r == 0)
		r = strv_from(o, "env", &spec.env, &spec.n_env);
	if (r == 0)
		r = dup_str(o, "workdir", &spec.workdir);
	if (r == 0)
		r = dup_str(o, "user", &spec.user);
	if (r == 0)
		r = dup_str(o, "hostname", &spec.hostname);
	if (r == 0)
		r = dup_str(o, "runtime", &spec.runtime);
	spec.host_network = get_str(o, "network") && strcmp(get_str(o, "network"), "host") == 0;
	spec.read_only = json_object_object_get_ex(o, "read_only", &b) && json_object_get_boolean(b);
	if (r == 0 && json_object_object_get_ex(o, "volumes", &vols) && json_object_is_type(vols, json_type_array)) {
		size_t n = json_object_array_length(vols);

		spec.volumes = calloc(n ? n : 1, sizeof(*spec.volumes));
		if (!spec.volumes)
			r = -ENOMEM;
		for (size_t i = 0; r == 0 && i < n; i++) {
			json_object *v = json_object_array_get_idx(vols, i);
			const char *name = get_str(v, "name"), *path = get_str(v, "path");

			if (!name || !path) {
				r = -EINVAL;
				break;
			}
			snprintf(spec.volumes[i].name, sizeof(spec.volumes[i].name), "%s", name);
			snprintf(spec.volumes[i].path, sizeof(spec.volumes[i].path), "%s", path);
			spec.volumes[i].read_only = json_object_object_get_ex(v, "read_only", &b) && json_object_get_boolean(b);
			spec.n_volumes++;
		}
	}
	if (r == 0 && (!spec.image || spec.n_args == 0 || !spec.workdir))
		r = -EINVAL;
	json_object_put(o);
	if (r < 0) {
		dms_run_spec_clear(&spec);
		return r;
	}
	*ret_spec = spec;
	return 0;
}

/* The image config's "config" object (dms_image_config's layout), or NULL. */
static json_object *image_runtime_config(json_object *cfg)
{
	json_object *c;

	if (!cfg || !json_object_object_get_ex(cfg, "config", &c) || !json_object_is_type(c, json_type_object))
		return NULL;
	return c;
}

static int make_process(struct dms_run_spec *spec, const struct dms_run_opts *opts, json_object *c)
{
	int r = 0;

	if (opts->entrypoint) {
		if (*opts->entrypoint)
			r = strv_push(&spec->args, &spec->n_args, opts->entrypoint);
	} else if (c) {
		r = strv_from(c, "Entrypoint", &spec->args, &spec->n_args);
	}
	if (r < 0)
		return r;
	if (opts->n_args > 0) {
		for (size_t i = 0; i < opts->n_args && r == 0; i++)
			r = strv_push(&spec->args, &spec->n_args, opts->args[i]);
	} else if (c && !opts->entrypoint) {
		r = strv_from(c, "Cmd", &spec->args, &spec->n_args);
	}
	return r;
}

static int make_env(struct dms_run_spec *spec, const struct dms_run_opts *opts, json_object *c)
{
	bool has_path = false;
	int r = 0;

	if (c)
		r = strv_from(c, "Env", &spec->env, &spec->n_env);
	for (size_t i = 0; i < spec->n_env; i++)
		has_path |= strncmp(spec->env[i], "PATH=", 5) == 0;
	if (r == 0 && !has_path)
		r = strv_push(&spec->env, &spec->n_env, DEFAULT_PATH);
	if (r == 0 && spec->hostname) {
		_cleanup_free_ char *h = NULL;

		if (asprintf(&h, "HOSTNAME=%s", spec->hostname) < 0)
			return -ENOMEM;
		r = env_set(&spec->env, &spec->n_env, h);
	}
	for (size_t i = 0; i < opts->n_env && r == 0; i++) {
		const char *kv = opts->env[i];

		if (strchr(kv, '=')) {
			r = env_set(&spec->env, &spec->n_env, kv);
		} else {
			/* "-e NAME": this process's value, as docker does; nothing when unset here. */
			const char *v = getenv(kv);
			_cleanup_free_ char *full = NULL;

			if (!v)
				continue;
			if (asprintf(&full, "%s=%s", kv, v) < 0)
				return -ENOMEM;
			r = env_set(&spec->env, &spec->n_env, full);
		}
	}
	return r;
}

static int set_str(char **dst, const char *value)
{
	*dst = strdup(value ? value : "");
	return *dst ? 0 : -ENOMEM;
}

int dms_run_spec_make(const struct dms_run_opts *opts, const char *image_config, const char *name,
		      struct dms_run_spec *ret_spec, char *errbuf, size_t errlen)
{
	json_object *cfg = image_config ? json_tokener_parse(image_config) : NULL;
	json_object *c = image_runtime_config(cfg);
	struct dms_run_spec spec = { .host_network = opts->host_network, .read_only = opts->read_only };
	const char *workdir = opts->workdir ? opts->workdir : (c ? get_str(c, "WorkingDir") : NULL);
	const char *user = opts->user ? opts->user : (c ? get_str(c, "User") : NULL);
	int r;

	if (!workdir || !*workdir)
		workdir = "/";
	r = set_str(&spec.image, opts->image);
	if (r == 0)
		r = set_str(&spec.hostname, opts->hostname ? opts->hostname : name);
	if (r == 0)
		r = set_str(&spec.workdir, workdir);
	if (r == 0)
		r = set_str(&spec.user, user);
	if (r == 0 && opts->runtime)
		r = set_str(&spec.runtime, opts->runtime);
	if (r == 0)
		r = make_process(&spec, opts, c);
	if (r == 0)
		r = make_env(&spec, opts, c);
	if (r == 0 && opts->n_volumes) {
		spec.volumes = calloc(opts->n_volumes, sizeof(*spec.volumes));
		if (!spec.volumes)
			r = -ENOMEM;
		for (size_t i = 0; i < opts->n_volumes && spec.volumes; i++) {
			snprintf(spec.volumes[i].name, sizeof(spec.volumes[i].name), "%s", opts->volumes[i]->name);
			snprintf(spec.volumes[i].path, sizeof(spec.volumes[i].path), "%s", opts->volumes[i]->path);
			spec.volumes[i].read_only = opts->volumes[i]->read_only;
		}
		spec.n_volumes = spec.volumes ? opts->n_volumes : 0;
	}
	/* WORKDIR and USER point into CFG: copied above, not used below. */
	json_object_put(cfg);
	if (r == 0 && spec.n_args == 0)
		r = errf(errbuf, errlen, -EINVAL, "image '%s' has no command (no Entrypoint or Cmd in its config): give one after the image name",
			 opts->image);
	else if (r == 0 && spec.workdir[0] != '/')
		r = errf(errbuf, errlen, -EINVAL, "the working directory '%s' must be absolute", spec.workdir);
	else if (r < 0)
		r = errf(errbuf, errlen, r, "container '%s': %s", name, strerror(-r));
	if (r < 0) {
		dms_run_spec_clear(&spec);
		return r;
	}
	*ret_spec = spec;
	return 0;
}
