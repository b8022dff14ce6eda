/* Certified copies on the staff page (the book's latest numbers, issuing a copy from a stored
 * scan through copy_issue() like `motcuactl copy issue`, the signed PDF to download) and the
 * public /verify page: anyone pastes a seal or uploads a copy's PDF and reads one verdict
 * with its reason, without an account and without JavaScript (verify_seal, verify_copy_pdf
 * against the trust list in force). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/daemon.h"
#include "gateway/log.h"
#include "gateway/sign/copy.h"
#include "gateway/sign/verify.h"
#include "store/copies.h"
#include "store/docs.h"
#include "web/internal.h"
#include "web/labels.h"

#define HTML "text/html; charset=utf-8"
#define COPIES_SHOWN 50

struct copylist {
	struct req *r;
	struct buf *b;
	int rows;
};

static int copy_row(void *ctx, const struct copy_row *c)
{
	struct copylist *x = ctx;
	struct buf *b = x->b;
	x->rows++;
	buf_printf(b, "<tr><td class=\"num\">%lld</td><td>%02lld/%lld</td>", (long long)c->number,
		   (long long)c->book, (long long)c->year);
	buf_puts(b, "<td>");
	buf_label(b, x->r->lang, LG_COPY_STATE, c->state);
	buf_puts(b, "</td>");
	web_td(b, c->official);
	buf_printf(b, "<td><a href=\"/documents/%s\"><code>%.12s</code></a></td>", c->original_id,
		   c->original_id);
	buf_puts(b, "<td>");
	buf_when_iso(b, c->issued_at[0] ? c->issued_at : c->created_at);
	buf_puts(b, "</td>");
	buf_puts(b, "<td>");
	if (c->doc_id[0]) {
		buf_printf(b, "<a href=\"/documents/%s/raw?download=1\" download>", c->doc_id);
		buf_esc(b, T(x->r->lang, S_CP_DOWNLOAD));
		buf_puts(b, "</a>");
	} else {
		buf_esc(b, c->reason);
	}
	buf_puts(b, "</td></tr>");
	return 0;
}

/* Originals a copy can be made of: JPEG scans (copy_issue embeds them unchanged). */
static int jpeg_want(void *ctx, const struct doc_meta *m, const char *type)
{
	(void)ctx;
	(void)type;
	return strcmp(m->content_type, "image/jpeg") == 0 && strcmp(m->kind, "certified-copy") != 0 &&
	    strcmp(m->kind, "id-face") != 0;
}

/* The copies page; refused (HTML) shows a refused issue form again with what was typed. */
static enum MHD_Result copies_page(struct req *r, unsigned status, const char *refused, const char *field)
{
	struct db *db = web_db(r);
	struct buf b;
	char doc[DOC_ID_LEN + 16] = "", official[COPY_OFFICIAL_MAX] = "";
	if (!db)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	buf_init(&b, WEB_PAGE_MAX);
	web_page_begin(r, &b, S_NAV_COPIES, "/copies");
	const char *msg = web_arg(r, "msg"), *n = web_arg(r, "n");
	if (!refused && msg && strcmp(msg, "issued") == 0 && n && strlen(n) < 64) {
		struct buf m;
		buf_init(&m, 512);
		buf_t(&m, r->lang, S_CP_ISSUED, 0, 0, n);
		web_notice(&b, "ok", m.p ? m.p : "");
		buf_free(&m);
	}
	if (refused) {
		if (web_field(r, "doc", doc, sizeof(doc)) < 0)
			doc[0] = '\0';
		if (web_field(r, "official", official, sizeof(official)) < 0)
			official[0] = '\0';
	} else {
		const char *orig = web_arg(r, "doc");
		snprintf(doc, sizeof(doc), "%s", orig && strlen(orig) < DOC_ID_LEN ? orig : "");
	}
	/* Issue: tick the originals' scans (or type one's code) and name the official. */
	buf_puts(&b, "<section aria-labelledby=\"cp-issue\"><h2 id=\"cp-issue\">");
	buf_esc(&b, T(r->lang, S_CP_ISSUE));
	buf_puts(&b, "</h2>");
	if (refused)
		buf_printf(&b, "<p class=\"err\" id=\"form-error\" role=\"alert\">%s</p>", refused);
	buf_puts(&b, "<form method=\"post\" action=\"/copies\">");
	web_csrf_input(r, &b);
	struct web_pick wp = { .id = "cp-pick", .max = 15, .want = jpeg_want };
	web_pick_table(r, &b, &wp);
	buf_puts(&b, "<p><label for=\"cp-doc\">");
	buf_esc(&b, T(r->lang, S_PK_OR_CODE));
	buf_puts(&b, "</label><br><input id=\"cp-doc\" name=\"doc\" size=\"34\" maxlength=\"40\"");
	if (refused && strcmp(field, "doc") == 0)
		buf_puts(&b, " aria-invalid=\"true\" aria-describedby=\"form-error\" class=\"invalid\"");
	buf_puts(&b, " value=\"");
	buf_esc(&b, doc);
	buf_puts(&b, "\"></p><p><label for=\"cp-official\">");
	buf_esc(&b, T(r->lang, S_CP_OFFICIAL));
	buf_printf(
	    &b,
	    "</label><br><input id=\"cp-official\" name=\"official\" size=\"40\" maxlength=\"%d\" required",
	    COPY_OFFICIAL_MAX - 1);
	if (refused && strcmp(field, "official") == 0)
		buf_puts(&b, " aria-invalid=\"true\" aria-describedby=\"form-error\" class=\"invalid\"");
	buf_puts(&b, " value=\"");
	buf_esc(&b, official);
	buf_puts(&b, "\"></p><p><button>");
	buf_esc(&b, T(r->lang, S_CP_ISSUE_DO));
	buf_puts(&b, "</button></p></form></section>");

	struct copylist x = { .r = r, .b = &b };
	buf_puts(&b, "<section aria-labelledby=\"cp-book\"><h2 id=\"cp-book\">");
	buf_esc(&b, T(r->lang, S_CP_BOOK));
	buf_puts(&b, "</h2><table id=\"copies\"><thead><tr>");
	web_th(&b, r, S_CP_NUMBER);
	web_th(&b, r, S_CP_BOOK_YEAR);
	web_th(&b, r, S_DEV_STATE);
	web_th(&b, r, S_CP_OFFICIAL);
	web_th(&b, r, S_CP_ORIGINAL);
	web_th(&b, r, S_CREATED);
	web_th(&b, r, S_CP_PDF);
	buf_puts(&b, "</tr></thead><tbody>");
	if (copies_list(db, COPIES_SHOWN, copy_row, &x) < 0) {
		buf_free(&b);
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	}
	if (x.rows == 0) {
		buf_puts(&b, "<tr><td colspan=\"7\">");
		buf_esc(&b, T(r->lang, S_NONE));
		buf_puts(&b, "</td></tr>");
	}
	buf_puts(&b, "</tbody></table><p><a href=\"/verify\">");
	buf_esc(&b, T(r->lang, S_VERIFY_TITLE));
	buf_puts(&b, "</a></p></section>");
	web_page_end(r, &b);
	return web_send(r, status, HTML, &b);
}

enum MHD_Result page_copies(struct req *r)
{
	return copies_page(r, MHD_HTTP_OK, NULL, "");
}

#define ISSUE_MAX 16

enum MHD_Result post_copies(struct req *r)
{
	struct db *db = web_db(r);
	char doc[DOC_ID_LEN + 16], official[COPY_OFFICIAL_MAX], why[512] = "", loc[160];
	char ids[ISSUE_MAX + 1][DOC_ID_LEN];
	struct copy_result *res = malloc(sizeof(*res));
	struct buf m, done;
	const char *field = "";
	int rc = 0, issued = 0;
	if (!db || !res) {
		free(res);
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	}
	if (web_field(r, "doc", doc, sizeof(doc)) < 0 ||
	    web_field(r, "official", official, sizeof(official)) < 0) {
		free(res);
		return web_error(r, MHD_HTTP_BAD_REQUEST, S_BAD_REQUEST);
	}
	buf_init(&m, 2048);
	buf_init(&done, 128);
	int n = web_picks(r, ids, ISSUE_MAX);
	if (n < 0) {
		buf_esc(&m, T(r->lang, S_CPE_PICK_NONE));
		goto refused;
	}
	if (doc[0]) {
		rc = web_doc_resolve(r, doc, ids[n]);
		if (rc < 0) {
			field = "doc";
			web_doc_refusal(r, &m, rc, doc);
			goto refused;
		}
		n++;
	}
	if (n == 0) {
		buf_esc(&m, T(r->lang, S_CPE_PICK_NONE));
		goto refused;
	}
	if (strlen(official) < 2) {
		field = "official";
		buf_esc(&m, T(r->lang, S_CPE_OFFICIAL));
		goto refused;
	}
	for (int i = 0; i < n; i++) {
		rc = copy_issue(r->w->store, db, ids[i], official, r->actor, res, why, sizeof(why));
		if (rc < 0) {
			log_info("web: no copy of document %s: %s", ids[i], why);
			field = rc == -EINVAL ? "official" : "";
			buf_esc(&m,
				T(r->lang,
				  rc == -EINVAL            ? S_CPE_OFFICIAL
				      : rc == -ENOENT      ? S_NOT_FOUND
				      : rc == -EMEDIUMTYPE ? S_CPE_NOT_JPEG
				      : rc == -ENOKEY      ? S_CPE_NO_KEY
							   : S_DSE_STORE));
			if (issued) {
				buf_puts(&m, " ");
				buf_t(&m, r->lang, S_CPE_ISSUED_N, issued, 0, NULL);
			}
			if (issued)
				web_status_changed();
			goto refused;
		}
		issued++;
		buf_printf(&done, "%s%lld/%lld", done.len ? ", " : "", (long long)res->number,
			   (long long)res->year);
	}
	free(res);
	web_status_changed();
	{
		struct buf l;
		buf_init(&l, sizeof(loc));
		buf_puts(&l, "/copies?msg=issued&n=");
		buf_url(&l, done.p ? done.p : "");
		snprintf(loc, sizeof(loc), "%s", l.p ? l.p : "/copies");
		buf_free(&l);
	}
	buf_free(&m);
	buf_free(&done);
	return web_redirect(r, loc);
refused:
	free(res);
	buf_free(&done);
	enum MHD_Result ret = copies_page(r,
					  rc == -ENOENT       ? MHD_HTTP_NOT_FOUND
					      : rc == -ENOKEY ? MHD_HTTP_SERVICE_UNAVAILABLE
							      : MHD_HTTP_CONFLICT,
					  m.p ? m.p : "", field);
	buf_free(&m);
	return ret;
}

/* ---- public verification --------------------------------------------------------------- */

static void verify_forms(struct req *r, struct buf *b)
{
	buf_puts(b, "<p>");
	buf_esc(b, T(r->lang, S_VF_INTRO));
	buf_puts(b, "</p><form method=\"post\" action=\"/verify\"><p><label for=\"vf-seal\">");
	buf_esc(b, T(r->lang, S_VF_SEAL));
	buf_puts(b,
		 "</label><br><textarea id=\"vf-seal\" name=\"seal\" rows=\"4\" cols=\"60\" "
		 "required></textarea></p><p><button>");
	buf_esc(b, T(r->lang, S_VF_CHECK));
	buf_puts(b,
		 "</button></p></form><form method=\"post\" action=\"/verify\" "
		 "enctype=\"multipart/form-data\"><p><label for=\"vf-pdf\">");
	buf_esc(b, T(r->lang, S_VF_PDF));
	buf_puts(b,
		 "</label><br><input id=\"vf-pdf\" type=\"file\" name=\"pdf\" accept=\"application/pdf\" "
		 "required></p><p><button>");
	buf_esc(b, T(r->lang, S_VF_CHECK));
	buf_puts(b, "</button></p></form>");
}

enum MHD_Result page_verify(struct req *r)
{
	struct buf b;
	if (strcmp(r->path, "/verify") != 0)
		return web_error(r, MHD_HTTP_NOT_FOUND, S_NOT_FOUND);
	buf_init(&b, WEB_PAGE_MAX);
	web_page_begin(r, &b, S_VERIFY_TITLE, "");
	verify_forms(r, &b);
	web_page_end(r, &b);
	return web_send(r, MHD_HTTP_OK, HTML, &b);
}

/* What a multipart /verify body holds for us: the seal field or the PDF's bytes, parsed as
 * the body arrives.  The PDF is the only large thing kept; its memory is taken from the
 * web's budget (web_hold) before it is allocated, in steps, so that many visitors at once
 * cannot make motcuad hold more than [web] verify_memory_mb. */
#define PDF_STEP (1024 * 1024)

struct vparts {
	struct mp_parser mp;
	char seal[SEAL_TEXT_MAX + 64];
	unsigned char *pdf;
	size_t len, cap, limit;
	int in_pdf, has_pdf, err;
	struct req *r;
};

static int vp_field(void *ctx, const char *name, const char *value, size_t len)
{
	struct vparts *v = ctx;
	(void)len;
	if (strcmp(name, "seal") == 0)
		snprintf(v->seal, sizeof(v->seal), "%s", value);
	return 0;
}

static int vp_begin(void *ctx, const char *name, const char *filename)
{
	struct vparts *v = ctx;
	(void)filename;
	v->in_pdf = strcmp(name, "pdf") == 0 && !v->has_pdf;
	v->has_pdf |= v->in_pdf;
	return 0;
}

/* Room for n more bytes of the PDF: memory taken from the budget first, then allocated.
 * Twice what is allocated is taken: checking the signature copies the signed bytes once
 * more (verify_copy_pdf), and a request that has its PDF must be able to finish without
 * waiting for memory that others hold. */
static int vp_room(struct vparts *v, size_t n)
{
	if (n > v->limit || v->len + n > v->limit)
		return -EMSGSIZE;
	if (v->len + n <= v->cap)
		return 0;
	size_t cap = (v->len + n + PDF_STEP - 1) / PDF_STEP * PDF_STEP;
	if (cap > v->limit)
		cap = v->limit;
	int r = web_hold(v->r, 2 * (int64_t)(cap - v->cap));
	if (r < 0)
		return r;
	unsigned char *p = realloc(v->pdf, cap);
	if (!p)
		return -ENOMEM; /* what was held is given back when the request completes */
	v->pdf = p;
	v->cap = cap;
	return 0;
}

static int vp_data(void *ctx, const char *data, size_t len)
{
	struct vparts *v = ctx;
	if (!v->in_pdf)
		return 0;
	int r = vp_room(v, len);
	if (r < 0)
		return r;
	memcpy(v->pdf + v->len, data, len);
	v->len += len;
	return 0;
}

static int vp_end(void *ctx)
{
	struct vparts *v = ctx;
	v->in_pdf = 0;
	return 0;
}

int verify_begin(struct req *r, const char *content_type, int64_t content_length, int64_t limit)
{
	static const struct mp_callbacks cb = { vp_field, vp_begin, vp_data, vp_end };
	struct vparts *v = calloc(1, sizeof(*v));
	int rc;
	if (!v)
		return -ENOMEM;
	v->r = r;
	v->limit = (size_t)limit;
	rc = mp_init(&v->mp, content_type, &cb, v);
	if (rc < 0) {
		free(v);
		return -EINVAL;
	}
	r->vp = v;
	/* A body announced too large for what is left is refused before it is sent. */
	if (content_length > 0)
		rc = vp_room(v, (size_t)(content_length < limit ? content_length : limit));
	if (rc < 0)
		verify_abort(r);
	return rc;
}

int verify_feed(struct req *r, const char *data, size_t len)
{
	return mp_feed(&r->vp->mp, data, len);
}

void verify_abort(struct req *r)
{
	struct vparts *v = r->vp;
	if (!v)
		return;
	free(v->pdf);
	free(v);
	r->vp = NULL;
}

static void fmt_time(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	localtime_r(&tt, &tm);
	strftime(out, 32, "%d/%m/%Y %H:%M:%S", &tm);
}

/* The sentence for why a copy is not valid (the verifier's own text is for logs). */
static enum str reason_str(enum verify_reason w)
{
	switch (w) {
	case VR_NOT_A_SEAL: return S_VR_NOT_A_SEAL;
	case VR_SEAL_DAMAGED: return S_VR_SEAL_DAMAGED;
	case VR_SEAL_ALTERED: return S_VR_SEAL_ALTERED;
	case VR_UNKNOWN_KEY: return S_VR_UNKNOWN_KEY;
	case VR_CERT_TIME: return S_VR_CERT_TIME;
	case VR_NOT_A_PDF: return S_VR_NOT_A_PDF;
	case VR_NO_SIGNATURE: return S_VR_NO_SIGNATURE;
	case VR_PDF_DAMAGED: return S_VR_PDF_DAMAGED;
	case VR_PDF_ALTERED: return S_VR_PDF_ALTERED;
	case VR_KEYS_DIFFER: return S_VR_KEYS_DIFFER;
	case VR_NO_SEAL: return S_VR_NO_SEAL;
	case VR_NO_SCAN: return S_VR_NO_SCAN;
	case VR_SCAN_ALTERED: return S_VR_SCAN_ALTERED;
	default: return S_VR_OTHER;
	}
}

/* The issuer as people know it: this commune's name when the seal is its own, else the
 * agency code with what it is. */
static void issuer_name(struct req *r, struct buf *b, const char *code)
{
	struct config *cfg = malloc(sizeof(*cfg));
	if (cfg) {
		daemon_config_snapshot(cfg);
		if (strcmp(cfg->agency_code, code) == 0 || strcmp(cfg->commune_name, code) == 0) {
			buf_esc(b, cfg->commune_name);
			buf_puts(b, " (");
			buf_esc(b, code);
			buf_puts(b, ")");
			free(cfg);
			return;
		}
		free(cfg);
	}
	buf_esc(b, T(r->lang, S_VF_AGENCY_CODE));
	buf_puts(b, " ");
	buf_esc(b, code);
}

static void verdict_html(struct req *r, struct buf *b, const struct copy_verdict *v)
{
	int ok = v->verdict == VERDICT_VALID;
	enum str head = ok                                                      ? S_VF_VALID
	    : v->reason_code == VR_NOT_A_SEAL || v->reason_code == VR_NOT_A_PDF ? S_VF_NOT_A_SEAL
	    : v->verdict == VERDICT_UNTRUSTED                                   ? S_VF_UNTRUSTED
										: S_VF_INVALID;
	buf_printf(b,
		   "<section id=\"verdict\" data-verdict=\"%s\" aria-labelledby=\"vf-verdict\"><h2 "
		   "id=\"vf-verdict\" class=\"%s\">",
		   ok                                    ? "valid"
		       : v->verdict == VERDICT_UNTRUSTED ? "untrusted"
							 : "invalid",
		   ok ? "ok" : "err");
	buf_esc(b, T(r->lang, head));
	buf_puts(b, "</h2>");
	if (!ok) {
		buf_puts(b, "<p id=\"vf-reason\">");
		buf_esc(b, T(r->lang, S_VF_REASON));
		buf_puts(b, " ");
		buf_esc(b, T(r->lang, reason_str(v->reason_code)));
		buf_puts(b, "</p>");
		log_info("web: /verify: %s", v->reason);
	}
	if (v->test_key) {
		buf_puts(b, "<p class=\"err\">");
		buf_esc(b, T(r->lang, S_VF_TEST_KEY));
		buf_puts(b, "</p>");
	}
	/* What a seal claims is shown only when the signature proves it: an invalid or unknown
	 * seal's issuer, number and time are whatever its maker wrote. */
	if (ok && v->has_seal) {
		char when[32], hash[65];
		fmt_time(v->seal.time, when);
		for (int i = 0; i < 32; i++)
			snprintf(hash + 2 * i, 3, "%02x", v->seal.sha256[i]);
		buf_puts(b, "<dl><dt>");
		buf_esc(b, T(r->lang, S_VF_ISSUER));
		buf_puts(b, "</dt><dd id=\"vf-issuer\">");
		issuer_name(r, b, v->seal.issuer);
		buf_puts(b, "</dd><dt>");
		buf_esc(b, T(r->lang, S_CP_NUMBER));
		buf_puts(b, "</dt><dd>");
		buf_esc(b, v->number_text);
		buf_puts(b, "</dd><dt>");
		buf_esc(b, T(r->lang, S_VF_TIME));
		buf_printf(b, "</dt><dd>%s</dd><dt>", when);
		buf_esc(b, T(r->lang, S_VF_HASH));
		buf_printf(b, "</dt><dd><code>%s</code></dd>", hash);
		if (v->signer[0]) {
			buf_puts(b, "<dt>");
			buf_esc(b, T(r->lang, S_VF_SIGNER));
			buf_puts(b, "</dt><dd>");
			buf_esc(b, v->signer);
			buf_puts(b, "</dd>");
		}
		buf_puts(b, "</dl>");
	}
	buf_puts(b, "</section>");
}

enum MHD_Result post_verify(struct req *r)
{
	struct vparts *v = r->vp, paste;
	struct copy_verdict *vd = calloc(1, sizeof(*vd));
	struct trustlist *tl = NULL;
	enum MHD_Result ret;
	unsigned status = MHD_HTTP_OK;
	int rc = 0;

	if (!vd)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	if (v) {
		rc = mp_finish(&v->mp);
	} else {
		/* A pasted seal: a small urlencoded form. */
		memset(&paste, 0, sizeof(paste));
		v = &paste;
		rc = web_field(r, "seal", v->seal, sizeof(v->seal)) < 0 ? -EINVAL : 0;
	}
	if (rc == 0 && !v->has_pdf && !v->seal[0])
		rc = -EINVAL;
	if (rc < 0) {
		ret = web_error(r, MHD_HTTP_BAD_REQUEST, S_VF_NOTHING);
		goto out;
	}
	rc = copy_trustlist(&tl);
	struct buf b;
	buf_init(&b, WEB_PAGE_MAX);
	web_page_begin(r, &b, S_VERIFY_TITLE, "");
	if (rc < 0) {
		struct buf m;
		buf_init(&m, 512);
		buf_esc(&m, T(r->lang, S_VF_NO_TRUST));
		web_notice(&b, "err", m.p ? m.p : "");
		buf_free(&m);
		status = MHD_HTTP_SERVICE_UNAVAILABLE;
	} else {
		if (v->has_pdf) {
			rc = verify_copy_pdf(tl, v->pdf ? v->pdf : (const unsigned char *)"", v->len, vd);
		} else {
			/* A pasted seal may carry the spaces and line breaks of a copy-paste. */
			size_t n = strcspn(v->seal, "\r\n");
			while (n > 0 && v->seal[n - 1] == ' ')
				n--;
			rc = verify_seal(tl, v->seal, n, vd);
		}
		if (rc < 0)
			status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		else
			verdict_html(r, &b, vd);
	}
	verify_forms(r, &b);
	web_page_end(r, &b);
	ret = web_send(r, status, HTML, &b);
out:
	trustlist_free(tl);
	verify_abort(r);
	free(vd);
	return ret;
}
