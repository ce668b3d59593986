/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMS_UTIL_H
#define DMS_UTIL_H

/*
 * The few helpers every layer shares: scope-bound cleanup for locals with one owner,
 * and size arithmetic. Kept deliberately short; a helper belongs here only when two
 * layers need it.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void dms_freep(void *p)
{
	free(*(void **)p);
}

static inline void dms_closep(int *fd)
{
	if (*fd >= 0)
		(void)close(*fd);
}

static inline void dms_fclosep(FILE **f)
{
	if (*f)
		(void)fclose(*f);
}

#define _cleanup_free_ _cleanup_(dms_freep)
#define _cleanup_close_ _cleanup_(dms_closep)
#define _cleanup_fclose_ _cleanup_(dms_fclosep)

/* Hand ownership out of a cleanup-scoped local. */
#define DMS_TAKE_PTR(p)                          \
	({                                       \
		__typeof__(p) _p_ = (p);         \
		(p) = NULL;                      \
		_p_;                             \
	})

#define DMS_TAKE_FD(fd)                          \
	({                                       \
		int _fd_ = (fd);                 \
		(fd) = -1;                       \
		_fd_;                            \
	})

#define DMS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define DMS_SECTOR_SIZE 512ULL
#define DMS_KIB 1024ULL
#define DMS_MIB (1024ULL * DMS_KIB)
#define DMS_GIB (1024ULL * DMS_MIB)
#define DMS_TIB (1024ULL * DMS_GIB)

#endif
