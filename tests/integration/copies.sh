#!/bin/bash
# Certified copies end to end: a JPEG scan becomes a signed PDF that real verifiers accept
# (pdfsig: "Signature is Valid" + "Total document signed"; qpdf --check), whose QR seal read
# back by zbarimg from the rendered page verifies (motcuactl and the doc's reference
# verifier), whose embedded scan is the original byte for byte; one byte changed in the PDF,
# in the seal or in the embedded scan is caught; numbers run per year without reuse; the
# copy is stored, queued on stream "copies" and audited (two signatures per copy).
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/copies_lib.sh"

step "keys init --test, motcuad with the signer"
mkdir -m 700 "$T/keys"
ctl keys init --test --dir "$T/keys" >/dev/null || fail "keys init --test failed"
[ "$(stat -c %a "$T/keys/test-signing.key")" = 600 ] || fail "the key file is not 0600"
ctl keys init --test --dir "$T/keys" >/dev/null 2>&1 && fail "keys init replaced an existing key"
write_config
sign_config "$T/keys/test-signing.key" "$T/keys/test-signing.crt"
daemon_start
ok "signer running"

step "issue a copy from a stored JPEG scan"
make_scan "$T/scan.jpg"
orig=$(put_ok "$T/scan.jpg")
ctl copy issue "$orig" --official "Nguyễn Thị Bình" >"$T/issue.txt" || fail "copy issue failed"
pdf_id=$(head -n 1 "$T/issue.txt")
seal=$(sed -n 's/^seal: *//p' "$T/issue.txt")
grep -q "^number: 1, quyển số 01/$(TZ=Asia/Ho_Chi_Minh date +%Y)-SCT/BS" "$T/issue.txt" ||
	fail "first copy is not number 1 of this year: $(cat "$T/issue.txt")"
ctl doc get "$pdf_id" -o "$T/copy.pdf" || fail "doc get of the copy failed"
ok "copy $pdf_id"

step "real verifiers: pdfsig, qpdf"
pdfsig "$T/copy.pdf" >"$T/pdfsig.txt" 2>&1 || true
grep -q "Signature is Valid" "$T/pdfsig.txt" || { cat "$T/pdfsig.txt"; fail "pdfsig: not valid"; }
grep -q "Total document signed" "$T/pdfsig.txt" || fail "pdfsig: not the total document"
grep -q "ETSI.CAdES.detached" "$T/pdfsig.txt" || fail "pdfsig: not ETSI.CAdES.detached"
qpdf --check "$T/copy.pdf" >"$T/qpdf.txt" 2>&1 || { cat "$T/qpdf.txt"; fail "qpdf --check failed"; }
grep -qi "error" "$T/qpdf.txt" && ! grep -q "No syntax or stream encoding errors" "$T/qpdf.txt" &&
	fail "qpdf reports errors"
# The CMS: signing-certificate-v2 present, signingTime absent (PAdES baseline).
python3 - "$T/copy.pdf" "$T/cms.der" <<'PY'
import re, sys
b = open(sys.argv[1], "rb").read()
m = re.search(rb"/Contents <([0-9a-f]+)>", b)
open(sys.argv[2], "wb").write(bytes.fromhex(m.group(1).decode()).rstrip(b"\0"))
PY
openssl cms -cmsout -inform DER -in "$T/cms.der" -print >"$T/cms.txt" 2>/dev/null || true
grep -q "id-smime-aa-signingCertificateV2" "$T/cms.txt" || fail "no signing-certificate-v2 attribute"
grep -q "signingTime" "$T/cms.txt" && fail "the CMS carries signingTime"
ok "pdfsig valid, total document; qpdf clean; CAdES attributes right"

step "embedded scan is the original byte for byte (JPEG passed through)"
pdfimages -list "$T/copy.pdf" | grep -q " jpeg " || fail "the scan is not embedded as JPEG"
python3 - "$T/copy.pdf" "$T/embedded.jpg" <<'PY'
import sys
b = open(sys.argv[1], "rb").read()
i = b.index(b"/Filter /DCTDecode")
s = b.index(b"stream\n", i) + 7
e = b.index(b"\nendstream", s)
open(sys.argv[2], "wb").write(b[s:e])
PY
cmp -s "$T/embedded.jpg" "$T/scan.jpg" || fail "embedded JPEG differs from the original"
ok "identical"

step "seal read back from the printed page"
pdftoppm -r 150 -png -singlefile "$T/copy.pdf" "$T/page"
zbarimg -q --raw "$T/page.png" 2>/dev/null | tr -d '\r\n' >"$T/seal.txt" || fail "zbarimg found no QR"
[ "$(cat "$T/seal.txt")" = "$seal" ] || fail "the QR does not hold the seal"
ctl seal verify "$(cat "$T/seal.txt")" | grep -q "^VALID" || fail "seal verify rejects the scanned seal"
ctl keys trustlist >"$T/trust.pem"
python3 "$MOTCUA_TOP/tools/seal-verify.py" "$T/trust.pem" "$(cat "$T/seal.txt")" | grep -q "^VALID" ||
	fail "the reference verifier of docs/seal.md rejects the seal"
ok "zbarimg -> motcuactl and tools/seal-verify.py: VALID"

step "copy verify: valid online and offline"
ctl copy verify "$T/copy.pdf" >"$T/v.txt" || { cat "$T/v.txt"; fail "copy verify rejects the copy"; }
grep -q "WARNING: signed with a TEST key" "$T/v.txt" || fail "a TEST key is not called out"
"$MOTCUACTL" -s /nonexistent copy verify --trust "$T/trust.pem" "$T/copy.pdf" | grep -q "^VALID" ||
	fail "offline copy verify (--trust) rejects the copy"
ok "valid"

step "tampering: one byte in the PDF, in the seal, in the embedded scan"
cp "$T/copy.pdf" "$T/t1.pdf"
flip "$T/t1.pdf" 2000
pdfsig_valid "$T/t1.pdf" && fail "pdfsig accepts a changed byte"
out=$(ctl copy verify --trust "$T/trust.pem" "$T/t1.pdf") && fail "copy verify accepts a changed byte"
grep -q "^INVALID" <<<"$out" || fail "changed byte: $out"
cp "$T/copy.pdf" "$T/t2.pdf"
flip "$T/t2.pdf" "$(jpeg_offset "$T/t2.pdf")"
out=$(ctl copy verify --trust "$T/trust.pem" "$T/t2.pdf") && fail "copy verify accepts a changed scan"
grep -q "^INVALID" <<<"$out" || fail "changed scan: $out"
pdfsig_valid "$T/t2.pdf" && fail "pdfsig accepts a changed scan"
bad=$(python3 -c 'import sys; s=sys.argv[1]; i=40; print(s[:i] + ("A" if s[i] != "A" else "B") + s[i+1:])' "$seal")
out=$(ctl seal verify --trust "$T/trust.pem" "$bad") && fail "seal verify accepts a changed character"
grep -q "^INVALID" <<<"$out" || fail "changed seal: $out"
cp "$T/copy.pdf" "$T/t3.pdf"
printf '%% appended\n' >>"$T/t3.pdf"
out=$(ctl copy verify --trust "$T/trust.pem" "$T/t3.pdf") && fail "copy verify accepts bytes appended after signing"
ok "all caught: $out"

step "numbers, book, store, outbox, audit"
make_scan "$T/scan2.jpg" 50
orig2=$(put_ok "$T/scan2.jpg")
ctl copy issue "$orig2" --official "Trần Văn C" >"$T/issue2.txt" || fail "second copy failed"
grep -q "^number: 2," "$T/issue2.txt" || fail "second copy is not number 2"
year=$(TZ=Asia/Ho_Chi_Minh date +%Y)
ctl copy show "$year" 1 | grep -q "issued" || fail "copy show $year 1"
[ "$(sql "SELECT stream || '/' || priority || '/' || kind FROM outbox WHERE ref = '$pdf_id'")" = "copies/1/certified-copy" ] ||
	fail "the copy is not queued on stream copies at DOSSIER priority"
[ "$(sql "SELECT COUNT(*) FROM audit WHERE action = 'signature' AND subject = 'copy:$year/1'")" = 2 ] ||
	fail "copy 1 does not have 2 audited signatures (seal, PDF)"
[ "$(sql "SELECT COUNT(*) FROM audit WHERE action = 'copy.issue'")" = 2 ] || fail "copy.issue not audited"
ctl audit verify >/dev/null || fail "audit chain broken"
# A PDF original cannot be certified (and takes no number).
mkdoc "$T/notjpeg.pdf" 4000
pid=$(put_ok "$T/notjpeg.pdf")
ctl copy issue "$pid" --official "Trần Văn C" 2>"$T/err.txt" && fail "a PDF original was certified"
grep -q "JPEG" "$T/err.txt" || fail "refusal does not say why: $(cat "$T/err.txt")"
[ "$(sql "SELECT MAX(number) FROM copies")" = 2 ] || fail "a refused copy took a number"
ok "numbers 1, 2; outbox copies/DOSSIER; 2 signatures audited per copy"
daemon_stop
