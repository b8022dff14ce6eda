# The Debian package: `make deb` builds $(BUILD)/deb/motcua_<version>_<arch>.deb and runs
# lintian on it; `make install-extra` installs what a systemd box needs besides
# `make install` (units, users, directories, man pages, the mosquitto drop-in).

# debootstrap, systemd-container: the package tests install it in a bookworm tree and boot
# that with systemd-nspawn (tests/integration/deb_install.sh, deb_systemd.sh).
DEB_DEPS += debhelper dpkg-dev fakeroot lintian debootstrap mosquitto systemd-container

SYSTEMD_UNITDIR ?= $(or $(shell pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null),/lib/systemd/system)
SYSUSERSDIR     ?= $(or $(shell pkg-config --variable=sysusersdir systemd 2>/dev/null),/usr/lib/sysusers.d)
TMPFILESDIR     ?= $(or $(shell pkg-config --variable=tmpfilesdir systemd 2>/dev/null),/usr/lib/tmpfiles.d)
MULTIARCH       ?= $(or $(shell dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null),$(shell $(CC) -print-multiarch))
MANDIR          ?= $(PREFIX)/share/man
UDEVDIR         ?= $(or $(shell pkg-config --variable=udevdir udev 2>/dev/null),/lib/udev)

install-extra:
	install -d $(DESTDIR)$(SYSTEMD_UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) \
	           $(DESTDIR)$(SYSCONFDIR)/mosquitto/conf.d $(DESTDIR)$(UDEVDIR)/rules.d \
	           $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 packaging/systemd/motcuad.service $(DESTDIR)$(SYSTEMD_UNITDIR)/motcuad.service
	install -m 0644 packaging/systemd/motcua-backup.service $(DESTDIR)$(SYSTEMD_UNITDIR)/motcua-backup.service
	install -m 0644 packaging/systemd/motcua-backup.timer $(DESTDIR)$(SYSTEMD_UNITDIR)/motcua-backup.timer
	install -m 0644 packaging/systemd/motcua.sysusers $(DESTDIR)$(SYSUSERSDIR)/motcua.conf
	install -m 0644 packaging/systemd/motcua.tmpfiles $(DESTDIR)$(TMPFILESDIR)/motcua.conf
	install -m 0644 packaging/udev/70-motcua.rules $(DESTDIR)$(UDEVDIR)/rules.d/70-motcua.rules
	sed 's|@MULTIARCH@|$(MULTIARCH)|g' packaging/mosquitto/motcua.conf.in \
	    >$(DESTDIR)$(SYSCONFDIR)/mosquitto/conf.d/motcua.conf
	chmod 0644 $(DESTDIR)$(SYSCONFDIR)/mosquitto/conf.d/motcua.conf
	install -m 0644 packaging/man/motcuactl.1 $(DESTDIR)$(MANDIR)/man1/motcuactl.1
	install -m 0644 packaging/man/motcua.conf.5 $(DESTDIR)$(MANDIR)/man5/motcua.conf.5
	install -m 0644 packaging/man/motcuad.8 $(DESTDIR)$(MANDIR)/man8/motcuad.8
	install -d $(DESTDIR)$(PREFIX)/libexec/motcua
	install -m 0755 packaging/motcua-first-admin $(DESTDIR)$(PREFIX)/libexec/motcua/motcua-first-admin
# motcuad starts the recognition worker from /usr/libexec/motcua (gateway/recognize/proto.c);
# its fragment has no install rule of its own yet.
ifneq ($(filter $(BUILD)/motcua-recognize,$(BINS)),)
	install -d $(DESTDIR)$(PREFIX)/libexec/motcua
	install -m 0755 $(BUILD)/motcua-recognize $(DESTDIR)$(PREFIX)/libexec/motcua/motcua-recognize
endif

# The package is rebuilt when any file of the source tree changed (tracked or new), tests/
# aside (nothing there goes into the package).
DEB_ARCH   := $(shell dpkg --print-architecture 2>/dev/null)
DEB_OUT    := $(BUILD)/deb
DEB_FILE   := $(DEB_OUT)/motcua_$(VERSION)_$(DEB_ARCH).deb
DEB_INPUTS := $(filter-out tests/%,$(shell git ls-files --cached --others --exclude-standard 2>/dev/null | \
                while read -r f; do [ -f "$$f" ] && printf '%s\n' "$$f"; done))

deb: $(DEB_FILE)

$(DEB_FILE): $(DEB_INPUTS)
	packaging/build-deb.sh $(VERSION) $(DEB_OUT)

# A file deleted since the list was made forces a rebuild instead of stopping make.
$(DEB_INPUTS):

.PHONY: deb install-extra
