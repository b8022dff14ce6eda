# Helper processes (gateway/spawn.c, gateway/sandbox.c): the sandbox links libseccomp, so its
# unit test names it here; the programs that use them list the sources in their own fragment.
DEB_DEPS += libseccomp-dev
$(BUILD)/tests/sandbox_test: $(BUILD)/obj/gateway/sandbox.o
$(BUILD)/tests/sandbox_test: LDLIBS += $(shell pkg-config --libs libseccomp 2>/dev/null)
# motcuactl's terminal escaping (tools/termsafe.c) has its unit test.
$(BUILD)/tests/termsafe_test: $(BUILD)/obj/tools/termsafe.o
