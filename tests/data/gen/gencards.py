#!/usr/bin/python3
"""Synthetic chip ID cards (CCCD 2021: front with QR, back with MRZ) and commune documents,
with ground truth, at several degradation levels.  No real person's data: names, numbers and
addresses are drawn from small lists with a seeded PRNG.  Needs ImageMagick (convert),
qrencode, fonts-ocr-b and fonts-dejavu-core; Python 3 standard library only.

Usage: gencards.py OUTDIR [--cards N] [--docs N] [--levels a,b,...] [--seed S] [--quality Q]
                   [--append]
Writes OUTDIR/<level>-<nnn>-front.jpg, -back.jpg, OUTDIR/<level>-doc-<nnn>.jpg and
OUTDIR/truth.jsonl (one JSON object per image: file, level, type, fields as in the
recognition output contract)."""
import argparse
import datetime
import json
import os
import random
import subprocess
import sys
import tempfile
import unicodedata

OCRB = "/usr/share/fonts/opentype/ocr-b/OCRB.otf"
SANS = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SANS_B = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
SERIF = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
SERIF_B = "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf"

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
            "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Ngọc", "Thanh", "Quốc", "Gia", "Xuân", "Thu", "Bảo"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Hà", "Hải", "Hạnh", "Hoa", "Hùng", "Hương", "Khánh",
         "Lan", "Linh", "Long", "Mai", "Nam", "Ngân", "Phúc", "Quân", "Sơn", "Tâm", "Thảo",
         "Trang", "Tuấn", "Việt", "Yến", "Đạt", "Ánh", "Châu", "Nhung"]
PROVINCES = [("001", "Hà Nội"), ("031", "Hải Phòng"), ("048", "Đà Nẵng"), ("079", "TP. Hồ Chí Minh"),
             ("092", "Cần Thơ"), ("036", "Nam Định"), ("040", "Nghệ An"), ("046", "Thừa Thiên Huế")]
STREETS = ["Đường Láng", "Phố Huế", "Lê Lợi", "Trần Phú", "Nguyễn Trãi", "Hùng Vương",
           "Bạch Đằng", "Lý Thường Kiệt", "Quang Trung", "Hai Bà Trưng"]
WARDS = ["Phường Tân Định", "Xã Yên Sở", "Phường Hòa Khánh", "Xã Đông Hòa", "Phường Bến Thành",
         "Xã Phú Mỹ", "Thị trấn Văn Điển", "Phường Vĩnh Ninh"]
DISTRICTS = ["Quận Đống Đa", "Huyện Thanh Trì", "Quận Liên Chiểu", "Huyện Củ Chi", "Quận 1",
             "Huyện Hải Hậu", "Thành phố Vinh", "Quận Ninh Kiều"]
LEVELS = {
    # name: (rotation range in degrees, extra 180, blur sigma, scale, jpeg quality, light, noise)
    "clean": (0.0, False, 0.0, 1.0, 90, 0.0, 0),
    "mild": (3.0, False, 0.6, 1.0, 80, 0.15, 2),
    "medium": (8.0, False, 1.0, 0.85, 60, 0.35, 4),
    "hard": (15.0, False, 1.4, 0.7, 45, 0.5, 6),
    "lowres": (2.0, False, 0.5, 0.45, 70, 0.1, 2),
    "upside": (5.0, True, 0.6, 0.9, 75, 0.2, 2),
}
DOC_TYPES = {
    "birth_certificate": ["GIẤY KHAI SINH"],
    "marriage_certificate": ["GIẤY CHỨNG NHẬN KẾT HÔN"],
    "residence_confirmation": ["XÁC NHẬN THÔNG TIN VỀ CƯ TRÚ"],
    "land_use_right_certificate": ["GIẤY CHỨNG NHẬN", "QUYỀN SỬ DỤNG ĐẤT, QUYỀN SỞ HỮU NHÀ Ở",
                                   "VÀ TÀI SẢN KHÁC GẮN LIỀN VỚI ĐẤT"],
    "other": ["ĐƠN ĐỀ NGHỊ", "(V/v cấp bản sao trích lục hộ tịch)"],
}


def unaccent(s):
    s = s.replace("Đ", "D").replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")


def check_digit(s):
    total = 0
    for i, c in enumerate(s):
        if c.isdigit():
            v = ord(c) - 48
        elif "A" <= c <= "Z":
            v = ord(c) - 55
        else:
            v = 0
        total += v * (7, 3, 1)[i % 3]
    return str(total % 10)


def rand_date(rng, start, end):
    return start + datetime.timedelta(days=rng.randrange((end - start).days))


def add_years(d, years):
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def person(rng):
    sex = rng.choice(["Nam", "Nữ"])
    names = [rng.choice(SURNAMES), rng.choice(MIDDLE)]
    if rng.random() < 0.3:
        names.append(rng.choice(MIDDLE))
    names.append(rng.choice(GIVEN))
    dob = rand_date(rng, datetime.date(1950, 1, 1), datetime.date(2005, 12, 31))
    code, prov = rng.choice(PROVINCES)
    century = 0 if dob.year < 2000 else 2
    gdigit = century + (1 if sex == "Nữ" else 0)
    idn = "%s%d%02d%06d" % (code, gdigit, dob.year % 100, rng.randrange(1000000))
    old = "%09d" % rng.randrange(10**8, 10**9) if rng.random() < 0.5 else ""
    issue = rand_date(rng, datetime.date(2021, 1, 1), datetime.date(2023, 12, 31))
    if issue < add_years(dob, 14):
        issue = add_years(dob, 14)
    age = (issue - dob).days // 365
    expiry = None
    for limit in (25, 40, 60):
        if age < limit - 2:
            expiry = add_years(dob, limit)
            break
    addr = "Số %d %s, %s, %s, %s" % (rng.randrange(1, 300), rng.choice(STREETS), rng.choice(WARDS),
                                      rng.choice(DISTRICTS), prov)
    return {"id_number": idn, "old_id_number": old, "full_name": " ".join(names), "dob": dob,
            "sex": sex, "residence": addr, "issue": issue, "expiry": expiry, "origin": prov}


def qr_payload(p):
    return "|".join([p["id_number"], p["old_id_number"], p["full_name"], p["dob"].strftime("%d%m%Y"),
                     p["sex"], p["residence"], p["issue"].strftime("%d%m%Y")])


def mrz_lines(p):
    idn = p["id_number"]
    doc = idn[3:]
    l1 = "IDVNM" + doc + check_digit(doc) + idn + "<<" + check_digit(idn)
    dob = p["dob"].strftime("%y%m%d")
    exp = p["expiry"].strftime("%y%m%d") if p["expiry"] else "991231"
    sex = "M" if p["sex"] == "Nam" else "F"
    l2 = dob + check_digit(dob) + sex + exp + check_digit(exp) + "VNM" + "<" * 11
    comp = l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]
    l2 += check_digit(comp)
    parts = unaccent(p["full_name"]).upper().split()
    l3 = (parts[0] + "<<" + "<".join(parts[1:]) + "<" * 30)[:30]
    assert len(l1) == 30 and len(l2) == 30
    return [l1, l2, l3]


def truth_front(p):
    f = {"id_number": p["id_number"], "full_name": p["full_name"],
         "date_of_birth": p["dob"].isoformat(), "sex": "M" if p["sex"] == "Nam" else "F",
         "place_of_residence": p["residence"], "issue_date": p["issue"].isoformat()}
    if p["old_id_number"]:
        f["old_id_number"] = p["old_id_number"]
    return f


def truth_back(p, lines):
    name = lines[2].rstrip("<").replace("<<", " ").replace("<", " ")
    return {"id_number": p["id_number"], "date_of_birth": p["dob"].isoformat(),
            "sex": "M" if p["sex"] == "Nam" else "F",
            "expiry_date": p["expiry"].isoformat() if p["expiry"] else None,
            "nationality": "VNM", "full_name": " ".join(name.split())}


def text(font, size, x, y, s, fill="black"):
    return ["-font", font, "-pointsize", str(size), "-fill", fill, "-annotate", "+%d+%d" % (x, y), s]


def render_front(p, out, tmp):
    qr = os.path.join(tmp, "qr.png")
    subprocess.run(["qrencode", "-8", "-l", "M", "-s", "6", "-m", "0", "-o", qr], check=True,
                   input=qr_payload(p).encode())
    cmd = ["convert", "-size", "1012x638", "xc:#e9eef3", "-fill", "#d6e2ee", "-draw",
           "circle 506,380 506,560", "-fill", "#b8b8b8", "-draw", "rectangle 50,190 250,450"]
    cmd += text(SANS_B, 22, 270, 50, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    cmd += text(SANS_B, 18, 370, 78, "Độc lập - Tự do - Hạnh phúc")
    cmd += text(SANS_B, 34, 330, 140, "CĂN CƯỚC CÔNG DÂN", "#b01010")
    cmd += text(SANS, 20, 270, 190, "Số / No.:") + text(SANS_B, 30, 380, 192, p["id_number"])
    cmd += text(SANS, 18, 270, 235, "Họ và tên / Full name:")
    cmd += text(SANS_B, 26, 270, 270, p["full_name"].upper())
    cmd += text(SANS, 18, 270, 310, "Ngày sinh / Date of birth: " + p["dob"].strftime("%d/%m/%Y"))
    cmd += text(SANS, 18, 270, 345, "Giới tính / Sex: %s      Quốc tịch / Nationality: Việt Nam" % p["sex"])
    cmd += text(SANS, 18, 270, 380, "Quê quán / Place of origin: " + p["origin"])
    cmd += text(SANS, 18, 270, 415, "Nơi thường trú / Place of residence:")
    res = p["residence"]
    cut = res.rfind(",", 0, 60)
    cmd += text(SANS, 18, 270, 450, res[:cut + 1] if cut > 0 and len(res) > 60 else res)
    if cut > 0 and len(res) > 60:
        cmd += text(SANS, 18, 270, 485, res[cut + 2:])
    exp = p["expiry"].strftime("%d/%m/%Y") if p["expiry"] else "Không thời hạn"
    cmd += text(SANS, 15, 50, 520, "Có giá trị đến: " + exp)
    cmd += ["(", qr, "-resize", "150x150", ")", "-geometry", "+830+30", "-composite", out]
    subprocess.run(cmd, check=True)


def render_back(p, lines, out):
    cmd = ["convert", "-size", "1012x638", "xc:#eef0ea", "-fill", "#cfd4d9", "-draw",
           "rectangle 640,40 800,240", "-draw", "rectangle 820,40 980,240",
           "-fill", "#444444", "-draw", "rectangle 470,60 560,140"]
    cmd += text(SANS, 16, 40, 60, "Đặc điểm nhận dạng / Personal identification:")
    cmd += text(SANS, 16, 40, 90, "Nốt ruồi C:1cm dưới sau cánh mũi trái")
    cmd += text(SANS, 16, 40, 150, "Ngày, tháng, năm / Date, month, year: " + p["issue"].strftime("%d/%m/%Y"))
    cmd += text(SANS_B, 14, 40, 190, "CỤC TRƯỞNG CỤC CẢNH SÁT")
    cmd += text(SANS_B, 14, 40, 210, "QUẢN LÝ HÀNH CHÍNH VỀ TRẬT TỰ XÃ HỘI")
    cmd += text(SANS, 14, 660, 265, "Ngón trỏ trái") + text(SANS, 14, 840, 265, "Ngón trỏ phải")
    cmd += ["-fill", "#ffffff", "-draw", "rectangle 0,440 1012,638"]
    for i, line in enumerate(lines):
        cmd += ["-font", OCRB, "-pointsize", "42", "-fill", "black", "-annotate",
                "+76+%d" % (500 + 52 * i), line]
    cmd += [out]
    subprocess.run(cmd, check=True)


def render_doc(kind, rng, out):
    cmd = ["convert", "-size", "1240x1754", "xc:white"]
    cmd += text(SERIF_B, 30, 250, 140, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    cmd += text(SERIF_B, 28, 420, 190, "Độc lập - Tự do - Hạnh phúc")
    cmd += ["-stroke", "black", "-draw", "line 420,205 820,205", "-stroke", "none"]
    y = 330
    for i, t in enumerate(DOC_TYPES[kind]):
        size = 46 if i == 0 else 32
        w = int(len(t) * size * 0.62)
        cmd += text(SERIF_B, size, max(60, (1240 - w) // 2), y, t)
        y += 60
    body = ["Họ, chữ đệm, tên: " + " ".join([rng.choice(SURNAMES), rng.choice(MIDDLE), rng.choice(GIVEN)]),
            "Ngày, tháng, năm sinh: %02d/%02d/%d" % (rng.randrange(1, 29), rng.randrange(1, 13),
                                                    rng.randrange(1960, 2020)),
            "Nơi cư trú: " + rng.choice(WARDS) + ", " + rng.choice(DISTRICTS),
            "Số định danh cá nhân: %012d" % rng.randrange(10**11, 10**12)]
    y += 80
    for b in body + ["." * 90] * 8:
        cmd += text(SERIF, 26, 120, y, b)
        y += 70
    cmd += [out]
    subprocess.run(cmd, check=True)


def degrade(src, dst, level, rng, quality):
    rot, flip, blur, scale, q, light, noise = LEVELS[level]
    angle = rng.uniform(-rot, rot) + (180.0 if flip else 0.0)
    cmd = ["convert", src, "-bordercolor", "#f4f4f0", "-border", "40", "-background", "#f4f4f0"]
    if angle:
        cmd += ["-rotate", "%.2f" % angle]
    if light:
        lo = int(255 * (1 - light))
        corner = rng.randrange(4)
        pts = ["0,0", "%w,0", "%w,%h", "0,%h"]
        cmd += ["(", "+clone", "-sparse-color", "Barycentric",
                "%s white %s rgb(%d,%d,%d)" % (pts[corner], pts[(corner + 2) % 4], lo, lo, lo),
                ")", "-compose", "multiply", "-composite"]
    if blur:
        cmd += ["-blur", "0x%.2f" % blur]
    if scale != 1.0:
        cmd += ["-resize", "%d%%" % int(scale * 100)]
    if noise:
        cmd += ["-seed", str(rng.randrange(1 << 30)), "-attenuate", "%.2f" % (noise / 10.0),
                "+noise", "Gaussian"]
    cmd += ["-quality", str(min(q, quality)), dst]
    subprocess.run(cmd, check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--cards", type=int, default=4)
    ap.add_argument("--docs", type=int, default=2)
    ap.add_argument("--levels", default=",".join(LEVELS))
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--quality", type=int, default=100, help="cap on the JPEG quality")
    ap.add_argument("--append", action="store_true", help="append to truth.jsonl")
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    truth = open(os.path.join(a.outdir, "truth.jsonl"), "a" if a.append else "w", encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        for level in a.levels.split(","):
            rng = random.Random("%d-%s" % (a.seed, level))
            for n in range(a.cards):
                p = person(rng)
                lines = mrz_lines(p)
                front, back = os.path.join(tmp, "f.png"), os.path.join(tmp, "b.png")
                render_front(p, front, tmp)
                render_back(p, lines, back)
                for side, src, fields in (("front", front, truth_front(p)),
                                          ("back", back, truth_back(p, lines))):
                    name = "%s-%03d-%s.jpg" % (level, n, side)
                    degrade(src, os.path.join(a.outdir, name), level, rng, a.quality)
                    rec = {"file": name, "level": level, "type": "id_card_" + side, "fields": fields}
                    if side == "front":
                        rec["qr"] = qr_payload(p)
                    else:
                        rec["mrz"] = lines
                    truth.write(json.dumps(rec, ensure_ascii=False) + "\n")
            kinds = list(DOC_TYPES)
            for n in range(a.docs):
                kind = kinds[(n + rng.randrange(len(kinds))) % len(kinds)]
                src = os.path.join(tmp, "d.png")
                render_doc(kind, rng, src)
                name = "%s-doc-%03d.jpg" % (level, n)
                degrade(src, os.path.join(a.outdir, name), level, rng, a.quality)
                truth.write(json.dumps({"file": name, "level": level, "type": kind, "fields": {}},
                                       ensure_ascii=False) + "\n")
    truth.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
