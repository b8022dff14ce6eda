#!/bin/bash
# The uplink delivers every document exactly once in effect against the real LGSP simulator
# on loopback while the simulator injects 5xx, 429 (Retry-After), connections cut in the
# request and in the answer (the lost-receipt case), and tokens that expire under the
# client's feet; resent bytes stay within one chunk per cut; receipts are checked and
# audited; `uplink status` shows the link up and nothing left.  Exit 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink_lib.sh"

CHUNK=65536
N1=16
N2=6

step "simulator with 5xx 10%, 429 5%, resets 10%"
sim_start --fail-5xx 0.10 --fail-429 0.05 --retry-after 1 --fail-reset 0.10 --seed 7
uplink_config "$SIM_BASE" "chunk_bytes=$CHUNK" "concurrency=3"
daemon_start
put_docs $N1 3000 150000 700000 1300000
wait_delivered $N1 90
ok "$N1 documents delivered under faults"

unique=$(sim_stat .unique_items)
[ "$unique" = $N1 ] || fail "the simulator counts $unique effects for $N1 items"
[ "$(sim_stat .key_conflicts)" = 0 ] || fail "key conflicts: the same key was sent with another body"
[ "$(sim_stat .submissions_rejected)" = 0 ] || fail "the simulator rejected a submission"
[ "$(sim_stat .hash_mismatches)" = 0 ] || fail "a finished upload did not hash to the document"
faults=$(sim_stat .faults.total)
[ "$faults" -gt 10 ] || fail "only $faults faults were injected; the test proves little"
cuts=$(sim_stat '.faults.reset_request')
resent=$(sim_stat .bytes_received_more_than_once)
[ "$resent" -le $((cuts * CHUNK)) ] || fail "$resent bytes re-sent for $cuts cut chunks of at most $CHUNK"
receipts_match
[ "$(count_state rejected)" = 0 ] || fail "an item was rejected: $(ctl outbox list --state rejected)"
# The blobs the simulator holds are the documents, byte for byte.
while read -r sha; do
	cmp -s "$SIMDIR/blobs/$sha" <(for f in "$T"/doc*.pdf; do [ "$(sha "$f")" = "$sha" ] && cat "$f" && break; done) ||
		fail "the simulator's blob $sha differs from the document"
done < <(sql "SELECT sha256 FROM documents")
ok "unique effects $unique, $faults faults ($(sim_stat '.faults|tostring')), duplicates answered by receipt $(sim_stat .duplicates), $resent bytes re-sent for $cuts cut chunks"

n=$(sql "SELECT COUNT(*) FROM audit WHERE action = 'outbox.delivered'")
[ "$n" = $N1 ] || fail "$n outbox.delivered audit rows for $N1 deliveries"
ctl audit verify >/dev/null || fail "audit chain broken"
ctl uplink status >"$T/st.txt" || fail "uplink status failed"
cat "$T/st.txt"
grep -q "link up" "$T/st.txt" || fail "uplink status does not say the link is up"
grep -q "backlog:   0 items" "$T/st.txt" || fail "uplink status shows a backlog"
ctl --json uplink status | jq -e '.delivered_since_start == '$N1' and .backlog_bytes == 0' >/dev/null ||
	fail "uplink status JSON: $(ctl --json uplink status)"
ok "receipts match the simulator's, audited; uplink status: link up, nothing waiting"

step "tokens that live 2 s with 400 ms latency: refreshed ahead and after a 401"
daemon_stop
sim_stop
sim_start --token-ttl 2 --latency-ms 400
daemon_start
put_docs $N2 200000
wait_delivered $((N1 + N2)) 60
[ "$(sim_stat .unique_items)" = $((N1 + N2)) ] || fail "unique items $(sim_stat .unique_items)"
issued=$(($(sim_stat .tokens_issued) - 1))
[ "$issued" -ge 3 ] || fail "only $issued tokens issued in the short-token phase"
ok "delivered with short-lived tokens: $issued tokens issued, $(sim_stat .auth_failures) answered 401"
grep -q "refused the access token" "$DLOG" && ok "a 401 was answered with a new token and a repeat"
daemon_stop
echo "uplink_deliver: all scenarios passed"
