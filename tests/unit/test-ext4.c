/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fs/ext4.c against the installed e2fsprogs: every format is checked by e2fsck and
 * compared, field by field and group by group (dumpe2fs), with what `mkfs.ext4 -G 1024` makes
 * on a sparse file of the same size. Runs on the host; mounting needs root, ext4 and
 * loop devices, and is skipped without them.
 */

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "dms-util.h"
#include "fs/ext4.h"

static char tmpdir[] = "/var/tmp/dms-test-ext4-XXXXXX";

/* Run argv quietly; its exit status, or -1 if it did not exit. */
static int run(const char *const argv[])
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status;

	assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
	for (int fd = 0; fd < 3; fd++)
		posix_spawn_file_actions_addopen(&fa, fd, "/dev/null", fd ? O_WRONLY : O_RDONLY, 0);
	assert_int_equal(posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The whole stdout of a shell command. */
static char *output(const char *fmt, ...)
{
	_cleanup_free_ char *cmd = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *mem, *p;
	char chunk[65536];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	assert_true(vasprintf(&cmd, fmt, ap) >= 0);
	va_end(ap);
	p = popen(cmd, "r");
	assert_non_null(p);
	mem = open_memstream(&buf, &len);
	assert_non_null(mem);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		fwrite(chunk, 1, n, mem);
	fclose(mem);
	(void)pclose(p);	/* grep exits 1 on no match: the callers check what came out */
	return buf;
}

static char *path_of(const char *name)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", tmpdir, name) >= 0);
	return p;
}

static char *sparse_file(const char *name, uint64_t size)
{
	char *p = path_of(name);
	_cleanup_close_ int fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, size), 0);
	return p;
}

static uint64_t bytes_allocated(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_blocks * 512;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fsck(const char *path)
{
	return run((const char *[]){ "e2fsck", "-fn", path, NULL });
}

static void mkfs(const char *path)
{
	assert_int_equal(run((const char *[]){ "mkfs.ext4", "-q", "-F", "-G", "1024", "-E",
					       "lazy_itable_init=1,lazy_journal_init=1,nodiscard",
					       path, NULL }),
			 0);
}

/*
 * dumpe2fs without what differs between any two formats: identity (UUID, hash seed),
 * times, checksums, and the write counter (checked separately through st_blocks).
 */
static char *dump(const char *path, bool header_only)
{
	return output("dumpe2fs %s '%s' 2>/dev/null | grep -v -E '^(Filesystem UUID|"
		      "Filesystem created|Last write time|Last checked|Lifetime writes|"
		      "Directory Hash Seed|Checksum:)' | sed -E 's/csum 0x[0-9a-f]+/csum/g'",
		      header_only ? "-h" : "", path);
}

/* The value of "Key:   value" in dumpe2fs -h output, or NULL. */
static char *field(const char *dump, const char *key)
{
	size_t klen = strlen(key);

	for (const char *l = dump; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, key, klen) == 0 && l[klen] == ':') {
			const char *v = l + klen + 1;
			v += strspn(v, " \t");
			return strndup(v, strcspn(v, "\n"));
		}
	}
	return NULL;
}

/* Feature lists as sets: same words, whatever the order. */
static void assert_same_words(const char *a, const char *b)
{
	_cleanup_free_ char *sa = strdup(a), *sb = strdup(b);
	char *save, *w;
	int na = 0, nb = 0;

	for (w = strtok_r(sa, " ", &save); w; w = strtok_r(NULL, " ", &save), na++) {
		char pad[128];
		snprintf(pad, sizeof(pad), " %s ", w);
		_cleanup_free_ char *hay = NULL;
		assert_true(asprintf(&hay, " %s ", b) >= 0);
		if (!strstr(hay, pad))
			fail_msg("feature '%s' missing from mkfs.ext4's '%s'", w, b);
	}
	for (w = strtok_r(sb, " ", &save); w; w = strtok_r(NULL, " ", &save))
		nb++;
	assert_int_equal(na, nb);
}

/* Line by line, so a mismatch names the line instead of printing megabytes. */
static void assert_same_dump(const char *ours, const char *theirs)
{
	const char *a = ours, *b = theirs;
	int line = 1;

	while (*a || *b) {
		size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
		if (la != lb || memcmp(a, b, la) != 0)
			fail_msg("dumpe2fs line %d differs:\n  dmstore:    %.*s\n  mkfs.ext4:  %.*s",
				 line, (int)la, a, (int)lb, b);
		a += la + (a[la] == '\n');
		b += lb + (b[lb] == '\n');
		line++;
	}
}

struct formatted {
	uint64_t ours_bytes, mkfs_bytes;
	double ours_s, mkfs_s;
};

/*
 * Format two sparse files of one size, ours and mkfs.ext4's, and require the same
 * filesystem: e2fsck clean, same features, same dumpe2fs down to every group's layout
 * and flags, and no more bytes written.
 */
static struct formatted format_both(const char *tag, uint64_t size, bool full_dump, int rounds)
{
	struct formatted f = { .ours_s = 1e9, .mkfs_s = 1e9 };
	char name[64];
	double t;

	snprintf(name, sizeof(name), "%s-ours", tag);
	_cleanup_free_ char *ours = path_of(name);
	snprintf(name, sizeof(name), "%s-mkfs", tag);
	_cleanup_free_ char *theirs = path_of(name);

	/* Best of a few rounds: the machine may be busy; each round starts from fresh files. */
	for (int i = 0; i < rounds; i++) {
		free(sparse_file(strrchr(ours, '/') + 1, size));
		free(sparse_file(strrchr(theirs, '/') + 1, size));
		t = now();
		assert_int_equal(dms_ext4_format(ours, NULL), 0);
		t = now() - t;
		f.ours_s = t < f.ours_s ? t : f.ours_s;
		t = now();
		mkfs(theirs);
		t = now() - t;
		f.mkfs_s = t < f.mkfs_s ? t : f.mkfs_s;
	}
	f.ours_bytes = bytes_allocated(ours);
	f.mkfs_bytes = bytes_allocated(theirs);

	assert_int_equal(fsck(ours), 0);
	_cleanup_free_ char *ho = dump(ours, true), *ht = dump(theirs, true);
	_cleanup_free_ char *fo = field(ho, "Filesystem features"), *ft = field(ht, "Filesystem features");
	assert_non_null(fo);
	assert_non_null(ft);
	assert_same_words(fo, ft);
	assert_same_dump(ho, ht);
	if (full_dump) {
		_cleanup_free_ char *dout = dump(ours, false), *dt = dump(theirs, false);
		assert_same_dump(dout, dt);
	}
	assert_true(f.ours_bytes <= f.mkfs_bytes);
	assert_int_equal(unlink(ours), 0);
	assert_int_equal(unlink(theirs), 0);
	return f;
}

static void report(const char *what, const struct formatted *f)
{
	fprintf(stderr, "# ext4 %s (best of 5): dms_ext4_format %.1f ms, %llu KiB written; "
			"mkfs.ext4 %.1f ms, %llu KiB written\n",
		what, f->ours_s * 1e3, (unsigned long long)f->ours_bytes / 1024,
		f->mkfs_s * 1e3, (unsigned long long)f->mkfs_bytes / 1024);
}

static void test_10g_matches_mkfs(void **state)
{
	struct formatted f = format_both("10g", 10 * DMS_GIB, true, 5);

	report("10 GiB", &f);
}

static void test_1t_matches_mkfs(void **state)
{
	struct formatted f = format_both("1t", DMS_TIB, true, 5);

	report("1 TiB", &f);
}

/* Each mke2fs.conf usage type: floppy (no journal), small (1 KiB blocks), big. */
static void test_usage_types_match_mkfs(void **state)
{
	format_both("floppy", 2 * DMS_MIB, true, 1);
	format_both("small", 200 * DMS_MIB, true, 1);
	format_both("big", 5 * DMS_TIB, false, 1);
}

/*
 * Flex groups the table placement shortcut must get right: one whole flex group and a
 * sliver (the last flex group's tables kept contiguous), a partial last flex group,
 * and a size whose last group is short.
 */
static void test_flex_group_edges_match_mkfs(void **state)
{
	format_both("flex-sliver", 129 * DMS_GIB, true, 1);
	format_both("flex-partial", DMS_TIB + 300 * DMS_GIB, true, 1);
	format_both("short-last", 300 * DMS_GIB + 12345 * 4096ULL, true, 1);
}

static void test_assume_zeroed(void **state)
{
	_cleanup_free_ char *ours = sparse_file("zeroed", 10 * DMS_GIB);
	_cleanup_free_ char *theirs = sparse_file("zeroed-mkfs", 10 * DMS_GIB);
	struct dms_ext4_format_opts opts = { .assume_zeroed = true };

	assert_int_equal(dms_ext4_format(ours, &opts), 0);
	mkfs(theirs);
	assert_int_equal(fsck(ours), 0);
	assert_true(bytes_allocated(ours) <= bytes_allocated(theirs));

	_cleanup_free_ char *d = output("dumpe2fs '%s' 2>/dev/null", ours);
	_cleanup_free_ char *groups = output("dumpe2fs '%s' 2>/dev/null | grep -c '^Group [0-9]'", ours);
	_cleanup_free_ char *zeroed = output(
		"dumpe2fs '%s' 2>/dev/null | grep '^Group [0-9]' | grep -c 'ITABLE_ZEROED'", ours);
	assert_int_equal(atoi(groups), 80);
	assert_int_equal(atoi(zeroed), 80);
	_cleanup_free_ char *fo = field(d, "Filesystem features");
	_cleanup_free_ char *ht = dump(theirs, true);
	_cleanup_free_ char *ft = field(ht, "Filesystem features");
	assert_same_words(fo, ft);
}

/* Without assume_zeroed, old signatures at both ends are gone, as with mkfs.ext4. */
static void test_wipes_old_signatures(void **state)
{
	_cleanup_free_ char *p = sparse_file("wipe", DMS_GIB);
	_cleanup_close_ int fd = open(p, O_RDWR | O_CLOEXEC);
	char junk[4096], back[4096], zero[4096] = { 0 };

	assert_true(fd >= 0);
	memset(junk, 0xa5, sizeof(junk));
	memcpy(junk + 4086, "SWAPSPACE2", 10);
	assert_int_equal(pwrite(fd, junk, sizeof(junk), 0), sizeof(junk));
	assert_int_equal(pwrite(fd, junk, sizeof(junk), DMS_GIB - 4096), sizeof(junk));
	assert_int_equal(dms_ext4_format(p, NULL), 0);
	assert_int_equal(pread(fd, back, sizeof(back), 0), sizeof(back));
	assert_memory_equal(back, zero, 1024);
	assert_memory_equal(back + 2048, zero, 2048);
	assert_int_equal(pread(fd, back, sizeof(back), DMS_GIB - 4096), sizeof(back));
	assert_memory_equal(back, zero, sizeof(back));
	assert_int_equal(fsck(p), 0);
}

static void test_label(void **state)
{
	_cleanup_free_ char *p = sparse_file("label", DMS_GIB);
	struct dms_ext4_format_opts opts = { .label = "vol-0123456789ab" };	/* 16 bytes */
	struct dms_ext4_format_opts too_long = { .label = "vol-0123456789abc" };

	assert_int_equal(dms_ext4_format(p, &too_long), -EINVAL);
	assert_int_equal(bytes_allocated(p), 0);	/* refused before touching the device */
	assert_int_equal(dms_ext4_format(p, &opts), 0);
	assert_int_equal(fsck(p), 0);
	_cleanup_free_ char *d = dump(p, true);
	_cleanup_free_ char *name = field(d, "Filesystem volume name");
	assert_string_equal(name, "vol-0123456789ab");
}

static void test_bad_inputs(void **state)
{
	_cleanup_free_ char *dir = path_of("a-dir");
	_cleanup_free_ char *missing = path_of("missing");
	_cleanup_free_ char *empty = sparse_file("empty", 0);
	_cleanup_free_ char *tiny = sparse_file("tiny", 16 * DMS_KIB);

	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(dms_ext4_format(dir, NULL), -EINVAL);
	assert_int_equal(dms_ext4_format(missing, NULL), -ENOENT);
	assert_int_equal(access(missing, F_OK), -1);	/* not created either */
	assert_int_equal(dms_ext4_format("/dev/null", NULL), -EINVAL);
	assert_int_equal(dms_ext4_format(NULL, NULL), -EINVAL);
	assert_int_equal(dms_ext4_format(empty, NULL), -ENOSPC);
	assert_int_equal(dms_ext4_format(tiny, NULL), -ENOSPC);
	assert_int_equal(dms_ext4_grow(dir, DMS_GIB), -EINVAL);
	assert_int_equal(dms_ext4_grow(missing, DMS_GIB), -ENOENT);
	assert_int_equal(dms_ext4_grow(tiny, 16 * DMS_KIB), -EINVAL);	/* not ext4 */
}

static uint64_t block_count(const char *path)
{
	_cleanup_free_ char *d = dump(path, true);
	_cleanup_free_ char *v = field(d, "Block count");

	assert_non_null(v);
	return strtoull(v, NULL, 10);
}

static void test_grow_offline(void **state)
{
	_cleanup_free_ char *p = sparse_file("grow", DMS_GIB);

	assert_int_equal(dms_ext4_format(p, NULL), 0);
	assert_int_equal(truncate(p, 3 * DMS_GIB), 0);
	assert_int_equal(dms_ext4_grow(p, 4 * DMS_GIB), -EINVAL);	/* beyond the device */
	assert_int_equal(dms_ext4_grow(p, 2 * DMS_GIB), 0);
	assert_int_equal(block_count(p), 2 * DMS_GIB / 4096);
	assert_int_equal(dms_ext4_grow(p, DMS_GIB), -EINVAL);	/* never shrinks */
	assert_int_equal(dms_ext4_grow(p, 2 * DMS_GIB), 0);	/* already there */
	/* resize2fs sets a regular file to the new size: make room again. */
	assert_int_equal(truncate(p, 3 * DMS_GIB), 0);
	assert_int_equal(dms_ext4_grow(p, 3 * DMS_GIB), 0);
	assert_int_equal(block_count(p), 3 * DMS_GIB / 4096);
	assert_int_equal(fsck(p), 0);
}

static bool have_ext4(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/filesystems", "re");
	char line[128];

	while (f && fgets(line, sizeof(line), f))
		if (strcmp(line, "\text4\n") == 0)
			return true;
	return false;
}

/* The kernel mounts it; after use, an offline grow still works (mounted since fsck). */
static void test_mount(void **state)
{
	if (geteuid() != 0 || !have_ext4() || access("/dev/loop-control", W_OK) != 0)
		skip();
	_cleanup_free_ char *p = sparse_file("mount", DMS_GIB);
	_cleanup_free_ char *mnt = path_of("mnt");
	_cleanup_free_ char *lpf = path_of("mnt/lost+found");
	_cleanup_free_ char *file = path_of("mnt/hello");
	struct dms_ext4_format_opts opts = { .assume_zeroed = true };
	struct statvfs sv;
	struct stat st;

	assert_int_equal(dms_ext4_format(p, &opts), 0);
	assert_int_equal(mkdir(mnt, 0700), 0);
	if (run((const char *[]){ "mount", "-t", "ext4", "-o", "loop", p, mnt, NULL }) != 0)
		skip();	/* no free loop device in this sandbox */
	/* In use: the loop device is held exclusively by the mount. */
	_cleanup_free_ char *loop = output("findmnt -n -o SOURCE '%s'", mnt);
	loop[strcspn(loop, "\n")] = '\0';
	int busy = dms_ext4_format(loop, NULL);
	bool ok = stat(lpf, &st) == 0 && S_ISDIR(st.st_mode) && statvfs(mnt, &sv) == 0;
	FILE *f = fopen(file, "we");
	ok = ok && f && fputs("hello\n", f) >= 0;
	if (f)
		ok = fclose(f) == 0 && ok;
	assert_int_equal(run((const char *[]){ "umount", mnt, NULL }), 0);
	assert_true(ok);
	assert_int_equal(busy, -EBUSY);
	assert_int_equal(sv.f_bsize, 4096);
	assert_int_equal(fsck(p), 0);
	assert_int_equal(truncate(p, 2 * DMS_GIB), 0);
	assert_int_equal(dms_ext4_grow(p, 2 * DMS_GIB), 0);
	assert_int_equal(block_count(p), 2 * DMS_GIB / 4096);
	assert_int_equal(fsck(p), 0);
}

static int setup(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	_cleanup_free_ char *cmd = NULL;

	if (asprintf(&cmd, "umount -q '%s/mnt' 2>/dev/null; rm -rf '%s'", tmpdir, tmpdir) < 0)
		return -1;
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_10g_matches_mkfs),
		cmocka_unit_test(test_1t_matches_mkfs),
		cmocka_unit_test(test_usage_types_match_mkfs),
		cmocka_unit_test(test_flex_group_edges_match_mkfs),
		cmocka_unit_test(test_assume_zeroed),
		cmocka_unit_test(test_wipes_old_signatures),
		cmocka_unit_test(test_label),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_grow_offline),
		cmocka_unit_test(test_mount),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
