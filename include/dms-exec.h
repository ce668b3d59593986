/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMS_EXEC_H
#define DMS_EXEC_H

/*
 * Running a helper program (thin_check, thin_ls, resize2fs) where no library
 * does the job. stdin is /dev/null; stdout is captured if asked; stderr is
 * captured so the caller can quote the tool's own reason.
 *
 * A process linking libdmstore runs as root with whatever PATH and
 * environment its caller left it (a relative PATH entry, a directory others
 * can write, LD_PRELOAD, a locale that changes a tool's output): neither may
 * choose the program that runs, nor reach it. So a helper is looked for in
 * DMS_EXEC_PATH's directories only, never through $PATH, and runs with
 * PATH=DMS_EXEC_PATH and LC_ALL=C and nothing else. Nothing else is needed:
 * thin-provisioning-tools and e2fsprogs do not use udev (no DM_DISABLE_UDEV)
 * nor any variable of their own that dmstore sets.
 */

#include <stddef.h>

#define DMS_EXEC_PATH "/usr/sbin:/usr/bin:/sbin:/bin"

/*
 * ARGV[0]: a program name, run from the first of DMS_EXEC_PATH's directories
 * that holds it, or an absolute path, run as it is. 0 when the program ran
 * (its exit status in *ret_status, 128+signal if killed); -ENOPKG if no
 * directory holds it.
 */
int dms_exec(const char *const argv[], char **ret_stdout, char **ret_stderr, int *ret_status);

/*
 * dms_exec with ENVP as the program's whole environment. For the benchmarks,
 * which run dmsetup, LVM and dmstore itself as their user would.
 */
int dms_exec_env(const char *const argv[], char *const envp[], char **ret_stdout, char **ret_stderr, int *ret_status);

/*
 * The cause of R, a failure of running PROG, for a message: for -ENOPKG
 * "thin_check not found in /usr/sbin:/usr/bin:/sbin:/bin (install
 * thin-provisioning-tools)", in BUF; otherwise strerror(-R).
 */
const char *dms_exec_strerror(int r, const char *prog, char *buf, size_t len);

#endif
