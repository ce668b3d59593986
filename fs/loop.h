/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMS_FS_LOOP_H
#define DMS_FS_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Loop devices over the sparse files of an embedded pool. They are attached
 * with autoclear: the kernel detaches one when its last opener goes, so the
 * caller keeps the returned fd open until the pool table holds the device,
 * and removing the pool is enough to free it.
 */

/* Create FILE sparse, SIZE bytes; -EEXIST if it is there already. */
int dms_loop_file_create(const char *file, uint64_t size);
int dms_loop_attach(const char *file, char *ret_dev, size_t dev_len, int *ret_fd);
/* The loop device already backed by FILE: 0 and its path, or -ENOENT. */
int dms_loop_find(const char *file, char *ret_dev, size_t dev_len);
/*
 * Grow FILE to SIZE bytes (sparse; -EINVAL if it is larger already), then make
 * the loop device over it, if any, see the new size (LOOP_SET_CAPACITY).
 */
int dms_loop_file_grow(const char *file, uint64_t size);
/* The backing file of a loop device given by major:minor, -ENOENT if none. */
int dms_loop_backing_file(unsigned major, unsigned minor, char *ret_file, size_t file_len);

#endif
