#!/bin/bash
# Certified copies on the staff page and the public /verify page, over real HTTP with curl and
# no JavaScript: staff issue a copy from a stored JPEG scan with the official's name (the same
# copy_issue as motcuactl; CSRF enforced), see it in the book and download the signed PDF;
# anyone without a login checks the seal or the PDF on /verify and reads VALID, and a seal
# with one character changed or a PDF with one byte changed reads INVALID with the reason.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/copies_lib.sh"
command -v curl >/dev/null || skip "curl is not installed"

mkdir -m 700 "$T/keys"
ctl keys init --test --dir "$T/keys" >/dev/null || fail "keys init --test failed"
write_config
sign_config "$T/keys/test-signing.key" "$T/keys/test-signing.crt"
daemon_start
U=$(web_url)
J=$T/jar
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
csrf_of() { grep -o 'name="csrf" value="[0-9a-f]*"' | head -n 1 | sed 's/.*value="//; s/"$//'; }
echo "staff-password-1" | ctl users add an --role staff >/dev/null
t=$(curl -s -c "$J" -b "$J" "$U/login" | csrf_of)
[ "$(code -c "$J" -b "$J" --data-urlencode "csrf=$t" -d "name=an&password=staff-password-1&next=/" "$U/login")" = 303 ] ||
	fail "staff login"
make_scan "$T/scan.jpg"
orig=$(put_ok "$T/scan.jpg")
year=$(TZ=Asia/Ho_Chi_Minh date +%Y)

step "staff issue a copy from the web page (CSRF enforced)"
[ "$(code -d "doc=$orig&official=X" "$U/copies")" = 401 ] || fail "POST /copies without a session"
[ "$(code -b "$J" -d "doc=$orig&official=X" "$U/copies")" = 403 ] || fail "POST /copies without CSRF"
[ "$(sql "SELECT COUNT(*) FROM copies")" = 0 ] || fail "a refused POST made a copy"
tok=$(curl -s -b "$J" "$U/copies" | csrf_of)
r=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -b "$J" --data-urlencode "csrf=$tok" \
	--data-urlencode "doc=$orig" --data-urlencode "official=Nguyễn Thị Bình" "$U/copies")
[ "$r" = "303 $U/copies?msg=issued&n=1%2F$year" ] || fail "issue gave '$r'"
[ "$(sql "SELECT state || ':' || official || ':' || original_id FROM copies")" = "issued:Nguyễn Thị Bình:$orig" ] ||
	fail "the book row: $(sql 'SELECT * FROM copies')"
pdf_id=$(sql "SELECT doc_id FROM copies")
curl -s -b "$J" "$U/copies?msg=issued&n=1%2F$year" >"$T/copies.html"
grep -q "/documents/$pdf_id/raw?download=1" "$T/copies.html" || fail "no download link on the book"
grep -q "Nguyễn Thị Bình" "$T/copies.html" || fail "official not listed"
curl -s -b "$J" -o "$T/copy.pdf" "$U/documents/$pdf_id/raw?download=1"
head -c 5 "$T/copy.pdf" | grep -q '%PDF-' || fail "the download is not a PDF"
r=$(curl -s -o "$T/bad.html" -w '%{http_code}' -b "$J" --data-urlencode "csrf=$tok" \
	-d "doc=0123456789abcdef0123456789abcdef" --data-urlencode "official=Lê Văn An" "$U/copies")
[ "$r" = 404 ] && grep -q "class=\"err\"" "$T/bad.html" || fail "a copy of a missing document gave $r"
grep -o "<p class=\"err\"[^<]*" "$T/bad.html"
grep -q 'Không tìm thấy giấy tờ có mã' "$T/bad.html" || fail "the missing document's refusal is not in Vietnamese"
grep -q 'id="cp-official" name="official"[^>]*value="Lê Văn An"' "$T/bad.html" || fail "the official's name typed was not kept"
ctl audit tail -n 30 >"$T/audit"
grep "copy.issue" "$T/audit" | grep -q "web:an" || fail "the issue is not audited as web:an: $(cat "$T/audit")"
ok "copy 1/$year issued by web:an, listed, downloaded"

step "two originals picked from the list are copied in one submit; a refusal keeps what was typed"
make_scan "$T/scan2.jpg"
orig2=$(put_ok "$T/scan2.jpg")
curl -s -b "$J" "$U/copies" >"$T/c.html"
grep -q "name=\"pick_$orig2\"" "$T/c.html" || fail "the scan is not offered in the list"
r=$(curl -s -o "$T/bad.html" -w '%{http_code}' -b "$J" --data-urlencode "csrf=$tok" -d "pick_$orig2=1" \
	--data-urlencode "official=" "$U/copies")
[ "$r" = 409 ] && grep -q 'Hãy nhập họ tên người ký chứng thực' "$T/bad.html" || fail "no official gave $r"
grep -q "name=\"pick_$orig2\" value=\"1\" checked" "$T/bad.html" || fail "the ticked original was not kept"
r=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -b "$J" --data-urlencode "csrf=$tok" \
	-d "pick_$orig2=1" --data-urlencode "doc=${orig:0:12}" --data-urlencode "official=Nguyễn Thị Bình" "$U/copies")
[ "$r" = "303 $U/copies?msg=issued&n=2%2F$year%2C%203%2F$year" ] || fail "two copies gave '$r'"
[ "$(sql "SELECT COUNT(*) FROM copies WHERE state='issued'")" = 3 ] || fail "not three copies in the book"
ok "copies 2 and 3 issued in one submit (one picked, one by its short code)"

seal=$(sql "SELECT seal FROM copies WHERE number = 1")
verify() { curl -s -o "$T/v.html" -w '%{http_code}' "$@" "$U/verify"; }

step "/verify without a login: the seal and the PDF are VALID"
[ "$(code "$U/verify")" = 200 ] || fail "GET /verify"
[ "$(verify --data-urlencode "seal=$seal")" = 200 ] || fail "POST seal"
grep -q 'data-verdict="valid"' "$T/v.html" || fail "the seal is not VALID: $(grep -o '<section id="verdict".*</section>' "$T/v.html")"
grep -q "1, quyển số 01/$year-SCT/BS" "$T/v.html" || fail "the copy number is not shown"
grep -q "THỬ NGHIỆM" "$T/v.html" || fail "the test key is not flagged"
grep -q '<dd id="vf-issuer">Xã Thử Nghiệm' "$T/v.html" || fail "the issuer is not named by the commune's name: $(grep -o '<dd id="vf-issuer">[^<]*' "$T/v.html")"
[ "$(verify -F "pdf=@$T/copy.pdf;type=application/pdf")" = 200 ] || fail "POST PDF"
grep -q 'data-verdict="valid"' "$T/v.html" || fail "the PDF is not VALID: $(grep -o '<section id="verdict".*</section>' "$T/v.html")"
size=$(wc -c <"$T/v.html")
[ "$size" -lt 51200 ] || fail "the verdict page is $size bytes"
ok "seal and PDF VALID (page $size bytes)"

step "tampered: a seal with one character changed, a PDF with one byte changed"
bad=$(python3 -c 'import sys; s=sys.argv[1]; i=40; print(s[:i] + ("A" if s[i] != "A" else "B") + s[i+1:])' "$seal")
verify --data-urlencode "seal=$bad" >/dev/null
grep -q 'data-verdict="invalid"' "$T/v.html" || fail "a changed seal is not INVALID"
grep -o '<p id="vf-reason">[^<]*</p>' "$T/v.html" | tee "$T/reason" | grep -q . || fail "no reason given"
cat "$T/reason"
grep -q 'mã dấu\|Mã dấu' "$T/reason" || fail "the reason is not in Vietnamese: $(cat "$T/reason")"
sed -n '/<section id="verdict"/,/<\/section>/p' "$T/v.html" | grep -q '<dl' &&
	fail "an invalid seal's claims (issuer, number, time) are shown as facts"
sed 's/<[^>]*>/ /g' "$T/v.html" | grep -Eqw 'VALID|INVALID|forged|altered' && fail "the verdict page speaks English in Vietnamese mode"
verify --data-urlencode "seal=xin chào, đây là một đoạn chữ bất kỳ" >/dev/null
grep -q 'KHÔNG PHẢI MÃ DẤU' "$T/v.html" || fail "random text is not called 'not a seal': $(grep -o '<h2 id="vf-verdict"[^<]*<' "$T/v.html")"
cp "$T/copy.pdf" "$T/t1.pdf"
flip "$T/t1.pdf" 2000
verify -F "pdf=@$T/t1.pdf;type=application/pdf" >/dev/null
grep -q 'data-verdict="invalid"' "$T/v.html" || fail "a changed PDF is not INVALID"
grep -o '<p id="vf-reason">[^<]*</p>' "$T/v.html" | grep -q . || fail "no reason for the PDF"
grep -o '<p id="vf-reason">[^<]*</p>' "$T/v.html"
[ "$(verify -d "seal=")" = 400 ] || fail "an empty form is not refused"
daemon_stop
ok "INVALID with the reason"
