#!/bin/bash
# What an official reads on the staff page is words and local time, never the store's codes:
# over real HTTP, after documents from the command line, a refused upload item, a staff login
# and a new account, the dashboard, the document list and page, the outbox and the audit log
# show times as dd/mm/yyyy HH:MM in the configured zone (Asia/Ho_Chi_Minh, not the box's UTC),
# actions, kinds, sources and states in Vietnamese, the audit detail as labelled lines; the
# outbox lists what waits (by the document's name) and what the city refused with what to do;
# the dashboard names each feature that is off and whom to ask; and a printout of a page
# leaves out the menu and the forms.
set -eu
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || skip "curl is not installed"
[ -e /usr/share/zoneinfo/Asia/Ho_Chi_Minh ] || skip "tzdata is not installed (make deps)"

write_config
daemon_start
U=$(web_url)
J=$T/jar

step "a day's traces: documents from the command line, an account, a login, a refused item"
mkdir -p "$T/in"
for n in "Giay khai sinh" "To khai" "Ban sao so ho khau"; do
	mkdoc "$T/in/$n" 3000
	put_ok "$T/in/$n" >/dev/null
done
printf 'words-admin-password\n' | ctl users add chi --role admin >/dev/null
# The city's refusal of one item, as the uplink records it (uplink_reject proves that path).
sql "UPDATE outbox SET state = 'rejected', reason = 'Thiếu chữ ký số của cơ quan', attempts = 1
     WHERE id = (SELECT MIN(id) FROM outbox)"
csrf_of() { grep -o 'name="csrf" value="[0-9a-f]*"' | head -n 1 | sed 's/.*value="//; s/"$//'; }
t=$(curl -s -c "$J" -b "$J" "$U/login" | csrf_of)
c=$(curl -s -o /dev/null -w '%{http_code}' -c "$J" -b "$J" --data-urlencode "csrf=$t" \
	--data-urlencode "name=chi" --data-urlencode "password=words-admin-password" \
	--data-urlencode "next=/" "$U/login")
[ "$c" = 303 ] || fail "login answered $c"
ok "3 documents, 1 account, 1 login, 1 refused item"

# text PATH: the page's visible text (tags removed), and the page itself in $T/page.html.
text() {
	curl -s -b "$J" -o "$T/page.html" -w '%{http_code}' "$U$1" >"$T/code"
	[ "$(cat "$T/code")" = 200 ] || fail "GET $1 answered $(cat "$T/code")"
	sed 's/<[^>]*>/ /g' "$T/page.html"
}
today=$(TZ=Asia/Ho_Chi_Minh date +%d/%m/%Y)
id=$(sql "SELECT id FROM documents ORDER BY seq DESC LIMIT 1")

step "no page shows a UTC timestamp or a code of the store"
codes='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}|UTC|document\.intake|user\.add|login\.failed|\bcli:|\bweb:|\bqueued\b|\brejected\b|application/pdf|\bupload\b'
for p in / /documents "/documents/$id" /outbox /audit; do
	text "$p" >"$T/text"
	if grep -Eo "$codes" "$T/text" | head -n 3 | grep -q .; then
		fail "$p shows codes: $(grep -Eo "$codes" "$T/text" | sort -u | head -n 5 | tr '\n' ' ')"
	fi
done
ok "/, /documents, a document, /outbox, /audit: no ISO time, no raw action, state, kind or type"

step "times are local (Asia/Ho_Chi_Minh), written dd/mm/yyyy"
text /documents | grep -q "$today [0-9][0-9]:[0-9][0-9]" || fail "/documents shows no time of $today"
# The received time of the newest document, computed here from the stored UTC time.
stored=$(sql "SELECT received_at FROM documents WHERE id = '$id'")
want=$(TZ=Asia/Ho_Chi_Minh date -d "${stored%%.*}Z" '+%d/%m/%Y %H:%M' 2>/dev/null ||
	TZ=Asia/Ho_Chi_Minh date -d "$(echo "$stored" | sed 's/\.[0-9]*Z$/Z/')" '+%d/%m/%Y %H:%M')
text "/documents/$id" | grep -q "$want" || fail "the document page does not show $want (stored $stored)"
ok "document received $stored shown as $want"

step "the document page and list say kind, source and format in words"
text "/documents/$id" >"$T/text"
grep -q "Dòng lệnh" "$T/text" || fail "source 'cli' not shown as Dòng lệnh"
grep -q "PDF" "$T/text" || fail "content type not shown as PDF"

step "the outbox lists what waits by name, and what the city refused with what to do"
text /outbox >"$T/text"
grep -q "Đang chờ gửi lên thành phố" "$T/text" || fail "/outbox has no waiting list"
grep -q "Ban sao so ho khau" "$T/text" || fail "/outbox does not name the waiting document"
grep -q "Chờ gửi" "$T/text" || fail "/outbox does not say the state in words"
grep -q "Thiếu chữ ký số của cơ quan" "$T/text" || fail "/outbox does not show the city's reason"
grep -q "Gửi lại" "$T/text" || fail "/outbox does not say what to do with a refused item"
[ "$(grep -o '<tr id="ob-' "$T/page.html" | wc -l)" -eq 3 ] || fail "/outbox should list 3 items (2 waiting, 1 refused)"
ok "2 waiting by name, 1 refused with the reason and the retry"

step "the audit log names actions and who did them in words, details labelled"
text /audit >"$T/text"
grep -q "Tiếp nhận tài liệu" "$T/text" || fail "document.intake not in words"
grep -q "Thêm người dùng" "$T/text" || fail "user.add not in words"
grep -q "Đăng nhập" "$T/text" || fail "the login not in words"
grep -q "root (dòng lệnh)\|(dòng lệnh)" "$T/text" || fail "a command-line actor not in words"
grep -q "Dung lượng: " "$T/text" || fail "audit details not labelled"
ok "actions, actors and details in words"

step "the dashboard names what is off on this box and whom to ask"
# This scenario's box has no uplink, no procedure catalogue (the packaged path is absent here)
# and no signer: the official reads that, in words, on the first page.
text / >"$T/text"
for f in uplink dossiers copies; do
	grep -q "id=\"off-$f\"" "$T/page.html" || fail "the dashboard does not say that $f is off"
done
grep -q "Tính năng đang tắt" "$T/text" || fail "no 'features that are off' tile"
grep -q "Nhờ bộ phận CNTT" "$T/text" || fail "the tile does not say whom to ask"
ok "uplink, dossiers and certified copies named as off, with what to ask IT staff"

step "a printout leaves the menu and the forms out"
curl -s "$U/static/app.css" | grep -q '@media print{header,nav,footer' || fail "no print rules in the stylesheet"
ok "print rules hide header, navigation, footer and forms"
daemon_stop
