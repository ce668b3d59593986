// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The socket Docker connects to. Under systemd it is passed in (socket
 * activation, sd_listen_fds): it exists before docker.service starts, and
 * Docker's calls wait in its backlog while the plugin (re)starts. Run by
 * hand, the plugin binds it itself, owner-only: whoever can connect can
 * create and mount volumes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "docker/plugin.h"
#include "dms-util.h"

static int fill_addr(const char *path, struct sockaddr_un *sa)
{
	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, path, strlen(path));
	return 0;
}

/* A socket file left by a plugin that died may go; one a live plugin answers on may not. */
static int clear_stale(const struct sockaddr_un *sa)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
		return -EADDRINUSE;
	if (errno != ECONNREFUSED)
		return -errno;
	return unlink(sa->sun_path) < 0 ? -errno : 0;
}

/* The directories above the socket (/run/docker/plugins before dockerd made it), as mkdir -p. */
static int mkdir_parents(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];

	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

int plugin_listen(const char *path, int *ret_fd, bool *ret_bound)
{
	_cleanup_close_ int fd = -1;
	struct sockaddr_un sa;
	mode_t mask;
	int n, r;

	n = sd_listen_fds(1);
	if (n < 0)
		return n;
	if (n > 1)
		return -E2BIG;
	if (n == 1) {
		if (sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, NULL, 0) <= 0)
			return -ENOTSOCK;
		*ret_fd = SD_LISTEN_FDS_START;
		*ret_bound = false;
		return 0;
	}
	r = fill_addr(path, &sa);
	if (r == 0)
		r = mkdir_parents(path);
	if (r == 0)
		r = clear_stale(&sa);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* The program's own umask, for the one file it makes: the socket is born owner-only. */
	mask = umask(0177);
	r = bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	umask(mask);
	if (r < 0)
		return r;
	if (listen(fd, SOMAXCONN) < 0) {
		r = -errno;
		(void)unlink(path);
		return r;
	}
	*ret_fd = DMS_TAKE_FD(fd);
	*ret_bound = true;
	return 0;
}
