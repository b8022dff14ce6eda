#!/bin/bash
# Applicants' personal data at rest and upstream, with the real daemon and motcuactl: the
# database and its -wal/-shm files are 0600 under a loose umask (and an older 0644 database
# is tightened at start); a dossier stores the applicant's 12-digit number only as a keyed
# hash (HMAC under a key derived from the storage key file) and its last 4 digits, never the
# plain SHA-256 that trying every number turns back in seconds; the submission body for the
# city carries the last 4 digits and no hash; rows and bodies written by an older motcua
# (plain SHA-256) are converted at start to exactly the keyed value.
set -eu
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "jq is not installed"
command -v openssl >/dev/null || skip "openssl is not installed"
top=$(cd "$(dirname "$0")/../.." && pwd)

umask 022
write_config
cat >>"$CONF" <<EOF
[gateway]
agency_code = 000.00.18.H26
[dossier]
catalogue = $top/data/procedures.json
calendar = $top/data/calendar.json
[usb]
usb_hotplug = no
[recognize]
workers = 0
EOF
daemon_start

num=001099012345
plain=$(printf '%s' "$num" | sha256sum | cut -d' ' -f1)
# keyed VALUE: what motcuad must store for the hex SHA-256 VALUE (store/blob.h blob_keyed_hash)
keyed() {
	local k sub
	k=$(od -An -v -tx1 "$KEY" | tr -d ' \n')
	sub=$(printf 'motcua keyed-hash v1 dossier-applicant-id' |
		openssl dgst -sha256 -mac HMAC -macopt "hexkey:$k" | sed 's/.*= //')
	printf '%s' "$1" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$sub" | sed 's/.*= //'
}

step "a dossier for a typed applicant: a keyed hash and the last 4 digits, nothing else"
id=$(ctl --json dossier open HT-KS --name "Nguyễn Văn A" --id "$num" --source counter | jq -r .id)
mkdoc "$T/a.pdf" 2000
doc=$(put_ok "$T/a.pdf")
for item in to_khai giay_chung_sinh giay_to_tuy_than; do ctl dossier attach "$id" "$item" "$doc" >/dev/null; done
code=$(ctl --json dossier accept "$id" | jq -r .code)
h=$(sql "SELECT applicant_id_hash FROM dossiers WHERE id = $id")
[ "$h" != "$plain" ] || fail "the applicant's number is stored as its plain SHA-256"
[ "$h" = "$(keyed "$plain")" ] || fail "the stored hash is not the keyed hash: $h"
[ "$(sql "SELECT applicant_id_tail FROM dossiers WHERE id = $id")" = 2345 ] || fail "last 4 digits not kept"
body=$(sql "SELECT body FROM outbox_bodies b JOIN outbox o ON o.id = b.outbox_id WHERE o.ref = '$code'")
[ "$(echo "$body" | jq -r .applicant.id_last4)" = 2345 ] || fail "the body for the city lacks id_last4: $body"
echo "$body" | jq -e '.applicant | has("id_sha256")' >/dev/null && fail "the body for the city carries a hash: $body"
sql .dump | grep -q "$plain\|$num" && fail "the plain hash or the number is somewhere in the database"
ok "stored $(echo "$h" | cut -c1-12)… (keyed), body applicant $(echo "$body" | jq -c .applicant)"

step "database, -wal and -shm are 0600 under umask 022"
# A reader holding the database open keeps -wal and -shm in place while motcuad writes.
mkfifo "$T/hold"
python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.execute("SELECT COUNT(*) FROM documents").fetchall()
print("open", flush=True); sys.stdin.read()' "$STATE/motcua.db" <"$T/hold" >"$T/hold.out" &
track_pid $!
exec {hfd}>"$T/hold"
i=0
until grep -q open "$T/hold.out"; do [ $i -lt 600 ] || fail "the reader did not open the database"; sleep 0.1; i=$((i + 1)); done
mkdoc "$T/b.pdf" 3000
put_ok "$T/b.pdf" >/dev/null
for f in motcua.db motcua.db-wal motcua.db-shm; do
	[ -e "$STATE/$f" ] || fail "$f does not exist while motcuad runs"
	m=$(stat -c %a "$STATE/$f")
	[ "$m" = 600 ] || fail "$f has mode $m under umask 022"
done
bad=$(find "$STATE" -type f \( -perm -004 -o -perm -040 \) | grep -v '/web.port$' || true)
[ -z "$bad" ] || fail "files others or the group can read: $bad"
ok "motcua.db, -wal, -shm 0600; no state file readable by others"
exec {hfd}>&-

step "an older motcua's rows (plain SHA-256) and 0644 files are converted at start"
daemon_stop
sql "UPDATE dossiers SET applicant_id_hash = '$plain', applicant_id_keyed = 0 WHERE id = $id;
     UPDATE outbox_bodies SET body = json_set(json_remove(body, '$.applicant.id_last4'), '$.applicant.id_sha256', '$plain');"
chmod 0644 "$STATE/motcua.db"
[ "$(sql "SELECT COUNT(*) FROM outbox_bodies WHERE body LIKE '%$plain%'")" = 1 ] || fail "could not make the old body"
daemon_start
[ "$(stat -c %a "$STATE/motcua.db")" = 600 ] || fail "a 0644 database was not tightened at start"
h2=$(sql "SELECT applicant_id_hash FROM dossiers WHERE id = $id")
[ "$h2" = "$h" ] || fail "the old plain hash became $h2, not the keyed $h"
sql .dump | grep -q "$plain" && fail "the plain hash is still in the database after the upgrade"
body=$(sql "SELECT body FROM outbox_bodies b JOIN outbox o ON o.id = b.outbox_id WHERE o.ref = '$code'")
[ "$(echo "$body" | jq -r .applicant.id_last4)" = 2345 ] || fail "the queued body was not rewritten: $body"
[ "$(sql "SELECT COUNT(*) FROM audit WHERE action = 'dossier.ids_keyed'")" = 1 ] || fail "the conversion is not audited"
ctl audit verify >/dev/null || fail "audit chain does not verify"
ok "old row keyed to the same value as a new one; queued body rewritten; 0644 -> 0600"
daemon_stop
