// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The dmstore label, written by hand: no library has a "which pool owns this
 * disk" record that dm-thin's data device could carry. The layout, little
 * endian, in one 4 KiB block (one direct I/O on 512, 512e and 4Kn disks):
 *
 *   0   magic "DMSTORE-LABEL\0\0\0"  16 bytes
 *   16  version (1)                  le32
 *   20  crc32c of the block with this field zero, seed ~0   le32
 *   24  pool uuid, text, NUL-padded   40 bytes
 *   64  pool name, NUL-padded         64 bytes
 *   128 zeroes to the end
 *
 * libblkid looks for signatures at fixed places from a device's start and its
 * very end (the last few KiB, md's last 64-128 KiB); a block 1 MiB before the
 * end, whose magic is no known signature's, is none of them, so blkid and
 * wipefs stay quiet about it.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include <ext2fs/ext2fs.h>

#include "dms-util.h"
#include "fs/blockdev.h"
#include "fs/label.h"

static const char label_magic[16] = "DMSTORE-LABEL";

#define LABEL_VERSION 1
#define OFF_VERSION 16
#define OFF_CRC 20
#define OFF_UUID 24
#define OFF_POOL 64
#define UUID_ROOM 40
#define POOL_ROOM 64

_Static_assert(DMS_LABEL_SIZE == DMS_BLOCKDEV_DIRECT_BLOCK, "the label is one direct I/O block");

uint64_t dms_label_offset(uint64_t size)
{
	if (size < DMS_LABEL_RESERVED)
		return 0;
	return (size - DMS_LABEL_RESERVED) / DMS_LABEL_SIZE * DMS_LABEL_SIZE;
}

static uint32_t label_crc(const uint8_t *block)
{
	uint8_t copy[DMS_LABEL_SIZE];

	memcpy(copy, block, sizeof(copy));
	memset(copy + OFF_CRC, 0, 4);
	return ext2fs_crc32c_le(~0U, copy, sizeof(copy));
}

void dms_label_encode(const struct dms_label *label, void *block)
{
	uint8_t *b = block;
	uint32_t v;

	memset(b, 0, DMS_LABEL_SIZE);
	memcpy(b, label_magic, sizeof(label_magic));
	v = htole32(LABEL_VERSION);
	memcpy(b + OFF_VERSION, &v, 4);
	memcpy(b + OFF_UUID, label->uuid, strnlen(label->uuid, sizeof(label->uuid) - 1));
	memcpy(b + OFF_POOL, label->pool, strnlen(label->pool, sizeof(label->pool) - 1));
	v = htole32(label_crc(b));
	memcpy(b + OFF_CRC, &v, 4);
}

int dms_label_decode(const void *block, struct dms_label *ret_label)
{
	const uint8_t *b = block;
	struct dms_label label = { 0 };
	size_t uuid_len, pool_len;
	uint32_t version, crc;

	if (memcmp(b, label_magic, sizeof(label_magic)) != 0)
		return -ENODATA;
	memcpy(&version, b + OFF_VERSION, 4);
	memcpy(&crc, b + OFF_CRC, 4);
	uuid_len = strnlen((const char *)b + OFF_UUID, UUID_ROOM);
	pool_len = strnlen((const char *)b + OFF_POOL, POOL_ROOM);
	if (le32toh(version) != LABEL_VERSION || le32toh(crc) != label_crc(b) || uuid_len >= sizeof(label.uuid) ||
	    pool_len >= sizeof(label.pool))
		return -EBADMSG;
	memcpy(label.uuid, b + OFF_UUID, uuid_len);
	memcpy(label.pool, b + OFF_POOL, pool_len);
	*ret_label = label;
	return 0;
}

int dms_label_read(int fd, uint64_t offset, struct dms_label *ret_label)
{
	uint8_t block[DMS_LABEL_SIZE];
	int r;

	r = dms_blockdev_read_block(fd, offset, block);
	if (r < 0)
		return r;
	return dms_label_decode(block, ret_label);
}

int dms_label_write(int fd, uint64_t offset, const struct dms_label *label)
{
	uint8_t block[DMS_LABEL_SIZE];

	dms_label_encode(label, block);
	return dms_blockdev_write_block(fd, offset, block);
}

int dms_label_wipe(int fd, uint64_t offset)
{
	static const uint8_t zero[DMS_LABEL_SIZE];

	return dms_blockdev_write_block(fd, offset, zero);
}
