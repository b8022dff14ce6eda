# web/: the staff page, JSON API and /metrics inside motcuad (libmicrohttpd), and the
# accounts it checks (argon2id).  Sources are in GATEWAY_SRC (the top Makefile's rules take
# their prerequisites before this fragment is read); libraries and packages are added here.
# The browser tests drive Debian's Chromium with playwright-core from npm (tests/browser/);
# the bench uses wrk.
PKGS     += libmicrohttpd libargon2
DEB_DEPS += libmicrohttpd-dev libargon2-dev chromium nodejs wrk curl

# The request and form parsers take hostile bytes: a fuzz target of their own.
FUZZERS += $(BUILD)/fuzz/fuzz_webform
$(BUILD)/fuzz/fuzz_webform: tests/fuzz/fuzz_webform.c web/form.c
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	@$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^

# motcuactl's "users" commands live in their own file.
$(BUILD)/motcuactl: $(BUILD)/obj/tools/ctl_users.o
