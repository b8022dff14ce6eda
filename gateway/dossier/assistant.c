/* Procedure assistant: FTS5 over folded catalogue text in an in-memory SQLite database,
 * with typo correction and a re-rank that rewards word pairs of the question found in a
 * procedure's name or aliases. */
#include "gateway/dossier/assistant.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/dossier/fold.h"
#include "gateway/log.h"

#define VOCAB_MAX 4096
#define WORD_MAX 24
#define QWORDS 48
#define MIN_SCORE 3.0

struct assistant {
	const struct catalog *cat;
	sqlite3 *db;
	int nvocab;
	char vocab[VOCAB_MAX][WORD_MAX];
	char *names[CATALOG_MAX_PROCS]; /* " name aliases ", folded, for the re-rank */
	char *texts[CATALOG_MAX_PROCS]; /* " name aliases papers field ", folded, for coverage */
	char *titles[CATALOG_MAX_PROCS]; /* the folded name alone */
};

/* Question words that say nothing about which procedure is meant. */
static const char *const stopwords[] = {
	"can",    "gi",   "nhung", "lam",  "the",   "nao",  "o",    "dau",  "bao",  "lau",   "mat", "nhieu",
	"tien",   "toi",  "muon",  "co",   "khong", "duoc", "cho",  "minh", "thi",  "la",    "va",  "cua",
	"de",     "phai", "xin",   "hoi",  "ve",    "may",  "ngay", "mot",  "nhu",  "nay",   "ai",  "em",
	"anh",    "chi",  "ban",   "a",    "oi",    "voi",  "thu",  "tuc",  "giay", "to",    "ho",  "so",
	"gom",    "nop",  "le",    "phi",  "bang",  "cac",  "khi",  "neu",  "the",  "di",    "den", "nhe",
	"vay",    "u",    "ah",    "thoi", "han",   "gian", "bo",   "cach", "con",  "nguoi", "tai", "xa",
	"phuong", "ubnd", "uy",    "ban",  "nhan",  "dan",
};

static int is_stop(const char *w)
{
	for (size_t i = 0; i < sizeof(stopwords) / sizeof(stopwords[0]); i++)
		if (strcmp(stopwords[i], w) == 0)
			return 1;
	return 0;
}

static int edit_distance(const char *a, const char *b, int cap)
{
	int la = (int)strlen(a), lb = (int)strlen(b), prev[WORD_MAX + 1], cur[WORD_MAX + 1];
	if (la > WORD_MAX || lb > WORD_MAX || abs(la - lb) > cap)
		return cap + 1;
	for (int j = 0; j <= lb; j++)
		prev[j] = j;
	for (int i = 1; i <= la; i++) {
		int best = cur[0] = i;
		for (int j = 1; j <= lb; j++) {
			int c = prev[j - 1] + (a[i - 1] != b[j - 1]);
			if (prev[j] + 1 < c)
				c = prev[j] + 1;
			if (cur[j - 1] + 1 < c)
				c = cur[j - 1] + 1;
			/* adjacent transposition counts as one edit */
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev[j - 2] + 1 < c)
				c = prev[j - 2] + 1;
			cur[j] = c;
			if (c < best)
				best = c;
		}
		if (best > cap)
			return cap + 1;
		memcpy(prev, cur, sizeof(int) * (size_t)(lb + 1));
	}
	return prev[lb];
}

static void add_vocab(struct assistant *a, const char *folded)
{
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s", folded);
	for (char *save = NULL, *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		if (strlen(w) >= WORD_MAX || strlen(w) < 2)
			continue;
		int seen = 0;
		for (int i = 0; i < a->nvocab && !seen; i++)
			seen = strcmp(a->vocab[i], w) == 0;
		if (!seen && a->nvocab < VOCAB_MAX)
			snprintf(a->vocab[a->nvocab++], WORD_MAX, "%s", w);
	}
}

static int exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
	if (rc != SQLITE_OK) {
		log_error("assistant: %s", err ? err : sqlite3_errstr(rc));
		sqlite3_free(err);
		return -EIO;
	}
	return 0;
}

int assistant_open(const struct catalog *cat, struct assistant **ret)
{
	struct assistant *a = calloc(1, sizeof(*a));
	sqlite3_stmt *st = NULL;
	char name[2048], aliases[4096], docs[8192], tmp[1024];
	int r = -ENOMEM;
	if (!a)
		return -ENOMEM;
	a->cat = cat;
	if (sqlite3_open_v2(":memory:", &a->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK)
		goto fail;
	r = exec(a->db,
		 "CREATE VIRTUAL TABLE p USING fts5(code UNINDEXED, name, aliases, docs, field, "
		 "tokenize = 'unicode61 remove_diacritics 2')");
	if (r < 0)
		goto fail;
	if (sqlite3_prepare_v2(a->db,
			       "INSERT INTO p(rowid, code, name, aliases, docs, field) VALUES(?,?,?,?,?,?)",
			       -1, &st, NULL) != SQLITE_OK) {
		r = -EIO;
		goto fail;
	}
	for (int i = 0; i < cat->n; i++) {
		const struct catalog_proc *p = &cat->procs[i];
		size_t off = 0;
		fold_text(p->name, name, sizeof(name));
		fold_text(p->aliases, aliases, sizeof(aliases));
		docs[0] = 0;
		for (int k = 0; k < p->ndocs && off < sizeof(docs) - 1; k++) {
			fold_text(p->docs[k].name, tmp, sizeof(tmp));
			off += (size_t)snprintf(docs + off, sizeof(docs) - off, "%s ", tmp);
		}
		fold_text(p->field, tmp, sizeof(tmp));
		sqlite3_bind_int(st, 1, i + 1);
		sqlite3_bind_text(st, 2, p->code, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, aliases, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, docs, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, tmp, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			r = -EIO;
			goto fail;
		}
		sqlite3_reset(st);
		add_vocab(a, name);
		add_vocab(a, aliases);
		add_vocab(a, docs);
		size_t len = strlen(name) + strlen(aliases) + 4;
		a->names[i] = malloc(len);
		if (!a->names[i]) {
			r = -ENOMEM;
			goto fail;
		}
		snprintf(a->names[i], len, " %s %s ", name, aliases);
		len += strlen(docs) + strlen(tmp) + 4;
		a->texts[i] = malloc(len);
		a->titles[i] = strdup(name);
		if (!a->texts[i] || !a->titles[i]) {
			r = -ENOMEM;
			goto fail;
		}
		snprintf(a->texts[i], len, " %s %s %s %s ", name, aliases, docs, tmp);
	}
	sqlite3_finalize(st);
	*ret = a;
	return 0;
fail:
	sqlite3_finalize(st);
	assistant_close(a);
	return r;
}

void assistant_close(struct assistant *a)
{
	if (!a)
		return;
	for (int i = 0; i < CATALOG_MAX_PROCS; i++) {
		free(a->names[i]);
		free(a->texts[i]);
		free(a->titles[i]);
	}
	sqlite3_close(a->db);
	free(a);
}

/* The catalogue word closest to w, or w itself when it is known or nothing is close. */
static const char *correct(const struct assistant *a, const char *w)
{
	int best = 99, len = (int)strlen(w);
	const char *pick = w;
	for (int i = 0; i < a->nvocab; i++)
		if (strcmp(a->vocab[i], w) == 0)
			return a->vocab[i];
	if (len < 3)
		return w;
	int cap = len <= 4 ? 1 : 2;
	for (int i = 0; i < a->nvocab; i++) {
		int d = edit_distance(w, a->vocab[i], cap);
		if (d <= cap && d < best) {
			best = d;
			pick = a->vocab[i];
		}
	}
	return pick;
}

int assistant_ask(struct assistant *a, const char *question, struct assistant_answer *ret)
{
	char folded[ASSISTANT_QUESTION_MAX + 1], match[ASSISTANT_QUESTION_MAX * 4], *save = NULL;
	const char *words[QWORDS];
	int nw = 0;
	double score[CATALOG_MAX_PROCS];
	sqlite3_stmt *st;

	memset(ret, 0, sizeof(*ret));
	if (strlen(question) > ASSISTANT_QUESTION_MAX)
		return -EMSGSIZE;
	fold_text(question, folded, sizeof(folded));
	for (char *w = strtok_r(folded, " ", &save); w && nw < QWORDS; w = strtok_r(NULL, " ", &save)) {
		const char *c = correct(a, w);
		words[nw++] = c;
		size_t off = strlen(ret->corrected);
		snprintf(ret->corrected + off, sizeof(ret->corrected) - off, "%s%s", off ? " " : "", c);
	}
	/* FTS: any meaningful word; bm25 weights name > aliases > papers > field. */
	size_t off = 0;
	for (int i = 0; i < nw; i++) {
		if (is_stop(words[i]) || strlen(words[i]) < 2)
			continue;
		off += (size_t)snprintf(match + off, sizeof(match) - off, "%s\"%s\"", off ? " OR " : "",
					words[i]);
	}
	if (off == 0)
		return 0;
	for (int i = 0; i < a->cat->n; i++)
		score[i] = 0;
	if (sqlite3_prepare_v2(a->db, "SELECT rowid, bm25(p, 0, 8.0, 6.0, 1.5, 0.5) FROM p WHERE p MATCH ?",
			       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int k = sqlite3_column_int(st, 0) - 1;
		if (k >= 0 && k < a->cat->n)
			score[k] = -sqlite3_column_double(st, 1);
	}
	sqlite3_finalize(st);
	/* Re-rank: pairs of consecutive question words found as a phrase in the name or aliases
	 * ("khai sinh", "tam tru") say far more than single words. */
	for (int k = 0; k < a->cat->n; k++) {
		if (score[k] <= 0)
			continue;
		/* How much of the procedure's own name the question says: "đăng ký kết hôn" is
		 * the whole of one name and most of "đăng ký lại kết hôn". */
		int tw = 0, th = 0;
		char title[CATALOG_TEXT_MAX], *tsave = NULL;
		snprintf(title, sizeof(title), "%s", a->titles[k]);
		for (char *t = strtok_r(title, " ", &tsave); t; t = strtok_r(NULL, " ", &tsave)) {
			tw++;
			for (int i = 0; i < nw; i++)
				if (strcmp(words[i], t) == 0) {
					th++;
					break;
				}
		}
		if (tw > 0)
			score[k] += 6.0 * th / tw;
		for (int i = 0; i + 1 < nw; i++) {
			char pair[2 * WORD_MAX + 4];
			if (is_stop(words[i]) && is_stop(words[i + 1]))
				continue;
			snprintf(pair, sizeof(pair), " %s %s ", words[i], words[i + 1]);
			if (strstr(a->names[k], pair))
				score[k] += 4.0;
		}
	}
	for (int k = 0; k < a->cat->n; k++) {
		for (int t = 0; t < ASSISTANT_TOP; t++) {
			if (score[k] <= 0 || (t < ret->n && score[k] <= ret->score[t]))
				continue;
			for (int m = ASSISTANT_TOP - 1; m > t; m--) {
				ret->top[m] = ret->top[m - 1];
				ret->score[m] = ret->score[m - 1];
			}
			ret->top[t] = &a->cat->procs[k];
			ret->score[t] = score[k];
			if (ret->n < ASSISTANT_TOP)
				ret->n++;
			break;
		}
	}
	/* "I don't know" unless the best procedure's text holds at least half of the question's
	 * meaningful words (folding makes "vàng" and "vắng" one word: one hit is not enough). */
	int meaningful = 0, found = 0;
	for (int i = 0; ret->n > 0 && i < nw; i++) {
		char w[WORD_MAX + 2];
		if (is_stop(words[i]) || strlen(words[i]) < 2)
			continue;
		meaningful++;
		snprintf(w, sizeof(w), " %s ", words[i]);
		found += strstr(a->texts[ret->top[0] - a->cat->procs], w) != NULL;
	}
	ret->known = ret->n > 0 && ret->score[0] >= MIN_SCORE && 2 * found >= meaningful + (meaningful > 2);
	return 0;
}

static void money(int64_t v, char *out, size_t size)
{
	char digits[32], buf[48];
	int n = snprintf(digits, sizeof(digits), "%lld", (long long)v), o = 0;
	for (int i = 0; i < n; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			buf[o++] = '.';
		buf[o++] = digits[i];
	}
	buf[o] = 0;
	snprintf(out, size, "%s đ", buf);
}

json_t *assistant_answer_json(const struct assistant_answer *ans)
{
	json_t *alts = json_array();
	for (int i = 1; i < ans->n; i++)
		json_array_append_new(
		    alts, json_pack("{s:s, s:s}", "code", ans->top[i]->code, "name", ans->top[i]->name));
	if (!ans->known)
		return json_pack(
		    "{s:b, s:s, s:o}", "known", 0, "text",
		    "Xin lỗi, tôi không biết thủ tục nào phù hợp với câu hỏi này. Vui lòng hỏi cán bộ "
		    "tại bộ phận một cửa.",
		    "alternatives", alts);
	const struct catalog_proc *p = ans->top[0];
	json_t *papers = json_array();
	for (int i = 0; i < p->ndocs; i++)
		json_array_append_new(papers,
				      json_pack("{s:s, s:s, s:b, s:b}", "item", p->docs[i].key, "name",
						p->docs[i].name, "optional", p->docs[i].optional, "id_card",
						p->docs[i].id_card));
	char fee[64], svc[2] = { p->service, 0 }, text[2048];
	if (p->fee_vnd > 0)
		money(p->fee_vnd, fee, sizeof(fee));
	else
		snprintf(fee, sizeof(fee), "%s", p->fee_vnd == 0 ? "0 đ" : "");
	snprintf(text, sizeof(text), "Thủ tục: %s. Lệ phí: %s. Thời hạn: %s. Lấy số thứ tự quầy %s.", p->name,
		 p->fee_text, p->time_text, svc);
	return json_pack("{s:b, s:s, s:{s:s, s:s, s:o, s:s, s:s, s:I, s:s, s:i, s:s, s:s}, s:o}", "known", 1,
			 "text", text, "procedure", "code", p->code, "name", p->name, "papers", papers, "fee",
			 p->fee_text, "fee_amount", fee, "fee_vnd", (json_int_t)p->fee_vnd, "time",
			 p->time_text, "days", p->days, "service", svc, "legal_basis", p->legal_basis,
			 "alternatives", alts);
}
