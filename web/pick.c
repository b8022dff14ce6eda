/* Papers picked from a list instead of typed ids: the recent documents as rows with a
 * checkbox each (time, what the recogniser saw, name, source), the ticked ones read back from
 * a form, and ids typed as the pages show them (a prefix of 6 or more hex digits). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store/docs.h"
#include "store/recog.h"
#include "web/internal.h"
#include "web/labels.h"

#define PICK_SCAN 200 /* newest documents looked at for a list */

int web_doc_resolve(struct req *r, const char *typed, char out[DOC_ID_LEN])
{
	struct db *db = web_db(r);
	char t[DOC_ID_LEN + 8];
	size_t n = 0;
	if (!db)
		return -EIO;
	/* What was typed or pasted, without spaces, dots or a leading ellipsis. */
	for (; typed && *typed && n + 1 < sizeof(t); typed++)
		if (*typed != ' ' && *typed != '\t' && *typed != '.')
			t[n++] = *typed;
	t[n] = '\0';
	if (typed && *typed)
		return -EINVAL;
	return docs_find_prefix(db, t, out);
}

void web_doc_refusal(struct req *r, struct buf *m, int rc, const char *typed)
{
	buf_t(m, r->lang,
	      rc == -EEXIST       ? S_PK_DOC_MANY
		  : rc == -EINVAL ? S_PK_DOC_BAD
				  : S_PK_DOC_NONE,
	      0, 0, typed);
}

int web_picks(struct req *r, char ids[][DOC_ID_LEN], int max)
{
	const char *p = r->body.p, *end = p ? p + r->body.len : NULL;
	int n = 0;
	while (p && p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *e = amp ? amp : end;
		if (e - p > 5 && memcmp(p, "pick_", 5) == 0) {
			const char *id = p + 5, *eq = memchr(id, '=', (size_t)(e - id));
			size_t len = eq ? (size_t)(eq - id) : (size_t)(e - id);
			int hex = len == DOC_ID_LEN - 1;
			for (size_t i = 0; hex && i < len; i++)
				hex = (id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f');
			int dup = 0;
			for (int k = 0; hex && k < n; k++)
				dup |= memcmp(ids[k], id, len) == 0;
			if (hex && !dup) {
				if (n >= max)
					return -E2BIG;
				memcpy(ids[n], id, len);
				ids[n][len] = '\0';
				n++;
			}
		}
		p = e + 1;
	}
	return n;
}

void web_doc_line(struct req *r, struct buf *b, const struct doc_meta *m, const char *type)
{
	buf_when_iso(b, m->received_at);
	buf_puts(b, " — ");
	if (type && type[0])
		buf_label(b, r->lang, LG_DOC_TYPE, type);
	else
		buf_label(b, r->lang, LG_DOC_KIND, m->kind);
	if (m->name[0]) {
		buf_puts(b, " — ");
		buf_esc(b, m->name);
	}
	buf_puts(b, " (");
	buf_label(b, r->lang, LG_SOURCE, m->source);
	buf_printf(b, ", %.8s)", m->id);
}

struct walk {
	struct req *r;
	struct buf *b;
	const struct web_pick *p;
	int rows;
};

static int row(void *ctx, const struct doc_meta *m)
{
	struct walk *w = ctx;
	struct req *r = w->r;
	struct buf *b = w->b;
	struct recog_row rr;
	char field[48], on[4] = "";
	if (w->rows >= w->p->max)
		return 0;
	if (recog_get(web_db(r), m->id, &rr) < 0 || strcmp(rr.state, "done") != 0)
		rr.type[0] = '\0';
	if (w->p->want && !w->p->want(w->p->ctx, m, rr.type))
		return 0;
	w->rows++;
	snprintf(field, sizeof(field), "pick_%s", m->id);
	if (r->post && web_field(r, field, on, sizeof(on)) < 0)
		on[0] = '\0';
	buf_printf(b,
		   "<tr><td><input type=\"checkbox\" id=\"%s\" name=\"%s\" value=\"1\"%s> <label for=\"%s\">",
		   field, field, on[0] ? " checked" : "", field);
	web_doc_line(r, b, m, rr.type);
	buf_printf(b, "</label> <a href=\"/documents/%s\">", m->id);
	buf_esc(b, T(r->lang, S_PK_SEE));
	buf_puts(b, "</a></td>");
	if (w->p->extra)
		w->p->extra(w->p->ctx, b, m, rr.type);
	buf_puts(b, "</tr>");
	return 0;
}

int web_pick_table(struct req *r, struct buf *b, const struct web_pick *p)
{
	struct db *db = web_db(r);
	struct walk w = { .r = r, .b = b, .p = p };
	if (!db)
		return -EIO;
	buf_printf(b, "<table class=\"pick\" id=\"%s\"><thead><tr>", p->id);
	web_th(b, r, S_PK_PAPER);
	if (p->extra)
		web_th(b, r, p->extra_head);
	buf_puts(b, "</tr></thead><tbody>");
	int rc = docs_list(db, 0, PICK_SCAN, row, &w);
	if (rc < 0)
		return rc;
	if (w.rows == 0) {
		buf_printf(b, "<tr><td colspan=\"%d\">", p->extra ? 2 : 1);
		buf_esc(b, T(r->lang, S_PK_NONE));
		buf_puts(b, "</td></tr>");
	}
	buf_puts(b, "</tbody></table>");
	return w.rows;
}
