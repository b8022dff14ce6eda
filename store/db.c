/* SQLite connection set-up, translation of SQLite errors and the forward-only migrations. */
#include "store/db.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gateway/log.h"

struct db {
	sqlite3 *h;
	int counted; /* in open_count */
	int64_t full_logged; /* when a full disk was last logged at error level (wall clock) */
	int64_t full_quiet; /* full-disk errors logged at debug level since then */
	void (*close_hook)(void *ctx);
	void *close_ctx;
};

/* Connections open in this process, to report any left open at exit. */
static atomic_int open_count;

/* Forward-only: a released migration is never edited, a change is a new entry. */
static const char *const migrations[] = {
	/* 1: documents, outbox, audit chain */
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE documents("
	"  id TEXT PRIMARY KEY,"
	"  seq INTEGER NOT NULL UNIQUE,"
	"  sha256 TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  content_type TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  name TEXT NOT NULL DEFAULT '',"
	"  intake_key TEXT NOT NULL UNIQUE,"
	"  received_at TEXT NOT NULL);"
	"CREATE INDEX documents_sha ON documents(sha256);"
	"CREATE TABLE outbox("
	"  id INTEGER PRIMARY KEY,"
	"  stream TEXT NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  priority INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  ref TEXT NOT NULL,"
	"  idem_key TEXT NOT NULL UNIQUE,"
	"  bytes INTEGER NOT NULL,"
	"  state TEXT NOT NULL CHECK(state IN ('queued','sending','delivered','rejected')),"
	"  offset INTEGER NOT NULL DEFAULT 0,"
	"  session TEXT NOT NULL DEFAULT '',"
	"  receipt TEXT NOT NULL DEFAULT '',"
	"  reason TEXT NOT NULL DEFAULT '',"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  created_at TEXT NOT NULL,"
	"  updated_at TEXT NOT NULL,"
	"  UNIQUE(stream, seq));"
	"CREATE INDEX outbox_next ON outbox(state, priority, id);"
	"CREATE TABLE audit("
	"  seq INTEGER PRIMARY KEY,"
	"  at TEXT NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  subject TEXT NOT NULL,"
	"  detail TEXT NOT NULL,"
	"  prev TEXT NOT NULL,"
	"  hash TEXT NOT NULL);"
	"CREATE TRIGGER audit_append_only_u BEFORE UPDATE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;"
	"CREATE TRIGGER audit_append_only_d BEFORE DELETE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;",
	/* 2: devices registered over MQTT, their document links and commands (store/devices.c) */
	"CREATE TABLE devices("
	"  n INTEGER PRIMARY KEY,"
	"  id TEXT NOT NULL UNIQUE,"
	"  serial TEXT NOT NULL UNIQUE,"
	"  kind TEXT NOT NULL,"
	"  model TEXT NOT NULL,"
	"  firmware TEXT NOT NULL,"
	"  capabilities TEXT NOT NULL,"
	"  state TEXT NOT NULL CHECK(state IN ('pending','approved','active','rejected','revoked')),"
	"  action TEXT NOT NULL DEFAULT '',"
	"  claim_client TEXT NOT NULL DEFAULT '',"
	"  presence TEXT NOT NULL DEFAULT 'unknown',"
	"  last_seen INTEGER NOT NULL DEFAULT 0,"
	"  reason TEXT NOT NULL DEFAULT '',"
	"  created_at TEXT NOT NULL,"
	"  updated_at TEXT NOT NULL);"
	"CREATE INDEX devices_action ON devices(action) WHERE action != '';"
	"CREATE TABLE device_docs("
	"  device TEXT NOT NULL,"
	"  device_doc_id TEXT NOT NULL,"
	"  doc_id TEXT NOT NULL,"
	"  session TEXT NOT NULL,"
	"  PRIMARY KEY(device, device_doc_id));"
	"CREATE TABLE device_commands("
	"  id INTEGER PRIMARY KEY,"
	"  device TEXT NOT NULL,"
	"  cmd TEXT NOT NULL,"
	"  body TEXT NOT NULL,"
	"  state TEXT NOT NULL CHECK(state IN ('queued','sent','done','failed')),"
	"  result TEXT NOT NULL DEFAULT '',"
	"  created_at TEXT NOT NULL,"
	"  updated_at TEXT NOT NULL);"
	"CREATE INDEX device_commands_queued ON device_commands(state) WHERE state = 'queued';",
	/* 3: the certified-copy book, SCT/BS numbers per year (store/copies.c) */
	"CREATE TABLE copies("
	"  id INTEGER PRIMARY KEY,"
	"  year INTEGER NOT NULL,"
	"  book INTEGER NOT NULL,"
	"  number INTEGER NOT NULL,"
	"  state TEXT NOT NULL CHECK(state IN ('reserved','issued','void')),"
	"  original_id TEXT NOT NULL,"
	"  doc_id TEXT NOT NULL DEFAULT '',"
	"  official TEXT NOT NULL,"
	"  seal TEXT NOT NULL DEFAULT '',"
	"  reason TEXT NOT NULL DEFAULT '',"
	"  created_at TEXT NOT NULL,"
	"  issued_at TEXT NOT NULL DEFAULT '',"
	"  UNIQUE(year, number));",
	/* 4: the queue: daily ticket sequences, tickets, counter events (store/queue.c) */
	"CREATE TABLE queue_seq("
	"  day TEXT NOT NULL,"
	"  service TEXT NOT NULL,"
	"  last INTEGER NOT NULL,"
	"  PRIMARY KEY(day, service));"
	"CREATE TABLE tickets("
	"  id INTEGER PRIMARY KEY,"
	"  day TEXT NOT NULL,"
	"  service TEXT NOT NULL,"
	"  number INTEGER NOT NULL,"
	"  code TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  state TEXT NOT NULL CHECK(state IN ('waiting','called','serving','done','skipped')),"
	"  counter INTEGER NOT NULL DEFAULT 0,"
	"  calls INTEGER NOT NULL DEFAULT 0,"
	"  moved_from TEXT NOT NULL DEFAULT '',"
	"  taken_ms INTEGER NOT NULL,"
	"  called_ms INTEGER NOT NULL DEFAULT 0,"
	"  served_ms INTEGER NOT NULL DEFAULT 0,"
	"  done_ms INTEGER NOT NULL DEFAULT 0,"
	"  UNIQUE(day, code));"
	"CREATE INDEX tickets_waiting ON tickets(day, state, service, id);"
	"CREATE INDEX tickets_counter ON tickets(day, counter, state);"
	"CREATE TABLE queue_events("
	"  id INTEGER PRIMARY KEY,"
	"  at_ms INTEGER NOT NULL,"
	"  counter INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  ticket INTEGER NOT NULL DEFAULT 0,"
	"  code TEXT NOT NULL DEFAULT '',"
	"  detail TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE queue_reports("
	"  day TEXT PRIMARY KEY,"
	"  sha256 TEXT NOT NULL,"
	"  outbox_id INTEGER NOT NULL);",
	/* 5: staff accounts, web sessions, API tokens, set-aside outbox items (store/users.c,
	 * store/views.c); documents by day for the dashboard's intake count */
	"CREATE TABLE users("
	"  name TEXT PRIMARY KEY,"
	"  role TEXT NOT NULL CHECK(role IN ('admin','staff')),"
	"  hash TEXT NOT NULL,"
	"  disabled INTEGER NOT NULL DEFAULT 0,"
	"  must_change INTEGER NOT NULL DEFAULT 0,"
	"  failures INTEGER NOT NULL DEFAULT 0,"
	"  locked_until INTEGER NOT NULL DEFAULT 0,"
	"  created_at TEXT NOT NULL,"
	"  updated_at TEXT NOT NULL);"
	"CREATE TABLE sessions("
	"  id TEXT PRIMARY KEY,"
	"  user TEXT NOT NULL,"
	"  csrf TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL);"
	"CREATE INDEX sessions_user ON sessions(user);"
	"CREATE TABLE api_tokens("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  hash TEXT NOT NULL UNIQUE,"
	"  created_by TEXT NOT NULL,"
	"  created_at TEXT NOT NULL,"
	"  revoked INTEGER NOT NULL DEFAULT 0,"
	"  last_used INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE outbox_aside("
	"  id INTEGER PRIMARY KEY,"
	"  actor TEXT NOT NULL,"
	"  at TEXT NOT NULL,"
	"  note TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX documents_received ON documents(received_at);",
	/* recognition of image documents (store/recog.c); the result JSON is a blob */
	"CREATE TABLE recognitions("
	"  doc_id TEXT PRIMARY KEY REFERENCES documents(id),"
	"  state TEXT NOT NULL CHECK(state IN ('queued','running','done','failed')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  type TEXT,"
	"  confidence REAL,"
	"  needs_review INTEGER,"
	"  result_sha256 TEXT,"
	"  updated_at TEXT NOT NULL);"
	"CREATE INDEX recognitions_state ON recognitions(state);",
	/* 7: dossiers (store/dossiers.c): daily code sequence, dossiers, attached scans, the
	 * fixed bodies of outbox items that are not documents, citizen feedback */
	"CREATE TABLE dossier_seq(day TEXT PRIMARY KEY, last INTEGER NOT NULL);"
	"CREATE TABLE dossiers("
	"  id INTEGER PRIMARY KEY,"
	"  procedure TEXT NOT NULL,"
	"  state TEXT NOT NULL CHECK(state IN ('open','accepted')),"
	"  applicant_name TEXT NOT NULL,"
	"  applicant_id_hash TEXT NOT NULL DEFAULT '',"
	"  applicant_id_tail TEXT NOT NULL DEFAULT '',"
	"  applicant_doc TEXT NOT NULL DEFAULT '',"
	"  source TEXT NOT NULL,"
	"  opened_by TEXT NOT NULL,"
	"  opened_at TEXT NOT NULL,"
	"  code TEXT UNIQUE,"
	"  accepted_by TEXT NOT NULL DEFAULT '',"
	"  accepted_at TEXT NOT NULL DEFAULT '',"
	"  note TEXT NOT NULL DEFAULT '',"
	"  received_s INTEGER NOT NULL DEFAULT 0,"
	"  due_day TEXT NOT NULL DEFAULT '',"
	"  outbox_id INTEGER NOT NULL DEFAULT 0,"
	"  city_status TEXT NOT NULL DEFAULT '',"
	"  city_status_text TEXT NOT NULL DEFAULT '',"
	"  city_updated_at TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX dossiers_state ON dossiers(state, due_day);"
	"CREATE TABLE dossier_items("
	"  dossier INTEGER NOT NULL REFERENCES dossiers(id),"
	"  item TEXT NOT NULL,"
	"  doc_id TEXT NOT NULL,"
	"  doc_type TEXT NOT NULL DEFAULT '',"
	"  attached_at TEXT NOT NULL,"
	"  PRIMARY KEY(dossier, item, doc_id));"
	"CREATE TABLE outbox_bodies(outbox_id INTEGER PRIMARY KEY, body TEXT NOT NULL);"
	"CREATE TABLE feedback("
	"  id INTEGER PRIMARY KEY,"
	"  subject_kind TEXT NOT NULL CHECK(subject_kind IN ('dossier','ticket')),"
	"  subject TEXT NOT NULL,"
	"  service TEXT NOT NULL DEFAULT '',"
	"  counter INTEGER NOT NULL DEFAULT 0,"
	"  procedure TEXT NOT NULL DEFAULT '',"
	"  rating INTEGER NOT NULL CHECK(rating BETWEEN 1 AND 5),"
	"  comment TEXT NOT NULL DEFAULT '',"
	"  source TEXT NOT NULL,"
	"  day TEXT NOT NULL,"
	"  at TEXT NOT NULL,"
	"  UNIQUE(subject_kind, subject));"
	"CREATE INDEX feedback_day ON feedback(day);"
	"CREATE TABLE feedback_reports(day TEXT PRIMARY KEY, outbox_id INTEGER NOT NULL);",
	/* 8: staff corrections of recognition results (store/recog.c): each correction is the
	 * whole corrected JSON as an encrypted blob; the recognised result is kept unchanged */
	"CREATE TABLE recog_corrections("
	"  id INTEGER PRIMARY KEY,"
	"  doc_id TEXT NOT NULL REFERENCES documents(id),"
	"  base_sha256 TEXT NOT NULL,"
	"  result_sha256 TEXT NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  at TEXT NOT NULL);"
	"CREATE INDEX recog_corrections_doc ON recog_corrections(doc_id, id);",
	/* 9: failed logins counted per (account, source address) (store/users.c): a stranger
	 * on the LAN locks only their own address out, never the box's console.  name is the
	 * account's name, or for a name that is no account a keyed hash of what was typed
	 * (it may be a password typed in the wrong field).  users.failures/locked_until are
	 * no longer used. */
	"CREATE TABLE login_failures("
	"  name TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  failures INTEGER NOT NULL DEFAULT 0,"
	"  locked_until INTEGER NOT NULL DEFAULT 0,"
	"  last_at INTEGER NOT NULL,"
	"  PRIMARY KEY(name, source));"
	"CREATE INDEX login_failures_last ON login_failures(last_at);",
	/* 10: ID card chip reads (store/chipreads.c): the result (fields, checks, cross-check;
	 * the face is its own document) as an encrypted blob, per ID card document or alone */
	"CREATE TABLE chip_reads("
	"  id INTEGER PRIMARY KEY,"
	"  doc_id TEXT REFERENCES documents(id),"
	"  face_doc_id TEXT REFERENCES documents(id),"
	"  result_sha256 TEXT NOT NULL,"
	"  verified INTEGER NOT NULL,"
	"  differences INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  at TEXT NOT NULL);"
	"CREATE INDEX chip_reads_doc ON chip_reads(doc_id, id);"
	"CREATE INDEX chip_reads_face ON chip_reads(face_doc_id);",
	/* 11: one identity from a card's two images (store/recog.c): the front and back
	 * documents paired (same source within a window, or a staff choice) and the merged
	 * result with the QR-MRZ cross-check as an encrypted blob */
	"CREATE TABLE recog_pairs("
	"  id INTEGER PRIMARY KEY,"
	"  front_doc TEXT NOT NULL UNIQUE REFERENCES documents(id),"
	"  back_doc TEXT NOT NULL UNIQUE REFERENCES documents(id),"
	"  result_sha256 TEXT NOT NULL,"
	"  agree INTEGER NOT NULL,"
	"  needs_review INTEGER NOT NULL,"
	"  how TEXT NOT NULL,"
	"  at TEXT NOT NULL);",
	/* 12: applicant numbers as keyed hashes (store/dossiers.c dossiers_key_ids converts the
	 * plain SHA-256 of older rows at start, with the storage key SQL does not have) */
	"ALTER TABLE dossiers ADD COLUMN applicant_id_keyed INTEGER NOT NULL DEFAULT 0;",
	/* 13: every claim id that said hello, bound to its serial (store/devices.c): a device's
	 * claim_client is the first claimer and changes only when staff approve another claimer
	 * by its pairing code; the others are shown as a conflict */
	"CREATE TABLE device_claims("
	"  client TEXT PRIMARY KEY,"
	"  serial TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  model TEXT NOT NULL,"
	"  firmware TEXT NOT NULL,"
	"  capabilities TEXT NOT NULL,"
	"  first_at TEXT NOT NULL,"
	"  last_s INTEGER NOT NULL,"
	"  hellos INTEGER NOT NULL DEFAULT 1);"
	"CREATE INDEX device_claims_serial ON device_claims(serial, last_s);"
	"INSERT OR IGNORE INTO device_claims(client, serial, kind, model, firmware, capabilities, "
	"  first_at, last_s) SELECT claim_client, serial, kind, model, firmware, capabilities, "
	"  created_at, CAST(strftime('%s','now') AS INTEGER) FROM devices WHERE claim_client != '';",
	/* 14: a dossier's processing at the commune (store/dossier_steps.c): the local step and
	 * the official it is assigned to, the clock stopped while more papers are awaited
	 * (pause_day: local day of the request; due_day moves on by the working days paused),
	 * the apology's new appointment, the result's return; every step with who and when;
	 * which role handles a procedure and which officials hold a role */
	"ALTER TABLE dossiers ADD COLUMN step TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE dossiers ADD COLUMN assignee TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE dossiers ADD COLUMN first_due_day TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE dossiers ADD COLUMN pause_day TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE dossiers ADD COLUMN paused_days INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE dossiers ADD COLUMN new_due_day TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE dossiers ADD COLUMN done_s INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE dossiers ADD COLUMN returned_s INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX dossiers_assignee ON dossiers(assignee, step, due_day);"
	"CREATE TABLE dossier_steps("
	"  id INTEGER PRIMARY KEY,"
	"  dossier INTEGER NOT NULL REFERENCES dossiers(id),"
	"  step TEXT NOT NULL,"
	"  origin TEXT NOT NULL CHECK(origin IN ('local','city')),"
	"  actor TEXT NOT NULL,"
	"  at_s INTEGER NOT NULL,"
	"  recorded_at TEXT NOT NULL,"
	"  assignee TEXT NOT NULL DEFAULT '',"
	"  note TEXT NOT NULL DEFAULT '',"
	"  due_day TEXT NOT NULL DEFAULT '',"
	"  outbox_id INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX dossier_steps_dossier ON dossier_steps(dossier, id);"
	"CREATE TABLE procedure_roles(procedure TEXT PRIMARY KEY, role TEXT NOT NULL);"
	"CREATE TABLE official_roles(user TEXT NOT NULL, role TEXT NOT NULL, PRIMARY KEY(user, role));",
	/* 15: finding a citizen's dossiers (store/views.c views_dossiers_search): the applicant's
	 * name in a full-text index without accents (contentless: it holds the words' tokens, no
	 * copy of the text; đ is written d, which unicode61 does not fold), kept by triggers; the
	 * keyed hash of the number indexed for an exact lookup; the opening time for date ranges */
	"CREATE VIRTUAL TABLE dossier_names USING fts5(name, content='', "
	"  tokenize='unicode61 remove_diacritics 2');"
	"CREATE TRIGGER dossier_names_ai AFTER INSERT ON dossiers BEGIN"
	"  INSERT INTO dossier_names(rowid, name)"
	"  VALUES(new.id, replace(replace(new.applicant_name, 'đ', 'd'), 'Đ', 'D')); END;"
	"CREATE TRIGGER dossier_names_ad AFTER DELETE ON dossiers BEGIN"
	"  INSERT INTO dossier_names(dossier_names, rowid, name)"
	"  VALUES('delete', old.id, replace(replace(old.applicant_name, 'đ', 'd'), 'Đ', 'D')); END;"
	"CREATE TRIGGER dossier_names_au AFTER UPDATE OF applicant_name ON dossiers BEGIN"
	"  INSERT INTO dossier_names(dossier_names, rowid, name)"
	"  VALUES('delete', old.id, replace(replace(old.applicant_name, 'đ', 'd'), 'Đ', 'D'));"
	"  INSERT INTO dossier_names(rowid, name)"
	"  VALUES(new.id, replace(replace(new.applicant_name, 'đ', 'd'), 'Đ', 'D')); END;"
	"INSERT INTO dossier_names(rowid, name)"
	"  SELECT id, replace(replace(applicant_name, 'đ', 'd'), 'Đ', 'D') FROM dossiers;"
	"CREATE INDEX dossiers_id_hash ON dossiers(applicant_id_hash);"
	"CREATE INDEX dossiers_opened ON dossiers(opened_at);"
	"CREATE INDEX dossiers_due ON dossiers(due_day);",
};
#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))
/* The schema version is the number of migrations: append a migration, never edit one. */
#define DB_SCHEMA_VERSION NMIGRATIONS

int db_error(struct db *db, int rc, const char *what)
{
	int prim = rc & 0xff;
	const char *msg = db && db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc);
	if (prim == SQLITE_FULL && db) {
		/* A full disk fails every write until space is freed: once a minute per
		 * connection is enough (the caller reports the condition). */
		int64_t now = (int64_t)time(NULL);
		if (db->full_logged && now - db->full_logged < 60) {
			db->full_quiet++;
			log_debug("store: %s: %s (sqlite %d)", what, msg, rc);
			return -ENOSPC;
		}
		log_error("store: %s: %s (sqlite %d); %lld more such errors in the last minute", what, msg,
			  rc, (long long)db->full_quiet);
		db->full_logged = now;
		db->full_quiet = 0;
		return -ENOSPC;
	}
	log_error("store: %s: %s (sqlite %d)", what, msg, rc);
	switch (prim) {
	case SQLITE_NOMEM: return -ENOMEM;
	case SQLITE_FULL: return -ENOSPC;
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return -EBUSY;
	case SQLITE_CONSTRAINT: return -EEXIST;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB: return -EBADMSG;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH: return -EACCES;
	case SQLITE_CANTOPEN: return -ENOENT;
	default: return -EIO;
	}
}

static int exec(struct db *db, const char *sql, const char *what)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		log_error("store: %s: %s", what, msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		int prim = rc & 0xff;
		return prim == SQLITE_FULL                              ? -ENOSPC
		    : (prim == SQLITE_CORRUPT || prim == SQLITE_NOTADB) ? -EBADMSG
		    : prim == SQLITE_BUSY                               ? -EBUSY
									: -EIO;
	}
	return 0;
}

int db_prepare(struct db *db, const char *sql, sqlite3_stmt **ret_stmt)
{
	int rc = sqlite3_prepare_v2(db->h, sql, -1, ret_stmt, NULL);
	if (rc != SQLITE_OK)
		return db_error(db, rc, "prepare");
	return 0;
}

static int user_version(struct db *db, int *ret)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "PRAGMA user_version", &st);
	if (r < 0)
		return r;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int(st, 0);
	else
		r = db_error(db, rc, "read schema version");
	sqlite3_finalize(st);
	return r;
}

static int migrate(struct db *db, const char *path)
{
	int v = 0, r;
	char sql[64];

	r = user_version(db, &v);
	if (r < 0)
		return r;
	if (v > DB_SCHEMA_VERSION) {
		log_error("store: %s has schema version %d but this motcua knows only up to %d; "
			  "install the newer motcua that wrote it (a downgrade cannot read it)",
			  path, v, DB_SCHEMA_VERSION);
		return -EPROTONOSUPPORT;
	}
	for (; v < DB_SCHEMA_VERSION; v++) {
		r = db_begin(db);
		if (r < 0)
			return r;
		r = exec(db, migrations[v], "migration");
		if (r == 0) {
			snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
			r = exec(db, sql, "set schema version");
		}
		if (r == 0)
			r = db_commit(db);
		if (r < 0) {
			db_rollback(db);
			log_error("store: migration to schema version %d failed on %s", v + 1, path);
			return r;
		}
		log_info("store: %s migrated to schema version %d", path, v + 1);
	}
	return 0;
}

/* By path only: opening and closing a descriptor of the database here would drop the POSIX
 * locks SQLite holds on it for this process's other connections. */
static void private_files(const char *path)
{
	char side[PATH_MAX];
	struct stat st;
	for (int i = 0; i < 3; i++) {
		snprintf(side, sizeof(side), "%s%s", path, i == 0 ? "" : i == 1 ? "-wal" : "-shm");
		if (stat(side, &st) == 0 && (st.st_mode & 0777) != 0600 && chmod(side, 0600) < 0)
			/* Another user's database (a tool run by someone else) is used as it is. */
			log_warn("store: cannot make %s private (mode 0600): %s", side, strerror(errno));
	}
}

int db_open(const char *path, int64_t busy_timeout_ms, struct db **ret_db)
{
	struct db *db = calloc(1, sizeof(*db));
	int r, rc;

	if (!db)
		return -ENOMEM;
	/* The database holds names and dossiers: 0600 whatever the umask.  SQLite gives its
	 * -wal and -shm files the database file's mode, so a new database is tightened as soon
	 * as it exists, before WAL mode makes them; files made by an older motcua under a loose
	 * umask are tightened too. */
	private_files(path);
	rc = sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		r = db_error(db, rc, path);
		goto fail;
	}
	private_files(path);
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, (int)busy_timeout_ms);
	r = exec(db, "PRAGMA journal_mode=WAL", "enable WAL");
	if (r == 0)
		r = exec(db,
			 "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON; "
			 "PRAGMA cache_size=-1024;",
			 "set pragmas");
	if (r == 0)
		r = migrate(db, path);
	if (r < 0)
		goto fail;
	atomic_fetch_add(&open_count, 1);
	db->counted = 1;
	*ret_db = db;
	return 0;
fail:
	/* A database that failed to open is kept as found (the store quarantines it): closing
	 * must not checkpoint a WAL into it. */
	if (db->h)
		sqlite3_db_config(db->h, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
	db_close(db);
	return r;
}

int db_open_connections(void)
{
	return atomic_load(&open_count);
}

void db_close(struct db *db)
{
	if (!db)
		return;
	if (db->counted)
		atomic_fetch_sub(&open_count, 1);
	if (db->h)
		sqlite3_close_v2(db->h);
	if (db->close_hook)
		db->close_hook(db->close_ctx);
	free(db);
}

void db_set_close_hook(struct db *db, void (*fn)(void *ctx), void *ctx)
{
	db->close_hook = fn;
	db->close_ctx = ctx;
}

int db_schema_version(void)
{
	return DB_SCHEMA_VERSION;
}

sqlite3 *db_handle(struct db *db)
{
	return db->h;
}

int db_begin(struct db *db)
{
	return exec(db, "BEGIN IMMEDIATE", "begin transaction");
}

int db_commit(struct db *db)
{
	return exec(db, "COMMIT", "commit");
}

void db_rollback(struct db *db)
{
	if (!sqlite3_get_autocommit(db->h))
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

int db_check(struct db *db, int full)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, full ? "PRAGMA integrity_check" : "PRAGMA quick_check", &st);
	if (r < 0)
		return -EBADMSG;
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		r = db_error(db, rc, "integrity check");
		r = -EBADMSG;
	} else {
		const char *res = (const char *)sqlite3_column_text(st, 0);
		if (!res || strcmp(res, "ok") != 0) {
			log_error("store: integrity check failed: %s", res ? res : "(no answer)");
			r = -EBADMSG;
		}
	}
	sqlite3_finalize(st);
	return r;
}

int db_meta_get(struct db *db, const char *key, char *buf, size_t size)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "SELECT value FROM meta WHERE key = ?", &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(buf, size, "%s", (const char *)sqlite3_column_text(st, 0));
		r = 0;
	} else if (rc == SQLITE_DONE) {
		r = -ENOENT;
	} else {
		r = db_error(db, rc, "read meta");
	}
	sqlite3_finalize(st);
	return r;
}

int db_meta_set(struct db *db, const char *key, const char *value)
{
	sqlite3_stmt *st;
	int r = db_prepare(db,
			   "INSERT INTO meta(key, value) VALUES(?, ?) "
			   "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
			   &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	r = rc == SQLITE_DONE ? 0 : db_error(db, rc, "write meta");
	sqlite3_finalize(st);
	return r;
}

void db_column_text(sqlite3_stmt *st, int i, char *out, size_t size)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	snprintf(out, size, "%s", t ? (const char *)t : "");
}

void db_now(char out[32])
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
