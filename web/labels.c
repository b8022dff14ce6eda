/* The table of web/labels.def and its look-up. */
#include "web/labels.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct label {
	enum label_group g;
	const char *code;
	const char *text[2];
};

static const struct label labels[] = {
#define L(group, code, vi, en) { LG_##group, code, { vi, en } },
#include "web/labels.def"
#undef L
};

static const int show_unknown[LG_COUNT] = {
#define G(name, fallback) [LG_##name] = fallback,
#include "web/labels_groups.def"
#undef G
};

const char *web_label(enum lang lang, enum label_group g, const char *code)
{
	if (!code)
		return NULL;
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (labels[i].g == g && strcmp(labels[i].code, code) == 0)
			return labels[i].text[lang == LANG_EN ? 1 : 0];
	return NULL;
}

void buf_label(struct buf *b, enum lang lang, enum label_group g, const char *code)
{
	const char *w = web_label(lang, g, code);
	if (w)
		buf_esc(b, w);
	else if (!code || !code[0])
		buf_puts(b, "—");
	else if ((unsigned)g < LG_COUNT && show_unknown[g])
		buf_esc(b, code);
	else
		buf_esc(b, T(lang, S_LABEL_OTHER));
}

void web_actor(struct buf *b, enum lang lang, const char *actor)
{
	if (!actor || !actor[0]) {
		buf_puts(b, "—");
	} else if (strncmp(actor, "web:", 4) == 0) {
		buf_esc(b, actor + 4);
	} else if (strncmp(actor, "cli:", 4) == 0) {
		buf_esc(b, actor + 4);
		buf_puts(b, " (");
		buf_esc(b, T(lang, S_ACTOR_CLI));
		buf_puts(b, ")");
	} else {
		buf_label(b, lang, LG_ACTOR, actor);
	}
}

/* A value of a detail: strings through the labels that fit their key, hashes shortened. */
static void detail_value(struct buf *b, enum lang lang, const char *key, json_t *v)
{
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t n = strlen(s), hex = strspn(s, "0123456789abcdef");
		if (strcmp(key, "kind") == 0)
			buf_label(b, lang, LG_DOC_KIND, s);
		else if (strcmp(key, "source") == 0)
			buf_label(b, lang, LG_SOURCE, s);
		else if (strcmp(key, "type") == 0)
			buf_label(b, lang, LG_DOC_TYPE, s);
		else if (strcmp(key, "applicant") == 0)
			buf_label(b, lang, LG_APPLICANT, s);
		else if (n >= 32 && hex == n)
			buf_printf(b, "%.12s…", s);
		else
			buf_esc(b, s);
	} else if (json_is_integer(v) && strcmp(key, "size") == 0) {
		buf_bytes(b, (int64_t)json_integer_value(v));
	} else if (json_is_true(v) || json_is_false(v)) {
		buf_esc(b, T(lang, json_is_true(v) ? S_YES : S_NO));
	} else if (json_is_array(v)) {
		size_t i;
		json_t *e;
		json_array_foreach (v, i, e) {
			if (i)
				buf_puts(b, ", ");
			detail_value(b, lang, key, e);
		}
	} else {
		char *d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		buf_esc(b, d ? d : "");
		free(d);
	}
}

void web_detail(struct buf *b, enum lang lang, const char *detail)
{
	json_t *o = detail && detail[0] == '{' ? json_loads(detail, JSON_REJECT_DUPLICATES, NULL) : NULL;
	const char *key;
	json_t *v;
	if (!json_is_object(o)) {
		json_decref(o);
		buf_esc(b, detail ? detail : "");
		return;
	}
	json_object_foreach (o, key, v) {
		buf_puts(b, "<span>");
		buf_label(b, lang, LG_DETAIL_KEY, key);
		buf_puts(b, ": ");
		detail_value(b, lang, key, v);
		buf_puts(b, "</span>");
	}
	json_decref(o);
}

const char *web_format_name(const char *ct)
{
	static const char *const names[][2] = {
		{ "application/pdf", "PDF" }, { "image/jpeg", "JPEG" }, { "image/png", "PNG" },
		{ "image/tiff", "TIFF" },     { "text/plain", "TXT" },  { "application/json", "JSON" }
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(ct, names[i][0]) == 0)
			return names[i][1];
	return ct;
}
