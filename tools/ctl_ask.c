/* motcuactl ask: the assistant's answer as text, offline answers, and the evaluation of the
 * assistant on a TSV set (expected procedure code, or "none" for "I don't know"; question). */
#include "tools/ctl_ask.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/dossier/assistant.h"
#include "gateway/dossier/catalog.h"

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

void ctl_ask_print(json_t *a)
{
	json_t *p = json_object_get(a, "procedure"), *v;
	size_t i;
	printf("%s\n", jstr(a, "text"));
	if (p) {
		printf("Giấy tờ cần có:\n");
		json_array_foreach (json_object_get(p, "papers"), i, v)
			printf("  - %s%s%s\n", jstr(v, "name"),
			       json_is_true(json_object_get(v, "optional")) ? " (nếu có)" : "",
			       json_is_true(json_object_get(v, "id_card")) ? " (CCCD gắn chip thay thế)"
									   : "");
		printf("Căn cứ: %s [%s]\n", jstr(p, "legal_basis"), jstr(p, "code"));
	}
	json_array_foreach (json_object_get(a, "alternatives"), i, v)
		printf("Hoặc: %s [%s]\n", jstr(v, "name"), jstr(v, "code"));
}

static int evaluate(struct assistant *as, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int n = 0, top1 = 0, top3 = 0, none = 0, none_ok = 0;
	if (!f) {
		fprintf(stderr, "motcuactl: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *tab = strchr(line, '\t');
		struct assistant_answer ans;
		if (line[0] == '#' || !tab)
			continue;
		*tab = 0;
		char *q = tab + 1;
		q[strcspn(q, "\r\n")] = 0;
		if (assistant_ask(as, q, &ans) < 0)
			continue;
		n++;
		if (strcmp(line, "none") == 0) {
			none++;
			if (!ans.known)
				top1++, top3++, none_ok++;
			else
				fprintf(stderr, "miss  none      -> %-10s %s\n", ans.top[0]->code, q);
			continue;
		}
		int hit = 0;
		for (int i = 0; i < ans.n; i++)
			if (strcmp(ans.top[i]->code, line) == 0) {
				hit = i + 1;
				break;
			}
		if (ans.known && hit == 1)
			top1++;
		if (ans.known && hit >= 1)
			top3++;
		if (!ans.known || hit != 1)
			fprintf(stderr, "miss  %-9s -> %-10s %s\n", line,
				ans.known ? ans.top[0]->code : "unknown", q);
	}
	fclose(f);
	if (n == 0) {
		fprintf(stderr, "motcuactl: no questions in %s\n", path);
		return 1;
	}
	printf("assistant: %d questions (%d expect \"I don't know\"): top-1 %.1f%% (%d), top-3 %.1f%% (%d); "
	       "\"I don't know\" right %d/%d\n",
	       n, none, 100.0 * top1 / n, top1, 100.0 * top3 / n, top3, none_ok, none);
	return 0;
}

int ctl_ask_offline(int json_out, int argc, char **argv, const char *catalogue)
{
	struct catalog *cat = NULL;
	struct assistant *as = NULL;
	struct assistant_answer ans;
	char err[CATALOG_ERR_MAX];
	int r = 1;
	if (argc != 2 && !(argc == 3 && strcmp(argv[1], "--eval") == 0)) {
		fprintf(stderr, "motcuactl: ask --catalogue FILE (QUESTION | --eval TSV)\n");
		return 2;
	}
	if (catalog_load(catalogue, &cat, err) < 0) {
		fprintf(stderr, "motcuactl: %s\n", err);
		return 1;
	}
	if (assistant_open(cat, &as) < 0) {
		fprintf(stderr, "motcuactl: cannot build the assistant's index\n");
		goto out;
	}
	if (argc == 3) {
		r = evaluate(as, argv[2]);
		goto out;
	}
	if (assistant_ask(as, argv[1], &ans) < 0) {
		fprintf(stderr, "motcuactl: the question is too long\n");
		goto out;
	}
	json_t *j = assistant_answer_json(&ans);
	if (json_out) {
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		fputc('\n', stdout);
	} else {
		ctl_ask_print(j);
	}
	json_decref(j);
	r = 0;
out:
	assistant_close(as);
	catalog_free(cat);
	return r;
}
