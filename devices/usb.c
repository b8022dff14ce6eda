/* libusb edge: one thread follows plug and unplug (hotplug events wake a rescan of libusb's
 * device list; a rescan every second covers systems without hotplug), keeps the list of
 * printers, scanners and code readers, prints tickets and reads codes. */
#include "devices/usb.h"

#include <errno.h>
#include <libusb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/escpos.h"
#include "gateway/log.h"
#include "gateway/queue.h"
#include "gateway/queue_hooks.h"
#include "store/db.h"
#include "store/queue.h"
#include "store/store.h"

#define RESCAN_MS 1000
#define CHUNK 4096
#define PRINT_TIMEOUT_MS 5000
#define STATUS_TIMEOUT_MS 300
#define CODE_MAX 512

struct slot {
	struct usb_dev_info info;
	libusb_device *dev; /* referenced while listed */
	int iface, ep_out, ep_in; /* printer: bulk out/in; reader: interrupt in */
	libusb_device_handle *h; /* readers only: kept open */
	char code[CODE_MAX];
	size_t code_len;
	unsigned char last_key;
};

struct usb {
	libusb_context *ctx;
	struct store *store;
	struct db *db; /* the USB thread's own connection */
	struct config cfg;
	pthread_t thread;
	atomic_int stop, changed;
	int hotplug;
	libusb_hotplug_callback_handle cb;
	pthread_mutex_t lock; /* guards slots, n and the use of a printer */
	struct slot slots[USB_MAX_DEVICES];
	int n;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct usb *g_usb;

static void port_of(libusb_device *d, char *out, size_t size)
{
	uint8_t ports[8];
	int n = libusb_get_port_numbers(d, ports, 8);
	size_t k = (size_t)snprintf(out, size, "%d-", libusb_get_bus_number(d));
	for (int i = 0; i < n && k < size; i++)
		k += (size_t)snprintf(out + k, size - k, i ? ".%d" : "%d", ports[i]);
	if (n <= 0)
		snprintf(out, size, "%d-0.%d", libusb_get_bus_number(d), libusb_get_device_address(d));
}

static void product_of(const char *port, char *out, size_t size)
{
	char path[96];
	snprintf(path, sizeof(path), "/sys/bus/usb/devices/%s/product", port);
	FILE *f = fopen(path, "re");
	out[0] = '\0';
	if (!f)
		return;
	if (fgets(out, (int)size, f))
		out[strcspn(out, "\r\n")] = '\0';
	fclose(f);
}

/* Takes the interface from the kernel driver bound to it (usblp, usbhid), if any.  Not
 * libusb's auto-detach: asking first leaves interfaces without a driver alone. */
static int claim(libusb_device_handle *h, int iface, int *ret_detached)
{
	*ret_detached = 0;
	if (libusb_kernel_driver_active(h, iface) == 1) {
		if (libusb_detach_kernel_driver(h, iface) != 0)
			return -EBUSY;
		*ret_detached = 1;
	}
	return libusb_claim_interface(h, iface) == 0 ? 0 : -EBUSY;
}

static void unclaim(libusb_device_handle *h, int iface, int detached)
{
	libusb_release_interface(h, iface);
	if (detached)
		libusb_attach_kernel_driver(h, iface); /* give a printer back to usblp/CUPS */
}

/* Fills s from the device's descriptors; 0 when it is one of ours, -ENODEV otherwise. */
static int classify(struct usb *u, libusb_device *d, struct slot *s)
{
	struct libusb_device_descriptor dd;
	struct libusb_config_descriptor *cd = NULL;
	int r = -ENODEV;
	if (libusb_get_device_descriptor(d, &dd) != 0)
		return -ENODEV;
	if (libusb_get_active_config_descriptor(d, &cd) != 0 && libusb_get_config_descriptor(d, 0, &cd) != 0)
		return -ENODEV;
	memset(s, 0, sizeof(*s));
	s->ep_out = s->ep_in = -1;
	for (int i = 0; i < cd->bNumInterfaces && r < 0; i++) {
		if (cd->interface[i].num_altsetting < 1)
			continue;
		const struct libusb_interface_descriptor *id = &cd->interface[i].altsetting[0];
		const char *kind = NULL;
		if (id->bInterfaceClass == LIBUSB_CLASS_PRINTER)
			kind = "printer";
		else if (id->bInterfaceClass == LIBUSB_CLASS_IMAGE)
			kind = "scanner";
		else if (id->bInterfaceClass == LIBUSB_CLASS_HID && id->bInterfaceSubClass == 1 &&
			 id->bInterfaceProtocol == 1)
			kind = "reader"; /* boot keyboard: how code readers present themselves */
		if (!kind)
			continue;
		snprintf(s->info.kind, sizeof(s->info.kind), "%s", kind);
		s->iface = id->bInterfaceNumber;
		for (int e = 0; e < id->bNumEndpoints; e++) {
			const struct libusb_endpoint_descriptor *ep = &id->endpoint[e];
			int type = ep->bmAttributes & 3, in = ep->bEndpointAddress & 0x80;
			if (type == LIBUSB_TRANSFER_TYPE_BULK && !in && s->ep_out < 0)
				s->ep_out = ep->bEndpointAddress;
			else if ((type == LIBUSB_TRANSFER_TYPE_BULK ||
				  type == LIBUSB_TRANSFER_TYPE_INTERRUPT) &&
				 in && s->ep_in < 0)
				s->ep_in = ep->bEndpointAddress;
		}
		r = 0;
	}
	libusb_free_config_descriptor(cd);
	if (r < 0)
		return r;
	s->info.vid = dd.idVendor;
	s->info.pid = dd.idProduct;
	port_of(d, s->info.port, sizeof(s->info.port));
	product_of(s->info.port, s->info.product, sizeof(s->info.product));
	if (strcmp(s->info.kind, "reader") == 0)
		s->info.counter = usb_hid_counter(u->cfg.hid_counters, s->info.port);
	return 0;
}

static void open_reader(struct slot *s)
{
	if (s->info.counter == 0 || s->ep_in < 0)
		return; /* a keyboard that is not a configured reader stays the system's */
	if (libusb_open(s->dev, &s->h) != 0) {
		log_warn("usb: cannot open the code reader at %s (counter %d)", s->info.port,
			 s->info.counter);
		s->h = NULL;
		return;
	}
	int detached;
	if (claim(s->h, s->iface, &detached) < 0) {
		log_warn("usb: cannot claim the code reader at %s", s->info.port);
		libusb_close(s->h);
		s->h = NULL;
	}
}

static void drop(struct slot *s)
{
	if (s->h) {
		libusb_release_interface(s->h, s->iface);
		libusb_close(s->h);
	}
	libusb_unref_device(s->dev);
}

/* Brings the list in line with libusb's device list: new devices in, gone devices out. */
static void rescan(struct usb *u)
{
	libusb_device **list;
	ssize_t n = libusb_get_device_list(u->ctx, &list);
	if (n < 0)
		return;
	pthread_mutex_lock(&u->lock);
	for (int i = 0; i < u->n;) {
		int present = 0;
		for (ssize_t k = 0; k < n && !present; k++)
			present = list[k] == u->slots[i].dev;
		if (present) {
			i++;
			continue;
		}
		log_info("usb: %s %04x:%04x at %s unplugged", u->slots[i].info.kind, u->slots[i].info.vid,
			 u->slots[i].info.pid, u->slots[i].info.port);
		drop(&u->slots[i]);
		u->slots[i] = u->slots[--u->n];
	}
	for (ssize_t k = 0; k < n; k++) {
		int known = 0;
		for (int i = 0; i < u->n && !known; i++)
			known = u->slots[i].dev == list[k];
		struct slot s;
		if (known || u->n >= USB_MAX_DEVICES || classify(u, list[k], &s) < 0)
			continue;
		s.dev = libusb_ref_device(list[k]);
		if (strcmp(s.info.kind, "reader") == 0)
			open_reader(&s);
		u->slots[u->n++] = s;
		log_info("usb: %s %04x:%04x %s plugged in at %s%s", s.info.kind, s.info.vid, s.info.pid,
			 s.info.product, s.info.port, s.h ? " (reading codes)" : "");
	}
	pthread_mutex_unlock(&u->lock);
	libusb_free_device_list(list, 1);
}

static int hotplug_cb(libusb_context *ctx, libusb_device *d, libusb_hotplug_event ev, void *arg)
{
	struct usb *u = arg;
	atomic_store(&u->changed, 1); /* the thread rescans: no I/O inside the callback */
	return 0;
}

int usb_hid_char(const unsigned char rep[8])
{
	static const char lower[] = "abcdefghijklmnopqrstuvwxyz1234567890\n\0\0\t -=[]\\\0;'`,./";
	static const char upper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ!@#$%^&*()\n\0\0\t _+{}|\0:\"~<>?";
	int key = rep[2], shift = (rep[0] & 0x22) != 0;
	if (key < 4 || key > 0x38)
		return 0;
	return (unsigned char)(shift ? upper : lower)[key - 4];
}

int usb_hid_counter(const char *map, const char *port)
{
	size_t plen = strlen(port);
	const char *p = map;
	while (p && *p) {
		while (*p == ' ' || *p == ';')
			p++;
		if (strncmp(p, port, plen) == 0 && p[plen] == '=') {
			long v = strtol(p + plen + 1, NULL, 10);
			return v >= 1 && v <= 99 ? (int)v : 0;
		}
		p = strchr(p, ';');
	}
	return 0;
}

/* A whole code from a reader: a queue event of its counter that the staff page polls.  The
 * text may be a citizen's ID card QR (personal data), so it is never logged. */
static void code_read(struct usb *u, struct slot *s)
{
	if (s->code_len == 0)
		return;
	s->code[s->code_len] = '\0';
	int64_t now = queue_now_ms();
	if (!u->db || qstore_event(u->db, now, s->info.counter, "scan", 0, "", s->code) < 0)
		log_warn("usb: a code from the reader at %s could not be stored", s->info.port);
	else
		log_info("usb: code of %zu characters read at counter %d", s->code_len, s->info.counter);
	s->code_len = 0;
}

static void read_codes(struct usb *u)
{
	pthread_mutex_lock(&u->lock);
	for (int i = 0; i < u->n; i++) {
		struct slot *s = &u->slots[i];
		unsigned char rep[8];
		int got = 0;
		if (!s->h)
			continue;
		while (libusb_interrupt_transfer(s->h, (unsigned char)s->ep_in, rep, sizeof(rep), &got, 5) ==
			   0 &&
		       got == 8) {
			int c = usb_hid_char(rep);
			if (rep[2] == s->last_key)
				continue; /* still held: a key counts once */
			s->last_key = rep[2];
			if (c == '\n')
				code_read(u, s);
			else if (c && s->code_len < CODE_MAX - 1)
				s->code[s->code_len++] = (char)c;
		}
	}
	pthread_mutex_unlock(&u->lock);
}

static void *thread_main(void *arg)
{
	struct usb *u = arg;
	int64_t last = 0;
	while (!atomic_load(&u->stop)) {
		struct timeval tv = { 0, 100000 };
		libusb_handle_events_timeout_completed(u->ctx, &tv, NULL);
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		if (atomic_exchange(&u->changed, 0) || now - last >= RESCAN_MS) {
			rescan(u);
			last = now;
		}
		read_codes(u);
	}
	return NULL;
}

static int print_on(struct slot *s, const unsigned char *job, size_t len, char *why, size_t whylen)
{
	libusb_device_handle *h = NULL;
	struct escpos_status st = { 0 };
	int r = 0, done, detached = 0;
	if (s->ep_out < 0) {
		snprintf(why, whylen, "the printer at %s has no bulk OUT endpoint", s->info.port);
		return -EIO;
	}
	if (libusb_open(s->dev, &h) != 0) {
		snprintf(why, whylen, "cannot open the printer at %s (permissions?)", s->info.port);
		return -EIO;
	}
	if (claim(h, s->iface, &detached) < 0) {
		snprintf(why, whylen, "the printer at %s is busy", s->info.port);
		libusb_close(h);
		return -EBUSY;
	}
	if (s->ep_in >= 0) {
		static const enum escpos_status_query qs[] = { ESCPOS_Q_PRINTER, ESCPOS_Q_OFFLINE,
							       ESCPOS_Q_PAPER };
		for (size_t i = 0; i < 3; i++) {
			unsigned char q[3], a[8];
			int got = 0;
			escpos_status_query(qs[i], q);
			if (libusb_bulk_transfer(h, (unsigned char)s->ep_out, q, 3, &done,
						 STATUS_TIMEOUT_MS) != 0)
				break;
			if (libusb_bulk_transfer(h, (unsigned char)s->ep_in, a, sizeof(a), &got,
						 STATUS_TIMEOUT_MS) != 0 ||
			    got < 1)
				break; /* printers without status answers print anyway */
			escpos_status_parse(qs[i], a[got - 1], &st);
		}
		snprintf(s->info.status, sizeof(s->info.status), "%s", escpos_status_text(&st));
	}
	if (st.paper_out || st.cover_open || st.offline) {
		snprintf(why, whylen, "the printer at %s reports %s", s->info.port, escpos_status_text(&st));
		r = st.paper_out ? -ENOSPC : -EIO;
		goto out;
	}
	for (size_t off = 0; off < len;) {
		size_t n = len - off < CHUNK ? len - off : CHUNK;
		if (libusb_bulk_transfer(h, (unsigned char)s->ep_out, (unsigned char *)job + off, (int)n,
					 &done, PRINT_TIMEOUT_MS) != 0 ||
		    done <= 0) {
			snprintf(why, whylen, "the printer at %s stopped taking data after %zu of %zu bytes",
				 s->info.port, off, len);
			r = -EIO;
			goto out;
		}
		off += (size_t)done;
	}
out:
	unclaim(h, s->iface, detached);
	libusb_close(h);
	return r;
}

int usb_print(const char *port, const unsigned char *job, size_t len, char *why, size_t whylen)
{
	int r = -ENODEV;
	pthread_mutex_lock(&g_lock);
	struct usb *u = g_usb;
	snprintf(why, whylen, "no USB printer is plugged in");
	if (u) {
		pthread_mutex_lock(&u->lock);
		for (int i = 0; i < u->n; i++) {
			struct slot *s = &u->slots[i];
			if (strcmp(s->info.kind, "printer") != 0 ||
			    (port && port[0] && strcmp(port, s->info.port) != 0))
				continue;
			r = print_on(s, job, len, why, whylen);
			break;
		}
		pthread_mutex_unlock(&u->lock);
	}
	pthread_mutex_unlock(&g_lock);
	return r;
}

int usb_list(struct usb_dev_info *out, int max)
{
	int n = 0;
	pthread_mutex_lock(&g_lock);
	if (g_usb) {
		pthread_mutex_lock(&g_usb->lock);
		for (int i = 0; i < g_usb->n && n < max; i++)
			out[n++] = g_usb->slots[i].info;
		pthread_mutex_unlock(&g_usb->lock);
	}
	pthread_mutex_unlock(&g_lock);
	return n;
}

/* The queue's ticket printer (gateway/queue_hooks.h). */
static int print_ticket(void *ctx, const struct config *cfg, const struct queue_ticket *t, char *why,
			size_t whylen)
{
	struct queue_services q;
	char qr[CONFIG_PATH_MAX + 40], when[32], qwhy[160];
	const struct queue_service *sv = NULL;
	unsigned char *job = NULL;
	size_t len = 0;
	struct usb_dev_info devs[USB_MAX_DEVICES];
	int n = usb_list(devs, USB_MAX_DEVICES), have = 0;
	for (int i = 0; i < n; i++)
		have |= strcmp(devs[i].kind, "printer") == 0;
	if (!have) {
		snprintf(why, whylen, "no USB printer is plugged in");
		return -ENODEV;
	}
	if (queue_services_parse(cfg->services, &q, qwhy, sizeof(qwhy)) == 0)
		sv = queue_service_find(&q, t->service);
	queue_ticket_qr(cfg, t, qr, sizeof(qr));
	time_t tt = (time_t)(t->taken_ms / 1000);
	struct tm tm;
	localtime_r(&tt, &tm);
	strftime(when, sizeof(when), "%H:%M %d/%m/%Y", &tm);
	const struct escpos_ticket et = {
		.commune = cfg->commune_name,
		.code = t->code,
		.service = sv ? sv->name : "",
		.ahead = t->ahead,
		.when = when,
		.qr = qr,
	};
	int r = escpos_ticket_job(&et, ESCPOS_WIDTH_58MM, &job, &len);
	if (r < 0) {
		snprintf(why, whylen, "cannot lay the ticket out: %s", strerror(-r));
		return r;
	}
	r = usb_print(NULL, job, len, why, whylen);
	free(job);
	return r;
}

/* The dossier receipt printer (gateway/queue_hooks.h): same USB printer as the tickets. */
static int print_receipt(void *ctx, const struct config *cfg, const struct queue_receipt *rc, char *why,
			 size_t whylen)
{
	struct usb_dev_info devs[USB_MAX_DEVICES];
	unsigned char *job = NULL;
	size_t len = 0;
	int n = usb_list(devs, USB_MAX_DEVICES), have = 0;
	for (int i = 0; i < n; i++)
		have |= strcmp(devs[i].kind, "printer") == 0;
	if (!have) {
		snprintf(why, whylen, "no USB printer is plugged in");
		return -ENODEV;
	}
	const struct escpos_receipt er = {
		.commune = cfg->commune_name,
		.title = rc->title,
		.lines = rc->lines,
		.nlines = rc->nlines,
		.qr = rc->qr,
		.footer = "",
	};
	int r = escpos_receipt_job(&er, ESCPOS_WIDTH_58MM, &job, &len);
	if (r < 0) {
		snprintf(why, whylen, "cannot lay the receipt out: %s", strerror(-r));
		return r;
	}
	r = usb_print(NULL, job, len, why, whylen);
	free(job);
	return r;
}

int usb_start(struct store *s, const struct config *cfg, struct usb **ret)
{
	struct usb *u;
	int r;
	*ret = NULL;
	if (strcmp(cfg->usb_hotplug, "yes") != 0)
		return 0;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->store = s;
	u->cfg = *cfg;
	pthread_mutex_init(&u->lock, NULL);
	if (libusb_init(&u->ctx) != 0) {
		log_warn("usb: libusb cannot start (no USB on this machine?); local USB devices are off");
		free(u);
		return 0;
	}
	if (s && store_connect(s, &u->db) < 0)
		u->db = NULL;
	u->hotplug = libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG);
	if (u->hotplug &&
	    libusb_hotplug_register_callback(
		u->ctx, LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED | LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT, 0,
		LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY, hotplug_cb, u,
		&u->cb) != LIBUSB_SUCCESS)
		u->hotplug = 0;
	rescan(u);
	r = pthread_create(&u->thread, NULL, thread_main, u);
	if (r != 0) {
		usb_stop(u);
		return -r;
	}
	pthread_mutex_lock(&g_lock);
	g_usb = u;
	pthread_mutex_unlock(&g_lock);
	queue_hooks_set_printer(print_ticket, u);
	queue_hooks_set_receipt_printer(print_receipt, u);
	log_info("usb: following USB devices (%s), %d present", u->hotplug ? "hotplug" : "rescan each second",
		 u->n);
	*ret = u;
	return 0;
}

void usb_stop(struct usb *u)
{
	if (!u)
		return;
	queue_hooks_set_printer(NULL, NULL);
	queue_hooks_set_receipt_printer(NULL, NULL);
	pthread_mutex_lock(&g_lock);
	if (g_usb == u)
		g_usb = NULL;
	pthread_mutex_unlock(&g_lock);
	atomic_store(&u->stop, 1);
	if (u->thread) {
		if (u->hotplug)
			libusb_hotplug_deregister_callback(u->ctx, u->cb); /* also wakes the event wait */
		pthread_join(u->thread, NULL);
	}
	for (int i = 0; i < u->n; i++)
		drop(&u->slots[i]);
	db_close(u->db);
	libusb_exit(u->ctx);
	pthread_mutex_destroy(&u->lock);
	free(u);
}
