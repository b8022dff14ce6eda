#!/bin/bash
# Chip-read bench (issue 18): full reads of the emulated card through pcscd and Debian's
# vpcd virtual reader: BAC + EF.COM + EF.SOD + DG1 + DG2 (the face) + DG13 + passive
# authentication, by the sandboxed motcua-chip, with extended-length APDUs and with short
# ones only.  Medians of CHIP_ROUNDS reads.  The card is a Python emulator on loopback, so
# the times bound the reader's side, not a real chip's (a real contactless read of a ~20 KB
# face takes seconds).  Measures, never asserts.  Usage: tests/bench/chip.sh BUILD
set -eu
build=${1:-build}
MOTCUA_TOP=$(cd "$(dirname "$0")/../.." && pwd)
MOTCUA_BUILD=$MOTCUA_TOP/$build
export MOTCUA_TOP MOTCUA_BUILD
. "$MOTCUA_TOP/tests/chip/lib.sh"
chip_ns_enter "$0" "$@"
. "$MOTCUA_TOP/tests/integration/lib.sh"
. "$MOTCUA_TOP/tests/chip/lib.sh"
chip_check_tools >/dev/null
rounds=${CHIP_ROUNDS:-5}
chip_face "$T/face.jpg"
chip_make "$T/card" good
chip_start_pcscd
REQ=$(chip_request "$(jq -r .bac.document_number "$T/card/card.json")" \
	"$(jq -r .bac.birth "$T/card/card.json")" "$(jq -r .bac.expiry "$T/card/card.json")")
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
echo "chip bench: face $(stat -c %s "$T/face.jpg") bytes, $rounds reads each, medians (ms)"
printf '%-10s %8s %8s %8s %8s %8s %6s\n' reader total bac read pa wall apdus
for mode in extended short; do
	: >"$T/times"
	for i in $(seq "$rounds"); do
		if [ $mode = short ]; then chip_insert "$T/card" --short-only; else chip_insert "$T/card"; fi
		s=$(date +%s%N)
		chip_worker "$REQ" "$T/r.json" >/dev/null
		e=$(date +%s%N)
		chip_remove
		[ "$(jq -r .verified "$T/r.json")" = true ] || { echo "read $i not verified"; jq -c 'del(.face)' "$T/r.json"; exit 1; }
		jq -r --arg w $(((e - s) / 1000000)) '[.timings_ms.total, .timings_ms.bac, .timings_ms.read, .timings_ms.pa, ($w|tonumber), .apdus] | @tsv' "$T/r.json" >>"$T/times"
	done
	cols=()
	for c in 1 2 3 4 5 6; do cols+=("$(cut -f$c "$T/times" | median)"); done
	printf '%-10s %8.1f %8.1f %8.1f %8.1f %8.1f %6s\n' $mode "${cols[@]}"
done
