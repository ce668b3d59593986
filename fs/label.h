/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMS_FS_LABEL_H
#define DMS_FS_LABEL_H

#include <stddef.h>
#include <stdint.h>

/*
 * The dmstore label: one 4 KiB block that says which pool a data device
 * belongs to. It lives in the device's last MiB, which the pool never maps.
 */

#define DMS_LABEL_SIZE 4096U
#define DMS_LABEL_RESERVED (1024U * 1024U) /* the room kept for it at the end of the device */

struct dms_label {
	char uuid[37]; /* the pool's, as text */
	char pool[64]; /* its name when the label was written */
};

/* Where the label goes on a device of SIZE bytes: the start of its last MiB, 4 KiB aligned. */
uint64_t dms_label_offset(uint64_t size);

/* The block as it is on disk; decoding answers -ENODATA without the magic, -EBADMSG if damaged. */
void dms_label_encode(const struct dms_label *label, void *block);
int dms_label_decode(const void *block, struct dms_label *ret_label);

/* As decoding; -ENODATA too when OFFSET lies past the device's end. */
int dms_label_read(int fd, uint64_t offset, struct dms_label *ret_label);
int dms_label_write(int fd, uint64_t offset, const struct dms_label *label);
/* Zeroes the label's block, so the device no longer reads as a pool's. */
int dms_label_wipe(int fd, uint64_t offset);

#endif
