/* The record journal (see journal.h and docs/operations.md): SQLite's pre-update hook
 * collects each row change of a transaction, its commit hook appends them as one entry and
 * fsyncs before the commit goes ahead, its rollback hook cancels an entry whose commit
 * failed.  Replay turns every entry into idempotent upserts and deletes of whole rows. */
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include "store/journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway/log.h"
#include "store/db.h"
#include "store/fsutil.h"

#define HDR_LEN 24
#define TRL_LEN 40
#define ENTRY_MAX (256u << 20) /* one transaction's changes */
#define SNAP_CHUNK (1u << 20)
#define TABLE_MAX 64
#define WAL_CHECKPOINT_FRAMES 1000 /* SQLite's own default, which our WAL hook replaces */

enum { OP_INSERT = 'I', OP_UPDATE = 'U', OP_DELETE = 'D' };
enum { K_BASE = 'B', K_CHANGES = 'C', K_ABORT = 'A' };

struct journal {
	pthread_mutex_t mu;
	char dir[PATH_MAX];
	char path[PATH_MAX];
	int fd;
	int64_t segno;
	uint64_t last_seq;
	unsigned char last_hash[32];
	int64_t size; /* end of the last sound entry */
	int64_t last_c_off; /* offset of the last changes entry, -1 when none */
	uint64_t last_c_seq;
	int damaged;
	int64_t damaged_off;
};

struct jbuf {
	unsigned char *p;
	size_t len, cap;
	int overflow;
};

/* Per connection: the changes of the transaction in progress. */
struct jconn {
	struct journal *j;
	struct jbuf buf;
	uint64_t pending_seq; /* appended, commit not yet confirmed by the WAL hook */
};

/* ---- encoding ------------------------------------------------------------------------- */

static void put(struct jbuf *b, const void *p, size_t n)
{
	if (b->overflow)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		unsigned char *q = cap > ENTRY_MAX ? NULL : realloc(b->p, cap);
		if (!q) {
			b->overflow = 1;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void put_u8(struct jbuf *b, unsigned v)
{
	unsigned char c = (unsigned char)v;
	put(b, &c, 1);
}

static void put_le(struct jbuf *b, uint64_t v, int n)
{
	unsigned char c[8];
	for (int i = 0; i < n; i++)
		c[i] = (unsigned char)(v >> (8 * i));
	put(b, c, (size_t)n);
}

static uint64_t get_le(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void put_value(struct jbuf *b, sqlite3_value *v)
{
	int t = v ? sqlite3_value_type(v) : SQLITE_NULL;
	put_u8(b, (unsigned)t);
	if (t == SQLITE_INTEGER) {
		put_le(b, (uint64_t)sqlite3_value_int64(v), 8);
	} else if (t == SQLITE_FLOAT) {
		double d = sqlite3_value_double(v);
		uint64_t u;
		memcpy(&u, &d, 8);
		put_le(b, u, 8);
	} else if (t == SQLITE_TEXT || t == SQLITE_BLOB) {
		const void *p =
		    t == SQLITE_TEXT ? (const void *)sqlite3_value_text(v) : sqlite3_value_blob(v);
		int n = sqlite3_value_bytes(v);
		put_le(b, (uint64_t)n, 4);
		if (n > 0)
			put(b, p, (size_t)n);
	}
}

/* A reader over an entry's body. */
struct rd {
	const unsigned char *p;
	size_t len, off;
	int bad;
};

static const unsigned char *take(struct rd *r, size_t n)
{
	if (r->bad || r->len - r->off < n) {
		r->bad = 1;
		return NULL;
	}
	const unsigned char *p = r->p + r->off;
	r->off += n;
	return p;
}

static uint64_t take_le(struct rd *r, int n)
{
	const unsigned char *p = take(r, (size_t)n);
	return p ? get_le(p, n) : 0;
}

/* Binds the next encoded value to parameter i of st (or only skips it when st is NULL). */
static void take_value(struct rd *r, sqlite3_stmt *st, int i)
{
	int t = (int)take_le(r, 1);
	if (t == SQLITE_INTEGER) {
		int64_t v = (int64_t)take_le(r, 8);
		if (st)
			sqlite3_bind_int64(st, i, v);
	} else if (t == SQLITE_FLOAT) {
		uint64_t u = take_le(r, 8);
		double d;
		memcpy(&d, &u, 8);
		if (st)
			sqlite3_bind_double(st, i, d);
	} else if (t == SQLITE_TEXT || t == SQLITE_BLOB) {
		size_t n = (size_t)take_le(r, 4);
		const unsigned char *p = take(r, n);
		if (st && p) {
			if (t == SQLITE_TEXT)
				sqlite3_bind_text(st, i, (const char *)p, (int)n, SQLITE_TRANSIENT);
			else
				sqlite3_bind_blob(st, i, p, (int)n, SQLITE_TRANSIENT);
		}
	} else if (t == SQLITE_NULL) {
		if (st)
			sqlite3_bind_null(st, i);
	} else {
		r->bad = 1;
	}
}

/* ---- appending ------------------------------------------------------------------------ */

static void entry_hash(const unsigned char prev[32], const unsigned char *hdr, const unsigned char *body,
		       size_t len, unsigned char out[32])
{
	EVP_MD_CTX *h = EVP_MD_CTX_new();
	unsigned n;
	if (!h) {
		memset(out, 0, 32);
		return;
	}
	EVP_DigestInit_ex(h, EVP_sha256(), NULL);
	EVP_DigestUpdate(h, "motcua-journal-v1", 17);
	EVP_DigestUpdate(h, prev, 32);
	EVP_DigestUpdate(h, hdr, HDR_LEN);
	if (len)
		EVP_DigestUpdate(h, body, len);
	EVP_DigestFinal_ex(h, out, &n);
	EVP_MD_CTX_free(h);
}

static void make_hdr(unsigned char hdr[HDR_LEN], size_t len, uint64_t seq, int kind)
{
	memset(hdr, 0, HDR_LEN);
	memcpy(hdr, "MCJ1", 4);
	for (int i = 0; i < 4; i++)
		hdr[4 + i] = (unsigned char)(len >> (8 * i));
	for (int i = 0; i < 8; i++)
		hdr[8 + i] = (unsigned char)(seq >> (8 * i));
	hdr[16] = (unsigned char)kind;
}

/* Appends one entry to fd at j->size and fsyncs; on failure cuts the file back.  Called
 * with j->mu held.  ret_seq gets the entry's number. */
static int append_fd(struct journal *j, int fd, int kind, const unsigned char *body, size_t len,
		     uint64_t *ret_seq)
{
	unsigned char hdr[HDR_LEN], trl[TRL_LEN];
	uint64_t seq = j->last_seq + 1;
	if (len > ENTRY_MAX)
		return -EMSGSIZE;
	make_hdr(hdr, len, seq, kind);
	entry_hash(j->last_hash, hdr, body, len, trl);
	for (int i = 0; i < 4; i++)
		trl[32 + i] = (unsigned char)(len >> (8 * i));
	memcpy(trl + 36, "MCJE", 4);
	int r = fs_write_all(fd, hdr, HDR_LEN);
	if (r == 0 && len)
		r = fs_write_all(fd, body, len);
	if (r == 0)
		r = fs_write_all(fd, trl, TRL_LEN);
	if (r == 0 && fdatasync(fd) < 0)
		r = -errno;
	if (r < 0) {
		if (ftruncate(fd, j->size) < 0 || lseek(fd, j->size, SEEK_SET) < 0)
			log_error("store: journal: cannot cut back a failed append: %s", strerror(errno));
		return r;
	}
	if (kind == K_CHANGES) {
		j->last_c_off = j->size;
		j->last_c_seq = seq;
	}
	j->size += HDR_LEN + (int64_t)len + TRL_LEN;
	j->last_seq = seq;
	memcpy(j->last_hash, trl, 32);
	*ret_seq = seq;
	return 0;
}

/* ---- hooks -------------------------------------------------------------------------- */

static int kept_table(const char *name)
{
	/* dossier_names (and its shadow tables) is a search index derived from dossiers by
	 * triggers: replaying the dossiers rows fills it again. */
	return strncmp(name, "sqlite_", 7) != 0 && strcmp(name, "sessions") != 0 &&
	    strncmp(name, "dossier_names", 13) != 0;
}

static void on_preupdate(void *ctx, sqlite3 *h, int op, const char *zdb, const char *table, sqlite3_int64 k1,
			 sqlite3_int64 k2)
{
	struct jconn *c = ctx;
	struct jbuf *b = &c->buf;
	int n = sqlite3_preupdate_count(h);
	size_t tl = strlen(table);
	if (strcmp(zdb, "main") != 0 || !kept_table(table) || tl > 255)
		return;
	/* An update that moves a row to a new key is a delete and an insert. */
	if (op == SQLITE_DELETE || (op == SQLITE_UPDATE && k1 != k2)) {
		put_u8(b, OP_DELETE);
		put_le(b, tl, 2);
		put(b, table, tl);
		put_le(b, (uint64_t)k1, 8);
		put_le(b, (uint64_t)n, 2);
		for (int i = 0; i < n; i++) {
			sqlite3_value *v = NULL;
			sqlite3_preupdate_old(h, i, &v);
			put_value(b, v);
		}
		if (op == SQLITE_DELETE)
			return;
	}
	put_u8(b, op == SQLITE_INSERT ? OP_INSERT : OP_UPDATE);
	put_le(b, tl, 2);
	put(b, table, tl);
	put_le(b, (uint64_t)k2, 8);
	put_le(b, (uint64_t)n, 2);
	for (int i = 0; i < n; i++) {
		sqlite3_value *v = NULL;
		sqlite3_preupdate_new(h, i, &v);
		put_value(b, v);
	}
}

static int on_commit(void *ctx)
{
	struct jconn *c = ctx;
	struct journal *j = c->j;
	uint64_t seq = 0;
	int r = 0;
	if (c->buf.overflow) {
		log_error("store: journal: one transaction changed more than %u MB of rows; refused",
			  ENTRY_MAX >> 20);
		c->buf.len = 0;
		c->buf.overflow = 0;
		return 1;
	}
	if (c->buf.len == 0)
		return 0;
	pthread_mutex_lock(&j->mu);
	if (j->fd < 0)
		r = -EBADF;
	else
		r = append_fd(j, j->fd, K_CHANGES, c->buf.p, c->buf.len, &seq);
	pthread_mutex_unlock(&j->mu);
	c->buf.len = 0;
	if (r < 0) {
		log_error("store: journal: cannot append to %s: %s; the change is refused", j->path,
			  strerror(-r));
		return 1; /* turns the commit into a rollback: nothing is acknowledged */
	}
	c->pending_seq = seq;
	return 0;
}

static void on_rollback(void *ctx)
{
	struct jconn *c = ctx;
	struct journal *j = c->j;
	c->buf.len = 0;
	c->buf.overflow = 0;
	if (!c->pending_seq)
		return;
	/* The entry was appended but the commit failed after it: cancel it. */
	struct jbuf b = { 0 };
	uint64_t seq;
	put_le(&b, c->pending_seq, 8);
	pthread_mutex_lock(&j->mu);
	int r = j->fd < 0 ? -EBADF : append_fd(j, j->fd, K_ABORT, b.p, b.len, &seq);
	pthread_mutex_unlock(&j->mu);
	if (r < 0)
		log_error("store: journal: cannot cancel entry %llu of a failed commit: %s",
			  (unsigned long long)c->pending_seq, strerror(-r));
	c->pending_seq = 0;
	free(b.p);
}

/* Called after every commit that reached the WAL: the entry is confirmed.  Replaces
 * SQLite's automatic checkpoint, which used this same hook. */
static int on_wal(void *ctx, sqlite3 *h, const char *zdb, int frames)
{
	struct jconn *c = ctx;
	c->pending_seq = 0;
	if (frames >= WAL_CHECKPOINT_FRAMES)
		sqlite3_wal_checkpoint(h, zdb);
	return SQLITE_OK;
}

static void detach(void *ctx)
{
	struct jconn *c = ctx;
	free(c->buf.p);
	free(c);
}

int journal_attach(struct journal *j, struct db *db)
{
	struct jconn *c = calloc(1, sizeof(*c));
	sqlite3 *h = db_handle(db);
	if (!c)
		return -ENOMEM;
	c->j = j;
	sqlite3_preupdate_hook(h, on_preupdate, c);
	sqlite3_commit_hook(h, on_commit, c);
	sqlite3_rollback_hook(h, on_rollback, c);
	sqlite3_wal_hook(h, on_wal, c);
	db_set_close_hook(db, detach, c);
	return 0;
}

/* ---- reading segments ---------------------------------------------------------------- */

/* Walks the segment in fd from offset 0.  fn (may be NULL) gets each sound entry; the walk
 * stops at the first entry that fails (ret_end: where the sound part ends, ret_torn: the
 * rest is an unfinished entry, ret_bad: a finished entry that fails its check). */
struct walk {
	uint64_t last_seq;
	unsigned char last_hash[32];
	int64_t end, last_c_off;
	uint64_t last_c_seq;
	int64_t entries;
	int torn, bad;
};

static int walk_segment(int fd,
			int (*fn)(void *ctx, int kind, uint64_t seq, const unsigned char *body, size_t len),
			void *ctx, struct walk *w)
{
	struct stat st;
	unsigned char hdr[HDR_LEN], trl[TRL_LEN], h[32];
	unsigned char *body = NULL;
	int64_t off = 0;
	int r = 0;

	memset(w, 0, sizeof(*w));
	w->last_c_off = -1;
	if (fstat(fd, &st) < 0)
		return -errno;
	while (off < st.st_size) {
		if (st.st_size - off < HDR_LEN + TRL_LEN || pread(fd, hdr, HDR_LEN, off) != HDR_LEN) {
			w->torn = 1;
			break;
		}
		size_t len = (size_t)get_le(hdr + 4, 4);
		uint64_t seq = get_le(hdr + 8, 8);
		int kind = hdr[16];
		if (memcmp(hdr, "MCJ1", 4) != 0 || len > ENTRY_MAX) {
			w->bad = 1;
			break;
		}
		if ((int64_t)(HDR_LEN + len + TRL_LEN) > st.st_size - off) {
			w->torn = 1;
			break;
		}
		unsigned char *nb = realloc(body, len ? len : 1);
		if (!nb) {
			r = -ENOMEM;
			break;
		}
		body = nb;
		if ((len && pread(fd, body, len, off + HDR_LEN) != (ssize_t)len) ||
		    pread(fd, trl, TRL_LEN, off + HDR_LEN + (int64_t)len) != TRL_LEN) {
			r = -EIO;
			break;
		}
		/* The first entry of a segment is its base: it names the head of the segment before
		 * (u32 schema | 32-byte head), from which this segment's chain starts. */
		if (w->entries == 0 && (kind != K_BASE || len != 36)) {
			w->bad = 1;
			break;
		}
		entry_hash(w->entries == 0 ? body + 4 : w->last_hash, hdr, body, len, h);
		if (memcmp(trl + 36, "MCJE", 4) != 0 || get_le(trl + 32, 4) != len ||
		    memcmp(h, trl, 32) != 0 ||
		    (w->entries > 0 && (seq != w->last_seq + 1 || kind == K_BASE))) {
			w->bad = 1;
			break;
		}
		if (fn) {
			r = fn(ctx, kind, seq, body, len);
			if (r < 0)
				break;
		}
		if (kind == K_CHANGES) {
			w->last_c_off = off;
			w->last_c_seq = seq;
		}
		w->last_seq = seq;
		memcpy(w->last_hash, trl, 32);
		w->entries++;
		off += HDR_LEN + (int64_t)len + TRL_LEN;
	}
	w->end = off;
	free(body);
	return r;
}

static int64_t newest_segment(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int64_t best = 0;
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char *end;
		long long n = strtoll(e->d_name, &end, 10);
		if (n > best && strcmp(end, ".mj") == 0 && end - e->d_name == 8)
			best = n;
	}
	closedir(d);
	return best;
}

static int segment_path(const char *dir, int64_t n, char *out, size_t size)
{
	return snprintf(out, size, "%s/%08lld.mj", dir, (long long)n) >= (int)size ? -ENAMETOOLONG : 0;
}

int journal_open(const char *dir, struct journal **ret, struct journal_info *info)
{
	struct journal *j = calloc(1, sizeof(*j));
	struct walk w;
	int r;
	memset(info, 0, sizeof(*info));
	if (!j)
		return -ENOMEM;
	pthread_mutex_init(&j->mu, NULL);
	j->fd = -1;
	j->last_c_off = -1;
	snprintf(j->dir, sizeof(j->dir), "%s", dir);
	r = fs_mkdir_p(dir, 0700);
	if (r < 0)
		goto fail;
	j->segno = newest_segment(dir);
	if (j->segno == 0) {
		*ret = j;
		return 0;
	}
	r = segment_path(dir, j->segno, j->path, sizeof(j->path));
	if (r < 0)
		goto fail;
	j->fd = open(j->path, O_RDWR | O_CLOEXEC);
	if (j->fd < 0) {
		r = -errno;
		log_error("store: cannot open the journal %s: %s", j->path, strerror(-r));
		goto fail;
	}
	r = walk_segment(j->fd, NULL, NULL, &w);
	if (r < 0)
		goto fail;
	j->last_seq = w.last_seq;
	memcpy(j->last_hash, w.last_hash, 32);
	j->size = w.end;
	j->last_c_off = w.last_c_off;
	j->last_c_seq = w.last_c_seq;
	info->entries = w.entries;
	info->segment = j->segno;
	info->torn = w.torn;
	if (w.bad || w.entries == 0) {
		/* Nothing is appended after a damaged entry (the chain would hide it): start-up
		 * writes a new segment from the database, or replays up to here. */
		j->damaged = 1;
		j->damaged_off = w.end;
		info->damaged = 1;
		info->damaged_seq = (int64_t)w.last_seq + 1;
		log_error("store: journal %s: entry %llu fails its check; the records before it are "
			  "usable, those after it are not",
			  j->path, (unsigned long long)w.last_seq + 1);
	} else if (w.torn) {
		log_warn("store: journal %s: an entry left unfinished by a stop was cut off (its "
			 "transaction never committed)",
			 j->path);
		if (ftruncate(j->fd, w.end) < 0 || fsync(j->fd) < 0) {
			r = -errno;
			goto fail;
		}
	}
	if (lseek(j->fd, j->size, SEEK_SET) < 0) {
		r = -errno;
		goto fail;
	}
	info->bytes = j->size;
	*ret = j;
	return 0;
fail:
	journal_close(j);
	return r;
}

void journal_close(struct journal *j)
{
	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	pthread_mutex_destroy(&j->mu);
	free(j);
}

const char *journal_path(const struct journal *j)
{
	return j->path;
}

/* ---- replay --------------------------------------------------------------------------- */

struct tinfo {
	char name[TABLE_MAX];
	int ncol; /* columns in the entry */
	int exists;
	int ipk; /* the table's INTEGER PRIMARY KEY column carries the rowid, -1 when none */
	int npk;
	int pk[8]; /* primary key columns, in key order */
	sqlite3_stmt *ins, *del, *sel;
};

struct replay {
	struct db *db;
	struct tinfo t[TABLE_MAX];
	int nt;
	uint64_t *aborted;
	size_t naborted, cap;
	int64_t applied, failed, in_txn;
	int settle_match; /* settle mode: compare instead of apply */
};

static void tinfo_free(struct tinfo *t)
{
	sqlite3_finalize(t->ins);
	sqlite3_finalize(t->del);
	sqlite3_finalize(t->sel);
}

static int quote_ident(struct jbuf *b, const char *s)
{
	put_u8(b, '"');
	for (; *s; s++) {
		if (*s == '"')
			put_u8(b, '"');
		put_u8(b, (unsigned char)*s);
	}
	put_u8(b, '"');
	return 0;
}

static void put_str(struct jbuf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* Prepares the statements for table name with ncol columns in the entry. */
static struct tinfo *table_for(struct replay *rp, const char *name, int ncol)
{
	char cols[64][TABLE_MAX];
	int total = 0;
	for (int i = 0; i < rp->nt; i++)
		if (strcmp(rp->t[i].name, name) == 0 && rp->t[i].ncol == ncol)
			return &rp->t[i];
	if (rp->nt >= TABLE_MAX)
		return NULL;
	struct tinfo *t = &rp->t[rp->nt++];
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->ncol = ncol;
	t->ipk = -1;

	struct jbuf q = { 0 };
	sqlite3_stmt *st;
	put_str(&q, "SELECT name, type, pk FROM pragma_table_info(?)");
	put_u8(&q, 0);
	if (q.overflow ||
	    sqlite3_prepare_v2(db_handle(rp->db), (const char *)q.p, -1, &st, NULL) != SQLITE_OK) {
		free(q.p);
		return t;
	}
	free(q.p);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int pkcount = 0, pkint = -1;
	while (sqlite3_step(st) == SQLITE_ROW && total < 64) {
		snprintf(cols[total], TABLE_MAX, "%s", (const char *)sqlite3_column_text(st, 0));
		int pk = sqlite3_column_int(st, 2);
		if (pk > 0 && pk <= 8) {
			t->pk[pk - 1] = total;
			pkcount++;
			const char *type = (const char *)sqlite3_column_text(st, 1);
			if (type && strcasecmp(type, "INTEGER") == 0)
				pkint = total;
		}
		total++;
	}
	sqlite3_finalize(st);
	if (total == 0 || ncol > total)
		return t; /* a table this motcua does not have, or from a newer one */
	t->exists = 1;
	t->npk = pkcount;
	if (pkcount == 1 && pkint >= 0)
		t->ipk = pkint;

	struct jbuf b = { 0 };
	put_str(&b, "INSERT OR REPLACE INTO ");
	quote_ident(&b, name);
	put_str(&b, "(");
	for (int i = 0; i < ncol; i++) {
		if (i)
			put_str(&b, ",");
		quote_ident(&b, cols[i]);
	}
	if (t->ipk < 0)
		put_str(&b, ncol ? ",rowid" : "rowid");
	put_str(&b, ") VALUES(");
	for (int i = 0; i < ncol + (t->ipk < 0); i++)
		put_str(&b, i ? ",?" : "?");
	put_str(&b, ")");
	put_u8(&b, 0);
	if (!b.overflow)
		sqlite3_prepare_v2(db_handle(rp->db), (const char *)b.p, -1, &t->ins, NULL);
	b.len = 0;
	put_str(&b, "DELETE FROM ");
	quote_ident(&b, name);
	if (t->npk == 0) {
		put_str(&b, " WHERE rowid = ?");
	} else {
		for (int i = 0; i < t->npk; i++) {
			put_str(&b, i ? " AND " : " WHERE ");
			quote_ident(&b, cols[t->pk[i]]);
			put_str(&b, " IS ?");
		}
	}
	put_u8(&b, 0);
	if (!b.overflow)
		sqlite3_prepare_v2(db_handle(rp->db), (const char *)b.p, -1, &t->del, NULL);
	b.len = 0;
	put_str(&b, "SELECT ");
	for (int i = 0; i < ncol; i++) {
		if (i)
			put_str(&b, ",");
		quote_ident(&b, cols[i]);
	}
	if (ncol == 0)
		put_str(&b, "1");
	put_str(&b, " FROM ");
	quote_ident(&b, name);
	put_str(&b, " WHERE rowid = ?");
	put_u8(&b, 0);
	if (!b.overflow)
		sqlite3_prepare_v2(db_handle(rp->db), (const char *)b.p, -1, &t->sel, NULL);
	free(b.p);
	return t;
}

static int is_aborted(const struct replay *rp, uint64_t seq)
{
	for (size_t i = 0; i < rp->naborted; i++)
		if (rp->aborted[i] == seq)
			return 1;
	return 0;
}

static int collect_aborts(void *ctx, int kind, uint64_t seq, const unsigned char *body, size_t len)
{
	struct replay *rp = ctx;
	(void)seq;
	if (kind != K_ABORT || len != 8)
		return 0;
	if (rp->naborted == rp->cap) {
		size_t cap = rp->cap ? rp->cap * 2 : 16;
		uint64_t *a = realloc(rp->aborted, cap * sizeof(*a));
		if (!a)
			return -ENOMEM;
		rp->aborted = a;
		rp->cap = cap;
	}
	rp->aborted[rp->naborted++] = get_le(body, 8);
	return 0;
}

/* Compares the row at rowid in t with the entry's values (settle mode); 1 when equal. */
static int row_equals(struct tinfo *t, int64_t key, struct rd *r)
{
	sqlite3_stmt *st = t->sel;
	int same = 0;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	sqlite3_bind_int64(st, 1, key);
	if (sqlite3_step(st) == SQLITE_ROW) {
		same = 1;
		for (int i = 0; i < t->ncol; i++) {
			int type = (int)take_le(r, 1);
			sqlite3_value *v = sqlite3_column_value(st, i);
			int vt = sqlite3_value_type(v);
			if (type == SQLITE_INTEGER || type == SQLITE_FLOAT) {
				uint64_t u = take_le(r, 8);
				if (type == SQLITE_INTEGER)
					same &= vt == SQLITE_INTEGER && sqlite3_value_int64(v) == (int64_t)u;
				else {
					double d;
					memcpy(&d, &u, 8);
					same &= vt == SQLITE_FLOAT && sqlite3_value_double(v) == d;
				}
			} else if (type == SQLITE_TEXT || type == SQLITE_BLOB) {
				size_t n = (size_t)take_le(r, 4);
				const unsigned char *p = take(r, n);
				const void *q = type == SQLITE_TEXT ? (const void *)sqlite3_value_text(v)
								    : sqlite3_value_blob(v);
				same &= p && vt == type && (size_t)sqlite3_value_bytes(v) == n &&
				    (n == 0 || memcmp(p, q, n) == 0);
			} else {
				same &= vt == SQLITE_NULL;
			}
		}
	} else {
		for (int i = 0; i < t->ncol; i++)
			take_value(r, NULL, 0);
	}
	sqlite3_reset(st);
	return same;
}

/* 1 when the rest of the entry after r changes the same row again. */
static int later_change(const struct rd *from, const char *name, int64_t key)
{
	struct rd r = *from;
	while (!r.bad && r.off < r.len) {
		take_le(&r, 1);
		size_t tl = (size_t)take_le(&r, 2);
		const unsigned char *tn = take(&r, tl);
		int64_t k = (int64_t)take_le(&r, 8);
		int ncol = (int)take_le(&r, 2);
		if (r.bad)
			return 0;
		if (k == key && tl == strlen(name) && memcmp(tn, name, tl) == 0)
			return 1;
		for (int i = 0; i < ncol; i++)
			take_value(&r, NULL, 0);
	}
	return 0;
}

/* Applies (or, in settle mode, compares) one entry's changes. */
static int apply_entry(void *ctx, int kind, uint64_t seq, const unsigned char *body, size_t len)
{
	struct replay *rp = ctx;
	struct rd r = { body, len, 0, 0 };
	char name[TABLE_MAX];
	if (kind != K_CHANGES || is_aborted(rp, seq))
		return 0;
	while (!r.bad && r.off < r.len) {
		int op = (int)take_le(&r, 1);
		size_t tl = (size_t)take_le(&r, 2);
		const unsigned char *tn = take(&r, tl);
		int64_t key = (int64_t)take_le(&r, 8);
		int ncol = (int)take_le(&r, 2);
		if (r.bad || tl >= sizeof(name))
			return -EBADMSG;
		memcpy(name, tn, tl);
		name[tl] = '\0';
		struct tinfo *t = table_for(rp, name, ncol);
		if (rp->settle_match) {
			/* Only the last change of each row in the entry says what the row must be now. */
			size_t here = r.off;
			for (int i = 0; i < ncol; i++)
				take_value(&r, NULL, 0);
			if (r.bad || !t || !t->exists || !t->sel)
				return -EBADMSG;
			if (later_change(&r, name, key))
				continue;
			struct rd v = { body, r.off, here, 0 };
			if (op == OP_DELETE) {
				sqlite3_reset(t->sel);
				sqlite3_bind_int64(t->sel, 1, key);
				rp->failed += sqlite3_step(t->sel) == SQLITE_ROW;
				sqlite3_reset(t->sel);
			} else if (!row_equals(t, key, &v)) {
				rp->failed++;
			}
			continue;
		}
		if (!t || !t->exists || !(op == OP_DELETE ? t->del : t->ins)) {
			for (int i = 0; i < ncol; i++)
				take_value(&r, NULL, 0);
			rp->failed++;
			continue;
		}
		sqlite3_stmt *st = op == OP_DELETE ? t->del : t->ins;
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		if (op == OP_DELETE) {
			/* old row: bind its key columns (or the rowid) */
			for (int i = 0; i < ncol; i++) {
				int k = -1;
				for (int p = 0; p < t->npk; p++)
					if (t->pk[p] == i)
						k = p;
				take_value(&r, k >= 0 ? st : NULL, k + 1);
			}
			if (t->npk == 0)
				sqlite3_bind_int64(st, 1, key);
		} else {
			for (int i = 0; i < ncol; i++)
				take_value(&r, st, i + 1);
			if (t->ipk < 0)
				sqlite3_bind_int64(st, ncol + 1, key);
		}
		if (r.bad)
			return -EBADMSG;
		int rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc == SQLITE_DONE) {
			rp->applied++;
		} else {
			rp->failed++;
			log_warn("store: journal replay: entry %llu, table %s: %s", (unsigned long long)seq,
				 name, sqlite3_errmsg(db_handle(rp->db)));
		}
	}
	if (r.bad)
		return -EBADMSG;
	if (++rp->in_txn >= 2000) {
		int e = db_commit(rp->db);
		if (e == 0)
			e = db_begin(rp->db);
		rp->in_txn = 0;
		return e;
	}
	return 0;
}

static void replay_done(struct replay *rp)
{
	for (int i = 0; i < rp->nt; i++)
		tinfo_free(&rp->t[i]);
	free(rp->aborted);
}

int journal_replay(struct journal *j, struct db *db, int64_t *ret_applied, int64_t *ret_failed)
{
	struct replay *rp = calloc(1, sizeof(*rp));
	struct walk w;
	int r;
	*ret_applied = *ret_failed = 0;
	if (!rp)
		return -ENOMEM;
	if (j->fd < 0) {
		free(rp);
		return 0;
	}
	rp->db = db;
	r = walk_segment(j->fd, collect_aborts, rp, &w);
	if (r == 0)
		r = sqlite3_exec(db_handle(db), "PRAGMA foreign_keys=OFF", NULL, NULL, NULL) == SQLITE_OK
		    ? 0
		    : -EIO;
	if (r == 0)
		r = db_begin(db);
	if (r == 0) {
		r = walk_segment(j->fd, apply_entry, rp, &w);
		if (r == 0)
			r = db_commit(db);
		else
			db_rollback(db);
	}
	sqlite3_exec(db_handle(db), "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
	*ret_applied = rp->applied;
	*ret_failed = rp->failed;
	replay_done(rp);
	free(rp);
	lseek(j->fd, j->size, SEEK_SET);
	return r;
}

/* ---- snapshot and settle ------------------------------------------------------------- */

struct snap {
	struct journal *j;
	int fd;
	struct jbuf b;
};

static int snap_flush(struct snap *s)
{
	uint64_t seq;
	if (s->b.len == 0)
		return 0;
	if (s->b.overflow)
		return -ENOMEM;
	int r = append_fd(s->j, s->fd, K_CHANGES, s->b.p, s->b.len, &seq);
	s->b.len = 0;
	return r;
}

/* Every row of table as insert changes. */
static int snap_table(struct snap *s, struct db *db, const char *table)
{
	struct jbuf q = { 0 };
	sqlite3_stmt *st;
	int rc, r = 0;
	size_t tl = strlen(table);
	put_str(&q, "SELECT rowid, * FROM ");
	quote_ident(&q, table);
	put_u8(&q, 0);
	if (q.overflow) {
		free(q.p);
		return -ENOMEM;
	}
	rc = sqlite3_prepare_v2(db_handle(db), (const char *)q.p, -1, &st, NULL);
	free(q.p);
	if (rc != SQLITE_OK)
		return db_error(db, rc, "journal snapshot");
	int n = sqlite3_column_count(st) - 1;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		put_u8(&s->b, OP_INSERT);
		put_le(&s->b, tl, 2);
		put(&s->b, table, tl);
		put_le(&s->b, (uint64_t)sqlite3_column_int64(st, 0), 8);
		put_le(&s->b, (uint64_t)n, 2);
		for (int i = 0; i < n; i++)
			put_value(&s->b, sqlite3_column_value(st, i + 1));
		if (s->b.len >= SNAP_CHUNK)
			r = snap_flush(s);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_error(db, rc, "journal snapshot");
	sqlite3_finalize(st);
	return r;
}

int journal_snapshot(struct journal *j, struct db *db)
{
	char path[PATH_MAX];
	struct snap s = { j, -1, { 0 } };
	sqlite3_stmt *st = NULL;
	int64_t old = j->segno, next = j->segno + 1;
	uint64_t seq;
	int r;

	pthread_mutex_lock(&j->mu);
	r = segment_path(j->dir, next, path, sizeof(path));
	if (r < 0)
		goto out;
	s.fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (s.fd < 0) {
		r = -errno;
		goto out;
	}
	/* The new segment's chain starts at a base entry naming the old head. */
	uint64_t saved_seq = j->last_seq, saved_c_seq = j->last_c_seq;
	int64_t saved_size = j->size, saved_c_off = j->last_c_off;
	unsigned char saved_hash[32];
	memcpy(saved_hash, j->last_hash, 32);
	struct jbuf base = { 0 };
	put_le(&base, (uint64_t)db_schema_version(), 4);
	put(&base, j->last_hash, 32);
	j->size = 0;
	j->last_c_off = -1;
	r = base.overflow ? -ENOMEM : append_fd(j, s.fd, K_BASE, base.p, base.len, &seq);
	free(base.p);
	if (r == 0)
		r = db_begin(db); /* holds writers off while the rows are read */
	if (r == 0) {
		r = db_prepare(db,
			       "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
			       "'sqlite\\_%' ESCAPE '\\' ORDER BY name",
			       &st);
		while (r == 0 && sqlite3_step(st) == SQLITE_ROW) {
			const char *name = (const char *)sqlite3_column_text(st, 0);
			if (kept_table(name))
				r = snap_table(&s, db, name);
		}
		sqlite3_finalize(st);
		if (r == 0)
			r = snap_flush(&s);
		db_rollback(db);
	}
	if (r == 0 && fsync(s.fd) < 0)
		r = -errno;
	if (r == 0)
		r = fs_fsync_dir(j->dir);
	if (r < 0) {
		/* back to the old segment as it was */
		j->last_seq = saved_seq;
		j->size = saved_size;
		j->last_c_off = saved_c_off;
		j->last_c_seq = saved_c_seq;
		memcpy(j->last_hash, saved_hash, 32);
		close(s.fd);
		unlink(path);
		log_error("store: journal: cannot write a new segment %s: %s", path, strerror(-r));
		goto out;
	}
	if (j->fd >= 0)
		close(j->fd);
	j->fd = s.fd;
	j->segno = next;
	j->damaged = 0;
	snprintf(j->path, sizeof(j->path), "%s", path);
	for (int64_t n = old; n >= 1; n--) {
		char p[PATH_MAX];
		if (segment_path(j->dir, n, p, sizeof(p)) == 0 && unlink(p) < 0 && errno == ENOENT)
			break;
	}
	fs_fsync_dir(j->dir);
	log_info("store: journal: new segment %s holds every record (%lld bytes)", path, (long long)j->size);
out:
	free(s.b.p);
	pthread_mutex_unlock(&j->mu);
	return r;
}

int journal_settle(struct journal *j, struct db *db, int64_t max_bytes)
{
	if (j->fd >= 0 && !j->damaged && j->last_c_off >= 0) {
		/* Was the last entry's transaction committed?  Only the last can be in doubt: an
		 * entry is appended under the database's write lock. */
		struct replay *rp = calloc(1, sizeof(*rp));
		struct walk w;
		if (!rp)
			return -ENOMEM;
		rp->db = db;
		int r = walk_segment(j->fd, collect_aborts, rp, &w);
		if (r == 0 && !is_aborted(rp, j->last_c_seq)) {
			unsigned char hdr[HDR_LEN];
			unsigned char *body = NULL;
			if (pread(j->fd, hdr, HDR_LEN, j->last_c_off) == HDR_LEN) {
				size_t len = (size_t)get_le(hdr + 4, 4);
				body = malloc(len ? len : 1);
				if (body &&
				    pread(j->fd, body, len, j->last_c_off + HDR_LEN) == (ssize_t)len) {
					rp->settle_match = 1;
					r = apply_entry(rp, K_CHANGES, j->last_c_seq, body, len);
					if (r == 0 && rp->failed > 0) {
						struct jbuf b = { 0 };
						uint64_t seq;
						put_le(&b, j->last_c_seq, 8);
						pthread_mutex_lock(&j->mu);
						r = append_fd(j, j->fd, K_ABORT, b.p, b.len, &seq);
						pthread_mutex_unlock(&j->mu);
						free(b.p);
						log_warn("store: journal: the last entry (%llu) was written "
							 "but its "
							 "transaction never committed (a stop in between); "
							 "cancelled",
							 (unsigned long long)j->last_c_seq);
					}
				}
			}
			free(body);
		}
		replay_done(rp);
		free(rp);
		lseek(j->fd, j->size, SEEK_SET);
		if (r < 0)
			return r;
	}
	if (j->fd < 0 || j->damaged || j->size > max_bytes)
		return journal_snapshot(j, db);
	return 0;
}
