/* Vietnamese text folding for search: lower case, diacritics and đ removed, anything not a
 * letter or digit becomes a space ("Đăng ký khai sinh" -> "dang ky khai sinh"). */
#ifndef MOTCUA_FOLD_H
#define MOTCUA_FOLD_H

#include <stddef.h>

/* Folds UTF-8 in into ASCII out (always NUL-terminated); returns the length written. */
size_t fold_text(const char *in, char *out, size_t size);

#endif
