#!/usr/bin/python3
"""Makes a synthetic Vietnamese chip card (LDS1) and its test PKI for emucard.py.

Usage: mkcard.py OUT_DIR --face FACE.jpg [--variant V] [--pki PKI_DIR]
Variants: good; altered (DG13 changed after the SOD was signed); foreign (SOD signed under a
CSCA that is not in PKI_DIR/csca.pem); expired (Document Signer expired before the signing
time); renamed (DG13 signed with another full name than the MRZ's: verified, but differs
from the printed card); aa (with DG15 and an active-authentication key); aa-clone (DG15 from
one card, the chip's key from another: a cloned chip).  PKI_DIR (made on first use) holds csca.pem (the trust list a test configures) and the
keys.  OUT_DIR gets COM, SOD, DG1, DG2, DG13 and card.json (what a reader must find).
All names and numbers are made up by this script."""
import argparse
import datetime
import hashlib
import json
import os
import struct

from asn1crypto import algos, cms, core
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
DAY = datetime.timedelta(days=1)


def tlv(tag, value):
    n = len(value)
    if n < 0x80:
        ln = bytes([n])
    elif n < 0x100:
        ln = bytes([0x81, n])
    else:
        ln = bytes([0x82]) + struct.pack(">H", n)
    return tag + ln + value


def check_digit(s):
    w = (7, 3, 1)
    t = 0
    for i, c in enumerate(s):
        if c.isdigit():
            v = int(c)
        elif c == "<":
            v = 0
        else:
            v = ord(c) - 55
        t += v * w[i % 3]
    return str(t % 10)


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "motcua test PKI"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def cert(subject, key, issuer, issuer_key, start, end, ca):
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(start).not_valid_after(end)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), True))
    if ca:
        b = b.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                          False), True)
    else:
        b = b.add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False,
                                          False), True)
    return b.sign(issuer_key, hashes.SHA256())


def pem_key(k):
    return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption())


def load_or_make_csca(pki, label):
    kp, cp = os.path.join(pki, label + ".key"), os.path.join(pki, label + ".pem")
    if os.path.exists(kp):
        with open(kp, "rb") as f:
            key = serialization.load_pem_private_key(f.read(), None)
        with open(cp, "rb") as f:
            return key, x509.load_pem_x509_certificate(f.read())
    key = ec.generate_private_key(ec.SECP256R1())
    c = cert(name("CSCA " + label), key, name("CSCA " + label), key, NOW - 400 * DAY,
             NOW + 3650 * DAY, True)
    with open(kp, "wb") as f:
        f.write(pem_key(key))
    with open(cp, "wb") as f:
        f.write(c.public_bytes(serialization.Encoding.PEM))
    return key, c


class DataGroupHash(core.Sequence):
    _fields = [("dataGroupNumber", core.Integer), ("dataGroupHashValue", core.OctetString)]


class DataGroupHashValues(core.SequenceOf):
    _child_spec = DataGroupHash


class LDSSecurityObject(core.Sequence):
    _fields = [("version", core.Integer), ("hashAlgorithm", algos.DigestAlgorithm),
               ("dataGroupHashValues", DataGroupHashValues)]


def make_sod(dgs, ds_key, ds_cert, signing_time):
    lds = LDSSecurityObject({
        "version": 0,
        "hashAlgorithm": {"algorithm": "sha256"},
        "dataGroupHashValues": [{"dataGroupNumber": n, "dataGroupHashValue":
                                 hashlib.sha256(v).digest()} for n, v in sorted(dgs.items())],
    }).dump()
    attrs = cms.CMSAttributes([
        {"type": "content_type", "values": ["2.23.136.1.1.1"]},
        {"type": "signing_time", "values": [cms.Time({"utc_time": signing_time})]},
        {"type": "message_digest", "values": [hashlib.sha256(lds).digest()]},
    ])
    sig = ds_key.sign(attrs.dump(), ec.ECDSA(hashes.SHA256()))
    dsc = ax509.Certificate.load(ds_cert.public_bytes(serialization.Encoding.DER))
    sd = cms.SignedData({
        "version": "v3",
        "digest_algorithms": [{"algorithm": "sha256"}],
        "encap_content_info": {"content_type": "2.23.136.1.1.1",
                               "content": core.ParsableOctetString(lds)},
        "certificates": [dsc],
        "signer_infos": [{
            "version": "v1",
            "sid": cms.SignerIdentifier({"issuer_and_serial_number": {
                "issuer": dsc.issuer, "serial_number": dsc.serial_number}}),
            "digest_algorithm": {"algorithm": "sha256"},
            "signed_attrs": attrs,
            "signature_algorithm": {"algorithm": "sha256_ecdsa"},
            "signature": sig,
        }],
    })
    ci = cms.ContentInfo({"content_type": "signed_data", "content": sd})
    return tlv(b"\x77", ci.dump())


PERSON = {
    "id_number": "001203004567",
    "full_name": "Nguyễn Thị Thu Hằng",
    "mrz_name": "NGUYEN<<THI<THU<HANG",
    "date_of_birth": "14/07/1992",
    "sex": "Nữ",
    "nationality": "Việt Nam",
    "ethnicity": "Kinh",
    "religion": "Không",
    "place_of_origin": "Xã Đông Hội, Huyện Đông Anh, Hà Nội",
    "place_of_residence": "Số 12 ngõ 34 phố Hàng Bạc, Phường Hàng Bạc, Quận Hoàn Kiếm, Hà Nội",
    "features": "Nốt ruồi C:2cm trên trước mắt phải",
    "issue_date": "10/05/2021",
    "expiry_date": "14/07/2032",
    "father_name": "Nguyễn Văn Bình",
    "mother_name": "Trần Thị Lụa",
    "spouse_name": "Lê Quang Đức",
    "old_id_number": "012345678",
}


def mrz_td1(p):
    doc = p["id_number"][3:]  # the last 9 digits
    l1 = "IDVNM" + doc + check_digit(doc) + p["id_number"] + "<<" + check_digit(p["id_number"])
    d, m, y = p["date_of_birth"].split("/")
    birth = y[2:] + m + d
    d, m, y = p["expiry_date"].split("/")
    exp = y[2:] + m + d
    sex = "F" if p["sex"] == "Nữ" else "M"
    l2 = birth + check_digit(birth) + sex + exp + check_digit(exp) + "VNM"
    l2 = (l2 + "<" * 29)[:29]
    comp = l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]
    l2 += check_digit(comp)
    l3 = (p["mrz_name"] + "<" * 30)[:30]
    return l1, l2, l3, doc, birth, exp


def dg13(p):
    def item(n, *vals):
        body = tlv(b"\x02", bytes([n]))
        for v in vals:
            body += v
        return tlv(b"\x30", body)

    def u(s):
        return tlv(b"\x0c", s.encode())

    def ps(s):
        return tlv(b"\x13", s.encode())

    items = [item(1, ps(p["id_number"])), item(2, u(p["full_name"])),
             item(3, ps(p["date_of_birth"])), item(4, u(p["sex"])),
             item(5, u(p["nationality"])), item(6, u(p["ethnicity"])),
             item(7, u(p["religion"])), item(8, u(p["place_of_origin"])),
             item(9, u(p["place_of_residence"])), item(10, u(p["features"])),
             item(11, ps(p["issue_date"])), item(12, u(p["expiry_date"])),
             item(13, tlv(b"\x30", u(p["father_name"])), tlv(b"\x30", u(p["mother_name"]))),
             item(14, tlv(b"\x30", u(p["spouse_name"]))), item(15, ps(p["old_id_number"])),
             item(16, ps("0000000000000042"))]
    return tlv(b"\x6d", tlv(b"\x02", b"\x00") + tlv(b"\x30", b"".join(items)))


def dg2(face):
    kind = 1 if face[:4] in (b"\x00\x00\x00\x0c", b"\xff\x4f\xff\x51") else 0
    info = struct.pack(">IHBBB3s2s3s3s", 20 + 12 + len(face), 0, 2, 0, 1, b"\0\0\0", b"\0\0",
                       b"\0\0\0", b"\0\0\0")
    img = struct.pack(">BBHHBBHH", 1, kind, 240, 320, 1, 2, 0, 0)
    rec = b"FAC\x00010\x00" + struct.pack(">IH", 14 + len(info) + len(img) + len(face), 1)
    rec += info + img + face
    bht = tlv(b"\xa1", tlv(b"\x80", b"\x01\x01") + tlv(b"\x87", b"\x01\x01") +
              tlv(b"\x88", b"\x00\x08"))
    inst = tlv(b"\x7f\x60", bht + tlv(b"\x5f\x2e", rec))
    return tlv(b"\x75", tlv(b"\x7f\x61", tlv(b"\x02", b"\x01") + inst))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--face", required=True)
    ap.add_argument("--variant", default="good",
                    choices=["good", "altered", "foreign", "expired", "renamed", "aa",
                             "aa-clone"])
    ap.add_argument("--pki", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    os.makedirs(a.pki, exist_ok=True)
    csca_key, csca = load_or_make_csca(a.pki, "csca")
    if a.variant == "foreign":
        csca_key, csca = load_or_make_csca(a.pki, "foreign")
    ds_key = ec.generate_private_key(ec.SECP256R1())
    start, end = NOW - 30 * DAY, NOW + 90 * DAY
    if a.variant == "expired":
        start, end = NOW - 400 * DAY, NOW - 300 * DAY
    ds = cert(name("Document Signer"), ds_key, csca.subject, csca_key, start, end, False)

    l1, l2, l3, doc, birth, exp = mrz_td1(PERSON)
    person = dict(PERSON)
    if a.variant == "renamed":
        person["full_name"] = "Nguyễn Thị Thu Hà"
    with open(a.face, "rb") as f:
        face = f.read()
    dgs = {1: tlv(b"\x61", tlv(b"\x5f\x1f", (l1 + l2 + l3).encode())),
           2: dg2(face), 13: dg13(person)}
    aa_key = None
    if a.variant in ("aa", "aa-clone"):
        aa_key = ec.generate_private_key(ec.SECP256R1())
        spki = aa_key.public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
        dgs[15] = tlv(b"\x6f", spki)
        if a.variant == "aa-clone":
            aa_key = ec.generate_private_key(ec.SECP256R1())
    sod = make_sod(dgs, ds_key, ds, NOW - DAY)
    if a.variant == "altered":
        dgs[13] = dgs[13].replace("Hằng".encode(), "Hương".encode()[:len("Hằng".encode())])
    com = tlv(b"\x60", tlv(b"\x5f\x01", b"0107") + tlv(b"\x5f\x36", b"040000") +
              tlv(b"\x5c", b"\x61\x75\x6d" + (b"\x6f" if 15 in dgs else b"")))
    files = {"COM": com, "SOD": sod, "DG1": dgs[1], "DG2": dgs[2], "DG13": dgs[13]}
    if 15 in dgs:
        files["DG15"] = dgs[15]
        files["AAKEY"] = pem_key(aa_key)
    for k, v in files.items():
        with open(os.path.join(a.out, k), "wb") as f:
            f.write(v)
    with open(os.path.join(a.out, "ds.pem"), "wb") as f:
        f.write(ds.public_bytes(serialization.Encoding.PEM))
    info = dict(person, mrz=[l1, l2, l3], bac={"document_number": doc, "birth": birth,
                                                "expiry": exp},
                face_sha256=hashlib.sha256(face).hexdigest())
    with open(os.path.join(a.out, "card.json"), "w", encoding="utf-8") as f:
        json.dump(info, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
