#!/bin/bash
# A scan lands in the store like any other document: SANE's `test` backend (the only backend
# in a private SANE_CONFIG_DIR) is listed by `motcuactl scan list`; `motcuactl scan test:0`
# stores one page as a PNG document (kind scan, source scanner) with its outbox item, and
# `doc get` returns a PNG of the configured resolution; an unknown scanner is refused by
# name and stores nothing.
set -eu
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "jq is not installed"
[ -e /usr/lib/x86_64-linux-gnu/sane/libsane-test.so.1 ] || ls /usr/lib/*/sane/libsane-test.so* >/dev/null 2>&1 ||
	skip "SANE's test backend is not installed (libsane1)"

mkdir -p "$T/sane"
echo test >"$T/sane/dll.conf"
export SANE_CONFIG_DIR=$T/sane
write_config
cat >>"$CONF" <<'EOF2'
[usb]
usb_hotplug = no
[scanner]
scan_resolution = 100
scan_mode = gray
EOF2
daemon_start 20

step "scan list shows the test backend's devices"
ctl --json scan list >"$T/list"
jq -e '.scanners[] | select(.name == "test:0")' "$T/list" >/dev/null || fail "test:0 is not listed: $(cat "$T/list")"
ok "$(jq -r '[.scanners[].name] | join(", ")' "$T/list")"

step "a page scanned on test:0 is stored as a PNG document"
id=$(ctl scan test:0) || fail "scan test:0 failed"
[ -n "$id" ] || fail "scan printed no document id"
ctl --json doc list >"$T/docs"
[ "$(jq -r --arg id "$id" '.documents[] | select(.id == $id) | .kind + " " + .source + " " + .content_type' "$T/docs")" = \
	"scan scanner image/png" ] || fail "document $id is not a PNG scan from the scanner: $(cat "$T/docs")"
ctl doc get "$id" -o "$T/page.png" || fail "doc get $id failed"
python3 - "$T/page.png" <<'PY' || fail "the stored scan is not a sensible PNG"
import struct, sys
d = open(sys.argv[1], 'rb').read()
assert d[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
w, h = struct.unpack('>II', d[16:24])
# the test backend's default page is 80 x 100 mm: at 100 dpi about 315 x 394 dots
assert 250 < w < 400 and 300 < h < 500, (w, h)
print('   png', w, 'x', h)
PY
items=$(ctl --json outbox list | jq --arg id "$id" '[.items[] | select(.ref == $id)] | length')
[ "$items" = 1 ] || fail "the scan has $items outbox items, not 1"
ok "document $id, one outbox item"

step "an unknown scanner is refused by name and stores nothing"
before=$(ctl --json doc list | jq '.documents | length')
ctl scan nosuch:0 >"$T/out" 2>&1 && fail "scan nosuch:0 succeeded"
grep -q "nosuch:0" "$T/out" || fail "the refusal does not name the scanner: $(cat "$T/out")"
[ "$(ctl --json doc list | jq '.documents | length')" = "$before" ] || fail "a failed scan stored a document"
ok "$(cat "$T/out")"
daemon_stop
