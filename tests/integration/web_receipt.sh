#!/bin/bash
# The citizen's receipt when the box has no USB printer: staff accept a dossier on the web
# page and are told plainly that nothing was printed and how to print it; the receipt page
# (Mẫu 01, Thông tư 01/2018) carries the commune, the code, the applicant, the procedure, each
# paper received, the received time and the due day in local time, the fee and the official,
# without the staff menu; printed to PDF by Debian's Chromium it fits one page whose text says
# all that, and its QR code, read back by zbarimg, opens the tracking page of this dossier.
set -eu
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || skip "curl is not installed"
top=$(cd "$(dirname "$0")/../.." && pwd)

write_config
cat >>"$CONF" <<EOF2
[gateway]
agency_code = 000.00.18.H26
commune_name = Xã Thử Nghiệm
[dossier]
catalogue = $top/data/procedures.json
calendar = $top/data/calendar.json
tracking_url = https://motcua.example.gov.vn/track?code=
[queue]
ticket_printer = none
[usb]
usb_hotplug = no
[recognize]
workers = 0
EOF2
daemon_start
U=$(web_url)
J=$T/jar
csrf_of() { grep -o 'name="csrf" value="[0-9a-f]*"' | head -n 1 | sed 's/.*value="//; s/"$//'; }
echo "staff-password-1" | ctl users add lan --role staff >/dev/null
t=$(curl -s -c "$J" -b "$J" "$U/login" | csrf_of)
curl -s -o /dev/null -c "$J" -b "$J" --data-urlencode "csrf=$t" -d "name=lan&password=staff-password-1&next=/" "$U/login"
post() { # fields... -> "HTTP location"
	local tk a
	tk=$(curl -s -b "$J" "$U/dossiers" | csrf_of)
	a=(-s -o "$T/post.out" -w '%{http_code} %{redirect_url}' -b "$J" --data-urlencode "csrf=$tk")
	for f in "$@"; do a+=(--data-urlencode "$f"); done
	curl "${a[@]}" "$U/dossiers"
}

step "a birth registration taken in with its three papers"
post verb=open procedure=HT-KS "name=Trần Thị Bích Ngọc" id_number=001199012345 >/dev/null
id=$(sql "SELECT id FROM dossiers ORDER BY id DESC LIMIT 1")
for item in to_khai giay_chung_sinh; do
	mkdoc "$T/$item.pdf" 2000
	doc=$(put_ok "$T/$item.pdf")
	[ "$(post verb=attach "id=$id" "item=$item" "doc=$doc" | cut -d' ' -f1)" = 303 ] || fail "attach $item"
done
r=$(post verb=accept "id=$id" "note=Giấy tờ tùy thân xuất trình tại quầy")
[ "$r" = "303 $U/dossiers/$id?msg=accepted&printed=0" ] || fail "accept gave '$r'"
curl -s -b "$J" "$U/dossiers/$id?msg=accepted&printed=0" >"$T/d.html"
grep -q 'CHƯA được in' "$T/d.html" || fail "the official is not told that the receipt was not printed"
grep -q "href=\"/dossiers/$id/receipt\"" "$T/d.html" || fail "no link to the receipt page"
ok "accepted; 'not printed' said, with the link to print it"

step "the receipt page: Mẫu 01's facts, local time, no staff menu"
curl -s -b "$J" -o "$T/receipt.html" -w '%{http_code}' "$U/dossiers/$id/receipt" >"$T/code"
[ "$(cat "$T/code")" = 200 ] || fail "receipt page answered $(cat "$T/code")"
dcode=$(sql "SELECT code FROM dossiers WHERE id=$id")
due=$(sql "SELECT due_day FROM dossiers WHERE id=$id")
recv=$(sql "SELECT received_s FROM dossiers WHERE id=$id")
due_vn=$(date -d "$due" '+ngày %d tháng %m năm %Y')
recv_vn=$(TZ=Asia/Ho_Chi_Minh date -d "@$recv" '+%H giờ %M phút, ngày %d tháng %m năm %Y')
for want in "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" "Xã Thử Nghiệm" "$dcode" "Trần Thị Bích Ngọc" \
	"$due_vn" "$recv_vn" ">lan<" "Tờ khai" "Số lượng hồ sơ: 01"; do
	grep -qF "$want" "$T/receipt.html" || fail "the receipt lacks '$want'"
done
[ "$(grep -o '<td class="num">[0-9]*</td><td>' "$T/receipt.html" | wc -l)" -eq 2 ] || fail "the receipt should list the 2 papers received"
grep -q '<nav' "$T/receipt.html" && fail "the receipt page carries the staff menu"
grep -q 'Đăng xuất' "$T/receipt.html" && fail "the receipt page carries the logout button"
curl -s -o /dev/null -w '%{http_code}' -b "$J" "$U/dossiers/999999/receipt" | grep -q 404 || fail "unknown dossier's receipt"
curl -s -o /dev/null -w '%{http_code}' "$U/dossiers/$id/receipt" | grep -q 303 || fail "receipt without a session"
ok "code $dcode, received $recv_vn, due $due_vn, 2 papers, official, no menu"

step "printed by Chromium: one page, the text, and a QR code that opens the tracking page"
chrome=$(command -v chromium || true)
[ -n "$chrome" ] || skip "Debian's chromium is not installed (make deps)"
command -v zbarimg >/dev/null && command -v pdftotext >/dev/null && command -v pdftoppm >/dev/null ||
	skip "zbarimg or poppler-utils missing (make deps)"
cp "$T/receipt.html" "$T/r.html" # self-contained: inline style and SVG
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
	--disable-component-update --disable-sync --user-data-dir="$T/chrome")
timeout 120 "$chrome" "${flags[@]}" --no-pdf-header-footer --print-to-pdf="$T/r.pdf" "file://$T/r.html" >/dev/null 2>&1 ||
	fail "chromium could not print the receipt"
pages=$(pdfinfo "$T/r.pdf" | awk '/^Pages:/ {print $2}')
[ "$pages" = 1 ] || fail "the receipt prints on $pages pages, not 1"
pdftotext "$T/r.pdf" - >"$T/r.txt"
grep -q "GIẤY TIẾP NHẬN HỒ SƠ" "$T/r.txt" && grep -qF "$dcode" "$T/r.txt" || fail "printed text lacks the title or code"
grep -q "Về hồ sơ" "$T/r.txt" && fail "the printout carries the screen-only bar"
pdftoppm -r 200 -png "$T/r.pdf" "$T/r"
qr=$(zbarimg -q --raw "$T"/r-1.png 2>/dev/null | head -n 1)
[ "$qr" = "https://motcua.example.gov.vn/track?code=$dcode" ] || fail "the QR code reads '$qr'"
ok "1 A5 page; QR reads $qr"
[ -n "${KEEP_RECEIPT:-}" ] && cp "$T/r-1.png" "$KEEP_RECEIPT"
daemon_stop
