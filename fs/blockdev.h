/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMS_FS_BLOCKDEV_H
#define DMS_FS_BLOCKDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Block devices handed to dmstore: is it one, is anyone else using it, what
 * does it already carry. All return 0 or a negative errno.
 */

/* -ENOTBLK if PATH is not a block device; -EBUSY if someone holds it (mounted, in a pool, open with O_EXCL). */
int dms_blockdev_open(const char *path, bool exclusive, int *ret_fd);
int dms_blockdev_size(int fd, uint64_t *ret_bytes);
int dms_blockdev_devnum(int fd, unsigned *ret_major, unsigned *ret_minor);

/*
 * One 4 KiB-aligned block at OFFSET, bypassing the page cache: what the kernel
 * wrote through its own bios (dm-thin's metadata), not a copy an earlier read
 * left cached. 4 KiB suits 512-byte, 512e and 4Kn disks alike. Reading past
 * the end is -ENODATA.
 */
#define DMS_BLOCKDEV_DIRECT_BLOCK 4096U
int dms_blockdev_read_block(int fd, uint64_t offset, void *buf);
int dms_blockdev_write_block(int fd, uint64_t offset, const void *buf);

/*
 * 1 with the signature's name (a filesystem, RAID member, partition table ...)
 * in TYPE when the device carries one, 0 when it is blank.
 */
int dms_signature_probe(int fd, char *type, size_t type_len);
/* Erase every signature libblkid knows on the device, so it no longer looks like its past. */
int dms_signature_wipe(int fd);

#endif
