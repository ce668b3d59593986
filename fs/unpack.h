/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMS_FS_UNPACK_H
#define DMS_FS_UNPACK_H

/*
 * Image rootfs import with libarchive: a tarball, or a directory tree, written into
 * the directory ROOTFD refers to (normally the root of a freshly made ext4 on an
 * image's base device).
 *
 * Kept: numeric uid/gid (names in the archive are ignored, never looked up), the full
 * mode with setuid/setgid/sticky, mtime/atime, user.* xattrs, file capabilities
 * (security.capability, set after chown so the kernel does not drop it), POSIX ACLs,
 * symlinks, hardlinks, device nodes, fifos, holes (zero runs are written as holes,
 * which a thin pool does not allocate). Not kept: every other xattr (trusted.*,
 * security.selinux, security.ima, ...: counted in STATS), file flags (chattr),
 * sockets (skipped: nothing can be restored of one).
 *
 * Nothing lands outside ROOTFD. An entry that would (an absolute path, a ".."
 * component, a path through a symlink, a hardlink to anything absolute or up the
 * tree) stops the import with -EPERM and ERRBUF naming the entry. Any failure leaves
 * ROOTFD partly filled: the caller throws the device away, it does not resume.
 *
 * Both block until done, the work itself running on a thread of its own: the
 * caller's cwd, root and umask are never touched, so its other threads carry on.
 * ROOTFD may be an O_PATH fd, and the root of a mount attached nowhere
 * (fs/mount-at.h): the thread holds nothing in it once they return.
 * Needs root (CAP_CHOWN, CAP_MKNOD, CAP_SYS_CHROOT, CAP_SETFCAP for file capabilities).
 *
 * Both return 0 or a negative errno: -EPERM for a refused entry, the syscall's errno
 * when writing fails (-ENOSPC, ...; an owner, xattr or ACL that cannot be set fails
 * the import too). STATS (may be NULL) is written only on success; ERRBUF (may be
 * NULL) gets one line on failure: "entry 'usr/bin/x': <cause>" or "'<source>': <cause>".
 */

#include <stddef.h>
#include <stdint.h>

struct dms_unpack_stats {
	uint64_t entries; /* filesystem objects written, hardlinks included */
	uint64_t bytes;	  /* file data copied; holes a sparse source marks as such are not data */
	uint64_t xattrs_dropped; /* xattrs not on the allow-list, not restored */
};

/*
 * What a caller sees of an unpack while it runs. HOOKS may be NULL, and so may
 * either function; both run on the import thread, with its root (for an
 * archive) and cwd at ROOTFD, so they must not look paths up.
 *   entry    sees each entry first, and answers 0 to write it, 1 to skip it,
 *            or a negative errno (with a line in ERRBUF) to stop;
 *   written  is called after each entry is written, with the counts so far
 *            (entries is N after the Nth); a negative errno stops the unpack
 *            with that error.
 */
struct archive;
struct archive_entry;
struct dms_unpack_hooks {
	int (*entry)(void *arg, struct archive_entry *entry, char *errbuf, size_t errlen);
	int (*written)(void *arg, const struct dms_unpack_stats *so_far);
	void *arg;
};

/*
 * ARCHIVE_PATH: tar (ustar, pax, GNU, with sparse files) or cpio, plain or compressed
 * with gzip, bzip2, xz, lzma, lzip, zstd, lz4 or compress(1). Malformed input: -EINVAL.
 */
int dms_unpack_archive(int rootfd, const char *archive_path, const struct dms_unpack_hooks *hooks,
		       struct dms_unpack_stats *stats, char *errbuf, size_t errlen);

/*
 * Copy the tree under SRC_DIR into ROOTFD, like `cp -a --one-file-system SRC_DIR/.`:
 * SRC_DIR itself may be a symlink, nothing below it is followed, and directories
 * that are mount points are copied empty (so a destination mounted under SRC_DIR,
 * or /proc in a live tree, is not descended into). SRC_DIR's own attributes go to
 * ROOTFD's directory. ROOTFD inside the tree being copied: -EINVAL.
 */
int dms_unpack_dir(int rootfd, const char *src_dir, const struct dms_unpack_hooks *hooks,
		   struct dms_unpack_stats *stats, char *errbuf, size_t errlen);

/*
 * The entries of READER, an archive the caller made and opened (an image
 * layer: fs/layer.c), written the same way and behind the same chroot as a
 * tarball's. SOURCE names it in messages. READER is read from the import
 * thread; the caller frees it.
 */
int dms_unpack_reader(int rootfd, struct archive *reader, const char *source, const struct dms_unpack_hooks *hooks,
		      struct dms_unpack_stats *stats, char *errbuf, size_t errlen);

#endif
