#!/bin/bash
# motcua-signer on its own: it signs only what it can check is ours (a VNCC1 seal's COSE
# Sig_structure, or a copy's PAdES signed attributes naming its own certificate), hashing the
# data itself; an arbitrary digest, attributes naming another certificate or carrying more
# than the three PAdES ones, or an unknown kind are refused (status EPERM, no signature, the
# signer keeps serving).  Every signature is first appended to its own hash-chained record.
# A malformed frame (bad magic, another request type, unknown key, bad length, a torn frame,
# trailing bytes) makes it exit without answering.  It runs under seccomp, with
# no_new_privs, not dumpable, in a deleted empty directory, and refuses a key file or a
# record others can write/read, or a start without motcuad's socket.  Through motcuad, a
# copy still verifies with pdfsig and the record holds its seal's copy number.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/copies_lib.sh"

mkdir -m 700 "$T/keys"
ctl keys init --test --dir "$T/keys" >/dev/null || fail "keys init failed"
openssl x509 -in "$T/keys/test-signing.crt" -pubkey -noout >"$T/pub.pem"
openssl x509 -in "$T/keys/test-signing.crt" -outform DER -out "$T/cert.der"
REC=$T/keys/signatures.log

# harness.py CASE: starts the signer with a socketpair on fd 3, sends CASE's bytes, prints
# "reply" / "refused N" / "no-reply", then the signer's exit status and its /proc facts.
cat >"$T/harness.py" <<'PY'
import hashlib, os, socket, subprocess, sys
signer, key, cert, record, certder, case, out = sys.argv[1:8]
a, b = socket.socketpair()
fd = b.fileno()
p = subprocess.Popen([signer, "--key", key, "--cert", cert, "--record", record], pass_fds=(fd, 3),
                     preexec_fn=lambda: os.dup2(fd, 3), stderr=open(out + ".err", "w"))
b.close()
h = a.recv(8)
assert h[:5] == b"MCS2H", h
n = (h[6] << 8) | h[7]
c = b""
while len(c) < n:
    c += a.recv(n - len(c))
status = open("/proc/%d/status" % p.pid).read()
facts = [l for l in status.splitlines() if l.startswith(("Seccomp:", "NoNewPrivs:"))]
facts.append("cwd " + os.readlink("/proc/%d/cwd" % p.pid))

def tlv(t, body):
    n = len(body)
    l = bytes([n]) if n < 128 else bytes([0x81, n]) if n < 256 else bytes([0x82, n >> 8, n & 255])
    return bytes([t]) + l + body
def attr(oid, value):
    return tlv(0x30, tlv(6, bytes.fromhex(oid)) + tlv(0x31, value))
CT, MD, SC, ST = "2a864886f70d010903", "2a864886f70d010904", "2a864886f70d010910022f", "2a864886f70d010905"
def attrs(cert_hash, extra=b""):
    items = [attr(CT, tlv(6, bytes.fromhex("2a864886f70d010701"))),
             attr(MD, tlv(4, hashlib.sha256(b"the PDF bytes").digest())),
             attr(SC, tlv(0x30, tlv(0x30, tlv(0x30, tlv(4, cert_hash)))))]
    if extra:
        items.append(extra)
    return tlv(0x31, b"".join(sorted(items)))
def req(kind, data, magic=b"MCS2", typ=b"S", key=0, length=None):
    n = len(data) if length is None else length
    return magic + typ + bytes([key, kind, 0, n >> 8, n & 255]) + data

# docs/seal.md vector 1: the Sig_structure of a real seal payload.
seal = bytes.fromhex("846a5369676e61747572653143a10126405841a4016d3030302e30302e30302e483030021a6b0e2318"
                     "03831907ea01187b04582069bb11d263b056104a3b4a1a9a346e44a3a4b365836513d45ee9070d88ac2160")
ours = hashlib.sha256(open(certder, "rb").read()).digest()
digest = hashlib.sha256(b"any document at all").digest()
good = {"seal": seal, "pades": attrs(ours)}
refused = {
    "digest": (1, digest),                                # a bare digest, as the old protocol took
    "digest-pades": (2, digest),
    "seal-es384": (1, seal.replace(bytes.fromhex("43a10126"), bytes.fromhex("43a10138"))),
    "seal-trailing": (1, seal + b"\x00"),
    "seal-bad-copy": (1, seal.replace(bytes.fromhex("831907ea01187b"), bytes.fromhex("831907ea00187b"))),
    "pades-other-cert": (2, attrs(hashlib.sha256(b"another certificate").digest())),
    "pades-signing-time": (2, attrs(ours, attr(ST, tlv(0x17, b"261204170000Z")))),
    "kind": (3, seal),
}
malformed = {
    "magic": req(1, seal, magic=b"XCS2"),
    "type": req(1, seal, typ=b"Q"),
    "key": req(1, seal, key=1),
    "len0": req(1, b"", length=0),
    "toolong": req(1, b"", length=4096),
    "torn": req(1, seal)[:20],
}
if case in good:
    frame, data = req(1 if case == "seal" else 2, good[case]), good[case]
elif case in refused:
    frame, data = req(*refused[case]), refused[case][1]
elif case == "trailing":
    frame, data = req(1, seal) + b"\x00", seal
else:
    frame, data = malformed[case], b""
a.sendall(frame)
if case == "torn":
    a.shutdown(socket.SHUT_WR)
a.settimeout(5)
try:
    r = a.recv(200)
except (socket.timeout, ConnectionResetError):  # it exits with our bytes unread
    r = b""
with open(out, "w") as f:
    if r[:5] == b"MCS2R" and r[5] == 0:
        f.write("reply\n")
        open(out + ".sig", "wb").write(r[8:8 + ((r[6] << 8) | r[7])])
        open(out + ".dgst", "wb").write(hashlib.sha256(data).digest())
        if case == "trailing":
            # The extra byte starts a frame that never completes: the signer must exit.
            a.shutdown(socket.SHUT_WR)
            f.write("after-trailing %r\n" % a.recv(200)[:5])
    elif r[:5] == b"MCS2R":
        f.write("refused %d siglen %d\n" % (r[5], (r[6] << 8) | r[7]))
        # Still serving: the seal is signed on the same connection afterwards.
        a.sendall(req(1, seal))
        r2 = a.recv(200)
        f.write("then %s\n" % ("signed" if r2[:5] == b"MCS2R" and r2[5] == 0 else "not signed"))
    else:
        f.write("no-reply\n")
    if case not in good and case not in refused:
        rc = p.wait(timeout=5)
    else:
        a.close()
        rc = p.wait(timeout=5)
    f.write("exit %d\n" % rc)
    f.write("\n".join(facts) + "\n")
PY
run_case() { python3 "$T/harness.py" "$SIGNER" "$T/keys/test-signing.key" "$T/keys/test-signing.crt" "$REC" \
	"$T/cert.der" "$1" "$T/$1.out" || fail "harness failed for $1: $(cat "$T/$1.out.err" 2>/dev/null)"; }
nrec() { if [ -f "$REC" ]; then wc -l <"$REC"; else echo 0; fi; }

step "a seal's Sig_structure and a copy's signed attributes are signed; the signatures verify"
for c in seal pades; do
	run_case $c
	grep -q "^reply" "$T/$c.out" || fail "$c: no signature: $(cat "$T/$c.out" "$T/$c.out.err")"
	openssl pkeyutl -verify -pubin -inkey "$T/pub.pem" -in "$T/$c.out.dgst" -sigfile "$T/$c.out.sig" >/dev/null ||
		fail "$c: the signature does not verify over SHA-256 of the data with the certificate"
	grep -q "^exit 0" "$T/$c.out" || fail "$c: the signer did not exit cleanly when motcuad closed"
done
grep -q "^Seccomp:.*2" "$T/seal.out" || fail "no seccomp filter: $(cat "$T/seal.out")"
grep -q "^NoNewPrivs:.*1" "$T/seal.out" || fail "no_new_privs not set"
grep -q "^cwd .*(deleted)" "$T/seal.out" || fail "working directory is not a deleted empty one"
[ "$(nrec)" = 2 ] || fail "the record holds $(nrec) lines after two signatures"
ok "signed, verified; seccomp, no_new_privs, deleted cwd; 2 record lines"

step "an arbitrary digest and anything not ours: refused, nothing signed or recorded, still serving"
for c in digest digest-pades seal-es384 seal-trailing seal-bad-copy pades-other-cert pades-signing-time kind; do
	run_case "$c"
	grep -q "^refused 1 siglen 0" "$T/$c.out" || fail "$c: not refused with EPERM: $(cat "$T/$c.out" "$T/$c.out.err")"
	grep -q "^then signed" "$T/$c.out" || fail "$c: the signer stopped serving after a refusal"
	grep -q "refused a request" "$T/$c.out.err" || fail "$c: the refusal is not logged"
done
[ "$(nrec)" = 10 ] || fail "the record holds $(nrec) lines, expected 2 + one seal after each of 8 refusals"
ok "8 kinds of foreign requests refused with EPERM"

step "malformed frames: no answer, the signer exits"
for c in magic type key len0 toolong torn; do
	run_case "$c"
	grep -q "^no-reply" "$T/$c.out" || fail "$c: the signer answered"
	grep -q "^exit [1-9]" "$T/$c.out" || fail "$c: the signer did not exit non-zero: $(cat "$T/$c.out")"
done
run_case trailing
grep -q "^reply" "$T/trailing.out" || fail "trailing: the good frame before the extra byte was not signed"
grep -q "^exit 3" "$T/trailing.out" || fail "trailing: a 1-byte frame did not end the signer"
ok "bad magic, type, key, lengths, torn frame, trailing byte: all end the signer"

step "the record: one line per signature, hash-chained"
python3 - "$REC" "$T/seal.out.dgst" <<'PY' || fail "the record's chain is broken"
import hashlib, sys
lines = open(sys.argv[1]).read().splitlines()
seal_digest = open(sys.argv[2], "rb").read().hex()
prev = "0" * 64
for i, l in enumerate(lines, 1):
    body, _, h = l.rpartition(" hash=")
    f = dict(kv.split("=", 1) for kv in body.split(" "))
    assert f["seq"] == str(i), (i, l)
    assert f["prev"] == prev, (i, l)
    assert hashlib.sha256(body.encode()).hexdigest() == h, (i, l)
    assert f["kind"] in ("seal", "pades") and len(f["digest"]) == 64 and f["time"].endswith("Z"), l
    if f["kind"] == "seal":
        assert f["digest"] == seal_digest and f["copy"] == "2026/1/123", l
    else:
        assert f["copy"] == "-", l
    prev = h
print(len(lines), "lines chained")
PY
cp "$REC" "$T/rec.bak"
sed -i '1s/kind=seal/kind=pades/' "$REC"
python3 -c 'import hashlib,sys; l=open(sys.argv[1]).readline().rstrip("\n"); b,_,h=l.rpartition(" hash="); sys.exit(hashlib.sha256(b.encode()).hexdigest()!=h)' "$REC" &&
	fail "an edited line still matches its hash"
cp "$T/rec.bak" "$REC"
ok "$(nrec) lines, each hash over its line and the previous hash"

step "refuses a key others can read, a record others can write, and a start without a socket"
"$SIGNER" --key "$T/keys/test-signing.key" --cert "$T/keys/test-signing.crt" --record "$REC" 3<&0 2>"$T/e1" &&
	fail "started without a socket"
grep -q "not motcuad's socket" "$T/e1" || fail "no socket: $(cat "$T/e1")"
chmod 666 "$REC"
python3 "$T/harness.py" "$SIGNER" "$T/keys/test-signing.key" "$T/keys/test-signing.crt" "$REC" "$T/cert.der" \
	seal "$T/r2.out" 2>/dev/null && fail "signer started with a world-writable record"
grep -q "writable by it alone" "$T/r2.out.err" || fail "world-writable record: $(cat "$T/r2.out.err")"
chmod 600 "$REC"
chmod 640 "$T/keys/test-signing.key"
python3 "$T/harness.py" "$SIGNER" "$T/keys/test-signing.key" "$T/keys/test-signing.crt" "$REC" "$T/cert.der" \
	seal "$T/g2.out" 2>/dev/null && fail "signer started with a group-readable key"
grep -q "readable by others" "$T/g2.out.err" || fail "group-readable key: $(cat "$T/g2.out.err")"
chmod 600 "$T/keys/test-signing.key"
ok "refused"

step "through motcuad: a copy verifies with pdfsig and the record holds its seal and its PDF signature"
write_config
sign_config "$T/keys/test-signing.key" "$T/keys/test-signing.crt"
daemon_start
before=$(nrec)
make_scan "$T/scan.jpg"
orig=$(put_ok "$T/scan.jpg")
ctl copy issue "$orig" --official "Lê Văn D" >"$T/issue.txt" || fail "copy issue failed"
ctl doc get "$(head -n 1 "$T/issue.txt")" -o "$T/copy.pdf"
pdfsig_valid "$T/copy.pdf" || fail "pdfsig rejects the copy"
ctl copy verify "$T/copy.pdf" | grep -q "^VALID" || fail "the copy does not verify"
[ "$(nrec)" = $((before + 2)) ] || fail "the record grew by $(($(nrec) - before)) lines for one copy"
year=$(TZ=Asia/Ho_Chi_Minh date +%Y)
tail -n 2 "$REC" | grep -q "kind=seal .* copy=$year/1/1 " || fail "no seal line for copy 1/$year: $(tail -n 2 "$REC")"
tail -n 2 "$REC" | grep -q "kind=pades .* copy=- " || fail "no PAdES line: $(tail -n 2 "$REC")"
daemon_stop
ok "pdfsig: valid; record +2 (seal copy $year/1/1, pades)"
echo PASS
