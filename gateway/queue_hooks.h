/* How the core reaches the edges that show the queue without knowing them: an edge that can
 * print a ticket (devices/usb.c: a USB ESC/POS printer) or announce a call (the MQTT device
 * edge: queue displays) registers a function at start and clears it at stop. */
#ifndef MOTCUA_QUEUE_HOOKS_H
#define MOTCUA_QUEUE_HOOKS_H

#include <stddef.h>

#include "gateway/config.h"
#include "store/queue.h"

/* Prints t; returns 0, -ENODEV when no printer is there, or -errno with why (e.g. paper out). */
typedef int (*queue_print_fn)(void *ctx, const struct config *cfg, const struct queue_ticket *t, char *why,
			      size_t whylen);
/* Tells displays what counter did (verb: next, again, call, skip, move, serve, done) with
 * ticket t (after a move t->counter is 0, hence counter).  Called on the thread that acted:
 * it must hand over, never block. */
typedef void (*queue_announce_fn)(void *ctx, const struct config *cfg, int counter, const char *verb,
				  const struct queue_ticket *t);

/* A receipt to print (a dossier's "giấy tiếp nhận"): title, lines of text, a QR text. */
#define QUEUE_RECEIPT_LINES 8
#define QUEUE_RECEIPT_TEXT 512 /* bytes per line, UTF-8 */
struct queue_receipt {
	const char *title;
	const char *lines[QUEUE_RECEIPT_LINES];
	int nlines;
	const char *qr;
};
/* Prints r; returns 0, -ENODEV when no printer is there, or -errno with why. */
typedef int (*queue_receipt_fn)(void *ctx, const struct config *cfg, const struct queue_receipt *r, char *why,
				size_t whylen);

/* Registers (fn, ctx) or clears (NULL).  Clearing waits for calls in progress to return. */
void queue_hooks_set_printer(queue_print_fn fn, void *ctx);
void queue_hooks_set_receipt_printer(queue_receipt_fn fn, void *ctx);
void queue_hooks_set_announcer(queue_announce_fn fn, void *ctx);

/* Calls the registered printer; -ENODEV when none is registered. */
int queue_hooks_print_ticket(const struct config *cfg, const struct queue_ticket *t, char *why,
			     size_t whylen);
/* Calls the registered receipt printer; -ENODEV when none is registered. */
int queue_hooks_print_receipt(const struct config *cfg, const struct queue_receipt *r, char *why,
			      size_t whylen);
/* Calls the registered announcer, if any. */
void queue_hooks_announce(const struct config *cfg, int counter, const char *verb,
			  const struct queue_ticket *t);

#endif
