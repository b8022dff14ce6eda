# Helpers for the chip-reading scenarios (sourced after tests/integration/lib.sh).  Each
# scenario runs in its own mount and network namespace (chip_ns_enter): its own pcscd on a
# private /run/pcscd, Debian's vpcd reader driver listening on the namespace's loopback,
# and tests/chip/emucard.py as the card.  Nothing touches a system pcscd or a real reader.

: "${MOTCUA_BUILD:=$MOTCUA_TOP/build}"
CHIP_DIR=$MOTCUA_TOP/tests/chip
PY=/usr/bin/python3
MOTCUA_CHIP_BIN=$MOTCUA_BUILD/motcua-chip
VPCD_PORT=35963

# Re-runs the calling script inside new mount and network namespaces (root only).
chip_ns_enter() {
	[ -n "${MOTCUA_CHIP_NS:-}" ] && return 0
	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root for a private pcscd (unshare)"; exit 77; }
	command -v unshare >/dev/null || { echo "SKIP: unshare missing"; exit 77; }
	MOTCUA_CHIP_NS=1 exec unshare -m -n "$@"
}

chip_check_tools() {
	command -v pcscd >/dev/null || skip "pcscd is not installed (make deps)"
	[ -f /usr/lib/pcsc/drivers/serial/libifdvpcd.so ] || skip "vsmartcard-vpcd is not installed (make deps)"
	$PY -c 'import cryptography, asn1crypto' 2>/dev/null || skip "python3-cryptography/asn1crypto missing (make deps)"
	[ -x "$MOTCUA_CHIP_BIN" ] || skip "$MOTCUA_CHIP_BIN not built (make all)"
	command -v convert >/dev/null || skip "imagemagick missing (make deps)"
}

# Our own pcscd, foreground, with only the virtual reader; returns when vpcd listens.
chip_start_pcscd() {
	ip link set lo up
	mkdir -p /run/pcscd "$T/reader.conf.d"
	mount -t tmpfs -o mode=0755 tmpfs /run/pcscd
	track_mount /run/pcscd
	cat >"$T/reader.conf.d/vpcd" <<CONF
FRIENDLYNAME "Virtual PCD"
DEVICENAME   /dev/null:$VPCD_PORT
LIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so
CHANNELID    $VPCD_PORT
CONF
	pcscd -f -a -c "$T/reader.conf.d" >"$T/pcscd.log" 2>&1 &
	PCSCD_PID=$!
	track_pid $PCSCD_PID
	local i
	for i in $(seq 300); do
		ss -ltn 2>/dev/null | grep -q ":$VPCD_PORT " && [ -S /run/pcscd/pcscd.comm ] && return 0
		kill -0 $PCSCD_PID 2>/dev/null || break
		sleep 0.1
	done
	cat "$T/pcscd.log"
	fail "pcscd did not start"
}

# chip_face OUT.jpg: a synthetic face picture (a gradient; no person).
chip_face() {
	convert -size 240x320 -seed 18 plasma:navy-tan -blur 0x2 -quality 88 "$1"
}

# chip_make DIR VARIANT [FACE]: a card from mkcard.py under the scenario's test PKI ($T/pki).
chip_make() {
	$PY "$CHIP_DIR/mkcard.py" "$1" --variant "$2" --face "${3:-$T/face.jpg}" --pki "$T/pki" ||
		fail "mkcard $2"
}

# chip_insert DIR [emucard args...]: the card "in the reader" (the emulator connected).
chip_insert() {
	local dir=$1
	shift
	$PY "$CHIP_DIR/emucard.py" "$dir" --port $VPCD_PORT "$@" 2>>"$T/emucard.log" &
	EMU_PID=$!
	track_pid $EMU_PID
}

# chip_remove: the card out of the reader.
chip_remove() {
	kill "$EMU_PID" 2>/dev/null || true
	wait "$EMU_PID" 2>/dev/null || true
}

# chip_request DOC BIRTH EXPIRY: the worker's request JSON.
chip_request() {
	printf '{"document_number":"%s","birth":"%s","expiry":"%s","wait_ms":20000}' "$1" "$2" "$3"
}

# chip_worker REQUEST OUT [worker args...]: runs motcua-chip once (sandboxed, as motcuad
# does), the result JSON into OUT.
chip_worker() {
	local req=$1 out=$2
	shift 2
	printf '%s' "$req" | $PY -c 'import sys, struct
d = sys.stdin.buffer.read()
sys.stdout.buffer.write(b"CHQ1" + struct.pack(">I", len(d)) + d)' |
		"$MOTCUA_CHIP_BIN" --csca "$T/pki/csca.pem" "$@" >"$out.raw" 2>>"$T/worker.log"
	local rc=$?
	[ $rc -eq 0 ] || { cat "$T/worker.log"; fail "motcua-chip exited with $rc"; }
	head -c 4 "$out.raw" | grep -q CHR1 || fail "no CHR1 frame from the worker"
	tail -c +9 "$out.raw" >"$out"
	jq -e . "$out" >/dev/null || fail "the worker's result is not JSON"
}

# jget FILE FILTER: one value from a result (jq -r).
jget() { jq -r "$2" "$1"; }

# expect FILE FILTER VALUE WHAT
expect() {
	local got
	got=$(jq -r "$2" "$1")
	[ "$got" = "$3" ] || { jq -c 'del(.face)' "$1" | cut -c1-2000; fail "$4: $2 is '$got', expected '$3'"; }
	ok "$4"
}
