#!/bin/bash
# make demo: starts a complete local gateway in build/demo (for now: motcuad with a demo
# configuration) in the background, feeds it a few synthetic documents and says where to
# look and how to stop it.  make demo-stop (or tools/demo.sh BUILD stop) stops it.
set -eu
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/$build
demo=$top/$build/demo
ctl="$bin/motcuactl -s $demo/run/motcuad.sock"

stop() {
	if [ -f "$demo/motcuad.pid" ] && kill "$(cat "$demo/motcuad.pid")" 2>/dev/null; then
		echo "demo: motcuad stopped (its data stays in $demo/state)"
	fi
	rm -f "$demo/motcuad.pid"
}
if [ "${2:-}" = stop ]; then stop; exit 0; fi
stop >/dev/null 2>&1 || true

mkdir -p "$demo"
cat >"$demo/motcua.conf" <<CONF
# Demo configuration written by tools/demo.sh; every key is documented in packaging/motcua.conf.
[store]
state_dir = $demo/state
key_file = $demo/state/storage.key
low_water_mb = 64
[daemon]
runtime_dir = $demo/run
control_socket = $demo/run/motcuad.sock
log_level = info
[gateway]
agency_code = 000.00.00.H00
commune_name = Xã Thử Nghiệm (demo)
CONF
"$bin/motcuad" --check-config -c "$demo/motcua.conf" >/dev/null
nohup "$bin/motcuad" -c "$demo/motcua.conf" >"$demo/motcuad.log" 2>&1 &
echo $! >"$demo/motcuad.pid"
for _ in $(seq 100); do [ -S "$demo/run/motcuad.sock" ] && break; sleep 0.05; done
if ! [ -S "$demo/run/motcuad.sock" ]; then
	echo "demo: motcuad did not start; its log:" >&2
	cat "$demo/motcuad.log" >&2
	exit 1
fi

"$top/tools/gen-synthetic.py" "$demo/samples" 2
echo "demo: feeding synthetic documents (no real personal data):"
for f in "$demo"/samples/*; do
	printf '  %-16s -> document %s\n' "$(basename "$f")" "$($ctl doc put "$f" --kind scan)"
done
echo
$ctl status
cat <<MSG

demo: motcuad is running (pid $(cat "$demo/motcuad.pid")), data in $demo/state
  status:     $ctl status
  documents:  $ctl doc list
  outbox:     $ctl outbox list
  audit:      $ctl audit verify
  log:        tail -f $demo/motcuad.log
  stop:       make demo-stop
MSG
