/* The front QR of the Vietnamese chip ID card (CCCD 2021): pipe-separated UTF-8,
 * ID12|oldID9 or empty|Full name|DDMMYYYY|Nam or Nữ|Place of residence|DDMMYYYY issue date.
 * Extra trailing fields (later card models) are tolerated; every field is validated. */
#ifndef MOTCUA_CCCD_QR_H
#define MOTCUA_CCCD_QR_H

#include <stddef.h>

#define CCCD_QR_MAX 1024 /* longest payload accepted */

struct cccd_qr {
	char id_number[13];
	char old_id_number[10]; /* "" when the holder had no 9-digit CMND */
	char full_name[128]; /* UTF-8 as on the card */
	char date_of_birth[11]; /* YYYY-MM-DD */
	char sex; /* 'M' or 'F' */
	char place_of_residence[512];
	char issue_date[11]; /* YYYY-MM-DD, "" when the payload had only six fields */
	int nfields;
	const char *error; /* on -EINVAL: the field that was wrong */
};

/* Parses a QR payload (raw bytes; a trailing CR/LF is ignored).  Returns 0 with *ret
 * filled, -EINVAL when it is not a valid CCCD payload (ret->error names the field),
 * -EMSGSIZE when longer than CCCD_QR_MAX. */
int cccd_qr_parse(const char *data, size_t len, struct cccd_qr *ret);

/* 1 when s[0..len) is valid UTF-8 without control characters. */
int utf8_valid(const char *s, size_t len);

#endif
