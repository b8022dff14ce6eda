/* ESC/POS for thermal ticket printers: tickets and dossier receipts laid out with Pango and
 * DejaVu (Vietnamese needs no code page: every line is printed as a raster image, GS v 0),
 * the QR code drawn from libqrencode, and the status queries (DLE EOT) of paper and link. */
#ifndef MOTCUA_ESCPOS_H
#define MOTCUA_ESCPOS_H

#include <stddef.h>
#include <stdint.h>

#define ESCPOS_WIDTH_58MM 384 /* printable dots at 203 dpi */
#define ESCPOS_WIDTH_80MM 576
#define ESCPOS_MAX_HEIGHT 4000 /* dots: about 50 cm of paper */
#define ESCPOS_BAND 256 /* rows per GS v 0 command (small printer buffers) */

/* A 1-bit image, rows of (width + 7) / 8 bytes, most significant bit first, 1 = black. */
struct escpos_image {
	int width, height, stride;
	unsigned char *bits;
};
void escpos_image_free(struct escpos_image *img);

enum escpos_block_kind { ESCPOS_TEXT, ESCPOS_QR, ESCPOS_GAP, ESCPOS_RULE };

/* One block of a printout, top to bottom.  Text is UTF-8, wrapped to the paper width. */
struct escpos_block {
	enum escpos_block_kind kind;
	const char *text; /* TEXT: the words; QR: the data to encode */
	int px; /* TEXT: font size in dots; QR: module size in dots; GAP/RULE: height */
	int bold;
	int center;
};

/* Lays the blocks out into a 1-bit image width dots wide (DejaVu Sans).  -EINVAL for a
 * bad block, -EMSGSIZE when taller than ESCPOS_MAX_HEIGHT or a QR cannot hold its data. */
int escpos_layout(const struct escpos_block *b, int n, int width, struct escpos_image *ret);

/* The printer job for img: ESC @, the image as GS v 0 bands of at most ESCPOS_BAND rows,
 * a feed of feed_lines and, when cut is set, a partial cut (GS V 66 0).  *ret is malloc'd. */
int escpos_job(const struct escpos_image *img, int feed_lines, int cut, unsigned char **ret, size_t *ret_len);

struct escpos_ticket {
	const char *commune; /* header */
	const char *code; /* "A007" */
	const char *service; /* "Hộ tịch" */
	int ahead; /* people waiting before */
	const char *when; /* "09:15 14/03/2025" */
	const char *qr; /* what the QR holds (gateway/queue.h queue_ticket_qr) */
};

struct escpos_receipt {
	const char *commune;
	const char *title; /* e.g. "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" */
	const char *const *lines; /* "Mã hồ sơ: ...", "Thủ tục: ...", ... */
	int nlines;
	const char *qr; /* e.g. the dossier code or its follow-up URL */
	const char *footer;
};

/* The full printer job of a ticket / a dossier receipt for paper width dots wide. */
int escpos_ticket_job(const struct escpos_ticket *t, int width, unsigned char **ret, size_t *ret_len);
int escpos_receipt_job(const struct escpos_receipt *r, int width, unsigned char **ret, size_t *ret_len);

/* Status (DLE EOT n): the query bytes for n = 1 (printer), 2 (offline cause), 4 (paper
 * sensor), and the meaning of the printer's one-byte answer. */
enum escpos_status_query { ESCPOS_Q_PRINTER = 1, ESCPOS_Q_OFFLINE = 2, ESCPOS_Q_PAPER = 4 };
struct escpos_status {
	int answered; /* the printer answered at least one query */
	int offline, cover_open, paper_out, paper_near_end, error;
};
void escpos_status_query(enum escpos_status_query q, unsigned char out[3]);
/* Folds the answer byte to query q into st.  -EPROTO when the byte is not a status answer
 * (bits 0, 1, 4 and 7 of every answer are fixed 0, 1, 1, 0). */
int escpos_status_parse(enum escpos_status_query q, unsigned char answer, struct escpos_status *st);
/* "ready", "paper out", "paper low", "cover open", "offline", "error" or "unknown". */
const char *escpos_status_text(const struct escpos_status *st);

#endif
