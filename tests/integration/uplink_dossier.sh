#!/bin/bash
# The issue's end-to-end, on loopback with the real mosquitto and the LGSP simulator: a
# simulated kiosk (motcua-device) opens a dossier, sends the ID card images and the required
# scans and gets the receipt; the dossier (and its documents, the day's feedback and queue
# statistics) reach the simulator with receipts that match; a status change made in the
# simulator comes back to `motcuactl dossier show` and to the public tracking page.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink_lib.sh"
. "$(dirname "$0")/mqtt_lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)

sim_start
broker_start
mqtt_config -- "auto_approve_serials = KIOSK-1"
printf 'secret-a\n' >"$T/client.secret"
chmod 600 "$T/client.secret"
cat >>"$CONF" <<EOF2
[gateway]
agency_code = 000.00.18.H26
[dossier]
catalogue = $top/data/procedures.json
calendar = $top/data/calendar.json
[usb]
usb_hotplug = no
[recognize]
workers = 0
[uplink]
enabled = yes
base_url = $SIM_BASE
client_id = commune-a
client_secret_file = $T/client.secret
backoff_base_ms = 200
backoff_cap_s = 5
probe_interval_ms = 500
status_pull_s = 1
EOF2
daemon_start
wait_gateway
D=("${DEV[@]}")
"${D[@]}" --dir "$T/k" register --kind kiosk --serial KIOSK-1 --wait 15 | grep -q "registered as kiosk-1" ||
	fail "kiosk not registered"

step "the kiosk opens a dossier, sends the ID card and the scans, gets the receipt"
"${D[@]}" --dir "$T/k" dossier open '{"req_id":"o1","procedure":"HT-KS","name":"Nguyễn Văn A","id_number":"001099012345"}' \
	--wait 15 >"$T/open.out" || fail "open: $(cat "$T/open.out")"
n=$(cut -d' ' -f3- "$T/open.out" | jq -r .dossier)
send() { "${D[@]}" --dir "$T/k" send "$1" --kind "$2" --session "dossier:$n:$3" --wait 15 >>"$T/sends" || fail "send $1: $(tail -n 1 "$T/sends")"; }
send "$top/tests/data/cards/clean-000-front.jpg" id-front giay_to_tuy_than
send "$top/tests/data/cards/clean-000-back.jpg" id-back giay_to_tuy_than
mkdoc "$T/form.pdf" 20000
mkdoc "$T/birth.pdf" 30000
send "$T/form.pdf" page to_khai
send "$T/birth.pdf" page giay_chung_sinh
[ "$(grep -c '"result":"attached"' "$T/sends")" = 4 ] || fail "not all attached: $(cat "$T/sends")"
"${D[@]}" --dir "$T/k" dossier submit "{\"req_id\":\"s1\",\"dossier\":$n}" --wait 15 >"$T/rcpt.out" || fail "submit: $(cat "$T/rcpt.out")"
code=$(cut -d' ' -f3- "$T/rcpt.out" | jq -r .receipt.code)
due=$(cut -d' ' -f3- "$T/rcpt.out" | jq -r .receipt.due_day)
[ "$code" = "000.00.18.H26-$(TZ=Asia/Ho_Chi_Minh date +%y%m%d)-0001" ] || fail "receipt: $(cat "$T/rcpt.out")"
ok "receipt $code due $due"

step "the dossier, its scans, feedback and queue statistics reach the simulator with matching receipts"
ctl feedback add dossier "$code" 4 --comment "nhanh" >/dev/null
day=$(TZ=Asia/Ho_Chi_Minh date +%F)
ctl feedback report "$day" >/dev/null
ctl queue report "$day" >/dev/null
wait_delivered 7 30
[ "$(count_state rejected)" = 0 ] || fail "rejected: $(ctl outbox list --state rejected)"
for k in dossier feedback-stats queue-stats; do
	[ "$(sql "SELECT COUNT(*) FROM outbox WHERE kind='$k' AND state='delivered'")" = 1 ] || fail "$k not delivered"
done
[ "$(sim_stat .unique_items)" = 7 ] || fail "the simulator counts $(sim_stat .unique_items) effects for 7 items"
[ "$(sim_stat .submissions_rejected)" = 0 ] || fail "the simulator rejected a submission"
receipts_match
tok=$(curl -s -u commune-a:secret-a -d grant_type=client_credentials "$SIM_BASE/lgsp/v1/oauth/token" | jq -r .access_token)
curl -s -H "Authorization: Bearer $tok" "$SIM_BASE/lgsp/v1/dossiers/$code/status" >"$T/st.json"
rid=$(sql "SELECT json_extract(receipt, '\$.receipt_id') FROM outbox WHERE kind='dossier'")
jq -e --arg r "$rid" '.status == "received" and .receipt_id == $r' "$T/st.json" >/dev/null ||
	fail "the simulator's dossier: $(cat "$T/st.json") (our receipt $rid)"
ok "7 items delivered; the simulator holds $code as received, receipt $rid"

step "a status change in the simulator comes back to motcuactl and the tracking page"
curl -s -o /dev/null -H 'Content-Type: application/json' -d '{"status":"supplement_requested","status_text":"Bổ sung giấy chứng sinh bản chính"}' \
	"$SIM_BASE/_sim/dossiers/$code/status"
for i in $(seq 100); do
	[ "$(ctl --json dossier show "$code" | jq -r .city_status)" = supplement_requested ] && break
	[ "$i" = 100 ] && fail "the status did not come back: $(ctl --json dossier show "$code" | jq -c '{city_status, city_status_text}')"
	sleep 0.1
done
ctl --json dossier show "$code" | jq -e '.city_status_text == "Bổ sung giấy chứng sinh bản chính"' >/dev/null || fail "status text"
curl -s "$(web_url)/track?code=$code" >"$T/track.html"
grep -q '<dd id="t-status">Cần bổ sung giấy tờ</dd>' "$T/track.html" || fail "tracking page lacks the status"
grep -q "<dd id=\"t-due\">$(date -d "$due" +%d/%m/%Y)</dd>" "$T/track.html" || fail "tracking page lacks the due day"
[ -n "$(sql "SELECT value FROM meta WHERE key='uplink.status_cursor'")" ] || fail "no stored cursor"
ok "supplement_requested back after $((i / 10)).$((i % 10)) s, on the tracking page"
daemon_stop
