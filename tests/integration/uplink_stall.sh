#!/bin/bash
# The uplink tells the truth at the link's edges, over a 256 kbit/s link in a network namespace
# (veth, htb/tbf shaping):
# 1. transfers whose connections go dead while the link itself works (their packets are dropped
#    by a tc filter on their ports; new connections pass) are restarted from the confirmed offset
#    once the probe answers, with the stall timeout set to an hour: delivery resumes, every
#    document arrives once, and no more than the dead chunks is sent twice;
# 2. the rate `uplink status` shows is never above the link's;
# 3. with nothing queued, a city that goes away is noticed (a light probe): status says "link
#    down", not "link up since ...";
# 4. while the link is down the time to drain is "unknown", never a number.
# Exit 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink_lib.sh"

N=4
SIZE=150000
CHUNK=65536
LINK_BPS=32000 # 256 kbit/s

netns_link 256kbit
# motcuad's side: htb at the link rate for everything (class 10), and a class 30 that passes
# nothing for the ports put there (the dead connections).
tc qdisc replace dev "$VETH_HOST" root handle 1: htb default 10 || skip "tc htb is not available"
tc class add dev "$VETH_HOST" parent 1: classid 1:10 htb rate 256kbit ceil 256kbit burst 4k
tc class add dev "$VETH_HOST" parent 1: classid 1:30 htb rate 8bit ceil 8bit 2>/dev/null
tc qdisc add dev "$VETH_HOST" parent 1:30 handle 30: pfifo limit 1
sim_start --listen "$NS_IP"
uplink_config "$SIM_BASE" "chunk_bytes=$CHUNK" "concurrency=3" "stall_timeout_s=3600" "probe_interval_ms=250" "connect_timeout_s=3"
daemon_start

# The highest rate uplink status reports, sampled in the background.
rate_watch() {
	while :; do
		ctl --json uplink status 2>/dev/null | jq -r '.rate_bps // 0' >>"$T/rates"
		sleep 0.3
	done
}
rate_watch &
track_pid $!

step "1. connections go dead mid-chunk while the link works"
put_docs $N $SIZE
ports=
for _ in $(seq 600); do
	# established connections to the city with bytes waiting in their send queue
	ports=$(ss -Htn state established dst "$NS_IP" | awk '$2 > 0 {n = split($3, a, ":"); print a[n]}' | sort -u)
	[ -n "$ports" ] && break
	sleep 0.05
done
[ -n "$ports" ] || fail "no upload in flight to cut"
for p in $ports; do
	tc filter add dev "$VETH_HOST" parent 1: protocol ip prio 1 u32 match ip sport "$p" 0xffff flowid 1:30 ||
		fail "tc filter for port $p"
done
nports=$(echo "$ports" | wc -w)
ok "$nports connection(s) black-holed (ports $(echo $ports))"
for _ in $(seq 1200); do grep -q "restarting the transfer from the confirmed offset" "$DLOG" && break; sleep 0.1; done
grep -q "restarting the transfer from the confirmed offset" "$DLOG" ||
	fail "no dead transfer was restarted while the link answered"
wait_delivered $N 300
[ "$(sim_stat .unique_items)" = $N ] || fail "unique items $(sim_stat .unique_items) for $N"
resent=$(($(sim_stat .bytes_received) - N * SIZE))
[ "$resent" -le $((nports * CHUNK)) ] || fail "$resent bytes sent twice for $nports dead chunks of at most $CHUNK"
ok "restarted: $(grep -c 'restarting the transfer' "$DLOG") restart(s), $N delivered once, $resent bytes sent twice"

step "2. the rate shown is never above the link's"
max=$(sort -n "$T/rates" | tail -n 1)
samples=$(grep -cv '^0$' "$T/rates")
[ "$samples" -gt 0 ] || fail "uplink status never showed a rate while sending"
[ "$max" -le $((LINK_BPS * 105 / 100)) ] || fail "uplink status showed $max B/s on a $LINK_BPS B/s link"
ok "highest rate shown $max B/s on a $LINK_BPS B/s link ($samples non-zero samples)"

step "3. the city goes away while nothing is queued"
ctl uplink status | grep -q "link up" || fail "link not up after the deliveries: $(ctl uplink status | head -n 1)"
link_down
for _ in $(seq 900); do ctl uplink status | grep -q "link down" && break; sleep 0.1; done
ctl uplink status >"$T/idle.txt"
cat "$T/idle.txt"
grep -q "link down" "$T/idle.txt" || fail "with an empty queue, uplink status does not notice the city is gone"
ok "noticed with an empty queue: $(head -n 1 "$T/idle.txt")"

step "4. while the link is down the time to drain is unknown"
put_docs 1 $SIZE
ctl uplink status >"$T/down.txt"
grep -q "^drain: *unknown" "$T/down.txt" || { cat "$T/down.txt"; fail "drain time is not 'unknown' while the link is down"; }
[ "$(ctl --json uplink status | jq .eta_s)" = -1 ] || fail "eta_s is not -1 while the link is down"
ok "$(grep '^drain:' "$T/down.txt")"
link_up
wait_delivered $((N + 1)) 300
daemon_stop
echo "uplink_stall: all scenarios passed"
