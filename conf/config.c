// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * /etc/dmstore/dmstore.conf, parsed by inih. What each key takes is checked
 * here, where the line is known, so a bad value names the file and the line;
 * what only the library can judge (the mount options) is judged when handed
 * over (config_apply), which names the line too.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "conf/config.h"
#include "dms-util.h"

static const struct {
	const char *section, *name;
} keys[CONFIG_N_KEYS] = {
	[CONFIG_POOL] = { "dmstore", "pool" },
	[CONFIG_IMAGE_SIZE] = { "dmstore", "image_size" },
	[CONFIG_MIN_FREE] = { "dmstore", "min_free" },
	[CONFIG_MOUNT_OPTIONS] = { "dmstore", "mount_options" },
	[CONFIG_RUNTIME] = { "dmstore", "runtime" },
	[CONFIG_AUTOEXTEND_THRESHOLD] = { "autoextend", "threshold" },
	[CONFIG_AUTOEXTEND_PERCENT] = { "autoextend", "percent" },
	[CONFIG_AUTOEXTEND_LIMIT] = { "autoextend", "limit" },
};

void config_init(struct config *c)
{
	*c = (struct config){
		.image_size = DMS_IMAGE_SIZE_DEFAULT,
		.min_free = DMS_MIN_FREE_DEFAULT,
		.autoextend_threshold = 80,
		.autoextend_percent = 20,
	};
	snprintf(c->path, sizeof(c->path), "%s", DMSTORE_CONFIG_PATH);
}

const char *config_key_name(enum config_key key)
{
	static const char *const names[CONFIG_N_KEYS] = {
		[CONFIG_POOL] = "pool",
		[CONFIG_IMAGE_SIZE] = "image_size",
		[CONFIG_MIN_FREE] = "min_free",
		[CONFIG_MOUNT_OPTIONS] = "mount_options",
		[CONFIG_RUNTIME] = "runtime",
		[CONFIG_AUTOEXTEND_THRESHOLD] = "autoextend.threshold",
		[CONFIG_AUTOEXTEND_PERCENT] = "autoextend.percent",
		[CONFIG_AUTOEXTEND_LIMIT] = "autoextend.limit",
	};

	return names[key];
}

/* Whole percents FROM..TO, with an optional '%': "10", "10%". */
static int parse_percent(const char *text, unsigned from, unsigned to, unsigned *ret)
{
	size_t n = strspn(text, "0123456789");
	unsigned long v;

	if (n == 0 || n > 3 || (text[n] && strcmp(text + n, "%") != 0))
		return -EINVAL;
	v = strtoul(text, NULL, 10);
	if (v < from || v > to)
		return -ERANGE;
	*ret = (unsigned)v;
	return 0;
}

static int bad(char *err, size_t len, const char *fmt, const char *key, const char *value)
{
	snprintf(err, len, fmt, key, value);
	return -EINVAL;
}

int config_set(struct config *c, enum config_key key, const char *value, enum config_source source, int line, char *err,
	       size_t len)
{
	const char *name = config_key_name(key);
	uint64_t size;

	switch (key) {
	case CONFIG_POOL:
		if (*value && !dms_pool_name_valid(value))
			return bad(err, len,
				   "%s '%s': not a pool name (1-32 of [A-Za-z0-9_.-], starting with a letter or digit)",
				   name, value);
		snprintf(c->pool, sizeof(c->pool), "%s", value);
		break;
	case CONFIG_IMAGE_SIZE:
		if (dms_size_parse(value, &size) < 0 || size == 0)
			return bad(err, len, "%s '%s': not a size (digits and an optional K, M, G, T, P or E: 10G)",
				   name, value);
		c->image_size = size;
		break;
	case CONFIG_MIN_FREE:
		if (parse_percent(value, 0, 99, &c->min_free) < 0)
			return bad(err, len, "%s '%s': give a percent, 0 to 99", name, value);
		break;
	case CONFIG_MOUNT_OPTIONS:
		if (strlen(value) >= sizeof(c->mount_options))
			return bad(err, len, "%s '%.64s...': too long", name, value);
		snprintf(c->mount_options, sizeof(c->mount_options), "%s", value);
		break;
	case CONFIG_RUNTIME:
		if (*value && strcmp(value, "crun") != 0 && strcmp(value, "runc") != 0 && value[0] != '/')
			return bad(err, len, "%s '%s': give crun, runc or an absolute path", name, value);
		if (strlen(value) >= sizeof(c->runtime))
			return bad(err, len, "%s '%.64s...': too long", name, value);
		snprintf(c->runtime, sizeof(c->runtime), "%s", value);
		break;
	case CONFIG_AUTOEXTEND_THRESHOLD:
		if (parse_percent(value, 1, 100, &c->autoextend_threshold) < 0)
			return bad(err, len, "%s '%s': give a percent, 1 to 100", name, value);
		break;
	case CONFIG_AUTOEXTEND_PERCENT:
		if (parse_percent(value, 1, 100, &c->autoextend_percent) < 0)
			return bad(err, len, "%s '%s': give a percent, 1 to 100", name, value);
		break;
	case CONFIG_AUTOEXTEND_LIMIT:
		if (dms_size_parse(value, &size) < 0)
			return bad(err, len,
				   "%s '%s': not a size (digits and an optional K, M, G, T, P or E: 1T; 0: never grow)",
				   name, value);
		c->autoextend_limit = size;
		break;
	default:
		return -EINVAL;
	}
	c->source[key] = source;
	c->line[key] = line;
	return 0;
}

struct parse {
	struct config *c;
	FILE *f;
	int line;
	char why[512];
};

/* inih's reader: counts lines, so the handler knows the line of the key it is given. */
static char *read_line(char *buf, int size, void *stream)
{
	struct parse *p = stream;
	char *line = fgets(buf, size, p->f);

	if (line)
		p->line++;
	return line;
}

/* inih: 1 to go on, 0 to stop at this line (ini_parse_stream then returns it). */
static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;

	for (int k = 0; k < CONFIG_N_KEYS; k++) {
		if (strcmp(section, keys[k].section) != 0 || strcmp(name, keys[k].name) != 0)
			continue;
		if (p->c->source[k] == CONFIG_FILE) {
			snprintf(p->why, sizeof(p->why), "%s is set twice (line %d too)", config_key_name(k),
				 p->c->line[k]);
			return 0;
		}
		return config_set(p->c, k, value, CONFIG_FILE, p->line, p->why, sizeof(p->why)) == 0;
	}
	if (!*section)
		snprintf(p->why, sizeof(p->why), "'%s' outside a section: put it under [dmstore] or [autoextend]",
			 name);
	else
		snprintf(p->why, sizeof(p->why), "unknown key '%s' in [%s]", name, section);
	return 0;
}

int config_load(struct config *c, const char *flag_path, char *err, size_t len)
{
	struct parse p = { .c = c };
	_cleanup_fclose_ FILE *f = NULL;
	const char *env = getenv("DMSTORE_CONFIG"), *pool = getenv("DMSTORE_POOL");
	int line, r;

	if (flag_path || (env && *env)) {
		c->path_source = flag_path ? CONFIG_FLAG : CONFIG_ENV;
		if ((size_t)snprintf(c->path, sizeof(c->path), "%s", flag_path ? flag_path : env) >= sizeof(c->path)) {
			snprintf(err, len, "config file '%.64s...': path too long", c->path);
			return -ENAMETOOLONG;
		}
	}
	f = fopen(c->path, "re");
	if (!f && errno == ENOENT && c->path_source == CONFIG_DEFAULT) {
		f = NULL;
	} else if (!f) {
		r = -errno;
		snprintf(err, len, "config file '%s': %s", c->path, strerror(-r));
		return r;
	} else {
		p.f = f;
		line = ini_parse_stream(read_line, &p, on_key, &p);
		if (line != 0) {
			snprintf(err, len, "%s, line %d: %s", c->path, line, *p.why ? p.why : "not a key = value line");
			return -EINVAL;
		}
		c->read = true;
	}
	if (pool && *pool)
		return config_set(c, CONFIG_POOL, pool, CONFIG_ENV, 0, err, len) == 0 ? 0 : -EINVAL;
	return 0;
}

int config_apply(const struct config *c, struct dms_ctx *lib, char *err, size_t len)
{
	int r;

	/* Checked by config_set already. */
	(void)dms_ctx_set_min_free(lib, c->min_free);
	r = dms_ctx_set_mount_options(lib, c->mount_options);
	if (r < 0) {
		snprintf(err, len, "%s, line %d: %s", c->path, c->line[CONFIG_MOUNT_OPTIONS], dms_ctx_error(lib));
		return -EINVAL;
	}
	return 0;
}

const char *config_value_format(const struct config *c, enum config_key key, char *buf, size_t len)
{
	switch (key) {
	case CONFIG_POOL:
		snprintf(buf, len, "%s", c->pool);
		break;
	case CONFIG_IMAGE_SIZE:
		snprintf(buf, len, "%" PRIu64, c->image_size);
		break;
	case CONFIG_MIN_FREE:
		snprintf(buf, len, "%u", c->min_free);
		break;
	case CONFIG_MOUNT_OPTIONS:
		snprintf(buf, len, "%s", c->mount_options);
		break;
	case CONFIG_RUNTIME:
		snprintf(buf, len, "%s", c->runtime);
		break;
	case CONFIG_AUTOEXTEND_THRESHOLD:
		snprintf(buf, len, "%u", c->autoextend_threshold);
		break;
	case CONFIG_AUTOEXTEND_PERCENT:
		snprintf(buf, len, "%u", c->autoextend_percent);
		break;
	case CONFIG_AUTOEXTEND_LIMIT:
		snprintf(buf, len, "%" PRIu64, c->autoextend_limit);
		break;
	default:
		snprintf(buf, len, "?");
	}
	return buf;
}

const char *config_source_format(const struct config *c, enum config_key key, char *buf, size_t len)
{
	static const char *const names[] = { "default", "file", "env", "flag" };

	if (c->source[key] == CONFIG_FILE)
		snprintf(buf, len, "file:%d", c->line[key]);
	else
		snprintf(buf, len, "%s", names[c->source[key]]);
	return buf;
}
