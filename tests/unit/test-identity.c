// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What ties dedicated devices to their pool: the dmstore label of a data
 * device (fs/label.c), the thin superblock of a metadata device
 * (dm/thin-superblock.c, against one thin_restore wrote), and the identity
 * kept in pool.json.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "dm/dm.h"
#include "dms-util.h"
#include "fs/label.h"
#include "pool/internal.h"

static void label_round_trip_and_damage(void **state)
{
	struct dms_label in = { .uuid = "0f8fad5b-d9cb-469f-a165-70867728950e", .pool = "a-vol" }, out;
	uint8_t block[DMS_LABEL_SIZE], zero[DMS_LABEL_SIZE] = { 0 };

	dms_label_encode(&in, block);
	assert_int_equal(dms_label_decode(block, &out), 0);
	assert_string_equal(out.uuid, in.uuid);
	assert_string_equal(out.pool, in.pool);
	/* Any byte changed, even one that carries nothing, is a damaged label. */
	block[4000] ^= 1;
	assert_int_equal(dms_label_decode(block, &out), -EBADMSG);
	block[4000] ^= 1;
	block[64] ^= 0x20; /* the pool's name: "A-vol" */
	assert_int_equal(dms_label_decode(block, &out), -EBADMSG);
	assert_int_equal(dms_label_decode(zero, &out), -ENODATA);
}

static void label_offset(void **state)
{
	/* The start of the last MiB, 4 KiB aligned, whatever the device's size. */
	assert_int_equal(dms_label_offset(1ULL << 30), (1ULL << 30) - (1ULL << 20));
	assert_int_equal(dms_label_offset((1ULL << 30) + 512), (1ULL << 30) - (1ULL << 20));
	assert_int_equal(dms_label_offset((1ULL << 30) + 4096), (1ULL << 30) - (1ULL << 20) + 4096);
	assert_int_equal(dms_label_offset(1ULL << 20), 0);
	assert_int_equal(dms_label_offset(4096), 0);
}

static void identity_leaves_the_label_unmapped(void **state)
{
	struct dms_pool_config cfg = { .block_size = 1U << 20 };

	dms_pool_identity_new(&cfg, (1ULL << 30) + 12345);
	assert_int_equal(strlen(cfg.uuid), 36);
	assert_true(cfg.data_size <= cfg.label_offset);
	assert_int_equal(cfg.data_size % cfg.block_size, 0);
	assert_true(cfg.label_offset + DMS_LABEL_SIZE <= (1ULL << 30) + 12345);
}

static void superblock_of_thin_restore(void **state)
{
	char dir[] = "/tmp/dmstore-sb-XXXXXX", xml[64], meta[64], cmd[256];
	uint8_t block[DMS_THIN_METADATA_BLOCK];
	struct dms_thin_superblock sb;
	FILE *f;
	int rc;

	if (system("command -v thin_restore >/dev/null") != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	snprintf(xml, sizeof(xml), "%s/sb.xml", dir);
	snprintf(meta, sizeof(meta), "%s/meta", dir);
	f = fopen(xml, "w");
	assert_non_null(f);
	fputs("<superblock uuid=\"\" time=\"1\" transaction=\"7\" flags=\"0\" version=\"2\" data_block_size=\"256\" "
	      "nr_data_blocks=\"1000\">\n</superblock>\n",
	      f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "truncate -s 4M %s && thin_restore -q -i %s -o %s", meta, xml, meta);
	rc = system(cmd);
	f = fopen(meta, "r");
	assert_non_null(f);
	assert_int_equal(fread(block, 1, sizeof(block), f), sizeof(block));
	fclose(f);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)!system(cmd);
	assert_int_equal(rc, 0);

	assert_int_equal(dms_thin_superblock_parse(block, &sb), 0);
	assert_int_equal(sb.transaction_id, 7);
	assert_int_equal(sb.data_block_sectors, 256);
	assert_int_equal(sb.data_blocks, 1000);
	assert_int_equal(sb.metadata_blocks, (4U << 20) / DMS_THIN_METADATA_BLOCK);

	block[32] ^= 1; /* the magic */
	assert_int_equal(dms_thin_superblock_parse(block, &sb), -EMEDIUMTYPE);
	memset(block, 0, sizeof(block));
	assert_int_equal(dms_thin_superblock_parse(block, &sb), -ENODATA);
}

static void config_keeps_identity_and_reads_0_1_0(void **state)
{
	char dir[] = "/tmp/dmstore-cfg-XXXXXX", pdir[64], path[96], cmd[128];
	struct dms_pool_config in = {
		.name = "p",
		.data_path = "/dev/disk/by-id/virtio-data",
		.metadata_path = "/dev/disk/by-id/virtio-meta",
		.data_size = 1ULL << 30,
		.metadata_size = 64ULL << 20,
		.block_size = 65536,
		.zero = true,
		.created = 1764300000,
		.uuid = "0f8fad5b-d9cb-469f-a165-70867728950e",
		.label_offset = (1ULL << 30) + (1ULL << 20),
	};
	struct dms_pool_config out;
	struct dms_ctx *ctx;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	setenv("DMSTORE_STATE_DIR", dir, 1);
	assert_int_equal(dms_ctx_new(&ctx), 0);
	snprintf(pdir, sizeof(pdir), "%s/p", dir);
	assert_int_equal(mkdir(pdir, 0700), 0);
	assert_int_equal(dms_pool_config_write(ctx, &in), 0);
	assert_int_equal(dms_pool_config_read(ctx, "p", &out), 0);
	assert_memory_equal(&in, &out, sizeof(in));

	/* A pool.json of 0.1.0: no uuid, no label. */
	snprintf(path, sizeof(path), "%s/pool.json", pdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{ \"version\": 1, \"name\": \"p\", \"loop\": false, \"data_path\": \"/dev/vdb\", \"metadata_path\": "
	      "\"/dev/vdc\", \"data_size\": 1073741824, \"metadata_size\": 67108864, \"block_size\": 65536, "
	      "\"zero\": true, \"created\": 1 }",
	      f);
	fclose(f);
	assert_int_equal(dms_pool_config_read(ctx, "p", &out), 0);
	assert_string_equal(out.uuid, "");
	assert_int_equal(out.label_offset, 0);
	assert_string_equal(out.data_path, "/dev/vdb");

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)!system(cmd);
	dms_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(label_round_trip_and_damage),
		cmocka_unit_test(label_offset),
		cmocka_unit_test(identity_leaves_the_label_unmapped),
		cmocka_unit_test(superblock_of_thin_restore),
		cmocka_unit_test(config_keeps_identity_and_reads_0_1_0),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
