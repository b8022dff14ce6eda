# motcua-lgsp-sim (tools/lgsp-sim): the city-side LGSP simulator of docs/lgsp.md, and the
# fuzz target of its parsers.  Included by the top Makefile.
DEB_DEPS += libmicrohttpd-dev libgnutls28-dev curl jq python3 openssl

SIM_PKGS := libmicrohttpd gnutls
SIM_SRC  := $(sort $(wildcard tools/lgsp-sim/*.c))
SIM_OBJ  := $(SIM_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gateway/log.o $(BUILD)/obj/store/fsutil.o

BINS += $(BUILD)/motcua-lgsp-sim

$(BUILD)/obj/tools/lgsp-sim/%.o: CFLAGS += $(shell pkg-config --cflags $(SIM_PKGS) 2>/dev/null)

$(BUILD)/motcua-lgsp-sim: $(SIM_OBJ)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL) $(shell pkg-config --libs $(SIM_PKGS) 2>/dev/null)

# The generic fuzz rule links the gateway and store sources; the sim's parsers stand alone.
FUZZERS += $(BUILD)/fuzz/fuzz_lgsp_sim
$(BUILD)/fuzz/fuzz_lgsp_sim: tests/fuzz/sim_fuzz_parse.c tools/lgsp-sim/parse.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^ $(shell pkg-config --libs jansson)
