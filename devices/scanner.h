/* Scanners through SANE (USB scanners by their backends, network scanners by sane-airscan):
 * one page is scanned, encoded as PNG and handed to intake_document, so a scan lands in the
 * store like any other document.  No SANE type crosses this header. */
#ifndef MOTCUA_SCANNER_H
#define MOTCUA_SCANNER_H

#include <stddef.h>

#include "gateway/config.h"
#include "store/docs.h"

struct store;
struct db;

struct scanner_info {
	char name[128]; /* what SANE calls it, e.g. "genesys:libusb:001:004", "test:0" */
	char vendor[64], model[64], type[32];
};

/* Lists up to max scanners; returns how many, or -errno. */
int scanner_list(struct scanner_info *out, int max);

/* Scans one page on device with [scanner] scan_resolution and scan_mode and stores it as a
 * PNG document (kind, source "scanner").  0 and ret_meta once durable; -ENODEV unknown
 * device, -EBUSY device busy, -EIO scan failure, or intake's errors; why says which. */
int scanner_scan(struct store *s, struct db *db, const struct config *cfg, const char *device,
		 const char *kind, const char *actor, struct doc_meta *ret_meta, char *why, size_t whylen);

#endif
