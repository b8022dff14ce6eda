#!/bin/bash
# The control socket records who acts from the kernel, not from the request: a client that
# claims "actor": "web:admin" is audited as "cli:<its real user>" (SO_PEERCRED), and a second
# user on the socket is told apart from the first.
set -eu
. "$(dirname "$0")/lib.sh"
write_config
daemon_start

# raw REQUEST-JSON: one request line on the control socket, the reply line on stdout.
raw() {
	python3 - "$SOCK" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(30)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
buf = b""
while not buf.endswith(b"\n"):
    d = s.recv(4096)
    if not d:
        break
    buf += d
sys.stdout.write(buf.decode())
PY
}
actor_of() { sql "SELECT actor FROM audit WHERE action = '$1' AND subject = '$2' ORDER BY seq DESC LIMIT 1"; }
me=$(id -un)

step "a client naming itself web:admin"
pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
raw '{"cmd":"users.add","name":"mallory","role":"admin","password":"'"$pw"'","actor":"web:admin"}' >"$T/reply"
grep -q '"ok": *true' "$T/reply" || fail "users.add refused: $(cat "$T/reply")"
[ "$(actor_of user.add mallory)" = "cli:$me" ] || fail "audited as '$(actor_of user.add mallory)', not cli:$me"
if sql "SELECT actor FROM audit" | grep -q '^web:'; then fail "a web: actor reached the audit from the socket"; fi
ok "audited as cli:$me"

step "motcuactl itself is audited as its user too"
ctl users disable mallory >/dev/null || fail "users disable failed"
[ "$(actor_of user.disable mallory)" = "cli:$me" ] || fail "disable audited as '$(actor_of user.disable mallory)'"
ok "cli:$me"

if [ "$(id -u)" = 0 ] && [ -x /usr/bin/python3 ] && command -v setpriv >/dev/null && getent passwd nobody >/dev/null; then
	step "another user on the socket (nobody) claiming to be root"
	chmod 755 "$T" "$RUN"
	chmod 666 "$SOCK"
	setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/python3 - "$SOCK" <<'PY' >"$T/reply2"
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(30)
s.connect(sys.argv[1])
s.sendall(b'{"cmd":"users.enable","name":"mallory","actor":"cli:root"}\n')
print(s.recv(4096).decode())
PY
	grep -q '"ok": *true' "$T/reply2" || fail "users.enable refused: $(cat "$T/reply2")"
	[ "$(actor_of user.enable mallory)" = "cli:nobody" ] ||
		fail "nobody's request audited as '$(actor_of user.enable mallory)'"
	ok "audited as cli:nobody"
fi
ctl audit verify >/dev/null || fail "audit chain broken"
daemon_stop
echo PASS
