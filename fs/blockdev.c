// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <blkid.h>
#include <linux/fs.h>

#include "dms-util.h"
#include "fs/blockdev.h"

int dms_blockdev_open(const char *path, bool exclusive, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISBLK(st.st_mode))
		return -ENOTBLK;
	/* O_EXCL on a block device fails with EBUSY while it is mounted or claimed by the kernel. */
	fd = open(path, O_RDWR | O_CLOEXEC | (exclusive ? O_EXCL : 0));
	if (fd < 0)
		return -errno;
	*ret_fd = DMS_TAKE_FD(fd);
	return 0;
}

int dms_blockdev_size(int fd, uint64_t *ret_bytes)
{
	uint64_t bytes;

	if (ioctl(fd, BLKGETSIZE64, &bytes) < 0)
		return -errno;
	*ret_bytes = bytes;
	return 0;
}

int dms_blockdev_devnum(int fd, unsigned *ret_major, unsigned *ret_minor)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISBLK(st.st_mode))
		return -ENOTBLK;
	*ret_major = major(st.st_rdev);
	*ret_minor = minor(st.st_rdev);
	return 0;
}

/* O_DIRECT is per open file: the device is opened again through the fd, never again by its path. */
static int direct_fd(int fd, int flags)
{
	char path[64];
	int dfd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	dfd = open(path, flags | O_DIRECT | O_CLOEXEC);
	return dfd < 0 ? -errno : dfd;
}

/* Reads into RBUF, or writes WBUF (and syncs it) when RBUF is NULL. */
static int block_io(int fd, uint64_t offset, void *rbuf, const void *wbuf)
{
	bool write = !rbuf;
	_cleanup_free_ void *aligned = NULL;
	_cleanup_close_ int dfd = -1;
	ssize_t n;

	if (offset % DMS_BLOCKDEV_DIRECT_BLOCK)
		return -EINVAL;
	dfd = direct_fd(fd, write ? O_WRONLY : O_RDONLY);
	if (dfd < 0)
		return dfd;
	if (posix_memalign(&aligned, DMS_BLOCKDEV_DIRECT_BLOCK, DMS_BLOCKDEV_DIRECT_BLOCK) != 0)
		return -ENOMEM;
	if (write) {
		memcpy(aligned, wbuf, DMS_BLOCKDEV_DIRECT_BLOCK);
		n = pwrite(dfd, aligned, DMS_BLOCKDEV_DIRECT_BLOCK, (off_t)offset);
		if (n == (ssize_t)DMS_BLOCKDEV_DIRECT_BLOCK && fdatasync(dfd) < 0)
			return -errno;
	} else {
		n = pread(dfd, aligned, DMS_BLOCKDEV_DIRECT_BLOCK, (off_t)offset);
	}
	if (n < 0)
		return -errno;
	if (n != (ssize_t)DMS_BLOCKDEV_DIRECT_BLOCK)
		return write ? -ENOSPC : -ENODATA;
	if (!write)
		memcpy(rbuf, aligned, DMS_BLOCKDEV_DIRECT_BLOCK);
	return 0;
}

int dms_blockdev_read_block(int fd, uint64_t offset, void *buf)
{
	return block_io(fd, offset, buf, NULL);
}

int dms_blockdev_write_block(int fd, uint64_t offset, const void *buf)
{
	return block_io(fd, offset, NULL, buf);
}

static void blkid_free_probep(blkid_probe *pr)
{
	if (*pr)
		blkid_free_probe(*pr);
}

static int probe_new(int fd, blkid_probe *ret)
{
	blkid_probe pr = blkid_new_probe();

	if (!pr)
		return -ENOMEM;
	if (blkid_probe_set_device(pr, fd, 0, 0) < 0) {
		blkid_free_probe(pr);
		return -EIO;
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_MAGIC | BLKID_SUBLKS_BADCSUM);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC);
	*ret = pr;
	return 0;
}

/*
 * Safe probing refuses to guess: two signatures at once count as "carries
 * one" too, since either may be someone's data.
 */
int dms_signature_probe(int fd, char *type, size_t type_len)
{
	_cleanup_(blkid_free_probep) blkid_probe pr = NULL;
	const char *name = NULL;
	int r;

	r = probe_new(fd, &pr);
	if (r < 0)
		return r;
	r = blkid_do_safeprobe(pr);
	if (r == 1)
		return 0;
	if (r == -2) {
		snprintf(type, type_len, "several signatures");
		return 1;
	}
	if (r < 0)
		return -EIO;
	if (blkid_probe_lookup_value(pr, "TYPE", &name, NULL) < 0 &&
	    blkid_probe_lookup_value(pr, "PTTYPE", &name, NULL) < 0)
		name = "unknown signature";
	snprintf(type, type_len, "%s", name);
	return 1;
}

int dms_signature_wipe(int fd)
{
	_cleanup_(blkid_free_probep) blkid_probe pr = NULL;
	int r;

	r = probe_new(fd, &pr);
	if (r < 0)
		return r;
	while ((r = blkid_do_probe(pr)) == 0)
		if (blkid_do_wipe(pr, 0) < 0)
			return -EIO;
	if (r < 0)
		return -EIO;
	return fsync(fd) < 0 ? -errno : 0;
}
