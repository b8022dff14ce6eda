/* Document classification: titles with diacritics, without them, and with OCR errors are
 * recognised; body text alone, an empty page and a page matching two types equally give
 * "other"; Vietnamese letters fold to ASCII. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "gateway/recognize/classify.h"

static const char *type_of(const char *text)
{
	struct classify_result r;
	classify_text(text, strlen(text), &r);
	return r.type;
}

static void folding_strips_diacritics(void **state)
{
	char out[128];
	const char *s = "Cộng hòa Xã hội Chủ nghĩa Việt Nam — Đơn đề nghị; ĐẶNG Ữ";
	text_fold(s, strlen(s), out, sizeof(out));
	assert_string_equal(out, "CONG HOA XA HOI CHU NGHIA VIET NAM DON DE NGHI DANG U");
	/* Decomposed (NFD) input folds the same. */
	const char *nfd = "Vie\xcc\xa3\xcc\x82t";
	text_fold(nfd, strlen(nfd), out, sizeof(out));
	assert_string_equal(out, "VIET");
	text_fold("abc", 3, out, 3);
	assert_string_equal(out, "AB");
}

static void titles_are_recognised(void **state)
{
	assert_string_equal(
	    type_of("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\nGIẤY KHAI SINH\n"),
	    "birth_certificate");
	assert_string_equal(type_of("GIẤY CHỨNG NHẬN KẾT HÔN"), "marriage_certificate");
	assert_string_equal(type_of("XÁC NHẬN THÔNG TIN VỀ CƯ TRÚ"), "residence_confirmation");
	assert_string_equal(type_of("GIẤY CHỨNG NHẬN\nQUYỀN SỬ DỤNG ĐẤT, QUYỀN SỞ HỮU NHÀ Ở"),
			    "land_use_right_certificate");
	assert_string_equal(type_of("CĂN CƯỚC CÔNG DÂN\nSố / No.: 001099012345"), "id_card_front");
	assert_string_equal(type_of("Đặc điểm nhận dạng / Personal identification"), "id_card_back");
}

static void ocr_errors_are_tolerated(void **state)
{
	/* Dropped diacritics, a wrong letter, a merged word. */
	assert_string_equal(type_of("GIAY KHAl SINH"), "birth_certificate");
	assert_string_equal(type_of("GlẤY CHUNG NHAN KETHÔN"), "marriage_certificate");
	assert_string_equal(type_of("QUYEN SU DUNC DAT"), "land_use_right_certificate");
}

static void weak_or_ambiguous_is_other(void **state)
{
	assert_string_equal(type_of(""), "other");
	assert_string_equal(type_of("ĐƠN ĐỀ NGHỊ\n(V/v cấp bản sao trích lục hộ tịch)"), "other");
	/* Body text: "nơi cư trú" alone is no residence confirmation. */
	assert_string_equal(type_of("Nơi cư trú: Phường Tân Định"), "other");
	/* Two titles equally strong: too close to call. */
	assert_string_equal(type_of("GIẤY KHAI SINH\nGIẤY CHỨNG NHẬN KẾT HÔN"), "other");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(folding_strips_diacritics),
		cmocka_unit_test(titles_are_recognised),
		cmocka_unit_test(ocr_errors_are_tolerated),
		cmocka_unit_test(weak_or_ambiguous_is_other),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
