#!/bin/bash
# make bench, devices part: document intake over MQTT (1 MB scans, one device sending one after
# another, each timed from publish to the gateway's "stored" ack) beside mosquitto_pub's raw
# QoS 1 publish of the same file to the same broker in the same run; then the time for 200
# simulated devices to register (claim, hello, approval by motcuactl, credentials, online).
set -eu
build=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=$top/$build
docs=${MQTT_DOCS:-30}
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || { echo "mqtt bench: mosquitto not installed, skipped"; exit 0; }
so=$(ls /usr/lib/*/mosquitto_dynamic_security.so 2>/dev/null | head -n 1)
work=$(mktemp -d "$top/$build/bench-mqtt.XXXXXX")
pids=
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
apw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
cpw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
echo "$apw" >"$work/admin.pw"
echo "$cpw" >"$work/claim.pw"
mosquitto_ctrl dynsec init "$work/dynsec.json" motcuad "$apw" >/dev/null
cat >"$work/mosquitto.conf" <<CONF
per_listener_settings false
allow_anonymous false
listener $port 127.0.0.1
plugin $so
plugin_opt_config_file $work/dynsec.json
user $(id -un)
persistence false
max_queued_messages 10000
CONF
"$(command -v mosquitto || echo /usr/sbin/mosquitto)" -c "$work/mosquitto.conf" 2>"$work/mosquitto.log" &
pids="$pids $!"
cat >"$work/motcua.conf" <<CONF
[store]
state_dir = $work/state
key_file = $work/state/storage.key
low_water_mb = 64
[daemon]
runtime_dir = $work/run
control_socket = $work/run/ctl.sock
[devices]
mqtt_port = $port
mqtt_password_file = $work/admin.pw
claim_password_file = $work/claim.pw
auto_approve_serials = BENCH-1
CONF
"$bin/motcuad" -c "$work/motcua.conf" 2>"$work/motcuad.log" &
pids="$pids $!"
for _ in $(seq 200); do
	mosquitto_sub -V 5 -p "$port" -u motcua-claim -P "$cpw" -t motcua/v1/gateway/status -C 1 -W 1 >/dev/null 2>&1 && break
	sleep 0.05
done
dev() { "$bin/motcua-device" --port "$port" --claim-password-file "$work/claim.pw" "$@"; }

echo "motcua mqtt bench: $(nproc) cores, mosquitto $(mosquitto -h 2>/dev/null | awk 'NR==1 {print $3}'), $docs x 1 MB"
dev --dir "$work/d1" register --kind doc-scanner --serial BENCH-1 --wait 20 >/dev/null
head -c 1048576 /dev/urandom >"$work/scan.pdf"
printf '%%PDF-1.4\n' | dd of="$work/scan.pdf" conv=notrunc 2>/dev/null
t0=$(date +%s.%N)
for _ in $(seq "$docs"); do
	mosquitto_pub -V 5 -p "$port" -u motcuad -P "$apw" -q 1 -t motcua/v1/bench/raw -f "$work/scan.pdf"
done
t1=$(date +%s.%N)
raw=$(echo "$t0 $t1 $docs" | awk '{print $3 / ($2 - $1)}')
out=$(dev --dir "$work/d1" sim --count 1 --docs "$docs" --size 1048576 --heartbeat 0 --wait 300 2>&1 || true)
in=$(echo "$out" | sed -n 's/.* \([0-9.]*\) docs\/s, \([0-9.]*\) MB\/s, mean publish-to-ack \([0-9.]*\) ms/\1 \2 \3/p')
# docs/s and MB/s over the whole run (connect included); ms per doc: mean publish-to-ack.
printf '%-34s %10s %10s %14s\n' "" "docs/s" "MB/s" "ms per doc"
read -r in_docs in_mb in_ms <<<"${in:-0 0 0}"
printf '%-34s %10.1f %10.1f %14.1f\n' "intake over MQTT (publish to ack)" "$in_docs" "$in_mb" "$in_ms"
printf '%-34s %10.1f %10.1f %14.1f\n' "mosquitto_pub raw QoS 1 publish" "$raw" "$raw" "$(echo "$raw" | awk '{print 1000 / $1}')"

# 200 devices: hello, approval one by one with motcuactl, credentials, online.
t0=$(date +%s.%N)
dev --dir "$work/sim200" sim --count 200 --serial LOAD --docs 0 --heartbeat 0 --wait 120 >"$work/sim200.out" 2>&1 &
spid=$!
while kill -0 $spid 2>/dev/null; do
	"$bin/motcuactl" -s "$work/run/ctl.sock" --json devices list |
		python3 -c 'import json,sys; [print(d["id"], d["serial"]) for d in json.load(sys.stdin)["devices"] if d["state"]=="pending"]' |
		while read -r id serial; do
			# the pairing code each simulated device shows
			"$bin/motcuactl" -s "$work/run/ctl.sock" devices approve "$id" \
				--code "$(cat "$work/sim200/sim-${serial##*-}/pairing-code")" >/dev/null
		done
	sleep 0.2
done
t1=$(date +%s.%N)
active=$("$bin/motcuactl" -s "$work/run/ctl.sock" devices list | grep -c ' active ' || true)
echo "200 devices registered, approved and online in $(echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}') s ($active of 200 came online with their own account)"
