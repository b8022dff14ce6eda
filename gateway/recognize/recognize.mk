# Recognition: the parsers (MRZ, CCCD QR, classification, result JSON; plain C, linked by the
# tests and fuzzers), the sandboxed worker motcua-recognize (zbar, Tesseract, Leptonica,
# FreeType: only the worker links them), the bench and its baseline tool.

DEB_DEPS += libzbar-dev libtesseract-dev libleptonica-dev libfreetype-dev tesseract-ocr tesseract-ocr-eng \
            tesseract-ocr-vie libseccomp-dev fonts-ocr-b fonts-dejavu-core qrencode zbar-tools \
            imagemagick

REC_PARSE_SRC := gateway/recognize/mrz.c gateway/recognize/cccd_qr.c gateway/recognize/classify.c \
                 gateway/recognize/cardtext.c \
                 gateway/recognize/result.c
REC_PARSE_OBJ := $(REC_PARSE_SRC:%.c=$(BUILD)/obj/%.o)

# Unit tests of the parsers (in GATEWAY_OBJ: motcuad pairs a card's two sides).
REC_UNIT := mrz cccd_qr classify cardtext recpair
$(REC_UNIT:%=$(BUILD)/tests/%_test): $(BUILD)/tests/%_test: $(BUILD)/obj/tests/unit/%_test.o \
		$(GATEWAY_OBJ) $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL) $(shell pkg-config --libs cmocka)

# Fuzzers of the parsers (the generic rule links only COMMON_SRC and STORE_SRC).
REC_FUZZ := mrz cccd_qr classify cardtext
$(REC_FUZZ:%=$(BUILD)/fuzz/fuzz_%): $(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(REC_PARSE_SRC) $(COMMON_SRC)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	@$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^ $(LDLIBS_ALL)

# The worker: the only program that links zbar, Tesseract, Leptonica, FreeType, libseccomp.
REC_PKGS := zbar tesseract lept freetype2 libseccomp
REC_WORKER_SRC := gateway/recognize/worker.c gateway/recognize/recognizer.c gateway/recognize/ocrb.c \
                  gateway/sandbox.c gateway/recognize/proto.c gateway/spawn.c
REC_WORKER_OBJ := $(REC_WORKER_SRC:%.c=$(BUILD)/obj/%.o)
$(REC_WORKER_OBJ): CFLAGS_ALL += $(shell pkg-config --cflags $(REC_PKGS) 2>/dev/null)

BINS += $(BUILD)/motcua-recognize
$(BUILD)/motcua-recognize: $(REC_WORKER_OBJ) $(REC_PARSE_OBJ) $(BUILD)/obj/gateway/log.o
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL) $(shell pkg-config --libs $(REC_PKGS)) -lm

# motcuactl recognize runs the worker itself (framing and spawning only, no image libraries).
$(BUILD)/motcuactl: $(BUILD)/obj/tools/ctl_recognize.o $(BUILD)/obj/gateway/recognize/proto.o \
		$(BUILD)/obj/gateway/spawn.o $(REC_PARSE_OBJ)

# The bench's scorer of the plain tools (zbarimg + tesseract) through the same parsers.
TEST_TOOLS += $(BUILD)/tests/recbaseline
$(BUILD)/tests/recbaseline: $(BUILD)/obj/tests/bench/recbaseline.o $(REC_PARSE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

# The worker is installed where motcuad and motcuactl look for it (gateway/recognize/proto.c).
install-recognize: $(BUILD)/motcua-recognize
	install -d $(DESTDIR)$(PREFIX)/libexec/motcua
	install -m 0755 $(BUILD)/motcua-recognize $(DESTDIR)$(PREFIX)/libexec/motcua/motcua-recognize
install: install-recognize
.PHONY: install-recognize

# Fuzzer of the worker's image path (links the image libraries, like the worker).
FUZZERS += $(BUILD)/fuzz/fuzz_recognize_image
$(BUILD)/fuzz/fuzz_recognize_image: tests/fuzz/fuzz_recognize_image.c gateway/recognize/recognizer.c \
		gateway/recognize/ocrb.c $(REC_PARSE_SRC) gateway/log.c
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	@$(FUZZ_CC) $(FUZZ_FLAGS) $(shell pkg-config --cflags $(REC_PKGS)) -o $@ $^ $(LDLIBS_ALL) \
		$(shell pkg-config --libs $(REC_PKGS)) -lm
