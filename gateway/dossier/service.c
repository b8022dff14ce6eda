/* Start-up loading of the procedure catalogue and the working-day calendar. */
#include "gateway/dossier/service.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/log.h"
#include "gateway/queue_conf.h"

static struct catalog *cat;
static struct calendar *cal;
static char cat_why[CATALOG_ERR_MAX + 64] = "the procedure catalogue is not loaded";
static char cal_why[CALENDAR_ERR_MAX + 64] = "the working-day calendar is not loaded";

int dossier_service_start(const struct config *cfg)
{
	char err[CATALOG_ERR_MAX > CALENDAR_ERR_MAX ? CATALOG_ERR_MAX : CALENDAR_ERR_MAX];
	struct queue_services q;
	char qwhy[160];
	int r = catalog_load(cfg->dossier_catalogue, &cat, err);
	if (r == -ENOENT) {
		log_error("dossier: %s; dossiers and the procedure assistant are off", err);
		snprintf(cat_why, sizeof(cat_why), "%s", err);
	} else if (r < 0) {
		log_error("dossier: %s; fix or replace the file ([dossier] catalogue)", err);
		return r;
	} else {
		log_info("dossier: %d procedures from %s (version %s)", cat->n, cfg->dossier_catalogue,
			 cat->version[0] ? cat->version : "?");
		if (queue_services_parse(cfg->services, &q, qwhy, sizeof(qwhy)) == 0)
			for (int i = 0; i < cat->n; i++)
				if (!queue_service_find(&q, cat->procs[i].service)) {
					log_warn("dossier: procedure %s uses queue service %c, which [queue] "
						 "services "
						 "does not list; tickets cannot be taken for it",
						 cat->procs[i].code, cat->procs[i].service);
					break;
				}
	}
	cal = calloc(1, sizeof(*cal));
	if (!cal)
		return -ENOMEM;
	r = calendar_load(cfg->dossier_calendar, cal, err);
	if (r == -ENOENT) {
		log_error("dossier: %s; due dates cannot be set", err);
		snprintf(cal_why, sizeof(cal_why), "%s", err);
		free(cal);
		cal = NULL;
	} else if (r < 0) {
		log_error("dossier: %s; fix or replace the file ([dossier] calendar)", err);
		free(cal);
		cal = NULL;
		return r;
	}
	return 0;
}

void dossier_service_stop(void)
{
	catalog_free(cat);
	cat = NULL;
	free(cal);
	cal = NULL;
}

const struct catalog *dossier_catalog(const char **why)
{
	if (!cat && why)
		*why = cat_why;
	return cat;
}

const struct calendar *dossier_calendar(const char **why)
{
	if (!cal && why)
		*why = cal_why;
	return cal;
}
