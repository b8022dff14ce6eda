#!/bin/bash
# SIGKILL of motcuad in the middle of uploads, again and again: after each restart the uplink
# resumes the same uploads from the offsets the server confirmed (stored in the outbox rows),
# every document is delivered exactly once in effect, and the bytes sent twice stay within
# one chunk per interrupted upload.  Exit 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink_lib.sh"

N=8
SIZE=1000000
CHUNK=131072
CONC=3
KILLS=6

sim_start
# 1 MB/s: each document takes about 3 s at three at a time, so kills land mid-upload.
uplink_config "$SIM_BASE" "chunk_bytes=$CHUNK" "concurrency=$CONC" "max_bytes_per_second=1000000"
daemon_start
put_docs $N $SIZE
step "killing motcuad $KILLS times during the uploads"
kills=0
for k in $(seq $KILLS); do
	sleep 0.$((5 + RANDOM % 5))
	[ "$(count_state delivered)" -lt $N ] || break
	mid=$(sql "SELECT COUNT(*) FROM outbox WHERE state = 'sending' AND offset > 0 AND offset < bytes")
	daemon_kill
	kills=$((kills + 1))
	echo "   kill $k: $(count_state delivered) delivered, $mid uploads part-way"
	daemon_start
done
[ $kills -ge 3 ] || fail "only $kills kills landed before everything was delivered; slow the uplink"
wait_delivered $N 60
daemon_stop

unique=$(sim_stat .unique_items)
[ "$unique" = $N ] || fail "$unique effects at the simulator for $N documents"
[ "$(sim_stat .key_conflicts)" = 0 ] || fail "a key was reused with another body"
created=$(sim_stat .uploads_created)
[ "$created" = $N ] || fail "$created uploads created for $N documents: a restart began a new upload"
resent=$(sim_stat .bytes_received_more_than_once)
received=$(sim_stat .bytes_received)
bound=$((kills * CONC * CHUNK))
[ "$resent" -le $bound ] || fail "$resent bytes sent twice; at most $bound ($kills kills x $CONC uploads x $CHUNK)"
[ "$received" -le $((N * SIZE + bound)) ] || fail "$received bytes received for $((N * SIZE)) of documents"
receipts_match
ok "$kills kills: $N delivered once, $created uploads (none restarted from zero), $resent bytes sent twice (bound $bound), $received received for $((N * SIZE))"
echo "uplink_kill: all scenarios passed"
