/* Device rows, staff decisions (audited in the same transaction), presence, document links
 * and device commands. */
#include "store/devices.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

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
	"last_seen, reason, created_at, updated_at"

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
}

static int get_by(struct db *db, const char *where, const char *key, struct device *ret)
{
	char sql[256];
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

int devices_hello(struct db *db, const struct device_hello *h, const char *claim_client, int auto_approve,
		  const char *actor, struct device *ret)
{
	sqlite3_stmt *st = NULL;
	struct device d;
	char now[32];
	int r, isnew = 0;

	db_now(now);
	r = db_begin(db);
	if (r < 0)
		return r;
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
		r = get_by(db, "id", id, &d);
		if (r < 0)
			goto out;
		r = audit_device(db, actor, "device.hello", &d, "");
		if (r == 0 && auto_approve)
			r = audit_device(db, actor, "device.approve", &d,
					 "serial in [devices] auto_approve_serials");
		isnew = 1;
	} else if (r == 0) {
		r = db_prepare(
		    db,
		    "UPDATE devices SET model = ?, firmware = ?, capabilities = ?, claim_client = ?, "
		    "updated_at = ? WHERE id = ?",
		    &st);
		if (r < 0)
			goto out;
		sqlite3_bind_text(st, 1, h->model, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, h->firmware, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, h->capabilities, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, claim_client, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, d.id, -1, SQLITE_STATIC);
		r = step_done(db, st, "update device");
		if (r == 0)
			r = get_by(db, "id", d.id, &d);
	}
out:
	if (r == 0)
		r = db_commit(db);
	if (r < 0) {
		db_rollback(db);
		return r;
	}
	*ret = d;
	return isnew;
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

int devices_decide(struct db *db, const char *id, const char *verb, const char *actor, const char *reason,
		   struct device *ret, char *why, size_t whylen)
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
