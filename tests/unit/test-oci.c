/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* OCI and docker-archive sources (fs/oci-layout.c, fs/docker-archive.c), digests, and layers applied (fs/layer.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

/* The tables of tar entries leave the fields they do not need out. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include "dms-util.h"
#include "fs/digest.h"
#include "fs/image-source.h"
#include "fs/layer.h"

/* <parent>/layout: the image; <parent>/root: the rootfs; <parent>/outside: what hostile layers aim at. */
struct fx {
	char parent[64], layout[96], root[96], outside[96];
	int layoutfd, rootfd;
	char err[512];
};

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path) < 0 ? -1 : 0;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->parent, "/tmp/dms-oci-XXXXXX");
	assert_non_null(mkdtemp(f->parent));
	snprintf(f->layout, sizeof(f->layout), "%s/layout", f->parent);
	snprintf(f->root, sizeof(f->root), "%s/root", f->parent);
	snprintf(f->outside, sizeof(f->outside), "%s/outside", f->parent);
	assert_int_equal(mkdir(f->layout, 0755), 0);
	assert_int_equal(mkdir(f->root, 0755), 0);
	assert_int_equal(mkdir(f->outside, 0755), 0);
	f->layoutfd = open(f->layout, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	f->rootfd = open(f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->layoutfd >= 0 && f->rootfd >= 0);
	assert_int_equal(mkdirat(f->layoutfd, "blobs", 0755), 0);
	assert_int_equal(mkdirat(f->layoutfd, "blobs/sha256", 0755), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	(void)close(f->layoutfd);
	(void)close(f->rootfd);
	(void)nftw(f->parent, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* ---- building images ---- */

struct buf {
	char *data;
	size_t len;
};

static void put_file(int dirfd, const char *path, const void *data, size_t len)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
}

static void digest_of(const void *data, size_t len, char *out)
{
	struct dms_digest *d;

	assert_int_equal(dms_digest_new("sha256", &d), 0);
	dms_digest_update(d, data, len);
	assert_int_equal(dms_digest_final(d, out, DMS_DIGEST_MAX), 0);
	dms_digest_free(d);
}

/* Store DATA as a blob; its digest in OUT. */
static void put_blob(struct fx *f, const void *data, size_t len, char *out)
{
	char path[256];

	digest_of(data, len, out);
	snprintf(path, sizeof(path), "blobs/sha256/%s", out + 7);
	put_file(f->layoutfd, path, data, len);
}

/* One tar entry: "d NAME MODE", "f NAME MODE DATA", "l NAME TARGET", "h NAME TARGET", "c NAME MAJ MIN". */
struct ent {
	char type;
	const char *name;
	const char *arg;
	mode_t mode;
	unsigned uid;
};

static struct buf make_tar(const struct ent *ents, size_t n, bool gzip)
{
	struct archive *a = archive_write_new();
	size_t cap = 1 << 20, used = 0;
	struct buf b = { .data = malloc(cap) };

	assert_non_null(b.data);
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	if (gzip)
		assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, b.data, cap, &used), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		const struct ent *x = &ents[i];

		archive_entry_set_pathname(e, x->name);
		archive_entry_set_mtime(e, 1500000000, 0);
		archive_entry_set_uid(e, x->uid);
		archive_entry_set_gid(e, x->uid);
		switch (x->type) {
		case 'd':
			archive_entry_set_filetype(e, AE_IFDIR);
			archive_entry_set_perm(e, x->mode ? x->mode : 0755);
			break;
		case 'f':
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, x->mode ? x->mode : 0644);
			archive_entry_set_size(e, (la_int64_t)strlen(x->arg));
			break;
		case 'l':
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_perm(e, 0777);
			archive_entry_set_symlink(e, x->arg);
			break;
		case 'h':
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0644);
			archive_entry_set_hardlink(e, x->arg);
			break;
		case 'c':
			archive_entry_set_filetype(e, AE_IFCHR);
			archive_entry_set_perm(e, 0666);
			archive_entry_set_rdev(e, makedev(1, 3));
			break;
		}
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (x->type == 'f')
			assert_int_equal(archive_write_data(a, x->arg, strlen(x->arg)), (la_ssize_t)strlen(x->arg));
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	b.len = used;
	return b;
}

struct layer_in {
	const struct ent *ents;
	size_t n;
	bool gzip;
	bool cut; /* stop right after the last entry's data, as umoci 0.4.7's insert writes */
};

/* A tar stream without the last entry's padding and the end-of-archive blocks. */
static void cut_tar(struct buf *t, const struct ent *last)
{
	const char *name = last->name;
	size_t data = last->type == 'f' ? strlen(last->arg) : 0;
	char *hdr = memmem(t->data, t->len, name, strlen(name));

	assert_non_null(hdr);
	/* A pax_restricted header of a short name is one ustar block. */
	t->len = (size_t)(hdr - t->data) + 512 + data;
}

static struct buf gzip_buf(const struct buf *in)
{
	struct archive *a = archive_write_new();
	size_t cap = in->len + 4096, used = 0;
	struct buf b = { .data = malloc(cap) };
	struct archive_entry *e = archive_entry_new();

	assert_non_null(b.data);
	/* "raw" writes the data alone, through the gzip filter. */
	assert_int_equal(archive_write_set_format_raw(a), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, b.data, cap, &used), ARCHIVE_OK);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_size(e, (la_int64_t)in->len);
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, in->data, in->len), (la_ssize_t)in->len);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	archive_entry_free(e);
	b.len = used;
	return b;
}

/* The layers, a config and a manifest in the layout; the manifest's digest in MANIFEST, its size in *SIZE. */
static void make_image(struct fx *f, const struct layer_in *layers, size_t n, char *manifest, size_t *size,
		       const char *bad_diff_id)
{
	char layer_desc[4096] = "", diff_ids[2048] = "", cfg_digest[DMS_DIGEST_MAX], text[8192];
	size_t lo = 0, dlo = 0, cfg_size;

	for (size_t i = 0; i < n; i++) {
		struct buf t = make_tar(layers[i].ents, layers[i].n, false), blob = t;
		char diff[DMS_DIGEST_MAX], dg[DMS_DIGEST_MAX];

		if (layers[i].cut)
			cut_tar(&t, &layers[i].ents[layers[i].n - 1]);
		digest_of(t.data, t.len, diff);
		if (layers[i].gzip)
			blob = gzip_buf(&t);
		put_blob(f, blob.data, blob.len, dg);
		lo += (size_t)snprintf(layer_desc + lo, sizeof(layer_desc) - lo,
				       "%s{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar%s\",\"digest\":\"%s\",\"size\":%zu}",
				       i ? "," : "", layers[i].gzip ? "+gzip" : "", dg, blob.len);
		dlo += (size_t)snprintf(diff_ids + dlo, sizeof(diff_ids) - dlo, "%s\"%s\"", i ? "," : "",
					bad_diff_id && i == n - 1 ? bad_diff_id : diff);
		if (blob.data != t.data)
			free(blob.data);
		free(t.data);
	}
	snprintf(text, sizeof(text),
		 "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"A=1\"],\"Cmd\":[\"/bin/sh\"]},"
		 "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[%s]}}",
		 diff_ids);
	put_blob(f, text, strlen(text), cfg_digest);
	cfg_size = strlen(text);
	snprintf(text, sizeof(text),
		 "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		 "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},"
		 "\"layers\":[%s]}",
		 cfg_digest, cfg_size, layer_desc);
	put_blob(f, text, strlen(text), manifest);
	*size = strlen(text);
}

static void write_index(struct fx *f, const char *manifests)
{
	char text[8192];

	put_file(f->layoutfd, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
	snprintf(text, sizeof(text), "{\"schemaVersion\":2,\"manifests\":[%s]}", manifests);
	put_file(f->layoutfd, "index.json", text, strlen(text));
}

static void desc(char *buf, size_t len, const char *mt, const char *digest, size_t size, const char *ref,
		 const char *arch)
{
	int n = snprintf(buf, len, "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu", mt, digest, size);

	if (ref)
		n += snprintf(buf + n, len - (size_t)n, ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"%s\"}",
			      ref);
	if (arch)
		n += snprintf(buf + n, len - (size_t)n, ",\"platform\":{\"os\":\"linux\",\"architecture\":\"%s\"}", arch);
	snprintf(buf + n, len - (size_t)n, "}");
}

#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_INDEX "application/vnd.oci.image.index.v1+json"

static const struct ent base_ents[] = {
	{ 'd', "etc" },
	{ 'f', "etc/motd", "hello\n" },
	{ 'f', "etc/gone", "lower\n" },
	{ 'd', "opaque" },
	{ 'f', "opaque/lower1", "1\n" },
	{ 'd', "opaque/sub" },
	{ 'f', "opaque/sub/lower2", "2\n" },
	{ 'd', "dir-to-file" },
	{ 'f', "dir-to-file/x", "x\n" },
	{ 'f', "bin-sh", "#!sh\n", 0755, 1234 },
	{ 'h', "bin-sh-link", "bin-sh" },
	{ 'c', "null" },
	{ 'l', "lnk", "etc/motd" },
};

static const struct ent upper_ents[] = {
	{ 'f', "etc/.wh.gone", "" },
	{ 'd', "opaque" },
	{ 'f', "opaque/upper-before", "b\n" },
	{ 'f', "opaque/.wh..wh..opq", "" },
	{ 'f', "opaque/upper-after", "a\n" },
	{ 'f', "dir-to-file", "now a file\n" },
	{ 'f', "etc/.wh.never-there", "" },
};

/* ---- tests ---- */

static void test_digest(void **state)
{
	static const char abc[] = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	char bad[sizeof(abc)];

	assert_true(dms_digest_valid(abc));
	assert_int_equal(dms_digest_check(abc, "abc", 3), 0);
	assert_int_equal(dms_digest_check(abc, "abd", 3), -EBADMSG);
	strcpy(bad, abc);
	bad[10] = 'A';
	assert_false(dms_digest_valid(bad));
	assert_false(dms_digest_valid("sha256:../../etc/passwd"));
	assert_false(dms_digest_valid("md5:d41d8cd98f00b204e9800998ecf8427e"));
	assert_false(dms_digest_valid("sha256:ba78"));
}

static void test_layout_refs(void **state)
{
	struct fx *f = *state;
	static const struct ent e1[] = { { 'f', "one", "1\n" } };
	static const struct ent e2[] = { { 'f', "two", "2\n" } };
	struct layer_in l1 = { e1, 1, false }, l2 = { e2, 1, true };
	char m1[DMS_DIGEST_MAX], m2[DMS_DIGEST_MAX], d1[512], d2[512], both[1100];
	struct dms_image_source *src = NULL;
	size_t s1, s2;

	make_image(f, &l1, 1, m1, &s1, NULL);
	make_image(f, &l2, 1, m2, &s2, NULL);
	desc(d1, sizeof(d1), MT_MANIFEST, m1, s1, "v1", NULL);
	desc(d2, sizeof(d2), MT_MANIFEST, m2, s2, "v2", NULL);
	write_index(f, d1);
	assert_int_equal(dms_oci_layout_open(f->layoutfd, NULL, NULL, &src, f->err, sizeof(f->err)), 0);
	assert_string_equal(src->manifest_digest, m1);
	assert_int_equal(src->n_layers, 1);
	assert_non_null(strstr(src->config_json, "\"Cmd\""));
	dms_image_source_free(src);

	snprintf(both, sizeof(both), "%s,%s", d1, d2);
	write_index(f, both);
	assert_int_equal(dms_oci_layout_open(f->layoutfd, NULL, NULL, &src, f->err, sizeof(f->err)), -ENOTUNIQ);
	assert_non_null(strstr(f->err, "'v1', 'v2'"));
	assert_int_equal(dms_oci_layout_open(f->layoutfd, "v3", NULL, &src, f->err, sizeof(f->err)), -ENOENT);
	assert_non_null(strstr(f->err, "no image with ref 'v3'"));
	assert_int_equal(dms_oci_layout_open(f->layoutfd, "v2", NULL, &src, f->err, sizeof(f->err)), 0);
	assert_string_equal(src->manifest_digest, m2);
	assert_string_equal(src->ref, "v2");
	dms_image_source_free(src);
}

static void test_layout_platforms(void **state)
{
	struct fx *f = *state;
	static const struct ent e1[] = { { 'f', "amd", "1\n" } };
	static const struct ent e2[] = { { 'f', "arm", "2\n" } };
	struct layer_in l1 = { e1, 1, false }, l2 = { e2, 1, false };
	char m1[DMS_DIGEST_MAX], m2[DMS_DIGEST_MAX], idx[DMS_DIGEST_MAX], d1[512], d2[512], text[2048], top[512];
	struct dms_image_source *src = NULL;
	size_t s1, s2;

	make_image(f, &l1, 1, m1, &s1, NULL);
	make_image(f, &l2, 1, m2, &s2, NULL);
	desc(d1, sizeof(d1), MT_MANIFEST, m1, s1, NULL, "amd64");
	desc(d2, sizeof(d2), MT_MANIFEST, m2, s2, NULL, "arm64");
	snprintf(text, sizeof(text), "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[%s,%s]}", MT_INDEX, d2,
		 d1);
	put_blob(f, text, strlen(text), idx);
	desc(top, sizeof(top), MT_INDEX, idx, strlen(text), "latest", NULL);
	write_index(f, top);
	assert_int_equal(dms_oci_layout_open(f->layoutfd, NULL, NULL, &src, f->err, sizeof(f->err)), 0);
	assert_string_equal(src->manifest_digest, m1);
	dms_image_source_free(src);
	assert_int_equal(dms_oci_layout_open(f->layoutfd, "latest", "linux/arm64", &src, f->err, sizeof(f->err)), 0);
	assert_string_equal(src->manifest_digest, m2);
	dms_image_source_free(src);
	assert_int_equal(dms_oci_layout_open(f->layoutfd, NULL, "linux/s390x", &src, f->err, sizeof(f->err)), -ENOENT);
	assert_non_null(strstr(f->err, "linux/arm64, linux/amd64"));
	assert_int_equal(dms_oci_layout_open(f->layoutfd, NULL, "linux", &src, f->err, sizeof(f->err)), -EINVAL);
}

static void test_layout_tampered_manifest(void **state)
{
	struct fx *f = *state;
	static const struct ent e1[] = { { 'f', "one", "1\n" } };
	struct layer_in l1 = { e1, 1, false };
	char m[DMS_DIGEST_MAX], d[512], path[256];
	struct dms_image_source *src = NULL;
	_cleanup_close_ int fd = -1;
	size_t s;

	make_image(f, &l1, 1, m, &s, NULL);
	desc(d, sizeof(d), MT_MANIFEST, m, s, NULL, NULL);
	write_index(f, d);
	snprintf(path, sizeof(path), "blobs/sha256/%s", m + 7);
	fd = openat(f->layoutfd, path, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, " ", 1, 0), 1);
	assert_int_equal(dms_oci_layout_open(f->layoutfd, NULL, NULL, &src, f->err, sizeof(f->err)), -EBADMSG);
	assert_non_null(strstr(f->err, m));
	assert_non_null(strstr(f->err, "does not match its digest"));
}

static int open_image(struct fx *f, const struct layer_in *layers, size_t n, const char *bad_diff_id,
		      struct dms_image_source **src)
{
	char m[DMS_DIGEST_MAX], d[512];
	size_t s;

	make_image(f, layers, n, m, &s, bad_diff_id);
	desc(d, sizeof(d), MT_MANIFEST, m, s, NULL, NULL);
	write_index(f, d);
	return dms_oci_layout_open(f->layoutfd, NULL, NULL, src, f->err, sizeof(f->err));
}

static int apply(struct fx *f, const struct layer_in *layers, size_t n, const char *bad_diff_id)
{
	struct dms_image_source *src = NULL;
	int r = open_image(f, layers, n, bad_diff_id, &src);

	assert_int_equal(r, 0);
	r = dms_layers_apply(f->rootfd, src, NULL, NULL, NULL, f->err, sizeof(f->err));
	dms_image_source_free(src);
	return r;
}

static bool exists(struct fx *f, const char *path)
{
	struct stat st;

	return fstatat(f->rootfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static void assert_outside_empty(struct fx *f)
{
	struct stat st;

	assert_int_equal(stat(f->outside, &st), 0);
	assert_int_equal(st.st_nlink, 2);
	assert_int_equal(access("/tmp/dms-oci-escaped", F_OK), -1);
}

static void test_layers_whiteouts(void **state)
{
	struct fx *f = *state;
	struct layer_in layers[] = { { base_ents, DMS_ARRAY_SIZE(base_ents), true },
				     { upper_ents, DMS_ARRAY_SIZE(upper_ents), false } };
	struct stat a, b;

	if (geteuid() != 0)
		skip();
	assert_int_equal(apply(f, layers, 2, NULL), 0);
	assert_true(exists(f, "etc/motd"));
	assert_false(exists(f, "etc/gone"));
	assert_false(exists(f, "etc/.wh.gone"));
	assert_false(exists(f, "opaque/lower1"));
	assert_false(exists(f, "opaque/sub"));
	assert_true(exists(f, "opaque/upper-before"));
	assert_true(exists(f, "opaque/upper-after"));
	assert_false(exists(f, "opaque/.wh..wh..opq"));
	assert_int_equal(fstatat(f->rootfd, "dir-to-file", &a, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(a.st_mode));
	assert_int_equal(fstatat(f->rootfd, "bin-sh", &a, 0), 0);
	assert_int_equal(fstatat(f->rootfd, "bin-sh-link", &b, 0), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	assert_int_equal(a.st_uid, 1234);
	assert_int_equal(a.st_mode & 07777, 0755);
	assert_int_equal(fstatat(f->rootfd, "null", &a, 0), 0);
	assert_true(S_ISCHR(a.st_mode) && a.st_rdev == makedev(1, 3));
}

static void test_layers_without_end_blocks(void **state)
{
	struct fx *f = *state;
	static const struct ent e1[] = { { 'd', "opt" }, { 'f', "opt/a", "a\n" } };
	static const struct ent e2[] = { { 'f', "opt/.wh..wh..opq", "" }, { 'd', "opt" }, { 'f', "opt/c", "c\n" } };
	struct layer_in layers[] = { { e1, 2, true, false }, { e2, 3, true, true } };
	char buf[8] = "";
	_cleanup_close_ int fd = -1;

	if (geteuid() != 0)
		skip();
	if (apply(f, layers, 2, NULL) < 0)
		fail_msg("%s", f->err);
	assert_false(exists(f, "opt/a"));
	fd = openat(f->rootfd, "opt/c", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 2);
	assert_string_equal(buf, "c\n");
}

static void test_layers_digest_mismatch(void **state)
{
	struct fx *f = *state;
	static const struct ent e1[] = { { 'f', "one", "original content\n" } };
	struct layer_in l1 = { e1, 1, false };
	struct dms_image_source *src = NULL;
	_cleanup_close_ int fd = -1;
	char path[256];
	struct stat st;

	if (geteuid() != 0)
		skip();
	assert_int_equal(open_image(f, &l1, 1, NULL, &src), 0);
	/* One byte of file content: the tar still parses, only the digest can tell. */
	snprintf(path, sizeof(path), "%s/%s", f->layout, src->layers[0].path);
	fd = open(path, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	{
		char buf[4096];
		ssize_t n = pread(fd, buf, sizeof(buf), 0);
		char *p = memmem(buf, (size_t)n, "original", 8);

		assert_non_null(p);
		assert_int_equal(pwrite(fd, "O", 1, p - buf), 1);
	}
	assert_int_equal(dms_layers_apply(f->rootfd, src, NULL, NULL, NULL, f->err, sizeof(f->err)), -EBADMSG);
	assert_non_null(strstr(f->err, src->layers[0].digest));
	assert_non_null(strstr(f->err, "does not match its digest"));
	dms_image_source_free(src);
}

static void test_layers_diff_id_mismatch(void **state)
{
	struct fx *f = *state;
	static const struct ent e1[] = { { 'f', "one", "1\n" } };
	struct layer_in l1 = { e1, 1, true };

	if (geteuid() != 0)
		skip();
	assert_int_equal(apply(f, &l1, 1, "sha256:0000000000000000000000000000000000000000000000000000000000000000"),
			 -EBADMSG);
	assert_non_null(strstr(f->err, "does not match diff_id sha256:0000"));
	assert_non_null(strstr(f->err, "layer 1 (sha256:"));
}

static void hostile(struct fx *f, const struct ent *upper, size_t n, const char *msg)
{
	char link[160];
	struct ent lower[] = { { 'l', "evil", link }, { 'd', "d" }, { 'f', "d/x", "x\n" } };
	struct layer_in layers[] = { { lower, DMS_ARRAY_SIZE(lower), false }, { upper, n, false } };
	int r;

	snprintf(link, sizeof(link), "%s", f->outside);
	r = apply(f, layers, 2, NULL);
	if (r >= 0)
		fail_msg("a hostile layer was applied (expected '%s')", msg);
	if (!strstr(f->err, msg) || !strstr(f->err, "layer 2"))
		fail_msg("expected '%s' from layer 2, got: %s", msg, f->err);
	assert_outside_empty(f);
}

static void test_layers_hostile(void **state)
{
	struct fx *f = *state;
	static const struct ent dotdot[] = { { 'f', "../../dms-oci-escaped", "x" } };
	static const struct ent abs[] = { { 'f', "/tmp/dms-oci-escaped", "x" } };
	static const struct ent through[] = { { 'f', "evil/file", "x" } };
	static const struct ent wh_through[] = { { 'f', "evil/.wh.x", "" } };
	static const struct ent wh_dot[] = { { 'f', "d/.wh..", "" } };
	static const struct ent wh_dotdot[] = { { 'f', "d/.wh...", "" } };
	static const struct ent hardlink[] = { { 'h', "d/h", "../../../etc/passwd" } };
	static const struct ent hardlink_abs[] = { { 'h', "d/h", "/etc/passwd" } };
	struct stat passwd, now;

	if (geteuid() != 0)
		skip();
	assert_int_equal(stat("/etc/passwd", &passwd), 0);
	hostile(f, dotdot, 1, "../../dms-oci-escaped");
	hostile(f, abs, 1, "/tmp/dms-oci-escaped");
	hostile(f, through, 1, "evil/file");
	hostile(f, wh_through, 1, "whiteout through a symlink");
	hostile(f, wh_dot, 1, "a whiteout of '.' is not allowed");
	hostile(f, wh_dotdot, 1, "a whiteout of '..' is not allowed");
	hostile(f, hardlink, 1, "d/h");
	hostile(f, hardlink_abs, 1, "d/h");
	assert_int_equal(stat("/etc/passwd", &now), 0);
	assert_int_equal(now.st_nlink, passwd.st_nlink);
	assert_int_equal(now.st_mtime, passwd.st_mtime);
}

static void test_docker_archive(void **state)
{
	struct fx *f = *state;
	static const struct ent e1[] = { { 'f', "one", "1\n" } };
	struct buf t = make_tar(e1, 1, false);
	char diff[DMS_DIGEST_MAX], cfg[1024], cfg_digest[DMS_DIGEST_MAX], path[256], manifest[1024];
	struct dms_image_source *src = NULL;

	if (geteuid() != 0)
		skip();
	digest_of(t.data, t.len, diff);
	assert_int_equal(mkdirat(f->layoutfd, "0123abcd", 0755), 0);
	put_file(f->layoutfd, "0123abcd/layer.tar", t.data, t.len);
	free(t.data);
	snprintf(cfg, sizeof(cfg), "{\"config\":{\"Cmd\":[\"true\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
		 diff);
	digest_of(cfg, strlen(cfg), cfg_digest);
	snprintf(path, sizeof(path), "%s.json", cfg_digest + 7);
	put_file(f->layoutfd, path, cfg, strlen(cfg));
	snprintf(manifest, sizeof(manifest),
		 "[{\"Config\":\"%s\",\"RepoTags\":[\"busybox:latest\"],\"Layers\":[\"0123abcd/layer.tar\"]},"
		 "{\"Config\":\"%s\",\"RepoTags\":[\"other:1\"],\"Layers\":[\"0123abcd/layer.tar\"]}]",
		 path, path);
	put_file(f->layoutfd, "manifest.json", manifest, strlen(manifest));
	assert_int_equal(dms_docker_archive_open(f->layoutfd, NULL, &src, f->err, sizeof(f->err)), -ENOTUNIQ);
	assert_non_null(strstr(f->err, "'busybox:latest', 'other:1'"));
	assert_int_equal(dms_docker_archive_open(f->layoutfd, "busybox", &src, f->err, sizeof(f->err)), 0);
	assert_string_equal(src->config_digest, cfg_digest);
	assert_int_equal(dms_layers_apply(f->rootfd, src, NULL, NULL, NULL, f->err, sizeof(f->err)), 0);
	assert_true(exists(f, "one"));
	dms_image_source_free(src);
	/* A symlinked layer path that leaves the archive's directory is not followed out. */
	assert_int_equal(symlinkat("/etc/passwd", f->layoutfd, "escape.tar"), 0);
	snprintf(manifest, sizeof(manifest), "[{\"Config\":\"%s\",\"Layers\":[\"escape.tar\"]}]", path);
	put_file(f->layoutfd, "manifest.json", manifest, strlen(manifest));
	assert_int_equal(dms_docker_archive_open(f->layoutfd, NULL, &src, f->err, sizeof(f->err)), 0);
	assert_int_not_equal(dms_layers_apply(f->rootfd, src, NULL, NULL, NULL, f->err, sizeof(f->err)), 0);
	assert_non_null(strstr(f->err, "escape.tar"));
	dms_image_source_free(src);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_digest),
		T(test_layout_refs),
		T(test_layout_platforms),
		T(test_layout_tampered_manifest),
		T(test_layers_whiteouts),
		T(test_layers_without_end_blocks),
		T(test_layers_digest_mismatch),
		T(test_layers_diff_id_mismatch),
		T(test_layers_hostile),
		T(test_docker_archive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
