/* What an installer needs to set up a device against this box: the broker's TLS port for
 * devices and the SHA-256 fingerprint of the CA that signed its certificate ([devices]
 * tls_port, tls_ca_file; docs/mqtt.md 1).  Shown on the staff devices page and by motcuactl. */
#ifndef MOTCUA_GATEWAY_DEVINFO_H
#define MOTCUA_GATEWAY_DEVINFO_H

#include <stddef.h>

#define DEVINFO_FP_MAX 96 /* 32 bytes as "AB:CD:..." and the NUL */

/* The SHA-256 fingerprint of the first PEM certificate in path, upper-case hex pairs joined
 * by ':' (as `openssl x509 -fingerprint -sha256` prints it) into out (DEVINFO_FP_MAX bytes).
 * Returns 0; -ENOENT when the file is missing, -EACCES unreadable, -EBADMSG not a PEM
 * certificate. */
int devinfo_ca_fingerprint(const char *path, char *out, size_t size);

#endif
