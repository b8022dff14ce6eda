#!/bin/bash
# make bench: durable intake rate of motcuad (documents/s for 4 KB and 1 MB documents)
# against the same disk's raw rate for writing and fsyncing files of those sizes the same
# way (temp, fsync, rename, fsync dir), measured alternately in the same run.  Medians of
# ROUNDS rounds; the ratio is intake/raw.  Also motcuad's peak memory (VmHWM).
set -eu
build=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=$top/$build
rounds=${ROUNDS:-5}
# Work on the disk that holds the repository (the state directory's disk in production is
# the box's own), not on a tmpfs.
work=$(mktemp -d "$top/$build/bench.XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cat >"$work/motcua.conf" <<CONF
[store]
state_dir = $work/state
key_file = $work/state/storage.key
low_water_mb = 64
[daemon]
runtime_dir = $work/run
control_socket = $work/run/ctl.sock
CONF
"$bin/motcuad" -c "$work/motcua.conf" 2>"$work/motcuad.log" &
pid=$!
for _ in $(seq 100); do [ -S "$work/run/ctl.sock" ] && break; sleep 0.05; done

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "motcua bench: $(nproc) cores, disk $(df -h "$work" | awk 'NR==2 {print $1 " (" $2 ")"}'), $rounds rounds, medians"
printf '%-10s %14s %14s %8s\n' size "intake docs/s" "raw files/s" ratio
for spec in 4096:200 1048576:30; do
	size=${spec%%:*} count=${spec##*:}
	: >"$work/raw.txt"; : >"$work/intake.txt"
	for r in $(seq "$rounds"); do
		mkdir -p "$work/raw"; rm -f "$work/raw"/*
		"$bin/tests/benchtool" raw "$work/raw" "$size" "$count" | cut -d' ' -f1 >>"$work/raw.txt"
		"$bin/tests/benchtool" intake "$work/run/ctl.sock" "$size" "$count" | cut -d' ' -f1 >>"$work/intake.txt"
	done
	raw=$(median <"$work/raw.txt") in=$(median <"$work/intake.txt")
	label=$([ "$size" -ge 1048576 ] && echo "1 MB" || echo "4 KB")
	printf '%-10s %14.1f %14.1f %8.2f\n' "$label" "$in" "$raw" "$(echo "$in $raw" | awk '{print $1/$2}')"
done
echo "motcuad peak memory: $(awk '/VmHWM/ {print $2 " " $3}' /proc/$pid/status)"
"$top/tests/bench/copies.sh" "$build"
"$top/tests/bench/web.sh" "$build"
"$top/tests/bench/recognize.sh" "$build"
"$top/tests/bench/uplink.sh" "$build" || echo "uplink bench: not run (exit $?; it needs root for network namespaces)"
"$top/tests/bench/mqtt.sh" "$build"
"$top/tests/bench/assistant.sh" "$build"
"$top/tests/bench/chip.sh" "$build" || echo "chip bench: not run (exit $?; it needs root for its own pcscd)"
