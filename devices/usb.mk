# The queue's local devices (issue 8): USB hotplug (libusb), ESC/POS printers (cairo, pango,
# libqrencode), SANE scanners; their tests use umockdev, SANE's test backend and zbarimg.
DEB_DEPS += libusb-1.0-0-dev umockdev libumockdev-dev libsane-dev sane-utils libsane1 \
            libqrencode-dev libcairo2-dev libpango1.0-dev fonts-dejavu-core zbar-tools

# motcuactl's queue/scan/usb commands live in their own file.
$(BUILD)/motcuactl: $(BUILD)/obj/tools/ctl_local.o

# libusb, SANE, Pango/Cairo and libqrencode for devices/usb.c, scanner.c and escpos.c
# (linked into motcuad and, through GATEWAY_OBJ, into the unit tests).
PKGS += libusb-1.0 sane-backends pangocairo libqrencode

# The USB test drives libumockdev's testbed (and re-runs itself under umockdev-wrapper).
$(BUILD)/obj/tests/unit/usb_test.o: CFLAGS += $(shell pkg-config --cflags umockdev-1.0 2>/dev/null)
$(BUILD)/tests/usb_test: LDLIBS += $(shell pkg-config --libs umockdev-1.0 2>/dev/null)
