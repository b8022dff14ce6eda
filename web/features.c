/* The dashboard's list of what is switched off on this box and why, so that nobody learns it
 * from a refused form: the city link, dossiers and the procedure assistant, due dates,
 * certified copies, recognition and devices, each with what to ask IT staff for. */
#include <stdlib.h>
#include <string.h>

#include "gateway/config.h"
#include "gateway/daemon.h"
#include "gateway/dossier/service.h"
#include "gateway/sign/copy.h"
#include "web/internal.h"

static void off(struct req *r, struct buf *b, const char *id, enum str what)
{
	buf_printf(b, "<li id=\"off-%s\">", id);
	buf_esc(b, T(r->lang, what));
	buf_puts(b, "</li>");
}

void web_features_tile(struct req *r, struct buf *b)
{
	struct config *cfg = malloc(sizeof(*cfg));
	struct buf list;
	if (!cfg)
		return;
	daemon_config_snapshot(cfg);
	buf_init(&list, 8192);
	if (strcmp(cfg->uplink_enabled, "yes") != 0)
		off(r, &list, "uplink", S_OFF_UPLINK);
	if (!dossier_catalog(NULL))
		off(r, &list, "dossiers", S_OFF_DOSSIERS);
	else if (!dossier_calendar(NULL))
		off(r, &list, "calendar", S_OFF_CALENDAR);
	if (copy_signer_pid() <= 0)
		off(r, &list, "copies", S_OFF_COPIES);
	if (cfg->recognize_workers == 0)
		off(r, &list, "recognize", S_OFF_RECOGNIZE);
	if (!cfg->mqtt_host[0])
		off(r, &list, "devices", S_OFF_DEVICES);
	if (strcmp(cfg->ticket_printer, "none") == 0)
		off(r, &list, "printer", S_OFF_PRINTER);
	free(cfg);
	if (list.len == 0 && !list.err) {
		buf_free(&list);
		return;
	}
	buf_puts(b, "<div class=\"tile\" id=\"features-off\"><h2>");
	buf_esc(b, T(r->lang, S_OFF_TITLE));
	buf_puts(b, "</h2><ul>");
	if (list.p)
		buf_add(b, list.p, list.len);
	buf_puts(b, "</ul></div>");
	buf_free(&list);
}
