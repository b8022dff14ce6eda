# uplink/: the LGSP client inside motcuad (libcurl).  Its sources are in GATEWAY_SRC (the
# top Makefile's rules take their prerequisites before this fragment is read); the library
# and the Debian package are added here.
PKGS     += libcurl
DEB_DEPS += libcurl4-openssl-dev iproute2

# The answer parsers take hostile bytes: a fuzz target of their own.
FUZZERS += $(BUILD)/fuzz/fuzz_lgsp_answer
$(BUILD)/fuzz/fuzz_lgsp_answer: tests/fuzz/fuzz_lgsp_answer.c uplink/lgsp.c uplink/backoff.c
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	@$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^ $(shell pkg-config --libs jansson libcrypto)

# The status pull's answer (uplink/lgsp_status.c); dossiers_status_valid brings the store.
FUZZERS += $(BUILD)/fuzz/fuzz_lgsp_status
$(BUILD)/fuzz/fuzz_lgsp_status: tests/fuzz/fuzz_lgsp_status.c uplink/lgsp_status.c $(STORE_SRC) $(COMMON_SRC)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	@$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^ $(LDLIBS_ALL)
