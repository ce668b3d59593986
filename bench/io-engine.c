// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The I/O engine: one workload on one block device or file, io_uring and
 * O_DIRECT, the way fio's io_uring engine drives it, so the two can be held
 * side by side.
 *
 * Each job is a thread with its own ring, file descriptor, buffers and slice
 * of the region. It keeps IODEPTH I/Os in flight: it prepares what is free,
 * submits it in one io_uring_enter that also runs the deferred completions,
 * reaps every completion there is (entering the kernel to wait only when there
 * is none), and refills: the calls fio's io_uring engine makes with
 * iodepth_batch_submit and iodepth_batch_complete_max at the queue depth,
 * which bench/fio.c gives it.
 * An I/O's latency runs from its preparation to the reap that sees it
 * complete, one clock read per batch (fio's "lat": submission plus completion
 * latency). It goes into a histogram per direction, never into a sample list,
 * so memory does not grow with the run.
 *
 * Time-based runs stop issuing at the deadline and drain what is in flight;
 * the run's length is its first submission to its last completion.
 * Random offsets are uniform over the slice, aligned to the block size, with
 * repeats (fio's norandommap); mixes draw each I/O's direction.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <liburing.h>

#include "bench/io.h"
#include "dms-util.h"

/* How long one wait may block before the job looks at the clock and the stop flag again. */
#define WAIT_NS (100 * 1000 * 1000)

struct job {
	const struct bench_io_spec *spec;
	uint64_t start, end; /* its slice of the region */
	atomic_bool *abort;
	struct bench_io_stats *st;   /* its own, merged after */
	_Atomic uint64_t ios, bytes; /* so far, for the progress line */
	atomic_bool finished;
	int error;
	char err[256];
	pthread_t thread;
	bool started;
};

struct slot {
	uint64_t start_ns;
	int dir;
	uint64_t offset;
};

/* splitmix64: tiny, fast, and good enough to scatter offsets. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

struct cursor {
	const struct bench_workload *w;
	uint64_t start, end, next;
	uint64_t rng;
};

static void pick(struct cursor *c, struct slot *s)
{
	const struct bench_workload *w = c->w;

	if (w->read_pct >= 100)
		s->dir = BENCH_READ;
	else if (w->read_pct == 0)
		s->dir = BENCH_WRITE;
	else
		s->dir = next_random(&c->rng) % 100 < w->read_pct ? BENCH_READ : BENCH_WRITE;
	if (w->random) {
		s->offset = c->start + next_random(&c->rng) % ((c->end - c->start) / w->bs) * w->bs;
		return;
	}
	/* Sequential wraps around its slice, as fio's does in a time-based run. */
	if (c->next + w->bs > c->end)
		c->next = c->start;
	s->offset = c->next;
	c->next += w->bs;
}

static void fail(struct job *j, int r, const char *what)
{
	if (j->error)
		return;
	j->error = r;
	snprintf(j->err, sizeof(j->err), "'%s': %s: %s", j->spec->path, what, strerror(-r));
	atomic_store(j->abort, true);
}

static void prep(struct io_uring *ring, int fd, char *buf, uint32_t bs, unsigned idx, const struct slot *s)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring); /* never NULL: the ring has a slot per I/O in flight */

	if (s->dir == BENCH_READ)
		io_uring_prep_read(sqe, fd, buf + (size_t)idx * bs, bs, s->offset);
	else
		io_uring_prep_write(sqe, fd, buf + (size_t)idx * bs, bs, s->offset);
	io_uring_sqe_set_data64(sqe, idx);
}

static int job_loop(struct job *j, struct io_uring *ring, int fd, char *buf, struct slot *slots)
{
	const struct bench_io_spec *sp = j->spec;
	const struct bench_workload *w = sp->w;
	struct __kernel_timespec wait = { .tv_sec = 0, .tv_nsec = WAIT_NS };
	struct cursor c = { .w = w, .start = j->start, .end = j->end, .next = j->start };
	unsigned *free_slots, n_free = w->iodepth, inflight = 0;
	uint64_t now, t0, deadline, issued = 0, last = 0;
	bool issuing = true;

	free_slots = calloc(w->iodepth, sizeof(*free_slots));
	if (!free_slots)
		return -ENOMEM;
	for (unsigned i = 0; i < w->iodepth; i++)
		free_slots[i] = w->iodepth - 1 - i;
	c.rng = bench_now_ns() ^ ((uint64_t)(uintptr_t)j << 16);

	t0 = now = bench_now_ns();
	deadline = sp->runtime_ns ? t0 + sp->runtime_ns : UINT64_MAX;
	for (;;) {
		struct io_uring_cqe *cqe;
		unsigned head, n = 0;
		int r;

		issuing = issuing && !atomic_load(j->abort) && now < deadline &&
			  (sp->runtime_ns || issued < sp->io_size);
		while (issuing && n_free > 0 && (sp->runtime_ns || issued < sp->io_size)) {
			unsigned idx = free_slots[--n_free];

			pick(&c, &slots[idx]);
			slots[idx].start_ns = now;
			prep(ring, fd, buf, w->bs, idx, &slots[idx]);
			inflight++;
			issued += w->bs;
		}
		if (!inflight)
			break;
		/*
		 * fio's io_uring engine: one enter submits what is queued and, with
		 * GETEVENTS, runs the completions the kernel deferred to this task
		 * (DEFER_TASKRUN), so what is done is in the ring; then reap,
		 * entering to wait only if nothing is there. (A plain submit leaves
		 * them deferred, and every batch pays a second enter.)
		 */
		r = io_uring_submit_and_get_events(ring);
		if (r >= 0)
			r = io_uring_wait_cqe_timeout(ring, &cqe, &wait);
		if (r < 0 && r != -ETIME && r != -EINTR) {
			fail(j, r, "io_uring_enter");
			issuing = false;
			if (r != -EAGAIN && r != -EBUSY)
				break; /* the ring itself is broken: nothing more will complete */
		}
		now = bench_now_ns();
		io_uring_for_each_cqe(ring, head, cqe)
		{
			unsigned idx = (unsigned)io_uring_cqe_get_data64(cqe);
			struct slot *s = &slots[idx];

			if (cqe->res < 0 || (uint32_t)cqe->res != w->bs) {
				char what[96];

				snprintf(what, sizeof(what), "%s of %" PRIu32 " bytes at %" PRIu64,
					 s->dir == BENCH_READ ? "read" : "write", w->bs, s->offset);
				fail(j, cqe->res < 0 ? cqe->res : -EIO, what);
			} else {
				bench_hist_add(&j->st->dir[s->dir].lat, now - s->start_ns);
				j->st->dir[s->dir].ios++;
				j->st->dir[s->dir].bytes += w->bs;
				atomic_fetch_add(&j->ios, 1);
				atomic_fetch_add(&j->bytes, w->bs);
			}
			free_slots[n_free++] = idx;
			inflight--;
			last = now;
			n++;
		}
		io_uring_cq_advance(ring, n);
	}
	free(free_slots);
	j->st->seconds = last > t0 ? (double)(last - t0) / 1e9 : 0;
	return 0;
}

/*
 * The ring as fio's io_uring engine sets it up (engines/io_uring.c,
 * fio_ioring_queue_init): a completion ring the size of the queue; no IPI to
 * interrupt the issuer for completions (COOP_TASKRUN); completion work
 * deferred until the issuer reaps (SINGLE_ISSUER, DEFER_TASKRUN: this job's
 * thread is the only one to touch its ring). Kernels without a flag refuse it
 * with EINVAL and it is dropped, in fio's order.
 */
static int ring_init(struct io_uring *ring, unsigned depth)
{
	struct io_uring_params p = {
		.flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER |
			 IORING_SETUP_DEFER_TASKRUN,
		.cq_entries = depth,
	};
	int r;

	for (;;) {
		r = io_uring_queue_init_params(depth, ring, &p);
		if (r != -EINVAL)
			return r;
		if (p.flags & IORING_SETUP_DEFER_TASKRUN)
			p.flags &= ~(IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SINGLE_ISSUER);
		else if (p.flags & IORING_SETUP_COOP_TASKRUN)
			p.flags &= ~IORING_SETUP_COOP_TASKRUN;
		else if (p.flags & IORING_SETUP_CQSIZE)
			p.flags &= ~IORING_SETUP_CQSIZE;
		else
			return r;
	}
}

/* This thread's CPU time, user and system: what fio reports of a job thread (getrusage, RUSAGE_THREAD). */
static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int job_run(struct job *j)
{
	const struct bench_workload *w = j->spec->w;
	_cleanup_close_ int fd = -1;
	_cleanup_free_ struct slot *slots = NULL;
	struct io_uring ring;
	uint64_t rng = bench_now_ns(), cpu0;
	char *buf = NULL;
	int r;

	fd = open(j->spec->path, (w->read_pct >= 100 ? O_RDONLY : O_RDWR) | O_DIRECT | O_CLOEXEC);
	if (fd < 0) {
		fail(j, -errno, "open with O_DIRECT");
		return j->error;
	}
	slots = calloc(w->iodepth, sizeof(*slots));
	r = posix_memalign((void **)&buf, 4096, (size_t)w->iodepth * w->bs);
	if (!slots || r) {
		free(buf);
		fail(j, -ENOMEM, "buffers");
		return j->error;
	}
	/* What is written is not zeros, as fio's is not: nothing below may treat zeros specially. */
	for (size_t i = 0; i + 8 <= (size_t)w->iodepth * w->bs; i += 8) {
		uint64_t v = next_random(&rng);

		memcpy(buf + i, &v, 8);
	}
	r = ring_init(&ring, w->iodepth);
	if (r < 0) {
		free(buf);
		fail(j, r, "io_uring_queue_init");
		return j->error;
	}
	cpu0 = thread_cpu_ns();
	r = job_loop(j, &ring, fd, buf, slots);
	j->st->cpu_seconds = (double)(thread_cpu_ns() - cpu0) / 1e9;
	if (r < 0)
		fail(j, r, "the I/O loop");
	io_uring_queue_exit(&ring);
	free(buf);
	return j->error;
}

static void *job_main(void *arg)
{
	struct job *j = arg;

	(void)job_run(j);
	atomic_store(&j->finished, true);
	return NULL;
}

/*
 * Job K's thread, on its CPU of CPUS when there are CPUS: set before it starts, as fio sets its
 * job's before the job allocates anything, so that its ring and buffers are made where it runs.
 */
static int start_job(struct job *j, const cpu_set_t *cpus, unsigned k)
{
	pthread_attr_t attr;
	cpu_set_t one;
	int r;

	r = -pthread_attr_init(&attr);
	if (r < 0)
		return r;
	if (cpus) {
		CPU_ZERO(&one);
		CPU_SET(bench_cpus_nth(cpus, k), &one);
		r = -pthread_attr_setaffinity_np(&attr, sizeof(one), &one);
	}
	if (r == 0)
		r = -pthread_create(&j->thread, &attr, job_main, j);
	(void)pthread_attr_destroy(&attr);
	return r;
}

static bool all_finished(struct job *jobs, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (jobs[i].started && !atomic_load(&jobs[i].finished))
			return false;
	return true;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000ULL), .tv_nsec = (long)(ns % 1000000000ULL) };

	(void)nanosleep(&ts, NULL);
}

static int check_spec(const struct bench_io_spec *sp, uint64_t slice, char *err, size_t len)
{
	const struct bench_workload *w = sp->w;

	if (!w->bs || w->bs % 512 || !w->iodepth || !w->jobs || w->read_pct > 100) {
		snprintf(err, len, "workload '%s': invalid", w->name);
		return -EINVAL;
	}
	if (slice < w->bs || sp->offset % 512) {
		snprintf(err, len,
			 "workload '%s': %u job(s) of %" PRIu32 "-byte blocks do not fit in %" PRIu64 " bytes", w->name,
			 w->jobs, w->bs, sp->size);
		return -EINVAL;
	}
	return 0;
}

int bench_io_run(const struct bench_io_spec *sp, struct bench_io_stats *ret, char *err, size_t len)
{
	const struct bench_workload *w = sp->w;
	uint64_t slice = sp->size / (w->jobs ? w->jobs : 1) / (w->bs ? w->bs : 1) * (w->bs ? w->bs : 1);
	_cleanup_free_ struct job *jobs = NULL;
	struct bench_io_stats *st = NULL;
	atomic_bool abort_all = false;
	cpu_set_t cpus;
	uint64_t t0 = bench_now_ns(), next_tick;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = check_spec(sp, slice, err, len);
	if (r == 0 && sp->cpus)
		r = bench_cpus_parse(sp->cpus, &cpus, err, len);
	if (r < 0)
		return r;
	jobs = calloc(w->jobs, sizeof(*jobs));
	st = calloc(w->jobs, sizeof(*st));
	if (!jobs || !st) {
		free(st);
		return -ENOMEM;
	}
	for (unsigned k = 0; k < w->jobs; k++) {
		jobs[k] = (struct job){ .spec = sp, .abort = &abort_all, .st = &st[k] };
		jobs[k].start = sp->offset + k * slice;
		jobs[k].end = jobs[k].start + slice;
		r = start_job(&jobs[k], sp->cpus ? &cpus : NULL, k);
		if (r < 0) {
			atomic_store(&abort_all, true);
			snprintf(err, len, "starting job %u: %s", k, strerror(-r));
			break;
		}
		jobs[k].started = true;
	}

	/* This thread watches: the stop flag, and the progress line. */
	next_tick = t0;
	while (!all_finished(jobs, w->jobs)) {
		uint64_t now = bench_now_ns();

		if (sp->stop && *sp->stop)
			atomic_store(&abort_all, true);
		if (sp->tick && now >= next_tick) {
			struct bench_io_tick t = { .elapsed = (double)(now - t0) / 1e9 };

			for (unsigned k = 0; k < w->jobs; k++) {
				t.ios += atomic_load(&jobs[k].ios);
				t.bytes += atomic_load(&jobs[k].bytes);
			}
			sp->tick(sp->arg, &t);
			next_tick = now + 250 * 1000 * 1000;
		}
		sleep_ns(20 * 1000 * 1000);
	}
	for (unsigned k = 0; k < w->jobs; k++) {
		if (!jobs[k].started)
			continue;
		(void)pthread_join(jobs[k].thread, NULL);
		if (jobs[k].error && r == 0) {
			r = jobs[k].error;
			snprintf(err, len, "%s", jobs[k].err);
		}
		for (int d = 0; d < 2; d++) {
			bench_hist_merge(&ret->dir[d].lat, &st[k].dir[d].lat);
			ret->dir[d].ios += st[k].dir[d].ios;
			ret->dir[d].bytes += st[k].dir[d].bytes;
		}
		if (st[k].seconds > ret->seconds)
			ret->seconds = st[k].seconds;
		ret->cpu_seconds += st[k].cpu_seconds;
	}
	free(st);
	if (r == 0 && sp->stop && *sp->stop)
		r = -EINTR;
	return r;
}
