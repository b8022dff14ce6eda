#!/bin/bash
# A disk running out of space refuses intake and touches nothing stored.  On a 16 MB tmpfs as
# the state directory with low_water_mb = 8: intake is refused with ENOSPC and a clear reason
# once a document would take free space below the mark; `status` shows intake paused while
# free space is below it; documents stored before stay intact; freeing space lets intake work
# again.  With the mark at 0 and the disk filled, a document whose encrypted file cannot be
# written to the end fails with ENOSPC and leaves nothing behind: no temp file, no blob, no
# manifest, no row.
set -eu
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root to mount a tmpfs"
mkdir -p "$STATE"
mount -t tmpfs -o size=16m,mode=0750 motcua-test "$STATE" 2>"$T/mount.err" ||
	skip "cannot mount a tmpfs: $(cat "$T/mount.err")"
track_mount "$STATE"

free_bytes() { df --output=avail -B1 "$STATE" | tail -n 1 | tr -d ' '; }
count_files() { find "$STATE/$1" -type f | wc -l; }

write_config "store.low_water_mb = 8"
daemon_start

# 2 MB of ballast (old logs, say) that the "space freed" step deletes: freeing only the
# filler would leave the disk just where the fill loop stopped, at the mark.
head -c $((2 * 1024 * 1024)) /dev/zero >"$STATE/ballast"

step "fill the store with 512 KB documents until intake is refused"
: >"$T/docs"
refused=0
for i in $(seq 1 40); do
	mkdoc "$T/doc$i" 524288
	rc=0
	id=$(ctl doc put "$T/doc$i" 2>"$T/err") || rc=$?
	if [ $rc -ne 0 ]; then
		refused=$i
		break
	fi
	echo "$id $T/doc$i" >>"$T/docs"
done
stored=$(wc -l <"$T/docs")
[ $refused -gt 0 ] || fail "40 documents of 512 KB fitted on a 16 MB disk with an 8 MB mark"
[ "$stored" -ge 3 ] || fail "only $stored documents stored before the refusal"
grep -q '(ENOSPC)' "$T/err" && grep -q 'almost full' "$T/err" && grep -q 'low-water' "$T/err" ||
	{ cat "$T/err"; fail "the refusal does not say ENOSPC and why"; }
ok "$stored documents stored, then: $(cat "$T/err")"

step "below the mark: status shows intake paused, every intake is refused"
fill=$(($(free_bytes) - 7 * 1024 * 1024))
[ $fill -gt 0 ] || fill=0
head -c $fill /dev/zero >"$STATE/filler"
ctl status >"$T/status"
grep -q 'INTAKE PAUSED' "$T/status" || { cat "$T/status"; fail "status does not show intake paused"; }
ctl --json status | grep -q '"intake_paused": true' || fail "status --json does not say intake_paused: true"
ok "$(grep disk: "$T/status")"
printf '%%PDF-1.4 tiny' >"$T/tiny.pdf"
rc=0
ctl doc put "$T/tiny.pdf" 2>"$T/err" || rc=$?
[ $rc -ne 0 ] && grep -q '(ENOSPC)' "$T/err" || fail "a tiny document was not refused below the mark (exit $rc)"
ok "a 13-byte document is refused too: $(cat "$T/err")"
while read -r id f; do get_same "$id" "$f"; done <"$T/docs"
ok "the $stored documents stored before are intact"

step "space freed: intake works again"
rm -f "$STATE/filler" "$STATE/ballast"
ctl status | grep -q 'INTAKE PAUSED' && fail "status still shows intake paused after freeing space"
mkdoc "$T/after" 4096
id=$(put_ok "$T/after")
echo "$id $T/after" >>"$T/docs"
ok "a 4 KB document stored after freeing space"

step "disk full in the middle of a document: nothing half-written is left"
sed -i 's/^low_water_mb = .*/low_water_mb = 0/' "$CONF"
kill -HUP "$DPID"
for _ in $(seq 100); do ctl config show | grep -qx 'low_water_mb = 0' && break; sleep 0.05; done
ctl config show | grep -qx 'low_water_mb = 0' || fail "low_water_mb = 0 not in force after SIGHUP"
docs_before=$(sql 'SELECT COUNT(*) FROM documents')
blobs_before=$(find "$STATE/blobs" -path "$STATE/blobs/tmp" -prune -o -type f -print | wc -l)
manifests_before=$(count_files manifests)
# Leave about 3 MB free, then send a document 10 bytes smaller than the free space: it passes
# the free-space check, but its encrypted file (32 bytes larger) cannot be written to the end.
head -c $(($(free_bytes) - 3 * 1024 * 1024)) /dev/zero >"$STATE/filler"
mkdoc "$T/big" $(($(free_bytes) - 10))
rc=0
ctl doc put "$T/big" 2>"$T/err" || rc=$?
[ $rc -ne 0 ] || fail "a document larger than the free space was stored"
grep -q '(ENOSPC)' "$T/err" || { cat "$T/err"; fail "the failure is not reported as ENOSPC"; }
ok "refused: $(cat "$T/err")"
blobs_tmp_empty
[ "$(sql 'SELECT COUNT(*) FROM documents')" -eq "$docs_before" ] || fail "a row was added"
[ "$(find "$STATE/blobs" -path "$STATE/blobs/tmp" -prune -o -type f -print | wc -l)" -eq "$blobs_before" ] ||
	fail "a blob file was added"
[ "$(count_files manifests)" -eq "$manifests_before" ] || fail "a manifest was added"
ok "no temp file, no blob, no manifest, no row"
rm -f "$STATE/filler"
id=$(put_ok "$T/big")
echo "$id $T/big" >>"$T/docs"
ok "the same document is stored once there is room"
while read -r id f; do get_same "$id" "$f"; done <"$T/docs"
ok "all $(wc -l <"$T/docs") documents intact"
ctl audit verify >/dev/null || fail "audit verify"
daemon_stop
[ "$(sql 'PRAGMA integrity_check')" = ok ] || fail "integrity_check after running out of space"
ok "audit chain verifies, integrity_check ok"
echo "PASS"
