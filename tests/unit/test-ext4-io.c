/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fs/ext4-io.c: what libext2fs writes is held until a flush, reads see it, the
 * device sees it only after, whole and in order, with the device's own bytes kept
 * around partial writes. On a file (page cache) and, as root with a free loop
 * device, on a block device (O_DIRECT).
 */

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "dms-util.h"
#include "fs/ext4-io.h"
#include "fs/loop.h"

#define BS 4096

static char tmpdir[] = "/var/tmp/dms-test-ext4-io-XXXXXX";

/* A file of 16 blocks, each byte 0xa5: what was there before. */
static char *old_file(void)
{
	char *p, junk[16 * BS];
	_cleanup_close_ int fd = -1;

	assert_true(asprintf(&p, "%s/dev", tmpdir) >= 0);
	fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	memset(junk, 0xa5, sizeof(junk));
	assert_int_equal(pwrite(fd, junk, sizeof(junk), 0), (ssize_t)sizeof(junk));
	return p;
}

static void read_file(const char *path, void *buf, size_t len, off_t off)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, len, off), (ssize_t)len);
}

static bool all_bytes(const void *buf, size_t len, uint8_t v)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		if (p[i] != v)
			return false;
	return true;
}

static io_channel open_channel(const char *path)
{
	io_channel ch = NULL;

	assert_int_equal(dms_ext4_io_manager->open(path, IO_FLAG_RW, &ch), 0);
	assert_int_equal(io_channel_set_blksize(ch, BS), 0);
	return ch;
}

/*
 * The story of one flush: block writes, a byte write inside a block, an overwrite;
 * reads see all of it at once, the device only after the flush.
 */
static void check_held_then_flushed(const char *dev, const char *backing)
{
	io_channel ch = open_channel(dev);
	char ones[2 * BS], twos[100], got[3 * BS], on_disk[16 * BS];
	io_stats stats = NULL;

	memset(ones, 0x11, sizeof(ones));
	memset(twos, 0x22, sizeof(twos));
	assert_int_equal(io_channel_write_blk64(ch, 2, 2, ones), 0);	/* blocks 2-3 */
	assert_int_equal(io_channel_write_byte(ch, 6 * BS + 1000, sizeof(twos), twos), 0);
	assert_int_equal(io_channel_write_blk64(ch, 3, -100, twos), 0);	/* a later write wins */

	assert_int_equal(io_channel_read_blk64(ch, 1, 3, got), 0);
	assert_true(all_bytes(got, BS, 0xa5));
	assert_true(all_bytes(got + BS, BS, 0x11));
	assert_true(all_bytes(got + 2 * BS, 100, 0x22));
	assert_true(all_bytes(got + 2 * BS + 100, BS - 100, 0x11));

	read_file(backing, on_disk, sizeof(on_disk), 0);
	assert_true(all_bytes(on_disk, sizeof(on_disk), 0xa5));

	assert_int_equal(io_channel_flush(ch), 0);
	read_file(backing, on_disk, sizeof(on_disk), 0);
	assert_true(all_bytes(on_disk, 2 * BS, 0xa5));
	assert_true(all_bytes(on_disk + 2 * BS, 100, 0x11));
	assert_true(all_bytes(on_disk + 3 * BS, 100, 0x22));
	assert_true(all_bytes(on_disk + 3 * BS + 100, BS - 100, 0x11));
	assert_true(all_bytes(on_disk + 4 * BS, 2 * BS + 1000, 0xa5));
	assert_true(all_bytes(on_disk + 6 * BS + 1000, sizeof(twos), 0x22));
	assert_true(all_bytes(on_disk + 6 * BS + 1000 + sizeof(twos), 10 * BS - 1000 - sizeof(twos), 0xa5));

	/* Counted as asked for, as unix_io counts: libext2fs adds it to "Lifetime writes". */
	assert_int_equal(dms_ext4_io_manager->get_stats(ch, &stats), 0);
	assert_int_equal(stats->bytes_written, 2 * BS + 2 * sizeof(twos));
	assert_int_equal(io_channel_close(ch), 0);
}

static void test_file_held_then_flushed(void **state)
{
	_cleanup_free_ char *p = old_file();

	check_held_then_flushed(p, p);
}

/* Closing writes what is held, as unix_io's close does. */
static void test_close_writes_held(void **state)
{
	_cleanup_free_ char *p = old_file();
	io_channel ch = open_channel(p);
	char ones[BS], got[BS];

	memset(ones, 0x11, sizeof(ones));
	assert_int_equal(io_channel_write_blk64(ch, 15, 1, ones), 0);
	assert_int_equal(io_channel_close(ch), 0);
	read_file(p, got, sizeof(got), 15 * BS);
	assert_true(all_bytes(got, sizeof(got), 0x11));
}

/* A zero-out lands after the writes held before it and before those made after. */
static void test_zeroout_in_order(void **state)
{
	_cleanup_free_ char *p = old_file();
	io_channel ch = open_channel(p);
	char ones[BS], got[4 * BS];

	memset(ones, 0x11, sizeof(ones));
	assert_int_equal(io_channel_write_blk64(ch, 1, 1, ones), 0);
	assert_int_equal(io_channel_zeroout(ch, 0, 4), 0);
	assert_int_equal(io_channel_write_blk64(ch, 2, 1, ones), 0);
	assert_int_equal(io_channel_flush(ch), 0);
	read_file(p, got, sizeof(got), 0);
	assert_true(all_bytes(got, 2 * BS, 0));
	assert_true(all_bytes(got + 2 * BS, BS, 0x11));
	assert_true(all_bytes(got + 3 * BS, BS, 0));
	assert_int_equal(io_channel_close(ch), 0);
}

/*
 * A large whole-block write goes to the device at once, and neither an older held
 * block in its range nor the flush undoes it; a later small write still lands on top.
 */
static void test_large_write_goes_through(void **state)
{
	_cleanup_free_ char *p = old_file();
	io_channel ch = open_channel(p);
	char ones[BS], big[16 * BS], threes[10], on_disk[16 * BS];

	memset(ones, 0x11, sizeof(ones));
	memset(big, 0x44, sizeof(big));
	memset(threes, 0x33, sizeof(threes));
	assert_int_equal(io_channel_write_blk64(ch, 5, 1, ones), 0);
	assert_int_equal(io_channel_write_blk64(ch, 0, 16, big), 0);
	read_file(p, on_disk, sizeof(on_disk), 0);
	assert_true(all_bytes(on_disk, sizeof(on_disk), 0x44));

	assert_int_equal(io_channel_write_byte(ch, 5 * BS + 7, sizeof(threes), threes), 0);
	assert_int_equal(io_channel_flush(ch), 0);
	read_file(p, on_disk, sizeof(on_disk), 0);
	assert_true(all_bytes(on_disk, 5 * BS + 7, 0x44));
	assert_true(all_bytes(on_disk + 5 * BS + 7, sizeof(threes), 0x33));
	assert_true(all_bytes(on_disk + 5 * BS + 7 + sizeof(threes), 11 * BS - 7 - sizeof(threes), 0x44));
	assert_int_equal(io_channel_close(ch), 0);
}

/* Many scattered blocks and a long run: the table grows, every block lands where it was written. */
static void test_many_blocks(void **state)
{
	char *p;
	_cleanup_close_ int fd = -1;
	io_channel ch;
	uint64_t blk[3000];
	char buf[BS], got[BS];

	assert_true(asprintf(&p, "%s/many", tmpdir) >= 0);
	fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 64LL << 30), 0);
	ch = open_channel(p);
	for (size_t i = 0; i < DMS_ARRAY_SIZE(blk); i++) {
		/* Half a run of consecutive blocks, half scattered 4 MiB apart. */
		blk[i] = i < 1500 ? 100 + i : (uint64_t)i * 1024;
		memset(buf, (int)(i % 251) + 1, sizeof(buf));
		assert_int_equal(io_channel_write_blk64(ch, blk[i], 1, buf), 0);
	}
	assert_int_equal(io_channel_flush(ch), 0);
	for (size_t i = 0; i < DMS_ARRAY_SIZE(blk); i++) {
		assert_int_equal(pread(fd, got, sizeof(got), (off_t)(blk[i] * BS)), BS);
		assert_true(all_bytes(got, sizeof(got), (uint8_t)(i % 251) + 1));
	}
	assert_int_equal(io_channel_close(ch), 0);
	unlink(p);
	free(p);
}

/* On a block device the runs go out with O_DIRECT: the same story through a loop device. */
static void test_block_device_held_then_flushed(void **state)
{
	_cleanup_free_ char *p = NULL;
	_cleanup_close_ int loop_fd = -1;
	char dev[64];

	if (geteuid() != 0 || access("/dev/loop-control", W_OK) != 0)
		skip();
	p = old_file();
	/* Autoclear: the device goes with loop_fd, at the end of this test. */
	if (dms_loop_attach(p, dev, sizeof(dev), &loop_fd) < 0)
		skip();	/* no free loop device in this sandbox */
	check_held_then_flushed(dev, p);
}

static int setup(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char *p;

	if (asprintf(&p, "%s/dev", tmpdir) >= 0) {
		unlink(p);
		free(p);
	}
	return rmdir(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_held_then_flushed),
		cmocka_unit_test(test_close_writes_held),
		cmocka_unit_test(test_zeroout_in_order),
		cmocka_unit_test(test_large_write_goes_through),
		cmocka_unit_test(test_many_blocks),
		cmocka_unit_test(test_block_device_held_then_flushed),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
