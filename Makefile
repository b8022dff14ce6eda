# motcua: one non-recursive Makefile. Parts add themselves through */*.mk fragments
# (included below); every dependency comes through pkg-config.

VERSION   := 0.1.0
PREFIX    ?= /usr
SYSCONFDIR ?= /etc
DESTDIR   ?=
BUILD     ?= build
CC        ?= cc

# Debian packages that the build, the tests and the demo need.  A part that needs more
# adds to DEB_DEPS in its fragment.
DEB_DEPS := build-essential pkg-config clang-format sqlite3 libsqlite3-dev libssl-dev \
            libjansson-dev libinih-dev libcmocka-dev libsystemd-dev openssl \
            hyperfine clang libclang-rt-14-dev util-linux procps python3 coreutils git tzdata

PKGS      := sqlite3 libcrypto jansson inih libsystemd libmosquitto
WARN      := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
             -Wno-unused-parameter
HARDEN    := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
OPT       ?= -O2 -g
ifeq ($(CI),true)
WERROR    := -Werror
endif
CFLAGS_ALL = -std=c11 -D_GNU_SOURCE -DMOTCUA_VERSION='"$(VERSION)"' $(OPT) $(WARN) $(WERROR) \
             $(HARDEN) -I. $(SAN) $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(CFLAGS)
LDLIBS_ALL = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread $(LDLIBS)
LDFLAGS_ALL = -pie -Wl,-z,relro,-z,now $(SAN) $(LDFLAGS)

.DEFAULT_GOAL := all
BINS       :=
UNIT_TESTS :=
FUZZERS    :=

# ---- modules -------------------------------------------------------------------------
COMMON_SRC := gateway/log.c gateway/config.c gateway/ctlproto.c store/fsutil.c gateway/queue_conf.c
STORE_SRC  := store/db.c store/blob.c store/outbox.c store/audit.c store/docs.c store/rebuild.c \
              store/manifest.c store/store.c store/devices.c store/queue.c
GATEWAY_SRC := gateway/daemon.c gateway/control.c gateway/control_cmds.c gateway/intake.c \
               gateway/queue.c gateway/queue_cmds.c gateway/queue_hooks.c \
               $(wildcard devices/*.c)
GATEWAY_SRC += gateway/events.c $(sort $(wildcard uplink/*.c))
GATEWAY_SRC += gateway/devinfo.c
STORE_SRC   += store/users.c store/views.c
GATEWAY_SRC += gateway/accounts.c gateway/users_cmds.c $(sort $(wildcard web/*.c))
STORE_SRC   += store/recog.c
GATEWAY_SRC += gateway/recjobs.c gateway/recognize/proto.c gateway/recog_view.c
# The recognition parsers and result merging (plain C, jansson): motcuad pairs a card's sides.
GATEWAY_SRC += gateway/recognize/mrz.c gateway/recognize/cccd_qr.c gateway/recognize/classify.c \
               gateway/recognize/cardtext.c gateway/recognize/result.c gateway/spawn.c
STORE_SRC   += $(sort $(wildcard store/dossier*.c))
GATEWAY_SRC += $(sort $(wildcard gateway/dossier/*.c))
STORE_SRC   += store/chipreads.c
GATEWAY_SRC += gateway/chip/service.c gateway/chip/proto.c
STORE_SRC   += store/keycheck.c store/check.c store/journal.c
GATEWAY_SRC += gateway/storecheck.c gateway/store_cmds.c

COMMON_OBJ  := $(COMMON_SRC:%.c=$(BUILD)/obj/%.o)
STORE_OBJ   := $(STORE_SRC:%.c=$(BUILD)/obj/%.o)
GATEWAY_OBJ := $(GATEWAY_SRC:%.c=$(BUILD)/obj/%.o)
LIB_OBJ     := $(COMMON_OBJ) $(STORE_OBJ)

BINS += $(BUILD)/motcuad $(BUILD)/motcuactl

$(BUILD)/motcuad: $(BUILD)/obj/gateway/main.o $(GATEWAY_OBJ) $(LIB_OBJ)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/motcuactl: $(BUILD)/obj/tools/motcuactl.o $(BUILD)/obj/tools/termsafe.o $(COMMON_OBJ)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS_ALL) -MMD -MP -c -o $@ $<

# ---- tests ---------------------------------------------------------------------------
# Every tests/fuzz/fuzz_*.c is a fuzzer; listed before the tests: rule, whose prerequisites
# are read where it stands (fragments may name theirs again: sort drops the repeats).
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZERS += $(FUZZ_NAMES:%=$(BUILD)/fuzz/fuzz_%)
UNIT_NAMES := $(patsubst tests/unit/%_test.c,%,$(wildcard tests/unit/*_test.c))
UNIT_TESTS += $(UNIT_NAMES:%=$(BUILD)/tests/%_test)

$(BUILD)/tests/%_test: $(BUILD)/obj/tests/unit/%_test.o $(GATEWAY_OBJ) $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL) $(shell pkg-config --libs cmocka)

TEST_TOOLS := $(BUILD)/tests/benchtool
$(BUILD)/tests/benchtool: $(BUILD)/obj/tests/bench/benchtool.o $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

-include $(sort $(wildcard */*.mk */*/*.mk))

all: $(BINS)

# `make check` sets the machine up (deps) when something is missing, builds, and runs
# every test through tests/run.sh, whose last line is "N passed, N failed".  TESTS=word
# runs only the tests whose name contains it (make check TESTS=unit).
check: deps-if-missing
	$(MAKE) all tests
	tests/run.sh $(BUILD) $(TESTS)

tests: $(BINS) $(UNIT_TESTS) $(TEST_TOOLS) $(FUZZERS)

asan:
	$(MAKE) BUILD=build-asan OPT='-O1 -g' SAN='-fsanitize=address,undefined -fno-omit-frame-pointer' \
	        HARDEN='-fstack-protector-strong -fPIE' all tests
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	        tests/run.sh build-asan $(TESTS)

FUZZ_CC := clang
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -I. -fsanitize=fuzzer,address,undefined \
              $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(COMMON_SRC) $(STORE_SRC)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	@$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^ $(LDLIBS_ALL)

FUZZ_SECONDS ?= 60
fuzz: $(FUZZERS)
	@for f in $(sort $(FUZZERS)); do n=$${f##*/fuzz_}; mkdir -p $(BUILD)/fuzz/corpus-$$n; \
	  echo "== $$f ($(FUZZ_SECONDS)s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 $(BUILD)/fuzz/corpus-$$n tests/fuzz/corpus/$$n || exit 1; done

bench: deps-if-missing
	$(MAKE) all $(TEST_TOOLS)
	tests/bench/run.sh $(BUILD)

demo: deps-if-missing
	$(MAKE) all
	tools/demo.sh $(BUILD)

demo-stop:
	tools/demo.sh $(BUILD) stop

lint:
	tools/lint.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(SYSCONFDIR)/motcua
	install -m 0755 $(BUILD)/motcuad $(DESTDIR)$(PREFIX)/sbin/motcuad
	install -m 0755 $(BUILD)/motcuactl $(DESTDIR)$(PREFIX)/bin/motcuactl
	install -m 0640 packaging/motcua.conf $(DESTDIR)$(SYSCONFDIR)/motcua/motcua.conf
	install -d $(DESTDIR)$(PREFIX)/share/doc/motcua
	install -m 0644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/motcua/

# deps: install every Debian package listed above that is not yet installed.
deps:
	@tools/deps.sh $(sort $(DEB_DEPS))

deps-if-missing:
	@tools/deps.sh --if-missing $(sort $(DEB_DEPS))

clean:
	rm -rf build build-asan

.PHONY: all check tests asan fuzz bench demo demo-stop lint install deps deps-if-missing clean
-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
