// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * An OCI image layout (image-spec: image-layout.md, image-index.md,
 * manifest.md, config.md), resolved down to one image: index.json names
 * manifests by digest; a REF picks one by its org.opencontainers.image.ref.name
 * annotation; a multi-platform index (at the top, or nested) is narrowed down to
 * the one manifest of the wanted platform. Every blob read here is checked
 * against its descriptor's digest and size before a byte of it is parsed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "dms-util.h"
#include "fs/image-source.h"
#include "fs/resolve.h"

/* Manifests and configs are small; a "JSON blob" of more is not one we parse. */
#define JSON_MAX (8 * 1024 * 1024)
/* An index pointing at an index pointing at ... ends somewhere. */
#define INDEX_DEPTH 4

#define MT_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define REF_NAME "org.opencontainers.image.ref.name"

static void json_putp(json_object **o)
{
	if (*o)
		json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_putp)

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

int dms_source_new(int dirfd, struct dms_image_source **ret)
{
	struct dms_image_source *src = calloc(1, sizeof(*src));

	if (!src)
		return -ENOMEM;
	src->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	if (src->dirfd < 0) {
		free(src);
		return -errno;
	}
	*ret = src;
	return 0;
}

void dms_image_source_free(struct dms_image_source *src)
{
	if (!src)
		return;
	if (src->dirfd >= 0)
		(void)close(src->dirfd);
	for (size_t i = 0; i < src->n_layers; i++)
		free(src->layers[i].path);
	free(src->layers);
	free(src->diff_ids);
	free(src->config_json);
	free(src->ref);
	free(src);
}

/* A FIFO would block the import and a device node would read a disk: blobs are regular files. */
int dms_source_open_blob(const struct dms_image_source *src, const char *path, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	r = dms_path_open_in_root(src->dirfd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0, &fd);
	if (r < 0)
		return r;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	*ret_fd = DMS_TAKE_FD(fd);
	return 0;
}

int dms_source_read_json_blob(const struct dms_image_source *src, const char *path, const char *digest,
			      int64_t size, size_t max, char **ret, char *errbuf, size_t errlen)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	const char *name = digest && *digest ? digest : path;
	struct stat st;
	size_t n = 0;
	int r;

	r = dms_source_open_blob(src, path, &fd);
	if (r == -EINVAL)
		return errf(errbuf, errlen, r, "'%s': not a regular file", path);
	if (r < 0)
		return errf(errbuf, errlen, r, "'%s': %s", path, strerror(-r));
	if (fstat(fd, &st) < 0)
		return errf(errbuf, errlen, -errno, "'%s': %s", path, strerror(errno));
	if ((uint64_t)st.st_size > max)
		return errf(errbuf, errlen, -EINVAL, "blob '%s': %lld bytes, more than the %zu a JSON document may have",
			    name, (long long)st.st_size, max);
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	while (n < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + n, (size_t)st.st_size - n);

		if (k < 0)
			return errf(errbuf, errlen, -errno, "'%s': %s", path, strerror(errno));
		if (k == 0)
			break;
		n += (size_t)k;
	}
	buf[n] = '\0';
	if (size >= 0 && (uint64_t)size != n)
		return errf(errbuf, errlen, -EBADMSG, "blob '%s': %zu bytes where its descriptor says %lld", name, n,
			    (long long)size);
	if (digest && *digest) {
		r = dms_digest_check(digest, buf, n);
		if (r == -EBADMSG)
			return errf(errbuf, errlen, r, "blob '%s': content does not match its digest", digest);
		if (r < 0)
			return errf(errbuf, errlen, r, "blob '%s': %s", digest, strerror(-r));
	}
	*ret = DMS_TAKE_PTR(buf);
	return 0;
}

static int parse_json(const char *text, const char *what, json_object **ret, char *errbuf, size_t errlen)
{
	json_object *o = json_tokener_parse(text);

	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return errf(errbuf, errlen, -EINVAL, "%s: not a JSON object", what);
	}
	*ret = o;
	return 0;
}

static const char *get_string(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* blobs/<alg>/<hex>: built only from a digest checked to be well formed. */
static int blob_path(const char *digest, char **ret)
{
	const char *colon = strchr(digest, ':');

	if (asprintf(ret, "blobs/%.*s/%s", (int)(colon - digest), digest, colon + 1) < 0)
		return -ENOMEM;
	return 0;
}

struct descriptor {
	const char *media_type;
	const char *digest;
	int64_t size;
};

static int parse_descriptor(json_object *o, const char *what, struct descriptor *d, char *errbuf, size_t errlen)
{
	json_object *v;

	if (!json_object_is_type(o, json_type_object))
		return errf(errbuf, errlen, -EINVAL, "%s: a descriptor that is not an object", what);
	d->media_type = get_string(o, "mediaType");
	d->digest = get_string(o, "digest");
	if (!d->digest || !dms_digest_valid(d->digest))
		return errf(errbuf, errlen, -EINVAL, "%s: invalid or unsupported digest '%s'", what,
			    d->digest ? d->digest : "");
	if (!json_object_object_get_ex(o, "size", &v) || !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 0)
		return errf(errbuf, errlen, -EINVAL, "%s: descriptor of '%s' has no valid size", what, d->digest);
	d->size = json_object_get_int64(v);
	if (!d->media_type)
		d->media_type = "";
	return 0;
}

static int read_descriptor_json(struct dms_image_source *src, const struct descriptor *d, json_object **ret,
				char *errbuf, size_t errlen)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	int r;

	r = blob_path(d->digest, &path);
	if (r < 0)
		return r;
	r = dms_source_read_json_blob(src, path, d->digest, d->size, JSON_MAX, &text, errbuf, errlen);
	if (r < 0)
		return r;
	return parse_json(text, d->digest, ret, errbuf, errlen);
}

static bool is_index(const char *media_type)
{
	return strcmp(media_type, MT_INDEX) == 0 || strcmp(media_type, MT_DOCKER_LIST) == 0;
}

static bool is_manifest(const char *media_type)
{
	return strcmp(media_type, MT_MANIFEST) == 0 || strcmp(media_type, MT_DOCKER_MANIFEST) == 0;
}

struct platform {
	char os[32], arch[32], variant[32];
};

static int parse_platform(const char *text, struct platform *p)
{
	char buf[100];
	char *arch, *variant = NULL;

	*p = (struct platform){ 0 };
	if (!text)
		text = "linux/amd64";
	if (strlen(text) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, text);
	arch = strchr(buf, '/');
	if (!arch)
		return -EINVAL;
	*arch++ = '\0';
	variant = strchr(arch, '/');
	if (variant)
		*variant++ = '\0';
	if (!*buf || !*arch || (variant && (!*variant || strchr(variant, '/'))) || strlen(buf) >= sizeof(p->os) ||
	    strlen(arch) >= sizeof(p->arch) || (variant && strlen(variant) >= sizeof(p->variant)))
		return -EINVAL;
	strcpy(p->os, buf);
	strcpy(p->arch, arch);
	if (variant)
		strcpy(p->variant, variant);
	return 0;
}

/* A descriptor without "platform" matches nothing: in a multi-platform list it is not an image of one. */
static bool platform_matches(json_object *desc, const struct platform *want)
{
	json_object *p;
	const char *os, *arch, *variant;

	if (!json_object_object_get_ex(desc, "platform", &p))
		return false;
	os = get_string(p, "os");
	arch = get_string(p, "architecture");
	variant = get_string(p, "variant");
	if (!os || !arch || strcmp(os, want->os) != 0 || strcmp(arch, want->arch) != 0)
		return false;
	return !*want->variant || (variant && strcmp(variant, want->variant) == 0);
}

static void platform_list(json_object *manifests, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < json_object_array_length(manifests) && off < len; i++) {
		json_object *p, *d = json_object_array_get_idx(manifests, i);
		const char *os, *arch, *variant;

		if (!json_object_object_get_ex(d, "platform", &p))
			continue;
		os = get_string(p, "os");
		arch = get_string(p, "architecture");
		variant = get_string(p, "variant");
		off += (size_t)snprintf(buf + off, len - off, "%s%s/%s%s%s", off ? ", " : "", os ? os : "?",
					arch ? arch : "?", variant ? "/" : "", variant ? variant : "");
	}
}

static const char *ref_of(json_object *desc)
{
	json_object *ann;

	if (!json_object_object_get_ex(desc, "annotations", &ann))
		return NULL;
	return get_string(ann, REF_NAME);
}

static void ref_list(json_object *manifests, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < json_object_array_length(manifests) && off < len; i++) {
		const char *ref = ref_of(json_object_array_get_idx(manifests, i));

		off += (size_t)snprintf(buf + off, len - off, "%s'%s'", off ? ", " : "", ref ? ref : "(no ref)");
	}
}

static int get_manifests(json_object *index, const char *what, json_object **ret, char *errbuf, size_t errlen)
{
	json_object *m;

	if (!json_object_object_get_ex(index, "manifests", &m) || !json_object_is_type(m, json_type_array))
		return errf(errbuf, errlen, -EINVAL, "%s: no \"manifests\" list", what);
	if (json_object_array_length(m) == 0)
		return errf(errbuf, errlen, -ENOENT, "%s: no images in it", what);
	*ret = m;
	return 0;
}

/*
 * From an index's manifests, the one descriptor to follow: by REF (top level
 * only), else the only one, else the one for the platform when they all are
 * platform-specific manifests.
 */
static int pick(json_object *manifests, const char *what, const char *ref, const struct platform *plat,
		const char *plat_text, json_object **ret, char *errbuf, size_t errlen)
{
	size_t n = json_object_array_length(manifests);
	json_object *found = NULL;
	char list[512];
	size_t hits = 0;

	if (ref) {
		for (size_t i = 0; i < n; i++) {
			json_object *d = json_object_array_get_idx(manifests, i);
			const char *r = ref_of(d);

			if (r && strcmp(r, ref) == 0) {
				found = d;
				hits++;
			}
		}
		if (hits == 1) {
			*ret = found;
			return 0;
		}
		ref_list(manifests, list, sizeof(list));
		if (hits == 0)
			return errf(errbuf, errlen, -ENOENT, "%s: no image with ref '%s'; refs there: %s", what, ref,
				    list);
		/* Several with one ref: a multi-platform set tagged as a whole; the platform decides below. */
	}
	if (n == 1 && !ref) {
		*ret = json_object_array_get_idx(manifests, 0);
		return 0;
	}
	hits = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(manifests, i);
		const char *r = ref_of(d);

		if (ref && (!r || strcmp(r, ref) != 0))
			continue;
		if (!json_object_object_get_ex(d, "platform", NULL)) {
			ref_list(manifests, list, sizeof(list));
			return errf(errbuf, errlen, -ENOTUNIQ, "%s: %zu images there: name one with :REF (refs: %s)",
				    what, n, list);
		}
		if (platform_matches(d, plat)) {
			found = d;
			hits++;
		}
	}
	if (hits == 1) {
		*ret = found;
		return 0;
	}
	platform_list(manifests, list, sizeof(list));
	if (hits == 0)
		return errf(errbuf, errlen, -ENOENT, "%s: no image for platform %s; platforms there: %s", what,
			    plat_text, list);
	return errf(errbuf, errlen, -ENOTUNIQ, "%s: %zu images for platform %s", what, hits, plat_text);
}

static int parse_layers(struct dms_image_source *src, json_object *manifest, const char *what, char *errbuf,
			size_t errlen)
{
	json_object *layers;
	size_t n;
	int r;

	if (!json_object_object_get_ex(manifest, "layers", &layers) || !json_object_is_type(layers, json_type_array))
		return errf(errbuf, errlen, -EINVAL, "manifest %s: no \"layers\" list", what);
	n = json_object_array_length(layers);
	src->layers = calloc(n ? n : 1, sizeof(*src->layers));
	if (!src->layers)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct dms_blob *b = &src->layers[i];
		struct descriptor d;

		r = parse_descriptor(json_object_array_get_idx(layers, i), what, &d, errbuf, errlen);
		if (r < 0)
			return r;
		snprintf(b->digest, sizeof(b->digest), "%s", d.digest);
		snprintf(b->media_type, sizeof(b->media_type), "%s", d.media_type);
		b->size = d.size;
		r = blob_path(d.digest, &b->path);
		if (r < 0)
			return r;
		src->n_layers++;
		src->layer_bytes += (uint64_t)d.size;
	}
	return 0;
}

int dms_source_parse_config(struct dms_image_source *src, char *errbuf, size_t errlen)
{
	_cleanup_json_ json_object *cfg = NULL;
	json_object *rootfs, *ids;
	const char *what = *src->config_digest ? src->config_digest : "config";
	const char *type;
	size_t n;
	int r;

	r = parse_json(src->config_json, what, &cfg, errbuf, errlen);
	if (r < 0)
		return r;
	if (!json_object_object_get_ex(cfg, "rootfs", &rootfs) ||
	    !json_object_object_get_ex(rootfs, "diff_ids", &ids) || !json_object_is_type(ids, json_type_array))
		return errf(errbuf, errlen, -EINVAL, "config %s: no rootfs.diff_ids", what);
	type = get_string(rootfs, "type");
	if (!type || strcmp(type, "layers") != 0)
		return errf(errbuf, errlen, -EINVAL, "config %s: rootfs.type is not \"layers\"", what);
	n = json_object_array_length(ids);
	if (n != src->n_layers)
		return errf(errbuf, errlen, -EINVAL, "config %s: %zu diff_ids for %zu layers", what, n, src->n_layers);
	src->diff_ids = calloc(n ? n : 1, sizeof(*src->diff_ids));
	if (!src->diff_ids)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(ids, i);
		const char *id = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;

		if (!dms_digest_valid(id))
			return errf(errbuf, errlen, -EINVAL, "config %s: invalid diff_id '%s'", what, id ? id : "");
		snprintf(src->diff_ids[i], sizeof(src->diff_ids[i]), "%s", id);
	}
	return 0;
}

/* Follow DESC (an index or a manifest) down to a manifest, then read its config. */
static int resolve(struct dms_image_source *src, json_object *desc, const struct platform *plat,
		   const char *plat_text, int depth, char *errbuf, size_t errlen)
{
	_cleanup_json_ json_object *doc = NULL;
	_cleanup_free_ char *cfg_path = NULL;
	json_object *cfg_desc, *next, *manifests;
	struct descriptor d, c;
	const char *mt;
	int r;

	r = parse_descriptor(desc, "index.json", &d, errbuf, errlen);
	if (r < 0)
		return r;
	r = read_descriptor_json(src, &d, &doc, errbuf, errlen);
	if (r < 0)
		return r;
	/* The descriptor's media type, else the document's own (both are optional in places). */
	mt = *d.media_type ? d.media_type : get_string(doc, "mediaType");
	if (!mt)
		mt = json_object_object_get_ex(doc, "manifests", NULL) ? MT_INDEX : MT_MANIFEST;
	if (is_index(mt)) {
		if (depth >= INDEX_DEPTH)
			return errf(errbuf, errlen, -EINVAL, "index %s: indexes nested too deep", d.digest);
		r = get_manifests(doc, d.digest, &manifests, errbuf, errlen);
		if (r == 0)
			r = pick(manifests, d.digest, NULL, plat, plat_text, &next, errbuf, errlen);
		if (r == 0)
			r = resolve(src, next, plat, plat_text, depth + 1, errbuf, errlen);
		return r;
	}
	if (!is_manifest(mt))
		return errf(errbuf, errlen, -EINVAL, "blob %s: unsupported media type '%s'", d.digest, mt);
	snprintf(src->manifest_digest, sizeof(src->manifest_digest), "%s", d.digest);
	if (!json_object_object_get_ex(doc, "config", &cfg_desc))
		return errf(errbuf, errlen, -EINVAL, "manifest %s: no config", d.digest);
	r = parse_descriptor(cfg_desc, d.digest, &c, errbuf, errlen);
	if (r < 0)
		return r;
	snprintf(src->config_digest, sizeof(src->config_digest), "%s", c.digest);
	r = parse_layers(src, doc, d.digest, errbuf, errlen);
	if (r == 0)
		r = blob_path(c.digest, &cfg_path);
	if (r == 0)
		r = dms_source_read_json_blob(src, cfg_path, c.digest, c.size, JSON_MAX, &src->config_json, errbuf,
					      errlen);
	if (r == 0)
		r = dms_source_parse_config(src, errbuf, errlen);
	return r;
}

int dms_oci_layout_open(int dirfd, const char *ref, const char *platform, struct dms_image_source **ret,
			char *errbuf, size_t errlen)
{
	_cleanup_json_ json_object *layout = NULL, *index = NULL;
	_cleanup_free_ char *text = NULL;
	struct dms_image_source *src = NULL;
	json_object *manifests, *desc;
	struct platform plat;
	const char *version;
	int r;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (parse_platform(platform, &plat) < 0)
		return errf(errbuf, errlen, -EINVAL, "invalid platform '%s': use OS/ARCH[/VARIANT]", platform);
	r = dms_source_new(dirfd, &src);
	if (r < 0)
		return r;
	r = dms_source_read_json_blob(src, "oci-layout", NULL, -1, JSON_MAX, &text, errbuf, errlen);
	if (r == -ENOENT)
		r = errf(errbuf, errlen, r, "not an OCI image layout: no 'oci-layout' file");
	if (r == 0)
		r = parse_json(text, "oci-layout", &layout, errbuf, errlen);
	if (r < 0)
		goto fail;
	version = get_string(layout, "imageLayoutVersion");
	if (!version || strncmp(version, "1.", 2) != 0) {
		r = errf(errbuf, errlen, -EINVAL, "oci-layout: unsupported imageLayoutVersion '%s'",
			 version ? version : "");
		goto fail;
	}
	free(DMS_TAKE_PTR(text));
	r = dms_source_read_json_blob(src, "index.json", NULL, -1, JSON_MAX, &text, errbuf, errlen);
	if (r == 0)
		r = parse_json(text, "index.json", &index, errbuf, errlen);
	if (r == 0)
		r = get_manifests(index, "index.json", &manifests, errbuf, errlen);
	if (r == 0)
		r = pick(manifests, "index.json", ref, &plat, platform ? platform : "linux/amd64", &desc, errbuf,
			 errlen);
	if (r == 0)
		r = resolve(src, desc, &plat, platform ? platform : "linux/amd64", 0, errbuf, errlen);
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
