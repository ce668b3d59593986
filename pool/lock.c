// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The pool lock serialises mutations of one pool across processes. It is an
 * flock on a file under the run dir (tmpfs): the kernel drops it when the
 * holder dies, so a crashed dmstore never leaves a pool locked.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "dms-util.h"
#include "pool/internal.h"

static int lock_file(const struct dms_ctx *ctx, const char *name, int how, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	char path[PATH_MAX];

	if (mkdir(ctx->run_dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.lock", ctx->run_dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, how) < 0)
		if (errno != EINTR)
			return errno == EWOULDBLOCK ? -EBUSY : -errno;
	*ret_fd = DMS_TAKE_FD(fd);
	return 0;
}

int dms_pool_lock(const struct dms_ctx *ctx, const char *name, int *ret_fd)
{
	return lock_file(ctx, name, LOCK_EX, ret_fd);
}

int dms_pool_trylock(const struct dms_ctx *ctx, const char *name, int *ret_fd)
{
	return lock_file(ctx, name, LOCK_EX | LOCK_NB, ret_fd);
}
