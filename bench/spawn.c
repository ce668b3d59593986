// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Running the programs the benchmarks drive or compare with (fio, gnuplot,
 * dmsetup, lvcreate, mkfs.ext4): like dms_exec, but with text fed to the
 * program's standard input, and a stop flag watched while it runs.
 *
 * Each program runs in a process group of its own, so the terminal's Ctrl-C
 * reaches the benchmark only: a dmsetup or lvcreate is never killed half-way
 * through a change, and the benchmark decides what to stop. A long fio job is
 * told to stop (SIGTERM: fio ends its jobs and exits) when the flag is set.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>

#include "bench/bench.h"
#include "dms-util.h"

extern char **environ;

struct buf {
	char *text;
	size_t len, cap;
};

static int buf_read(int fd, struct buf *b)
{
	char chunk[8192];
	ssize_t n = read(fd, chunk, sizeof(chunk));

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : -errno;
	if (n == 0)
		return 0;
	if (b->len + (size_t)n + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 16384) + (size_t)n;
		char *grown = realloc(b->text, cap);

		if (!grown)
			return -ENOMEM;
		b->text = grown;
		b->cap = cap;
	}
	memcpy(b->text + b->len, chunk, (size_t)n);
	b->len += (size_t)n;
	b->text[b->len] = '\0';
	return 1;
}

static void last_line(const struct buf *b, char *out, size_t len)
{
	const char *text = b->text ? b->text : "", *end = text + strlen(text), *start;

	while (end > text && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	start = end;
	while (start > text && start[-1] != '\n')
		start--;
	snprintf(out, len, "%.*s", (int)(end - start), start);
}

static int start(const char *const argv[], int fds[3], pid_t *ret_pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int r;

	r = -posix_spawn_file_actions_init(&fa);
	if (r < 0)
		return r;
	r = -posix_spawnattr_init(&attr);
	if (r < 0) {
		posix_spawn_file_actions_destroy(&fa);
		return r;
	}
	for (int i = 0; i < 3 && r == 0; i++)
		r = -posix_spawn_file_actions_adddup2(&fa, fds[i], i);
	if (r == 0)
		r = -posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	if (r == 0)
		r = -posix_spawnattr_setpgroup(&attr, 0);
	if (r == 0)
		r = -posix_spawnp(ret_pid, argv[0], &fa, &attr, (char *const *)argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return r;
}

/* Feed, drain and watch until the program closes its outputs; *STOPPED if it was told to stop. */
static int pump(pid_t pid, int in, const char *text, int out, int errfd, struct buf *ob, struct buf *eb,
		const volatile sig_atomic_t *stop, bool *stopped)
{
	size_t fed = 0, total = text ? strlen(text) : 0;
	struct pollfd pfd[3] = { { .fd = in, .events = POLLOUT },
				 { .fd = out, .events = POLLIN },
				 { .fd = errfd, .events = POLLIN } };
	int r = 0;

	if (!total) {
		(void)close(in);
		pfd[0].fd = -1;
	}
	while (pfd[1].fd >= 0 || pfd[2].fd >= 0) {
		if (stop && *stop && !*stopped) {
			(void)kill(pid, SIGTERM);
			*stopped = true;
		}
		r = poll(pfd, 3, 100);
		if (r < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		r = r < 0 ? 0 : r;
		if (r == 0)
			continue;
		if (pfd[0].fd >= 0 && (pfd[0].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t n = (pfd[0].revents & POLLOUT) ? write(in, text + fed, total - fed) : -1;

			if (n > 0)
				fed += (size_t)n;
			if (n < 0 && errno != EINTR && errno != EAGAIN)
				fed = total; /* it stopped reading: what it says on stderr tells why */
			if (fed == total) {
				(void)close(in);
				pfd[0].fd = -1;
			}
		}
		for (int i = 1; i < 3; i++) {
			if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = buf_read(pfd[i].fd, i == 1 ? ob : eb);
			if (r < 0)
				break;
			if (r == 0)
				pfd[i].fd = -1;
		}
		if (r < 0)
			break;
	}
	if (pfd[0].fd >= 0)
		(void)close(in);
	return r < 0 ? r : 0;
}

int bench_spawn(const char *const argv[], const char *stdin_text, char **ret_stdout, int *ret_status,
		const volatile sig_atomic_t *stop, char *err, size_t len)
{
	_cleanup_close_ int in_w = -1, out_r = -1, err_r = -1;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 }, status, r;
	struct buf ob = { 0 }, eb = { 0 };
	bool stopped = false;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		r = -errno;
		for (int i = 0; i < 2; i++) {
			if (in[i] >= 0)
				(void)close(in[i]);
			if (out[i] >= 0)
				(void)close(out[i]);
		}
		snprintf(err, len, "%s: pipe: %s", argv[0], strerror(-r));
		return r;
	}
	in_w = in[1];
	out_r = out[0];
	err_r = errp[0];
	r = start(argv, (int[3]){ in[0], out[1], errp[1] }, &pid);
	(void)close(in[0]);
	(void)close(out[1]);
	(void)close(errp[1]);
	if (r < 0) {
		snprintf(err, len, "%s: %s", argv[0],
			 r == -ENOENT ? "not installed (not found in PATH)" : strerror(-r));
		return r;
	}
	/* A program that will not read its input must not make us die of SIGPIPE: write() gets EPIPE instead. */
	(void)fcntl(in_w, F_SETFL, O_NONBLOCK);
	{
		sigset_t pipe_set, old;

		sigemptyset(&pipe_set);
		sigaddset(&pipe_set, SIGPIPE);
		pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
		r = pump(pid, DMS_TAKE_FD(in_w), stdin_text, out_r, err_r, &ob, &eb, stop, &stopped);
		/* A SIGPIPE raised by our write is pending on this thread: take it before unblocking. */
		{
			struct timespec zero = { 0 };

			while (sigtimedwait(&pipe_set, NULL, &zero) > 0)
				;
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (r < 0)
		(void)kill(pid, SIGKILL); /* we no longer listen to it: it must not block on a full pipe */
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			r = r < 0 ? r : -errno;
			break;
		}
	}
	if (r == 0 && stopped) {
		r = -EINTR;
	} else if (r == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		char line[200];

		/* Said also when the caller takes the status: it may want the reason. */
		last_line(&eb, line, sizeof(line));
		if (WIFEXITED(status))
			snprintf(err, len, "%s exited %d: %s", argv[0], WEXITSTATUS(status),
				 *line ? line : "(no message)");
		else
			snprintf(err, len, "%s killed by signal %d", argv[0], WTERMSIG(status));
		r = ret_status ? 0 : -EIO;
	} else if (r < 0) {
		snprintf(err, len, "%s: %s", argv[0], strerror(-r));
	}
	if (r == 0 && ret_status)
		*ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (r == 0 && ret_stdout) {
		*ret_stdout = ob.text ? ob.text : strdup("");
		ob.text = NULL;
		if (!*ret_stdout)
			r = -ENOMEM;
	}
	free(ob.text);
	free(eb.text);
	return r;
}
