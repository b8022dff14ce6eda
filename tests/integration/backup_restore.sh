#!/bin/bash
# Backup and restore an IT person can run: `motcuactl backup DIR` while documents keep
# streaming in, `backup verify` (a changed byte is found and named), a second backup copies
# only what is new, then `motcuactl restore DIR` into an empty state directory on a "new box"
# with the same key: every document acknowledged before the backup is back byte-identical,
# the staff account and tickets too, the audit chain verifies, and the outbox resumes without
# sending again what the city had confirmed.  The dashboard shows the last good backup.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink_lib.sh"

sim_start
uplink_config "$SIM_BASE"
printf '[queue]\nservices = A:Hộ tịch:1\nticket_printer = none\n[usb]\nusb_hotplug = no\n' >>"$CONF"
daemon_start
step "a morning's work: 6 documents delivered, a user, tickets"
: >"$T/ids"
put_docs 6 30000 90000
wait_delivered 6 60
echo "staff-password-1" | ctl users add an --role staff >/dev/null
ctl queue take A >/dev/null && ctl queue take A >/dev/null || fail "queue take"
sim_stop
cp "$T/ids" "$T/acked"
delivered_before=$(sql "SELECT idem_key || ' ' || receipt FROM outbox WHERE state = 'delivered' ORDER BY id")

step "backup while documents keep coming in"
( i=100; while [ ! -e "$T/stop" ]; do i=$((i + 1)); mkdoc "$T/s$i.pdf" 20000
	  id=$(ctl doc put "$T/s$i.pdf" 2>/dev/null) && echo "$id $T/s$i.pdf" >>"$T/stream"; done ) &
spid=$!
track_pid $spid
for _ in $(seq 300); do [ -s "$T/stream" ] && break; sleep 0.1; done
"$MOTCUACTL" -c "$CONF" backup "$T/usb" >"$T/b1" || fail "backup failed: $(cat "$T/b1")"
cat "$T/b1"
touch "$T/stop"
wait "$spid" 2>/dev/null || true
grep -q "files copied" "$T/b1" || fail "backup printed no summary"
"$MOTCUACTL" -c "$CONF" backup verify "$T/usb" >"$T/v1" || { cat "$T/v1"; fail "a fresh backup does not verify"; }
cat "$T/v1"
grep -q "every blob opens with the storage key" "$T/v1" || fail "verify did not open the blobs with the key"
ok "backup taken and verified while intakes ran ($(wc -l <"$T/stream") of them)"
[ -n "$(sql "SELECT value FROM meta WHERE key = 'last_backup'")" ] || fail "motcuad did not record the last backup"
ctl audit tail -n 30 | grep -q "store.backup" || fail "the backup is not in the audit chain"
ok "motcuad recorded the backup (dashboard, audit)"

step "a second backup copies only what is new"
"$MOTCUACTL" -c "$CONF" --json backup "$T/usb" >"$T/b2.json" || fail "second backup failed"
reused=$(jq .reused "$T/b2.json")
[ "$reused" -ge 6 ] || fail "the second backup reused only $reused files: $(cat "$T/b2.json")"
ok "second backup: $(jq .copied "$T/b2.json") copied, $reused unchanged kept"
daemon_stop

step "a changed byte in the backup is found"
cp -a "$T/usb" "$T/usb-bad"
victim=$(find "$T/usb-bad/blobs" -type f -size +20k | head -n 1)
printf 'X' | dd of="$victim" bs=1 seek=100 conv=notrunc status=none
rc=0
"$MOTCUACTL" -c "$CONF" backup verify "$T/usb-bad" >"$T/vbad" || rc=$?
[ $rc -eq 1 ] && grep -q "^damaged  blobs/" "$T/vbad" || { cat "$T/vbad"; fail "verify did not catch a changed byte"; }
ok "verify: $(grep '^damaged' "$T/vbad" | head -n 1)"

step "restore onto a new box (empty state directory, the same key)"
OLD=$STATE
STATE=$T/newbox
sed -i "s|^state_dir = .*|state_dir = $STATE|" "$CONF"
"$MOTCUACTL" -c "$CONF" restore "$T/usb-bad" >"$T/rbad" 2>&1 && fail "a damaged backup was restored"
[ ! -e "$STATE/motcua.db" ] || fail "a refused restore left a database"
"$MOTCUACTL" -c "$CONF" restore "$T/usb" >"$T/r" || { cat "$T/r"; fail "restore failed"; }
cat "$T/r"
"$MOTCUACTL" -c "$CONF" restore "$T/usb" >/dev/null 2>&1 && fail "restore over a store was allowed"
sim_start
daemon_start 30
i=0
while read -r id; do i=$((i + 1)); get_same "$id" "$T/doc$i.pdf"; done <"$T/acked"
ok "all $(wc -l <"$T/acked") documents acknowledged before the backup are back, byte-identical"
n=$(sql "SELECT COUNT(*) FROM documents")
for d in $(sql "SELECT id FROM documents"); do ctl doc get "$d" -o "$T/x" >/dev/null 2>&1 || fail "restored document $d cannot be read"; done
ok "every one of the $n documents in the restored database is readable"
ctl users list | grep -q "^an " || fail "the staff account was not restored"
[ "$(sql "SELECT COUNT(*) FROM tickets")" -eq 2 ] || fail "the tickets were not restored"
ctl audit verify >/dev/null || fail "the restored audit chain does not verify"
ok "user, tickets restored; audit verifies"
[ "$(sql "SELECT idem_key || ' ' || receipt FROM outbox WHERE state = 'delivered' AND id <= 6 ORDER BY id")" = "$delivered_before" ] ||
	fail "the items the city confirmed are not delivered with their receipts"
wait_delivered "$n" 120
for k in $(echo "$delivered_before" | cut -d' ' -f1); do
	[ "$(sqlite3 "$SIMDIR/sim.db" "SELECT COUNT(*) FROM submissions WHERE idem_key = '$k'")" -le 1 ] ||
		fail "item $k was submitted twice"
done
ok "the outbox resumed: $n delivered, none of the 6 confirmed ones sent again"
daemon_stop
echo "PASS"
