/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMS_FS_HOLDERS_H
#define DMS_FS_HOLDERS_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Who keeps a block device busy, so that a refusal can name them: processes
 * with the device node open, processes using files of the filesystem on it
 * (open files, cwd, root, executable), mount namespaces other than ours that
 * mount it, and devices stacked on it (/sys/dev/block/M:m/holders). Mounts in
 * our own namespace are not holders: the caller unmounts those itself.
 */
enum dms_holder_how {
	DMS_HOLDER_OPEN,     /* has the device node open */
	DMS_HOLDER_FILES,    /* uses files of the filesystem on it */
	DMS_HOLDER_MOUNT_NS, /* its mount namespace mounts it */
	DMS_HOLDER_STACKED,  /* a device stacked on it (pid 0; what names it) */
};

struct dms_holder {
	pid_t pid;
	char what[64]; /* the process's command (comm), or the stacked device's name */
	enum dms_holder_how how;
};

/* Up to MAX holders of block device DEV into RET; *RET_N is how many there are in all. */
int dms_dev_holders(dev_t dev, struct dms_holder *ret, size_t max, size_t *ret_n);
/* "pid 172 (sleep) has it open", "the dm device 'x' is stacked on it", ... */
const char *dms_holder_format(const struct dms_holder *h, char *buf, size_t len);

#endif
