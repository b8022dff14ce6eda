#!/usr/bin/env python3
"""Reference verifier of a motcua QR seal (docs/seal.md), written from that page alone with the
Python standard library and the openssl command.  Usage: seal-verify.py TRUST.pem SEAL_TEXT
Prints the fields and "VALID", or the reason and exits 1."""
import hashlib
import os
import subprocess
import sys
import tempfile

B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def fail(msg):
    print("INVALID: " + msg)
    sys.exit(1)


def b45decode(s):
    out = bytearray()
    if len(s) % 3 == 1:
        fail("Base45: lone final character")
    for i in range(0, len(s), 3):
        try:
            v = [B45.index(c) for c in s[i:i + 3]]
        except ValueError:
            fail("Base45: character outside the alphabet")
        n = sum(d * 45 ** k for k, d in enumerate(v))
        if len(v) == 3:
            if n > 0xFFFF:
                fail("Base45: group over range")
            out += bytes([n >> 8, n & 0xFF])
        else:
            if n > 0xFF:
                fail("Base45: group over range")
            out.append(n)
    return bytes(out)


class Reader:
    def __init__(self, b):
        self.b, self.i = b, 0

    def head(self):
        if self.i >= len(self.b):
            fail("CBOR ends too early")
        ib = self.b[self.i]
        self.i += 1
        major, ai = ib >> 5, ib & 31
        if ai < 24:
            return major, ai
        if ai > 27:
            fail("indefinite or reserved CBOR head")
        n = 1 << (ai - 24)
        if self.i + n > len(self.b):
            fail("CBOR ends too early")
        v = int.from_bytes(self.b[self.i:self.i + n], "big")
        self.i += n
        if v < (24 if n == 1 else 1 << (4 * n)):
            fail("CBOR head not in shortest form")
        return major, v

    def expect(self, major, value, what):
        if self.head() != (major, value):
            fail(what)

    def uint(self, what):
        m, v = self.head()
        if m != 0:
            fail(what)
        return v

    def string(self, major, lo, hi, what):
        m, n = self.head()
        if m != major or not lo <= n <= hi or self.i + n > len(self.b):
            fail(what)
        s = self.b[self.i:self.i + n]
        self.i += n
        return s


def main():
    trust, text = sys.argv[1], sys.argv[2].strip()
    if not text.startswith("VNCC1:"):
        fail("not a VNCC1 seal")
    r = Reader(b45decode(text[6:]))
    r.expect(6, 18, "not COSE_Sign1 (tag 18)")
    r.expect(4, 4, "COSE_Sign1 is not an array of 4")
    prot = r.string(2, 0, 16, "protected header")
    if prot != bytes.fromhex("a10126"):
        fail("protected header is not {1: -7}")
    r.expect(5, 1, "unprotected header")
    r.expect(0, 4, "unprotected header")
    kid = r.string(2, 8, 8, "kid")
    payload = r.string(2, 1, 256, "payload")
    sig = r.string(2, 64, 64, "signature")
    if r.i != len(r.b):
        fail("extra bytes after COSE_Sign1")
    p = Reader(payload)
    p.expect(5, 4, "payload map")
    p.expect(0, 1, "key 1")
    issuer = p.string(3, 1, 63, "issuer").decode("ascii")
    p.expect(0, 2, "key 2")
    when = p.uint("time")
    p.expect(0, 3, "key 3")
    p.expect(4, 3, "copy number array")
    year, book, number = p.uint("year"), p.uint("book"), p.uint("number")
    p.expect(0, 4, "key 4")
    sha = p.string(2, 32, 32, "sha256")
    if p.i != len(payload) or min(year, book, number) < 1 or year > 9999:
        fail("payload")

    # Find the certificate with this kid in the trust list.
    pems = open(trust).read().split("-----END CERTIFICATE-----")
    with tempfile.TemporaryDirectory() as d:
        cert = None
        for i, pem in enumerate(pems):
            if "-----BEGIN CERTIFICATE-----" not in pem:
                continue
            f = os.path.join(d, "c%d.pem" % i)
            open(f, "w").write(pem + "-----END CERTIFICATE-----\n")
            der = subprocess.run(["openssl", "x509", "-in", f, "-outform", "DER"],
                                 capture_output=True, check=True).stdout
            if hashlib.sha256(der).digest()[:8] == kid:
                cert = f
        if not cert:
            fail("issuer not trusted (kid %s)" % kid.hex())
        tbs = (bytes([0x84, 0x6A]) + b"Signature1" + bytes([0x43]) + prot + bytes([0x40])
               + bytes([0x58, len(payload)]) + payload if len(payload) >= 24 else None)
        # DER ECDSA-Sig-Value from r || s.
        def der_int(x):
            x = x.lstrip(b"\0") or b"\0"
            if x[0] & 0x80:
                x = b"\0" + x
            return bytes([2, len(x)]) + x
        body = der_int(sig[:32]) + der_int(sig[32:])
        open(os.path.join(d, "sig"), "wb").write(bytes([0x30, len(body)]) + body)
        open(os.path.join(d, "tbs"), "wb").write(tbs)
        pub = subprocess.run(["openssl", "x509", "-in", cert, "-pubkey", "-noout"],
                             capture_output=True, check=True).stdout
        open(os.path.join(d, "pub"), "wb").write(pub)
        ok = subprocess.run(["openssl", "dgst", "-sha256", "-verify", os.path.join(d, "pub"),
                             "-signature", os.path.join(d, "sig"), os.path.join(d, "tbs")],
                            capture_output=True)
        if ok.returncode != 0:
            fail("signature does not verify")
    print("issuer %s time %d copy %d/%d/%d sha256 %s" % (issuer, when, year, book, number, sha.hex()))
    print("VALID")


main()
