/* The catalogue's table, built from web/i18n.def. */
#include "web/i18n.h"

static const char *const table[S_COUNT][2] = {
#define S(key, vi, en) [S_##key] = { vi, en },
#include "web/i18n.def"
#undef S
};

const char *T(enum lang lang, enum str key)
{
	if ((unsigned)key >= S_COUNT)
		return "";
	return table[key][lang == LANG_EN ? 1 : 0];
}

const char *i18n_code(enum lang lang)
{
	return lang == LANG_EN ? "en" : "vi";
}
