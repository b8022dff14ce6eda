/* Dossier processing rules on top of store/dossier_steps.c (see process.h). */
#include "gateway/dossier/process.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store/users.h"

static int refuse(char *why, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int refuse(char *why, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, DOSSIER_WHY_MAX, fmt, ap);
	va_end(ap);
	return err;
}

static const struct {
	const char *step, *lgsp, *next;
} steps[] = {
	/* step        city status              steps that may follow it (space separated) */
	{ "received", "received", "processing supplement refused withdrawn" },
	{ "processing", "processing", "supplement signing ready refused withdrawn" },
	{ "supplement", "supplement_requested", "processing refused withdrawn" },
	{ "signing", "processing", "processing ready refused withdrawn" },
	{ "ready", "approved", "returned" },
	{ "returned", "returned", "" },
	{ "refused", "refused", "" },
	{ "withdrawn", "withdrawn", "" },
};
#define NSTEPS (sizeof(steps) / sizeof(steps[0]))

int dossier_step_valid(const char *s)
{
	for (size_t i = 1; i < NSTEPS; i++)
		if (strcmp(s, steps[i].step) == 0)
			return 1;
	return 0;
}

int dossier_step_allowed(const char *from, const char *to)
{
	size_t n = strlen(to);
	for (size_t i = 0; i < NSTEPS; i++) {
		if (strcmp(from, steps[i].step) != 0)
			continue;
		for (const char *p = steps[i].next; (p = strstr(p, to)) != NULL; p += n)
			if ((p == steps[i].next || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
				return 1;
		return 0;
	}
	return 0;
}

const char *dossier_lgsp_status(const char *s)
{
	for (size_t i = 0; i < NSTEPS; i++)
		if (strcmp(s, steps[i].step) == 0)
			return steps[i].lgsp;
	return "processing";
}

void dossier_role_for(struct db *db, const struct catalog_proc *p, char role[DOSSIER_ROLE_MAX])
{
	role[0] = '\0';
	if (!p)
		return;
	if (dossier_role_of(db, p->code, role) == 0 && role[0])
		return;
	if (strcmp(p->field, "Hộ tịch") == 0 || strcmp(p->field, "Chứng thực") == 0)
		snprintf(role, DOSSIER_ROLE_MAX, "tuphap");
	else if (strcmp(p->field, "Cư trú") == 0)
		snprintf(role, DOSSIER_ROLE_MAX, "congan");
	else
		snprintf(role, DOSSIER_ROLE_MAX, "vanphong");
}

static int load(struct db *db, int64_t id, struct dossier_row *d, char *why)
{
	int r = dossiers_get(db, id, d);
	if (r == -ENOENT)
		return refuse(why, r, "no dossier %lld", (long long)id);
	if (r < 0)
		return refuse(why, r, "cannot read dossier %lld", (long long)id);
	if (strcmp(d->state, "accepted") != 0)
		return refuse(why, -EBUSY, "dossier %lld has not been accepted yet", (long long)id);
	return 0;
}

static struct dossier_change change(const char *name, const struct dossier_row *d, const struct config *cfg,
				    int64_t at_s)
{
	struct dossier_change c = { .name = name,
				    .expect_step = d->step,
				    .at_s = at_s,
				    .done_s = -1,
				    .returned_s = -1,
				    .commune_code = cfg->agency_code };
	return c;
}

int dossier_assign(struct db *db, const struct catalog *cat, const struct config *cfg, const char *actor,
		   int64_t id, const char *user, int64_t at_s, char why[DOSSIER_WHY_MAX])
{
	struct dossier_row d;
	struct user u;
	char role[DOSSIER_ROLE_MAX], pick[DOSSIER_USER_MAX];
	int r = load(db, id, &d, why);
	if (r < 0)
		return r;
	if (dossier_step_final(d.step))
		return refuse(why, -EBUSY, "dossier %s is closed (%s); it cannot be reassigned", d.code,
			      d.step);
	if (!user || !user[0]) {
		dossier_role_for(db, catalog_find(cat, d.procedure), role);
		r = dossier_pick_official(db, role, pick);
		if (r == -ENOENT)
			return refuse(
			    why, r,
			    "no official holds the role '%s' for procedure %s; give the role to one "
			    "(motcuactl dossier official add USER %s) or assign by name",
			    role, d.procedure, role);
		if (r < 0)
			return refuse(why, r, "cannot choose an official");
		user = pick;
	} else {
		r = users_get(db, user, &u);
		if (r == -ENOENT)
			return refuse(why, r, "there is no account '%.40s'", user);
		if (r < 0)
			return refuse(why, r, "cannot read account '%.40s'", user);
		if (u.disabled)
			return refuse(why, -EINVAL, "account '%.40s' is disabled", user);
	}
	if (strcmp(d.assignee, user) == 0)
		return 0;
	struct dossier_change c = change("assigned", &d, cfg, at_s);
	c.assignee = user;
	c.lgsp_status = dossier_lgsp_status(d.step);
	r = dossier_steps_apply(db, actor, id, &c, NULL);
	if (r == -EBUSY)
		return refuse(why, r, "dossier %s changed meanwhile; look again", d.code);
	if (r < 0)
		return refuse(why, r, "cannot store the assignment: %s", strerror(-r));
	return 0;
}

static int last_step_s(void *ctx, const struct dossier_step_row *s)
{
	int64_t *m = ctx;
	if (strcmp(s->origin, "local") == 0 && s->at_s > *m)
		*m = s->at_s;
	return 0;
}

static int check_time(struct db *db, const struct dossier_row *d, int64_t at_s, char *why)
{
	int64_t last = d->received_s;
	if (at_s > (int64_t)time(NULL) + 60)
		return refuse(why, -EINVAL, "the time of a step cannot be in the future");
	if (dossier_steps_list(db, d->id, last_step_s, &last) < 0)
		return refuse(why, -EIO, "cannot read the dossier's steps");
	if (at_s < last)
		return refuse(why, -EINVAL, "the time of a step cannot be before the dossier's last step");
	return 0;
}

int dossier_step(struct db *db, const struct calendar *cal, const struct config *cfg, const char *actor,
		 int64_t id, const char *step, const char *note, int64_t at_s, char why[DOSSIER_WHY_MAX])
{
	struct dossier_row d;
	char due[11], pday[11];
	int r = load(db, id, &d, why);
	if (r < 0)
		return r;
	if (!dossier_step_valid(step))
		return refuse(why, -EINVAL,
			      "step must be processing, supplement, signing, ready, returned, refused or "
			      "withdrawn");
	if (!dossier_step_allowed(d.step, step))
		return refuse(why, -EBUSY, "dossier %s is at step '%s'; it cannot go to '%s'", d.code, d.step,
			      step);
	if (note && strlen(note) >= DOSSIER_NOTE_MAX)
		return refuse(why, -EINVAL, "the note is longer than %d bytes", DOSSIER_NOTE_MAX - 1);
	if ((strcmp(step, "supplement") == 0 || strcmp(step, "refused") == 0) && (!note || !note[0]))
		return refuse(why, -EINVAL, "%s",
			      step[0] == 's' ? "say which papers are needed (the note)"
					     : "say why the dossier is refused (the note)");
	r = check_time(db, &d, at_s, why);
	if (r < 0)
		return r;
	struct dossier_change c = change(step, &d, cfg, at_s);
	c.step = step;
	c.note = note;
	c.lgsp_status = dossier_lgsp_status(step);
	int32_t day = calendar_local_day(cal, at_s, NULL);
	if (strcmp(step, "supplement") == 0) {
		calendar_format(day, pday);
		c.pause_day = pday;
	} else if (d.pause_day[0]) {
		/* The clock stood still from the request to the papers: the working days after the
		 * request's day up to today's move the due day on. */
		int32_t from, old;
		if (calendar_parse_day(d.pause_day, &from) == 0) {
			int n = calendar_working_between(cal, from, day);
			c.paused_add = n;
			if (d.due_day[0] && calendar_parse_day(d.due_day, &old) == 0) {
				calendar_format(calendar_add_working(cal, old, n), due);
				c.due_day = due;
			}
		}
		c.pause_day = "";
	}
	if (dossier_step_done(step) && strcmp(step, "returned") != 0)
		c.done_s = at_s;
	if (strcmp(step, "returned") == 0)
		c.returned_s = at_s;
	r = dossier_steps_apply(db, actor, id, &c, NULL);
	if (r == -EBUSY)
		return refuse(why, r, "dossier %s changed meanwhile; look again", d.code);
	if (r < 0)
		return refuse(why, r, "cannot store the step: %s", strerror(-r));
	return 0;
}

int dossier_apologize(struct db *db, const struct calendar *cal, const struct config *cfg, const char *actor,
		      int64_t id, const char *new_due, const char *reason, int64_t at_s,
		      char why[DOSSIER_WHY_MAX])
{
	struct dossier_row d;
	int32_t nd, due, today = calendar_local_day(cal, at_s, NULL);
	int r = load(db, id, &d, why);
	if (r < 0)
		return r;
	if (dossier_step_done(d.step))
		return refuse(why, -EBUSY, "dossier %s is finished (%s); no apology is needed", d.code,
			      d.step);
	if (!reason || !reason[0] || strlen(reason) >= DOSSIER_NOTE_MAX)
		return refuse(why, -EINVAL, "say why the dossier is late (1-%d bytes)", DOSSIER_NOTE_MAX - 1);
	if (!new_due || calendar_parse_day(new_due, &nd) < 0)
		return refuse(why, -EINVAL, "the new appointment must be a day YYYY-MM-DD");
	due = dossier_effective_due(cal, &d, today);
	if (due < 0)
		return refuse(why, -EINVAL, "dossier %s has no due day, so it cannot be late", d.code);
	if (nd <= today || nd <= due || !calendar_is_working(cal, nd))
		return refuse(why, -EINVAL,
			      "the new appointment must be a working day after today and after "
			      "the due day");
	if (calendar_working_between(cal, today, due) > (int)cfg->dossier_near_due_days)
		return refuse(why, -EINVAL, "dossier %s is not late nor near its due day", d.code);
	r = check_time(db, &d, at_s, why);
	if (r < 0)
		return r;
	struct dossier_change c = change("apology", &d, cfg, at_s);
	c.note = reason;
	c.new_due_day = new_due;
	c.lgsp_status = dossier_lgsp_status(d.step);
	r = dossier_steps_apply(db, actor, id, &c, NULL);
	if (r == -EBUSY)
		return refuse(why, r, "dossier %s changed meanwhile; look again", d.code);
	if (r < 0)
		return refuse(why, r, "cannot store the apology: %s", strerror(-r));
	return 0;
}

int32_t dossier_effective_due(const struct calendar *cal, const struct dossier_row *d, int32_t today)
{
	int32_t due, from;
	if (!d->due_day[0] || calendar_parse_day(d->due_day, &due) < 0)
		return -1;
	if (d->pause_day[0] && calendar_parse_day(d->pause_day, &from) == 0)
		due = calendar_add_working(cal, due, calendar_working_between(cal, from, today));
	return due;
}

int dossier_is_late(const struct calendar *cal, const struct dossier_row *d, int32_t today)
{
	int32_t due = dossier_effective_due(cal, d, today);
	if (due < 0)
		return 0;
	if (d->done_s > 0)
		return calendar_local_day(cal, d->done_s, NULL) > due;
	if (dossier_step_done(d->step))
		return 0;
	return today > due;
}

const char *dossier_code_from_scan(const char *in, char out[DOSSIER_CODE_MAX])
{
	size_t n = 0;
	const char *c;
	if (!in)
		return NULL;
	c = strstr(in, "code=");
	if (c)
		in = c + 5;
	for (; *in && *in != '&' && *in != '#'; in++) {
		if (*in == ' ' || *in == '\t' || *in == '\r' || *in == '\n')
			continue;
		if (n + 1 >= DOSSIER_CODE_MAX)
			return NULL;
		out[n++] = (*in >= 'a' && *in <= 'z') ? (char)(*in - 'a' + 'A') : *in;
	}
	out[n] = '\0';
	return out;
}
