// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The thin-pool metadata superblock, block 0 of the metadata device, read
 * for the few fields that tie metadata to its pool before the kernel opens
 * it. The layout is the kernel's struct thin_disk_superblock
 * (drivers/md/dm-thin-metadata.c), little endian, packed:
 *
 *   0   csum            le32   crc32c of the rest of the block
 *   4   flags           le32
 *   8   blocknr         le64
 *   16  uuid            16 bytes (always zero: dm-thin does not set it)
 *   32  magic           le64   27022010
 *   40  version         le32
 *   44  time            le32
 *   48  trans_id        le64
 *   56  held_root       le64
 *   64  data_space_map_root[128]: starts with nr_blocks le64, the data blocks
 *   192 metadata_space_map_root[128]
 *   320 data_mapping_root, 328 device_details_root   le64
 *   336 data_block_size     le32   512-byte sectors
 *   340 metadata_block_size le32
 *   344 metadata_nr_blocks  le64
 *
 * The checksum is thin_check's to verify, which activation runs next.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "dm/dm.h"

#define THIN_SUPERBLOCK_MAGIC 27022010ULL

static uint64_t le64_at(const uint8_t *b, size_t off)
{
	uint64_t v;

	memcpy(&v, b + off, sizeof(v));
	return le64toh(v);
}

static uint32_t le32_at(const uint8_t *b, size_t off)
{
	uint32_t v;

	memcpy(&v, b + off, sizeof(v));
	return le32toh(v);
}

int dms_thin_superblock_parse(const void *block, struct dms_thin_superblock *ret_sb)
{
	const uint8_t *b = block;
	size_t zero = 0;

	if (le64_at(b, 32) != THIN_SUPERBLOCK_MAGIC) {
		while (zero < DMS_THIN_METADATA_BLOCK && !b[zero])
			zero++;
		return zero == DMS_THIN_METADATA_BLOCK ? -ENODATA : -EMEDIUMTYPE;
	}
	*ret_sb = (struct dms_thin_superblock){
		.transaction_id = le64_at(b, 48),
		.data_blocks = le64_at(b, 64),
		.data_block_sectors = le32_at(b, 336),
		.metadata_blocks = le64_at(b, 344),
	};
	return 0;
}
