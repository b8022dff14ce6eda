#!/bin/bash
# The staff page's walls, over real HTTP on loopback with curl: every route without a
# session is refused, every POST without the session's CSRF token is refused, staff cannot
# reach admin actions, logins lock after repeated failures, one-time passwords must be
# changed first, API tokens gate /api/v1 and /metrics, uploads obey the limits, and every
# login, failure and change is in the audit chain.  motcuactl users works without a terminal.
set -eu
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || skip "curl is not installed"

write_config "web.login_max_failures = 3" "web.login_lockout_s = 600" "web.max_upload_mb = 1"
daemon_start
U=$(web_url)
J=$T/jar
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
csrf_of() { grep -o 'name="csrf" value="[0-9a-f]*"' | head -n 1 | sed 's/.*value="//; s/"$//'; }

step "motcuactl users: non-interactive add (password file, stdin), refusals"
printf 'first-admin-otp-1\n' >"$T/pw"; chmod 600 "$T/pw"
ctl users add boss --role admin --one-time --password-file "$T/pw" | grep -q "one-time" || fail "users add --password-file"
echo "staff-password-1" | ctl users add an --role staff >/dev/null || fail "users add from stdin"
echo "short" | ctl users add shorty 2>"$T/err" && fail "a 5-character password was accepted"
grep -q "10 to 128" "$T/err" || fail "short password refusal does not say the rule: $(cat "$T/err")"
echo "another-password" | ctl users add an 2>/dev/null && fail "a second 'an' was accepted"
echo "another-password" | ctl users add 'Bad Name' 2>/dev/null && fail "a bad user name was accepted"
ctl users list | grep -q "boss.*admin.*one-time" || fail "users list: $(ctl users list)"
[ "$(sql "SELECT hash LIKE '\$argon2id\$%' FROM users WHERE name='an'")" = 1 ] || fail "password not stored as argon2id"
sql "SELECT hash FROM users" | grep -q "staff-password" && fail "a password is stored in clear"
ok "accounts added without a terminal; argon2id hashes only"

step "without a session: every route is refused, public ones answer"
for p in / /devices /documents /documents/0123456789abcdef0123456789abcdef \
	/documents/0123456789abcdef0123456789abcdef/raw /outbox /audit "/audit?verify=1" /settings /users \
	/account /queue /copies /no/such/page; do
	c=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$U$p")
	case "$c" in "303 $U/login?next="*) ;; *) fail "GET $p without a session gave '$c'" ;; esac
done
for p in /api/v1/status /api/v1/documents /api/v1/outbox /api/v1/devices /api/v1/audit /metrics; do
	[ "$(code "$U$p")" = 401 ] || fail "GET $p without a token gave $(code "$U$p")"
done
for p in /logout /devices /documents /outbox /users /account; do
	c=$(code -d "csrf=x&id=1" "$U$p")
	[ "$c" = 401 ] || fail "POST $p without a session gave $c"
done
[ "$(code "$U/login")" = 200 ] || fail "/login is not public"
[ "$(code "$U/healthz")" = 200 ] || fail "/healthz is not public"
[ "$(code "$U/verify")" = 200 ] || fail "/verify (public) gave $(code "$U/verify")"
[ "$(code "$U/static/app.css")" = 200 ] || fail "the stylesheet is not public"
ok "28 routes refused without a session, 4 public ones answer"

login() { # name password -> HTTP code of the POST; cookies in $J
	rm -f "$J"
	local t
	t=$(curl -s -c "$J" -b "$J" "$U/login" | csrf_of)
	curl -s -o "$T/login.out" -D "$T/login.hdr" -w '%{http_code}' -c "$J" -b "$J" \
		--data-urlencode "csrf=$t" --data-urlencode "name=$1" --data-urlencode "password=$2" \
		--data-urlencode "next=/" "$U/login"
}

step "login: CSRF, one-time password, cookie flags"
rm -f "$J"
[ "$(code -c "$J" -b "$J" -d "name=boss&password=first-admin-otp-1" "$U/login")" = 403 ] ||
	fail "a login POST without the form's token was accepted"
c=$(login boss first-admin-otp-1)
[ "$c" = 303 ] || fail "admin login gave $c"
grep -qi '^location: /account' "$T/login.hdr" || fail "a one-time password did not lead to /account"
grep -i '^set-cookie: motcua_session=' "$T/login.hdr" | grep -qi 'HttpOnly; SameSite=Strict' ||
	fail "session cookie lacks HttpOnly/SameSite: $(grep -i set-cookie "$T/login.hdr")"
c=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -b "$J" "$U/")
[ "$c" = "303 $U/account" ] || fail "with a one-time password / gave '$c', not the account page"
t=$(curl -s -b "$J" "$U/account" | csrf_of)
[ "$(code -b "$J" -c "$J" --data-urlencode "csrf=$t" -d "old=first-admin-otp-1&new=admin-password-2&again=admin-password-2" "$U/account")" = 303 ] ||
	fail "changing the one-time password failed"
[ "$(code -b "$J" "$U/")" = 200 ] || fail "dashboard after the password change"
[ "$(sql "SELECT must_change FROM users WHERE name='boss'")" = 0 ] || fail "one-time mark not cleared"
ok "login needs its form token; one-time password changed before anything else"

step "every POST without the session's CSRF token is refused and changes nothing"
before=$(sql "SELECT (SELECT COUNT(*) FROM users) || '/' || (SELECT COUNT(*) FROM api_tokens) || '/' || (SELECT COUNT(*) FROM audit)")
for p in /logout /devices /outbox /users /account; do
	for form in "do=add&name=eve&role=admin&password=eve-password-1&id=1&verb=approve" \
		"csrf=0000000000000000000000000000000000000000000000000000000000000000&do=token_add&name=x&id=1"; do
		c=$(code -b "$J" -d "$form" "$U$p")
		[ "$c" = 403 ] || fail "POST $p with form '$form' gave $c, not 403"
	done
done
printf '%%PDF-1.4\nx\n' >"$T/doc.pdf"
c=$(code -b "$J" -F "file=@$T/doc.pdf" "$U/documents")
[ "$c" = 403 ] || fail "an upload without the token gave $c"
after=$(sql "SELECT (SELECT COUNT(*) FROM users) || '/' || (SELECT COUNT(*) FROM api_tokens) || '/' || (SELECT COUNT(*) FROM audit)")
[ "$before" = "$after" ] || fail "refused POSTs changed something: $before -> $after"
[ "$(sql "SELECT COUNT(*) FROM documents")" = 0 ] || fail "a refused upload stored a document"
ok "12 forged POSTs and a forged upload refused; users, tokens, audit and documents unchanged"

step "uploads: stored through the intake, limits and formats refused with nothing stored"
t=$(curl -s -b "$J" "$U/documents" | csrf_of)
mkdoc "$T/ok.pdf" 5000
c=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -b "$J" -F "csrf=$t" -F "file=@$T/ok.pdf" "$U/documents")
case "$c" in "303 $U/documents/"*"?msg=uploaded") ;; *) fail "upload gave '$c'" ;; esac
id=$(sql "SELECT id FROM documents")
[ "$(sql "SELECT source || ' ' || name FROM documents")" = "web ok.pdf" ] || fail "upload row: $(sql 'SELECT * FROM documents')"
curl -s -b "$J" "$U/documents/$id/raw" -o "$T/back.pdf"
cmp -s "$T/back.pdf" "$T/ok.pdf" || fail "the document does not come back byte for byte"
get_same "$id" "$T/ok.pdf"
mkdoc "$T/big.pdf" $((2 * 1024 * 1024))
[ "$(code -b "$J" -F "csrf=$t" -F "file=@$T/big.pdf" "$U/documents")" = 413 ] || fail "a 2 MB upload over the 1 MB limit was not 413"
head -c 3000 /dev/urandom >"$T/junk.bin"
[ "$(code -b "$J" -F "csrf=$t" -F "file=@$T/junk.bin" "$U/documents")" = 415 ] || fail "a non-document was not 415"
[ "$(sql "SELECT COUNT(*) FROM documents")" = 1 ] || fail "refused uploads stored something"
blobs_tmp_empty
ok "upload stored and read back; 2 MB (limit 1) -> 413, junk -> 415, nothing else stored"

step "limits: oversized headers and form bodies"
c=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 40000 /dev/zero | tr '\0' a)" "$U/healthz" || true)
[ "$c" != 200 ] || fail "a 40 KB header was accepted"
c=$(head -c 100000 /dev/zero | tr '\0' a | curl -s -o /dev/null -w '%{http_code}' -b "$J" --data-binary @- "$U/outbox")
[ "$c" = 413 ] || fail "a 100 KB form body gave $c"
ok "40 KB header refused ($c for the body too large)"

step "staff cannot reach admin pages or actions"
c=$(login an staff-password-1)
[ "$c" = 303 ] || fail "staff login gave $c"
for p in / /documents /outbox /devices /account; do
	[ "$(code -b "$J" "$U$p")" = 200 ] || fail "staff GET $p gave $(code -b "$J" "$U$p")"
done
for p in /audit /settings /users; do
	[ "$(code -b "$J" "$U$p")" = 403 ] || fail "staff GET $p gave $(code -b "$J" "$U$p")"
done
t=$(curl -s -b "$J" "$U/" | csrf_of)
[ -n "$t" ] || fail "no CSRF token on the staff dashboard"
[ "$(code -b "$J" --data-urlencode "csrf=$t" -d "do=add&name=eve&role=admin&password=eve-password-1" "$U/users")" = 403 ] ||
	fail "staff could post to /users"
[ "$(code -b "$J" --data-urlencode "csrf=$t" -d "id=kiosk-1&verb=approve" "$U/devices")" = 403 ] ||
	fail "staff could post a device decision"
[ "$(sql "SELECT COUNT(*) FROM users WHERE name='eve'")" = 0 ] || fail "staff created an account"
curl -s -b "$J" "$U/" | grep -q 'href="/settings"' && fail "staff see the admin menu"
ok "staff: 5 pages yes, 3 admin pages and 2 admin actions 403"

step "logout ends the session for good"
cp "$J" "$T/old-jar"
[ "$(code -b "$J" --data-urlencode "csrf=$t" "$U/logout")" = 303 ] || fail "logout"
c=$(curl -s -o /dev/null -w '%{http_code}' -b "$T/old-jar" "$U/")
[ "$c" = 303 ] || fail "the old session cookie still works after logout ($c)"
ok "logged out; the old cookie is refused"

step "lock-out after 3 failures, even with the right password"
for i in 1 2 3; do
	c=$(login an wrong-password-$i)
	[ "$c" = 401 ] || fail "wrong password $i gave $c"
done
c=$(login an staff-password-1)
[ "$c" = 429 ] || fail "the right password during lock-out gave $c, not 429"
grep -q "phút" "$T/login.out" || fail "the lock-out page does not say how long (in Vietnamese)"
c=$(login nobody some-password-1)
[ "$c" = 401 ] || fail "an unknown user gave $c"
ok "locked after 3 failures (429 with the wait); unknown user 401"

step "API tokens: created by an admin, shown once, gate /api/v1 and /metrics, revocable"
c=$(login boss admin-password-2)
t=$(curl -s -b "$J" "$U/users" | csrf_of)
tok=$(curl -s -b "$J" --data-urlencode "csrf=$t" -d "do=token_add&name=prometheus" "$U/users" |
	grep -o 'id="new-token">mct_[0-9a-f]*' | sed 's/.*>//')
[ -n "$tok" ] || fail "no token shown"
sql "SELECT hash FROM api_tokens" | grep -q "${tok#mct_}" && fail "the token is stored in clear"
curl -s -H "Authorization: Bearer $tok" "$U/api/v1/status" >"$T/status.json"
python3 -c "import json,sys; d=json.load(open('$T/status.json')); assert d['intake']['total']==1 and d['link']['state']=='off', d" ||
	fail "API status: $(cat "$T/status.json")"
curl -s -H "Authorization: Bearer $tok" "$U/api/v1/documents" | grep -q "\"id\":\"$id\"" || fail "API documents"
curl -s -H "Authorization: Bearer $tok" "$U/metrics" >"$T/metrics"
for m in motcua_backlog_bytes motcua_backlog_oldest_age_seconds 'motcua_link_up 0' 'motcua_documents_total 1' \
	motcua_devices motcua_http_request_duration_seconds_bucket; do
	grep -q "^$m" "$T/metrics" || fail "/metrics lacks $m"
done
[ "$(code -H "Authorization: Bearer mct_${tok#mct_}x" "$U/api/v1/status")" = 401 ] || fail "a wrong token was accepted"
tid=$(sql "SELECT id FROM api_tokens")
[ "$(code -b "$J" --data-urlencode "csrf=$t" -d "do=token_revoke&id=$tid" "$U/users")" = 303 ] || fail "revoke"
[ "$(code -H "Authorization: Bearer $tok" "$U/api/v1/status")" = 401 ] || fail "a revoked token still works"
ok "token works for /api/v1 and /metrics, wrong and revoked tokens 401"

step "document list pages by sequence: older and newest links"
for i in $(seq 1 55); do
	printf '%%PDF-1.4 page test %d\n' "$i" >"$T/p$i.pdf"
	ctl doc put "$T/p$i.pdf" >/dev/null || fail "doc put $i"
done
curl -s -b "$J" "$U/documents" >"$T/page1.html"
next=$(grep -o 'rel="next" href="/documents?q=&amp;before=[0-9]*"' "$T/page1.html" | grep -o 'before=[0-9]*')
[ -n "$next" ] || fail "the first page of 56+ documents has no link to older ones"
grep -q 'href="/documents?q="' "$T/page1.html" && fail "the first page links to the newest page"
curl -s -b "$J" "$U/documents?$next" >"$T/page2.html"
grep -q 'href="/documents?q="' "$T/page2.html" || fail "an older page has no link back to the newest"
grep -q 'rel="next"' "$T/page2.html" && fail "the last page links to older ones"
ok "56 documents: page 1 links to older ($next), page 2 back to the newest and no further"

step "the audit chain holds every login, failure and change, and verifies"
for a in user.add user.passwd login login.failed logout token.add token.revoke document.intake; do
	[ "$(sql "SELECT COUNT(*) FROM audit WHERE action = '$a'")" -ge 1 ] || fail "no '$a' row in the audit chain"
done
[ "$(sql "SELECT COUNT(*) FROM audit WHERE action = 'login.failed' AND subject = 'an'")" -ge 4 ] || fail "failures not audited"
sql "SELECT detail FROM audit" | grep -q "wrong-password" && fail "a tried password reached the audit chain"
ctl audit verify >/dev/null || fail "audit chain does not verify"
ok "audited and verified"
daemon_stop
