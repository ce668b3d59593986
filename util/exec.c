// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>

#include "dms-exec.h"
#include "dms-util.h"

extern char **environ;

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

int dms_exec(const char *const argv[], char **ret_stdout, char **ret_stderr, int *ret_status)
{
	_cleanup_close_ int out_r = -1, out_w = -1, err_r = -1, err_w = -1;
	struct capture out = { .fd = -1 }, err = { .fd = -1 };
	posix_spawn_file_actions_t fa;
	int pipes[2], r, status;
	pid_t pid;

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
		r = -posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
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
