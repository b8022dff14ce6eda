#!/bin/bash
# A dossier's processing at the commune with the LGSP link down, then up (issue 21): accepted
# dossiers go to an official of the procedure's role at once, the one-stop officer hands one to
# another official; the steps (processing, needs more papers, waiting for signature, result
# ready, returned; refused; withdrawn) are refused out of order, each audited with who and when;
# a request for more papers stops the due date's clock by working days (calendar.json); a late
# dossier gets an apology with a new appointment; the work list comes due soonest first with
# the late one marked; once the simulator is reachable every step reaches it as a
# "dossier-steps" submission with the city's status code, and a status the city sets comes
# back into the timeline without replacing the commune's own step.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink_lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)

step "the simulator's port is taken, then the simulator stops: the link is down"
sim_start
sim_stop
uplink_config "$SIM_BASE" status_pull_s=1
cat >>"$CONF" <<EOF2
[gateway]
agency_code = 000.00.18.H26
[dossier]
catalogue = $top/data/procedures.json
calendar = $top/data/calendar.json
near_due_days = 2
[usb]
usb_hotplug = no
[recognize]
workers = 0
EOF2
daemon_start
for u in lan minh hoa; do echo "staff-password-1" | ctl users add $u --role staff >/dev/null; done
ctl dossier official add lan tuphap >/dev/null
ctl dossier official add minh tuphap >/dev/null
ctl dossier role CT-BS vanphong >/dev/null
ctl --json dossier officials >"$T/off.json"
jq -e '[.procedures[] | select(.procedure == "HT-XNHN")][0].role == "tuphap" and
	[.procedures[] | select(.procedure == "CT-BS")][0].role == "vanphong" and (.officials | length) == 2' "$T/off.json" >/dev/null ||
	fail "roles: $(jq -c . "$T/off.json")"
ok "Hộ tịch -> tuphap (lan, minh); CT-BS set to vanphong"

mkdoc "$T/a.pdf" 2000
doc=$(put_ok "$T/a.pdf")
# new_dossier PROCEDURE NAME AT: accepted at local time AT (written down afterwards), its id
new_dossier() {
	local id
	id=$(ctl --json dossier open "$1" --name "$2" --id 001099012345 --source counter | jq -r .id)
	for item in $(ctl --json dossier show "$id" | jq -r '.missing[].item'); do
		ctl dossier attach "$id" "$item" "$doc" >/dev/null
	done
	ctl --json dossier accept "$id" --at "$3" >"$T/acc-$id.json" || fail "accept $1"
	echo "$id"
}

step "accepted dossiers are assigned by role, the least busy official first; reassigned by hand"
id1=$(new_dossier HT-XNHN "Nguyễn Văn An" "2026-03-09 09:00")
id2=$(new_dossier HT-XNHN "Trần Thị Bình" "2026-03-09 09:30")
id3=$(new_dossier CT-BS "Lê Văn Cường" "2026-03-09 10:00")
a1=$(jq -r .assignee "$T/acc-$id1.json")
a2=$(jq -r .assignee "$T/acc-$id2.json")
[ "$a1" = lan ] && [ "$a2" = minh ] || fail "assigned to '$a1' and '$a2', not lan then minh"
[ "$(jq -r .assignee "$T/acc-$id3.json")" = "" ] || fail "CT-BS assigned though nobody is vanphong"
[ "$(jq -r .step "$T/acc-$id1.json")" = received ] || fail "step after acceptance: $(jq -r .step "$T/acc-$id1.json")"
ctl --json dossier work --unassigned | jq -e --argjson i "$id3" '[.dossiers[].id] == [$i]' >/dev/null ||
	fail "unassigned list: $(ctl --json dossier work --unassigned | jq -c '[.dossiers[].id]')"
ctl --json dossier assign "$id3" hoa | jq -e '.assignee == "hoa"' >/dev/null || fail "reassign to hoa"
if ctl dossier assign "$id3" nobody 2>"$T/err"; then fail "assigned to an account that does not exist"; fi
grep -q "no account 'nobody'" "$T/err" || fail "unclear: $(cat "$T/err")"
code1=$(jq -r .code "$T/acc-$id1.json")
code2=$(jq -r .code "$T/acc-$id2.json")
due1=$(jq -r .due_day "$T/acc-$id1.json")
ok "$code1 -> lan, $code2 -> minh, CT-BS unassigned then handed to hoa"

step "steps out of order and steps without their note are refused"
if ctl dossier step "$id1" ready 2>"$T/err"; then fail "received -> ready was allowed"; fi
grep -q "at step 'received'; it cannot go to 'ready'" "$T/err" || fail "unclear: $(cat "$T/err")"
if ctl dossier step "$id1" supplement 2>"$T/err"; then fail "a request for papers without saying which"; fi
grep -q "which papers" "$T/err" || fail "unclear: $(cat "$T/err")"
if ctl dossier step "$id1" processing --at "2026-03-08 09:00" 2>"$T/err"; then fail "a step before acceptance"; fi
ok "refused: $(head -n 1 "$T/err")"

step "more papers stop the clock: asked Tuesday 10/3, brought Friday 13/3, due moves 3 working days"
ctl dossier step "$id1" processing --at "2026-03-09 14:00" >/dev/null
ctl dossier step "$id1" supplement --note "Bổ sung bản chính giấy xác nhận cư trú" --at "2026-03-10 10:00" >/dev/null
[ "$(ctl --json dossier show "$id1" | jq -r .pause_day)" = 2026-03-10 ] || fail "no pause recorded"
ctl dossier step "$id1" processing --at "2026-03-13 10:00" >/dev/null
ctl --json dossier show "$id1" >"$T/s1.json"
want=$due1 # 3 working days on (no holiday in March 2026)
for _ in 1 2 3; do
	want=$(date -d "$want + 1 day" +%F)
	while [ "$(date -d "$want" +%u)" -gt 5 ]; do want=$(date -d "$want + 1 day" +%F); done
done
jq -e --arg w "$want" --arg f "$due1" '.paused_days == 3 and .due_day == $w and .first_due_day == $f and .pause_day == ""' "$T/s1.json" >/dev/null ||
	fail "pause: $(jq -c '{first_due_day, due_day, paused_days, pause_day}' "$T/s1.json")"
ok "due $due1 -> $(jq -r .due_day "$T/s1.json") (3 working days paused)"

step "a late dossier: marked on the work list, apology with a new appointment"
jq -e '.flag == "overdue" and .late == true' "$T/s1.json" >/dev/null || fail "not overdue: $(jq -c '{flag, late}' "$T/s1.json")"
newd=$(date -d "+8 days" +%F)
while [ "$(date -d "$newd" +%u)" -gt 5 ] || [ "$(date -d "$newd" +%m-%d)" = 01-01 ]; do newd=$(date -d "$newd + 1 day" +%F); done
if ctl dossier apologize "$id1" "$newd" 2>"$T/err"; then fail "an apology without a reason"; fi
ctl --json dossier apologize "$id1" "$newd" --reason "Chờ xác minh thông tin tại nơi cư trú trước đây" >"$T/ap.json"
jq -e --arg d "$newd" '.new_due_day == $d and ([.steps[] | select(.step == "apology")] | length) == 1' "$T/ap.json" >/dev/null ||
	fail "apology: $(jq -c '{new_due_day}' "$T/ap.json")"
ctl --json dossier work lan >"$T/work.json"
jq -e --argjson i "$id1" '.dossiers[0].id == $i and .dossiers[0].flag == "overdue"' "$T/work.json" >/dev/null ||
	fail "lan's work list: $(jq -c '[.dossiers[] | {id, flag, due_day}]' "$T/work.json")"
ok "overdue, apology until $newd, first on lan's list"

step "through signature to the result, returned at the counter by the QR's text"
ctl dossier step "$id1" signing >/dev/null
ctl dossier step "$id1" ready >/dev/null
if ctl dossier return "nope-000" 2>"$T/err"; then fail "returned an unknown code"; fi
ctl --json dossier return "https://motcua.example.gov.vn/track?code=$(echo "$code1" | tr 'A-Z' 'a-z')" >"$T/ret.json"
jq -e '.step == "returned" and .returned_s > 0 and .flag == ""' "$T/ret.json" >/dev/null || fail "return: $(jq -c '{step, returned_s, flag}' "$T/ret.json")"
if ctl dossier step "$id1" processing 2>/dev/null; then fail "a returned dossier went back to processing"; fi
ctl dossier step "$id2" refused --note "Không thuộc thẩm quyền của xã" >/dev/null
ctl dossier step "$id3" withdrawn --note "Người nộp rút hồ sơ" >/dev/null
steps1=$(ctl --json dossier show "$id1" | jq -r '[.steps[] | select(.origin == "local") | .step] | join(",")')
[ "$steps1" = "received,assigned,processing,supplement,processing,apology,signing,ready,returned" ] || fail "timeline: $steps1"
n=$(sql "SELECT COUNT(*) FROM audit WHERE action = 'dossier.step' AND subject = 'dossier:$id1'")
[ "$n" = 8 ] || fail "$n audited steps for dossier $id1, not 8"
[ "$(sql "SELECT COUNT(*) FROM audit WHERE action = 'dossier.step' AND subject = 'dossier:$id1' AND actor = ''")" = 0 ] ||
	fail "steps audited without who"
ok "timeline $steps1; 8 steps audited"

step "the link comes up: every step reaches the simulator with the city's status code"
sim_start
total=$(sql "SELECT COUNT(*) FROM outbox")
wait_delivered "$total" 60
[ "$(count_state rejected)" = 0 ] || fail "rejected: $(ctl outbox list --state rejected)"
receipts_match
simq() { sqlite3 -batch -noheader "$SIMDIR/sim.db" "$@"; }
got=$(simq "SELECT json_extract(body, '\$.seq') || ':' || json_extract(body, '\$.step') || ':' || json_extract(body, '\$.status')
	FROM submissions WHERE kind = 'dossier-steps' AND json_extract(body, '\$.dossier_code') = '$code1' ORDER BY json_extract(body, '\$.seq')" | paste -sd' ')
[ "$got" = "2:assigned:received 3:processing:processing 4:supplement:supplement_requested 5:processing:processing 6:apology:processing 7:signing:processing 8:ready:approved 9:returned:returned" ] ||
	fail "the simulator holds: $got"
[ "$(simq "SELECT json_extract(body, '\$.due_day') FROM submissions WHERE kind = 'dossier-steps' AND json_extract(body, '\$.dossier_code') = '$code1' AND json_extract(body, '\$.seq') = 5")" = "$want" ] ||
	fail "the new due day did not travel"
[ "$(simq "SELECT COUNT(*) FROM submissions WHERE kind = 'dossier-steps' AND json_extract(body, '\$.status') IN ('refused', 'withdrawn')")" = 2 ] ||
	fail "refused/withdrawn not at the simulator"
[ "$(sim_stat .submissions_rejected)" = 0 ] || fail "the simulator rejected a submission"
ok "$total items delivered; $code1: $got"

step "the city's status comes back into the timeline; the commune's steps stay"
curl -s -o /dev/null -H 'Content-Type: application/json' -d '{"status":"approved","status_text":"Thành phố đã ghi nhận"}' \
	"$SIM_BASE/_sim/dossiers/$code2/status"
for i in $(seq 300); do
	[ "$(ctl --json dossier show "$id2" | jq -r .city_status)" = approved ] && break
	[ "$i" = 300 ] && fail "the city's status did not come back"
	sleep 0.1
done
ctl --json dossier show "$id2" >"$T/s2.json"
jq -e '.step == "refused" and ([.steps[] | select(.origin == "city" and .step == "approved")] | length) == 1 and
	([.steps[] | select(.origin == "local")] | length) == 3' "$T/s2.json" >/dev/null ||
	fail "merge: $(jq -c '{step, steps: [.steps[] | [.origin, .step]]}' "$T/s2.json")"
ok "city 'approved' in the timeline, local step still 'refused'"
daemon_stop
