#!/bin/bash
# 200 simulated devices register with the claim account, staff approve them one by one with
# motcuactl, each goes online under its own account, sends a document and heartbeats; all
# end up active and online in `motcuactl devices list`, with their 200 documents stored.
# Deadlines are generous (a loaded machine took 59 s only to approve 200): the test proves the
# outcome, the benchmark measures the time.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mqtt_lib.sh"

COUNT=${COUNT:-200}
broker_start
mqtt_config
daemon_start
wait_gateway

step "$COUNT devices say hello"
start=$SECONDS
"${DEV[@]}" --dir "$T/sim" sim --count "$COUNT" --serial LOAD \
	--docs 1 --size 8192 --heartbeat 2 --duration 900 --wait 900 --log "$T/acks" >"$T/sim.out" 2>&1 &
spid=$!
track_pid $spid
wait_for 240 npending "$COUNT" || fail "only $(pending_ids | wc -l) of $COUNT pending"
ok "$COUNT pending after $((SECONDS - start))s"

step "staff approve each of them"
approve_sim "$T/sim"
ok "approved after $((SECONDS - start))s"

online() { [ "$(ctl devices list | grep -c ' active  *online ')" -eq "$COUNT" ]; }
wait_for 240 online || { ctl devices list | grep -v ' active  *online ' | head; fail "not all $COUNT online"; }
ok "all $COUNT active and online after $((SECONDS - start))s"
# every device's document acked (a line each in the simulator's log), then stop it; a
# loaded machine takes longer, so this waits instead of sleeping a fixed time
acked() { [ "$(wc -l <"$T/acks" 2>/dev/null || echo 0)" -ge "$COUNT" ]; }
wait_for 180 acked || fail "only $(wc -l <"$T/acks") of $COUNT documents acked"
kill -TERM $spid
rc=0
wait $spid || rc=$?
cat "$T/sim.out"
[ $rc -eq 0 ] || fail "the simulator reported a failure"
[ "$(sql 'SELECT COUNT(*) FROM documents')" -eq "$COUNT" ] || fail "documents missing"
[ "$(sql "SELECT COUNT(*) FROM devices WHERE last_seen > 0")" -eq "$COUNT" ] || fail "heartbeats not seen"
ctl audit verify
daemon_stop
ok "$COUNT documents stored, audit chain verifies"
