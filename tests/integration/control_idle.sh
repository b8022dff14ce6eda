#!/bin/bash
# Idle clients cannot stall the control socket: with 40 connections open that never send a
# request (more than the workers, more than [daemon] control_clients), `motcuactl status`
# still answers, well before the idle connections time out; then each idle connection is
# closed by motcuad after [daemon] control_idle_s, with a line saying why.
set -eu
. "$(dirname "$0")/lib.sh"
write_config "daemon.control_workers = 2" "daemon.control_clients = 16" "daemon.control_idle_s = 600"
daemon_start

# hold.py N OUT: opens N idle connections, writes "open N" to OUT, then records for each one
# how it ended ("closed" when motcuad hung up); exits when all are closed or on SIGTERM.
cat >"$T/hold.py" <<'PY'
import select, signal, socket, sys, time
path, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
socks = []
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)  # blocks while motcuad's backlog is full
    socks.append(s)
with open(out, "w") as f:
    f.write("open %d\n" % len(socks))
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
closed, said = 0, b""
live = list(socks)
while live:
    r, _, _ = select.select(live, [], [], 1)
    for s in r:
        d = s.recv(4096)
        said += d
        if not d:
            live.remove(s)
            closed += 1
            with open(out, "a") as f:
                f.write("closed %d\n" % closed)
with open(out, "a") as f:
    f.write("said %s\n" % said.decode(errors="replace").replace("\n", " | ")[:300])
PY

step "40 idle connections, then motcuactl status"
python3 "$T/hold.py" "$SOCK" 40 "$T/hold.out" &
hold=$!
track_pid "$hold"
for _ in $(seq 1200); do grep -q "^open" "$T/hold.out" 2>/dev/null && break; sleep 0.1; done
grep -q "^open" "$T/hold.out" || fail "motcuad did not take 40 connections within 120 s"
# The idle ones would take 600 s to time out; status must not wait for them.
timeout 120 "$MOTCUACTL" -s "$SOCK" status >"$T/status.txt" || fail "motcuactl status did not answer beside 40 idle connections"
grep -q "^motcuad .*, up " "$T/status.txt" || fail "status said: $(cat "$T/status.txt")"
ok "status answered; $(grep -c '^closed' "$T/hold.out" || true) of the 40 closed by motcuad so far (beyond control_clients = 16)"
timeout 120 "$MOTCUACTL" -s "$SOCK" doc list >/dev/null || fail "doc list did not answer"
ok "other commands too"
kill "$hold" 2>/dev/null || true
wait "$hold" 2>/dev/null || true

step "idle connections are closed after control_idle_s, with the reason"
daemon_stop
write_config "daemon.control_idle_s = 1"
daemon_start
python3 "$T/hold.py" "$SOCK" 5 "$T/hold2.out" &
hold=$!
track_pid "$hold"
for _ in $(seq 600); do grep -q "^said" "$T/hold2.out" 2>/dev/null && break; sleep 0.1; done
grep -q "^closed 5" "$T/hold2.out" || fail "motcuad did not close the idle connections: $(cat "$T/hold2.out")"
grep -q "ETIMEDOUT" "$T/hold2.out" || fail "no reason given: $(cat "$T/hold2.out")"
ok "5 idle connections closed, each told ETIMEDOUT"
ctl status >/dev/null || fail "status after the idle ones"
daemon_stop
echo PASS
