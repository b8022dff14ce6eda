#!/bin/bash
# Every image that comes in is queued for recognition through the store and read by
# motcuad's pool of sandboxed workers: results are stored with the document (an encrypted
# blob: the citizen's name appears nowhere in the state directory in clear), audited, and
# low confidence or a damaged image flags the document for review.  A card's front and back
# from one source within [recognize] pair_window_s are recorded as one identity with the
# QR-MRZ cross-check (stored encrypted, audited, shown by doc show); a front with another
# card's back is paired flagged, the differing fields named.  A worker that hangs is
# killed at [recognize] timeout_s and restarted; after three attempts the document is marked
# failed (audited) and the daemon kept answering throughout.
set -eu
. "$(dirname "$0")/lib.sh"
[ -x "$MOTCUA_BUILD/motcua-recognize" ] || skip "motcua-recognize not built"
[ -f /usr/share/fonts/opentype/ocr-b/OCRB.otf ] || skip "fonts-ocr-b is not installed"
DATA=$MOTCUA_TOP/tests/data/cards

wait_done() { # N: until N recognitions are done or failed
	for _ in $(seq 300); do
		[ "$(sql "SELECT COUNT(*) FROM recognitions WHERE state IN ('done','failed')")" -ge "$1" ] && return 0
		sleep 0.1
	done
	sql "SELECT doc_id, state, attempts FROM recognitions"
	fail "recognition did not finish"
}

write_config
printf '[recognize]\nworkers = 2\ntimeout_s = 30\n' >>"$CONF"
daemon_start

step "images and a PDF come in"
head -c 20000 "$DATA/clean-000-back.jpg" >"$T/truncated.jpg"
printf '%%PDF-1.4\n%%%%EOF\n' >"$T/doc.pdf"
front=$(put_ok "$DATA/upside-000-front.jpg")
back=$(put_ok "$DATA/upside-000-back.jpg")
doc=$(put_ok "$DATA/clean-doc-000.jpg")
bad=$(put_ok "$T/truncated.jpg")
pdf=$(put_ok "$T/doc.pdf")
t0=$(date +%s%N)
ctl status >/dev/null || fail "status while recognising"
ok "motcuad answered status in $((($(date +%s%N) - t0) / 1000000)) ms while recognising"
wait_done 4
[ "$(sql "SELECT COUNT(*) FROM recognitions WHERE doc_id='$pdf'")" = 0 ] || fail "a PDF was queued"
ok "4 images recognised, the PDF not queued"

row() { sql "SELECT state || ' ' || type || ' ' || needs_review || ' ' || (confidence >= 0.7) FROM recognitions WHERE doc_id='$1'"; }
[ "$(row "$front")" = "done id_card_front 0 1" ] || fail "front: $(row "$front")"
[ "$(row "$back")" = "done id_card_back 0 1" ] || fail "back: $(row "$back")"
[ "$(row "$doc")" = "done marriage_certificate 0 1" ] || fail "document: $(row "$doc")"
[ "$(row "$bad")" = "done other 1 0" ] || fail "damaged image: $(row "$bad")"
ok "front, back (upside down), document type read; the damaged image flagged for review"

pair() { sql "SELECT front_doc || ' ' || back_doc || ' ' || agree || ' ' || needs_review || ' ' || how FROM recog_pairs WHERE front_doc='$1'"; }
[ "$(pair "$front")" = "$front $back 1 0 same_source" ] || fail "the card's two sides not paired: $(sql "SELECT * FROM recog_pairs")"
ctl --json doc show "$back" >"$T/show.json" || fail "doc show"
python3 - "$T/show.json" "$DATA/truth.jsonl" <<'PY' || fail "doc show lacks the identity"
import json, sys
v = json.load(open(sys.argv[1], encoding="utf-8"))
v = v.get("recognition", v)
truth = {json.loads(l)["file"]: json.loads(l) for l in open(sys.argv[2], encoding="utf-8")}
want = dict(truth["upside-000-back.jpg"]["fields"]); want.update(truth["upside-000-front.jpg"]["fields"])
def find(o):
    if isinstance(o, dict):
        if "identity" in o:
            return o["identity"]
        for x in o.values():
            r = find(x)
            if r:
                return r
    return None
ident = find(v)
assert ident, "no identity in doc show"
res = ident["result"]
assert res["fields"] == want, (res["fields"], want)
assert res["checks"]["qr_mrz"] == "agree", res["checks"]
PY
ok "front and back from one source: one identity, QR and MRZ agree, shown by doc show"

step "a front with another card's back: paired, flagged, the differing fields named"
other_front=$(put_ok "$DATA/clean-000-front.jpg")
other_back=$(put_ok "$DATA/medium-000-back.jpg")
wait_done 6
for _ in $(seq 100); do [ -n "$(pair "$other_front")" ] && break; sleep 0.1; done
[ "$(pair "$other_front")" = "$other_front $other_back 0 1 same_source" ] || fail "mixed pair: $(sql "SELECT * FROM recog_pairs")"
detail=$(sql "SELECT detail FROM audit WHERE action='identity.paired' AND subject='$other_front'")
echo "$detail" | grep -q '"agree":false' || fail "audit of the mixed pair: $detail"
echo "$detail" | grep -q 'id_number' || fail "the differing field is not named: $detail"
idn=$(python3 -c 'import json,sys; print(next(json.loads(l)["fields"]["id_number"] for l in open(sys.argv[1]) if "clean-000-front" in l))' "$DATA/truth.jsonl")
if sql "SELECT detail FROM audit" | grep -qF "$idn"; then fail "a citizen's number is in the audit"; fi
ok "mixed pair flagged and audited with the field names only ($detail)"

n=$(sql "SELECT COUNT(*) FROM audit WHERE action='document.recognized'")
[ "$n" = 6 ] || fail "$n document.recognized audit rows"
sql "SELECT detail FROM audit WHERE action='document.recognized' AND subject='$front'" | grep -q '"type":"id_card_front"' ||
	fail "audit detail of the front"
ctl audit verify >/dev/null || fail "audit chain broken"
ok "each result audited (type, confidence, review), chain sound"

hash=$(sql "SELECT result_sha256 FROM recognitions WHERE doc_id='$front'")
[ -n "$hash" ] || fail "no result blob"
name=$(python3 -c 'import json,sys; print(next(json.loads(l)["fields"]["full_name"] for l in open(sys.argv[1]) if "upside-000-front" in l))' "$DATA/truth.jsonl")
if grep -rqF "$name" "$STATE"; then fail "the citizen's name is stored in clear"; fi
ok "result kept as blob $hash; the name appears nowhere in clear under the state directory"

step "a worker that hangs is killed and restarted; three timeouts mark the document failed"
daemon_stop
printf '#!/bin/sh\nexec sleep 600\n' >"$T/hang.sh"
chmod +x "$T/hang.sh"
printf 'worker = %s\n' "$T/hang.sh" >>"$CONF"
sed -i 's/^timeout_s = 30/timeout_s = 1/' "$CONF"
daemon_start
stuck=$(put_ok "$DATA/lowres-000-back.jpg")
ctl status >/dev/null || fail "status while the worker hangs"
wait_done 7
[ "$(sql "SELECT state || ' ' || attempts || ' ' || needs_review FROM recognitions WHERE doc_id='$stuck'")" = "failed 3 1" ] ||
	fail "hung document: $(sql "SELECT * FROM recognitions WHERE doc_id='$stuck'")"
[ "$(sql "SELECT COUNT(*) FROM audit WHERE action='document.recognition_failed' AND subject='$stuck'")" = 1 ] ||
	fail "no document.recognition_failed audit row"
if pgrep -f "$T/hang.sh" >/dev/null; then fail "a hung worker was left running"; fi
grep -q "took over 1 s" "$DLOG" || fail "no timeout logged"
ok "3 timeouts, each worker killed, document failed and flagged, audited; daemon answered"
echo PASS
