#!/bin/bash
# make lint: banned C functions and the .clang-format layout, over every C file of ours.
# Usage: tools/lint.sh [--fix]   (--fix rewrites the layout in place)
set -u
cd "$(dirname "$0")/.."
fix=0
[ "${1:-}" = "--fix" ] && fix=1
mapfile -t files < <(git ls-files '*.c' '*.h' 2>/dev/null; git ls-files --others --exclude-standard '*.c' '*.h' 2>/dev/null)
status=0

# Banned: unbounded or unsafe string and process functions (STYLE.md).
banned='\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|gets|system)[[:space:]]*\('
if hits=$(grep -nE "$banned" "${files[@]}" | grep -vE '^\S+:[0-9]+:\s*(\*|//|/\*)'); then
	echo "lint: banned functions (use snprintf, strtol, strtok_r, fork/exec...):"
	echo "$hits" | sed 's/^/  /'
	status=1
fi

for f in "${files[@]}"; do
	[ -f "$f" ] || continue
	if [ $fix = 1 ]; then
		clang-format -i "$f"
	elif ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
		echo "lint: $f is not laid out as .clang-format says (fix: tools/lint.sh --fix)"
		status=1
	fi
done
[ $status = 0 ] && echo "lint: ${#files[@]} files clean"
exit $status
