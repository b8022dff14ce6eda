/* Device rows, staff decisions (audited in the same transaction), presence, document links
 * and device commands. */
#include "store/devices.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store/audit.h"
#include "store/db.h"

static const char *const kinds[] = { "kiosk", "id-scanner", "doc-scanner", "printer", "display" };

int devices_kind_valid(const char *kind)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kind, kinds[i]) == 0)
			return 1;
	return 0;
}

int devices_kind_sends_docs(const char *kind)
{
	return strcmp(kind, "kiosk") == 0 || strcmp(kind, "id-scanner") == 0 ||
	    strcmp(kind, "doc-scanner") == 0;
}

#define COLS                                                                                          \
	"n, id, serial, kind, model, firmware, capabilities, state, action, claim_client, presence, " \
	"last_seen, reason, created_at, updated_at, (SELECT COUNT(*) FROM device_claims c "           \
	"WHERE c.serial = devices.serial AND c.client != devices.claim_client)"

static void read_row(sqlite3_stmt *st, struct device *d)
{
	memset(d, 0, sizeof(*d));
	d->n = sqlite3_column_int64(st, 0);
	db_column_text(st, 1, d->id, sizeof(d->id));
	db_column_text(st, 2, d->serial, sizeof(d->serial));
	db_column_text(st, 3, d->kind, sizeof(d->kind));
	db_column_text(st, 4, d->model, sizeof(d->model));
	db_column_text(st, 5, d->firmware, sizeof(d->firmware));
	db_column_text(st, 6, d->capabilities, sizeof(d->capabilities));
	db_column_text(st, 7, d->state, sizeof(d->state));
	db_column_text(st, 8, d->action, sizeof(d->action));
	db_column_text(st, 9, d->claim_client, sizeof(d->claim_client));
	db_column_text(st, 10, d->presence, sizeof(d->presence));
	d->last_seen = sqlite3_column_int64(st, 11);
	db_column_text(st, 12, d->reason, sizeof(d->reason));
	db_column_text(st, 13, d->created_at, sizeof(d->created_at));
	db_column_text(st, 14, d->updated_at, sizeof(d->updated_at));
	d->conflicts = sqlite3_column_int(st, 15);
}

static int get_by(struct db *db, const char *where, const char *key, struct device *ret)
{
	char sql[512];
	sqlite3_stmt *st;
	snprintf(sql, sizeof(sql), "SELECT " COLS " FROM devices WHERE %s = ?", where);
	int r = db_prepare(db, sql, &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_row(st, ret);
		r = 0;
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : db_error(db, rc, "read device");
	}
	sqlite3_finalize(st);
	return r;
}

int devices_get(struct db *db, const char *id, struct device *ret)
{
	int r = get_by(db, "id", id, ret);
	if (r == -ENOENT)
		r = get_by(db, "serial", id, ret);
	return r;
}

static int step_done(struct db *db, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	int r = rc == SQLITE_DONE ? 0 : db_error(db, rc, what);
	sqlite3_finalize(st);
	return r;
}

static int audit_device(struct db *db, const char *actor, const char *action, const struct device *d,
			const char *reason)
{
	char detail[AUDIT_DETAIL_MAX];
	/* Serial, kind and model identify the hardware; no personal data. */
	snprintf(detail, sizeof(detail),
		 "{\"serial\":\"%s\",\"kind\":\"%s\",\"model\":\"%s\",\"reason\":\"%s\"}", d->serial, d->kind,
		 d->model, reason);
	return audit_append(db, actor, action, d->id, detail);
}

/* Values are validated by the caller to [A-Za-z0-9 ._:-]-like text; reason is staff text, so
 * keep it JSON-safe here. */
static void safe_text(const char *in, char *out, size_t size)
{
	size_t j = 0;
	for (size_t i = 0; in && in[i] && j + 1 < size; i++) {
		unsigned char c = (unsigned char)in[i];
		out[j++] = (c < 0x20 || c == '"' || c == '\\') ? ' ' : (char)c;
	}
	out[j] = '\0';
}

void devices_pairing_code(const char *claim_client, char out[DEVICE_CODE_LEN + 1])
{
	static const char prefix[] = "motcua-pairing-code:";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint32_t v = 0;
	if (c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(c, prefix, sizeof(prefix) - 1) == 1 &&
	    EVP_DigestUpdate(c, claim_client, strlen(claim_client)) == 1 &&
	    EVP_DigestFinal_ex(c, md, &mdlen) == 1 && mdlen >= 4)
		v = (uint32_t)md[0] << 24 | (uint32_t)md[1] << 16 | (uint32_t)md[2] << 8 | md[3];
	EVP_MD_CTX_free(c);
	snprintf(out, DEVICE_CODE_LEN + 1, "%06u", (unsigned)(v % 1000000u));
}

/* Remembers (or refreshes) the claim id's hello; the claimers of one serial other than the
 * bound one are kept to DEVICE_CLAIMS_PER_SERIAL, the least recently heard dropped.  Sets
 * *ret_new when the claim id was not known. */
static int claim_upsert(struct db *db, const struct device_hello *h, const char *client, const char *bound,
			const char *now, int *ret_new)
{
	sqlite3_stmt *st;
	int r =
	    db_prepare(db,
		       "INSERT INTO device_claims(client, serial, kind, model, firmware, capabilities, "
		       "first_at, last_s) VALUES(?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(client) DO UPDATE SET "
		       "kind = excluded.kind, model = excluded.model, firmware = excluded.firmware, "
		       "capabilities = excluded.capabilities, last_s = excluded.last_s, hellos = hellos + 1",
		       &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, client, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, h->serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, h->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, h->model, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, h->firmware, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, h->capabilities, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, now, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, (int64_t)time(NULL));
	r = step_done(db, st, "record claim");
	if (r < 0)
		return r;
	/* hellos == 1 only right after the insert */
	r = db_prepare(db, "SELECT hellos FROM device_claims WHERE client = ?", &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, client, -1, SQLITE_STATIC);
	*ret_new = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) == 1;
	sqlite3_finalize(st);
	r = db_prepare(db,
		       "DELETE FROM device_claims WHERE serial = ?1 AND client != ?2 AND client NOT IN "
		       "(SELECT client FROM device_claims WHERE serial = ?1 AND client != ?2 "
		       "ORDER BY last_s DESC, rowid DESC LIMIT ?3)",
		       &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, h->serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, bound, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, DEVICE_CLAIMS_PER_SERIAL);
	return step_done(db, st, "trim claims");
}

int devices_hello(struct db *db, const struct device_hello *h, const char *claim_client, int auto_approve,
		  const char *actor, struct device *ret, char *bound_serial, size_t bslen)
{
	sqlite3_stmt *st = NULL;
	struct device d;
	char now[32];
	int r, result = 0, isnew_claim = 0;

	db_now(now);
	r = db_begin(db);
	if (r < 0)
		return r;
	/* A claim id names one device: once seen with a serial it never speaks for another. */
	r = db_prepare(db, "SELECT serial FROM device_claims WHERE client = ?", &st);
	if (r < 0)
		goto out;
	sqlite3_bind_text(st, 1, claim_client, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		char s[DEVICE_SERIAL_MAX];
		db_column_text(st, 0, s, sizeof(s));
		if (strcmp(s, h->serial) != 0) {
			if (bound_serial)
				snprintf(bound_serial, bslen, "%s", s);
			r = -EXDEV;
		}
	}
	sqlite3_finalize(st);
	if (r < 0)
		goto out;
	r = get_by(db, "serial", h->serial, &d);
	if (r == -ENOENT) {
		int64_t n = 1;
		char id[DEVICE_ID_MAX];
		r = db_prepare(db, "SELECT COALESCE(MAX(n), 0) + 1 FROM devices", &st);
		if (r < 0)
			goto out;
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		snprintf(id, sizeof(id), "%s-%lld", h->kind, (long long)n);
		r = db_prepare(
		    db,
		    "INSERT INTO devices(n, id, serial, kind, model, firmware, capabilities, state, "
		    "action, claim_client, created_at, updated_at) "
		    "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		    &st);
		if (r < 0)
			goto out;
		sqlite3_bind_int64(st, 1, n);
		sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, h->serial, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, h->kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, h->model, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, h->firmware, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, h->capabilities, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 8, auto_approve ? "approved" : "pending", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 9, auto_approve ? "approve" : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 10, claim_client, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 11, now, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 12, now, -1, SQLITE_STATIC);
		r = step_done(db, st, "insert device");
		if (r < 0)
			goto out;
		r = claim_upsert(db, h, claim_client, claim_client, now, &isnew_claim);
		if (r < 0)
			goto out;
		r = get_by(db, "id", id, &d);
		if (r < 0)
			goto out;
		r = audit_device(db, actor, "device.hello", &d, "");
		if (r == 0 && auto_approve)
			r = audit_device(db, actor, "device.approve", &d,
					 "serial in [devices] auto_approve_serials");
		result = 1;
	} else if (r == 0 && strcmp(d.claim_client, claim_client) == 0) {
		/* The bound claimer: its description may change with a firmware update. */
		r = db_prepare(db,
			       "UPDATE devices SET model = ?, firmware = ?, capabilities = ?, updated_at = ? "
			       "WHERE id = ?",
			       &st);
		if (r < 0)
			goto out;
		sqlite3_bind_text(st, 1, h->model, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, h->firmware, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, h->capabilities, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, d.id, -1, SQLITE_STATIC);
		r = step_done(db, st, "update device");
		if (r == 0)
			r = claim_upsert(db, h, claim_client, claim_client, now, &isnew_claim);
		if (r == 0)
			r = get_by(db, "id", d.id, &d);
	} else if (r == 0) {
		/* Another claim id says it is this serial: a reset device, a clone or an attacker
		 * holding the shared claim password.  Never adopted here: the row keeps its claimer
		 * and staff choose by the pairing code the physical device shows. */
		r = claim_upsert(db, h, claim_client, d.claim_client, now, &isnew_claim);
		if (r == 0 && isnew_claim)
			r = audit_device(db, actor, "device.conflict", &d,
					 "another claim id said hello with this serial; not adopted");
		if (r == 0)
			r = get_by(db, "id", d.id, &d);
		result = 2;
	}
out:
	if (r == 0)
		r = db_commit(db);
	if (r < 0) {
		db_rollback(db);
		return r;
	}
	*ret = d;
	return result;
}

int devices_list(struct db *db, int (*fn)(void *ctx, const struct device *d), void *ctx)
{
	sqlite3_stmt *st;
	struct device d;
	int r = db_prepare(db, "SELECT " COLS " FROM devices ORDER BY n", &st);
	int rc;
	if (r < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_row(st, &d);
		r = fn(ctx, &d);
		if (r < 0)
			break;
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = db_error(db, rc, "list devices");
	sqlite3_finalize(st);
	return r < 0 ? r : 0;
}

int devices_with_action(struct db *db, int (*fn)(void *ctx, const struct device *d), void *ctx)
{
	sqlite3_stmt *st;
	struct device d;
	int r = db_prepare(db, "SELECT " COLS " FROM devices WHERE action != '' ORDER BY n LIMIT 500", &st);
	int rc;
	if (r < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_row(st, &d);
		r = fn(ctx, &d);
		if (r < 0)
			break;
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = db_error(db, rc, "list device actions");
	sqlite3_finalize(st);
	return r < 0 ? r : 0;
}

static int set_state(struct db *db, const char *id, const char *state, const char *action, const char *reason)
{
	sqlite3_stmt *st;
	char now[32];
	int r = db_prepare(
	    db, "UPDATE devices SET state = ?, action = ?, reason = ?, updated_at = ? WHERE id = ?", &st);
	if (r < 0)
		return r;
	db_now(now);
	sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, id, -1, SQLITE_STATIC);
	return step_done(db, st, "update device state");
}

/* The claim id among the serial's claimers whose pairing code is `code` (digits only, spaces
 * and dashes ignored): the bound one first.  1 found (client filled), 0 none, -errno. */
static int claimer_by_code(struct db *db, const struct device *d, const char *code, char *client,
			   size_t clientlen)
{
	char want[DEVICE_CODE_LEN + 1], got[DEVICE_CODE_LEN + 1];
	size_t n = 0;
	sqlite3_stmt *st;
	int rc, r;

	for (const char *p = code; *p; p++) {
		if (*p == ' ' || *p == '-')
			continue;
		if (*p < '0' || *p > '9' || n >= DEVICE_CODE_LEN)
			return 0;
		want[n++] = *p;
	}
	want[n] = '\0';
	if (n != DEVICE_CODE_LEN)
		return 0;
	if (d->claim_client[0]) {
		devices_pairing_code(d->claim_client, got);
		if (strcmp(got, want) == 0) {
			snprintf(client, clientlen, "%s", d->claim_client);
			return 1;
		}
	}
	r = db_prepare(db,
		       "SELECT client FROM device_claims WHERE serial = ? AND client != ? AND kind = ? "
		       "ORDER BY last_s DESC",
		       &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, d->serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, d->claim_client, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, d->kind, -1, SQLITE_STATIC);
	r = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char c[DEVICE_CLIENT_MAX];
		db_column_text(st, 0, c, sizeof(c));
		devices_pairing_code(c, got);
		if (strcmp(got, want) == 0) {
			snprintf(client, clientlen, "%s", c);
			r = 1;
			break;
		}
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_error(db, rc, "read claims");
	sqlite3_finalize(st);
	return r;
}

/* Binds the device to the claimer staff chose by its code and forgets the other claimers. */
static int bind_claimer(struct db *db, const char *actor, const struct device *d, const char *client)
{
	sqlite3_stmt *st;
	int r;
	if (strcmp(client, d->claim_client) != 0) {
		r = db_prepare(db,
			       "UPDATE devices SET claim_client = c.client, model = c.model, firmware = "
			       "c.firmware, capabilities = c.capabilities FROM (SELECT * FROM device_claims "
			       "WHERE client = ?) AS c WHERE devices.id = ?",
			       &st);
		if (r < 0)
			return r;
		sqlite3_bind_text(st, 1, client, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, d->id, -1, SQLITE_STATIC);
		r = step_done(db, st, "bind claimer");
		if (r < 0)
			return r;
		r = audit_device(db, actor, "device.rebind", d,
				 "staff typed the pairing code of another claimer of this serial");
		if (r < 0)
			return r;
	}
	r = db_prepare(db, "DELETE FROM device_claims WHERE serial = ? AND client != ?", &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, d->serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, client, -1, SQLITE_STATIC);
	return step_done(db, st, "forget other claimers");
}

int devices_decide(struct db *db, const char *id, const char *verb, const char *actor, const char *reason,
		   const char *code, struct device *ret, char *why, size_t whylen)
{
	struct device d;
	char rs[DEVICE_REASON_MAX], action[32];
	const char *to, *act;
	int r;

	why[0] = '\0';
	safe_text(reason, rs, sizeof(rs));
	if (strcmp(verb, "approve") == 0) {
		to = "approved";
		act = "approve";
	} else if (strcmp(verb, "reject") == 0) {
		to = "rejected";
		act = "reject";
	} else if (strcmp(verb, "revoke") == 0) {
		to = "revoked";
		act = "revoke";
	} else {
		snprintf(why, whylen, "unknown decision %.20s", verb);
		return -EINVAL;
	}
	r = db_begin(db);
	if (r < 0) {
		snprintf(why, whylen, "cannot write the store");
		return r;
	}
	r = devices_get(db, id, &d);
	if (r == -ENOENT) {
		snprintf(why, whylen, "no device with id or serial %.64s", id);
		goto out;
	}
	if (r < 0)
		goto out;
	const char *s = d.state;
	if ((strcmp(verb, "approve") == 0 && (strcmp(s, "approved") == 0 || strcmp(s, "active") == 0)) ||
	    strcmp(s, to) == 0) {
		snprintf(why, whylen, "device %s is already %s", d.id, s);
		r = -EEXIST;
		goto out;
	}
	if (strcmp(verb, "reject") == 0 && strcmp(s, "pending") != 0) {
		snprintf(why, whylen, "device %s is %s; only a pending device can be rejected (use revoke)",
			 d.id, s);
		r = -EACCES;
		goto out;
	}
	if (strcmp(verb, "revoke") == 0 && strcmp(s, "approved") != 0 && strcmp(s, "active") != 0) {
		snprintf(why, whylen, "device %s is %s; only an approved device can be revoked", d.id, s);
		r = -EACCES;
		goto out;
	}
	if (strcmp(verb, "approve") == 0) {
		/* Approval sends credentials to one claim id: the one whose pairing code staff read
		 * on the physical device, never merely the last or first to say hello. */
		char client[DEVICE_CLIENT_MAX];
		if (!code || !code[0]) {
			snprintf(why, whylen,
				 "type the %d-digit pairing code that device %s shows on its screen or log",
				 DEVICE_CODE_LEN, d.id);
			r = -ENOKEY;
			goto out;
		}
		r = claimer_by_code(db, &d, code, client, sizeof(client));
		if (r < 0)
			goto out;
		if (r == 0) {
			snprintf(why, whylen,
				 "the pairing code does not match any device that said hello with serial %s; "
				 "read the code again on the device itself",
				 d.serial);
			r = -EKEYREJECTED;
			goto out;
		}
		r = bind_claimer(db, actor, &d, client);
		if (r < 0)
			goto out;
	}
	r = set_state(db, d.id, to, act, rs);
	if (r < 0)
		goto out;
	snprintf(action, sizeof(action), "device.%s", verb);
	r = audit_device(db, actor, action, &d, rs);
	if (r == 0)
		r = get_by(db, "id", d.id, &d);
out:
	if (r == 0)
		r = db_commit(db);
	if (r < 0) {
		db_rollback(db);
		if (!why[0])
			snprintf(why, whylen, "cannot record the decision: %s", strerror(-r));
		return r;
	}
	*ret = d;
	return 0;
}

int devices_action_done(struct db *db, const char *id, const char *action)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "UPDATE devices SET action = '' WHERE id = ? AND action = ?", &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, action, -1, SQLITE_STATIC);
	return step_done(db, st, "clear device action");
}

int devices_mark_active(struct db *db, const char *id)
{
	struct device d;
	int r = db_begin(db);
	if (r < 0)
		return r;
	r = get_by(db, "id", id, &d);
	if (r == 0 && strcmp(d.state, "approved") == 0) {
		r = set_state(db, id, "active", strcmp(d.action, "approve") == 0 ? "" : d.action, d.reason);
		if (r == 0)
			r = audit_device(db, "motcuad", "device.active", &d,
					 "first connection with its own credentials");
	}
	if (r == 0)
		r = db_commit(db);
	if (r < 0)
		db_rollback(db);
	return r;
}

int devices_set_presence(struct db *db, const char *id, const char *presence, int64_t last_seen)
{
	sqlite3_stmt *st;
	int r =
	    db_prepare(db,
		       "UPDATE devices SET presence = COALESCE(?, presence), last_seen = MAX(last_seen, ?) "
		       "WHERE id = ?",
		       &st);
	if (r < 0)
		return r;
	if (presence)
		sqlite3_bind_text(st, 1, presence, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 1);
	sqlite3_bind_int64(st, 2, last_seen);
	sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
	return step_done(db, st, "update presence");
}

int devices_doc_link(struct db *db, const char *device, const char *device_doc_id, const char *doc_id,
		     const char *session)
{
	sqlite3_stmt *st;
	int r = db_prepare(db,
			   "INSERT OR IGNORE INTO device_docs(device, device_doc_id, doc_id, session) "
			   "VALUES(?, ?, ?, ?)",
			   &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, device_doc_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, doc_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, session, -1, SQLITE_STATIC);
	return step_done(db, st, "link device document");
}

int devices_cmd_queue(struct db *db, const char *device, const char *cmd, const char *body, int64_t *ret_id)
{
	sqlite3_stmt *st;
	char now[32];
	int r = db_prepare(db,
			   "INSERT INTO device_commands(device, cmd, body, state, created_at, updated_at) "
			   "VALUES(?, ?, ?, 'queued', ?, ?)",
			   &st);
	if (r < 0)
		return r;
	db_now(now);
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, cmd, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, body, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
	r = step_done(db, st, "queue device command");
	if (r == 0)
		*ret_id = sqlite3_last_insert_rowid(db_handle(db));
	return r;
}

static void read_cmd(sqlite3_stmt *st, struct device_cmd *c)
{
	memset(c, 0, sizeof(*c));
	c->id = sqlite3_column_int64(st, 0);
	db_column_text(st, 1, c->device, sizeof(c->device));
	db_column_text(st, 2, c->cmd, sizeof(c->cmd));
	db_column_text(st, 3, c->body, sizeof(c->body));
	db_column_text(st, 4, c->state, sizeof(c->state));
	db_column_text(st, 5, c->result, sizeof(c->result));
}

int devices_cmd_get(struct db *db, int64_t id, struct device_cmd *ret)
{
	sqlite3_stmt *st;
	int r = db_prepare(
	    db, "SELECT id, device, cmd, body, state, result FROM device_commands WHERE id = ?", &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_cmd(st, ret);
	else
		r = rc == SQLITE_DONE ? -ENOENT : db_error(db, rc, "read device command");
	sqlite3_finalize(st);
	return r;
}

int devices_cmd_queued(struct db *db, int limit, int (*fn)(void *ctx, const struct device_cmd *c), void *ctx)
{
	sqlite3_stmt *st;
	struct device_cmd c;
	int r = db_prepare(db,
			   "SELECT id, device, cmd, body, state, result FROM device_commands "
			   "WHERE state = 'queued' ORDER BY id LIMIT ?",
			   &st);
	int rc;
	if (r < 0)
		return r;
	sqlite3_bind_int(st, 1, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_cmd(st, &c);
		r = fn(ctx, &c);
		if (r < 0)
			break;
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = db_error(db, rc, "list device commands");
	sqlite3_finalize(st);
	return r < 0 ? r : 0;
}

int devices_cmd_set(struct db *db, int64_t id, const char *state, const char *result)
{
	sqlite3_stmt *st;
	char now[32];
	/* Forward only: queued -> sent -> done/failed; an ack may overtake "sent". */
	int r = db_prepare(
	    db,
	    "UPDATE device_commands SET state = ?, result = ?, updated_at = ? "
	    "WHERE id = ? AND state NOT IN ('done', 'failed') AND NOT (? = 'sent' AND state = 'sent')",
	    &st);
	if (r < 0)
		return r;
	db_now(now);
	sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, result, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, id);
	sqlite3_bind_text(st, 5, state, -1, SQLITE_STATIC);
	return step_done(db, st, "update device command");
}
