// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A daemon's two threads on one pool, for test_wait_holds_up_no_thread: one
 * waits on the pool's events (dms_pool_wait_event, which sleeps in the
 * kernel until the next one), the other then reads the pool's status, which
 * needs device-mapper too. The status must come back while the wait still
 * sleeps; a signal then ends the wait (-EINTR).
 *
 *   wait-driver POOL
 *
 * Exit status: 0 as above; 1 if the status failed, or did not come back
 * within a minute while the waiter slept (it would never have: the wait held
 * up every other thread's device-mapper work), or the wait ended otherwise.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <dmstore.h>

struct waiter {
	struct dms_ctx *ctx;
	const char *pool;
	uint32_t event_nr;
	atomic_int tid;
	atomic_bool done;
	int r;
};

static void on_usr1(int sig)
{
	(void)sig;
}

static void on_alarm(int sig)
{
	static const char msg[] = "wait-driver: no status in a minute while the wait slept: the wait holds it up\n";

	(void)sig;
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(1);
}

static void *wait_main(void *arg)
{
	struct waiter *w = arg;

	atomic_store(&w->tid, (int)syscall(SYS_gettid));
	w->r = dms_pool_wait_event(w->ctx, w->pool, w->event_nr);
	atomic_store(&w->done, true);
	return NULL;
}

/* Whether thread TID sleeps in an ioctl now: the kernel's word, not a guess from the clock. */
static bool in_ioctl(int tid)
{
	char path[64], line[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	return atoi(line) == SYS_ioctl && strchr(line, ' ');
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_usr1 }; /* no SA_RESTART: the ioctl returns EINTR */
	struct waiter w = { .pool = argc == 2 ? argv[1] : NULL };
	struct dms_pool_status *st = NULL;
	pthread_t thread;
	int r, tries;

	if (!w.pool) {
		fprintf(stderr, "usage: wait-driver POOL\n");
		return 2;
	}
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) < 0)
		return 1;
	sa.sa_handler = on_alarm;
	if (sigaction(SIGALRM, &sa, NULL) < 0 || dms_ctx_new(&w.ctx) < 0)
		return 1;
	if (dms_pool_event_nr(w.ctx, w.pool, &w.event_nr) < 0) {
		fprintf(stderr, "wait-driver: %s\n", dms_ctx_error(w.ctx));
		return 1;
	}
	if (pthread_create(&thread, NULL, wait_main, &w) != 0)
		return 1;
	for (tries = 0; tries < 600 && !(atomic_load(&w.tid) && in_ioctl(atomic_load(&w.tid))); tries++)
		usleep(100 * 1000);
	if (tries == 600 || atomic_load(&w.done)) {
		fprintf(stderr, "wait-driver: the waiter never slept in its ioctl (%d)\n", w.r);
		return 1;
	}
	/* A status held up never returns: the alarm ends the program after a minute. */
	alarm(60);
	r = dms_pool_status(w.ctx, w.pool, &st);
	alarm(0);
	if (r < 0) {
		fprintf(stderr, "wait-driver: status: %s\n", dms_ctx_error(w.ctx));
		return 1;
	}
	printf("status while waiting: %s\n", in_ioctl(atomic_load(&w.tid)) ? "yes" : "no");
	dms_pool_status_free(st);
	pthread_kill(thread, SIGUSR1);
	pthread_join(thread, NULL);
	printf("wait: %s\n", strerror(-w.r));
	dms_ctx_free(w.ctx);
	return w.r == -EINTR ? 0 : 1;
}
