# shellcheck shell=bash
# Helpers for the certified-copy scenarios (sourced after lib.sh, not run).
SIGNER=$MOTCUA_BUILD/motcua-signer
[ -x "$SIGNER" ] || skip "$SIGNER not built (make all)"
for _c in pdfsig qpdf pdftoppm zbarimg python3 openssl; do
	command -v "$_c" >/dev/null || skip "$_c is not installed (make deps)"
done

# sign_config KEY CERT [LINE...]: appends a [sign] section using the built signer; the
# signer's record is signatures.log beside the key unless a "record = " line is given.
sign_config() {
	local key=$1 cert=$2
	shift 2
	{
		echo "[sign]"
		echo "signer = $SIGNER"
		echo "key = $key"
		echo "cert = $cert"
		printf '%s\n' "$@"
	} >>"$CONF"
	grep -q '^user' <(printf '%s\n' "$@") || echo "user =" >>"$CONF"
	grep -q '^record' <(printf '%s\n' "$@") || echo "record = $(dirname "$key")/signatures.log" >>"$CONF"
}

# make_scan FILE.jpg [DPI]: a synthetic JPEG scan (no personal data), never re-encoded later.
make_scan() {
	local out=$1 dpi=${2:-60}
	[ -d "$T/syn" ] || python3 "$MOTCUA_TOP/tools/gen-synthetic.py" "$T/syn" 1 >/dev/null
	pdftoppm -jpeg -r "$dpi" -singlefile "$T"/syn/*.pdf "${out%.jpg}" || fail "pdftoppm failed"
}

# flip FILE OFFSET: XOR one byte of FILE at OFFSET with 0x01.
flip() {
	python3 - "$1" "$2" <<'PY'
import sys
p, o = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read())
b[o] ^= 1
open(p, "wb").write(b)
PY
}

# jpeg_offset PDF: an offset 300 bytes into the embedded scan's JPEG stream.
jpeg_offset() {
	python3 - "$1" <<'PY'
import sys
b = open(sys.argv[1], "rb").read()
i = b.index(b"/Filter /DCTDecode")
s = b.index(b"stream\n", i) + 7
assert b[s:s + 2] == b"\xff\xd8", "no JPEG after the image dictionary"
print(s + 300)
PY
}

# pdfsig_valid PDF: pdfsig's own words (its exit status is 0 even for a mismatch).
pdfsig_valid() {
	local out
	out=$(pdfsig "$1" 2>&1)
	grep -q "Signature is Valid" <<<"$out" && grep -q "Total document signed" <<<"$out"
}
