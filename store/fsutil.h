/* File-system helpers for durable writes: every file the store keeps is written
 * temp -> fsync -> rename -> fsync(dir), so a crash leaves the old file or the new one. */
#ifndef MOTCUA_FSUTIL_H
#define MOTCUA_FSUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Creates dir and its missing parents with mode; existing directories are fine. */
int fs_mkdir_p(const char *dir, mode_t mode);

/* fsyncs the directory at path (so a rename or create inside it is durable). */
int fs_fsync_dir(const char *path);

/* Writes len bytes of data to path durably and atomically (temp file in the same directory,
 * fsync, rename, fsync of the directory).  mode applies to the new file. */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* Reads a whole small file (at most max bytes) into a new NUL-terminated buffer; the caller
 * frees *ret_data.  -EFBIG when the file is larger than max. */
int fs_read_small(const char *path, size_t max, char **ret_data, size_t *ret_len);

/* write()/read() loops that retry on EINTR and short counts. */
int fs_write_all(int fd, const void *buf, size_t len);
/* Returns bytes read (less than len only at end of file) or -errno. */
ssize_t fs_read_full(int fd, void *buf, size_t len);

/* Bytes available to unprivileged users on the file system that holds path. */
int fs_free_bytes(const char *path, int64_t *ret_bytes);

/* Joins a and b with one '/' into out; -ENAMETOOLONG if it does not fit. */
int fs_join(char *out, size_t size, const char *a, const char *b);

#endif
