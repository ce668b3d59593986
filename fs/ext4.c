/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ext4 format and grow.
 *
 * dms_ext4_format() is mke2fs (e2fsprogs 1.47.0, misc/mke2fs.c) cut down to the one
 * configuration dmstore uses: `mkfs.ext4 -G 1024 -E lazy_itable_init=1,
 * lazy_journal_init=1,nodiscard` with Debian 12's /etc/mke2fs.conf. It takes mke2fs'
 * decisions from the device size (usage type, block size, inode ratio; libext2fs then
 * derives the journal size and reserved GDT blocks) and calls libext2fs in mke2fs'
 * order, so the result has that command's layout, mkfs.ext4's default feature set
 * and its accounting, with its own random UUID and hash seed. No exec: formatting is
 * on the path of every volume and image create.
 *
 * The one departure from mkfs.ext4's defaults is the flex_bg size, 1024 groups
 * (128 GiB) rather than 16 (2 GiB). Each flex group keeps its bitmaps and inode
 * tables in its first groups, and those groups' block bitmaps must be written; on a
 * thin device each lands in a pool chunk of its own. At 16 a 1 TiB volume starts
 * with 512 of them, 47 MiB of pool for an empty filesystem; at 1024, 16 MiB, of
 * which 10 MiB are the backup superblocks and descriptors sparse_super places.
 * Bigger flex groups are what large filesystems are tuned with (Lustre formats its
 * targets with -G 256 and up); the kernel, e2fsck and resize2fs take any power of 2.
 *
 * The mke2fs.conf defaults are compiled in rather than read at run time. The profile
 * parser is private to e2fsprogs (libext2fs does not export it), and an image or volume
 * must not change shape with the host that formatted it: a host whose mke2fs.conf adds
 * orphan_file or metadata_csum_seed would make filesystems older kernels refuse.
 * tests/unit/test-ext4.c compares every run against the installed mkfs.ext4, so a
 * drift in e2fsprogs' defaults shows up as a failing test, not as odd filesystems.
 *
 * Cost: on dm-thin every block written allocates a pool chunk, so this writes only
 * what mke2fs writes: no discard, no inode-table or journal zeroing (lazy init), and
 * libext2fs skips the bitmaps of BLOCK_UNINIT/INODE_UNINIT groups. What it writes goes
 * through fs/ext4-io.c, which holds it until libext2fs flushes and then writes it as
 * a few large direct writes rather than a thousand small buffered ones. With assume_zeroed
 * (mke2fs' -E assume_storage_prezeroed=1) it writes less still: the wipes of old
 * signatures at both ends of the device are dropped as pointless.
 */

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ext2fs/ext2fs.h>

#include "dms-exec.h"
#include "dms-util.h"
#include "fs/ext4-io.h"
#include "fs/ext4.h"

#define MAX_32_NUM ((1ULL << 32) - 1)

/*
 * libext2fs returns errno values unchanged for system-call failures and its own
 * com_err table (EXT2_ET_*, far above the errno range) for everything else.
 */
static int ext2_errno(errcode_t e)
{
	if (e == 0)
		return 0;
	if (e > 0 && e < 4096)
		return (int)-e;
	switch (e) {
	case EXT2_ET_NO_MEMORY:
		return -ENOMEM;
	case EXT2_ET_TOOSMALL:
	case EXT2_ET_BLOCK_ALLOC_FAIL:
	case EXT2_ET_INODE_ALLOC_FAIL:
	case EXT2_ET_DIR_NO_SPACE:
	case EXT2_ET_RES_GDT_BLOCKS:
	case EXT2_ET_JOURNAL_TOO_SMALL:
		return -ENOSPC;
	case EXT2_ET_INVALID_ARGUMENT:
	case EXT2_ET_BAD_MAGIC:
		return -EINVAL;
	case EXT2_ET_RO_FILSYS:
	case EXT2_ET_FILE_RO:
		return -EROFS;
	case EXT2_ET_UNIMPLEMENTED:
	case EXT2_ET_OP_NOT_SUPPORTED:
		return -EOPNOTSUPP;
	default:
		return -EIO;
	}
}

/* What mke2fs learns about the device; a regular file reports zeros but its size. */
struct target {
	uint64_t bytes;
	unsigned int lsect, psect, io_min, io_opt;
};

/*
 * stat() before open(): opening an arbitrary character device can have effects
 * (a watchdog starts, a tape rewinds), so only files and block devices get opened.
 */
static int open_target(const char *device, struct target *ret, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	struct target t = { 0 };
	struct stat st;
	int sect = 0;

	if (!device)
		return -EINVAL;
	if (stat(device, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return -EINVAL;
	fd = open(device, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode)) {
		t.bytes = st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &t.bytes) < 0)
			return -errno;
		/* Best effort, as mke2fs (through libblkid): unknown limits stay 0. */
		if (ioctl(fd, BLKSSZGET, &sect) == 0 && sect > 0)
			t.lsect = sect;
		(void)ioctl(fd, BLKPBSZGET, &t.psect);
		(void)ioctl(fd, BLKIOMIN, &t.io_min);
		(void)ioctl(fd, BLKIOOPT, &t.io_opt);
	} else {
		return -EINVAL;
	}
	*ret = t;
	if (ret_fd)
		*ret_fd = DMS_TAKE_FD(fd);
	return 0;
}

/*
 * mke2fs.conf [fs_types] usage types, picked by size as mke2fs' parse_fs_type() does;
 * blocksize and inode_ratio are what Debian 12's mke2fs.conf gives each (its
 * [defaults]: blocksize 4096, inode_ratio 16384).
 */
static const struct usage_type {
	uint64_t below;	/* bytes */
	unsigned int blocksize;
	unsigned int inode_ratio;
} usage_types[] = {
	{ 3 * DMS_MIB, 1024, 8192 },	/* floppy */
	{ 512 * DMS_MIB, 1024, 4096 },	/* small */
	{ 4 * DMS_TIB, 4096, 16384 },	/* default */
	{ 16 * DMS_TIB, 4096, 32768 },	/* big */
	{ UINT64_MAX, 4096, 65536 },	/* huge */
};

/* mke2fs.conf [defaults] base_features plus [fs_types] ext4 features. */
#define FEATURE_COMPAT                                                         \
	(EXT2_FEATURE_COMPAT_EXT_ATTR | EXT2_FEATURE_COMPAT_RESIZE_INODE |     \
	 EXT2_FEATURE_COMPAT_DIR_INDEX | EXT3_FEATURE_COMPAT_HAS_JOURNAL)
#define FEATURE_INCOMPAT                                                       \
	(EXT2_FEATURE_INCOMPAT_FILETYPE | EXT3_FEATURE_INCOMPAT_EXTENTS |      \
	 EXT4_FEATURE_INCOMPAT_64BIT | EXT4_FEATURE_INCOMPAT_FLEX_BG)
#define FEATURE_RO_COMPAT                                                      \
	(EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER |                                 \
	 EXT2_FEATURE_RO_COMPAT_LARGE_FILE | EXT4_FEATURE_RO_COMPAT_HUGE_FILE | \
	 EXT4_FEATURE_RO_COMPAT_DIR_NLINK |                                    \
	 EXT4_FEATURE_RO_COMPAT_EXTRA_ISIZE |                                  \
	 EXT4_FEATURE_RO_COMPAT_METADATA_CSUM)

/* The superblock template ext2fs_initialize() builds from: mke2fs' PRS(), condensed. */
static int build_params(const struct target *t, struct ext2_super_block *p)
{
	const struct usage_type *u = usage_types;
	long page = sysconf(_SC_PAGESIZE);
	uint64_t kib = t->bytes / DMS_KIB, blocks, inodes;
	unsigned int bs, ratio, log_bs;

	/* mke2fs measures in 1 KiB units and trims to whole pages before choosing. */
	if (page > 1024)
		kib &= ~((uint64_t)page / 1024 - 1);
	while (kib * DMS_KIB >= u->below)
		u++;
	bs = u->blocksize;
	if (t->lsect > bs)
		bs = t->lsect;
	ratio = u->inode_ratio > bs ? u->inode_ratio : bs;
	blocks = kib / (bs / 1024);
	log_bs = __builtin_ctz(bs);
	if (blocks == 0)
		return -ENOSPC;
	/* Beyond this the group descriptor count overflows. */
	if (blocks > (1ULL << (log_bs + 3 + 32)) - 1)
		return -EFBIG;

	memset(p, 0, sizeof(*p));
	p->s_rev_level = EXT2_DYNAMIC_REV;
	p->s_feature_compat = FEATURE_COMPAT;
	p->s_feature_incompat = FEATURE_INCOMPAT;
	p->s_feature_ro_compat = FEATURE_RO_COMPAT;
	/* Block numbers past 32 bits cannot be listed in the resize inode. */
	if (blocks > MAX_32_NUM)
		p->s_feature_compat &= ~EXT2_FEATURE_COMPAT_RESIZE_INODE;
	p->s_log_block_size = log_bs - EXT2_MIN_BLOCK_LOG_SIZE;
	p->s_log_cluster_size = p->s_log_block_size;
	ext2fs_blocks_count_set(p, blocks);
	p->s_desc_size = EXT2_MIN_DESC_SIZE_64BIT;
	p->s_default_mount_opts = EXT2_DEFM_XATTR_USER | EXT2_DEFM_ACL;
	p->s_log_groups_per_flex = 10;	/* flex_bg_size 1024: see the top of this file */
	p->s_inode_size = 256;

	/* RAID hints from the I/O limits (a thin pool's chunk), as get_device_geometry(). */
	unsigned int min_io = t->io_min, opt_io = t->io_opt;
	if (!min_io && t->psect > bs)
		min_io = t->psect;
	if (!opt_io)
		opt_io = min_io ? min_io : (t->psect > bs ? t->psect : 0);
	if (min_io > bs)
		p->s_raid_stride = min_io / bs;
	if (opt_io > bs)
		p->s_raid_stripe_width = opt_io / bs;

	inodes = blocks * bs / ratio;
	if (inodes > MAX_32_NUM)
		inodes = MAX_32_NUM;
	if (inodes * p->s_inode_size >= blocks * bs)
		return -ENOSPC;
	p->s_inodes_count = inodes;
	ext2fs_r_blocks_count_set(p, blocks / 20);	/* reserved_ratio 5% */
	return 0;
}

static int random_uuid(void *ret)
{
	uint8_t *u = ret;
	ssize_t n;

	/* Up to 256 bytes, getrandom() fills all or fails. */
	while ((n = getrandom(u, 16, 0)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return -errno;
	/* RFC 4122 version 4, what uuid_generate() makes from a random source. */
	u[6] = (u[6] & 0x0f) | 0x40;
	u[8] = (u[8] & 0x3f) | 0x80;
	return 0;
}

/* Set before the tables are allocated: every checksum written later is seeded from the UUID. */
static int set_identity(ext2_filsys fs, const char *label)
{
	struct ext2_super_block *sb = fs->super;
	int r;

	r = random_uuid(sb->s_uuid);
	if (r < 0)
		return r;
	ext2fs_init_csum_seed(fs);
	r = random_uuid(sb->s_hash_seed);
	if (r < 0)
		return r;
	sb->s_def_hash_version = EXT2_HASH_HALF_MD4;
	sb->s_max_mnt_count = -1;	/* enable_periodic_fsck = 0 */
	sb->s_checksum_type = EXT2_CRC32C_CHKSUM;
	/* mke2fs sets this so ext2fs_close() adds up what was written: "Lifetime writes". */
	sb->s_kbytes_written = 1;
	if (label)
		memcpy(sb->s_volume_name, label, strlen(label));
	return 0;
}

/*
 * Our own zeroing rather than ext2fs_zero_blocks2(), whose static buffer makes two
 * formats in one process race. Zero-out first (a hole in a file costs nothing).
 */
static int zero_blocks(ext2_filsys fs, blk64_t blk, int num)
{
	_cleanup_free_ void *buf = NULL;

	if (num <= 0 || io_channel_zeroout(fs->io, blk, num) == 0)
		return 0;
	buf = calloc(num, fs->blocksize);
	if (!buf)
		return -ENOMEM;
	return ext2_errno(io_channel_write_blk64(fs->io, blk, num, buf));
}

/*
 * Wipe old signatures the new superblock does not cover: the first 4 KiB (a swap
 * signature ends at 4095, other filesystems start at 0) and the last 64-128 KiB
 * (MD RAID superblocks), the ranges mke2fs clears. mke2fs spares a BSD disklabel in
 * sector 0; a whole thin device never carries one.
 */
static int wipe_old_signatures(ext2_filsys fs)
{
	blk64_t blocks = ext2fs_blocks_count(fs->super);
	blk64_t rsv = 65536 / fs->blocksize, start = blocks & ~(rsv - 1);
	char buf[4096] = { 0 };
	errcode_t err;

	/* A negative count is in bytes, whatever the block size. */
	err = io_channel_write_blk64(fs->io, 0, -(int)sizeof(buf), buf);
	if (err)
		return ext2_errno(err);
	if (start > rsv)
		start -= rsv;
	return start > 0 ? zero_blocks(fs, start, blocks - start) : 0;
}

static bool blocks_free(ext2_filsys fs, blk64_t blk, blk64_t num)
{
	return blk + num <= ext2fs_blocks_count(fs->super) && ext2fs_test_block_bitmap_range2(fs->block_map, blk, num);
}

static bool disjoint(blk64_t a, blk64_t a_len, blk64_t b, blk64_t b_len)
{
	return a + a_len <= b || b + b_len <= a;
}

/*
 * The bitmaps and inode tables of groups FIRST..FIRST+N-1 (of one flex group)
 * right after group FIRST-1's, each kind in one run; true if they went there.
 * libext2fs' allocator, group by group, puts each table right after the previous
 * group's whenever those blocks are free; when all three runs are free and apart
 * from each other from the start, that is every time, so the runs are the layout
 * it makes. They are accounted as it accounts them.
 */
static bool place_runs(ext2_filsys fs, dgrp_t first, dgrp_t n)
{
	blk64_t ipg = fs->inode_blocks_per_group;
	blk64_t bb = ext2fs_block_bitmap_loc(fs, first - 1) + 1, ib = ext2fs_inode_bitmap_loc(fs, first - 1) + 1;
	blk64_t it = ext2fs_inode_table_loc(fs, first - 1) + ipg;

	if (!blocks_free(fs, bb, n) || !blocks_free(fs, ib, n) || !blocks_free(fs, it, n * ipg) ||
	    !disjoint(bb, n, ib, n) || !disjoint(bb, n, it, n * ipg) || !disjoint(ib, n, it, n * ipg))
		return false;
	ext2fs_block_alloc_stats_range(fs, bb, n, +1);
	ext2fs_block_alloc_stats_range(fs, ib, n, +1);
	ext2fs_block_alloc_stats_range(fs, it, n * ipg, +1);
	for (dgrp_t k = 0; k < n; k++) {
		ext2fs_block_bitmap_loc_set(fs, first + k, bb + k);
		ext2fs_inode_bitmap_loc_set(fs, first + k, ib + k);
		ext2fs_inode_table_loc_set(fs, first + k, it + k * ipg);
	}
	return true;
}

/* One table at BLK, NUM blocks, accounted as libext2fs accounts it; false if they are not all free. */
static bool place_one(ext2_filsys fs, blk64_t blk, blk64_t num)
{
	if (!blocks_free(fs, blk, num))
		return false;
	ext2fs_block_alloc_stats_range(fs, blk, num, +1);
	return true;
}

/* place_runs() for one group G: its tables right after group G-1's, as far as they fit; true if all do. */
static bool place_after_previous(ext2_filsys fs, dgrp_t g)
{
	blk64_t ipg = fs->inode_blocks_per_group;
	blk64_t bb = ext2fs_block_bitmap_loc(fs, g - 1) + 1, ib = ext2fs_inode_bitmap_loc(fs, g - 1) + 1;
	blk64_t it = ext2fs_inode_table_loc(fs, g - 1) + ipg;

	if (!place_one(fs, bb, 1))
		return false;
	ext2fs_block_bitmap_loc_set(fs, g, bb);
	if (!place_one(fs, ib, 1))
		return false;
	ext2fs_inode_bitmap_loc_set(fs, g, ib);
	if (!place_one(fs, it, ipg))
		return false;
	ext2fs_inode_table_loc_set(fs, g, it);
	return true;
}

/*
 * Every group's bitmaps and inode table, where mke2fs places them, at a fraction of
 * mke2fs' cost at 8192 groups (1 TiB), where placing them was half of all the CPU a
 * format took:
 *  - libext2fs' allocator searches the block bitmap (a red-black tree) twice for
 *    each table of each group. It places the first group of each flex group here;
 *    the others go in three runs after it (place_runs), or, where something is in
 *    the way (a backup superblock, the end of the device), group by group, each
 *    right after the previous one where its tables fit, and finished by the
 *    allocator where one does not (it skips the tables already placed).
 *  - It checksums a group's descriptor again at each change to it, four times a
 *    group and more. Descriptor checksums are off while tables are placed, and each
 *    descriptor is summed once after, flags included.
 * Same bytes on disk: tests/unit/test-ext4.c compares every group with mkfs.ext4's.
 * On a zeroed device no inode table needs the kernel's lazy init.
 */
static int allocate_tables(ext2_filsys fs, bool zeroed)
{
	bool csum = ext2fs_has_feature_metadata_csum(fs->super);
	dgrp_t flex = 1U << fs->super->s_log_groups_per_flex, groups = fs->group_desc_count;
	errcode_t err = 0;

	ext2fs_clear_feature_metadata_csum(fs->super);
	for (dgrp_t g0 = 0; !err && g0 < groups; g0 += flex) {
		dgrp_t n = groups - g0 < flex ? groups - g0 : flex;

		err = ext2fs_allocate_group_table(fs, g0, fs->block_map);
		if (err || n == 1 || place_runs(fs, g0 + 1, n - 1))
			continue;
		for (dgrp_t g = g0 + 1; !err && g < g0 + n; g++)
			if (!place_after_previous(fs, g))
				err = ext2fs_allocate_group_table(fs, g, fs->block_map);
	}
	if (csum)
		ext2fs_set_feature_metadata_csum(fs->super);
	if (err)
		return ext2_errno(err);
	for (dgrp_t g = 0; g < groups; g++) {
		if (zeroed)
			ext2fs_bg_flags_set(fs, g, EXT2_BG_INODE_ZEROED);
		ext2fs_group_desc_csum_set(fs, g);
	}
	return 0;
}

/*
 * Lazy inode tables, as mke2fs' write_inode_tables(): only the blocks holding inodes
 * in use (the reserved ones in group 0) are zeroed; the kernel zeroes the rest in
 * the background unless the group says the device already did (EXT2_BG_INODE_ZEROED).
 */
static int init_inode_tables(ext2_filsys fs, bool zeroed)
{
	_cleanup_free_ struct ext2_inode *zero = NULL;
	unsigned int isz = EXT2_INODE_SIZE(fs->super);
	errcode_t err;
	int r;

	for (dgrp_t g = 0; !zeroed && g < fs->group_desc_count; g++) {
		unsigned int used = fs->super->s_inodes_per_group - ext2fs_bg_itable_unused(fs, g);

		r = zero_blocks(fs, ext2fs_inode_table_loc(fs, g),
				ext2fs_div_ceil(used * isz, fs->blocksize));
		if (r < 0)
			return r;
	}

	/* With metadata_csum even unused reserved inodes must carry valid checksums. */
	zero = calloc(1, isz);
	if (!zero)
		return -ENOMEM;
	for (ext2_ino_t ino = 1; ino < EXT2_FIRST_INO(fs->super); ino++) {
		err = ext2fs_write_inode_full(fs, ino, zero, isz);
		if (err)
			return ext2_errno(err);
	}
	return 0;
}

/*
 * Root; lost+found with 16 KiB preallocated, so e2fsck can reconnect orphans without
 * allocating on a damaged filesystem (unless the caller wants none); the reserved
 * inodes; the resize inode.
 */
static int populate(ext2_filsys fs, bool lost_found)
{
	static const char lpf[] = "lost+found";
	unsigned int size = 0;
	ext2_ino_t ino;
	errcode_t err;

	err = ext2fs_mkdir(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, NULL);
	if (err)
		return ext2_errno(err);
	fs->umask = 077;
	err = lost_found ? ext2fs_mkdir(fs, EXT2_ROOT_INO, 0, lpf) : 0;
	if (!err && lost_found)
		err = ext2fs_lookup(fs, EXT2_ROOT_INO, lpf, sizeof(lpf) - 1, NULL, &ino);
	for (int i = 1; !err && lost_found && i < EXT2_NDIR_BLOCKS; i++) {
		size += fs->blocksize;
		if (size >= 16 * 1024 && size >= 2 * fs->blocksize)
			break;
		err = ext2fs_expand_dir(fs, ino);
	}
	if (err)
		return ext2_errno(err);

	for (ino = EXT2_ROOT_INO + 1; ino < EXT2_FIRST_INODE(fs->super); ino++)
		ext2fs_inode_alloc_stats2(fs, ino, +1, 0);
	ext2fs_mark_ib_dirty(fs);
	/* An empty bad-blocks inode: e2fsck expects inode 1 in use. */
	ext2fs_mark_inode_bitmap2(fs->inode_map, EXT2_BAD_INO);
	ext2fs_inode_alloc_stats2(fs, EXT2_BAD_INO, +1, 0);
	err = ext2fs_update_bb_inode(fs, NULL);
	if (!err && ext2fs_has_feature_resize_inode(fs->super))
		err = ext2fs_create_resize_inode(fs);
	return ext2_errno(err);
}

int dms_ext4_format(const char *device, const struct dms_ext4_format_opts *opts)
{
	static const struct dms_ext4_format_opts no_opts;
	struct ext2fs_journal_params jparams = { 0 };
	struct ext2_super_block param;
	ext2_filsys fs = NULL;
	struct target t;
	blk64_t overhead;
	errcode_t err;
	int r;

	if (!opts)
		opts = &no_opts;
	if (opts->label && strlen(opts->label) > EXT2_LABEL_LEN)
		return -EINVAL;
	r = open_target(device, &t, NULL);
	if (r < 0)
		return r;
	r = build_params(&t, &param);
	if (r < 0)
		return r;

	/* EXCLUSIVE: O_EXCL on a block device, so a mounted one fails with EBUSY. */
	err = ext2fs_initialize(device, EXT2_FLAG_EXCLUSIVE | EXT2_FLAG_64BITS, &param,
				dms_ext4_io_manager, &fs);
	if (err)
		return ext2_errno(err);

	/* Too small for a journal: mke2fs goes on without one, and so do we. */
	if (ext2fs_get_journal_params(&jparams, fs))
		memset(&jparams, 0, sizeof(jparams));
	if (!opts->assume_zeroed) {
		r = wipe_old_signatures(fs);
		if (r < 0)
			goto out_free;
	}
	r = set_identity(fs, opts->label);
	if (r < 0)
		goto out_free;

	fs->stride = fs->super->s_raid_stride;
	r = allocate_tables(fs, opts->assume_zeroed);
	if (r < 0)
		goto out_free;
	r = ext2_errno(ext2fs_count_used_clusters(fs, fs->super->s_first_data_block,
						  ext2fs_blocks_count(fs->super) - 1, &overhead));
	if (r < 0)
		goto out_free;

	r = init_inode_tables(fs, opts->assume_zeroed);
	if (r < 0)
		goto out_free;
	r = populate(fs, !opts->no_lost_found);
	if (r < 0)
		goto out_free;

	if (jparams.num_journal_blocks) {
		/* LAZYINIT: only the journal superblock is written; s_start = 0 means nothing to replay. */
		err = ext2fs_add_journal_inode3(fs, &jparams, ~0ULL,
						EXT2_MKJOURNAL_LAZYINIT |
							EXT2_MKJOURNAL_NO_MNT_CHECK);
		r = ext2_errno(err);
		if (r < 0)
			goto out_free;
		overhead += EXT2FS_NUM_B2C(fs, jparams.num_journal_blocks + jparams.num_fc_blocks);
	} else {
		ext2fs_clear_feature_journal(fs->super);
	}
	fs->super->s_overhead_clusters = overhead + fs->super->s_first_data_block;

	/* Bitmaps, descriptors, backups, then the primary superblock, each behind an fsync. */
	return ext2_errno(ext2fs_close_free(&fs));

out_free:
	ext2fs_free(fs);
	return r;
}

/* The on-disk superblock, read directly: a mounted filesystem is never opened by libext2fs. */
static int read_super(int fd, struct ext2_super_block *ret)
{
	ssize_t n = pread(fd, ret, sizeof(*ret), SUPERBLOCK_OFFSET);

	if (n < 0)
		return -errno;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	ext2fs_swap_super(ret);
#endif
	if (n != sizeof(*ret) || ret->s_magic != EXT2_SUPER_MAGIC ||
	    ret->s_log_block_size > EXT2_MAX_BLOCK_LOG_SIZE - EXT2_MIN_BLOCK_LOG_SIZE)
		return -EINVAL;
	return 0;
}

int dms_ext4_grow(const char *device, uint64_t new_size_bytes)
{
	struct ext2_super_block sb;
	_cleanup_close_ int fd = -1;
	const char *argv[5];
	uint64_t bs, blocks;
	int argc = 0, status;
	struct target t;
	char size[32];
	int r;

	r = open_target(device, &t, &fd);
	if (r < 0)
		return r;
	r = read_super(fd, &sb);
	if (r < 0)
		return r;
	bs = EXT2_BLOCK_SIZE(&sb);
	blocks = ext2fs_blocks_count(&sb);
	if (new_size_bytes > t.bytes || new_size_bytes / bs < blocks)
		return -EINVAL;
	if (new_size_bytes / bs == blocks)
		return 0;

	snprintf(size, sizeof(size), "%lluK", (unsigned long long)(new_size_bytes / DMS_KIB));
	argv[argc++] = "resize2fs";
	/*
	 * Offline, resize2fs wants a fresh e2fsck whenever the filesystem was mounted
	 * since the last one. Growing a cleanly unmounted filesystem is safe, so force
	 * past that check then; an unclean or errored one still needs e2fsck first.
	 */
	if ((sb.s_state & EXT2_VALID_FS) && !(sb.s_state & EXT2_ERROR_FS))
		argv[argc++] = "-f";
	argv[argc++] = device;
	argv[argc++] = size;
	argv[argc] = NULL;
	/* Its output is captured and dropped: the caller reports the failure. */
	r = dms_exec(argv, NULL, NULL, &status);
	if (r < 0)
		return r;
	return status == 0 ? 0 : -EIO;
}
