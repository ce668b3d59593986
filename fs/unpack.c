// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Image rootfs import. libarchive does the reading (a tarball through archive_read, a
 * directory tree through archive_read_disk) and one archive_write_disk, set up the same
 * way for both, does the writing. What is ours is where that writer runs.
 *
 * archive_write_disk resolves every entry against the cwd, and archive_read_disk
 * fchdir()s about while it walks, coming back to the cwd it started from after each
 * call. Moving the whole process's cwd into ROOTFD and back would race every other
 * thread of the process and would have to be undone on every path. Instead each import
 * runs on a thread of its own that first unshares CLONE_FS: its cwd, root and umask
 * are then private, and they disappear with the thread. That thread fchdir()s into
 * ROOTFD; for a tarball it also chroot()s there.
 *
 * The chroot is the wall, libarchive's SECURE_* checks are the error message. Those
 * checks (no absolute paths, no "..", no path through a symlink, hardlink targets
 * checked the same way) reject an escaping entry by name, and we stop the import on
 * the first one: an image that tries to write outside its root is hostile or broken,
 * and a silently pruned rootfs is worse than a clear refusal. But the checks are
 * lstat-then-act in user space with a history of CVEs (hardlinks, deferred directory
 * fixups through a later symlink); under the chroot a missed case still resolves "/"
 * and ".." to ROOTFD. A tarball is foreign input, so it gets both.
 *
 * A directory source cannot chroot: the reader needs the host's paths. Its entries come
 * from a real walk that follows no symlink, so they carry no "..", no absolute name,
 * and hardlinks only to entries already written; the one way out left is a symlink
 * already in ROOTFD, which SECURE_SYMLINKS refuses to pass through.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

#include "dms-util.h"
#include "fs/unpack.h"

/*
 * Not ARCHIVE_EXTRACT_UNLINK: with it libarchive deletes a symlink in the middle of a
 * path and carries on, where we want the refusal. Not FFLAGS: an immutable or
 * append-only flag from an image would follow into every container snapshot of it.
 * SPARSE writes zero runs as holes, which the thin pool then never allocates.
 */
#define EXTRACT_FLAGS                                                                          \
	(ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR | \
	 ARCHIVE_EXTRACT_ACL | ARCHIVE_EXTRACT_SPARSE | ARCHIVE_EXTRACT_SECURE_SYMLINKS |              \
	 ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS)

#define READ_BLOCK (128 * 1024)

/* A directory entry that found its directory already there (see copy_entries). */
struct dir_times {
	char *path;
	struct timespec times[2];
};

struct unpack_job {
	int (*run)(struct unpack_job *job);
	int rootfd;
	const char *source; /* as the caller named it, for messages */
	int archive_fd;	    /* tarball */
	struct stat archive_st;
	char *src_dir; /* directory tree: absolute, symlinks resolved */
	struct archive *reader; /* a reader the caller opened (dms_unpack_reader) */
	const struct dms_unpack_hooks *hooks;
	struct dir_times *redo;
	size_t n_redo;
	struct dms_unpack_stats stats;
	char *errbuf;
	size_t errlen;
	int home_fd; /* the process's root, for the thread to step back out to */
	int r;
};

static void archive_freep(struct archive **a)
{
	if (*a)
		(void)archive_free(*a);
}

static void entry_freep(struct archive_entry **e)
{
	if (*e)
		archive_entry_free(*e);
}

static void linkresolver_freep(struct archive_entry_linkresolver **lr)
{
	if (*lr)
		archive_entry_linkresolver_free(*lr);
}

__attribute__((format(printf, 3, 4))) static int job_error(struct unpack_job *job, int r, const char *fmt, ...)
{
	va_list ap;

	if (job->errbuf && job->errlen) {
		va_start(ap, fmt);
		(void)vsnprintf(job->errbuf, job->errlen, fmt, ap);
		va_end(ap);
	}
	return r;
}

/*
 * libarchive's status codes end here. archive_errno() is a real errno when a syscall
 * failed. The writer's own refusals (the SECURE_* checks) carry none, ARCHIVE_ERRNO_MISC
 * or 0: for us they mean "not permitted". A malformed input is reported as EILSEQ
 * (ARCHIVE_ERRNO_FILE_FORMAT), which would read as a multibyte-character error.
 */
static int read_errno(struct archive *a)
{
	int e = archive_errno(a);

	return e > 0 && e != EILSEQ ? -e : -EINVAL;
}

static int write_errno(struct archive *a)
{
	int e = archive_errno(a);

	return e > 0 ? -e : -EPERM;
}

static int entry_error(struct unpack_job *job, int r, struct archive *a, struct archive_entry *entry)
{
	const char *hardlink = archive_entry_hardlink(entry);
	const char *msg = archive_error_string(a);

	if (!msg)
		msg = strerror(-r);
	/* A refused hardlink is refused for its target, which the message does not name. */
	if (hardlink)
		return job_error(job, r, "entry '%s' (hardlink to '%s'): %s", archive_entry_pathname(entry),
				 hardlink, msg);
	return job_error(job, r, "entry '%s': %s", archive_entry_pathname(entry), msg);
}

static int source_error(struct unpack_job *job, int r, struct archive *a)
{
	const char *msg = a ? archive_error_string(a) : NULL;

	return job_error(job, r, "'%s': %s", job->source, msg ? msg : strerror(-r));
}

static int copy_data(struct unpack_job *job, struct archive *rd, struct archive *wr, struct archive_entry *entry)
{
	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t offset;
		la_ssize_t n;
		int s;

		s = archive_read_data_block(rd, &buf, &len, &offset);
		if (s == ARCHIVE_EOF)
			return 0;
		if (s != ARCHIVE_OK && s != ARCHIVE_WARN)
			return entry_error(job, read_errno(rd), rd, entry);
		/* Offsets, not a running position: holes in a sparse entry stay holes. */
		n = archive_write_data_block(wr, buf, len, offset);
		if (n < ARCHIVE_OK)
			return entry_error(job, write_errno(wr), wr, entry);
		job->stats.bytes += len;
	}
}

/*
 * read_disk names entries by the path it was opened on; the writer wants them
 * relative to ROOTFD, and SRC_DIR itself becomes ".", ROOTFD's own directory.
 */
static int rebase_entry(struct archive_entry *entry, const char *src_dir)
{
	_cleanup_free_ char *rel = NULL;
	const char *path = archive_entry_pathname(entry);
	size_t len = strlen(src_dir);

	if (!path || strncmp(path, src_dir, len) != 0)
		return -EINVAL;
	path += len;
	while (*path == '/')
		path++;
	/* Copied out first: path points into the entry's own storage. */
	rel = strdup(*path ? path : ".");
	if (!rel)
		return -ENOMEM;
	archive_entry_copy_pathname(entry, rel);
	return 0;
}

static bool is_existing_dir(const char *path)
{
	struct stat st;

	return fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

static int remember_dir_times(struct unpack_job *job, struct archive_entry *entry)
{
	struct dir_times *grown, *d;

	grown = realloc(job->redo, (job->n_redo + 1) * sizeof(*job->redo));
	if (!grown)
		return -ENOMEM;
	job->redo = grown;
	d = &job->redo[job->n_redo];
	d->path = strdup(archive_entry_pathname(entry));
	if (!d->path)
		return -ENOMEM;
	d->times[0] = (struct timespec){ .tv_nsec = UTIME_OMIT };
	if (archive_entry_atime_is_set(entry))
		d->times[0] = (struct timespec){ archive_entry_atime(entry), archive_entry_atime_nsec(entry) };
	d->times[1] = (struct timespec){ archive_entry_mtime(entry), archive_entry_mtime_nsec(entry) };
	job->n_redo++;
	return 0;
}

static int redo_dir_times(struct unpack_job *job)
{
	for (size_t i = 0; i < job->n_redo; i++)
		if (utimensat(AT_FDCWD, job->redo[i].path, job->redo[i].times, AT_SYMLINK_NOFOLLOW) < 0)
			return job_error(job, -errno, "entry '%s': restoring times: %s", job->redo[i].path,
					 strerror(errno));
	return 0;
}

/*
 * The xattrs an image may bring into a rootfs: user.* (the image's own),
 * security.capability (how file capabilities ship: ping, ...), and the POSIX
 * ACLs. Everything else is dropped. trusted.* is for privileged daemons
 * (overlayfs keeps its whiteouts and redirects there); security.selinux is a
 * label the host's policy gives, not the image; security.ima and .evm are
 * signatures the host's appraisal would trust; and a namespace not known
 * today is not trusted tomorrow.
 *
 * ACLs do not come through the xattr list at all: libarchive restores them
 * from the entry's ACL list (pax SCHILY.acl.*, or what read_disk read with
 * libacl) under ARCHIVE_EXTRACT_ACL, and skips system.posix_acl_* among the
 * xattrs itself. They are named here so that an ACL is never dropped by us.
 */
static bool xattr_allowed(const char *name)
{
	return strncmp(name, "user.", 5) == 0 || strcmp(name, "security.capability") == 0 ||
	       strcmp(name, "system.posix_acl_access") == 0 || strcmp(name, "system.posix_acl_default") == 0;
}

struct xattr_copy {
	char *name;
	void *value;
	size_t size;
};

/*
 * How many of ENTRY's N xattrs are not allowed, each name counted once: a pax
 * header libarchive wrote carries every xattr twice (LIBARCHIVE.xattr.* and
 * SCHILY.xattr.*).
 */
static int count_dropped(struct archive_entry *entry, int n)
{
	_cleanup_free_ const char **names = calloc(n, sizeof(*names));
	const void *value;
	size_t size;
	int i = 0, drop = 0;

	if (!names)
		return -ENOMEM;
	archive_entry_xattr_reset(entry);
	while (i < n && archive_entry_xattr_next(entry, &names[i], &value, &size) == ARCHIVE_OK) {
		bool again = false;

		if (xattr_allowed(names[i]))
			continue;
		for (int j = 0; j < i && !again; j++)
			again = strcmp(names[i], names[j]) == 0;
		drop += !again;
		i++;
	}
	return drop;
}

/* libarchive can only clear an entry's xattrs, not remove one: the allowed ones are copied out and put back. */
static int filter_xattrs(struct archive_entry *entry, uint64_t *dropped)
{
	struct xattr_copy *keep = NULL;
	int n = archive_entry_xattr_count(entry), k = 0, drop, r = 0;
	const char *name;
	const void *value;
	size_t size;

	drop = n ? count_dropped(entry, n) : 0;
	if (drop <= 0)
		return drop;
	keep = calloc(n, sizeof(*keep));
	if (!keep)
		return -ENOMEM;
	archive_entry_xattr_reset(entry);
	while (archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK && k < n) {
		if (!xattr_allowed(name))
			continue;
		keep[k].name = strdup(name);
		keep[k].value = malloc(size ? size : 1);
		keep[k].size = size;
		if (!keep[k].name || !keep[k].value) {
			free(keep[k].name);
			free(keep[k].value);
			r = -ENOMEM;
			goto out;
		}
		memcpy(keep[k].value, value, size);
		k++;
	}
	archive_entry_xattr_clear(entry);
	for (int i = 0; i < k; i++)
		archive_entry_xattr_add_entry(entry, keep[i].name, keep[i].value, keep[i].size);
	*dropped += (uint64_t)drop;
out:
	for (int i = 0; i < k; i++) {
		free(keep[i].name);
		free(keep[i].value);
	}
	free(keep);
	return r;
}

/*
 * The one loop both sources go through. A warning from the reader leaves the entry
 * usable and is let pass; anything short of ARCHIVE_OK from the writer means part
 * of the entry (an owner, an xattr, an ACL) did not make it to disk, and an image
 * missing its file capabilities or owners is not one we hand out.
 *
 * libarchive defers a directory's times until close, when nothing more is written
 * into it, but only for directories it creates. One already there (the rootfs's own
 * top, "./", or a directory listed twice) gets its times at once, and then loses them
 * to the entries that follow; those are set again after close.
 */
static int copy_entries(struct unpack_job *job, struct archive *rd, struct archive *wr, const char *src_dir,
			struct archive_entry_linkresolver *lr)
{
	_cleanup_(entry_freep) struct archive_entry *entry = archive_entry_new();

	if (!entry)
		return job_error(job, -ENOMEM, "'%s': %s", job->source, strerror(ENOMEM));

	for (;;) {
		bool existed;
		int s, r;

		s = archive_read_next_header2(rd, entry);
		if (s == ARCHIVE_EOF)
			return 0;
		/* Not ARCHIVE_RETRY either: an entry the reader gave up on is missing from the image. */
		if (s != ARCHIVE_OK && s != ARCHIVE_WARN)
			return source_error(job, read_errno(rd), rd);

		if (src_dir) {
			struct archive_entry *e = entry, *spare = NULL;

			/* read_disk only walks into a directory it is asked to. */
			if (archive_read_disk_can_descend(rd) && archive_read_disk_descend(rd) < ARCHIVE_WARN)
				return source_error(job, read_errno(rd), rd);
			r = rebase_entry(entry, src_dir);
			if (r < 0)
				return job_error(job, r, "entry '%s': %s", archive_entry_pathname(entry), strerror(-r));
			/* The second and later names of an inode become hardlinks to the first. */
			archive_entry_linkify(lr, &e, &spare);
		}

		if (job->hooks && job->hooks->entry) {
			r = job->hooks->entry(job->hooks->arg, entry, job->errbuf, job->errlen);
			if (r < 0)
				return r;
			if (r > 0)
				continue;
		}
		if (archive_entry_filetype(entry) == AE_IFSOCK)
			continue;
		r = filter_xattrs(entry, &job->stats.xattrs_dropped);
		if (r < 0)
			return job_error(job, r, "entry '%s': %s", archive_entry_pathname(entry), strerror(-r));

		existed = archive_entry_filetype(entry) == AE_IFDIR && archive_entry_mtime_is_set(entry) &&
			  is_existing_dir(archive_entry_pathname(entry));
		s = archive_write_header(wr, entry);
		if (s != ARCHIVE_OK)
			return entry_error(job, write_errno(wr), wr, entry);
		if (archive_entry_size(entry) > 0) {
			r = copy_data(job, rd, wr, entry);
			if (r < 0)
				return r;
		}
		s = archive_write_finish_entry(wr);
		if (s != ARCHIVE_OK)
			return entry_error(job, write_errno(wr), wr, entry);
		if (existed) {
			r = remember_dir_times(job, entry);
			if (r < 0)
				return job_error(job, r, "entry '%s': %s", archive_entry_pathname(entry), strerror(-r));
		}
		job->stats.entries++;
		if (job->hooks && job->hooks->written) {
			r = job->hooks->written(job->hooks->arg, &job->stats);
			if (r < 0)
				return job_error(job, r, "entry '%s': stopped: %s", archive_entry_pathname(entry),
						 strerror(-r));
		}
	}
}

static int disk_writer_new(struct unpack_job *job, struct archive **ret)
{
	_cleanup_(archive_freep) struct archive *wr = archive_write_disk_new();

	if (!wr)
		return source_error(job, -ENOMEM, NULL);
	/* No archive_write_disk_set_standard_lookup(): owners stay the numeric ids. */
	if (archive_write_disk_set_options(wr, EXTRACT_FLAGS) != ARCHIVE_OK)
		return source_error(job, write_errno(wr), wr);
	*ret = DMS_TAKE_PTR(wr);
	return 0;
}

/* Directories get their final mode and times here, after everything inside them. */
static int disk_writer_close(struct unpack_job *job, struct archive *wr)
{
	if (archive_write_close(wr) != ARCHIVE_OK)
		return source_error(job, write_errno(wr), wr);
	return redo_dir_times(job);
}

/*
 * First thing on the job's thread: from here on, cwd, root and umask are this thread's
 * alone. The umask only shows on directories a tarball implies without listing them
 * (every listed entry gets its mode exactly); 022 makes those 0755 whatever the
 * caller's umask is.
 */
static int enter_root(struct unpack_job *job, bool jail)
{
	if (unshare(CLONE_FS) < 0)
		return job_error(job, -errno, "'%s': unshare(CLONE_FS): %s", job->source, strerror(errno));
	(void)umask(022);
	if (fchdir(job->rootfd) < 0)
		return job_error(job, -errno, "entering the rootfs: %s", strerror(errno));
	if (jail && chroot(".") < 0)
		return job_error(job, -errno, "chroot into the rootfs: %s", strerror(errno));
	return 0;
}

/*
 * Whether this libarchive decompresses with ENABLE's filter in this process. Built
 * without the library a filter needs (liblz4, libzstd...), libarchive registers it
 * anyway, returns ARCHIVE_WARN, and runs the external program (lz4 -d, zstd -d) on an
 * input that needs it: here, under the chroot into the rootfs being built, as root, a
 * program an earlier layer of the image may have put there.
 */
static bool filter_in_process(int (*enable)(struct archive *))
{
	struct archive *probe = archive_read_new();
	bool in_process = probe && enable(probe) == ARCHIVE_OK;

	archive_read_free(probe);
	return in_process;
}

/*
 * Formats that can hold a Unix rootfs (owners, devices, hardlinks); not all of
 * libarchive's. mtree is left out on purpose: its entries take their contents from
 * files named in it, so an "image" could copy the importer's own files (or, after
 * creating a device node, a disk) into itself. Compression filters are the in-process
 * ones only: lrzip, lzop and grzip always run an external program, and the others are
 * left out where this libarchive would (a layer in such a format is then refused as
 * unrecognised).
 */
static int archive_reader_new(struct unpack_job *job, struct archive **ret)
{
	_cleanup_(archive_freep) struct archive *rd = archive_read_new();
	int (*const filters[])(struct archive *) = {
		archive_read_support_filter_gzip, archive_read_support_filter_bzip2,
		archive_read_support_filter_xz,	  archive_read_support_filter_lzma,
		archive_read_support_filter_lzip, archive_read_support_filter_zstd,
		archive_read_support_filter_lz4,  archive_read_support_filter_compress,
	};

	if (!rd)
		return source_error(job, -ENOMEM, NULL);
	for (size_t i = 0; i < DMS_ARRAY_SIZE(filters); i++)
		if (filter_in_process(filters[i]) && filters[i](rd) != ARCHIVE_OK)
			return source_error(job, read_errno(rd), rd);
	if (archive_read_support_format_tar(rd) < ARCHIVE_WARN || archive_read_support_format_cpio(rd) < ARCHIVE_WARN)
		return source_error(job, read_errno(rd), rd);
	if (archive_read_open_fd(rd, job->archive_fd, READ_BLOCK) != ARCHIVE_OK)
		return source_error(job, read_errno(rd), rd);
	*ret = DMS_TAKE_PTR(rd);
	return 0;
}

static int extract_archive(struct unpack_job *job)
{
	_cleanup_(archive_freep) struct archive *rd = NULL;
	_cleanup_(archive_freep) struct archive *wr = NULL;
	int r;

	r = enter_root(job, true);
	if (r < 0)
		return r;
	r = archive_reader_new(job, &rd);
	if (r < 0)
		return r;
	r = disk_writer_new(job, &wr);
	if (r < 0)
		return r;
	/* A tarball kept inside the rootfs it is unpacked into must not be overwritten. */
	archive_write_disk_set_skip_file(wr, job->archive_st.st_dev, job->archive_st.st_ino);
	r = copy_entries(job, rd, wr, NULL, NULL);
	if (r < 0)
		return r;
	return disk_writer_close(job, wr);
}

static int extract_reader(struct unpack_job *job)
{
	_cleanup_(archive_freep) struct archive *wr = NULL;
	int r;

	r = enter_root(job, true);
	if (r == 0)
		r = disk_writer_new(job, &wr);
	if (r == 0)
		r = copy_entries(job, job->reader, wr, NULL, NULL);
	if (r == 0)
		r = disk_writer_close(job, wr);
	return r;
}

static int extract_dir(struct unpack_job *job)
{
	_cleanup_(linkresolver_freep) struct archive_entry_linkresolver *lr = NULL;
	_cleanup_(archive_freep) struct archive *rd = NULL;
	_cleanup_(archive_freep) struct archive *wr = NULL;
	int r;

	r = enter_root(job, false);
	if (r < 0)
		return r;

	rd = archive_read_disk_new();
	lr = archive_entry_linkresolver_new();
	if (!rd || !lr)
		return source_error(job, -ENOMEM, NULL);
	/* Hardlinks "like tar": the first name carries the data, later ones link to it. */
	archive_entry_linkresolver_set_strategy(lr, ARCHIVE_FORMAT_TAR);
	/* No standard lookup here either: uname/gname stay unset, ids stay numeric. */
	if (archive_read_disk_set_symlink_physical(rd) != ARCHIVE_OK ||
	    archive_read_disk_set_behavior(rd, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS | ARCHIVE_READDISK_NO_FFLAGS) !=
		    ARCHIVE_OK)
		return source_error(job, read_errno(rd), rd);
	/* After enter_root: read_disk returns to the cwd it was opened in, ROOTFD, after every call. */
	if (archive_read_disk_open(rd, job->src_dir) != ARCHIVE_OK)
		return source_error(job, read_errno(rd), rd);

	r = disk_writer_new(job, &wr);
	if (r < 0)
		return r;
	r = copy_entries(job, rd, wr, job->src_dir, lr);
	if (r < 0)
		return r;
	return disk_writer_close(job, wr);
}

/*
 * The thread steps back out of the rootfs before it ends. The kernel wakes
 * pthread_join (clearing the thread id) before it drops the exiting thread's
 * cwd and root, so without this the caller's umount of the rootfs races that
 * release and fails with EBUSY.
 */
static void *job_thread(void *arg)
{
	struct unpack_job *job = arg;

	job->r = job->run(job);
	if (fchdir(job->home_fd) == 0)
		(void)chroot(".");
	return NULL;
}

static int job_run(struct unpack_job *job, struct dms_unpack_stats *stats)
{
	_cleanup_close_ int home = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	pthread_t thread;
	int r;

	if (home < 0)
		return job_error(job, -errno, "'%s': opening /: %s", job->source, strerror(errno));
	job->home_fd = home;
	r = pthread_create(&thread, NULL, job_thread, job);
	if (r)
		return job_error(job, -r, "'%s': starting the import thread: %s", job->source, strerror(r));
	r = pthread_join(thread, NULL);
	for (size_t i = 0; i < job->n_redo; i++)
		free(job->redo[i].path);
	free(job->redo);
	if (r)
		return job_error(job, -r, "'%s': %s", job->source, strerror(r));
	if (job->r < 0)
		return job->r;
	if (stats)
		*stats = job->stats;
	return 0;
}

int dms_unpack_archive(int rootfd, const char *archive_path, const struct dms_unpack_hooks *hooks,
		       struct dms_unpack_stats *stats, char *errbuf, size_t errlen)
{
	_cleanup_close_ int fd = -1;
	struct unpack_job job = {
		.run = extract_archive,
		.rootfd = rootfd,
		.source = archive_path,
		.hooks = hooks,
		.errbuf = errbuf,
		.errlen = errlen,
	};

	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!archive_path)
		return -EINVAL;
	/* Opened here, on the caller's cwd; the import thread then never looks the path up. */
	fd = open(archive_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &job.archive_st) < 0)
		return job_error(&job, -errno, "'%s': %s", archive_path, strerror(errno));
	if (S_ISDIR(job.archive_st.st_mode))
		return job_error(&job, -EISDIR, "'%s': %s", archive_path, strerror(EISDIR));
	job.archive_fd = fd;
	return job_run(&job, stats);
}

int dms_unpack_reader(int rootfd, struct archive *reader, const char *source, const struct dms_unpack_hooks *hooks,
		      struct dms_unpack_stats *stats, char *errbuf, size_t errlen)
{
	struct unpack_job job = {
		.run = extract_reader,
		.rootfd = rootfd,
		.source = source,
		.archive_fd = -1,
		.reader = reader,
		.hooks = hooks,
		.errbuf = errbuf,
		.errlen = errlen,
	};

	if (errbuf && errlen)
		errbuf[0] = '\0';
	return job_run(&job, stats);
}

/*
 * read_disk will not walk into another filesystem, so ROOTFD is reachable from
 * SRC only through directories on SRC's filesystem: walk up from ROOTFD until
 * one is elsewhere, SRC, or the top.
 */
static int check_outside(int rootfd, const struct stat *src)
{
	_cleanup_close_ int fd = -1;
	int cur = rootfd;

	for (;;) {
		struct stat st, up;
		int parent;

		if (fstat(cur, &st) < 0)
			return -errno;
		if (st.st_dev != src->st_dev)
			return 0;
		if (st.st_ino == src->st_ino)
			return -EINVAL;
		parent = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (parent < 0)
			return -errno;
		if (fstat(parent, &up) < 0) {
			(void)close(parent);
			return -errno;
		}
		if (up.st_dev == st.st_dev && up.st_ino == st.st_ino) {
			(void)close(parent);
			return 0;
		}
		dms_closep(&fd);
		fd = cur = parent;
	}
}

int dms_unpack_dir(int rootfd, const char *src_dir, const struct dms_unpack_hooks *hooks,
		   struct dms_unpack_stats *stats, char *errbuf, size_t errlen)
{
	_cleanup_free_ char *abs = NULL;
	struct unpack_job job = {
		.run = extract_dir,
		.rootfd = rootfd,
		.source = src_dir,
		.hooks = hooks,
		.archive_fd = -1,
		.errbuf = errbuf,
		.errlen = errlen,
	};
	struct stat st;
	int r;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!src_dir)
		return -EINVAL;
	/* Absolute, because the import thread's cwd is ROOTFD; resolved, so SRC_DIR may be a symlink. */
	abs = realpath(src_dir, NULL);
	if (!abs || stat(abs, &st) < 0)
		return job_error(&job, -errno, "'%s': %s", src_dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return job_error(&job, -ENOTDIR, "'%s': %s", src_dir, strerror(ENOTDIR));
	r = check_outside(rootfd, &st);
	if (r < 0)
		return job_error(&job, r, "'%s': %s", src_dir,
				 r == -EINVAL ? "the destination is inside the tree being copied" : strerror(-r));
	job.src_dir = abs;
	return job_run(&job, stats);
}
