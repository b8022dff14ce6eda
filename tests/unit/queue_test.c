/* The queue on a real store: numbers unique and gapless under 50 concurrent connections,
 * restart each day, counter verbs, times per service and counter, the daily statistics
 * item for the LGSP, and the [queue] services syntax. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>

#include "gateway/config.h"
#include "gateway/queue.h"
#include "store/blob.h"
#include "store/db.h"
#include "store/outbox.h"
#include "store/store.h"
#include "tests/unit/testutil.h"

struct fx {
	char dir[PATH_MAX], key[PATH_MAX + 16];
	struct store *s;
	struct db *db;
	struct config cfg;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	tu_tmpdir(f->dir);
	snprintf(f->key, sizeof(f->key), "%s/key", f->dir);
	struct store_options o = { .state_dir = f->dir, .key_file = f->key, .busy_timeout_ms = 20000 };
	assert_int_equal(store_open(&o, &f->s), 0);
	assert_int_equal(store_connect(f->s, &f->db), 0);
	config_defaults(&f->cfg);
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

/* 2025-03-14 09:00 local time, plus minutes. */
static int64_t at(int day_offset, int minutes)
{
	struct tm tm = {
		.tm_year = 125, .tm_mon = 2, .tm_mday = 14 + day_offset, .tm_hour = 9, .tm_isdst = -1
	};
	return (int64_t)mktime(&tm) * 1000 + (int64_t)minutes * 60000;
}

static void take(struct fx *f, const char *svc, int64_t now, struct queue_ticket *t)
{
	char why[256] = "";
	int r = queue_take(f->s, f->db, &f->cfg, svc, "test", now, t, why, sizeof(why));
	if (r != 0)
		fail_msg("take %s: %d %s", svc, r, why);
}

struct worker {
	struct store *s;
	const struct config *cfg;
	int64_t now;
	int numbers[4];
	int n, err;
};

static void *client(void *arg)
{
	struct worker *w = arg;
	struct db *db;
	char why[256];
	if (store_connect(w->s, &db) < 0) {
		w->err = 1;
		return NULL;
	}
	for (int i = 0; i < 4; i++) {
		struct queue_ticket t;
		if (queue_take(w->s, db, w->cfg, "A", "thread", w->now, &t, why, sizeof(why)) < 0) {
			w->err = 1;
			break;
		}
		w->numbers[w->n++] = t.number;
	}
	db_close(db);
	return NULL;
}

static void fifty_clients_at_once_get_unique_gapless_numbers(void **state)
{
	struct fx *f = *state;
	enum { N = 50, PER = 4 };
	struct worker w[N];
	pthread_t th[N];
	int seen[N * PER + 1] = { 0 };
	for (int i = 0; i < N; i++) {
		w[i] = (struct worker){ .s = f->s, .cfg = &f->cfg, .now = at(0, 0) };
		assert_int_equal(pthread_create(&th[i], NULL, client, &w[i]), 0);
	}
	for (int i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < N; i++) {
		assert_int_equal(w[i].err, 0);
		assert_int_equal(w[i].n, PER);
		for (int k = 0; k < PER; k++) {
			int n = w[i].numbers[k];
			assert_true(n >= 1 && n <= N * PER);
			assert_int_equal(seen[n], 0); /* unique */
			seen[n] = 1;
		}
	}
	for (int n = 1; n <= N * PER; n++)
		assert_int_equal(seen[n], 1); /* gapless */
	struct queue_ticket t;
	take(f, "A", at(0, 1), &t);
	assert_int_equal(t.number, N * PER + 1);
	assert_string_equal(t.code, "A201");
	assert_int_equal(t.ahead, N * PER);
}

static void numbers_restart_each_day_per_service(void **state)
{
	struct fx *f = *state;
	struct queue_ticket t;
	take(f, "A", at(0, 0), &t);
	assert_string_equal(t.code, "A001");
	take(f, "a", at(0, 1), &t); /* lower case works too */
	assert_string_equal(t.code, "A002");
	take(f, "B", at(0, 2), &t);
	assert_string_equal(t.code, "B001");
	assert_int_equal(t.ahead, 0);
	take(f, "A", at(1, 0), &t);
	assert_string_equal(t.code, "A001");
	assert_int_equal(t.ahead, 0); /* yesterday's waiting tickets are not ahead */
	char why[256];
	assert_int_equal(queue_take(f->s, f->db, &f->cfg, "Z", "test", at(1, 0), &t, why, sizeof(why)),
			 -ENOENT);
	assert_non_null(strstr(why, "A (Hộ tịch)"));
	f->cfg.tickets_per_day = 1;
	assert_int_equal(queue_take(f->s, f->db, &f->cfg, "A", "test", at(1, 1), &t, why, sizeof(why)),
			 -EOVERFLOW);
	assert_non_null(strstr(why, "tickets_per_day"));
	f->cfg.tickets_per_day = 999;
	take(f, "A", at(1, 2), &t);
	assert_string_equal(t.code, "A002"); /* the refused one used no number */
}

static void counter(struct fx *f, int c, const char *verb, const char *arg, int64_t now, int want,
		    struct queue_ticket *t)
{
	char why[256] = "";
	int r = queue_counter(f->db, &f->cfg, c, verb, arg, now, t, why, sizeof(why));
	if (r != want)
		fail_msg("counter %d %s: %d (wanted %d) %s", c, verb, r, want, why);
}

static void counters_call_their_services_in_order(void **state)
{
	struct fx *f = *state;
	struct queue_ticket t;
	/* A: counters 1,2; B: counter 3; C: counter 4 (the default services). */
	take(f, "B", at(0, 0), &t);
	take(f, "A", at(0, 1), &t);
	take(f, "A", at(0, 2), &t);
	counter(f, 1, "next", NULL, at(0, 10), 0, &t);
	assert_string_equal(t.code, "A001");
	assert_string_equal(t.state, "called");
	assert_int_equal(t.counter, 1);
	counter(f, 1, "again", NULL, at(0, 11), 0, &t);
	assert_int_equal(t.calls, 2);
	counter(f, 1, "serve", NULL, at(0, 12), 0, &t);
	assert_string_equal(t.state, "serving");
	counter(f, 1, "skip", NULL, at(0, 12), -ESTALE, &t); /* being served: cannot be a no-show */
	counter(f, 2, "next", NULL, at(0, 13), 0, &t);
	assert_string_equal(t.code, "A002");
	counter(f, 2, "skip", NULL, at(0, 15), 0, &t);
	assert_string_equal(t.state, "skipped");
	counter(f, 2, "next", NULL, at(0, 16), -ENOENT, &t); /* A is empty; B is not counter 2's */
	counter(f, 3, "next", NULL, at(0, 20), 0, &t);
	assert_string_equal(t.code, "B001");
	/* B001 was in the wrong queue: counter 3 moves it to A, where it keeps its arrival place. */
	counter(f, 3, "move", "A", at(0, 21), 0, &t);
	assert_string_equal(t.state, "waiting");
	assert_int_equal(t.service, 'A');
	assert_int_equal(t.moved_from, 'B');
	counter(f, 3, "again", NULL, at(0, 21), -ENOENT, &t);
	/* Counter 1's next call finishes A001 and takes the moved ticket. */
	counter(f, 1, "next", NULL, at(0, 30), 0, &t);
	assert_string_equal(t.code, "B001");
	/* The no-show comes back late: called out of order. */
	counter(f, 2, "call", "A002", at(0, 31), 0, &t);
	assert_string_equal(t.state, "called");
	counter(f, 2, "done", NULL, at(0, 33), 0, &t);
	assert_string_equal(t.state, "done");
	counter(f, 9, "next", NULL, at(0, 33), -EINVAL, &t);
	counter(f, 1, "dance", NULL, at(0, 33), -EINVAL, &t);

	/* Times: A001 waited 9 min (taken 9:01? no: B001 at 9:00, A001 at 9:01) and was served 18 min. */
	json_t *j = NULL;
	char *body = NULL;
	char day[QUEUE_DAY_LEN];
	queue_day(at(0, 0), day);
	assert_int_equal(queue_report_body(f->db, &f->cfg, day, &body), 0);
	j = json_loads(body, 0, NULL);
	assert_non_null(j);
	json_t *a = json_object_get(json_object_get(json_object_get(j, "counters"), "services"), "A");
	assert_int_equal(json_integer_value(json_object_get(a, "taken")), 3); /* A001, A002, B001 moved in */
	assert_int_equal(json_integer_value(json_object_get(a, "done")), 2); /* A001, A002 */
	assert_int_equal(json_integer_value(json_object_get(a, "in_service")), 1); /* B001 at counter 1 */
	assert_string_equal(json_string_value(json_object_get(a, "name")), "Hộ tịch");
	json_t *d1 = json_object_get(json_object_get(json_object_get(j, "counters"), "desks"), "1");
	/* Counter 1 served A001: called 9:10 (waited 9 min), seated 9:12, done 9:30 (18 min). */
	assert_int_equal(json_integer_value(json_object_get(d1, "done")), 1);
	assert_int_equal(json_integer_value(json_object_get(d1, "avg_service_s")), 18 * 60);
	assert_string_equal(json_string_value(json_object_get(j, "schema")), "motcua.lgsp.v1");
	assert_non_null(strstr(json_string_value(json_object_get(j, "period_start")), "T00:00:00"));
	json_decref(j);
	free(body);
}

static void a_finished_day_is_reported_once_to_the_lgsp(void **state)
{
	struct fx *f = *state;
	struct queue_ticket t;
	struct outbox_item it;
	take(f, "A", at(0, 0), &t);
	counter(f, 1, "next", NULL, at(0, 5), 0, &t);
	counter(f, 1, "done", NULL, at(0, 9), 0, &t);
	assert_int_equal(outbox_claim_next(f->db, &it), -ENOENT); /* today is not over */
	take(f, "A", at(1, 0), &t); /* the first ticket of the next day reports the last one */
	take(f, "A", at(1, 1), &t);
	assert_int_equal(outbox_claim_next(f->db, &it), 0);
	assert_string_equal(it.stream, "queue-stats");
	assert_string_equal(it.kind, "queue-stats");
	assert_int_equal(it.priority, OUTBOX_PRIO_BULK);
	char day[QUEUE_DAY_LEN], key[64];
	queue_day(at(0, 0), day);
	snprintf(key, sizeof(key), "queue-stats:%s", day);
	assert_string_equal(it.idem_key, key);
	/* ref is the SHA-256 of the stored body, which is what the uplink sends byte for byte */
	int64_t size = 0;
	assert_int_equal(blob_verify(store_blobs(f->s), it.ref, &size), 0);
	assert_int_equal(size, it.bytes);
	assert_int_equal(outbox_claim_next(f->db, &it), -ENOENT); /* once */
	int64_t id = 0;
	assert_int_equal(queue_report_day(f->s, f->db, &f->cfg, day, &id), 1);
}

static void services_syntax_is_checked(void **state)
{
	struct queue_services q;
	char why[256];
	assert_int_equal(queue_services_parse(" A : Hộ tịch : 1, 2 ; B:Chứng thực:3 ;", &q, why, sizeof(why)),
			 0);
	assert_int_equal(q.n, 2);
	assert_string_equal(q.s[0].name, "Hộ tịch");
	assert_true(q.s[0].counter[1] && q.s[0].counter[2] && !q.s[0].counter[3]);
	static const struct {
		const char *text, *needle;
	} bad[] = { { "", "no service" },
		    { "A:x:1;A:y:2", "used twice" },
		    { "a:x:1", "capital letter" },
		    { "AB:x:1", "capital letter" },
		    { "A:x:", "no counter" },
		    { "A:x:0", "from 1 to 99" },
		    { "A:x:100", "from 1 to 99" },
		    { "A:x:1,z", "from 1 to 99" },
		    { "A::1", "name" },
		    { "A-x-1", "LETTER:name:counters" } };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		assert_int_equal(queue_services_parse(bad[i].text, &q, why, sizeof(why)), -EINVAL);
		if (!strstr(why, bad[i].needle))
			fail_msg("\"%s\": message \"%s\" lacks \"%s\"", bad[i].text, why, bad[i].needle);
	}
	struct config c;
	char err[CONFIG_ERR_MAX];
	assert_int_equal(config_load_string("[queue]\nservices = A:x:1;Q\n", "t.conf", &c, err), -EINVAL);
	assert_non_null(strstr(err, "[queue] services"));
}

int main(void)
{
	setenv("TZ", "Asia/Ho_Chi_Minh", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(fifty_clients_at_once_get_unique_gapless_numbers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(numbers_restart_each_day_per_service, setup, teardown),
		cmocka_unit_test_setup_teardown(counters_call_their_services_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(a_finished_day_is_reported_once_to_the_lgsp, setup, teardown),
		cmocka_unit_test(services_syntax_is_checked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
