// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pool/lock.c and pool/lock-holder.c: the note a lock's holder leaves, how a
 * reader checks it against /proc/locks, the pool lock's bounded wait and its
 * notice, and the import locks. Real flocks on files in a temporary run dir;
 * two open files of one process conflict as two processes would.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "dms-util.h"
#include "pool/internal.h"

static char run_dir[] = "/tmp/dms-test-lock-XXXXXX";

static int setup(void **state)
{
	if (!mkdtemp(run_dir))
		return -1;
	return setenv("DMSTORE_RUN_DIR", run_dir, 1);
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", run_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int open_file(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", run_dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	return fd;
}

static void note_parse(void **state)
{
	struct dms_lock_holder h;

	assert_int_equal(dms_lock_holder_parse("123 1700000000 dmstore image import big /srv/big\n", &h), 0);
	assert_int_equal(h.size, sizeof(h));
	assert_int_equal(h.pid, 123);
	assert_int_equal(h.since, 1700000000);
	assert_string_equal(h.cmdline, "dmstore image import big /srv/big");
	assert_false(h.unverified);
	dms_lock_holder_clear(&h);
	/* Left over from a longer note: not part of this one. */
	assert_int_equal(dms_lock_holder_parse("7 5 short\nolder tail\n", &h), 0);
	assert_string_equal(h.cmdline, "short");
	dms_lock_holder_clear(&h);
	assert_int_equal(dms_lock_holder_parse("7 5 \n", &h), 0);
	assert_string_equal(h.cmdline, "");
	dms_lock_holder_clear(&h);

	assert_int_equal(dms_lock_holder_parse("", &h), -EINVAL);
	assert_int_equal(dms_lock_holder_parse("123 1700000000 cut short", &h), -EINVAL);
	assert_int_equal(dms_lock_holder_parse("abc 1 x\n", &h), -EINVAL);
	assert_int_equal(dms_lock_holder_parse("0 1 x\n", &h), -EINVAL);
	assert_int_equal(dms_lock_holder_parse("-5 1 x\n", &h), -EINVAL);
	assert_int_equal(dms_lock_holder_parse("5 -1 x\n", &h), -EINVAL);
	assert_int_equal(dms_lock_holder_parse("99999999999 1 x\n", &h), -EINVAL);
}

static void proc_locks_parse(void **state) {
  unsigned maj = 0, min = 0;
  uint64_t ino = 0;
  int pid = 0;

  assert_int_equal(
      dms_proc_locks_parse("4: FLOCK  ADVISORY  WRITE 303 00:1a:4242 0 EOF\n",
                           &maj, &min, &ino, &pid),
      0);
  assert_int_equal(pid, 303);
  assert_int_equal(maj, 0);
  assert_int_equal(min, 0x1a);
  assert_int_equal(ino, 4242);
  assert_int_equal(
      dms_proc_locks_parse(
          "12: FLOCK  ADVISORY  READ 7 fd:01:18446744073709551615 0 EOF\n",
          &maj, &min, &ino, &pid),
      0);
  assert_int_equal(maj, 0xfd);
  assert_int_equal(ino, UINT64_MAX);
  /* A waiter is no holder; POSIX and OFD locks are not flocks. */
  assert_int_equal(dms_proc_locks_parse(
                       "2: -> FLOCK  ADVISORY  WRITE 302 00:1a:4242 0 EOF\n",
                       &maj, &min, &ino, &pid),
                   -EINVAL);
  assert_int_equal(
      dms_proc_locks_parse("1: POSIX  ADVISORY  WRITE 300 fd:01:4242 0 EOF\n",
                           &maj, &min, &ino, &pid),
      -EINVAL);
  assert_int_equal(
      dms_proc_locks_parse("3: OFDLCK ADVISORY  READ -1 00:1a:4242 0 EOF\n",
                           &maj, &min, &ino, &pid),
      -EINVAL);
  assert_int_equal(dms_proc_locks_parse("", &maj, &min, &ino, &pid), -EINVAL);
}
/* The holder's own note, confirmed by the kernel. */
static void note_verified(void **state)
{
	int fd1 = open_file("a.lock"), fd2 = open_file("a.lock");
	struct dms_lock_holder h;
	char *buf;

	assert_int_equal(flock(fd1, LOCK_EX), 0);
	assert_int_equal(dms_lock_holder_write(fd1, NULL), 0);
	assert_int_equal(dms_lock_holder_read(fd2, &h), 0);
	assert_int_equal(h.pid, getpid());
	assert_false(h.unverified);
	assert_non_null(strstr(h.cmdline, "test-lock"));
	assert_true(h.since >= time(NULL) - 60 && h.since <= time(NULL));
	buf = dms_lock_holder_format(&h);
	assert_non_null(buf);
	assert_null(strstr(buf, "(may be stale)"));
	assert_non_null(strstr(buf, " since "));
	free(buf);
	dms_lock_holder_clear(&h);
	close(fd1);
	close(fd2);
}

/* A holder's arguments however long (0.1.0 cut them at 255 bytes): the note and what is read of it. */
static void note_long_cmdline(void **state)
{
	int fd1 = open_file("long.lock"), fd2 = open_file("long.lock");
	char cmdline[5000], note[5100];
	struct dms_lock_holder h;
	int n;

	memset(cmdline, 'x', sizeof(cmdline) - 1);
	cmdline[sizeof(cmdline) - 1] = '\0';
	n = snprintf(note, sizeof(note), "%d 5 %s\n", (int)getpid(), cmdline);
	assert_int_equal(pwrite(fd1, note, (size_t)n, 0), n);
	assert_int_equal(flock(fd1, LOCK_EX), 0);
	assert_int_equal(dms_lock_holder_read(fd2, &h), 0);
	assert_int_equal(h.pid, getpid());
	assert_string_equal(h.cmdline, cmdline);
	dms_lock_holder_clear(&h);
	assert_int_equal(dms_lock_holder_parse(note, &h), 0);
	assert_string_equal(h.cmdline, cmdline);
	dms_lock_holder_clear(&h);
	close(fd1);
	close(fd2);
}

/* A note from a holder that is gone, while another holds the lock: the kernel's holder is reported. */
static void note_of_another(void **state)
{
	int fd1 = open_file("b.lock"), fd2 = open_file("b.lock");
	static const char ghost[] = "999999 1 ghost command\n";
	struct dms_lock_holder h;

	assert_int_equal(pwrite(fd1, ghost, sizeof(ghost) - 1, 0), (ssize_t)sizeof(ghost) - 1);
	assert_int_equal(flock(fd1, LOCK_EX), 0);
	assert_int_equal(dms_lock_holder_read(fd2, &h), 0);
	assert_int_equal(h.pid, getpid());
	assert_int_equal(h.since, 0);
	assert_false(h.unverified);
	assert_non_null(strstr(h.cmdline, "test-lock"));
	dms_lock_holder_clear(&h);
	close(fd1);

	/* Nobody holds it now: only the note is left, and it is said to be so. */
	assert_int_equal(dms_lock_holder_read(fd2, &h), 0);
	assert_int_equal(h.pid, 999999);
	assert_true(h.unverified);
	dms_lock_holder_clear(&h);
	close(fd2);
}

static void holder_format(void **state)
{
	char cmdline[] = "dmstore image import big /x", empty[] = "";
	struct dms_lock_holder h = { .size = sizeof(h), .pid = 42, .cmdline = cmdline };
	char *buf;

	buf = dms_lock_holder_format(&h);
	assert_string_equal(buf, "pid 42 (dmstore image import big /x)");
	free(buf);
	h.unverified = true;
	buf = dms_lock_holder_format(&h);
	assert_string_equal(buf, "pid 42 (dmstore image import big /x) (may be stale)");
	free(buf);
	h = (struct dms_lock_holder){ .size = sizeof(h), .pid = 42, .since = time(NULL), .cmdline = empty };
	buf = dms_lock_holder_format(&h);
	assert_int_equal(strncmp(buf, "pid 42 since ", 13), 0);
	assert_int_equal(strlen(buf), strlen("pid 42 since 12:03:04"));
	free(buf);
	h = (struct dms_lock_holder){ .size = sizeof(h), .cmdline = empty };
	buf = dms_lock_holder_format(&h);
	assert_string_equal(buf, "another process");
	free(buf);
}

struct notices {
	int n;
	int pid;
	char pool[64];
};

static void count_notice(const char *pool, const struct dms_lock_holder *h, void *userdata)
{
	struct notices *seen = userdata;

	seen->n++;
	seen->pid = h->pid;
	snprintf(seen->pool, sizeof(seen->pool), "%s", pool);
}

/* A bounded wait gives up with the holder named; the notice comes once, after a second. */
static void pool_lock_gives_up(void **state)
{
	struct dms_ctx *holder = NULL, *waiter = NULL;
	struct notices seen = { 0 };
	int held = -1, fd = -1;
	char want[64];
	long t;

	assert_int_equal(dms_ctx_new(&holder), 0);
	assert_int_equal(dms_ctx_new(&waiter), 0);
	assert_int_equal(dms_pool_lock(holder, "p", &held, NULL), 0);
	dms_ctx_set_lock_wait_notify(waiter, count_notice, &seen);

	dms_ctx_set_lock_wait(waiter, 0);
	t = now_ms();
	assert_int_equal(dms_pool_lock(waiter, "p", &fd, NULL), -EBUSY);
	assert_true(now_ms() - t < 500);
	assert_int_equal(seen.n, 0);
	snprintf(want, sizeof(want), "pool 'p' is busy: held by pid %d (", (int)getpid());
	assert_non_null(strstr(dms_ctx_error(waiter), want));
	assert_non_null(strstr(dms_ctx_error(waiter), "; gave up after 0 s"));

	dms_ctx_set_lock_wait(waiter, 1500);
	t = now_ms();
	assert_int_equal(dms_pool_lock(waiter, "p", &fd, NULL), -EBUSY);
	t = now_ms() - t;
	assert_true(t >= 1500 && t < 3000);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.pid, getpid());
	assert_string_equal(seen.pool, "p");
	assert_non_null(strstr(dms_ctx_error(waiter), "; gave up after 1.5 s"));
	assert_int_equal(fd, -1);

	close(held);
	dms_ctx_free(holder);
	dms_ctx_free(waiter);
}

/* A run dir that cannot be made is named in the error (it once read "opening its lock '' failed"). */
static void pool_lock_names_a_missing_run_dir(void **state)
{
	struct dms_ctx *ctx = NULL;
	char missing[sizeof(run_dir) + 16];
	int fd = -1;

	snprintf(missing, sizeof(missing), "%s/no/such", run_dir);
	assert_int_equal(setenv("DMSTORE_RUN_DIR", missing, 1), 0);
	assert_int_equal(dms_ctx_new(&ctx), 0);
	assert_int_equal(setenv("DMSTORE_RUN_DIR", run_dir, 1), 0);
	assert_int_equal(dms_pool_lock(ctx, "p", &fd, NULL), -ENOENT);
	assert_non_null(strstr(dms_ctx_error(ctx), missing));
	dms_ctx_free(ctx);
}

struct release {
	int fd;
	long after_ms;
};

static void *release_later(void *arg)
{
	struct release *rel = arg;
	struct timespec ts = { .tv_sec = rel->after_ms / 1000, .tv_nsec = (rel->after_ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
	close(rel->fd);
	return NULL;
}

/* Without a limit the wait ends when the holder lets go: before the notice is due, and after it. */
static void pool_lock_waits(void **state)
{
	struct dms_ctx *holder = NULL, *waiter = NULL;
	struct notices seen = { 0 };
	/* Held shorter than the notice's second, then well past it: the notice comes in the second case only. */
	const long after[] = { 200, 2500 };
	pthread_t thread;

	assert_int_equal(dms_ctx_new(&holder), 0);
	assert_int_equal(dms_ctx_new(&waiter), 0);
	dms_ctx_set_lock_wait_notify(waiter, count_notice, &seen);
	for (size_t i = 0; i < DMS_ARRAY_SIZE(after); i++) {
		struct release rel = { .after_ms = after[i] };
		int fd = -1, before = seen.n;
		long t;

		assert_int_equal(dms_pool_lock(holder, "p", &rel.fd, NULL), 0);
		assert_int_equal(pthread_create(&thread, NULL, release_later, &rel), 0);
		t = now_ms();
		assert_int_equal(dms_pool_lock(waiter, "p", &fd, NULL), 0);
		t = now_ms() - t;
		assert_int_equal(pthread_join(thread, NULL), 0);
		assert_true(t >= after[i] - 50);
		/* Only upper bounds a loaded machine cannot break: a wait that outlasted the second may notice. */
		if (i == 1 || t < 900)
			assert_int_equal(seen.n - before, (int)i);
		close(fd);
	}
	dms_ctx_free(holder);
	dms_ctx_free(waiter);
}

/*
 * Whether the last holder let go cleanly: a change mends what a dead one left
 * (pool/open.c) only when not. A holder that died, an older dmstore (which
 * never empties its note) and a failed change all say so; a reader's
 * trylock does not hide it; a clean release leaves no note to read.
 */
static void pool_lock_says_a_holder_died(void **state)
{
	struct dms_ctx *ctx = NULL;
	static const char old[] = "4242 1 dmstore 0.2.0 snap create c --image i\n";
	char path[256];
	bool clean = false;
	int fd = -1, fd2 = -1;
	struct stat st;

	assert_int_equal(dms_ctx_new(&ctx), 0);
	snprintf(path, sizeof(path), "%s/q.lock", run_dir);
	assert_int_equal(dms_pool_lock(ctx, "q", &fd, &clean), 0);
	assert_true(clean);
	dms_pool_unlock(fd, true);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0);

	assert_int_equal(dms_pool_lock(ctx, "q", &fd, &clean), 0);
	assert_true(clean);
	/* Killed holding it: the kernel lets the flock go, the note stays. */
	close(fd);
	assert_int_equal(dms_pool_trylock(ctx, "q", &fd2), 0);
	close(fd2);
	assert_int_equal(dms_pool_lock(ctx, "q", &fd, &clean), 0);
	assert_false(clean);
	/* The next holder mended: it lets go cleanly, and so may the one after. */
	dms_pool_unlock(fd, true);
	assert_int_equal(dms_pool_lock(ctx, "q", &fd, &clean), 0);
	assert_true(clean);
	/* A change that failed keeps its note. */
	dms_pool_unlock(fd, false);
	assert_int_equal(dms_pool_lock(ctx, "q", &fd, &clean), 0);
	assert_false(clean);
	dms_pool_unlock(fd, true);

	/* An older dmstore's note. */
	fd = open_file("q.lock");
	assert_int_equal(pwrite(fd, old, sizeof(old) - 1, 0), (ssize_t)sizeof(old) - 1);
	close(fd);
	assert_int_equal(dms_pool_lock(ctx, "q", &fd, &clean), 0);
	assert_false(clean);
	dms_pool_unlock(fd, true);
	dms_ctx_free(ctx);
}

/* An import lock is held while its importer lives; the file a dead one leaves reads as not held. */
static void import_locks(void **state)
{
	struct dms_pool pool = { .lock_fd = -1 };
	struct dms_lock_holder h;
	char image[DMS_NAME_MAX + 1], dir[256];
	int fd = -1, fd2 = -1;
	struct stat st;

	assert_int_equal(dms_ctx_new(&pool.ctx), 0);
	snprintf(pool.cfg.name, sizeof(pool.cfg.name), "p");
	snprintf(dir, sizeof(dir), "%s/p.imports", run_dir);

	assert_int_equal(dms_import_lock_held(pool.ctx, "p", "big", NULL), 0);
	assert_int_equal(dms_import_lock_any_held(pool.ctx, "p", image, sizeof(image), NULL), 0);
	assert_int_equal(dms_import_lock_take(&pool, "big", &fd), 0);
	assert_int_equal(dms_import_lock_held(pool.ctx, "p", "big", &h), 1);
	assert_int_equal(h.pid, getpid());
	assert_false(h.unverified);
	dms_lock_holder_clear(&h);
	assert_int_equal(dms_import_lock_held(pool.ctx, "p", "small", NULL), 0);
	assert_int_equal(dms_import_lock_held(pool.ctx, "q", "big", NULL), 0);
	assert_int_equal(dms_import_lock_any_held(pool.ctx, "p", image, sizeof(image), &h), 1);
	assert_string_equal(image, "big");
	dms_lock_holder_clear(&h);

	/* The importer dies: its lock file stays, unlocked. */
	close(fd);
	assert_int_equal(dms_import_lock_held(pool.ctx, "p", "big", NULL), 0);
	assert_int_equal(dms_import_lock_any_held(pool.ctx, "p", image, sizeof(image), NULL), 0);
	/* The next import of the name takes it over; recovery's release of a dead one's lock needs no fd. */
	assert_int_equal(dms_import_lock_take(&pool, "big", &fd), 0);
	assert_int_equal(dms_import_lock_held(pool.ctx, "p", "big", NULL), 1);
	assert_int_equal(dms_import_lock_take(&pool, "other", &fd2), 0);
	dms_import_lock_release(&pool, "big", fd);
	assert_int_equal(dms_import_lock_held(pool.ctx, "p", "big", NULL), 0);
	assert_int_equal(stat(dir, &st), 0);
	close(fd2);
	dms_import_lock_release(&pool, "other", -1);
	assert_int_equal(stat(dir, &st), -1);
	dms_ctx_free(pool.ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(note_parse),
		cmocka_unit_test(proc_locks_parse),
		cmocka_unit_test(note_verified),
		cmocka_unit_test(note_long_cmdline),
		cmocka_unit_test(note_of_another),
		cmocka_unit_test(holder_format),
		cmocka_unit_test(pool_lock_gives_up),
		cmocka_unit_test(pool_lock_waits),
		cmocka_unit_test(pool_lock_names_a_missing_run_dir),
		cmocka_unit_test(pool_lock_says_a_holder_died),
		cmocka_unit_test(import_locks),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
