/* Parsers of the LDS1 files a chip hands over (ICAO 9303-10): EF.COM, DG1 (the MRZ), DG2
 * (the face image inside its ISO 19794-5 record) and DG13, the Vietnamese CCCD's own data
 * group.  Every input is card bytes: hostile until checked. */
#ifndef MOTCUA_CHIP_LDS_H
#define MOTCUA_CHIP_LDS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define LDS_FILE_MAX (256u << 10) /* the largest file read from a card (DG2 is ~20 KB) */
#define LDS_FIELD_MAX 512 /* the longest DG13 text kept (bytes) */

/* EF.COM: the data-group tags it lists (0x61 DG1, 0x75 DG2, 0x6D DG13...) turned into
 * data-group numbers, set as bits 1 << n in *ret_mask.  Returns 0 or -EPROTO. */
int lds_com_parse(const uint8_t *buf, size_t len, uint32_t *ret_mask);

/* DG1: the MRZ text (TD1 90 characters, TD3 88) into out (size >= 91).  Returns its length
 * or -EPROTO. */
int lds_dg1_parse(const uint8_t *buf, size_t len, char *out, size_t size);

enum lds_image { LDS_IMAGE_JPEG = 0, LDS_IMAGE_JPEG2000 = 1, LDS_IMAGE_UNKNOWN = 2 };

/* DG2: the first face image: a view into buf (*ret_img, *ret_len) and its kind, taken from
 * the record's image type and checked against the image's own signature.  Returns 0,
 * -ENOENT when DG2 holds no image, -EPROTO when malformed. */
int lds_dg2_face(const uint8_t *buf, size_t len, const uint8_t **ret_img, size_t *ret_len,
		 enum lds_image *ret_kind);

/* DG13 (tag 0x6D): each item is SEQUENCE { INTEGER n, text... } where the text is a UTF8 or
 * Printable string, or a SEQUENCE of them (parents, spouse).  Sets the fields it knows in
 * fields (id_number, full_name, date_of_birth YYYY-MM-DD, sex M/F, nationality, ethnicity,
 * religion, place_of_origin, place_of_residence, identifying_features, issue_date,
 * expiry_date, father_name, mother_name, spouse_name, old_id_number) and counts the items it
 * did not know in *ret_unknown.  Text that is not UTF-8 or is longer than LDS_FIELD_MAX is
 * refused.  Returns the number of fields set or -EPROTO. */
int lds_dg13_parse(const uint8_t *buf, size_t len, json_t *fields, int *ret_unknown);

/* "dd/mm/yyyy" (or ddmmyyyy) to "YYYY-MM-DD" in out[11]; -EINVAL when not a real date. */
int lds_date(const char *s, size_t n, char out[11]);

#endif
