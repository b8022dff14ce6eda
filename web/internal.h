/* What the web part's files share: the server, one request, the routes' helpers.  Only
 * web/ includes this (and so only web/ sees libmicrohttpd). */
#ifndef MOTCUA_WEB_INTERNAL_H
#define MOTCUA_WEB_INTERNAL_H

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "gateway/accounts.h"
#include "gateway/config.h"
#include "web/form.h"
#include "web/html.h"
#include "web/i18n.h"

#define WEB_PAGE_MAX (256 * 1024) /* a page's HTML, generous against the 50 KB aim */
#define WEB_LAT_BUCKETS 11
#define WEB_VERIFY_MAX (20 * 1024 * 1024) /* a certified copy PDF on /verify */

struct web {
	struct MHD_Daemon *d;
	struct store *store;
	struct config cfg; /* [web] keys as at start (they need a restart) */
	struct accounts_policy pol;
	int tls;
	unsigned port;
	char port_file[CONFIG_PATH_MAX + 16];
	char *tls_key, *tls_cert;
	size_t tls_key_len;
	/* metrics */
	atomic_ullong lat[WEB_LAT_BUCKETS + 1];
	atomic_ullong lat_sum_us;
	atomic_ullong by_class[6]; /* index status/100 */
	atomic_ullong uploads_ok, uploads_refused;
	atomic_llong lan_conns; /* open connections from other computers than the box */
	atomic_ullong conns_refused; /* other computers' connections refused for the reserve */
	atomic_llong held; /* bytes held for request bodies (web_hold), all requests */
	atomic_ullong holds_refused;
};

struct upload;

/* One request, from its headers to the response's completion. */
struct req {
	struct web *w;
	struct MHD_Connection *c;
	const char *method;
	char path[512];
	int post;
	enum lang lang;
	char remote[64];
	const struct route *route;
	/* the session, when there is one */
	int authed;
	struct session sess;
	struct user user;
	char actor[48]; /* "web:<name>" for the audit chain */
	/* a urlencoded body */
	struct buf body;
	int refused; /* an HTTP status decided while the body was still arriving */
	int csrf_ok; /* a multipart body's csrf field matched */
	struct upload *up;
	struct vparts *vp; /* a /verify upload being received (copies_page.c) */
	int64_t held; /* bytes this request took with web_hold */
	uint64_t swallowed;
	struct timespec t0;
	unsigned status;
};

enum route_flags {
	R_PUBLIC = 1, /* no session needed */
	R_ADMIN = 2, /* admins only */
	R_CSRF = 4, /* a POST whose form must carry the session's CSRF token */
	R_UPLOAD = 8, /* multipart body streamed into intake */
	R_TOKEN = 16, /* machines: a bearer token instead of a session */
	R_PREFIX = 32, /* path matches as a prefix */
	R_ANY_STATE = 64, /* reachable while the password must be changed */
	R_VERIFY = 128, /* a multipart body is parsed as it arrives by verify_feed (copies_page.c) */
};

struct route {
	const char *method;
	const char *path;
	int flags;
	enum MHD_Result (*fn)(struct req *r);
};

/* server.c */
struct db *web_db(struct req *r); /* this thread's store connection, or NULL */
const char *web_arg(struct req *r, const char *name); /* query argument or NULL */
/* A urlencoded form field into out ("" when absent); -errno on a malformed body. */
int web_field(struct req *r, const char *name, char *out, size_t size);
enum MHD_Result web_send(struct req *r, unsigned status, const char *type, struct buf *b);
enum MHD_Result web_redirect(struct req *r, const char *location);
#define WEB_LOCAL_PATH_MAX 400
/* 1 when p is a path of this site that is safe to redirect to: it starts with a single '/'
 * and holds only printable ASCII other than '\\' (no control characters, spaces or
 * scheme-relative "//host" in any form a browser would read as one). */
int web_local_path(const char *p);
/* An error page (or JSON for the API) with the catalogue's message for status. */
enum MHD_Result web_error(struct req *r, unsigned status, enum str msg);
void web_page_begin(struct req *r, struct buf *b, enum str title, const char *nav);
void web_page_end(struct req *r, struct buf *b);
/* Table cells: a column heading from the catalogue, a data cell with escaped text. */
void web_th(struct buf *b, struct req *r, enum str s);
void web_td(struct buf *b, const char *text);
/* "Newest" and "Older" links for a list at path searched by q, paged by sequence: newest when
 * the page started below the top (paged), older when more rows follow (before=last). */
void web_pager(struct req *r, struct buf *b, const char *path, const char *q, int paged, int more,
	       long long last);
/* A notice box: kind is "ok" or "err". */
void web_notice(struct buf *b, const char *kind, const char *html_text);
void web_csrf_input(struct req *r, struct buf *b);
/* 1 when the request's urlencoded "csrf" field equals the session's token. */
int web_csrf_valid(struct req *r);
void web_add_security_headers(struct MHD_Response *resp, int tls);
/* Takes n bytes from the memory budget for request bodies ([web] verify_memory_mb, shared by
 * all requests); given back when the request completes.  -EBUSY when it would be exceeded. */
int web_hold(struct req *r, int64_t n);

/* Handlers (pages.c, admin.c, api.c, upload.c). */
enum MHD_Result page_dashboard(struct req *r);
enum MHD_Result page_devices(struct req *r);
enum MHD_Result post_devices(struct req *r);
enum MHD_Result page_documents(struct req *r);
enum MHD_Result page_document(struct req *r);
enum MHD_Result post_document(struct req *r); /* recog_page.c: POST /documents/ID/fields */
/* The recognised fields and the correction form; refused (HTML, or NULL) is a refused
 * correction's message, shown with the typed values and field bad marked. */
void web_recog_section(struct req *r, struct buf *b, const char *doc_id, const char *refused,
		       const char *bad);
/* pages.c: a document's page with status; refused as for web_recog_section. */
enum MHD_Result web_document_page(struct req *r, const char *id, unsigned status, const char *refused,
				  const char *bad);
void web_chip_section(struct req *r, struct buf *b, const char *doc_id); /* chip_page.c */
enum MHD_Result post_document_chip(struct req *r, const char *id); /* POST /documents/ID/chip */
enum MHD_Result page_outbox(struct req *r);
enum MHD_Result post_outbox(struct req *r);
enum MHD_Result page_audit(struct req *r);
enum MHD_Result page_settings(struct req *r);
enum MHD_Result page_coming(struct req *r);
enum MHD_Result page_queue(struct req *r); /* queue_page.c */
enum MHD_Result post_queue(struct req *r);
void web_queue_tile(struct req *r, struct buf *b); /* the dashboard's queue tile */
enum MHD_Result page_dossiers(struct req *r); /* dossier_page.c */
enum MHD_Result page_dossier(struct req *r);
enum MHD_Result post_dossiers(struct req *r);
enum MHD_Result page_track(struct req *r);
void web_dossier_tile(struct req *r, struct buf *b);
/* The dashboard tile naming each feature that is off on this box, why, and whom to ask;
 * nothing when everything is on. */
void web_features_tile(struct req *r, struct buf *b);
/* GET /dossiers/ID/receipt: the printable receipt (Mẫu 01) of accepted dossier id. */
enum MHD_Result web_receipt_page(struct req *r, int64_t id);
void web_store_tile(struct req *r, struct buf *b); /* store_tile.c: checks, backups, rebuilds */
enum MHD_Result page_verify(struct req *r); /* copies_page.c */
enum MHD_Result post_verify(struct req *r);
/* A multipart /verify body: the PDF part is kept (up to limit bytes) in memory taken with
 * web_hold.  -EBUSY when the memory for /verify is spent, -EMSGSIZE past limit, -EINVAL
 * for a bad Content-Type.  content_length is -1 when unknown. */
int verify_begin(struct req *r, const char *content_type, int64_t content_length, int64_t limit);
int verify_feed(struct req *r, const char *data, size_t len);
void verify_abort(struct req *r); /* frees what verify_begin made; NULL-safe */
enum MHD_Result page_copies(struct req *r);
enum MHD_Result post_copies(struct req *r);
enum MHD_Result page_login(struct req *r);
enum MHD_Result post_login(struct req *r);
enum MHD_Result post_logout(struct req *r);
enum MHD_Result page_users(struct req *r);
enum MHD_Result post_users(struct req *r);
enum MHD_Result page_account(struct req *r);
enum MHD_Result post_account(struct req *r);
enum MHD_Result api_dispatch(struct req *r);
enum MHD_Result api_healthz(struct req *r);
enum MHD_Result api_metrics(struct req *r);
enum MHD_Result static_css(struct req *r);

/* pick.c: papers picked from a list, ids typed as the pages show them. */
struct doc_meta;
/* A document id as staff type or paste it (a full id or a prefix of 6+ hex digits, spaces
 * and dots ignored) into out: 0, -ENOENT (none), -EEXIST (several), -EINVAL (not an id). */
int web_doc_resolve(struct req *r, const char *typed, char out[33]);
/* Appends the catalogue's refusal for web_doc_resolve's rc on typed, HTML. */
void web_doc_refusal(struct req *r, struct buf *m, int rc, const char *typed);
/* The ids of the ticked rows ("pick_<id>" fields) of a urlencoded form into ids (up to max,
 * without repeats): how many, or -E2BIG past max. */
int web_picks(struct req *r, char ids[][33], int max);
/* A document as people tell it apart: local time — what it is — name (source, short id). */
void web_doc_line(struct req *r, struct buf *b, const struct doc_meta *m, const char *type);
struct web_pick {
	const char *id; /* the table's HTML id */
	int max; /* rows at most */
	/* 1 for a document to list (type: what recognition found, "" when nothing yet) */
	int (*want)(void *ctx, const struct doc_meta *m, const char *type);
	/* cells after the paper's, or NULL; extra_head names their column */
	void (*extra)(void *ctx, struct buf *b, const struct doc_meta *m, const char *type);
	enum str extra_head;
	void *ctx;
};
/* The newest documents that p->want takes, one row each with a checkbox "pick_<id>" (kept
 * ticked when a refused form is shown again): the rows shown, or -errno. */
int web_pick_table(struct req *r, struct buf *b, const struct web_pick *p);

/* upload.c: the streamed upload of a scan into intake_document. */
int upload_begin(struct req *r, const char *content_type);
int upload_feed(struct req *r, const char *data, size_t len);
enum MHD_Result upload_finish(struct req *r);
void upload_abort(struct req *r);
/* Streams a stored document's bytes (verified first) as the response. */
enum MHD_Result upload_send_document(struct req *r, const char *id, int download);

/* status.c: the numbers the dashboard, the API and /metrics show. */
struct web_status {
	int link; /* enum uplink_link, or -1 when the uplink is not built in */
	char link_reason[200];
	int64_t link_since;
	int64_t link_checked; /* wall clock of the LGSP's last answer, 0: none */
	int uplink_disk_full;
	int64_t uplink_unrecorded;
	int64_t delivered_since_start;
	int64_t queued, sending, delivered, rejected, rejected_aside;
	int64_t pending_bytes;
	int64_t oldest_age_s; /* -1 when nothing waits */
	int devices_known; /* devices table present */
	int64_t dev_online, dev_pending, dev_active, dev_stale, dev_total;
	int64_t intake_today, docs_total;
	int64_t free_bytes;
	int intake_paused;
};
/* At most a second old; web_status_changed() makes the next read fresh. */
int web_status_read(struct req *r, struct web_status *ret);
void web_status_changed(void);
const char *web_link_name(int link);

#endif
