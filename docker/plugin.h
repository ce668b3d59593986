/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMS_DOCKER_PLUGIN_H
#define DMS_DOCKER_PLUGIN_H

/*
 * dmstore-docker-plugin: Docker's volume plugin protocol (HTTP, JSON bodies,
 * over a unix socket) served on libdmstore's public API, like cmd/ is. Every
 * Docker volume of the driver "dmstore" is a dmstore volume of one pool.
 *
 * It keeps no state: the catalogue knows the volumes, and the kernel's mount
 * table knows who holds each (dms_vol_hold: one mount per Docker mount ID).
 * Killed and started again, it answers as if it had never stopped.
 */

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "conf/config.h"
#include "dmstore.h"

#define PLUGIN_PROG "dmstore-docker-plugin"
#define PLUGIN_SOCKET_DEFAULT "/run/docker/plugins/dmstore.sock"
#define PLUGIN_DEFAULT_SIZE (10ULL << 30)
/* Docker's requests are a name, an ID and a few options: anything larger is not one. */
#define PLUGIN_BODY_MAX (64U * 1024U)

struct plugin {
	struct dms_ctx *ctx;   /* one: requests are served one at a time (server.c) */
	const char *pool_name; /* NULL: the only pool there is */
	uint64_t default_size; /* a volume created without --opt size */
	struct config config;  /* dmstore.conf, as plugin_configure read it */
};

/*
 * config.c: read dmstore.conf (CONFIG_PATH, else $DMSTORE_CONFIG, else the
 * default), set the pool (POOL_FLAG if not NULL) and hand P->ctx its share.
 * 0, or a negative errno with the reason in ERR (-EINVAL, -ENOENT: bad input).
 */
int plugin_configure(struct plugin *p, const char *config_path, const char *pool_flag, char *err, size_t len);

/* One request: what Docker sent, and the answer the endpoint builds. */
struct plugin_call {
	struct plugin *plugin;
	const char *method; /* "VolumeDriver.Mount" */
	json_object *req;   /* the request body, an object */
	json_object *resp;  /* the answer's fields, filled by the endpoint */
	char err[1024];	    /* why it failed: the answer is then {"Err": err} */
};

/* Record why the call failed and return R (a negative errno), as dms_fail does. */
int plugin_fail(struct plugin_call *c, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The library's one-line message for its failure R: what the dmstore CLI prints. */
int plugin_lib_fail(struct plugin_call *c, int r);

/* dispatch.c: the answer to a POST of BODY to PATH: an HTTP status and a JSON text (free it). */
int plugin_dispatch(struct plugin *p, const char *path, const char *body, size_t len, char **ret_json);

/* request.c: the request's string field KEY, required and non-empty. */
int plugin_req_string(struct plugin_call *c, const char *key, const char **ret);

/* create-opts.c: `docker volume create --opt` for a dmstore volume. */
struct plugin_create_opts {
	uint64_t size;		 /* 0: not given */
	const char *snapshot_of; /* NULL: a new, empty volume */
	const char *label;	 /* NULL: none */
};
/* OPTS is Docker's map of strings (or NULL); the values point into it. */
int plugin_create_opts_parse(struct plugin_call *c, json_object *opts, struct plugin_create_opts *ret);

/* volume-driver.c: the endpoints, each 0 or a negative errno with the reason in C->err. */
int plugin_activate(struct plugin_call *c);
int vd_create(struct plugin_call *c);
int vd_remove(struct plugin_call *c);
int vd_mount(struct plugin_call *c);
int vd_unmount(struct plugin_call *c);
int vd_path(struct plugin_call *c);
int vd_get(struct plugin_call *c);
int vd_list(struct plugin_call *c);
int vd_capabilities(struct plugin_call *c);

/* listen.c: the socket systemd passed (socket activation), or one bound at PATH; *RET_BOUND says which. */
int plugin_listen(const char *path, int *ret_fd, bool *ret_bound);

/* server.c: serve on FD (listening) until a signal in SIGS arrives; it is then returned. */
int plugin_serve(struct plugin *p, int fd, const sigset_t *sigs, int *ret_signal);

#endif
