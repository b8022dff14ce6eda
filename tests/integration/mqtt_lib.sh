# shellcheck shell=bash
# Helpers for the MQTT scenarios (sourced after lib.sh, not run): a real mosquitto on a free
# loopback port with the dynamic-security plugin, set up like the package's drop-in
# (packaging/mosquitto/motcua.conf.in): no anonymous access, per_listener_settings false,
# the plugin's file made by `mosquitto_ctrl dynsec init` with the admin client "motcuad".
#
# After it: MQTT_PORT, ADMIN_PW, CLAIM_PW (and their files), BLOG (the broker's log),
# MOTCUA_DEVICE; mqtt_config writes motcua.conf with the [devices] section.

for tool in mosquitto mosquitto_ctrl mosquitto_pub mosquitto_sub; do
	command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] ||
		skip "$tool is not installed (make deps: mosquitto, mosquitto-clients)"
done
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
DYNSEC_SO=
for f in /usr/lib/*/mosquitto_dynamic_security.so /usr/lib/mosquitto_dynamic_security.so; do
	[ -f "$f" ] && DYNSEC_SO=$f && break
done
[ -n "$DYNSEC_SO" ] || skip "mosquitto's dynamic-security plugin is not installed"
MOTCUA_DEVICE=$MOTCUA_BUILD/motcua-device
[ -x "$MOTCUA_DEVICE" ] || skip "$MOTCUA_DEVICE not built (make all)"

# A free TCP port on loopback (the kernel picks it; a tiny window remains before use).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

MQTT_PORT=$(free_port)
ADMIN_PW=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
CLAIM_PW=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
printf '%s\n' "$ADMIN_PW" >"$T/mqtt-admin.password"
printf '%s\n' "$CLAIM_PW" >"$T/mqtt-claim.password"
BLOG=$T/mosquitto.log
BPID=

# tls_setup: the box's device CA and the broker's certificate, made by the package's own
# postinst function (make_mqtt_tls in packaging/debian/motcua.postinst) into $T/tls and
# $T/mqtt-tls; broker_start then adds a TLS listener on MQTT_TLS_PORT (loopback) like the
# package's drop-in.  After it: TLS_CA (the CA certificate devices verify the broker with),
# MQTT_TLS_PORT, DEV_TLS (the reference device over TLS, verifying TLS_CA).
MQTT_TLS_PORT=
tls_setup() {
	command -v openssl >/dev/null || skip "openssl is not installed"
	mkdir -p "$T/tls"
	(
		say() { echo "   postinst: $*"; }
		TLS=$T/tls MQTT_TLS=$T/mqtt-tls
		eval "$(sed -n '/^make_mqtt_tls() {/,/^}/p' "$MOTCUA_TOP/packaging/debian/motcua.postinst")"
		make_mqtt_tls
	) || fail "the postinst's make_mqtt_tls failed"
	[ -s "$T/mqtt-tls/mqtt.crt" ] && [ -s "$T/mqtt-tls/mqtt.key" ] || fail "make_mqtt_tls made no certificate"
	TLS_CA=$T/tls/mqtt-ca.crt
	MQTT_TLS_PORT=$(free_port)
	DEV_TLS=("$MOTCUA_DEVICE" --host 127.0.0.1 --port "$MQTT_TLS_PORT" --cafile "$TLS_CA"
		--claim-password-file "$T/mqtt-claim.password")
}

broker_start() {
	if [ ! -f "$T/dynsec.json" ]; then
		mosquitto_ctrl dynsec init "$T/dynsec.json" motcuad "$ADMIN_PW" >/dev/null ||
			fail "mosquitto_ctrl dynsec init failed"
	fi
	cat >"$T/mosquitto.conf" <<EOF
# written by tests/integration/mqtt_lib.sh, like packaging/mosquitto/motcua.conf.in
per_listener_settings false
allow_anonymous false
listener $MQTT_PORT 127.0.0.1
plugin $DYNSEC_SO
plugin_opt_config_file $T/dynsec.json
user $(id -un)
persistence false
max_queued_messages 10000
log_dest file $BLOG
log_type error
log_type warning
log_type notice
EOF
	if [ -n "$MQTT_TLS_PORT" ]; then
		cat >>"$T/mosquitto.conf" <<EOF
listener $MQTT_TLS_PORT 127.0.0.1
certfile $T/mqtt-tls/mqtt.crt
keyfile $T/mqtt-tls/mqtt.key
tls_version tlsv1.2
EOF
	fi
	"$MOSQUITTO" -c "$T/mosquitto.conf" >>"$BLOG" 2>&1 &
	BPID=$!
	track_pid "$BPID"
	local i=0
	while ! (exec 3<>"/dev/tcp/127.0.0.1/$MQTT_PORT") 2>/dev/null; do
		kill -0 "$BPID" 2>/dev/null || { cat "$BLOG"; fail "mosquitto exited at start"; }
		[ $i -lt 250 ] || fail "mosquitto did not listen on $MQTT_PORT"
		sleep 0.02
		i=$((i + 1))
	done
}

# mqtt_config [write_config LINES...] -- [devices LINES...]: motcua.conf pointing at the broker.
mqtt_config() {
	local base=() dev=() in_dev=0 a
	for a in "$@"; do
		if [ "$a" = "--" ]; then in_dev=1; elif [ $in_dev = 1 ]; then dev+=("$a"); else base+=("$a"); fi
	done
	write_config "${base[@]}"
	{
		echo "[devices]"
		echo "mqtt_host = 127.0.0.1"
		echo "mqtt_port = $MQTT_PORT"
		echo "mqtt_password_file = $T/mqtt-admin.password"
		echo "claim_password_file = $T/mqtt-claim.password"
		for a in "${dev[@]}"; do echo "$a"; done
	} >>"$CONF"
}

# The reference device against this broker: "${DEV[@]}" ARGS... (an array, not a function,
# so that `&` and $! give the device's own pid).
# shellcheck disable=SC2034 # used by the scenarios that source this file
DEV=("$MOTCUA_DEVICE" --host 127.0.0.1 --port "$MQTT_PORT" --claim-password-file "$T/mqtt-claim.password")

# wait_for SECONDS CMD...: until CMD succeeds.
wait_for() {
	local limit=$(($1 * 10)) i=0
	shift
	until "$@" >/dev/null 2>&1; do
		[ $i -lt $limit ] || return 1
		sleep 0.1
		i=$((i + 1))
	done
}

# pending_ids: ids of the devices waiting for approval.
pending_ids() { ctl --json devices list | python3 -c 'import json,sys; print("\n".join(d["id"] for d in json.load(sys.stdin)["devices"] if d["state"]=="pending"))'; }

# wait_gateway: until motcuad has set up the broker (the claim account reads its birth).
wait_gateway() {
	wait_for "${1:-15}" mosquitto_sub -V 5 -h 127.0.0.1 -p "$MQTT_PORT" -u motcua-claim -P "$CLAIM_PW" \
		-t motcua/v1/gateway/status -C 1 -W 1 ||
		fail "motcuad did not set up the broker within ${1:-15}s"
}

# approve_sim DIR: staff approve every pending device of `motcua-device --dir DIR sim`, each
# with the pairing code its "screen" shows (DIR/sim-<i>/pairing-code for serial <prefix>-<i>).
approve_sim() {
	local id serial
	ctl --json devices list | python3 -c 'import json,sys; [print(d["id"], d["serial"]) for d in json.load(sys.stdin)["devices"] if d["state"]=="pending"]' |
		while read -r id serial; do
			ctl devices approve "$id" --code "$(cat "$1/sim-${serial##*-}/pairing-code")" >/dev/null
		done
}

# npending N: exactly N devices wait for approval.
npending() { [ "$(pending_ids | wc -l)" -eq "$1" ]; }
