/* The registered edge functions, behind a read-write lock so that an edge can leave while
 * another thread is calling it. */
#include "gateway/queue_hooks.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static queue_print_fn print_fn;
static void *print_ctx;
static queue_receipt_fn receipt_fn;
static void *receipt_ctx;
static queue_announce_fn announce_fn;
static void *announce_ctx;

void queue_hooks_set_printer(queue_print_fn fn, void *ctx)
{
	pthread_rwlock_wrlock(&lock);
	print_fn = fn;
	print_ctx = ctx;
	pthread_rwlock_unlock(&lock);
}

void queue_hooks_set_receipt_printer(queue_receipt_fn fn, void *ctx)
{
	pthread_rwlock_wrlock(&lock);
	receipt_fn = fn;
	receipt_ctx = ctx;
	pthread_rwlock_unlock(&lock);
}

int queue_hooks_print_receipt(const struct config *cfg, const struct queue_receipt *r, char *why,
			      size_t whylen)
{
	int rc = -ENODEV;
	pthread_rwlock_rdlock(&lock);
	if (receipt_fn)
		rc = receipt_fn(receipt_ctx, cfg, r, why, whylen);
	else
		snprintf(why, whylen, "no receipt printer");
	pthread_rwlock_unlock(&lock);
	return rc;
}

void queue_hooks_set_announcer(queue_announce_fn fn, void *ctx)
{
	pthread_rwlock_wrlock(&lock);
	announce_fn = fn;
	announce_ctx = ctx;
	pthread_rwlock_unlock(&lock);
}

int queue_hooks_print_ticket(const struct config *cfg, const struct queue_ticket *t, char *why, size_t whylen)
{
	int r = -ENODEV;
	pthread_rwlock_rdlock(&lock);
	if (print_fn)
		r = print_fn(print_ctx, cfg, t, why, whylen);
	else
		snprintf(why, whylen, "no ticket printer");
	pthread_rwlock_unlock(&lock);
	return r;
}

void queue_hooks_announce(const struct config *cfg, int counter, const char *verb,
			  const struct queue_ticket *t)
{
	pthread_rwlock_rdlock(&lock);
	if (announce_fn)
		announce_fn(announce_ctx, cfg, counter, verb, t);
	pthread_rwlock_unlock(&lock);
}
