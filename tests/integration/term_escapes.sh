#!/bin/bash
# Text typed by a kiosk or another client never reaches a terminal raw: an applicant name and
# a city status text holding ESC/CSI/OSC sequences, BEL, CR and a C1 CSI are shown by
# motcuactl's human output as \xHH (dossier show, dossier list, audit tail), while --json
# keeps the exact text for scripts.
set -eu
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "jq is not installed"
top=$MOTCUA_TOP
write_config
cat >>"$CONF" <<EOF2
[gateway]
agency_code = 000.00.18.H26
[dossier]
catalogue = $top/data/procedures.json
calendar = $top/data/calendar.json
[usb]
usb_hotplug = no
[recognize]
workers = 0
EOF2
daemon_start

# Clears the screen, sets the window title, rings, moves the cursor home, C1 CSI (U+009B).
name=$'Nguy\e[2J\e]0;pwned\a\xe1\xbb\x85n\rV\xc2\x9b31mAn'
text=$'\e[31m\xc4\x90ang x\xe1\xbb\xad l\xc3\xbd\e[0m\a'
# Nothing a terminal acts on: no C0 byte but newline and tab, no DEL, no C1 (UTF-8 c2 80-9f).
raw_controls() { LC_ALL=C grep -c $'[\x01-\x08\x0b-\x1f\x7f]\|\xc2[\x80-\x9f]' "$1" || true; }

step "an applicant name with escape sequences"
id=$(ctl --json dossier open HT-KS --name "$name" --id 001099012345 --source kiosk | jq -r .id)
[ "$(ctl --json dossier show "$id" | jq -r .applicant_name)" = "$name" ] || fail "--json does not keep the exact name"
ctl dossier show "$id" >"$T/show.txt" 2>&1 || fail "dossier show failed: $(cat "$T/show.txt")"
[ "$(raw_controls "$T/show.txt")" = 0 ] || fail "raw control bytes reached the terminal: $(od -c "$T/show.txt" | head)"
grep -qF 'Nguy\x1b[2J\x1b]0;pwned\x07ễn\x0dV\xc2\x9b31mAn' "$T/show.txt" ||
	fail "the name is not shown escaped: $(cat "$T/show.txt")"
ok "shown as $(grep -o 'Nguy[^ ]*' "$T/show.txt" | head -1)"

step "a city status text with escape sequences, in show, list and the audit"
mkdoc "$T/a.pdf" 2000
doc=$(put_ok "$T/a.pdf")
for item in to_khai giay_chung_sinh giay_to_tuy_than; do ctl dossier attach "$id" "$item" "$doc" >/dev/null; done
code=$(ctl --json dossier accept "$id" | jq -r .code)
ctl dossier status "$code" processing "$text" >/dev/null
[ "$(ctl --json dossier show "$code" | jq -r .city_status_text)" = "$text" ] || fail "--json does not keep the exact text"
ctl dossier show "$code" >"$T/show2.txt" 2>&1
ctl dossier list >"$T/list.txt" 2>&1
ctl audit tail -n 50 >"$T/audit.txt" 2>&1
for f in show2 list audit; do
	[ "$(raw_controls "$T/$f.txt")" = 0 ] || fail "raw control bytes in $f: $(od -c "$T/$f.txt" | grep -m3 '033\|007')"
done
grep -qF '\x1b[31mĐang xử lý\x1b[0m\x07' "$T/show2.txt" || fail "status text not escaped: $(cat "$T/show2.txt")"
ok "show, list and audit tail carry no raw control byte"

step "--json output stays machine-exact"
ctl --json dossier show "$code" | jq -e . >/dev/null || fail "--json output is not JSON"
daemon_stop
echo PASS
