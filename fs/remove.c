// SPDX-License-Identifier: LGPL-2.1-or-later
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "dms-util.h"
#include "fs/remove.h"

static void closedirp(DIR **d)
{
	if (*d)
		(void)closedir(*d);
}

static int empty_dir(int fd, dev_t dev)
{
	_cleanup_(closedirp) DIR *d = fdopendir(fd);
	struct dirent *e;
	int r;

	if (!d) {
		r = -errno;
		(void)close(fd);
		return r;
	}
	for (;;) {
		struct stat st;

		errno = 0;
		e = readdir(d);
		if (!e)
			return errno ? -errno : 0;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		if (S_ISDIR(st.st_mode)) {
			int sub;

			if (st.st_dev != dev)
				return -EXDEV;
			sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				return -errno;
			r = empty_dir(sub, dev);
			if (r < 0)
				return r;
			if (unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) < 0)
				return -errno;
		} else if (unlinkat(dirfd(d), e->d_name, 0) < 0) {
			return -errno;
		}
	}
}

int dms_remove_tree_at(int dirfd, const char *name)
{
	struct stat st;
	int fd, r;

	if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = empty_dir(fd, st.st_dev);
	if (r < 0)
		return r;
	return unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -errno : 0;
}
