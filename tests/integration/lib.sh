# Shared helpers for the integration scenarios (sourced, not run).  Each scenario gets a temp
# directory with a config, a state dir and a runtime dir; the EXIT trap stops every process it
# started, unmounts what it mounted and removes the directory.
#
# Set before sourcing (all optional): nothing.  After it: T (temp dir), CONF, STATE, SOCK, KEY,
# DLOG (the daemon's stderr), MOTCUAD, MOTCUACTL.

: "${MOTCUA_TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${MOTCUA_BUILD:=$MOTCUA_TOP/build}"
MOTCUAD=$MOTCUA_BUILD/motcuad
MOTCUACTL=$MOTCUA_BUILD/motcuactl

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $(date +%T) $*"; }
ok() { echo "   ok: $*"; }

[ -x "$MOTCUAD" ] && [ -x "$MOTCUACTL" ] || skip "$MOTCUAD or $MOTCUACTL not built (make all)"
command -v sqlite3 >/dev/null || skip "sqlite3 CLI is not installed (make deps)"

T=$(mktemp -d /tmp/motcua-it.XXXXXX)
CONF=$T/motcua.conf
STATE=$T/state
KEY=$T/storage.key
RUN=$T/run
SOCK=$RUN/motcuad.sock
DLOG=$T/motcuad.log
DPID=
_pids=
_mounts=

# Processes started by a scenario (other than the daemon) that cleanup must stop.
track_pid() { _pids="$_pids $1"; }
track_mount() { _mounts="$1 $_mounts"; }

_cleanup() {
	local rc=$? p m
	trap - EXIT INT TERM
	for p in $_pids $DPID; do
		kill -KILL "$p" 2>/dev/null || true
	done
	for p in $_pids $DPID; do
		wait "$p" 2>/dev/null || true
	done
	for m in $_mounts; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
	if [ $rc -ne 0 ] && [ $rc -ne 77 ] && [ -f "$DLOG" ]; then
		echo "---- last lines of motcuad's log ($DLOG)"
		tail -n 30 "$DLOG"
	fi
	case "$T" in /tmp/motcua-it.*) rm -rf --one-file-system "$T" ;; esac
	exit $rc
}
trap _cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# write_config [LINE...]: the config with the given extra "section.key = value" lines merged in.
# Example: write_config "store.low_water_mb = 4" "daemon.log_level = debug"
write_config() {
	local max_mb=50 low=0 level=info workers=4 line k v
	local extra_store="" extra_daemon="" extra_web=""
	for line in "$@"; do
		k=${line%%=*}; k=${k// /}; v=${line#*=}; v=${v# }
		case "$k" in
		store.max_document_mb) max_mb=$v ;;
		store.low_water_mb) low=$v ;;
		daemon.log_level) level=$v ;;
		daemon.control_workers) workers=$v ;;
		store.*) extra_store="$extra_store${k#store.} = $v
" ;;
		daemon.*) extra_daemon="$extra_daemon${k#daemon.} = $v
" ;;
		web.*) extra_web="$extra_web${k#web.} = $v
" ;;
		*) fail "write_config: unknown setting $line" ;;
		esac
	done
	cat >"$CONF.tmp" <<EOF
# written by tests/integration/lib.sh
[store]
state_dir = $STATE
key_file = $KEY
max_document_mb = $max_mb
low_water_mb = $low
${extra_store}
[daemon]
runtime_dir = $RUN
control_socket = $SOCK
control_workers = $workers
log_level = $level
${extra_daemon}
[web]
# loopback and a free port (see web_url): scenarios never fight over 8080
listen = 127.0.0.1
port = 0
login_delay_ms = 50
${extra_web}
EOF
	mv "$CONF.tmp" "$CONF"
}

ctl() { "$MOTCUACTL" -s "$SOCK" "$@"; }

# web_url: the staff page's base URL (motcuad writes the port it bound to $RUN/web.port).
web_url() {
	# The web server starts after the control socket answers (daemon_start waits for that):
	# on a busy machine the port file comes a little later.
	local i
	for i in $(seq 600); do
		[ -s "$RUN/web.port" ] && break
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.1
	done
	[ -s "$RUN/web.port" ] || fail "motcuad wrote no $RUN/web.port (is [web] enabled?)"
	echo "http://127.0.0.1:$(cat "$RUN/web.port")"
}

# daemon_spawn: starts motcuad in the background (DPID), not waiting for it.
daemon_spawn() {
	"$MOTCUAD" -c "$CONF" >>"$DLOG" 2>&1 &
	DPID=$!
}

# wait_ready [SECONDS]: until the control socket answers; fails if motcuad died first.
wait_ready() {
	local limit=$(( ${1:-10} * 50 )) i=0
	while [ $i -lt $limit ]; do
		if [ -S "$SOCK" ] && "$MOTCUACTL" -s "$SOCK" status >/dev/null 2>&1; then
			return 0
		fi
		if ! kill -0 "$DPID" 2>/dev/null; then
			local rc=0
			wait "$DPID" || rc=$?
			DPID=
			fail "motcuad exited (status $rc) before its socket answered"
		fi
		sleep 0.02
		i=$((i + 1))
	done
	fail "motcuad's socket $SOCK did not answer within ${1:-10}s"
}

daemon_start() {
	daemon_spawn
	wait_ready "${1:-10}"
}

# daemon_stop [SECONDS]: SIGTERM, then waits; fails unless it exits 0 in time.
daemon_stop() {
	local limit=$(( ${1:-10} * 50 )) i=0 rc=0
	[ -n "$DPID" ] || return 0
	kill -TERM "$DPID"
	while kill -0 "$DPID" 2>/dev/null && [ $i -lt $limit ]; do
		sleep 0.02
		i=$((i + 1))
	done
	kill -0 "$DPID" 2>/dev/null && fail "motcuad did not stop within ${1:-10}s of SIGTERM"
	wait "$DPID" || rc=$?
	DPID=
	[ $rc -eq 0 ] || fail "motcuad exited $rc after SIGTERM (expected 0)"
}

# daemon_kill: SIGKILL and reap.
daemon_kill() {
	[ -n "$DPID" ] || return 0
	kill -KILL "$DPID" 2>/dev/null || true
	wait "$DPID" 2>/dev/null || true
	DPID=
}

# run_daemon_once [SECONDS]: runs motcuad in the foreground expecting it to exit by itself
# (a refused start); sets RC and appends its stderr to DLOG and to $T/last.log.
# shellcheck disable=SC2034 # RC is the scenario's to read
run_daemon_once() {
	RC=0
	timeout "${1:-10}" "$MOTCUAD" -c "$CONF" >"$T/last.log" 2>&1 || RC=$?
	cat "$T/last.log" >>"$DLOG"
}

# mkdoc FILE SIZE: a synthetic PDF of SIZE bytes (at least 17), unique content.
mkdoc() {
	local f=$1 size=$2
	[ "$size" -ge 17 ] || size=17
	{
		printf '%%PDF-1.4\n%%%06d\n' $((RANDOM % 1000000)) # 17 bytes
		head -c $((size - 17)) /dev/urandom
	} >"$f"
	[ "$(stat -c %s "$f")" -eq "$size" ] || fail "mkdoc made $(stat -c %s "$f") bytes, not $size"
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# sql QUERY: runs QUERY on the state database (read-mostly; the daemon may be running).
sql() { sqlite3 -batch -noheader "$STATE/motcua.db" "$@"; }

# put_ok FILE: stores FILE, prints the id; fails the scenario if the intake fails.
put_ok() {
	local id
	id=$(ctl doc put "$1") || fail "doc put $1 failed"
	[ -n "$id" ] || fail "doc put $1 printed no id"
	echo "$id"
}

# get_same ID FILE: doc get ID matches FILE byte for byte.
get_same() {
	rm -f "$T/get.out"
	ctl doc get "$1" -o "$T/get.out" || fail "doc get $1 failed"
	cmp -s "$T/get.out" "$2" || fail "doc get $1 is not byte-identical to $2"
	rm -f "$T/get.out"
}

# blobs_tmp_empty: no temp file left in the blob store's temp dir.
blobs_tmp_empty() {
	local left
	left=$(find "$STATE/blobs/tmp" -type f 2>/dev/null | wc -l)
	[ "$left" -eq 0 ] || { ls -la "$STATE/blobs/tmp"; fail "$left temp files left in blobs/tmp"; }
}
