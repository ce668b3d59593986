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
 * 1 with the signature's name (a filesystem, RAID member, partition table ...)
 * in TYPE when the device carries one, 0 when it is blank.
 */
int dms_signature_probe(int fd, char *type, size_t type_len);
/* Erase every signature libblkid knows on the device, so it no longer looks like its past. */
int dms_signature_wipe(int fd);

#endif
