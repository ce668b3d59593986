/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The io_manager dms_ext4_format() hands libext2fs.
 *
 * libext2fs' unix_io passes each write straight to pwrite(): formatting issues a
 * thousand one-block writes (the reserved GDT blocks alone are 1024) and a few
 * large ones (the backup descriptor tables, 512 KiB each at 1 TiB), all into the
 * page cache, which the final fsync then writes back page by page. Measured in
 * the QEMU guest on a dm-thin device, that writeback costs two to three times
 * what the same bytes cost written directly, in a few large writes.
 *
 * So this manager holds what is written, as whole 4 KiB blocks (a block written in
 * part is read from the device first), and at each flush writes the held blocks
 * in runs of consecutive ones, one pwritev() per run, then fdatasync()s. Writes of
 * 64 KiB and more, whole blocks, go to the device at once (see write_through()). libext2fs
 * flushes before it writes the primary superblock and again after, so the order
 * mkfs relies on holds: nothing points at the new filesystem until all of it is on
 * the device. Reads see the held blocks. The blocks live in slabs mapped with
 * MAP_POPULATE: one call rather than a page fault per page, which in a VM is the
 * difference between noise and most of the cost.
 *
 * Direct writes are for block devices only. A regular file (the unit tests' sparse
 * files) gets the same runs through the page cache: there its file system's delayed
 * allocation does the merging, and O_DIRECT into holes would allocate extent by
 * extent, synchronously. Where a device refuses O_DIRECT the page cache is used too.
 *
 * Only what formatting uses is implemented; discard and options are refused.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fs/ext4-io.h"

#define BLOCK 4096ULL		/* held unit; covers every logical block size O_DIRECT asks for */
#define SLAB_BLOCKS 256		/* 1 MiB of held blocks per mapping: populated in full, so not more */
#define WRITE_THROUGH_MIN (64 * 1024)

struct held {
	int fd;
	bool direct;		/* a block device: runs go out with O_DIRECT */
	/* Held blocks: an open-addressing table from block number + 1 (0 is empty) to slot. */
	uint64_t *keys;
	uint32_t *slots;
	size_t n_buckets, n_held;
	uint8_t **slabs;
	size_t n_slabs;
	void *bounce;		/* aligned, for writes that go through at once */
	size_t bounce_len;
	struct struct_io_stats stats;
};

static struct held *held_of(io_channel ch)
{
	return ch->private_data;
}

static size_t byte_count(io_channel ch, int count)
{
	return count < 0 ? (size_t)-(int64_t)count : (size_t)count * ch->block_size;
}

static uint8_t *slot_data(struct held *h, uint32_t slot)
{
	return h->slabs[slot / SLAB_BLOCKS] + (size_t)(slot % SLAB_BLOCKS) * BLOCK;
}

static size_t bucket_of(const struct held *h, uint64_t blk)
{
	return (size_t)((blk * 0x9e3779b97f4a7c15ULL) >> 20) & (h->n_buckets - 1);
}

static bool find_held(const struct held *h, uint64_t blk, uint32_t *ret_slot)
{
	if (h->n_buckets == 0)
		return false;
	for (size_t b = bucket_of(h, blk);; b = (b + 1) & (h->n_buckets - 1)) {
		if (h->keys[b] == 0)
			return false;
		if (h->keys[b] == blk + 1) {
			*ret_slot = h->slots[b];
			return true;
		}
	}
}

static void insert_held(struct held *h, uint64_t blk, uint32_t slot)
{
	size_t b = bucket_of(h, blk);

	while (h->keys[b] != 0)
		b = (b + 1) & (h->n_buckets - 1);
	h->keys[b] = blk + 1;
	h->slots[b] = slot;
}

/* Kept at most half full, so probes stay short. */
static errcode_t grow_table(struct held *h)
{
	size_t n = h->n_buckets ? h->n_buckets * 2 : 4096;
	uint64_t *old_keys = h->keys;
	uint32_t *old_slots = h->slots;
	size_t old_n = h->n_buckets;

	h->keys = calloc(n, sizeof(*h->keys));
	h->slots = calloc(n, sizeof(*h->slots));
	if (!h->keys || !h->slots) {
		free(h->keys);
		free(h->slots);
		h->keys = old_keys, h->slots = old_slots;
		return EXT2_ET_NO_MEMORY;
	}
	h->n_buckets = n;
	for (size_t b = 0; b < old_n; b++)
		if (old_keys[b])
			insert_held(h, old_keys[b] - 1, old_slots[b]);
	free(old_keys);
	free(old_slots);
	return 0;
}

static errcode_t new_slot(struct held *h, uint32_t *ret_slot)
{
	if (h->n_held == h->n_slabs * SLAB_BLOCKS) {
		uint8_t **slabs = reallocarray(h->slabs, h->n_slabs + 1, sizeof(*slabs));
		void *m;

		if (!slabs)
			return EXT2_ET_NO_MEMORY;
		h->slabs = slabs;
		m = mmap(NULL, SLAB_BLOCKS * BLOCK, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (m == MAP_FAILED)
			return EXT2_ET_NO_MEMORY;
		h->slabs[h->n_slabs++] = m;
	}
	if (h->n_held + 1 > h->n_buckets / 2) {
		errcode_t err = grow_table(h);

		if (err)
			return err;
	}
	*ret_slot = (uint32_t)h->n_held++;
	return 0;
}

static errcode_t pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0) {
			/* Past the end: what a sparse device would return. */
			memset(p, 0, len);
			return EXT2_ET_SHORT_READ;
		}
		p += n, off += n, len -= n;
	}
	return 0;
}

/* All of iov at off; short writes resume where they stopped (iov is consumed). */
static errcode_t pwritev_full(int fd, struct iovec *iov, int n, uint64_t off)
{
	while (n > 0) {
		ssize_t w = pwritev(fd, iov, n > IOV_MAX ? IOV_MAX : n, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return errno;
		if (w == 0)
			return EXT2_ET_SHORT_WRITE;
		off += w;
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= iov->iov_len;
			iov++, n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + w;
			iov->iov_len -= w;
		}
	}
	return 0;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void forget_held(struct held *h)
{
	if (h->keys)
		memset(h->keys, 0, h->n_buckets * sizeof(*h->keys));
	h->n_held = 0;
}

/*
 * Writes with O_DIRECT on for their duration: reads stay buffered, as libext2fs'
 * buffers are not aligned. A device that takes the flag and then refuses the write
 * gets it through the page cache, and no more direct writes.
 */
static errcode_t write_direct(struct held *h, struct iovec *iov, int n, uint64_t off)
{
	int fl = fcntl(h->fd, F_GETFL);
	bool direct = h->direct && fl >= 0 && fcntl(h->fd, F_SETFL, fl | O_DIRECT) == 0;
	errcode_t err = pwritev_full(h->fd, iov, n, off);

	if (direct && fcntl(h->fd, F_SETFL, fl) < 0 && !err)
		err = errno;
	if (err == EINVAL && direct) {
		h->direct = false;
		err = pwritev_full(h->fd, iov, n, off);
	}
	return err;
}

static errcode_t write_runs(struct held *h, const uint64_t *blks, struct iovec *iov)
{
	errcode_t err = 0;

	for (size_t i = 0, end; i < h->n_held && !err; i = end) {
		uint32_t slot;

		for (end = i; end < h->n_held && blks[end] == blks[i] + (end - i); end++) {
			find_held(h, blks[end], &slot);
			iov[end] = (struct iovec){ slot_data(h, slot), BLOCK };
		}
		err = write_direct(h, iov + i, (int)(end - i), blks[i] * BLOCK);
	}
	return err;
}

/* The held blocks to the device, in runs of consecutive blocks; they are then let go. */
static errcode_t write_held(struct held *h)
{
	uint64_t *blks = NULL;
	struct iovec *iov = NULL;
	errcode_t err = 0;
	size_t n = 0;

	if (h->n_held == 0)
		return 0;
	blks = calloc(h->n_held, sizeof(*blks));
	iov = calloc(h->n_held, sizeof(*iov));
	if (!blks || !iov) {
		err = EXT2_ET_NO_MEMORY;
		goto out;
	}
	for (size_t b = 0; b < h->n_buckets; b++)
		if (h->keys[b])
			blks[n++] = h->keys[b] - 1;
	qsort(blks, n, sizeof(*blks), u64_cmp);
	err = write_runs(h, blks, iov);
	if (!err)
		forget_held(h);
out:
	free(blks);
	free(iov);
	return err;
}

/*
 * Large whole-block writes (the backup descriptor tables) go to the device at once
 * instead of into slabs: holding them would only cost memory. Before the flush that
 * is as good as later: only the primary superblock must wait, and it does. Blocks
 * already held in the range take the new bytes too, so the flush cannot undo them.
 */
static errcode_t write_through(struct held *h, uint64_t off, size_t len, const void *data)
{
	struct iovec iov;

	for (size_t done = 0; done < len; done += BLOCK) {
		uint32_t slot;

		if (find_held(h, (off + done) / BLOCK, &slot))
			memcpy(slot_data(h, slot), (const uint8_t *)data + done, BLOCK);
	}
	if (h->bounce_len < len) {
		free(h->bounce);
		h->bounce = NULL;
		h->bounce_len = 0;
		if (posix_memalign(&h->bounce, BLOCK, len))
			return EXT2_ET_NO_MEMORY;
		h->bounce_len = len;
	}
	memcpy(h->bounce, data, len);
	iov = (struct iovec){ h->bounce, len };
	return write_direct(h, &iov, 1, off);
}

static errcode_t hold_write(io_channel ch, uint64_t off, size_t len, const void *data)
{
	struct held *h = held_of(ch);
	const uint8_t *src = data;

	h->stats.bytes_written += len;
	if (off % BLOCK == 0 && len % BLOCK == 0 && len >= WRITE_THROUGH_MIN)
		return write_through(h, off, len, data);
	while (len > 0) {
		uint64_t blk = off / BLOCK;
		size_t in = off % BLOCK, n = BLOCK - in < len ? BLOCK - in : len;
		uint32_t slot;
		errcode_t err;

		if (!find_held(h, blk, &slot)) {
			err = new_slot(h, &slot);
			if (err)
				return err;
			/* A block written in part keeps the device's bytes around the write. */
			err = n < BLOCK ? pread_full(h->fd, slot_data(h, slot), BLOCK, blk * BLOCK) : 0;
			if (err && err != EXT2_ET_SHORT_READ) {
				h->n_held--;
				return err;
			}
			insert_held(h, blk, slot);
		}
		memcpy(slot_data(h, slot) + in, src, n);
		src += n, off += n, len -= n;
	}
	return 0;
}

static errcode_t held_open(const char *name, int flags, io_channel *ret)
{
	int oflags = O_CLOEXEC | ((flags & IO_FLAG_RW) ? O_RDWR : O_RDONLY);
	io_channel ch = NULL;
	struct held *h = NULL;
	struct stat st;
	errcode_t err;

	if (!name || !ret)
		return EXT2_ET_BAD_DEVICE_NAME;
	if (flags & IO_FLAG_EXCLUSIVE)
		oflags |= O_EXCL;
	ch = calloc(1, sizeof(*ch));
	h = calloc(1, sizeof(*h));
	if (ch)
		ch->name = strdup(name);
	if (!ch || !h || !ch->name) {
		err = EXT2_ET_NO_MEMORY;
		goto fail;
	}
	h->fd = open(name, oflags);
	if (h->fd < 0) {
		err = errno;
		goto fail;
	}
	if (fstat(h->fd, &st) < 0) {
		err = errno;
		close(h->fd);
		goto fail;
	}
	h->direct = S_ISBLK(st.st_mode);
	h->stats.num_fields = 2;
	ch->magic = EXT2_ET_MAGIC_IO_CHANNEL;
	ch->manager = dms_ext4_io_manager;
	ch->block_size = 1024;
	ch->refcount = 1;
	ch->flags = S_ISBLK(st.st_mode) ? CHANNEL_FLAGS_BLOCK_DEVICE : 0;
	ch->private_data = h;
	*ret = ch;
	return 0;

fail:
	if (ch)
		free(ch->name);
	free(ch);
	free(h);
	return err;
}

static errcode_t held_close(io_channel ch)
{
	struct held *h = held_of(ch);
	errcode_t err;

	if (--ch->refcount > 0)
		return 0;
	/* As unix_io's close: what was written reaches the device, without a sync. */
	err = write_held(h);
	for (size_t i = 0; i < h->n_slabs; i++)
		munmap(h->slabs[i], SLAB_BLOCKS * BLOCK);
	free(h->slabs);
	free(h->bounce);
	free(h->keys);
	free(h->slots);
	if (close(h->fd) < 0 && !err)
		err = errno;
	free(h);
	free(ch->name);
	free(ch);
	return err;
}

static errcode_t held_set_blksize(io_channel ch, int blksize)
{
	/* Held blocks are 4 KiB whatever libext2fs' unit: nothing to do but remember it. */
	ch->block_size = blksize;
	return 0;
}

static errcode_t held_read_blk64(io_channel ch, unsigned long long block, int count, void *data)
{
	struct held *h = held_of(ch);
	uint64_t off = block * ch->block_size, end;
	size_t len = byte_count(ch, count);
	errcode_t err = pread_full(h->fd, data, len, off);

	if (err && err != EXT2_ET_SHORT_READ)
		return err;
	end = off + len;
	for (uint64_t blk = off / BLOCK; blk * BLOCK < end; blk++) {
		uint64_t from = blk * BLOCK > off ? blk * BLOCK : off;
		uint64_t to = (blk + 1) * BLOCK < end ? (blk + 1) * BLOCK : end;
		uint32_t slot;

		if (find_held(h, blk, &slot))
			memcpy((uint8_t *)data + (from - off), slot_data(h, slot) + (from - blk * BLOCK), to - from);
	}
	h->stats.bytes_read += len;
	return err;
}

static errcode_t held_read_blk(io_channel ch, unsigned long block, int count, void *data)
{
	return held_read_blk64(ch, block, count, data);
}

static errcode_t held_write_blk64(io_channel ch, unsigned long long block, int count, const void *data)
{
	return hold_write(ch, block * ch->block_size, byte_count(ch, count), data);
}

static errcode_t held_write_blk(io_channel ch, unsigned long block, int count, const void *data)
{
	return held_write_blk64(ch, block, count, data);
}

static errcode_t held_write_byte(io_channel ch, unsigned long offset, int count, const void *data)
{
	return count < 0 ? EXT2_ET_INVALID_ARGUMENT : hold_write(ch, offset, (size_t)count, data);
}

static errcode_t held_flush(io_channel ch)
{
	struct held *h = held_of(ch);
	errcode_t err = write_held(h);

	if (!err && fdatasync(h->fd) < 0)
		err = errno;
	return err;
}

static errcode_t held_set_option(io_channel ch, const char *option, const char *arg)
{
	return EXT2_ET_INVALID_ARGUMENT;
}

static errcode_t held_get_stats(io_channel ch, io_stats *stats)
{
	if (stats)
		*stats = &held_of(ch)->stats;
	return 0;
}

/*
 * Zeroing goes to the device at once, after what is held (which it may cover), as
 * unix_io does it: a hole punched where the device can, zeroes written by the kernel
 * where it cannot. Neither: the caller writes zeroes itself.
 */
static errcode_t held_zeroout(io_channel ch, unsigned long long block, unsigned long long count)
{
	struct held *h = held_of(ch);
	off_t off = (off_t)(block * ch->block_size), len = (off_t)(count * ch->block_size);
	errcode_t err = write_held(h);

	if (err)
		return err;
	if (fallocate(h->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len) == 0 ||
	    fallocate(h->fd, FALLOC_FL_ZERO_RANGE, off, len) == 0)
		return 0;
	return EXT2_ET_UNIMPLEMENTED;
}

static errcode_t held_discard(io_channel ch, unsigned long long block, unsigned long long count)
{
	return EXT2_ET_UNIMPLEMENTED;
}

static struct struct_io_manager held_io_manager = {
	.magic = EXT2_ET_MAGIC_IO_MANAGER,
	.name = "dmstore held-write I/O manager",
	.open = held_open,
	.close = held_close,
	.set_blksize = held_set_blksize,
	.read_blk = held_read_blk,
	.write_blk = held_write_blk,
	.flush = held_flush,
	.write_byte = held_write_byte,
	.set_option = held_set_option,
	.get_stats = held_get_stats,
	.read_blk64 = held_read_blk64,
	.write_blk64 = held_write_blk64,
	.discard = held_discard,
	.zeroout = held_zeroout,
};

io_manager dms_ext4_io_manager = &held_io_manager;
