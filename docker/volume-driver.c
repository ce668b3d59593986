// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The volume driver's endpoints (Docker's "VolumeDriver.*" calls; field
 * names as moby's volume/drivers proxy sends and reads them). Each opens the
 * pool for itself, so a pool activated, or re-created, after the plugin
 * started is the one used, and closes it before answering.
 *
 * Mount counting is the library's holders (dms_vol_hold): Docker's mount ID
 * names the holder, each holder is one mount of the volume, and the kernel's
 * mount table is the count. Nothing is kept here, so a plugin killed between
 * the mount and its answer is asked again (moby retries a call whose
 * connection broke) and finds the mount made: holding is idempotent.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "docker/plugin.h"
#include "dms-util.h"

static void pool_closep(struct dms_pool **pool)
{
	dms_pool_close(*pool);
}

#define _cleanup_pool_ _cleanup_(pool_closep)

static void vol_info_freep(struct dms_vol_info **v)
{
	dms_vol_info_free(*v);
}

struct vol_list {
	struct dms_vol_info **items;
	size_t n;
};

static void vol_list_freep(struct vol_list *l)
{
	dms_vol_list_free(l->items, l->n);
}

static int open_pool(struct plugin_call *c, struct dms_pool **ret)
{
	int r = dms_pool_open(c->plugin->ctx, c->plugin->pool_name, ret);

	return r < 0 ? plugin_lib_fail(c, r) : 0;
}

/* Where Docker finds the volume, allocated in *RET_DIR: the first holder's mount, "" while it has none. */
static int mountpoint(struct plugin_call *c, struct dms_pool *pool, const char *name, char **ret_dir)
{
	char **holders = NULL;
	size_t n = 0;
	int r;

	r = dms_vol_holders(pool, name, &holders, &n);
	if (r < 0)
		return plugin_lib_fail(c, r);
	if (n > 0)
		r = dms_vol_holder_dir(pool, name, holders[0], ret_dir);
	else if (!(*ret_dir = strdup("")))
		r = -ENOMEM;
	dms_strv_free(holders, n);
	return r < 0 ? plugin_lib_fail(c, r) : (int)n;
}

int plugin_activate(struct plugin_call *c)
{
	json_object *impl = json_object_new_array();

	json_object_array_add(impl, json_object_new_string("VolumeDriver"));
	json_object_object_add(c->resp, "Implements", impl);
	return 0;
}

int vd_capabilities(struct plugin_call *c)
{
	json_object *cap = json_object_new_object();

	/* The pool is this host's: a volume is not reachable from another node. */
	json_object_object_add(cap, "Scope", json_object_new_string("local"));
	json_object_object_add(c->resp, "Capabilities", cap);
	return 0;
}

int vd_create(struct plugin_call *c)
{
	_cleanup_pool_ struct dms_pool *pool = NULL;
	struct plugin_create_opts o;
	json_object *opts = NULL;
	const char *name;
	int r;

	r = plugin_req_string(c, "Name", &name);
	if (r < 0)
		return r;
	(void)json_object_object_get_ex(c->req, "Opts", &opts);
	r = plugin_create_opts_parse(c, opts, &o);
	if (r == 0)
		r = open_pool(c, &pool);
	if (r < 0)
		return r;
	if (o.snapshot_of)
		r = dms_vol_snapshot(pool, o.snapshot_of, name);
	else
		r = dms_vol_create(pool, name, o.size ? o.size : c->plugin->default_size, o.label);
	return r < 0 ? plugin_lib_fail(c, r) : 0;
}

int vd_remove(struct plugin_call *c)
{
	_cleanup_pool_ struct dms_pool *pool = NULL;
	const char *name;
	int r;

	r = plugin_req_string(c, "Name", &name);
	if (r == 0)
		r = open_pool(c, &pool);
	if (r < 0)
		return r;
	/* Never forced: a volume another container still holds stays. */
	r = dms_vol_remove(pool, name, false);
	return r < 0 ? plugin_lib_fail(c, r) : 0;
}

int vd_mount(struct plugin_call *c)
{
	_cleanup_pool_ struct dms_pool *pool = NULL;
	const char *name, *id;
	_cleanup_free_ char *dir = NULL;
	int r;

	r = plugin_req_string(c, "Name", &name);
	if (r == 0)
		r = plugin_req_string(c, "ID", &id);
	if (r == 0)
		r = open_pool(c, &pool);
	if (r < 0)
		return r;
	r = dms_vol_hold(pool, name, id, &dir);
	if (r < 0)
		return plugin_lib_fail(c, r);
	json_object_object_add(c->resp, "Mountpoint", json_object_new_string(dir));
	return 0;
}

int vd_unmount(struct plugin_call *c)
{
	_cleanup_pool_ struct dms_pool *pool = NULL;
	const char *name, *id;
	int r;

	r = plugin_req_string(c, "Name", &name);
	if (r == 0)
		r = plugin_req_string(c, "ID", &id);
	if (r == 0)
		r = open_pool(c, &pool);
	if (r < 0)
		return r;
	r = dms_vol_unhold(pool, name, id);
	return r < 0 ? plugin_lib_fail(c, r) : 0;
}

int vd_path(struct plugin_call *c)
{
	_cleanup_pool_ struct dms_pool *pool = NULL;
	const char *name;
	_cleanup_free_ char *dir = NULL;
	int r;

	r = plugin_req_string(c, "Name", &name);
	if (r == 0)
		r = open_pool(c, &pool);
	if (r == 0)
		r = mountpoint(c, pool, name, &dir);
	if (r < 0)
		return r;
	json_object_object_add(c->resp, "Mountpoint", json_object_new_string(dir));
	return 0;
}

/* What `docker volume inspect` shows under Status: dmstore's view of the volume, sizes in bytes. */
static json_object *status_json(struct dms_pool *pool, const struct dms_vol_info *v, int holders)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "pool", json_object_new_string(dms_pool_name(pool)));
	json_object_object_add(o, "thin_id", json_object_new_int64(v->thin_id));
	json_object_object_add(o, "size", json_object_new_uint64(v->virtual_size));
	json_object_object_add(o, "used", v->active ? json_object_new_uint64(v->used) : NULL);
	json_object_object_add(o, "filesystem", json_object_new_string("ext4"));
	json_object_object_add(o, "label", json_object_new_string(v->label));
	json_object_object_add(o, "origin", *v->origin ? json_object_new_string(v->origin) : NULL);
	json_object_object_add(o, "device", json_object_new_string(v->device));
	json_object_object_add(o, "holders", json_object_new_int(holders));
	return o;
}

int vd_get(struct plugin_call *c)
{
	_cleanup_pool_ struct dms_pool *pool = NULL;
	_cleanup_(vol_info_freep) struct dms_vol_info *v = NULL;
	_cleanup_free_ char *dir = NULL;
	char created[32];
	const char *name;
	json_object *vol;
	struct tm tm;
	time_t t;
	int r, n;

	r = plugin_req_string(c, "Name", &name);
	if (r == 0)
		r = open_pool(c, &pool);
	if (r < 0)
		return r;
	r = dms_vol_inspect(pool, name, &v);
	if (r < 0)
		return plugin_lib_fail(c, r);
	n = mountpoint(c, pool, name, &dir);
	if (n < 0)
		return n;
	t = (time_t)v->created;
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	vol = json_object_new_object();
	json_object_object_add(vol, "Name", json_object_new_string(v->name));
	json_object_object_add(vol, "Mountpoint", json_object_new_string(dir));
	/* RFC 3339, as moby decodes it (a Go time.Time). */
	json_object_object_add(vol, "CreatedAt", json_object_new_string(created));
	json_object_object_add(vol, "Status", status_json(pool, v, n));
	json_object_object_add(c->resp, "Volume", vol);
	return 0;
}

int vd_list(struct plugin_call *c)
{
	_cleanup_pool_ struct dms_pool *pool = NULL;
	_cleanup_(vol_list_freep) struct vol_list vols = { 0 };
	json_object *list;
	int r;

	r = open_pool(c, &pool);
	if (r < 0)
		return r;
	r = dms_vol_list(pool, &vols.items, &vols.n);
	if (r < 0)
		return plugin_lib_fail(c, r);
	list = json_object_new_array();
	json_object_object_add(c->resp, "Volumes", list);
	for (size_t i = 0; i < vols.n; i++) {
		_cleanup_free_ char *dir = NULL;
		json_object *v;

		r = mountpoint(c, pool, vols.items[i]->name, &dir);
		if (r < 0)
			return r;
		v = json_object_new_object();
		json_object_object_add(v, "Name", json_object_new_string(vols.items[i]->name));
		json_object_object_add(v, "Mountpoint", json_object_new_string(dir));
		json_object_array_add(list, v);
	}
	return 0;
}
