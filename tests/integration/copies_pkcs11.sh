#!/bin/bash
# The PKCS#11 path: the signing key lives on a SoftHSM2 token (no key file anywhere), the
# signer logs in with a PIN file, and the copies it signs verify with pdfsig and motcuactl.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/copies_lib.sh"

MODULE=/usr/lib/softhsm/libsofthsm2.so
[ -e "$MODULE" ] || skip "SoftHSM2 is not installed (make deps)"
command -v softhsm2-util >/dev/null || skip "softhsm2-util is missing"
command -v pkcs11-tool >/dev/null || skip "pkcs11-tool (opensc) is missing"

step "a SoftHSM2 token holding the signing key"
mkdir -p "$T/tokens" && mkdir -m 700 "$T/keys"
export SOFTHSM2_CONF=$T/softhsm2.conf
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$T/tokens" >"$SOFTHSM2_CONF"
softhsm2-util --init-token --free --label motcua --pin 1234 --so-pin 5678 >/dev/null
ctl keys init --test --dir "$T/keys" >/dev/null
openssl pkcs8 -topk8 -nocrypt -in "$T/keys/test-signing.key" -out "$T/keys/k.p8"
softhsm2-util --import "$T/keys/k.p8" --token motcua --label signing --id 01 --pin 1234 >/dev/null
rm -f "$T/keys/k.p8" "$T/keys/test-signing.key" # the token is now the only holder
pkcs11-tool --module "$MODULE" --token-label motcua --login --pin 1234 --list-objects --type privkey 2>/dev/null |
	grep -q "label: *signing" || fail "the token does not list the private key"
(umask 077 && echo 1234 >"$T/keys/pin")
ok "token motcua, key signing"

step "motcuad signs copies through the token"
write_config
sign_config "pkcs11:token=motcua;object=signing" "$T/keys/test-signing.crt" "pkcs11_module = $MODULE" \
	"pin_file = $T/keys/pin" "record = $T/keys/signatures.log"
daemon_start
grep -q "key on a PKCS#11 token" "$DLOG" || fail "the signer did not load the token key"
make_scan "$T/scan.jpg"
orig=$(put_ok "$T/scan.jpg")
for i in 1 2; do
	ctl copy issue "$orig" --official "Phạm Thị E" >"$T/issue$i.txt" || fail "copy issue $i failed"
done
ctl doc get "$(head -n 1 "$T/issue2.txt")" -o "$T/copy.pdf"
pdfsig_valid "$T/copy.pdf" || fail "pdfsig rejects the token-signed copy"
ctl copy verify "$T/copy.pdf" | grep -q "^VALID" || fail "copy verify rejects the token-signed copy"
ok "two copies signed on the token; valid"

step "a wrong PIN keeps copies off, with a reason"
daemon_stop
echo 0000 >"$T/keys/pin"
daemon_start
ctl copy issue "$orig" --official "Phạm Thị E" 2>"$T/err" && fail "copy issued with a wrong PIN"
grep -q "signer is not running" "$T/err" || fail "no reason given: $(cat "$T/err")"
grep -q "wrong PIN" "$DLOG" || fail "the signer's own message is not in motcuad's log"
ok "refused: $(cat "$T/err")"
daemon_stop
