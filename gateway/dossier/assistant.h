/* The offline procedure assistant: a question in Vietnamese (with or without diacritics,
 * with common typos) answered from the catalogue with SQLite FTS5 (unicode61,
 * remove_diacritics 2, over folded text), typo correction against the catalogue's words by
 * edit distance, and a re-rank favouring procedure names and required papers.  It says
 * "I don't know" when no procedure is a clear match. */
#ifndef MOTCUA_ASSISTANT_H
#define MOTCUA_ASSISTANT_H

#include <jansson.h>

#include "gateway/dossier/catalog.h"

struct assistant;

#define ASSISTANT_TOP 3
#define ASSISTANT_QUESTION_MAX 512

struct assistant_answer {
	int known; /* 0: "I don't know" */
	int n; /* candidates in top[] (best first) */
	const struct catalog_proc *top[ASSISTANT_TOP];
	double score[ASSISTANT_TOP];
	char corrected[ASSISTANT_QUESTION_MAX]; /* the folded question after typo correction */
};

/* Builds the index of cat (borrowed: it must outlive the assistant). */
int assistant_open(const struct catalog *cat, struct assistant **ret);
void assistant_close(struct assistant *a);

/* Answers one question (at most ASSISTANT_QUESTION_MAX bytes, else -EMSGSIZE). */
int assistant_ask(struct assistant *a, const char *question, struct assistant_answer *ret);

/* The answer as JSON: known, text (Vietnamese sentence), procedure {code, name, papers[],
 * fee, time, service, legal_basis}, alternatives[].  New reference or NULL. */
json_t *assistant_answer_json(const struct assistant_answer *ans);

#endif
