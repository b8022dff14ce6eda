#!/bin/bash
# Helper processes hold only what they need.  Under a motcuad that holds its broker
# connection (logged in as the dynamic-security admin), the uplink's connection to the LGSP
# and an open staff-page connection, a live recognition worker has nothing but its three
# pipes (stdin, stdout, its log) and the signer nothing but /dev/null, the log, its socket
# and the record it opens itself: no descriptor of motcuad's leaks into the process that
# parses untrusted images.
# (The seccomp side, a worker killed for writing to another descriptor, is unit/sandbox_test.)
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mqtt_lib.sh"
. "$(dirname "$0")/uplink_lib.sh"
. "$(dirname "$0")/copies_lib.sh"
[ -x "$MOTCUA_BUILD/motcua-recognize" ] || skip "motcua-recognize not built"
[ -f /usr/share/fonts/opentype/ocr-b/OCRB.otf ] || skip "fonts-ocr-b is not installed"

broker_start
sim_start
mqtt_config
printf 'secret-a\n' >"$T/client.secret"
chmod 600 "$T/client.secret"
mkdir -m 700 "$T/keys"
ctl keys init --test --dir "$T/keys" >/dev/null || fail "keys init failed"
{
	printf '[uplink]\nenabled = yes\nbase_url = %s\nclient_id = commune-a\n' "$SIM_BASE"
	printf 'client_secret_file = %s\nprobe_interval_ms = 500\n' "$T/client.secret"
	printf '[recognize]\nworkers = 1\ntimeout_s = 60\n'
} >>"$CONF"
sign_config "$T/keys/test-signing.key" "$T/keys/test-signing.crt"
daemon_start
wait_gateway

step "motcuad holds its connections: broker, uplink, an idle staff-page client"
exec 7<>"/dev/tcp/127.0.0.1/$(cat "$RUN/web.port")"
img=$(put_ok "$MOTCUA_TOP/tests/data/cards/clean-000-front.jpg")
wait_delivered 1 60
nsock() { local n=0 f; for f in /proc/"$1"/fd/*; do case "$(readlink "$f")" in socket:*) n=$((n + 1)) ;; esac; done; echo $n; }
[ "$(nsock "$DPID")" -ge 4 ] || fail "motcuad holds only $(nsock "$DPID") sockets; the scene is not set"
ok "motcuad holds $(nsock "$DPID") sockets"

step "a live recognition worker holds its three pipes and nothing else"
for _ in $(seq 600); do
	[ "$(sql "SELECT state FROM recognitions WHERE doc_id='$img'")" = done ] && break
	sleep 0.1
done
[ "$(sql "SELECT state FROM recognitions WHERE doc_id='$img'")" = done ] || fail "the image was not recognised"
wpid=$(pgrep -P "$DPID" -x motcua-recogniz || true)
[ -n "$wpid" ] || fail "no live motcua-recognize child of motcuad"
fds=$(cd /proc/"$wpid"/fd && for f in *; do printf '%s=%s\n' "$f" "$(readlink "$f")"; done)
echo "$fds" | sed 's/^/      worker fd /'
[ "$(echo "$fds" | cut -d= -f1 | tr '\n' ' ')" = "0 1 2 " ] || fail "the worker holds descriptors beyond 0 1 2"
if echo "$fds" | grep -v '=pipe:\[' | grep -q .; then fail "a worker descriptor is not a pipe"; fi
ok "worker $wpid: 0, 1, 2, all pipes"

step "the signer holds /dev/null, the log and its socket to motcuad"
spid=$(pgrep -P "$DPID" -x motcua-signer || true)
[ -n "$spid" ] || fail "no motcua-signer child of motcuad"
sfds=$(cd /proc/"$spid"/fd && for f in *; do printf '%s=%s\n' "$f" "$(readlink "$f")"; done)
echo "$sfds" | sed 's/^/      signer fd /'
expect="0=/dev/null
1=/dev/null
2=$(readlink /proc/"$DPID"/fd/2)"
[ "$(echo "$sfds" | head -n 3)" = "$expect" ] || fail "the signer's 0-2 are not /dev/null, /dev/null, the log"
echo "$sfds" | sed -n 4p | grep -q '^3=socket:\[' || fail "the signer's fd 3 is not its socket"
# The signer opens its own record of signatures itself (after motcuad started it).
[ "$(echo "$sfds" | sed -n 5p)" = "4=$T/keys/signatures.log" ] || fail "the signer's fd 4 is not its record"
[ "$(echo "$sfds" | wc -l)" = 5 ] || fail "the signer holds more than its 5 descriptors"
ok "signer $spid: 0-3 from motcuad, 4 its own record"
exec 7>&-
daemon_stop
echo PASS
