#!/bin/bash
# make bench (uplink): over a veth link shaped to 2 Mbit/s (tc tbf) that is cut for 5 s
# every 20 s, motcuad delivers DOCS documents of 1 MB to motcua-lgsp-sim with its shipped
# [uplink] defaults; then, on the same link, the naive way (curl uploading each document whole
# and starting again from zero after every failure).  Prints goodput as a fraction of the
# link rate, bytes re-sent, and the time from link-up to the first data sent.
# Usage: tests/bench/uplink.sh BUILD_DIR   (env: DOCS=50, RATE_MBIT=2, UP_S=15, DOWN_S=5)
set -u
build=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
export MOTCUA_TOP=$top MOTCUA_BUILD=$top/$build
[ -d "$MOTCUA_BUILD" ] && MOTCUA_BUILD=$(cd "$MOTCUA_BUILD" && pwd)
. "$top/tests/integration/lib.sh"
. "$top/tests/integration/uplink_lib.sh"
DOCS=${DOCS:-50}
SIZE=1000000
RATE_MBIT=${RATE_MBIT:-2}
UP_S=${UP_S:-15}
DOWN_S=${DOWN_S:-5}

netns_link "${RATE_MBIT}mbit"
sim_start --listen "$NS_IP"

# The outages: DOWN_S seconds every UP_S + DOWN_S, for as long as the bench runs; each
# link-up's time to the first data (> 3000 bytes) goes to $T/firstdata.
cutter() {
	while :; do
		sleep "$UP_S"
		link_down
		sleep "$DOWN_S"
		link_up
		first_data_ms >>"$T/firstdata" &
	done
}
cutter &
CUTTER=$!
track_pid $CUTTER

stats_json() { sim_stat . ; }
delta() { # FIELD BEFORE_JSON AFTER_JSON
	echo "$(($(jq -r ".$1" <<<"$3") - $(jq -r ".$1" <<<"$2")))"
}
fd_summary() { # lines of ms -> "n=.. median .. max .."
	sort -n | awk '$1 >= 0 {a[n++]=$1} END {if (!n) {print "none measured"; exit}
		printf "%d link-ups, median %d ms, max %d ms", n, a[int((n-1)/2)], a[n-1]}'
}
report() { # NAME SECONDS BEFORE AFTER TX_BYTES
	local secs=$2 resent rcvd good
	# Re-sent: every upload byte the server received beyond the documents themselves (cut
	# chunks included).  The simulator's bytes_received_more_than_once misses the prefix of a
	# chunk whose connection was still half-open when the repeat arrived.
	rcvd=$(delta bytes_received "$3" "$4")
	resent=$((rcvd - DOCS * SIZE))
	good=$(awk -v b=$((DOCS * SIZE)) -v s="$secs" -v r="$RATE_MBIT" 'BEGIN {printf "%.2f", b * 8 / s / (r * 1000000)}')
	printf '%-8s %4d docs in %6.1f s: goodput %s of the link; re-sent %d bytes (%.1f%%); upload bytes received %d; on the wire %d bytes\n' \
		"$1" "$DOCS" "$secs" "$good" "$resent" "$(awk -v a="$resent" -v b=$((DOCS * SIZE)) 'BEGIN {print 100 * a / b}')" "$rcvd" "$5"
	printf '%-8s link-up to first data: %s\n' "$1" "$(fd_summary <"$T/firstdata")"
}

echo "uplink bench: $DOCS documents of $SIZE bytes over ${RATE_MBIT} Mbit/s (tc tbf), cut ${DOWN_S}s every $((UP_S + DOWN_S))s"

######## motcuad with the shipped [uplink] defaults
write_config
daemon_start
for i in $(seq "$DOCS"); do mkdoc "$T/doc$i.pdf" $SIZE; put_ok "$T/doc$i.pdf" >/dev/null; done
daemon_stop
uplink_config "$SIM_BASE"
# The shipped defaults, not the tests' quick ones.
sed -i '/^backoff_base_ms\|^backoff_cap_s\|^probe_interval_ms/d' "$CONF"
grep -A20 '^\[uplink\]' "$CONF" | grep -v secret | sed 's/^/  config: /'
: >"$T/firstdata"
before=$(stats_json)
tx0=$(tx_bytes)
t0=$(date +%s.%N)
daemon_start
wait_delivered "$DOCS" 3600
t1=$(date +%s.%N)
after=$(stats_json)
tx1=$(tx_bytes)
hwm=$(awk '/VmHWM/ {print $2 " " $3}' "/proc/$DPID/status")
daemon_stop
[ "$(delta unique_items "$before" "$after")" = "$DOCS" ] || fail "unique items $(delta unique_items "$before" "$after")"
echo "motcuad peak memory (VmHWM) with $DOCS MB queued: $hwm"
report motcuad "$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')" "$before" "$after" $((tx1 - tx0))

######## the naive way: one curl upload of the whole document, from zero after any failure
: >"$T/firstdata"
naive_one() { # FILE KEY
	local f=$1 key=$2 size sum up code
	size=$(stat -c %s "$f")
	sum=$(sha "$f")
	until up=$(curl -sf --max-time 30 -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
		-H "Idempotency-Key: $key:blob:0" -d "{\"size\":$size,\"sha256\":\"$sum\"}" "$SIM_BASE/lgsp/v1/uploads" | jq -r .upload_id); do
		sleep 1
	done
	# The whole document at offset 0, again and again until it goes through in one piece.
	until code=$(curl -s -o /dev/null -w '%{http_code}' --connect-timeout 10 --speed-limit 1 --speed-time 10 \
		-X PATCH -H "Authorization: Bearer $tok" -H 'Content-Type: application/offset+octet-stream' \
		-H 'Upload-Offset: 0' --data-binary @"$f" "$SIM_BASE/lgsp/v1/uploads/$up") && [ "$code" = 200 ]; do
		sleep 1
	done
	until curl -sf --max-time 30 -X POST -H "Authorization: Bearer $tok" "$SIM_BASE/lgsp/v1/uploads/$up/finish" >/dev/null; do sleep 1; done
	printf '{"schema":"motcua.lgsp.v1","commune_code":"00118","created_at":"2025-03-14T08:00:00Z","document_id":"%s","document_type":"scan","blobs":[{"sha256":"%s","size":%d,"role":"scan"}]}' \
		"$key" "$sum" "$size" >"$T/naive.json"
	until curl -sf --max-time 30 -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
		-H "Idempotency-Key: $key" --data-binary @"$T/naive.json" "$SIM_BASE/lgsp/v1/submissions/documents" >/dev/null; do
		sleep 1
	done
}
for i in $(seq "$DOCS"); do mkdoc "$T/naive$i.pdf" $SIZE; done
until tok=$(curl -sf --max-time 30 -u commune-a:secret-a -d grant_type=client_credentials "$SIM_BASE/lgsp/v1/oauth/token" | jq -r .access_token); do sleep 1; done
before=$(stats_json)
tx0=$(tx_bytes)
t0=$(date +%s.%N)
for i in $(seq "$DOCS"); do naive_one "$T/naive$i.pdf" "naive-bench-$$-$i"; done
t1=$(date +%s.%N)
after=$(stats_json)
tx1=$(tx_bytes)
report naive "$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')" "$before" "$after" $((tx1 - tx0))
