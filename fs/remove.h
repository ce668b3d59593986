/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMS_FS_REMOVE_H
#define DMS_FS_REMOVE_H

/*
 * `rm -rf` of NAME in the directory DIRFD, by fds: NAME is one component, no
 * symlink is followed (a symlink is removed, not its target) and no mount is
 * crossed (-EXDEV). Absent is fine. Depth costs one fd per level.
 */
int dms_remove_tree_at(int dirfd, const char *name);

#endif
