/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMS_FS_EXT4_H
#define DMS_FS_EXT4_H

/*
 * ext4 on thin devices (volumes, image bases): in-process formatting with libext2fs,
 * and growing after the device was extended.
 *
 * Both take a path to a block device or a regular file (anything else: -EINVAL, a
 * missing path: -ENOENT) and return 0 or a negative errno. Neither probes for an
 * existing signature: the caller decides whether overwriting is allowed. On failure
 * the device's contents are undefined (a format may have been half written).
 */

#include <stdbool.h>
#include <stdint.h>

struct dms_ext4_format_opts {
	const char *label;	/* NULL or "": none; at most 16 bytes, else -EINVAL */
	/*
	 * The device reads back zeros (a fresh dm-thin device, a fresh sparse file):
	 * inode tables are flagged zeroed so the kernel's ext4lazyinit never rewrites
	 * them, and no old signatures are wiped.
	 */
	bool assume_zeroed;
	/* No lost+found: a container layer's root holds only what its layers put there. */
	bool no_lost_found;
};

/*
 * Make the filesystem `mkfs.ext4 -E lazy_itable_init=1,lazy_journal_init=1,nodiscard`
 * makes on Debian 12 (e2fsprogs 1.47.0) for a device of this size, sized from the
 * device itself. opts may be NULL (no label, not assumed zeroed).
 * -EBUSY: the block device is in use (mounted, or opened exclusively);
 * -ENOSPC: too small for ext4; -EFBIG: too large for ext4.
 */
int dms_ext4_format(const char *device, const struct dms_ext4_format_opts *opts);

/*
 * Grow the ext4 on device, mounted or not, to new_size_bytes (rounded down to its
 * block size) by running resize2fs quietly. new_size_bytes must not exceed the
 * device, nor be smaller than the filesystem (-EINVAL: this never shrinks);
 * already that size: 0. Not ext4: -EINVAL. resize2fs failed: -EIO; not installed:
 * -ENOPKG. resize2fs also sets a regular file to the new size.
 */
int dms_ext4_grow(const char *device, uint64_t new_size_bytes);

#endif
