#!/bin/sh
# Builds the motcua .deb from the working tree: stages the tree (tracked and new files,
# not the ignored ones) with packaging/debian as debian/, runs dpkg-buildpackage, moves
# the results to OUTDIR and runs lintian, which must report no error and no warning.
# Usage: packaging/build-deb.sh VERSION OUTDIR
set -eu

version=${1:?usage: build-deb.sh VERSION OUTDIR}
out=${2:?usage: build-deb.sh VERSION OUTDIR}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

die() { echo "build-deb: $*" >&2; exit 1; }

for tool in dpkg-buildpackage dh lintian git; do
	command -v "$tool" >/dev/null || die "$tool is missing; run: make deps"
done

# The package version is the project version: debian/changelog must agree with the Makefile.
clver=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
[ "$clver" = "$version" ] ||
	die "packaging/debian/changelog says $clver but the Makefile's VERSION is $version; add a changelog entry (dch -c packaging/debian/changelog -v $version)"

# Every pkg-config module the Makefile and its fragments use (variables named *PKGS) must
# come from a -dev package listed in Build-Depends, or a clean build would fail.
builddeps=$(awk '/^Build-Depends:/ { on = 1; sub(/^Build-Depends:/, ""); print; next }
	on && /^[ \t]/ { print; next } { on = 0 }' packaging/debian/control |
	tr ',|' '\n\n' | sed 's/[[(<].*//; s/[[:space:]]//g' | grep -v '^$')
modules=$(printf 'include Makefile\nprint-pkgs:\n\t@echo $(sort $(foreach v,$(filter %%PKGS,$(.VARIABLES)),$($(v))))\n' |
	make -s --no-print-directory -f - print-pkgs)
missing=
for m in $modules; do
	pc=$(pkg-config --path "$m" 2>/dev/null) || die "pkg-config module $m is not installed; run: make deps"
	pkg=$(dpkg -S "$(readlink -f "$pc")" 2>/dev/null | head -n 1 | cut -d: -f1)
	[ -n "$pkg" ] || die "no Debian package owns $pc (pkg-config module $m)"
	echo "$builddeps" | grep -qx "$pkg" || missing="$missing $pkg($m)"
done
[ -z "$missing" ] ||
	die "the build uses pkg-config modules whose -dev packages packaging/debian/control does not list in Build-Depends; add:$missing"

mkdir -p "$out"
out=$(cd "$out" && pwd)
stage=$out/src
src=$stage/motcua-$version
rm -rf "$stage"
mkdir -p "$src"

# Fuzz corpora churn while fuzzers run and are not part of the package; a file that goes
# away between the listing and tar is skipped.
git ls-files -z --cached --others --exclude-standard -- . ':!tests/fuzz/corpus' |
	xargs -0 sh -c 'for f; do [ -f "$f" ] && printf "%s\0" "$f"; done' sh |
	tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$src"
rm -rf "$src/debian"
cp -a packaging/debian "$src/debian"

arch=$(dpkg --print-architecture)
echo "build-deb: building motcua $version for $arch in $src"
(cd "$src" && dpkg-buildpackage -b --no-sign -j"$(nproc)") >"$stage/build.log" 2>&1 ||
	{ tail -n 40 "$stage/build.log" >&2; die "dpkg-buildpackage failed; full log: $stage/build.log"; }

deb=motcua_${version}_${arch}.deb
for f in "$stage"/motcua*_"${version}"_"${arch}".*; do
	if [ -e "$f" ]; then mv -f "$f" "$out/"; fi
done
[ -e "$out/$deb" ] || die "dpkg-buildpackage made no $deb; see $stage/build.log"

echo "build-deb: lintian $out/motcua_${version}_${arch}.changes"
lintian --fail-on error,warning --display-info "$out/motcua_${version}_${arch}.changes" ||
	die "lintian reports errors or warnings (above); fix them or add a commented override in packaging/debian/motcua.lintian-overrides"
rm -rf "$stage"
echo "build-deb: $out/$deb"
