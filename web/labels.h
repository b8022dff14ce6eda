/* Words for the codes the store keeps (audit actions, outbox kinds and states, document kinds
 * and types, sources, copy states, sex, nationality): pages show these, never the code. */
#ifndef MOTCUA_WEB_LABELS_H
#define MOTCUA_WEB_LABELS_H

#include "web/html.h"
#include "web/i18n.h"

enum label_group {
#define G(name, fallback) LG_##name,
#include "web/labels_groups.def"
#undef G
	LG_COUNT
};

/* The word for code in group, or NULL when the catalogue has none. */
const char *web_label(enum lang lang, enum label_group g, const char *code);
/* Appends the word for code, escaped.  A code without a word is shown by the group's rule:
 * groups whose codes come from people or devices (document kinds, sources, nationality)
 * show the code itself, escaped; the others a generic "other" word, never the code. */
void buf_label(struct buf *b, enum lang lang, enum label_group g, const char *code);
/* Who did something, as the audit names them: "cli:NAME" is NAME at the command line,
 * "web:NAME" the staff member NAME, the gateway's own parts by their role. */
void web_actor(struct buf *b, enum lang lang, const char *actor);
/* An audit row's detail: a JSON object as "label: value" lines (hashes shortened, known
 * codes in words); any other text escaped as it is. */
void web_detail(struct buf *b, enum lang lang, const char *detail);
/* A content type as people name the format ("PDF", "JPEG"), else the type itself. */
const char *web_format_name(const char *content_type);

#endif
