/* Dossier rules on top of store/dossiers.c: the catalogue says what a procedure needs, the
 * recognition result says what a scan is, the calendar says when it is due. */
#include "gateway/dossier/dossier.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/blob.h"
#include "store/db.h"
#include "gateway/dossier/process.h"
#include "store/docs.h"
#include "store/recog.h"

static int refuse(char *why, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int refuse(char *why, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, DOSSIER_WHY_MAX, fmt, ap);
	va_end(ap);
	return err;
}

/* The stored form of an applicant's 12-digit number: a keyed hash (store/blob.h) of its
 * SHA-256, never the number nor a plain hash of it (10^12 numbers, fewer with the province
 * and birth-year digits, are all tried in seconds).  Of its SHA-256, so that rows stored
 * before keying (plain SHA-256) were converted to the same value (dossiers_key_ids). */
static void id_hash(struct blobs *b, const char *s, char out[65])
{
	unsigned char md[32];
	char hexmd[65];
	unsigned len = 0;
	EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(hexmd + 2 * i, 3, "%02x", md[i]);
	blob_keyed_hash(b, DOSSIER_ID_PURPOSE, hexmd, 64, out);
	OPENSSL_cleanse(md, sizeof(md));
	OPENSSL_cleanse(hexmd, sizeof(hexmd));
}

void dossier_id_hash(struct blobs *b, const char *number, char out[65])
{
	id_hash(b, number, out);
}

static int id_number_ok(const char *s)
{
	if (strlen(s) != 12)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

struct membuf {
	char *p;
	size_t len, cap;
};

static int sink(void *ctx, const void *buf, size_t len)
{
	struct membuf *m = ctx;
	if (m->len + len + 1 > m->cap)
		return -EMSGSIZE;
	memcpy(m->p + m->len, buf, len);
	m->len += len;
	m->p[m->len] = 0;
	return 0;
}

static int is_id_card_type(const char *t)
{
	return strcmp(t, "id_card_front") == 0 || strcmp(t, "id_card_back") == 0;
}

/* Reads the name and number of a recognised ID card document: staff's latest correction when
 * there is one (what the document page shows), else the recogniser's result. */
static int applicant_from_card(struct db *db, struct blobs *b, const char *doc_id, struct dossier_row *d,
			       char *why)
{
	struct recog_row rr;
	struct recog_correction c;
	struct membuf m = { 0 };
	json_t *j = NULL;
	const char *result;
	int r = recog_get(db, doc_id, &rr);
	if (r == -ENOENT)
		return refuse(why, -EINVAL,
			      "document %s has not been recognised (is it an image of an ID card?)", doc_id);
	if (r < 0)
		return refuse(why, r, "cannot read the recognition of document %s", doc_id);
	if (strcmp(rr.state, "done") != 0)
		return refuse(why, -EAGAIN, "document %s is still being recognised (%s); try again shortly",
			      doc_id, rr.state);
	r = recog_correction_get(db, doc_id, &c);
	if (r < 0 && r != -ENOENT)
		return refuse(why, r, "cannot read the corrections of document %s", doc_id);
	result = r == 0 ? c.result_sha256 : rr.result_sha256;
	m.cap = 1 << 20;
	m.p = malloc(m.cap);
	if (!m.p)
		return -ENOMEM;
	r = blob_get(b, result, sink, &m);
	if (r == 0)
		j = json_loadb(m.p, m.len, 0, NULL);
	free(m.p);
	/* A correction may also set the type (a card the recogniser could not tell). */
	const char *type = json_string_value(json_object_get(j, "type"));
	if (!type)
		type = rr.type;
	if (!is_id_card_type(type)) {
		r = refuse(why, -EINVAL, "document %s was recognised as '%s', not an ID card", doc_id, type);
		json_decref(j);
		return r;
	}
	json_t *f = json_object_get(j, "fields");
	const char *name = json_string_value(json_object_get(f, "full_name"));
	const char *num = json_string_value(json_object_get(f, "id_number"));
	if (r < 0 || !name || !num || !id_number_ok(num) || strlen(name) >= sizeof(d->applicant_name)) {
		json_decref(j);
		return refuse(
		    why, -EINVAL,
		    "the ID card in document %s gave no readable name and 12-digit number; type them "
		    "instead",
		    doc_id);
	}
	snprintf(d->applicant_name, sizeof(d->applicant_name), "%s", name);
	id_hash(b, num, d->applicant_id_hash);
	snprintf(d->applicant_id_tail, sizeof(d->applicant_id_tail), "%s", num + 8);
	snprintf(d->applicant_doc, sizeof(d->applicant_doc), "%s", doc_id);
	json_decref(j);
	return 0;
}

int dossier_open(struct db *db, struct blobs *b, const struct catalog *cat, const char *actor,
		 const char *procedure, const struct dossier_applicant *a, const char *source,
		 int64_t *ret_id, char why[DOSSIER_WHY_MAX])
{
	struct dossier_row d;
	int r;
	memset(&d, 0, sizeof(d));
	if (!catalog_find(cat, procedure))
		return refuse(why, -EINVAL, "unknown procedure '%.32s' (see the catalogue)", procedure);
	snprintf(d.procedure, sizeof(d.procedure), "%s", procedure);
	if (!source || !docs_token_valid(source, sizeof(d.source)))
		return refuse(why, -EINVAL, "source must be 1-63 of [a-z0-9._-]");
	snprintf(d.source, sizeof(d.source), "%s", source);
	if (a->doc_id && a->doc_id[0]) {
		r = applicant_from_card(db, b, a->doc_id, &d, why);
		if (r < 0)
			return r;
	} else {
		if (!a->name || !a->name[0] || strlen(a->name) >= sizeof(d.applicant_name))
			return refuse(why, -EINVAL, "applicant name must be 1-127 bytes");
		if (!a->id_number || !id_number_ok(a->id_number))
			return refuse(why, -EINVAL,
				      "applicant id_number must be the 12-digit personal number");
		snprintf(d.applicant_name, sizeof(d.applicant_name), "%s", a->name);
		id_hash(b, a->id_number, d.applicant_id_hash);
		snprintf(d.applicant_id_tail, sizeof(d.applicant_id_tail), "%s", a->id_number + 8);
	}
	r = dossiers_open(db, actor, &d, ret_id);
	if (r < 0)
		return refuse(why, r, "cannot store the dossier: %s", strerror(-r));
	return 0;
}

int dossier_attach(struct db *db, const struct catalog *cat, const char *actor, int64_t id, const char *item,
		   const char *doc_id, char why[DOSSIER_WHY_MAX])
{
	struct dossier_row d;
	struct doc_meta m;
	struct recog_row rr;
	char type[64] = "";
	int r = dossiers_get(db, id, &d);
	if (r == -ENOENT)
		return refuse(why, r, "no dossier %lld", (long long)id);
	if (r < 0)
		return refuse(why, r, "cannot read dossier %lld", (long long)id);
	const struct catalog_proc *p = catalog_find(cat, d.procedure);
	const struct catalog_doc *cd = catalog_doc_find(p, item);
	if (!cd)
		return refuse(why, -EINVAL, "procedure %s has no item '%.32s'", d.procedure, item);
	r = docs_get(db, doc_id, &m);
	if (r == -ENOENT)
		return refuse(why, r, "no document %.40s in the store", doc_id);
	if (r < 0)
		return refuse(why, r, "cannot read document %.40s", doc_id);
	if (recog_get(db, doc_id, &rr) == 0 && strcmp(rr.state, "done") == 0 && rr.type[0] &&
	    strcmp(rr.type, "other") != 0) {
		snprintf(type, sizeof(type), "%s", rr.type);
		/* A type the recogniser knows must match; one it cannot tell is left to staff. */
		if (cd->ntypes > 0) {
			int ok = 0;
			for (int i = 0; i < cd->ntypes; i++)
				ok |= strcmp(cd->types[i], type) == 0;
			if (!ok)
				return refuse(
				    why, -EINVAL,
				    "document %s was recognised as '%s', but item '%s' takes %s%s%s", doc_id,
				    type, item, cd->types[0], cd->ntypes > 1 ? " or " : "",
				    cd->ntypes > 1 ? cd->types[1] : "");
		}
	}
	r = dossiers_attach(db, actor, id, item, doc_id, type);
	if (r == -EBUSY)
		return refuse(why, r, "dossier %lld is already accepted (%s); scans can no longer be added",
			      (long long)id, d.code);
	if (r < 0)
		return refuse(why, r, "cannot attach: %s", strerror(-r));
	return r;
}

struct seen {
	char items[DOSSIER_MAX_ITEMS][32];
	int n;
};

static int collect(void *ctx, const struct dossier_item_row *it)
{
	struct seen *s = ctx;
	if (s->n < DOSSIER_MAX_ITEMS)
		snprintf(s->items[s->n++], 32, "%s", it->item);
	return 0;
}

int dossier_missing(struct db *db, const struct catalog_proc *p, const struct dossier_row *d,
		    const char *missing[], int max)
{
	struct seen s = { .n = 0 };
	int n = 0, r = dossiers_items(db, d->id, collect, &s);
	if (r < 0)
		return r;
	for (int i = 0; p && i < p->ndocs; i++) {
		const struct catalog_doc *cd = &p->docs[i];
		int have = cd->optional || (cd->id_card && d->applicant_doc[0]);
		for (int k = 0; !have && k < s.n; k++)
			have = strcmp(s.items[k], cd->key) == 0;
		if (!have) {
			if (n < max)
				missing[n] = cd->key;
			n++;
		}
	}
	return n;
}

int dossier_accept(struct db *db, const struct catalog *cat, const struct calendar *cal,
		   const struct config *cfg, const char *actor, int64_t id, const char *note, int64_t now_s,
		   struct dossier_row *ret, char why[DOSSIER_WHY_MAX])
{
	struct dossier_row d;
	const char *missing[DOSSIER_MAX_ITEMS];
	char day[11], yymmdd[7], due[11] = "";
	int y, m, dd;
	int r = dossiers_get(db, id, &d);
	if (r == -ENOENT)
		return refuse(why, r, "no dossier %lld", (long long)id);
	if (r < 0)
		return refuse(why, r, "cannot read dossier %lld", (long long)id);
	if (strcmp(d.state, "open") != 0)
		return refuse(why, -EBUSY, "dossier %lld is already accepted as %s", (long long)id, d.code);
	if (note && strlen(note) >= DOSSIER_NOTE_MAX)
		return refuse(why, -EINVAL, "the note is longer than %d bytes", DOSSIER_NOTE_MAX - 1);
	const struct catalog_proc *p = catalog_find(cat, d.procedure);
	if (!p)
		return refuse(why, -EINVAL, "procedure %s is no longer in the catalogue", d.procedure);
	int n = dossier_missing(db, p, &d, missing, DOSSIER_MAX_ITEMS);
	if (n < 0)
		return refuse(why, n, "cannot read the dossier's items");
	if (n > 0 && (!note || !note[0])) {
		size_t off = (size_t)snprintf(why, DOSSIER_WHY_MAX, "the dossier is incomplete, missing:");
		for (int i = 0; i < n && i < DOSSIER_MAX_ITEMS && off < DOSSIER_WHY_MAX; i++)
			off += (size_t)snprintf(why + off, DOSSIER_WHY_MAX - off, " %s", missing[i]);
		if (off < DOSSIER_WHY_MAX)
			snprintf(why + off, DOSSIER_WHY_MAX - off, " (staff may accept it with a note)");
		return -EINVAL;
	}
	/* The code carries the local date of receipt; the due day counts working days from
	 * the receipt (the next working day after the cut-off). */
	int32_t today = calendar_local_day(cal, now_s, NULL);
	calendar_ymd(today, &y, &m, &dd);
	snprintf(yymmdd, sizeof(yymmdd), "%02u%02u%02u", (unsigned)y % 100u, (unsigned)m % 100u,
		 (unsigned)dd % 100u);
	calendar_format(today, day);
	if (p->days >= 0)
		calendar_format(calendar_due(cal, now_s, p->days), due);
	r = dossiers_accept(db, actor, id, cfg->agency_code, cfg->agency_code, yymmdd, now_s, due, note, ret);
	if (r == -ENOSPC)
		return refuse(why, r, "all 9999 dossier numbers of %s are used", day);
	if (r == -EBUSY)
		return refuse(why, r, "dossier %lld was accepted meanwhile", (long long)id);
	if (r < 0)
		return refuse(why, r, "cannot store the acceptance: %s", strerror(-r));
	/* Handed to an official of the procedure's role at once; when nobody holds the role it
	 * waits unassigned on the one-stop officer's list (shown there), never refused. */
	char awhy[DOSSIER_WHY_MAX];
	if (dossier_assign(db, cat, cfg, actor, id, "", now_s, awhy) == 0 && ret)
		dossiers_get(db, id, ret);
	return 0;
}

const char *dossier_flag(const struct calendar *cal, const struct dossier_row *d, int32_t today,
			 int near_days)
{
	int32_t due;
	if (strcmp(d->state, "accepted") != 0 || !d->due_day[0] || dossiers_status_final(d->city_status) ||
	    dossier_step_done(d->step) || d->pause_day[0] || (due = dossier_effective_due(cal, d, today)) < 0)
		return "";
	if (today > due)
		return "overdue";
	if (today == due)
		return "due_today";
	if (calendar_working_between(cal, today, due) <= near_days)
		return "near_due";
	return "";
}

void dossier_receipt(const struct config *cfg, const struct catalog_proc *p, const struct dossier_row *d,
		     struct queue_receipt *r, char buf[][QUEUE_RECEIPT_TEXT], char *qr, size_t qrlen)
{
	int n = 0;
	memset(r, 0, sizeof(*r));
	r->title = "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ";
	snprintf(buf[n++], QUEUE_RECEIPT_TEXT, "Mã hồ sơ: %s", d->code);
	snprintf(buf[n++], QUEUE_RECEIPT_TEXT, "Thủ tục: %s", p ? p->name : d->procedure);
	snprintf(buf[n++], QUEUE_RECEIPT_TEXT, "Ngày nhận: %.10s", d->accepted_at);
	snprintf(buf[n++], QUEUE_RECEIPT_TEXT, "Hẹn trả: %s", d->due_day[0] ? d->due_day : "theo quy định");
	if (p && p->fee_text[0])
		snprintf(buf[n++], QUEUE_RECEIPT_TEXT, "Lệ phí: %s", p->fee_text);
	for (int i = 0; i < n; i++)
		r->lines[i] = buf[i];
	r->nlines = n;
	snprintf(qr, qrlen, "%s%s", cfg->dossier_tracking_url, d->code);
	r->qr = qr;
}

int dossier_print_receipt(const struct config *cfg, const struct catalog_proc *p, const struct dossier_row *d,
			  char *why, size_t whylen)
{
	struct queue_receipt r;
	char buf[QUEUE_RECEIPT_LINES][QUEUE_RECEIPT_TEXT], qr[CONFIG_PATH_MAX + DOSSIER_CODE_MAX];
	if (strcmp(cfg->ticket_printer, "auto") != 0) {
		snprintf(why, whylen, "printing is off ([queue] ticket_printer = none)");
		return -ENODEV;
	}
	dossier_receipt(cfg, p, d, &r, buf, qr, sizeof(qr));
	return queue_hooks_print_receipt(cfg, &r, why, whylen);
}
