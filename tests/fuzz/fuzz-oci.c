// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The OCI layout and docker-archive readers. The input is up to three JSON
 * texts separated by a line "--": the top file (index.json, and the same bytes
 * as a docker-archive's manifest.json), a manifest and a config. Every JSON blob
 * is checked against its digest before it is parsed, so the harness writes the
 * manifest and config as blobs under their true digests and puts those digests
 * where the texts say @MANIFEST@, @CONFIG@ (and their sizes @MANIFEST_SIZE@,
 * @CONFIG_SIZE@; the config's path in the top file, @CONFIG_PATH@): the parsers
 * behind the digest checks are reached too.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs/digest.h"
#include "fs/image-source.h"
#include "tests/fuzz/fuzz.h"

static char *replace(const char *text, const char *what, const char *with)
{
	size_t nw = strlen(what), nt = strlen(with), n = 0;
	const char *p = text;
	char *out, *o;

	while ((p = strstr(p, what))) {
		n++;
		p += nw;
	}
	out = malloc(strlen(text) + n * nt + 1);
	if (!out)
		abort();
	for (o = out, p = text;;) {
		const char *q = strstr(p, what);

		if (!q) {
			strcpy(o, p);
			break;
		}
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		memcpy(o, with, nt);
		o += nt;
		p = q + nw;
	}
	return out;
}

/* Write TEXT as a blob; its digest ("sha256:<hex>") in DIGEST, its size in SIZE. */
static void blob(const char *dir, const char *text, char digest[DMS_DIGEST_MAX], char size[24])
{
	char name[DMS_DIGEST_MAX + 16];
	struct dms_digest *d;

	if (dms_digest_new("sha256", &d) < 0)
		abort();
	dms_digest_update(d, text, strlen(text));
	if (dms_digest_final(d, digest, DMS_DIGEST_MAX) < 0)
		abort();
	dms_digest_free(d);
	snprintf(name, sizeof(name), "blobs/sha256/%s", digest + strlen("sha256:"));
	fuzz_write(dir, name, text, strlen(text));
	snprintf(size, 24, "%zu", strlen(text));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), *parts[3] = { s, "", "" }, *p = s;
	char cdig[DMS_DIGEST_MAX], csize[24], mdig[DMS_DIGEST_MAX], msize[24], err[256];
	char *manifest, *top, *t, *t2, cpath[DMS_DIGEST_MAX + 16];
	const char *dir = fuzz_scratch();
	struct dms_image_source *src;
	int fd;

	for (int i = 1; i < 3 && (p = strstr(p, "\n--\n")); i++) {
		*p = '\0';
		p += 4;
		parts[i] = p;
	}
	blob(dir, parts[2], cdig, csize);
	t = replace(parts[1], "@CONFIG@", cdig);
	manifest = replace(t, "@CONFIG_SIZE@", csize);
	free(t);
	blob(dir, manifest, mdig, msize);
	snprintf(cpath, sizeof(cpath), "blobs/sha256/%s", cdig + strlen("sha256:"));
	t = replace(parts[0], "@MANIFEST@", mdig);
	t2 = replace(t, "@MANIFEST_SIZE@", msize);
	top = replace(t2, "@CONFIG_PATH@", cpath);
	free(t);
	free(t2);
	fuzz_write(dir, "oci-layout", "{\"imageLayoutVersion\": \"1.0.0\"}", 31);
	fuzz_write(dir, "index.json", top, strlen(top));
	fuzz_write(dir, "manifest.json", top, strlen(top));

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		abort();
	if (dms_oci_layout_open(fd, NULL, NULL, &src, err, sizeof(err)) == 0)
		dms_image_source_free(src);
	if (dms_docker_archive_open(fd, NULL, &src, err, sizeof(err)) == 0)
		dms_image_source_free(src);
	close(fd);
	free(top);
	free(manifest);
	free(s);
	return 0;
}
