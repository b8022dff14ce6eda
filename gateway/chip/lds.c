/* LDS1 file parsers: EF.COM, DG1, DG2 (ISO 19794-5 face record) and the Vietnamese DG13. */
#include "gateway/chip/lds.h"

#include <errno.h>
#include <string.h>

#include "gateway/chip/tlv.h"

int lds_com_parse(const uint8_t *buf, size_t len, uint32_t *ret_mask)
{
	struct tlv com, list;
	static const struct {
		uint8_t tag;
		uint8_t dg;
	} map[] = { { 0x61, 1 },  { 0x75, 2 },  { 0x63, 3 },  { 0x76, 4 },  { 0x65, 5 },  { 0x66, 6 },
		    { 0x67, 7 },  { 0x68, 8 },  { 0x69, 9 },  { 0x6A, 10 }, { 0x6B, 11 }, { 0x6C, 12 },
		    { 0x6D, 13 }, { 0x6E, 14 }, { 0x6F, 15 }, { 0x70, 16 } };
	uint32_t mask = 0;
	if (tlv_whole(buf, len, 0x60, &com) < 0 || tlv_find(com.value, com.len, 0x5C, &list) < 0)
		return -EPROTO;
	for (size_t i = 0; i < list.len; i++)
		for (size_t j = 0; j < sizeof(map) / sizeof(*map); j++)
			if (map[j].tag == list.value[i])
				mask |= 1u << map[j].dg;
	*ret_mask = mask;
	return 0;
}

int lds_dg1_parse(const uint8_t *buf, size_t len, char *out, size_t size)
{
	struct tlv dg, mrz;
	if (tlv_whole(buf, len, 0x61, &dg) < 0 || tlv_find(dg.value, dg.len, 0x5F1F, &mrz) < 0)
		return -EPROTO;
	if ((mrz.len != 90 && mrz.len != 88 && mrz.len != 72) || mrz.len >= size)
		return -EPROTO;
	for (size_t i = 0; i < mrz.len; i++) {
		uint8_t c = mrz.value[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '<'))
			return -EPROTO;
	}
	memcpy(out, mrz.value, mrz.len);
	out[mrz.len] = 0;
	return (int)mrz.len;
}

static uint32_t be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static enum lds_image sniff(const uint8_t *p, size_t n)
{
	static const uint8_t jp2[] = { 0, 0, 0, 0x0C, 0x6A, 0x50, 0x20, 0x20 };
	static const uint8_t j2k[] = { 0xFF, 0x4F, 0xFF, 0x51 };
	if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
		return LDS_IMAGE_JPEG;
	if ((n >= sizeof(jp2) && memcmp(p, jp2, sizeof(jp2)) == 0) ||
	    (n >= sizeof(j2k) && memcmp(p, j2k, sizeof(j2k)) == 0))
		return LDS_IMAGE_JPEG2000;
	return LDS_IMAGE_UNKNOWN;
}

/* Finds the biometric data block (5F2E or 7F2E) anywhere under DG2's templates. */
static int find_bdb(const uint8_t *buf, size_t len, int depth, struct tlv *ret)
{
	size_t pos = 0;
	struct tlv t;
	int r;
	if (depth > 4)
		return -ENOENT;
	while ((r = tlv_next(buf, len, &pos, &t)) == 0) {
		if (t.tag == 0x5F2E || t.tag == 0x7F2E) {
			*ret = t;
			return 0;
		}
		if (t.constructed && find_bdb(t.value, t.len, depth + 1, ret) == 0)
			return 0;
	}
	return r == -ENODATA ? -ENOENT : r;
}

int lds_dg2_face(const uint8_t *buf, size_t len, const uint8_t **ret_img, size_t *ret_len,
		 enum lds_image *ret_kind)
{
	struct tlv dg, bdb;
	int r;
	if (tlv_whole(buf, len, 0x75, &dg) < 0)
		return -EPROTO;
	if ((r = find_bdb(dg.value, dg.len, 0, &bdb)) < 0)
		return r;
	const uint8_t *p = bdb.value;
	size_t n = bdb.len;
	/* ISO 19794-5: "FAC\0" version(4) record length(4) faces(2), then per face a 20-byte
	 * information block (its first 4 bytes: the face's length; then the number of feature
	 * points), 8 bytes per feature point, a 12-byte image block, the image. */
	if (n < 14 + 20 + 12 || memcmp(p, "FAC", 4) != 0)
		return -EPROTO;
	if (be32(p + 8) > n || ((p[12] << 8) | p[13]) < 1)
		return -EPROTO;
	size_t face_len = be32(p + 14);
	size_t points = ((size_t)p[18] << 8) | p[19];
	size_t img_block = 14 + 20 + points * 8;
	if (img_block + 12 > n || face_len < 20 + points * 8 + 12 || face_len > n - 14)
		return -EPROTO;
	size_t start = img_block + 12, end = 14 + face_len;
	if (end <= start)
		return -EPROTO;
	enum lds_image declared = p[img_block + 1] == 0 ? LDS_IMAGE_JPEG
	    : p[img_block + 1] == 1                     ? LDS_IMAGE_JPEG2000
							: LDS_IMAGE_UNKNOWN;
	enum lds_image seen = sniff(p + start, end - start);
	if (seen == LDS_IMAGE_UNKNOWN || (declared != LDS_IMAGE_UNKNOWN && declared != seen))
		return -EPROTO;
	*ret_img = p + start;
	*ret_len = end - start;
	*ret_kind = seen;
	return 0;
}

static int utf8_ok(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint8_t c = s[i];
		size_t k;
		uint32_t cp;
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7F)
				return 0;
			i++;
			continue;
		}
		if ((c & 0xE0) == 0xC0)
			k = 1, cp = c & 0x1F;
		else if ((c & 0xF0) == 0xE0)
			k = 2, cp = c & 0x0F;
		else if ((c & 0xF8) == 0xF0)
			k = 3, cp = c & 0x07;
		else
			return 0;
		if (k >= n - i)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + j] & 0x3F);
		}
		if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += k + 1;
	}
	return 1;
}

int lds_date(const char *s, size_t n, char out[11])
{
	char d[8];
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9') {
			if (k == 8)
				return -EINVAL;
			d[k++] = s[i];
		} else if (s[i] != '/' && s[i] != '-' && s[i] != '.') {
			return -EINVAL;
		}
	}
	if (k != 8)
		return -EINVAL;
	int day = (d[0] - '0') * 10 + d[1] - '0', mon = (d[2] - '0') * 10 + d[3] - '0';
	int year = (d[4] - '0') * 1000 + (d[5] - '0') * 100 + (d[6] - '0') * 10 + d[7] - '0';
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (mon < 1 || mon > 12 || day < 1 || day > mdays[mon - 1] || year < 1900)
		return -EINVAL;
	if (mon == 2 && day == 29 && !((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
		return -EINVAL;
	memcpy(out, d + 4, 4);
	out[4] = '-', out[5] = d[2], out[6] = d[3], out[7] = '-', out[8] = d[0], out[9] = d[1];
	out[10] = 0;
	return 0;
}

static int is_text(uint32_t tag)
{
	return tag == 0x0C || tag == 0x13 || tag == 0x16 || tag == 0x14;
}

/* Collects up to max texts directly under an item or one SEQUENCE deeper. */
static int texts(const uint8_t *buf, size_t len, int depth, struct tlv *out, int *n, int max)
{
	size_t pos = 0;
	struct tlv t;
	int r;
	while ((r = tlv_next(buf, len, &pos, &t)) == 0) {
		if (is_text(t.tag)) {
			if (t.len > LDS_FIELD_MAX || !utf8_ok(t.value, t.len))
				return -EPROTO;
			if (*n < max)
				out[(*n)++] = t;
		} else if (t.tag == 0x30 && depth == 0) {
			if ((r = texts(t.value, t.len, 1, out, n, max)) < 0)
				return r;
		}
	}
	return r == -ENODATA ? 0 : r;
}

static void set_text(json_t *fields, const char *name, const struct tlv *t)
{
	json_object_set_new(fields, name, json_stringn((const char *)t->value, t->len));
}

static int item(const struct tlv *seq, json_t *fields, int *unknown)
{
	static const char *const names[] = {
		NULL,
		"id_number",
		"full_name",
		"date_of_birth",
		"sex",
		"nationality",
		"ethnicity",
		"religion",
		"place_of_origin",
		"place_of_residence",
		"identifying_features",
		"issue_date",
		"expiry_date",
		NULL, /* 13: parents */
		NULL,
		/* 14: spouse */ "old_id_number",
	};
	struct tlv num, v[2];
	size_t pos = 0;
	int n = 0, r;
	if (tlv_next(seq->value, seq->len, &pos, &num) < 0 || num.tag != 0x02 || num.len != 1)
		return -EPROTO;
	if ((r = texts(seq->value + pos, seq->len - pos, 0, v, &n, 2)) < 0)
		return r;
	int k = num.value[0];
	if (n == 0)
		return 0; /* an empty item: no spouse, no old number */
	if (k == 13) {
		set_text(fields, "father_name", &v[0]);
		if (n > 1)
			set_text(fields, "mother_name", &v[1]);
		return n;
	}
	if (k == 14) {
		set_text(fields, "spouse_name", &v[0]);
		return 1;
	}
	if (k < 1 || k >= (int)(sizeof(names) / sizeof(*names)) || !names[k]) {
		(*unknown)++;
		return 0;
	}
	if (k == 3 || k == 11 || k == 12) {
		char iso[11];
		if (lds_date((const char *)v[0].value, v[0].len, iso) == 0) {
			json_object_set_new(fields, names[k], json_string(iso));
			return 1;
		}
		if (k == 3)
			return -EPROTO; /* a birth date must be a date */
		set_text(fields, names[k], &v[0]); /* "Không thời hạn" and the like */
		return 1;
	}
	if (k == 4) {
		const char *s = (const char *)v[0].value;
		if (v[0].len == 3 && memcmp(s, "Nam", 3) == 0)
			json_object_set_new(fields, "sex", json_string("M"));
		else if (v[0].len == 4 && memcmp(s, "N\xe1\xbb\xaf", 4) == 0)
			json_object_set_new(fields, "sex", json_string("F"));
		else
			return -EPROTO;
		return 1;
	}
	set_text(fields, names[k], &v[0]);
	return 1;
}

static int walk(const uint8_t *buf, size_t len, int depth, json_t *fields, int *unknown, int *set)
{
	size_t pos = 0;
	struct tlv t;
	int r;
	if (depth > 3)
		return 0;
	while ((r = tlv_next(buf, len, &pos, &t)) == 0) {
		if (t.tag != 0x30)
			continue;
		if (t.len >= 3 && t.value[0] == 0x02 && t.value[1] == 0x01) {
			if ((r = item(&t, fields, unknown)) < 0)
				return r;
			*set += r;
		} else if ((r = walk(t.value, t.len, depth + 1, fields, unknown, set)) < 0) {
			return r;
		}
	}
	return r == -ENODATA ? 0 : r;
}

int lds_dg13_parse(const uint8_t *buf, size_t len, json_t *fields, int *ret_unknown)
{
	struct tlv dg;
	int unknown = 0, set = 0, r;
	if (tlv_whole(buf, len, 0x6D, &dg) < 0)
		return -EPROTO;
	if ((r = walk(dg.value, dg.len, 0, fields, &unknown, &set)) < 0)
		return r;
	*ret_unknown = unknown;
	return set;
}
