#!/bin/bash
# Documents over [store] max_document_mb are refused with EMSGSIZE and nothing is stored (no
# blob, no temp file, no manifest, no row, no audit row); a document of exactly the limit is
# accepted.  Anything that is not a JPEG, PNG, TIFF or PDF (text, a few bytes, an empty file)
# is refused with EMEDIUMTYPE, equally leaving nothing.  The daemon keeps serving throughout.
set -eu
. "$(dirname "$0")/lib.sh"

write_config "store.max_document_mb = 1"
daemon_start

snapshot() {
	echo "rows=$(sql 'SELECT COUNT(*) FROM documents') audit=$(sql 'SELECT COUNT(*) FROM audit')" \
		"outbox=$(sql 'SELECT COUNT(*) FROM outbox')" \
		"blobs=$(find "$STATE/blobs" -type f | wc -l) manifests=$(find "$STATE/manifests" -type f | wc -l)"
}

# refused NAME FILE CODE TEXT: doc put fails with CODE and TEXT, and nothing changed.
refused() {
	local name=$1 f=$2 code=$3 text=$4 before rc=0 t0
	before=$(snapshot)
	t0=$SECONDS
	ctl doc put "$f" >"$T/out" 2>"$T/err" || rc=$?
	[ $rc -ne 0 ] || fail "$name: accepted (id $(cat "$T/out"))"
	grep -q "($code)" "$T/err" && grep -qi "$text" "$T/err" ||
		{ cat "$T/err"; fail "$name: expected $code saying '$text'"; }
	[ -z "$(cat "$T/out")" ] || fail "$name: printed an id although refused"
	[ $((SECONDS - t0)) -le 10 ] || fail "$name: the refusal took $((SECONDS - t0))s"
	blobs_tmp_empty
	[ "$(snapshot)" = "$before" ] || fail "$name: something was stored: before $before, after $(snapshot)"
	ok "$name: exit $rc: $(cat "$T/err")"
}

step "the limit itself is accepted"
mkdoc "$T/exact" 1048576
id=$(put_ok "$T/exact")
get_same "$id" "$T/exact"
ok "a document of exactly 1 MB is stored"

step "over the limit: EMSGSIZE, nothing stored"
mkdoc "$T/over1" 1048577
refused "1 MB + 1 byte" "$T/over1" EMSGSIZE "larger than the limit"
mkdoc "$T/over20" $((20 * 1024 * 1024))
refused "20 MB" "$T/over20" EMSGSIZE "max_document_mb"

step "not a document: EMEDIUMTYPE, nothing stored"
yes 'Đơn đề nghị cấp bản sao - plain text, not a scan' | head -c 100000 >"$T/text.txt"
refused "100 KB of text" "$T/text.txt" EMEDIUMTYPE "not a JPEG, PNG, TIFF or PDF"
printf 'abc' >"$T/short"
refused "3 bytes" "$T/short" EMEDIUMTYPE "not a JPEG, PNG, TIFF or PDF"
: >"$T/empty"
refused "an empty file" "$T/empty" EMEDIUMTYPE "not a JPEG, PNG, TIFF or PDF"
printf 'GIF89a\001\000\001\000' >"$T/gif"
refused "a GIF" "$T/gif" EMEDIUMTYPE "not a JPEG, PNG, TIFF or PDF"
head -c 2000000 /dev/urandom >"$T/random"
refused "2 MB of random bytes (over the limit and no known format)" "$T/random" EMSGSIZE "larger than the limit"

step "still serving"
for magic in '\377\330\377\340' '\211PNG\r\n\032\n' 'II*\000' 'MM\000*'; do
	{ printf "$magic"; head -c 3000 /dev/urandom; } >"$T/ok.img"
	get_same "$(put_ok "$T/ok.img")" "$T/ok.img"
done
ok "JPEG, PNG and TIFF (both byte orders) headers are accepted"
[ "$(sql 'SELECT COUNT(*) FROM documents')" -eq 5 ] || fail "expected exactly 5 documents"
ctl audit verify >/dev/null || fail "audit verify"
ok "5 documents, audit chain verifies"
daemon_stop
echo "PASS"
