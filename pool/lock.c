// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Locks are flocks on files under the run dir (tmpfs): the kernel drops one
 * when its holder dies, so a crashed dmstore never leaves anything locked.
 *
 * The pool lock, <run>/<pool>.lock, serialises the changes of one pool
 * across processes. Its holder leaves a note of who it is in the file
 * (pool/lock-holder.c), for whoever waits, and empties the file when it lets
 * go cleanly (dms_pool_unlock). So a note the next holder finds is one a
 * holder left that died holding the lock, or that did not look for what a
 * dead one left (dms_pool_lock's RET_CLEAN NULL), or an older dmstore's,
 * which never emptied it: what a dead holder left half-done (a device
 * suspended, a row active without its device) is looked for only then, not
 * by every change (pool/open.c). A kill while the note is written leaves the
 * old one or a torn one: emptied only by a clean release, so the next holder
 * looks whenever a change may have begun.
 *
 * An import lock, <run>/<pool>.imports/<image>.lock, is held by a live
 * import for as long as it runs, most of that time without the pool lock
 * (pool/image.c). It is made and removed only under the pool lock, which is
 * also where recovery asks whether it is held: a file that is there but not
 * locked is what a dead importer left. The directory name ends in ".imports"
 * and pool locks in ".lock", so no pool's files can be another's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "dms-util.h"
#include "pool/internal.h"

/* The first notice of a wait comes after this long: most waits end sooner, and need no word. */
#define NOTIFY_AFTER_MS 1000
#define POLL_MAX_MS 50

static void closedirp(DIR **d)
{
	if (*d)
		(void)closedir(*d);
}

static int pool_lock_path(const struct dms_ctx *ctx, const char *name, char *buf, size_t len)
{
	if (mkdir(ctx->run_dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	if ((size_t)snprintf(buf, len, "%s/%s.lock", ctx->run_dir, name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static int open_lock_file(const char *path, int *ret_fd)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

static int flock_nointr(int fd, int how)
{
	while (flock(fd, how) < 0)
		if (errno != EINTR)
			return errno == EWOULDBLOCK ? -EBUSY : -errno;
	return 0;
}

static long elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000L + (now.tv_nsec - start->tv_nsec) / 1000000L;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int give_up(struct dms_ctx *ctx, const char *name, int fd, long timeout_ms)
{
	struct dms_lock_holder h = { .size = sizeof(h) };
	_cleanup_free_ char *who = NULL;
	char waited[32];

	if (dms_lock_holder_read(fd, &h) == 0)
		who = dms_lock_holder_format(&h);
	dms_lock_holder_clear(&h);
	if (timeout_ms % 1000)
		snprintf(waited, sizeof(waited), "%.1f s", timeout_ms / 1000.0);
	else
		snprintf(waited, sizeof(waited), "%ld s", timeout_ms / 1000);
	return dms_fail(ctx, -EBUSY, "pool '%s' is busy: held by %s; gave up after %s", name,
			who ? who : "another process", waited);
}

/*
 * flock has no timeout, and a library must not bend signals (process-wide) to
 * make one. So the wait polls, backing off to POLL_MAX_MS, while it has a
 * limit or a notice still to give; a wait without a limit blocks in the kernel
 * once the notice is out.
 */
static int wait_for_lock(struct dms_ctx *ctx, const char *name, int fd, long timeout_ms)
{
	bool notified = !ctx->lock_wait_notify;
	struct timespec start;
	long pause = 1;
	int r;

	(void)clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		long waited;

		r = flock_nointr(fd, LOCK_EX | LOCK_NB);
		if (r != -EBUSY)
			return r;
		waited = elapsed_ms(&start);
		if (timeout_ms != DMS_LOCK_WAIT_FOREVER && waited >= timeout_ms)
			return give_up(ctx, name, fd, timeout_ms);
		if (!notified && waited >= NOTIFY_AFTER_MS) {
			struct dms_lock_holder h = { .size = sizeof(h) };

			/* Out of memory, the notice is skipped: it is a courtesy, the wait goes on. */
			if (dms_lock_holder_read(fd, &h) == 0)
				ctx->lock_wait_notify(name, &h, ctx->lock_wait_userdata);
			dms_lock_holder_clear(&h);
			notified = true;
		}
		if (notified && timeout_ms == DMS_LOCK_WAIT_FOREVER)
			return flock_nointr(fd, LOCK_EX);
		sleep_ms(pause);
		pause = pause * 2 > POLL_MAX_MS ? POLL_MAX_MS : pause * 2;
	}
}

int dms_pool_lock_wait(struct dms_ctx *ctx, const char *name, long timeout_ms, int *ret_fd, bool *ret_clean)
{
	_cleanup_close_ int fd = -1;
	char path[PATH_MAX];
	bool left;
	int r;

	r = pool_lock_path(ctx, name, path, sizeof(path));
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': making the run dir '%s' for its lock failed: %s", name, ctx->run_dir,
				strerror(-r));
	r = open_lock_file(path, &fd);
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': opening its lock '%s' failed: %s", name, path, strerror(-r));
	r = wait_for_lock(ctx, name, fd, timeout_ms);
	if (r == -EBUSY)
		return r;
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': taking the pool lock failed: %s", name, strerror(-r));
	r = dms_lock_holder_write(fd, &left);
	if (r < 0)
		return dms_fail(ctx, r, "pool '%s': writing who holds its lock into '%s' failed: %s", name, path,
				strerror(-r));
	if (ret_clean)
		*ret_clean = !left;
	*ret_fd = DMS_TAKE_FD(fd);
	return 0;
}

int dms_pool_lock(struct dms_ctx *ctx, const char *name, int *ret_fd, bool *ret_clean)
{
	return dms_pool_lock_wait(ctx, name, ctx->lock_wait_ms, ret_fd, ret_clean);
}

/*
 * A reader's moment under the lock leaves no note: the file keeps what the
 * last holder left, a dead one's note too, for the next change to see.
 */
int dms_pool_trylock(const struct dms_ctx *ctx, const char *name, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	char path[PATH_MAX];
	int r;

	r = pool_lock_path(ctx, name, path, sizeof(path));
	if (r == 0)
		r = open_lock_file(path, &fd);
	if (r == 0)
		r = flock_nointr(fd, LOCK_EX | LOCK_NB);
	if (r < 0)
		return r;
	*ret_fd = DMS_TAKE_FD(fd);
	return 0;
}

void dms_pool_unlock(int fd, bool clean)
{
	if (fd < 0)
		return;
	/* Emptied before the flock goes: a kill in between leaves a clean release, not a note. */
	if (clean)
		(void)ftruncate(fd, 0);
	(void)close(fd);
}

/* SUFFIX "": the directory; ".lock": the lock; ".new": a lock being made. */
static int import_lock_path(const struct dms_ctx *ctx, const char *pool, const char *image, const char *suffix,
			    char *buf, size_t len)
{
	int n;

	if (*suffix)
		n = snprintf(buf, len, "%s/%s.imports/%s%s", ctx->run_dir, pool, image, suffix);
	else
		n = snprintf(buf, len, "%s/%s.imports", ctx->run_dir, pool);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/*
 * Made whole under another name and renamed into place, locked from the
 * start: a reader testing a stale lock of the same name at that moment holds
 * the old file, not ours, so our lock never has to wait for it.
 */
int dms_import_lock_take(struct dms_pool *pool, const char *image, int *ret_fd)
{
	const struct dms_ctx *ctx = pool->ctx;
	_cleanup_close_ int fd = -1;
	char dir[PATH_MAX], tmp[PATH_MAX], path[PATH_MAX];
	int r;

	if (mkdir(ctx->run_dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	if ((r = import_lock_path(ctx, pool->cfg.name, image, "", dir, sizeof(dir))) < 0 ||
	    (r = import_lock_path(ctx, pool->cfg.name, image, ".new", tmp, sizeof(tmp))) < 0 ||
	    (r = import_lock_path(ctx, pool->cfg.name, image, ".lock", path, sizeof(path))) < 0)
		return r;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	r = flock_nointr(fd, LOCK_EX | LOCK_NB);
	if (r < 0)
		return r;
	/* Who imports is a courtesy to those it stands in the way of: not worth failing for. */
	(void)dms_lock_holder_write(fd, NULL);
	if (rename(tmp, path) < 0)
		return -errno;
	*ret_fd = DMS_TAKE_FD(fd);
	return 0;
}

void dms_import_lock_release(struct dms_pool *pool, const char *image, int fd)
{
	char dir[PATH_MAX], path[PATH_MAX];

	if (import_lock_path(pool->ctx, pool->cfg.name, image, ".lock", path, sizeof(path)) == 0)
		(void)unlink(path);
	/* Another import's lock keeps the directory; the next import makes it again. */
	if (import_lock_path(pool->ctx, pool->cfg.name, image, "", dir, sizeof(dir)) == 0)
		(void)rmdir(dir);
	if (fd >= 0)
		(void)close(fd);
}

/* A shared lock to test with: testers never stand in each other's way, only in a holder's. */
static int lock_file_held(const char *path, struct dms_lock_holder *ret_holder)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int r;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	r = flock_nointr(fd, LOCK_SH | LOCK_NB);
	if (r == 0)
		return 0;
	if (r != -EBUSY)
		return r;
	if (ret_holder) {
		r = dms_lock_holder_read(fd, ret_holder);
		if (r < 0)
			return r;
	}
	return 1;
}

int dms_import_lock_held(const struct dms_ctx *ctx, const char *pool, const char *image,
			 struct dms_lock_holder *ret_holder)
{
	char path[PATH_MAX];
	int r = import_lock_path(ctx, pool, image, ".lock", path, sizeof(path));

	return r < 0 ? r : lock_file_held(path, ret_holder);
}

int dms_import_lock_any_held(const struct dms_ctx *ctx, const char *pool, char *ret_image, size_t len,
			     struct dms_lock_holder *ret_holder)
{
	_cleanup_(closedirp) DIR *d = NULL;
	char dir[PATH_MAX];
	struct dirent *de;
	int r;

	r = import_lock_path(ctx, pool, "", "", dir, sizeof(dir));
	if (r < 0)
		return r;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		char path[PATH_MAX];
		size_t n = strlen(de->d_name);

		if (n <= 5 || strcmp(de->d_name + n - 5, ".lock") != 0)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path))
			continue;
		r = lock_file_held(path, ret_holder);
		if (r < 0)
			return r;
		if (r > 0) {
			snprintf(ret_image, len, "%.*s", (int)(n - 5), de->d_name);
			return 1;
		}
	}
	return 0;
}
