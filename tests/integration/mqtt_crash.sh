#!/bin/bash
# Nothing a device was told "stored" is lost, and nothing is stored twice, when motcuad is
# killed with SIGKILL while devices send: $DEVICES simulated kiosks each hand over $DOCS
# documents (20-200 KB) one after another, resending any that had no ack within 1.5 s,
# while motcuad is killed $KILLS times and restarted.  Afterwards every document has its ack,
# each acked document is in the store exactly once under "<device>:<doc id>" with the SHA-256
# the device computed, byte-identical through doc get, and the audit chain verifies.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mqtt_lib.sh"

DEVICES=${DEVICES:-6}
DOCS=${DOCS:-25}
KILLS=${KILLS:-8}

broker_start
mqtt_config -- "auto_approve_serials = $(seq -f 'CRASH-%g' 0 $((DEVICES - 1)) | tr '\n' ' ')"
daemon_start
wait_gateway

step "$DEVICES devices send $DOCS documents each while motcuad is killed $KILLS times"
"${DEV[@]}" --dir "$T/sim" sim --count "$DEVICES" --serial CRASH \
	--docs "$DOCS" --size 200000 --resend-ms 1500 --heartbeat 0 --wait ${WAIT:-150} --log "$T/acks" \
	>"$T/sim.out" 2>&1 &
spid=$!
track_pid $spid
for k in $(seq "$KILLS"); do
	sleep "0.$((3 + RANDOM % 7))"
	daemon_kill
	sleep 0.$((RANDOM % 5))
	daemon_spawn
	wait_ready 10
	echo "   kill $k: $(wc -l <"$T/acks" 2>/dev/null || echo 0) acks so far"
done
rc=0
wait $spid || rc=$?
cat "$T/sim.out"
[ $rc -eq 0 ] || { ctl devices list; ls -R "$T/sim" | head -30; grep -c "" "$BLOG"; tail -5 "$BLOG"; fail "the simulated devices did not all get their acks (exit $rc)"; }

step "every acked document is stored exactly once, as the device sent it"
total=$((DEVICES * DOCS))
[ "$(wc -l <"$T/acks")" -eq $total ] || fail "$(wc -l <"$T/acks") acks for $total documents"
resent=$(awk '$6 > 1' "$T/acks" | wc -l)
while read -r dev docid sha result id _; do
	row=$(sql "SELECT id || ' ' || sha256 FROM documents WHERE intake_key = '$dev:$docid'")
	[ "$row" = "$id $sha" ] || fail "$dev:$docid acked $result as $id ($sha) but the store has '$row'"
done <"$T/acks"
[ "$(sql 'SELECT COUNT(*) FROM documents')" -eq $total ] || fail "$(sql 'SELECT COUNT(*) FROM documents') documents stored for $total sent"
[ "$(sql 'SELECT COUNT(*) FROM outbox')" -eq $total ] || fail "outbox items do not match the documents"
[ "$(sql 'PRAGMA integrity_check')" = ok ] || fail "integrity_check failed"
sample=$(awk 'NR % 37 == 1 {print $5}' "$T/acks")
for id in $sample; do
	ctl doc get "$id" -o "$T/got" || fail "doc get $id failed"
	[ "$(sha "$T/got")" = "$(sql "SELECT sha256 FROM documents WHERE id = '$id'")" ] || fail "$id differs"
done
ctl audit verify
blobs_tmp_empty
daemon_stop
ok "$total documents, each once; $resent were resent after a kill and answered once"
