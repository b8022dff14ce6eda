/* Blob store: round trip, content addressing, limits, and that corrupt or tampered files are
 * reported and never handed out. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <dirent.h>

#include "store/blob.h"
#include "tests/unit/testutil.h"

static const unsigned char key[BLOB_KEY_LEN] = "0123456789abcdef0123456789abcdef";

struct buf {
	unsigned char *data;
	size_t len;
};

static int buf_write(void *ctx, const void *p, size_t n)
{
	struct buf *b = ctx;
	b->data = realloc(b->data, b->len + n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void put(struct blobs *b, const void *data, size_t len, char hash[BLOB_HASH_HEX])
{
	struct tu_mem m = { data, len, 0 };
	int64_t size;
	assert_int_equal(blob_put(b, tu_mem_read, &m, 1 << 24, hash, &size), 0);
	assert_int_equal(size, (int64_t)len);
}

static void round_trip_of_large_blob_is_identical_and_encrypted(void **state)
{
	char dir[PATH_MAX], hash[BLOB_HASH_HEX], path[PATH_MAX];
	struct blobs *b;
	size_t len = 3 * 65536 + 123;
	unsigned char *data = malloc(len);
	struct buf out = { 0 };

	for (size_t i = 0; i < len; i++)
		data[i] = (unsigned char)(i * 7 + (i >> 9));
	tu_tmpdir(dir);
	assert_int_equal(blobs_open(dir, key, &b), 0);
	put(b, data, len, hash);
	/* SHA-256 of the plaintext names the file */
	assert_true(blob_hash_valid(hash));
	assert_int_equal(blob_get(b, hash, buf_write, &out), 0);
	assert_int_equal(out.len, len);
	assert_memory_equal(out.data, data, len);
	/* on disk: overhead only, and the plaintext does not appear */
	assert_int_equal(blob_path(b, hash, path, sizeof(path)), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, (off_t)(len + BLOB_OVERHEAD));
	FILE *f = fopen(path, "rb");
	unsigned char *disk = malloc(len + BLOB_OVERHEAD);
	assert_int_equal(fread(disk, 1, len + BLOB_OVERHEAD, f), len + BLOB_OVERHEAD);
	fclose(f);
	assert_true(memcmp(disk + 16, data, 64) != 0);
	free(disk);
	free(out.data);
	free(data);
	blobs_close(b);
	tu_rmrf(dir);
}

static void same_content_gets_same_name_and_empty_blob_works(void **state)
{
	char dir[PATH_MAX], h1[BLOB_HASH_HEX], h2[BLOB_HASH_HEX], h3[BLOB_HASH_HEX];
	struct blobs *b;
	int64_t n = -1;
	tu_tmpdir(dir);
	assert_int_equal(blobs_open(dir, key, &b), 0);
	put(b, "hello", 5, h1);
	put(b, "hello", 5, h2);
	assert_string_equal(h1, h2);
	assert_string_equal(h1, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
	put(b, "", 0, h3);
	assert_string_equal(h3, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(blobs_count(b, &n), 0);
	assert_int_equal(n, 2);
	blobs_close(b);
	tu_rmrf(dir);
}

static void oversized_blob_is_refused_and_leaves_nothing(void **state)
{
	char dir[PATH_MAX], tmp[PATH_MAX + 8], hash[BLOB_HASH_HEX] = "";
	unsigned char data[5000] = { 1 };
	struct tu_mem m = { data, sizeof(data), 0 };
	struct blobs *b;
	int64_t size = 0, n = -1;
	tu_tmpdir(dir);
	assert_int_equal(blobs_open(dir, key, &b), 0);
	assert_int_equal(blob_put(b, tu_mem_read, &m, 4999, hash, &size), -EMSGSIZE);
	assert_string_equal(hash, "");
	snprintf(tmp, sizeof(tmp), "%s/tmp", dir);
	assert_int_equal(count_files(tmp), 0);
	assert_int_equal(blobs_count(b, &n), 0);
	assert_int_equal(n, 0);
	blobs_close(b);
	tu_rmrf(dir);
}

static void flip_byte(const char *path, long at)
{
	int fd = open(path, O_RDWR);
	unsigned char c;
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, at), 1);
	c ^= 0x01;
	assert_int_equal(pwrite(fd, &c, 1, at), 1);
	close(fd);
}

static void tampered_blob_is_reported_corrupt_and_nothing_is_returned(void **state)
{
	char dir[PATH_MAX], hash[BLOB_HASH_HEX], path[PATH_MAX];
	struct blobs *b;
	struct buf out = { 0 };
	long where[] = { 0, 5, 20, 4 + 12 + 99, -1 };
	tu_tmpdir(dir);
	assert_int_equal(blobs_open(dir, key, &b), 0);
	for (int i = 0; i < 5; i++) {
		unsigned char data[300];
		memset(data, 'a' + i, sizeof(data));
		put(b, data, sizeof(data), hash);
		assert_int_equal(blob_path(b, hash, path, sizeof(path)), 0);
		/* -1: the last byte of the tag */
		flip_byte(path, where[i] >= 0 ? where[i] : (long)(sizeof(data) + BLOB_OVERHEAD - 1));
		assert_int_equal(blob_verify(b, hash, NULL), -EBADMSG);
		assert_int_equal(blob_get(b, hash, buf_write, &out), -EBADMSG);
		assert_int_equal(out.len, 0);
	}
	blobs_close(b);
	tu_rmrf(dir);
}

static void wrong_key_and_renamed_blob_are_corrupt(void **state)
{
	char dir[PATH_MAX], h1[BLOB_HASH_HEX], h2[BLOB_HASH_HEX], p1[PATH_MAX], p2[PATH_MAX];
	unsigned char other[BLOB_KEY_LEN] = { 9 };
	struct blobs *b, *wrong;
	tu_tmpdir(dir);
	assert_int_equal(blobs_open(dir, key, &b), 0);
	put(b, "first", 5, h1);
	put(b, "second", 6, h2);
	assert_int_equal(blobs_open(dir, other, &wrong), 0);
	assert_int_equal(blob_verify(wrong, h1, NULL), -EBADMSG);
	/* A file swapped under another blob's name decrypts but fails the name check. */
	blob_path(b, h1, p1, sizeof(p1));
	blob_path(b, h2, p2, sizeof(p2));
	assert_int_equal(rename(p1, p2), 0);
	assert_int_equal(blob_verify(b, h2, NULL), -EBADMSG);
	assert_int_equal(blob_verify(b, h1, NULL), -ENOENT);
	assert_int_equal(blob_verify(b, "../../etc/passwd", NULL), -EINVAL);
	blobs_close(wrong);
	blobs_close(b);
	tu_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip_of_large_blob_is_identical_and_encrypted),
		cmocka_unit_test(same_content_gets_same_name_and_empty_blob_works),
		cmocka_unit_test(oversized_blob_is_refused_and_leaves_nothing),
		cmocka_unit_test(tampered_blob_is_reported_corrupt_and_nothing_is_returned),
		cmocka_unit_test(wrong_key_and_renamed_blob_are_corrupt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
