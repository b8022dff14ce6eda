# The MQTT device edge (devices/*.c are part of motcuad through GATEWAY_SRC) and the
# reference device client tools/motcua-device, which a kiosk vendor reads to learn the
# protocol in docs/mqtt.md.  Tests and the bench run a real mosquitto on loopback.

DEB_DEPS += mosquitto mosquitto-clients libmosquitto-dev

BINS += $(BUILD)/motcua-device

$(BUILD)/motcua-device: $(BUILD)/obj/tools/motcua-device.o
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

# The device-message parsers live in devices/, outside the generic fuzz rule's sources.
$(BUILD)/fuzz/fuzz_devproto: tests/fuzz/fuzz_devproto.c devices/proto.c $(STORE_SRC) $(COMMON_SRC)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	@$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^ $(LDLIBS_ALL)

# A kiosk's dossier requests (dev/<id>/dossier/open, /submit, a scan's dossier session).
FUZZERS += $(BUILD)/fuzz/fuzz_dossier_req
$(BUILD)/fuzz/fuzz_dossier_req: tests/fuzz/fuzz_dossier_req.c devices/proto.c $(STORE_SRC) $(COMMON_SRC)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	@$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^ $(LDLIBS_ALL)
