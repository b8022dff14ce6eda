/* Parsers of the outside bytes motcua-lgsp-sim reads (paths, headers, forms, JSON bodies).
 * Everything here is bounded and side-effect free so that the fuzzer can drive it. */
#include "tools/lgsp-sim/parse.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const kinds[] = { "documents",   "dossiers",       "certified-copies", "audit-batches",
				     "queue-stats", "feedback-stats", "dossier-steps" };
static const char *const statuses[] = { "received", "processing", "supplement_requested",
					"approved", "refused",    "returned",
					"withdrawn" };

static int set_err(struct sim_err *err, int status, const char *code, const char *field, const char *reason)
{
	err->status = status;
	snprintf(err->code, sizeof(err->code), "%s", code);
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	snprintf(err->reason, sizeof(err->reason), "%s", reason);
	return -EINVAL;
}

static int is_hex_lower(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int sim_hex64_check(const char *s)
{
	for (int i = 0; i < 64; i++)
		if (!is_hex_lower(s[i]))
			return -EINVAL;
	return s[64] == '\0' ? 0 : -EINVAL;
}

int sim_upload_id_check(const char *s)
{
	if (strncmp(s, "up_", 3) != 0)
		return -EINVAL;
	for (int i = 3; i < 27; i++)
		if (!is_hex_lower(s[i]))
			return -EINVAL;
	return s[27] == '\0' ? 0 : -EINVAL;
}

int sim_idem_key_check(const char *key)
{
	size_t n = strnlen(key, SIM_KEY_MAX + 1);
	if (n < SIM_KEY_MIN || n > SIM_KEY_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(key[i]) && !strchr("._:~-", key[i]))
			return -EINVAL;
	return 0;
}

int sim_dossier_code_check(const char *s)
{
	size_t n = strnlen(s, 65);
	if (n < 1 || n > 64)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '.' && s[i] != '-')
			return -EINVAL;
	return 0;
}

int sim_kind_check(const char *s)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(s, kinds[i]) == 0)
			return 0;
	return -EINVAL;
}

int sim_status_check(const char *s)
{
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (strcmp(s, statuses[i]) == 0)
			return 0;
	return -EINVAL;
}

int sim_parse_u64(const char *s, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i;

	if (!s || !*s)
		return -EINVAL;
	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 20)
			return -EINVAL;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

/* Copies the path segment starting at p (up to '/' or end) into out; returns its length or -1. */
static int segment(const char *p, char *out, size_t outsz)
{
	size_t n = strcspn(p, "/");
	if (n == 0 || n >= outsz)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return (int)n;
}

int sim_route_parse(const char *method, const char *url, struct sim_route *ret)
{
	struct sim_route r;
	const char *want = NULL;
	int n;

	memset(&r, 0, sizeof(r));
	if (strncmp(url, "/_sim/", 6) == 0) {
		const char *p = url + 6;
		if (strcmp(p, "stats") == 0) {
			r.kind = ROUTE_SIM_STATS;
			want = "GET";
		} else if (strncmp(p, "dossiers/", 9) == 0) {
			n = segment(p + 9, r.arg, sizeof(r.arg));
			if (n < 0 || strcmp(p + 9 + n, "/status") != 0)
				return -ENOENT;
			if (sim_dossier_code_check(r.arg) < 0)
				return -EINVAL;
			r.kind = ROUTE_SIM_SET_STATUS;
			r.has_body = 1;
			want = "POST";
		} else {
			return -ENOENT;
		}
	} else if (strncmp(url, "/lgsp/v1/", 9) == 0) {
		const char *p = url + 9;
		if (strcmp(p, "oauth/token") == 0) {
			r.kind = ROUTE_TOKEN;
			r.has_body = 1;
			want = "POST";
		} else if (strcmp(p, "ping") == 0) {
			r.kind = ROUTE_PING;
			want = "GET";
		} else if (strcmp(p, "uploads") == 0) {
			r.kind = ROUTE_UPLOAD_CREATE;
			r.has_body = 1;
			want = "POST";
		} else if (strncmp(p, "uploads/", 8) == 0) {
			n = segment(p + 8, r.arg, sizeof(r.arg));
			if (n < 0)
				return -ENOENT;
			const char *rest = p + 8 + n;
			if (strcmp(rest, "/finish") == 0) {
				r.kind = ROUTE_UPLOAD_FINISH;
				want = "POST";
			} else if (*rest == '\0') {
				if (strcmp(method, "PATCH") == 0) {
					r.kind = ROUTE_UPLOAD_PATCH;
					r.has_body = 1;
					want = "PATCH";
				} else {
					r.kind = ROUTE_UPLOAD_QUERY;
					want = strcmp(method, "HEAD") == 0 ? "HEAD" : "GET";
				}
			} else {
				return -ENOENT;
			}
			if (sim_upload_id_check(r.arg) < 0)
				return -ENOENT;
		} else if (strncmp(p, "submissions/", 12) == 0) {
			n = segment(p + 12, r.arg, sizeof(r.arg));
			if (n < 0 || p[12 + n] != '\0' || sim_kind_check(r.arg) < 0)
				return -ENOENT;
			r.kind = ROUTE_SUBMIT;
			r.has_body = 1;
			want = "POST";
		} else if (strcmp(p, "dossiers/status") == 0) {
			r.kind = ROUTE_STATUS_PULL;
			want = "GET";
		} else if (strncmp(p, "dossiers/", 9) == 0) {
			n = segment(p + 9, r.arg, sizeof(r.arg));
			if (n < 0 || strcmp(p + 9 + n, "/status") != 0)
				return -ENOENT;
			if (sim_dossier_code_check(r.arg) < 0)
				return -EINVAL;
			r.kind = ROUTE_STATUS_ONE;
			want = "GET";
		} else {
			return -ENOENT;
		}
	} else {
		return -ENOENT;
	}
	if (strcmp(method, want) != 0)
		return -EOPNOTSUPP;
	*ret = r;
	return 0;
}

static int unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes the form-encoded bytes src[0..n) into out; returns length or -errno. */
static int form_decode(const char *src, size_t n, char *out, size_t outsz)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = src[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (i + 2 >= n)
				return -EINVAL;
			int hi = unhex(src[i + 1]), lo = unhex(src[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (c == '\0')
			return -EINVAL;
		if (o + 1 >= outsz)
			return -ENAMETOOLONG;
		out[o++] = c;
	}
	out[o] = '\0';
	return (int)o;
}

int sim_form_get(const char *body, size_t len, const char *name, char *out, size_t outsz)
{
	size_t nlen = strlen(name), i = 0;
	int found = -ENOENT;

	if (outsz == 0)
		return -ENAMETOOLONG;
	while (i < len) {
		size_t end = i;
		while (end < len && body[end] != '&')
			end++;
		const char *eq = memchr(body + i, '=', end - i);
		size_t klen = eq ? (size_t)(eq - (body + i)) : end - i;
		if (klen == nlen && memcmp(body + i, name, nlen) == 0) {
			if (found != -ENOENT)
				return -EINVAL; /* RFC 6749 3.1: parameters must not repeat */
			const char *v = eq ? eq + 1 : body + end;
			found = form_decode(v, (size_t)(body + end - v), out, outsz);
			if (found < 0)
				return found;
		}
		i = end + 1;
	}
	return found;
}

int sim_bearer_parse(const char *authz, char *out, size_t outsz)
{
	if (!authz || strncasecmp(authz, "Bearer ", 7) != 0)
		return -EINVAL;
	const char *t = authz + 7;
	while (*t == ' ')
		t++;
	size_t n = strnlen(t, SIM_TOKEN_MAX + 1);
	if (n == 0 || n > SIM_TOKEN_MAX || n >= outsz)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(t[i]) && !strchr("-._~+/=", t[i]))
			return -EINVAL;
	memcpy(out, t, n);
	out[n] = '\0';
	return 0;
}

/* Loads body as a JSON object; duplicate keys and trailing bytes are refused. */
static json_t *load_object(const char *body, size_t len, struct sim_err *err)
{
	json_error_t je;
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		char why[160];
		snprintf(why, sizeof(why), "body is not JSON: %.100s at byte %d", je.text, je.position);
		set_err(err, 400, "invalid_json", "", why);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		set_err(err, 400, "invalid_json", "", "body must be a JSON object");
		return NULL;
	}
	return j;
}

/* Fetches a string member of 1..max bytes; fills err naming the field when missing or bad. */
static const char *get_str(json_t *o, const char *name, size_t max, int required, struct sim_err *err)
{
	json_t *v = json_object_get(o, name);
	char why[160];
	if (!v) {
		if (required) {
			snprintf(why, sizeof(why), "field %s is required", name);
			set_err(err, 422, "missing_field", name, why);
		}
		return NULL;
	}
	size_t n = json_is_string(v) ? json_string_length(v) : 0;
	if (!json_is_string(v) || n == 0 || n > max || strlen(json_string_value(v)) != n) {
		snprintf(why, sizeof(why), "field %s must be a string of 1 to %zu bytes", name, max);
		set_err(err, 422, "invalid_field", name, why);
		return NULL;
	}
	return json_string_value(v);
}

static int get_int(json_t *o, const char *name, int64_t min, int64_t max, int64_t *ret, struct sim_err *err)
{
	json_t *v = json_object_get(o, name);
	char why[160];
	if (!v) {
		snprintf(why, sizeof(why), "field %s is required", name);
		return set_err(err, 422, "missing_field", name, why);
	}
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		snprintf(why, sizeof(why), "field %s must be an integer from %lld to %lld", name,
			 (long long)min, (long long)max);
		return set_err(err, 422, "invalid_field", name, why);
	}
	*ret = json_integer_value(v);
	return 0;
}

static int get_hex64(json_t *o, const char *name, char out[65], struct sim_err *err)
{
	const char *s = get_str(o, name, 64, 1, err);
	char why[160];
	if (!s)
		return -EINVAL;
	if (sim_hex64_check(s) < 0) {
		snprintf(why, sizeof(why), "field %s must be 64 lower-case hex digits (SHA-256)", name);
		return set_err(err, 422, "invalid_field", name, why);
	}
	memcpy(out, s, 65);
	return 0;
}

int sim_upload_create_check(const char *body, size_t len, int64_t blob_max, int64_t *ret_size,
			    char ret_sha[65], char ret_ctype[SIM_CTYPE_MAX], struct sim_err *err)
{
	char sha[65];
	int64_t size;
	int r = -EINVAL;
	json_t *o = load_object(body, len, err);
	if (!o)
		return -EINVAL;
	if (get_int(o, "size", 1, blob_max, &size, err) < 0)
		goto out;
	if (get_hex64(o, "sha256", sha, err) < 0)
		goto out;
	const char *ct = get_str(o, "content_type", SIM_CTYPE_MAX - 1, 0, err);
	if (!ct && json_object_get(o, "content_type"))
		goto out;
	*ret_size = size;
	memcpy(ret_sha, sha, 65);
	snprintf(ret_ctype, SIM_CTYPE_MAX, "%s", ct ? ct : "application/octet-stream");
	r = 0;
out:
	json_decref(o);
	return r;
}

/* Checks "blobs": [{"sha256", "size", "role"}] and copies the references out. */
static int check_blobs(json_t *o, int min, struct sim_blob_ref *refs, int *ret_n, struct sim_err *err)
{
	json_t *a = json_object_get(o, "blobs");
	char field[64], why[160];
	size_t i, n;

	*ret_n = 0;
	if (!a) {
		if (min == 0)
			return 0;
		return set_err(err, 422, "missing_field", "blobs", "field blobs is required");
	}
	n = json_is_array(a) ? json_array_size(a) : 0;
	if (!json_is_array(a) || n > SIM_BLOB_REFS_MAX || n < (size_t)min) {
		snprintf(why, sizeof(why), "field blobs must be an array of %d to %d references", min,
			 SIM_BLOB_REFS_MAX);
		return set_err(err, 422, "invalid_field", "blobs", why);
	}
	for (i = 0; i < n; i++) {
		json_t *b = json_array_get(a, i);
		struct sim_err sub;
		snprintf(field, sizeof(field), "blobs[%zu]", i);
		if (!json_is_object(b))
			return set_err(err, 422, "invalid_field", field,
				       "a blob reference must be an object");
		if (get_hex64(b, "sha256", refs[i].sha256, &sub) < 0 ||
		    get_int(b, "size", 1, INT64_MAX, &refs[i].size, &sub) < 0 ||
		    !get_str(b, "role", 32, 1, &sub)) {
			char f2[64];
			snprintf(f2, sizeof(f2), "%.20s.%.40s", field, sub.field);
			return set_err(err, sub.status, sub.code, f2, sub.reason);
		}
	}
	*ret_n = (int)n;
	return 0;
}

int sim_submission_check(const char *kind, const char *body, size_t len,
			 struct sim_blob_ref refs[SIM_BLOB_REFS_MAX], int *ret_nrefs,
			 char ret_dossier[SIM_ID_MAX], struct sim_err *err)
{
	int r = -EINVAL, nrefs = 0;
	int64_t a, b;
	char sha[65];
	const char *s;
	json_t *o = load_object(body, len, err);

	ret_dossier[0] = '\0';
	if (!o)
		return -EINVAL;
	s = get_str(o, "schema", 32, 1, err);
	if (!s)
		goto out;
	if (strcmp(s, "motcua.lgsp.v1") != 0) {
		set_err(err, 422, "invalid_field", "schema", "schema must be \"motcua.lgsp.v1\"");
		goto out;
	}
	if (!get_str(o, "commune_code", 32, 1, err) || !get_str(o, "created_at", 40, 1, err))
		goto out;
	if (strcmp(kind, "documents") == 0) {
		if (!get_str(o, "document_id", 64, 1, err) || !get_str(o, "document_type", 64, 1, err) ||
		    check_blobs(o, 1, refs, &nrefs, err) < 0)
			goto out;
	} else if (strcmp(kind, "dossiers") == 0) {
		s = get_str(o, "dossier_code", 64, 1, err);
		if (!s)
			goto out;
		if (sim_dossier_code_check(s) < 0) {
			set_err(err, 422, "invalid_field", "dossier_code",
				"dossier_code must be 1 to 64 of A-Z a-z 0-9 . -");
			goto out;
		}
		snprintf(ret_dossier, SIM_ID_MAX, "%s", s);
		if (!get_str(o, "procedure_code", 64, 1, err) || !get_str(o, "received_at", 40, 1, err) ||
		    check_blobs(o, 0, refs, &nrefs, err) < 0)
			goto out;
	} else if (strcmp(kind, "dossier-steps") == 0) {
		s = get_str(o, "dossier_code", 64, 1, err);
		if (!s)
			goto out;
		if (sim_dossier_code_check(s) < 0) {
			set_err(err, 422, "invalid_field", "dossier_code",
				"dossier_code must be 1 to 64 of A-Z a-z 0-9 . -");
			goto out;
		}
		if (get_int(o, "seq", 1, INT64_MAX, &a, err) < 0 || !get_str(o, "step", 32, 1, err) ||
		    !get_str(o, "at", 40, 1, err) || check_blobs(o, 0, refs, &nrefs, err) < 0)
			goto out;
		s = get_str(o, "status", 32, 1, err);
		if (!s)
			goto out;
		if (sim_status_check(s) < 0) {
			set_err(err, 422, "invalid_field", "status", "status must be one of docs/lgsp.md 8");
			goto out;
		}
	} else if (strcmp(kind, "certified-copies") == 0) {
		if (!get_str(o, "copy_number", 64, 1, err) || !get_str(o, "book", 64, 1, err) ||
		    get_int(o, "year", 2000, 2999, &a, err) < 0 ||
		    get_hex64(o, "original_sha256", sha, err) < 0 || check_blobs(o, 1, refs, &nrefs, err) < 0)
			goto out;
	} else if (strcmp(kind, "audit-batches") == 0) {
		if (get_int(o, "first_seq", 1, INT64_MAX, &a, err) < 0 ||
		    get_int(o, "last_seq", 1, INT64_MAX, &b, err) < 0 ||
		    get_hex64(o, "last_hash", sha, err) < 0 || check_blobs(o, 0, refs, &nrefs, err) < 0)
			goto out;
		if (b < a) {
			set_err(err, 422, "invalid_field", "last_seq",
				"last_seq must not be below first_seq");
			goto out;
		}
	} else if (strcmp(kind, "queue-stats") == 0) {
		if (!get_str(o, "period_start", 40, 1, err) || !get_str(o, "period_end", 40, 1, err))
			goto out;
		if (!json_is_object(json_object_get(o, "counters"))) {
			set_err(err, 422, "invalid_field", "counters", "counters must be an object");
			goto out;
		}
	} else if (strcmp(kind, "feedback-stats") == 0) {
		if (!get_str(o, "period_start", 40, 1, err) || !get_str(o, "period_end", 40, 1, err))
			goto out;
		if (!json_is_object(json_object_get(o, "feedback"))) {
			set_err(err, 422, "invalid_field", "feedback", "feedback must be an object");
			goto out;
		}
	} else {
		set_err(err, 404, "unknown_kind", "", "unknown submission kind");
		goto out;
	}
	*ret_nrefs = nrefs;
	r = 0;
out:
	json_decref(o);
	return r;
}

int sim_status_set_check(const char *body, size_t len, char ret_status[32], char ret_text[256],
			 struct sim_err *err)
{
	int r = -EINVAL;
	json_t *o = load_object(body, len, err);
	if (!o)
		return -EINVAL;
	const char *s = get_str(o, "status", 31, 1, err);
	if (!s)
		goto out;
	if (sim_status_check(s) < 0) {
		set_err(err, 422, "invalid_field", "status", "unknown status");
		goto out;
	}
	const char *t = get_str(o, "status_text", 255, 0, err);
	if (!t && json_object_get(o, "status_text"))
		goto out;
	snprintf(ret_status, 32, "%s", s);
	snprintf(ret_text, 256, "%s", t ? t : "");
	r = 0;
out:
	json_decref(o);
	return r;
}
