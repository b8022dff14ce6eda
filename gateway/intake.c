/* Document intake: checks before and while the bytes stream in, then the store's commit. */
#include "gateway/intake.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "gateway/events.h"
#include "gateway/log.h"
#include "gateway/recjobs.h"
#include "store/fsutil.h"
#include "store/store.h"

const char *intake_sniff(const unsigned char *h, size_t len)
{
	if (len >= 3 && h[0] == 0xff && h[1] == 0xd8 && h[2] == 0xff)
		return "image/jpeg";
	if (len >= 8 && memcmp(h, "\x89PNG\r\n\x1a\n", 8) == 0)
		return "image/png";
	if (len >= 4 && (memcmp(h, "II*\0", 4) == 0 || memcmp(h, "MM\0*", 4) == 0))
		return "image/tiff";
	if (len >= 5 && memcmp(h, "%PDF-", 5) == 0)
		return "application/pdf";
	return NULL;
}

/* Wraps the sender's reader: keeps the first bytes for the format check and refuses the
 * stream as soon as they show a format we do not accept. */
struct sniffer {
	blob_reader src;
	void *ctx;
	unsigned char head[8];
	size_t have;
	const char *type;
};

static ssize_t sniff_read(void *ctx, void *buf, size_t len)
{
	struct sniffer *s = ctx;
	ssize_t n = s->src(s->ctx, buf, len);
	if (n > 0 && s->have < sizeof(s->head)) {
		size_t take = sizeof(s->head) - s->have;
		if ((size_t)n < take)
			take = (size_t)n;
		memcpy(s->head + s->have, buf, take);
		s->have += take;
		if (s->have == sizeof(s->head)) {
			s->type = intake_sniff(s->head, s->have);
			if (!s->type)
				return -EMEDIUMTYPE;
		}
	}
	if (n == 0 && !s->type) {
		s->type = intake_sniff(s->head, s->have);
		if (!s->type)
			return -EMEDIUMTYPE;
	}
	return n;
}

static void fresh_key(char out[DOC_KEY_MAX])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char raw[16];
	RAND_bytes(raw, sizeof(raw));
	memcpy(out, "local:", 6);
	for (int i = 0; i < 16; i++) {
		out[6 + 2 * i] = digits[raw[i] >> 4];
		out[6 + 2 * i + 1] = digits[raw[i] & 15];
	}
	out[38] = '\0';
}

int intake_document(struct store *s, struct db *db, const struct intake_request *req, blob_reader src,
		    void *ctx, struct doc_meta *ret_meta, char *why, size_t whylen)
{
	struct sniffer sn = { .src = src, .ctx = ctx };
	struct doc_meta m;
	int64_t free_bytes = 0, size = 0;
	int r;

	memset(&m, 0, sizeof(m));
	if (!docs_token_valid(req->kind, sizeof(m.kind))) {
		snprintf(why, whylen, "kind must be 1-31 characters of a-z, 0-9, '.', '_' or '-'");
		return -EINVAL;
	}
	if (!docs_token_valid(req->source, sizeof(m.source))) {
		snprintf(why, whylen, "source must be 1-63 characters of a-z, 0-9, '.', '_' or '-'");
		return -EINVAL;
	}
	if (req->intake_key && !docs_key_valid(req->intake_key)) {
		snprintf(why, whylen,
			 "intake_key must be 1-64 characters of A-Z, a-z, 0-9, '.', '_', ':' or '-'");
		return -EINVAL;
	}
	if (strlen(req->name) >= sizeof(m.name)) {
		snprintf(why, whylen, "name is longer than %zu bytes", sizeof(m.name) - 1);
		return -EINVAL;
	}
	if (req->declared_size > req->max_bytes) {
		snprintf(why, whylen,
			 "document of %lld bytes is larger than the limit of %lld bytes "
			 "([store] max_document_mb)",
			 (long long)req->declared_size, (long long)req->max_bytes);
		return -EMSGSIZE;
	}
	r = fs_free_bytes(store_state_dir(s), &free_bytes);
	if (r < 0) {
		snprintf(why, whylen, "cannot measure free disk space: %s", strerror(-r));
		return r;
	}
	if (free_bytes - (req->declared_size > 0 ? req->declared_size : 0) < req->low_water_bytes) {
		snprintf(why, whylen,
			 "the gateway's disk is almost full (%lld MB free, the low-water mark "
			 "is %lld MB); intake is paused until space is freed, nothing stored is affected",
			 (long long)(free_bytes >> 20), (long long)(req->low_water_bytes >> 20));
		log_warn("intake: refused a document: %lld MB free is below the low-water mark of %lld MB",
			 (long long)(free_bytes >> 20), (long long)(req->low_water_bytes >> 20));
		return -ENOSPC;
	}
	r = blob_put(store_blobs(s), sniff_read, &sn, req->max_bytes, m.sha256, &size);
	if (r == -EMSGSIZE) {
		snprintf(why, whylen,
			 "document is larger than the limit of %lld bytes ([store] max_document_mb)",
			 (long long)req->max_bytes);
		return r;
	}
	if (r == -EMEDIUMTYPE) {
		snprintf(why, whylen, "not a JPEG, PNG, TIFF or PDF document");
		return r;
	}
	if (r == -ENOSPC) {
		snprintf(why, whylen,
			 "the gateway's disk is full; intake is paused, nothing stored is affected");
		return r;
	}
	if (r < 0) {
		snprintf(why, whylen, "could not store the document: %s", strerror(-r));
		return r;
	}
	if (req->declared_size >= 0 && size != req->declared_size) {
		snprintf(why, whylen, "received %lld bytes but %lld were announced", (long long)size,
			 (long long)req->declared_size);
		return -EPROTO;
	}
	m.size = size;
	snprintf(m.content_type, sizeof(m.content_type), "%s", sn.type);
	snprintf(m.kind, sizeof(m.kind), "%s", req->kind);
	snprintf(m.source, sizeof(m.source), "%s", req->source);
	snprintf(m.name, sizeof(m.name), "%s", req->name);
	if (req->intake_key)
		snprintf(m.intake_key, sizeof(m.intake_key), "%s", req->intake_key);
	else
		fresh_key(m.intake_key);
	char sha[BLOB_HASH_HEX];
	memcpy(sha, m.sha256, sizeof(sha));
	r = docs_intake(db, store_manifest_dir(s), req->actor, &m);
	if (r < 0) {
		snprintf(why, whylen, "could not record the document: %s", strerror(-r));
		return r;
	}
	if (r == 1 && strcmp(sha, m.sha256) != 0) {
		snprintf(why, whylen, "intake_key %s was already used for a different document (%s)",
			 m.intake_key, m.id);
		return -EEXIST;
	}
	if (r == 0) {
		events_outbox_changed(); /* a new outbox item: wake the uplink */
		if (strncmp(m.content_type, "image/", 6) == 0)
			recjobs_wake(); /* queued for recognition by its commit */
	}
	*ret_meta = m;
	return r;
}
