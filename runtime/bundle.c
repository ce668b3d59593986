// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * config.json of an OCI runtime bundle (runtime-spec v1.0: config.md,
 * config-linux.md), what `crun spec` and `runc spec` start from, with what a
 * user of `docker run` expects: Docker's default capability set, no seccomp
 * filter, the usual masked and read-only paths under /proc and /sys, a
 * private network with only a loopback unless the host's is asked for.
 */
#include <errno.h>
#include <string.h>

#include <json-c/json.h>

#include "dms-util.h"
#include "runtime/runtime.h"

#define OCI_VERSION "1.0.2"

/* Docker's default set (moby oci/caps/defaults.go). */
static const char *const default_caps[] = {
	"CAP_CHOWN",  "CAP_DAC_OVERRIDE",     "CAP_FSETID",  "CAP_FOWNER",	   "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID",	      "CAP_SETUID",  "CAP_SETFCAP",	   "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
};

static const char *const masked_paths[] = {
	"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
	"/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
};

static const char *const readonly_paths[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static json_object *strs(const char *const *v, size_t n)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

static void add_mount(json_object *mounts, const char *dest, const char *type, const char *source,
		      const char *const *options, size_t n)
{
	json_object *m = json_object_new_object();

	json_object_object_add(m, "destination", json_object_new_string(dest));
	json_object_object_add(m, "type", json_object_new_string(type));
	json_object_object_add(m, "source", json_object_new_string(source));
	json_object_object_add(m, "options", strs(options, n));
	json_object_array_add(mounts, m);
}

#define MOUNT(mounts, dest, type, source, ...)                                                              \
	do {                                                                                               \
		static const char *const o_[] = { __VA_ARGS__ };                                            \
		add_mount(mounts, dest, type, source, o_, DMS_ARRAY_SIZE(o_));                              \
	} while (0)

static json_object *mounts_json(const struct dms_run_spec *spec)
{
	json_object *m = json_object_new_array();

	MOUNT(m, "/proc", "proc", "proc", "nosuid", "noexec", "nodev");
	MOUNT(m, "/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k");
	MOUNT(m, "/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
	      "gid=5");
	MOUNT(m, "/dev/shm", "tmpfs", "shm", "nosuid", "noexec", "nodev", "mode=1777", "size=65536k");
	MOUNT(m, "/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev");
	/* sysfs can be mounted only in a network namespace of our own; with the host's, the host's /sys is bound. */
	if (spec->host_network)
		MOUNT(m, "/sys", "bind", "/sys", "rbind", "nosuid", "noexec", "nodev", "ro");
	else
		MOUNT(m, "/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro");
	MOUNT(m, "/sys/fs/cgroup", "cgroup", "cgroup", "nosuid", "noexec", "nodev", "relatime", "ro");
	if (spec->host_network) {
		MOUNT(m, "/etc/resolv.conf", "bind", "/etc/resolv.conf", "rbind", "ro");
		MOUNT(m, "/etc/hosts", "bind", "/etc/hosts", "rbind", "ro");
	}
	return m;
}

static json_object *process_json(const struct dms_run_spec *spec, uid_t uid, gid_t gid)
{
	json_object *p = json_object_new_object(), *user = json_object_new_object(), *caps = json_object_new_object();
	json_object *rl = json_object_new_object(), *rlimits = json_object_new_array(), *args = json_object_new_array(),
		    *env = json_object_new_array();

	json_object_object_add(p, "terminal", json_object_new_boolean(false));
	json_object_object_add(user, "uid", json_object_new_int64(uid));
	json_object_object_add(user, "gid", json_object_new_int64(gid));
	json_object_object_add(p, "user", user);
	for (size_t i = 0; i < spec->n_args; i++)
		json_object_array_add(args, json_object_new_string(spec->args[i]));
	json_object_object_add(p, "args", args);
	for (size_t i = 0; i < spec->n_env; i++)
		json_object_array_add(env, json_object_new_string(spec->env[i]));
	json_object_object_add(p, "env", env);
	json_object_object_add(p, "cwd", json_object_new_string(spec->workdir));
	/* As Docker: a user other than root keeps the set in its bounding set only, not effective. */
	json_object_object_add(caps, "bounding", strs(default_caps, DMS_ARRAY_SIZE(default_caps)));
	json_object_object_add(caps, "effective", uid == 0 ? strs(default_caps, DMS_ARRAY_SIZE(default_caps)) :
								json_object_new_array());
	json_object_object_add(caps, "permitted", uid == 0 ? strs(default_caps, DMS_ARRAY_SIZE(default_caps)) :
								json_object_new_array());
	json_object_object_add(p, "capabilities", caps);
	json_object_object_add(rl, "type", json_object_new_string("RLIMIT_NOFILE"));
	json_object_object_add(rl, "hard", json_object_new_int64(1048576));
	json_object_object_add(rl, "soft", json_object_new_int64(1048576));
	json_object_array_add(rlimits, rl);
	json_object_object_add(p, "rlimits", rlimits);
	json_object_object_add(p, "noNewPrivileges", json_object_new_boolean(false));
	return p;
}

static json_object *linux_json(const struct dms_run_spec *spec)
{
	static const char *const ns[] = { "pid", "ipc", "uts", "mount", "cgroup", "network" };
	json_object *l = json_object_new_object(), *namespaces = json_object_new_array();

	for (size_t i = 0; i < DMS_ARRAY_SIZE(ns); i++) {
		json_object *n;

		if (strcmp(ns[i], "network") == 0 && spec->host_network)
			continue;
		n = json_object_new_object();
		json_object_object_add(n, "type", json_object_new_string(ns[i]));
		json_object_array_add(namespaces, n);
	}
	json_object_object_add(l, "namespaces", namespaces);
	json_object_object_add(l, "maskedPaths", strs(masked_paths, DMS_ARRAY_SIZE(masked_paths)));
	json_object_object_add(l, "readonlyPaths", strs(readonly_paths, DMS_ARRAY_SIZE(readonly_paths)));
	return l;
}

int dms_bundle_config(const struct dms_run_spec *spec, const char *rootfs, uid_t uid, gid_t gid,
		      struct json_object **ret)
{
	json_object *c = json_object_new_object(), *root = json_object_new_object();

	if (!c || !root) {
		json_object_put(c);
		json_object_put(root);
		return -ENOMEM;
	}
	json_object_object_add(c, "ociVersion", json_object_new_string(OCI_VERSION));
	json_object_object_add(c, "process", process_json(spec, uid, gid));
	json_object_object_add(root, "path", json_object_new_string(rootfs));
	json_object_object_add(root, "readonly", json_object_new_boolean(spec->read_only));
	json_object_object_add(c, "root", root);
	json_object_object_add(c, "hostname", json_object_new_string(spec->hostname ? spec->hostname : ""));
	json_object_object_add(c, "mounts", mounts_json(spec));
	json_object_object_add(c, "linux", linux_json(spec));
	*ret = c;
	return 0;
}
