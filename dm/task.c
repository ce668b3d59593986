// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Device-mapper tasks: one ioctl each, through libdevmapper.
 *
 * libdevmapper answers 1/0 and logs the reason as text; the kernel's errno is
 * kept on the task (dm_task_get_errno) and that is all we pass up, negated.
 * Operations that create or remove /dev/mapper nodes carry a udev cookie and
 * wait on it: with udev running, udev makes the node; without udev (the test
 * VM, containers, DM_DISABLE_UDEV=1) libdevmapper falls back to making it
 * itself when the cookie is waited on.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <libdevmapper.h>

#include "dms-util.h"
#include "dm/dm.h"

/*
 * libdevmapper is not thread-safe: the /dev/mapper node operations it stacks
 * when it makes nodes itself (no udev) sit on one process-wide list, and its
 * control fd, version check and cookie semaphores are process-wide too. Two
 * threads of a daemon running tasks at once corrupted that list. So a task
 * holds this lock from its creation to its destruction (recursive: listing
 * devices asks each one's UUID while the list task lives). Each task is one
 * ioctl, so the wait is short; a remove that retries (DMS_DM_REMOVE_RETRY)
 * holds it for those retries. The wait for a device's events, which may
 * last hours, lets it go before its ioctl (dms_dm_wait_event).
 */
static pthread_mutex_t dm_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

static void dm_task_destroyp(struct dm_task **t)
{
	if (!*t)
		return;
	dm_task_destroy(*t);
	(void)pthread_mutex_unlock(&dm_lock);
}
#define _cleanup_task_ _cleanup_(dm_task_destroyp)

/*
 * libdevmapper's log function is the process's, so it is set only when the
 * program asks (dms_devmapper_quiet): its messages are then dropped unless
 * DMSTORE_DEBUG is set, when they go to stderr for a human chasing a failure.
 */
static void dm_log_quiet(int level, const char *file, int line, int dm_errno_or_class, const char *f, ...)
{
	va_list ap;

	if (!getenv("DMSTORE_DEBUG"))
		return;
	va_start(ap, f);
	fprintf(stderr, "libdevmapper: %s:%d: ", file, line);
	vfprintf(stderr, f, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static pthread_once_t dm_log_once = PTHREAD_ONCE_INIT;

static void dm_log_setup(void)
{
	dm_log_with_errno_init(dm_log_quiet);
}

void dms_dm_quiet(void)
{
	pthread_once(&dm_log_once, dm_log_setup);
}

/* The task holds dm_lock until it is destroyed (_cleanup_task_). */
static int task_new(int type, const char *name, struct dm_task **ret)
{
	struct dm_task *t;

	(void)pthread_mutex_lock(&dm_lock);
	t = dm_task_create(type);
	if (!t) {
		(void)pthread_mutex_unlock(&dm_lock);
		return -ENOMEM;
	}
	if (name && !dm_task_set_name(t, name)) {
		dm_task_destroyp(&t);
		return -EINVAL;
	}
	*ret = t;
	return 0;
}

/* The kernel's errno for a failed task; EIO if libdevmapper failed before the ioctl. */
static int task_errno(struct dm_task *t)
{
	int e = dm_task_get_errno(t);

	return e > 0 ? -e : -EIO;
}

static int task_run(struct dm_task *t)
{
	return dm_task_run(t) ? 0 : task_errno(t);
}

/* Run a task that changes /dev/mapper nodes, and wait until the node matches. */
static int task_run_with_cookie(struct dm_task *t)
{
	uint32_t cookie = 0;
	int r;

	if (!dm_task_set_cookie(t, &cookie, 0))
		return -EIO;
	r = task_run(t);
	/* Waiting also releases the cookie's semaphore, so it is done on failure too. */
	(void)dm_udev_wait(cookie);
	return r;
}

static int task_add_table(struct dm_task *t, const struct dms_dm_target *table, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!dm_task_add_target(t, table[i].start, table[i].length, table[i].type, table[i].params))
			return -ENOMEM;
	return 0;
}

/* One task does create, load and resume; libdevmapper removes the device again if load or resume fails. */
int dms_dm_create(const char *name, const char *uuid, const struct dms_dm_target *table, size_t n_targets,
		  bool read_only)
{
	_cleanup_task_ struct dm_task *t = NULL;
	int r;

	r = task_new(DM_DEVICE_CREATE, name, &t);
	if (r < 0)
		return r;
	if (uuid && !dm_task_set_uuid(t, uuid))
		return -EINVAL;
	if (read_only && !dm_task_set_ro(t))
		return -ENOMEM;
	r = task_add_table(t, table, n_targets);
	if (r < 0)
		return r;
	if (!dm_task_set_add_node(t, DM_ADD_NODE_ON_CREATE))
		return -EIO;
	return task_run_with_cookie(t);
}

int dms_dm_reload(const char *name, const struct dms_dm_target *table, size_t n_targets)
{
	_cleanup_task_ struct dm_task *t = NULL;
	int r;

	r = task_new(DM_DEVICE_RELOAD, name, &t);
	if (r < 0)
		return r;
	r = task_add_table(t, table, n_targets);
	if (r < 0)
		return r;
	return task_run(t);
}

/* Without flush, I/O in flight is queued across the suspend rather than completed (needed when the pool is out of space). */
int dms_dm_suspend(const char *name, bool flush)
{
	_cleanup_task_ struct dm_task *t = NULL;
	int r;

	r = task_new(DM_DEVICE_SUSPEND, name, &t);
	if (r < 0)
		return r;
	if (!flush && !dm_task_no_flush(t))
		return -ENOMEM;
	return task_run(t);
}

int dms_dm_resume(const char *name)
{
	_cleanup_task_ struct dm_task *t = NULL;
	int r;

	r = task_new(DM_DEVICE_RESUME, name, &t);
	if (r < 0)
		return r;
	return task_run_with_cookie(t);
}

int dms_dm_remove(const char *name, unsigned flags)
{
	_cleanup_task_ struct dm_task *t = NULL;
	int r;

	r = task_new(DM_DEVICE_REMOVE, name, &t);
	if (r < 0)
		return r;
	/* libdevmapper retries EBUSY for a few seconds: udev or blkid often hold a new device briefly. */
	if ((flags & DMS_DM_REMOVE_RETRY) && !dm_task_retry_remove(t))
		return -ENOMEM;
	if ((flags & DMS_DM_REMOVE_DEFERRED) && !dm_task_deferred_remove(t))
		return -ENOMEM;
	return task_run_with_cookie(t);
}

static int info_run(struct dm_task *t, struct dms_dm_info *ret_info)
{
	struct dm_info info;
	const char *name, *uuid;
	int r;

	r = task_run(t);
	if (r < 0)
		return r;
	if (!dm_task_get_info(t, &info))
		return -EIO;
	*ret_info = (struct dms_dm_info){
		.exists = info.exists,
		.suspended = info.exists && info.suspended,
		.read_only = info.exists && info.read_only,
		.live_table = info.exists && info.live_table,
		.open_count = info.exists ? info.open_count : 0,
		.major = info.exists ? info.major : 0,
		.minor = info.exists ? info.minor : 0,
		.event_nr = info.exists ? info.event_nr : 0,
	};
	if (!info.exists)
		return 0;
	/* The kernel writes back both the name and the UUID of the device it found, whichever was asked. */
	name = dm_task_get_name(t);
	uuid = dm_task_get_uuid(t);
	snprintf(ret_info->name, sizeof(ret_info->name), "%s", name ? name : "");
	snprintf(ret_info->uuid, sizeof(ret_info->uuid), "%s", uuid ? uuid : "");
	return 0;
}

int dms_dm_info(const char *name, struct dms_dm_info *ret_info)
{
	_cleanup_task_ struct dm_task *t = NULL;
	int r;

	r = task_new(DM_DEVICE_INFO, name, &t);
	if (r < 0)
		return r;
	return info_run(t, ret_info);
}

int dms_dm_info_by_uuid(const char *uuid, struct dms_dm_info *ret_info)
{
	_cleanup_task_ struct dm_task *t = NULL;
	int r;

	r = task_new(DM_DEVICE_INFO, NULL, &t);
	if (r < 0)
		return r;
	if (!dm_task_set_uuid(t, uuid))
		return -EINVAL;
	return info_run(t, ret_info);
}

int dms_dm_message(const char *name, const char *message)
{
	_cleanup_task_ struct dm_task *t = NULL;
	int r;

	r = task_new(DM_DEVICE_TARGET_MSG, name, &t);
	if (r < 0)
		return r;
	if (!dm_task_set_sector(t, 0) || !dm_task_set_message(t, message))
		return -ENOMEM;
	return task_run(t);
}

/*
 * The one task that may block for hours: it runs without dm_lock, or a
 * daemon's monitor thread would stop every other thread's device-mapper work
 * until the pool's next event. Made under the lock (dm_task_create checks the
 * driver's version once per process, which opens the control device), it then
 * touches nothing process-wide that another task changes: the control fd,
 * which libdevmapper closes only in dm_lib_release (never called here), and
 * no /dev/mapper node (a wait makes none).
 */
int dms_dm_wait_event(const char *name, uint32_t event_nr)
{
	struct dm_task *t;
	int r;

	r = task_new(DM_DEVICE_WAITEVENT, name, &t);
	if (r < 0)
		return r;
	if (!dm_task_set_event_nr(t, event_nr)) {
		dm_task_destroyp(&t);
		return -ENOMEM;
	}
	(void)pthread_mutex_unlock(&dm_lock);
	r = task_run(t);
	dm_task_destroy(t);
	return r;
}

/* Both status and table name one target; dmstore makes only single-target devices. */
static int task_first_target(int type, const char *name, char **ret_type, char **ret_params)
{
	_cleanup_task_ struct dm_task *t = NULL;
	_cleanup_free_ char *tt = NULL;
	_cleanup_free_ char *pp = NULL;
	uint64_t start, length;
	char *target_type = NULL, *params = NULL;
	int r;

	r = task_new(type, name, &t);
	if (r < 0)
		return r;
	/* Open counts cost a lookup per device and status does not need them. */
	if (!dm_task_no_open_count(t))
		return -ENOMEM;
	r = task_run(t);
	if (r < 0)
		return r;
	(void)dm_get_next_target(t, NULL, &start, &length, &target_type, &params);
	if (!target_type)
		return -ENODATA;
	tt = strdup(target_type);
	pp = strdup(params ? params : "");
	if (!tt || !pp)
		return -ENOMEM;
	if (ret_type)
		*ret_type = DMS_TAKE_PTR(tt);
	*ret_params = DMS_TAKE_PTR(pp);
	return 0;
}

int dms_dm_status(const char *name, char **ret_type, char **ret_params)
{
	return task_first_target(DM_DEVICE_STATUS, name, ret_type, ret_params);
}

int dms_dm_table(const char *name, char **ret_type, char **ret_params)
{
	return task_first_target(DM_DEVICE_TABLE, name, ret_type, ret_params);
}

void dms_dm_devices_free(struct dms_dm_device *devices, size_t n)
{
	if (!devices)
		return;
	for (size_t i = 0; i < n; i++) {
		free(devices[i].name);
		free(devices[i].uuid);
	}
	free(devices);
}

static int device_uuid(const char *name, char **ret_uuid)
{
	_cleanup_task_ struct dm_task *t = NULL;
	const char *uuid;
	int r;

	r = task_new(DM_DEVICE_INFO, name, &t);
	if (r < 0)
		return r;
	if (!dm_task_no_open_count(t))
		return -ENOMEM;
	r = task_run(t);
	if (r < 0)
		return r;
	uuid = dm_task_get_uuid(t);
	*ret_uuid = strdup(uuid ? uuid : "");
	return *ret_uuid ? 0 : -ENOMEM;
}

/*
 * The kernel lists names only; the UUID (our ownership mark) costs one INFO per
 * device. A device removed between the two is simply not listed.
 */
int dms_dm_list(const char *uuid_prefix, struct dms_dm_device **ret_devices, size_t *ret_n)
{
	_cleanup_task_ struct dm_task *t = NULL;
	struct dms_dm_device *devs = NULL;
	struct dm_names *names;
	size_t n = 0, cap = 0, plen = uuid_prefix ? strlen(uuid_prefix) : 0;
	unsigned next = 0;
	int r;

	r = task_new(DM_DEVICE_LIST, NULL, &t);
	if (r < 0)
		return r;
	r = task_run(t);
	if (r < 0)
		return r;
	names = dm_task_get_names(t);
	if (names && names->dev) {
		do {
			_cleanup_free_ char *uuid = NULL;

			names = (struct dm_names *)((char *)names + next);
			next = names->next;
			r = device_uuid(names->name, &uuid);
			if (r == -ENXIO)
				continue;
			if (r < 0)
				goto fail;
			if (plen && strncmp(uuid, uuid_prefix, plen) != 0)
				continue;
			if (n == cap) {
				struct dms_dm_device *grown;

				cap = cap ? cap * 2 : 16;
				grown = realloc(devs, cap * sizeof(*devs));
				if (!grown) {
					r = -ENOMEM;
					goto fail;
				}
				devs = grown;
			}
			devs[n] = (struct dms_dm_device){
				.name = strdup(names->name),
				.uuid = DMS_TAKE_PTR(uuid),
				.major = major(names->dev),
				.minor = minor(names->dev),
			};
			n++;
			if (!devs[n - 1].name) {
				r = -ENOMEM;
				goto fail;
			}
		} while (next);
	}
	*ret_devices = devs;
	*ret_n = n;
	return 0;

fail:
	dms_dm_devices_free(devs, n);
	return r;
}

/* Asking for a target's version makes the kernel load its module, so this also answers "is it there". */
int dms_dm_target_version(const char *target, unsigned ret_version[3])
{
	_cleanup_task_ struct dm_task *t = NULL;
	struct dm_versions *v;
	int r;

	r = task_new(DM_DEVICE_GET_TARGET_VERSION, target, &t);
	if (r < 0)
		return r;
	r = task_run(t);
	if (r < 0)
		return r == -EINVAL ? -ENOENT : r;
	v = dm_task_get_versions(t);
	if (!v || strcmp(v->name, target) != 0)
		return -ENOENT;
	for (int i = 0; i < 3; i++)
		ret_version[i] = v->version[i];
	return 0;
}

int dms_dm_available(void)
{
	char version[64];
	_cleanup_task_ struct dm_task *t = NULL;
	int r;

	if (access("/dev/mapper/control", F_OK) < 0)
		return -errno;
	r = task_new(DM_DEVICE_VERSION, NULL, &t);
	if (r < 0)
		return r;
	r = task_run(t);
	if (r < 0)
		return r;
	return dm_task_get_driver_version(t, version, sizeof(version)) ? 0 : -EIO;
}

int dms_dm_path(const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", dm_dir(), name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}
