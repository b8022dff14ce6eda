#!/bin/bash
# Recognition results where staff work: a synthetic ID card recognised by motcuad's workers
# shows its type, confidence and fields on the document page and in `motcuactl doc show`;
# a result flagged for review carries the mark; a staff correction (plain form, CSRF) is
# stored beside the recognised result (kept unchanged), audited with the field names only,
# shown next to the recognised value and used when a dossier is opened with this card, and a
# bad value is refused naming the field.
set -eu
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || skip "curl is not installed"
command -v jq >/dev/null || skip "jq is not installed"
[ -x "$MOTCUA_BUILD/motcua-recognize" ] || skip "motcua-recognize not built"
[ -f /usr/share/fonts/opentype/ocr-b/OCRB.otf ] || skip "fonts-ocr-b is not installed"
DATA=$MOTCUA_TOP/tests/data/cards

write_config
printf '[recognize]\nworkers = 1\ntimeout_s = 30\n[dossier]\ncatalogue = %s\ncalendar = %s\n' \
	"$MOTCUA_TOP/data/procedures.json" "$MOTCUA_TOP/data/calendar.json" >>"$CONF"
daemon_start
U=$(web_url)
J=$T/jar
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
csrf_of() { grep -o 'name="csrf" value="[0-9a-f]*"' | head -n 1 | sed 's/.*value="//; s/"$//'; }
echo "staff-password-1" | ctl users add an --role staff >/dev/null
t=$(curl -s -c "$J" -b "$J" "$U/login" | csrf_of)
[ "$(code -c "$J" -b "$J" --data-urlencode "csrf=$t" -d "name=an&password=staff-password-1&next=/" "$U/login")" = 303 ] ||
	fail "staff login"

step "a card front is recognised; the page and doc show have its fields"
front=$(put_ok "$DATA/clean-000-front.jpg")
for _ in $(seq 300); do
	[ "$(sql "SELECT state FROM recognitions WHERE doc_id='$front'")" = "done" ] && break
	sleep 0.1
done
[ "$(sql "SELECT state FROM recognitions WHERE doc_id='$front'")" = "done" ] || fail "not recognised"
ctl doc show "$front" | tee "$T/show.txt"
grep -q "^type: *id_card_front" "$T/show.txt" || fail "doc show lacks the type"
grep -q "^review: *no" "$T/show.txt" || fail "doc show review mark"
name=$(ctl --json doc show "$front" | jq -r .result.fields.full_name)
idn=$(ctl --json doc show "$front" | jq -r .result.fields.id_number)
[ -n "$name" ] && [ "$name" != null ] || fail "no full_name recognised"
grep -q "full_name *$name" "$T/show.txt" || fail "doc show does not print the name"
curl -s -b "$J" "$U/documents/$front" >"$T/doc.html"
grep -q '<dd id="rec-type">Căn cước: mặt trước</dd>' "$T/doc.html" || fail "no type (in words) on the page"
grep -q '<dd id="rec-confidence">[0-9]*%</dd>' "$T/doc.html" || fail "no confidence on the page"
grep -q "<tr id=\"f-full_name\"><th scope=\"row\">[^<]*</th><td>$name</td>" "$T/doc.html" || fail "the name is not on the page"
grep -q 'id="needs-review"' "$T/doc.html" && fail "a clean card is marked for review"
size=$(wc -c <"$T/doc.html")
[ "$size" -lt 51200 ] || fail "the document page is $size bytes"
ok "type, confidence and fields shown ($size bytes)"

step "a result flagged for review carries the mark"
sql "UPDATE recognitions SET needs_review = 1 WHERE doc_id='$front'"
curl -s -b "$J" "$U/documents/$front" | grep -q 'id="needs-review"' || fail "no review mark"
ctl doc show "$front" | grep -q "NEEDS REVIEW" || fail "doc show has no review mark"
ok "marked"

post() { # field=value... -> "code location"
	local tok args=()
	tok=$(curl -s -b "$J" "$U/documents/$front" | csrf_of)
	for a in "$@"; do args+=(--data-urlencode "$a"); done
	curl -s -o "$T/post.html" -w '%{http_code} %{redirect_url}' -b "$J" --data-urlencode "csrf=$tok" \
		"${args[@]}" "$U/documents/$front/fields"
}

step "staff correct the name; the original result is kept, the change audited without values"
orig_sha=$(sql "SELECT result_sha256 FROM recognitions WHERE doc_id='$front'")
[ "$(code -b "$J" --data-urlencode "full_name=Trần Văn Sửa" "$U/documents/$front/fields")" = 403 ] ||
	fail "a correction without CSRF was accepted"
[ "$(code --data-urlencode "full_name=X" "$U/documents/$front/fields")" = 401 ] || fail "without a session"
r=$(post "type=id_card_front" "full_name=Trần Văn Sửa" "id_number=$idn")
[ "$r" = "303 $U/documents/$front?msg=corrected" ] || fail "correction gave '$r'"
[ "$(sql "SELECT result_sha256 FROM recognitions WHERE doc_id='$front'")" = "$orig_sha" ] || fail "the recognised result was replaced"
[ "$(sql "SELECT COUNT(*) || ':' || actor || ':' || base_sha256 FROM recog_corrections")" = "1:web:an:$orig_sha" ] ||
	fail "correction row: $(sql 'SELECT * FROM recog_corrections')"
ctl audit tail -n 5 | tee "$T/audit" | grep "document.corrected" | grep -q '"full_name"' || fail "not audited: $(cat "$T/audit")"
grep -q "Sửa" "$T/audit" && fail "the audit holds the new value (personal data)"
curl -s -b "$J" "$U/documents/$front?msg=corrected" >"$T/doc2.html"
grep -q "<tr id=\"f-full_name\"><th scope=\"row\">[^<]*</th><td>$name</td><td>Trần Văn Sửa</td>" "$T/doc2.html" ||
	fail "the page does not show recognised and corrected side by side"
grep -q 'id="needs-review"' "$T/doc2.html" && fail "still marked for review after the correction"
ctl doc show "$front" | grep -q "full_name *$name  -> Trần Văn Sửa" || fail "doc show lacks the correction"
dob=$(ctl --json doc show "$front" | jq -r .result.fields.date_of_birth)
[ "$(ctl --json doc show "$front" | jq -r .current.fields.date_of_birth)" = "$dob" ] || fail "a field left out of the form was lost"
ok "kept, corrected, audited"

step "a dossier opened with this ID card takes the corrected name (CLI and web)"
ctl dossier open HT-KS --doc "$front" >"$T/open.txt" || fail "dossier open --doc: $(cat "$T/open.txt")"
did=$(sql "SELECT id FROM dossiers ORDER BY id DESC LIMIT 1")
[ "$(sql "SELECT applicant_name FROM dossiers WHERE id=$did")" = "Trần Văn Sửa" ] ||
	fail "the dossier took '$(sql "SELECT applicant_name FROM dossiers WHERE id=$did")', not the correction"
ctl dossier show "$did" | grep -q "Trần Văn Sửa" || fail "dossier show lacks the corrected name"
curl -s -b "$J" "$U/dossiers/$did" | grep -q "Trần Văn Sửa" || fail "the dossier page lacks the corrected name"
ok "dossier $did: applicant Trần Văn Sửa"

step "bad values are refused in Vietnamese naming the field, the form shown again as typed; nothing changes"
r=$(post "full_name=Trần Văn Gõ" "date_of_birth=31/13/1990")
[ "${r%% *}" = 422 ] || fail "a bad date gave '$r'"
grep -q 'Ô “Ngày sinh” chưa đúng. Ghi ngày theo dạng ngày/tháng/năm' "$T/post.html" || fail "the refusal does not name the field in Vietnamese"
grep -q 'id="in-date_of_birth" name="date_of_birth"[^>]*aria-invalid="true"[^>]*value="31/13/1990"' "$T/post.html" ||
	fail "the refused date is not marked and kept"
grep -q 'id="in-full_name" name="full_name"[^>]*value="Trần Văn Gõ"' "$T/post.html" || fail "the name typed beside it was lost"
grep -q 'date_of_birth must\|YYYY-MM-DD' "$T/post.html" && fail "the core's English reason reached the page"
r=$(post "sex=X")
[ "${r%% *}" = 422 ] && grep -q 'Ô “Giới tính” chưa đúng' "$T/post.html" || fail "a bad sex gave '$r'"
r=$(post "full_name=Trần Văn Sửa")
[ "$r" = "303 $U/documents/$front?msg=unchanged" ] || fail "an unchanged form gave '$r'"
[ "$(sql "SELECT COUNT(*) FROM recog_corrections")" = 1 ] || fail "a refused or empty correction was stored"
daemon_stop
ok "422 with the field named"
