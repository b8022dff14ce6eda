/* The citizen's receipt of an accepted dossier as a page to print (A5, no menu): the
 * "Giấy tiếp nhận hồ sơ và hẹn trả kết quả" laid out as Mẫu số 01 of Thông tư 01/2018/TT-VPCP,
 * with a QR code (inline SVG, so it prints with JavaScript off) to the public tracking page.
 * The same facts as the printed slip and the LGSP body: code, procedure, applicant, papers,
 * received and due times, fee, the official. */
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/config.h"
#include "gateway/daemon.h"
#include "gateway/dossier/catalog.h"
#include "gateway/dossier/service.h"
#include "store/dossiers.h"
#include "web/internal.h"

/* A QR code of text as an SVG of dark modules, size mm wide; nothing when it cannot be made. */
static void qr_svg(struct buf *b, const char *text, int mm)
{
	QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (!q)
		return;
	int n = q->width, quiet = 4;
	buf_printf(b,
		   "<svg class=\"qr\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
		   "width=\"%dmm\" height=\"%dmm\" role=\"img\" aria-label=\"QR\"><rect width=\"100%%\" "
		   "height=\"100%%\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
		   n + 2 * quiet, n + 2 * quiet, mm, mm);
	for (int y = 0; y < n; y++)
		for (int x = 0; x < n; x++)
			if (q->data[y * n + x] & 1)
				buf_printf(b, "M%d %dh1v1h-1z", x + quiet, y + quiet);
	buf_puts(b, "\"/></svg>");
	QRcode_free(q);
}

struct papers {
	struct buf *b;
	const struct catalog_proc *p;
	int n;
	char last[32];
};

/* One line per paper received (an item with several scans is one paper). */
static int paper_row(void *ctx, const struct dossier_item_row *it)
{
	struct papers *x = ctx;
	if (strcmp(x->last, it->item) == 0)
		return 0;
	snprintf(x->last, sizeof(x->last), "%s", it->item);
	const struct catalog_doc *d = x->p ? catalog_doc_find(x->p, it->item) : NULL;
	buf_printf(x->b, "<tr><td class=\"num\">%d</td><td>", ++x->n);
	buf_esc(x->b, d ? d->name : it->item);
	buf_puts(x->b, "</td><td class=\"num\">01</td></tr>");
	return 0;
}

static void when_parts(struct buf *b, int64_t t, int with_time)
{
	struct tm tm;
	time_t tt = (time_t)t;
	if (t <= 0 || !localtime_r(&tt, &tm)) {
		buf_puts(b, "…");
		return;
	}
	if (with_time)
		buf_printf(b, "%02d giờ %02d phút, ", tm.tm_hour, tm.tm_min);
	buf_printf(b, "ngày %02d tháng %02d năm %04d", tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900);
}

static const char receipt_css[] =
    "body{font:13px/1.3 'Times New Roman',serif;margin:0;background:#fff;color:#000}"
    ".sheet{max-width:148mm;margin:8px auto;padding:6mm}p{margin:3px "
    "0}.hdr{display:flex;justify-content:space-"
    "between;gap:8px;text-align:center;font-size:11px}.hdr p{margin:0}.hdr div:first-child{flex:0 0 "
    "42%}.b{font-weight:bold}"
    "h1{font-size:15px;text-align:center;margin:8px 0 2px}.sub{text-align:center;margin:0 0 10px}"
    "table{border-collapse:collapse;width:100%}td,th{border:1px solid #000;padding:2px 4px;"
    "text-align:left}.num{text-align:center;width:3em}.sign{display:flex;justify-content:space-"
    "between;text-align:center;margin-top:8px}.sign div{width:48%}.sign .space{height:12mm}"
    ".track{display:flex;gap:10px;align-items:center;margin-top:10px;font-size:13px}"
    ".track p{margin:0;overflow-wrap:anywhere}.bar{background:#eef;padding:6px 12px;font:15px "
    "system-ui,Arial,sans-serif}.bar a,.bar button{font:inherit;margin-right:12px}"
    "@page{size:A5;margin:8mm}@media print{.bar{display:none}.sheet{margin:0;padding:0}}";

enum MHD_Result web_receipt_page(struct req *r, int64_t id)
{
	struct db *db = web_db(r);
	const struct catalog *cat = dossier_catalog(NULL);
	struct config *cfg = malloc(sizeof(*cfg));
	struct dossier_row d;
	struct buf b;
	enum MHD_Result ret;

	if (!db || !cfg) {
		free(cfg);
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	}
	if (dossiers_get(db, id, &d) < 0 || strcmp(d.state, "accepted") != 0 || !d.code[0]) {
		free(cfg);
		return web_error(r, MHD_HTTP_NOT_FOUND, S_RC_NOT_ACCEPTED);
	}
	daemon_config_snapshot(cfg);
	const struct catalog_proc *p = cat ? catalog_find(cat, d.procedure) : NULL;
	buf_init(&b, WEB_PAGE_MAX);
	buf_printf(&b,
		   "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><meta "
		   "name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>");
	buf_esc(&b, "Giấy tiếp nhận hồ sơ ");
	buf_esc(&b, d.code);
	buf_printf(&b, "</title><style>%s</style></head><body><div class=\"bar\"><a href=\"/dossiers/%lld\">",
		   receipt_css, (long long)id);
	buf_esc(&b, T(r->lang, S_RC_BACK));
	buf_puts(&b, "</a><button type=\"button\" onclick=\"window.print()\">");
	buf_esc(&b, T(r->lang, S_RC_PRINT));
	buf_puts(&b, "</button>");
	buf_esc(&b, T(r->lang, S_RC_PRINT_HINT));
	buf_puts(&b, "</div><main class=\"sheet\" id=\"receipt\"><div class=\"hdr\"><div><p>");
	buf_esc(&b, cfg->commune_name);
	buf_puts(&b, "</p><p class=\"b\">BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ</p><p>Số: ");
	buf_esc(&b, d.code);
	buf_puts(&b,
		 "</p></div><div><p class=\"b\">CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</p><p class=\"b\">"
		 "Độc lập - Tự do - Hạnh phúc</p><p><i>");
	buf_esc(&b, cfg->commune_name);
	buf_puts(&b, ", ");
	when_parts(&b, d.received_s, 0);
	buf_puts(&b,
		 "</i></p></div></div><h1>GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ</h1>"
		 "<p class=\"sub\">Mã hồ sơ: <b id=\"rc-code\">");
	buf_esc(&b, d.code);
	buf_puts(&b, "</b></p><p>Bộ phận tiếp nhận và trả kết quả ");
	buf_esc(&b, cfg->commune_name);
	buf_puts(&b, " tiếp nhận hồ sơ của: <b id=\"rc-applicant\">");
	buf_esc(&b, d.applicant_name);
	buf_puts(&b, "</b></p>");
	if (d.applicant_id_tail[0]) {
		buf_puts(&b, "<p>Số định danh cá nhân: ……");
		buf_esc(&b, d.applicant_id_tail);
		buf_puts(&b, "</p>");
	}
	buf_puts(&b, "<p>Nội dung yêu cầu giải quyết: <b id=\"rc-proc\">");
	buf_esc(&b, p ? p->name : d.procedure);
	buf_puts(&b,
		 "</b></p><p>1. Thành phần hồ sơ nộp gồm:</p><table id=\"rc-papers\"><thead><tr>"
		 "<th class=\"num\">TT</th><th>Tên giấy tờ</th><th class=\"num\">Số lượng</th></tr>"
		 "</thead><tbody>");
	struct papers x = { .b = &b, .p = p };
	if (dossiers_items(db, id, paper_row, &x) < 0) {
		buf_free(&b);
		free(cfg);
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	}
	if (x.n == 0)
		buf_puts(&b, "<tr><td class=\"num\">—</td><td>—</td><td class=\"num\">—</td></tr>");
	buf_puts(&b,
		 "</tbody></table><p>2. Số lượng hồ sơ: 01 (bộ)</p><p>3. Thời gian giải quyết hồ sơ "
		 "theo quy định là: ");
	if (p && p->days == 0)
		buf_puts(&b, "trong ngày làm việc");
	else if (p && p->days > 0)
		buf_printf(&b, "%d ngày làm việc", p->days);
	else
		buf_esc(&b, p && p->time_text[0] ? p->time_text : "theo quy định");
	buf_puts(&b, "</p><p>4. Thời gian nhận hồ sơ: <span id=\"rc-received\">");
	when_parts(&b, d.received_s, 1);
	buf_puts(&b, "</span></p><p>5. Thời gian trả kết quả giải quyết hồ sơ: <b id=\"rc-due\">");
	if (d.due_day[0]) {
		struct tm tm;
		memset(&tm, 0, sizeof(tm));
		if (strptime(d.due_day, "%Y-%m-%d", &tm))
			buf_printf(&b, "ngày %02d tháng %02d năm %04d", tm.tm_mday, tm.tm_mon + 1,
				   tm.tm_year + 1900);
		else
			buf_esc(&b, d.due_day);
	} else {
		buf_puts(&b, "theo quy định của thủ tục");
	}
	buf_puts(&b, "</b></p><p>6. Đăng ký nhận kết quả tại: Bộ phận tiếp nhận và trả kết quả ");
	buf_esc(&b, cfg->commune_name);
	buf_puts(&b, "</p><p>Lệ phí: <span id=\"rc-fee\">");
	if (p && p->fee_vnd == 0)
		buf_puts(&b, "Không thu");
	else if (p && p->fee_vnd > 0)
		buf_printf(&b, "%lld đồng", (long long)p->fee_vnd);
	else
		buf_esc(&b, p && p->fee_text[0] ? p->fee_text : "theo quy định");
	buf_puts(&b,
		 "</span></p><div class=\"sign\"><div><p class=\"b\">NGƯỜI NỘP HỒ SƠ</p><p><i>(Ký và ghi "
		 "rõ họ tên)</i></p><p class=\"space\"></p><p>");
	buf_esc(&b, d.applicant_name);
	buf_puts(&b,
		 "</p></div><div><p class=\"b\">NGƯỜI TIẾP NHẬN HỒ SƠ</p><p><i>(Ký và ghi rõ họ tên)</i>"
		 "</p><p class=\"space\"></p><p id=\"rc-official\">");
	buf_esc(&b,
		strncmp(d.accepted_by, "web:", 4) == 0 || strncmp(d.accepted_by, "cli:", 4) == 0
		    ? d.accepted_by + 4
		    : d.accepted_by);
	buf_puts(&b, "</p></div></div>");
	if (cfg->dossier_tracking_url[0]) {
		struct buf url;
		buf_init(&url, 1024);
		buf_puts(&url, cfg->dossier_tracking_url);
		buf_puts(&url, d.code);
		buf_puts(&b, "<div class=\"track\">");
		if (url.p)
			qr_svg(&b, url.p, 24);
		buf_puts(&b, "<p>Tra cứu tiến độ giải quyết hồ sơ: quét mã QR hoặc mở <span id=\"rc-url\">");
		buf_esc(&b, url.p ? url.p : "");
		buf_puts(&b, "</span></p></div>");
		buf_free(&url);
	}
	buf_puts(&b, "</main></body></html>");
	free(cfg);
	ret = web_send(r, MHD_HTTP_OK, "text/html; charset=utf-8", &b);
	return ret;
}
