// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Users as an image names them: the image's own /etc/passwd and /etc/group,
 * read inside its rootfs (fs/resolve.h: the image's symlinks stay inside),
 * never the host's (getpwnam would read the host's and call NSS modules).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dms-util.h"
#include "fs/resolve.h"
#include "runtime/runtime.h"

__attribute__((format(printf, 4, 5))) static int errf(char *errbuf, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;

	if (errbuf && errlen) {
		va_start(ap, fmt);
		(void)vsnprintf(errbuf, errlen, fmt, ap);
		va_end(ap);
	}
	return r;
}

static bool parse_id(const char *s, uint32_t *ret)
{
	char *end;
	unsigned long v;

	if (!*s || strspn(s, "0123456789") != strlen(s))
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || v > UINT32_MAX - 1)
		return false;
	*ret = (uint32_t)v;
	return true;
}

/*
 * The line of FILE (passwd or group format: name:x:id:...) whose name is KEY
 * (or whose id is KEY, when BY_ID): its id in RET_ID and, for passwd, its
 * group in RET_GID. 0 found, -ENOENT not there (nor the file).
 */
static int lookup(int rootfd, const char *file, const char *key, bool by_id, uint32_t *ret_id, uint32_t *ret_gid)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	int fd, r;

	r = dms_path_open_in_root(rootfd, file, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0, &fd);
	if (r < 0)
		return r == -ENOENT ? -ENOENT : r;
	f = fdopen(fd, "r");
	if (!f) {
		(void)close(fd);
		return -errno;
	}
	while (getline(&line, &cap, f) > 0) {
		char *fields[4] = { 0 }, *p = line;
		uint32_t id, gid = 0;

		line[strcspn(line, "\n")] = '\0';
		for (int i = 0; i < 4 && p; i++) {
			fields[i] = p;
			p = strchr(p, ':');
			if (p)
				*p++ = '\0';
		}
		if (!fields[2] || !parse_id(fields[2], &id))
			continue;
		if (fields[3])
			(void)parse_id(fields[3], &gid);
		if (by_id ? strcmp(fields[2], key) != 0 : strcmp(fields[0], key) != 0)
			continue;
		*ret_id = id;
		if (ret_gid)
			*ret_gid = gid;
		return 0;
	}
	return -ENOENT;
}

int dms_run_user_resolve(int rootfd, const char *user, uid_t *ret_uid, gid_t *ret_gid, char *errbuf,
			 size_t errlen)
{
	_cleanup_free_ char *u = strdup(user ? user : "");
	char *g;
	uint32_t uid = 0, gid = 0, pw_gid = 0;
	int r;

	if (!u)
		return -ENOMEM;
	if (!*u) {
		*ret_uid = 0;
		*ret_gid = 0;
		return 0;
	}
	g = strchr(u, ':');
	if (g)
		*g++ = '\0';
	if (parse_id(u, &uid)) {
		/* A number is the uid whether or not the image knows it; its group comes from passwd if it does. */
		if (lookup(rootfd, "/etc/passwd", u, true, &uid, &pw_gid) < 0)
			pw_gid = 0;
	} else {
		r = lookup(rootfd, "/etc/passwd", u, false, &uid, &pw_gid);
		if (r < 0)
			return errf(errbuf, errlen, r == -ENOENT ? -EINVAL : r,
				    "user '%s': not in the image's /etc/passwd", u);
	}
	gid = pw_gid;
	if (g && *g && !parse_id(g, &gid)) {
		r = lookup(rootfd, "/etc/group", g, false, &gid, NULL);
		if (r < 0)
			return errf(errbuf, errlen, r == -ENOENT ? -EINVAL : r, "group '%s': not in the image's /etc/group",
				    g);
	}
	*ret_uid = uid;
	*ret_gid = gid;
	return 0;
}
