#!/bin/bash
# Over a 2 Mbit/s link in a network namespace (veth + tc tbf) that goes down for 10 s in the
# middle of the uploads: the uplink notices (stalled transfers, failing probes), gives the
# waiting items back to the queue, says so in `uplink status` and in the log with the backlog numbers,
# and when the link is back sends the first data within about a second; every document is
# delivered once and no more than one chunk per interrupted upload is sent twice.
# Exit 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink_lib.sh"

N=6
SIZE=300000
CHUNK=65536
CONC=3

netns_link 2mbit
sim_start --listen "$NS_IP"
uplink_config "$SIM_BASE" "chunk_bytes=$CHUNK" "concurrency=$CONC" "stall_timeout_s=3" "probe_interval_ms=250" "connect_timeout_s=3"
daemon_start
put_docs $N $SIZE
sleep 3
[ "$(count_state delivered)" -lt $N ] || fail "everything was delivered before the outage; nothing tested"
step "link down for 10 s ($(count_state delivered) of $N delivered)"
link_down
before=$(sim_stat .bytes_received)
for _ in $(seq 90); do ctl uplink status | grep -q "link down" && break; sleep 0.1; done
ctl uplink status >"$T/down.txt"
cat "$T/down.txt"
grep -q "link down" "$T/down.txt" || fail "uplink status does not show the link down within 9 s"
grep -q "uplink: link down: .*backlog [0-9]* items" "$DLOG" || fail "no log line with the backlog numbers at link down"
queued=$(count_state queued)
[ "$queued" -ge $((N - $(count_state delivered) - CONC)) ] || fail "only $queued items back in the queue while the link is down"
sleep 1
step "link up"
link_up
ms=$(first_data_ms)
echo "   first data $ms ms after the link came back"
[ "$ms" -ge 0 ] && [ "$ms" -le 2500 ] || fail "first data $ms ms after link-up (want about a second)"
wait_delivered $N 60
grep -q "uplink: link up (after [0-9]*s): backlog" "$DLOG" || fail "no log line at link up"
daemon_stop
[ "$(sim_stat .unique_items)" = $N ] || fail "unique items $(sim_stat .unique_items) for $N"
# Every upload byte the server received beyond the documents (cut chunks included).
resent=$(($(sim_stat .bytes_received) - N * SIZE))
[ "$resent" -le $((CONC * CHUNK)) ] || fail "$resent bytes sent twice for one interruption of $CONC uploads of $CHUNK chunks"
ok "outage: link down shown with numbers, first data ${ms} ms after link-up, $N delivered once, $resent bytes sent twice (received $before before the cut)"
echo "uplink_netns: all scenarios passed"
