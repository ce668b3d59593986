// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What `docker save` writes, unpacked: manifest.json, a list of images, each
 * {"Config": PATH, "RepoTags": ["name:tag", ...], "Layers": [PATH, ...]}.
 * Docker before 25 names the config <hex>.json and the layers <id>/layer.tar
 * (an id, not a digest); Docker 25 and skopeo write an OCI layout alongside,
 * with the paths blobs/sha256/<hex>. A path that is a digest's blob path, or a
 * config named <hex>.json, is checked against that digest; every layer is
 * checked against the config's diff_ids as it is applied, which covers the
 * old layout, whose layers are plain tarballs.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "dms-util.h"
#include "fs/image-source.h"

#define JSON_MAX (8 * 1024 * 1024)

static void json_putp(json_object **o)
{
	if (*o)
		json_object_put(*o);
}

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

/* The digest a path names, "" if none: blobs/<alg>/<hex>, or <hex>.json for sha256. */
static void digest_of_path(const char *path, bool config, char *buf, size_t len)
{
	const char *hex;
	size_t n;

	buf[0] = '\0';
	if (strncmp(path, "blobs/", 6) == 0 && (hex = strchr(path + 6, '/'))) {
		snprintf(buf, len, "%.*s:%s", (int)(hex - path - 6), path + 6, hex + 1);
	} else if (config) {
		n = strlen(path);
		if (n == 64 + 5 && strcmp(path + 64, ".json") == 0)
			snprintf(buf, len, "sha256:%.64s", path);
	}
	if (*buf && !dms_digest_valid(buf))
		buf[0] = '\0';
}

static bool has_tag(json_object *image, const char *ref)
{
	json_object *tags;
	size_t n = strlen(ref);

	if (!json_object_object_get_ex(image, "RepoTags", &tags) || !json_object_is_type(tags, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(tags); i++) {
		const char *t = json_object_get_string(json_object_array_get_idx(tags, i));

		if (!t)
			continue;
		/* "busybox" means "busybox:latest", as for docker itself. */
		if (strcmp(t, ref) == 0 || (strncmp(t, ref, n) == 0 && strcmp(t + n, ":latest") == 0 &&
					    !strchr(strrchr(ref, '/') ? strrchr(ref, '/') : ref, ':')))
			return true;
	}
	return false;
}

static void tag_list(json_object *images, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < json_object_array_length(images) && off < len; i++) {
		json_object *tags, *img = json_object_array_get_idx(images, i);
		const char *t = NULL;

		if (json_object_object_get_ex(img, "RepoTags", &tags) && json_object_is_type(tags, json_type_array) &&
		    json_object_array_length(tags) > 0)
			t = json_object_get_string(json_object_array_get_idx(tags, 0));
		off += (size_t)snprintf(buf + off, len - off, "%s'%s'", off ? ", " : "", t ? t : "(untagged)");
	}
}

static int pick(json_object *images, const char *ref, json_object **ret, char *errbuf, size_t errlen)
{
	size_t n = json_object_array_length(images), hits = 0;
	json_object *found = NULL;
	char list[512];

	if (n == 0)
		return errf(errbuf, errlen, -ENOENT, "manifest.json: no images in it");
	if (!ref && n == 1) {
		*ret = json_object_array_get_idx(images, 0);
		return 0;
	}
	tag_list(images, list, sizeof(list));
	if (!ref)
		return errf(errbuf, errlen, -ENOTUNIQ, "manifest.json: %zu images there: name one with :REF (tags: %s)",
			    n, list);
	for (size_t i = 0; i < n; i++)
		if (has_tag(json_object_array_get_idx(images, i), ref)) {
			found = json_object_array_get_idx(images, i);
			hits++;
		}
	if (hits == 0)
		return errf(errbuf, errlen, -ENOENT, "manifest.json: no image tagged '%s'; tags there: %s", ref, list);
	*ret = found;
	return 0;
}

static int read_image(struct dms_image_source *src, json_object *image, char *errbuf, size_t errlen)
{
	json_object *cfg, *layers;
	const char *path;
	size_t n;

	if (!json_object_object_get_ex(image, "Config", &cfg) || !(path = json_object_get_string(cfg)) || !*path)
		return errf(errbuf, errlen, -EINVAL, "manifest.json: an image without \"Config\"");
	digest_of_path(path, true, src->config_digest, sizeof(src->config_digest));
	if (!json_object_object_get_ex(image, "Layers", &layers) || !json_object_is_type(layers, json_type_array))
		return errf(errbuf, errlen, -EINVAL, "manifest.json: an image without \"Layers\"");
	n = json_object_array_length(layers);
	src->layers = calloc(n ? n : 1, sizeof(*src->layers));
	if (!src->layers)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct dms_blob *b = &src->layers[i];
		const char *p = json_object_get_string(json_object_array_get_idx(layers, i));

		if (!p || !*p)
			return errf(errbuf, errlen, -EINVAL, "manifest.json: layer %zu has no path", i + 1);
		b->path = strdup(p);
		if (!b->path)
			return -ENOMEM;
		b->size = -1;
		digest_of_path(p, false, b->digest, sizeof(b->digest));
		src->n_layers++;
	}
	return dms_source_read_json_blob(src, path, src->config_digest, -1, JSON_MAX, &src->config_json, errbuf,
					 errlen);
}

int dms_docker_archive_open(int dirfd, const char *ref, struct dms_image_source **ret, char *errbuf,
			    size_t errlen)
{
	_cleanup_(json_putp) json_object *images = NULL;
	_cleanup_free_ char *text = NULL;
	struct dms_image_source *src = NULL;
	json_object *image;
	int r;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	r = dms_source_new(dirfd, &src);
	if (r < 0)
		return r;
	r = dms_source_read_json_blob(src, "manifest.json", NULL, -1, JSON_MAX, &text, errbuf, errlen);
	if (r == -ENOENT)
		r = errf(errbuf, errlen, r, "not a docker archive: no manifest.json");
	if (r < 0)
		goto fail;
	images = json_tokener_parse(text);
	if (!images || !json_object_is_type(images, json_type_array)) {
		r = errf(errbuf, errlen, -EINVAL, "manifest.json: not a JSON list");
		goto fail;
	}
	r = pick(images, ref, &image, errbuf, errlen);
	if (r == 0)
		r = read_image(src, image, errbuf, errlen);
	if (r == 0)
		r = dms_source_parse_config(src, errbuf, errlen);
	if (r == 0 && ref && !(src->ref = strdup(ref)))
		r = -ENOMEM;
	if (r < 0)
		goto fail;
	*ret = src;
	return 0;
fail:
	dms_image_source_free(src);
	return r;
}
