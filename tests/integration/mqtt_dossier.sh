#!/bin/bash
# Dossiers from a kiosk over MQTT against a real mosquitto (docs/mqtt.md §6c): the kiosk opens
# a dossier for a procedure and hears what is missing; scans sent as documents with the
# session "dossier:<n>:<item>" are attached once stored (the ack says so, and what is still
# missing); submitting an incomplete dossier is refused with the missing items; a complete
# one answers with the receipt (code, due day, tracking QR text), the same on a resend; a
# kiosk cannot touch another kiosk's dossier.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mqtt_lib.sh"
command -v jq >/dev/null || skip "jq is not installed"
top=$(cd "$(dirname "$0")/../.." && pwd)

broker_start
mqtt_config -- "auto_approve_serials = KIOSK-1, KIOSK-2"
cat >>"$CONF" <<EOF2
[gateway]
agency_code = 000.00.18.H26
[dossier]
catalogue = $top/data/procedures.json
calendar = $top/data/calendar.json
tracking_url = http://192.0.2.1/track?code=
[usb]
usb_hotplug = no
[recognize]
workers = 0
EOF2
daemon_start
wait_gateway
D=("${DEV[@]}")
"${D[@]}" --dir "$T/k" register --kind kiosk --serial KIOSK-1 --wait 15 | grep -q "registered as kiosk-1" ||
	fail "kiosk not registered"
"${D[@]}" --dir "$T/k2" register --kind kiosk --serial KIOSK-2 --wait 15 | grep -q "registered as kiosk-2" ||
	fail "kiosk 2 not registered"

step "the kiosk opens a dossier and hears what is missing"
"${D[@]}" --dir "$T/k" dossier open '{"req_id":"o1","procedure":"HT-KS","name":"Nguyễn Văn A","id_number":"001099012345"}' \
	--wait 15 >"$T/open.out" || fail "open: $(cat "$T/open.out")"
n=$(cut -d' ' -f3- "$T/open.out" | jq -r .dossier)
[ "$(cut -d' ' -f3- "$T/open.out" | jq -r '[.missing[].item] | join(",")')" = to_khai,giay_chung_sinh,giay_to_tuy_than ] ||
	fail "missing: $(cat "$T/open.out")"
ok "dossier $n open"

step "scans with the dossier session are attached; submitting early says what is missing"
send() { "${D[@]}" --dir "$T/k" send "$1" --kind "$2" --session "dossier:$n:$3" --wait 15; }
send "$top/tests/data/cards/clean-000-front.jpg" id-front giay_to_tuy_than >"$T/s1" || fail "send front: $(cat "$T/s1")"
grep -q '^stored [0-9a-f]* {"dossier":'"$n"',"item":"giay_to_tuy_than","result":"attached"' "$T/s1" || fail "front not attached: $(cat "$T/s1")"
send "$top/tests/data/cards/clean-000-back.jpg" id-back giay_to_tuy_than >/dev/null || fail "send back"
"${D[@]}" --dir "$T/k" dossier submit "{\"req_id\":\"s1\",\"dossier\":$n}" --wait 15 >"$T/early.out" && fail "an incomplete dossier was accepted"
grep -q '^dossier incomplete .*"missing":\[{"item":"to_khai"' "$T/early.out" || fail "early submit: $(cat "$T/early.out")"
mkdoc "$T/a.pdf" 3000
mkdoc "$T/b.pdf" 3000
send "$T/a.pdf" page to_khai >/dev/null || fail "send to_khai"
send "$T/b.pdf" page giay_chung_sinh >"$T/s4" || fail "send giay_chung_sinh"
grep -q '"missing":\[\]' "$T/s4" || fail "still missing after all scans: $(cat "$T/s4")"
"${D[@]}" --dir "$T/k2" dossier submit "{\"req_id\":\"x1\",\"dossier\":$n}" --wait 15 >"$T/other.out" && fail "kiosk 2 submitted kiosk 1's dossier"
grep -q 'not opened by this kiosk\|no dossier' "$T/other.out" || fail "kiosk 2: $(cat "$T/other.out")"
ok "4 scans attached, early and foreign submits refused"

step "a complete dossier gets the receipt on the ack topic, the same on a resend"
"${D[@]}" --dir "$T/k" dossier submit "{\"req_id\":\"s2\",\"dossier\":$n}" --wait 15 >"$T/rcpt.out" || fail "submit: $(cat "$T/rcpt.out")"
cat "$T/rcpt.out"
r=$(cut -d" " -f3- "$T/rcpt.out" | jq -c .receipt)
code=$(echo "$r" | jq -r .code)
today=$(TZ=Asia/Ho_Chi_Minh date +%y%m%d)
[ "$code" = "000.00.18.H26-$today-0001" ] || fail "code $code"
echo "$r" | jq -e --arg c "$code" '.qr == "http://192.0.2.1/track?code=" + $c and (.due_day | length) == 10 and .procedure == "HT-KS"' >/dev/null ||
	fail "receipt: $r"
"${D[@]}" --dir "$T/k" dossier submit "{\"req_id\":\"s3\",\"dossier\":$n}" --wait 15 | grep -q "\"code\":\"$code\"" || fail "resend"
[ "$(sql "SELECT COUNT(*) FROM outbox WHERE stream='dossiers' AND ref='$code'")" = 1 ] || fail "not queued once"
[ "$(ctl --json dossier show "$code" | jq '.items | length')" = 4 ] || fail "items in the store"
ok "receipt $code due $(echo "$r" | jq -r .due_day)"
daemon_stop
