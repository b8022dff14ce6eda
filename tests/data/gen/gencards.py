#!/usr/bin/python3
"""Synthetic chip ID cards (CCCD 2021: front with QR, back with MRZ) and commune documents,
with ground truth, at several degradation levels.  No real person's data: names, numbers and
addresses are drawn from small lists with a seeded PRNG.  Needs ImageMagick (convert),
qrencode, fonts-ocr-b and fonts-dejavu-core; Python 3 standard library only.

Conditions besides the scan quality levels (CONDITIONS): flatbed scans turned 90/180/270
degrees, strongly skewed scans, phone photos (perspective, any orientation, glare, a cluttered
or a dark background, mild motion blur, JPEG quality 50), both sides of a card on one page,
the 2024 "the can cuoc" (QR and MRZ on the back) and the old cards without chip (9-digit CMND,
12-digit CCCD of 2016: no QR, no MRZ).

Usage: gencards.py OUTDIR [--cards N] [--docs N] [--levels a,b,...] [--seed S] [--quality Q]
                   [--append]
Writes OUTDIR/<level>-<nnn>-front.jpg, -back.jpg (-both.jpg for a page with both sides),
OUTDIR/<level>-doc-<nnn>.jpg and OUTDIR/truth.jsonl (one JSON object per image: file, level,
card (the card's number within the level), type, generation, fields as in the recognition
output contract).  The bench's held-out set uses a seed that no tuning set uses."""
import argparse
import datetime
import json
import math
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
# Conditions of capture: name -> (kind, parameters); every card of these is a 2021 CCCD
# unless the kind says otherwise.
CONDITIONS = {
    "rot90": ("scan", {"base": 90, "skew": 3.0}),
    "rot180": ("scan", {"base": 180, "skew": 3.0}),
    "rot270": ("scan", {"base": 270, "skew": 3.0}),
    "skew": ("scan", {"base": 0, "skew": 20.0, "min_skew": 8.0}),
    "photo_clutter": ("photo", {"background": "clutter"}),
    "photo_dark": ("photo", {"background": "dark"}),
    "duplex": ("duplex", {}),
    "gen2024": ("gen2024", {}),
    "gen2024_photo": ("gen2024", {"photo": True}),
    "old": ("old", {}),
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


def render_front_2024(p, out):
    """The 2024 "the can cuoc" front: no QR (it moved to the back), new titles."""
    cmd = ["convert", "-size", "1012x638", "xc:#eef1ec", "-fill", "#dfe6dc", "-draw",
           "circle 560,400 560,590", "-fill", "#b8b8b8", "-draw", "rectangle 50,200 250,460",
           "-fill", "#c9a64a", "-draw", "roundrectangle 60,90 160,160 12,12"]
    cmd += text(SANS_B, 21, 280, 48, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    cmd += text(SANS, 16, 350, 74, "SOCIALIST REPUBLIC OF VIET NAM")
    cmd += text(SANS_B, 40, 420, 132, "CĂN CƯỚC", "#b01010")
    cmd += text(SANS, 17, 440, 158, "IDENTITY CARD")
    cmd += text(SANS, 17, 280, 205, "Số định danh cá nhân / Personal identification number:")
    cmd += text(SANS_B, 30, 280, 243, p["id_number"])
    cmd += text(SANS, 17, 280, 285, "Họ, chữ đệm và tên khai sinh / Full name:")
    cmd += text(SANS_B, 26, 280, 322, p["full_name"].upper())
    cmd += text(SANS, 18, 280, 365, "Ngày, tháng, năm sinh / Date of birth: " + p["dob"].strftime("%d/%m/%Y"))
    cmd += text(SANS, 18, 280, 405, "Giới tính / Sex: " + p["sex"])
    cmd += text(SANS, 18, 280, 445, "Quốc tịch / Nationality: Việt Nam")
    cmd += [out]
    subprocess.run(cmd, check=True)


def render_back_2024(p, lines, out, tmp):
    """The 2024 back: residence, birth registration, dates, the QR and the MRZ."""
    qr = os.path.join(tmp, "qr.png")
    subprocess.run(["qrencode", "-8", "-l", "M", "-s", "6", "-m", "0", "-o", qr], check=True,
                   input=qr_payload(p).encode())
    cmd = ["convert", "-size", "1012x638", "xc:#eef0ea", "-fill", "#c9a64a", "-draw",
           "roundrectangle 60,40 160,110 12,12"]
    cmd += text(SANS, 16, 40, 150, "Nơi cư trú / Place of residence:")
    res = p["residence"]
    cut = res.rfind(",", 0, 62)
    if cut > 0 and len(res) > 62:
        cmd += text(SANS, 17, 40, 178, res[:cut + 1]) + text(SANS, 17, 40, 204, res[cut + 2:])
    else:
        cmd += text(SANS, 17, 40, 178, res)
    cmd += text(SANS, 16, 40, 240, "Nơi đăng ký khai sinh / Place of birth: " + p["origin"])
    cmd += text(SANS, 16, 40, 275, "Ngày, tháng, năm cấp / Date of issue: " + p["issue"].strftime("%d/%m/%Y"))
    exp = p["expiry"].strftime("%d/%m/%Y") if p["expiry"] else "Không thời hạn"
    cmd += text(SANS, 16, 40, 305, "Ngày, tháng, năm hết hạn / Date of expiry: " + exp)
    cmd += text(SANS_B, 16, 40, 345, "BỘ CÔNG AN / MINISTRY OF PUBLIC SECURITY")
    cmd += ["-fill", "#ffffff", "-draw", "rectangle 0,440 1012,638"]
    for i, line in enumerate(lines):
        cmd += ["-font", OCRB, "-pointsize", "42", "-fill", "black", "-annotate",
                "+76+%d" % (500 + 52 * i), line]
    cmd += ["(", qr, "-resize", "170x170", ")", "-geometry", "+800+60", "-composite", out]
    subprocess.run(cmd, check=True)


def render_front_old(p, out, nine):
    """A card without chip: the 9-digit CMND or the 12-digit CCCD of 2016 (no QR, no MRZ)."""
    if nine:
        cmd = ["convert", "-size", "1012x638", "xc:#dde8f2", "-fill", "#b8b8b8", "-draw",
               "rectangle 40,230 230,470"]
        cmd += text(SANS_B, 20, 300, 50, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
        cmd += text(SANS_B, 17, 390, 76, "Độc lập - Tự do - Hạnh phúc")
        cmd += text(SANS_B, 32, 330, 135, "GIẤY CHỨNG MINH NHÂN DÂN", "#b01010")
        cmd += text(SANS_B, 30, 420, 190, "SỐ " + p["cmnd"], "#b01010")
        cmd += text(SANS, 19, 270, 245, "Họ tên: ") + text(SANS_B, 24, 360, 245, p["full_name"].upper())
        cmd += text(SANS, 19, 270, 295, "Sinh ngày: " + p["dob"].strftime("%d-%m-%Y"))
        cmd += text(SANS, 19, 270, 345, "Nguyên quán: " + p["origin"])
        cmd += text(SANS, 19, 270, 395, "Nơi ĐKHK thường trú: " + p["residence"][:38])
    else:
        cmd = ["convert", "-size", "1012x638", "xc:#e9eef3", "-fill", "#b8b8b8", "-draw",
               "rectangle 50,190 250,450"]
        cmd += text(SANS_B, 22, 270, 50, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
        cmd += text(SANS_B, 18, 370, 78, "Độc lập - Tự do - Hạnh phúc")
        cmd += text(SANS_B, 34, 330, 140, "CĂN CƯỚC CÔNG DÂN", "#b01010")
        cmd += text(SANS, 20, 270, 190, "Số:") + text(SANS_B, 30, 330, 192, p["id_number"])
        cmd += text(SANS, 18, 270, 235, "Họ và tên:")
        cmd += text(SANS_B, 26, 270, 270, p["full_name"].upper())
        cmd += text(SANS, 18, 270, 310, "Ngày, tháng, năm sinh: " + p["dob"].strftime("%d/%m/%Y"))
        cmd += text(SANS, 18, 270, 345, "Giới tính: %s      Quốc tịch: Việt Nam" % p["sex"])
        cmd += text(SANS, 18, 270, 380, "Quê quán: " + p["origin"])
        cmd += text(SANS, 18, 270, 415, "Nơi thường trú: " + p["residence"][:40])
    cmd += [out]
    subprocess.run(cmd, check=True)


def truth_front_ocr(p, generation):
    f = {"full_name": p["full_name"].upper(), "date_of_birth": p["dob"].isoformat()}
    if generation == "cmnd_9":
        f["id_number"] = p["cmnd"]
    else:
        f["id_number"] = p["id_number"]
        f["sex"] = "M" if p["sex"] == "Nam" else "F"
    if generation == "can_cuoc_2024":
        f["nationality"] = "VNM"
    return f


def truth_both(p):
    """What one card read from both sides gives: the QR's fields and the MRZ's expiry."""
    f = truth_front(p)
    f["expiry_date"] = p["expiry"].isoformat() if p["expiry"] else None
    f["nationality"] = "VNM"
    return f


def scan(src, dst, rng, base, skew, min_skew=0.0, quality=100):
    """A flatbed scan with the card placed turned by base degrees and skewed."""
    a = rng.uniform(min_skew, skew) * rng.choice((-1, 1))
    cmd = ["convert", src, "-bordercolor", "#f4f4f0", "-border", "40", "-background", "#f4f4f0",
           "-rotate", "%.2f" % (base + a)]
    lo = int(255 * 0.85)
    cmd += ["(", "+clone", "-sparse-color", "Barycentric", "0,0 white %%w,%%h rgb(%d,%d,%d)" % (lo, lo, lo),
            ")", "-compose", "multiply", "-composite", "-blur", "0x0.6",
            "-seed", str(rng.randrange(1 << 30)), "-attenuate", "0.2", "+noise", "Gaussian",
            "-quality", str(min(75, quality)), dst]
    subprocess.run(cmd, check=True)


def background(kind, rng, out, w, h):
    if kind == "dark":
        g = rng.randrange(15, 60)
        cmd = ["convert", "-size", "%dx%d" % (w, h), "xc:rgb(%d,%d,%d)" % (g, g + rng.randrange(10), g),
               "-seed", str(rng.randrange(1 << 30)), "-attenuate", "1.5", "+noise", "Gaussian",
               "-blur", "0x2"]
    else:
        cmd = ["convert", "-size", "%dx%d" % (w, h), "xc:rgb(%d,%d,%d)" % tuple(rng.randrange(60, 200) for _ in range(3))]
        for _ in range(30):
            col = "rgb(%d,%d,%d)" % tuple(rng.randrange(0, 256) for _ in range(3))
            x, y = rng.randrange(w), rng.randrange(h)
            kind2 = rng.randrange(4)
            if kind2 == 0:
                cmd += ["-fill", col, "-draw", "rectangle %d,%d %d,%d" % (x, y, x + rng.randrange(40, 400), y + rng.randrange(40, 300))]
            elif kind2 == 1:
                cmd += ["-fill", col, "-draw", "circle %d,%d %d,%d" % (x, y, x + rng.randrange(20, 150), y)]
            elif kind2 == 2:
                cmd += ["-stroke", col, "-strokewidth", str(rng.randrange(2, 12)), "-draw",
                        "line %d,%d %d,%d" % (x, y, rng.randrange(w), rng.randrange(h)), "-stroke", "none"]
            else:
                cmd += text(rng.choice((SANS, SERIF, SANS_B)), rng.randrange(18, 60), x, y,
                            rng.choice(["HÓA ĐƠN", "Tổng cộng: 125.000đ", "BIÊN NHẬN", "0987 654 321",
                                        "Lịch công tác tuần", "GIẤY HẸN"]), col)
        cmd += ["-blur", "0x1.5"]
    cmd += [out]
    subprocess.run(cmd, check=True)


def photo(src, dst, rng, bg, tmp, quality=100):
    """A phone or kiosk-camera photo: the card turned any way, in perspective, on a
    background, with glare, uneven light, mild motion blur and JPEG quality 50."""
    W, H = 1600, 1200
    bgf = os.path.join(tmp, "bg.png")
    background(bg, rng, bgf, W, H)
    angle = math.radians(rng.choice((0, 90, 180, 270)) + rng.uniform(-12, 12))
    scale = rng.uniform(0.8, 0.98)
    cx, cy = W / 2 + rng.uniform(-60, 60), H / 2 + rng.uniform(-40, 40)
    src_pts = [(0, 0), (1012, 0), (1012, 638), (0, 638)]
    pairs = []
    for sx, sy in src_pts:
        x, y = (sx - 506) * scale, (sy - 319) * scale
        dx = cx + x * math.cos(angle) - y * math.sin(angle) + rng.uniform(-45, 45)
        dy = cy + x * math.sin(angle) + y * math.cos(angle) + rng.uniform(-45, 45)
        pairs.append("%d,%d %.1f,%.1f" % (sx, sy, dx, dy))
    gx, gy = cx + rng.uniform(-300, 300), cy + rng.uniform(-200, 200)
    glare = rng.randrange(110, 180)
    lo = int(255 * rng.uniform(0.55, 0.85))
    corner = rng.randrange(4)
    pts = ["0,0", "%w,0", "%w,%h", "0,%h"]
    cmd = ["convert", bgf, "(", src, "-alpha", "set", "-virtual-pixel", "transparent",
           "-define", "distort:viewport=%dx%d+0+0" % (W, H), "-distort", "Perspective",
           " ".join(pairs), ")", "-compose", "over", "-composite",
           "(", "-size", "%dx%d" % (W // 4, H // 4), "xc:black", "-fill", "rgb(%d,%d,%d)" % (glare, glare, glare),
           "-draw", "ellipse %d,%d %d,%d 0,360" % (gx / 4, gy / 4, rng.randrange(15, 35), rng.randrange(10, 25)),
           "-blur", "0x8", "-resize", "%dx%d!" % (W, H), ")", "-compose", "screen", "-composite",
           "(", "+clone", "-sparse-color", "Barycentric",
           "%s white %s rgb(%d,%d,%d)" % (pts[corner], pts[(corner + 2) % 4], lo, lo, lo),
           ")", "-compose", "multiply", "-composite",
           "-motion-blur", "0x%.1f+%d" % (rng.uniform(0.8, 1.8), rng.randrange(180)),
           "-seed", str(rng.randrange(1 << 30)), "-attenuate", "0.4", "+noise", "Gaussian",
           "-quality", str(min(50, quality)), dst]
    subprocess.run(cmd, check=True)


def duplex(front, back, dst, rng, quality=100):
    """Both sides of a card on one A4 page at 200 dpi (a flatbed scan or a photocopy)."""
    W, H = 1654, 2339
    cw = 675
    cmd = ["convert", "-size", "%dx%d" % (W, H), "xc:#f7f7f4"]
    side_by_side = rng.random() < 0.3
    for i, src in enumerate((front, back)):
        a = rng.uniform(-3, 3)
        if side_by_side:
            x, y = 90 + i * (cw + 100) + rng.randrange(40), 250 + rng.randrange(300)
        else:
            x, y = 250 + rng.randrange(400), 250 + i * 800 + rng.randrange(250)
        cmd += ["(", src, "-resize", "%dx" % cw, "-bordercolor", "#9a9a9a", "-border", "2",
                "-background", "#f7f7f4", "-rotate", "%.2f" % a, ")", "-geometry", "+%d+%d" % (x, y),
                "-compose", "over", "-composite"]
    if rng.random() < 0.5:
        cmd += ["-colorspace", "Gray", "-level", "8%,92%"]
    cmd += ["-blur", "0x0.5", "-seed", str(rng.randrange(1 << 30)), "-attenuate", "0.2", "+noise",
            "Gaussian", "-quality", str(min(75, quality)), dst]
    subprocess.run(cmd, check=True)


def make_condition(level, a, rng, tmp, truth):
    kind, par = CONDITIONS[level]
    for n in range(a.cards):
        p = person(rng)
        lines = mrz_lines(p)
        front, back = os.path.join(tmp, "f.png"), os.path.join(tmp, "b.png")
        gen = "cccd_2021"
        sides = []
        if kind == "gen2024":
            gen = "can_cuoc_2024"
            p["issue"] = rand_date(rng, datetime.date(2024, 7, 1), datetime.date(2026, 6, 30))
            render_front_2024(p, front)
            render_back_2024(p, lines, back, tmp)
            back_fields = truth_front(p)
            back_fields.update({"expiry_date": p["expiry"].isoformat() if p["expiry"] else None,
                                "nationality": "VNM"})
            sides = [("front", front, truth_front_ocr(p, gen), {}),
                     ("back", back, back_fields, {"qr": qr_payload(p), "mrz": lines})]
        elif kind == "old":
            nine = n % 2 == 0
            gen = "cmnd_9" if nine else "cccd_2016"
            p["cmnd"] = "%09d" % rng.randrange(10**8, 10**9)
            render_front_old(p, front, nine)
            sides = [("front", front, truth_front_ocr(p, gen), {})]
        else:
            render_front(p, front, tmp)
            render_back(p, lines, back)
            sides = [("front", front, truth_front(p), {"qr": qr_payload(p)}),
                     ("back", back, truth_back(p, lines), {"mrz": lines})]
        if kind == "duplex":
            name = "%s-%03d-both.jpg" % (level, n)
            duplex(front, back, os.path.join(a.outdir, name), rng, a.quality)
            rec = {"file": name, "level": level, "card": n, "type": "id_card", "generation": gen,
                   "fields": truth_both(p), "qr": qr_payload(p), "mrz": lines}
            truth.write(json.dumps(rec, ensure_ascii=False) + "\n")
            continue
        for side, src, fields, extra in sides:
            name = "%s-%03d-%s.jpg" % (level, n, side)
            dst = os.path.join(a.outdir, name)
            if kind == "scan":
                scan(src, dst, rng, par["base"], par["skew"], par.get("min_skew", 0.0), a.quality)
            elif kind == "photo" or par.get("photo"):
                photo(src, dst, rng, par.get("background", rng.choice(("dark", "clutter"))), tmp, a.quality)
            else:
                degrade(src, dst, "mild", rng, a.quality)
            rec = {"file": name, "level": level, "card": n, "type": "id_card_" + side,
                   "generation": gen, "fields": fields}
            rec.update(extra)
            truth.write(json.dumps(rec, ensure_ascii=False) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--cards", type=int, default=4)
    ap.add_argument("--docs", type=int, default=2)
    ap.add_argument("--levels", default=",".join(LEVELS), help="levels and conditions: " +
                    ",".join(list(LEVELS) + list(CONDITIONS)))
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--quality", type=int, default=100, help="cap on the JPEG quality")
    ap.add_argument("--append", action="store_true", help="append to truth.jsonl")
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    truth = open(os.path.join(a.outdir, "truth.jsonl"), "a" if a.append else "w", encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        for level in a.levels.split(","):
            rng = random.Random("%d-%s" % (a.seed, level))
            if level in CONDITIONS:
                make_condition(level, a, rng, tmp, truth)
                continue
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
                    rec = {"file": name, "level": level, "card": n, "type": "id_card_" + side,
                           "generation": "cccd_2021", "fields": fields}
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
