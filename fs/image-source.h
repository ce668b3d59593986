/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMS_FS_IMAGE_SOURCE_H
#define DMS_FS_IMAGE_SOURCE_H

/*
 * A container image read from disk: which layers, in which order, what each
 * must hash to, and the image's config. Two layouts are read:
 *
 * - an OCI image layout (image-spec, image-layout.md): index.json naming
 *   manifests (or nested indexes) by digest, blobs under blobs/<alg>/<hex>;
 *   fs/oci-layout.c;
 * - what `docker save` writes: manifest.json listing each image's config and
 *   layer tarballs by path, the old layout (<id>/layer.tar) or the OCI-style
 *   one (blobs/sha256/<hex>); fs/docker-archive.c.
 *
 * An archive of either (oci-archive:, docker-archive:) is first unpacked into a
 * directory by the caller and read as the directory is.
 *
 * Every JSON blob is read whole, checked against its digest and size before it
 * is parsed; layer blobs are checked as they are applied (fs/layer.c). Paths
 * only ever come from digests checked to be well formed, or, for a
 * docker-archive's own paths, are opened inside the directory with the
 * kernel's RESOLVE_IN_ROOT, so neither a name nor a symlink in the source can
 * reach out of it.
 *
 * Errors: -ENOENT nothing there or no such REF, -EINVAL malformed or
 * unsupported, -EBADMSG a digest or size mismatch, -ENOTUNIQ a choice is
 * needed; ERRBUF gets one line naming the file or blob and the cause.
 */

#include <stddef.h>
#include <stdint.h>

#include "fs/digest.h"

struct dms_blob {
	char digest[DMS_DIGEST_MAX]; /* "" when the source names the blob only by path */
	int64_t size;		     /* -1 when unknown */
	char *path;		     /* relative to the source directory */
	char media_type[128];
};

struct dms_image_source {
	int dirfd;
	char manifest_digest[DMS_DIGEST_MAX]; /* "" for a docker-archive's old layout */
	char config_digest[DMS_DIGEST_MAX];
	char *ref;	    /* the ref (tag) chosen, NULL if none */
	char *config_json;  /* the image config blob, verified */
	size_t n_layers;
	struct dms_blob *layers;
	char (*diff_ids)[DMS_DIGEST_MAX]; /* the config's rootfs.diff_ids, one per layer */
	uint64_t layer_bytes;		   /* sum of the layers' sizes, where known */
};

/*
 * DIRFD: the layout directory, duplicated (the caller keeps its own). REF: the
 * org.opencontainers.image.ref.name wanted, NULL for the only image there is.
 * PLATFORM: "os/arch[/variant]" picked from a multi-platform index, NULL for
 * linux/amd64.
 */
int dms_oci_layout_open(int dirfd, const char *ref, const char *platform, struct dms_image_source **ret,
			char *errbuf, size_t errlen);
/* REF: one of an image's RepoTags ("name:tag", ":latest" implied), NULL for the only image there is. */
int dms_docker_archive_open(int dirfd, const char *ref, struct dms_image_source **ret, char *errbuf,
			    size_t errlen);
void dms_image_source_free(struct dms_image_source *src);

/* What the parsers share (fs/oci-layout.c). */
int dms_source_new(int dirfd, struct dms_image_source **ret);
/* Open a blob's file, inside the source directory; -ENOENT if missing. */
int dms_source_open_blob(const struct dms_image_source *src, const char *path, int *ret_fd);
/* Read PATH whole (at most MAX bytes) and check it against DIGEST and SIZE where given; NUL-terminated. */
int dms_source_read_json_blob(const struct dms_image_source *src, const char *path, const char *digest,
			      int64_t size, size_t max, char **ret, char *errbuf, size_t errlen);
/* Parse the config (SRC->config_json): rootfs.diff_ids, one per layer already listed. */
int dms_source_parse_config(struct dms_image_source *src, char *errbuf, size_t errlen);

#endif
