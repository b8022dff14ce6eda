#!/bin/bash
# Documents over MQTT that fail a check are refused with a reason on the device's ack topic
# and nothing is stored: a wrong SHA-256, bytes that are not a document, a content type that
# does not match the bytes, a payload over [store] max_document_mb, missing properties.  A
# good document then goes through, and a resend of it is answered "duplicate".
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mqtt_lib.sh"

broker_start
mqtt_config "store.max_document_mb = 1" -- "auto_approve_serials = SCAN-1"
daemon_start
wait_gateway
D=("${DEV[@]}" --dir "$T/s")
"${D[@]}" register --kind doc-scanner --serial SCAN-1 --wait 15 || fail "register failed"

# refused FILE WHY ARGS...: the device is told "rejected" with a reason matching WHY.
refused() {
	local f=$1 why=$2 rc=0
	shift 2
	"${D[@]}" send "$f" --kind page --wait 15 "$@" >"$T/out" 2>&1 || rc=$?
	cat "$T/out"
	[ $rc -eq 1 ] || fail "expected exit 1 (rejected), got $rc"
	grep -q "^rejected .*$why" "$T/out" || fail "the reason does not say '$why'"
}

step "wrong SHA-256"
mkdoc "$T/a.pdf" 5000
refused "$T/a.pdf" "EBADMSG: the payload's SHA-256 is" --sha256 "$(printf '0%.0s' $(seq 64))" --doc-id bad-hash
step "not a document (text)"
head -c 4000 /dev/urandom | base64 >"$T/notes.txt"
refused "$T/notes.txt" "EMEDIUMTYPE: not a JPEG, PNG, TIFF or PDF" --content-type application/pdf --doc-id text
step "declared type does not match the bytes"
printf '\x89PNG\r\n\x1a\n' >"$T/img.png"
head -c 3000 /dev/urandom >>"$T/img.png"
refused "$T/img.png" "EMEDIUMTYPE: content-type says application/pdf but the bytes are image/png" \
	--content-type application/pdf --doc-id mislabelled
step "over the size limit (1 MB)"
mkdoc "$T/big.pdf" 1200000
refused "$T/big.pdf" "EMSGSIZE: document of 1200000 bytes is larger than the limit" --doc-id big
step "a property with a value outside the contract"
refused "$T/a.pdf" "EINVAL: user property kind must be id-front, id-back, page or original-for-copy" --kind passport --doc-id bad-kind

step "nothing was stored"
[ "$(sql 'SELECT COUNT(*) FROM documents')" -eq 0 ] || fail "a refused document was stored"
[ "$(find "$STATE/blobs" -type f -path '*/[0-9a-f][0-9a-f]/*' | wc -l)" -eq 0 ] || fail "a blob was left"
blobs_tmp_empty
ok "no document, no blob, no temp file"

step "a good document is stored, its resend answered duplicate"
"${D[@]}" send "$T/a.pdf" --kind id-front --session HS-2024-0001 --wait 15 | tee "$T/out1"
id=$(awk '/^stored /{print $2}' "$T/out1")
[ -n "$id" ] || fail "not stored"
"${D[@]}" send "$T/a.pdf" --kind id-front --session HS-2024-0001 --wait 15 | tee "$T/out2"
grep -q "^duplicate $id" "$T/out2" || fail "resend not answered duplicate with the same id"
get_same "$id" "$T/a.pdf"
[ "$(sql "SELECT session FROM device_docs WHERE doc_id = '$id'")" = HS-2024-0001 ] || fail "session not kept"
[ "$(sql 'SELECT COUNT(*) FROM documents')" -eq 1 ] || fail "stored twice"
daemon_stop
ok "stored once, byte-identical, session kept"
