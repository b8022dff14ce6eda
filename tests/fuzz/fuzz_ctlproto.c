/* Fuzz target: the control protocol's framing, as motcuad reads a request (a local client
 * may send anything): a JSON line with a bound, then raw body bytes. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gateway/ctlproto.h"
#include "store/fsutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctl_conn conn;
	int sv[2];
	char body[512];
	json_t *req = NULL;

	if (size > 60000 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 0;
	fs_write_all(sv[1], data, size);
	close(sv[1]);
	ctl_conn_init(&conn, sv[0]);
	if (ctl_recv(&conn, 4096, &req) == 0) {
		json_t *n = json_object_get(req, "size");
		if (json_is_integer(n) && json_integer_value(n) > 0)
			while (ctl_read(&conn, body, sizeof(body)) > 0)
				;
		json_decref(req);
	}
	close(sv[0]);
	return 0;
}
