/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "dms-util.h"
#include "fs/resolve.h"

/*
 * A rootfs as a hostile image would ship it, in a parent directory of its own so that
 * anything escaping upwards is visible:
 *
 *   <parent>/root/            the rootfs, ROOTFD
 *     a/b/c/
 *     a/up -> ../../../../..
 *     etc/marker              "in-root"
 *     data -> /
 *     data2 -> ../../..
 *     abs -> /etc
 *     dangle -> /nonexistent-<tag>
 *     file                    a regular file
 */
struct fx {
	char parent[64];
	char root[128];
	char tag[64]; /* unique name for paths that must not appear on the host */
	int rootfd;
};

static const char *at(const struct fx *f, const char *rel)
{
	static char bufs[8][512];
	static unsigned next;
	char *b = bufs[next++ % DMS_ARRAY_SIZE(bufs)];

	snprintf(b, sizeof(bufs[0]), "%s/%s", f->root, rel);
	return b;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path) < 0 ? -1 : 0;
}

static void write_file(const char *path, const char *text)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->parent, "/tmp/dms-resolve-XXXXXX");
	assert_non_null(mkdtemp(f->parent));
	snprintf(f->root, sizeof(f->root), "%s/root", f->parent);
	snprintf(f->tag, sizeof(f->tag), "dms-resolve-test-%s", strrchr(f->parent, '-') + 1);

	assert_int_equal(mkdir(f->root, 0755), 0);
	assert_int_equal(mkdir(at(f, "a"), 0755), 0);
	assert_int_equal(mkdir(at(f, "a/b"), 0755), 0);
	assert_int_equal(mkdir(at(f, "a/b/c"), 0755), 0);
	assert_int_equal(mkdir(at(f, "etc"), 0755), 0);
	write_file(at(f, "etc/marker"), "in-root");
	write_file(at(f, "file"), "plain");
	assert_int_equal(symlink("../../../../..", at(f, "a/up")), 0);
	assert_int_equal(symlink("/", at(f, "data")), 0);
	assert_int_equal(symlink("../../..", at(f, "data2")), 0);
	assert_int_equal(symlink("/etc", at(f, "abs")), 0);
	{
		char target[128];

		snprintf(target, sizeof(target), "/nonexistent-%s", f->tag);
		assert_int_equal(symlink(target, at(f, "dangle")), 0);
	}
	f->rootfd = open(f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->rootfd >= 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	(void)close(f->rootfd);
	(void)nftw(f->parent, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void assert_fd_is(int fd, const char *path)
{
	struct stat a, b;

	assert_int_equal(fstat(fd, &a), 0);
	assert_int_equal(stat(path, &b), 0);
	assert_true(a.st_dev == b.st_dev && a.st_ino == b.st_ino);
}

static void assert_resolves_to(const struct fx *f, const char *path, const char *want)
{
	_cleanup_close_ int fd = -1;

	assert_int_equal(dms_path_open_in_root(f->rootfd, path, O_PATH, 0, &fd), 0);
	assert_fd_is(fd, want);
}

static void assert_host_lacks(const char *dir, const char *name)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(lstat(path, &st), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_link_to_slash(void **state)
{
	struct fx *f = *state;

	assert_resolves_to(f, "/data", f->root);
	assert_resolves_to(f, "data/", f->root);
	assert_resolves_to(f, "/data/data/data", f->root);
	assert_resolves_to(f, "/data/a/b/c", at(f, "a/b/c"));
	assert_resolves_to(f, "data/etc/marker", at(f, "etc/marker"));
}

static void test_link_up_and_out(void **state)
{
	struct fx *f = *state;

	assert_resolves_to(f, "data2", f->root);
	assert_resolves_to(f, "/data2/etc", at(f, "etc"));
	assert_resolves_to(f, "a/up", f->root);
	assert_resolves_to(f, "a/b/c/../../up/a", at(f, "a"));
}

static void test_absolute_link(void **state)
{
	struct fx *f = *state;
	_cleanup_close_ int fd = -1;
	struct stat host_etc, st;
	char buf[32] = { 0 };

	assert_resolves_to(f, "abs", at(f, "etc"));
	assert_int_equal(stat("/etc", &host_etc), 0);
	assert_int_equal(dms_path_open_in_root(f->rootfd, "/abs", O_PATH | O_DIRECTORY, 0, &fd), 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_false(st.st_dev == host_etc.st_dev && st.st_ino == host_etc.st_ino);
	dms_closep(&fd);

	/* And a file read through it is the rootfs's, not the host's. */
	assert_int_equal(dms_path_open_in_root(f->rootfd, "/abs/marker", O_RDONLY, 0, &fd), 0);
	assert_int_equal(read(fd, buf, sizeof(buf) - 1), 7);
	assert_string_equal(buf, "in-root");
}

static void test_dotdot_clamps(void **state)
{
	struct fx *f = *state;

	assert_resolves_to(f, "..", f->root);
	assert_resolves_to(f, "../../..", f->root);
	assert_resolves_to(f, "/../../etc", at(f, "etc"));
	assert_resolves_to(f, "a/b/c/../../../../../etc", at(f, "etc"));
}

static void test_magic_links_refused(void **state)
{
	_cleanup_close_ int hostroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int fd = -7;

	/* The host's own "/" as ROOTFD: /proc is there, and its magic links still are not followed. */
	assert_true(hostroot >= 0);
	assert_int_equal(dms_path_open_in_root(hostroot, "/proc/self/root/etc", O_PATH, 0, &fd), -ELOOP);
	assert_int_equal(dms_path_open_in_root(hostroot, "/proc/self/cwd", O_PATH, 0, &fd), -ELOOP);
	assert_int_equal(fd, -7);
}

static void test_open_errors_and_flags(void **state)
{
	struct fx *f = *state;
	_cleanup_close_ int fd = -1;
	int untouched = -7;

	assert_int_equal(dms_path_open_in_root(f->rootfd, "nope", O_RDONLY, 0, &untouched), -ENOENT);
	assert_int_equal(dms_path_open_in_root(f->rootfd, "dangle", O_RDONLY, 0, &untouched), -ENOENT);
	assert_int_equal(dms_path_open_in_root(f->rootfd, "file/x", O_RDONLY, 0, &untouched), -ENOTDIR);
	assert_int_equal(dms_path_open_in_root(f->rootfd, "", O_RDONLY, 0, &untouched), -ENOENT);
	assert_int_equal(untouched, -7);

	assert_int_equal(dms_path_open_in_root(f->rootfd, "etc/marker", O_RDONLY, 0, &fd), 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

static void test_create_through_link(void **state)
{
	struct fx *f = *state;
	_cleanup_close_ int fd = -1;
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "/data/%s", f->tag);
	assert_int_equal(dms_path_open_in_root(f->rootfd, path, O_WRONLY | O_CREAT | O_EXCL, 0640, &fd), 0);
	assert_fd_is(fd, at(f, f->tag));
	assert_int_equal(stat(at(f, f->tag), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_host_lacks("/", f->tag);
}

static void test_mkdir_through_link_to_slash(void **state)
{
	struct fx *f = *state;
	_cleanup_close_ int fd = -1;
	char path[256], sub[256];
	struct stat st;

	snprintf(path, sizeof(path), "/data/%s/sub", f->tag);
	assert_int_equal(dms_path_mkdir_in_root(f->rootfd, path, 0755, &fd), 0);
	snprintf(sub, sizeof(sub), "%s/sub", f->tag);
	assert_fd_is(fd, at(f, sub));
	assert_int_equal(lstat(at(f, sub), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_true(fcntl(fd, F_GETFL) & O_PATH);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_host_lacks("/", f->tag);
}

static void test_mkdir_through_relative_and_absolute_links(void **state)
{
	struct fx *f = *state;
	_cleanup_close_ int fd1 = -1, fd2 = -1;
	char path[256], want[256];

	snprintf(path, sizeof(path), "data2/%s/x", f->tag);
	assert_int_equal(dms_path_mkdir_in_root(f->rootfd, path, 0755, &fd1), 0);
	snprintf(want, sizeof(want), "%s/x", f->tag);
	assert_fd_is(fd1, at(f, want));
	assert_host_lacks("/", f->tag);

	/* abs -> /etc: the directory appears in the rootfs's etc, not the host's. */
	snprintf(path, sizeof(path), "/abs/%s", f->tag);
	assert_int_equal(dms_path_mkdir_in_root(f->rootfd, path, 0755, &fd2), 0);
	snprintf(want, sizeof(want), "etc/%s", f->tag);
	assert_fd_is(fd2, at(f, want));
	assert_host_lacks("/etc", f->tag);
}

static void test_mkdir_dotdot_clamps(void **state)
{
	struct fx *f = *state;
	_cleanup_close_ int fd = -1;
	char path[256];

	snprintf(path, sizeof(path), "../../../%s", f->tag);
	assert_int_equal(dms_path_mkdir_in_root(f->rootfd, path, 0700, &fd), 0);
	assert_fd_is(fd, at(f, f->tag));
	assert_host_lacks(f->parent, f->tag);
	assert_host_lacks("/", f->tag);
	assert_host_lacks("/tmp", f->tag);
}

static void test_mkdir_existing_and_root(void **state)
{
	struct fx *f = *state;
	_cleanup_close_ int fd1 = -1, fd2 = -1, fd3 = -1;
	int untouched = -7;

	assert_int_equal(dms_path_mkdir_in_root(f->rootfd, "a/b/c", 0755, &fd1), 0);
	assert_fd_is(fd1, at(f, "a/b/c"));
	assert_int_equal(dms_path_mkdir_in_root(f->rootfd, "//a/./b/", 0755, &fd2), 0);
	assert_fd_is(fd2, at(f, "a/b"));
	assert_int_equal(dms_path_mkdir_in_root(f->rootfd, "/", 0755, &fd3), 0);
	assert_fd_is(fd3, f->root);
	assert_int_equal(dms_path_mkdir_in_root(f->rootfd, "", 0755, &untouched), -ENOENT);
	assert_int_equal(untouched, -7);
}

static void test_mkdir_errors(void **state)
{
	struct fx *f = *state;
	char target[256];
	int untouched = -7;

	assert_int_equal(dms_path_mkdir_in_root(f->rootfd, "file/x", 0755, &untouched), -ENOTDIR);
	assert_int_equal(dms_path_mkdir_in_root(f->rootfd, "etc/marker", 0755, &untouched), -ENOTDIR);
	/* A dangling symlink is not followed to create its target, in the rootfs or out of it. */
	assert_int_equal(dms_path_mkdir_in_root(f->rootfd, "dangle/x", 0755, &untouched), -ENOENT);
	snprintf(target, sizeof(target), "nonexistent-%s", f->tag);
	assert_host_lacks("/", target);
	assert_host_lacks(f->root, target);
	assert_int_equal(untouched, -7);
}

/*
 * No openat2 (an old kernel, or a seccomp profile that answers ENOSYS for syscalls it
 * does not know): both calls fail instead of resolving without the root. The filter
 * goes into a child, which it cannot leave.
 */
static void test_no_openat2_no_fallback(void **state)
{
	struct fx *f = *state;
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = DMS_ARRAY_SIZE(filter), .filter = filter };
	int status;
	pid_t pid;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = -7;

		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
			_exit(2);
		if (dms_path_open_in_root(f->rootfd, "etc/marker", O_RDONLY, 0, &fd) != -ENOSYS)
			_exit(3);
		if (dms_path_mkdir_in_root(f->rootfd, "new/dir", 0755, &fd) != -ENOSYS)
			_exit(4);
		_exit(fd == -7 ? 0 : 5);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_host_lacks(f->root, "new");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_link_to_slash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_up_and_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_absolute_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dotdot_clamps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_magic_links_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors_and_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_through_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mkdir_through_link_to_slash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mkdir_through_relative_and_absolute_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mkdir_dotdot_clamps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mkdir_existing_and_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mkdir_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_openat2_no_fallback, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
