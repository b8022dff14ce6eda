/* Device pairing in the store (issue 13): a hello never moves a device to another claim id;
 * a claim id speaks for one serial; approval needs the pairing code of one of the serial's
 * claimers and binds the device to that claimer; the pairing code is the one docs/mqtt.md
 * defines (its worked example). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/db.h"
#include "store/devices.h"
#include "store/store.h"
#include "tests/unit/testutil.h"

struct fx {
	char dir[PATH_MAX], key[PATH_MAX + 16];
	struct store *s;
	struct db *db;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	tu_tmpdir(f->dir);
	snprintf(f->key, sizeof(f->key), "%s/key", f->dir);
	struct store_options o = { .state_dir = f->dir, .key_file = f->key, .busy_timeout_ms = 20000 };
	assert_int_equal(store_open(&o, &f->s), 0);
	assert_int_equal(store_connect(f->s, &f->db), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	db_close(f->db);
	store_close(f->s);
	tu_rmrf(f->dir);
	free(f);
	return 0;
}

#define REAL "claim-00112233445566778899aabbccddeeff"
#define EVIL "claim-ffeeddccbbaa99887766554433221100"

static const struct device_hello hello = {
	.kind = "kiosk", .model = "KS-220", .serial = "SN-1", .firmware = "1.0", .capabilities = "[]"
};

static void code_is_the_documented_one(void **state)
{
	(void)state;
	char c[DEVICE_CODE_LEN + 1];
	devices_pairing_code(REAL, c);
	assert_string_equal(c, "051463"); /* docs/mqtt.md 3, step 1 */
}

static void second_claimer_is_a_conflict_not_adopted(void **state)
{
	struct fx *f = *state;
	struct device d;
	char why[256], code[DEVICE_CODE_LEN + 1], serial[DEVICE_SERIAL_MAX];

	assert_int_equal(devices_hello(f->db, &hello, REAL, 0, "t", &d, NULL, 0), 1);
	assert_string_equal(d.claim_client, REAL);
	struct device_hello h2 = hello;
	h2.model = "EVIL";
	assert_int_equal(devices_hello(f->db, &h2, EVIL, 0, "t", &d, NULL, 0), 2);
	assert_string_equal(d.claim_client, REAL);
	assert_string_equal(d.model, "KS-220"); /* a conflicting hello changes nothing */
	assert_int_equal(d.conflicts, 1);
	assert_int_equal(devices_hello(f->db, &hello, REAL, 0, "t", &d, NULL, 0), 0);

	/* one claim id, one serial */
	struct device_hello h3 = hello;
	h3.serial = "SN-2";
	assert_int_equal(devices_hello(f->db, &h3, EVIL, 0, "t", &d, serial, sizeof(serial)), -EXDEV);
	assert_string_equal(serial, "SN-1");
	assert_int_equal(devices_get(f->db, "SN-2", &d), -ENOENT);

	/* approval: no code, wrong code, then the bound claimer's code */
	assert_int_equal(devices_decide(f->db, "kiosk-1", "approve", "t", "", "", &d, why, sizeof(why)),
			 -ENOKEY);
	assert_int_equal(devices_decide(f->db, "kiosk-1", "approve", "t", "", "12345x", &d, why, sizeof(why)),
			 -EKEYREJECTED);
	assert_int_equal(devices_get(f->db, "kiosk-1", &d), 0);
	assert_string_equal(d.state, "pending");
	devices_pairing_code(REAL, code);
	assert_int_equal(devices_decide(f->db, "kiosk-1", "approve", "t", "", code, &d, why, sizeof(why)), 0);
	assert_string_equal(d.state, "approved");
	assert_string_equal(d.claim_client, REAL);
	assert_int_equal(d.conflicts, 0); /* the other claimer is forgotten */
}

static void code_of_another_claimer_rebinds(void **state)
{
	struct fx *f = *state;
	struct device d;
	char why[256], code[DEVICE_CODE_LEN + 1];

	assert_int_equal(devices_hello(f->db, &hello, EVIL, 0, "t", &d, NULL, 0), 1); /* pre-claimed */
	assert_int_equal(devices_hello(f->db, &hello, REAL, 0, "t", &d, NULL, 0), 2);
	assert_string_equal(d.claim_client, EVIL);
	devices_pairing_code(REAL, code);
	/* staff type it with a space, as read from the screen: "051 463" */
	char spaced[16];
	snprintf(spaced, sizeof(spaced), "%.3s %s", code, code + 3);
	assert_int_equal(devices_decide(f->db, "SN-1", "approve", "t", "", spaced, &d, why, sizeof(why)), 0);
	assert_string_equal(d.claim_client, REAL);
	assert_int_equal(d.conflicts, 0);
}

static void claimers_per_serial_are_bounded(void **state)
{
	struct fx *f = *state;
	struct device d;
	char client[64];
	assert_int_equal(devices_hello(f->db, &hello, REAL, 0, "t", &d, NULL, 0), 1);
	for (int i = 0; i < 3 * DEVICE_CLAIMS_PER_SERIAL; i++) {
		snprintf(client, sizeof(client), "claim-%032d", i);
		assert_int_equal(devices_hello(f->db, &hello, client, 0, "t", &d, NULL, 0), 2);
	}
	assert_int_equal(d.conflicts, DEVICE_CLAIMS_PER_SERIAL);
	assert_string_equal(d.claim_client, REAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(code_is_the_documented_one),
		cmocka_unit_test_setup_teardown(second_claimer_is_a_conflict_not_adopted, setup, teardown),
		cmocka_unit_test_setup_teardown(code_of_another_claimer_rebinds, setup, teardown),
		cmocka_unit_test_setup_teardown(claimers_per_serial_are_bounded, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
