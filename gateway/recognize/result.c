/* Merging QR, MRZ and OCR readings into the output contract. */
#include "gateway/recognize/result.h"

#include <string.h>

int result_crosscheck(const struct cccd_qr *qr, const struct mrz *mrz, const char **ret_field)
{
	const char *bad = NULL;
	if (mrz->id_number[0] && strcmp(qr->id_number, mrz->id_number) != 0)
		bad = "id_number";
	else if (mrz->date_of_birth[0] && strcmp(qr->date_of_birth, mrz->date_of_birth) != 0)
		bad = "date_of_birth";
	else if (mrz->sex && mrz->sex != 'X' && qr->sex != mrz->sex)
		bad = "sex";
	else if (mrz->full_name[0]) {
		char folded[160];
		size_t n = text_fold(qr->full_name, strlen(qr->full_name), folded, sizeof(folded));
		size_t m = strlen(mrz->full_name);
		/* A name longer than the line is cut: compare the part that fits. */
		if (m < n && m >= 28)
			n = m;
		if (n != m || memcmp(folded, mrz->full_name, n) != 0)
			bad = "full_name";
	}
	if (ret_field)
		*ret_field = bad;
	return bad == NULL;
}

static void add_source(json_t *sources, const char *field, const char *src)
{
	json_t *a = json_object_get(sources, field);
	if (!a) {
		a = json_array();
		json_object_set_new(sources, field, a);
	}
	json_array_append_new(a, json_string(src));
}

static void set_field(json_t *fields, json_t *sources, const char *name, json_t *value, const char *src)
{
	if (!json_object_get(fields, name))
		json_object_set_new(fields, name, value);
	else
		json_decref(value);
	add_source(sources, name, src);
}

static json_t *sex_string(char s)
{
	return s == 'M' ? json_string("M") : s == 'F' ? json_string("F") : json_null();
}

json_t *result_build(const struct rec_input *in)
{
	json_t *r = json_object(), *fields = json_object(), *sources = json_object(), *checks = json_object();
	json_t *problems = json_array(), *t = json_object();
	double conf = 0;
	int review = 0;
	const char *type = "other";

	if (!r || !fields || !sources || !checks || !problems || !t) {
		json_decref(r), json_decref(fields), json_decref(sources), json_decref(checks);
		json_decref(problems), json_decref(t);
		return NULL;
	}
	if (in->qr) {
		const struct cccd_qr *q = in->qr;
		type = "id_card_front";
		set_field(fields, sources, "id_number", json_string(q->id_number), "qr");
		if (q->old_id_number[0])
			set_field(fields, sources, "old_id_number", json_string(q->old_id_number), "qr");
		set_field(fields, sources, "full_name", json_string(q->full_name), "qr");
		set_field(fields, sources, "date_of_birth", json_string(q->date_of_birth), "qr");
		set_field(fields, sources, "sex", sex_string(q->sex), "qr");
		set_field(fields, sources, "place_of_residence", json_string(q->place_of_residence), "qr");
		if (q->issue_date[0])
			set_field(fields, sources, "issue_date", json_string(q->issue_date), "qr");
		set_field(fields, sources, "nationality", json_string("VNM"), "qr");
		conf = 0.98; /* Reed-Solomon-corrected and validated field by field */
	} else if (in->qr_error) {
		json_array_append_new(problems, json_sprintf("qr: %s is not valid", in->qr_error));
	}
	if (in->mrz) {
		const struct mrz *m = in->mrz;
		json_t *mc = json_object();
		if (!in->qr)
			type = m->format == 1 ? "id_card_back" : "passport";
			/* A field is given only when its own check digit agreed (or a unique correction
		 * made it agree) and nothing else about it was found wrong; fields without a check
		 * digit only when the rest of the zone reads well. */
#define TRUSTED(ck, f) (CHECKED(ck) && !(m->bad & (1u << (f))))
#define CHECKED(ck) (m->check[ck] == MRZ_CHECK_OK || m->check[ck] == MRZ_CHECK_CORRECTED)
		int zone_ok = CHECKED(MRZ_CK_COMPOSITE) && CHECKED(MRZ_CK_BIRTH);
		if (m->id_number[0] && TRUSTED(MRZ_CK_OPTIONAL, MRZ_F_ID) &&
		    TRUSTED(MRZ_CK_DOC_NUMBER, MRZ_F_DOC_NUMBER))
			set_field(fields, sources, "id_number", json_string(m->id_number), "mrz");
		if (m->date_of_birth[0] && TRUSTED(MRZ_CK_BIRTH, MRZ_F_BIRTH))
			set_field(fields, sources, "date_of_birth", json_string(m->date_of_birth), "mrz");
		if ((m->sex == 'M' || m->sex == 'F') && zone_ok && !(m->bad & (1u << MRZ_F_SEX)))
			set_field(fields, sources, "sex", sex_string(m->sex), "mrz");
		if (TRUSTED(MRZ_CK_EXPIRY, MRZ_F_EXPIRY)) {
			if (m->expiry_date[0])
				set_field(fields, sources, "expiry_date", json_string(m->expiry_date), "mrz");
			else if (m->no_expiry)
				set_field(fields, sources, "expiry_date", json_null(), "mrz");
		}
		if (m->nationality[0] && m->nationality[0] != '<' && zone_ok &&
		    !(m->bad & (1u << MRZ_F_NATIONALITY)))
			set_field(fields, sources, "nationality", json_string(m->nationality), "mrz");
		if (m->full_name[0] && zone_ok && !(m->bad & (1u << MRZ_F_NAME)))
			set_field(fields, sources, "full_name", json_string(m->full_name), "mrz");
		if (!m->id_number[0] && m->doc_number[0] && TRUSTED(MRZ_CK_DOC_NUMBER, MRZ_F_DOC_NUMBER))
			set_field(fields, sources, "document_number", json_string(m->doc_number), "mrz");
#undef TRUSTED
#undef CHECKED
		for (int i = 0; i < MRZ_NCHECKS; i++)
			if (m->check[i] != MRZ_CHECK_ABSENT)
				json_object_set_new(mc, mrz_check_name(i),
						    json_string(mrz_check_state_name(m->check[i])));
		json_object_set_new(mc, "corrections", json_integer(m->corrections));
		json_object_set_new(mc, "coercions", json_integer(m->coercions));
		json_object_set_new(checks, "mrz", mc);
		json_t *lines = json_array();
		for (int i = 0; i < m->nlines; i++)
			json_array_append_new(lines, json_string(m->line[i]));
		json_object_set_new(r, "mrz", lines);

		double mconf = 0.97 *
		    (in->mrz_quality > 0 ? (in->mrz_quality < 1 ? 0.7 + 0.3 * in->mrz_quality : 1) : 1);
		mconf -= 0.01 * m->coercions + 0.05 * m->corrections;
		if (m->needs_review) {
			review = 1;
			if (mconf > 0.5)
				mconf = 0.5;
			json_array_append_new(problems, json_sprintf("mrz: %s", m->problem));
		}
		if (mconf < 0.05)
			mconf = 0.05;
		conf = in->qr ? (conf < mconf ? conf : mconf) : mconf;
	}
	/* The 2021 card has the QR on its front and the MRZ on its back; the 2024 card has both
	 * on its back. */
	const char *generation = in->generation;
	if (in->qr && in->mrz && in->mrz->format == 1) {
		type = "id_card_back";
		generation = "can_cuoc_2024";
	} else if (in->qr) {
		generation = "cccd_2021";
	} else if (in->mrz && in->mrz->format == 1) {
		generation = "cccd_2021";
	}
	if (in->qr && in->mrz) {
		const char *bad = NULL;
		int ok = result_crosscheck(in->qr, in->mrz, &bad);
		json_object_set_new(checks, "qr_mrz", json_string(ok ? "agree" : "disagree"));
		if (!ok) {
			review = 1;
			conf = conf < 0.3 ? conf : 0.3;
			json_array_append_new(problems, json_sprintf("qr and mrz disagree on %s", bad));
		}
	} else {
		json_object_set_new(checks, "qr_mrz", json_string("not_applicable"));
	}
	if (!in->qr && !in->mrz && in->card && in->card->generation) {
		/* A card front without QR or MRZ (the 2024 card's front, the cards without chip):
		 * its printed fields by OCR, never trusted without a person's look. */
		const struct card_text *c = in->card;
		type = "id_card_front";
		generation = c->generation;
		if (c->id_number[0])
			set_field(fields, sources, "id_number", json_string(c->id_number), "ocr");
		if (c->full_name[0])
			set_field(fields, sources, "full_name", json_string(c->full_name), "ocr");
		if (c->date_of_birth[0])
			set_field(fields, sources, "date_of_birth", json_string(c->date_of_birth), "ocr");
		if (c->sex)
			set_field(fields, sources, "sex", sex_string(c->sex), "ocr");
		if (c->nationality[0])
			set_field(fields, sources, "nationality", json_string(c->nationality), "ocr");
		review = 1;
		conf = 0.5;
		json_array_append_new(
		    problems,
		    json_string(strcmp(c->generation, "can_cuoc_2024") == 0
				    ? "fields read by OCR from the 2024 card's front (no QR or MRZ "
				      "there; its back has both): check them against the card"
				    : strcmp(c->generation, "cccd_2021") == 0
				    ? "the card's QR could not be read: fields read by OCR, check them "
				      "against the card"
				    : "card without chip: fields read by OCR, check them against the card"));
		if (in->ocr)
			json_object_set_new(checks, "classification",
					    json_pack("{s:f, s:f}", "score", in->ocr->score, "runner_up",
						      in->ocr->runner_up));
	} else if (!in->qr && !in->mrz && in->ocr) {
		type = in->ocr->type;
		conf = in->ocr->score;
		if (strcmp(type, "other") == 0)
			conf = 1.0 - in->ocr->score > 0.5 ? 0.5 : 1.0 - in->ocr->score;
		/* A card seen but neither its QR nor its MRZ read: its fields are missing. */
		if (strncmp(type, "id_card_", 8) == 0) {
			conf = conf < 0.4 ? conf : 0.4;
			json_array_append_new(
			    problems, json_string("card recognised but its QR/MRZ could not be read"));
		}
		json_object_set_new(
		    checks, "classification",
		    json_pack("{s:f, s:f}", "score", in->ocr->score, "runner_up", in->ocr->runner_up));
	}
	if (conf < REVIEW_BELOW)
		review = 1;

	json_object_set_new(t, "decode", json_real(in->ms_decode));
	json_object_set_new(t, "qr", json_real(in->ms_qr));
	json_object_set_new(t, "mrz", json_real(in->ms_mrz));
	json_object_set_new(t, "ocr", json_real(in->ms_ocr));
	json_object_set_new(t, "total", json_real(in->ms_total));

	json_object_set_new(r, "type", json_string(type));
	if (generation)
		json_object_set_new(r, "generation", json_string(generation));
	json_object_set_new(r, "fields", fields);
	json_object_set_new(r, "sources", sources);
	json_object_set_new(r, "checks", checks);
	json_object_set_new(r, "confidence", json_real((double)(int)(conf * 1000 + 0.5) / 1000));
	json_object_set_new(r, "needs_review", json_boolean(review));
	if (json_array_size(problems))
		json_object_set_new(r, "problems", problems);
	else
		json_decref(problems);
	json_object_set_new(r, "timings_ms", t);
	return r;
}

json_t *result_error(const char *message, double ms_total)
{
	return json_pack("{s:s, s:s, s:{}, s:f, s:b, s:{s:f}}", "type", "other", "error", message, "fields",
			 "confidence", 0.0, "needs_review", 1, "timings_ms", "total", ms_total);
}

/* Rank of the best source a result gives for a field: 0 QR, 1 MRZ, 2 OCR, 3 none. */
static int source_rank(const json_t *res, const char *field)
{
	const json_t *a = json_object_get(json_object_get(res, "sources"), field);
	size_t i;
	json_t *v;
	int best = json_object_get(json_object_get(res, "fields"), field) ? 2 : 3;
	json_array_foreach (a, i, v) {
		const char *s = json_string_value(v);
		int k = !s ? 3 : strcmp(s, "qr") == 0 ? 0 : strcmp(s, "mrz") == 0 ? 1 : 2;
		if (k < best)
			best = k;
	}
	return best;
}

static int has_source(const json_t *res, const char *src)
{
	const char *k;
	json_t *a, *v;
	size_t i;
	json_object_foreach (json_object_get((json_t *)res, "sources"), k, a) {
		json_array_foreach (a, i, v)
			if (json_string_value(v) && strcmp(json_string_value(v), src) == 0)
				return 1;
	}
	return 0;
}

/* Two readings of one field agree: names folded to ASCII (a cut MRZ name on its part). */
static int same_value(const char *field, const json_t *x, const json_t *y)
{
	if (strcmp(field, "full_name") != 0 || !json_is_string(x) || !json_is_string(y))
		return json_equal((json_t *)x, (json_t *)y);
	char fx[160], fy[160];
	size_t n = text_fold(json_string_value(x), strlen(json_string_value(x)), fx, sizeof(fx));
	size_t m = text_fold(json_string_value(y), strlen(json_string_value(y)), fy, sizeof(fy));
	while (n && fx[n - 1] == ' ')
		n--;
	while (m && fy[m - 1] == ' ')
		m--;
	size_t k = n < m ? n : m;
	if (n != m && k < 28)
		return 0;
	return memcmp(fx, fy, k) == 0;
}

static const char *side_of(const json_t *res)
{
	const char *t = json_string_value(json_object_get(res, "type"));
	return t ? t : "other";
}

json_t *result_pair(const json_t *a, const json_t *b)
{
	const json_t *in[2] = { a, b };
	json_t *r = json_object(), *fields = json_object(), *sources = json_object(), *checks = json_object();
	json_t *problems = json_array(), *differ = json_array(), *t = json_object();
	int review = 0, compared = 0;
	double conf = 1, total = 0;
	if (!r || !fields || !sources || !checks || !problems || !differ || !t) {
		json_decref(r), json_decref(fields), json_decref(sources), json_decref(checks);
		json_decref(problems), json_decref(differ), json_decref(t);
		return NULL;
	}
	/* Every field either side gave, from its best source; compared when both gave it. */
	for (int s = 0; s < 2; s++) {
		const char *k;
		json_t *v;
		json_object_foreach (json_object_get((json_t *)in[s], "fields"), k, v) {
			if (json_object_get(fields, k))
				continue;
			json_t *w = json_object_get(json_object_get(in[1 - s], "fields"), k);
			int mine = source_rank(in[s], k), theirs = w ? source_rank(in[1 - s], k) : 3;
			const json_t *pick = theirs < mine ? in[1 - s] : in[s];
			json_object_set(fields, k, json_object_get(json_object_get(pick, "fields"), k));
			json_t *src = json_array();
			json_t *sa = json_object_get(json_object_get(in[s], "sources"), k);
			json_t *sb = w ? json_object_get(json_object_get(in[1 - s], "sources"), k) : NULL;
			if (src) {
				if (sa)
					json_array_extend(src, sa);
				if (sb)
					json_array_extend(src, sb);
				json_object_set_new(sources, k, src);
			}
			if (w) {
				compared++;
				if (!same_value(k, v, w))
					json_array_append_new(differ, json_string(k));
			}
		}
	}
	/* What each side was. */
	const char *ta = side_of(a), *tb = side_of(b);
	int fronts = (strcmp(ta, "id_card_front") == 0) + (strcmp(tb, "id_card_front") == 0);
	int backs = (strcmp(ta, "id_card_back") == 0) + (strcmp(tb, "id_card_back") == 0);
	if (fronts != 1 || backs != 1) {
		review = 1;
		json_array_append_new(
		    problems, json_string("the two images are not the front and the back of one card"));
	}
	const char *ga = json_string_value(json_object_get(a, "generation"));
	const char *gb = json_string_value(json_object_get(b, "generation"));
	const char *gen = ga ? ga : gb;
	if (ga && gb && strcmp(ga, gb) != 0) {
		review = 1;
		json_array_append_new(problems,
				      json_string("the two sides are of different card generations"));
	}
	if (json_array_size(differ)) {
		review = 1;
		conf = 0.3;
		json_array_append_new(problems, json_string("the two sides disagree (see differing_fields)"));
	}
	int qr_mrz =
	    (has_source(a, "qr") && has_source(b, "mrz")) || (has_source(a, "mrz") && has_source(b, "qr"));
	json_object_set_new(
	    checks, "pair",
	    json_string(compared ? json_array_size(differ) ? "disagree" : "agree" : "not_applicable"));
	json_object_set_new(checks, "qr_mrz",
			    json_string(!qr_mrz                       ? "not_applicable"
					    : json_array_size(differ) ? "disagree"
								      : "agree"));
	json_object_set_new(checks, "differing_fields", differ);
	json_t *sides = json_array();
	for (int s = 0; s < 2; s++) {
		const json_t *x = in[s];
		double c = json_number_value(json_object_get(x, "confidence"));
		if (c < conf)
			conf = c;
		if (json_is_true(json_object_get(x, "needs_review")))
			review = 1;
		total += json_number_value(json_object_get(json_object_get(x, "timings_ms"), "total"));
		size_t i;
		json_t *p;
		json_array_foreach (json_object_get(x, "problems"), i, p)
			if (json_string_value(p))
				json_array_append_new(
				    problems, json_sprintf("%s: %s", side_of(x), json_string_value(p)));
		json_t *e = json_object_get(x, "error");
		if (json_string_value(e)) {
			review = 1;
			json_array_append_new(
			    problems,
			    json_sprintf("%s: %s", s ? "second image" : "first image", json_string_value(e)));
		}
		if (sides)
			json_array_append_new(sides, json_string(side_of(x)));
	}
	json_object_set_new(t, "total", json_real(total));
	json_object_set_new(r, "type", json_string("id_card"));
	if (gen)
		json_object_set_new(r, "generation", json_string(gen));
	json_object_set_new(r, "sides", sides ? sides : json_array());
	json_object_set_new(r, "fields", fields);
	json_object_set_new(r, "sources", sources);
	json_object_set_new(r, "checks", checks);
	json_object_set_new(r, "confidence", json_real((double)(int)(conf * 1000 + 0.5) / 1000));
	json_object_set_new(r, "needs_review", json_boolean(review || conf < REVIEW_BELOW));
	if (json_array_size(problems))
		json_object_set_new(r, "problems", problems);
	else
		json_decref(problems);
	json_object_set_new(r, "timings_ms", t);
	return r;
}
