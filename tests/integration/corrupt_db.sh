#!/bin/bash
# A corrupted database is moved aside, never deleted, and rebuilt from the blob manifests: for
# pages overwritten with garbage, a truncated file and a file replaced by junk, motcuad starts,
# the damaged file is in quarantine/ unchanged, every document is back byte-identical with one
# outbox item, `status` shows the rebuild, (a deleted database is rebuilt the same way), and the audit chain starts with a verified
# store.rebuilt row.  The rebuilt store takes new documents and survives a second rebuild.
set -eu
. "$(dirname "$0")/lib.sh"

write_config
daemon_start
step "store documents"
: >"$T/docs"
for i in $(seq 1 24); do
	case $((i % 4)) in
	0) size=$((20 + i)) ;;
	1) size=$((3000 + i * 97)) ;;
	2) size=$((70000 + i * 1013)) ;;
	3) size=$((400000 + i * 7919)) ;;
	esac
	mkdoc "$T/doc$i" $size
	id=$(put_ok "$T/doc$i")
	echo "$id $T/doc$i" >>"$T/docs"
done
ok "$(wc -l <"$T/docs") documents stored"
daemon_stop

# The databases in quarantine/ (not their -wal and -shm), oldest first.
quarantined() {
	find "$STATE/quarantine" -name 'motcua.db.*' ! -name '*-wal' ! -name '*-shm' -printf '%T@ %f\n' |
		sort -n | cut -d' ' -f2
}

# check_rebuilt HOW: after start-up on a damaged database, everything is back and said so.
check_rebuilt() {
	local how=$1 before=$2 q
	q=$(quarantined | wc -l)
	if [ ! -f "$T/damaged.db" ]; then
		[ "$q" -eq "$before" ] || fail "$how: something was put in quarantine/"
		ok "$how: nothing to quarantine"
	else
		[ "$q" -eq $((before + 1)) ] || fail "$how: expected $((before + 1)) databases in quarantine/, found $q"
		q=$(quarantined | tail -n 1)
		[ "$(sha "$STATE/quarantine/$q")" = "$(sha "$T/damaged.db")" ] ||
			fail "$how: the quarantined file is not the damaged database as it was"
		ok "$how: the damaged database is kept unchanged as quarantine/$q"
		if [ -f "$T/damaged.wal" ]; then
			[ -f "$STATE/quarantine/$q-wal" ] && cmp -s "$STATE/quarantine/$q-wal" "$T/damaged.wal" ||
				fail "$how: the WAL left by the crash is not kept unchanged beside it"
			rm -f "$T/damaged.wal"
			ok "$how: and so is the WAL the crash left"
		fi
		rm -f "$T/damaged.db"
	fi
	while read -r id f; do get_same "$id" "$f"; done <"$T/docs"
	ok "$how: all $(wc -l <"$T/docs") documents back, byte-identical"
	local n
	n=$(ctl --json status | grep -c '"rebuilt": true') || true
	[ "$n" -ge 1 ] || fail "$how: status --json does not show rebuilt: true"
	ctl status | grep -q 'NOTICE: .*rebuilt' || fail "$how: plain status says nothing about the rebuild"
	ok "$how: $(ctl status | grep NOTICE)"
	ctl audit tail | grep -q 'store.rebuilt' || fail "$how: no store.rebuilt row in the audit chain"
	ctl audit verify >/dev/null || fail "$how: audit verify fails after the rebuild"
	ok "$how: audit chain has its store.rebuilt row and verifies"
	[ "$(ctl outbox list --limit 1000 | grep -c queued)" -eq "$(wc -l <"$T/docs")" ] ||
		fail "$how: the outbox does not hold one queued item per document"
	[ "$(sql 'SELECT COUNT(*) FROM documents')" -eq "$(wc -l <"$T/docs")" ] ||
		fail "$how: the rebuilt database holds other documents than those stored"
	ok "$how: one queued outbox item per document"
}

corrupt_and_restart() { # HOW
	local before lines
	case $1 in
	*crash*) daemon_kill ;;
	*)
		daemon_stop
		[ ! -s "$STATE/motcua.db-wal" ] || fail "WAL not checkpointed at stop"
		;;
	esac
	before=$(quarantined | wc -l)
	step "$1"
	case $1 in
	garbage*)
		# Every page but the first (the schema) overwritten with random bytes.
		local size
		size=$(stat -c %s "$STATE/motcua.db")
		dd if=/dev/urandom of="$STATE/motcua.db" bs=4096 seek=1 count=$((size / 4096 - 1)) conv=notrunc status=none
		;;
	deleted*) rm -f "$STATE"/motcua.db* ;;
	truncated*) truncate -s $(($(stat -c %s "$STATE/motcua.db") / 2)) "$STATE/motcua.db" ;;
	junk*) head -c 100000 /dev/urandom >"$STATE/motcua.db" ;;
	esac
	if [ -f "$STATE/motcua.db" ]; then
		cp "$STATE/motcua.db" "$T/damaged.db"
		[ ! -s "$STATE/motcua.db-wal" ] || cp "$STATE/motcua.db-wal" "$T/damaged.wal"
	fi
	lines=$(wc -l <"$DLOG")
	daemon_start 30
	tail -n +$((lines + 1)) "$DLOG" | grep 'moved aside to\|is missing but' ||
		fail "$1: motcuad did not log that it moved the database aside (or found it missing)"
	check_rebuilt "$1" "$before"
}

daemon_start
corrupt_and_restart "garbage over every page but the first"

step "the rebuilt store takes new documents"
mkdoc "$T/after1" 5000
id=$(put_ok "$T/after1")
echo "$id $T/after1" >>"$T/docs"
ok "stored one more"
corrupt_and_restart "truncated to half its size"
corrupt_and_restart "junk instead of a database"
corrupt_and_restart "deleted (with its WAL and SHM)"

step "a document committed only to the WAL, then a crash"
mkdoc "$T/after2" 200000
id=$(put_ok "$T/after2")
echo "$id $T/after2" >>"$T/docs"
[ -s "$STATE/motcua.db-wal" ] || fail "expected a WAL with the last commit in it"
corrupt_and_restart "junk database after a crash (SIGKILL, WAL left behind)"
daemon_stop
[ "$(sql 'PRAGMA integrity_check')" = ok ] || fail "the rebuilt database fails integrity_check"
ok "the final database passes integrity_check"
echo "PASS"
