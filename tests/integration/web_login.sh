#!/bin/bash
# What a stranger on the office LAN tries against the login, over real HTTP on loopback
# (other sources are other loopback addresses: 127.0.0.2, .3, .4 stand for LAN PCs):
# redirects go only to this site's paths (/lang?back=, login next=, control characters,
# backslashes and scheme-relative forms refused); parallel wrong guesses cannot get more
# checks than the lock-out allows; a stranger's guesses lock only the stranger's address,
# never the admin at the box; unknown and real user names get the same answers, locks
# included, and a name that is no account is not stored in clear.
set -eu
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || skip "curl is not installed"
rc=0
curl -s --interface 127.0.0.2 -o /dev/null http://127.0.0.1:9/ 2>/dev/null || rc=$?
[ $rc -ne 45 ] || skip "cannot use 127.0.0.2 as a source address here"

# Connection limits high enough that the parallel guesses all reach the login check.
write_config "web.login_max_failures = 3" "web.login_lockout_s = 600" "web.max_per_ip = 64" \
	"web.max_connections = 128"
daemon_start
U=$(web_url)
csrf_of() { grep -o 'name="csrf" value="[0-9a-f]*"' | head -n 1 | sed 's/.*value="//; s/"$//'; }
echo "admin-password-1" | ctl users add boss --role admin >/dev/null || fail "users add boss"
echo "staff-password-1" | ctl users add an --role staff >/dev/null || fail "users add an"

# login_from SOURCE NAME PASSWORD [NEXT] -> HTTP code; headers in $T/login.hdr, page in $T/login.out
login_from() {
	local src=$1 jar=$T/jar.$1 t
	rm -f "$jar"
	t=$(curl -s --interface "$src" -c "$jar" -b "$jar" "$U/login" | csrf_of)
	curl -s --interface "$src" -o "$T/login.out" -D "$T/login.hdr" -w '%{http_code}' -c "$jar" -b "$jar" \
		--data-urlencode "csrf=$t" --data-urlencode "name=$2" --data-urlencode "password=$3" \
		--data-urlencode "next=${4:-/}" "$U/login"
}
location() { grep -i '^location:' "$1" | head -n 1 | sed 's/^[Ll]ocation: *//' | tr -d '\r'; }

step "redirects: only this site's paths, from /lang?back= and the login's next"
bad='/%09/evil.example /%0a/evil.example /%0d/evil.example //evil.example /%5Cevil.example
%5C%5Cevil.example /%5C/evil.example https://evil.example evil.example /%7F/evil.example
/%09%09/evil.example /%0d%0aSet-Cookie:%20x=1'
n=0
for b in $bad; do
	curl -s -o /dev/null -D "$T/lang.hdr" "$U/lang?to=en&back=$b"
	[ "$(location "$T/lang.hdr")" = / ] || fail "/lang?back=$b redirected to '$(location "$T/lang.hdr")'"
	grep -qi '^set-cookie: *x=1' "$T/lang.hdr" && fail "/lang?back=$b set a cookie of the attacker's"
	n=$((n + 1))
done
curl -s -o /dev/null -D "$T/lang.hdr" "$U/lang?to=en&back=%2Fdocuments%3Fq%3Dab"
[ "$(location "$T/lang.hdr")" = "/documents?q=ab" ] || fail "/lang lost a same-site path: $(location "$T/lang.hdr")"
for b in '/	/evil.example' '/
/evil.example' '/\evil.example' '//evil.example' 'https://evil.example'; do
	c=$(login_from 127.0.0.1 an staff-password-1 "$b")
	[ "$c" = 303 ] || fail "login with next='$b' gave $c"
	[ "$(location "$T/login.hdr")" = / ] || fail "login next='$b' redirected to '$(location "$T/login.hdr")'"
done
c=$(login_from 127.0.0.1 an staff-password-1 /outbox)
[ "$(location "$T/login.hdr")" = /outbox ] || fail "login lost next=/outbox: $(location "$T/login.hdr")"
curl -s "$U/login?next=%2F%09%2Fevil.example" | grep -o 'name="next" value="[^"]*"' >"$T/next"
grep -q 'value="/"' "$T/next" || fail "the login form carries a foreign next: $(cat "$T/next")"
ok "$n forged back= and 5 forged next= values all went to /; same-site paths kept"

step "20 wrong guesses at once from one address: no more checks than the lock-out allows"
t=$(curl -s --interface 127.0.0.3 -c "$T/jar.race" -b "$T/jar.race" "$U/login" | csrf_of)
pids=
for i in $(seq 1 20); do
	curl -s -m 120 --interface 127.0.0.3 -o /dev/null -w '%{http_code}\n' -b "$T/jar.race" \
		--data-urlencode "csrf=$t" --data-urlencode "name=an" --data-urlencode "password=wrong-guess-$i" \
		--data-urlencode "next=/" "$U/login" >"$T/race.$i" &
	pids="$pids $!"
done
for p in $pids; do wait "$p" || true; done
cat "$T"/race.* | sort | uniq -c | sed 's/^/      /'
checked=$(cat "$T"/race.* | grep -c '^401$' || true)
locked=$(cat "$T"/race.* | grep -c '^429$' || true)
[ $((checked + locked)) -eq 20 ] || fail "of 20 parallel guesses only $((checked + locked)) were answered 401 or 429"
[ "$checked" -le 3 ] || fail "$checked parallel wrong guesses were checked; the lock-out allows 3"
c=$(login_from 127.0.0.3 an staff-password-1)
[ "$c" = 429 ] || fail "the right password from the locked address gave $c, not 429"
audited=$(sql "SELECT COUNT(*) FROM audit WHERE action = 'login.failed' AND detail LIKE '%\"why\":\"password\"%'")
[ "$audited" -le 3 ] || fail "$audited password checks audited for the 20 parallel guesses"
ok "$checked checked and $locked refused as locked; the address stays locked"

step "a stranger's guesses lock the stranger's address, not the admin at the box"
for i in 1 2 3; do
	c=$(login_from 127.0.0.2 boss "wrong-password-$i")
	[ "$c" = 401 ] || fail "stranger's wrong guess $i gave $c"
done
c=$(login_from 127.0.0.2 boss admin-password-1)
[ "$c" = 429 ] || fail "the stranger's address is not locked after 3 failures ($c)"
grep -q "phút" "$T/login.out" || fail "the lock-out page does not say how long (in Vietnamese)"
c=$(login_from 127.0.0.1 boss admin-password-1)
[ "$c" = 303 ] || fail "the admin at the box could not log in while a stranger was locked out ($c)"
c=$(login_from 127.0.0.1 an staff-password-1)
[ "$c" = 303 ] || fail "staff at the box could not log in while another address was locked ($c)"
J=$T/jar.127.0.0.1
c=$(login_from 127.0.0.1 boss admin-password-1)
curl -s -b "$J" "$U/users" >"$T/users.html"
grep -q "tạm khóa đăng nhập từ một máy" "$T/users.html" ||
	fail "the users page does not show the lock-out: $(grep -o '<td>[^<]*</td>' "$T/users.html" | head)"
ok "127.0.0.2 locked out; boss and an log in from 127.0.0.1"

step "unknown and real names: the same answers, locks included; unknown names not stored"
c1=$(login_from 127.0.0.4 boss wrong-password-x)
grep -o '<p class="err"[^<]*' "$T/login.out" >"$T/known.msg"
c2=$(login_from 127.0.0.4 nobody-here wrong-password-x)
grep -o '<p class="err"[^<]*' "$T/login.out" >"$T/unknown.msg"
[ "$c1" = "$c2" ] || fail "a real name gave $c1 and an unknown one $c2"
cmp -s "$T/known.msg" "$T/unknown.msg" || fail "different messages: $(cat "$T/known.msg") / $(cat "$T/unknown.msg")"
for i in 2 3; do
	c=$(login_from 127.0.0.4 nobody-here "wrong-password-$i")
	[ "$c" = 401 ] || fail "unknown name guess $i gave $c"
done
c=$(login_from 127.0.0.4 nobody-here some-password-1)
[ "$c" = 429 ] || fail "an unknown name is not locked like a real one after 3 failures ($c): a stranger tells names apart"
c=$(login_from 127.0.0.4 correct-horse-battery-9 some-password-1)
[ "$c" = 401 ] || fail "a password typed as a name gave $c"
sql .dump | grep -q "nobody-here\|correct-horse" && fail "a name that is no account is stored in clear"
ok "401/401 with the same message, unknown name locked after 3 (429), no typed name stored"

daemon_stop
