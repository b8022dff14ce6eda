/* dossier.* control commands: open, attach, show, list, accept, status. */
#include "gateway/dossier/cmds.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gateway/control.h"
#include "gateway/ctlproto.h"
#include "gateway/daemon.h"
#include "gateway/dossier/assistant.h"
#include "gateway/dossier/dossier.h"
#include "gateway/dossier/service.h"
#include "gateway/dossier/fold.h"
#include "gateway/dossier/process.h"
#include "store/db.h"
#include "store/dossier_feedback.h"
#include "store/store.h"
#include "store/users.h"

#define LIST_MAX 1000

static int add_item(void *ctx, const struct dossier_item_row *it)
{
	json_array_append_new((json_t *)ctx,
			      json_pack("{s:s, s:s, s:s, s:s}", "item", it->item, "document", it->doc_id,
					"type", it->doc_type, "attached_at", it->attached_at));
	return 0;
}

static int step_time(json_t *req, const struct calendar *cal, int64_t *ret);

static int add_step(void *ctx, const struct dossier_step_row *s)
{
	json_array_append_new((json_t *)ctx,
			      json_pack("{s:I, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:I}", "id",
					(json_int_t)s->id, "step", s->step, "origin", s->origin, "actor",
					s->actor, "at_s", (json_int_t)s->at_s, "recorded_at", s->recorded_at,
					"assignee", s->assignee, "note", s->note, "due_day", s->due_day,
					"outbox_id", (json_int_t)s->outbox_id));
	return 0;
}

json_t *dossier_json(struct db *db, const struct dossier_row *d, int with_items)
{
	const struct catalog *cat = dossier_catalog(NULL);
	const struct calendar *cal = dossier_calendar(NULL);
	const struct catalog_proc *p = catalog_find(cat, d->procedure);
	struct config cfg;
	char svc[2] = { p ? p->service : 0, 0 };
	const char *flag = "";
	daemon_config_snapshot(&cfg);
	if (cal)
		flag = dossier_flag(cal, d, calendar_local_day(cal, (int64_t)time(NULL), NULL),
				    (int)cfg.dossier_near_due_days);
	json_t *j = json_pack(
	    "{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, "
	    "s:s}",
	    "id", (json_int_t)d->id, "procedure", d->procedure, "procedure_name", p ? p->name : "", "state",
	    d->state, "applicant_name", d->applicant_name, "applicant_id_tail", d->applicant_id_tail,
	    "applicant_from", d->applicant_doc[0] ? "id_card" : "typed", "source", d->source, "opened_at",
	    d->opened_at, "code", d->code, "accepted_by", d->accepted_by, "accepted_at", d->accepted_at,
	    "note", d->note, "outbox_id", (json_int_t)d->outbox_id, "due_day", d->due_day, "city_status",
	    d->city_status, "city_status_text", d->city_status_text, "city_updated_at", d->city_updated_at,
	    "flag", flag, "service", svc);
	if (j) {
		json_object_set_new(j, "step", json_string(d->step));
		json_object_set_new(j, "assignee", json_string(d->assignee));
		json_object_set_new(j, "first_due_day", json_string(d->first_due_day));
		json_object_set_new(j, "pause_day", json_string(d->pause_day));
		json_object_set_new(j, "paused_days", json_integer(d->paused_days));
		json_object_set_new(j, "new_due_day", json_string(d->new_due_day));
		json_object_set_new(j, "done_s", json_integer(d->done_s));
		json_object_set_new(j, "returned_s", json_integer(d->returned_s));
		if (cal && d->due_day[0]) {
			char eff[11] = "";
			int32_t today = calendar_local_day(cal, (int64_t)time(NULL), NULL);
			int32_t e = dossier_effective_due(cal, d, today);
			if (e >= 0)
				calendar_format(e, eff);
			json_object_set_new(j, "effective_due_day", json_string(eff));
			json_object_set_new(j, "late", json_boolean(dossier_is_late(cal, d, today)));
		}
	}
	if (j && with_items && strcmp(d->state, "accepted") == 0) {
		json_t *steps = json_array();
		dossier_steps_list(db, d->id, add_step, steps);
		json_object_set_new(j, "steps", steps);
	}
	if (j && p) {
		json_object_set_new(j, "fee_text", json_string(p->fee_text));
		json_object_set_new(j, "time_text", json_string(p->time_text));
	}
	if (j && with_items) {
		json_t *items = json_array(), *miss = json_array();
		const char *missing[DOSSIER_MAX_ITEMS];
		dossiers_items(db, d->id, add_item, items);
		int n = p ? dossier_missing(db, p, d, missing, DOSSIER_MAX_ITEMS) : 0;
		for (int i = 0; i < n && i < DOSSIER_MAX_ITEMS; i++) {
			const struct catalog_doc *cd = catalog_doc_find(p, missing[i]);
			json_array_append_new(miss,
					      json_pack("{s:s, s:s}", "item", missing[i], "name", cd->name));
		}
		json_object_set_new(j, "items", items);
		json_object_set_new(j, "missing", miss);
		json_object_set_new(j, "complete", json_boolean(n == 0));
	}
	return j;
}

static int find(struct control_ctx *x, json_t *req, struct dossier_row *d)
{
	json_t *id = json_object_get(req, "id");
	const char *code = control_str(req, "code", NULL);
	int r = code              ? dossiers_get_by_code(x->db, code, d)
	    : json_is_integer(id) ? dossiers_get(x->db, (int64_t)json_integer_value(id), d)
				  : -EINVAL;
	if (r == -EINVAL)
		return control_fail(x, r, "give the dossier's number (id) or its code");
	if (r == -ENOENT)
		return control_fail(x, r, "no such dossier");
	if (r < 0)
		return control_fail(x, r, "cannot read the dossier");
	return 0;
}

static int cmd_open(struct control_ctx *x, json_t *req, const struct catalog *cat)
{
	char why[DOSSIER_WHY_MAX];
	struct dossier_applicant a = { .doc_id = control_str(req, "doc", NULL),
				       .name = control_str(req, "name", NULL),
				       .id_number = control_str(req, "id_number", NULL) };
	struct dossier_row d;
	int64_t id;
	int r = dossier_open(x->db, store_blobs(x->store), cat, x->actor, control_str(req, "procedure", ""),
			     &a, control_str(req, "source", "cli"), &id, why);
	if (r < 0)
		return control_fail(x, r, why);
	r = dossiers_get(x->db, id, &d);
	if (r < 0)
		return control_fail(x, r, "cannot read the new dossier");
	return control_reply(x, dossier_json(x->db, &d, 1));
}

static int cmd_attach(struct control_ctx *x, json_t *req, const struct catalog *cat)
{
	char why[DOSSIER_WHY_MAX];
	struct dossier_row d;
	json_t *id = json_object_get(req, "id");
	if (!json_is_integer(id))
		return control_fail(x, -EINVAL, "give the dossier's number (id)");
	int r = dossier_attach(x->db, cat, x->actor, (int64_t)json_integer_value(id),
			       control_str(req, "item", ""), control_str(req, "doc", ""), why);
	if (r < 0)
		return control_fail(x, r, why);
	r = dossiers_get(x->db, (int64_t)json_integer_value(id), &d);
	if (r < 0)
		return control_fail(x, r, "cannot read the dossier");
	json_t *j = dossier_json(x->db, &d, 1);
	if (j)
		json_object_set_new(j, "already_attached", json_boolean(r == 1));
	return control_reply(x, j);
}

static int cmd_show(struct control_ctx *x, json_t *req)
{
	struct dossier_row d;
	int r = find(x, req, &d);
	return r < 0 ? r : control_reply(x, dossier_json(x->db, &d, 1));
}

struct list_ctx {
	struct db *db;
	json_t *arr;
	const char *flag;
};

static int add_dossier(void *ctx, const struct dossier_row *d)
{
	struct list_ctx *l = ctx;
	json_t *j = dossier_json(l->db, d, 0);
	if (!j)
		return -ENOMEM;
	if (l->flag && strcmp(json_string_value(json_object_get(j, "flag")), l->flag) != 0) {
		json_decref(j);
		return 0;
	}
	json_array_append_new(l->arr, j);
	return 0;
}

static int cmd_list(struct control_ctx *x, json_t *req)
{
	struct list_ctx l = { .db = x->db, .arr = json_array(), .flag = control_str(req, "flag", NULL) };
	json_t *lim = json_object_get(req, "limit");
	int limit = json_is_integer(lim) ? (int)json_integer_value(lim) : 100;
	if (limit < 1 || limit > LIST_MAX)
		limit = LIST_MAX;
	const char *state = control_str(req, "state", NULL);
	int r = l.arr ? dossiers_list(x->db, state, limit, add_dossier, &l) : -ENOMEM;
	if (r < 0) {
		json_decref(l.arr);
		return control_fail(x, r, "cannot list dossiers");
	}
	return control_reply(x, json_pack("{s:o}", "dossiers", l.arr));
}

static int cmd_accept(struct control_ctx *x, json_t *req, const struct catalog *cat)
{
	char why[DOSSIER_WHY_MAX];
	const char *cwhy = "";
	struct dossier_row d;
	struct config cfg;
	const struct calendar *cal = dossier_calendar(&cwhy);
	json_t *id = json_object_get(req, "id");
	if (!cal)
		return control_fail(x, -ENOENT, cwhy);
	if (!json_is_integer(id))
		return control_fail(x, -EINVAL, "give the dossier's number (id)");
	daemon_config_snapshot(&cfg);
	int64_t at;
	if (step_time(req, cal, &at) < 0 || at > (int64_t)time(NULL) + 60)
		return control_fail(x, -EINVAL,
				    "the time must be local 'YYYY-MM-DD HH:MM', not in the future");
	int r = dossier_accept(x->db, cat, cal, &cfg, x->actor, (int64_t)json_integer_value(id),
			       control_str(req, "note", ""), at, &d, why);
	if (r < 0)
		return control_fail(x, r, why);
	/* The receipt goes to the box's printer; a print failure is reported, never undoes. */
	char pwhy[256] = "";
	int pr = dossier_print_receipt(&cfg, catalog_find(cat, d.procedure), &d, pwhy, sizeof(pwhy));
	json_t *j = dossier_json(x->db, &d, 1);
	if (j) {
		json_object_set_new(j, "receipt_printed", json_boolean(pr == 0));
		if (pr < 0)
			json_object_set_new(j, "receipt_print_error", json_string(pwhy));
	}
	return control_reply(x, j);
}

static int cmd_status(struct control_ctx *x, json_t *req)
{
	char now[32];
	const char *code = control_str(req, "code", ""), *status = control_str(req, "status", "");
	const char *text = control_str(req, "text", "");
	db_now(now);
	const char *at = control_str(req, "updated_at", now);
	if (!dossiers_status_valid(status))
		return control_fail(
		    x, -EINVAL,
		    "status must be received, processing, supplement_requested, approved, refused, "
		    "returned or withdrawn");
	if (strlen(text) >= DOSSIER_STATUS_TEXT_MAX || strlen(at) >= 40)
		return control_fail(x, -EINVAL, "status text is longer than 255 bytes");
	int r = dossiers_set_status(x->db, x->actor, code, status, text, at);
	if (r == -ENOENT)
		return control_fail(x, r, "no dossier with that code");
	if (r < 0)
		return control_fail(x, r, "cannot record the status");
	struct dossier_row d;
	r = dossiers_get_by_code(x->db, code, &d);
	return r < 0 ? control_fail(x, r, "cannot read the dossier")
		     : control_reply(x, dossier_json(x->db, &d, 0));
}

static int cmd_ask(struct control_ctx *x, json_t *req, const struct catalog *cat)
{
	struct assistant *as = NULL;
	struct assistant_answer ans;
	/* The index of a few dozen procedures builds in about a millisecond: one per question
	 * keeps every thread on its own SQLite handle. */
	int r = assistant_open(cat, &as);
	if (r < 0)
		return control_fail(x, r, "cannot build the assistant's index");
	r = assistant_ask(as, control_str(req, "question", ""), &ans);
	json_t *j = r < 0 ? NULL : assistant_answer_json(&ans);
	assistant_close(as);
	if (r < 0)
		return control_fail(x, r, "the question is longer than 512 bytes");
	return control_reply(x, j);
}

static void local_day(char out[11])
{
	const struct calendar *cal = dossier_calendar(NULL);
	int32_t d = (int32_t)((time(NULL) + 7 * 3600) / 86400);
	if (cal)
		d = calendar_local_day(cal, (int64_t)time(NULL), NULL);
	calendar_format(d, out);
}

static int cmd_feedback_add(struct control_ctx *x, json_t *req)
{
	struct feedback_in in = { .kind = control_str(req, "kind", ""),
				  .subject = control_str(req, "subject", ""),
				  .service = "",
				  .procedure = "",
				  .comment = control_str(req, "comment", ""),
				  .source = control_str(req, "source", "cli") };
	json_t *rt = json_object_get(req, "rating"), *ct = json_object_get(req, "counter");
	char day[11], svc[2] = "";
	struct dossier_row d;
	int64_t id;
	in.rating = json_is_integer(rt) ? (int)json_integer_value(rt) : 0;
	in.counter = json_is_integer(ct) ? (int)json_integer_value(ct) : 0;
	if (in.rating < 1 || in.rating > 5)
		return control_fail(x, -EINVAL, "rating must be 1 to 5");
	if (strlen(in.comment) > FEEDBACK_COMMENT_MAX || in.counter < 0 || in.counter > 99 ||
	    !in.subject[0] || strlen(in.subject) > 64)
		return control_fail(x, -EINVAL,
				    "comment at most 1000 bytes, counter 0-99, subject 1-64 bytes");
	if (strcmp(in.kind, "dossier") == 0) {
		if (dossiers_get_by_code(x->db, in.subject, &d) < 0)
			return control_fail(x, -ENOENT, "no dossier with that code");
		const struct catalog_proc *p = catalog_find(dossier_catalog(NULL), d.procedure);
		svc[0] = p ? p->service : 0;
		in.procedure = d.procedure;
	} else if (strcmp(in.kind, "ticket") == 0) {
		const char *slash = strrchr(in.subject, '/');
		char c = slash ? slash[1] : in.subject[0];
		if (c >= 'A' && c <= 'Z')
			svc[0] = c;
	} else {
		return control_fail(x, -EINVAL, "kind must be dossier or ticket");
	}
	in.service = svc;
	local_day(day);
	in.day = day;
	int r = feedback_add(x->db, x->actor, &in, &id);
	if (r == -EEXIST)
		return control_fail(x, r, "this dossier or ticket has already been rated");
	if (r < 0)
		return control_fail(x, r, "cannot store the feedback");
	return control_reply(
	    x, json_pack("{s:I, s:s, s:i}", "id", (json_int_t)id, "service", svc, "rating", in.rating));
}

static int cmd_feedback_summary(struct control_ctx *x, json_t *req)
{
	return control_reply(x, feedback_summary(x->db, control_str(req, "day", ""), fold_text));
}

static int cmd_feedback_report(struct control_ctx *x, json_t *req)
{
	const char *day = control_str(req, "day", "");
	int32_t dn;
	int64_t id = 0;
	struct config cfg;
	if (calendar_parse_day(day, &dn) < 0)
		return control_fail(x, -EINVAL, "day must be YYYY-MM-DD");
	daemon_config_snapshot(&cfg);
	json_t *sum = feedback_summary(x->db, day, fold_text);
	int r = feedback_report(x->db, x->actor, day, cfg.agency_code, sum, &id);
	json_decref(sum);
	if (r < 0)
		return control_fail(x, r, "cannot queue the feedback statistics");
	return control_reply(
	    x, json_pack("{s:s, s:I, s:b}", "day", day, "outbox_id", (json_int_t)id, "already", r == 1));
}

/* "at": UTC seconds, or local "YYYY-MM-DD HH:MM" (a step written down after it happened);
 * now when absent.  -EINVAL when it cannot be read. */
static int step_time(json_t *req, const struct calendar *cal, int64_t *ret)
{
	json_t *a = json_object_get(req, "at");
	int y, mo, d, h, mi;
	char tail;
	*ret = (int64_t)time(NULL);
	if (!a)
		return 0;
	if (json_is_integer(a)) {
		*ret = (int64_t)json_integer_value(a);
		return *ret > 0 ? 0 : -EINVAL;
	}
	const char *s = json_string_value(a);
	if (!s || sscanf(s, "%4d-%2d-%2d %2d:%2d%c", &y, &mo, &d, &h, &mi, &tail) != 5 || h > 23 || mi > 59 ||
	    h < 0 || mi < 0 || mo < 1 || mo > 12 || d < 1 || d > 31)
		return -EINVAL;
	*ret =
	    (int64_t)calendar_day(y, mo, d) * 86400 + h * 3600 + mi * 60 - (int64_t)cal->utc_offset_min * 60;
	return 0;
}

static int reply_row(struct control_ctx *x, int64_t id)
{
	struct dossier_row d;
	int r = dossiers_get(x->db, id, &d);
	return r < 0 ? control_fail(x, r, "cannot read the dossier")
		     : control_reply(x, dossier_json(x->db, &d, 1));
}

static int cmd_process(struct control_ctx *x, const char *cmd, json_t *req, const struct catalog *cat)
{
	char why[DOSSIER_WHY_MAX] = "";
	const char *cwhy = "";
	const struct calendar *cal = dossier_calendar(&cwhy);
	struct dossier_row d;
	struct config cfg;
	int64_t at;
	int r;
	if (!cal)
		return control_fail(x, -ENOENT, cwhy);
	if (step_time(req, cal, &at) < 0)
		return control_fail(x, -EINVAL, "the time must be local 'YYYY-MM-DD HH:MM'");
	daemon_config_snapshot(&cfg);
	if (strcmp(cmd, "dossier.return") == 0) {
		char code[DOSSIER_CODE_MAX];
		if (!dossier_code_from_scan(control_str(req, "scan", ""), code) || !code[0])
			return control_fail(x, -EINVAL, "give the receipt's code (typed or scanned)");
		r = dossiers_get_by_code(x->db, code, &d);
		if (r < 0)
			return control_fail(
			    x, r, r == -ENOENT ? "no dossier with that code" : "cannot read the dossier");
		r = dossier_step(x->db, cal, &cfg, x->actor, d.id, "returned", control_str(req, "note", ""),
				 at, why);
		return r < 0 ? control_fail(x, r, why) : reply_row(x, d.id);
	}
	r = find(x, req, &d);
	if (r < 0)
		return r;
	if (strcmp(cmd, "dossier.assign") == 0)
		r = dossier_assign(x->db, cat, &cfg, x->actor, d.id, control_str(req, "user", ""), at, why);
	else if (strcmp(cmd, "dossier.step") == 0)
		r = dossier_step(x->db, cal, &cfg, x->actor, d.id, control_str(req, "step", ""),
				 control_str(req, "note", ""), at, why);
	else
		r = dossier_apologize(x->db, cal, &cfg, x->actor, d.id, control_str(req, "new_due", ""),
				      control_str(req, "reason", ""), at, why);
	return r < 0 ? control_fail(x, r, why) : reply_row(x, d.id);
}

static int cmd_worklist(struct control_ctx *x, json_t *req)
{
	struct list_ctx l = { .db = x->db, .arr = json_array() };
	int un = json_is_true(json_object_get(req, "unassigned"));
	int r = l.arr ? dossier_worklist(x->db, control_str(req, "user", ""), un, LIST_MAX, add_dossier, &l)
		      : -ENOMEM;
	if (r < 0) {
		json_decref(l.arr);
		return control_fail(x, r, "cannot list the work");
	}
	return control_reply(x, json_pack("{s:o}", "dossiers", l.arr));
}

static int add_official(void *ctx, const char *user, const char *role)
{
	json_array_append_new((json_t *)ctx, json_pack("{s:s, s:s}", "user", user, "role", role));
	return 0;
}

static int role_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n >= DOSSIER_ROLE_MAX)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

static int cmd_roles(struct control_ctx *x, const char *cmd, json_t *req, const struct catalog *cat)
{
	const char *role = control_str(req, "role", "");
	int r = 0;
	if (strcmp(cmd, "dossier.officials") != 0 && !role_ok(role))
		return control_fail(x, -EINVAL, "a role is 1-31 of a-z 0-9 _ -");
	if (strcmp(cmd, "dossier.role") == 0) {
		const char *proc = control_str(req, "procedure", "");
		if (!catalog_find(cat, proc))
			return control_fail(x, -EINVAL, "unknown procedure (see the catalogue)");
		r = dossier_role_set(x->db, x->actor, proc, role);
	} else if (strcmp(cmd, "dossier.official") == 0) {
		struct user u;
		const char *user = control_str(req, "user", "");
		int add = !json_is_false(json_object_get(req, "add"));
		if (add && users_get(x->db, user, &u) < 0)
			return control_fail(x, -ENOENT, "no such account");
		r = dossier_official_role(x->db, x->actor, user, role, add);
	}
	if (r < 0)
		return control_fail(x, r, "cannot store the role");
	json_t *offs = json_array(), *procs = json_array();
	dossier_officials(x->db, add_official, offs);
	for (int i = 0; i < cat->n; i++) {
		char ro[DOSSIER_ROLE_MAX];
		dossier_role_for(x->db, &cat->procs[i], ro);
		json_array_append_new(procs,
				      json_pack("{s:s, s:s}", "procedure", cat->procs[i].code, "role", ro));
	}
	return control_reply(x, json_pack("{s:o, s:o}", "officials", offs, "procedures", procs));
}

int dossier_control(struct control_ctx *x, const char *cmd, void *req_json)
{
	json_t *req = req_json;
	const char *why = "";
	const struct catalog *cat = dossier_catalog(&why);
	if (strcmp(cmd, "dossier.show") == 0)
		return cmd_show(x, req);
	if (strcmp(cmd, "dossier.list") == 0)
		return cmd_list(x, req);
	if (strcmp(cmd, "dossier.status") == 0)
		return cmd_status(x, req);
	if (strcmp(cmd, "feedback.add") == 0)
		return cmd_feedback_add(x, req);
	if (strcmp(cmd, "feedback.summary") == 0)
		return cmd_feedback_summary(x, req);
	if (strcmp(cmd, "feedback.report") == 0)
		return cmd_feedback_report(x, req);
	if (!cat)
		return control_fail(x, -ENOENT, why);
	if (strcmp(cmd, "dossier.open") == 0)
		return cmd_open(x, req, cat);
	if (strcmp(cmd, "dossier.attach") == 0)
		return cmd_attach(x, req, cat);
	if (strcmp(cmd, "dossier.accept") == 0)
		return cmd_accept(x, req, cat);
	if (strcmp(cmd, "ask") == 0)
		return cmd_ask(x, req, cat);
	if (strcmp(cmd, "dossier.assign") == 0 || strcmp(cmd, "dossier.step") == 0 ||
	    strcmp(cmd, "dossier.apologize") == 0 || strcmp(cmd, "dossier.return") == 0)
		return cmd_process(x, cmd, req, cat);
	if (strcmp(cmd, "dossier.worklist") == 0)
		return cmd_worklist(x, req);
	if (strcmp(cmd, "dossier.role") == 0 || strcmp(cmd, "dossier.official") == 0 ||
	    strcmp(cmd, "dossier.officials") == 0)
		return cmd_roles(x, cmd, req, cat);
	return control_fail(x, -EINVAL, "unknown dossier command");
}
