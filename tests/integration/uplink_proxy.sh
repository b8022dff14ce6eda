#!/bin/bash
# Through an HTTP proxy ([uplink] proxy): every request of the uplink goes through CONNECT
# tunnels of the office's proxy (a small one written here), TLS to the LGSP is still verified
# end to end inside the tunnel, and documents are delivered; with the proxy gone the link is
# shown down and items stay queued.  Exit 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink_lib.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || skip "python3 is not installed"
command -v openssl >/dev/null || skip "openssl is not installed"

cd "$T" || fail "cd"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=ca" 2>/dev/null &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr -subj "/CN=lgsp" 2>/dev/null &&
	printf 'subjectAltName=IP:127.0.0.1\n' >server.ext &&
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile server.ext 2>/dev/null ||
	fail "openssl"
cd - >/dev/null || fail "cd"
sim_start --tls-cert "$T/server.pem" --tls-key "$T/server.key"

# A CONNECT-only proxy that logs each tunnel's target.
cat >"$T/proxy.py" <<'PYEOF'
import socket, sys, threading
log = open(sys.argv[2], "a", buffering=1)
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0)); srv.listen(16)
open(sys.argv[1], "w").write(str(srv.getsockname()[1]))
def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d: break
            b.sendall(d)
    except OSError: pass
    finally:
        for s in (a, b):
            try: s.shutdown(socket.SHUT_RDWR)
            except OSError: pass
def handle(c):
    head = b""
    while b"\r\n\r\n" not in head:
        d = c.recv(4096)
        if not d: c.close(); return
        head += d
    line = head.split(b"\r\n")[0].decode()
    method, target = line.split()[:2]
    if method != "CONNECT":
        c.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n"); c.close(); return
    host, port = target.rsplit(":", 1)
    u = socket.create_connection((host, int(port)))
    log.write(target + "\n")
    c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    threading.Thread(target=pipe, args=(c, u), daemon=True).start()
    pipe(u, c)
while True:
    conn, _ = srv.accept()
    threading.Thread(target=handle, args=(conn,), daemon=True).start()
PYEOF
"$PY" "$T/proxy.py" "$T/proxy.port" "$T/proxy.log" &
PROXY_PID=$!
track_pid $PROXY_PID
for _ in $(seq 100); do [ -s "$T/proxy.port" ] && break; sleep 0.05; done
[ -s "$T/proxy.port" ] || fail "the proxy did not start"

step "delivery through the proxy"
uplink_config "$SIM_BASE" "ca_file=$T/ca.pem" "proxy=http://127.0.0.1:$(cat "$T/proxy.port")"
daemon_start
put_docs 3 120000
wait_delivered 3 30
tunnels=$(grep -c "^127.0.0.1:$SIM_PORT$" "$T/proxy.log")
[ "$tunnels" -ge 1 ] || fail "no CONNECT tunnel to the LGSP went through the proxy"
[ "$(grep -vc "^127.0.0.1:$SIM_PORT$" "$T/proxy.log")" = 0 ] || fail "tunnels to elsewhere: $(cat "$T/proxy.log")"
[ "$(sim_stat .unique_items --cacert "$T/ca.pem")" = 3 ] || fail "unique items"
ok "3 documents delivered through $tunnels CONNECT tunnels, TLS verified inside"

step "the proxy goes away"
kill "$PROXY_PID"
wait "$PROXY_PID" 2>/dev/null
mkdoc "$T/late.pdf" 5000
put_ok "$T/late.pdf" >/dev/null
for _ in $(seq 100); do ctl uplink status | grep -q "link down" && break; sleep 0.1; done
ctl uplink status | grep -q "link down" || fail "link not shown down without the proxy: $(ctl uplink status)"
[ "$(count_state queued)" = 1 ] || fail "the new item is not queued: $(ctl outbox list)"
daemon_stop
ok "without the proxy: link down, the item queued"
echo "uplink_proxy: all scenarios passed"
