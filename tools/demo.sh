#!/bin/bash
# make demo: starts a complete local gateway in build/demo, with everything it talks to, in
# the background: Debian's mosquitto (dynamic security, loopback), the city-side simulator
# motcua-lgsp-sim, and motcuad with its staff web page, uplink, device edge, signer and
# recognition workers.  Then a simulated kiosk registers and hands over a scan, synthetic
# documents and ID cards come in through the CLI, a queue ticket is taken, and the demo says
# where to look and how to stop it.  `make demo-stop` (tools/demo.sh BUILD stop) stops it all.
# Everything listens on 127.0.0.1 only; all data is synthetic.
set -eu
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/$build
demo=${MOTCUA_DEMO_DIR:-$top/$build/demo}
ctl() { "$bin/motcuactl" -s "$demo/run/motcuad.sock" "$@"; }

stop() {
	local any=0 pid
	if [ -f "$demo/pids" ]; then
		while read -r pid; do
			kill "$pid" 2>/dev/null && any=1
		done <"$demo/pids"
		rm -f "$demo/pids"
	fi
	[ $any = 0 ] || echo "demo: stopped (data stays in $demo; rm -rf it for a fresh start)"
}
if [ "${2:-}" = stop ]; then stop; exit 0; fi
stop >/dev/null 2>&1 || true

die() { echo "demo: $*" >&2; stop >/dev/null 2>&1; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port_free() { python3 -c 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1])))' "$1" 2>/dev/null; }
wait_file() { # FILE PID WHAT
	for _ in $(seq 200); do
		[ -s "$1" ] && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
secret() { head -c 18 /dev/urandom | base64 | tr -d '/+='; }

mkdir -p "$demo"/{run,keys,sim,samples}
chmod 700 "$demo/keys"
: >"$demo/pids"

# ---- the broker ----------------------------------------------------------------------
dynsec=""
for f in /usr/lib/*/mosquitto_dynamic_security.so; do [ -f "$f" ] && dynsec=$f; done
[ -n "$dynsec" ] || die "mosquitto's dynamic-security plugin is missing (make deps)"
[ -s "$demo/mqtt-admin.password" ] || secret >"$demo/mqtt-admin.password"
[ -s "$demo/mqtt-claim.password" ] || secret >"$demo/mqtt-claim.password"
chmod 600 "$demo"/mqtt-*.password
[ -f "$demo/dynsec.json" ] ||
	mosquitto_ctrl dynsec init "$demo/dynsec.json" motcuad "$(cat "$demo/mqtt-admin.password")" >/dev/null
mqtt_port=$(free_port)
cat >"$demo/mosquitto.conf" <<EOF
# written by tools/demo.sh, like packaging/mosquitto/motcua.conf.in but on loopback
per_listener_settings false
allow_anonymous false
listener $mqtt_port 127.0.0.1
plugin $dynsec
plugin_opt_config_file $demo/dynsec.json
user $(id -un)
persistence false
log_dest file $demo/mosquitto.log
EOF
/usr/sbin/mosquitto -c "$demo/mosquitto.conf" </dev/null >>"$demo/mosquitto.log" 2>&1 &
echo $! >>"$demo/pids"

# ---- the city ------------------------------------------------------------------------
printf 'demo-secret\n' >"$demo/lgsp-client.secret"
chmod 600 "$demo/lgsp-client.secret"
rm -f "$demo/sim.port"
"$bin/motcua-lgsp-sim" --data "$demo/sim" --port 0 --port-file "$demo/sim.port" \
	--client demo-commune:demo-secret </dev/null >/dev/null 2>>"$demo/lgsp-sim.log" &
sim_pid=$!
echo $sim_pid >>"$demo/pids"
wait_file "$demo/sim.port" $sim_pid || die "motcua-lgsp-sim did not start: $(tail -n 3 "$demo/lgsp-sim.log")"
sim_url=http://127.0.0.1:$(cat "$demo/sim.port")

# ---- the gateway ---------------------------------------------------------------------
[ -f "$demo/keys/test-signing.key" ] || "$bin/motcuactl" keys init --test --dir "$demo/keys" >/dev/null
web_port=8080
port_free $web_port || web_port=$(free_port)
cat >"$demo/motcua.conf" <<CONF
# Demo configuration written by tools/demo.sh; every key is documented in packaging/motcua.conf.
[store]
state_dir = $demo/state
key_file = $demo/state/storage.key
low_water_mb = 64
[daemon]
runtime_dir = $demo/run
control_socket = $demo/run/motcuad.sock
[gateway]
agency_code = 000.00.00.H00
commune_name = Xã Thử Nghiệm (demo)
[web]
listen = 127.0.0.1
port = $web_port
[devices]
mqtt_host = 127.0.0.1
mqtt_port = $mqtt_port
mqtt_password_file = $demo/mqtt-admin.password
claim_password_file = $demo/mqtt-claim.password
auto_approve_serials = DEMO-KIOSK-1
[uplink]
enabled = yes
base_url = $sim_url
client_id = demo-commune
client_secret_file = $demo/lgsp-client.secret
[sign]
signer = $bin/motcua-signer
user =
key = $demo/keys/test-signing.key
cert = $demo/keys/test-signing.crt
record = $demo/keys/signatures.log
[recognize]
worker = $bin/motcua-recognize
[dossier]
catalogue = $top/data/procedures.json
calendar = $top/data/calendar.json
tracking_url = http://127.0.0.1:$web_port/track?code=
CONF
"$bin/motcuad" --check-config -c "$demo/motcua.conf" >/dev/null
OMP_THREAD_LIMIT=1 nohup "$bin/motcuad" -c "$demo/motcua.conf" </dev/null >"$demo/motcuad.log" 2>&1 &
motcuad_pid=$!
echo $motcuad_pid >>"$demo/pids"
for _ in $(seq 200); do [ -S "$demo/run/motcuad.sock" ] && break; sleep 0.05; done
[ -S "$demo/run/motcuad.sock" ] || die "motcuad did not start; its log: $(tail -n 20 "$demo/motcuad.log")"

# The first staff account (admin), with a password shown once below.
if ! ctl users list 2>/dev/null | grep -q '^admin\b'; then
	secret >"$demo/admin.password"
	chmod 600 "$demo/admin.password"
	ctl users add admin --role admin --password-file "$demo/admin.password" >/dev/null
fi

# ---- things happening ----------------------------------------------------------------
"$top/tools/gen-synthetic.py" "$demo/samples" 2
echo "demo: documents through the CLI (synthetic, no real personal data):"
for f in "$demo"/samples/* "$top"/tests/data/cards/clean-000-front.jpg "$top"/tests/data/cards/clean-000-back.jpg; do
	printf '  %-22s -> document %s\n' "$(basename "$f")" "$(ctl doc put "$f" --kind scan)"
done
echo "demo: a simulated kiosk registers (auto-approved by serial) and hands over a scan:"
kiosk=("$bin/motcua-device" --host 127.0.0.1 --port "$mqtt_port" --dir "$demo/kiosk"
	--claim-password-file "$demo/mqtt-claim.password" --kind kiosk --serial DEMO-KIOSK-1 --wait 30)
registered=0
# On its first start motcuad creates the claim account a moment after connecting: retry.
for _ in 1 2 3 4 5 6 7 8 9 10; do
	if "${kiosk[@]}" register >>"$demo/kiosk.log" 2>&1; then registered=1; break; fi
	sleep 1
done
if [ $registered = 1 ] && "${kiosk[@]}" send "$top/tests/data/cards/clean-doc-000.jpg" --kind page >>"$demo/kiosk.log" 2>&1; then
	echo "  $(tail -n 1 "$demo/kiosk.log")"
else
	echo "  the kiosk did not get through (see $demo/kiosk.log)"
fi
echo "demo: a queue ticket: $(ctl queue take A 2>&1 | head -n 1)"
sleep 2 # let the uplink deliver and the recognition workers read the cards
echo
ctl status
cat <<MSG

demo: the gateway is running, with everything it talks to (all on 127.0.0.1):
  staff web page:  http://127.0.0.1:$web_port/   user admin, password $(cat "$demo/admin.password" 2>/dev/null || echo '(as set before)')
  the city (sim):  $sim_url/_sim/stats
  MQTT broker:     127.0.0.1:$mqtt_port (claim password in $demo/mqtt-claim.password)
  CLI:             $bin/motcuactl -s $demo/run/motcuad.sock status | uplink status | doc list | devices list | queue status
  logs:            $demo/motcuad.log, $demo/mosquitto.log, $demo/lgsp-sim.log
  stop:            make demo-stop
MSG
