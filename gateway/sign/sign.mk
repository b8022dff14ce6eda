# Certified copies (gateway/sign): motcua-signer (the key holder, its own binary), the QR
# seal codec, PDF rendering (cairo + pango + libqrencode), PAdES signing and verification.
# Included by the top Makefile.  The rules of the top Makefile that link motcuad, motcuactl
# and the unit tests get extra prerequisites here (a rule without a recipe adds to $^).
DEB_DEPS += libcairo2-dev libpango1.0-dev libqrencode-dev libseccomp-dev libp11-dev softhsm2 opensc \
            poppler-utils qpdf zbar-tools fonts-dejavu-core

SIGN_RENDER_PKGS := cairo pangocairo libqrencode
SIGNER_PKGS      := libp11 libseccomp

# Seal codec and verification: OpenSSL only; motcuactl verifies offline with them.
SIGN_VERIFY_SRC := gateway/sign/seal.c gateway/sign/pades.c gateway/sign/verify.c
# What motcuad adds: talking to the signer, rendering, PAdES, the copy service and book.
SIGN_DAEMON_SRC := gateway/sign/signclient.c gateway/sign/render.c gateway/sign/copy.c \
                   gateway/sign/copy_cmds.c store/copies.c
SIGN_KEYS_SRC   := tools/ctl_sign.c

SIGN_VERIFY_OBJ := $(SIGN_VERIFY_SRC:%.c=$(BUILD)/obj/%.o)
SIGN_DAEMON_OBJ := $(SIGN_DAEMON_SRC:%.c=$(BUILD)/obj/%.o)
SIGN_KEYS_OBJ   := $(SIGN_KEYS_SRC:%.c=$(BUILD)/obj/%.o)

$(BUILD)/obj/gateway/sign/render.o: CFLAGS += $(shell pkg-config --cflags $(SIGN_RENDER_PKGS) 2>/dev/null)
$(BUILD)/obj/gateway/sign/signer.o: CFLAGS += $(shell pkg-config --cflags $(SIGNER_PKGS) 2>/dev/null)

SIGN_RENDER_LIBS = $(shell pkg-config --libs $(SIGN_RENDER_PKGS) 2>/dev/null)

$(BUILD)/motcuad: $(SIGN_DAEMON_OBJ) $(SIGN_VERIFY_OBJ)
$(BUILD)/motcuad: LDLIBS += $(SIGN_RENDER_LIBS)
$(BUILD)/motcuactl: $(SIGN_VERIFY_OBJ) $(SIGN_KEYS_OBJ)
$(UNIT_TESTS): $(SIGN_DAEMON_OBJ) $(SIGN_VERIFY_OBJ)
$(UNIT_TESTS): LDLIBS += $(SIGN_RENDER_LIBS)

BINS += $(BUILD)/motcua-signer
$(BUILD)/motcua-signer: $(BUILD)/obj/gateway/sign/signer.o $(BUILD)/obj/gateway/sign/signreq.o
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(shell pkg-config --libs libcrypto $(SIGNER_PKGS) 2>/dev/null)

# The seal decoder's fuzz target links the codec alone.
FUZZERS += $(BUILD)/fuzz/fuzz_seal
$(BUILD)/fuzz/fuzz_seal: tests/fuzz/fuzz_seal.c gateway/sign/seal.c
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	@$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^ $(shell pkg-config --libs libcrypto)

# The /verify page's PDF checks: anyone's upload reaches them.
FUZZERS += $(BUILD)/fuzz/fuzz_verify_pdf
$(BUILD)/fuzz/fuzz_verify_pdf: tests/fuzz/fuzz_verify_pdf.c gateway/sign/verify.c gateway/sign/pades.c gateway/sign/seal.c
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	@$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^ $(shell pkg-config --libs libcrypto)

install-signer: $(BUILD)/motcua-signer
	install -d $(DESTDIR)$(PREFIX)/libexec/motcua
	install -m 0755 $(BUILD)/motcua-signer $(DESTDIR)$(PREFIX)/libexec/motcua/motcua-signer
install: install-signer
.PHONY: install-signer

# The signer's request parser (what it agrees to sign) has its own fuzz target.
FUZZERS += $(BUILD)/fuzz/fuzz_signreq
$(BUILD)/fuzz/fuzz_signreq: tests/fuzz/fuzz_signreq.c gateway/sign/signreq.c
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	@$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^ $(shell pkg-config --libs libcrypto)
