/* The pipe protocol between motcua-recognize and its client (motcuad's pool, motcuactl).
 * Each message is one frame: a 4-byte tag, a 4-byte big-endian length, then the bytes.
 *   client -> worker  "IMG1" + image bytes (JPEG, PNG, TIFF...; at most REC_IMAGE_MAX)
 *   worker -> client  "RES1" + one JSON object (UTF-8, at most REC_RESULT_MAX)
 * The worker answers every IMG1 with exactly one RES1, in order; an image it cannot read
 * gives a RES1 with an "error" member.  EOF on its stdin ends the worker. */
#ifndef MOTCUA_REC_PROTO_H
#define MOTCUA_REC_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define REC_IMAGE_MAX (32u << 20)
#define REC_RESULT_MAX (256u << 10)
#define REC_TAG_IMAGE "IMG1"
#define REC_TAG_RESULT "RES1"

/* Writes one frame (blocking; EINTR retried).  Returns 0 or -errno (-EPIPE when the peer
 * is gone). */
int rec_write_frame(int fd, const char tag[4], const void *data, size_t len);

/* Reads one frame with the expected tag and at most max bytes into a new buffer (NUL
 * appended; the caller frees *ret_data).  Returns 0, -ENODATA on a clean EOF before the
 * frame, -EPROTO on a wrong tag or a short frame, -EMSGSIZE over max, -errno. */
int rec_read_frame(int fd, const char tag[4], size_t max, char **ret_data, size_t *ret_len);

/* The worker binary: $MOTCUA_RECOGNIZE, else motcua-recognize next to the running program,
 * else the installed one.  Writes the path into buf. */
void rec_worker_path(char *buf, size_t size);

/* Starts a worker with OMP_THREAD_LIMIT=1 in its environment (Tesseract reads it at load
 * time), pipes on its stdin/stdout and err_fd (or, when -1, our stderr) as its stderr; no
 * other descriptor of ours reaches it (gateway/spawn.h).  extra_args (NULL-terminated, may
 * be NULL) are passed on.  Returns 0 with *ret_pid, *ret_to (write end) and *ret_from (read
 * end), all close-on-exec in the parent, or -errno. */
int rec_spawn(const char *path, char *const extra_args[], int err_fd, int *ret_pid, int *ret_to,
	      int *ret_from);

#endif
