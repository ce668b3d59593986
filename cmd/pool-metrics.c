// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * dmstore pool status --format prometheus: the Prometheus text exposition
 * format (version 0.0.4), for node_exporter's textfile collector.
 *
 *   # HELP <metric> <text>
 *   # TYPE <metric> gauge
 *   <metric>{pool="<name>"[,<label>="<value>"]} <value>
 *
 * Every sample of a metric follows its one HELP and TYPE line, so the pools
 * are gathered first and printed metric by metric. Label values need no
 * escaping: pool names are [A-Za-z0-9_.-], and the other labels are ours.
 * Names follow node_exporter's (node_filesystem_size_bytes): a unit suffix,
 * no "_total" on what is not a counter.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"

enum { KIND_IMAGE, KIND_CONTAINER, KIND_VOLUME, KIND_VOLUME_SNAPSHOT, N_KINDS };
static const char *const kind_names[N_KINDS] = { "image", "container", "volume", "volume_snapshot" };

/* The modes a pool's status has (struct dms_pool_status): one series each, 1 for the one it is in. */
static const char *const modes[] = { "rw", "ro", "out_of_data_space", "fail", "inactive" };

/* The catalogue's devices by kind, read through the public API like any client's. */
static int count_kinds(struct cmd_ctx *ctx, const char *name, uint64_t counts[N_KINDS])
{
	struct dms_pool *pool = NULL;
	struct dms_image_info **ims = NULL;
	struct dms_snap_info **snaps = NULL;
	struct dms_vol_info **vols = NULL;
	size_t n_ims = 0, n_snaps = 0, n_vols = 0;
	int r;

	r = dms_pool_open(ctx->lib, name, &pool);
	if (r == 0)
		r = dms_image_list(pool, &ims, &n_ims);
	if (r == 0)
		r = dms_snap_list(pool, &snaps, &n_snaps);
	if (r == 0)
		r = dms_vol_list(pool, &vols, &n_vols);
	dms_pool_close(pool);
	if (r == 0) {
		counts[KIND_IMAGE] = n_ims;
		counts[KIND_CONTAINER] = n_snaps;
		counts[KIND_VOLUME] = counts[KIND_VOLUME_SNAPSHOT] = 0;
		for (size_t i = 0; i < n_vols; i++)
			counts[*vols[i]->origin ? KIND_VOLUME_SNAPSHOT : KIND_VOLUME]++;
	}
	dms_image_list_free(ims, n_ims);
	dms_snap_list_free(snaps, n_snaps);
	dms_vol_list_free(vols, n_vols);
	return r;
}

struct pool_sample {
	const struct dms_pool_status *st;
	bool live; /* active and not failed: the kernel's numbers are there */
	bool counted;
	uint64_t kinds[N_KINDS];
};

static void family(const char *metric, const char *help)
{
	printf("# HELP %s %s\n# TYPE %s gauge\n", metric, help, metric);
}

static void sample(const char *metric, const char *pool, uint64_t value)
{
	printf("%s{pool=\"%s\"} %" PRIu64 "\n", metric, pool, value);
}

/* A gauge of every pool, or of the live ones only (LIVE_ONLY: the kernel's numbers). */
static void gauge(const struct pool_sample *s, size_t n, const char *metric, const char *help, bool live_only,
		  uint64_t (*value)(const struct dms_pool_status *))
{
	family(metric, help);
	for (size_t i = 0; i < n; i++)
		if (s[i].live || !live_only)
			sample(metric, s[i].st->name, value(s[i].st));
}

static uint64_t data_size(const struct dms_pool_status *st)
{
	return st->data_total;
}

static uint64_t data_used(const struct dms_pool_status *st)
{
	return st->data_used;
}

static uint64_t metadata_size(const struct dms_pool_status *st)
{
	return st->metadata_total;
}

static uint64_t metadata_used(const struct dms_pool_status *st)
{
	return st->metadata_used;
}

static uint64_t block_size(const struct dms_pool_status *st)
{
	return st->block_size;
}

static uint64_t transaction_id(const struct dms_pool_status *st)
{
	return st->transaction_id;
}

static uint64_t needs_check(const struct dms_pool_status *st)
{
	return st->needs_check;
}

static uint64_t active(const struct dms_pool_status *st)
{
	return st->active;
}

int pool_metrics_print(struct cmd_ctx *ctx, struct dms_pool_status *const *st, size_t n)
{
	struct pool_sample s[n ? n : 1];
	int r, code = EXIT_OK;

	/* A pool whose catalogue cannot be read loses its device counts, not the other metrics. */
	for (size_t i = 0; i < n; i++) {
		s[i].st = st[i];
		s[i].live = st[i]->active && strcmp(st[i]->mode, "fail") != 0;
		r = count_kinds(ctx, st[i]->name, s[i].kinds);
		s[i].counted = r == 0;
		if (r < 0)
			code = lib_error(ctx, r);
	}
	gauge(s, n, "dmstore_pool_active", "Whether the pool's device-mapper device is loaded (1) or not (0).", false,
	      active);
	family("dmstore_pool_mode", "The pool's mode, one series per mode: 1 for the one it is in.");
	for (size_t i = 0; i < n; i++)
		for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++)
			printf("dmstore_pool_mode{pool=\"%s\",mode=\"%s\"} %d\n", st[i]->name, modes[m],
			       strcmp(st[i]->mode, modes[m]) == 0);
	gauge(s, n, "dmstore_pool_data_size_bytes", "Size of the pool's data space.", false, data_size);
	gauge(s, n, "dmstore_pool_data_used_bytes", "Data space the pool's thin devices map.", true, data_used);
	gauge(s, n, "dmstore_pool_metadata_size_bytes", "Size of the pool's metadata device.", false, metadata_size);
	gauge(s, n, "dmstore_pool_metadata_used_bytes", "Metadata space in use.", true, metadata_used);
	gauge(s, n, "dmstore_pool_block_size_bytes", "The pool's allocation unit.", false, block_size);
	gauge(s, n, "dmstore_pool_transaction_id", "The pool's metadata transaction id, which every change moves.",
	      true, transaction_id);
	gauge(s, n, "dmstore_pool_needs_check", "Whether the kernel asks for thin_check before the next change (1).",
	      true, needs_check);
	family("dmstore_pool_thin_devices", "Thin devices in the pool's metadata, as the kernel counts them.");
	for (size_t i = 0; i < n; i++)
		if (st[i]->device_count >= 0)
			sample("dmstore_pool_thin_devices", st[i]->name, (uint64_t)st[i]->device_count);
	family("dmstore_pool_devices", "Objects in the pool's catalogue, by kind.");
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < N_KINDS && s[i].counted; k++)
			printf("dmstore_pool_devices{pool=\"%s\",kind=\"%s\"} %" PRIu64 "\n", st[i]->name,
			       kind_names[k], s[i].kinds[k]);
	return code;
}
