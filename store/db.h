/* One SQLite connection of the store (WAL, synchronous=FULL, busy timeout) and the schema
 * migrations.  A connection belongs to one thread; threads never share one. */
#ifndef MOTCUA_DB_H
#define MOTCUA_DB_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

struct db;

/* Opens (creating if needed) the database at path and brings its schema up to
 * the newest version (one per entry of the migrations array in db.c), each migration in its own transaction.  A database from a newer
 * motcua is refused with -EPROTONOSUPPORT; a file that is not a database gives -EBADMSG.
 * On success *ret_db owns the connection. */
int db_open(const char *path, int64_t busy_timeout_ms, struct db **ret_db);
void db_close(struct db *db);

/* Connections open now in this process (a clean stop closes them all, which checkpoints the
 * WAL into the database). */
int db_open_connections(void);

/* Calls fn(ctx) once the connection is closed (the journal's per-connection state). */
void db_set_close_hook(struct db *db, void (*fn)(void *ctx), void *ctx);

/* The schema version this motcua brings databases to. */
int db_schema_version(void);

/* The raw handle, for the store's own modules only. */
sqlite3 *db_handle(struct db *db);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK.  db_commit returns only when the commit is durable
 * (synchronous=FULL). */
int db_begin(struct db *db);
int db_commit(struct db *db);
void db_rollback(struct db *db);

/* Runs PRAGMA quick_check (or integrity_check when full is set); 0 when "ok", -EBADMSG
 * otherwise (the first problem is logged). */
int db_check(struct db *db, int full);

/* Translates an SQLite result code to -errno and logs the library's own message once with
 * what we were doing. */
int db_error(struct db *db, int rc, const char *what);

/* Prepares sql; on failure logs and returns -EIO. */
int db_prepare(struct db *db, const char *sql, sqlite3_stmt **ret_stmt);

/* meta table: small key/value facts about the store. */
int db_meta_get(struct db *db, const char *key, char *buf, size_t size);
int db_meta_set(struct db *db, const char *key, const char *value);

/* Copies column i of the current row as text into out ("" for NULL), truncated to size. */
void db_column_text(sqlite3_stmt *st, int i, char *out, size_t size);

/* Current UTC time as "YYYY-MM-DDTHH:MM:SSZ" (display only: ordering never uses it). */
void db_now(char out[32]);

#endif
