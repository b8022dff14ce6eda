#!/bin/bash
# The web page stays up for the office when other computers abuse it, over real HTTP on
# loopback (127.0.0.2-.5 stand for PCs on the LAN, 127.0.0.1 is the box's own console):
# connections left open (slowloris) are capped per address and in total with room kept for
# the console, idle ones are closed; many large anonymous POST /verify at once are refused
# with a Vietnamese "busy, try again" (503) once [web] verify_memory_mb is spent, and
# motcuad's memory (VmRSS, VmHWM) stays within that bound plus a generous margin.
set -eu
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || skip "curl is not installed"
command -v python3 >/dev/null || skip "python3 is not installed"
rc=0
curl -s --interface 127.0.0.2 -o /dev/null http://127.0.0.1:9/ 2>/dev/null || rc=$?
[ $rc -ne 45 ] || skip "cannot use 127.0.0.2 as a source address here"
HOLD=$MOTCUA_TOP/tests/integration/web_hold.py

# wait_line FILE PATTERN [SECONDS]: until FILE has a line matching PATTERN.
wait_line() {
	local i=0 limit=$(( ${3:-120} * 5 ))
	until grep -q "$2" "$1" 2>/dev/null; do
		[ $i -lt $limit ] || fail "no '$2' in $1 within ${3:-120}s: $(cat "$1" 2>/dev/null)"
		sleep 0.2
		i=$((i + 1))
	done
}
get_from() { curl -s -m 30 --interface "$1" -o /dev/null -w '%{http_code}' "$U/login" || true; }
kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

step "defaults: 3 LAN addresses leave 40 connections each open; the page still answers everyone"
write_config
daemon_start
U=$(web_url)
P=${U##*:}
for s in 2 3 4; do
	mkfifo "$T/in.$s"
	python3 "$HOLD" idle "$P" "127.0.0.$s" 40 <"$T/in.$s" >"$T/idle.$s" &
	track_pid $!
	exec {fd}>"$T/in.$s" # keeps the helper's stdin open until the scenario ends
done
for s in 2 3 4; do wait_line "$T/idle.$s" '^open'; done
held=$(cat "$T"/idle.? | awk '/^open/ { print $2 }' | tr '\n' ' ')
for n in $held; do
	[ "$n" -le 16 ] || fail "one address kept $n connections open (max_per_ip is 16): $held"
done
[ "$(get_from 127.0.0.5)" = 200 ] || fail "another LAN PC got no page while 3 addresses held connections ($held)"
[ "$(get_from 127.0.0.1)" = 200 ] || fail "the box's console got no page while 3 addresses held connections"
ok "open per address: $held (max 16); another PC and the console answered 200"
daemon_stop
for s in 2 3 4; do rm -f "$T/in.$s" "$T/idle.$s"; done

step "a small pool filled by the LAN: the console's reserve answers; idle connections are closed"
write_config "web.max_connections = 40" "web.console_reserve = 8" "web.timeout_s = 5"
daemon_start
U=$(web_url)
P=${U##*:}
for s in 2 3 4; do
	mkfifo "$T/in.$s"
	python3 "$HOLD" idle "$P" "127.0.0.$s" 20 <"$T/in.$s" >"$T/idle.$s" &
	track_pid $!
	exec {fd}>"$T/in.$s"
done
for s in 2 3 4; do wait_line "$T/idle.$s" '^open'; done
held=$(cat "$T"/idle.? | awk '/^open/ { s += $2 } END { print s }')
[ "$held" -le 32 ] || fail "other computers hold $held connections; 40 - 8 for the console allows 32"
[ "$(get_from 127.0.0.1)" = 200 ] || fail "the console got no page while the LAN held $held connections"
for s in 2 3 4; do wait_line "$T/idle.$s" '^closed' 120; done
[ "$(get_from 127.0.0.5)" = 200 ] || fail "a LAN PC got no page after the idle connections were closed"
ok "LAN held $held of 40, the console answered; idle ones closed (timeout_s = 5), the LAN answered again"
daemon_stop

step "24 large anonymous POST /verify at once: memory bounded, the rest told to try again"
write_config "web.verify_memory_mb = 48" "web.max_upload_mb = 20"
# A trust list, so that /verify reaches a verdict (a self-signed test certificate).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/tl.key" -out "$T/tl.pem" \
	-subj "/CN=TEST web_limits" -days 2 2>/dev/null || fail "openssl could not make a test certificate"
printf '[sign]\ntrust_file = %s\n' "$T/tl.pem" >>"$CONF"
daemon_start
U=$(web_url)
P=${U##*:}
rss0=$(kb "$DPID" VmRSS)
mkfifo "$T/post.in"
python3 "$HOLD" post "$P" 127.0.0.2,127.0.0.3,127.0.0.4 8 $((8 * 1024 * 1024)) <"$T/post.in" >"$T/post.out" &
track_pid $!
exec {pfd}>"$T/post.in"
wait_line "$T/post.out" '^held' 300
rss=$(kb "$DPID" VmRSS)
head -c $((8 * 1024 * 1024)) /dev/urandom >"$T/big.pdf"
c=$(curl -s -m 120 --interface 127.0.0.5 -o "$T/busy.html" -w '%{http_code}' -F "pdf=@$T/big.pdf;type=application/pdf" "$U/verify" || true)
[ "$c" = 503 ] || fail "a 25th large /verify while 24 were held gave $c, not 503"
grep -q "Máy chủ đang bận.*thử lại" "$T/busy.html" || fail "the 503 page does not say to try again (in Vietnamese): $(cat "$T/busy.html")"
echo go >&$pfd
wait_line "$T/post.out" '^codes' 300
hwm=$(kb "$DPID" VmHWM)
codes=$(sed -n 's/^codes //p' "$T/post.out")
n200=$(echo "$codes" | tr ' ' '\n' | grep -c '^200$' || true)
n503=$(echo "$codes" | tr ' ' '\n' | grep -c '^503busy$' || true)
echo "      VmRSS before ${rss0} kB, while held ${rss} kB, VmHWM after ${hwm} kB; answers: $codes"
# 24 x 8 MB = 192 MB sent; the budget is 48 MB: allow it twice over plus 64 MB of threads.
bound=$((rss0 + 160 * 1024))
[ "$rss" -le "$bound" ] || fail "motcuad's memory grew from ${rss0} to ${rss} kB while 24 x 8 MB were held (bound ${bound} kB)"
[ "$hwm" -le "$bound" ] || fail "motcuad's peak memory reached ${hwm} kB (bound ${bound} kB)"
[ "$n200" -ge 1 ] || fail "no held /verify was answered: $codes"
[ "$n503" -ge 1 ] || fail "none of the 24 held /verify was refused as busy: $codes"
[ $((n200 + n503)) -eq 24 ] || fail "some held /verify got neither a verdict nor 'busy': $codes"
printf '%%PDF-1.4\nnot a copy\n' >"$T/small.pdf"
c=$(curl -s -m 60 -o "$T/v.html" -w '%{http_code}' -F "pdf=@$T/small.pdf;type=application/pdf" "$U/verify")
[ "$c" = 200 ] || fail "/verify after the flood gave $c"
grep -q 'data-verdict="invalid"' "$T/v.html" || fail "/verify after the flood gave no verdict"
ok "$n200 checked, $n503 refused with 503; memory ${rss0} -> ${rss} kB (peak ${hwm}); /verify works after"
daemon_stop
