/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMSTORE_H
#define DMSTORE_H

/*
 * libdmstore: block-level container storage on device-mapper thin provisioning.
 *
 * Every call that can fail returns 0 or a negative errno. On failure the
 * library keeps one line that names the object and the cause, for a human:
 * dms_ctx_error(), and what kind of failure it was, for a program:
 * dms_ctx_error_kind(). Like errno, that error is the calling thread's own:
 * read it on the thread that made the call, before its next call (a Go
 * program reads it inside the same cgo call, since goroutines change
 * threads). The library never prints and never exits.
 *
 * Threads. A struct dms_ctx holds configuration only and may be shared by
 * any number of threads once configured: its setters (dms_ctx_set_*) are
 * not synchronised, so call them before the context is shared (the errors it
 * reports are per thread). A struct dms_pool (an open catalogue, and the pool
 * lock while a change runs) serves one thread at a time: a daemon opens one
 * per thread or per request (dms_pool_open is cheap) or serialises its use.
 * Any number of struct dms_pool, on the same pool too, may be used at once
 * by as many threads, on the same objects too: changes to a pool, from any
 * number of threads and processes, queue on the pool lock, which each change
 * takes through a file descriptor of its own (flock: two threads of one
 * process queue as two processes do); reads (inspect, list, status, stat)
 * take no lock and see a change whole or not at all. An image import holds
 * the pool lock only for its device's transactions, so other changes run
 * while it unpacks. libdevmapper is not thread-safe (process-wide lists and
 * descriptors): the library runs one device-mapper task at a time per
 * process, each a single ioctl, so threads wait on each other only for those
 * (a thread in dms_pool_wait_event holds up no other).
 *
 * Nothing process-wide changes behind the caller's back: not the working
 * directory, the root, the umask, the environment, signal dispositions, nor
 * libdevmapper's log function (dms_devmapper_quiet() is the program's to
 * call).
 *
 * Structs, so the ABI can grow. Each struct the library fills (a status,
 * an info, a report) is allocated by it, freed by its dms_<thing>_free()
 * (a list by dms_<thing>_list_free()), and begins with SIZE, the sizeof the
 * library was built with. Fields are only ever appended: a program built
 * against a newer header checks that a field is there with DMS_HAS_FIELD().
 * Strings in them are never NULL ("" when none) and go with the struct;
 * lists in them are allocated arrays of pointers, with a count.
 *
 * Each struct the caller passes in (options) begins with SIZE too, which the
 * caller sets to its sizeof (DMS_OPTS_INIT). The library reads the fields
 * that fit in SIZE and takes the rest as zero. A SIZE larger than the
 * library's own is -E2BIG unless every byte past its own is zero, as
 * openat2(2) does; a SIZE of 0, or too small for the first version, -EINVAL.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DMS_EXPORT __attribute__((visibility("default")))

/* Whether the struct at PTR, filled by the library, has FIELD: DMS_HAS_FIELD(info, used). */
#define DMS_HAS_FIELD(ptr, field) \
	(offsetof(__typeof__(*(ptr)), field) + sizeof((ptr)->field) <= (ptr)->size)
/* Options to pass in: struct dms_import_opts o = DMS_OPTS_INIT(struct dms_import_opts); */
#define DMS_OPTS_INIT(type) ((type){ .size = sizeof(type) })

/*
 * The version this header came with (the Makefile reads it from here); the
 * library's own, which may be newer, is dms_version()'s. The soname,
 * libdmstore.so.1, changes only when the ABI breaks: 0.2.0 broke 0.1.0's
 * (libdmstore.so.0) to make every struct above versioned and allocated.
 */
#define DMS_VERSION "0.2.0"
DMS_EXPORT const char *dms_version(void);

struct dms_ctx;

/*
 * State lives under DMSTORE_STATE_DIR (default /var/lib/dmstore), locks under
 * DMSTORE_RUN_DIR (default /run/dmstore).
 */
DMS_EXPORT int dms_ctx_new(struct dms_ctx **ret_ctx);
DMS_EXPORT void dms_ctx_free(struct dms_ctx *ctx);
/* The calling thread's last failure in CTX, "" if none. */
#define DMS_ERROR_MAX 1024
DMS_EXPORT const char *dms_ctx_error(const struct dms_ctx *ctx);
/*
 * libdevmapper logs its failures to stderr, process-wide, through one log
 * function. A program whose stderr is for its users (the dmstore command)
 * calls this once, before any other thread uses libdevmapper: its messages
 * are then dropped (or, with DMSTORE_DEBUG set, written to stderr), and the
 * library's own one-line errors say what failed. Not for a program that
 * installs a libdevmapper log function of its own.
 */
DMS_EXPORT void dms_devmapper_quiet(void);

/*
 * The kind of the failure dms_ctx_error() describes. Decided by the library
 * where the failure is understood, not read off the errno: a -ENOENT from
 * deep down (a device node, a file, a helper program) does not mean that the
 * object the caller named is missing, and a -EINVAL from the kernel is no
 * fault of the caller's input. The dmstore program's exit status is this.
 */
enum dms_error_kind {
	DMS_ERROR_NONE = 0,  /* nothing has failed in this context, on this thread */
	DMS_ERROR_FAILED,    /* the operation failed: the kernel, a device, space, a crash left behind, ... */
	DMS_ERROR_INVALID,   /* the caller's input: a name, size, label, path or combination that cannot be */
	DMS_ERROR_NOT_FOUND, /* the named pool, image, container, volume or attachment does not exist */
	DMS_ERROR_EXISTS,    /* it exists already, or is in use (mounted, attached, open, held) */
};
DMS_EXPORT enum dms_error_kind dms_ctx_error_kind(const struct dms_ctx *ctx);
DMS_EXPORT const char *dms_ctx_state_dir(const struct dms_ctx *ctx);
DMS_EXPORT const char *dms_ctx_run_dir(const struct dms_ctx *ctx);

/*
 * Who holds a lock: what its holder noted in the lock file when it took it,
 * checked against the kernel's list of locks. The library's, lent to a
 * dms_lock_wait_fn for the length of the call.
 */
struct dms_lock_holder {
	uint32_t size;
	int pid;		/* 0: unknown */
	int64_t since;		/* unix seconds it took the lock; 0: unknown */
	char *cmdline;		/* its arguments, space-separated; "" if unknown */
	bool unverified;	/* the kernel did not confirm that PID holds it: the note may be stale */
};
/*
 * "pid 123 (dmstore image import big /srv/big) since 12:03:04", " (may be
 * stale)" if unverified; allocated (free it), NULL when out of memory.
 */
DMS_EXPORT char *dms_lock_holder_format(const struct dms_lock_holder *holder);

/*
 * A change of a pool waits for the pool's lock while another change holds it.
 * TIMEOUT_MS is how long: 0 not at all, DMS_LOCK_WAIT_FOREVER (the default)
 * without limit. Past it the change fails with -EBUSY and an error naming the
 * holder: "pool 'p' is busy: held by pid 123 (...) since 12:03:04; gave up after 5 s".
 * An import waits for the lock again to finish, after its unpack: that wait
 * has no limit, so minutes of work are not thrown away for a short queue.
 */
#define DMS_LOCK_WAIT_FOREVER (-1L)
DMS_EXPORT void dms_ctx_set_lock_wait(struct dms_ctx *ctx, long timeout_ms);
/*
 * FN is called once per wait that lasts a second, on the waiting thread, with
 * the pool's name and who holds its lock, so a caller can say why nothing
 * happens; the wait then goes on. NULL: no call. The library never prints.
 */
typedef void dms_lock_wait_fn(const char *pool, const struct dms_lock_holder *holder, void *userdata);
DMS_EXPORT void dms_ctx_set_lock_wait_notify(struct dms_ctx *ctx, dms_lock_wait_fn *fn, void *userdata);

/*
 * Settings a program takes from its configuration (the dmstore command reads
 * /etc/dmstore/dmstore.conf; the library reads no file of its own). Set them
 * before the context is shared between threads.
 *
 * The free-space floor: a create is refused while less than PERCENT (0-99;
 * default DMS_MIN_FREE_DEFAULT) of the pool's data or metadata is free.
 */
#define DMS_MIN_FREE_DEFAULT 10U
DMS_EXPORT int dms_ctx_set_min_free(struct dms_ctx *ctx, unsigned percent);
/*
 * ext4 options for every mount of a container's layer or a volume (snap mount,
 * vol mount, vol attach, holders): comma-separated, as ext4(5) spells them
 * ("discard,commit=30"). Not the mount flags (ro, rw, suid, nosuid, dev, nodev,
 * exec, noexec, atime, noatime, ...): those are dmstore's to set, and are
 * refused (-EINVAL). NULL or "": none. The kernel judges the rest when a mount is made.
 */
#define DMS_MOUNT_OPTIONS_MAX 256
DMS_EXPORT int dms_ctx_set_mount_options(struct dms_ctx *ctx, const char *options);

/* Object names: [A-Za-z0-9][A-Za-z0-9_.-]{0,63}; pool names at most 32 characters, so dm names fit. */
#define DMS_NAME_MAX 64
#define DMS_POOL_NAME_MAX 32
DMS_EXPORT bool dms_name_valid(const char *name);
DMS_EXPORT bool dms_pool_name_valid(const char *name);

/*
 * The largest size of anything dmstore makes (a volume, an image, a container,
 * a loop pool's file): 256 TiB. Why this bound, util/size.c. Larger: -ERANGE.
 */
#define DMS_SIZE_MAX (256ULL << 40)

#define DMS_BLOCK_SIZE_DEFAULT (64U * 1024U)
#define DMS_BLOCK_SIZE_MIN (64U * 1024U)
#define DMS_BLOCK_SIZE_MAX (1024U * 1024U * 1024U)

struct dms_pool_create_opts {
	uint32_t size;		/* sizeof(struct dms_pool_create_opts): DMS_OPTS_INIT */
	/* Dedicated block devices ... */
	const char *data_dev;
	const char *metadata_dev;
	/* ... or sparse files under the state dir, attached as loop devices. */
	bool loop;
	uint64_t data_size;	/* loop only; 0: dmstore picks */
	uint64_t metadata_size; /* loop only; 0: dmstore picks */
	uint32_t block_size;	/* bytes; 0: DMS_BLOCK_SIZE_DEFAULT */
	bool no_zero;		/* do not zero newly provisioned blocks */
	bool force;		/* take devices that carry a signature or are open elsewhere */
};

struct dms_pool_status {
	uint32_t size;
	char *name;
	bool active;
	bool loop;
	bool zero;
	uint32_t block_size;
	uint64_t data_total;	 /* bytes */
	uint64_t data_used;
	uint64_t metadata_total; /* bytes */
	uint64_t metadata_used;
	uint64_t transaction_id;
	const char *mode;	 /* "rw", "ro", "out_of_data_space", "fail", or "inactive" */
	const char *discards;	 /* "passdown", "nopassdown", "ignore" */
	const char *no_space;	 /* "error" or "queue" */
	bool needs_check;
	long device_count;	 /* thin devices in the pool's metadata; -1 when unknown */
	char *dm_name;
	char *data_path;	 /* the device, or the sparse file */
	char *metadata_path;
	char *data_dev;		 /* the block device under the pool now ("/dev/loop3"), "" if inactive */
	char *metadata_dev;
};
DMS_EXPORT void dms_pool_status_free(struct dms_pool_status *status);

/* RET_STATUS (may be NULL): the new pool's status. */
DMS_EXPORT int dms_pool_create(struct dms_ctx *ctx, const char *name, const struct dms_pool_create_opts *opts,
			       struct dms_pool_status **ret_status);
DMS_EXPORT int dms_pool_activate(struct dms_ctx *ctx, const char *name);
DMS_EXPORT int dms_pool_deactivate(struct dms_ctx *ctx, const char *name);
DMS_EXPORT int dms_pool_remove(struct dms_ctx *ctx, const char *name, bool force);
DMS_EXPORT int dms_pool_status(struct dms_ctx *ctx, const char *name, struct dms_pool_status **ret_status);
/*
 * Grow a pool, online, under its lock. A loop-file pool: its data file to
 * DATA_SIZE and its metadata file to METADATA_SIZE (0: unchanged; shrinking
 * is refused). A pool on dedicated devices, after they grew (lvextend, a
 * bigger LUN): both sizes 0, and the pool takes what the devices hold now,
 * once they show they are its own; its data label moves to the new last MiB.
 * An inactive pool takes the new size when next activated.
 */
DMS_EXPORT int dms_pool_grow(struct dms_ctx *ctx, const char *name, uint64_t data_size, uint64_t metadata_size);

/*
 * Watching a pool without polling. The kernel raises an event on the pool
 * when its data use crosses the threshold set here (the table's low water
 * mark: the pool is suspended and resumed for the instant it takes; every
 * resume, a grow's too, arms it again), when its metadata is nearly full, and
 * when its mode changes. Read the counter (dms_pool_event_nr), then the
 * pool's status, then wait from that number: no event between goes unseen.
 * dms_pool_wait_event blocks until an event after EVENT_NR; -EINTR, with no
 * error recorded, when a signal interrupts it.
 */
DMS_EXPORT int dms_pool_set_low_water(struct dms_ctx *ctx, const char *name, unsigned percent_used);
DMS_EXPORT int dms_pool_event_nr(struct dms_ctx *ctx, const char *name, uint32_t *ret_event_nr);
DMS_EXPORT int dms_pool_wait_event(struct dms_ctx *ctx, const char *name, uint32_t event_nr);
/*
 * Removals deferred until their holder let go (dms_snap_remove_flags and
 * dms_vol_remove_flags with DMS_REMOVE_FORCE) end when the kernel removes the
 * device, which raises no pool event; the pool's next change finishes them
 * (deletes their thin ids). A monitor that sees a device-mapper device go (a
 * "remove" uevent) calls this to do it now: it takes the pool lock, and runs
 * what a change runs first, only if a removal is ready. *RET_FINISHED (may be
 * NULL): how many were.
 */
DMS_EXPORT int dms_pool_finish_removals(struct dms_ctx *ctx, const char *name, unsigned *ret_finished);
/* Names of the pools with a configuration under the state dir, sorted; free with dms_strv_free. */
DMS_EXPORT int dms_pool_list(struct dms_ctx *ctx, char ***ret_names, size_t *ret_n);
DMS_EXPORT void dms_strv_free(char **strv, size_t n);

/*
 * An open pool, for the objects in it. NAME NULL opens the only pool there is.
 * Reads need no lock; every change takes the pool lock, runs recovery first,
 * and refuses if the pool is not active. An import holds the pool lock only
 * to make its device and to finish: other changes run while it unpacks.
 */
struct dms_pool;
DMS_EXPORT int dms_pool_open(struct dms_ctx *ctx, const char *name, struct dms_pool **ret_pool);
DMS_EXPORT void dms_pool_close(struct dms_pool *pool);
DMS_EXPORT const char *dms_pool_name(const struct dms_pool *pool);
/* What dms_pool_recover did, and what it found. */
struct dms_recover_report {
	uint32_t size;
	unsigned rolled_forward;	/* changes the kernel had committed, finished */
	unsigned rolled_back;		/* changes it had not, undone */
	char **resumed;			/* volumes a dead dmstore left suspended, resumed */
	size_t n_resumed;
	bool released_metadata_snap;	/* a metadata snapshot a dead dmstore held, released */
	uint32_t *orphans;		/* thin ids in the pool's metadata that no catalogue row owns */
	size_t n_orphans;
	bool orphans_deleted;		/* with DMS_RECOVER_DELETE_ORPHANS: those are gone */
};

/* Delete the orphans too, each in a transaction of its own; one in use (an active device maps it) fails the call. */
#define DMS_RECOVER_DELETE_ORPHANS (1U << 0)


/* The context the pool was opened with, where its failures are reported. */
DMS_EXPORT struct dms_ctx *dms_pool_ctx(const struct dms_pool *pool);
/*
 * Finish or undo what a crashed dmstore left, as every change does first:
 * release a metadata snapshot it held, resume the volumes it left suspended,
 * roll its changes forward or back. Then find the thin ids no catalogue row
 * owns. Refused, saying what to run, on a pool the kernel failed or made
 * read-only. Free the report with dms_recover_report_free.
 */
DMS_EXPORT int dms_pool_recover(struct dms_pool *pool, unsigned flags, struct dms_recover_report **ret_report);
DMS_EXPORT void dms_recover_report_free(struct dms_recover_report *report);

/*
 * What dms_pool_check finds, one kind per finding. The names
 * (dms_check_kind_name) are those `pool check --json` prints.
 */
enum dms_check_kind {
	DMS_CHECK_POOL_FAILED,		/* "pool_failed": the kernel stopped the pool */
	DMS_CHECK_POOL_READ_ONLY,	/* "pool_read_only": read-only, or needs_check set */
	DMS_CHECK_METADATA_DAMAGED,	/* "metadata_damaged": thin_check failed */
	DMS_CHECK_HELD_METADATA_SNAP,	/* "held_metadata_snap": a dead dmstore held one; released */
	DMS_CHECK_TXN_MISMATCH,		/* "transaction_mismatch": kernel and catalogue differ, no intent */
	DMS_CHECK_OPEN_INTENT,		/* "open_intent": an interrupted change; recovery finishes it */
	DMS_CHECK_UNFINISHED,		/* "unfinished": an image or volume without its contents, an attachment without its mount */
	DMS_CHECK_ORPHAN_THIN_ID,	/* "orphan_thin_id": in the kernel, no catalogue row owns it */
	DMS_CHECK_MISSING_THIN_ID,	/* "missing_thin_id": a catalogue row whose id the kernel lacks */
	DMS_CHECK_STALE_MOUNT,		/* "stale_mount": recorded as mounted, not mounted */
	DMS_CHECK_STALE_ATTACHMENT,	/* "stale_attachment": recorded as attached, not mounted there */
	DMS_CHECK_DEVICE_INACTIVE,	/* "device_inactive": should be active, is not */
	DMS_CHECK_DEVICE_UNEXPECTED,	/* "device_unexpected": active, should not be (or no row is it) */
	DMS_CHECK_PENDING_REMOVAL,	/* "pending_removal": an rm --force waiting for the holder; not a problem */
};

struct dms_check_finding {
	uint32_t size;
	enum dms_check_kind kind;
	char *object_type;		/* "image", "container", "volume"; "" when no object is named */
	char *object;			/* its name; "" when none */
	int64_t thin_id;		/* -1 when none */
	char *message;			/* one line for a human, saying what to run */
};

struct dms_check_report {
	uint32_t size;
	bool active;			/* the pool is active: its devices and mounts were checked too */
	bool metadata_checked;		/* thin_check ran (not on a failed or read-only pool) */
	bool thin_ids_checked;		/* the kernel's thin ids were compared with the catalogue's */
	size_t n_thin_ids;		/* thin ids in the pool's metadata */
	size_t n_rows;			/* catalogue rows */
	uint64_t catalogue_txn;		/* the catalogue's transaction id (thin_repair asks for it) */
	struct dms_check_finding **findings;
	size_t n_findings;
};

/*
 * Compare what the kernel has with what the catalogue says, under the pool
 * lock, changing nothing but a metadata snapshot a dead dmstore left held
 * (released, and reported). Runs thin_check on a metadata snapshot of the
 * live pool, or on the metadata of an inactive one. Fails only when it cannot
 * check; what it finds is in the report (free with dms_check_report_free).
 */
DMS_EXPORT int dms_pool_check(struct dms_pool *pool, struct dms_check_report **ret_report);
DMS_EXPORT void dms_check_report_free(struct dms_check_report *report);
DMS_EXPORT const char *dms_check_kind_name(enum dms_check_kind kind);

#define DMS_IMAGE_SIZE_DEFAULT (10ULL << 30)

struct dms_image_info {
	uint32_t size;
	char *name;
	uint32_t thin_id;
	uint64_t virtual_size;	/* bytes */
	int64_t created;	/* unix seconds */
	unsigned containers;	/* snapshots of it */
	char *source;		/* what it was imported from; "" for an empty image */
	uint64_t entries;	/* files, dirs, links imported */
	uint64_t bytes;		/* file bytes imported */
	bool ready;		/* false while an import runs */
	char *dm_name;		/* its dm device's: the kernel's while active (an import), else the one it gets */
	uint64_t xattrs_dropped; /* xattrs not imported: only user.*, security.capability and ACLs are */
};
DMS_EXPORT void dms_image_info_free(struct dms_image_info *info);

DMS_EXPORT int dms_image_create(struct dms_pool *pool, const char *name, uint64_t size);
/*
 * SOURCE: a rootfs tarball (any compression libarchive reads) or a directory. SIZE 0: the default.
 * While it runs, the image is listed as importing, and removing it, snapshotting it or importing
 * it again is refused (-EBUSY); so are deactivating and removing the pool. An import that dies
 * leaves nothing the next change does not remove.
 */
DMS_EXPORT int dms_image_import(struct dms_pool *pool, const char *name, const char *source, uint64_t size);

/* How far an import is: called often while it runs, from the thread that does the work. */
struct dms_import_progress {
	unsigned layer;		/* the layer being applied, 1-based; 0 for a rootfs tarball or directory */
	unsigned layers;	/* how many the image has */
	uint64_t bytes;		/* of the source read so far (compressed, for a layer) */
	uint64_t total;		/* bytes of all layers, 0 when unknown */
	uint64_t entries;	/* files, directories, links written so far */
};

struct dms_import_opts {
	uint32_t size;		/* sizeof(struct dms_import_opts): DMS_OPTS_INIT */
	uint64_t image_size;	/* bytes; 0: DMS_IMAGE_SIZE_DEFAULT */
	const char *platform;	/* "os/arch[/variant]" from a multi-platform index; NULL: linux/amd64 */
	void (*progress)(const struct dms_import_progress *p, void *arg);
	void *progress_arg;
};

/*
 * SOURCE is a transport and a place:
 *   oci:DIR[:REF]             an OCI image layout; REF an org.opencontainers.image.ref.name
 *   oci-archive:FILE[:REF]    a tar of one
 *   docker-archive:FILE[:REF] what `docker save` writes; REF one of its tags
 *   anything else             a rootfs tarball or directory, as dms_image_import
 * FILE "-" is standard input. Layers are applied in order into one rootfs, every
 * blob checked against its digest; the image config is kept (dms_image_config).
 * OPTS may be NULL.
 */
DMS_EXPORT int dms_image_import_from(struct dms_pool *pool, const char *name, const char *source,
				     const struct dms_import_opts *opts);
/*
 * The image's config as JSON, for an image imported from an OCI or docker
 * source: {"manifest": digest, "config_digest", "ref", "architecture", "os",
 * "config": {Env, Entrypoint, Cmd, WorkingDir, User, ExposedPorts, Labels, ...}}.
 * "{}" for others. Free *RET_JSON with free().
 */
DMS_EXPORT int dms_image_config(struct dms_pool *pool, const char *name, char **ret_json);
DMS_EXPORT int dms_image_inspect(struct dms_pool *pool, const char *name, struct dms_image_info **ret_info);
DMS_EXPORT int dms_image_list(struct dms_pool *pool, struct dms_image_info ***ret_images, size_t *ret_n);
DMS_EXPORT void dms_image_list_free(struct dms_image_info **images, size_t n);
/* Refused while containers use it, unless FORCE, which removes them first. */
DMS_EXPORT int dms_image_remove(struct dms_pool *pool, const char *name, bool force);

struct dms_snap_info {
	uint32_t size;
	char *name;
	char *image;
	uint32_t thin_id;
	uint64_t virtual_size;	/* bytes */
	uint64_t used;		/* bytes the device maps (shared with the image or its own); 0 if inactive */
	bool active;
	char *device;		/* /dev/mapper/... */
	char *mountpoint;	/* "" if not mounted by dmstore */
	int64_t created;
};
DMS_EXPORT void dms_snap_info_free(struct dms_snap_info *info);

/* A thin snapshot of IMAGE's base, activated. SIZE 0: the image's size; larger grows the filesystem. */
DMS_EXPORT int dms_snap_create(struct dms_pool *pool, const char *name, const char *image, uint64_t size);
/*
 * Mount at DIR, or at <state dir>/<pool>/mnt/<name> when DIR is NULL; the
 * directory used goes in *RET_DIR (may be NULL; free it). Like every host
 * mount dmstore makes, it is nosuid and nodev, unless FLAGS has
 * DMS_SNAP_MOUNT_CONTAINER_ROOT: the mount an OCI runtime takes as the
 * container's root, where the image's setuid binaries work. That one goes
 * only to the default place, below the pool's state directory, which root
 * alone can enter (DIR must be NULL).
 */
#define DMS_SNAP_MOUNT_CONTAINER_ROOT (1U << 0)
DMS_EXPORT int dms_snap_mount(struct dms_pool *pool, const char *name, const char *dir, unsigned flags,
			      char **ret_dir);
DMS_EXPORT int dms_snap_umount(struct dms_pool *pool, const char *name);
/* Unmount, deactivate, delete: the writable layer is gone and its blocks go back to the pool. */
DMS_EXPORT int dms_snap_remove(struct dms_pool *pool, const char *name);
/*
 * A device held by someone (a process with it open or using files on it, a
 * mount in another namespace, a device stacked on it) is refused, -EBUSY,
 * naming the holder, before anything changes. With DMS_REMOVE_FORCE it is
 * removed once the holder lets go instead (dm's deferred remove): our mounts of
 * it are detached at once, and *RET_DEFERRED (may be NULL) says the rest waits;
 * the next change of the pool finishes it. Meanwhile the object is listed nowhere.
 */
#define DMS_REMOVE_FORCE (1U << 0)
DMS_EXPORT int dms_snap_remove_flags(struct dms_pool *pool, const char *name, unsigned flags, bool *ret_deferred);
DMS_EXPORT int dms_snap_inspect(struct dms_pool *pool, const char *name, struct dms_snap_info **ret_info);
DMS_EXPORT int dms_snap_list(struct dms_pool *pool, struct dms_snap_info ***ret_snaps, size_t *ret_n);
DMS_EXPORT void dms_snap_list_free(struct dms_snap_info **snaps, size_t n);

/*
 * A container's runs (runtime/ runs them): SPEC is how (JSON: image, process,
 * volumes, runtime); PID the dmstore watching the current run, 0 when none;
 * the exit code of the last run, when it is known. The run lock is held by
 * that dmstore for the whole run: -EBUSY while another holds it.
 */
struct dms_run_info {
	uint32_t size;
	char *spec;		/* "" when the container was never given one */
	int64_t pid;
	bool has_exit_code;
	int exit_code;
	int64_t started, finished; /* unix seconds, 0 if never */
};
DMS_EXPORT int dms_snap_run_get(struct dms_pool *pool, const char *name, struct dms_run_info **ret_info);
DMS_EXPORT void dms_run_info_free(struct dms_run_info *info);
DMS_EXPORT int dms_snap_run_set_spec(struct dms_pool *pool, const char *name, const char *spec);
DMS_EXPORT int dms_snap_run_started(struct dms_pool *pool, const char *name, int64_t pid);
/* EXIT_CODE < 0: unknown (its watcher died). */
DMS_EXPORT int dms_snap_run_ended(struct dms_pool *pool, const char *name, int exit_code);
DMS_EXPORT int dms_snap_run_lock(struct dms_pool *pool, const char *name, int *ret_fd);

struct dms_vol_attachment {
	uint32_t size;
	char *container;
	char *path;		/* inside the container's rootfs */
	bool read_only;
};

struct dms_vol_info {
	uint32_t size;
	char *name;
	char *label;			/* "" if none */
	bool raw;			/* no filesystem: made by dms_vol_create_raw, or a snapshot of such a volume */
	char *origin;			/* the volume this one is a snapshot of; "" if none */
	uint32_t thin_id;
	uint64_t virtual_size;		/* bytes */
	uint64_t used;			/* bytes the device maps; 0 if inactive */
	bool active;
	char *device;
	char *mountpoint;		/* host mount (vol mount), "" if none */
	struct dms_vol_attachment **attachments; /* all of them */
	size_t n_attachments;
	int64_t created;
};
DMS_EXPORT void dms_vol_info_free(struct dms_vol_info *info);

/* A standalone thin device of SIZE with ext4 (LABEL may be NULL), activated. */
DMS_EXPORT int dms_vol_create(struct dms_pool *pool, const char *name, uint64_t size, const char *label);
/*
 * A standalone thin device of SIZE with no filesystem, activated: a raw block
 * volume, the caller's to fill. It cannot be mounted or attached; a grow grows the device.
 */
DMS_EXPORT int dms_vol_create_raw(struct dms_pool *pool, const char *name, uint64_t size);
DMS_EXPORT int dms_vol_inspect(struct dms_pool *pool, const char *name, struct dms_vol_info **ret_info);
DMS_EXPORT int dms_vol_list(struct dms_pool *pool, struct dms_vol_info ***ret_vols, size_t *ret_n);
DMS_EXPORT void dms_vol_list_free(struct dms_vol_info **vols, size_t n);
/* Mount NAME at PATH inside container CONTAINER's mounted rootfs, resolved in that root only. */
DMS_EXPORT int dms_vol_attach(struct dms_pool *pool, const char *name, const char *container, const char *path,
			      bool read_only);
DMS_EXPORT int dms_vol_detach(struct dms_pool *pool, const char *name, const char *container);
DMS_EXPORT int dms_vol_mount(struct dms_pool *pool, const char *name, const char *dir);
DMS_EXPORT int dms_vol_umount(struct dms_pool *pool, const char *name);
/* Refused while attached or mounted (naming who holds it) unless FORCE, which detaches first. */
DMS_EXPORT int dms_vol_remove(struct dms_pool *pool, const char *name, bool force);
/* As dms_snap_remove_flags; DMS_REMOVE_FORCE also detaches and unmounts, as FORCE above. */
DMS_EXPORT int dms_vol_remove_flags(struct dms_pool *pool, const char *name, unsigned flags, bool *ret_deferred);
/* A point-in-time copy of NAME, itself a volume named SNAP. */
DMS_EXPORT int dms_vol_snapshot(struct dms_pool *pool, const char *name, const char *snap);
/* Grow to SIZE: a bigger thin table, then ext4 grown online or offline; shrinking is refused. */
DMS_EXPORT int dms_vol_grow(struct dms_pool *pool, const char *name, uint64_t size);

/*
 * Holders: a daemon (the Docker volume plugin) mounting a volume on the host
 * for each of its callers, named by HOLDER (1-128 of [A-Za-z0-9_.-], starting
 * with a letter or digit). Each holder has a mount of its own, read-write,
 * nosuid, nodev, at <state dir>/<pool>/holders/<name>/<holder>: the volume is
 * mounted while it has a holder, and unmounted with the last. The kernel's
 * mount table is the only record, so a daemon that restarts finds its
 * holders as they are, and a reboot forgets them with the mounts. Holding
 * again under the same HOLDER, or letting go of one that is not there, is not
 * an error: a caller that lost the answer may ask again. A held volume cannot
 * be removed (not even with force: the holder is another program's user).
 */
#define DMS_HOLDER_MAX 128
DMS_EXPORT bool dms_holder_valid(const char *holder);
/* The mount point goes in *RET_DIR (may be NULL; free it). */
DMS_EXPORT int dms_vol_hold(struct dms_pool *pool, const char *name, const char *holder, char **ret_dir);
DMS_EXPORT int dms_vol_unhold(struct dms_pool *pool, const char *name, const char *holder);
/* NAME's holders now, sorted; free with dms_strv_free. */
DMS_EXPORT int dms_vol_holders(struct dms_pool *pool, const char *name, char ***ret_holders, size_t *ret_n);
/* Where HOLDER's mount of NAME is, or would be, in *RET_DIR (free it). */
DMS_EXPORT int dms_vol_holder_dir(struct dms_pool *pool, const char *name, const char *holder, char **ret_dir);

/*
 * Containers run on an OCI runtime (crun or runc), as `dmstore run`, `start`
 * and `ps` do it. dms_run_create makes the container (a snapshot of its
 * image) and records how it runs: its run spec, from the image's config
 * (Entrypoint, Cmd, Env, WorkingDir, User) and OPTS. It can then be run any
 * number of times, one run at a time: dms_run_begin takes the container's run
 * lock (-EBUSY, DMS_ERROR_EXISTS, while another run holds it), mounts its
 * layer, attaches its volumes and writes an OCI bundle under the run dir;
 * dms_run_spawn starts the runtime on it, in the foreground on the caller's
 * stdio, and the caller waits for that process itself (and may forward
 * signals to it); dms_run_end records the exit code, detaches, unmounts and
 * frees the run, whatever happened. A run whose caller died is cleaned up by
 * the next dms_run_begin or dms_run_status of the container: what the
 * runtime still runs is killed, and the run recorded as ended with an
 * unknown exit code.
 */
struct dms_run_volume {
	uint32_t size;		/* sizeof(struct dms_run_volume): DMS_OPTS_INIT */
	const char *name;	/* the volume */
	const char *path;	/* where inside the container: absolute */
	bool read_only;
};
/* Volumes one container may have attached by its runs. */
#define DMS_RUN_VOLUMES_MAX 16

struct dms_run_opts {
	uint32_t size;			/* sizeof(struct dms_run_opts): DMS_OPTS_INIT */
	const char *name;		/* the container; NULL: the image's name and a random tag */
	const char *image;
	const char *const *args;	/* the command and its arguments, replacing the image's Cmd */
	size_t n_args;			/* 0: the image's Cmd */
	const char *entrypoint;		/* replaces the image's Entrypoint and drops its Cmd; "": none; NULL: the image's */
	const char *const *env;		/* "K=V" added to the image's Env, or replacing its K; "K": this process's K, if set */
	size_t n_env;
	const char *workdir;		/* absolute; NULL: the image's WorkingDir, else / */
	const char *user;		/* "UID[:GID]", or names in the image's /etc/passwd; NULL: the image's User */
	const char *hostname;		/* NULL: the container's name */
	bool host_network;		/* the host's network; else a network namespace of its own, with no interface */
	bool read_only;			/* the root filesystem read-only */
	const char *runtime;		/* "crun", "runc" or an absolute path; NULL: crun if installed, else runc */
	const struct dms_run_volume *const *volumes;
	size_t n_volumes;		/* at most DMS_RUN_VOLUMES_MAX */
};

/*
 * Check everything (the runtime, the image and its command, the volumes: none
 * may be attached read-write to another container), then make the container
 * and record its run spec; its name goes in *RET_NAME (may be NULL; free it).
 * On failure nothing is left.
 */
DMS_EXPORT int dms_run_create(struct dms_pool *pool, const struct dms_run_opts *opts, char **ret_name);

/* A run in progress, from dms_run_begin to dms_run_end; used by one thread at a time, with its pool. */
struct dms_run;
DMS_EXPORT int dms_run_begin(struct dms_pool *pool, const char *name, struct dms_run **ret_run);
/* The runtime's process, the caller's child, goes in RET_PID: the caller waits for it. */
DMS_EXPORT int dms_run_spawn(struct dms_run *run, pid_t *ret_pid);
/* EXIT_CODE: the process's (128+N when signal N killed it); < 0: unknown. Frees RUN, also on failure. */
DMS_EXPORT int dms_run_end(struct dms_run *run, int exit_code);

enum dms_run_state {
	DMS_RUN_CREATED,	/* never run */
	DMS_RUN_RUNNING,
	DMS_RUN_EXITED,
};
/* A container's runs, as they were when read: allocated by the library, freed with dms_run_status_free. */
struct dms_run_status {
	uint32_t size;		/* sizeof(struct dms_run_status) of the library that filled it */
	enum dms_run_state state;
	char *image;		/* "" when the container was made without a run spec (dms_snap_create) */
	char **args;		/* the process it runs: entrypoint and command, NULL-terminated; none without a run spec */
	size_t n_args;
	int64_t pid;		/* the process watching the current run (dms_run_begin's caller); 0 when not running */
	bool has_exit_code;	/* the last run's exit code is known */
	int exit_code;
	int64_t started;	/* unix seconds the last run started, 0 if never */
	int64_t finished;	/* ... and ended, 0 if never or running */
};
/* Cleans up after a run whose caller died first, as dms_run_begin does. */
DMS_EXPORT int dms_run_status(struct dms_pool *pool, const char *name, struct dms_run_status **ret_status);
DMS_EXPORT void dms_run_status_free(struct dms_run_status *status);

/*
 * The bytes a pool's data and metadata devices hold now, from the kernel's
 * status of the pool alone: no lock, no metadata snapshot (dms_pool_status
 * takes both to count the pool's devices), so cheap enough to call around
 * every step of a measurement. -ENXIO (DMS_ERROR_FAILED) when the pool is not active.
 */
DMS_EXPORT int dms_pool_space_used(struct dms_ctx *ctx, const char *name, uint64_t *ret_data_bytes,
				   uint64_t *ret_metadata_bytes);

/*
 * Layers: containerd's snapshots (its snapshots API, served by
 * dmstore-snapshotter). Each is a thin device with ext4: a layer without a
 * parent a new device of SIZE with an empty filesystem (root 0755, no
 * lost+found), one with a parent a thin snapshot of the parent's device, so
 * an image is a chain of snapshots and images share the layers they have in
 * common. An active layer is writable, a view read-only; commit makes an
 * active layer a committed one under a new key, the only kind that can be a
 * parent. The key/parent graph, kinds and labels live in the catalogue, and
 * every change to them runs under the pool's transaction protocol: a process
 * killed at any moment leaves nothing the next change does not finish or undo.
 *
 * KEY: 1-DMS_LAYER_KEY_MAX bytes, anything but NUL. LABELS: a JSON object of
 * strings, or NULL for none. Times are unix nanoseconds. Errors: a key that
 * does not exist is DMS_ERROR_NOT_FOUND; a key taken, or a layer in use (it
 * has children, or its device is open), DMS_ERROR_EXISTS; a parent that is not
 * committed, labels that are not an object of strings, a field that cannot be
 * updated, DMS_ERROR_INVALID.
 *
 * Threads: like every call on a pool, these serve one thread at a time per
 * struct dms_pool; a daemon opens one per thread (or per request) and any
 * number of them may run at once, on the same layers too: changes queue on the
 * pool lock (one open file per change, so two threads of one process queue as
 * two processes do), reads (stat, list, usage of a committed layer) take no
 * lock and see a change whole or not at all.
 */
#define DMS_LAYER_KEY_MAX 4096
enum dms_layer_kind {
	DMS_LAYER_VIEW = 1,	/* containerd's numbers: snapshots.KindView ... */
	DMS_LAYER_ACTIVE = 2,
	DMS_LAYER_COMMITTED = 3,
};

/* A layer as it was when read: an allocated object, read through its getters, freed with dms_layer_free. */
struct dms_layer;
DMS_EXPORT void dms_layer_free(struct dms_layer *layer);
DMS_EXPORT const char *dms_layer_key(const struct dms_layer *layer);
DMS_EXPORT const char *dms_layer_parent(const struct dms_layer *layer);	/* "" if none */
DMS_EXPORT enum dms_layer_kind dms_layer_kind(const struct dms_layer *layer);
DMS_EXPORT const char *dms_layer_labels(const struct dms_layer *layer);	/* a JSON object of strings */
DMS_EXPORT int64_t dms_layer_created(const struct dms_layer *layer);
DMS_EXPORT int64_t dms_layer_updated(const struct dms_layer *layer);
DMS_EXPORT uint32_t dms_layer_thin_id(const struct dms_layer *layer);
DMS_EXPORT uint64_t dms_layer_size(const struct dms_layer *layer);	/* virtual bytes */

/*
 * A new active layer KEY on PARENT (NULL or "": none, a new device of SIZE,
 * 0: DMS_IMAGE_SIZE_DEFAULT), activated; RET_LAYER (may be NULL) is what was made.
 */
DMS_EXPORT int dms_layer_prepare(struct dms_pool *pool, const char *key, const char *parent, const char *labels,
				 uint64_t size, struct dms_layer **ret_layer);
/* The same, read-only: a view of PARENT. */
DMS_EXPORT int dms_layer_view(struct dms_pool *pool, const char *key, const char *parent, const char *labels,
			      uint64_t size, struct dms_layer **ret_layer);
/*
 * How to mount KEY (active or view): its device, allocated in *RET_DEVICE (free
 * it), ext4, read-only if *RET_READ_ONLY. Activates it if it is not (after a reboot).
 */
DMS_EXPORT int dms_layer_mounts(struct dms_pool *pool, const char *key, char **ret_device, bool *ret_read_only);
/*
 * The active layer KEY becomes the committed layer NAME with LABELS, its times
 * now. Its device is deactivated when nothing holds it open; a commit of a
 * layer still mounted is allowed (containerd's callers do it), and a later
 * snapshot of it suspends it first, as a volume snapshot does.
 */
DMS_EXPORT int dms_layer_commit(struct dms_pool *pool, const char *name, const char *key, const char *labels);
/* Refused (DMS_ERROR_EXISTS) while it has children or its device is open. */
DMS_EXPORT int dms_layer_remove(struct dms_pool *pool, const char *key);
DMS_EXPORT int dms_layer_stat(struct dms_pool *pool, const char *key, struct dms_layer **ret_layer);
/*
 * Change KEY's labels, under the pool lock (a read-modify-write no other
 * change interleaves with). FIELDS as containerd's field paths: "labels"
 * replaces them all with LABELS, "labels.K" sets K to its value in LABELS or
 * drops it when LABELS has none; no fields replaces them all. Any other field:
 * DMS_ERROR_INVALID. The layer after the change goes in RET_LAYER (may be NULL).
 */
DMS_EXPORT int dms_layer_update(struct dms_pool *pool, const char *key, const char *labels,
				const char *const *fields, size_t n_fields, struct dms_layer **ret_layer);
/*
 * Bytes KEY's device maps in the thin pool (blocks it shares with its parent
 * included), now for an active device, as of its commit for a committed layer.
 */
DMS_EXPORT int dms_layer_usage(struct dms_pool *pool, const char *key, uint64_t *ret_bytes);
/* Every layer, in key order; free with dms_layer_list_free. */
DMS_EXPORT int dms_layer_list(struct dms_pool *pool, struct dms_layer ***ret_layers, size_t *ret_n);
DMS_EXPORT void dms_layer_list_free(struct dms_layer **layers, size_t n);

/*
 * Sizes: digits with an optional binary unit K, M, G, T, P or E (any case),
 * which may be followed by "iB" or "B": "4096" (bytes), "64K", "100G",
 * "512MiB". Nothing else (no fraction, sign, space or exponent): -EINVAL.
 * Above DMS_SIZE_MAX: -ERANGE.
 */
DMS_EXPORT int dms_size_parse(const char *text, uint64_t *ret_bytes);
/* "1.5 GiB"; BUF of at least 16 bytes. */
DMS_EXPORT const char *dms_size_format(uint64_t bytes, char *buf, size_t len);

#endif
