# The chip reader (issue 18): motcua-chip, the sandboxed worker that talks to pcscd and reads
# an ICAO 9303 ID card (BAC, LDS1 files, passive authentication); its parsers of card bytes
# (TLV, SOD/CMS, DG13; linked by the unit tests and fuzzers) and the test emulator's needs
# (pcscd, Debian's vpcd reader driver, python3-cryptography/asn1crypto for tests/chip/).
DEB_DEPS += pcscd libpcsclite-dev vsmartcard-vpcd libopenjp2-7-dev libjpeg62-turbo-dev libseccomp-dev \
            python3-cryptography python3-asn1crypto imagemagick

CHIP_PKGS := libpcsclite libopenjp2 libjpeg libseccomp
CHIP_PARSE_SRC := gateway/chip/tlv.c gateway/chip/sm.c gateway/chip/lds.c gateway/chip/pa.c
CHIP_PARSE_OBJ := $(CHIP_PARSE_SRC:%.c=$(BUILD)/obj/%.o)
CHIP_WORKER_SRC := gateway/chip/worker.c gateway/chip/card.c gateway/chip/face.c \
                   gateway/sandbox.c gateway/chip/proto.c
CHIP_WORKER_OBJ := $(CHIP_WORKER_SRC:%.c=$(BUILD)/obj/%.o)
$(BUILD)/obj/gateway/chip/worker.o $(BUILD)/obj/gateway/chip/card.o $(BUILD)/obj/gateway/chip/face.o: CFLAGS_ALL += $(shell pkg-config --cflags $(CHIP_PKGS) 2>/dev/null)

# The worker is the only program that links libpcsclite, OpenJPEG and libjpeg.
BINS += $(BUILD)/motcua-chip
$(BUILD)/motcua-chip: $(CHIP_WORKER_OBJ) $(CHIP_PARSE_OBJ) $(BUILD)/obj/gateway/log.o \
		$(BUILD)/obj/gateway/recognize/proto.o $(BUILD)/obj/gateway/spawn.o
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL) $(shell pkg-config --libs $(CHIP_PKGS))

# Unit tests of the card-byte code (BAC and SM against ICAO 9303-11's worked example, TLV,
# DG13) link the parsers.
CHIP_UNIT := chip
$(CHIP_UNIT:%=$(BUILD)/tests/%_test): $(BUILD)/tests/%_test: $(BUILD)/obj/tests/unit/%_test.o \
		$(CHIP_PARSE_OBJ) $(GATEWAY_OBJ) $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL) $(shell pkg-config --libs cmocka)

# Fuzzers of the parsers of card bytes.
CHIP_FUZZ := chip_tlv chip_sod chip_dg13
$(CHIP_FUZZ:%=$(BUILD)/fuzz/fuzz_%): $(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(CHIP_PARSE_SRC) $(COMMON_SRC)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	@$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^ $(LDLIBS_ALL)

install-chip: $(BUILD)/motcua-chip
	install -d $(DESTDIR)$(PREFIX)/libexec/motcua $(DESTDIR)$(SYSCONFDIR)/motcua
	install -m 0755 $(BUILD)/motcua-chip $(DESTDIR)$(PREFIX)/libexec/motcua/motcua-chip
	install -m 0644 packaging/csca.pem $(DESTDIR)$(SYSCONFDIR)/motcua/csca.pem
install: install-chip
.PHONY: install-chip

# motcuactl chip read|show (a client of motcuad's chip.read; no card code).
$(BUILD)/motcuactl: $(BUILD)/obj/tools/ctl_chip.o
