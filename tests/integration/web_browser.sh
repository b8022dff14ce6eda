#!/bin/bash
# The staff page in a real browser: Debian's Chromium, driven by playwright-core
# (tests/browser/web.test.js), with JavaScript on and off; axe-core on every page.
# Screenshots are kept in BUILD/browser-artifacts/.
set -eu
. "$(dirname "$0")/lib.sh"
[ -x /usr/bin/chromium ] || skip "Debian's chromium is not installed (make deps)"
{ command -v node && command -v npm; } >/dev/null || skip "node and npm are needed for playwright-core"
B=$MOTCUA_TOP/tests/browser
if [ ! -d "$B/node_modules/playwright-core" ] || [ ! -d "$B/node_modules/axe-core" ]; then
	step "npm ci in tests/browser (first run)"
	(cd "$B" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci failed"
fi
ART=$MOTCUA_BUILD/browser-artifacts
rm -rf "$ART"; mkdir -p "$ART"

write_config
daemon_start
step "an admin, two queued documents, a pending device"
echo "browser-admin-pw-1" | ctl users add chi --role admin >/dev/null
mkdoc "$T/a.pdf" 3000; put_ok "$T/a.pdf" >/dev/null
mkdoc "$T/b.pdf" 4000; put_ok "$T/b.pdf" >/dev/null
dev=
if [ "$(sql "SELECT COUNT(*) FROM sqlite_master WHERE name = 'devices'")" = 1 ]; then
	now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	# As a device's hello over MQTT leaves it (the MQTT side has its own tests).
	# Staff type the pairing code the device shows (docs/mqtt.md 3), computed here as the
	# device would from its claim id.
	codes=
	for n in 1 2; do
		claim=claim-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
		sql "INSERT INTO devices(id, serial, kind, model, firmware, capabilities, state, claim_client, created_at, updated_at)
		     VALUES('kiosk-$n', 'SN-BROWSER-$n', 'kiosk', 'KX-100', '1.2.0', '[]', 'pending', '$claim', '$now', '$now')"
		codes=$codes${codes:+,}$(python3 -c 'import hashlib,sys; print("%06d" % (int.from_bytes(hashlib.sha256(b"motcua-pairing-code:" + sys.argv[1].encode()).digest()[:4], "big") % 1000000))' "$claim")
	done
	dev=kiosk-1,kiosk-2
else
	echo "   devices are not in this build: the approval step is skipped (visibly, in the log)"
fi
python3 - "$T/scan.png" <<'PY'
import struct, sys, zlib
w, h = 320, 200
raw = b''.join(b'\x00' + bytes((x * 3 + y) % 256 for x in range(w * 3)) for y in range(h))
def chunk(t, d):
    return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
open(sys.argv[1], 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
                              + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
PY

step "Chromium: JavaScript on, then off"
MOTCUA_URL=$(web_url) ADMIN_NAME=chi ADMIN_PASSWORD=browser-admin-pw-1 SCAN_PNG=$T/scan.png \
	DEVICE_IDS=$dev DEVICE_CODES=${codes:-} BACKLOG=2 ARTIFACTS=$ART node "$B/web.test.js" || fail "browser flows failed (screenshots in $ART)"
[ -z "$dev" ] || [ "$(sql "SELECT COUNT(*) FROM devices WHERE state = 'approved'")" = 2 ] ||
	fail "the two devices are not approved in the store"
[ "$(sql "SELECT COUNT(*) FROM documents WHERE source = 'web'")" = 2 ] || fail "the two uploads are not in the store"
ctl audit verify >/dev/null || fail "audit chain"
ok "screenshots: $(find "$ART" -name '*.png' | wc -l) in $ART"
daemon_stop
