#!/bin/bash
# The queue over MQTT against a real mosquitto with dynamic security: a kiosk asks for a
# ticket on its own request topic and gets it on its ack topic, with the print command for its
# own printer; a resent request gets the same ticket, not a second one; a queue display sees
# `motcuactl queue call` (the event and its counter's retained state); a display may not ask
# for tickets, and another device's request topic is refused by the broker.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mqtt_lib.sh"
command -v jq >/dev/null || skip "jq is not installed"

broker_start
mqtt_config -- "auto_approve_serials = KIOSK-1, DISPLAY-1"
cat >>"$CONF" <<'EOF'
[queue]
services = A:Hộ tịch:1,2;B:Chứng thực:3
ticket_printer = none
[usb]
usb_hotplug = no
EOF
daemon_start
wait_gateway
D=("${DEV[@]}")

step "a kiosk and a display register (allow-listed)"
"${D[@]}" --dir "$T/k" register --kind kiosk --serial KIOSK-1 --wait 15 | grep -q "registered as kiosk-1" ||
	fail "kiosk not registered"
"${D[@]}" --dir "$T/d" register --kind display --serial DISPLAY-1 --wait 15 | grep -q "registered as display-2" ||
	fail "display not registered"
ok "kiosk-1 and display-2"

step "the kiosk asks for a ticket over MQTT and prints it itself"
"${D[@]}" --dir "$T/k" ticket A --wait 15 >"$T/ticket.out"
cat "$T/ticket.out"
grep -q '^ticket A001 ' "$T/ticket.out" || fail "no ticket A001 in the answer"
grep '^ticket ' "$T/ticket.out" | cut -d' ' -f3- | jq -e '.service == "A" and .source == "kiosk-1" and .state == "waiting" and .ahead == 0' >/dev/null ||
	fail "the ticket JSON is not as expected"
grep -q '^command [0-9]* print {.*"ticket":"A001"' "$T/ticket.out" || fail "the kiosk did not get the print command"
ctl queue list | grep -q A001 || fail "motcuactl does not list A001"
ok "A001 answered, stored and printed on the kiosk"

step "a resent request gets the same ticket; an unknown service is refused with the reason"
K_PW=$(jq -r .password "$T/k/credentials.json")
K=(-V 5 -h 127.0.0.1 -p "$MQTT_PORT" -u kiosk-1 -P "$K_PW")
mosquitto_sub "${K[@]}" -i kiosk-1-sub -t motcua/v1/dev/kiosk-1/ack -C 3 -W 10 >"$T/acks" &
spid=$!
track_pid $spid
sleep 0.3
for req in '{"req_id":"r1","service":"B","print":"none"}' '{"req_id":"r1","service":"B","print":"none"}' \
	'{"req_id":"r2","service":"Z"}'; do
	mosquitto_pub "${K[@]}" -i kiosk-1-pub -q 1 -t motcua/v1/dev/kiosk-1/queue/take -m "$req"
done
wait $spid || fail "three answers expected: $(cat "$T/acks")"
cat "$T/acks"
[ "$(sed -n 1p "$T/acks" | jq -r .ticket.code)" = B001 ] || fail "first answer is not B001"
[ "$(sed -n 2p "$T/acks" | jq -r .ticket.code)" = B001 ] || fail "the resend got another ticket"
sed -n 3p "$T/acks" | jq -e '.req_id == "r2" and .result == "rejected" and .error == "ENOENT" and (.reason | test("no service Z"))' >/dev/null ||
	fail "unknown service not refused with a reason"
[ "$(sql "SELECT COUNT(*) FROM tickets")" -eq 2 ] || fail "expected 2 tickets: $(ctl queue list)"
ok "B001 once, Z refused"

step "a display sees every call: the event and the counter's retained state"
"${D[@]}" --dir "$T/d" listen --max 4 --heartbeat 0 --wait 20 >"$T/display.out" 2>&1 &
lpid=$!
track_pid $lpid
wait_for 10 sh -c "'$MOTCUACTL' -s '$SOCK' devices list | grep -q 'display-2 .*active *online'" || fail "display not online"
sleep 0.3
ctl queue call 2 | tee "$T/call.out"
ctl queue again 2 >/dev/null
wait $lpid || fail "the display did not get 4 queue messages: $(cat "$T/display.out")"
cat "$T/display.out"
grep '^queue motcua/v1/queue/event ' "$T/display.out" | head -1 | cut -d' ' -f3- |
	jq -e '.verb == "next" and .counter == 2 and .code == "A001" and .service_name == "Hộ tịch"' >/dev/null ||
	fail "no call event for A001 at counter 2"
grep -q '^queue motcua/v1/queue/event .*"verb":"again"' "$T/display.out" || fail "call again not announced"
grep -q '^queue motcua/v1/queue/counter/2 .*"code":"A001"' "$T/display.out" || fail "counter 2 state not published"
# A display that starts now reads the retained state of counter 2 at once.
D_PW=$(jq -r .password "$T/d/credentials.json")
DS=(-V 5 -h 127.0.0.1 -p "$MQTT_PORT" -u display-2 -P "$D_PW" -i display-2-probe)
mosquitto_sub "${DS[@]}" -t motcua/v1/queue/counter/2 -C 1 -W 5 | jq -e '.code == "A001" and .calls == 2' >/dev/null ||
	fail "no retained state for counter 2"
ctl queue "done" 2 >/dev/null
wait_for 5 sh -c "mosquitto_sub $(printf '%q ' "${DS[@]}") -t motcua/v1/queue/counter/2 -C 1 -W 1 | grep -q '\"state\":\"idle\"'" ||
	fail "counter 2 not idle after done"
ok "call, call again and done reach the display"

step "the broker keeps each device to its own: a display cannot ask for tickets, a kiosk not as another"
out=$(mosquitto_pub "${DS[@]}" -q 1 -t motcua/v1/dev/display-2/queue/take -m '{"req_id":"x","service":"A"}' 2>&1 || true)
echo "$out" | grep -q "Not authorized" || fail "a display could publish a ticket request: $out"
out=$(mosquitto_pub "${K[@]}" -i kiosk-1-probe -q 1 -t motcua/v1/dev/display-2/queue/take -m '{"req_id":"x","service":"A"}' 2>&1 || true)
echo "$out" | grep -q "Not authorized" || fail "kiosk-1 could request as display-2: $out"
[ "$(sql "SELECT COUNT(*) FROM tickets")" -eq 2 ] || fail "a refused request made a ticket"
daemon_stop
ok "refused by the broker"
