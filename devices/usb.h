/* The box's own USB devices (libusb): ticket printers (interface class 7), scanners (class 6,
 * handed to SANE) and HID code readers (boot keyboards).  One thread follows hotplug, so a
 * device appears when plugged in and disappears when pulled, without a restart; the list is
 * a snapshot anyone may read.  No libusb type crosses this header. */
#ifndef MOTCUA_USB_H
#define MOTCUA_USB_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/config.h"

struct usb;
struct store;

#define USB_MAX_DEVICES 32

struct usb_dev_info {
	char port[24]; /* "1-1.2": bus and port path, stable while it stays in that socket */
	char kind[12]; /* printer, scanner, reader */
	int vid, pid;
	char product[64];
	char status[24]; /* printer: ready, paper out, ...; "" when not asked */
	int counter; /* reader: the counter from [usb] hid_counters, 0 none */
};

/* Starts the USB thread (when [usb] usb_hotplug = yes; otherwise *ret = NULL and 0).  With
 * libusb hotplug support devices are followed by events; without it, by a scan each second.
 * The thread registers the queue's ticket printer (gateway/queue_hooks.h) and stores codes
 * from readers as queue events of their counter (store/queue.h, kind "scan"). */
int usb_start(struct store *s, const struct config *cfg, struct usb **ret);
/* Stops the thread and releases every device.  Accepts NULL. */
void usb_stop(struct usb *u);

/* Copies up to max devices present now into out; returns how many (0 when not started). */
int usb_list(struct usb_dev_info *out, int max);

/* Sends a job to a printer (port NULL or "": the first one) by bulk transfer, after asking
 * its status (DLE EOT) when it answers.  -ENODEV no printer, -ENOSPC paper out, -EIO other
 * failures; why says which. */
int usb_print(const char *port, const unsigned char *job, size_t len, char *why, size_t whylen);

/* Maps a boot-keyboard report (8 bytes: modifiers, reserved, 6 keys) to the character it
 * types (US layout, as code readers send), '\n' for Enter, 0 for none.  Pure; for tests. */
int usb_hid_char(const unsigned char report[8]);

/* The counter a reader at port sits at, from "PORT=COUNTER;..." (0 when not listed). */
int usb_hid_counter(const char *map, const char *port);

#endif
