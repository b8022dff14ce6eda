#!/bin/bash
# A 4xx the LGSP will never accept moves the item to rejected with the server's reason (shown
# by `outbox list --state rejected` and counted in `uplink status`), audited; other items are
# not held up; `outbox retry ID` puts it back (audited) and it is delivered once the server
# accepts it.  Wrong client credentials stop the uplink with a clear problem and every item
# stays queued.  Exit 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink_lib.sh"

step "the LGSP refuses blobs over 100000 bytes"
sim_start --blob-max 100000
uplink_config "$SIM_BASE"
daemon_start
mkdoc "$T/big.pdf" 200000
mkdoc "$T/small.pdf" 5000
put_ok "$T/big.pdf" >/dev/null
put_ok "$T/small.pdf" >/dev/null
wait_delivered 1 20
for _ in $(seq 100); do [ "$(count_state rejected)" = 1 ] && break; sleep 0.1; done
[ "$(count_state rejected)" = 1 ] || fail "the refused item is not rejected: $(ctl outbox list)"
id=$(sql "SELECT id FROM outbox WHERE state = 'rejected'")
ctl outbox list --state rejected >"$T/rej.txt"
cat "$T/rej.txt"
grep -q "reason: HTTP 422 invalid_field (size)" "$T/rej.txt" || fail "the rejection does not show the server's reason"
ctl uplink status | grep -q "rejected:  1 items wait for staff" || fail "uplink status does not count the rejected item"
[ "$(sql "SELECT COUNT(*) FROM audit WHERE action = 'outbox.rejected' AND subject = 'outbox:$id'")" = 1 ] ||
	fail "the rejection is not in the audit chain"
ok "item $id rejected with the server's reason, audited; the small document was delivered"

step "outbox retry"
ctl outbox retry "$((id + 1))" 2>"$T/err.txt" && fail "retry of a delivered item was accepted"
grep -q "not rejected" "$T/err.txt" || fail "retry of a delivered item: $(cat "$T/err.txt")"
ctl outbox retry 99999 2>/dev/null && fail "retry of an unknown item was accepted"
sim_stop
sim_start --blob-max 10000000
ctl outbox retry "$id" | grep -q "queued again" || fail "outbox retry $id failed"
[ "$(sql "SELECT COUNT(*) FROM audit WHERE action = 'outbox.retry' AND subject = 'outbox:$id'")" = 1 ] ||
	fail "the retry is not in the audit chain"
wait_delivered 2 20
[ "$(sim_stat .unique_items)" = 2 ] || fail "unique items $(sim_stat .unique_items)"
ctl audit verify >/dev/null || fail "audit chain broken"
ok "retried by staff (audited) and delivered once"

step "wrong client secret: the uplink stops, items stay queued"
daemon_stop
printf 'not-the-secret\n' >"$T/client.secret"
mkdoc "$T/third.pdf" 3000
daemon_start
put_ok "$T/third.pdf" >/dev/null
for _ in $(seq 50); do ctl uplink status | grep -q "refused by the LGSP" && break; sleep 0.1; done
ctl uplink status >"$T/st.txt"
cat "$T/st.txt"
grep -q "problem:   refused by the LGSP: HTTP 401 invalid_client" "$T/st.txt" || fail "status does not name the refused credentials"
[ "$(count_state queued)" = 1 ] || fail "the item is not queued: $(ctl outbox list)"
grep -q "refused the client credentials" "$DLOG" || fail "no log line for the refused credentials"
daemon_stop
ok "refused credentials: uplink stopped with a clear problem, the item is queued, not rejected"
echo "uplink_reject: all scenarios passed"
