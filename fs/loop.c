// SPDX-License-Identifier: LGPL-2.1-or-later
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <linux/loop.h>

#include "dms-util.h"
#include "fs/loop.h"

int dms_loop_file_create(const char *file, uint64_t size)
{
	_cleanup_close_ int fd = -1;

	fd = open(file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0 || fsync(fd) < 0) {
		int r = -errno;

		(void)unlink(file);
		return r;
	}
	return 0;
}

/*
 * Direct I/O keeps the pool's data out of the host page cache twice over and
 * makes a flush reach the file. Whether the backing filesystem can do it is
 * asked by opening the file with O_DIRECT: the loop driver's own check trusts
 * overlayfs, which then fails every read when tmpfs lies beneath it.
 */
static int open_backing(const char *file, bool *ret_direct)
{
	int fd = open(file, O_RDWR | O_CLOEXEC | O_DIRECT);

	*ret_direct = fd >= 0;
	if (fd < 0 && errno == EINVAL)
		fd = open(file, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int loop_configure(int loop_fd, int file_fd, bool direct)
{
	struct loop_config cfg = {
		.fd = (uint32_t)file_fd,
		.info = { .lo_flags = LO_FLAGS_AUTOCLEAR | (direct ? LO_FLAGS_DIRECT_IO : 0) },
	};

	return ioctl(loop_fd, LOOP_CONFIGURE, &cfg) < 0 ? -errno : 0;
}

int dms_loop_attach(const char *file, char *ret_dev, size_t dev_len, int *ret_fd)
{
	_cleanup_close_ int ctl = -1, file_fd = -1;
	bool direct;
	int r = -EBUSY;

	file_fd = open_backing(file, &direct);
	if (file_fd < 0)
		return file_fd;
	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -errno;
	/* Another process may take the free device between GET_FREE and CONFIGURE: try again. */
	for (int attempt = 0; attempt < 16 && r == -EBUSY; attempt++) {
		_cleanup_close_ int loop_fd = -1;
		char dev[32];
		int nr = ioctl(ctl, LOOP_CTL_GET_FREE);

		if (nr < 0)
			return -errno;
		snprintf(dev, sizeof(dev), "/dev/loop%d", nr);
		loop_fd = open(dev, O_RDWR | O_CLOEXEC);
		if (loop_fd < 0)
			return -errno;
		r = loop_configure(loop_fd, file_fd, direct);
		if (r == 0) {
			if ((size_t)snprintf(ret_dev, dev_len, "%s", dev) >= dev_len)
				return -ENAMETOOLONG;
			*ret_fd = DMS_TAKE_FD(loop_fd);
		}
	}
	return r;
}

static int read_sysfs_line(const char *path, char *buf, size_t len)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f))
		return -ENODATA;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static void closedirp(DIR **d)
{
	if (*d)
		(void)closedir(*d);
}

int dms_loop_find(const char *file, char *ret_dev, size_t dev_len)
{
	_cleanup_(closedirp) DIR *d = opendir("/sys/block");
	char want[PATH_MAX];
	struct dirent *de;

	if (!realpath(file, want))
		return -errno;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char path[PATH_MAX], backing[PATH_MAX];

		if (strncmp(de->d_name, "loop", 4) != 0)
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/loop/backing_file", de->d_name);
		if (read_sysfs_line(path, backing, sizeof(backing)) < 0)
			continue;
		if (strcmp(backing, want) == 0) {
			if ((size_t)snprintf(ret_dev, dev_len, "/dev/%s", de->d_name) >= dev_len)
				return -ENAMETOOLONG;
			return 0;
		}
	}
	return -ENOENT;
}

int dms_loop_backing_file(unsigned major, unsigned minor, char *ret_file, size_t file_len)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/loop/backing_file", major, minor);
	return read_sysfs_line(path, ret_file, file_len);
}

int dms_loop_file_grow(const char *file, uint64_t size)
{
	_cleanup_close_ int fd = open(file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW), loop = -1;
	char dev[PATH_MAX];
	struct stat st;
	int r;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if ((uint64_t)st.st_size > size)
		return -EINVAL;
	/* Sparse: the pool's new blocks cost the filesystem nothing until written. */
	if (ftruncate(fd, (off_t)size) < 0)
		return -errno;
	if (fsync(fd) < 0)
		return -errno;
	r = dms_loop_find(file, dev, sizeof(dev));
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	loop = open(dev, O_RDONLY | O_CLOEXEC);
	if (loop < 0)
		return -errno;
	return ioctl(loop, LOOP_SET_CAPACITY, 0) < 0 ? -errno : 0;
}
