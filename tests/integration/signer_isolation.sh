#!/bin/bash
# The key stays with the signer's user: motcuad runs as one user (nobody) holding only
# CAP_SETUID/CAP_SETGID, starts motcua-signer as another (daemon) who alone can read the key,
# then drops every capability.  motcuad cannot read the key file nor the signer's memory,
# and copies are still issued and verify.  Needs root (to set the users up); else skipped.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/copies_lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root to run motcuad and the signer as two users"
command -v setpriv >/dev/null || skip "setpriv (util-linux) is not installed"
getent passwd nobody >/dev/null && getent passwd daemon >/dev/null || skip "users nobody/daemon missing"
# The build tree must be reachable by nobody/daemon (it usually is).
setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$MOTCUAD" || skip "nobody cannot run $MOTCUAD"

step "keys owned by the signer's user (daemon), 0700/0600"
chmod 755 "$T"
mkdir -m 700 "$T/keys"
ctl keys init --test --dir "$T/keys" --user daemon >/dev/null || fail "keys init --user daemon failed"
chown daemon:daemon "$T/keys"
[ "$(stat -c %U:%a "$T/keys/test-signing.key")" = "daemon:600" ] || fail "key is not daemon's 0600"
write_config
sign_config "$T/keys/test-signing.key" "$T/keys/test-signing.crt" "user = daemon"
mkdir -p "$STATE" "$RUN"
head -c 32 /dev/urandom >"$KEY"
chown nobody:nogroup "$STATE" "$RUN" "$KEY"
chmod 600 "$KEY"
chmod 644 "$CONF"

step "motcuad as nobody with CAP_SETUID/CAP_SETGID only"
setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=+setuid,+setgid \
	--ambient-caps=+setuid,+setgid --bounding-set=-all,+setuid,+setgid \
	"$MOTCUAD" -c "$CONF" >>"$DLOG" 2>&1 &
DPID=$!
wait_ready 10
spid=$(pgrep -P "$DPID" -x motcua-signer || true)
[ -n "$spid" ] || fail "no motcua-signer child of motcuad"
[ "$(awk '/^Uid:/ {print $2}' /proc/"$spid"/status)" = 1 ] || fail "the signer does not run as daemon"
[ "$(awk '/^Uid:/ {print $2}' /proc/"$DPID"/status)" = 65534 ] || fail "motcuad does not run as nobody"
for f in CapEff CapPrm CapAmb CapInh; do
	v=$(awk -v f="$f:" '$1 == f {print $2}' /proc/"$DPID"/status)
	[ "$v" = 0000000000000000 ] || fail "motcuad still holds capabilities after start ($f $v)"
done
ok "signer pid $spid as daemon; motcuad as nobody with no capability left"

step "motcuad's user can read neither the key nor the signer's memory"
setpriv --reuid=nobody --regid=nogroup --clear-groups cat "$T/keys/test-signing.key" >/dev/null 2>&1 &&
	fail "nobody can read the key"
setpriv --reuid=nobody --regid=nogroup --clear-groups cat /proc/"$spid"/environ >/dev/null 2>&1 &&
	fail "nobody can read the signer's process memory/environment"
ok "both refused"

step "copies are issued across the two users and verify"
make_scan "$T/scan.jpg"
chmod 644 "$T/scan.jpg"
orig=$(put_ok "$T/scan.jpg")
ctl copy issue "$orig" --official "Lê Văn D" >"$T/issue.txt" || fail "copy issue failed"
ctl doc get "$(head -n 1 "$T/issue.txt")" -o "$T/copy.pdf"
ctl copy verify "$T/copy.pdf" | grep -q "^VALID" || fail "the copy does not verify"
pdfsig_valid "$T/copy.pdf" || fail "pdfsig rejects the copy"
ok "valid"
daemon_stop
