#!/bin/bash
# Recognition bench: synthetic cards and documents at each degradation level (generated
# once into BUILD/bench-cards), read by motcua-recognize (through `motcuactl recognize`) and,
# in the same run, by the plain tools (zbarimg + `tesseract` with default settings, eng),
# scored the same way: per-field exact match, full-card exact match, share flagged for
# review, share wrong but not flagged, median/p95 time per image on one core, and the
# worker's peak memory.  Measures, never asserts.
# Usage: tests/bench/recognize.sh BUILD   (REC_CARDS=N cards per level, REC_DOCS=N documents)
set -eu
build=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=$top/$build
cards=${REC_CARDS:-8} docs=${REC_DOCS:-3}
set_dir=$bin/bench-cards/c$cards-d$docs
export OMP_THREAD_LIMIT=1
if [ ! -f "$set_dir/truth.jsonl" ]; then
	echo "recognize bench: generating $cards cards and $docs documents per level into $set_dir"
	"$top/tests/data/gen/gencards.py" "$set_dir" --cards "$cards" --docs "$docs" >/dev/null
fi
work=$(mktemp -d "$bin/rec-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
mapfile -t files < <(python3 -c 'import json,sys; [print(json.loads(l)["file"]) for l in open(sys.argv[1])]' "$set_dir/truth.jsonl")
cd "$set_dir"

# motcua-recognize: one worker for every image, pinned to one core.
start=$(date +%s.%N)
taskset -c 0 "$bin/motcuactl" recognize --stats "${files[@]}" >"$work/ours.jsonl" 2>"$work/ours.err" || true
end=$(date +%s.%N)
peak=$(awk '/peak memory/ {print $4 " " $5}' "$work/ours.err")

# The plain tools, one image at a time, same core; their time per image is the wall time
# of zbarimg plus tesseract.
: >"$work/base.jsonl"
for f in "${files[@]}"; do
	t0=$(date +%s%N)
	taskset -c 0 zbarimg -q --raw -Sbinary "$f" >"$work/qr" 2>/dev/null || true
	taskset -c 0 tesseract "$f" - >"$work/ocr" 2>/dev/null || true
	t1=$(date +%s%N)
	"$bin/tests/recbaseline" "$work/qr" "$work/ocr" |
		python3 -c 'import json,sys; r=json.load(sys.stdin); r["file"]=sys.argv[1]; r["timings_ms"]={"total":float(sys.argv[2])}; print(json.dumps(r, ensure_ascii=False))' \
			"$f" "$(((t1 - t0) / 1000000))" >>"$work/base.jsonl"
done

python3 - "$set_dir/truth.jsonl" "$work/ours.jsonl" "$work/base.jsonl" "$peak" <<'PY'
import json, sys
truth = {}
order = []
for line in open(sys.argv[1], encoding="utf-8"):
    t = json.loads(line)
    truth[t["file"]] = t
    if t["level"] not in order:
        order.append(t["level"])

def load(path):
    return {r["file"]: r for r in map(json.loads, open(path, encoding="utf-8"))}

def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))] if xs else 0

def score(results, title, peak):
    print(f"\n{title}")
    print(f"{'level':8} {'images':>6} {'fields':>7} {'full':>6} {'review':>7} {'wrong!':>7} {'type':>6} {'median':>8} {'p95':>8}")
    tot = {"n": 0, "f": 0, "fo": 0, "full": 0, "rev": 0, "wrong": 0, "type": 0, "times": []}
    for level in order + ["all"]:
        names = [f for f, t in truth.items() if level == "all" or t["level"] == level]
        nf = fo = full = rev = wrong = typ = 0
        times = []
        for f in names:
            t, r = truth[f], results.get(f, {"fields": {}, "needs_review": True})
            fields = r.get("fields", {})
            good = sum(1 for k, v in t["fields"].items() if k in fields and fields[k] == v)
            nf += len(t["fields"]); fo += good
            ok_type = r.get("type") == t["type"]
            typ += ok_type
            exact = ok_type and good == len(t["fields"])
            full += exact
            flagged = bool(r.get("needs_review", True))
            rev += flagged
            wrong += (not exact) and not flagged
            times.append(r.get("timings_ms", {}).get("total", 0))
        n = len(names)
        print(f"{level:8} {n:6d} {fo / max(nf, 1):7.1%} {full / n:6.1%} {rev / n:7.1%} {wrong / n:7.1%} {typ / n:6.1%}"
              f" {pct(times, 0.5):6.0f}ms {pct(times, 0.95):6.0f}ms")
    if peak:
        print(f"peak memory: {peak}")

print("columns: fields = per-field exact match; full = type and every field exact; review = flagged for")
print("review; wrong! = not exact and not flagged; type = document type right; times per image, one core")
score(load(sys.argv[2]), "motcua-recognize (zbar raw + OCR-B template reader + tesseract vie for page types)", "worker " + sys.argv[4])
score(load(sys.argv[3]), "baseline: zbarimg --raw + tesseract (default settings, eng) through the same parsers", "")
PY
echo "motcua-recognize wall time for all images: $(echo "$end - $start" | bc) s"
