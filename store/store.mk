# The store's upkeep (issue 16): key check, store check, record journal, backup, orphans.
# Sources join STORE_SRC/GATEWAY_SRC in the Makefile; motcuactl's store/backup commands
# live in tools/ctl_store.c.
$(BUILD)/motcuactl: $(BUILD)/obj/tools/ctl_store.o
# backup and restore read the state directory themselves (the store's own code)
$(BUILD)/motcuactl: $(BUILD)/obj/tools/ctl_backup.o $(STORE_OBJ)
