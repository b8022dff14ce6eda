/* blob_read_range: any range of a blob decrypts to the same bytes blob_get streams, without
 * reading the rest; ranges past the end are refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

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

static void every_range_matches_blob_get(void **state)
{
	char dir[PATH_MAX], hash[BLOB_HASH_HEX];
	struct blobs *b;
	int64_t size;
	const size_t n = 300007; /* not a multiple of 16 or of blob.c's 64 KiB buffer */
	unsigned char *data = malloc(n), *got = malloc(n);
	uint32_t x = 12345;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245 + 12345;
		data[i] = (unsigned char)(x >> 16);
	}
	tu_tmpdir(dir);
	assert_int_equal(blobs_open(dir, key, &b), 0);
	struct tu_mem m = { data, n, 0 };
	assert_int_equal(blob_put(b, tu_mem_read, &m, 1 << 20, hash, &size), 0);
	struct buf all = { 0 };
	assert_int_equal(blob_get(b, hash, buf_write, &all), 0);
	assert_int_equal(all.len, n);
	assert_memory_equal(all.data, data, n);

	/* Offsets at, before and after block and buffer boundaries, lengths 1 .. the rest. */
	static const size_t offs[] = { 0, 1, 15, 16, 17, 31, 65535, 65536, 65537, 262144, 299990, 300006 };
	static const size_t lens[] = { 1, 2, 15, 16, 17, 4096, 65536, 65537, 262144, 300007 };
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
		for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
			size_t o = offs[i], l = lens[k];
			if (o + l > n)
				l = n - o;
			memset(got, 0, n);
			assert_int_equal(blob_read_range(b, hash, (int64_t)o, got, l), 0);
			if (memcmp(got, all.data + o, l) != 0)
				fail_msg("range %zu+%zu differs from blob_get", o, l);
		}
	/* Chunked the way the uplink reads (256 KiB pieces) gives the whole back. */
	for (size_t o = 0; o < n; o += 262144) {
		size_t l = n - o < 262144 ? n - o : 262144;
		assert_int_equal(blob_read_range(b, hash, (int64_t)o, got + o, l), 0);
	}
	assert_memory_equal(got, data, n);

	assert_int_equal(blob_read_range(b, hash, (int64_t)n - 10, got, 11), -ERANGE);
	assert_int_equal(blob_read_range(b, hash, (int64_t)n + 1, got, 1), -ERANGE);
	assert_int_equal(blob_read_range(b, hash, -1, got, 1), -EINVAL);
	assert_int_equal(blob_read_range(b, hash, 0, got, 0), 0);
	char other[BLOB_HASH_HEX];
	memset(other, 'a', 64);
	other[64] = '\0';
	assert_int_equal(blob_read_range(b, other, 0, got, 1), -ENOENT);

	free(all.data);
	free(data);
	free(got);
	blobs_close(b);
	tu_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_range_matches_blob_get),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
