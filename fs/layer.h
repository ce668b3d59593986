/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMS_FS_LAYER_H
#define DMS_FS_LAYER_H

/*
 * Flattening an image: its layers applied in order into one rootfs (ROOTFD),
 * as an overlay of them would show it (image-spec layer.md, "Applying
 * Changesets"):
 *
 * - an entry replaces whatever a lower layer had at its path, a directory
 *   included (a directory over a directory merges);
 * - ".wh.NAME" deletes NAME (and all under it) as lower layers left it;
 * - ".wh..wh..opq" empties its directory of what lower layers put there;
 * - neither touches what the same layer writes, before or after the marker.
 *
 * The entries go through fs/unpack.c's writer and chroot (owners, modes,
 * xattrs, capabilities, devices, hardlinks, holes kept; anything that would
 * land outside ROOTFD refused). Whiteouts are ours: their directory is found
 * with RESOLVE_NO_SYMLINKS, so a whiteout through a symlink an earlier layer
 * laid is refused like an entry through one, and a whiteout naming "." or
 * ".." is refused outright.
 *
 * Each blob is hashed as it is read: the bytes read against the blob's digest
 * and size, and the decompressed stream against its diff_id. One pass: a raw
 * libarchive reader decompresses (gzip, zstd, or none) and the tar reader pulls
 * its bytes through a callback that hashes them. A mismatch (-EBADMSG) or any
 * other failure names the layer and its blob.
 */

#include <stddef.h>

#include "dmstore.h"
#include "fs/image-source.h"
#include "fs/unpack.h"

typedef void (*dms_layer_progress_fn)(const struct dms_import_progress *p, void *arg);

/* PROGRESS (may be NULL) is called often, from the import thread. */
int dms_layers_apply(int rootfd, const struct dms_image_source *src, dms_layer_progress_fn progress, void *arg,
		     struct dms_unpack_stats *stats, char *errbuf, size_t errlen);

#endif
