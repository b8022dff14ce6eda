#!/bin/bash
# Nothing acknowledged is lost when motcuad is killed: while clients stream `doc put` intakes
# (unique content, 16 B to 1 MB), motcuad is killed with SIGKILL at random moments, including
# during start-up, $KILLS times (or as many as $MAX_SECONDS allow on a loaded machine, at least
# $MIN_KILLS) and restarted.  Afterwards every intake that returned
# success is present once, byte-identical through `doc get` (decrypted and authenticated), with
# one outbox item; the database passes integrity_check; the audit chain verifies; no temp file
# is left; and a rebuild from the manifests alone still brings back every acknowledged document.
# Half the clients' documents carry an intake key and are retried after a cut connection, as a
# real device would: a retry must answer with the first id, never store a second copy.
set -eu
. "$(dirname "$0")/lib.sh"

KILLS=${KILLS:-200}
CLIENTS=${CLIENTS:-2}
MAX_SECONDS=${MAX_SECONDS:-150}   # the kill loop stops early past this (a loaded machine is slow)
MIN_KILLS=${MIN_KILLS:-30}        # ... but fails if it got fewer kills than this in that time

write_config "store.low_water_mb = 0" "daemon.control_workers = 4"

# A client: puts documents until $T/stop exists.  Records "id sha256 key" per success in
# $T/ok.C, and one word per failed attempt in $T/fail.C (down: could not connect, nothing sent;
# cut: connection lost mid-request; refused: motcuad answered with an error).
client() {
	local c=$1 n=0 f=$T/doc.$1 err=$T/err.$1 size r s key tries id rc
	: >"$T/ok.$c"
	: >"$T/fail.$c"
	while [ ! -e "$T/stop" ]; do
		n=$((n + 1))
		r=$((RANDOM % 100))
		if [ $r -lt 30 ]; then size=$((16 + RANDOM % 200))
		elif [ $r -lt 60 ]; then size=$((200 + RANDOM % 16000))
		elif [ $r -lt 85 ]; then size=$((16384 + RANDOM * 7))
		else size=$((262144 + RANDOM * 24))
		fi
		mkdoc "$f" $size
		s=$(sha "$f")
		key=
		[ $((n % 2)) -eq 0 ] && key=crash-$c-$n-$RANDOM
		tries=0
		while [ ! -e "$T/stop" ]; do
			rc=0
			id=$("$MOTCUACTL" -s "$SOCK" doc put "$f" ${key:+--key "$key"} 2>"$err") || rc=$?
			if [ $rc -eq 0 ]; then
				echo "$id $s ${key:--}" >>"$T/ok.$c"
				break
			fi
			if grep -q 'cannot reach motcuad' "$err"; then
				echo down >>"$T/fail.$c"
				sleep 0.01
				continue        # nothing was sent: the same document again
			fi
			if grep -q 'no answer from motcuad' "$err"; then
				echo cut >>"$T/fail.$c"
			else
				echo refused >>"$T/fail.$c"
				sed "s/^/client $c: /" "$err" >>"$T/refusals"
			fi
			# A keyed document is retried with its key (at most 20 times); an unkeyed one is
			# dropped: it may or may not be stored, and nobody was told it was.
			[ -n "$key" ] && [ $tries -lt 20 ] || break
			tries=$((tries + 1))
		done
	done
}

step "first start"
daemon_start
for c in $(seq 1 "$CLIENTS"); do
	client "$c" &
	track_pid $!
	eval "client_pid_$c=$!"
done

step "killing motcuad $KILLS times while $CLIENTS clients put documents"
start=$SECONDS
kills=0 early=0
while [ $kills -lt "$KILLS" ]; do
	if [ $((SECONDS - start)) -ge "$MAX_SECONDS" ]; then
		# A loaded machine gets fewer kills and intakes in the time: go on (up to three times
		# as long) until the run has proved enough, then check what it left.
		got=$(cat "$T"/ok.* | wc -l)
		if [ $kills -ge "$MIN_KILLS" ] && [ "$got" -ge 100 ]; then
			echo "time is up after $kills of $KILLS kills and $got intakes: checking what they left"
			break
		fi
		[ $((SECONDS - start)) -lt $((3 * MAX_SECONDS)) ] ||
			fail "only $kills kills and $got intakes in $((3 * MAX_SECONDS))s (at least $MIN_KILLS and 100 needed)"
	fi
	if [ -z "$DPID" ]; then
		daemon_spawn
		if [ $((RANDOM % 10)) -eq 0 ]; then
			# Kill during start-up (store checks, WAL recovery, socket set-up).
			sleep "0.0$((RANDOM % 5))$((RANDOM % 10))"
			daemon_kill
			kills=$((kills + 1)) early=$((early + 1))
			continue
		fi
		wait_ready 20
	fi
	sleep "0.$(printf %03d $((20 + RANDOM % 300)))"
	daemon_kill
	kills=$((kills + 1))
done
kill_seconds=$((SECONDS - start))
touch "$T/stop"
for c in $(seq 1 "$CLIENTS"); do
	eval "wait \$client_pid_$c" || true
done

cat "$T"/ok.* >"$T/ok"
successes=$(wc -l <"$T/ok")
down=$(cat "$T"/fail.* | grep -c '^down$' || true)
cut=$(cat "$T"/fail.* | grep -c '^cut$' || true)
refused=$(cat "$T"/fail.* | grep -c '^refused$' || true)
keyed=$(awk '$3 != "-"' "$T/ok" | wc -l)
echo "kills: $kills ($early during start-up) in ${kill_seconds}s"
echo "intakes: $successes succeeded ($keyed with an intake key), failed attempts: $cut cut off," \
     "$refused refused by motcuad, $down while it was down"
if [ -s "$T/refusals" ]; then
	sort "$T/refusals" | uniq -c | sort -rn | head -n 10
	fail "motcuad refused $refused intakes with an error while running (expected only cut connections)"
fi
[ "$successes" -ge 100 ] || fail "only $successes successful intakes: the test proves too little"

step "restart and check every acknowledged document"
daemon_start 30
[ "$(cut -d' ' -f1 "$T/ok" | sort | uniq -d | wc -l)" -eq 0 ] ||
	fail "two successful intakes of different content got the same id"
n=0
while read -r id s key; do
	rm -f "$T/got"
	ctl doc get "$id" -o "$T/got" 2>"$T/get.err" || fail "doc get $id (acknowledged) failed: $(cat "$T/get.err")"
	[ "$(sha "$T/got")" = "$s" ] || fail "doc get $id returned bytes that differ from what was put"
	n=$((n + 1))
done <"$T/ok"
ok "$n acknowledged documents are present and byte-identical"
ctl audit verify || fail "audit verify after the crashes"
ctl status >"$T/status.txt"
daemon_stop

step "database checks"
[ "$(sql 'PRAGMA integrity_check')" = ok ] || fail "PRAGMA integrity_check: $(sql 'PRAGMA integrity_check' | head)"
ok "integrity_check ok"
{
	echo "CREATE TEMP TABLE acked(id TEXT, sha256 TEXT, key TEXT);"
	awk '{ printf "INSERT INTO acked VALUES(\x27%s\x27,\x27%s\x27,\x27%s\x27);\n", $1, $2, $3 }' "$T/ok"
	echo "SELECT 'not exactly once: ' || a.sha256 || ' rows=' || (SELECT COUNT(*) FROM documents d WHERE d.sha256 = a.sha256) FROM acked a WHERE (SELECT COUNT(*) FROM documents d WHERE d.sha256 = a.sha256) != 1;"
	echo "SELECT 'id does not hold its content: ' || a.id FROM acked a WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = a.id AND d.sha256 = a.sha256);"
	echo "SELECT 'key not kept: ' || a.id FROM acked a WHERE a.key != '-' AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = a.id AND d.intake_key = a.key);"
	echo "SELECT 'outbox items for document ' || d.id || ': ' || (SELECT COUNT(*) FROM outbox o WHERE o.kind = 'document' AND o.ref = d.id) FROM documents d WHERE (SELECT COUNT(*) FROM outbox o WHERE o.kind = 'document' AND o.ref = d.id) != 1;"
	echo "SELECT 'outbox item for no document: ' || o.id FROM outbox o WHERE o.kind = 'document' AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = o.ref);"
	echo "SELECT 'intake audit rows for document ' || d.id || ': ' || (SELECT COUNT(*) FROM audit x WHERE x.action = 'document.intake' AND x.subject = d.id) FROM documents d WHERE (SELECT COUNT(*) FROM audit x WHERE x.action = 'document.intake' AND x.subject = d.id) != 1;"
} >"$T/check.sql"
sql <"$T/check.sql" >"$T/problems"
if [ -s "$T/problems" ]; then
	head -n 20 "$T/problems"
	fail "$(wc -l <"$T/problems") consistency problems"
fi
docs=$(sql 'SELECT COUNT(*) FROM documents')
ok "$successes acknowledged intakes are each stored once ($docs documents in all, including" \
   "intakes cut off after their commit); one outbox item and one audit row per document"
missing=0
while IFS='|' read -r id s; do
	[ -f "$STATE/blobs/${s:0:2}/$s" ] && [ -f "$STATE/manifests/${id:0:2}/$id.json" ] ||
		{ echo "document $id: blob or manifest missing"; missing=$((missing + 1)); }
done < <(sql -separator '|' 'SELECT id, sha256 FROM documents')
[ $missing -eq 0 ] || fail "$missing documents lack their blob file or manifest"
ok "every document has its blob file and manifest"
blobs_tmp_empty
ok "no temp file left in blobs/tmp after a restart"

step "rebuild from the files alone brings back every acknowledged document"
head -c 65536 /dev/urandom >"$STATE/motcua.db"
rm -f "$STATE/motcua.db-wal" "$STATE/motcua.db-shm"
daemon_start 60
daemon_stop
{
	echo "CREATE TEMP TABLE acked(id TEXT, sha256 TEXT, key TEXT);"
	awk '{ printf "INSERT INTO acked VALUES(\x27%s\x27,\x27%s\x27,\x27%s\x27);\n", $1, $2, $3 }' "$T/ok"
	echo "SELECT 'lost in the rebuild: ' || a.id FROM acked a WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = a.id AND d.sha256 = a.sha256);"
} | sql >"$T/problems"
if [ -s "$T/problems" ]; then
	head -n 10 "$T/problems"
	grep -h 'rebuild' "$DLOG" | tail -n 5
	fail "$(wc -l <"$T/problems") acknowledged documents did not come back from the rebuild"
fi
ok "all $successes acknowledged documents restored from the manifests ($(sql 'SELECT COUNT(*) FROM documents') in all)"
echo "PASS: $kills kills, $successes successes, $((cut + refused)) failed attempts, $down attempts while down"
