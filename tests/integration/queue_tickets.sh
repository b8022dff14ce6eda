#!/bin/bash
# The queue through motcuactl and the real daemon: 50 clients asking for tickets at once get
# unique, gapless numbers; a SIGKILL of motcuad in the middle of another 50 requests loses no
# acknowledged ticket and leaves no gap (the restarted daemon goes on from the last durable
# number); counters call, call again, skip and move; status shows waiting and service figures;
# the events feed has the calls; a past day's statistics become one outbox item for the LGSP.
set -eu
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "jq is not installed"

write_config "daemon.control_workers = 8"
cat >>"$CONF" <<'EOF2'
[queue]
services = A:Hộ tịch:1,2;B:Chứng thực:3
ticket_printer = none
[usb]
usb_hotplug = no
EOF2
daemon_start

# burst N TAG [K]: N clients at once (motcuad is killed with SIGKILL as the Kth starts).
burst() {
	local n=$1 tag=$2 i pids=
	: >"$T/codes.$tag"
	for i in $(seq 1 "$n"); do
		take_one "$tag" &
		pids="$pids $!"
		if [ "${3:-0}" -gt 0 ]; then
			sleep 0.01 # spread the clients so that some finish before and some after the kill
			[ "$i" -eq "$3" ] && daemon_kill
		fi
	done
	# shellcheck disable=SC2086 # a list of pids
	wait $pids || true
}

# take_one TAG: one client; its code (if it got one) is appended to $T/codes.TAG.
take_one() {
	local c
	c=$("$MOTCUACTL" -s "$SOCK" --json queue take A 2>>"$T/err.$1" | jq -r .code) || return 0
	[ -n "$c" ] && [ "$c" != null ] && echo "$c" >>"$T/codes.$1"
	return 0
}

step "50 clients take a ticket of service A at once"
burst 50 first
sort "$T/codes.first" >"$T/got"
seq -f 'A%03g' 1 50 >"$T/want"
diff "$T/want" "$T/got" >/dev/null || { diff "$T/want" "$T/got" | head; fail "the 50 tickets are not exactly A001..A050"; }
ok "A001..A050, each once"

step "50 more clients while motcuad is killed with SIGKILL in the middle"
burst 50 second 30 # the 30th client starts as motcuad is killed
acked=$(wc -l <"$T/codes.second")
daemon_start
burst 10 third
day=$(ctl --json queue status | jq -r .day)
sql "SELECT code FROM tickets WHERE day = '$day' AND service = 'A' ORDER BY number" >"$T/db"
total=$(wc -l <"$T/db")
seq -f 'A%03g' 1 "$total" >"$T/want"
diff "$T/want" "$T/db" >/dev/null || fail "the stored numbers have a gap or a repeat: $(diff "$T/want" "$T/db" | head -5)"
dups=$(cat "$T/codes.first" "$T/codes.second" "$T/codes.third" | sort | uniq -d | wc -l)
[ "$dups" -eq 0 ] || fail "$dups ticket codes were given to two clients"
for c in $(cat "$T/codes.second" "$T/codes.third"); do
	grep -qx "$c" "$T/db" || fail "ticket $c was acknowledged but is not stored"
done
last_third=$(sort "$T/codes.third" | tail -n 1)
[ "$last_third" = "$(tail -n 1 "$T/db")" ] || fail "the newest ticket is not the highest number"
[ "$(wc -l <"$T/codes.third")" -eq 10 ] || fail "after the restart not every client got a ticket"
ok "$acked acknowledged during the kill, $total stored, A001..A$(printf %03d "$total") without gaps; restart continued the sequence"

step "counters: call next, again, skip, move; status and events"
ctl queue take B >/dev/null
c1=$(ctl --json queue call 1 | jq -r .code)
[ "$c1" = A001 ] || fail "counter 1 called $c1, not A001"
[ "$(ctl --json queue again 1 | jq -r .calls)" = 2 ] || fail "call again did not count a second call"
[ "$(ctl --json queue call 2 | jq -r .code)" = A002 ] || fail "counter 2 did not call A002"
[ "$(ctl --json queue skip 2 | jq -r .state)" = skipped ] || fail "skip did not mark the ticket skipped"
b=$(ctl --json queue call 3 | jq -r .code)
[ "$b" = B001 ] || fail "counter 3 (service B) called $b"
m=$(ctl --json queue move 3 A)
[ "$(echo "$m" | jq -r '.service + .state + .moved_from')" = Awaitingb ] 2>/dev/null ||
	[ "$(echo "$m" | jq -r '.service + .state + .moved_from')" = AwaitingB ] || fail "move gave $m"
ctl queue call 3 >/dev/null 2>&1 && fail "counter 3 called a ticket although B is empty"
ctl queue move 1 Z >/dev/null 2>&1 && fail "a move to an unknown service was accepted"
ctl queue take Z >"$T/out" 2>&1 && fail "service Z gave a ticket"
grep -q "A (Hộ tịch)" "$T/out" || fail "refusal of service Z does not list the services: $(cat "$T/out")"
st=$(ctl --json queue status)
[ "$(echo "$st" | jq -r '.services[0].service')" = A ] || fail "status has no service A"
[ "$(echo "$st" | jq -r '.services[0].skipped')" = 1 ] || fail "status does not count the skip"
[ "$(echo "$st" | jq -r '.counters[] | select(.counter == 1) | .current.code')" = A001 ] || fail "status does not show A001 at counter 1"
ctl queue status | grep -q "Hộ tịch" || fail "text status lacks the service name"
ev=$(ctl --json queue events | jq -r '[.events[] | .kind + ":" + .code + "@" + (.counter|tostring)] | join(" ")')
case "$ev" in *"call:A001@1 recall:A001@1 call:A002@2 skip:A002@2 call:B001@3 move:B001@3"*) ;;
*) fail "events feed is $ev" ;; esac
ok "calls, recall, skip, move, figures and the events feed"

step "a past day's statistics go to the outbox once, as a queue-stats item"
sql "UPDATE tickets SET day = '2020-01-02' WHERE code IN ('A003', 'A004')"
ctl queue take B >/dev/null # the first ticket after a day ends reports it
items=$(ctl --json outbox list --state queued | jq -r '[.items[] | select(.stream == "queue-stats")] | length')
[ "$items" = 1 ] || fail "expected one queue-stats item, found $items"
key=$(ctl --json outbox list --state queued | jq -r '.items[] | select(.stream == "queue-stats") | .idem_key')
[ "$key" = "queue-stats:2020-01-02" ] || fail "idempotency key $key"
[ "$(ctl --json queue report 2020-01-02 | jq -r .already)" = true ] || fail "a second report was made"
ok "one item, key $key"
daemon_stop
