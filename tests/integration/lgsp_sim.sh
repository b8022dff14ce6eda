#!/bin/bash
# Proves the LGSP contract of docs/lgsp.md against motcua-lgsp-sim over loopback with curl:
# tokens and expiry, resumable upload across a cut connection and a server restart, hash
# mismatch, idempotent submissions (same receipt across a restart), status pull, fault rates
# and their reproducibility, TLS and mutual TLS, stats.  Exit 0 pass, 1 fail, 77 skip.
# shellcheck disable=SC2015 # "A && B || fail" is the assertion idiom here
set -u
top=${MOTCUA_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
SIM=${MOTCUA_BUILD:-$top/build}/motcua-lgsp-sim
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
[ -x "$SIM" ] || { echo "skip: $SIM is not built"; exit 77; }
for t in curl jq openssl "$PY"; do
	command -v "$t" >/dev/null || { echo "skip: $t is not installed"; exit 77; }
done

tmp=$(mktemp -d)
pid=""
cleanup() {
	if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() { echo "FAIL: $*"; echo "--- sim log (tail)"; tail -n 20 "$tmp/sim.log"; exit 1; }
ok() { echo "ok: $*"; }

# start_sim ARGS...: starts the simulator on a free loopback port with state in $tmp/data.
start_sim() {
	rm -f "$tmp/port"
	"$SIM" --data "$tmp/data" --listen 127.0.0.1 --port 0 --port-file "$tmp/port" \
		--client commune-a:secret-a "$@" 2>>"$tmp/sim.log" &
	pid=$!
	for _ in $(seq 600); do
		[ -s "$tmp/port" ] && break
		kill -0 "$pid" 2>/dev/null || fail "simulator did not start"
		sleep 0.05
	done
	[ -s "$tmp/port" ] || fail "simulator wrote no port file"
	port=$(cat "$tmp/port")
	base=${scheme:-http}://127.0.0.1:$port
}

# stop_sim: SIGTERM must stop it cleanly with exit status 0.
stop_sim() {
	kill -TERM "$pid"
	wait "$pid"
	local rc=$?
	pid=""
	[ $rc -eq 0 ] || fail "simulator exited $rc after SIGTERM"
}

# call METHOD PATH [curl args]: sets $code (000 and $crc != 0 on a transport error); the answer
# body is in $tmp/body, its headers in $tmp/hdr.
call() {
	local m=$1 p=$2
	shift 2
	: >"$tmp/body"
	: >"$tmp/hdr"
	if [ "$m" = HEAD ]; then
		code=$(curl -sS -I -o /dev/null -D "$tmp/hdr" -w '%{http_code}' --max-time 20 "$@" "$base$p" 2>"$tmp/curl.err")
	else
		code=$(curl -sS -X "$m" -o "$tmp/body" -D "$tmp/hdr" -w '%{http_code}' --max-time 20 "$@" "$base$p" 2>"$tmp/curl.err")
	fi
	crc=$?
	[ $crc -eq 0 ] || code=000
}
hdr() { grep -i "^$1:" "$tmp/hdr" | tail -n 1 | cut -d' ' -f2- | tr -d '\r'; }
jb() { jq -r "$1" "$tmp/body"; }
expect() { # CODE WHAT
	[ "$code" = "$1" ] || fail "$2: expected HTTP $1, got $code: $(head -c 300 "$tmp/body") $(cat "$tmp/curl.err")"
}
expect_err() { # CODE ERROR WHAT
	expect "$1" "$3"
	[ "$(jb .error)" = "$2" ] || fail "$3: expected error $2, got $(cat "$tmp/body")"
	[ -n "$(jb .reason)" ] && [ "$(jb .reason)" != null ] || fail "$3: error without a reason"
}
stats() { curl -sS --max-time 10 "${@:2}" "$base/_sim/stats" | jq -r "$1"; }
sha() { sha256sum "$1" | cut -c1-64; }

get_token() { # -> $tok
	call POST /lgsp/v1/oauth/token -u commune-a:secret-a -d grant_type=client_credentials
	expect 200 "token request"
	tok=$(jb .access_token)
	[ "$(jb .token_type)" = Bearer ] || fail "token_type is not Bearer"
}
AUTH() { echo "Authorization: Bearer $tok"; }

# put_chunk ID FILE OFFSET LEN: one PATCH of bytes OFFSET..OFFSET+LEN of FILE.
put_chunk() {
	tail -c +$(($3 + 1)) "$2" | head -c "$4" >"$tmp/chunk"
	call PATCH "/lgsp/v1/uploads/$1" -H "$(AUTH)" -H 'Content-Type: application/offset+octet-stream' \
		-H "Upload-Offset: $3" --data-binary @"$tmp/chunk"
}

######## 1. tokens: client credentials, 401 without or with an expired token
# A token's lifetime is the simulator's --token-ttl.  The expiry is proved on a simulator whose
# tokens live 1 s (the test waits 3 s, however loaded the machine); the rest uses tokens that
# live 120 s, so that a slow machine never turns "a fresh token" into an expired one.
start_sim --token-ttl 1
get_token
[ "$(jb .expires_in)" = 1 ] || fail "expires_in is not --token-ttl"
sleep 3
call GET /lgsp/v1/dossiers/status -H "$(AUTH)"
expect_err 401 invalid_token "request with an expired token"
[ "$(jb .reason)" = "token expired" ] || fail "expired token reason: $(jb .reason)"
stop_sim
start_sim --token-ttl 120
call GET /lgsp/v1/ping
expect 200 "ping without a token"
call POST /lgsp/v1/oauth/token -u commune-a:wrong -d grant_type=client_credentials
expect_err 401 invalid_client "token with a wrong secret"
call POST /lgsp/v1/oauth/token -u commune-a:secret-a -d grant_type=password
expect_err 400 unsupported_grant_type "token with another grant"
call POST /lgsp/v1/oauth/token -d 'grant_type=client_credentials&client_id=commune-a&client_secret=secret-a'
expect 200 "token with form credentials"
get_token
[ "$(jb .expires_in)" = 120 ] || fail "expires_in is not --token-ttl"
call GET /lgsp/v1/dossiers/status
expect_err 401 invalid_token "request without a token"
[ -n "$(hdr WWW-Authenticate)" ] || fail "401 without WWW-Authenticate"
call GET /lgsp/v1/dossiers/status -H "$(AUTH)"
expect 200 "request with a fresh token"
get_token
call GET /lgsp/v1/dossiers/status -H "$(AUTH)"
expect 200 "request with the refreshed token"
ok "token flow: client credentials, 401 on missing and expired token, refresh"
stop_sim

######## 2. resumable upload across a cut connection and a restart
start_sim --chunk-max 1048576
get_token
size=3000000
head -c $size /dev/urandom >"$tmp/blob"
bsha=$(sha "$tmp/blob")
call POST /lgsp/v1/uploads -H "$(AUTH)" -H 'Content-Type: application/json' \
	-H 'Idempotency-Key: item-0001:blob:0' -d "{\"size\":$size,\"sha256\":\"$bsha\",\"content_type\":\"application/pdf\"}"
expect 201 "create upload"
up=$(jb .upload_id)
[ "$(jb .offset)" = 0 ] && [ "$(jb .chunk_max)" = 1048576 ] && [ "$(jb .state)" = open ] || fail "create answer: $(cat "$tmp/body")"
[ "$(hdr Location)" = "/lgsp/v1/uploads/$up" ] || fail "create: Location header"
call POST /lgsp/v1/uploads -H "$(AUTH)" -H 'Content-Type: application/json' \
	-H 'Idempotency-Key: item-0001:blob:0' -d "{\"size\":$size,\"sha256\":\"$bsha\"}"
expect 200 "create upload again with the same key"
[ "$(jb .upload_id)" = "$up" ] || fail "same key gave another upload"
call POST /lgsp/v1/uploads -H "$(AUTH)" -H 'Content-Type: application/json' \
	-H 'Idempotency-Key: item-0001:blob:0' -d "{\"size\":5,\"sha256\":\"$bsha\"}"
expect_err 422 idempotency_key_reused "same upload key, other size"

put_chunk "$up" "$tmp/blob" 0 1048576
expect 200 "first chunk"
[ "$(jb .offset)" = 1048576 ] && [ "$(hdr Upload-Offset)" = 1048576 ] || fail "first chunk offset"
put_chunk "$up" "$tmp/blob" 0 1048576
expect_err 409 offset_mismatch "repeated chunk"
[ "$(jb .offset)" = 1048576 ] || fail "409 does not carry the server offset"
put_chunk "$up" "$tmp/blob" 1048576 2000000
expect_err 413 chunk_too_large "chunk over chunk_max"

# Cut the connection in the middle of the second chunk (500000 of 1048576 bytes sent).
"$PY" - "$port" "$up" "$tok" "$tmp/blob" <<'EOF' || fail "cut upload helper"
import socket, sys, time
port, up, tok, path = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
data = open(path, "rb").read()[1048576:1048576 + 500000]
s = socket.create_connection(("127.0.0.1", port))
s.sendall((f"PATCH /lgsp/v1/uploads/{up} HTTP/1.1\r\nHost: sim\r\n"
           f"Authorization: Bearer {tok}\r\nContent-Type: application/offset+octet-stream\r\n"
           f"Upload-Offset: 1048576\r\nContent-Length: 1048576\r\n\r\n").encode())
s.sendall(data)
time.sleep(0.2)
s.close()
EOF
sleep 0.3
call HEAD "/lgsp/v1/uploads/$up" -H "$(AUTH)"
expect 200 "offset query after the cut"
[ "$(hdr Upload-Offset)" = 1048576 ] || fail "after a cut chunk the offset is $(hdr Upload-Offset), not 1048576"
[ "$(hdr Upload-Length)" = $size ] || fail "HEAD Upload-Length"
stop_sim
start_sim --chunk-max 1048576
call GET "/lgsp/v1/uploads/$up" -H "$(AUTH)"
expect 200 "offset query after a restart (token kept too)"
off=$(jb .offset)
[ "$off" = 1048576 ] || fail "after a restart the offset is $off"
while [ "$off" -lt $size ]; do
	n=$((size - off))
	[ $n -gt 1048576 ] && n=1048576
	put_chunk "$up" "$tmp/blob" "$off" "$n"
	expect 200 "chunk at $off"
	off=$(jb .offset)
done
call POST "/lgsp/v1/uploads/$up/finish" -H "$(AUTH)"
expect 200 "finish"
[ "$(jb .state)" = complete ] && [ "$(jb .blob.sha256)" = "$bsha" ] || fail "finish answer $(cat "$tmp/body")"
cmp -s "$tmp/blob" "$tmp/data/blobs/$bsha" || fail "the stored blob differs from the sent one"
call POST "/lgsp/v1/uploads/$up/finish" -H "$(AUTH)"
expect 200 "finish again is idempotent"
resent=$(stats .bytes_received_more_than_once)
received=$(stats .bytes_received)
[ "$resent" -ge 500000 ] && [ "$resent" -le 1048576 ] || fail "bytes received more than once: $resent"
[ "$received" -ge $((size + 500000)) ] || fail "bytes received: $received"
ok "resumable upload: cut chunk not committed, offset kept across restart, resent $resent bytes (< one chunk)"

# A blob the server holds is not sent again.
call POST /lgsp/v1/uploads -H "$(AUTH)" -H 'Content-Type: application/json' \
	-H 'Idempotency-Key: item-0002:blob:0' -d "{\"size\":$size,\"sha256\":\"$bsha\"}"
expect 201 "upload of a held blob"
[ "$(jb .state)" = complete ] && [ "$(jb .offset)" = $size ] || fail "held blob not deduplicated"
ok "upload of a blob already held answers complete at once"

######## 3. hash mismatch
head -c 200000 /dev/urandom >"$tmp/blob2"
call POST /lgsp/v1/uploads -H "$(AUTH)" -H 'Content-Type: application/json' \
	-H 'Idempotency-Key: item-0003:blob:0' -d "{\"size\":200000,\"sha256\":\"$(sha "$tmp/blob")\"}"
expect 201 "create upload with a wrong hash"
up2=$(jb .upload_id)
put_chunk "$up2" "$tmp/blob2" 0 200000
expect 200 "chunk of the wrong-hash upload"
call POST "/lgsp/v1/uploads/$up2/finish" -H "$(AUTH)"
expect_err 422 hash_mismatch "finish with wrong bytes"
[ "$(jb .actual)" = "$(sha "$tmp/blob2")" ] || fail "hash_mismatch does not report the actual hash"
call HEAD "/lgsp/v1/uploads/$up2" -H "$(AUTH)"
[ "$(hdr Upload-Offset)" = 0 ] && [ "$(hdr Upload-State)" = open ] || fail "mismatched upload not reset"
call POST "/lgsp/v1/uploads/$up2/finish" -H "$(AUTH)"
expect_err 409 upload_incomplete "finish of an empty upload"
ok "hash mismatch rejected with expected/actual, upload reset to 0"

######## 4. submissions: receipts, idempotency, validation, status pull
cat >"$tmp/doc.json" <<EOF
{"schema":"motcua.lgsp.v1","commune_code":"00118","created_at":"2025-03-14T08:14:55Z",
 "document_id":"doc-1","document_type":"birth_certificate",
 "blobs":[{"sha256":"$bsha","size":$size,"role":"scan"}]}
EOF
submit() { # KIND KEY FILE
	call POST "/lgsp/v1/submissions/$1" -H "$(AUTH)" -H 'Content-Type: application/json' \
		-H "Idempotency-Key: $2" --data-binary @"$3"
}
submit documents 01HQ4Z8V6N2C0R5F8K3T7W1M9D "$tmp/doc.json"
expect 201 "document submission"
receipt=$(jb .receipt_id)
rtime=$(jb .time)
[ "$(jb .hash)" = "$(sha "$tmp/doc.json")" ] || fail "receipt hash is not the SHA-256 of the body"
case "$receipt" in R-*) ;; *) fail "receipt id $receipt" ;; esac
submit documents 01HQ4Z8V6N2C0R5F8K3T7W1M9D "$tmp/doc.json"
expect 200 "same submission again"
[ "$(jb .receipt_id)" = "$receipt" ] && [ "$(jb .time)" = "$rtime" ] || fail "repeat gave another receipt"
[ "$(hdr Idempotent-Replayed)" = true ] || fail "repeat without Idempotent-Replayed"
sed 's/doc-1/doc-2/' "$tmp/doc.json" >"$tmp/doc2.json"
submit documents 01HQ4Z8V6N2C0R5F8K3T7W1M9D "$tmp/doc2.json"
expect_err 422 idempotency_key_reused "other body under a used key"
submit dossiers 01HQ4Z8V6N2C0R5F8K3T7W1M9D "$tmp/doc.json"
expect_err 422 idempotency_key_reused "other kind under a used key"
call POST /lgsp/v1/submissions/documents -H "$(AUTH)" -H 'Content-Type: application/json' --data-binary @"$tmp/doc.json"
expect_err 400 missing_idempotency_key "submission without a key"
submit documents 'bad key!' "$tmp/doc.json"
expect_err 400 invalid_idempotency_key "submission with a malformed key"
sed "s/$bsha/$(sha "$tmp/blob2")/" "$tmp/doc.json" >"$tmp/doc3.json"
submit documents key-unknown-blob "$tmp/doc3.json"
expect_err 422 unknown_blob "submission referencing an unknown blob"
[ "$(jb .field)" = "blobs[0].sha256" ] || fail "unknown_blob field: $(jb .field)"
echo '{"schema":"motcua.lgsp.v1","commune_code":"00118","created_at":"x","procedure_code":"p","received_at":"x"}' >"$tmp/bad.json"
submit dossiers key-missing-code "$tmp/bad.json"
expect_err 422 missing_field "dossier without dossier_code"
[ "$(jb .field)" = dossier_code ] || fail "missing_field does not name dossier_code"
echo '{"schema":' >"$tmp/bad.json"
submit dossiers key-bad-json-1 "$tmp/bad.json"
expect_err 400 invalid_json "truncated JSON"
"$PY" -c 'import json; print(json.dumps({"pad": "x" * 300000}))' >"$tmp/big.json"
submit queue-stats key-too-large "$tmp/big.json"
expect_err 413 too_large "JSON over 256 KiB"
call POST /lgsp/v1/submissions/unknown-kind -H "$(AUTH)" -H 'Content-Type: application/json' -H 'Idempotency-Key: key-unknown-kind' -d '{}'
expect_err 404 not_found "unknown kind"
call POST /lgsp/v1/submissions/documents -H "$(AUTH)" -H 'Content-Type: text/plain' -H 'Idempotency-Key: key-ctype-0' -d '{}'
expect_err 415 unsupported_media_type "wrong content type"
ok "submissions: receipt with body hash, same key -> same receipt, other body -> 422, checks name the field"

cat >"$tmp/dossier.json" <<'EOF'
{"schema":"motcua.lgsp.v1","commune_code":"00118","created_at":"2025-03-14T08:14:55Z",
 "dossier_code":"000.00.18.H26-250314-0007","procedure_code":"1.001193","received_at":"2025-03-14T08:10:00Z"}
EOF
submit dossiers 01HQ4Z8V6N2C0R5F8K3T7W1M9E "$tmp/dossier.json"
expect 201 "dossier submission"
dreceipt=$(jb .receipt_id)
call GET /lgsp/v1/dossiers/status -H "$(AUTH)"
expect 200 "status pull"
[ "$(jb '.items[0].dossier_code')" = 000.00.18.H26-250314-0007 ] && [ "$(jb '.items[0].status')" = received ] || fail "status pull: $(cat "$tmp/body")"
[ "$(jb '.items[0].receipt_id')" = "$dreceipt" ] || fail "status item has another receipt"
cursor=$(jb .next_cursor)
call POST /_sim/dossiers/000.00.18.H26-250314-0007/status -H 'Content-Type: application/json' -d '{"status":"approved","status_text":"Đã duyệt"}'
expect 200 "sim status change"
call GET "/lgsp/v1/dossiers/status?since=$cursor&limit=10" -H "$(AUTH)"
expect 200 "status pull since the cursor"
[ "$(jb '.items | length')" = 1 ] && [ "$(jb '.items[0].status')" = approved ] && [ "$(jb '.items[0].status_text')" = "Đã duyệt" ] || fail "status change not pulled: $(cat "$tmp/body")"
call GET "/lgsp/v1/dossiers/status?since=$(jb .next_cursor)" -H "$(AUTH)"
[ "$(jb '.items | length')" = 0 ] || fail "pull past the end returned items"
call GET /lgsp/v1/dossiers/000.00.18.H26-250314-0007/status -H "$(AUTH)"
expect 200 "one dossier status"
call GET "/lgsp/v1/dossiers/status?limit=0" -H "$(AUTH)"
expect_err 400 invalid_parameter "limit 0"
ok "status pull: received, then approved after the cursor"

# The same key gives the same receipt after a restart; duplicates are counted, effects are not.
unique=$(stats .unique_items)
stop_sim
start_sim
submit documents 01HQ4Z8V6N2C0R5F8K3T7W1M9D "$tmp/doc.json"
expect 200 "same submission after a restart"
[ "$(jb .receipt_id)" = "$receipt" ] || fail "receipt changed across a restart"
[ "$(stats .unique_items)" = "$unique" ] || fail "a replay after restart made a new effect"
[ "$(stats .duplicates)" = 2 ] || fail "duplicates: $(stats .duplicates), want 2"
ok "idempotent submission: same receipt across a simulator restart; duplicates=2, unique_items=$unique"
stop_sim

######## 5. fault injection: rates roughly honoured, reproducible with a seed
ping_run() { # N -> outcome per line in $tmp/outcomes
	: >"$tmp/outcomes"
	for _ in $(seq "$1"); do
		if c=$(curl -sS -o /dev/null -D "$tmp/hdr" -w '%{http_code}' --max-time 10 "$base/lgsp/v1/ping" 2>/dev/null); then
			echo "$c"
		else
			echo reset
		fi >>"$tmp/outcomes"
	done
}
rm -rf "$tmp/data"
start_sim --fail-5xx 0.2 --fail-429 0.1 --fail-reset 0.1 --retry-after 7 --seed 42
ping_run 400
n5=$(grep -c '^5' "$tmp/outcomes")
n429=$(grep -c '^429' "$tmp/outcomes")
nreset=$(grep -c '^reset' "$tmp/outcomes")
echo "400 pings: 5xx=$n5 (expect ~80), 429=$n429 (~40), reset=$nreset (~40)"
[ "$n5" -ge 56 ] && [ "$n5" -le 104 ] || fail "5xx rate off: $n5/400"
[ "$n429" -ge 22 ] && [ "$n429" -le 58 ] || fail "429 rate off: $n429/400"
[ "$nreset" -ge 22 ] && [ "$nreset" -le 58 ] || fail "reset rate off: $nreset/400"
[ "$(stats .faults.http_5xx)" = "$n5" ] && [ "$(stats .faults.http_429)" = "$n429" ] || fail "stats faults differ from what curl saw: $(stats .faults -c)"
[ "$(stats .faults.reset_response)" = "$nreset" ] || fail "stats resets $(stats .faults.reset_response) != $nreset"
[ "$(stats .requests)" = 400 ] || fail "stats requests $(stats .requests)"
until grep -q '^429' <(curl -sS -o /dev/null -D "$tmp/hdr" -w '%{http_code}' "$base/lgsp/v1/ping" 2>/dev/null); do :; done
[ "$(hdr Retry-After)" = 7 ] || fail "429 without Retry-After: 7"
head -n 60 "$tmp/outcomes" >"$tmp/first"
stop_sim
start_sim --fail-5xx 0.2 --fail-429 0.1 --fail-reset 0.1 --retry-after 7 --seed 42
ping_run 60
cmp -s "$tmp/first" "$tmp/outcomes" || fail "same seed gave other faults"
ok "fault rates within 3 sigma, stats match what the client saw, same seed -> same faults"

# Under faults (including answers cut after the effect), retrying with the same key gives
# exactly one effect per item.
get_token_retry() {
	for _ in $(seq 100); do
		call POST /lgsp/v1/oauth/token -u commune-a:secret-a -d grant_type=client_credentials
		[ "$code" = 200 ] && { tok=$(jb .access_token); return; }
	done
	fail "no token after 100 tries"
}
get_token_retry
attempts=0
: >"$tmp/receipts"
for i in $(seq 30); do
	printf '{"schema":"motcua.lgsp.v1","commune_code":"00118","created_at":"2025-03-14T08:00:00Z","period_start":"2025-03-14T07:00:00Z","period_end":"2025-03-14T08:00:00Z","counters":{"tickets":%d}}' "$i" >"$tmp/qs.json"
	got=""
	for _ in $(seq 100); do
		attempts=$((attempts + 1))
		submit queue-stats "qs-item-$(printf %04d "$i")" "$tmp/qs.json"
		case "$code" in
		200 | 201) got=$(jb .receipt_id); break ;;
		401) get_token_retry ;;
		429 | 5* | 000) ;;
		*) fail "item $i: unexpected $code $(cat "$tmp/body")" ;;
		esac
	done
	[ -n "$got" ] || fail "item $i: no receipt after 100 attempts"
	echo "$got" >>"$tmp/receipts"
done
[ "$(sort -u "$tmp/receipts" | wc -l)" = 30 ] || fail "receipts are not distinct"
[ "$(stats .unique_items)" = 30 ] || fail "unique_items $(stats .unique_items), want 30 (a duplicate effect)"
echo "30 items, $attempts attempts, duplicates seen by the server: $(stats .duplicates), resets: $(stats '.faults.reset_request + .faults.reset_response')"
ok "exactly one effect per item under 5xx/429/reset faults"
stop_sim

# The lost answer: the submission takes effect, the answer is cut; the repeat gets the receipt.
start_sim --fail-reset 1 --reset-at response
dups=$(stats .duplicates)
submit queue-stats qs-lost-answer-0001 "$tmp/qs.json"
[ "$code" = 000 ] || fail "an answer cut mid-response reached curl whole ($code)"
[ "$(stats .unique_items)" = 31 ] || fail "the cut submission took no effect"
stop_sim
start_sim --latency-ms 300
t=$(curl -sS -o /dev/null -w '%{time_total}' "$base/lgsp/v1/ping")
"$PY" -c "import sys; sys.exit(0 if float('$t') >= 0.3 else 1)" || fail "--latency-ms 300 but ping took ${t}s"
submit queue-stats qs-lost-answer-0001 "$tmp/qs.json"
expect 200 "repeat of a submission whose answer was lost"
[ "$(hdr Idempotent-Replayed)" = true ] || fail "lost-answer repeat not marked replayed"
[ "$(stats .unique_items)" = 31 ] && [ "$(stats .duplicates)" = $((dups + 1)) ] || fail "lost answer: unique $(stats .unique_items), duplicates $(stats .duplicates)"
ok "lost answer (cut after the effect): the repeat returns the stored receipt, no second effect; latency honoured"
stop_sim

######## 6. TLS and mutual TLS
cd "$tmp" || fail "cd"
mkcert() { # NAME CA USAGE -> NAME.pem NAME.key signed by CA
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$1" 2>/dev/null &&
		printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=%s\n' "$3" >"$1.ext" &&
		openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -out "$1.pem" -days 2 -extfile "$1.ext" 2>/dev/null
}
for ca in ca rogue; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout $ca.key -out $ca.pem -days 2 -subj "/CN=$ca" 2>/dev/null || fail "openssl CA"
done
mkcert server ca serverAuth && mkcert client ca clientAuth && mkcert badclient rogue clientAuth || fail "openssl certs"
cd - >/dev/null || fail "cd"
scheme=https
start_sim --tls-cert "$tmp/server.pem" --tls-key "$tmp/server.key" --tls-client-ca "$tmp/ca.pem"
call GET /lgsp/v1/ping
[ "$code" = 000 ] || fail "a server certificate from an unknown CA was accepted by curl"
call GET /lgsp/v1/ping --cacert "$tmp/ca.pem"
expect_err 403 client_certificate_required "mutual TLS without a client certificate"
call GET /lgsp/v1/ping --cacert "$tmp/ca.pem" --cert "$tmp/badclient.pem" --key "$tmp/badclient.key"
[ "$code" = 403 ] || [ "$code" = 000 ] || fail "client certificate from another CA accepted ($code)"
call GET /lgsp/v1/ping --cacert "$tmp/ca.pem" --cert "$tmp/client.pem" --key "$tmp/client.key"
expect 200 "mutual TLS with the right client certificate"
call POST /lgsp/v1/oauth/token --cacert "$tmp/ca.pem" --cert "$tmp/client.pem" --key "$tmp/client.key" -u commune-a:secret-a -d grant_type=client_credentials
expect 200 "token over mutual TLS"
[ "$(stats .tokens_issued --cacert "$tmp/ca.pem")" -ge 1 ] || fail "stats over https"
ok "TLS: unknown server CA refused; mutual TLS requires a certificate from the configured CA"
stop_sim
scheme=http

echo "lgsp_sim: all scenarios passed"
