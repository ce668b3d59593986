// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/openat2.h>

#include "dms-util.h"
#include "fs/resolve.h"

/*
 * With RESOLVE_IN_ROOT the kernel answers -EAGAIN when a rename or a mount raced with
 * a ".." step and it cannot prove the walk stayed inside the root. The race is
 * transient (and harmless: nothing was opened), so the lookup is simply repeated.
 */
#define OPENAT2_TRIES 32

static int openat2_in_root(int rootfd, const char *path, int flags, mode_t mode)
{
	bool creates = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
	/* openat2 rejects a mode without O_CREAT/O_TMPFILE, where openat ignores it. */
	struct open_how how = {
		.flags = (uint64_t)(unsigned int)(flags | O_CLOEXEC),
		.mode = creates ? mode : 0,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};

	for (int i = 0; i < OPENAT2_TRIES; i++) {
		long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));

		if (fd >= 0)
			return (int)fd;
		if (errno != EAGAIN)
			return -errno;
	}
	return -EAGAIN;
}

int dms_path_open_in_root(int rootfd, const char *path, int flags, mode_t mode, int *ret_fd)
{
	int fd;

	if (!path)
		return -EINVAL;
	fd = openat2_in_root(rootfd, path, flags, mode);
	if (fd < 0)
		return fd;
	*ret_fd = fd;
	return 0;
}

/*
 * The prefix walked so far is always resolved again from ROOTFD, not from the previous
 * directory's fd: a component may be a symlink or "..", and what it means depends on
 * the whole path before it, with "/" being ROOTFD. Paths are short; the quadratic
 * number of lookups does not matter. Only the creation itself is relative to the
 * parent's fd, and with a single component it cannot leave that parent.
 */
int dms_path_mkdir_in_root(int rootfd, const char *path, mode_t mode, int *ret_fd)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int parent = -1;
	char *p;

	if (!path)
		return -EINVAL;
	if (!*path)
		return -ENOENT; /* as the kernel answers for "" */
	buf = strdup(path);
	if (!buf)
		return -ENOMEM;

	parent = openat2_in_root(rootfd, "/", O_PATH | O_DIRECTORY, 0);
	if (parent < 0)
		return parent;

	p = buf;
	for (;;) {
		const char *name;
		char saved;
		int fd;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		name = p;
		while (*p && *p != '/')
			p++;
		saved = *p;
		*p = '\0'; /* buf is now the prefix up to and including name */

		fd = openat2_in_root(rootfd, buf, O_PATH | O_DIRECTORY, 0);
		if (fd == -ENOENT) {
			/* EEXIST: made meanwhile by someone else, or a dangling symlink (reopen says). */
			if (mkdirat(parent, name, mode) < 0 && errno != EEXIST)
				return -errno;
			fd = openat2_in_root(rootfd, buf, O_PATH | O_DIRECTORY, 0);
		}
		*p = saved;
		if (fd < 0)
			return fd;
		(void)close(parent);
		parent = fd;
	}

	*ret_fd = DMS_TAKE_FD(parent);
	return 0;
}
