#!/bin/bash
# Damaged documents never stop the office: four stored blobs damaged (two of them already
# delivered to the city), one manifest removed; motcuad starts (the key is checked against the
# key-check file beside the store, not against document files), serves every other document,
# and `motcuactl store check` names exactly the four damaged ones and the missing manifest,
# says the city holds a copy of the delivered two, and deletes nothing.  The background run
# saves the same report, which the dashboard shows.  A wrong key is still refused at once.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink_lib.sh"
command -v curl >/dev/null || skip "curl is not installed"

sim_start
uplink_config "$SIM_BASE"
daemon_start
step "eight documents: four delivered to the city, four not"
: >"$T/ids"
put_docs 4 30000 50000
wait_delivered 4 60
sim_stop
mkdoc "$T/doc5.pdf" 20000; put_ok "$T/doc5.pdf" >>"$T/ids"
mkdoc "$T/doc6.pdf" 40000; put_ok "$T/doc6.pdf" >>"$T/ids"
mkdoc "$T/doc7.pdf" 60000; put_ok "$T/doc7.pdf" >>"$T/ids"
mkdoc "$T/doc8.pdf" 80000; put_ok "$T/doc8.pdf" >>"$T/ids"
[ "$(count_state delivered)" -eq 4 ] || fail "expected 4 delivered before the damage"
id() { sed -n "${1}p" "$T/ids"; }
blob_of() { local s; s=$(sql "SELECT sha256 FROM documents WHERE id = '$(id "$1")'"); echo "$STATE/blobs/${s:0:2}/$s"; }
daemon_stop

step "damage four blobs (documents 1, 2 delivered; 5, 6 not) and remove document 7's manifest"
flip() { # FILE OFFSET: xor one byte with 0x01
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "\\$(printf %03o $((b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
for n in 1 2 5 6; do flip "$(blob_of $n)" 10; done
i7=$(id 7)
rm "$STATE/manifests/${i7:0:2}/$i7.json"
before=$(find "$STATE/blobs" "$STATE/manifests" -type f | sort | md5sum)
# Whatever order the directory lists them in, these four come first for a key check that
# sampled blobs: the start below must not read documents at all.
[ -s "$STATE/keycheck" ] || fail "no key-check file beside the store"

step "motcuad starts and serves the rest"
write_config "store.check_delay_s = 0"
daemon_start
for n in 3 4 7 8; do get_same "$(id $n)" "$T/doc$n.pdf"; done
ok "documents 3, 4, 7 and 8 are served byte-identical"
ctl doc get "$(id 1)" -o "$T/out" 2>"$T/err" && fail "damaged document 1 was served"
grep -qi corrupt "$T/err" || fail "damaged document 1: $(cat "$T/err")"

step "store check names the four and the missing manifest"
rc=0
ctl store check >"$T/check" || rc=$?
cat "$T/check"
[ $rc -eq 1 ] || fail "store check exited $rc with damage found (expected 1)"
[ "$(grep -c '^damaged ' "$T/check")" -eq 4 ] || fail "store check does not list exactly four damaged"
for n in 1 2; do
	grep "^damaged .* $(id $n) " "$T/check" | grep -q "the city holds a copy" ||
		fail "delivered document $n is not listed as damaged with the city's copy"
done
for n in 5 6; do
	grep "^damaged .* $(id $n) " "$T/check" | grep -q "not delivered yet" ||
		fail "undelivered document $n is not listed as damaged and not delivered"
done
grep -q "^manifest-missing .* $(id 7) " "$T/check" || fail "document 7's missing manifest is not named"
[ "$(grep -c "^manifest-\|^damaged \|^missing " "$T/check")" -eq 5 ] || fail "store check lists more than the five problems"
grep -q "nothing was deleted" "$T/check" || fail "store check does not say nothing was deleted"
after=$(find "$STATE/blobs" "$STATE/manifests" -type f | sort | md5sum)
[ "$before" = "$after" ] || fail "store check changed the files of the store"
ok "four damaged named, the delivered two with the city's copy; no file touched"
ctl --json store check >"$T/check.json" || true
[ "$(jq .damaged "$T/check.json")" -eq 4 ] && [ "$(jq .delivered_damaged "$T/check.json")" -eq 2 ] ||
	fail "store check --json: $(cat "$T/check.json")"

step "the dashboard shows the check"
U=$(web_url)
J=$T/jar
echo "staff-password-1" | ctl users add an --role staff >/dev/null
csrf_of() { grep -o 'name="csrf" value="[0-9a-f]*"' | head -n 1 | sed 's/.*value="//; s/"$//'; }
t=$(curl -s -c "$J" -b "$J" "$U/login" | csrf_of)
curl -s -o /dev/null -c "$J" -b "$J" --data-urlencode "csrf=$t" -d "name=an&password=staff-password-1&next=/" "$U/login"
curl -s -b "$J" "$U/" >"$T/dash"
grep -o '<p id="store-check" class="err">[^<]*' "$T/dash" | grep -q "4 tài liệu bị hỏng hoặc bị mất" ||
	{ grep -o '<div class="tile" id="storage">.*' "$T/dash" | head -c 2000; fail "the dashboard does not show the 4 damaged documents"; }
grep -o '<p id="store-city-copy">[^<]*' "$T/dash" | grep -q "2 tài liệu .* thành phố giữ một bản" ||
	fail "the dashboard does not say the city holds a copy of 2"
ok "dashboard: $(grep -o '<p id="store-check" class="err">[^<]*' "$T/dash" | sed 's/<[^>]*>//')"

step "the background run (store.check_delay_s = 0) saved its report too"
daemon_stop
write_config "store.check_delay_s = 0"
sql "DELETE FROM meta WHERE key = 'store_check'"
daemon_start
i=0
until [ -n "$(sql "SELECT value FROM meta WHERE key = 'store_check'")" ]; do
	i=$((i + 1)); [ $i -lt 600 ] || fail "the background store check saved no report within 60 s"
	sleep 0.1
done
[ "$(sql "SELECT json_extract(value, '\$.damaged') FROM meta WHERE key = 'store_check'")" -eq 4 ] ||
	fail "the background report does not count the four"
ok "background report: 4 damaged"
daemon_stop

step "a wrong key is refused at once"
cp "$KEY" "$T/right.key"
head -c 32 /dev/urandom >"$KEY"
run_daemon_once
[ "$RC" -ne 0 ] || fail "motcuad started with a wrong key"
grep -q "not the key of this store" "$T/last.log" || { cat "$T/last.log"; fail "the refusal does not say why"; }
ok "refused: $(grep -o 'storage key.*' "$T/last.log" | head -n 1)"
cp "$T/right.key" "$KEY"
daemon_start
get_same "$(id 8)" "$T/doc8.pdf"
daemon_stop
echo "PASS"
