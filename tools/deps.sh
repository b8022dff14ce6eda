#!/bin/sh
# Install the Debian packages given as arguments that are not installed yet.
# With --if-missing, do nothing (quietly) when all of them are already there.
set -eu
quiet=0
if [ "${1:-}" = "--if-missing" ]; then quiet=1; shift; fi
missing=""
for p in "$@"; do
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	case "$st" in ii*) ;; *) missing="$missing $p" ;; esac
done
if [ -z "$missing" ]; then
	[ "$quiet" = 1 ] || echo "deps: all $# packages are installed"
	exit 0
fi
echo "deps: installing:$missing"
if [ "$(id -u)" != 0 ]; then
	echo "deps: not root; run as root: apt-get install$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
