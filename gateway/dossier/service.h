/* The catalogue and calendar that motcuad loads once at start-up and shares read-only with
 * every thread (they are never changed while it runs; a new file needs a restart). */
#ifndef MOTCUA_DOSSIER_SERVICE_H
#define MOTCUA_DOSSIER_SERVICE_H

#include "gateway/config.h"
#include "gateway/dossier/calendar.h"
#include "gateway/dossier/catalog.h"

/* Loads [dossier] catalogue and calendar.  A file that exists but does not validate is an
 * error (-EINVAL, logged naming the file, procedure and field): motcuad refuses to start on
 * it.  A missing file is logged and leaves dossiers and the assistant off (returns 0). */
int dossier_service_start(const struct config *cfg);
void dossier_service_stop(void);

/* NULL when not loaded; why (may be NULL) then says what is missing. */
const struct catalog *dossier_catalog(const char **why);
const struct calendar *dossier_calendar(const char **why);

#endif
