// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A tarball (or any archive libarchive reads) unpacked into a scratch rootfs:
 * no crash, and nothing written beside the rootfs (a sibling file must keep
 * its bytes, and no new entry may appear next to it).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/unpack.h"
#include "tests/fuzz/fuzz.h"

static void check_outside(const char *dir)
{
	char path[4096], buf[16] = "";
	struct dirent *e;
	DIR *d = opendir(dir);
	int fd;

	if (!d)
		abort();
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "root") &&
		    strcmp(e->d_name, "victim") && strcmp(e->d_name, "in.tar"))
			abort();
	closedir(d);
	snprintf(path, sizeof(path), "%s/victim", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) != 7 || strcmp(buf, "victim\n"))
		abort();
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dir = fuzz_scratch();
	struct dms_unpack_stats st;
	char path[4096], err[256];
	int rootfd;

	fuzz_write(dir, "victim", "victim\n", 7);
	fuzz_write(dir, "in.tar", data, size);
	snprintf(path, sizeof(path), "%s/root", dir);
	if (mkdir(path, 0755) < 0)
		abort();
	rootfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		abort();
	snprintf(path, sizeof(path), "%s/in.tar", dir);
	(void)dms_unpack_archive(rootfd, path, NULL, &st, err, sizeof(err));
	close(rootfd);
	check_outside(dir);
	return 0;
}
