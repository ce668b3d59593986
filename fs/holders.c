// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What fuser and lsof do for one block device, by hand: util-linux has no
 * library for it. A process that vanishes mid-scan is simply not a holder.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "dms-util.h"
#include "fs/holders.h"

static void closedirp(DIR **d)
{
	if (*d)
		(void)closedir(*d);
}

static bool uses_dev(int dirfd, const char *path, dev_t dev, bool *ret_node)
{
	struct stat st;

	if (fstatat(dirfd, path, &st, 0) < 0)
		return false;
	*ret_node = S_ISBLK(st.st_mode) && st.st_rdev == dev;
	return *ret_node || st.st_dev == dev;
}

/* Does the process at /proc/PID (PROCFD) use DEV: its node, or a file on it? */
static int proc_uses(int procfd, dev_t dev, enum dms_holder_how *ret_how)
{
	static const char *const links[] = { "cwd", "root", "exe" };
	_cleanup_(closedirp) DIR *fds = NULL;
	struct dirent *e;
	bool node = false;
	int fd;

	for (size_t i = 0; i < DMS_ARRAY_SIZE(links); i++)
		if (uses_dev(procfd, links[i], dev, &node)) {
			*ret_how = DMS_HOLDER_FILES;
			return 1;
		}
	fd = openat(procfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	fds = fdopendir(fd);
	if (!fds) {
		(void)close(fd);
		return 0;
	}
	while ((e = readdir(fds))) {
		if (e->d_name[0] == '.')
			continue;
		if (uses_dev(dirfd(fds), e->d_name, dev, &node)) {
			*ret_how = node ? DMS_HOLDER_OPEN : DMS_HOLDER_FILES;
			return 1;
		}
	}
	return 0;
}

/*
 * mountinfo: "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw";
 * the third field is the mounted device's major:minor.
 */
static bool mountinfo_has(int procfd, dev_t dev)
{
	_cleanup_fclose_ FILE *f = NULL;
	char line[4096], want[32];
	int fd;

	fd = openat(procfd, "mountinfo", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	f = fdopen(fd, "r");
	if (!f) {
		(void)close(fd);
		return false;
	}
	snprintf(want, sizeof(want), " %u:%u ", major(dev), minor(dev));
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ' ');

		if (p && (p = strchr(p + 1, ' ')) && strncmp(p, want, strlen(want)) == 0)
			return true;
	}
	return false;
}

static void proc_comm(int procfd, char *buf, size_t len)
{
	_cleanup_close_ int fd = openat(procfd, "comm", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, len - 1);

	if (n <= 0)
		n = 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

static void add(struct dms_holder *ret, size_t max, size_t *n, pid_t pid, const char *what, enum dms_holder_how how)
{
	if (*n < max) {
		ret[*n] = (struct dms_holder){ .pid = pid, .how = how };
		snprintf(ret[*n].what, sizeof(ret[*n].what), "%s", what);
	}
	(*n)++;
}

static int scan_procs(dev_t dev, struct dms_holder *ret, size_t max, size_t *n)
{
	_cleanup_(closedirp) DIR *proc = opendir("/proc");
	struct stat self_ns, ns;
	struct dirent *e;
	pid_t self = getpid();

	if (!proc)
		return -errno;
	if (stat("/proc/self/ns/mnt", &self_ns) < 0)
		return -errno;
	while ((e = readdir(proc))) {
		_cleanup_close_ int procfd = -1;
		enum dms_holder_how how;
		char comm[64];
		pid_t pid;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		pid = (pid_t)strtol(e->d_name, NULL, 10);
		if (pid == self)
			continue;
		procfd = openat(dirfd(proc), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (procfd < 0)
			continue;
		if (proc_uses(procfd, dev, &how) <= 0) {
			/* Another namespace's mount keeps the device open with no process using it. */
			if (fstatat(procfd, "ns/mnt", &ns, 0) < 0 || ns.st_ino == self_ns.st_ino ||
			    !mountinfo_has(procfd, dev))
				continue;
			how = DMS_HOLDER_MOUNT_NS;
		}
		proc_comm(procfd, comm, sizeof(comm));
		add(ret, max, n, pid, comm, how);
	}
	return 0;
}

/* /sys/dev/block/M:m/holders/dm-3, and the stacked device's name in /sys/block/dm-3/dm/name. */
static int scan_stacked(dev_t dev, struct dms_holder *ret, size_t max, size_t *n)
{
	_cleanup_(closedirp) DIR *d = NULL;
	char path[PATH_MAX];
	struct dirent *e;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/holders", major(dev), minor(dev));
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		_cleanup_close_ int fd = -1;
		char name[64];
		ssize_t k;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/dm/name", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		k = fd < 0 ? -1 : read(fd, name, sizeof(name) - 1);
		if (k > 0) {
			name[k] = '\0';
			name[strcspn(name, "\n")] = '\0';
		} else {
			snprintf(name, sizeof(name), "%.63s", e->d_name);
		}
		add(ret, max, n, 0, name, DMS_HOLDER_STACKED);
	}
	return 0;
}

int dms_dev_holders(dev_t dev, struct dms_holder *ret, size_t max, size_t *ret_n)
{
	size_t n = 0;
	int r;

	r = scan_stacked(dev, ret, max, &n);
	if (r == 0)
		r = scan_procs(dev, ret, max, &n);
	if (r < 0)
		return r;
	*ret_n = n;
	return 0;
}

const char *dms_holder_format(const struct dms_holder *h, char *buf, size_t len)
{
	switch (h->how) {
	case DMS_HOLDER_OPEN:
		snprintf(buf, len, "pid %d (%s) has it open", (int)h->pid, h->what);
		break;
	case DMS_HOLDER_FILES:
		snprintf(buf, len, "pid %d (%s) uses files on it", (int)h->pid, h->what);
		break;
	case DMS_HOLDER_MOUNT_NS:
		snprintf(buf, len, "pid %d (%s) mounts it in its own mount namespace", (int)h->pid, h->what);
		break;
	case DMS_HOLDER_STACKED:
		snprintf(buf, len, "the dm device '%s' is stacked on it", h->what);
		break;
	}
	return buf;
}
