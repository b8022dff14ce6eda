#!/bin/bash
# TLS is always verified: a server certificate from another CA, or one that does not match
# the configured pin, is refused before any request is made and the item stays queued with
# the reason in `uplink status`; the LGSP's mutual TLS refuses a box without its client
# certificate (the uplink stops, nothing is rejected); with the right CA, pin and client
# certificate the item is delivered.  Exit 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink_lib.sh"
command -v openssl >/dev/null || skip "openssl is not installed"

step "certificates: a CA, a rogue CA, the server's, a client's"
cd "$T" || fail "cd"
mkcert() { # NAME CA USAGE
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$1" 2>/dev/null &&
		printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=%s\n' "$3" >"$1.ext" &&
		openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -out "$1.pem" -days 2 -extfile "$1.ext" 2>/dev/null
}
for ca in ca rogue; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout $ca.key -out $ca.pem -days 2 -subj "/CN=$ca" 2>/dev/null || fail "openssl CA"
done
mkcert server ca serverAuth && mkcert client ca clientAuth || fail "openssl certs"
pin_of() { openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64; }
pin=sha256//$(pin_of server.pem)
badpin=sha256//$(pin_of client.pem)
cd - >/dev/null || fail "cd"
sim_start --tls-cert "$T/server.pem" --tls-key "$T/server.key" --tls-client-ca "$T/ca.pem"
mkdoc "$T/a.pdf" 70000

try() { # WHAT EXPECT(problem regex) CONFIG...
	local what=$1 want=$2
	shift 2
	uplink_config "$SIM_BASE" "$@"
	daemon_start
	for _ in $(seq 50); do ctl uplink status | grep -qE "problem: +.*$want" && break; sleep 0.1; done
	ctl uplink status >"$T/st.txt"
	grep -qE "problem: +.*$want" "$T/st.txt" || { cat "$T/st.txt"; fail "$what: status does not show /$want/"; }
	[ "$(count_state queued)" = 1 ] || fail "$what: the item is not queued: $(ctl outbox list)"
	[ "$(count_state rejected)" = 0 ] || fail "$what: the item was rejected"
	daemon_stop
	ok "$what: refused ($(grep problem: "$T/st.txt" | cut -c12- | cut -c1-90)), item queued"
}

step "server certificate from another CA"
uplink_config "$SIM_BASE" "ca_file=$T/rogue.pem"
daemon_start
put_ok "$T/a.pdf" >/dev/null
daemon_stop
try "unknown CA" "certificate|SSL" "ca_file=$T/rogue.pem"
[ "$(sim_stat .tokens_issued --cacert "$T/ca.pem")" = 0 ] || fail "a token was issued over an unverified connection"
step "right CA, wrong pin"
try "pin mismatch" "pinned|public key" "ca_file=$T/ca.pem" "pin=$badpin" "client_cert=$T/client.pem" "client_key=$T/client.key"
step "mutual TLS without a client certificate"
try "no client certificate" "403 client_certificate_required" "ca_file=$T/ca.pem" "pin=$pin"
[ "$(sim_stat .unique_items --cacert "$T/ca.pem")" = 0 ] || fail "something took effect"

step "right CA, pin and client certificate"
uplink_config "$SIM_BASE" "ca_file=$T/ca.pem" "pin=$pin" "client_cert=$T/client.pem" "client_key=$T/client.key"
daemon_start
wait_delivered 1 20
[ "$(sim_stat .unique_items --cacert "$T/ca.pem")" = 1 ] || fail "unique items"
ctl uplink status | grep -q "link up" || fail "link not up"
daemon_stop
ok "delivered over verified, pinned, mutual TLS"
echo "uplink_tls: all scenarios passed"
