/* The background store check: throttled, so the counters never notice it. */
#include "gateway/storecheck.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/config.h"
#include "gateway/log.h"
#include "store/check.h"
#include "store/db.h"
#include "store/store.h"

struct storecheck {
	struct store *s;
	int64_t interval_s, delay_s, bytes_per_s;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop; /* read by the check between blobs */
};

/* Waits up to s seconds or until stopped; 1 when stopped. */
static int wait_or_stop(struct storecheck *c, int64_t s)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)s;
	pthread_mutex_lock(&c->mu);
	while (!c->stop && pthread_cond_timedwait(&c->cv, &c->mu, &until) != ETIMEDOUT)
		;
	int stop = c->stop;
	pthread_mutex_unlock(&c->mu);
	return stop;
}

static void *run(void *arg)
{
	struct storecheck *c = arg;
	int64_t wait = c->delay_s;
	while (!wait_or_stop(c, wait)) {
		struct store_check_result res;
		struct db *db = NULL;
		int r = store_connect(c->s, &db);
		if (r == 0)
			r = store_check_run(c->s, db, c->bytes_per_s, &c->stop, NULL, NULL, &res);
		db_close(db);
		if (r < 0)
			log_warn("store check: could not run: %s; trying again in an hour", strerror(-r));
		else if (res.complete)
			log_info("store check: %lld blobs (%lld bytes) and %lld manifests read back: %lld "
				 "damaged, %lld missing, %lld manifest problems",
				 (long long)res.blobs, (long long)res.bytes, (long long)res.manifests,
				 (long long)res.damaged, (long long)res.missing,
				 (long long)res.manifest_problems);
		wait = r < 0 ? 3600 : c->interval_s;
	}
	return NULL;
}

int storecheck_start(struct store *s, const struct config *cfg, struct storecheck **ret)
{
	pthread_condattr_t ca;
	struct storecheck *c;
	*ret = NULL;
	if (cfg->check_interval_h <= 0)
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->s = s;
	c->interval_s = cfg->check_interval_h * 3600;
	c->delay_s = cfg->check_delay_s;
	c->bytes_per_s = cfg->check_mb_per_s * 1024 * 1024;
	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
	int r = pthread_create(&c->thread, NULL, run, c);
	if (r != 0) {
		pthread_cond_destroy(&c->cv);
		pthread_mutex_destroy(&c->mu);
		free(c);
		return -r;
	}
	*ret = c;
	return 0;
}

void storecheck_stop(struct storecheck *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	__atomic_store_n(&c->stop, 1, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
