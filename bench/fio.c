// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The referee: the same job run by fio, so that dmstore's engine can be held
 * against the tool storage people trust. The job is the engine's, option for
 * option; every option and why:
 *
 *   ioengine=io_uring direct=1           the engine's submission path; fio's io_uring engine sets up its
 *                                        ring as ours (CQSIZE, COOP_TASKRUN, SINGLE_ISSUER, DEFER_TASKRUN)
 *                                        and sends IORING_OP_READ/WRITE (nonvectored, probed) as ours
 *   rw= bs= iodepth= numjobs= rwmixread= the workload
 *   size=SLICE offset=O offset_increment=SLICE
 *                                        job k of n on the k-th n-th of the region
 *   time_based runtime= | io_size=       the same stop rule (no ramp_time: the engine has no warm-up)
 *   cpus_allowed= cpus_allowed_policy=split
 *                                        with --cpus: job k on the k-th CPU of the list, as the engine's
 *   iodepth_batch_submit=QD iodepth_batch_complete_max=QD
 *                                        the engine's loop: refill every free slot, submit them in one
 *                                        io_uring_enter, reap every completion there is
 *   norandommap randrepeat=0             uniform offsets with repeats, a new seed each run
 *   lat_percentiles clat_percentiles=0   submission-to-completion latency ("lat"), as the engine's
 *   group_reporting output-format=json+  one figure for all jobs, with the histograms
 *
 * and, to hold fio's own cost down without changing a single I/O (checked
 * with the device's /sys/block/DEV/stat: the same number of reads and
 * writes, of the same size, no merges, for the same IOPS):
 *
 *   thread                               jobs are threads of one process, as the engine's are, not
 *                                        forked processes
 *   disk_util=0                          no helper thread reading /sys/block every 250 ms for a disk
 *                                        utilisation report nobody reads here
 *   scramble_buffers=0                   write buffers filled once with random bytes, as the engine's;
 *                                        fio would otherwise rewrite part of each buffer before each write
 *   disable_slat=1 disable_clat=1        no submission- or completion-latency sample per I/O: the
 *                                        engine keeps one latency per I/O, lat, not three. Each of fio's
 *                                        is a double-precision mean and variance update (add_stat_sample),
 *                                        which TCG emulates in software, and clat's also a bucket count.
 *                                        Bandwidth measurement stays on, and must: fio 3.33 reads an
 *                                        I/O's completion time only if one of slat, clat or bw is on
 *                                        (io_u.c, gtod_reduce(), which forgets lat), and with all three
 *                                        off lat is garbage (a p99 of 17 s seen here). Kept on, it costs
 *                                        what clat did: an issue time per submitted batch (one clock
 *                                        read); without a bw log, a sample every 500 ms in fio's helper
 *                                        thread, which it takes whatever disable_bw says. Net, callgrind:
 *                                        ~100 instructions per I/O fewer in fio's job thread.
 *   clocksource=cpu                      fio reads the clock for each I/O, the engine once per batch;
 *                                        under TCG the guest's clock source is the HPET, and each
 *                                        clock_gettime there is a system call and an emulated device
 *                                        read. The TSC costs fio what the engine's one read costs it.
 *
 * What remains is fio's own work per I/O, in user space. Counted with
 * callgrind (fio 3.33 built from Debian's source with its symbols, the same job
 * on a file, 4 KiB random reads), fio's job thread executes about 2,200
 * instructions per I/O at queue depth 1 and 1,750 at 32; the engine's, 470 and
 * 220. fio's, per I/O: get_io_u ~730 (the random offset ~240, td_io_prep ~120,
 * the start time), the completion ~500-750 (account_io_completion ~250, of which
 * lat's mean, variance and histogram ~105; put_io_u ~90), td_io_queue and the
 * commit ~200-370, and 2-4 reads of the TSC at ~50 each. disable_clat took ~100
 * off; nothing else there has an option. The kernel's side is the engine's (perf
 * in the guest, raw virtio, 4 KiB random reads at queue depth 32: 0.05-0.07
 * io_uring_enter calls per I/O against 0.05, 0.033 virtio notifications against
 * 0.031, the same kernel profile). Under TCG those 1,500-2,000 instructions
 * cost some microseconds per I/O, against 25-45 us of guest CPU per I/O in all.
 * On null_blk, with no device time, fio does about two thirds of the engine's
 * IOPS under TCG, at queue depth 1 and 32 alike. On the raw virtio rows fio is
 * 10-45% slower, with not one I/O different; but at 1 MiB (seq-write, queue
 * depth 8) the two spend the same guest CPU per I/O (220-230 us, nearly all in
 * the kernel) and fio is still 13-40% slower: that part is not explained.
 *
 * fio also calibrates the TSC at each start, before its job: a 64 ms loop of
 * clock_gettime, 35,000-46,000 system calls and emulated HPET reads in a guest.
 * It lengthens a fio run, not its figures.
 *
 * fio's JSON (json+, with its histograms) is read with json-c: io_bytes,
 * total_ios, runtime and the lat_ns bins of each direction. fio's own
 * histogram, in buckets of 1/64 of their value, goes into ours, so that
 * several runs add up as the engine's do, and its percentiles come out as
 * fio's own would, to within fio's bucket.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "bench/io.h"
#include "dms-util.h"

struct fio_argv {
	char text[40][96];
	const char *argv[41]; /* NULL-terminated */
	size_t n;
};

_Static_assert(sizeof("--cpus_allowed=") + BENCH_CPUS_TEXT_MAX <= sizeof(((struct fio_argv *)0)->text[0]),
	       "a --cpus list fits fio's argument");

static void add(struct fio_argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct fio_argv *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->text[a->n], sizeof(a->text[a->n]), fmt, ap);
	va_end(ap);
	a->argv[a->n] = a->text[a->n];
	a->argv[++a->n] = NULL;
}

static double get_double(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_double(v) : NAN;
}

/* fio's own latency histogram (json+: lat_ns.bins, "value in ns": count) into ours, bucket by bucket. */
static void take_bins(json_object *dir, struct bench_hist *h)
{
	json_object *lat, *bins;

	if (!json_object_object_get_ex(dir, "lat_ns", &lat) || !json_object_object_get_ex(lat, "bins", &bins))
		return;
	json_object_object_foreach(bins, value, count)
	{
		uint64_t ns = strtoull(value, NULL, 10);

		for (int64_t k = json_object_get_int64(count); k > 0; k--)
			bench_hist_add(h, ns);
	}
}

static int parse(const char *out, struct bench_io_stats *ret, char *err, size_t len)
{
	const char *start = strchr(out, '{');
	json_object *root, *jobs, *job, *v;
	int r = -EIO;

	/* fio may say things on stdout before its JSON (clocksource=cpu's warning where the TSC is not trusted). */
	root = start ? json_tokener_parse(start) : NULL;
	if (!root || !json_object_object_get_ex(root, "jobs", &jobs) || json_object_array_length(jobs) < 1) {
		snprintf(err, len, "fio: no JSON report in its output");
		goto out;
	}
	job = json_object_array_get_idx(jobs, 0);
	if (json_object_object_get_ex(job, "error", &v) && json_object_get_int(v) != 0) {
		snprintf(err, len, "fio: the job failed: %s", strerror(json_object_get_int(v)));
		goto out;
	}
	for (int d = 0; d < 2; d++) {
		json_object *dir;

		if (!json_object_object_get_ex(job, d == BENCH_READ ? "read" : "write", &dir)) {
			snprintf(err, len, "fio: no '%s' in its report", d == BENCH_READ ? "read" : "write");
			goto out;
		}
		ret->dir[d].ios = (uint64_t)get_double(dir, "total_ios");
		ret->dir[d].bytes = (uint64_t)get_double(dir, "io_bytes");
		take_bins(dir, &ret->dir[d].lat);
		if (ret->dir[d].ios && ret->dir[d].lat.count != ret->dir[d].ios) {
			snprintf(err, len, "fio: %" PRIu64 " %s latencies for %" PRIu64 " I/Os", ret->dir[d].lat.count,
				 d == BENCH_READ ? "read" : "write", ret->dir[d].ios);
			goto out;
		}
		/* The group's runtime: its longest job's, as the engine counts. */
		if (ret->dir[d].ios && get_double(dir, "runtime") / 1000.0 > ret->seconds)
			ret->seconds = get_double(dir, "runtime") / 1000.0;
	}
	/*
	 * The job threads' CPU time over their I/O loops (fio's getrusage with RUSAGE_THREAD): with
	 * group_reporting, usr_cpu and sys_cpu are percentages of job_runtime, the jobs' runtimes added up.
	 */
	ret->cpu_seconds = (get_double(job, "usr_cpu") + get_double(job, "sys_cpu")) / 100.0 *
			   get_double(job, "job_runtime") / 1000.0;
	if (isnan(ret->cpu_seconds))
		ret->cpu_seconds = 0;
	r = 0;
out:
	json_object_put(root);
	return r;
}

int bench_fio_run(const struct bench_io_spec *sp, struct bench_io_stats *ret, char *err, size_t len)
{
	const struct bench_workload *w = sp->w;
	uint64_t slice = sp->size / w->jobs / w->bs * w->bs;
	struct fio_argv a = { .n = 0 };
	_cleanup_free_ char *out = NULL;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (strlen(sp->path) + 16 > sizeof(a.text[0])) {
		snprintf(err, len, "fio: the path '%s' is too long", sp->path);
		return -ENAMETOOLONG;
	}
	add(&a, "fio");
	add(&a, "--name=%s", w->name);
	add(&a, "--filename=%s", sp->path);
	add(&a, "--ioengine=io_uring");
	add(&a, "--direct=1");
	add(&a, "--rw=%s", bench_workload_rw(w));
	if (w->read_pct > 0 && w->read_pct < 100)
		add(&a, "--rwmixread=%u", w->read_pct);
	add(&a, "--bs=%" PRIu32, w->bs);
	add(&a, "--iodepth=%u", w->iodepth);
	add(&a, "--numjobs=%u", w->jobs);
	add(&a, "--size=%" PRIu64, slice);
	add(&a, "--offset=%" PRIu64, sp->offset);
	add(&a, "--offset_increment=%" PRIu64, slice);
	if (sp->runtime_ns) {
		add(&a, "--time_based=1");
		add(&a, "--runtime=%" PRIu64 "ms", (sp->runtime_ns + 999999) / 1000000);
	} else {
		add(&a, "--io_size=%" PRIu64, sp->io_size);
	}
	if (sp->cpus) {
		add(&a, "--cpus_allowed=%s", sp->cpus);
		add(&a, "--cpus_allowed_policy=split");
	}
	add(&a, "--iodepth_batch_submit=%u", w->iodepth);
	add(&a, "--iodepth_batch_complete_max=%u", w->iodepth);
	add(&a, "--thread");
	add(&a, "--disk_util=0");
	add(&a, "--scramble_buffers=0");
	add(&a, "--clocksource=cpu");
	add(&a, "--disable_slat=1");
	add(&a, "--disable_clat=1");
	add(&a, "--norandommap=1");
	add(&a, "--randrepeat=0");
	add(&a, "--lat_percentiles=1");
	add(&a, "--clat_percentiles=0");
	add(&a, "--group_reporting=1");
	add(&a, "--output-format=json+");

	r = bench_spawn(a.argv, NULL, &out, NULL, sp->stop, err, len);
	if (r < 0)
		return r;
	return parse(out, ret, err, len);
}
