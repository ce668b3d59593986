// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "dms-exec.h"
#include "dms-util.h"

/* The whole environment of a helper: see dms-exec.h. */
static char *const helper_env[] = { "PATH=" DMS_EXEC_PATH, "LC_ALL=C", NULL };

/* Which package brings each program dmstore runs, for the message when one is missing (Debian's names). */
static const struct {
	const char *program, *package;
} packages[] = {
	{ "thin_check", "thin-provisioning-tools" },
	{ "thin_ls", "thin-provisioning-tools" },
	{ "resize2fs", "e2fsprogs" },
	{ "mkfs.ext4", "e2fsprogs" },
	{ "dmsetup", "dmsetup" },
	{ "lvcreate", "lvm2" },
	{ "lvremove", "lvm2" },
};

/*
 * Resolved at every call, not cached: a few stat() calls next to a
 * posix_spawn, and no state shared between the threads of a daemon.
 */
static int resolve(const char *name, char *buf, size_t len)
{
	const char *dir = DMS_EXEC_PATH;

	if (strchr(name, '/')) {
		if (name[0] != '/')
			return -EINVAL;
		return (size_t)snprintf(buf, len, "%s", name) < len ? 0 : -ENAMETOOLONG;
	}
	while (*dir) {
		size_t n = strcspn(dir, ":");
		struct stat st;

		if ((size_t)snprintf(buf, len, "%.*s/%s", (int)n, dir, name) >= len)
			return -ENAMETOOLONG;
		if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && faccessat(AT_FDCWD, buf, X_OK, AT_EACCESS) == 0)
			return 0;
		dir += n + (dir[n] == ':');
	}
	return -ENOPKG;
}

const char *dms_exec_strerror(int r, const char *prog, char *buf, size_t len)
{
	if (r != -ENOPKG)
		return strerror(-r);
	for (size_t i = 0; i < DMS_ARRAY_SIZE(packages); i++)
		if (strcmp(packages[i].program, prog) == 0) {
			snprintf(buf, len, "%s not found in %s (install %s)", prog, DMS_EXEC_PATH, packages[i].package);
			return buf;
		}
	snprintf(buf, len, "%s not found in %s", prog, DMS_EXEC_PATH);
	return buf;
}

struct capture {
	int fd;
	char *buf;
	size_t len;
	size_t cap;
};

static int capture_read(struct capture *c)
{
	char chunk[4096];
	ssize_t n = read(c->fd, chunk, sizeof(chunk));

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : -errno;
	if (n == 0)
		return 0;
	if (c->len + (size_t)n + 1 > c->cap) {
		size_t cap = (c->cap ? c->cap * 2 : 8192) + (size_t)n;
		char *grown = realloc(c->buf, cap);

		if (!grown)
			return -ENOMEM;
		c->buf = grown;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, chunk, (size_t)n);
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	return 1;
}

/* Drain both pipes together, so a tool that fills one while we wait on the other cannot deadlock. */
static int capture_both(struct capture *out, struct capture *err)
{
	struct pollfd pfd[2] = { { .fd = out->fd, .events = POLLIN }, { .fd = err->fd, .events = POLLIN } };
	int open_fds = 2, r;

	while (open_fds > 0) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < 2; i++) {
			if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = capture_read(i == 0 ? out : err);
			if (r < 0)
				return r;
			if (r == 0) {
				pfd[i].fd = -1;
				open_fds--;
			}
		}
	}
	return 0;
}

int dms_exec_env(const char *const argv[], char *const envp[], char **ret_stdout, char **ret_stderr, int *ret_status)
{
	_cleanup_close_ int out_r = -1, out_w = -1, err_r = -1, err_w = -1;
	struct capture out = { .fd = -1 }, err = { .fd = -1 };
	posix_spawn_file_actions_t fa;
	char path[PATH_MAX];
	int pipes[2], r, status;
	pid_t pid;

	r = resolve(argv[0], path, sizeof(path));
	if (r < 0)
		return r;
	if (pipe2(pipes, O_CLOEXEC) < 0)
		return -errno;
	out_r = pipes[0];
	out_w = pipes[1];
	if (pipe2(pipes, O_CLOEXEC) < 0)
		return -errno;
	err_r = pipes[0];
	err_w = pipes[1];

	r = -posix_spawn_file_actions_init(&fa);
	if (r < 0)
		return r;
	r = -posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (!r)
		r = -posix_spawn_file_actions_adddup2(&fa, out_w, 1);
	if (!r)
		r = -posix_spawn_file_actions_adddup2(&fa, err_w, 2);
	if (!r)
		r = -posix_spawn(&pid, path, &fa, NULL, (char *const *)argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	if (r < 0)
		return r;

	(void)close(DMS_TAKE_FD(out_w));
	(void)close(DMS_TAKE_FD(err_w));
	out.fd = out_r;
	err.fd = err_r;
	r = capture_both(&out, &err);

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			r = r < 0 ? r : -errno;
			goto out;
		}
	}
	if (r < 0)
		goto out;
	*ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (ret_stdout) {
		*ret_stdout = out.buf ? out.buf : strdup("");
		out.buf = NULL;
	}
	if (ret_stderr) {
		*ret_stderr = err.buf ? err.buf : strdup("");
		err.buf = NULL;
	}
	if ((ret_stdout && !*ret_stdout) || (ret_stderr && !*ret_stderr))
		r = -ENOMEM;
out:
	free(out.buf);
	free(err.buf);
	return r;
}

int dms_exec(const char *const argv[], char **ret_stdout, char **ret_stderr, int *ret_status)
{
	return dms_exec_env(argv, helper_env, ret_stdout, ret_stderr, ret_status);
}
