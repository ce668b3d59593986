/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fs/mount-at.c: mounting onto a directory held by an fd, unmounting by the
 * mount's root fd. Runs on the host in a private mount namespace (nothing
 * leaks into the host's mount table); needs root, ext4 and a loop device, and
 * is skipped without them.
 *
 *   <tmp>/root/            the "container rootfs", ROOTFD
 *     data -> /
 *     data2 -> ../../..
 *     plain/               a plain directory
 *   <tmp>/vol.img          ext4, on a loop device
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "dms-util.h"
#include "fs/ext4.h"
#include "fs/loop.h"
#include "fs/mount-at.h"
#include "fs/mount.h"
#include "fs/resolve.h"

static char tmpdir[] = "/var/tmp/dms-test-mount-at-XXXXXX";
static char root[128];
static char loopdev[64];
static int loopfd = -1;
static int rootfd = -1;
static bool usable;

static const char *in_root(const char *rel)
{
	static char bufs[4][512];
	static unsigned next;
	char *b = bufs[next++ % DMS_ARRAY_SIZE(bufs)];

	snprintf(b, sizeof(bufs[0]), "%s/%s", root, rel);
	return b;
}

static bool have_ext4(void)
{
	char line[128];
	_cleanup_fclose_ FILE *f = fopen("/proc/filesystems", "re");

	while (f && fgets(line, sizeof(line), f))
		if (strcmp(line, "\text4\n") == 0)
			return true;
	return false;
}

static int setup(void **state)
{
	char img[256];
	struct dms_ext4_format_opts opts = { .assume_zeroed = true };

	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(root, sizeof(root), "%s/root", tmpdir);
	snprintf(img, sizeof(img), "%s/vol.img", tmpdir);
	if (mkdir(root, 0755) < 0 || mkdir(in_root("plain"), 0755) < 0 || symlink("/", in_root("data")) < 0 ||
	    symlink("../../..", in_root("data2")) < 0)
		return -1;
	/* The namespace first: an fd opened before it points into the old one, where move_mount refuses. */
	bool can_mount = geteuid() == 0 && have_ext4() && access("/dev/loop-control", W_OK) == 0 &&
			 unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -1;
	/* Everything below is optional: without it the mount tests skip. */
	if (!can_mount)
		return 0;
	if (dms_loop_file_create(img, 64 * DMS_MIB) < 0 || dms_ext4_format(img, &opts) < 0 ||
	    dms_loop_attach(img, loopdev, sizeof(loopdev), &loopfd) < 0)
		return 0;
	usable = true;
	return 0;
}

static int teardown(void **state)
{
	_cleanup_free_ char *cmd = NULL;

	if (rootfd >= 0)
		(void)close(rootfd);
	if (loopfd >= 0)
		(void)close(loopfd);
	/* The private namespace's mounts die with the process; the files are ours to remove. */
	(void)umount2(in_root("a"), MNT_DETACH);
	(void)umount2(in_root("ro"), MNT_DETACH);
	if (asprintf(&cmd, "rm -rf '%s'", tmpdir) < 0)
		return -1;
	return system(cmd) == 0 ? 0 : -1;
}

static int open_in_root(const char *path)
{
	int fd = -1;

	assert_int_equal(dms_path_open_in_root(rootfd, path, O_PATH | O_DIRECTORY, 0, &fd), 0);
	return fd;
}

static bool is_mount_root(const char *path)
{
	struct statx stx;

	assert_int_equal(statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_INO, &stx), 0);
	return stx.stx_attributes & STATX_ATTR_MOUNT_ROOT;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

/* Two mounts of one device share the superblock; the read-only one refuses writes and sees the other's. */
static void test_shared_and_read_only(void **state)
{
	int fd = -1;
	char buf[16] = "";
	FILE *f;

	if (!usable)
		skip();
	assert_int_equal(dms_path_mkdir_in_root(rootfd, "/a/b", 0755, &fd), 0);
	assert_int_equal(dms_mount_ext4_at(loopdev, fd, 0, NULL), 0);
	(void)close(fd);
	assert_true(is_mount_root(in_root("a/b")));
	write_file(in_root("a/b/hello"), "hello\n");

	assert_int_equal(dms_path_mkdir_in_root(rootfd, "ro", 0755, &fd), 0);
	assert_int_equal(dms_mount_ext4_at(loopdev, fd, DMS_MOUNT_RDONLY, NULL), 0);
	(void)close(fd);
	f = fopen(in_root("ro/hello"), "re");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "hello\n");
	assert_int_equal(open(in_root("ro/new"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644), -1);
	assert_int_equal(errno, EROFS);

	assert_int_equal(dms_umount_fd(open_in_root("/ro")), 0);
	assert_false(is_mount_root(in_root("ro")));
	assert_int_equal(dms_umount_fd(open_in_root("/a/b")), 0);
	assert_false(is_mount_root(in_root("a/b")));
	assert_int_equal(access(in_root("a/b/hello"), F_OK), -1);
}

/* Stacked mounts come off one at a time, the top first. */
static void test_stacked(void **state)
{
	int fd = -1;

	if (!usable)
		skip();
	for (int i = 0; i < 2; i++) {
		assert_int_equal(dms_path_mkdir_in_root(rootfd, "/a", 0755, &fd), 0);
		assert_int_equal(dms_mount_ext4_at(loopdev, fd, i == 1 ? DMS_MOUNT_RDONLY : 0, NULL), 0);
		(void)close(fd);
	}
	assert_int_equal(open(in_root("a/x"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644), -1);
	assert_int_equal(errno, EROFS);
	assert_int_equal(dms_umount_fd(open_in_root("/a")), 0);
	fd = open(in_root("a/x"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	(void)close(fd);
	assert_int_equal(unlink(in_root("a/x")), 0);
	assert_int_equal(dms_umount_fd(open_in_root("/a")), 0);
	assert_false(is_mount_root(in_root("a")));
}

/* An fd on a plain directory is not a mount: refused, and the fd is closed all the same. */
static void test_umount_not_a_mount(void **state)
{
	int fd = open_in_root("/plain");

	assert_int_equal(dms_umount_fd(fd), -EINVAL);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_int_equal(errno, EBADF);
}

/* A mount is nosuid, nodev, noatime: a device node on it cannot be opened, a setuid bit gains nothing. */
static void check_host_mount(const char *dir)
{
	char node[512];
	struct statvfs sv;

	assert_int_equal(statvfs(dir, &sv), 0);
	assert_int_equal(sv.f_flag & (ST_NOSUID | ST_NODEV | ST_NOATIME), ST_NOSUID | ST_NODEV | ST_NOATIME);
	snprintf(node, sizeof(node), "%s/null", dir);
	(void)unlink(node);
	assert_int_equal(mknod(node, S_IFCHR | 0666, makedev(1, 3)), 0);
	assert_int_equal(open(node, O_RDONLY | O_CLOEXEC), -1);
	assert_int_equal(errno, EACCES);
	assert_int_equal(unlink(node), 0);
}

static void test_nosuid_nodev(void **state)
{
	int fd = -1;

	if (!usable)
		skip();
	assert_int_equal(dms_path_mkdir_in_root(rootfd, "/at", 0755, &fd), 0);
	assert_int_equal(dms_mount_ext4_at(loopdev, fd, 0, NULL), 0);
	(void)close(fd);
	check_host_mount(in_root("at"));
	assert_int_equal(dms_umount_fd(open_in_root("/at")), 0);

	assert_int_equal(mkdir(in_root("path"), 0755), 0);
	assert_int_equal(dms_mount_ext4(loopdev, in_root("path"), 0, NULL), 0);
	check_host_mount(in_root("path"));
	assert_int_equal(dms_umount(in_root("path")), 0);
}

/* The in-root resolution a volume attach relies on: both escapes land on the root itself. */
static void test_symlinks_land_on_root(void **state)
{
	struct stat want, got;

	assert_int_equal(fstat(rootfd, &want), 0);
	for (size_t i = 0; i < 3; i++) {
		static const char *const paths[] = { "/data", "data2", "/data2/data/.." };
		int fd = -1;

		assert_int_equal(dms_path_mkdir_in_root(rootfd, paths[i], 0755, &fd), 0);
		assert_int_equal(fstat(fd, &got), 0);
		(void)close(fd);
		assert_true(got.st_dev == want.st_dev && got.st_ino == want.st_ino);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_and_read_only),
		cmocka_unit_test(test_stacked),
		cmocka_unit_test(test_umount_not_a_mount),
		cmocka_unit_test(test_nosuid_nodev),
		cmocka_unit_test(test_symlinks_land_on_root),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
