/* devices/usb.c against umockdev's emulated USB (no hardware): a printer present at start is
 * listed; a code reader plugged in later appears and disappears when pulled, with no
 * restart; a print job reaches the printer's bulk endpoint byte for byte (umockdev's ioctl
 * script refuses any URB whose bytes differ); paper out from the printer's DLE EOT answer
 * stops the job; a reader's keyboard reports decode to the code it typed.  (Replaying the
 * reader's interrupt-IN URBs through umockdev's ioctl tree did not match; see the report.)
 * The binary re-executes itself under umockdev-wrapper (LD_PRELOAD) when started bare. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <time.h>
#include <umockdev.h>
#include <unistd.h>

#include "devices/escpos.h"
#include "devices/usb.h"
#include "gateway/config.h"
#include "store/db.h"
#include "store/queue.h"
#include "store/store.h"
#include "tests/unit/testutil.h"

/* A 58 mm receipt printer: class 7 interface, bulk OUT 0x01, bulk IN 0x82. */
#define PRINTER_DESC                                                                                     \
	"12010002000000401604115000010102030109022000010100C0320904000002070102000705010240000007058202" \
	"4000" /* config: 9 + 9 + 7 + 7 = 32 bytes */ "00"
/* A code reader: HID boot keyboard, interrupt IN 0x81. */
#define READER_DESC                                                                  \
	"12010002000000400CE00024000101020301" /* device */                          \
	"09022200010100A032" /* config, 34 bytes */                                  \
	"090400000103010100" /* interface: HID, boot, keyboard */ "0921110100012241" \
	"00"                                                                         \
	"0705810308000A"

static const char *device(const char *port, int devnum, const char *desc, const char *product, char *buf,
			  size_t size)
{
	snprintf(buf, size,
		 "P: /devices/pci0000:00/0000:00:14.0/usb1/%s\n"
		 "N: bus/usb/001/%03d=%s\n"
		 "E: BUSNUM=001\nE: DEVNUM=%03d\nE: DEVNAME=/dev/bus/usb/001/%03d\nE: DEVTYPE=usb_device\n"
		 "E: DRIVER=usb\nE: SUBSYSTEM=usb\n"
		 "A: busnum=1\\n\nA: devnum=%d\\n\nA: speed=12\nA: bConfigurationValue=1\\n\n"
		 "A: bNumConfigurations=1\nA: product=%s\nH: descriptors=%s\n",
		 port, devnum, desc, devnum, devnum, devnum, product, desc);
	return buf;
}

static int wait_for(const char *kind, int present, int ms)
{
	struct usb_dev_info d[USB_MAX_DEVICES];
	for (int t = 0; t < ms; t += 20) {
		int n = usb_list(d, USB_MAX_DEVICES), found = 0;
		for (int i = 0; i < n; i++)
			found |= strcmp(d[i].kind, kind) == 0;
		if (found == present)
			return t;
		usleep(20000);
	}
	return -1;
}

static void hex(FILE *f, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02X", p[i]);
}

/* The ioctl script: DLE EOT 1, 2, 4 answered with status bytes, then the job in 4096-byte
 * bulk URBs, each of which must carry exactly these bytes. */
static void write_script(const char *path, const char *node, const unsigned char *status,
			 const unsigned char *job, size_t len)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "@DEV %s (usbdevfs)\nUSBDEVFS_GET_CAPABILITIES 0 0F000000\n", node);
	static const unsigned char q[3] = { 1, 2, 4 };
	for (int i = 0; i < 3; i++) {
		fprintf(f, "USBDEVFS_REAPURBNDELAY 0 3 1 0 0 3 3 0 1004%02X\n", q[i]);
		fprintf(f, "USBDEVFS_REAPURBNDELAY 0 3 130 0 0 8 1 0 %02X\n", status[i]);
	}
	for (size_t off = 0; off < len; off += 4096) {
		size_t n = len - off < 4096 ? len - off : 4096;
		fprintf(f, "USBDEVFS_REAPURBNDELAY 0 3 1 0 0 %zu %zu 0 ", n, n);
		hex(f, job + off, n);
		fprintf(f, "\n");
	}
	fclose(f);
}

static int wait_port(const char *port, int ms)
{
	struct usb_dev_info d[USB_MAX_DEVICES];
	for (int t = 0; t < ms; t += 20) {
		int n = usb_list(d, USB_MAX_DEVICES);
		for (int i = 0; i < n; i++)
			if (strcmp(d[i].port, port) == 0)
				return t;
		usleep(20000);
	}
	return -1;
}

/* Plugs in a printer at port whose ioctl script answers status and expects job. */
static void add_printer(UMockdevTestbed *tb, const char *dir, const char *port, int devnum,
			const unsigned char status[3], const unsigned char *job, size_t len)
{
	char buf[2048], script[PATH_MAX + 32], node[64];
	GError *err = NULL;
	snprintf(script, sizeof(script), "%s/printer-%d.ioctl", dir, devnum);
	snprintf(node, sizeof(node), "/dev/bus/usb/001/%03d", devnum);
	write_script(script, node, status, job, len);
	assert_true(umockdev_testbed_add_from_string(
	    tb, device(port, devnum, PRINTER_DESC, "POS58", buf, sizeof(buf)), &err));
	assert_true(umockdev_testbed_load_ioctl(tb, node, script, &err));
	assert_true(wait_port(port, 5000) >= 0);
}

static void usb_devices_come_and_go_and_print(void **state)
{
	GError *err = NULL;
	char dir[PATH_MAX], key[PATH_MAX + 16], script[PATH_MAX + 16], buf[2048], why[256];
	UMockdevTestbed *tb = umockdev_testbed_new();
	tu_tmpdir(dir);
	snprintf(key, sizeof(key), "%s/key", dir);
	struct store_options o = { .state_dir = dir, .key_file = key, .busy_timeout_ms = 5000 };
	struct store *s;
	assert_int_equal(store_open(&o, &s), 0);

	assert_true(umockdev_testbed_add_from_string(
	    tb, device("1-3", 5, PRINTER_DESC, "POS58", buf, sizeof(buf)), &err));
	/* The expected bytes: a known tiny job. */
	unsigned char bits[] = { 0xf0, 0x0f, 0xaa, 0x55 };
	struct escpos_image img = { .width = 16, .height = 2, .stride = 2, .bits = bits };
	unsigned char *job;
	size_t len;
	assert_int_equal(escpos_job(&img, 2, 1, &job, &len), 0);
	static const unsigned char ready[3] = { 0x12, 0x12, 0x12 };
	snprintf(script, sizeof(script), "%s/printer.ioctl", dir);
	write_script(script, "/dev/bus/usb/001/005", ready, job, len);
	assert_true(umockdev_testbed_load_ioctl(tb, "/dev/bus/usb/001/005", script, &err));

	struct config cfg;
	config_defaults(&cfg);
	snprintf(cfg.hid_counters, sizeof(cfg.hid_counters), "1-4=2");
	struct usb *u = NULL;
	assert_int_equal(usb_start(s, &cfg, &u), 0);
	assert_non_null(u);

	/* enumeration at start */
	struct usb_dev_info d[USB_MAX_DEVICES];
	assert_int_equal(wait_for("printer", 1, 3000) >= 0, 1);
	int n = usb_list(d, USB_MAX_DEVICES);
	assert_int_equal(n, 1);
	assert_string_equal(d[0].port, "1-3");
	assert_int_equal(d[0].vid, 0x0416);
	assert_int_equal(d[0].pid, 0x5011);
	assert_string_equal(d[0].product, "POS58");

	/* the job arrives byte for byte */
	assert_int_equal(usb_print("1-3", job, len, why, sizeof(why)), 0);
	n = usb_list(d, USB_MAX_DEVICES);
	assert_string_equal(d[0].status, "ready");
	/* a job with other bytes is refused by the emulated printer: the comparison is real */
	add_printer(tb, dir, "1-5", 7, ready, job, len);
	job[len - 5] ^= 1;
	assert_int_equal(usb_print("1-5", job, len, why, sizeof(why)), -EIO);
	job[len - 5] ^= 1;
	/* paper out: DLE EOT 4 answers 0x72; nothing is sent */
	static const unsigned char out[3] = { 0x12, 0x12 | 0x20, 0x72 };
	add_printer(tb, dir, "1-6", 8, out, job, len);
	assert_int_equal(usb_print("1-6", job, len, why, sizeof(why)), -ENOSPC);
	assert_non_null(strstr(why, "paper out"));

	/* hotplug: a code reader plugged in appears, pulled disappears */
	if (!umockdev_testbed_add_from_string(tb, device("1-4", 6, READER_DESC, "Barcode", buf, sizeof(buf)),
					      &err))
		fail_msg("umockdev: %s", err ? err->message : "?");
	int t = wait_for("reader", 1, 5000);
	assert_true(t >= 0);
	n = usb_list(d, USB_MAX_DEVICES);
	for (int i = 0; i < n; i++)
		if (strcmp(d[i].kind, "reader") == 0) {
			assert_string_equal(d[i].port, "1-4");
			assert_int_equal(d[i].counter, 2);
		}
	print_message("reader appeared %d ms after it was plugged in\n", t);
	/* pulled: the kernel says "remove", then the device is gone from /sys and /dev */
	umockdev_testbed_uevent(tb, "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-4", "remove");
	umockdev_testbed_remove_device(tb, "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-4");
	t = wait_for("reader", 0, 5000);
	assert_true(t >= 0);
	print_message("reader disappeared %d ms after it was pulled\n", t);
	assert_int_equal(wait_port("1-3", 10), 0); /* the printers stayed */

	usb_stop(u);
	store_close(s);
	free(job);
	g_object_unref(tb);
	tu_rmrf(dir);
}

static void reader_reports_type_codes(void **state)
{
	/* "A1\n" as a code reader types it: shift+a, release, 1, release, Enter */
	const unsigned char reps[][8] = { { 0x02, 0, 0x04 }, { 0 }, { 0, 0, 0x1e }, { 0 }, { 0, 0, 0x28 } };
	assert_int_equal(usb_hid_char(reps[0]), 'A');
	assert_int_equal(usb_hid_char(reps[1]), 0);
	assert_int_equal(usb_hid_char(reps[2]), '1');
	assert_int_equal(usb_hid_char(reps[4]), '\n');
	const unsigned char pipe[8] = { 0x20, 0, 0x31 }; /* right shift + backslash */
	assert_int_equal(usb_hid_char(pipe), '|');
	assert_int_equal(usb_hid_counter("1-1.2=1; 1-4=2", "1-4"), 2);
	assert_int_equal(usb_hid_counter("1-1.2=1;1-4=2", "1-1"), 0);
	assert_int_equal(usb_hid_counter("", "1-4"), 0);
}

int main(int argc, char **argv)
{
	const char *pre = getenv("LD_PRELOAD");
	if (!pre || !strstr(pre, "umockdev")) {
		if (getenv("MOTCUA_UMOCKDEV_TRIED")) {
			fprintf(stderr, "umockdev's preload library did not load\n");
			return 77;
		}
		setenv("MOTCUA_UMOCKDEV_TRIED", "1", 1);
		execlp("umockdev-wrapper", "umockdev-wrapper", argv[0], (char *)NULL);
		fprintf(stderr, "umockdev-wrapper is not installed (Debian package umockdev)\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reader_reports_type_codes),
		cmocka_unit_test(usb_devices_come_and_go_and_print),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
