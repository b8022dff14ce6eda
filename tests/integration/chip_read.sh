#!/bin/bash
# Reading an ID card's chip through pcscd with the emulated card (issue 18): a good card is
# read and verified (BAC, DG1, DG2 face, DG13 Vietnamese fields, passive authentication);
# a wrong MRZ is refused; a data group altered after signing, an SOD under a CSCA outside the
# trust list and an expired Document Signer each fail exactly their check; a card pulled out
# mid-read is reported as such; a reader without extended length gets chunked reads; active
# authentication tells a chip with its own key from a clone; a JPEG 2000 face comes back as
# JPEG.  The worker runs sandboxed, as motcuad runs it.
set -eu
MOTCUA_TOP=${MOTCUA_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$MOTCUA_TOP/tests/chip/lib.sh"
chip_ns_enter "$0" "$@"
. "$MOTCUA_TOP/tests/integration/lib.sh"
. "$MOTCUA_TOP/tests/chip/lib.sh"
chip_check_tools

step "test PKI, cards and our own pcscd"
chip_face "$T/face.jpg"
for v in good altered foreign expired; do chip_make "$T/card-$v" $v; done
chip_start_pcscd
DOC=$(jq -r .bac.document_number "$T/card-good/card.json")
BIRTH=$(jq -r .bac.birth "$T/card-good/card.json")
EXPIRY=$(jq -r .bac.expiry "$T/card-good/card.json")
REQ=$(chip_request "$DOC" "$BIRTH" "$EXPIRY")

step "a good card: read, every check passed"
chip_insert "$T/card-good"
chip_worker "$REQ" "$T/good.json"
chip_remove
R=$T/good.json
expect "$R" .ok true "the read succeeded"
expect "$R" .access_control BAC "BAC opened the chip"
expect "$R" .extended_length true "the virtual reader took extended-length APDUs"
expect "$R" .verified true "passive authentication passed"
for c in signature csca_trusted ds_valid_at_signing all_hashes; do
	expect "$R" ".passive_authentication.$c" true "check $c passed"
done
expect "$R" '.passive_authentication.hashes | keys | join(",")' "DG1,DG13,DG2" "DG1, DG2 and DG13 hashed"
expect "$R" .fields.full_name "$(jq -r .full_name "$T/card-good/card.json")" "the full name with diacritics (DG13)"
expect "$R" .fields.id_number "$(jq -r .id_number "$T/card-good/card.json")" "the ID number"
expect "$R" .fields.date_of_birth 1992-07-14 "the birth date, as recognition writes dates"
expect "$R" .fields.sex F "the sex"
expect "$R" .fields.father_name "$(jq -r .father_name "$T/card-good/card.json")" "the father's name"
expect "$R" .fields.mother_name "$(jq -r .mother_name "$T/card-good/card.json")" "the mother's name"
expect "$R" .fields.spouse_name "$(jq -r .spouse_name "$T/card-good/card.json")" "the spouse's name"
expect "$R" .fields.place_of_origin "$(jq -r .place_of_origin "$T/card-good/card.json")" "the place of origin"
expect "$R" '.mrz[2]' "$(jq -r '.mrz[2]' "$T/card-good/card.json")" "the MRZ from DG1"
got=$(jq -r .face.jpeg "$R" | base64 -d | sha256sum | cut -d' ' -f1)
[ "$got" = "$(jq -r .face_sha256 "$T/card-good/card.json")" ] || fail "the face image differs from the card's"
ok "the face image is the card's, byte for byte"
expect "$R" .active_authentication.reason "no DG15" "no active authentication without DG15"
grep -q "DG13" "$T/pcscd.log" && fail "card data in pcscd's log?" || true

step "a wrong MRZ: the chip refuses BAC"
chip_insert "$T/card-good"
chip_worker "$(chip_request "$DOC" "$BIRTH" 330101)" "$T/wrong.json"
chip_remove
expect "$T/wrong.json" .ok false "no read"
expect "$T/wrong.json" .error access_denied "the refusal says access denied"
expect "$T/wrong.json" .stage BAC "at BAC"
expect "$T/wrong.json" '.fields | length' 0 "no field came out"

step "DG13 altered after signing: only its hash fails"
chip_insert "$T/card-altered"
chip_worker "$REQ" "$T/altered.json"
chip_remove
R=$T/altered.json
expect "$R" .ok true "the card was read"
expect "$R" .verified false "not verified"
expect "$R" .passive_authentication.signature true "the signature itself holds"
expect "$R" .passive_authentication.csca_trusted true "the chain holds"
expect "$R" .passive_authentication.hashes.DG13 false "DG13's hash differs"
expect "$R" .passive_authentication.hashes.DG1 true "DG1's hash is right"
expect "$R" '.passive_authentication.failed | join(",")' all_hashes "only all_hashes failed"

step "an SOD signed under a CSCA not in the trust list"
chip_insert "$T/card-foreign"
chip_worker "$REQ" "$T/foreign.json"
chip_remove
R=$T/foreign.json
expect "$R" .verified false "not verified"
expect "$R" .passive_authentication.signature true "the signature holds"
expect "$R" .passive_authentication.csca_trusted false "the chain to our CSCAs fails"
expect "$R" .passive_authentication.all_hashes true "the hashes are right"
expect "$R" '.passive_authentication.failed | join(",")' csca_trusted "only csca_trusted failed"

step "an expired Document Signer"
chip_insert "$T/card-expired"
chip_worker "$REQ" "$T/expired.json"
chip_remove
R=$T/expired.json
expect "$R" .verified false "not verified"
expect "$R" .passive_authentication.csca_trusted true "it chains to our CSCA"
expect "$R" .passive_authentication.ds_valid_at_signing false "but was expired when it signed"
expect "$R" '.passive_authentication.failed | join(",")' ds_valid_at_signing "only that check failed"

step "the card pulled out mid-read"
chip_insert "$T/card-good" --remove-after 12
chip_worker "$REQ" "$T/removed.json"
chip_remove
expect "$T/removed.json" .ok false "no read"
expect "$T/removed.json" .error card_removed "the error says the card was removed"

step "a reader that only does short APDUs: chunked reads, same result"
chip_insert "$T/card-good" --short-only
chip_worker "$REQ" "$T/short.json"
chip_remove
R=$T/short.json
expect "$R" .extended_length false "extended length detected as missing"
expect "$R" .verified true "verified"
got=$(jq -r .face.jpeg "$R" | base64 -d | sha256sum | cut -d' ' -f1)
[ "$got" = "$(jq -r .face_sha256 "$T/card-good/card.json")" ] || fail "chunked face differs"
ok "the face read in 223-byte chunks is the same"
[ "$(jget "$R" .apdus)" -gt "$(jget "$T/good.json" .apdus)" ] || fail "no more APDUs when chunked?"
ok "more APDUs than with extended length ($(jget "$R" .apdus) vs $(jget "$T/good.json" .apdus))"

step "active authentication: a chip with DG15 signs our challenge; a cloned chip cannot"
chip_make "$T/card-aa" aa
chip_make "$T/card-clone" aa-clone
chip_insert "$T/card-aa"
chip_worker "$REQ" "$T/aa.json"
chip_remove
R=$T/aa.json
expect "$R" .active_authentication.performed true "active authentication performed"
expect "$R" .active_authentication.passed true "the chip's signature matches DG15"
expect "$R" .passive_authentication.hashes.DG15 true "DG15 is covered by the SOD"
expect "$R" .verified true "verified"
chip_insert "$T/card-clone"
chip_worker "$REQ" "$T/clone.json"
chip_remove
R=$T/clone.json
expect "$R" .passive_authentication.passed true "the copied data passes passive authentication"
expect "$R" .active_authentication.passed false "but the chip cannot sign for DG15's key"
expect "$R" .verified false "so the card is not verified"

step "a JPEG 2000 face is handed back as JPEG"
convert "$T/face.jpg" -quality 35 "$T/face.jp2"
chip_make "$T/card-jp2" good "$T/face.jp2"
chip_insert "$T/card-jp2"
chip_worker "$(chip_request "$DOC" "$BIRTH" "$EXPIRY")" "$T/jp2.json"
chip_remove
R=$T/jp2.json
expect "$R" .face.original_format jpeg2000 "the card held JPEG 2000"
expect "$R" .face.converted true "converted"
jq -r .face.jpeg "$R" | base64 -d >"$T/jp2-out.jpg"
identify "$T/jp2-out.jpg" | grep -q "JPEG 240x320" || fail "not a 240x320 JPEG: $(identify "$T/jp2-out.jpg")"
ok "a 240x320 JPEG"
echo "PASS"
