/* Opening the store: directories, storage key, database health at start-up. */
#include "store/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gateway/log.h"
#include "store/audit.h"
#include "store/blob.h"
#include "store/db.h"
#include "store/dossiers.h"
#include "store/fsutil.h"
#include "store/journal.h"
#include "store/keycheck.h"
#include "store/outbox.h"

struct store {
	char state_dir[PATH_MAX];
	char db_path[PATH_MAX];
	char blob_dir[PATH_MAX];
	char manifest_dir[PATH_MAX];
	char quarantine_dir[PATH_MAX];
	char keycheck_path[PATH_MAX];
	char journal_dir[PATH_MAX];
	int64_t busy_timeout_ms;
	struct journal *journal;
	struct blobs *blobs;
	struct store_startup startup;
	int lock_fd; /* flock held for the life of the store: one motcuad per state directory */
};

static int key_id(const unsigned char key[BLOB_KEY_LEN], char out[33])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned len;
	EVP_MD_CTX *h = EVP_MD_CTX_new();
	if (!h)
		return -ENOMEM;
	EVP_DigestInit_ex(h, EVP_sha256(), NULL);
	EVP_DigestUpdate(h, "motcua-storage-key-id", 21);
	EVP_DigestUpdate(h, key, BLOB_KEY_LEN);
	EVP_DigestFinal_ex(h, md, &len);
	EVP_MD_CTX_free(h);
	for (int i = 0; i < 16; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[32] = '\0';
	return 0;
}

/* Loads the 32-byte key; creates it only when may_create (the store holds no data). */
static int load_key(const char *path, int may_create, unsigned char key[BLOB_KEY_LEN], int *created)
{
	char *data = NULL;
	size_t len = 0;
	struct stat st;
	int r = fs_read_small(path, 4096, &data, &len);

	*created = 0;
	if (r == -ENOENT) {
		if (!may_create) {
			log_error(
			    "store: storage key %s is missing but the store holds encrypted documents; "
			    "restore the key file from your backup (motcuad will not make a new key over "
			    "existing data, which would make it unreadable)",
			    path);
			return -ENOKEY;
		}
		if (RAND_bytes(key, BLOB_KEY_LEN) != 1)
			return -EIO;
		r = fs_write_atomic(path, key, BLOB_KEY_LEN, 0600);
		if (r < 0) {
			log_error("store: cannot create storage key %s: %s", path, strerror(-r));
			return r;
		}
		log_info("store: created a new storage key in %s; back it up: without it the stored "
			 "documents cannot be read",
			 path);
		*created = 1;
		return 0;
	}
	if (r < 0) {
		log_error("store: cannot read storage key %s: %s", path, strerror(-r));
		return r;
	}
	if (len != BLOB_KEY_LEN) {
		log_error("store: storage key %s holds %zu bytes, expected %d", path, len, BLOB_KEY_LEN);
		r = -EINVAL;
	} else {
		memcpy(key, data, BLOB_KEY_LEN);
		if (stat(path, &st) == 0 && (st.st_mode & 0077))
			log_warn("store: storage key %s is readable by others (mode %03o); chmod 600 it",
				 path, (unsigned)(st.st_mode & 0777));
	}
	OPENSSL_cleanse(data, len);
	free(data);
	return r;
}

/* 1 when dir or one of its fan-out subdirectories holds a file (tmp/ excluded). */
static int has_files(const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char sub[PATH_MAX];
	int found = 0;
	if (!d)
		return 0;
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] == '.' || strcmp(e->d_name, "tmp") == 0)
			continue;
		if (e->d_type == DT_DIR)
			found = depth > 0 && fs_join(sub, sizeof(sub), dir, e->d_name) == 0 &&
			    has_files(sub, depth - 1);
		else
			found = 1;
	}
	closedir(d);
	return found;
}

static int make_fanout(const char *dir)
{
	char sub[PATH_MAX];
	for (int i = 0; i < 256; i++) {
		if (snprintf(sub, sizeof(sub), "%s/%02x", dir, i) >= (int)sizeof(sub))
			return -ENAMETOOLONG;
		if (mkdir(sub, 0700) < 0 && errno != EEXIST)
			return -errno;
	}
	return fs_fsync_dir(dir);
}

/* Moves the database and its WAL and SHM files into the quarantine directory. */
static int quarantine(struct store *s)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char stamp[32], from[PATH_MAX], to[PATH_MAX];
	struct tm tm;
	time_t now = time(NULL);

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (int i = 0; i < 3; i++) {
		if (snprintf(from, sizeof(from), "%s%s", s->db_path, suffix[i]) >= (int)sizeof(from) ||
		    snprintf(to, sizeof(to), "%s/motcua.db.%s.%d%s", s->quarantine_dir, stamp, (int)getpid(),
			     suffix[i]) >= (int)sizeof(to))
			return -ENAMETOOLONG;
		if (i == 0)
			snprintf(s->startup.quarantined, sizeof(s->startup.quarantined), "%s", to);
		if (rename(from, to) < 0 && errno != ENOENT) {
			log_error("store: cannot move %s aside to %s: %s", from, to, strerror(errno));
			return -errno;
		}
	}
	fs_fsync_dir(s->quarantine_dir);
	fs_fsync_dir(s->state_dir);
	log_error("store: the database was unreadable or failed its check; moved aside to %s "
		  "(kept, never deleted) and rebuilding from the blob manifests",
		  s->startup.quarantined);
	return 0;
}

/* Opens the database and runs the start-up check; 1 means it must be quarantined. */
static int open_checked(struct store *s, struct db **ret)
{
	struct db *db = NULL;
	int r = db_open(s->db_path, s->busy_timeout_ms, &db);
	if (r == -EBADMSG)
		return 1;
	if (r < 0)
		return r;
	if (db_check(db, 0) < 0) {
		/* Closing would checkpoint the WAL into the damaged file and delete the WAL: the
		 * quarantine must keep both as they were found. */
		sqlite3_db_config(db_handle(db), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
		db_close(db);
		return 1;
	}
	*ret = db;
	return 0;
}

/* For a store written before the key-check file existed: 0 when the key opens one of the
 * blobs on disk (or there are none), -EKEYREJECTED when each of up to 64 tried fails
 * authentication.  Damaged blobs only make it try further; it runs once, after which the
 * key-check file decides.  Checked before the database is opened: the key id kept in the
 * database cannot protect a rebuild, which would adopt a wrong key. */
static int key_opens_blobs(struct store *s)
{
	char sub[PATH_MAX];
	struct dirent *e, *f;
	DIR *d = opendir(s->blob_dir);
	int tried = 0, opened = 0;
	if (!d)
		return 0;
	while (!opened && tried < 64 && (e = readdir(d))) {
		if (strlen(e->d_name) != 2 || fs_join(sub, sizeof(sub), s->blob_dir, e->d_name) < 0)
			continue;
		DIR *b = opendir(sub);
		if (!b)
			continue;
		while (!opened && tried < 64 && (f = readdir(b)))
			if (blob_hash_valid(f->d_name)) {
				int r = blob_verify(s->blobs, f->d_name, NULL);
				tried += r == 0 || r == -EBADMSG;
				opened = r == 0;
			}
		closedir(b);
	}
	closedir(d);
	return tried > 0 && !opened ? -EKEYREJECTED : 0;
}

/* The key check proper: the key-check file beside the store when there is one (no document
 * file is read, so damaged documents never stop the office); for an older store without it,
 * the blobs themselves.  *ret_write is set when the file must be (re)written once the
 * database has confirmed the key too. */
static int check_key(struct store *s, const unsigned char key[BLOB_KEY_LEN], const char *key_file,
		     int *ret_write)
{
	int r = keycheck_verify(s->keycheck_path, key);
	*ret_write = 0;
	if (r == 0)
		return 0;
	if (r == -EKEYREJECTED) {
		log_error("store: storage key %s is not the key of this store (it does not open the "
			  "key check %s); put the right key file back",
			  key_file, s->keycheck_path);
		return r;
	}
	if (r != -ENOENT)
		log_warn("store: the key check %s is damaged (%s); checking the key against the stored "
			 "documents instead and writing a new one",
			 s->keycheck_path, strerror(-r));
	r = key_opens_blobs(s);
	if (r < 0) {
		log_error("store: storage key %s does not decrypt the documents already stored; it is "
			  "not the key of this store; put the right key file back",
			  key_file);
		return r;
	}
	*ret_write = 1;
	return 0;
}

static int check_key_id(struct db *db, const unsigned char key[BLOB_KEY_LEN], const char *key_file)
{
	char want[33], have[64];
	int r = key_id(key, want);
	if (r < 0)
		return r;
	r = db_meta_get(db, "key_id", have, sizeof(have));
	if (r == -ENOENT)
		return db_meta_set(db, "key_id", want);
	if (r < 0)
		return r;
	if (strcmp(have, want) != 0) {
		log_error("store: storage key %s (id %s) is not the key of this store (id %s); put the "
			  "right key file back",
			  key_file, want, have);
		return -EKEYREJECTED;
	}
	return 0;
}

/* One motcuad per state directory, so that start-up may clear what a killed predecessor
 * left half-written without touching a live daemon's writes. */
static int lock_state(struct store *s)
{
	char path[PATH_MAX];
	if (fs_join(path, sizeof(path), s->state_dir, "motcua.lock") < 0)
		return -ENAMETOOLONG;
	s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0) {
		int e = -errno;
		log_error("store: cannot open %s: %s", path, strerror(-e));
		return e;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno == EWOULDBLOCK ? -EBUSY : -errno;
		log_error("store: %s is in use by another motcuad (it holds %s)", s->state_dir, path);
		return e;
	}
	return 0;
}

/* Removes the temp files of blob writes that a crash cut short; never a stored blob. */
static void sweep_blob_tmp(const struct store *s)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	struct dirent *e;
	DIR *d;
	int n = 0;
	if (fs_join(tmp, sizeof(tmp), s->blob_dir, "tmp") < 0 || !(d = opendir(tmp)))
		return;
	while ((e = readdir(d)))
		if (strncmp(e->d_name, "put.", 4) == 0 && fs_join(path, sizeof(path), tmp, e->d_name) == 0 &&
		    unlink(path) == 0)
			n++;
	closedir(d);
	if (n > 0)
		log_info("store: removed %d unfinished document writes left by an earlier stop", n);
}

/* The kinds of record a rebuild reports, each a table. */
static const char *const kinds[][2] = {
	{ "documents", "documents" },
	{ "dossiers", "dossiers" },
	{ "dossier_items", "dossier_items" },
	{ "copies", "copies" },
	{ "devices", "devices" },
	{ "tickets", "tickets" },
	{ "users", "users" },
	{ "recognitions", "recognitions" },
	{ "corrections", "recog_corrections" },
	{ "feedback", "feedback" },
	{ "outbox", "outbox" },
	{ "audit", "audit" },
};

/* After a rebuild from the journal: documents whose rows the journal lacked come back from
 * their manifests, then what came back is counted per kind, audited and kept for status. */
static int finish_rebuild(struct store *s, struct db *db)
{
	char detail[PATH_MAX + 1024], now[32];
	size_t off = 0;
	int64_t from_manifests = 0;
	int r = store_rebuild(db, s->blobs, s->manifest_dir, &from_manifests, &s->startup.skipped);
	if (r < 0)
		return r;
	off += (size_t)snprintf(s->startup.restored_kinds, sizeof(s->startup.restored_kinds), "{");
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		char sql[128];
		sqlite3_stmt *st;
		int64_t n = 0;
		snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s", kinds[i][1]);
		if (db_prepare(db, sql, &st) == 0) {
			if (sqlite3_step(st) == SQLITE_ROW)
				n = sqlite3_column_int64(st, 0);
			sqlite3_finalize(st);
		}
		if (i == 0)
			s->startup.restored = n;
		if (off < sizeof(s->startup.restored_kinds))
			off += (size_t)snprintf(s->startup.restored_kinds + off,
						sizeof(s->startup.restored_kinds) - off, "%s\"%s\":%lld",
						i ? "," : "", kinds[i][0], (long long)n);
	}
	if (off < sizeof(s->startup.restored_kinds))
		snprintf(s->startup.restored_kinds + off, sizeof(s->startup.restored_kinds) - off, "}");
	db_now(now);
	snprintf(detail, sizeof(detail),
		 "{\"at\":\"%s\",\"quarantined\":\"%s\",\"restored\":%lld,\"from_manifests\":%lld,"
		 "\"skipped\":%lld,\"journal_changes\":%lld,\"journal_failed\":%lld,\"journal_damaged\":%s,"
		 "\"kinds\":%s}",
		 now, s->startup.quarantined, (long long)s->startup.restored, (long long)from_manifests,
		 (long long)s->startup.skipped, (long long)s->startup.journal_applied,
		 (long long)s->startup.journal_failed, s->startup.journal_damaged ? "true" : "false",
		 s->startup.restored_kinds);
	r = audit_record(db, "motcuad", "store.rebuilt", "motcua.db", detail);
	if (r == 0)
		r = db_meta_set(db, "last_rebuild", detail);
	if (r < 0)
		return r;
	log_warn("store: rebuilt the database from the record journal (%lld row changes replayed, %lld "
		 "failed) and the manifests (%lld documents the journal lacked, %lld skipped); it holds %s",
		 (long long)s->startup.journal_applied, (long long)s->startup.journal_failed,
		 (long long)from_manifests, (long long)s->startup.skipped, s->startup.restored_kinds);
	return 0;
}

int store_open(const struct store_options *opt, struct store **ret)
{
	unsigned char key[BLOB_KEY_LEN];
	struct store *s = calloc(1, sizeof(*s));
	struct db *db = NULL;
	int r, has_data, write_keycheck = 0;

	if (!s)
		return -ENOMEM;
	s->lock_fd = -1;
	s->busy_timeout_ms = opt->busy_timeout_ms;
	if (fs_join(s->state_dir, sizeof(s->state_dir), opt->state_dir, "") < 0 ||
	    fs_join(s->db_path, sizeof(s->db_path), opt->state_dir, "motcua.db") < 0 ||
	    fs_join(s->blob_dir, sizeof(s->blob_dir), opt->state_dir, "blobs") < 0 ||
	    fs_join(s->manifest_dir, sizeof(s->manifest_dir), opt->state_dir, "manifests") < 0 ||
	    fs_join(s->quarantine_dir, sizeof(s->quarantine_dir), opt->state_dir, "quarantine") < 0 ||
	    fs_join(s->keycheck_path, sizeof(s->keycheck_path), opt->state_dir, "keycheck") < 0 ||
	    fs_join(s->journal_dir, sizeof(s->journal_dir), opt->state_dir, "journal") < 0) {
		r = -ENAMETOOLONG;
		goto fail;
	}
	s->state_dir[strlen(s->state_dir) - 1] = '\0';
	const char *dirs[] = { s->state_dir, s->blob_dir, s->manifest_dir, s->quarantine_dir };
	for (int i = 0; i < 4; i++) {
		r = fs_mkdir_p(dirs[i], 0750);
		if (r < 0) {
			log_error("store: cannot create %s: %s", dirs[i], strerror(-r));
			goto fail;
		}
	}
	/* The 256 fan-out directories of blobs and manifests are made here, once, and their
	 * parents fsynced, so that an intake never depends on a directory entry not yet durable. */
	r = make_fanout(s->blob_dir);
	if (r == 0)
		r = make_fanout(s->manifest_dir);
	if (r < 0) {
		log_error("store: cannot prepare %s: %s", s->state_dir, strerror(-r));
		goto fail;
	}
	r = lock_state(s);
	if (r < 0)
		goto fail;
	sweep_blob_tmp(s);
	has_data = has_files(s->blob_dir, 1) || has_files(s->manifest_dir, 1) ||
	    access(s->db_path, F_OK) == 0 || access(s->keycheck_path, F_OK) == 0;
	r = load_key(opt->key_file, !has_data, key, &s->startup.key_created);
	if (r < 0)
		goto fail;
	r = blobs_open(s->blob_dir, key, &s->blobs);
	if (r < 0)
		goto fail;
	r = check_key(s, key, opt->key_file, &write_keycheck);
	if (r < 0)
		goto fail;

	struct journal_info ji;
	r = journal_open(s->journal_dir, &s->journal, &ji);
	if (r < 0) {
		log_error("store: cannot open the record journal in %s: %s", s->journal_dir, strerror(-r));
		goto fail;
	}
	s->startup.journal_damaged = ji.damaged;
	/* A database deleted from under its manifests or its journal is rebuilt too, not
	 * started empty. */
	int db_lost = access(s->db_path, F_OK) != 0 && (has_files(s->manifest_dir, 1) || ji.entries > 1);
	r = open_checked(s, &db);
	if (r == 1) {
		r = quarantine(s);
		if (r == 0)
			r = db_open(s->db_path, s->busy_timeout_ms, &db);
		if (r < 0)
			goto fail;
		s->startup.rebuilt = 1;
	} else if (r == 0 && db_lost) {
		snprintf(s->startup.quarantined, sizeof(s->startup.quarantined),
			 "(nothing: the database file was missing)");
		log_error("store: the database %s is missing but documents are stored; rebuilding it "
			  "from the record journal and the blob manifests",
			  s->db_path);
		s->startup.rebuilt = 1;
	}
	if (r < 0) {
		log_error("store: cannot open %s: %s", s->db_path, strerror(-r));
		goto fail;
	}
	/* Before anything is written: the journal is brought in line with the database (or the
	 * database rebuilt from it), so that every later change lands after its last entry. */
	if (s->startup.rebuilt) {
		r = journal_replay(s->journal, db, &s->startup.journal_applied, &s->startup.journal_failed);
		if (r < 0) {
			log_error("store: cannot replay the record journal: %s", strerror(-r));
			goto fail;
		}
		if (ji.segment == 0 || ji.damaged)
			r = journal_snapshot(s->journal, db);
	} else {
		r = journal_settle(s->journal, db, STORE_JOURNAL_MAX_BYTES);
	}
	if (r < 0) {
		log_error("store: the record journal in %s cannot be written: %s", s->journal_dir,
			  strerror(-r));
		goto fail;
	}
	r = journal_attach(s->journal, db);
	if (r < 0)
		goto fail;
	r = check_key_id(db, key, opt->key_file);
	if (r < 0)
		goto fail;
	if (write_keycheck) {
		r = keycheck_write(s->keycheck_path, key);
		if (r == 0)
			r = fs_fsync_dir(s->state_dir);
		if (r < 0) {
			log_error("store: cannot write the key check %s: %s", s->keycheck_path, strerror(-r));
			goto fail;
		}
	}
	if (s->startup.rebuilt) {
		r = finish_rebuild(s, db);
		if (r < 0)
			goto fail;
	}
	r = dossiers_key_ids(db, s->blobs);
	if (r < 0) {
		log_error("store: cannot convert the stored applicant numbers: %s", strerror(-r));
		goto fail;
	}
	r = outbox_requeue_sending(db);
	if (r < 0)
		goto fail;
	s->startup.requeued = r;
	if (r > 0)
		log_info("store: %d outbox items were sending when motcuad stopped; queued again", r);
	db_close(db);
	OPENSSL_cleanse(key, sizeof(key));
	*ret = s;
	return 0;
fail:
	OPENSSL_cleanse(key, sizeof(key));
	db_close(db);
	store_close(s);
	return r;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	blobs_close(s->blobs);
	journal_close(s->journal);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s);
}

void store_checkpoint(struct store *s)
{
	struct db *db = NULL;
	if (!s || db_open(s->db_path, s->busy_timeout_ms, &db) < 0)
		return;
	if (sqlite3_exec(db_handle(db), "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) != SQLITE_OK)
		log_warn("store: could not checkpoint the WAL at stop: %s; the next start replays it",
			 sqlite3_errmsg(db_handle(db)));
	db_close(db);
}

int store_connect(struct store *s, struct db **ret)
{
	struct db *db = NULL;
	int r = db_open(s->db_path, s->busy_timeout_ms, &db);
	if (r == 0 && s->journal)
		r = journal_attach(s->journal, db);
	if (r < 0) {
		db_close(db);
		return r;
	}
	*ret = db;
	return 0;
}

struct blobs *store_blobs(struct store *s)
{
	return s->blobs;
}

const char *store_manifest_dir(const struct store *s)
{
	return s->manifest_dir;
}

const char *store_state_dir(const struct store *s)
{
	return s->state_dir;
}

const char *store_db_path(const struct store *s)
{
	return s->db_path;
}

const struct store_startup *store_startup_info(const struct store *s)
{
	return &s->startup;
}

static int64_t tree_bytes(const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;
	char path[PATH_MAX];
	int64_t total = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || fs_join(path, sizeof(path), dir, e->d_name) < 0 ||
		    lstat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth > 0)
			total += tree_bytes(path, depth - 1);
		else if (S_ISREG(st.st_mode))
			total += (int64_t)st.st_blocks * 512;
	}
	closedir(d);
	return total;
}

int store_disk_usage(const struct store *s, int64_t *ret_db_bytes, int64_t *ret_blob_bytes)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char path[PATH_MAX];
	struct stat st;
	int64_t db = 0;
	for (int i = 0; i < 3; i++)
		if (snprintf(path, sizeof(path), "%s%s", s->db_path, suffix[i]) < (int)sizeof(path) &&
		    stat(path, &st) == 0)
			db += (int64_t)st.st_size;
	*ret_db_bytes = db;
	*ret_blob_bytes = tree_bytes(s->blob_dir, 1);
	return 0;
}
