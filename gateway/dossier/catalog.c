/* Procedure catalogue: JSON file -> validated fixed-size structs.  The file is outside input
 * (IT staff edit it), so every field is bounded and checked and errors name the field. */
#include "gateway/dossier/catalog.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/fsutil.h"

static int bad(char *err, const char *name, int idx, const char *code, const char *what)
{
	if (idx >= 0)
		snprintf(err, CATALOG_ERR_MAX, "%.60s: procedure %d (%.32s): %.100s", name, idx + 1,
			 code[0] ? code : "?", what);
	else
		snprintf(err, CATALOG_ERR_MAX, "%.80s: %.160s", name, what);
	return -EINVAL;
}

static int token_ok(const char *s, const char *extra)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || strchr(extra, *s)))
			return 0;
	return 1;
}

/* Copies string member key of o into out; missing is an error unless optional. */
static int get_str(json_t *o, const char *key, char *out, size_t size, int optional, char *why, size_t wlen)
{
	json_t *v = json_object_get(o, key);
	if (!v && optional) {
		out[0] = 0;
		return 0;
	}
	if (!json_is_string(v)) {
		snprintf(why, wlen, "\"%s\" must be a string", key);
		return -EINVAL;
	}
	size_t n = json_string_length(v);
	if (n >= size || (!optional && n == 0) || strlen(json_string_value(v)) != n) {
		snprintf(why, wlen, "\"%s\" must be 1 to %zu bytes of text", key, size - 1);
		return -EINVAL;
	}
	memcpy(out, json_string_value(v), n + 1);
	return 0;
}

static int parse_doc(json_t *o, struct catalog_doc *d, char *why, size_t wlen)
{
	char tmp[CATALOG_CODE_MAX];
	if (!json_is_object(o)) {
		snprintf(why, wlen, "each document must be an object");
		return -EINVAL;
	}
	if (get_str(o, "key", d->key, sizeof(d->key), 0, why, wlen) < 0 ||
	    get_str(o, "name", d->name, sizeof(d->name), 0, why, wlen) < 0)
		return -EINVAL;
	for (const char *s = d->key; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_')) {
			snprintf(why, wlen, "document key \"%s\" must be of [a-z0-9_]", d->key);
			return -EINVAL;
		}
	json_t *opt = json_object_get(o, "optional"), *idc = json_object_get(o, "id_card");
	if ((opt && !json_is_boolean(opt)) || (idc && !json_is_boolean(idc))) {
		snprintf(why, wlen, "document %s: \"optional\" and \"id_card\" must be true or false",
			 d->key);
		return -EINVAL;
	}
	d->optional = json_is_true(opt);
	d->id_card = json_is_true(idc);
	json_t *types = json_object_get(o, "types"), *t;
	size_t i;
	if (types && !json_is_array(types)) {
		snprintf(why, wlen, "document %s: \"types\" must be an array", d->key);
		return -EINVAL;
	}
	if (json_array_size(types) > CATALOG_MAX_TYPES) {
		snprintf(why, wlen, "document %s: at most %d types", d->key, CATALOG_MAX_TYPES);
		return -EINVAL;
	}
	json_array_foreach (types, i, t) {
		const char *s = json_string_value(t);
		if (!s || strlen(s) >= sizeof(tmp) || !token_ok(s, "_")) {
			snprintf(why, wlen, "document %s: types must be names of [a-z0-9_]", d->key);
			return -EINVAL;
		}
		snprintf(d->types[d->ntypes++], CATALOG_CODE_MAX, "%s", s);
	}
	return 0;
}

static int parse_proc(json_t *o, struct catalog_proc *p, char *why, size_t wlen)
{
	char svc[8];
	json_t *v;
	if (!json_is_object(o)) {
		snprintf(why, wlen, "must be an object");
		return -EINVAL;
	}
	if (get_str(o, "code", p->code, sizeof(p->code), 0, why, wlen) < 0)
		return -EINVAL;
	for (const char *s = p->code; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '-')) {
			snprintf(why, wlen, "\"code\" must be of A-Z a-z 0-9 . -");
			return -EINVAL;
		}
	if (get_str(o, "name", p->name, sizeof(p->name), 0, why, wlen) < 0 ||
	    get_str(o, "field", p->field, sizeof(p->field), 1, why, wlen) < 0 ||
	    get_str(o, "service", svc, sizeof(svc), 0, why, wlen) < 0 ||
	    get_str(o, "time_text", p->time_text, sizeof(p->time_text), 0, why, wlen) < 0 ||
	    get_str(o, "fee_text", p->fee_text, sizeof(p->fee_text), 0, why, wlen) < 0 ||
	    get_str(o, "legal_basis", p->legal_basis, sizeof(p->legal_basis), 0, why, wlen) < 0 ||
	    get_str(o, "aliases", p->aliases, sizeof(p->aliases), 1, why, wlen) < 0 ||
	    get_str(o, "confidence", p->confidence, sizeof(p->confidence), 1, why, wlen) < 0 ||
	    get_str(o, "dvcqg_code", p->dvcqg_code, sizeof(p->dvcqg_code), 1, why, wlen) < 0)
		return -EINVAL;
	if (strlen(svc) != 1 || svc[0] < 'A' || svc[0] > 'Z') {
		snprintf(why, wlen, "\"service\" must be one queue letter A-Z");
		return -EINVAL;
	}
	p->service = svc[0];
	v = json_object_get(o, "days");
	if (json_is_null(v)) {
		p->days = -1;
	} else if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 365) {
		p->days = (int)json_integer_value(v);
	} else {
		snprintf(why, wlen, "\"days\" must be 0 to 365 working days, or null when not fixed");
		return -EINVAL;
	}
	v = json_object_get(o, "fee_vnd");
	if (!json_is_integer(v) || json_integer_value(v) < -1 || json_integer_value(v) > 1000000000) {
		snprintf(why, wlen, "\"fee_vnd\" must be an amount in dong (0 free, -1 set by the province)");
		return -EINVAL;
	}
	p->fee_vnd = json_integer_value(v);
	json_t *docs = json_object_get(o, "documents"), *d;
	size_t i;
	if (!json_is_array(docs) || json_array_size(docs) < 1 || json_array_size(docs) > CATALOG_MAX_DOCS) {
		snprintf(why, wlen, "\"documents\" must list 1 to %d papers", CATALOG_MAX_DOCS);
		return -EINVAL;
	}
	json_array_foreach (docs, i, d) {
		if (parse_doc(d, &p->docs[i], why, wlen) < 0)
			return -EINVAL;
		for (size_t k = 0; k < i; k++)
			if (strcmp(p->docs[k].key, p->docs[i].key) == 0) {
				snprintf(why, wlen, "document key \"%s\" appears twice", p->docs[i].key);
				return -EINVAL;
			}
		p->ndocs++;
	}
	return 0;
}

int catalog_parse(const char *text, size_t len, const char *name, struct catalog **ret,
		  char err[CATALOG_ERR_MAX])
{
	json_error_t je;
	char why[CATALOG_ERR_MAX];
	struct catalog *c = NULL;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je), *procs, *o;
	size_t i;
	int r = -EINVAL;

	if (!root) {
		snprintf(err, CATALOG_ERR_MAX, "%.80s: line %d: %.120s", name, je.line, je.text);
		return -EINVAL;
	}
	if (!json_is_object(root) ||
	    strcmp(json_string_value(json_object_get(root, "schema"))
		       ? json_string_value(json_object_get(root, "schema"))
		       : "",
		   "motcua.procedures.v1") != 0) {
		r = bad(err, name, -1, "",
			"not a procedure catalogue (\"schema\" must be \"motcua.procedures.v1\")");
		goto out;
	}
	procs = json_object_get(root, "procedures");
	if (!json_is_array(procs) || json_array_size(procs) < 1 ||
	    json_array_size(procs) > CATALOG_MAX_PROCS) {
		r = bad(err, name, -1, "", "\"procedures\" must list 1 to 256 procedures");
		goto out;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		r = -ENOMEM;
		snprintf(err, CATALOG_ERR_MAX, "%s: out of memory", name);
		goto out;
	}
	if (get_str(root, "version", c->version, sizeof(c->version), 1, why, sizeof(why)) < 0) {
		r = bad(err, name, -1, "", why);
		goto out;
	}
	json_array_foreach (procs, i, o) {
		struct catalog_proc *p = &c->procs[i];
		if (parse_proc(o, p, why, sizeof(why)) < 0) {
			r = bad(err, name, (int)i, p->code, why);
			goto out;
		}
		if (catalog_find(c, p->code)) {
			r = bad(err, name, (int)i, p->code, "this code appears twice");
			goto out;
		}
		c->n++;
	}
	*ret = c;
	c = NULL;
	r = 0;
out:
	free(c);
	json_decref(root);
	return r;
}

int catalog_load(const char *path, struct catalog **ret, char err[CATALOG_ERR_MAX])
{
	char *text = NULL;
	size_t len = 0;
	int r = fs_read_small(path, CATALOG_FILE_MAX, &text, &len);
	if (r < 0) {
		snprintf(err, CATALOG_ERR_MAX, "%.160s: cannot read the procedure catalogue: %.40s", path,
			 strerror(-r));
		return r;
	}
	r = catalog_parse(text, len, path, ret, err);
	free(text);
	return r;
}

void catalog_free(struct catalog *c)
{
	free(c);
}

const struct catalog_proc *catalog_find(const struct catalog *c, const char *code)
{
	for (int i = 0; c && i < c->n; i++)
		if (strcmp(c->procs[i].code, code) == 0)
			return &c->procs[i];
	return NULL;
}

const struct catalog_doc *catalog_doc_find(const struct catalog_proc *p, const char *key)
{
	for (int i = 0; p && i < p->ndocs; i++)
		if (strcmp(p->docs[i].key, key) == 0)
			return &p->docs[i];
	return NULL;
}
