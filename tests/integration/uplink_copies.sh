#!/bin/bash
# A certified copy reaches the LGSP simulator: its signed PDF is uploaded (resumable, like a
# document) and then submitted as kind certified-copies with the book's number, year and the
# original's SHA-256 (checked by the simulator); the receipt matches the simulator's and the PDF arrives byte for byte.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink_lib.sh"
. "$(dirname "$0")/copies_lib.sh"

sim_start
uplink_config "$SIM_BASE"
mkdir -m 700 "$T/keys"
ctl keys init --test --dir "$T/keys" >/dev/null || fail "keys init --test failed"
sign_config "$T/keys/test-signing.key" "$T/keys/test-signing.crt"
daemon_start

step "issue a copy; the original and the copy's PDF are delivered"
make_scan "$T/scan.jpg"
orig=$(put_ok "$T/scan.jpg")
ctl copy issue "$orig" --official "Nguyễn Thị Bình" >/dev/null || fail "copy issue failed"
pdf=$(sql "SELECT doc_id FROM copies WHERE state='issued'")
wait_delivered 2 20
[ "$(sql "SELECT state FROM outbox WHERE kind='certified-copy' AND ref='$pdf'")" = delivered ] || fail "the copy was not delivered"
[ "$(sim_stat .submissions_rejected)" = 0 ] || fail "the simulator rejected a submission"
receipts_match
pdfsha=$(sql "SELECT sha256 FROM documents WHERE id='$pdf'")
[ -f "$SIMDIR/blobs/$pdfsha" ] || fail "the simulator has no blob $pdfsha"
key=$(sql "SELECT idem_key FROM outbox WHERE kind='certified-copy'")
[ "$(sqlite3 -batch -noheader "$SIMDIR/sim.db" "SELECT kind FROM submissions WHERE idem_key = '$key'")" = certified-copies ] ||
	fail "the simulator has no certified-copies submission for $key"
ok "copy $pdf delivered with its PDF"
daemon_stop
