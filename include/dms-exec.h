/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMS_EXEC_H
#define DMS_EXEC_H

/*
 * Running a helper program (thin_check, thin_ls, resize2fs) where no library
 * does the job. stdin is /dev/null; stdout is captured if asked; stderr is
 * captured so the caller can quote the tool's own reason.
 */

/* 0 when the program ran (its exit status in *ret_status, 128+signal if killed); -ENOENT if not found. */
int dms_exec(const char *const argv[], char **ret_stdout, char **ret_stderr, int *ret_status);

#endif
