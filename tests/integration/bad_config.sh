#!/bin/bash
# A broken configuration is refused with a message naming the file, the line and the key
# (`motcuad --check-config` exits 1); the shipped packaging/motcua.conf is valid.  A running
# motcuad given a broken file on SIGHUP keeps running on the old one and logs why; a valid
# change of log_level takes effect on SIGHUP; SIGTERM exits 0 promptly and removes the socket.
set -eu
. "$(dirname "$0")/lib.sh"

# check_bad NAME EXPECTED-TEXT... (config on stdin): --check-config exits 1 and prints each text.
check_bad() {
	local name=$1 f=$T/$1.conf rc=0 want
	shift
	cat >"$f"
	"$MOTCUAD" --check-config -c "$f" >"$T/out" 2>&1 || rc=$?
	[ $rc -eq 1 ] || { cat "$T/out"; fail "$name: --check-config exited $rc, expected 1"; }
	for want in "$f" "$@"; do
		grep -qF -- "$want" "$T/out" || { cat "$T/out"; fail "$name: the message does not name '$want'"; }
	done
	ok "$name: $(head -n 1 "$T/out")"
}

step "--check-config refuses broken files, naming file, line and key"
rc=0
"$MOTCUAD" --check-config -c "$T/nonexistent.conf" >"$T/out" 2>&1 || rc=$?
[ $rc -eq 1 ] && grep -qF "$T/nonexistent.conf" "$T/out" && grep -qi 'no such file' "$T/out" ||
	{ cat "$T/out"; fail "missing file: exit $rc, or the message does not name the file and the reason"; }
ok "missing file: $(head -n 1 "$T/out")"

check_bad unknown_key ":3:" "frobnicate" <<EOF
[store]
state_dir = $STATE
frobnicate = yes
EOF
check_bad unknown_section ":5:" "[uplinkk]" "token_url" <<EOF
[store]
state_dir = $STATE

[uplinkk]
token_url = https://example.invalid/
EOF
check_bad bad_number ":3:" "max_document_mb" "whole number" <<EOF
[store]
state_dir = $STATE
max_document_mb = fifty
EOF
check_bad trailing_garbage_number ":2:" "low_water_mb" "whole number" <<EOF
[store]
low_water_mb = 512MB
EOF
check_bad out_of_range ":6:" "control_workers" "between 1 and 64" <<EOF
[store]
state_dir = $STATE

[daemon]
runtime_dir = $RUN
control_workers = 65
EOF
check_bad zero_size ":2:" "max_document_mb" "between" <<EOF
[store]
max_document_mb = 0
EOF
check_bad relative_path ":3:" "state_dir" "absolute path" <<EOF
# relative paths depend on where motcuad happens to start
[store]
state_dir = var/lib/motcua
EOF
check_bad bad_enum ":2:" "log_level" "error warn info debug" <<EOF
[daemon]
log_level = verbose
EOF
check_bad garbage_line ":4:" "not a valid INI line" <<EOF
[store]
state_dir = $STATE

this line is neither a key nor a section
EOF

step "the shipped packaging/motcua.conf is valid"
"$MOTCUAD" --check-config -c "$MOTCUA_TOP/packaging/motcua.conf" >"$T/out" 2>&1 ||
	{ cat "$T/out"; fail "packaging/motcua.conf does not pass --check-config"; }
ok "$(cat "$T/out")"

step "SIGHUP with a broken file: keeps running on the old configuration and says why"
write_config "store.max_document_mb = 7" "daemon.log_level = info"
daemon_start
cp "$CONF" "$T/good.conf"
printf '[store]\nstate_dir = %s\nmax_document_mb = 3\nsurprise = 1\n' "$STATE" >"$CONF"
kill -HUP "$DPID"
for _ in $(seq 100); do grep -q 'reload: .*still running on the previous configuration' "$DLOG" && break; sleep 0.05; done
grep 'reload:' "$DLOG" | grep -F "$CONF:4:" | grep -q surprise ||
	fail "no log line saying why the reload was refused (file, line 4, key surprise)"
ok "$(grep 'reload:' "$DLOG" | tail -n 1)"
kill -0 "$DPID" 2>/dev/null || fail "motcuad died on SIGHUP with a broken configuration"
ctl status >/dev/null || fail "status after a refused reload"
ctl config show | grep -qx 'max_document_mb = 7' || fail "the refused file changed the running configuration"
ok "still serving, still on max_document_mb = 7"

step "SIGHUP with a valid change of log_level takes effect"
printf 'plain text\n' >"$T/text.txt"
cp "$T/good.conf" "$CONF"
sed -i 's/^log_level = .*/log_level = error/' "$CONF"
kill -HUP "$DPID"
for _ in $(seq 100); do ctl config show | grep -qx 'log_level = error' && break; sleep 0.05; done
ctl config show | grep -qx 'log_level = error' || fail "log_level = error not in force after SIGHUP"
lines=$(wc -l <"$DLOG")
ctl doc put "$T/text.txt" 2>/dev/null && fail "a text file was accepted"
sleep 0.2
tail -n +$((lines + 1)) "$DLOG" | grep -q 'warning' &&
	fail "a warning was logged although log_level = error: $(tail -n 1 "$DLOG")"
ok "at log_level = error a refused intake logs no warning"
sed -i 's/^log_level = .*/log_level = info/' "$CONF"
kill -HUP "$DPID"
for _ in $(seq 100); do grep -q 'reload: configuration .* in force' "$DLOG" && break; sleep 0.05; done
grep -q 'reload: configuration .* in force' "$DLOG" || fail "no 'in force' line after going back to info"
ctl doc put "$T/text.txt" 2>/dev/null && fail "a text file was accepted"
for _ in $(seq 40); do grep -q 'warning: intake: .*refused' "$DLOG" && break; sleep 0.05; done
grep -q 'warning: intake: .*refused' "$DLOG" || fail "back at log_level = info, the refusal was not logged"
ok "back at log_level = info the same refusal is logged"

step "SIGTERM exits 0 promptly and removes the socket"
t0=$(date +%s%N)
daemon_stop 5
ms=$((($(date +%s%N) - t0) / 1000000))
[ ! -e "$SOCK" ] || fail "the control socket $SOCK is still there after SIGTERM"
ok "exited 0 in ${ms} ms, socket removed"
echo "PASS"
