#!/bin/bash
# An official's morning in a real browser (tests/browser/morning.test.js: Debian's Chromium,
# playwright-core, JavaScript off, 1024x768): a ticket called, an ID card scan recognised and
# corrected, a birth registration dossier opened for it with three papers, accepted, its
# receipt opened, a certified copy issued; a citizen's phone (375 px) checks the seal and
# tracks the dossier.  Refused forms keep their values; no page shows English or internal
# keys; axe-core finds no serious violation; the corrected name reaches the dossier and the
# receipt (the LGSP body carries no name at all: only the number's last 4 digits go upstream).  Screenshots in BUILD/browser-artifacts/morning-*.png.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/copies_lib.sh"
[ -x /usr/bin/chromium ] || skip "Debian's chromium is not installed (make deps)"
{ command -v node && command -v npm; } >/dev/null || skip "node and npm are needed for playwright-core"
[ -x "$MOTCUA_BUILD/motcua-recognize" ] || skip "motcua-recognize not built"
[ -f /usr/share/fonts/opentype/ocr-b/OCRB.otf ] || skip "fonts-ocr-b is not installed"
command -v jq >/dev/null || skip "jq is not installed"
B=$MOTCUA_TOP/tests/browser
if [ ! -d "$B/node_modules/playwright-core" ] || [ ! -d "$B/node_modules/axe-core" ]; then
	step "npm ci in tests/browser (first run)"
	(cd "$B" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci failed"
fi
ART=$MOTCUA_BUILD/browser-artifacts
mkdir -p "$ART"
rm -f "$ART"/morning-*

mkdir -m 700 "$T/keys"
ctl keys init --test --dir "$T/keys" >/dev/null || fail "keys init --test failed"
write_config
cat >>"$CONF" <<EOF2
[gateway]
agency_code = 000.00.18.H26
commune_name = Xã Thử Nghiệm
[dossier]
catalogue = $MOTCUA_TOP/data/procedures.json
calendar = $MOTCUA_TOP/data/calendar.json
[queue]
ticket_printer = none
[usb]
usb_hotplug = no
[recognize]
workers = 1
timeout_s = 30
EOF2
sign_config "$T/keys/test-signing.key" "$T/keys/test-signing.crt"
daemon_start
echo "morning-password-1" | ctl users add an --role staff >/dev/null
for n in "To khai" "Giay chung sinh" "Giay to tuy than"; do
	mkdoc "$T/$n.pdf" 2500
done

step "the morning in Chromium (JavaScript off, 1024x768), then the citizen's phone (375 px)"
MOTCUA_URL=$(web_url) STAFF_NAME=an STAFF_PASSWORD=morning-password-1 \
	CARD_JPG=$MOTCUA_TOP/tests/data/cards/clean-000-front.jpg \
	PAPERS="$T/To khai.pdf,$T/Giay chung sinh.pdf,$T/Giay to tuy than.pdf" DB=$STATE/motcua.db \
	ARTIFACTS=$ART node "$B/morning.test.js" | tee "$T/morning.out" || fail "the morning failed (screenshots in $ART)"
grep -q '^FAIL' "$T/morning.out" && fail "the morning failed (screenshots in $ART)"

step "the LGSP body carries no name (upstream only the number's last 4 digits), so no stale one either"
code=$(sql "SELECT code FROM dossiers WHERE state = 'accepted'")
oid=$(sql "SELECT outbox_id FROM dossiers WHERE code = '$code'")
sql "SELECT body FROM outbox_bodies WHERE outbox_id = $oid" >"$T/body.json"
grep -q '"id_last4"' "$T/body.json" || fail "no LGSP body for $code: $(head -c 400 "$T/body.json")"
recognised=$(ctl --json doc show "$(sql "SELECT applicant_doc FROM dossiers WHERE code = '$code'")" | jq -r .result.fields.full_name)
grep -q "Trần Văn Sửa\|$recognised" "$T/body.json" && fail "the LGSP body carries a name: $(head -c 400 "$T/body.json")"
[ "$(sql "SELECT applicant_name FROM dossiers WHERE code = '$code'")" = "Trần Văn Sửa" ] || fail "the stored dossier lacks the corrected name"
ok "dossier $code: stored with Trần Văn Sửa, body without a name; $(grep '^figures' "$T/morning.out")"
daemon_stop
