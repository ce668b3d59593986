/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fs/mount-at.c's detached mount, as an import uses it (pool/image.c): an
 * image unpacked through it (fs/unpack.c's thread chroots into it), and the
 * device free again the moment the mount's last holder is gone: closed, or
 * killed in the middle of the unpack. "Free" is checked the way the kernel
 * sees it: a block device a filesystem is mounted from cannot be opened
 * O_EXCL. Needs root, ext4 and a loop device; skipped without them.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "dms-util.h"
#include "fs/ext4.h"
#include "fs/loop.h"
#include "fs/mount-at.h"
#include "fs/unpack.h"

static char tmpdir[] = "/var/tmp/dms-test-mount-detached-XXXXXX";
static char src[128], tarball[128], loopdev[64];
static int loopfd = -1;
static bool usable;

static bool have_ext4(void)
{
	char line[128];
	_cleanup_fclose_ FILE *f = fopen("/proc/filesystems", "re");

	while (f && fgets(line, sizeof(line), f))
		if (strcmp(line, "\text4\n") == 0)
			return true;
	return false;
}

/* 200 small files in 10 directories and a setuid file, as a tree and as a tarball. */
static int make_source(void)
{
	char path[256], cmd[512];

	snprintf(src, sizeof(src), "%s/src", tmpdir);
	snprintf(tarball, sizeof(tarball), "%s/src.tar", tmpdir);
	if (mkdir(src, 0755) < 0)
		return -1;
	for (int i = 0; i < 200; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/d%d", src, i % 10);
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -1;
		snprintf(path, sizeof(path), "%s/d%d/f%d", src, i % 10, i);
		f = fopen(path, "we");
		if (!f || fprintf(f, "file %d\n", i) < 0 || fclose(f) != 0)
			return -1;
	}
	snprintf(path, sizeof(path), "%s/suid", src);
	if (close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 04755)) < 0 || chmod(path, 04755) < 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "tar -C %s -cf %s .", src, tarball);
	return system(cmd) == 0 ? 0 : -1;
}

static int setup(void **state)
{
	char img[256];

	if (!mkdtemp(tmpdir) || make_source() < 0)
		return -1;
	snprintf(img, sizeof(img), "%s/fs.img", tmpdir);
	if (geteuid() != 0 || !have_ext4() || access("/dev/loop-control", W_OK) != 0)
		return 0;
	if (dms_loop_file_create(img, 64 * DMS_MIB) < 0 || dms_loop_attach(img, loopdev, sizeof(loopdev), &loopfd) < 0)
		return 0;
	usable = true;
	return 0;
}

static int teardown(void **state)
{
	char cmd[256];

	if (loopfd >= 0)
		(void)close(loopfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Fresh ext4 on the loop device, and nothing holds the device. */
static void format(void)
{
	struct dms_ext4_format_opts opts = { 0 };

	assert_int_equal(dms_ext4_format(loopdev, &opts), 0);
}

static bool device_free(void)
{
	int fd = open(loopdev, O_RDONLY | O_EXCL | O_CLOEXEC);

	if (fd < 0)
		return false;
	(void)close(fd);
	return true;
}

static bool in_mountinfo(void)
{
	struct stat st;
	char line[4096], want[32];
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");

	assert_non_null(f);
	assert_int_equal(stat(loopdev, &st), 0);
	snprintf(want, sizeof(want), " %u:%u ", major(st.st_rdev), minor(st.st_rdev));
	while (fgets(line, sizeof(line), f))
		if (strstr(line, want))
			return true;
	return false;
}

static void check_contents(int mnt)
{
	struct stat st;
	char buf[32] = "";
	_cleanup_close_ int fd = openat(mnt, "d7/f187", O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_true(read(fd, buf, sizeof(buf) - 1) > 0);
	assert_string_equal(buf, "file 187\n");
	assert_int_equal(fstatat(mnt, "suid", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 04755);
}

/* Both kinds of source land through the fd alone; nosuid, nodev, noatime; closed, the device is free. */
static void test_unpack_and_close(void **state)
{
	for (int dir = 0; dir < 2; dir++) {
		struct dms_unpack_stats stats = { 0 };
		struct statvfs sv;
		char err[512];
		int mnt = -1, fd;

		if (!usable)
			skip();
		format();
		assert_int_equal(dms_mount_ext4_detached(loopdev, &mnt), 0);
		assert_false(device_free());
		assert_false(in_mountinfo());
		if (dir)
			assert_int_equal(dms_unpack_dir(mnt, src, NULL, &stats, err, sizeof(err)), 0);
		else
			assert_int_equal(dms_unpack_archive(mnt, tarball, NULL, &stats, err, sizeof(err)), 0);
		assert_int_equal(stats.entries, 212);
		check_contents(mnt);
		fd = openat(mnt, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		assert_true(fd >= 0);
		assert_int_equal(fstatvfs(fd, &sv), 0);
		assert_int_equal(sv.f_flag & (ST_NOSUID | ST_NODEV | ST_NOATIME), ST_NOSUID | ST_NODEV | ST_NOATIME);
		(void)close(fd);
		(void)close(mnt);
		/* No wait, no retry: the unmount is done when close() returns. */
		assert_true(device_free());
	}
}

struct hold {
	int ready; /* written once the unpack is under way */
	int never; /* read end of a pipe nobody writes */
};

static int stop_here(void *arg, const struct dms_unpack_stats *so_far)
{
	const struct hold *h = arg;
	char c = 0;

	if (so_far->entries == 50) {
		(void)!write(h->ready, &c, 1);
		(void)!read(h->never, &c, 1);
	}
	return 0;
}

/* Killed in the middle of the unpack (the import thread inside the mount, chrooted): nothing is left. */
static void test_killed_mid_unpack(void **state)
{
	for (int dir = 0; dir < 2; dir++) {
		int ready[2], never[2], status;
		char c;
		pid_t pid;

		if (!usable)
			skip();
		format();
		assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
		assert_int_equal(pipe2(never, O_CLOEXEC), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct hold h = { ready[1], never[0] };
			const struct dms_unpack_hooks progress = { .written = stop_here, .arg = &h };
			char err[512];
			int mnt;

			if (dms_mount_ext4_detached(loopdev, &mnt) < 0)
				_exit(1);
			if (dir)
				(void)dms_unpack_dir(mnt, src, &progress, NULL, err, sizeof(err));
			else
				(void)dms_unpack_archive(mnt, tarball, &progress, NULL, err, sizeof(err));
			_exit(2);
		}
		(void)close(ready[1]);
		(void)close(never[0]);
		assert_int_equal(read(ready[0], &c, 1), 1);
		assert_false(device_free());
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		assert_true(device_free());
		assert_false(in_mountinfo());
		(void)close(ready[0]);
		(void)close(never[1]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unpack_and_close),
		cmocka_unit_test(test_killed_mid_unpack),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
