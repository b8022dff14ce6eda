#!/bin/bash
# make bench (uplink): two links a commune really has, each measured for motcuad (shipped
# [uplink] defaults) and, in the same run on the same link, for the naive loop (curl uploading
# each document whole, from zero after any failure):
#  flap:   256 kbit/s (tc tbf in a network namespace), cut for 1 s every 10 s, FLAP_DOCS
#          documents of FLAP_SIZE bytes queued before the start;
#  outage: 2 Mbit/s, the city unreachable for OUTAGE_S seconds with OUTAGE_DOCS documents of
#          OUTAGE_SIZE bytes queued, then back: time from the city's return to the first data,
#          and the drain's goodput from its return to the last receipt.
# Goodput = document bytes delivered * 8 / seconds / link rate; for the flapping link also over
# the time the link was up (a cut second carries nothing).  Re-sent = upload bytes the city
# received beyond the documents.  ROUNDS rounds (default 1); medians when more.
# Usage: tests/bench/uplink.sh BUILD_DIR
set -u
build=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
export MOTCUA_TOP=$top MOTCUA_BUILD=$top/$build
[ -d "$MOTCUA_BUILD" ] && MOTCUA_BUILD=$(cd "$MOTCUA_BUILD" && pwd)
. "$top/tests/integration/lib.sh"
. "$top/tests/integration/uplink_lib.sh"
ROUNDS=${ROUNDS:-1}
FLAP_DOCS=${FLAP_DOCS:-10}
FLAP_SIZE=${FLAP_SIZE:-300000}
OUTAGE_S=${OUTAGE_S:-120}
OUTAGE_DOCS=${OUTAGE_DOCS:-24}
OUTAGE_SIZE=${OUTAGE_SIZE:-500000}

netns_link 256kbit
sim_start --listen "$NS_IP"
set_rate() { # KBIT
	tc qdisc change dev "$VETH_HOST" root tbf rate "$1kbit" burst 32kbit latency 100ms
	ip netns exec "$NS" tc qdisc change dev "$VETH_NS" root tbf rate "$1kbit" burst 32kbit latency 100ms
}

# flapper: the link down 1 s every 10 s until killed.
flapper() {
	while :; do
		sleep 9
		link_down
		sleep 1
		link_up
	done
}
FLAPPER=
flap_start() { flapper & FLAPPER=$!; track_pid $FLAPPER; }
flap_stop() { kill "$FLAPPER" 2>/dev/null; wait "$FLAPPER" 2>/dev/null; link_up; }

stats_json() { sim_stat .; }
delta() { echo "$(($(jq -r ".$1" <<<"$3") - $(jq -r ".$1" <<<"$2")))"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", (b > 0 ? a / b : 0)}'; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b - a}'; }
# goodput BYTES SECONDS KBIT -> fraction of the link
goodput() { awk -v b="$1" -v s="$2" -v r="$3" 'BEGIN {printf "%.3f", b * 8 / s / (r * 1000)}'; }
median() { sort -g | awk '{a[n++] = $1} END {if (!n) print "-"; else print a[int((n - 1) / 2)]}'; }
res() { echo "$3" >>"$T/res.$1.$2"; } # NAME METRIC VALUE

mkdocs() { # PREFIX N SIZE
	for i in $(seq "$2"); do mkdoc "$T/$1$i.pdf" "$3"; done
}

######## motcuad
conf_motcuad() {
	write_config
	uplink_config "$SIM_BASE"
	sed -i '/^backoff_base_ms\|^backoff_cap_s\|^probe_interval_ms/d' "$CONF" # shipped defaults
}
# queue_docs PREFIX N: stores the documents with the uplink off (the city "away").
queue_docs() {
	write_config
	daemon_start
	for i in $(seq "$2"); do put_ok "$T/$1$i.pdf" >/dev/null; done
	daemon_stop
}
wait_all_delivered() { wait_delivered "$1" 3600; }

# first_data_bg: measures link-up -> first data into $T/fd in the background.
first_data_bg() { (first_data_ms >"$T/fd") & FD_PID=$!; }

motcuad_flap() { # ROUND
	rm -rf "$STATE"
	queue_docs flapdoc "$FLAP_DOCS"
	conf_motcuad
	set_rate 256
	local before after t0 t1 rx
	before=$(stats_json)
	flap_start
	t0=$(now)
	daemon_start
	wait_all_delivered "$FLAP_DOCS"
	t1=$(now)
	flap_stop
	after=$(stats_json)
	daemon_stop
	[ "$(delta unique_items "$before" "$after")" = "$FLAP_DOCS" ] || fail "motcuad flap: unique items $(delta unique_items "$before" "$after")"
	rx=$(delta bytes_received "$before" "$after")
	report flap motcuad "$(secs "$t0" "$t1")" "$rx" $((FLAP_DOCS * FLAP_SIZE)) 256
}

motcuad_outage() {
	rm -rf "$STATE"
	queue_docs outdoc "$OUTAGE_DOCS"
	conf_motcuad
	set_rate 2000
	local before after t0 t1 rx
	link_down
	daemon_start
	sleep "$OUTAGE_S"
	before=$(stats_json)
	link_up
	t0=$(now)
	first_data_bg
	wait_all_delivered "$OUTAGE_DOCS"
	t1=$(now)
	wait "$FD_PID"
	after=$(stats_json)
	daemon_stop
	[ "$(delta unique_items "$before" "$after")" = "$OUTAGE_DOCS" ] || fail "motcuad outage: unique items $(delta unique_items "$before" "$after")"
	rx=$(delta bytes_received "$before" "$after")
	report outage motcuad "$(secs "$t0" "$t1")" "$rx" $((OUTAGE_DOCS * OUTAGE_SIZE)) 2000 "$(cat "$T/fd")"
}

######## the naive loop: one curl upload of the whole document, from zero after any failure
naive_one() { # FILE KEY
	local f=$1 key=$2 size sum up code
	size=$(stat -c %s "$f")
	sum=$(sha "$f")
	until up=$(curl -sf --max-time 30 -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
		-H "Idempotency-Key: $key:blob:0" -d "{\"size\":$size,\"sha256\":\"$sum\"}" "$SIM_BASE/lgsp/v1/uploads" | jq -r .upload_id); do
		sleep 1
	done
	# (a 409 after a lost answer: the whole body had arrived; the server's offset says so)
	until code=$(curl -s -o /dev/null -w '%{http_code}' --connect-timeout 10 --speed-limit 1 --speed-time 10 \
		-X PATCH -H "Authorization: Bearer $tok" -H 'Content-Type: application/offset+octet-stream' \
		-H 'Upload-Offset: 0' --data-binary @"$f" "$SIM_BASE/lgsp/v1/uploads/$up") &&
		{ [ "$code" = 200 ] || [ "$(curl -sf --max-time 30 -H "Authorization: Bearer $tok" "$SIM_BASE/lgsp/v1/uploads/$up" | jq -r .offset)" = "$size" ]; }; do
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
naive_token() {
	until tok=$(curl -sf --max-time 30 -u commune-a:secret-a -d grant_type=client_credentials "$SIM_BASE/lgsp/v1/oauth/token" | jq -r .access_token); do sleep 1; done
}
naive_flap() { # ROUND
	set_rate 256
	naive_token
	local before after t0 t1 rx
	before=$(stats_json)
	flap_start
	t0=$(now)
	for i in $(seq "$FLAP_DOCS"); do naive_one "$T/nflapdoc$i.pdf" "naive-flap-$$-$1-$i"; done
	t1=$(now)
	flap_stop
	after=$(stats_json)
	rx=$(delta bytes_received "$before" "$after")
	report flap naive "$(secs "$t0" "$t1")" "$rx" $((FLAP_DOCS * FLAP_SIZE)) 256
}
naive_outage() { # ROUND
	set_rate 2000
	naive_token
	local before after t0 t1 rx
	link_down
	# the loop keeps trying through the outage, as a cron'd script would
	(for i in $(seq "$OUTAGE_DOCS"); do naive_one "$T/noutdoc$i.pdf" "naive-out-$$-$1-$i"; done; now >"$T/naive.done") &
	local loop=$!
	track_pid $loop
	sleep "$OUTAGE_S"
	before=$(stats_json)
	link_up
	t0=$(now)
	first_data_bg
	wait $loop
	t1=$(cat "$T/naive.done")
	wait "$FD_PID"
	after=$(stats_json)
	rx=$(delta bytes_received "$before" "$after")
	report outage naive "$(secs "$t0" "$t1")" "$rx" $((OUTAGE_DOCS * OUTAGE_SIZE)) 2000 "$(cat "$T/fd")"
}

# report SCENARIO WHO SECONDS RECEIVED DOC_BYTES KBIT [FIRST_DATA_MS]
report() {
	local sc=$1 who=$2 s=$3 rx=$4 docs=$5 kbit=$6 fd=${7:-} g gu resent
	g=$(goodput "$docs" "$s" "$kbit")
	resent=$(ratio $((rx - docs)) "$docs")
	res "$sc" "$who.goodput" "$g"
	res "$sc" "$who.resent" "$resent"
	if [ "$sc" = flap ]; then
		gu=$(awk -v g="$g" 'BEGIN {printf "%.3f", g / 0.9}') # up 9 s of every 10
		res "$sc" "$who.goodput_up" "$gu"
		printf '  %-7s %-6s %7.1f s: goodput %s of the link (%s of its up time), re-sent %s of the bytes\n' \
			"$who" "$sc" "$s" "$g" "$gu" "$resent"
	else
		res "$sc" "$who.first_ms" "$fd"
		printf '  %-7s %-6s %7.1f s from the return: goodput %s of the link, re-sent %s, first data %s ms after the return\n' \
			"$who" "$sc" "$s" "$g" "$resent" "$fd"
	fi
}

# Each round and each side sends documents the city has never seen (it keeps blobs by hash: a
# repeat would cost nothing).
mkdocs_round() {
	mkdocs flapdoc "$FLAP_DOCS" "$FLAP_SIZE"
	mkdocs outdoc "$OUTAGE_DOCS" "$OUTAGE_SIZE"
	mkdocs nflapdoc "$FLAP_DOCS" "$FLAP_SIZE"
	mkdocs noutdoc "$OUTAGE_DOCS" "$OUTAGE_SIZE"
}
echo "uplink bench: flap = 256 kbit/s cut 1 s every 10 s, $FLAP_DOCS x $FLAP_SIZE B; outage = 2 Mbit/s, city away ${OUTAGE_S} s, $OUTAGE_DOCS x $OUTAGE_SIZE B queued; $ROUNDS round(s)"
for r in $(seq "$ROUNDS"); do
	echo " round $r"
	mkdocs_round
	motcuad_flap "$r"
	naive_flap "$r"
	motcuad_outage "$r"
	naive_outage "$r"
done

m() { median <"$T/res.$1.$2"; }
echo "uplink bench results (medians of $ROUNDS):"
printf '  flapping 256 kbit/s: motcuad goodput %s of the link (%s of up time), re-sent %s; naive %s (%s), re-sent %s; motcuad/naive %s\n' \
	"$(m flap motcuad.goodput)" "$(m flap motcuad.goodput_up)" "$(m flap motcuad.resent)" \
	"$(m flap naive.goodput)" "$(m flap naive.goodput_up)" "$(m flap naive.resent)" \
	"$(ratio "$(m flap motcuad.goodput)" "$(m flap naive.goodput)")"
printf '  after a %s s outage at 2 Mbit/s: motcuad goodput %s, re-sent %s, first data %s ms; naive %s, re-sent %s, first data %s ms; motcuad/naive %s\n' \
	"$OUTAGE_S" "$(m outage motcuad.goodput)" "$(m outage motcuad.resent)" "$(m outage motcuad.first_ms)" \
	"$(m outage naive.goodput)" "$(m outage naive.resent)" "$(m outage naive.first_ms)" \
	"$(ratio "$(m outage motcuad.goodput)" "$(m outage naive.goodput)")"
