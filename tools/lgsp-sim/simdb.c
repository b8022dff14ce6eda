/* The simulator's persistent state: one SQLite file (sim.db) in the data directory holding
 * tokens, uploads, completed blobs, submissions with their receipts, dossier statuses and the
 * counters of GET /_sim/stats, so that a restart keeps everything. */
#include "tools/lgsp-sim/sim.h"

#include <errno.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gateway/log.h"
#include "store/fsutil.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS tokens(token_sha TEXT PRIMARY KEY, client TEXT NOT NULL,"
    "  expires INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS uploads(id TEXT PRIMARY KEY, client TEXT NOT NULL,"
    "  idem_key TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL,"
    "  content_type TEXT NOT NULL, offset INTEGER NOT NULL DEFAULT 0,"
    "  hwm INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL, created TEXT NOT NULL,"
    "  UNIQUE(client, idem_key));"
    "CREATE TABLE IF NOT EXISTS blobs(sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS submissions(client TEXT NOT NULL, idem_key TEXT NOT NULL,"
    "  kind TEXT NOT NULL, body_sha256 TEXT NOT NULL, receipt_id TEXT NOT NULL UNIQUE,"
    "  time TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY(client, idem_key));"
    "CREATE TABLE IF NOT EXISTS dossiers(client TEXT NOT NULL, code TEXT NOT NULL,"
    "  receipt_id TEXT NOT NULL, status TEXT NOT NULL, status_text TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL, change_seq INTEGER NOT NULL, PRIMARY KEY(client, code));"
    "CREATE INDEX IF NOT EXISTS dossiers_seq ON dossiers(client, change_seq);"
    "CREATE TABLE IF NOT EXISTS stats(name TEXT PRIMARY KEY, value INTEGER NOT NULL);";

int simdb_exec(struct sim *s, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_error("sqlite: %s", msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

sqlite3_stmt *simdb_prepare(struct sim *s, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("sqlite prepare: %s", sqlite3_errmsg(s->db));
		return NULL;
	}
	return st;
}

int simdb_open(struct sim *s)
{
	char path[4096];
	int r;

	r = fs_mkdir_p(s->o.data_dir, 0700);
	if (r < 0)
		return r;
	char sub[4096];
	if (fs_join(sub, sizeof(sub), s->o.data_dir, "uploads") < 0 || fs_mkdir_p(sub, 0700) < 0 ||
	    fs_join(sub, sizeof(sub), s->o.data_dir, "blobs") < 0 || fs_mkdir_p(sub, 0700) < 0)
		return -EIO;
	r = fs_join(path, sizeof(path), s->o.data_dir, "sim.db");
	if (r < 0)
		return r;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK) {
		log_error("cannot open %s: %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
		sqlite3_close(s->db);
		s->db = NULL;
		return -EIO;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (simdb_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;") < 0 ||
	    simdb_exec(s, schema) < 0) {
		simdb_close(s);
		return -EIO;
	}
	return 0;
}

void simdb_close(struct sim *s)
{
	if (s->db)
		sqlite3_close(s->db);
	s->db = NULL;
}

void simdb_count(struct sim *s, const char *name, int64_t delta)
{
	sqlite3_stmt *st = simdb_prepare(s,
					 "INSERT INTO stats(name, value) VALUES(?1, ?2) "
					 "ON CONFLICT(name) DO UPDATE SET value = value + ?2");
	if (!st)
		return;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, delta);
	if (sqlite3_step(st) != SQLITE_DONE)
		log_error("sqlite count %s: %s", name, sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
}

static int64_t stat_get(struct sim *s, const char *name)
{
	int64_t v = 0;
	sqlite3_stmt *st = simdb_prepare(s, "SELECT value FROM stats WHERE name = ?1");
	if (!st)
		return 0;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

json_t *simdb_stats(struct sim *s)
{
	static const char *const top[] = { "requests",          "submissions",
					   "unique_items",      "duplicates",
					   "key_conflicts",     "submissions_rejected",
					   "bytes_received",    "bytes_received_more_than_once",
					   "chunks_committed",  "uploads_created",
					   "uploads_completed", "uploads_deduplicated",
					   "hash_mismatches",   "tokens_issued",
					   "auth_failures",     "status_pulls" };
	static const char *const faults[] = { "http_5xx", "http_429", "reset_request", "reset_response",
					      "delayed" };
	json_t *o = json_object(), *f = json_object();
	char name[64];

	for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++)
		json_object_set_new(o, top[i], json_integer(stat_get(s, top[i])));
	int64_t total = 0;
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		snprintf(name, sizeof(name), "fault_%s", faults[i]);
		int64_t v = stat_get(s, name);
		if (strcmp(faults[i], "delayed") != 0)
			total += v;
		json_object_set_new(f, faults[i], json_integer(v));
	}
	json_object_set_new(f, "total", json_integer(total));
	json_object_set_new(o, "faults", f);
	return o;
}

int64_t sim_now(void)
{
	return (int64_t)time(NULL);
}

void sim_now_iso(char out[32])
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(out, 24, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03dZ", (int)((ts.tv_nsec / 1000000) % 1000));
}

static void to_hex(const unsigned char *b, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[b[i] >> 4];
		out[2 * i + 1] = hx[b[i] & 15];
	}
	out[2 * n] = '\0';
}

int sim_random_hex(char *out, size_t nbytes)
{
	unsigned char b[64];
	if (nbytes > sizeof(b) || RAND_bytes(b, (int)nbytes) != 1)
		return -EIO;
	to_hex(b, nbytes, out);
	return 0;
}

void sim_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256(data, len, md);
	to_hex(md, sizeof(md), out);
}
