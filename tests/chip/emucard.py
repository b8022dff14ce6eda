#!/usr/bin/python3
"""A small LDS1 chip (ICAO 9303) for tests: speaks vpcd's socket protocol (2-byte big-endian
length + payload; a 1-byte payload is a control: 0 power off, 1 power on, 2 reset, 4 ATR) as
the card behind Debian's vsmartcard-vpcd reader, with BAC and 3DES secure messaging.

Usage: emucard.py CARD_DIR [--port P] [--short-only] [--remove-after N]
CARD_DIR holds the files written by mkcard.py (COM, SOD, DG1, DG2, DG13, ...).  The BAC key
comes from DG1's MRZ, as on a real card.  --short-only answers 6700 to every extended-length
APDU (a reader without extended length); --remove-after N drops the connection (card pulled
out) when the N-th APDU arrives.  Test fixture only: no real card data."""
import argparse
import hashlib
import os
import socket
import struct
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

LDS_AID = bytes.fromhex("A0000002471001")
FIDS = {0x011E: "COM", 0x011D: "SOD", 0x0101: "DG1", 0x0102: "DG2", 0x010D: "DG13",
        0x010E: "DG14", 0x010F: "DG15"}
ATR = bytes.fromhex("3B80800101")


def des3(key, data, enc, iv=bytes(8)):
    c = Cipher(algorithms.TripleDES(key), modes.CBC(iv))
    x = c.encryptor() if enc else c.decryptor()
    return x.update(data) + x.finalize()


def pad(b):
    b = b + b"\x80"
    return b + bytes((8 - len(b) % 8) % 8)


def unpad(b):
    i = b.rstrip(b"\x00")
    if not i or i[-1] != 0x80:
        raise ValueError("bad padding")
    return i[:-1]


def retail_mac(key, data):
    """ISO 9797-1 MAC algorithm 3 over already padded data (DES, key = Ka||Kb)."""
    ka, kb = key[:8], key[8:16]
    h = bytes(8)
    for i in range(0, len(data), 8):
        blk = bytes(x ^ y for x, y in zip(h, data[i:i + 8]))
        h = des3(ka, blk, True)
    h = des3(kb, h, False)
    return des3(ka, h, True)


def derive(seed, c):
    d = hashlib.sha1(seed + struct.pack(">I", c)).digest()[:16]
    out = bytearray(d)
    for i, b in enumerate(out):  # DES parity
        out[i] = (b & 0xFE) | ((bin(b >> 1).count("1") + 1) & 1)
    return bytes(out)


def tlv_len(n):
    if n < 0x80:
        return bytes([n])
    if n < 0x100:
        return bytes([0x81, n])
    return bytes([0x82]) + struct.pack(">H", n)


def parse_do(data):
    """Top-level simple TLVs of an SM body: {tag: value}."""
    out, i = {}, 0
    while i < len(data):
        tag = data[i]
        i += 1
        n = data[i]
        i += 1
        if n == 0x81:
            n = data[i]
            i += 1
        elif n == 0x82:
            n = struct.unpack(">H", data[i:i + 2])[0]
            i += 2
        out[tag] = data[i:i + n]
        i += n
    return out


def parse_apdu(a):
    """(cla, ins, p1, p2, data, le, extended); le None when absent."""
    cla, ins, p1, p2 = a[0], a[1], a[2], a[3]
    body = a[4:]
    if not body:
        return cla, ins, p1, p2, b"", None, False
    if len(body) == 1:
        return cla, ins, p1, p2, b"", body[0] or 256, False
    if body[0] != 0:
        lc = body[0]
        data = body[1:1 + lc]
        le = None
        if len(body) == 2 + lc:
            le = body[-1] or 256
        return cla, ins, p1, p2, data, le, False
    if len(body) == 3:
        return cla, ins, p1, p2, b"", struct.unpack(">H", body[1:3])[0] or 65536, True
    lc = struct.unpack(">H", body[1:3])[0]
    data = body[3:3 + lc]
    le = None
    if len(body) == 5 + lc:
        le = struct.unpack(">H", body[-2:])[0] or 65536
    return cla, ins, p1, p2, data, le, True


class Card:
    def __init__(self, files, aa_key=None):
        self.files = files
        self.aa_key = aa_key
        mrz = self.mrz_from_dg1(files["DG1"])
        seed = hashlib.sha1(mrz).digest()[:16]
        self.kenc, self.kmac = derive(seed, 1), derive(seed, 2)
        self.reset()

    @staticmethod
    def mrz_from_dg1(dg1):
        i = dg1.index(b"\x5f\x1f")
        n = dg1[i + 2]
        text = dg1[i + 3:i + 3 + n].decode()
        if n == 90:  # TD1: document number 5..14, birth 30..36, expiry 38..44
            return (text[5:15] + text[30:37] + text[38:45]).encode()
        return (text[44:54] + text[57:64] + text[65:72]).encode()  # TD3

    def reset(self):
        self.app = False
        self.current = None
        self.sm = None
        self.rnd_icc = None

    # --- secure messaging -------------------------------------------------------------
    def sm_unwrap(self, cla, ins, p1, p2, data):
        ks_enc, ks_mac, ssc = self.sm
        ssc = (ssc + 1) % (1 << 64)
        dos = parse_do(data)
        if 0x8E not in dos:
            raise ValueError("no MAC")
        mac_in = pad(bytes([cla, ins, p1, p2]))
        i, body = 0, b""
        while i < len(data):
            tag = data[i]
            start = i
            i += 1
            n = data[i]
            i += 1
            if n == 0x81:
                n = data[i]
                i += 1
            elif n == 0x82:
                n = struct.unpack(">H", data[i:i + 2])[0]
                i += 2
            i += n
            if tag != 0x8E:
                body += data[start:i]
        if retail_mac(ks_mac, pad(struct.pack(">Q", ssc) + mac_in + body)) != dos[0x8E]:
            raise ValueError("bad MAC")
        plain = b""
        if 0x87 in dos:
            plain = unpad(des3(ks_enc, dos[0x87][1:], False))
        le = None
        if 0x97 in dos:
            v = dos[0x97]
            le = int.from_bytes(v, "big") or (256 if len(v) == 1 else 65536)
        self.sm = (ks_enc, ks_mac, ssc)
        return plain, le

    def sm_wrap(self, data, sw):
        ks_enc, ks_mac, ssc = self.sm
        ssc = (ssc + 1) % (1 << 64)
        body = b""
        if data:
            enc = b"\x01" + des3(ks_enc, pad(data), True)
            body += b"\x87" + tlv_len(len(enc)) + enc
        body += b"\x99\x02" + struct.pack(">H", sw)
        mac = retail_mac(ks_mac, pad(struct.pack(">Q", ssc) + body))
        self.sm = (ks_enc, ks_mac, ssc)
        return body + b"\x8e\x08" + mac

    # --- commands -------------------------------------------------------------------
    def command(self, apdu, short_only):
        try:
            cla, ins, p1, p2, data, le, ext = parse_apdu(apdu)
        except (IndexError, struct.error):
            return b"", 0x6700
        if ext and short_only:
            return b"", 0x6700
        if cla & 0x0C == 0x0C:
            if not self.sm:
                return b"", 0x6988
            try:
                data, le = self.sm_unwrap(cla, ins, p1, p2, data)
            except (ValueError, IndexError, struct.error):
                self.sm = None
                return b"", 0x6988
            out, sw = self.plain(ins, p1, p2, data, le, True)
            return self.sm_wrap(out, sw), 0x9000
        if self.sm and ins not in (0xA4, 0x84, 0x82):
            self.sm = None  # a plain command ends the session (9303-11 9.8.4)
        return self.plain(ins, p1, p2, data, le, False)

    def plain(self, ins, p1, p2, data, le, protected):
        if ins == 0xA4:
            if p1 == 0x04:
                if data == LDS_AID:
                    self.app, self.current = True, None
                    return b"", 0x9000
                return b"", 0x6A82
            if len(data) != 2:
                return b"", 0x6A86
            fid = struct.unpack(">H", data)[0]
            if fid == 0x3F00:
                self.app, self.current = False, None
                return b"", 0x9000
            if fid == 0x011C and "CardAccess" in self.files:
                self.current = "CardAccess"
                return b"", 0x9000
            name = FIDS.get(fid)
            if not self.app or name not in self.files:
                return b"", 0x6A82
            if not protected:
                return b"", 0x6982
            self.current = name
            return b"", 0x9000
        if ins == 0x84:
            self.rnd_icc = os.urandom(8)
            return self.rnd_icc, 0x9000
        if ins == 0x82:
            return self.mutual_auth(data)
        if ins == 0x88:  # INTERNAL AUTHENTICATE: active authentication (ECDSA, plain r||s)
            if not protected or not self.aa_key:
                return b"", 0x6982 if not protected else 0x6D00
            if len(data) != 8:
                return b"", 0x6700
            r, s_ = decode_dss_signature(self.aa_key.sign(data, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(32, "big") + s_.to_bytes(32, "big"), 0x9000
        if ins in (0xB0, 0xB1):
            if not self.current:
                return b"", 0x6986
            if not protected and self.current != "CardAccess":
                return b"", 0x6982
            if ins == 0xB0:
                if p1 & 0x80:
                    return b"", 0x6A81
                off = (p1 << 8) | p2
            else:
                dos = parse_do(data)
                off = int.from_bytes(dos.get(0x54, b"\x00"), "big")
            f = self.files[self.current]
            if off > len(f):
                return b"", 0x6B00
            n = le or 256
            chunk = f[off:off + n]
            if ins == 0xB1:
                chunk = b"\x53" + tlv_len(len(chunk)) + chunk
            return chunk, (0x9000 if len(chunk) == n else 0x6282)
        return b"", 0x6D00

    def mutual_auth(self, data):
        if self.rnd_icc is None or len(data) != 40:
            return b"", 0x6700
        e, m = data[:32], data[32:]
        if retail_mac(self.kmac, pad(e)) != m:
            return b"", 0x6300
        s = des3(self.kenc, e, False)
        rnd_ifd, rnd_icc, k_ifd = s[:8], s[8:16], s[16:32]
        if rnd_icc != self.rnd_icc:
            return b"", 0x6300
        k_icc = os.urandom(16)
        r = rnd_icc + rnd_ifd + k_icc
        e2 = des3(self.kenc, r, True)
        seed = bytes(x ^ y for x, y in zip(k_ifd, k_icc))
        ssc = struct.unpack(">Q", rnd_icc[4:] + rnd_ifd[4:])[0]
        self.sm = (derive(seed, 1), derive(seed, 2), ssc)
        self.rnd_icc = None
        return e2 + retail_mac(self.kmac, pad(e2)), 0x9000


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        # vpcd writes the length and the APDU in two send()s: acknowledge at once, or Nagle
        # on its side waits for our delayed ACK (40 ms per APDU).
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        part = s.recv(n - len(buf))
        if not part:
            raise EOFError
        buf += part
    return buf


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("card")
    ap.add_argument("--port", type=int, default=35963)
    ap.add_argument("--short-only", action="store_true")
    ap.add_argument("--remove-after", type=int, default=0)
    a = ap.parse_args()
    files = {}
    for name in list(FIDS.values()) + ["CardAccess"]:
        p = os.path.join(a.card, name)
        if os.path.exists(p):
            with open(p, "rb") as f:
                files[name] = f.read()
    aa_key = None
    if os.path.exists(os.path.join(a.card, "AAKEY")):
        with open(os.path.join(a.card, "AAKEY"), "rb") as f:
            aa_key = serialization.load_pem_private_key(f.read(), None)
    card = Card(files, aa_key)
    s = socket.create_connection(("127.0.0.1", a.port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    count = 0
    try:
        while True:
            n = struct.unpack(">H", recv_exact(s, 2))[0]
            msg = recv_exact(s, n)
            if n == 1:
                if msg[0] in (0, 1, 2):
                    card.reset()
                elif msg[0] == 4:
                    s.sendall(struct.pack(">H", len(ATR)) + ATR)
                continue
            count += 1
            if a.remove_after and count >= a.remove_after:
                print("emucard: card removed at APDU %d" % count, file=sys.stderr)
                return 0
            data, sw = card.command(msg, a.short_only)
            out = data + struct.pack(">H", sw)
            s.sendall(struct.pack(">H", len(out)) + out)
    except (EOFError, ConnectionError):
        return 0
    finally:
        s.close()


if __name__ == "__main__":
    sys.exit(main())
