/* motcuactl backup / backup verify / restore: a consistent copy of the store that an IT
 * person can keep on a USB disk.  Runs beside motcuad (never stops it), reading the state
 * directory itself: the database through SQLite's online backup, sealed with the storage key
 * as one more blob; blob files (already encrypted) and manifests copied only when new;
 * backup.json lists every file with its SHA-256 so that the backup verifies without the box. */
#include "tools/ctl_backup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gateway/config.h"
#include "gateway/ctlproto.h"
#include "store/blob.h"
#include "store/db.h"
#include "store/fsutil.h"
#include "store/keycheck.h"

#define FORMAT "motcua-backup-1"
#define INDEX "backup.json"
#define INDEX_MAX (512 << 20)

struct bk {
	const struct config *cfg;
	unsigned char key[BLOB_KEY_LEN];
	int have_key;
	json_t *files; /* relative path -> sha256 of the file's bytes */
	json_t *old; /* the previous backup's files, to reuse hashes of unchanged files */
	int64_t copied, reused, bytes;
	uid_t uid;
	gid_t gid;
	int chown_to;
};

static void now_iso(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int load_key(struct bk *b)
{
	char *data = NULL;
	size_t len = 0;
	int r = fs_read_small(b->cfg->key_file, 4096, &data, &len);
	if (r < 0) {
		fprintf(stderr, "motcuactl: cannot read the storage key %s: %s\n", b->cfg->key_file,
			strerror(-r));
		return r;
	}
	if (len != BLOB_KEY_LEN) {
		fprintf(stderr, "motcuactl: the storage key %s holds %zu bytes, expected %d\n",
			b->cfg->key_file, len, BLOB_KEY_LEN);
		r = -EINVAL;
	} else {
		memcpy(b->key, data, BLOB_KEY_LEN);
		b->have_key = 1;
	}
	OPENSSL_cleanse(data, len);
	free(data);
	return r;
}

static int sha_file(const char *path, char out[BLOB_HASH_HEX], int64_t *ret_size)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char buf[65536], md[32];
	unsigned n;
	int64_t total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	EVP_MD_CTX *h = EVP_MD_CTX_new();
	EVP_DigestInit_ex(h, EVP_sha256(), NULL);
	ssize_t k;
	while ((k = read(fd, buf, sizeof(buf))) > 0) {
		EVP_DigestUpdate(h, buf, (size_t)k);
		total += k;
	}
	int r = k < 0 ? -errno : 0;
	close(fd);
	EVP_DigestFinal_ex(h, md, &n);
	EVP_MD_CTX_free(h);
	for (int i = 0; i < 32; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[64] = '\0';
	if (ret_size)
		*ret_size = total;
	return r;
}

/* Copies from to `to` (tmp, fsync, rename), hashing the bytes; mode 0600. */
static int copy_file(struct bk *b, const char *from, const char *to, char sha[BLOB_HASH_HEX])
{
	char tmp[PATH_MAX];
	unsigned char buf[65536];
	int in = -1, out = -1, r = 0;
	ssize_t k;
	if (snprintf(tmp, sizeof(tmp), "%s.part", to) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0) {
		r = -errno;
		goto out;
	}
	while ((k = read(in, buf, sizeof(buf))) > 0) {
		r = fs_write_all(out, buf, (size_t)k);
		if (r < 0)
			goto out;
		b->bytes += k;
	}
	if (k < 0 || fsync(out) < 0)
		r = -errno;
	if (r == 0 && b->chown_to && fchown(out, b->uid, b->gid) < 0)
		r = -errno;
	if (r == 0 && rename(tmp, to) < 0)
		r = -errno;
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (r < 0)
		unlink(tmp);
	else
		r = sha_file(to, sha, NULL);
	return r;
}

static int make_fanout(const char *dir)
{
	char sub[PATH_MAX];
	int r = fs_mkdir_p(dir, 0700);
	for (int i = 0; r == 0 && i < 256; i++) {
		snprintf(sub, sizeof(sub), "%s/%02x", dir, i);
		if (mkdir(sub, 0700) < 0 && errno != EEXIST)
			r = -errno;
	}
	return r;
}

/* Copies the files of a two-level fan-out tree from/xx/name to to/xx/name when they are not
 * there with the same size; records every file in b->files under prefix/xx/name.  skip
 * (may be NULL) names a file to leave out. */
static int copy_tree(struct bk *b, const char *from, const char *to, const char *prefix, const char *skip)
{
	char sub[PATH_MAX], src[PATH_MAX], dst[PATH_MAX], rel[PATH_MAX], sha[BLOB_HASH_HEX];
	struct dirent *e, *f;
	struct stat ss, ds;
	DIR *d = opendir(from);
	int r = 0;
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (r == 0 && (e = readdir(d))) {
		if (strlen(e->d_name) != 2 || !strchr("0123456789abcdef", e->d_name[0]) ||
		    !strchr("0123456789abcdef", e->d_name[1]) ||
		    snprintf(sub, sizeof(sub), "%s/%s", from, e->d_name) >= (int)sizeof(sub))
			continue;
		DIR *s = opendir(sub);
		if (!s)
			continue;
		snprintf(dst, sizeof(dst), "%s/%s", to, e->d_name);
		if (mkdir(dst, 0700) < 0 && errno != EEXIST)
			r = -errno;
		while (r == 0 && (f = readdir(s))) {
			if (f->d_name[0] == '.' || strstr(f->d_name, ".part") ||
			    (skip && strcmp(f->d_name, skip) == 0))
				continue;
			if (snprintf(src, sizeof(src), "%s/%s", sub, f->d_name) >= (int)sizeof(src) ||
			    snprintf(dst, sizeof(dst), "%s/%s/%s", to, e->d_name, f->d_name) >=
				(int)sizeof(dst) ||
			    snprintf(rel, sizeof(rel), "%s/%s/%s", prefix, e->d_name, f->d_name) >=
				(int)sizeof(rel))
				continue;
			if (stat(src, &ss) < 0 || !S_ISREG(ss.st_mode))
				continue;
			const char *known = json_string_value(json_object_get(b->old, rel));
			/* Blobs never change under their name: an equal size means the same file.
			 * Manifests are rewritten in place by a rebuild: always copied. */
			if (known && strcmp(prefix, "blobs") == 0 && stat(dst, &ds) == 0 &&
			    ds.st_size == ss.st_size) {
				snprintf(sha, sizeof(sha), "%s", known);
				b->reused++;
			} else {
				r = copy_file(b, src, dst, sha);
				if (r < 0) {
					fprintf(stderr, "motcuactl: cannot copy %s to %s: %s\n", src, dst,
						strerror(-r));
					break;
				}
				b->copied++;
			}
			json_object_set_new(b->files, rel, json_string(sha));
		}
		closedir(s);
	}
	closedir(d);
	return r;
}

/* SQLite's online backup of the live database into path (a consistent snapshot, while
 * motcuad keeps writing). */
static int snapshot_db(const char *db_path, const char *path, int64_t *ret_docs)
{
	sqlite3 *src = NULL, *dst = NULL;
	sqlite3_backup *bk;
	int rc = sqlite3_open_v2(db_path, &src, SQLITE_OPEN_READWRITE, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(src, 30000);
		bk = sqlite3_backup_init(dst, "main", src, "main");
		if (!bk) {
			rc = sqlite3_errcode(dst);
		} else {
			do {
				rc = sqlite3_backup_step(bk, 256);
				if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
					sqlite3_sleep(50);
			} while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
			rc = sqlite3_backup_finish(bk);
		}
	}
	if (rc == SQLITE_OK) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(dst, "SELECT COUNT(*) FROM documents", -1, &st, NULL) == SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW)
				*ret_docs = sqlite3_column_int64(st, 0);
			sqlite3_finalize(st);
		}
		/* one file, no WAL beside it */
		sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
	}
	if (rc != SQLITE_OK)
		fprintf(stderr, "motcuactl: cannot copy the database %s: %s\n", db_path,
			sqlite3_errmsg(dst ? dst : src));
	sqlite3_close(src);
	sqlite3_close(dst);
	return rc == SQLITE_OK ? 0 : -EIO;
}

static ssize_t fd_read(void *ctx, void *buf, size_t len)
{
	ssize_t n = read(*(int *)ctx, buf, len);
	return n < 0 ? -errno : n;
}

static int fd_write(void *ctx, const void *buf, size_t len)
{
	return fs_write_all(*(int *)ctx, buf, len);
}

/* Tells motcuad (when it runs) that a backup finished, for the dashboard and the audit. */
static void report(const char *sock, json_t *summary)
{
	struct ctl_conn *c = NULL;
	json_t *rep = NULL;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (fd < 0 || !sock || strlen(sock) >= sizeof(sa.sun_path))
		goto out;
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto out;
	c = malloc(sizeof(*c));
	if (!c)
		goto out;
	ctl_conn_init(c, fd);
	json_t *req = json_pack("{s:s, s:O}", "cmd", "store.backup_done", "backup", summary);
	if (req && ctl_send(c, req) == 0 && ctl_recv(c, CTL_REPLY_MAX, &rep) == 0 &&
	    !json_is_true(json_object_get(rep, "ok")))
		fprintf(stderr, "motcuactl: motcuad did not record the backup: %s\n",
			json_string_value(json_object_get(rep, "message")));
	json_decref(req);
out:
	json_decref(rep);
	free(c);
	if (fd >= 0)
		close(fd);
}

static int do_backup(struct bk *b, const char *sock, const char *dir, int json_out)
{
	char path[PATH_MAX], tmp[PATH_MAX], dbh[BLOB_HASH_HEX], sha[BLOB_HASH_HEX], at[32];
	struct blobs *out = NULL;
	json_t *idx = NULL;
	int64_t docs = 0, size = 0;
	int r, fd = -1;

	r = load_key(b);
	if (r < 0)
		return 1;
	snprintf(path, sizeof(path), "%s/keycheck", b->cfg->state_dir);
	r = keycheck_verify(path, b->key);
	if (r < 0) {
		fprintf(stderr, "motcuactl: the storage key %s %s; nothing was written\n", b->cfg->key_file,
			r == -EKEYREJECTED ? "is not the key of this store"
					   : "cannot be checked (start motcuad once)");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/blobs", dir);
	r = make_fanout(path);
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/manifests", dir);
		r = make_fanout(path);
	}
	if (r < 0) {
		fprintf(stderr, "motcuactl: cannot write to %s: %s\n", dir, strerror(-r));
		return 1;
	}
	snprintf(path, sizeof(path), "%s/" INDEX, dir);
	json_t *prev = json_load_file(path, 0, NULL);
	b->old = json_incref(json_object_get(prev, "files"));
	json_decref(prev);
	b->files = json_object();

	/* 1. the database, a consistent snapshot, sealed with the storage key as a blob */
	snprintf(tmp, sizeof(tmp), "%s/backup-db.tmp", b->cfg->state_dir);
	unlink(tmp);
	snprintf(path, sizeof(path), "%s/motcua.db", b->cfg->state_dir);
	r = snapshot_db(path, tmp, &docs);
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/blobs", dir);
		r = blobs_open(path, b->key, &out);
	}
	if (r == 0) {
		fd = open(tmp, O_RDONLY | O_CLOEXEC);
		r = fd < 0 ? -errno : blob_put(out, fd_read, &fd, INT64_MAX, dbh, &size);
	}
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	blobs_close(out);
	if (r < 0) {
		fprintf(stderr, "motcuactl: cannot write the database snapshot into %s: %s\n", dir,
			strerror(-r));
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/blobs/%.2s/%s", dir, dbh, dbh);
	sha_file(path, sha, NULL);
	snprintf(tmp, sizeof(tmp), "blobs/%.2s/%s", dbh, dbh);
	json_object_set_new(b->files, tmp, json_string(sha));

	/* 2. blobs and manifests, new ones only; 3. the key check */
	char from[PATH_MAX], to[PATH_MAX];
	snprintf(from, sizeof(from), "%s/blobs", b->cfg->state_dir);
	snprintf(to, sizeof(to), "%s/blobs", dir);
	r = copy_tree(b, from, to, "blobs", NULL);
	if (r == 0) {
		snprintf(from, sizeof(from), "%s/manifests", b->cfg->state_dir);
		snprintf(to, sizeof(to), "%s/manifests", dir);
		r = copy_tree(b, from, to, "manifests", NULL);
	}
	if (r == 0) {
		snprintf(from, sizeof(from), "%s/keycheck", b->cfg->state_dir);
		snprintf(to, sizeof(to), "%s/keycheck", dir);
		r = copy_file(b, from, to, sha);
		if (r == 0)
			json_object_set_new(b->files, "keycheck", json_string(sha));
	}
	if (r < 0)
		goto fail;

	/* 4. the index, last: a backup without it is unfinished */
	now_iso(at);
	idx = json_pack("{s:s, s:s, s:s, s:I, s:I, s:O}", "format", FORMAT, "at", at, "database", dbh,
			"documents", (json_int_t)docs, "schema", (json_int_t)db_schema_version(), "files",
			b->files);
	char *text = idx ? json_dumps(idx, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
	snprintf(path, sizeof(path), "%s/" INDEX, dir);
	r = text ? fs_write_atomic(path, text, strlen(text), 0600) : -ENOMEM;
	free(text);
	if (r == 0)
		r = fs_fsync_dir(dir);
	if (r < 0) {
		fprintf(stderr, "motcuactl: cannot write %s: %s\n", path, strerror(-r));
		goto fail;
	}
	json_t *sum = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "at", at, "dir", dir, "database",
				dbh, "documents", (json_int_t)docs, "files",
				(json_int_t)json_object_size(b->files), "copied", (json_int_t)b->copied,
				"reused", (json_int_t)b->reused, "bytes_copied", (json_int_t)b->bytes);
	report(sock, sum);
	if (json_out) {
		json_dumpf(sum, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		fputc('\n', stdout);
	} else {
		printf("backup in %s at %s: the database (%lld documents), %lld files copied, %lld unchanged "
		       "kept; check it with: motcuactl backup verify %s\n",
		       dir, at, (long long)docs, (long long)b->copied, (long long)b->reused, dir);
	}
	json_decref(sum);
	json_decref(idx);
	return 0;
fail:
	json_decref(idx);
	fprintf(stderr,
		"motcuactl: the backup in %s is NOT complete (its previous %s, if any, is unchanged)\n", dir,
		INDEX);
	return 1;
}

/* Checks every file of the backup in dir against backup.json; with the key, also opens every
 * blob.  Prints problems; returns the number of problems (0 = sound) or -errno. */
static int check_backup(struct bk *b, const char *dir, json_t **ret_idx, int quiet)
{
	char path[PATH_MAX], sha[BLOB_HASH_HEX];
	json_error_t err;
	const char *rel;
	json_t *v;
	int bad = 0;
	snprintf(path, sizeof(path), "%s/" INDEX, dir);
	json_t *idx = json_load_file(path, 0, &err);
	if (!idx || strcmp(json_string_value(json_object_get(idx, "format")) ?: "", FORMAT) != 0) {
		fprintf(stderr, "motcuactl: %s is not a motcua backup (no readable %s)\n", dir, INDEX);
		json_decref(idx);
		return -EINVAL;
	}
	json_t *files = json_object_get(idx, "files");
	struct blobs *bl = NULL;
	snprintf(path, sizeof(path), "%s/keycheck", dir);
	if (b->have_key && keycheck_verify(path, b->key) == 0) {
		snprintf(path, sizeof(path), "%s/blobs", dir);
		blobs_open(path, b->key, &bl);
	}
	json_object_foreach (files, rel, v) {
		snprintf(path, sizeof(path), "%s/%s", dir, rel);
		int r = sha_file(path, sha, NULL);
		if (r < 0 || strcmp(sha, json_string_value(v) ?: "") != 0) {
			if (!quiet)
				printf("%-8s %s\n", r == -ENOENT ? "missing" : "damaged", rel);
			bad++;
			continue;
		}
		if (bl && strncmp(rel, "blobs/", 6) == 0 && blob_verify(bl, rel + 9, NULL) < 0) {
			if (!quiet)
				printf("%-8s %s (does not decrypt with the key)\n", "damaged", rel);
			bad++;
		}
	}
	blobs_close(bl);
	*ret_idx = idx;
	return bad;
}

static int do_verify(struct bk *b, const char *dir, int json_out)
{
	json_t *idx = NULL;
	load_key(b); /* optional: without the key only the hashes are checked */
	int bad = check_backup(b, dir, &idx, 0);
	if (bad < 0)
		return 1;
	size_t n = json_object_size(json_object_get(idx, "files"));
	if (json_out)
		printf("{\"files\": %zu, \"bad\": %d, \"at\": \"%s\", \"key_checked\": %s}\n", n, bad,
		       json_string_value(json_object_get(idx, "at")), b->have_key ? "true" : "false");
	else
		printf("backup of %s: %zu files, %d damaged or missing%s\n",
		       json_string_value(json_object_get(idx, "at")), n, bad,
		       b->have_key ? "; every blob opens with the storage key"
				   : " (hashes only: no storage key)");
	json_decref(idx);
	return bad ? 1 : 0;
}

static int dir_has_data(const char *state)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/motcua.db", state);
	if (access(p, F_OK) == 0)
		return 1;
	snprintf(p, sizeof(p), "%s/keycheck", state);
	return access(p, F_OK) == 0;
}

static int do_restore(struct bk *b, const char *dir, int json_out)
{
	char path[PATH_MAX], from[PATH_MAX], to[PATH_MAX], sha[BLOB_HASH_HEX];
	const char *state = b->cfg->state_dir;
	json_t *idx = NULL;
	struct blobs *bl = NULL;
	struct stat st;
	int r, fd = -1, lock = -1;

	if (load_key(b) < 0)
		return 1;
	snprintf(path, sizeof(path), "%s/keycheck", dir);
	r = keycheck_verify(path, b->key);
	if (r < 0) {
		fprintf(stderr,
			"motcuactl: the storage key %s %s; put the key of the backed-up box in place first\n",
			b->cfg->key_file,
			r == -EKEYREJECTED ? "is not the key of this backup" : "cannot be checked");
		return 1;
	}
	r = fs_mkdir_p(state, 0750);
	if (r < 0 || stat(state, &st) < 0) {
		fprintf(stderr, "motcuactl: cannot use %s\n", state);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/motcua.lock", state);
	lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0) {
		fprintf(stderr,
			"motcuactl: motcuad is running on %s; stop it first (systemctl stop motcuad)\n",
			state);
		goto fail;
	}
	if (dir_has_data(state)) {
		fprintf(stderr,
			"motcuactl: %s already holds a store; restore only into an empty state directory "
			"(move the old one aside first)\n",
			state);
		goto fail;
	}
	int bad = check_backup(b, dir, &idx, 0);
	if (bad != 0) {
		fprintf(stderr, "motcuactl: the backup in %s does not verify%s; nothing was restored\n", dir,
			bad > 0 ? " (see above)" : "");
		goto fail;
	}
	b->uid = st.st_uid;
	b->gid = st.st_gid;
	b->chown_to = 1;
	b->files = json_object();
	const char *dbh = json_string_value(json_object_get(idx, "database"));
	snprintf(from, sizeof(from), "%s/blobs", dir);
	snprintf(to, sizeof(to), "%s/blobs", state);
	r = make_fanout(to);
	if (r == 0)
		r = copy_tree(b, from, to, "blobs", dbh);
	snprintf(from, sizeof(from), "%s/manifests", dir);
	snprintf(to, sizeof(to), "%s/manifests", state);
	if (r == 0)
		r = make_fanout(to);
	if (r == 0)
		r = copy_tree(b, from, to, "manifests", NULL);
	/* the database, opened from its sealed blob */
	snprintf(from, sizeof(from), "%s/blobs", dir);
	snprintf(path, sizeof(path), "%s/motcua.db", state);
	if (r == 0)
		r = blobs_open(from, b->key, &bl);
	if (r == 0) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		r = fd < 0 ? -errno : blob_get(bl, dbh, fd_write, &fd);
		if (r == 0 && (fsync(fd) < 0 || fchown(fd, st.st_uid, st.st_gid) < 0))
			r = -errno;
	}
	if (fd >= 0)
		close(fd);
	blobs_close(bl);
	/* the key check last: its presence says "this directory holds a store" */
	snprintf(from, sizeof(from), "%s/keycheck", dir);
	snprintf(to, sizeof(to), "%s/keycheck", state);
	if (r == 0)
		r = copy_file(b, from, to, sha);
	if (r == 0)
		r = fs_fsync_dir(state);
	if (r < 0) {
		fprintf(stderr, "motcuactl: the restore failed: %s; empty %s before trying again\n",
			strerror(-r), state);
		goto fail;
	}
	if (json_out)
		printf("{\"restored_from\": \"%s\", \"at\": \"%s\", \"documents\": %lld, \"files\": %lld}\n",
		       dir, json_string_value(json_object_get(idx, "at")),
		       (long long)json_integer_value(json_object_get(idx, "documents")),
		       (long long)b->copied);
	else
		printf("restored the backup of %s into %s: %lld documents, %lld files; start motcuad "
		       "(systemctl start motcuad)\n",
		       json_string_value(json_object_get(idx, "at")), state,
		       (long long)json_integer_value(json_object_get(idx, "documents")),
		       (long long)b->copied);
	json_decref(idx);
	close(lock);
	return 0;
fail:
	json_decref(idx);
	if (lock >= 0)
		close(lock);
	return 1;
}

void ctl_backup_usage(FILE *f)
{
	fprintf(f,
		"  backup [DIR]                   a consistent copy of the store in DIR (default [backup]\n"
		"                                 dir), while motcuad keeps working; encrypted; only new\n"
		"                                 files are copied\n"
		"  backup verify DIR              check every file of a backup against its list of hashes\n"
		"                                 (and, with the storage key, that every file opens)\n"
		"  restore DIR                    put a backup into an empty state directory (motcuad\n"
		"                                 stopped, the backed-up box's storage key in place)\n");
}

int ctl_backup_main(const struct config *cfg, const char *sock, int json_out, int ac, char **av)
{
	struct bk b;
	int r = 2;
	memset(&b, 0, sizeof(b));
	b.cfg = cfg;
	if (strcmp(av[0], "backup") == 0 && ac == 3 && strcmp(av[1], "verify") == 0) {
		r = do_verify(&b, av[2], json_out);
	} else if (strcmp(av[0], "backup") == 0 && ac <= 2) {
		const char *dir = ac == 2 ? av[1] : cfg->backup_dir;
		if (!dir[0]) {
			printf("no backup directory configured ([backup] dir is empty): nothing to do\n");
			r = 0;
		} else {
			r = do_backup(&b, sock, dir, json_out);
		}
	} else if (strcmp(av[0], "restore") == 0 && ac == 2) {
		r = do_restore(&b, av[1], json_out);
	} else {
		fprintf(stderr, "motcuactl: usage: backup [DIR] | backup verify DIR | restore DIR\n");
	}
	OPENSSL_cleanse(b.key, sizeof(b.key));
	json_decref(b.files);
	json_decref(b.old);
	return r;
}
