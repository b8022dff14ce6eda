/* Card fronts without QR/MRZ read from OCR text: the 2024 card, the 2016 CCCD and the
 * 9-digit CMND give their generation and printed fields; a number seen twice differently,
 * an impossible date, a lower-case or numeric "name" and a page that is not a card give
 * nothing for those fields; text from another document (even one quoting a personal
 * number) gives no generation; a bilingual CCCD front is the 2021 card's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "gateway/recognize/cardtext.h"

/* Tesseract vie's text of synthetic cards made by tests/data/gen/gencards.py. */
static const char card2024[] = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nSOCIALIST REPUBLIC OF VIET NAM\n\n"
			       "CĂN CƯỚC\n\nIDENTITY CARD\n\n"
			       "Số định danh cá nhân / Personal identification number:\n040097865675\n\n"
			       "Họ, chữ đệm và tên khai sinh / Full name:\n\nHOÀNG THỊ HẢI\n\n"
			       "Ngày, tháng, năm sinh / Date of birth: 05/09/1997\nGiới tính / Sex: Nam\n\n"
			       "Quốc tịch / Nationality: Việt Nam\n";
static const char cmnd[] = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n\n"
			   "GIẤY CHỨNG MINH NHÂN DÂN\nSỐ 588945139\nHọ tên: NGUYỄN THỊ HẠNH\n"
			   "Sinh ngày: 20-10-1956\nNguyên quán: Hải Phòng\n"
			   "Nơi ĐKHK thường trú: Số 132 Quang Trung, Thị trấn Văn Điển,\n";
static const char cccd2016[] =
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n\n"
    "CĂN CƯỚC CÔNG DÂN\nsố 040165409273\n\nHọ và tên:\n\nĐẶNG VĂN HÙNG\n\n"
    "Ngày, tháng, năm sinh: 31/10/1965\n\nGiới tính: Nữ _ Quốc tịch: Việt Nam\n\n"
    "Quê quán: Nghệ An\n\nNơi thường trú: Số 138 Hùng Vương, Phường Vĩnh Ninh, Quậ\n";

static void parse(const char *s, struct card_text *c)
{
	cardtext_parse(s, strlen(s), c);
}

static void card_2024_front(void **state)
{
	struct card_text c;
	parse(card2024, &c);
	assert_non_null(c.generation);
	assert_string_equal(c.generation, "can_cuoc_2024");
	assert_string_equal(c.id_number, "040097865675");
	assert_string_equal(c.full_name, "HOÀNG THỊ HẢI");
	assert_string_equal(c.date_of_birth, "1997-09-05");
	assert_int_equal(c.sex, 'M');
	assert_string_equal(c.nationality, "VNM");
	assert_int_equal(c.nfields, 5);
}

static void cmnd_and_2016_fronts(void **state)
{
	struct card_text c;
	parse(cmnd, &c);
	assert_string_equal(c.generation, "cmnd_9");
	assert_string_equal(c.id_number, "588945139");
	assert_string_equal(c.full_name, "NGUYỄN THỊ HẠNH");
	assert_string_equal(c.date_of_birth, "1956-10-20");
	assert_int_equal(c.sex, 0);
	parse(cccd2016, &c);
	assert_string_equal(c.generation, "cccd_2016");
	assert_string_equal(c.id_number, "040165409273");
	assert_string_equal(c.full_name, "ĐẶNG VĂN HÙNG");
	assert_string_equal(c.date_of_birth, "1965-10-31");
	assert_int_equal(c.sex, 'F');
}

static void doubtful_fields_are_left_out(void **state)
{
	struct card_text c;
	/* two different 12-digit numbers: which is the card's is not known */
	parse("CĂN CƯỚC\nSố định danh cá nhân: 040097865675\nghi chú 001099012345\n"
	      "Họ và tên: Nguyen van a\nNgày sinh: 31/02/1990\nGiới tính: Nữa\n",
	      &c);
	assert_string_equal(c.generation, "can_cuoc_2024");
	assert_string_equal(c.id_number, "");
	assert_string_equal(c.full_name, ""); /* lower case: not as printed on a card */
	assert_string_equal(c.date_of_birth, ""); /* 31 February */
	assert_int_equal(c.sex, 0);
	assert_int_equal(c.nfields, 0);
	parse("Họ và tên:\nNGUYỄN VĂN 4\n", &c);
	assert_null(c.generation);
}

static void other_documents_are_not_cards(void **state)
{
	struct card_text c;
	parse("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nGIẤY KHAI SINH\nHọ, chữ đệm, tên: NGUYỄN VĂN A\n"
	      "Ngày, tháng, năm sinh: 01/02/2003\n",
	      &c);
	assert_null(c.generation);
	assert_int_equal(c.nfields, 0);
	/* a certificate quoting the personal number is not the 2024 card */
	parse("GIẤY KHAI SINH\nSố định danh cá nhân: 001099012345\n", &c);
	assert_null(c.generation);
	parse("", &c);
	assert_null(c.generation);
}

static void bilingual_cccd_front_is_the_2021_card(void **state)
{
	struct card_text c;
	parse("CĂN CƯỚC CÔNG DÂN\nSố / No.: 001099012345\nHọ và tên / Full name:\nNGUYỄN VĂN A\n", &c);
	assert_string_equal(c.generation, "cccd_2021");
	assert_string_equal(c.id_number, "001099012345");
	assert_string_equal(c.full_name, "NGUYỄN VĂN A");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(card_2024_front),
		cmocka_unit_test(cmnd_and_2016_fronts),
		cmocka_unit_test(doubtful_fields_are_left_out),
		cmocka_unit_test(other_documents_are_not_cards),
		cmocka_unit_test(bilingual_cccd_front_is_the_2021_card),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
