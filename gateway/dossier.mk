# Dossiers (gateway/dossier/, store/dossiers.c): the procedure catalogue and working-day
# calendar shipped in data/, installed to /usr/share/motcua ([dossier] catalogue, calendar).
# The sources join GATEWAY_SRC/STORE_SRC in the Makefile (their objects are fixed before
# fragments are read); motcuactl's dossier/ask/feedback commands live in tools/ctl_dossier.c
# and answer questions offline with the catalogue and assistant objects.

DOSSIER_CTL_OBJ := $(BUILD)/obj/tools/ctl_dossier.o $(BUILD)/obj/gateway/dossier/catalog.o \
                   $(BUILD)/obj/gateway/dossier/assistant.o $(BUILD)/obj/gateway/dossier/fold.o

$(BUILD)/motcuactl: $(DOSSIER_CTL_OBJ) $(BUILD)/obj/tools/ctl_ask.o

install: install-dossier
install-dossier:
	install -d $(DESTDIR)$(PREFIX)/share/motcua
	install -m 0644 data/procedures.json $(DESTDIR)$(PREFIX)/share/motcua/procedures.json
	install -m 0644 data/calendar.json $(DESTDIR)$(PREFIX)/share/motcua/calendar.json

.PHONY: install-dossier
