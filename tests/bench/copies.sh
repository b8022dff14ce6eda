#!/bin/bash
# Certified copies on one core: motcuad and motcua-signer pinned to CPU 0 (taskset), a TEST
# key, an A4 scan at 200 dpi (gray JPEG).  Prints copies per minute over a sequential run
# and the median time per copy, split into render (cairo/pango), sign (seal + PAdES through
# the signer, audited) and store (encrypted blob, document row, outbox, audit).
set -eu
build=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=$top/$build
n=${COPIES:-40}
work=$(mktemp -d "$top/$build/bench-copies.XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
for c in taskset pdftoppm python3; do command -v $c >/dev/null || { echo "copies bench: $c missing"; exit 0; }; done
mkdir -m 700 "$work/keys"
"$bin/motcuactl" keys init --test --dir "$work/keys" >/dev/null
cat >"$work/motcua.conf" <<CONF
[store]
state_dir = $work/state
key_file = $work/state/storage.key
low_water_mb = 64
[daemon]
runtime_dir = $work/run
control_socket = $work/run/ctl.sock
[web]
enabled = no
[sign]
signer = $bin/motcua-signer
user =
key = $work/keys/test-signing.key
cert = $work/keys/test-signing.crt
record = $work/keys/signatures.log
CONF
taskset -c 0 "$bin/motcuad" -c "$work/motcua.conf" 2>"$work/motcuad.log" &
pid=$!
for _ in $(seq 100); do [ -S "$work/run/ctl.sock" ] && break; sleep 0.05; done
ctl() { "$bin/motcuactl" -s "$work/run/ctl.sock" "$@"; }
python3 "$top/tools/gen-synthetic.py" "$work/syn" 1 >/dev/null
pdftoppm -jpeg -r 200 -singlefile "$work"/syn/*.pdf "$work/scan"
orig=$(ctl doc put "$work/scan.jpg")
ctl --json copy issue "$orig" --official "Bench" >/dev/null # warm-up (fonts)
start=$(date +%s%N)
for _ in $(seq "$n"); do
	ctl --json copy issue "$orig" --official "Nguyễn Văn Bench" >>"$work/t.json"
done
end=$(date +%s%N)
python3 - "$work/t.json" "$n" "$start" "$end" "$(stat -c %s "$work/scan.jpg")" <<'PY'
import json, statistics, sys
text = open(sys.argv[1]).read()
dec, objs, i = json.JSONDecoder(), [], 0
while i < len(text):
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    o, i = dec.raw_decode(text, i)
    objs.append(o)
n, t0, t1, scan = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
t = [o["timing_ms"] for o in objs]
tot = [x["render"] + x["sign"] + x["store"] for x in t]
med = lambda k: statistics.median(x[k] for x in t)
print("copies (1 core, scan %d KB, PDF %d KB): %.0f copies/min end to end (CLI included); "
      "median per copy %.1f ms = render %.1f + sign %.1f + store %.1f"
      % (scan // 1024, objs[-1]["size"] // 1024, n * 60e9 / (t1 - t0), statistics.median(tot),
         med("render"), med("sign"), med("store")))
PY
