/* Building responses: a bounded growable buffer, HTML and URL escaping, and the page frame
 * (head, navigation, language switch) shared by every staff page. */
#ifndef MOTCUA_WEB_HTML_H
#define MOTCUA_WEB_HTML_H

#include <stddef.h>
#include <stdint.h>

#include "web/i18n.h"

/* A growable buffer that refuses to grow past max; after a failure every further call is
 * ignored and err stays set. */
struct buf {
	char *p;
	size_t len, cap, max;
	int err;
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
/* Takes the bytes out (the caller frees them); the buffer is empty afterwards. */
char *buf_steal(struct buf *b, size_t *ret_len);
void buf_add(struct buf *b, const char *s, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s with & < > " ' escaped for HTML text and attribute values. */
void buf_esc(struct buf *b, const char *s);
/* s percent-encoded for a URL query value. */
void buf_url(struct buf *b, const char *s);
/* s as a JSON string literal (quotes included). */
void buf_json(struct buf *b, const char *s);
/* Catalogue string key with its %lld conversions replaced by a then b, in order, and its
 * %s by the escaped s: the catalogue is never used as a printf format. */
void buf_t(struct buf *b, enum lang lang, enum str key, long long a, long long bb, const char *s);
/* A byte count for people ("1.2 MB"). */
void buf_bytes(struct buf *b, int64_t n);
/* A moment (seconds since the epoch) in the configured local time zone, as people write it:
 * "04/12/2026 21:48" ("—" for 0). */
void buf_when(struct buf *b, int64_t unix_s);
/* The same for a time the store keeps as text ("2026-12-04T14:48:33.363Z", "2026-12-04T14:48:33Z"
 * in UTC, or a day "2026-12-04" shown as "04/12/2026"); "" is "—", anything else is shown
 * escaped as it is. */
void buf_when_iso(struct buf *b, const char *iso);
/* Seconds since the epoch of such a UTC text, or -1. */
int64_t web_parse_iso(const char *iso);
/* An age in seconds for people ("3 giờ 5 phút"). */
void buf_age(struct buf *b, enum lang lang, int64_t s);

#endif
