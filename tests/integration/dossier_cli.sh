#!/bin/bash
# Dossiers through motcuactl and the real daemon: a broken catalogue stops motcuad naming the
# procedure and field; a dossier opened for a typed applicant lists what is missing; scans
# attach to items; acceptance gives an <agency>-YYMMDD-XXXX code, a due day and one queued
# "dossiers" outbox item; a restart continues the sequence; the city's status is recorded.
set -eu
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "jq is not installed"
top=$(cd "$(dirname "$0")/../.." && pwd)

dossier_conf() {
	cat >>"$CONF" <<EOF2
[gateway]
agency_code = 000.00.18.H26
[dossier]
catalogue = $1
calendar = $top/data/calendar.json
[usb]
usb_hotplug = no
[recognize]
workers = 0
EOF2
}

step "a catalogue with a bad field stops motcuad with the field named"
jq '.procedures[2].days = "soon"' "$top/data/procedures.json" >"$T/bad.json"
write_config
dossier_conf "$T/bad.json"
run_daemon_once
[ "$RC" -ne 0 ] || fail "motcuad started with a broken catalogue"
grep -q 'procedure 3 (HT-KH): "days" must be' "$T/last.log" || fail "no clear message: $(cat "$T/last.log")"
ok "refused: $(grep -o 'procedure 3 (HT-KH)[^;]*' "$T/last.log" | head -1)"

write_config
dossier_conf "$top/data/procedures.json"
daemon_start

step "open, see what is missing, attach, accept"
id=$(ctl --json dossier open HT-KS --name "Nguyễn Văn A" --id 001099012345 --source counter | jq -r .id)
[ "$(ctl --json dossier show "$id" | jq -r '[.missing[].item] | join(",")')" = "to_khai,giay_chung_sinh,giay_to_tuy_than" ] ||
	fail "missing items wrong: $(ctl --json dossier show "$id")"
if ctl dossier accept "$id" 2>"$T/err"; then fail "an incomplete dossier was accepted without a note"; fi
grep -q "missing: to_khai giay_chung_sinh giay_to_tuy_than" "$T/err" || fail "refusal unclear: $(cat "$T/err")"
mkdoc "$T/a.pdf" 2000
doc=$(put_ok "$T/a.pdf")
for item in to_khai giay_chung_sinh giay_to_tuy_than; do ctl dossier attach "$id" "$item" "$doc" >/dev/null; done
[ "$(ctl --json dossier show "$id" | jq -r .complete)" = true ] || fail "not complete after attaching"
ctl --json dossier accept "$id" >"$T/acc.json"
code=$(jq -r .code "$T/acc.json")
today=$(TZ=Asia/Ho_Chi_Minh date +%y%m%d)
[ "$code" = "000.00.18.H26-$today-0001" ] || fail "code $code"
[ -n "$(jq -r .due_day "$T/acc.json")" ] || fail "no due day"
[ "$(sql "SELECT COUNT(*) FROM outbox WHERE stream='dossiers' AND kind='dossier' AND ref='$code' AND priority=1")" = 1 ] ||
	fail "no queued dossier item"
ok "accepted as $code, due $(jq -r .due_day "$T/acc.json")"

step "a restart continues the day's sequence; incomplete with a note"
daemon_stop
daemon_start
id2=$(ctl --json dossier open CT-BS --name "Trần Thị B" --id 001199054321 | jq -r .id)
code2=$(ctl --json dossier accept "$id2" --note "original shown at the counter" | jq -r .code)
[ "$code2" = "000.00.18.H26-$today-0002" ] || fail "second code $code2"
ok "$code2"

step "the city's status is recorded and listed"
ctl dossier status "$code" processing "Đang xử lý" >/dev/null
[ "$(ctl --json dossier show "$code" | jq -r .city_status)" = processing ] || fail "status not recorded"
[ "$(ctl --json dossier list --state accepted | jq '.dossiers | length')" = 2 ] || fail "list"
ctl dossier list | grep -q "$code" || fail "text list lacks $code"
ctl audit verify >/dev/null || fail "audit chain broken"
ok "status and list"

step "the assistant answers through the daemon, and says when it does not know"
[ "$(ctl --json ask "lam giay khai sinh can gi" | jq -r .procedure.code)" = HT-KS ] || fail "ask khai sinh"
[ "$(ctl --json ask "chứng thực bản sao mất bao lâu" | jq -r .procedure.service)" = B ] || fail "ask chung thuc"
[ "$(ctl --json ask "giá vàng hôm nay bao nhiêu" | jq -r .known)" = false ] || fail "ask unknown"
ctl ask "dang ky tam tru" | grep -q "15.000" || fail "text answer lacks the fee"
ok "ask"

step "feedback: ratings per service and counter, complaints grouped, statistics queued"
ctl feedback add dossier "$code" 2 --comment "Chờ quá lâu, nhân viên chậm" >/dev/null
ctl feedback add ticket "2026-03-12/B007" 1 --counter 3 --comment "cho qua lau" >/dev/null
ctl feedback add ticket "2026-03-12/B008" 5 --counter 3 --comment "nhanh, nhiệt tình" >/dev/null
if ctl feedback add dossier "$code" 5 2>/dev/null; then fail "rated twice"; fi
ctl --json feedback summary >"$T/fb.json"
[ "$(jq -r '.keywords[0].word' "$T/fb.json")" = lau ] || [ "$(jq -r '.keywords[0].word' "$T/fb.json")" = cho ] ||
	fail "keywords: $(jq -c .keywords "$T/fb.json")"
[ "$(jq -r '.counters[] | select(.key == "3") | .count' "$T/fb.json")" = 2 ] || fail "per counter: $(jq -c .counters "$T/fb.json")"
[ "$(jq -r '.services[] | select(.key == "A") | .count' "$T/fb.json")" = 1 ] || fail "per service"
day=$(TZ=Asia/Ho_Chi_Minh date +%F)
ctl feedback report "$day" >/dev/null
[ "$(sql "SELECT COUNT(*) FROM outbox WHERE stream='statistics' AND kind='feedback-stats'")" = 1 ] || fail "no statistics item"
ok "feedback"
daemon_stop
