#!/bin/bash
# Recognition bench: synthetic cards and documents (tests/data/gen/gencards.py, generated
# once into BUILD/bench-cards) at each scan quality level and each capture condition
# (sideways and upside-down scans, strong skew, phone photos on cluttered and dark
# backgrounds, both sides on one page, the 2024 card, cards without chip).  The set is
# held out: its seed (REC_SEED, default 6) is not the one the reader was tuned on (101).
# Read by motcua-recognize (through `motcuactl recognize`, one worker per condition so the
# worker's peak memory is per condition) and, in the same run, by the plain tools (zbarimg
# + `tesseract` with default settings, eng), scored the same way: per-field exact match,
# full-card exact match (type and every field), share flagged for review, share wrong but
# not flagged, generation right, median/p95 time per image on one core, worker peak memory.
# Cards with two images are also read as one identity (`motcuactl recognize --pair FRONT
# BACK`): "pair" scores the merged result against the card's fields from both sides.
# Measures, never asserts.
# Usage: tests/bench/recognize.sh BUILD   (REC_CARDS=N cards per level, REC_DOCS=N documents,
#        REC_LEVELS=a,b to restrict, REC_BASELINE=0 to skip the plain tools)
set -eu
build=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=$top/$build
cards=${REC_CARDS:-5} docs=${REC_DOCS:-2} seed=${REC_SEED:-6}
gen=$top/tests/data/gen/gencards.py
all=$(python3 -c 'import importlib.util as u, sys; s=u.spec_from_file_location("g", sys.argv[1]); g=u.module_from_spec(s); s.loader.exec_module(g); print(",".join(list(g.LEVELS)+list(g.CONDITIONS)))' "$gen")
levels=${REC_LEVELS:-$all}
set_dir=$bin/bench-cards/c$cards-d$docs-s$seed-v2
export OMP_THREAD_LIMIT=1
if [ ! -f "$set_dir/done" ]; then
	echo "recognize bench: generating $cards cards ($docs documents) per level into $set_dir"
	"$gen" "$set_dir" --cards "$cards" --docs "$docs" --seed "$seed" --levels "$all" >/dev/null
	touch "$set_dir/done"
fi
work=$(mktemp -d "$bin/rec-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$set_dir"
: >"$work/ours.jsonl"; : >"$work/pairs.jsonl"; : >"$work/base.jsonl"; : >"$work/peaks"
start=$(date +%s.%N)
for level in ${levels//,/ }; do
	mapfile -t files < <(python3 -c 'import json,sys; [print(t["file"]) for t in map(json.loads, open(sys.argv[1])) if t["level"] == sys.argv[2]]' truth.jsonl "$level")
	[ ${#files[@]} -gt 0 ] || continue
	# motcua-recognize: one worker for every image of the condition, pinned to one core.
	taskset -c 0 "$bin/motcuactl" recognize --stats "${files[@]}" >>"$work/ours.jsonl" 2>"$work/ours.err" || true
	echo "$level $(awk '/peak memory/ {print $4}' "$work/ours.err")" >>"$work/peaks"
	# The same cards read as one identity from their two images.
	python3 -c 'import json,sys
c={}
for t in map(json.loads, open(sys.argv[1])):
    if t["level"]==sys.argv[2] and t["type"] in ("id_card_front","id_card_back"): c.setdefault(t["card"],{})[t["type"]]=t["file"]
for k in sorted(c):
    if len(c[k])==2: print(c[k]["id_card_front"], c[k]["id_card_back"])' truth.jsonl "$level" |
	while read -r f b; do
		taskset -c 0 "$bin/motcuactl" recognize --pair "$f" "$b" 2>/dev/null | sed "s/^{/{\"pair_level\":\"$level\",/" >>"$work/pairs.jsonl" || true
	done
	[ "${REC_BASELINE:-1}" = 1 ] || continue
	# The plain tools, one image at a time, same core; their time per image is the wall
	# time of zbarimg plus tesseract.
	for f in "${files[@]}"; do
		t0=$(date +%s%N)
		taskset -c 0 zbarimg -q --raw -Sbinary "$f" >"$work/qr" 2>/dev/null || true
		taskset -c 0 tesseract "$f" - >"$work/ocr" 2>/dev/null || true
		t1=$(date +%s%N)
		"$bin/tests/recbaseline" "$work/qr" "$work/ocr" |
			python3 -c 'import json,sys; r=json.load(sys.stdin); r["file"]=sys.argv[1]; r["timings_ms"]={"total":float(sys.argv[2])}; print(json.dumps(r, ensure_ascii=False))' \
				"$f" "$(((t1 - t0) / 1000000))" >>"$work/base.jsonl"
	done
done
end=$(date +%s.%N)

python3 - truth.jsonl "$work/ours.jsonl" "$work/base.jsonl" "$work/peaks" "$work/pairs.jsonl" "$levels" <<'PY'
import json, sys
want = sys.argv[6].split(",")
truth, order = {}, []
for line in open(sys.argv[1], encoding="utf-8"):
    t = json.loads(line)
    if t["level"] not in want:
        continue
    truth[t["file"]] = t
    if t["level"] not in order:
        order.append(t["level"])
peaks = dict(l.split() for l in open(sys.argv[4]) if len(l.split()) == 2)

def load(path):
    out = {}
    for line in open(path, encoding="utf-8"):
        try:
            r = json.loads(line)
        except ValueError:
            continue
        out[r.get("file")] = r
    return out

def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))] if xs else 0

def judge(t, r):
    fields = r.get("fields", {})
    good = sum(1 for k, v in t["fields"].items() if k in fields and fields[k] == v)
    exact = r.get("type") == t["type"] and good == len(t["fields"])
    return good, exact

def score(results, title, with_peak):
    print(f"\n{title}")
    print(f"{'level':14} {'images':>6} {'fields':>7} {'full':>6} {'review':>7} {'wrong!':>7} {'type':>6} {'gen':>6} {'median':>8} {'p95':>8} {'cpu med':>8} {'cpu p95':>8} {'peak':>7}")
    for level in order + ["all"]:
        names = [f for f, t in truth.items() if level == "all" or t["level"] == level]
        nf = fo = full = rev = wrong = typ = gen = 0
        times, cpus = [], []
        for f in names:
            t, r = truth[f], results.get(f, {"fields": {}, "needs_review": True})
            good, exact = judge(t, r)
            nf += len(t["fields"]); fo += good
            typ += r.get("type") == t["type"]
            gen += r.get("generation") == t.get("generation", "")
            full += exact
            flagged = bool(r.get("needs_review", True))
            rev += flagged
            wrong += (not exact) and not flagged
            times.append(r.get("timings_ms", {}).get("total", 0))
            cpus.append(r.get("timings_ms", {}).get("cpu", 0))
        n = len(names)
        if not n:
            continue
        peak = peaks.get(level, "") if with_peak else ""
        peak = f"{int(peak) // 1024}MB" if peak else ""
        gcol = f"{gen / n:6.1%}" if with_peak else "     -"
        print(f"{level:14} {n:6d} {fo / max(nf, 1):7.1%} {full / n:6.1%} {rev / n:7.1%} {wrong / n:7.1%} {typ / n:6.1%} {gcol}"
              f" {pct(times, 0.5):6.0f}ms {pct(times, 0.95):6.0f}ms"
              + (f" {pct(cpus, 0.5):6.0f}ms {pct(cpus, 0.95):6.0f}ms" if with_peak else f" {'-':>8} {'-':>8}")
              + f" {peak:>7}")

def score_pairs(path):
    pairs = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
    if not pairs:
        return
    print("\none identity from two images (motcuactl recognize --pair FRONT BACK), per card")
    print(f"{'level':14} {'cards':>6} {'fields':>7} {'full':>6} {'review':>7} {'wrong!':>7} {'agree':>6}")
    for level in order + ["all"]:
        sel = [p for p in pairs if level == "all" or p.get("pair_level") == level]
        if not sel:
            continue
        nf = fo = full = rev = wrong = agree = 0
        for p in sel:
            fr, bk = truth.get(p.get("front_file")), truth.get(p.get("back_file"))
            if not fr or not bk:
                continue
            want = dict(bk["fields"]); want.update(fr["fields"])
            fields = p.get("fields", {})
            good = sum(1 for k, v in want.items() if k in fields and fields[k] == v)
            nf += len(want); fo += good
            exact = good == len(want)
            full += exact
            flagged = bool(p.get("needs_review", True))
            rev += flagged
            wrong += (not exact) and not flagged
            agree += p.get("checks", {}).get("qr_mrz") == "agree"
        n = len(sel)
        print(f"{level:14} {n:6d} {fo / max(nf, 1):7.1%} {full / n:6.1%} {rev / n:7.1%} {wrong / n:7.1%} {agree / n:6.1%}")

print("columns: fields = per-field exact match; full = type and every field exact; review = flagged for")
print("review; wrong! = not exact and not flagged; type = document type right; gen = card generation right;")
print("times per image, one core: wall (median, p95) and the worker's processor time (cpu: what an")
print("image costs on an idle core, whatever else the machine runs); peak = the worker's peak")
print("memory (one worker per level)")
score(load(sys.argv[2]), "motcua-recognize (zbar raw + OCR-B template reader + tesseract vie)", True)
score_pairs(sys.argv[5])
base = load(sys.argv[3])
if base:
    score(base, "baseline: zbarimg --raw + tesseract (default settings, eng) through the same parsers", False)
PY
echo "motcua-recognize wall time for all images and pairs: $(echo "$end - $start" | bc) s"
