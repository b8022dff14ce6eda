#!/bin/bash
# make demo works end to end: the broker, the LGSP simulator and motcuad start; CLI
# documents, a kiosk's scan over MQTT and a queue ticket go in; the uplink delivers every
# document to the simulator; the web page answers; dossiers and the assistant are on; make
# demo-stop stops everything.
set -eu
. "$(dirname "$0")/lib.sh"
for t in mosquitto_ctrl curl jq; do command -v $t >/dev/null || skip "$t is not installed (make deps)"; done
[ -x "$MOTCUA_BUILD/motcua-lgsp-sim" ] && [ -x "$MOTCUA_BUILD/motcua-device" ] || skip "binaries not built (make all)"
export MOTCUA_DEMO_DIR=$T/demo
build_rel=$(realpath --relative-to="$MOTCUA_TOP" "$MOTCUA_BUILD")
stop_demo() { "$MOTCUA_TOP/tools/demo.sh" "$build_rel" stop >/dev/null 2>&1 || true; }
trap 'stop_demo; _cleanup' EXIT

step "make demo's script, with the demo in a temp dir"
"$MOTCUA_TOP/tools/demo.sh" "$build_rel" >"$T/out" 2>&1 || { cat "$T/out"; fail "demo.sh failed"; }
cat "$T/out"
grep -q '^  stored [0-9a-f]\{32\}' "$T/out" || fail "the kiosk's scan was not stored"
grep -q 'A001' "$T/out" || fail "no queue ticket"
sock=$T/demo/run/motcuad.sock
n=$("$MOTCUACTL" -s "$sock" --json status | jq '.documents')
[ "$n" -ge 7 ] || fail "expected at least 7 documents, status says $n"
for _ in $(seq 100); do
	d=$("$MOTCUACTL" -s "$sock" --json status | jq '.outbox.delivered.total')
	[ "$d" -ge "$n" ] && break
	sleep 0.2
done
[ "$d" -ge "$n" ] || fail "the uplink delivered $d of $n documents to the simulator"
ok "$n documents in, $d delivered to the simulator"
url=$(sed -n 's|^  staff web page:  \(http://[^ ]*\).*|\1|p' "$T/out")
[ "$(curl -s -o /dev/null -w '%{http_code}' "${url}healthz")" = 200 ] || fail "web page $url does not answer"
ok "web page answers at $url"
# Everything is on in the demo: the procedure catalogue and calendar (dossiers, the assistant).
"$MOTCUACTL" -s "$sock" ask "làm giấy khai sinh cho con" >"$T/ask" 2>&1 || fail "the assistant is off in the demo: $(cat "$T/ask")"
grep -qi "khai sinh" "$T/ask" || fail "the assistant did not find the birth registration: $(cat "$T/ask")"
grep -q 'Dossiers and the procedure assistant are off\|dossiers and the procedure assistant are off' "$T/demo/motcuad.log" &&
	fail "motcuad says dossiers are off in the demo"
ok "dossiers and the procedure assistant are on"

step "make demo-stop"
"$MOTCUA_TOP/tools/demo.sh" "$build_rel" stop
sleep 0.5
for f in "$T"/demo/run/motcuad.sock; do [ ! -S "$f" ] || fail "motcuad still running after demo-stop"; done
ok "stopped"
echo PASS
