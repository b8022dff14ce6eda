#!/bin/bash
# The shared claim password cannot take over a device (issue 13): a second claim id saying
# hello with a known serial is shown to staff as a conflict and never adopted; approval
# sends the credentials only to the claimer whose pairing code staff typed (read on the
# physical device), so an attacker holding the claim password gets nothing, before or after
# a revoke-and-approve; a claim id is bound to its first serial; approval without the code,
# or with a wrong one, is refused.  Real mosquitto, real motcuad, the reference device.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mqtt_lib.sh"

broker_start
mqtt_config
daemon_start
wait_gateway
D=("${DEV[@]}")

step "the real kiosk says hello first and waits"
"${D[@]}" --dir "$T/real" register --kind kiosk --serial SN-VICTIM --wait 60 >"$T/real.out" 2>&1 &
rpid=$!
track_pid $rpid
wait_for 15 npending 1 || fail "the kiosk is not pending"
[ -s "$T/real/pairing-code" ] || fail "the device does not show a pairing code"
REAL=$(cat "$T/real/pairing-code")
ok "kiosk-1 pending, its screen shows $REAL"

step "an attacker with the claim password says hello with the same serial"
"${D[@]}" --dir "$T/evil" register --kind kiosk --serial SN-VICTIM --wait 60 >"$T/evil.out" 2>&1 &
epid=$!
track_pid $epid
EVIL=$(wait_for 15 test -s "$T/evil/pairing-code" && cat "$T/evil/pairing-code")
conflict() { ctl devices list | grep -q "^CONFLICT kiosk-1: 1 other"; }
bound() { sql "SELECT claim_client FROM devices WHERE id = 'kiosk-1'"; }
moved() { [ "$(bound)" != "$(cat "$T/real/claim-id")" ]; }
settled() { conflict || moved; }
wait_for 15 settled || fail "the attacker's hello was not handled"
! moved || fail "the second hello moved the device's claim id to the attacker's: approval would send it the password"
conflict || fail "the second claimer is not shown as a conflict: $(ctl devices list)"
ctl devices list
[ "$(ctl --json devices list | python3 -c 'import json,sys; print(json.load(sys.stdin)["devices"][0]["conflicts"])')" = 1 ] ||
	fail "the JSON list does not count the conflict"
ok "conflict shown; the device is still bound to the first claimer"

step "approval needs the code: none, or a wrong one, is refused"
out=$(ctl devices approve kiosk-1 2>&1) && fail "approved without a code: $out"
echo "   $out"
echo "$out" | grep -q "pairing code" || fail "the refusal does not ask for the code: $out"
wrong=$(printf '%06d' $(((10#$REAL + 1) % 1000000)))
[ "$wrong" != "$EVIL" ] || wrong=$(printf '%06d' $(((10#$REAL + 2) % 1000000)))
out=$(ctl devices approve kiosk-1 --code "$wrong" 2>&1) && fail "approved with a wrong code: $out"
echo "   $out"
[ "$(sql "SELECT state FROM devices WHERE id = 'kiosk-1'")" = pending ] || fail "a refused approval changed the state"
ok "refused, still pending"

step "staff type the code shown on the real kiosk"
ctl devices approve kiosk-1 --code "$REAL"
wait $rpid || fail "the real kiosk did not get its credentials: $(cat "$T/real.out")"
[ -s "$T/real/credentials.json" ] || fail "no credentials on the real kiosk"
[ ! -e "$T/evil/credentials.json" ] || fail "THE ATTACKER GOT CREDENTIALS: $(cat "$T/evil/credentials.json")"
mkdoc "$T/one.pdf" 3000
"${D[@]}" --dir "$T/real" send "$T/one.pdf" --kind page --wait 15 | grep -q "^stored " || fail "the real kiosk cannot hand in"
ok "credentials went to the real kiosk only; it hands in documents"

step "revoke and approve again (docs/mqtt.md): the attacker still gets nothing"
ctl devices revoke kiosk-1 --reason "test"
# The attacker repeats its hello every 30 s; make sure it is a claimer again now.
kill "$epid" 2>/dev/null || true
wait "$epid" 2>/dev/null || true
"${D[@]}" --dir "$T/evil" register --kind kiosk --serial SN-VICTIM --wait 60 >"$T/evil2.out" 2>&1 &
epid=$!
track_pid $epid
wait_for 15 conflict || fail "the attacker is not shown as a conflict after the revoke: $(ctl devices list)"
out=$(ctl devices approve kiosk-1 --code "$wrong" 2>&1) && fail "approved with a wrong code: $out"
ctl devices approve kiosk-1 --code "$REAL"
# The revoked kiosk lost its login; it comes back with a hello under the same claim id.
rm -f "$T/real/credentials.json"
"${D[@]}" --dir "$T/real" register --kind kiosk --serial SN-VICTIM --wait 60 >"$T/real2.out" 2>&1 &
rpid=$!
track_pid $rpid
wait $rpid || fail "the real kiosk did not get new credentials: $(cat "$T/real2.out")"
[ ! -e "$T/evil/credentials.json" ] || fail "THE ATTACKER GOT CREDENTIALS after revoke and approve"
"${D[@]}" --dir "$T/real" send "$T/one.pdf" --kind page --wait 15 | grep -Eq "^(stored|duplicate) " ||
	fail "the real kiosk cannot hand in with its new credentials"
ok "new credentials to the real kiosk only"

step "a claim id speaks for one serial only"
cp -r "$T/real" "$T/clone"
rm -f "$T/clone/credentials.json"
rc=0
"${D[@]}" --dir "$T/clone" register --kind kiosk --serial SN-OTHER --wait 20 >"$T/clone.out" 2>&1 || rc=$?
[ $rc -ne 0 ] && grep -q "refused: this claim id said hello as serial SN-VICTIM" "$T/clone.out" ||
	fail "a claim id registered a second serial: $(cat "$T/clone.out")"
[ "$(sql "SELECT COUNT(*) FROM devices WHERE serial = 'SN-OTHER'")" = 0 ] || fail "SN-OTHER was recorded"
ok "refused"

step "a reset device (new claim id) is bound only by staff typing its new code"
kill "$epid" 2>/dev/null || true
ctl devices revoke kiosk-1 --reason "kiosk reset"
rm -rf "$T/real"
"${D[@]}" --dir "$T/real" register --kind kiosk --serial SN-VICTIM --wait 60 >"$T/real3.out" 2>&1 &
rpid=$!
track_pid $rpid
NEW=$(wait_for 15 test -s "$T/real/pairing-code" && cat "$T/real/pairing-code")
wait_for 15 conflict || fail "the reset kiosk is not shown as a claimer: $(ctl devices list)"
ctl devices approve kiosk-1 --code "$NEW"
wait $rpid || fail "the reset kiosk did not get credentials: $(cat "$T/real3.out")"
[ "$(sql "SELECT claim_client FROM devices WHERE id = 'kiosk-1'")" = "$(cat "$T/real/claim-id")" ] ||
	fail "the device is not bound to the reset kiosk's claim id"
ok "rebound to the claimer whose code was typed"

step "audited"
ctl audit tail -n 30 | tee "$T/audit"
for a in "device.conflict" "device.rebind" "device.approve"; do
	grep -q "$a" "$T/audit" || fail "audit lacks $a"
done
ctl audit verify
daemon_stop
ok "conflict, rebind and approvals audited; chain verifies"
