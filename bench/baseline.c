// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The baseline of `bench io`: a raw block device of the user's, which the
 * benchmark overwrites, so it must be free and blank. The kernel says whether
 * it is free (O_EXCL on a block device fails while it is mounted or claimed:
 * by a pool, a RAID, LVM), libblkid whether it is blank, as `pool create` asks
 * of its devices.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <blkid.h>
#include <linux/fs.h>

#include "bench/io.h"
#include "dms-util.h"

int bench_baseline_open(const char *path, int *ret_fd, uint64_t *ret_bytes)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	uint64_t bytes;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISBLK(st.st_mode))
		return -ENOTBLK;
	fd = open(path, O_RDWR | O_CLOEXEC | O_EXCL);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, BLKGETSIZE64, &bytes) < 0)
		return -errno;
	*ret_fd = DMS_TAKE_FD(fd);
	*ret_bytes = bytes;
	return 0;
}

static void free_probep(blkid_probe *pr)
{
	if (*pr)
		blkid_free_probe(*pr);
}

int bench_baseline_signature(int fd, char *type, size_t len)
{
	_cleanup_(free_probep) blkid_probe pr = blkid_new_probe();
	const char *name = NULL;
	int r;

	if (!pr)
		return -ENOMEM;
	if (blkid_probe_set_device(pr, fd, 0, 0) < 0)
		return -EIO;
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_BADCSUM);
	blkid_probe_enable_partitions(pr, 1);
	/* Safe probing refuses to guess: two signatures at once count as one, since either may be data. */
	r = blkid_do_safeprobe(pr);
	if (r == 1)
		return 0;
	if (r == -2) {
		snprintf(type, len, "several signatures");
		return 1;
	}
	if (r < 0)
		return -EIO;
	if (blkid_probe_lookup_value(pr, "TYPE", &name, NULL) < 0 &&
	    blkid_probe_lookup_value(pr, "PTTYPE", &name, NULL) < 0)
		name = "unknown signature";
	snprintf(type, len, "%s", name);
	return 1;
}
