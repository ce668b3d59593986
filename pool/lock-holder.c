// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Who holds a lock. flock itself does not say, so the holder writes a note
 * into the lock file once it has the lock: "<pid> <unix seconds> <command
 * line>\n", and a pool lock's holder empties the file when it lets go
 * cleanly (pool/lock.c). A note is only a claim: the holder may have died
 * (the kernel dropped its lock, the note stays) or the next holder may not
 * have written its own yet. So a reader checks the note against the kernel's
 * list of locks, /proc/locks, which names the process that took each flock.
 * A holder the kernel does not show (one in another pid namespace, or a lock
 * let go a moment ago) leaves the note as the only word, marked unverified.
 *
 * /proc/locks and /proc/PID/cmdline are parsed by hand: no library reads them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "dms-util.h"
#include "pool/internal.h"

/* All of FD from its start, NUL-terminated, in *RET_LEN bytes; NULL when out of memory. */
static char *read_whole(int fd, size_t *ret_len)
{
	size_t len = 0, cap = 512;
	char *buf = malloc(cap), *grown;
	ssize_t n;

	while (buf) {
		n = pread(fd, buf + len, cap - len - 1, (off_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len + 1 < cap)
			continue;
		grown = realloc(buf, cap * 2);
		if (!grown)
			free(buf);
		buf = grown;
		cap *= 2;
	}
	if (buf)
		buf[len] = '\0';
	*ret_len = len;
	return buf;
}

/*
 * /proc/PID/cmdline (PID 0: our own), its NUL-separated arguments joined by
 * spaces, control characters as '?'; "" if it cannot be read, NULL when out of memory.
 */
static char *read_cmdline(int pid)
{
	char path[64];
	_cleanup_close_ int fd = -1;
	size_t n = 0;
	char *buf;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/cmdline");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return strdup("");
	buf = read_whole(fd, &n);
	if (!buf)
		return NULL;
	while (n > 0 && buf[n - 1] == '\0')
		buf[--n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
		else if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	return buf;
}

/*
 * Written in place and then cut to length, never emptied first: a reader
 * meanwhile sees the old note, the new one, or a mix the kernel's word
 * overrules. The note is also how the next holder tells that this one died
 * holding the lock (pool/lock.c): one that cannot be written fails the lock.
 * *RET_LEFT (unless NULL): whether a note was there already.
 */
int dms_lock_holder_write(int fd, bool *ret_left)
{
	_cleanup_free_ char *cmdline = read_cmdline(0), *note = NULL;
	struct stat st;
	ssize_t w;
	int n;

	if (!cmdline)
		return -ENOMEM;
	if (ret_left) {
		if (fstat(fd, &st) < 0)
			return -errno;
		*ret_left = st.st_size > 0;
	}
	n = asprintf(&note, "%d %lld %s\n", (int)getpid(), (long long)time(NULL), cmdline);
	if (n < 0) {
		note = NULL;
		return -ENOMEM;
	}
	w = pwrite(fd, note, (size_t)n, 0);
	if (w < 0)
		return -errno;
	/* Short, it is still a note, if a torn one: the next holder looks, a reader gets the kernel's word. */
	if (w == n)
		(void)ftruncate(fd, n);
	return 0;
}

void dms_lock_holder_clear(struct dms_lock_holder *h)
{
	free(h->cmdline);
	*h = (struct dms_lock_holder){ .size = sizeof(*h) };
}

int dms_lock_holder_parse(const char *note, struct dms_lock_holder *ret)
{
	struct dms_lock_holder h = { .size = sizeof(h) };
	long long pid, since;
	const char *cmd, *end;
	int n = 0;

	if (sscanf(note, "%lld %lld%n", &pid, &since, &n) != 2 || note[n] != ' ' || pid <= 0 || pid > INT32_MAX ||
	    since < 0)
		return -EINVAL;
	/* A note is one line; anything after it is left over from a longer one. */
	cmd = note + n + 1;
	end = strchr(cmd, '\n');
	if (!end)
		return -EINVAL;
	h.pid = (int)pid;
	h.since = since;
	h.cmdline = strndup(cmd, (size_t)(end - cmd));
	if (!h.cmdline)
		return -ENOMEM;
	*ret = h;
	return 0;
}

/*
 * /proc/locks, one lock a line (fs/locks.c, lock_get_status()):
 *
 *   <id>: FLOCK  ADVISORY  WRITE <pid> <major>:<minor>:<inode> 0 EOF
 *   <id>: -> FLOCK  ADVISORY  WRITE <pid> <major>:<minor>:<inode> 0 EOF
 *
 * major and minor in hex, the inode in decimal; "->" marks a waiter, not a
 * holder. POSIX and OFD locks are other lines, and no concern of ours.
 * 0 for a line of a held flock, -EINVAL for any other.
 */
int dms_proc_locks_parse(const char *line, unsigned *ret_major, unsigned *ret_minor, uint64_t *ret_ino, int *ret_pid)
{
	unsigned long long ino;
	char mode[8];

	if (sscanf(line, "%*d: FLOCK ADVISORY %7s %d %x:%x:%llu", mode, ret_pid, ret_major, ret_minor, &ino) != 5 ||
	    *ret_pid <= 0)
		return -EINVAL;
	*ret_ino = ino;
	return 0;
}

/* Whether process PID has the file of WANT open: a stat through /proc/PID/fd/N sees what our fstat sees. */
static bool has_open(int pid, const struct stat *want)
{
	char path[64];
	DIR *d;
	struct dirent *de;
	bool found = false;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		struct stat st;

		found = de->d_name[0] != '.' && fstatat(dirfd(d), de->d_name, &st, 0) == 0 &&
			st.st_dev == want->st_dev && st.st_ino == want->st_ino;
	}
	(void)closedir(d);
	return found;
}

/*
 * The kernel names a lock by the inode that holds it, which for a file on
 * overlayfs (a container's /run, the test VM) is the upper layer's, not the
 * device fstat reports. So a lock on the same inode number on another
 * device counts too, if its holder has our file open.
 */
static int kernel_holder(int fd, int *ret_pid)
{
	_cleanup_fclose_ FILE *f = NULL;
	char line[256];
	struct stat st;
	int other_dev = 0;

	if (fstat(fd, &st) < 0)
		return -errno;
	f = fopen("/proc/locks", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned maj, min;
		uint64_t ino;
		int pid;

		if (dms_proc_locks_parse(line, &maj, &min, &ino, &pid) < 0 || ino != st.st_ino)
			continue;
		if (maj == major(st.st_dev) && min == minor(st.st_dev)) {
			*ret_pid = pid;
			return 1;
		}
		if (!other_dev && has_open(pid, &st))
			other_dev = pid;
	}
	if (!other_dev)
		return 0;
	*ret_pid = other_dev;
	return 1;
}

int dms_lock_holder_read(int fd, struct dms_lock_holder *ret)
{
	struct dms_lock_holder note = { .size = sizeof(note) };
	_cleanup_free_ char *buf = NULL;
	size_t n;
	int pid = 0;

	buf = read_whole(fd, &n);
	if (!buf)
		return -ENOMEM;
	if (dms_lock_holder_parse(buf, &note) == -ENOMEM)
		return -ENOMEM;
	if (!note.cmdline) {
		note.cmdline = strdup("");
		if (!note.cmdline)
			return -ENOMEM;
	}
	if (kernel_holder(fd, &pid) <= 0) {
		note.unverified = true;
		*ret = note;
		return 0;
	}
	if (note.pid == pid) {
		*ret = note;
		return 0;
	}
	/* The note is another process's: the kernel's holder has not written its own yet, or never does (flock(1)). */
	dms_lock_holder_clear(&note);
	note.pid = pid;
	note.cmdline = read_cmdline(pid);
	if (!note.cmdline)
		return -ENOMEM;
	*ret = note;
	return 0;
}

char *dms_lock_holder_format(const struct dms_lock_holder *h)
{
	const char *cmdline = h->cmdline ? h->cmdline : "";
	char since[32] = "", *buf;
	struct tm tm;
	time_t t = (time_t)h->since;

	if (h->pid <= 0)
		return strdup("another process");
	/* A time of day is enough for today; an older lock gets its date too. */
	if (h->since > 0 && localtime_r(&t, &tm)) {
		time_t now_t = time(NULL);
		struct tm now;

		if (localtime_r(&now_t, &now) && now.tm_yday == tm.tm_yday && now.tm_year == tm.tm_year)
			strftime(since, sizeof(since), " since %H:%M:%S", &tm);
		else
			strftime(since, sizeof(since), " since %Y-%m-%d %H:%M:%S", &tm);
	}
	if (asprintf(&buf, "pid %d%s%s%s%s%s", h->pid, *cmdline ? " (" : "", cmdline, *cmdline ? ")" : "", since,
		     h->unverified ? " (may be stale)" : "") < 0)
		return NULL;
	return buf;
}
