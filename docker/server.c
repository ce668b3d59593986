// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * HTTP on the plugin's socket, by libmicrohttpd: it parses the requests, we
 * gather each body and hand it to plugin_dispatch. One thread serves every
 * connection, so requests run one at a time: every change of a pool is
 * serialised by the pool lock anyway, and Docker's calls are few and short
 * next to a container's start. The main thread only waits for a signal.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "docker/plugin.h"

/* What the protocol's documentation names as the plugins' content type. */
#define CONTENT_TYPE "application/vnd.docker.plugins.v1+json"

struct body {
	char *data;
	size_t len;
	bool too_large;
};

static int send_json(struct MHD_Connection *conn, int status, char *json)
{
	struct MHD_Response *resp;
	enum MHD_Result ok;

	resp = MHD_create_response_from_buffer(strlen(json), json, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(json);
		return MHD_NO;
	}
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE);
	ok = MHD_queue_response(conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ok;
}

/* Called once with the headers, once per piece of the body, and once more when the body is whole. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *data, size_t *data_size, void **con_cls)
{
	struct plugin *p = cls;
	struct body *b = *con_cls;
	char *json;
	int status;

	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b)
			return MHD_NO;
		*con_cls = b;
		return MHD_YES;
	}
	if (*data_size) {
		if (!b->too_large && b->len + *data_size <= PLUGIN_BODY_MAX) {
			char *grown = realloc(b->data, b->len + *data_size + 1);

			if (!grown)
				return MHD_NO;
			b->data = grown;
			memcpy(b->data + b->len, data, *data_size);
			b->len += *data_size;
			b->data[b->len] = '\0';
		} else {
			b->too_large = true;
		}
		*data_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_POST) != 0) {
		json = strdup("{\"Err\":\"the plugin protocol is POST only\"}");
		return json ? send_json(conn, MHD_HTTP_METHOD_NOT_ALLOWED, json) : MHD_NO;
	}
	if (b->too_large) {
		json = strdup("{\"Err\":\"the request body is too large\"}");
		return json ? send_json(conn, MHD_HTTP_CONTENT_TOO_LARGE, json) : MHD_NO;
	}
	status = plugin_dispatch(p, url, b->data ? b->data : "", b->len, &json);
	if (status < 0)
		return MHD_NO;
	/* What was refused, and why, goes to the journal too: Docker's own log may be far from the user. */
	if (status != MHD_HTTP_OK)
		fprintf(stderr, "%s: %s: %s\n", PLUGIN_PROG, url, json);
	return send_json(conn, status, json);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct body *b = *con_cls;

	if (b)
		free(b->data);
	free(b);
	*con_cls = NULL;
}

int plugin_serve(struct plugin *p, int fd, const sigset_t *sigs, int *ret_signal)
{
	struct MHD_Daemon *d;
	int r, sig;

	/* The server's thread inherits the mask: the signals come to sigwait here, not to it. */
	r = -pthread_sigmask(SIG_BLOCK, sigs, NULL);
	if (r < 0)
		return r;
	d = MHD_start_daemon(MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, p,
			     MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
			     MHD_OPTION_END);
	if (!d)
		return -EIO;
	r = -sigwait(sigs, &sig);
	/* Waits for the request being served: a change is never cut short by a stop. */
	MHD_stop_daemon(d);
	if (r == 0)
		*ret_signal = sig;
	return r;
}
