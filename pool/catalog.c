// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <string.h>

#include "dms-util.h"
#include "pool/catalog.h"

/*
 * Schema versions. A database is migrated forward one step at a time inside
 * one transaction; a newer version than we know is refused, never guessed at.
 */
static const char *const migrations[] = {
	/* 1 */
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"INSERT INTO meta VALUES ('transaction_id', 0);"
	"CREATE TABLE devices ("
	"  id INTEGER PRIMARY KEY,"
	"  kind INTEGER NOT NULL CHECK (kind BETWEEN 0 AND 2),"
	"  name TEXT NOT NULL,"
	"  thin_id INTEGER NOT NULL UNIQUE CHECK (thin_id BETWEEN 0 AND 16777215),"
	"  size INTEGER NOT NULL CHECK (size > 0),"
	"  origin_id INTEGER REFERENCES devices(id),"
	"  state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 3),"
	"  pending_txn INTEGER,"
	"  active INTEGER NOT NULL DEFAULT 0,"
	"  mountpoint TEXT NOT NULL DEFAULT '',"
	"  created INTEGER NOT NULL,"
	"  meta TEXT NOT NULL DEFAULT '{}',"
	"  UNIQUE (kind, name));"
	"CREATE INDEX devices_origin ON devices(origin_id);",
	/*
	 * 2: where volumes are mounted inside containers. The foreign keys are the
	 * guard: neither a volume nor a container row can go while the catalogue
	 * still says one is mounted in the other.
	 */
	"CREATE TABLE attachments ("
	"  id INTEGER PRIMARY KEY,"
	"  volume_id INTEGER NOT NULL REFERENCES devices(id),"
	"  container_id INTEGER NOT NULL REFERENCES devices(id),"
	"  path TEXT NOT NULL CHECK (path <> ''),"
	"  read_only INTEGER NOT NULL DEFAULT 0,"
	"  UNIQUE (volume_id, container_id));"
	"CREATE INDEX attachments_container ON attachments(container_id);",
	/*
	 * 3: what an image's config says (JSON of any size, so not in devices.meta),
	 * and how a container is run and how its last run ended. Both go with their
	 * device's row.
	 */
	"CREATE TABLE image_configs ("
	"  image_id INTEGER PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,"
	"  config TEXT NOT NULL);"
	"CREATE TABLE container_runs ("
	"  container_id INTEGER PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,"
	"  spec TEXT NOT NULL,"
	"  pid INTEGER NOT NULL DEFAULT 0,"
	"  exit_code INTEGER,"
	"  started INTEGER NOT NULL DEFAULT 0,"
	"  finished INTEGER NOT NULL DEFAULT 0);",
	/*
	 * 4: layers, containerd's snapshots (pool/layer.c). Each is a device row of
	 * kind 3, which the CHECK of 1 refused: SQLite cannot alter a CHECK, so the
	 * table is rebuilt as its documentation says (foreign keys are off while
	 * migrating; the other tables' references name "devices" and hold again
	 * once the new table takes the name). A layer's row goes with its device's;
	 * a layer cannot go while another names it as parent.
	 */
	"CREATE TABLE devices_new ("
	"  id INTEGER PRIMARY KEY,"
	"  kind INTEGER NOT NULL CHECK (kind BETWEEN 0 AND 3),"
	"  name TEXT NOT NULL,"
	"  thin_id INTEGER NOT NULL UNIQUE CHECK (thin_id BETWEEN 0 AND 16777215),"
	"  size INTEGER NOT NULL CHECK (size > 0),"
	"  origin_id INTEGER REFERENCES devices(id),"
	"  state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 3),"
	"  pending_txn INTEGER,"
	"  active INTEGER NOT NULL DEFAULT 0,"
	"  mountpoint TEXT NOT NULL DEFAULT '',"
	"  created INTEGER NOT NULL,"
	"  meta TEXT NOT NULL DEFAULT '{}',"
	"  UNIQUE (kind, name));"
	"INSERT INTO devices_new SELECT id, kind, name, thin_id, size, origin_id, state, pending_txn, active,"
	"  mountpoint, created, meta FROM devices;"
	"DROP TABLE devices;"
	"ALTER TABLE devices_new RENAME TO devices;"
	"CREATE INDEX devices_origin ON devices(origin_id);"
	"CREATE TABLE layers ("
	"  id INTEGER PRIMARY KEY,"
	"  device_id INTEGER NOT NULL UNIQUE REFERENCES devices(id) ON DELETE CASCADE,"
	"  key TEXT NOT NULL UNIQUE CHECK (key <> ''),"
	"  parent_id INTEGER REFERENCES layers(id),"
	"  kind INTEGER NOT NULL CHECK (kind BETWEEN 1 AND 3),"
	"  labels TEXT NOT NULL DEFAULT '{}',"
	"  used INTEGER NOT NULL DEFAULT 0,"
	"  created INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL);"
	"CREATE INDEX layers_parent ON layers(parent_id);",
	/*
	 * 5: an attachment is recorded before its mount and marked done after it
	 * (pool/volume-attach.c): a row still pending was left by a dmstore that
	 * died in between, which recovery tells apart by looking for the mount.
	 */
	"ALTER TABLE attachments ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;",
};

struct dms_catalog {
	sqlite3 *db;
};

static int sql_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return -EBADMSG;
	default:
		return -EIO;
	}
}

static void finalizep(sqlite3_stmt **s)
{
	if (*s)
		sqlite3_finalize(*s);
}
#define _cleanup_stmt_ _cleanup_(finalizep)

static int prepare(struct dms_catalog *cat, const char *sql, sqlite3_stmt **ret)
{
	return sql_errno(sqlite3_prepare_v2(cat->db, sql, -1, ret, NULL));
}

/* SQL, a change of the one row whose id is its only parameter: -ENOENT unless it changed exactly that one. */
static int change_one(struct dms_catalog *cat, const char *sql, int64_t id)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = prepare(cat, sql, &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, id);
	r = sql_errno(sqlite3_step(s));
	if (r < 0)
		return r;
	return sqlite3_changes(cat->db) == 1 ? 0 : -ENOENT;
}

/* A text column, "" for NULL: a hand-edited database may hold one where dmstore never writes it. */
static const char *column_text(sqlite3_stmt *s, int col)
{
	const unsigned char *text = sqlite3_column_text(s, col);

	return text ? (const char *)text : "";
}

static int exec(struct dms_catalog *cat, const char *sql)
{
	return sql_errno(sqlite3_exec(cat->db, sql, NULL, NULL, NULL));
}

static int user_version(struct dms_catalog *cat, int *ret)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = prepare(cat, "PRAGMA user_version", &s);

	if (r < 0)
		return r;
	if (sqlite3_step(s) != SQLITE_ROW)
		return -EIO;
	*ret = sqlite3_column_int(s, 0);
	return 0;
}

static int migrate(struct dms_catalog *cat)
{
	int version, r;
	char sql[64];

	r = user_version(cat, &version);
	if (r < 0)
		return r;
	if (version > (int)DMS_ARRAY_SIZE(migrations))
		return -EPROTONOSUPPORT;
	for (; version < (int)DMS_ARRAY_SIZE(migrations); version++) {
		r = exec(cat, "BEGIN IMMEDIATE");
		if (r < 0)
			return r;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version + 1);
		r = exec(cat, migrations[version]);
		if (r == 0)
			r = exec(cat, sql);
		if (r == 0)
			r = exec(cat, "COMMIT");
		if (r < 0) {
			(void)exec(cat, "ROLLBACK");
			return r;
		}
	}
	return 0;
}

int dms_catalog_open(const char *path, struct dms_catalog **ret_cat)
{
	struct dms_catalog *cat = calloc(1, sizeof(*cat));
	int r;

	if (!cat)
		return -ENOMEM;
	r = sql_errno(sqlite3_open_v2(path, &cat->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
				      NULL));
	if (r == 0)
		r = sql_errno(sqlite3_busy_timeout(cat->db, 10000));
	/* FULL: a commit that returned survives power loss, which the crash protocol relies on. */
	if (r == 0)
		r = exec(cat, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
	/* Foreign keys only once migrated: a migration may rebuild a table others refer to. */
	if (r == 0)
		r = migrate(cat);
	if (r == 0)
		r = exec(cat, "PRAGMA foreign_keys=ON;");
	if (r < 0) {
		dms_catalog_close(cat);
		return r;
	}
	*ret_cat = cat;
	return 0;
}

void dms_catalog_close(struct dms_catalog *cat)
{
	if (!cat)
		return;
	sqlite3_close(cat->db);
	free(cat);
}

/* IMMEDIATE: take the write lock now, so a reader never has to upgrade mid-transaction. */
int dms_catalog_begin(struct dms_catalog *cat)
{
	return exec(cat, "BEGIN IMMEDIATE");
}

int dms_catalog_commit(struct dms_catalog *cat)
{
	return exec(cat, "COMMIT");
}

void dms_catalog_rollback(struct dms_catalog *cat)
{
	if (!sqlite3_get_autocommit(cat->db))
		(void)exec(cat, "ROLLBACK");
}

int dms_catalog_get_txn(struct dms_catalog *cat, uint64_t *ret_txn)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = prepare(cat, "SELECT value FROM meta WHERE key = 'transaction_id'", &s);

	if (r < 0)
		return r;
	if (sqlite3_step(s) != SQLITE_ROW)
		return -EBADMSG;
	*ret_txn = (uint64_t)sqlite3_column_int64(s, 0);
	return 0;
}

int dms_catalog_set_txn(struct dms_catalog *cat, uint64_t txn)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = prepare(cat, "UPDATE meta SET value = ? WHERE key = 'transaction_id'", &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)txn);
	return sql_errno(sqlite3_step(s));
}

/* The first gap in the used ids at or after FROM, found by the database in one pass over the unique index. */
int dms_catalog_free_thin_id(struct dms_catalog *cat, uint32_t from, uint32_t *ret_id)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int64_t id;
	int r;

	r = prepare(cat,
		    "SELECT MIN(c) FROM (SELECT ?1 AS c WHERE NOT EXISTS (SELECT 1 FROM devices WHERE thin_id = ?1)"
		    " UNION ALL SELECT thin_id + 1 FROM devices d WHERE thin_id >= ?1"
		    " AND NOT EXISTS (SELECT 1 FROM devices e WHERE e.thin_id = d.thin_id + 1))",
		    &s);
	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, from);
	if (sqlite3_step(s) != SQLITE_ROW)
		return -EIO;
	id = sqlite3_column_int64(s, 0);
	if (id > 16777215)
		return -ENOSPC;
	*ret_id = (uint32_t)id;
	return 0;
}

static void bind_row(sqlite3_stmt *s, const struct dms_row *row)
{
	sqlite3_bind_int(s, 1, (int)row->kind);
	sqlite3_bind_text(s, 2, row->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, row->thin_id);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)row->size);
	if (row->origin_id > 0)
		sqlite3_bind_int64(s, 5, row->origin_id);
	else
		sqlite3_bind_null(s, 5);
	sqlite3_bind_int(s, 6, (int)row->state);
	if (row->pending_txn)
		sqlite3_bind_int64(s, 7, (sqlite3_int64)row->pending_txn);
	else
		sqlite3_bind_null(s, 7);
	sqlite3_bind_int(s, 8, row->active);
	sqlite3_bind_text(s, 9, row->mountpoint, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 10, row->created);
	sqlite3_bind_text(s, 11, *row->meta ? row->meta : "{}", -1, SQLITE_STATIC);
}

int dms_catalog_insert(struct dms_catalog *cat, struct dms_row *row)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r;

	r = prepare(cat,
		    "INSERT INTO devices (kind, name, thin_id, size, origin_id, state, pending_txn, active, mountpoint,"
		    " created, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		    &s);
	if (r < 0)
		return r;
	bind_row(s, row);
	r = sql_errno(sqlite3_step(s));
	if (r < 0)
		return r;
	row->id = sqlite3_last_insert_rowid(cat->db);
	return 0;
}

int dms_catalog_update(struct dms_catalog *cat, const struct dms_row *row)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r;

	r = prepare(cat,
		    "UPDATE devices SET kind = ?, name = ?, thin_id = ?, size = ?, origin_id = ?, state = ?,"
		    " pending_txn = ?, active = ?, mountpoint = ?, created = ?, meta = ? WHERE id = ?",
		    &s);
	if (r < 0)
		return r;
	bind_row(s, row);
	sqlite3_bind_int64(s, 12, row->id);
	r = sql_errno(sqlite3_step(s));
	if (r < 0)
		return r;
	return sqlite3_changes(cat->db) == 1 ? 0 : -ENOENT;
}

int dms_catalog_delete(struct dms_catalog *cat, int64_t id)
{
	return change_one(cat, "DELETE FROM devices WHERE id = ?", id);
}

#define ROW_COLUMNS                                                                                              \
	"id, kind, name, thin_id, size, IFNULL(origin_id, 0), state, IFNULL(pending_txn, 0), active, mountpoint," \
	" created, meta"

static void read_row(sqlite3_stmt *s, struct dms_row *row)
{
	*row = (struct dms_row){
		.id = sqlite3_column_int64(s, 0),
		.kind = (enum dms_kind)sqlite3_column_int(s, 1),
		.thin_id = (uint32_t)sqlite3_column_int64(s, 3),
		.size = (uint64_t)sqlite3_column_int64(s, 4),
		.origin_id = sqlite3_column_int64(s, 5),
		.state = (enum dms_state)sqlite3_column_int(s, 6),
		.pending_txn = (uint64_t)sqlite3_column_int64(s, 7),
		.active = sqlite3_column_int(s, 8) != 0,
		.created = sqlite3_column_int64(s, 10),
	};
	snprintf(row->name, sizeof(row->name), "%s", column_text(s, 2));
	snprintf(row->mountpoint, sizeof(row->mountpoint), "%s", column_text(s, 9));
	snprintf(row->meta, sizeof(row->meta), "%s", column_text(s, 11));
}

static int one_row(sqlite3_stmt *s, struct dms_row *ret_row)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return sql_errno(rc);
	read_row(s, ret_row);
	return 0;
}

int dms_catalog_find(struct dms_catalog *cat, enum dms_kind kind, const char *name, struct dms_row *ret_row)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = prepare(cat, "SELECT " ROW_COLUMNS " FROM devices WHERE kind = ? AND name = ?", &s);

	if (r < 0)
		return r;
	sqlite3_bind_int(s, 1, (int)kind);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	return one_row(s, ret_row);
}

int dms_catalog_get(struct dms_catalog *cat, int64_t id, struct dms_row *ret_row)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = prepare(cat, "SELECT " ROW_COLUMNS " FROM devices WHERE id = ?", &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, id);
	return one_row(s, ret_row);
}

static int collect(sqlite3_stmt *s, struct dms_row **ret_rows, size_t *ret_n)
{
	struct dms_row *rows = NULL;
	size_t n = 0, cap = 0;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			struct dms_row *grown;

			cap = cap ? cap * 2 : 16;
			grown = realloc(rows, cap * sizeof(*rows));
			if (!grown) {
				free(rows);
				return -ENOMEM;
			}
			rows = grown;
		}
		read_row(s, &rows[n++]);
	}
	if (rc != SQLITE_DONE) {
		free(rows);
		return sql_errno(rc);
	}
	*ret_rows = rows;
	*ret_n = n;
	return 0;
}

int dms_catalog_list(struct dms_catalog *cat, int kind, int64_t origin_id, struct dms_row **ret_rows, size_t *ret_n)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = prepare(cat,
			"SELECT " ROW_COLUMNS " FROM devices WHERE (?1 < 0 OR kind = ?1) AND (?2 = 0 OR origin_id = ?2)"
			" ORDER BY kind, name",
			&s);

	if (r < 0)
		return r;
	sqlite3_bind_int(s, 1, kind);
	sqlite3_bind_int64(s, 2, origin_id);
	return collect(s, ret_rows, ret_n);
}

int dms_catalog_list_unfinished(struct dms_catalog *cat, struct dms_row **ret_rows, size_t *ret_n)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = prepare(cat, "SELECT " ROW_COLUMNS " FROM devices WHERE pending_txn IS NOT NULL OR state != ? ORDER BY id",
			&s);

	if (r < 0)
		return r;
	sqlite3_bind_int(s, 1, DMS_STATE_READY);
	return collect(s, ret_rows, ret_n);
}

int dms_catalog_count_children(struct dms_catalog *cat, int64_t origin_id, unsigned *ret_n)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = prepare(cat, "SELECT COUNT(*) FROM devices WHERE origin_id = ?", &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, origin_id);
	if (sqlite3_step(s) != SQLITE_ROW)
		return -EIO;
	*ret_n = (unsigned)sqlite3_column_int(s, 0);
	return 0;
}

const char *dms_kind_name(enum dms_kind kind)
{
	switch (kind) {
	case DMS_KIND_IMAGE:
		return "img";
	case DMS_KIND_CONTAINER:
		return "ctr";
	case DMS_KIND_VOLUME:
		return "vol";
	case DMS_KIND_LAYER:
		return "layer";
	}
	return "?";
}

/* Attachments: one row per volume mounted in a container, with both names joined in. */
#define ATTACH_COLUMNS                                                                               \
	"a.id, a.volume_id, a.container_id, a.path, a.read_only, v.name, c.name, a.pending FROM attachments a" \
	" JOIN devices v ON v.id = a.volume_id JOIN devices c ON c.id = a.container_id"

static void read_attachment(sqlite3_stmt *s, struct dms_attachment *a)
{
	*a = (struct dms_attachment){
		.id = sqlite3_column_int64(s, 0),
		.volume_id = sqlite3_column_int64(s, 1),
		.container_id = sqlite3_column_int64(s, 2),
		.read_only = sqlite3_column_int(s, 4) != 0,
		.pending = sqlite3_column_int(s, 7) != 0,
	};
	snprintf(a->path, sizeof(a->path), "%s", column_text(s, 3));
	snprintf(a->volume, sizeof(a->volume), "%s", column_text(s, 5));
	snprintf(a->container, sizeof(a->container), "%s", column_text(s, 6));
}

int dms_catalog_attach_insert(struct dms_catalog *cat, struct dms_attachment *a)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = prepare(cat,
			"INSERT INTO attachments (volume_id, container_id, path, read_only, pending) VALUES (?, ?, ?, ?, ?)",
			&s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, a->volume_id);
	sqlite3_bind_int64(s, 2, a->container_id);
	sqlite3_bind_text(s, 3, a->path, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 4, a->read_only);
	sqlite3_bind_int(s, 5, a->pending);
	r = sql_errno(sqlite3_step(s));
	if (r < 0)
		return r;
	a->id = sqlite3_last_insert_rowid(cat->db);
	return 0;
}

int dms_catalog_attach_delete(struct dms_catalog *cat, int64_t id)
{
	return change_one(cat, "DELETE FROM attachments WHERE id = ?", id);
}

int dms_catalog_attach_settle(struct dms_catalog *cat, int64_t id)
{
	return change_one(cat, "UPDATE attachments SET pending = 0 WHERE id = ?", id);
}

int dms_catalog_attach_find(struct dms_catalog *cat, int64_t volume_id, int64_t container_id,
			    struct dms_attachment *ret_a)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int rc, r = prepare(cat, "SELECT " ATTACH_COLUMNS " WHERE a.volume_id = ? AND a.container_id = ?", &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, volume_id);
	sqlite3_bind_int64(s, 2, container_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return sql_errno(rc);
	read_attachment(s, ret_a);
	return 0;
}

int dms_catalog_attach_list(struct dms_catalog *cat, int64_t volume_id, int64_t container_id,
			    struct dms_attachment **ret_list, size_t *ret_n)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	struct dms_attachment *list = NULL;
	size_t n = 0, cap = 0;
	int rc, r;

	r = prepare(cat,
		    "SELECT " ATTACH_COLUMNS " WHERE (?1 = 0 OR a.volume_id = ?1) AND (?2 = 0 OR a.container_id = ?2)"
		    " ORDER BY a.id",
		    &s);
	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, volume_id);
	sqlite3_bind_int64(s, 2, container_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			struct dms_attachment *grown;

			cap = cap ? cap * 2 : 4;
			grown = realloc(list, cap * sizeof(*list));
			if (!grown) {
				free(list);
				return -ENOMEM;
			}
			list = grown;
		}
		read_attachment(s, &list[n++]);
	}
	if (rc != SQLITE_DONE) {
		free(list);
		return sql_errno(rc);
	}
	*ret_list = list;
	*ret_n = n;
	return 0;
}

/* Self-reference keeps origin_id > 0 (the row stays a snapshot, so its dm name does not change) and the key valid. */
int dms_catalog_orphan_snapshots(struct dms_catalog *cat, int64_t origin_id)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = prepare(cat, "UPDATE devices SET origin_id = id WHERE origin_id = ?1 AND id <> ?1", &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, origin_id);
	return sql_errno(sqlite3_step(s));
}

int dms_catalog_image_config_set(struct dms_catalog *cat, int64_t image_id, const char *json)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = prepare(cat, "INSERT OR REPLACE INTO image_configs (image_id, config) VALUES (?, ?)", &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, image_id);
	sqlite3_bind_text(s, 2, json, -1, SQLITE_STATIC);
	return sql_errno(sqlite3_step(s));
}

int dms_catalog_image_config_get(struct dms_catalog *cat, int64_t image_id, char **ret_json)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int rc, r = prepare(cat, "SELECT config FROM image_configs WHERE image_id = ?", &s);
	char *json;

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, image_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return sql_errno(rc);
	json = strdup(column_text(s, 0));
	if (!json)
		return -ENOMEM;
	*ret_json = json;
	return 0;
}

int dms_catalog_run_set(struct dms_catalog *cat, const struct dms_run_row *run)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = prepare(cat,
			"INSERT OR REPLACE INTO container_runs (container_id, spec, pid, exit_code, started, finished)"
			" VALUES (?, ?, ?, ?, ?, ?)",
			&s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, run->container_id);
	sqlite3_bind_text(s, 2, run->spec ? run->spec : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, run->pid);
	if (run->has_exit_code)
		sqlite3_bind_int(s, 4, run->exit_code);
	else
		sqlite3_bind_null(s, 4);
	sqlite3_bind_int64(s, 5, run->started);
	sqlite3_bind_int64(s, 6, run->finished);
	return sql_errno(sqlite3_step(s));
}

int dms_catalog_run_get(struct dms_catalog *cat, int64_t container_id, struct dms_run_row *ret_run)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int rc, r = prepare(cat,
			    "SELECT spec, pid, exit_code IS NOT NULL, IFNULL(exit_code, 0), started, finished"
			    " FROM container_runs WHERE container_id = ?",
			    &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, container_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return sql_errno(rc);
	*ret_run = (struct dms_run_row){
		.container_id = container_id,
		.spec = strdup(column_text(s, 0)),
		.pid = sqlite3_column_int64(s, 1),
		.has_exit_code = sqlite3_column_int(s, 2) != 0,
		.exit_code = sqlite3_column_int(s, 3),
		.started = sqlite3_column_int64(s, 4),
		.finished = sqlite3_column_int64(s, 5),
	};
	return ret_run->spec ? 0 : -ENOMEM;
}

void dms_layer_row_clear(struct dms_layer_row *l)
{
	if (!l)
		return;
	free(l->key);
	free(l->parent);
	free(l->labels);
	*l = (struct dms_layer_row){ 0 };
}

void dms_layer_rows_free(struct dms_layer_row *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++)
		dms_layer_row_clear(&rows[i]);
	free(rows);
}

static void bind_layer(sqlite3_stmt *s, const struct dms_layer_row *l)
{
	sqlite3_bind_int64(s, 1, l->device_id);
	sqlite3_bind_text(s, 2, l->key, -1, SQLITE_STATIC);
	if (l->parent_id > 0)
		sqlite3_bind_int64(s, 3, l->parent_id);
	else
		sqlite3_bind_null(s, 3);
	sqlite3_bind_int(s, 4, l->kind);
	sqlite3_bind_text(s, 5, l->labels && *l->labels ? l->labels : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)l->used);
	sqlite3_bind_int64(s, 7, l->created);
	sqlite3_bind_int64(s, 8, l->updated);
}

int dms_catalog_layer_insert(struct dms_catalog *cat, struct dms_layer_row *l)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = prepare(cat,
			"INSERT INTO layers (device_id, key, parent_id, kind, labels, used, created, updated)"
			" VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			&s);

	if (r < 0)
		return r;
	bind_layer(s, l);
	r = sql_errno(sqlite3_step(s));
	if (r < 0)
		return r;
	l->id = sqlite3_last_insert_rowid(cat->db);
	return 0;
}

int dms_catalog_layer_update(struct dms_catalog *cat, const struct dms_layer_row *l)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = prepare(cat,
			"UPDATE layers SET device_id = ?, key = ?, parent_id = ?, kind = ?, labels = ?, used = ?,"
			" created = ?, updated = ? WHERE id = ?",
			&s);

	if (r < 0)
		return r;
	bind_layer(s, l);
	sqlite3_bind_int64(s, 9, l->id);
	r = sql_errno(sqlite3_step(s));
	if (r < 0)
		return r;
	return sqlite3_changes(cat->db) == 1 ? 0 : -ENOENT;
}

#define LAYER_COLUMNS                                                                                       \
	"l.id, l.device_id, l.key, IFNULL(l.parent_id, 0), IFNULL(p.key, ''), l.kind, l.labels, l.used,"    \
	" l.created, l.updated, d.state FROM layers l JOIN devices d ON d.id = l.device_id"                 \
	" LEFT JOIN layers p ON p.id = l.parent_id"

static int read_layer(sqlite3_stmt *s, struct dms_layer_row *l)
{
	*l = (struct dms_layer_row){
		.id = sqlite3_column_int64(s, 0),
		.device_id = sqlite3_column_int64(s, 1),
		.key = strdup(column_text(s, 2)),
		.parent_id = sqlite3_column_int64(s, 3),
		.parent = strdup(column_text(s, 4)),
		.kind = sqlite3_column_int(s, 5),
		.labels = strdup(column_text(s, 6)),
		.used = (uint64_t)sqlite3_column_int64(s, 7),
		.created = sqlite3_column_int64(s, 8),
		.updated = sqlite3_column_int64(s, 9),
		.device_state = sqlite3_column_int(s, 10),
	};
	if (!l->key || !l->parent || !l->labels) {
		dms_layer_row_clear(l);
		return -ENOMEM;
	}
	return 0;
}

/* *RET is zeroed on failure too, so dms_layer_row_clear is always safe. */
static int one_layer(sqlite3_stmt *s, struct dms_layer_row *ret)
{
	int rc = sqlite3_step(s);

	*ret = (struct dms_layer_row){ 0 };
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return sql_errno(rc);
	return read_layer(s, ret);
}

int dms_catalog_layer_find(struct dms_catalog *cat, const char *key, struct dms_layer_row *ret)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = prepare(cat, "SELECT " LAYER_COLUMNS " WHERE l.key = ?", &s);

	*ret = (struct dms_layer_row){ 0 };
	if (r < 0)
		return r;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	return one_layer(s, ret);
}

int dms_catalog_layer_get(struct dms_catalog *cat, int64_t id, struct dms_layer_row *ret)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = prepare(cat, "SELECT " LAYER_COLUMNS " WHERE l.id = ?", &s);

	*ret = (struct dms_layer_row){ 0 };
	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, id);
	return one_layer(s, ret);
}

int dms_catalog_layer_list(struct dms_catalog *cat, struct dms_layer_row **ret_rows, size_t *ret_n)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	struct dms_layer_row *rows = NULL;
	size_t n = 0, cap = 0;
	int rc, r;

	r = prepare(cat, "SELECT " LAYER_COLUMNS " ORDER BY l.key", &s);
	if (r < 0)
		return r;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			struct dms_layer_row *grown;

			cap = cap ? cap * 2 : 16;
			grown = realloc(rows, cap * sizeof(*rows));
			if (!grown) {
				dms_layer_rows_free(rows, n);
				return -ENOMEM;
			}
			rows = grown;
		}
		r = read_layer(s, &rows[n]);
		if (r < 0) {
			dms_layer_rows_free(rows, n);
			return r;
		}
		n++;
	}
	if (rc != SQLITE_DONE) {
		dms_layer_rows_free(rows, n);
		return sql_errno(rc);
	}
	*ret_rows = rows;
	*ret_n = n;
	return 0;
}

int dms_catalog_layer_count_children(struct dms_catalog *cat, int64_t id, unsigned *ret_n)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = prepare(cat, "SELECT COUNT(*) FROM layers WHERE parent_id = ?", &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) != SQLITE_ROW)
		return -EIO;
	*ret_n = (unsigned)sqlite3_column_int(s, 0);
	return 0;
}
