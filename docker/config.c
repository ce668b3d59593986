// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The plugin's share of dmstore.conf (conf/config.c), read as dmstore reads
 * it: the pool, the free-space floor and the mount options; the rest is the
 * dmstore command's. --pool wins over $DMSTORE_POOL, which wins over the file.
 */
#include "docker/plugin.h"

int plugin_configure(struct plugin *p, const char *config_path, const char *pool_flag, char *err, size_t len)
{
	int r;

	config_init(&p->config);
	r = config_load(&p->config, config_path, err, len);
	if (r == 0 && pool_flag)
		r = config_set(&p->config, CONFIG_POOL, pool_flag, CONFIG_FLAG, 0, err, len);
	if (r == 0)
		r = config_apply(&p->config, p->ctx, err, len);
	if (r < 0)
		return r;
	p->pool_name = *p->config.pool ? p->config.pool : NULL;
	return 0;
}
