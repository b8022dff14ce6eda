#!/bin/bash
# The storage key is never replaced over existing data: with the key file of a store holding
# documents deleted, motcuad refuses to start with a clear message and creates no new key;
# another store's key (or a file of the wrong size) is refused too, also when the database
# needs a rebuild; putting the right key back brings every document back, byte-identical.
set -eu
. "$(dirname "$0")/lib.sh"

write_config
daemon_start
[ -f "$KEY" ] || fail "no storage key created on the first start"
[ "$(stat -c %a "$KEY")" = 600 ] || fail "the storage key has mode $(stat -c %a "$KEY"), expected 600"
ok "first start created the storage key with mode 600"
: >"$T/docs"
for i in 1 2 3 4 5 6; do
	mkdoc "$T/doc$i" $((i * i * 9000))
	id=$(put_ok "$T/doc$i")
	echo "$id $T/doc$i" >>"$T/docs"
done
daemon_stop
mv "$KEY" "$T/key.backup"
db_sum=$(sha "$STATE/motcua.db")

# refused HOW TEXT...: motcuad exits non-zero by itself, saying each TEXT, touching nothing.
refused() {
	local how=$1 want
	shift
	run_daemon_once 10
	[ "$RC" -ne 0 ] && [ "$RC" -ne 124 ] || fail "$how: motcuad exited $RC (expected a refusal)"
	for want in "$@"; do
		grep -qF -- "$want" "$T/last.log" || { cat "$T/last.log"; fail "$how: the message does not say '$want'"; }
	done
	[ ! -e "$SOCK" ] || fail "$how: the control socket was left behind"
	[ -z "$(ls "$STATE/quarantine")" ] || fail "$how: something was quarantined"
	[ "$(sha "$STATE/motcua.db")" = "$db_sum" ] || fail "$how: the database was changed"
	ok "$how: exit $RC: $(grep -m 1 'storage key' "$T/last.log")"
}

step "key file deleted"
refused "missing key" "$KEY" "missing" "restore the key file"
[ ! -e "$KEY" ] || fail "motcuad created a new key over a store holding documents"
[ -z "$(find "$(dirname "$KEY")" -maxdepth 1 -name "$(basename "$KEY")*")" ] || fail "a key or key temp file was left"
ok "no new key was made"

step "another store's key"
head -c 32 /dev/urandom >"$KEY"
chmod 600 "$KEY"
wrong=$(sha "$KEY")
refused "wrong key" "$KEY" "is not the key of this store"
[ "$(sha "$KEY")" = "$wrong" ] || fail "motcuad replaced the wrong key file"

step "another store's key while the database is damaged too"
# The key id kept in the database cannot guard this case: a rebuild must not adopt the key.
cp "$STATE/motcua.db" "$T/good.db"
head -c 20000 /dev/urandom >"$STATE/motcua.db"
db_sum=$(sha "$STATE/motcua.db")
refused "wrong key, damaged database" "$KEY" "is not the key of this store" "key check"
cp "$T/good.db" "$STATE/motcua.db"
db_sum=$(sha "$STATE/motcua.db")

step "another store's key on a store from before the key-check file"
# An older store has no key-check file: the key is tried on the stored documents instead.
mv "$STATE/keycheck" "$T/keycheck"
refused "wrong key, no key check" "$KEY" "does not decrypt the documents already stored"
[ ! -e "$STATE/keycheck" ] || fail "a key check was written for a wrong key"

step "a key file of the wrong size"
head -c 16 /dev/urandom >"$KEY"
refused "short key" "$KEY" "16 bytes, expected 32"

step "the right key restored"
mv "$T/key.backup" "$KEY"
daemon_start
while read -r id f; do get_same "$id" "$f"; done <"$T/docs"
ok "all $(wc -l <"$T/docs") documents readable and byte-identical"
ctl audit verify >/dev/null || fail "audit verify after restoring the key"
[ -s "$STATE/keycheck" ] || fail "the right key on an older store did not write its key check"
ok "the right key wrote the key check of an older store"
ok "audit chain verifies"
daemon_stop
echo "PASS"
