// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Holders: a daemon mounting a volume on the host for each of its callers
 * (the Docker volume plugin: one per container mount ID). Each holder is one
 * mount of the volume's filesystem at <state dir>/<pool>/holders/<volume>/
 * <holder>; the kernel shares one superblock among them, so every holder sees
 * every other's writes, and the filesystem is gone from the host with the
 * last holder's mount.
 *
 * Where the truth lives: the kernel's mount table, read as "is the volume's
 * filesystem what this directory shows" (st_dev), and nothing else. There is
 * no record to keep in step with the mounts, so no crash can leave the two
 * apart: a holder dies with its mount (a crash after the mkdir leaves an
 * empty directory, which is no holder and is reused), and a daemon that was
 * killed finds its holders by looking. Hold and unhold run under the pool
 * lock, so a removal never races a new holder.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "dms-util.h"
#include "fs/mount-at.h"
#include "fs/mount.h"
#include "pool/internal.h"

int dms_vol_holders_dir(const struct dms_pool *pool, const char *name, const char *holder, char *buf, size_t len)
{
	int n;

	if (holder)
		n = snprintf(buf, len, "%s/%s/holders/%s/%s", pool->ctx->state_dir, pool->cfg.name, name, holder);
	else
		n = snprintf(buf, len, "%s/%s/holders/%s", pool->ctx->state_dir, pool->cfg.name, name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int check_holder(struct dms_pool *pool, const char *name, const char *holder)
{
	if (!dms_holder_valid(holder))
		return dms_fail_invalid(
			pool->ctx, -EINVAL,
			"volume '%s': invalid holder '%s': use 1-%d of [A-Za-z0-9_.-], starting with a letter or digit",
			name ? name : "", holder ? holder : "", DMS_HOLDER_MAX);
	return 0;
}

static void closedirp(DIR **d)
{
	if (*d)
		(void)closedir(*d);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int dms_vol_held(struct dms_pool *pool, const struct dms_row *row, char ***ret_holders, size_t *ret_n)
{
	_cleanup_(closedirp) DIR *d = NULL;
	char dir[PATH_MAX], **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	struct stat st;
	dev_t dev;
	int r;

	*ret_holders = NULL;
	*ret_n = 0;
	/* An inactive volume is mounted nowhere. */
	r = dms_vol_devnum(pool, row, &dev);
	if (r == -ENXIO)
		return 0;
	if (r == 0)
		r = dms_vol_holders_dir(pool, row->name, NULL, dir, sizeof(dir));
	if (r < 0)
		return r;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((errno = 0, e = readdir(d))) {
		if (!dms_holder_valid(e->d_name) || fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode) || st.st_dev != dev)
			continue;
		if (n == cap) {
			char **grown = realloc(v, (cap = cap ? 2 * cap : 4) * sizeof(*v));

			if (!grown)
				goto nomem;
			v = grown;
		}
		if (!(v[n] = strdup(e->d_name)))
			goto nomem;
		n++;
	}
	if (errno) {
		r = -errno;
		dms_strv_free(v, n);
		return r;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_str);
	*ret_holders = v;
	*ret_n = n;
	return 0;
nomem:
	dms_strv_free(v, n);
	return -ENOMEM;
}

int dms_vol_holders(struct dms_pool *pool, const char *name, char ***ret_holders, size_t *ret_n)
{
	struct dms_row row;
	int r;

	r = dms_vol_find(pool, name, &row);
	if (r < 0)
		return r;
	r = dms_vol_held(pool, &row, ret_holders, ret_n);
	return r < 0 ? dms_fail(pool->ctx, r, "volume '%s': finding its holders failed: %s", name, strerror(-r)) : 0;
}

int dms_vol_holder_dir(struct dms_pool *pool, const char *name, const char *holder, char **ret_dir)
{
	char dir[PATH_MAX];
	int r;

	if (!dms_name_valid(name))
		return dms_fail_invalid(
			pool->ctx, -EINVAL,
			"volume '%s': invalid name: use 1-%d of [A-Za-z0-9_.-], starting with a letter or digit",
			name ? name : "", DMS_NAME_MAX);
	r = check_holder(pool, name, holder);
	if (r == 0)
		r = dms_vol_holders_dir(pool, name, holder, dir, sizeof(dir));
	if (r == -ENAMETOOLONG)
		return dms_fail(pool->ctx, r, "volume '%s': holder '%s': the path is too long", name, holder);
	if (r == 0 && dms_str_set(ret_dir, dir) < 0)
		return dms_fail(pool->ctx, -ENOMEM, "volume '%s': holder '%s': out of memory", name, holder);
	return r;
}

/* Mount the volume at HOLDER's directory, unless it is there already. */
static int hold_locked(struct dms_pool *pool, struct dms_row *row, const char *holder, char *dir, size_t len)
{
	_cleanup_close_ int fd = -1;
	char dev[PATH_MAX];
	struct stat st;
	dev_t devnum;
	int r;

	r = dms_vol_device_up(pool, row);
	if (r < 0)
		return r;
	r = dms_vol_devnum(pool, row, &devnum);
	if (r == 0)
		r = dms_thin_dev_path(pool, row, dev, sizeof(dev));
	if (r == 0)
		r = dms_vol_holders_dir(pool, row->name, holder, dir, len);
	if (r == 0)
		r = dms_mkdir_p(dir);
	if (r < 0)
		return dms_fail(pool->ctx, r, "volume '%s': holder '%s': %s", row->name, holder, strerror(-r));
	fd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return dms_fail(pool->ctx, -errno, "volume '%s': holder '%s': '%s': %s", row->name, holder, dir,
				strerror(errno));
	/* Held already: a caller asking again after losing the answer (a daemon killed in between). */
	if (st.st_dev == devnum)
		return 0;
	r = dms_mount_ext4_at(dev, fd, 0, pool->ctx->mount_options);
	if (r < 0)
		return dms_fail(pool->ctx, r, "volume '%s': mounting it for holder '%s' at '%s' failed: %s", row->name,
				holder, dir, strerror(-r));
	return 0;
}

int dms_vol_hold(struct dms_pool *pool, const char *name, const char *holder, char **ret_dir)
{
	char dir[PATH_MAX];
	struct dms_row row;
	uint64_t txn;
	int r;

	r = check_holder(pool, name, holder);
	if (r < 0)
		return r;
	r = dms_change_begin(pool, &txn);
	if (r < 0)
		return r;
	r = dms_vol_find(pool, name, &row);
	if (r == 0)
		r = hold_locked(pool, &row, holder, dir, sizeof(dir));
	dms_change_end(pool, r);
	if (r < 0)
		return r;
	/* Held already, should this fail: asking again is not an error. */
	if (ret_dir && dms_str_set(ret_dir, dir) < 0)
		return dms_fail(pool->ctx, -ENOMEM, "volume '%s': holder '%s': out of memory", name, holder);
	return 0;
}

/* Unmount HOLDER's mount if it is the volume's, then its directory goes; a directory with anything else on it stays. */
static int unhold_locked(struct dms_pool *pool, const struct dms_row *row, const char *holder)
{
	_cleanup_close_ int fd = -1;
	char dir[PATH_MAX];
	struct stat st;
	dev_t devnum;
	int r;

	r = dms_vol_holders_dir(pool, row->name, holder, dir, sizeof(dir));
	if (r < 0)
		return dms_fail(pool->ctx, r, "volume '%s': holder '%s': %s", row->name, holder, strerror(-r));
	fd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 || fstat(fd, &st) < 0)
		return dms_fail(pool->ctx, -errno, "volume '%s': holder '%s': '%s': %s", row->name, holder, dir,
				strerror(errno));
	if (dms_vol_devnum(pool, row, &devnum) == 0 && st.st_dev == devnum) {
		r = dms_umount_fd(DMS_TAKE_FD(fd));
		if (r < 0)
			return dms_fail(pool->ctx, r, "volume '%s': unmounting it for holder '%s' at '%s' failed: %s",
					row->name, holder, dir, strerror(-r));
	}
	if (rmdir(dir) < 0 && errno != ENOENT)
		return dms_fail(pool->ctx, -errno, "volume '%s': holder '%s': removing '%s' failed: %s", row->name,
				holder, dir, strerror(errno));
	/* The volume's directory goes with its last holder; another holder keeps it (ENOTEMPTY). */
	if (dms_vol_holders_dir(pool, row->name, NULL, dir, sizeof(dir)) == 0)
		(void)rmdir(dir);
	return 0;
}

int dms_vol_unhold(struct dms_pool *pool, const char *name, const char *holder)
{
	struct dms_row row;
	uint64_t txn;
	int r;

	r = check_holder(pool, name, holder);
	if (r < 0)
		return r;
	r = dms_change_begin(pool, &txn);
	if (r < 0)
		return r;
	r = dms_vol_find(pool, name, &row);
	if (r == 0)
		r = unhold_locked(pool, &row, holder);
	dms_change_end(pool, r);
	return r;
}

/* The directories of holders whose mounts a reboot or a crash took go with the volume. */
void dms_vol_holders_forget(struct dms_pool *pool, const char *name)
{
	_cleanup_(closedirp) DIR *d = NULL;
	char dir[PATH_MAX];
	struct dirent *e;

	if (dms_vol_holders_dir(pool, name, NULL, dir, sizeof(dir)) < 0 || !(d = opendir(dir)))
		return;
	while ((e = readdir(d)))
		if (dms_holder_valid(e->d_name))
			(void)unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
	(void)rmdir(dir);
}
