/* Sidecar manifests: the facts needed to rebuild a document's row from the blob files alone
 * (hash, size, type, source, intake time, sequence).  They hold no personal data. */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "store/docs.h"
#include "store/fsutil.h"

#define MANIFEST_MAX 4096

int manifest_write(const char *dir, const struct doc_meta *m)
{
	char sub[PATH_MAX], path[PATH_MAX];
	json_t *o;
	char *text;
	int r;

	if (snprintf(sub, sizeof(sub), "%s/%.2s", dir, m->id) >= (int)sizeof(sub) ||
	    snprintf(path, sizeof(path), "%s/%s.json", sub, m->id) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	int made = mkdir(sub, 0700) == 0; /* see blob_put on fan-out directories */
	if (!made && errno != EEXIST)
		return -errno;
	o = json_pack("{s:i, s:s, s:I, s:s, s:I, s:s, s:s, s:s, s:s, s:s}", "v", 1, "id", m->id, "seq",
		      (json_int_t)m->seq, "sha256", m->sha256, "size", (json_int_t)m->size, "content_type",
		      m->content_type, "kind", m->kind, "source", m->source, "intake_key", m->intake_key,
		      "received_at", m->received_at);
	if (!o)
		return -ENOMEM;
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (!text)
		return -ENOMEM;
	r = fs_write_atomic(path, text, strlen(text), 0600);
	free(text);
	if (r == 0 && made)
		r = fs_fsync_dir(dir);
	return r;
}

static int copy_str(json_t *o, const char *key, char *out, size_t size)
{
	const char *s = json_string_value(json_object_get(o, key));
	if (!s || strlen(s) >= size)
		return -EINVAL;
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

static int is_hex(const char *s, size_t len)
{
	if (strlen(s) != len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int manifest_parse(const char *text, size_t len, struct doc_meta *ret)
{
	struct doc_meta m;
	json_error_t jerr;
	json_t *o, *v;
	int r = -EINVAL;

	if (len > MANIFEST_MAX)
		return -EFBIG;
	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o)
		return -EINVAL;
	memset(&m, 0, sizeof(m));
	if (!json_is_object(o) || json_integer_value(json_object_get(o, "v")) != 1)
		goto out;
	if (copy_str(o, "id", m.id, sizeof(m.id)) < 0 || !is_hex(m.id, 32) ||
	    copy_str(o, "sha256", m.sha256, sizeof(m.sha256)) < 0 || !is_hex(m.sha256, 64) ||
	    copy_str(o, "content_type", m.content_type, sizeof(m.content_type)) < 0 ||
	    copy_str(o, "kind", m.kind, sizeof(m.kind)) < 0 || !docs_token_valid(m.kind, sizeof(m.kind)) ||
	    copy_str(o, "source", m.source, sizeof(m.source)) < 0 ||
	    !docs_token_valid(m.source, sizeof(m.source)) ||
	    copy_str(o, "intake_key", m.intake_key, sizeof(m.intake_key)) < 0 ||
	    !docs_key_valid(m.intake_key) ||
	    copy_str(o, "received_at", m.received_at, sizeof(m.received_at)) < 0)
		goto out;
	v = json_object_get(o, "seq");
	if (!json_is_integer(v) || json_integer_value(v) < 1)
		goto out;
	m.seq = json_integer_value(v);
	v = json_object_get(o, "size");
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		goto out;
	m.size = json_integer_value(v);
	*ret = m;
	r = 0;
out:
	json_decref(o);
	return r;
}
