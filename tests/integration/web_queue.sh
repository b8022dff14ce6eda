#!/bin/bash
# The queue on the staff page over real HTTP with curl (plain forms, no JavaScript): the
# counter's page calls next, again, skips, moves to another service and calls a given
# number; a ticket is given at the desk; the day's figures (waiting, times) show per service
# and counter and on the dashboard; a code scanned at a counter shows on that counter's page
# only; POSTs without a session or without the CSRF token are refused and change nothing.
set -eu
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || skip "curl is not installed"

write_config
cat >>"$CONF" <<'EOF'
[queue]
services = A:Hộ tịch:1,2;B:Chứng thực:3
ticket_printer = none
[usb]
usb_hotplug = no
EOF
daemon_start
U=$(web_url)
J=$T/jar
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
csrf_of() { grep -o 'name="csrf" value="[0-9a-f]*"' | head -n 1 | sed 's/.*value="//; s/"$//'; }
echo "staff-password-1" | ctl users add an --role staff >/dev/null
tickets() { sql "SELECT code || ':' || state || ':' || service || ':' || counter FROM tickets ORDER BY id" | tr '\n' ' '; }

step "without a session or without the form's token nothing changes"
[ "$(code -d "counter=1&verb=next" "$U/queue")" = 401 ] || fail "POST /queue without a session"
t=$(curl -s -c "$J" -b "$J" "$U/login" | csrf_of)
[ "$(code -c "$J" -b "$J" --data-urlencode "csrf=$t" -d "name=an&password=staff-password-1&next=/" "$U/login")" = 303 ] ||
	fail "staff login"
ctl queue take A >/dev/null
[ "$(code -b "$J" -d "counter=1&verb=next" "$U/queue")" = 403 ] || fail "POST /queue without CSRF was accepted"
[ "$(code -b "$J" -d "csrf=00&counter=1&verb=next" "$U/queue")" = 403 ] || fail "POST /queue with a wrong CSRF"
[ "$(tickets)" = "A001:waiting:A:0 " ] || fail "a refused POST changed the queue: $(tickets)"
ok "401 and 403, A001 still waiting"

page() { curl -s -b "$J" "$U/queue?counter=$1"; }
post() { # counter verb [arg] -> "HTTP code location"
	local c=$1 v=$2 a=${3:-} tok
	tok=$(page "$c" | csrf_of)
	curl -s -o "$T/post.out" -w '%{http_code} %{redirect_url}' -b "$J" --data-urlencode "csrf=$tok" \
		-d "counter=$c&verb=$v" --data-urlencode "arg=$a" "$U/queue"
}

step "staff give a ticket at the desk and counter 1 calls, calls again and skips"
r=$(post 0 take A)
[ "$r" = "303 $U/queue?counter=0&msg=taken&code=A002" ] || fail "take gave '$r'"
page 1 | grep -q 'id="q-current">no ticket called\|id="q-current">chưa gọi số nào' || fail "counter 1 should have nobody"
r=$(post 1 next)
[ "$r" = "303 $U/queue?counter=1&msg=called&code=A001" ] || fail "next gave '$r'"
curl -s -b "$J" "${r#303 }" | grep -q '<strong class="big" id="q-current">A001</strong>' || fail "A001 not shown in hand"
[ "$(post 1 again | cut -d' ' -f1)" = 303 ] || fail "again"
[ "$(sql "SELECT calls FROM tickets WHERE code='A001'")" = 2 ] || fail "A001 not called twice"
[ "$(post 1 skip | cut -d' ' -f1)" = 303 ] || fail "skip"
[ "$(post 1 next | cut -d' ' -f1)" = 303 ] || fail "next A002"
[ "$(post 1 move B | cut -d' ' -f1)" = 303 ] || fail "move to B"
[ "$(post 3 next | cut -d' ' -f1)" = 303 ] || fail "counter 3 next (B)"
[ "$(post 3 "done" | cut -d' ' -f1)" = 303 ] || fail "counter 3 done"
[ "$(post 2 call a001 | cut -d' ' -f1)" = 303 ] || fail "counter 2 calls skipped A001 by code"
[ "$(tickets)" = "A001:called:A:2 A002:done:B:3 " ] || fail "queue after the forms: $(tickets)"
ctl queue events | tee "$T/events" | grep -c "call" | grep -q '^[3-9]' || fail "calls not in the event feed: $(cat "$T/events")"
ok "take, next, again, skip, move, done and call by code all through plain forms"

step "refusals say why and change nothing"
r=$(post 1 next)
[ "${r%% *}" = 409 ] && grep -q "Hiện không có ai chờ ở quầy 1" "$T/post.out" || fail "next with nobody waiting gave '$r'"
grep -q 'nobody is waiting' "$T/post.out" && fail "the core's English reason reached the page"
grep -q 'id="q-current"' "$T/post.out" || fail "the refusal is not shown on the counter's page"
r=$(post 1 call z999)
[ "${r%% *}" = 409 ] && grep -q 'Hôm nay không có số “Z999”' "$T/post.out" || fail "calling an unknown number gave '$r'"
grep -q 'id="q-code" name="arg"[^>]*value="Z999"' "$T/post.out" || fail "the typed number was not kept"
r=$(post 1 explode)
[ "${r%% *}" = 400 ] || fail "an unknown verb gave '$r'"
r=$(post 1 move Z)
[ "${r%% *}" = 409 ] || fail "move to an unknown service gave '$r'"
[ "$(tickets)" = "A001:called:A:2 A002:done:B:3 " ] || fail "a refusal changed the queue: $(tickets)"
ok "409 with the reason, 400 for a made-up verb"

step "figures per service and counter, on the queue page and the dashboard"
page 0 >"$T/q.html"
grep -q 'id="q-fig-services"' "$T/q.html" && grep -q 'id="q-fig-counters"' "$T/q.html" || fail "no figures tables"
row3=$(grep -o '<tr><td><a href="/queue?counter=3">3</a></td>.*' "$T/q.html" | sed 's,</tr>.*,,')
echo "   counter 3: $row3"
echo "$row3" | grep -q '^<tr><td><a href="/queue?counter=3">3</a></td><td class="num">0</td><td class="num">[0-9]*</td><td class="num">1</td>' ||
	fail "counter 3's row (1 done) missing"
ctl queue take B >/dev/null
curl -s -b "$J" "$U/" | grep -o '<dl id="queue-today">.*</dl>' | tee "$T/tile" | grep -q '<dt>B Chứng thực</dt><dd>1' ||
	fail "dashboard tile lacks B waiting 1: $(cat "$T/tile")"
ok "figures shown"

step "a code scanned at counter 2 shows on counter 2's page only"
now=$(($(date +%s) * 1000))
sql "INSERT INTO queue_events(at_ms, counter, kind, ticket, code, detail) VALUES($now, 2, 'scan', 0, '', 'TEST-CODE-<42>')"
page 2 | grep -q '<code class="scan">TEST-CODE-&lt;42&gt;</code>' || fail "the scan is not on counter 2's page (escaped)"
page 1 | grep -q 'TEST-CODE' && fail "counter 1 shows counter 2's scan"
size=$(page 2 | wc -c)
[ "$size" -lt 51200 ] || fail "the counter page is $size bytes"
daemon_stop
ok "scan shown where it was read; page $size bytes"
