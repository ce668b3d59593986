// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Image layers applied in order into one rootfs (fs/layer.h). The reading
 * runs as a pipeline of two libarchive readers in one pass over the blob:
 *
 *   blob fd --read(), hashed: digest--> "raw" reader with the gzip/zstd filters
 *          --archive_read_data(), hashed: diff_id--> tar reader --> writer
 *
 * libarchive gives no access to the decompressed stream under its tar reader,
 * so the decompression is a reader of its own (format "raw": the data is the
 * whole decompressed stream) whose output feeds the tar reader through a read
 * callback. What the tar reader leaves unread (the end-of-archive padding) and
 * what the decompressor leaves (trailing bytes) are read and hashed after it,
 * so both hashes cover every byte.
 *
 * Whiteouts are handled in the entry hook, on the import thread, inside the
 * chroot: each is looked up with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)
 * and removed by fds (fs/remove.h). The paths this layer wrote (and their
 * parents) are kept in a tree, so a marker never removes them, whatever order
 * the layer lists things in.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <search.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/openat2.h>

#include "dms-util.h"
#include "fs/digest.h"
#include "fs/layer.h"
#include "fs/remove.h"

#define READ_BLOCK (128 * 1024)
#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

struct layer {
	/* The blob as read */
	int fd;
	struct dms_digest *blob_hash; /* NULL when the blob has no digest of its own */
	struct dms_digest *diff_hash;
	uint64_t read_bytes;
	uint64_t tar_bytes; /* decompressed */
	struct archive *raw;
	bool raw_eof;
	size_t pad; /* zeros still to give the tar reader after the stream's end */
	char in[READ_BLOCK], out[READ_BLOCK];

	/* Paths written by this layer, and their parents: tsearch's tree of strings. */
	void *written;

	struct dms_import_progress *progress;
	dms_layer_progress_fn progress_fn;
	void *progress_arg;
	const char *name; /* "layer 2 (sha256:...)", for messages */
};

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

static void archive_freep(struct archive **a)
{
	if (*a)
		(void)archive_free(*a);
}

static la_ssize_t blob_read(struct archive *a, void *arg, const void **buf)
{
	struct layer *l = arg;
	ssize_t n;

	do
		n = read(l->fd, l->in, sizeof(l->in));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		archive_set_error(a, errno, "reading the blob: %s", strerror(errno));
		return -1;
	}
	if (l->blob_hash)
		dms_digest_update(l->blob_hash, l->in, (size_t)n);
	l->read_bytes += (uint64_t)n;
	l->progress->bytes += (uint64_t)n;
	*buf = l->in;
	return n;
}

/*
 * Go's archive/tar (and so docker, containerd and umoci's unpack) takes a
 * stream that stops right after the last entry's data, without the padding
 * to 512 bytes and the two zero blocks that end an archive; umoci 0.4.7's
 * `insert` writes such layers. libarchive calls that truncated. So at the
 * end of the stream the tar reader is given the missing padding and end
 * blocks, as zeros that are not part of the stream and not hashed.
 */
static const char zeros[1536];

static la_ssize_t tar_read(struct archive *a, void *arg, const void **buf)
{
	struct layer *l = arg;
	la_ssize_t n;

	if (l->raw_eof) {
		n = (la_ssize_t)l->pad;
		l->pad = 0;
		*buf = zeros;
		return n;
	}
	n = archive_read_data(l->raw, l->out, sizeof(l->out));

	if (n < 0) {
		const char *msg = archive_error_string(l->raw);

		archive_set_error(a, archive_errno(l->raw) > 0 ? archive_errno(l->raw) : EINVAL, "%s",
				  msg ? msg : "decompressing failed");
		return -1;
	}
	if (n == 0) {
		l->raw_eof = true;
		l->pad = (512 - l->tar_bytes % 512) % 512 + 1024;
		n = (la_ssize_t)l->pad;
		l->pad = 0;
		*buf = zeros;
		return n;
	}
	dms_digest_update(l->diff_hash, l->out, (size_t)n);
	l->tar_bytes += (uint64_t)n;
	*buf = l->out;
	return n;
}

/* The decompressor: in-process filters only, as for rootfs tarballs; "raw" passes what comes out. */
static int raw_reader_new(struct layer *l, struct archive **ret)
{
	_cleanup_(archive_freep) struct archive *rd = archive_read_new();
	struct archive_entry *e;

	if (!rd)
		return -ENOMEM;
	if (archive_read_support_filter_gzip(rd) != ARCHIVE_OK || archive_read_support_filter_zstd(rd) != ARCHIVE_OK ||
	    archive_read_support_format_raw(rd) != ARCHIVE_OK ||
	    archive_read_open(rd, l, NULL, blob_read, NULL) != ARCHIVE_OK || archive_read_next_header(rd, &e) != ARCHIVE_OK)
		return archive_errno(rd) > 0 ? -archive_errno(rd) : -EINVAL;
	*ret = DMS_TAKE_PTR(rd);
	return 0;
}

static int tar_reader_new(struct layer *l, struct archive **ret)
{
	_cleanup_(archive_freep) struct archive *rd = archive_read_new();

	if (!rd)
		return -ENOMEM;
	if (archive_read_support_format_tar(rd) != ARCHIVE_OK || archive_read_support_format_empty(rd) != ARCHIVE_OK ||
	    archive_read_open(rd, l, NULL, tar_read, NULL) != ARCHIVE_OK)
		return archive_errno(rd) > 0 ? -archive_errno(rd) : -EINVAL;
	*ret = DMS_TAKE_PTR(rd);
	return 0;
}

/* "./a//b/" -> "a/b"; "" for the root. Absolute paths and ".." are refused, as they would be by the writer. */
static int normalize(const char *path, char *buf, size_t len)
{
	size_t off = 0;
	const char *p = path;

	if (*p == '/')
		return -EPERM;
	while (*p) {
		const char *end = strchrnul(p, '/');
		size_t n = (size_t)(end - p);

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return -EPERM;
		if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (off + n + 2 > len)
				return -ENAMETOOLONG;
			if (off)
				buf[off++] = '/';
			memcpy(buf + off, p, n);
			off += n;
		}
		p = *end ? end + 1 : end;
	}
	buf[off] = '\0';
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

static bool was_written(struct layer *l, const char *path)
{
	return tfind(path, &l->written, cmp_str) != NULL;
}

/* PATH and every directory above it: a marker above them must leave the way to them too. */
static int record_written(struct layer *l, const char *path)
{
	_cleanup_free_ char *copy = strdup(path);
	char *slash;

	if (!copy)
		return -ENOMEM;
	for (;;) {
		char *key;
		void *node;

		if (was_written(l, copy))
			return 0; /* its parents were recorded with it */
		key = strdup(copy);
		if (!key)
			return -ENOMEM;
		node = tsearch(key, &l->written, cmp_str);
		if (!node) {
			free(key);
			return -ENOMEM;
		}
		slash = strrchr(copy, '/');
		if (!slash)
			return 0;
		*slash = '\0';
	}
}

/*
 * The directory PATH ("" is the root) of the rootfs, which is our cwd and
 * root. No symlink is followed on the way: -ELOOP if one is there.
 */
static int open_dir_beneath(const char *path, int *ret_fd)
{
	struct open_how how = {
		.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	do
		fd = syscall(SYS_openat2, AT_FDCWD, *path ? path : ".", &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN);
	if (fd < 0)
		return -errno;
	*ret_fd = (int)fd;
	return 0;
}

static void split(char *path, const char **ret_dir, const char **ret_base)
{
	char *slash = strrchr(path, '/');

	if (slash) {
		*slash = '\0';
		*ret_dir = path;
		*ret_base = slash + 1;
	} else {
		*ret_dir = "";
		*ret_base = path;
	}
}

/* Remove from DIR_FD (the directory PATH) whatever this layer did not write, recursing into what it did. */
static int prune(struct layer *l, int dir_fd, const char *path)
{
	int fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
	DIR *d;
	int r = 0;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		(void)close(fd);
		return -errno;
	}
	for (;;) {
		_cleanup_free_ char *child = NULL;
		struct dirent *e;
		struct stat st;

		errno = 0;
		e = readdir(d);
		if (!e) {
			r = errno ? -errno : 0;
			break;
		}
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (asprintf(&child, "%s%s%s", path, *path ? "/" : "", e->d_name) < 0) {
			r = -ENOMEM;
			break;
		}
		if (!was_written(l, child)) {
			r = dms_remove_tree_at(fd, e->d_name);
		} else if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
			int sub = openat(fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			r = sub < 0 ? -errno : prune(l, sub, child);
			if (sub >= 0)
				(void)close(sub);
		}
		if (r < 0)
			break;
	}
	(void)closedir(d);
	return r;
}

static int whiteout(struct layer *l, const char *entry, char *path, char *errbuf, size_t errlen)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *target = NULL;
	const char *dir, *base, *name;
	int r;

	split(path, &dir, &base);
	name = base + strlen(WH_PREFIX);
	if (strcmp(base, WH_OPAQUE) != 0 &&
	    (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strncmp(name, WH_PREFIX, 4) == 0))
		return errf(errbuf, errlen, -EPERM, "entry '%s': a whiteout of '%s' is not allowed", entry, name);
	r = open_dir_beneath(dir, &fd);
	/* Nothing below to delete. */
	if (r == -ENOENT || r == -ENOTDIR)
		return 1;
	if (r == -ELOOP || r == -EXDEV)
		return errf(errbuf, errlen, -EPERM, "entry '%s': whiteout through a symlink", entry);
	if (r < 0)
		return errf(errbuf, errlen, r, "entry '%s': %s", entry, strerror(-r));
	if (strcmp(base, WH_OPAQUE) == 0) {
		r = prune(l, fd, dir);
	} else {
		if (asprintf(&target, "%s%s%s", dir, *dir ? "/" : "", name) < 0)
			return -ENOMEM;
		/* What this same layer wrote is only hidden by a later layer's whiteout. */
		r = was_written(l, target) ? 0 : dms_remove_tree_at(fd, name);
	}
	if (r < 0)
		return errf(errbuf, errlen, r, "entry '%s': applying the whiteout: %s", entry, strerror(-r));
	return 1;
}

/* A directory a lower layer left where this layer puts a non-directory goes, with all under it. */
static int clear_way(char *path, char *errbuf, size_t errlen, const char *entry)
{
	_cleanup_close_ int fd = -1;
	const char *dir, *base;
	struct stat st;
	int r;

	split(path, &dir, &base);
	r = open_dir_beneath(dir, &fd);
	if (r < 0)
		return 0; /* the writer creates, or refuses, the way there */
	if (fstatat(fd, base, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	r = dms_remove_tree_at(fd, base);
	return r < 0 ? errf(errbuf, errlen, r, "entry '%s': removing the directory in its place: %s", entry,
			    strerror(-r)) :
		       0;
}

static int layer_entry(void *arg, struct archive_entry *entry, char *errbuf, size_t errlen)
{
	struct layer *l = arg;
	const char *name = archive_entry_pathname(entry);
	char path[PATH_MAX], tmp[PATH_MAX];
	const char *base;
	int r;

	if (!name)
		return errf(errbuf, errlen, -EINVAL, "an entry without a name");
	r = normalize(name, path, sizeof(path));
	if (r == -EPERM)
		return errf(errbuf, errlen, r, "entry '%s': a path outside the rootfs", name);
	if (r < 0)
		return errf(errbuf, errlen, r, "entry '%s': %s", name, strerror(-r));
	if (!*path)
		return 0; /* the root itself */
	base = strrchr(path, '/');
	base = base ? base + 1 : path;

	l->progress->entries++;
	if (l->progress_fn)
		l->progress_fn(l->progress, l->progress_arg);
	strcpy(tmp, path);
	if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) == 0)
		return whiteout(l, name, tmp, errbuf, errlen);

	r = record_written(l, path);
	if (r < 0)
		return r;
	archive_entry_copy_pathname(entry, path);
	if (archive_entry_filetype(entry) != AE_IFDIR || archive_entry_hardlink(entry))
		return clear_way(tmp, errbuf, errlen, name);
	return 0;
}

static bool media_type_ok(const char *mt)
{
	static const char *const ok[] = {
		"",
		"application/vnd.oci.image.layer.v1.tar",
		"application/vnd.oci.image.layer.v1.tar+gzip",
		"application/vnd.oci.image.layer.v1.tar+zstd",
		"application/vnd.oci.image.layer.nondistributable.v1.tar",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
		"application/vnd.docker.image.rootfs.diff.tar",
		"application/vnd.docker.image.rootfs.diff.tar.gzip",
		"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
	};

	for (size_t i = 0; i < DMS_ARRAY_SIZE(ok); i++)
		if (strcmp(mt, ok[i]) == 0)
			return true;
	return false;
}

/* Read and hash what the readers left: the tar's end padding, the blob's tail. */
static int finish_hashes(struct layer *l)
{
	while (!l->raw_eof) {
		la_ssize_t n = archive_read_data(l->raw, l->out, sizeof(l->out));

		if (n < 0)
			return archive_errno(l->raw) > 0 ? -archive_errno(l->raw) : -EINVAL;
		if (n == 0)
			break;
		dms_digest_update(l->diff_hash, l->out, (size_t)n);
	}
	return 0;
}

static int drain_blob(struct layer *l)
{
	for (;;) {
		ssize_t n = read(l->fd, l->in, sizeof(l->in));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		if (l->blob_hash)
			dms_digest_update(l->blob_hash, l->in, (size_t)n);
		l->read_bytes += (uint64_t)n;
		l->progress->bytes += (uint64_t)n;
	}
}

/* The blob's own digest and size: a blob that is not what its descriptor says is refused for that first. */
static int check_blob(struct layer *l, const struct dms_blob *b, char *errbuf, size_t errlen)
{
	char got[DMS_DIGEST_MAX];
	int r;

	if (b->size >= 0 && l->read_bytes != (uint64_t)b->size)
		return errf(errbuf, errlen, -EBADMSG, "%s: %llu bytes where its descriptor says %lld", l->name,
			    (unsigned long long)l->read_bytes, (long long)b->size);
	if (!l->blob_hash)
		return 0;
	r = dms_digest_final(l->blob_hash, got, sizeof(got));
	if (r < 0)
		return errf(errbuf, errlen, r, "%s: %s", l->name, strerror(-r));
	if (strcmp(got, b->digest) != 0)
		return errf(errbuf, errlen, -EBADMSG, "%s: content does not match its digest (it hashes to %s)",
			    l->name, got);
	return 0;
}

static void twalk_freep(void **root)
{
	tdestroy(*root, free);
}

static int apply_one(int rootfd, const struct dms_image_source *src, size_t i, struct layer *l,
		     struct dms_unpack_stats *total, char *errbuf, size_t errlen)
{
	const struct dms_blob *b = &src->layers[i];
	_cleanup_(archive_freep) struct archive *raw = NULL, *tar = NULL;
	_cleanup_(twalk_freep) void *written = NULL;
	struct dms_unpack_hooks hooks = { .entry = layer_entry, .arg = l };
	struct dms_unpack_stats st = { 0 };
	char err[512] = "", got[DMS_DIGEST_MAX];
	int r, rb;

	if (!media_type_ok(b->media_type))
		return errf(errbuf, errlen, -EINVAL, "%s: unsupported media type '%s'", l->name, b->media_type);
	r = dms_source_open_blob(src, b->path, &l->fd);
	if (r < 0)
		return errf(errbuf, errlen, r, "%s: opening '%s': %s", l->name, b->path,
			    r == -EINVAL ? "not a regular file" : strerror(-r));
	if (*b->digest)
		r = dms_digest_new(b->digest, &l->blob_hash);
	if (r == 0)
		r = dms_digest_new(src->diff_ids[i], &l->diff_hash);
	if (r < 0)
		return errf(errbuf, errlen, r, "%s: %s", l->name, strerror(-r));

	r = raw_reader_new(l, &raw);
	l->raw = raw;
	if (r == 0)
		r = tar_reader_new(l, &tar);
	if (r < 0) {
		snprintf(err, sizeof(err), "not a tar stream (plain, gzip or zstd): %s", strerror(-r));
	} else {
		r = dms_unpack_reader(rootfd, tar, l->name, &hooks, &st, err, sizeof(err));
		written = l->written;
	}
	if (r == 0)
		r = finish_hashes(l);
	/* Whatever stopped the unpack, a blob that is not what its digest says is the first thing to tell. */
	rb = drain_blob(l);
	if (rb < 0)
		return errf(errbuf, errlen, rb, "%s: reading: %s", l->name, strerror(-rb));
	rb = check_blob(l, b, errbuf, errlen);
	if (rb < 0)
		return rb;
	if (r < 0)
		return errf(errbuf, errlen, r, "%s: %s", l->name, *err ? err : strerror(-r));
	r = dms_digest_final(l->diff_hash, got, sizeof(got));
	if (r < 0)
		return errf(errbuf, errlen, r, "%s: %s", l->name, strerror(-r));
	if (strcmp(got, src->diff_ids[i]) != 0)
		return errf(errbuf, errlen, -EBADMSG, "%s: its uncompressed content does not match diff_id %s", l->name,
			    src->diff_ids[i]);
	total->entries += st.entries;
	total->bytes += st.bytes;
	total->xattrs_dropped += st.xattrs_dropped;
	return 0;
}

int dms_layers_apply(int rootfd, const struct dms_image_source *src, dms_layer_progress_fn progress, void *arg,
		     struct dms_unpack_stats *stats, char *errbuf, size_t errlen)
{
	struct dms_import_progress p = { .layers = (unsigned)src->n_layers, .total = src->layer_bytes };
	struct dms_unpack_stats total = { 0 };
	struct layer *l;
	int r = 0;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	l = malloc(sizeof(*l));
	if (!l)
		return -ENOMEM;
	for (size_t i = 0; i < src->n_layers && r == 0; i++) {
		char name[DMS_DIGEST_MAX + 64];
		const struct dms_blob *b = &src->layers[i];

		snprintf(name, sizeof(name), "layer %zu (%s%s%s)", i + 1, *b->digest ? "" : "'",
			 *b->digest ? b->digest : b->path, *b->digest ? "" : "'");
		*l = (struct layer){ .fd = -1, .progress = &p, .progress_fn = progress, .progress_arg = arg, .name = name };
		p.layer = (unsigned)i + 1;
		if (progress)
			progress(&p, arg);
		r = apply_one(rootfd, src, i, l, &total, errbuf, errlen);
		if (l->fd >= 0)
			(void)close(l->fd);
		dms_digest_free(l->blob_hash);
		dms_digest_free(l->diff_hash);
	}
	free(l);
	if (r == 0 && progress)
		progress(&p, arg);
	if (r == 0 && stats)
		*stats = total;
	return r;
}
