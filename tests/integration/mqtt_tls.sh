#!/bin/bash
# Devices reach the broker only over TLS, with the package's own broker set-up (issue 13):
# the drop-in packaging/mosquitto/motcua.conf.in and the CA and certificate made by the
# postinst's make_mqtt_tls, in a network namespace of this test's own with a second address
# standing for the office LAN.  Plain MQTT answers on loopback only; the reference device
# refuses to send a password in clear to another host, fails against a broker its CA did not
# sign, and registers and hands in a document over TLS; the CA's SHA-256 fingerprint that
# motcuactl and the staff devices page show is the certificate's; a 60 MB hello is cut off by
# the broker's max_packet_size without the broker growing, and the broker keeps serving.
set -eu
if [ -z "${MOTCUA_IN_NETNS:-}" ]; then
	unshare --net true 2>/dev/null || { echo "SKIP: cannot create a network namespace (unshare --net)"; exit 77; }
	exec unshare --net env MOTCUA_IN_NETNS=1 "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mqtt_lib.sh"
command -v curl >/dev/null || skip "curl is not installed"

LAN=10.77.0.1
# The "office LAN": a veth pair inside this namespace, the box's address on one end.
ip link set lo up
ip link add lan0 type veth peer name lan1 || skip "cannot create a veth pair"
ip addr add "$LAN/24" dev lan0
ip link set lan0 up
ip link set lan1 up

step "the postinst makes the CA and the broker certificate (this namespace's addresses)"
tls_setup
openssl verify -CAfile "$TLS_CA" "$T/mqtt-tls/mqtt.crt"
openssl x509 -in "$T/mqtt-tls/mqtt.crt" -noout -ext subjectAltName | grep -q "IP Address:$LAN" ||
	fail "the certificate does not name $LAN"
[ "$(stat -c %a "$T/tls/mqtt-ca.key")" = 600 ] || fail "the CA key is not 0600"
ok "CA and certificate for $LAN made, CA key root only"

step "mosquitto with the package's drop-in"
MULTI=$(basename "$(dirname "$DYNSEC_SO")")
mosquitto_ctrl dynsec init "$T/dynsec.json" motcuad "$ADMIN_PW" >/dev/null
{
	echo "user $(id -un)"
	echo "persistence false"
	echo "log_dest file $BLOG"
	sed -e "s|@MULTIARCH@|$MULTI|" -e "s|/etc/motcua/mqtt-tls|$T/mqtt-tls|g" \
		-e "s|/var/lib/mosquitto/motcua-dynsec.json|$T/dynsec.json|" \
		"$MOTCUA_TOP/packaging/mosquitto/motcua.conf.in"
} >"$T/mosquitto.conf"
[ -f "$(sed -n 's/^plugin //p' "$T/mosquitto.conf")" ] || fail "the drop-in's plugin path does not exist here"
"$MOSQUITTO" -c "$T/mosquitto.conf" >>"$BLOG" 2>&1 &
BPID=$!
track_pid $BPID
listening() { ss -ltnH | grep -q ":8883 " && ss -ltnH | grep -q ":1883 "; }
wait_for 10 listening || { cat "$BLOG"; fail "mosquitto does not listen on 1883 and 8883"; }
ss -ltnH | tee "$T/ss"
grep -Eq '127\.0\.0\.1:1883 ' "$T/ss" || fail "1883 is not on loopback"
! grep -Eq '(0\.0\.0\.0|\*|\[::\]):1883 ' "$T/ss" || fail "plain MQTT listens beyond loopback"
grep -Eq '(0\.0\.0\.0|\*|\[::\]):8883 ' "$T/ss" || fail "TLS does not listen for the LAN"
out=$(mosquitto_pub -V 5 -h "$LAN" -p 1883 -u motcua-claim -P x -t t -m x 2>&1 || true)
echo "   plain to $LAN:1883: $out"
echo "$out" | grep -qi "refused" || fail "plain MQTT on the LAN address was not refused: $out"
ok "plain MQTT on loopback only, TLS on every interface"

step "motcuad on the plain loopback listener"
MQTT_PORT=1883
mqtt_config -- "tls_port = 8883" "tls_ca_file = $TLS_CA"
daemon_start
wait_gateway
FP=$(openssl x509 -in "$TLS_CA" -noout -fingerprint -sha256 | cut -d= -f2)
ctl devices list | tee "$T/list"
grep -q "TLS to port 8883; broker CA .*SHA-256 fingerprint $FP" "$T/list" || fail "motcuactl does not show the CA fingerprint $FP"
echo "browser-admin-pw-1" | ctl users add chi --role admin >/dev/null
U=$(web_url)
J=$T/cookies
csrf=$(curl -s -c "$J" -b "$J" "$U/login" | grep -o 'name="csrf" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//')
curl -s -o /dev/null -c "$J" -b "$J" --data-urlencode "csrf=$csrf" --data-urlencode "name=chi" \
	--data-urlencode "password=browser-admin-pw-1" --data-urlencode "next=/devices" "$U/login"
curl -s -b "$J" "$U/devices" >"$T/devices.html"
grep -q "<code id=\"broker-fp\">$FP</code>" "$T/devices.html" || fail "the devices page does not show the fingerprint"
grep -q "<dd id=\"broker-port\">8883</dd>" "$T/devices.html" || fail "the devices page does not show the port"
ok "fingerprint $FP on motcuactl and the staff page"

D=("$MOTCUA_DEVICE" --host "$LAN" --port 8883 --claim-password-file "$T/mqtt-claim.password")
step "no password in clear to another host"
rc=0
"${D[@]}" --dir "$T/k" register --kind kiosk --serial TLS-1 --wait 5 >"$T/plain.out" 2>&1 || rc=$?
cat "$T/plain.out"
[ $rc = 2 ] && grep -q "connect with TLS" "$T/plain.out" || fail "the device tried without TLS"
ok "refused before connecting"

step "a broker certificate the device's CA did not sign is refused"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -keyout "$T/other.key" \
	-out "$T/other.crt" -subj "/CN=someone else" 2>/dev/null
rc=0
"${D[@]}" --cafile "$T/other.crt" --dir "$T/k" register --kind kiosk --serial TLS-1 --wait 6 >"$T/bad.out" 2>&1 || rc=$?
cat "$T/bad.out"
# (the reason is printed when the handshake fails inside mosquitto_connect; when it fails in
# the network thread the device gives up silently at --wait: the outcome is what counts)
[ $rc != 0 ] || fail "the device accepted a broker it cannot verify"
[ "$(sql "SELECT COUNT(*) FROM devices")" = 0 ] || fail "a hello got through"
ok "refused, nothing sent"

step "over TLS with the box's CA: register, approve with the code, hand in a document"
"${D[@]}" --cafile "$TLS_CA" --dir "$T/k" register --kind kiosk --serial TLS-1 --wait 60 >"$T/reg.out" 2>&1 &
rpid=$!
track_pid $rpid
wait_for 20 npending 1 || fail "the kiosk is not pending: $(cat "$T/reg.out")"
ctl devices approve kiosk-1 --code "$(cat "$T/k/pairing-code")"
wait $rpid || fail "no credentials over TLS: $(cat "$T/reg.out")"
mkdoc "$T/one.pdf" 4000
"${D[@]}" --cafile "$TLS_CA" --dir "$T/k" send "$T/one.pdf" --kind page --wait 20 | grep -q "^stored " ||
	fail "the document was not stored over TLS"
ok "registered and stored over TLS"

step "a 60 MB hello is cut off by the broker (max_packet_size)"
head -c $((60 * 1024 * 1024)) /dev/zero >"$T/big"
rss() { awk '/^VmRSS/ {print $2}' "/proc/$BPID/status"; }
before=$(rss)
rc=0
# MQTT 3.1.1: no CONNACK tells the client the limit, so the broker itself must refuse it.
mosquitto_pub -V 311 -h "$LAN" -p 8883 --cafile "$TLS_CA" -u motcua-claim -P "$CLAIM_PW" -i claim-big \
	-q 1 -t motcua/v1/provision/claim-big/hello -f "$T/big" >"$T/big.out" 2>&1 || rc=$?
cat "$T/big.out"
after=$(rss)
echo "   mosquitto RSS ${before} kB before, ${after} kB after"
[ $rc != 0 ] || fail "the broker took a 60 MB publish"
[ "$after" -lt $((before + 20 * 1024)) ] || fail "the broker grew by $((after - before)) kB for a refused publish"
mosquitto_pub -V 5 -h "$LAN" -p 8883 --cafile "$TLS_CA" -u motcua-claim -P "$CLAIM_PW" -i claim-small \
	-q 1 -t motcua/v1/provision/claim-small/hello -m '{}' || fail "the broker stopped serving"
grep -qi "packet\|too large\|exceed" "$BLOG" && grep -i "packet\|too large\|exceed" "$BLOG" | tail -2 || true
ok "cut off, the broker stays small and serves"
daemon_stop
