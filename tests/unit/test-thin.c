// SPDX-License-Identifier: LGPL-2.1-or-later
/* dm/thin.c: the table lines, messages and status lines we exchange with dm-thin. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dm/dm.h"

static void pool_params_plain(void **state)
{
	char buf[128];

	assert_int_equal(dms_thin_pool_params(buf, sizeof(buf), 7, 1, 7, 0, 128, 0, 0), 0);
	assert_string_equal(buf, "7:1 7:0 128 0 0");
}

static void pool_params_features(void **state)
{
	char buf[128];

	assert_int_equal(dms_thin_pool_params(buf, sizeof(buf), 254, 3, 8, 16, 2048, 10,
					      DMS_THIN_POOL_NO_ZERO | DMS_THIN_POOL_ERROR_IF_NO_SPACE),
			 0);
	assert_string_equal(buf, "254:3 8:16 2048 10 2 skip_block_zeroing error_if_no_space");
	assert_int_equal(dms_thin_pool_params(buf, sizeof(buf), 1, 2, 3, 4, 128, 0,
					      DMS_THIN_POOL_ERROR_IF_NO_SPACE | DMS_THIN_POOL_READ_ONLY),
			 0);
	assert_string_equal(buf, "1:2 3:4 128 0 2 error_if_no_space read_only");
}

static void pool_params_rejects_bad_block_size(void **state)
{
	char buf[128];

	assert_int_equal(dms_thin_pool_params(buf, sizeof(buf), 1, 2, 3, 4, 64, 0, 0), -EINVAL);
	assert_int_equal(dms_thin_pool_params(buf, sizeof(buf), 1, 2, 3, 4, 129, 0, 0), -EINVAL);
	assert_int_equal(dms_thin_pool_params(buf, sizeof(buf), 1, 2, 3, 4, DMS_THIN_BLOCK_MAX_SECTORS + 128, 0, 0),
			 -EINVAL);
	assert_int_equal(dms_thin_pool_params(buf, sizeof(buf), 1, 2, 3, 4, DMS_THIN_BLOCK_MAX_SECTORS, 0, 0), 0);
}

static void pool_params_reports_short_buffer(void **state)
{
	char buf[8];

	assert_int_equal(dms_thin_pool_params(buf, sizeof(buf), 254, 3, 8, 16, 128, 0, 0), -ENOBUFS);
}

static void thin_params_and_messages(void **state)
{
	char buf[64];

	assert_int_equal(dms_thin_params(buf, sizeof(buf), 254, 0, 42), 0);
	assert_string_equal(buf, "254:0 42");
	assert_int_equal(dms_thin_params(buf, sizeof(buf), 254, 0, DMS_THIN_DEV_ID_MAX + 1), -EINVAL);

	assert_int_equal(dms_thin_msg_create_thin(buf, sizeof(buf), 0), 0);
	assert_string_equal(buf, "create_thin 0");
	assert_int_equal(dms_thin_msg_create_snap(buf, sizeof(buf), 5, 1), 0);
	assert_string_equal(buf, "create_snap 5 1");
	assert_int_equal(dms_thin_msg_create_snap(buf, sizeof(buf), 5, 5), -EINVAL);
	assert_int_equal(dms_thin_msg_delete(buf, sizeof(buf), 16777215), 0);
	assert_string_equal(buf, "delete 16777215");
	assert_int_equal(dms_thin_msg_delete(buf, sizeof(buf), 16777216), -EINVAL);
	assert_int_equal(dms_thin_msg_set_transaction_id(buf, sizeof(buf), 41, 42), 0);
	assert_string_equal(buf, "set_transaction_id 41 42");
}

static void pool_status_rw(void **state)
{
	struct dms_thin_pool_status st;

	assert_int_equal(dms_thin_pool_parse_status("3 141/16384 1024/163840 - rw discard_passdown error_if_no_space - 1024",
						    &st),
			 0);
	assert_int_equal(st.transaction_id, 3);
	assert_int_equal(st.used_metadata_blocks, 141);
	assert_int_equal(st.total_metadata_blocks, 16384);
	assert_int_equal(st.used_data_blocks, 1024);
	assert_int_equal(st.total_data_blocks, 163840);
	assert_int_equal(st.held_metadata_root, 0);
	assert_int_equal(st.mode, DMS_THIN_POOL_RW);
	assert_int_equal(st.discards, DMS_THIN_DISCARDS_PASSDOWN);
	assert_true(st.error_if_no_space);
	assert_false(st.needs_check);
}

static void pool_status_modes(void **state)
{
	struct dms_thin_pool_status st;

	assert_int_equal(dms_thin_pool_parse_status("9 10/20 30/40 17 out_of_data_space no_discard_passdown queue_if_no_space needs_check 5",
						    &st),
			 0);
	assert_int_equal(st.mode, DMS_THIN_POOL_OUT_OF_DATA_SPACE);
	assert_int_equal(st.discards, DMS_THIN_DISCARDS_NO_PASSDOWN);
	assert_false(st.error_if_no_space);
	assert_true(st.needs_check);
	assert_int_equal(st.held_metadata_root, 17);

	assert_int_equal(dms_thin_pool_parse_status("9 10/20 30/40 - ro ignore_discard error_if_no_space - 5", &st), 0);
	assert_int_equal(st.mode, DMS_THIN_POOL_RO);
	assert_int_equal(st.discards, DMS_THIN_DISCARDS_IGNORE);

	assert_int_equal(dms_thin_pool_parse_status("Fail", &st), 0);
	assert_int_equal(st.mode, DMS_THIN_POOL_FAIL);
}

static void pool_status_garbage(void **state)
{
	struct dms_thin_pool_status st;

	assert_int_equal(dms_thin_pool_parse_status("", &st), -EBADMSG);
	assert_int_equal(dms_thin_pool_parse_status("3 141 1024/163840", &st), -EBADMSG);
	/* Found by tests/fuzz/fuzz-thin-status: more used than there is, which space.c would take for room. */
	assert_int_equal(dms_thin_pool_parse_status("3 432/4096 2048/204\xff\xff- out_of_data_space discard_passdown error_if_no_space - 1024", &st),
			 -EBADMSG);
	assert_int_equal(dms_thin_pool_parse_status("3 4097/4096 0/2048 - rw discard_passdown error_if_no_space - 1024", &st),
			 -EBADMSG);
}

static void thin_status(void **state)
{
	struct dms_thin_status st;

	assert_int_equal(dms_thin_parse_status("2048 4095", &st), 0);
	assert_int_equal(st.mapped_sectors, 2048);
	assert_int_equal(st.highest_mapped_sector, 4095);
	assert_false(st.fail);
	assert_int_equal(dms_thin_parse_status("Fail", &st), 0);
	assert_true(st.fail);
	assert_int_equal(dms_thin_parse_status("x", &st), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pool_params_plain),
		cmocka_unit_test(pool_params_features),
		cmocka_unit_test(pool_params_rejects_bad_block_size),
		cmocka_unit_test(pool_params_reports_short_buffer),
		cmocka_unit_test(thin_params_and_messages),
		cmocka_unit_test(pool_status_rw),
		cmocka_unit_test(pool_status_modes),
		cmocka_unit_test(pool_status_garbage),
		cmocka_unit_test(thin_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
