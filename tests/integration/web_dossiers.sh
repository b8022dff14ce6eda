#!/bin/bash
# Dossiers on the staff page over real HTTP with curl (plain forms): staff open a dossier for
# a procedure, see what is missing, attach stored scans to items, and accept it (an
# incomplete one with a note); the list marks an overdue dossier and the dashboard shows the
# late share; the public tracking page shows status and due day by code and no personal
# data; POSTs without a session or the CSRF token change nothing.
set -eu
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || skip "curl is not installed"
top=$(cd "$(dirname "$0")/../.." && pwd)

write_config
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
EOF2
daemon_start
U=$(web_url)
J=$T/jar
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
csrf_of() { grep -o 'name="csrf" value="[0-9a-f]*"' | head -n 1 | sed 's/.*value="//; s/"$//'; }
echo "staff-password-1" | ctl users add an --role staff >/dev/null
ndossiers() { sql "SELECT COUNT(*) FROM dossiers"; }

step "without a session or without the form's token nothing changes"
[ "$(code -d "verb=open&procedure=HT-KS&name=A&id_number=001099012345" "$U/dossiers")" = 401 ] || fail "POST without a session"
[ "$(code "$U/dossiers")" = 303 ] || [ "$(code "$U/dossiers")" = 401 ] || fail "GET /dossiers without a session"
t=$(curl -s -c "$J" -b "$J" "$U/login" | csrf_of)
[ "$(code -c "$J" -b "$J" --data-urlencode "csrf=$t" -d "name=an&password=staff-password-1&next=/" "$U/login")" = 303 ] ||
	fail "staff login"
[ "$(code -b "$J" -d "verb=open&procedure=HT-KS&name=A&id_number=001099012345" "$U/dossiers")" = 403 ] ||
	fail "POST without CSRF was accepted"
[ "$(ndossiers)" = 0 ] || fail "a refused POST opened a dossier"
ok "401 and 403, no dossier"

tok() { curl -s -b "$J" "$U/dossiers" | csrf_of; }
post() { # fields... -> "HTTP location"
	local tk a
	tk=$(tok)
	a=(-s -o "$T/post.out" -w '%{http_code} %{redirect_url}' -b "$J" --data-urlencode "csrf=$tk")
	for f in "$@"; do a+=(--data-urlencode "$f"); done
	curl "${a[@]}" "$U/dossiers"
}

step "a refused opening is shown again in Vietnamese with what was typed"
r=$(post verb=open procedure=HT-KS "name=Nguyễn Văn Gõ" id_number=0010990123)
[ "${r%% *}" = 409 ] || fail "an 10-digit number gave '$r'"
grep -q 'Số định danh cá nhân phải có đúng 12 chữ số' "$T/post.out" || fail "no Vietnamese reason"
grep -q 'id="idn" name="id_number"[^>]*aria-invalid="true"[^>]*value="0010990123"' "$T/post.out" || fail "the number was not kept and marked"
grep -q 'id="name" name="name"[^>]*value="Nguyễn Văn Gõ"' "$T/post.out" || fail "the name was not kept"
grep -q '<option value="HT-KS" selected>' "$T/post.out" || fail "the procedure was not kept"
grep -Eq 'id_number must|applicant|[a-z]+_[a-z]+ must' "$T/post.out" && fail "an English reason or internal key on the page"
r=$(post verb=open procedure=HT-KS doc_code=ffffff0000)
[ "${r%% *}" = 409 ] && grep -q 'Không tìm thấy giấy tờ có mã “ffffff0000”' "$T/post.out" || fail "an unknown paper code gave '$r'"
[ "$(ndossiers)" = 0 ] || fail "a refused opening opened a dossier"
ok "409, reason in Vietnamese, values kept, nothing opened"

step "staff open a dossier and see what is missing"
r=$(post verb=open procedure=HT-KS "name=Nguyễn Văn A" id_number=001099012345)
id=$(sql "SELECT id FROM dossiers ORDER BY id DESC LIMIT 1")
[ "$r" = "303 $U/dossiers/$id" ] || fail "open gave '$r'"
curl -s -b "$J" "$U/dossiers/$id" >"$T/d.html"
grep -q 'id="missing-count">Còn thiếu 3 thành phần' "$T/d.html" || fail "missing count not shown"
[ "$(grep -o "<tr class=\"missing\" data-item=" "$T/d.html" | wc -l)" = 3 ] || fail "missing items not marked"
ok "dossier $id opened, 3 papers missing"

step "attaching scans picked from the list, two in one submit; a typed short code works; refusals in Vietnamese"
mkdoc "$T/a.pdf" 2000
doc=$(put_ok "$T/a.pdf")
mkdoc "$T/b.pdf" 2100
doc2=$(put_ok "$T/b.pdf")
r=$(post verb=attach "id=$id" item=no_such_item "doc=${doc:0:12}")
[ "${r%% *}" = 409 ] && grep -q 'Hãy chọn thành phần hồ sơ trong danh sách' "$T/post.out" || fail "a wrong item gave '$r'"
grep -q "id=\"adoc\" name=\"doc\"[^>]*value=\"${doc:0:12}\"" "$T/post.out" || fail "the typed code was not kept"
r=$(post verb=attach "id=$id")
[ "${r%% *}" = 409 ] && grep -q 'Chưa chọn giấy tờ nào' "$T/post.out" || fail "nothing picked gave '$r'"
curl -s -b "$J" "$U/dossiers/$id" >"$T/d.html"
grep -q "name=\"pick_$doc\"" "$T/d.html" && grep -q "name=\"pick_$doc2\"" "$T/d.html" || fail "the scans are not offered in the list"
r=$(post verb=attach "id=$id" "pick_$doc=1" "item_$doc=to_khai" "pick_$doc2=1" "item_$doc2=giay_chung_sinh")
[ "$r" = "303 $U/dossiers/$id?msg=attached&n=2" ] || fail "two picked in one submit gave '$r'"
[ "$(sql "SELECT group_concat(item || ':' || doc_id, ' ') FROM (SELECT item, doc_id FROM dossier_items WHERE dossier=$id ORDER BY item)")" = "giay_chung_sinh:$doc2 to_khai:$doc" ] ||
	fail "attached: $(sql "SELECT * FROM dossier_items")"
[ "$(post verb=attach "id=$id" item=to_khai "doc=${doc2:0:12}" | cut -d' ' -f1)" = 303 ] || fail "attach by a 12-digit code as the lists show it"
curl -s -b "$J" "$U/dossiers/$id" | grep -q 'id="missing-count">Còn thiếu 1 thành phần' || fail "still 1 missing not shown"
ok "two attached in one submit, one by its short code, one missing"

step "accepting an incomplete dossier needs a note; then it gets a code and a due day"
r=$(post verb=accept "id=$id")
[ "${r%% *}" = 409 ] && grep -q 'Hồ sơ còn thiếu: ' "$T/post.out" || fail "incomplete without a note gave '$r'"
grep -q 'the dossier is incomplete\|staff may accept' "$T/post.out" && fail "the core's English reason reached the page"
grep -q 'id="note" name="note"[^>]*aria-invalid="true"' "$T/post.out" || fail "the note field is not marked"
r=$(post verb=accept "id=$id" "note=ID card shown at the counter")
[ "$r" = "303 $U/dossiers/$id?msg=accepted&printed=0" ] || fail "accept gave '$r'"
dcode=$(sql "SELECT code FROM dossiers WHERE id=$id")
due=$(sql "SELECT due_day FROM dossiers WHERE id=$id")
curl -s -b "$J" "$U/dossiers/$id" | grep -q "<dd id=\"ds-code\">$dcode</dd>" || fail "code not shown"
[ "$(sql "SELECT COUNT(*) FROM outbox WHERE stream='dossiers' AND ref='$dcode'")" = 1 ] || fail "not queued"
ok "accepted as $dcode, due $due"

step "an overdue dossier is marked in the list; the dashboard shows the late share"
r=$(post verb=open procedure=CT-BS "name=Trần Thị B" id_number=001199054321)
id2=${r##*/}
post verb=accept "id=$id2" "note=ok" >/dev/null
sql "UPDATE dossiers SET due_day='2020-01-02' WHERE id=$id2"
curl -s -b "$J" "$U/dossiers" >"$T/list.html"
grep -q "<tr class=\"overdue\" data-flag=\"overdue\"><td><a href=\"/dossiers/$id2\">" "$T/list.html" || fail "overdue not marked"
curl -s -b "$J" "$U/" | grep -q 'id="dossiers-late">50%' || fail "dashboard late share"
ok "overdue row marked, 50% late on the dashboard"

step "the list finds a citizen by name without accents, by the number on the card, by code; filters and order"
post verb=open procedure=HT-KS "name=Đặng Thị Đào" id_number=079188000111 >/dev/null
id3=$(sql "SELECT id FROM dossiers ORDER BY id DESC LIMIT 1")
found() { # query-string -> the listed dossier ids, space separated
	curl -s -b "$J" "$U/dossiers?$1" | grep -o '<tr class="[a-z_]*" data-flag="[a-z_]*"><td><a href="/dossiers/[0-9]*"' |
		sed 's/.*dossiers\///; s/"$//' | tr '\n' ' '
}
[ "$(found "q=nguyen")" = "$id " ] || fail "'nguyen' found '$(found "q=nguyen")'"
[ "$(found "q=dao")" = "$id3 " ] || fail "'dao' (Đào, đ typed as d) found '$(found "q=dao")'"
[ "$(found "q=%C4%91%C3%A0o")" = "$id3 " ] || fail "'đào' found '$(found "q=%C4%91%C3%A0o")'"
[ "$(found "q=TRAN+thi")" = "$id2 " ] || fail "'TRAN thi' found '$(found "q=TRAN+thi")'"
[ "$(found "q=nguy")" = "$id " ] || fail "a word's beginning 'nguy' found '$(found "q=nguy")'"
[ "$(found "q=001099012345")" = "$id " ] || fail "the 12-digit number found '$(found "q=001099012345")'"
[ "$(found "q=0010+9901+2345")" = "$id " ] || fail "the number typed in groups found '$(found "q=0010+9901+2345")'"
[ "$(found "q=001099012346")" = "" ] || fail "another number found something"
[ "$(found "q=$(echo "$dcode" | tr 'A-Z' 'a-z')")" = "$id " ] || fail "the code found '$(found "q=$dcode")'"
[ "$(found "state=open")" = "$id3 " ] || fail "state=open listed '$(found "state=open")'"
[ "$(found "state=accepted&sort=old")" = "$id $id2 " ] || fail "accepted, oldest first listed '$(found "state=accepted&sort=old")'"
[ "$(found "sort=due&state=accepted")" = "$id2 $id " ] || fail "soonest due first listed '$(found "sort=due&state=accepted")'"
today=$(TZ=Asia/Ho_Chi_Minh date +%d/%m/%Y)
yesterday=$(TZ=Asia/Ho_Chi_Minh date -d yesterday +%d/%m/%Y)
[ "$(found "from=$today&to=$today")" = "$id3 $id2 $id " ] || fail "today's dossiers: '$(found "from=$today&to=$today")'"
[ "$(found "to=$yesterday")" = "" ] || fail "opened up to yesterday listed something"
curl -s -b "$J" "$U/dossiers?from=31/02/20x" | grep -q 'Ngày lọc chưa đúng' || fail "a bad date is not explained"
curl -s -b "$J" "$U/dossiers?q=khong+co+ai" | grep -q 'Không có hồ sơ nào khớp' || fail "no match is not explained"
# The lookups read indexes, not the table: the plans SQLite makes for them.
plan=$(sql "EXPLAIN QUERY PLAN SELECT d.id FROM dossiers d WHERE 1 AND d.applicant_id_hash = 'x' ORDER BY d.id DESC")
echo "$plan" | grep -q 'INDEX dossiers_id_hash' || fail "the number lookup scans: $plan"
plan=$(sql "EXPLAIN QUERY PLAN SELECT d.id FROM dossiers d WHERE 1 AND d.id IN (SELECT rowid FROM dossier_names WHERE dossier_names MATCH '\"dao\"*') ORDER BY d.id DESC")
echo "$plan" | grep -q 'VIRTUAL TABLE INDEX' && echo "$plan" | grep -q 'USING INTEGER PRIMARY KEY' || fail "the name lookup scans: $plan"
ok "by name, number, code; state, dates, order; through the name index and dossiers_id_hash"

step "the public tracking page: status and due day by code, no personal data"
curl -s "$U/track?code=$dcode" >"$T/t.html"
grep -q "<dd id=\"t-due\">$(date -d "$due" +%d/%m/%Y)</dd>" "$T/t.html" || fail "tracking lacks the due day (dd/mm/yyyy)"
grep -Eq '[0-9]{4}-[0-9]{2}-[0-9]{2}' "$T/t.html" && fail "tracking shows an ISO date"
# As a citizen types it from the receipt: lower case, spaces around and inside.
spaced="  $(echo "$dcode" | tr 'A-Z' 'a-z' | sed 's/-/ - /')  "
curl -s -G --data-urlencode "code=$spaced" "$U/track" | grep -q "<dd id=\"t-code\">$dcode</dd>" ||
	fail "tracking does not find '$spaced'"
grep -q 'Nguyễn\|2345' "$T/t.html" && fail "tracking shows personal data"
ctl dossier status "$dcode" processing "Đang thẩm định" >/dev/null
curl -s "$U/track?code=$dcode" | grep -q '<dd id="t-status">Đang xử lý</dd>' || fail "tracking lacks the city status"
[ "$(code "$U/track?code=000.00.18.H26-990101-0001")" = 404 ] || fail "unknown code not 404"
ok "tracking by code"
daemon_stop
