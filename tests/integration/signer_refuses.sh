#!/bin/bash
# motcua-signer on its own: a well-formed request gets a signature that verifies with the
# certificate; anything else (bad magic, another request type, unknown key, other algorithm
# or digest length, a torn frame, trailing bytes) makes it exit without answering.  It runs
# under seccomp, with no_new_privs, not dumpable, in a deleted empty directory, and refuses
# a key file others can read or a start without motcuad's socket.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/copies_lib.sh"

mkdir -m 700 "$T/keys"
ctl keys init --test --dir "$T/keys" >/dev/null || fail "keys init failed"
openssl x509 -in "$T/keys/test-signing.crt" -pubkey -noout >"$T/pub.pem"

# harness.py CASE: starts the signer with a socketpair on fd 3, sends CASE's bytes, prints
# "reply" or "no-reply", then the signer's exit status and its /proc facts.
cat >"$T/harness.py" <<'PY'
import hashlib, os, socket, subprocess, sys, time
signer, key, cert, case, out = sys.argv[1:6]
a, b = socket.socketpair()
fd = b.fileno()
p = subprocess.Popen([signer, "--key", key, "--cert", cert], pass_fds=(fd, 3),
                     preexec_fn=lambda: os.dup2(fd, 3), stderr=open(out + ".err", "w"))
b.close()
h = a.recv(8)
assert h[:5] == b"MCS1H", h
n = (h[6] << 8) | h[7]
c = b""
while len(c) < n:
    c += a.recv(n - len(c))
status = open("/proc/%d/status" % p.pid).read()
facts = [l for l in status.splitlines() if l.startswith(("Seccomp:", "NoNewPrivs:"))]
facts.append("cwd " + os.readlink("/proc/%d/cwd" % p.pid))
d = hashlib.sha256(b"motcua signer test").digest()
good = b"MCS1S\x00\x01\x20" + d
frames = {
    "good": good,
    "magic": b"XCS1S\x00\x01\x20" + d,
    "type": b"MCS1Q\x00\x01\x20" + d,
    "key": b"MCS1S\x01\x01\x20" + d,
    "alg": b"MCS1S\x00\x02\x20" + d,
    "len": b"MCS1S\x00\x01\x30" + d,
    "torn": good[:20],
    "trailing": good + b"\x00",
}
a.sendall(frames[case])
if case == "torn":
    a.shutdown(socket.SHUT_WR)
a.settimeout(5)
try:
    r = a.recv(200)
except socket.timeout:
    r = b""
with open(out, "w") as f:
    if r[:5] == b"MCS1R" and r[5] == 0:
        f.write("reply\n")
        open(out + ".sig", "wb").write(r[8:8 + ((r[6] << 8) | r[7])])
        open(out + ".dgst", "wb").write(d)
        if case == "trailing":
            # The extra byte starts a frame that never completes: the signer must exit.
            a.shutdown(socket.SHUT_WR)
            f.write("after-trailing %r\n" % a.recv(200)[:5])
    else:
        f.write("no-reply\n")
    if case != "good":
        rc = p.wait(timeout=5)
    else:
        a.close()
        rc = p.wait(timeout=5)
    f.write("exit %d\n" % rc)
    f.write("\n".join(facts) + "\n")
PY
run_case() { python3 "$T/harness.py" "$SIGNER" "$T/keys/test-signing.key" "$T/keys/test-signing.crt" "$1" "$T/$1.out" ||
	fail "harness failed for $1: $(cat "$T/$1.out.err" 2>/dev/null)"; }

step "a well-formed request is signed; the signature verifies"
run_case good
grep -q "^reply" "$T/good.out" || fail "no signature: $(cat "$T/good.out" "$T/good.out.err")"
openssl pkeyutl -verify -pubin -inkey "$T/pub.pem" -in "$T/good.out.dgst" -sigfile "$T/good.out.sig" >/dev/null ||
	fail "the signature does not verify with the certificate"
grep -q "^exit 0" "$T/good.out" || fail "the signer did not exit cleanly when motcuad closed"
grep -q "^Seccomp:.*2" "$T/good.out" || fail "no seccomp filter: $(cat "$T/good.out")"
grep -q "^NoNewPrivs:.*1" "$T/good.out" || fail "no_new_privs not set"
grep -q "^cwd .*(deleted)" "$T/good.out" || fail "working directory is not a deleted empty one"
ok "signed, verified; seccomp, no_new_privs, deleted cwd"

step "malformed requests: no answer, the signer exits"
for c in magic type key alg len torn; do
	run_case "$c"
	grep -q "^no-reply" "$T/$c.out" || fail "$c: the signer answered"
	grep -q "^exit [1-9]" "$T/$c.out" || fail "$c: the signer did not exit non-zero: $(cat "$T/$c.out")"
done
run_case trailing
grep -q "^reply" "$T/trailing.out" || fail "trailing: the good frame before the extra byte was not signed"
grep -q "^exit 3" "$T/trailing.out" || fail "trailing: a 1-byte frame did not end the signer"
ok "bad magic, type, key, algorithm, digest length, torn frame, trailing byte: all refused"

step "refuses a key others can read, and a start without motcuad's socket"
chmod 640 "$T/keys/test-signing.key"
"$SIGNER" --key "$T/keys/test-signing.key" --cert "$T/keys/test-signing.crt" 3<&0 2>"$T/e1" && fail "started without a socket"
grep -q "not motcuad's socket" "$T/e1" || fail "no socket: $(cat "$T/e1")"
python3 "$T/harness.py" "$SIGNER" "$T/keys/test-signing.key" "$T/keys/test-signing.crt" good "$T/g2.out" 2>/dev/null &&
	fail "signer started with a group-readable key"
grep -q "readable by others" "$T/g2.out.err" || fail "group-readable key: $(cat "$T/g2.out.err")"
ok "refused"
