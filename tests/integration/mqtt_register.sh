#!/bin/bash
# Devices join only with staff approval and reach only their own topics, against a real
# mosquitto with the dynamic-security plugin: a device with the claim account (not approved)
# cannot publish a document nor read another device's topics or replies (the broker denies
# it); an approved device cannot reach another device's topics; reject, revoke (login refused
# at once) and the allow-list work and are audited; a command reaches a device and its ack
# comes back; a silent device is shown stale.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mqtt_lib.sh"

broker_start
mqtt_config -- "auto_approve_serials = AUTO-1, AUTO-2"
daemon_start
wait_gateway
D=("${DEV[@]}")
CLAIM=(-V 5 -h 127.0.0.1 -p "$MQTT_PORT" -u motcua-claim -P "$CLAIM_PW")

step "two kiosks say hello; both wait for approval"
"${D[@]}" --dir "$T/a" register --kind kiosk --serial SN-A --wait 30 >"$T/a.out" 2>&1 &
apid=$!
track_pid $apid
wait_for 10 npending 1 || fail "kiosk SN-A is not pending"
"${D[@]}" --dir "$T/b" register --kind kiosk --serial SN-B --wait 30 >"$T/b.out" 2>&1 &
bpid=$!
track_pid $bpid
wait_for 10 npending 2 || fail "two pending devices expected: $(ctl devices list)"
ctl devices list
ok "kiosk-1 and kiosk-2 pending"

step "a device holding only the claim account is denied by the broker"
out=$(mosquitto_pub "${CLAIM[@]}" -i claim-probe -q 1 -t motcua/v1/dev/kiosk-1/doc -m '%PDF-1.4 x' 2>&1 || true)
echo "   publish a document: $out"
echo "$out" | grep -q "Not authorized" || fail "a claim client could publish a document"
for topic in motcua/v1/dev/kiosk-1/ack motcua/v1/dev/kiosk-1/cmd 'motcua/v1/dev/+/ack' \
	'motcua/v1/provision/+/reply' "motcua/v1/provision/$(cat "$T/a/claim-id")/../reply" '#'; do
	out=$(mosquitto_sub "${CLAIM[@]}" -i claim-probe -t "$topic" -C 1 -W 2 2>&1 || true)
	echo "   subscribe $topic: $out"
	echo "$out" | grep -q "denied" || fail "a claim client could subscribe to $topic"
done
[ "$(sql 'SELECT COUNT(*) FROM documents')" -eq 0 ] || fail "something was stored"
ok "publish and subscriptions refused"

step "staff approve kiosk-1 and reject kiosk-2"
out=$(ctl devices approve SN-A 2>&1) && fail "approved without the pairing code: $out"
ctl devices approve SN-A --code "$(cat "$T/a/pairing-code")"
ctl devices reject kiosk-2 --reason "unknown vendor"
wait $apid || fail "kiosk-1's register failed: $(cat "$T/a.out")"
rc=0; wait $bpid || rc=$?
[ $rc -eq 1 ] && grep -q "rejected: unknown vendor" "$T/b.out" || fail "kiosk-2 was not told it is rejected: $(cat "$T/b.out")"
cat "$T/a.out" "$T/b.out"
PW=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["password"])' "$T/a/credentials.json")
ok "kiosk-1 has its own credentials; kiosk-2 was told why"

step "an approved device reaches only its own topics"
A=(-V 5 -h 127.0.0.1 -p "$MQTT_PORT" -u kiosk-1 -P "$PW" -i kiosk-1-probe)
out=$(mosquitto_pub "${A[@]}" -q 1 -t motcua/v1/dev/kiosk-2/doc -m '%PDF-1.4 x' 2>&1 || true)
echo "$out" | grep -q "Not authorized" || fail "kiosk-1 could publish as kiosk-2: $out"
for topic in motcua/v1/dev/kiosk-2/ack motcua/v1/dev/kiosk-2/cmd 'motcua/v1/dev/+/cmd' 'motcua/v1/provision/+/hello'; do
	out=$(mosquitto_sub "${A[@]}" -t "$topic" -C 1 -W 2 2>&1 || true)
	echo "$out" | grep -q "denied" || fail "kiosk-1 could subscribe to $topic"
done
mkdoc "$T/one.pdf" 3000
"${D[@]}" --dir "$T/a" send "$T/one.pdf" --kind page --wait 10 | grep -q "^stored " || fail "kiosk-1 could not send"
ok "kiosk-1 denied on kiosk-2's topics, its own document stored"

step "a command reaches the device and its ack comes back"
"${D[@]}" --dir "$T/a" listen --max 1 --heartbeat 1 --wait 20 >"$T/listen.out" 2>&1 &
lpid=$!
track_pid $lpid
wait_for 10 sh -c "'$MOTCUACTL' -s '$SOCK' devices list | grep -q 'kiosk-1 .*active *online'" || fail "kiosk-1 not online"
ctl devices cmd kiosk-1 print '{"ticket":"A-012"}' | tee "$T/cmd.out"
grep -q ": done" "$T/cmd.out" || fail "the print command was not acked"
wait $lpid
grep -q 'command 1 print {"ticket":"A-012"}' "$T/listen.out" || fail "the device did not get the command"
ok "print acked"

step "a device silent for longer than stale_after_s is shown stale"
"${D[@]}" --dir "$T/a" listen --heartbeat 0 --wait 30 >/dev/null 2>&1 &
lpid=$!
track_pid $lpid
wait_for 10 sh -c "'$MOTCUACTL' -s '$SOCK' devices list | grep -q 'kiosk-1 .*online'" || fail "kiosk-1 not online"
sleep 1.2 # past the presence flush
sql "UPDATE devices SET last_seen = last_seen - 1000 WHERE id = 'kiosk-1'"
ctl devices list | grep -q "kiosk-1 .*stale" || fail "kiosk-1 not shown stale: $(ctl devices list)"
ok "stale"

step "revoking cuts the device off at once"
ctl devices revoke kiosk-1 --reason "kiosk replaced"
out=""
for _ in 1 2 3 4 5 6 7 8 9 10; do
	out=$(mosquitto_pub "${A[@]}" -q 1 -t motcua/v1/dev/kiosk-1/heartbeat -m '{}' 2>&1 || true)
	echo "$out" | grep -qi "not authori[sz]ed" && break
	sleep 0.2
done
echo "   login after revoke: $out"
echo "$out" | grep -qi "not authori[sz]ed" || fail "kiosk-1 could still log in after revoke"
kill "$lpid" 2>/dev/null || true
ok "revoked"

step "the allow-list approves by itself"
"${D[@]}" --dir "$T/c" register --kind doc-scanner --serial AUTO-2 --wait 15 | grep -q "registered as doc-scanner-3" ||
	fail "the allow-listed scanner was not approved"
ok "doc-scanner-3 approved by the allow-list"

step "every decision is in the audit chain"
ctl audit tail -n 20 | tee "$T/audit"
for a in "device.approve     kiosk-1" "device.reject      kiosk-2" "device.revoke      kiosk-1" \
	"device.approve     doc-scanner-3"; do
	grep -q "$a" "$T/audit" || fail "audit lacks: $a"
done
ctl audit verify
daemon_stop
ok "all audited, chain verifies"
