/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ext2fs/ext2fs.h>

/*
 * A libext2fs io_manager for formatting: writes are held in memory and go to the
 * device at each flush (and at close) as few large direct writes. See fs/ext4-io.c.
 */
extern io_manager dms_ext4_io_manager;
