/* SANE: one page at a time, under one lock (SANE's init and device list are process-wide),
 * converted to PNG with Cairo and taken in through intake_document. */
#include "devices/scanner.h"

#include <cairo.h>
#include <errno.h>
#include <pthread.h>
#include <sane/sane.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/intake.h"
#include "gateway/log.h"

#define MAX_PIXELS (14000L * 20000L) /* A3 at 1200 dpi is well below */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static int sane_errno(SANE_Status st)
{
	switch (st) {
	case SANE_STATUS_DEVICE_BUSY: return -EBUSY;
	case SANE_STATUS_INVAL: return -ENODEV;
	case SANE_STATUS_NO_MEM: return -ENOMEM;
	case SANE_STATUS_NO_DOCS: return -ENOENT;
	case SANE_STATUS_ACCESS_DENIED: return -EACCES;
	default: return -EIO;
	}
}

int scanner_list(struct scanner_info *out, int max)
{
	const SANE_Device **list = NULL;
	SANE_Int version;
	int n = 0;
	pthread_mutex_lock(&lock);
	if (sane_init(&version, NULL) != SANE_STATUS_GOOD) {
		pthread_mutex_unlock(&lock);
		return -EIO;
	}
	if (sane_get_devices(&list, SANE_FALSE) == SANE_STATUS_GOOD)
		for (; list[n] && n < max; n++) {
			snprintf(out[n].name, sizeof(out[n].name), "%s", list[n]->name);
			snprintf(out[n].vendor, sizeof(out[n].vendor), "%s", list[n]->vendor);
			snprintf(out[n].model, sizeof(out[n].model), "%s", list[n]->model);
			snprintf(out[n].type, sizeof(out[n].type), "%s", list[n]->type);
		}
	sane_exit();
	pthread_mutex_unlock(&lock);
	return n;
}

/* Sets option name to a string or a number (word or fixed), when the device has it. */
static void set_opt(SANE_Handle h, const char *name, const char *str, int num)
{
	const SANE_Option_Descriptor *d;
	for (SANE_Int i = 1; (d = sane_get_option_descriptor(h, i)) != NULL; i++) {
		if (!d->name || strcmp(d->name, name) != 0 || !SANE_OPTION_IS_SETTABLE(d->cap))
			continue;
		if (d->type == SANE_TYPE_STRING && str) {
			char v[64];
			snprintf(v, sizeof(v), "%s", str);
			sane_control_option(h, i, SANE_ACTION_SET_VALUE, v, NULL);
		} else if (d->type == SANE_TYPE_INT && !str) {
			SANE_Word w = num;
			sane_control_option(h, i, SANE_ACTION_SET_VALUE, &w, NULL);
		} else if (d->type == SANE_TYPE_FIXED && !str) {
			SANE_Word w = SANE_FIX(num);
			sane_control_option(h, i, SANE_ACTION_SET_VALUE, &w, NULL);
		}
		return;
	}
}

struct buf {
	unsigned char *p;
	size_t len, cap, max, pos;
};

static cairo_status_t png_write(void *ctx, const unsigned char *data, unsigned int len)
{
	struct buf *b = ctx;
	if (b->len + len > b->max)
		return CAIRO_STATUS_WRITE_ERROR;
	if (b->len + len > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 65536);
		while (cap < b->len + len)
			cap *= 2;
		unsigned char *q = realloc(b->p, cap);
		if (!q)
			return CAIRO_STATUS_NO_MEMORY;
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	return CAIRO_STATUS_SUCCESS;
}

static ssize_t buf_read(void *ctx, void *out, size_t len)
{
	struct buf *b = ctx;
	size_t n = b->len - b->pos < len ? b->len - b->pos : len;
	memcpy(out, b->p + b->pos, n);
	b->pos += n;
	return (ssize_t)n;
}

/* Reads one frame into an RGB24 surface. */
static int read_page(SANE_Handle h, cairo_surface_t **ret, char *why, size_t whylen)
{
	SANE_Parameters p;
	SANE_Status st = sane_start(h);
	if (st != SANE_STATUS_GOOD) {
		snprintf(why, whylen, "the scanner did not start: %s", sane_strstatus(st));
		return sane_errno(st);
	}
	st = sane_get_parameters(h, &p);
	if (st != SANE_STATUS_GOOD || p.lines <= 0 || p.pixels_per_line <= 0 || p.bytes_per_line <= 0 ||
	    (long)p.lines * p.pixels_per_line > MAX_PIXELS ||
	    (p.format != SANE_FRAME_GRAY && p.format != SANE_FRAME_RGB) || (p.depth != 1 && p.depth != 8)) {
		snprintf(why, whylen,
			 "the scanner's image format is not supported (format %d, depth %d, %dx%d)",
			 (int)p.format, p.depth, p.pixels_per_line, p.lines);
		return -EIO;
	}
	size_t total = (size_t)p.bytes_per_line * (size_t)p.lines, got = 0;
	unsigned char *raw = malloc(total);
	if (!raw)
		return -ENOMEM;
	while (got < total) {
		SANE_Int n = 0;
		SANE_Int want = total - got > 65536 ? 65536 : (SANE_Int)(total - got);
		st = sane_read(h, raw + got, want, &n);
		if (st == SANE_STATUS_EOF)
			break;
		if (st != SANE_STATUS_GOOD) {
			free(raw);
			snprintf(why, whylen, "the scan failed: %s", sane_strstatus(st));
			return sane_errno(st);
		}
		got += (size_t)n;
	}
	int lines = (int)(got / (size_t)p.bytes_per_line);
	cairo_surface_t *s =
	    cairo_image_surface_create(CAIRO_FORMAT_RGB24, p.pixels_per_line, lines > 0 ? lines : 1);
	unsigned char *px = cairo_image_surface_get_data(s);
	int stride = cairo_image_surface_get_stride(s);
	cairo_surface_flush(s);
	for (int y = 0; y < lines; y++) {
		const unsigned char *row = raw + (size_t)y * (size_t)p.bytes_per_line;
		uint32_t *out = (uint32_t *)(void *)(px + (size_t)y * (size_t)stride);
		for (int x = 0; x < p.pixels_per_line; x++) {
			unsigned r, g, b;
			if (p.format == SANE_FRAME_RGB) {
				r = row[3 * x], g = row[3 * x + 1], b = row[3 * x + 2];
			} else if (p.depth == 8) {
				r = g = b = row[x];
			} else { /* lineart: 1 is black */
				r = g = b = (row[x / 8] & (0x80 >> (x % 8))) ? 0 : 255;
			}
			out[x] = (r << 16) | (g << 8) | b;
		}
	}
	cairo_surface_mark_dirty(s);
	free(raw);
	*ret = s;
	return 0;
}

int scanner_scan(struct store *s, struct db *db, const struct config *cfg, const char *device,
		 const char *kind, const char *actor, struct doc_meta *ret_meta, char *why, size_t whylen)
{
	SANE_Handle h = NULL;
	SANE_Int version;
	cairo_surface_t *page = NULL;
	struct buf png = { .max = (size_t)config_max_document_bytes(cfg) };
	int r;

	pthread_mutex_lock(&lock);
	if (sane_init(&version, NULL) != SANE_STATUS_GOOD) {
		pthread_mutex_unlock(&lock);
		snprintf(why, whylen, "SANE cannot start");
		return -EIO;
	}
	SANE_Status st = sane_open(device, &h);
	if (st != SANE_STATUS_GOOD) {
		snprintf(why, whylen, "cannot open scanner %.100s: %s (see 'motcuactl scan list')", device,
			 sane_strstatus(st));
		r = st == SANE_STATUS_DEVICE_BUSY ? -EBUSY : -ENODEV;
		goto out;
	}
	const char *mode = strcmp(cfg->scan_mode, "color") == 0 ? "Color"
	    : strcmp(cfg->scan_mode, "lineart") == 0            ? "Lineart"
								: "Gray";
	set_opt(h, "mode", mode, 0);
	set_opt(h, "resolution", NULL, (int)cfg->scan_resolution);
	r = read_page(h, &page, why, whylen);
	sane_cancel(h);
	if (r < 0)
		goto out;
	if (cairo_surface_write_to_png_stream(page, png_write, &png) != CAIRO_STATUS_SUCCESS) {
		snprintf(why, whylen, "the scanned page is larger than [store] max_document_mb as PNG");
		r = -EMSGSIZE;
		goto out;
	}
	struct intake_request ir = {
		.declared_size = (int64_t)png.len,
		.max_bytes = config_max_document_bytes(cfg),
		.low_water_bytes = config_low_water_bytes(cfg),
		.kind = kind && kind[0] ? kind : "scan",
		.source = "scanner",
		.name = "scan.png",
		.intake_key = NULL,
		.actor = actor,
	};
	r = intake_document(s, db, &ir, buf_read, &png, ret_meta, why, whylen);
	if (r > 0)
		r = 0;
	if (r == 0)
		log_info("scanner: a page from %s stored as document %s (%zu bytes)", device, ret_meta->id,
			 png.len);
out:
	if (page)
		cairo_surface_destroy(page);
	free(png.p);
	if (h)
		sane_close(h);
	sane_exit();
	pthread_mutex_unlock(&lock);
	return r;
}
