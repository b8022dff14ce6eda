/* The staff page's languages: Vietnamese (default) and English.  Every string lives in
 * web/i18n.def; pages name them by key (T(lang, S_LOGIN)). */
#ifndef MOTCUA_WEB_I18N_H
#define MOTCUA_WEB_I18N_H

enum lang { LANG_VI = 0, LANG_EN = 1 };

enum str {
#define S(key, vi, en) S_##key,
#include "web/i18n.def"
#undef S
	S_COUNT
};

/* The string for key in lang (never NULL). */
const char *T(enum lang lang, enum str key);
/* "vi" or "en". */
const char *i18n_code(enum lang lang);

#endif
