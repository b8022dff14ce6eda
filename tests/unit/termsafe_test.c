/* motcuactl's terminal escaping: text a kiosk typed reaches a terminal with every byte a
 * terminal acts on shown as \xHH (ESC and CSI sequences, OSC titles, BEL, CR, DEL, C1,
 * malformed UTF-8, bidi overrides), Vietnamese text, newlines and tabs untouched, and a UTF-8
 * sequence split between two writes kept whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "tools/termsafe.h"

static const char *esc(const char *in)
{
	static char out[1024];
	struct termsafe_state st = { 0 };
	size_t n = termsafe_escape(&st, in, strlen(in), out, sizeof(out));
	termsafe_escape(&st, NULL, 0, out + n, sizeof(out) - n);
	return out;
}

static void control_bytes_are_shown_not_sent(void **state)
{
	assert_string_equal(esc("Nguy\x1b[31m\xe1\xbb\x85n\x1b]0;pwned\x07 A"),
			    "Nguy\\x1b[31m\xe1\xbb\x85n\\x1b]0;pwned\\x07 A");
	assert_string_equal(esc("a\rb\x7f"
				"c\x08"),
			    "a\\x0db\\x7fc\\x08");
	/* C1 CSI as UTF-8 (U+009B) and as a raw byte; a bidi override (U+202E). */
	assert_string_equal(esc("x\xc2\x9b"
				"2Jy\x9b"),
			    "x\\xc2\\x9b2Jy\\x9b");
	assert_string_equal(esc("\xe2\x80\xae"
				"abc"),
			    "\\xe2\\x80\\xaeabc");
	/* Overlong and cut-short sequences. */
	assert_string_equal(esc("\xc0\x9b"), "\\xc0\\x9b");
	assert_string_equal(esc("\xe1\xbb"
				"A"),
			    "\\xe1\\xbbA");
}

static void vietnamese_newlines_and_tabs_pass(void **state)
{
	const char *t = "Nguyễn Thị Bình\tĐang xử lý\nTrần Văn C €\n";
	assert_string_equal(esc(t), t);
}

static void a_sequence_split_between_writes_stays_whole(void **state)
{
	struct termsafe_state st = { 0 };
	char out[64];
	size_t n = termsafe_escape(&st, "Nguy\xe1\xbb", 6, out, sizeof(out));
	n += termsafe_escape(&st, "\x85n", 2, out + n, sizeof(out) - n);
	assert_string_equal(out, "Nguy\xe1\xbb\x85n");
	assert_int_equal(n, strlen("Nguyễn"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(control_bytes_are_shown_not_sent),
		cmocka_unit_test(vietnamese_newlines_and_tabs_pass),
		cmocka_unit_test(a_sequence_split_between_writes_stays_whole),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
