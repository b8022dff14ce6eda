#!/bin/bash
# The .deb under a real systemd: a bookworm container booted with systemd (systemd-nspawn -b)
# on its own network namespace (loopback only).  The previous release is installed with apt,
# given documents, a dossier, a certified copy and an approved device, then upgraded to this
# tree's package with everything kept; the box is rebooted and motcuad and mosquitto come up
# in order; the signer runs as motcua-sign and motcuad keeps no capability; motcuactl works
# for group motcua only; the staff page answers; `systemctl reload` applies a changed key and
# keeps the running config on a broken one (the reason in the journal); a SIGKILL and a hang
# past WatchdogSec are each followed by a restart with every acknowledged document kept; stop
# and start keep the outbox; remove keeps the data, purge deletes it; a fresh install after
# the purge creates the first admin through the running daemon.
#
# run.sh: background (mostly waits on apt, dpkg and a booting container; its own network namespace)
#
# Commands run inside the container through nsenter(1) into its namespaces (machinectl and
# systemd-run -M need machined, which this environment lacks).  The bookworm tree (with
# systemd-sysv and dbus), apt's .debs and the previous release's .deb are cached in
# $MOTCUA_DEB_SYSTEMD_CACHE (default /var/cache/motcua-test-systemd), apart from
# deb_install.sh's cache so that both run at the same time.  Needs root, systemd-nspawn
# (systemd-container), debootstrap and the network (deb.debian.org) for the first run.
set -eu

top=${MOTCUA_TOP:?run through tests/run.sh (MOTCUA_TOP unset)}
build=${MOTCUA_BUILD:?run through tests/run.sh (MOTCUA_BUILD unset)}
cache=${MOTCUA_DEB_SYSTEMD_CACHE:-/var/cache/motcua-test-systemd}
mirror=${MOTCUA_DEB_MIRROR:-http://deb.debian.org/debian}
security=${MOTCUA_DEB_SECURITY:-http://security.debian.org/debian-security}
# The previous release: the last tag, else the commit main was at before the package was
# first proven under systemd.
prev_ref=${MOTCUA_PREV_REF:-$(git -C "$top" describe --tags --abbrev=0 2>/dev/null || echo 746d1d7)}
max_age_days=14

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $(date +%T) $*"; }
ok() { echo "   ok: $*"; }

[ "$(id -u)" = 0 ] || skip "needs root (systemd-nspawn)"
for tool in systemd-nspawn nsenter debootstrap tar flock dpkg-buildpackage lintian git python3 \
	pdftoppm curl; do
	command -v "$tool" >/dev/null || skip "$tool is not installed (make deps)"
done
[ -x "$build/motcua-device" ] || skip "$build/motcua-device not built (make all)"

host=${mirror#*://}; host=${host%%/*}
if ! timeout 10 bash -c "exec 3<>/dev/tcp/$host/80" 2>/dev/null; then
	[ "${CI:-}" = true ] && fail "cannot reach $host:80 (the Debian mirror)"
	skip "cannot reach $host:80 (the Debian mirror); set MOTCUA_DEB_MIRROR to a reachable one"
fi

# ---- the packages ----------------------------------------------------------------------
step "building this tree's package"
# deb_install.sh builds the same package in the same directory at the same time.
(flock -w 1800 8 || fail "cannot lock $build/deb.lock"
 make -C "$top" --no-print-directory BUILD="$build" deb) 8>"$build/deb.lock"
version=$(sed -n 's/^VERSION *:= *//p' "$top/Makefile")
arch=$(dpkg --print-architecture)
deb=$build/deb/motcua_${version}_${arch}.deb
[ -f "$deb" ] || fail "make deb did not produce $deb"

mkdir -p "$cache/archives" "$cache/prev"
exec 9>"$cache/lock"
flock -w 1800 9 || fail "another deb_systemd run holds $cache/lock"

prev_commit=$(git -C "$top" rev-parse --verify -q "$prev_ref^{commit}") ||
	skip "the previous release $prev_ref is not in this clone (a shallow clone?); set MOTCUA_PREV_REF"
prev_version="$(git -C "$top" show "$prev_commit:Makefile" | sed -n 's/^VERSION *:= *//p')~git${prev_commit:0:7}"
prev_deb=$cache/prev/motcua_${prev_version}_${arch}.deb
if [ ! -f "$prev_deb" ]; then
	step "building the previous release $prev_version (first run only)"
	src=$(mktemp -d /var/tmp/motcua-prev.XXXXXX)
	git -C "$top" archive "$prev_commit" | tar -x -C "$src"
	# Its own version, below this tree's, in a throwaway repository (build-deb lists files with git).
	{ printf 'motcua (%s) bookworm; urgency=medium\n\n  * The release before %s, rebuilt for the upgrade test.\n\n' \
		"$prev_version" "$version"
	  printf ' -- motcua developers <motcua@lists.example.org>  %s\n\n' "$(date -R)"
	  cat "$src/packaging/debian/changelog"; } >"$src/changelog.new"
	mv "$src/changelog.new" "$src/packaging/debian/changelog"
	(cd "$src" && git init -q && git add -A && git -c user.name=test -c user.email=test@invalid commit -qm prev)
	if ! make -C "$src" --no-print-directory BUILD=build VERSION="$prev_version" deb >"$cache/prev/build.log" 2>&1; then
		tail -n 30 "$cache/prev/build.log"
		rm -rf "$src"
		fail "building the previous release failed (log above)"
	fi
	cp "$src/build/deb/$(basename "$prev_deb")" "$prev_deb.tmp"
	mv -f "$prev_deb.tmp" "$prev_deb"
	rm -rf "$src"
fi
dpkg --compare-versions "$prev_version" lt "$version" || fail "$prev_version is not older than $version"

# ---- the cached bookworm with systemd --------------------------------------------------
tarball=$cache/bookworm-systemd.tar
if [ -f "$tarball" ] && [ -n "$(find "$tarball" -mtime +"$max_age_days")" ]; then
	step "cached bookworm is older than $max_age_days days; rebuilding it"
	rm -f "$tarball"
fi
if [ ! -f "$tarball" ]; then
	step "debootstrapping bookworm with systemd-sysv and dbus from $mirror (first run only)"
	boot=$(mktemp -d /var/tmp/motcua-debootstrap.XXXXXX)
	chmod 0755 "$boot"
	if ! debootstrap --variant=minbase --include=systemd-sysv,dbus bookworm "$boot" "$mirror" \
		>"$cache/debootstrap.log" 2>&1; then
		tail -n 20 "$cache/debootstrap.log"
		rm -rf --one-file-system "$boot"
		fail "debootstrap failed (log above, $cache/debootstrap.log)"
	fi
	if mountpoint -q "$boot/proc"; then umount "$boot/proc"; fi
	cat >"$boot/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
EOF
	rm -rf "$boot"/var/cache/apt/archives/*.deb
	tar -C "$boot" -cf "$tarball.tmp" .
	mv -f "$tarball.tmp" "$tarball"
	rm -rf --one-file-system "$boot"
fi

# ---- a fresh copy of it for this run ---------------------------------------------------
root=$(mktemp -d /var/tmp/motcua-deb-systemd.XXXXXX)
chmod 0755 "$root"
logs=$build/test-logs/deb_systemd
rm -rf "$logs"
mkdir -p "$logs"
nspawn="" leader=""
stop_container() {
	[ -n "$nspawn" ] || return 0
	# SIGTERM asks nspawn for an orderly shutdown of the container; SIGKILL of its init
	# ends every process in it.
	kill -TERM "$nspawn" 2>/dev/null || true
	local i
	for i in $(seq 600); do
		kill -0 "$nspawn" 2>/dev/null || break
		[ "$i" = 600 ] && { [ -n "$leader" ] && kill -KILL "$leader" 2>/dev/null; kill -KILL "$nspawn" 2>/dev/null; }
		sleep 0.1
	done
	wait "$nspawn" 2>/dev/null || true
	nspawn="" leader=""
}
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ $rc != 0 ] && [ $rc != 77 ] && [ -n "$leader" ]; then
		echo "---- journal of motcuad and mosquitto in the container (last 60 lines)"
		in_ct journalctl --no-pager -n 60 -u motcuad -u mosquitto 2>&1 || true
	fi
	stop_container
	rm -rf --one-file-system "$root" 2>/dev/null || echo "cleanup: could not remove all of $root" >&2
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step "unpacking the cached bookworm into $root"
tar -C "$root" -xf "$tarball"
chmod 0755 "$root"
flock -u 9
find "$cache/archives" -name '*.deb' -exec cp -t "$root/var/cache/apt/archives/" {} +
mkdir -p "$root/root/motcua"
cp "$deb" "$prev_deb" "$root/root/motcua/"
cp "$build/motcua-device" "$root/usr/local/bin/"
new=/root/motcua/$(basename "$deb")
old=/root/motcua/$(basename "$prev_deb")
echo motcua-box >"$root/etc/hostname"

# nspawn_run CMD...: a command in the tree, not booted, on this machine's network (apt only).
nspawn_run() {
	systemd-nspawn -q --register=no --keep-unit --console=pipe -D "$root" \
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@" 9>&-
}
step "apt fetches what both packages need (the container then runs offline)"
cp /etc/resolv.conf "$root/etc/resolv.conf"
nspawn_run apt-get -q -y update >"$logs/apt-update.log" 2>&1 ||
	{ tail "$logs/apt-update.log"; fail "apt-get update failed"; }
for d in "$old" "$new"; do
	nspawn_run apt-get -q -y --no-install-recommends --download-only install "$d" >>"$logs/apt-download.log" 2>&1 ||
		{ tail "$logs/apt-download.log"; fail "apt could not fetch the dependencies of $d"; }
done
# curl inside is the one tool the checks need that motcua does not pull in.
nspawn_run apt-get -q -y --no-install-recommends install curl >>"$logs/apt-download.log" 2>&1 ||
	{ tail "$logs/apt-download.log"; fail "apt could not install curl"; }
find "$root/var/cache/apt/archives" -name '*.deb' -exec cp -n -t "$cache/archives/" {} +

# ---- the booted container --------------------------------------------------------------
boot_n=0
boot() {
	boot_n=$((boot_n + 1))
	systemd-nspawn --register=no --keep-unit -b -D "$root" --private-network \
		--console=read-only >"$logs/console-$boot_n.log" 2>&1 9>&- &
	nspawn=$!
	leader=
	local i p
	for i in $(seq 600); do
		kill -0 "$nspawn" 2>/dev/null || { cat "$logs/console-$boot_n.log"; fail "systemd-nspawn exited"; }
		# The container's init: nspawn's child that is pid 1 in its own namespace.
		for p in $(pgrep -P "$nspawn" 2>/dev/null); do
			if grep -qE '^NSpid:.*[[:space:]]1$' "/proc/$p/status" 2>/dev/null; then leader=$p; fi
		done
		[ -n "$leader" ] && break
		sleep 0.1
	done
	[ -n "$leader" ] || fail "found no init process of the container"
	# Until its init answers (before that systemctl says "offline"), then until boot is over.
	local st=
	for i in $(seq 600); do
		st=$(timeout 120 nsenter -t "$leader" -m -u -i -n -p -r -w systemctl is-system-running --wait 2>&1 || true)
		case "$st" in
		running|degraded|maintenance|stopping) break ;;
		esac
		sleep 0.2
	done
	if [ "$st" != running ]; then
		in_ct systemctl --no-pager --failed || true
		fail "the container's systemd says '$st' after boot, not 'running'"
	fi
}
# in_ct CMD...: a command as root inside the booted container.
in_ct() {
	nsenter -t "$leader" -m -u -i -n -p -r -w \
		env -i PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
		HOME=/root "$@" 9>&-
}
# as USER CMD...: the same as an ordinary user with that user's groups.
as() { local u=$1; shift; in_ct setpriv --reuid="$u" --regid="$u" --init-groups "$@"; }
# ct_kill SIGNAL PID: the shell's kill inside (the container has no procps).
ct_kill() { in_ct sh -c 'kill -s "$1" "$2"' sh "$@"; }
apt_ct() { in_ct apt-get -q -y -o Dpkg::Use-Pty=0 --no-install-recommends "$@"; }
# wait_until SECONDS CMD...: poll until CMD succeeds.
wait_until() {
	local end=$((SECONDS + $1))
	shift
	while [ "$SECONDS" -lt "$end" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	"$@" >/dev/null 2>&1
}
active() { [ "$(in_ct systemctl is-active "$1")" = active ]; }
main_pid() { in_ct systemctl show -P MainPID motcuad; }
ctl() { in_ct motcuactl "$@"; }
jq_ct() { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }
ready() { in_ct motcuactl status >/dev/null 2>&1; }
# restarted OLDPID: motcuad runs again under another pid and answers.
restarted() { local p; p=$(main_pid); [ "$p" != 0 ] && [ "$p" != "$1" ] && active motcuad && ready; }

step "booting the container with systemd"
boot
ok "systemd is running (boot $boot_n)"

# ---- the previous release, given data --------------------------------------------------
step "apt-get install the previous release $prev_version under systemd"
apt_ct install "$old" >"$logs/install-old.log" 2>&1 || { tail -n 30 "$logs/install-old.log"; fail "installing $prev_version failed"; }
wait_until 60 active motcuad || fail "motcuad is not active after installing $prev_version"
wait_until 60 ready || fail "motcuactl status does not answer after installing $prev_version"
grep -q 'first admin login: user admin' "$logs/install-old.log" || fail "the first install printed no admin password"
ok "$(ctl status | head -n 1), active"

step "documents, a dossier, a certified copy and a device in the previous release"
python3 "$top/tools/gen-synthetic.py" "$logs/syn" 1 >/dev/null
pdftoppm -jpeg -r 60 -singlefile "$logs"/syn/*.pdf "$root/root/motcua/scan"
for i in 1 2 3; do printf '%%PDF-1.4 synthetic document %s of the upgrade test\n' "$i" >"$root/root/motcua/doc$i.pdf"; done
docs=
for f in doc1.pdf doc2.pdf doc3.pdf scan.jpg; do
	id=$(ctl --json doc put "/root/motcua/$f" | jq_ct 'print(d["id"])') || fail "doc put $f failed"
	docs="$docs $id"
done
scan_id=${docs##* }
dossier=$(ctl --json dossier open HT-KS --name "Nguyễn Văn Thử" --id 001099000001 | jq_ct 'print(d["id"])') ||
	fail "dossier open failed"
ctl dossier accept "$dossier" --note "thiếu giấy tờ, thử nâng cấp" >/dev/null || fail "dossier accept failed"
ctl --json copy issue "$scan_id" --official "Cán bộ Thử" >"$logs/copy.json" || fail "copy issue failed: $(cat "$logs/copy.json")"
copy_year=$(jq_ct 'print(d["year"])' <"$logs/copy.json")
copy_number=$(jq_ct 'print(d["number"])' <"$logs/copy.json")
in_ct mkdir -p /root/kiosk
in_ct motcua-device --host 127.0.0.1 --port 1883 --claim-password-file /etc/motcua/mqtt-claim.password \
	--dir /root/kiosk register --kind kiosk --serial SN-UPGRADE --wait 60 >"$logs/device.log" 2>&1 &
devpid=$!
pending() { ctl --json devices list | jq_ct 'sys.exit(0 if any(x["state"]=="pending" for x in d["devices"]) else 1)'; }
wait_until 60 pending || { cat "$logs/device.log"; fail "the kiosk is not pending approval"; }
ctl devices approve SN-UPGRADE >/dev/null || fail "devices approve failed"
wait "$devpid" || { cat "$logs/device.log"; fail "the kiosk was not registered"; }
snapshot() {
	local id
	for id in $docs; do echo "doc $id $(ctl doc get "$id" | sha256sum | cut -d' ' -f1)"; done
	ctl --json doc list --limit 1000 | jq_ct 'print("\n".join("%s %s %s" % (x["id"], x["sha256"], x["size"]) for x in d["documents"]))'
	ctl --json dossier show "$dossier" | jq_ct 'print("dossier", *(d[k] for k in ("id", "procedure", "state", "applicant_name", "code", "due_day")))'
	ctl --json devices list | jq_ct 'print("\n".join("device %s %s %s" % (x["id"], x["serial"], x["state"]) for x in d["devices"]))'
	ctl --json copy show "$copy_year" "$copy_number" | jq_ct 'print("copy", *(d[k] for k in ("year", "book", "number", "state", "original_id", "doc_id", "seal")))'
	ctl --json outbox list --limit 1000 | jq_ct 'print("\n".join("outbox %s %s %s %s" % (x["id"], x["kind"], x["ref"], x["state"]) for x in d["items"]))'
}
snapshot >"$logs/before-upgrade.txt" || fail "could not read back the data"
grep -q "^dossier $dossier HT-KS accepted " "$logs/before-upgrade.txt" || fail "the dossier is not listed: $(cat "$logs/before-upgrade.txt")"
grep -q '^device .* SN-UPGRADE approved' "$logs/before-upgrade.txt" || fail "the device is not approved: $(cat "$logs/before-upgrade.txt")"
ok "$(grep -c '^doc ' "$logs/before-upgrade.txt") documents, dossier $dossier, a copy, kiosk SN-UPGRADE"

# ---- upgrade ---------------------------------------------------------------------------
step "apt-get install ./$(basename "$deb") upgrades $prev_version"
oldpid=$(main_pid)
apt_ct install "$new" >"$logs/upgrade.log" 2>&1 || { tail -n 30 "$logs/upgrade.log"; fail "the upgrade failed"; }
in_ct dpkg-query -W -f='${Version}' motcua | grep -qx "$version" || fail "motcua is not at $version after the upgrade"
grep -q 'one-time password' "$logs/upgrade.log" && fail "the upgrade printed a new admin password"
wait_until 60 restarted "$oldpid" || fail "motcuad did not restart on the upgrade"
ctl status | grep -q "$version" || fail "the running motcuad is not $version: $(ctl status)"
snapshot >"$logs/after-upgrade.txt" || fail "could not read back the data after the upgrade"
diff "$logs/before-upgrade.txt" "$logs/after-upgrade.txt" || fail "the upgrade changed the data (diff above)"
ok "motcuad $version runs; documents, dossier, copy and device unchanged"

# ---- a reboot ----------------------------------------------------------------------------
step "reboot: motcuad and mosquitto come up, in order"
stop_container
boot
active mosquitto || fail "mosquitto is not active after boot"
wait_until 60 active motcuad || fail "motcuad is not active after boot"
wait_until 60 ready || fail "motcuactl status does not answer after boot"
mq_t=$(in_ct systemctl show -P ActiveEnterTimestampMonotonic mosquitto)
md_t=$(in_ct systemctl show -P ExecMainStartTimestampMonotonic motcuad)
[ "$mq_t" -le "$md_t" ] || fail "motcuad started ($md_t) before mosquitto was up ($mq_t)"
in_ct journalctl -b -u motcuad --no-pager | grep -q "motcuad $version ready" ||
	fail "the journal has no 'ready' line of motcuad: $(in_ct journalctl -b -u motcuad --no-pager | tail -n 5)"
# The shipped defaults start without a warning.  One is expected: the broker drops motcuad's
# connection once when its role is first added (devices/dynsec.c), and it reconnects.
in_ct journalctl -b -u motcuad --no-pager | grep -E 'motcuad\[[0-9]+\]: (warning|error):' |
	grep -v 'lost the broker connection: Administrative action' >"$logs/boot-warnings.txt" || true
[ ! -s "$logs/boot-warnings.txt" ] || fail "motcuad warns at boot on the shipped config: $(cat "$logs/boot-warnings.txt")"
ok "mosquitto up, then motcuad; the journal says motcuad is ready, with no warning"

step "the signer runs as motcua-sign; motcuad keeps no capability"
mpid=$(main_pid)
# (no procps in the container: /proc tells who runs what)
signer=
for c in $(in_ct sh -c "cat /proc/$mpid/task/*/children"); do
	[ "$(in_ct cat "/proc/$c/comm")" = motcua-signer ] && signer=$c
done
[ -n "$signer" ] || fail "no motcua-signer under motcuad"
suser=$(in_ct stat -c %U "/proc/$signer")
[ "$suser" = motcua-sign ] || fail "the signer runs as $suser, not motcua-sign"
caps=$(in_ct grep -E '^Cap(Eff|Prm|Amb):' "/proc/$mpid/status")
echo "$caps" | sed 's/^/   motcuad /'
echo "$caps" | grep -vq '0000000000000000$' && fail "motcuad keeps capabilities after start-up: $caps"
ok "signer pid $signer as motcua-sign; motcuad CapEff/CapPrm/CapAmb 0"

step "the signer killed: motcuad exits for systemd to restart it with a new signer"
# motcuad gave up switching users at start-up, so only a new motcuad can start a signer as
# motcua-sign: it notices the death within half a watchdog period and exits with status 75.
pid=$(main_pid)
since=$(in_ct date '+%Y-%m-%d %H:%M:%S')
ct_kill KILL "$signer"
wait_until 120 restarted "$pid" || fail "motcuad did not restart after its signer died (copies are impossible until it does)"
in_ct journalctl -u motcuad --since "$since" --no-pager | grep -q 'motcua-signer exited and only a new motcuad' ||
	fail "the journal does not say why motcuad restarted"
ctl --json copy issue "$scan_id" --official "Cán bộ Thử" >"$logs/copy-after-kill.json" 2>&1 ||
	fail "no certified copy after the signer was killed: $(cat "$logs/copy-after-kill.json")"
mpid=$(main_pid)
in_ct grep -E '^Cap(Eff|Prm|Amb):' "/proc/$mpid/status" | grep -vq '0000000000000000$' &&
	fail "the restarted motcuad keeps capabilities"
ok "restarted as pid $mpid; copy $(jq_ct 'print(d["number_text"])' <"$logs/copy-after-kill.json") signed"

step "motcuactl for group motcua only; the staff page"
in_ct useradd --no-create-home --groups motcua clerk
in_ct useradd --no-create-home outsider
as clerk motcuactl status >"$logs/clerk-status.txt" 2>&1 || fail "clerk (group motcua) cannot run motcuactl status: $(cat "$logs/clerk-status.txt")"
if as outsider motcuactl status >"$logs/outsider-status.txt" 2>&1; then
	fail "a user outside group motcua ran motcuactl status"
fi
sed 's/^/   outsider: /' "$logs/outsider-status.txt"
code=$(in_ct curl -s -o /dev/null -w '%{http_code}' --max-time 20 http://127.0.0.1:8080/healthz || true)
[ "$code" = 200 ] || fail "GET :8080/healthz gave $code"
code=$(in_ct curl -s -o /dev/null -w '%{http_code}' --max-time 20 http://127.0.0.1:8080/login || true)
[ "$code" = 200 ] || fail "GET :8080/login gave $code"
ok "clerk reads the status, outsider is refused; :8080 answers"

# ---- reload ------------------------------------------------------------------------------
step "systemctl reload applies a changed key and keeps the config on a broken one"
# [store] max_document_mb is read by every doc put: a 2 MB document goes in at 50 and is
# refused at 1.
conf=/etc/motcua/motcua.conf
{ printf '%%PDF-1.4\n'; head -c 2000000 /dev/zero | tr '\0' x; } >"$root/root/motcua/big.pdf"
max_is() { ctl config show | grep -q "^max_document_mb = $1\$"; }
big_refused() { ! ctl doc put /root/motcua/big.pdf >/dev/null 2>&1; }
pid=$(main_pid)
max_is 50 || fail "the shipped max_document_mb is not 50: $(ctl config show | grep max_document_mb)"
in_ct cp -p "$conf" /root/motcua.conf.orig
in_ct sed -i 's/^max_document_mb = 50$/max_document_mb = 1/' "$conf"
in_ct systemctl reload motcuad || fail "systemctl reload failed on a good config"
wait_until 30 max_is 1 || fail "the changed key did not apply: $(ctl config show | grep max_document_mb)"
big_refused || fail "a 2 MB document was accepted with max_document_mb = 1"
[ "$(main_pid)" = "$pid" ] || fail "reload restarted motcuad"
in_ct sed -i 's/^max_document_mb = 1$/max_document_mb = many/' "$conf"
since=$(in_ct date '+%Y-%m-%d %H:%M:%S')
if in_ct systemctl reload motcuad 2>"$logs/reload-broken.err"; then
	fail "systemctl reload succeeded on a broken config"
fi
active motcuad || fail "a broken config took motcuad down"
[ "$(main_pid)" = "$pid" ] || fail "a failed reload restarted motcuad"
max_is 1 || fail "the running config changed on a broken file"
in_ct journalctl -u motcuad --since "$since" --no-pager >"$logs/reload-journal.txt"
grep -q 'max_document_mb' "$logs/reload-journal.txt" || fail "the journal does not say what is wrong: $(cat "$logs/reload-journal.txt")"
grep 'max_document_mb' "$logs/reload-journal.txt" | sed 's/^/   journal: /'
# The daemon's own check, when SIGHUP reaches it without the unit's ExecReload check.
ct_kill HUP "$pid"
hup_refused() { in_ct journalctl -u motcuad --since "$since" --no-pager | grep -q 'still running on the previous configuration'; }
wait_until 30 hup_refused || fail "SIGHUP with a broken config: no 'still running on the previous configuration' in the journal"
max_is 1 || fail "SIGHUP with a broken file changed the running config"
big_refused || fail "a 2 MB document was accepted after the broken reload"
in_ct cp -p /root/motcua.conf.orig "$conf"
in_ct systemctl reload motcuad || fail "reload back to the shipped config failed"
wait_until 30 max_is 50 || fail "reload back to 50 did not apply"
ctl doc put /root/motcua/big.pdf >/dev/null || fail "a 2 MB document is refused at max_document_mb = 50"
ok "1 applied by reload (2 MB refused); 'many' refused with the reason in the journal, 1 kept; back to 50"

# ---- crashes -----------------------------------------------------------------------------
# put_docs N TAG: N documents acknowledged (an id printed once durable); their ids appended to $acked.
acked=
put_docs() {
	local i id
	for i in $(seq "$1"); do
		printf '%%PDF-1.4 %s %s\n' "$2" "$i" >"$root/root/motcua/p.pdf"
		id=$(ctl --json doc put /root/motcua/p.pdf | jq_ct 'print(d["id"])') || return 1
		acked="$acked $id"
	done
}
all_acked_kept() {
	local list id
	list=$(ctl --json doc list --limit 1000 | jq_ct 'print("\n".join(str(x["id"]) for x in d["documents"]))') || return 1
	for id in $acked; do grep -qx "$id" <<<"$list" || { echo "document $id is lost" >&2; return 1; }; done
}

step "SIGKILL: systemd restarts motcuad, nothing acknowledged is lost"
put_docs 5 before-kill || fail "doc put failed"
pid=$(main_pid)
n0=$(in_ct systemctl show -P NRestarts motcuad)
ct_kill KILL "$pid"
wait_until 120 restarted "$pid" || fail "motcuad did not come back after SIGKILL"
[ "$(in_ct systemctl show -P NRestarts motcuad)" -gt "$n0" ] || fail "NRestarts did not grow"
all_acked_kept || fail "an acknowledged document is missing after SIGKILL"
ok "restarted as pid $(main_pid); $(wc -w <<<"$acked") acknowledged documents kept"

step "a hang (SIGSTOP) past WatchdogSec: the watchdog restarts motcuad"
in_ct mkdir -p /etc/systemd/system/motcuad.service.d
printf '[Service]\nWatchdogSec=5s\n' >"$root/etc/systemd/system/motcuad.service.d/test-watchdog.conf"
in_ct systemctl daemon-reload
in_ct systemctl restart motcuad
wait_until 60 ready || fail "motcuad did not come back with WatchdogSec=5s"
put_docs 5 before-hang || fail "doc put failed"
pid=$(main_pid)
since=$(in_ct date '+%Y-%m-%d %H:%M:%S')
ct_kill STOP "$pid"
wait_until 180 restarted "$pid" || fail "motcuad was not restarted after hanging"
in_ct journalctl -u motcuad --since "$since" --no-pager | grep -qi 'watchdog timeout' ||
	fail "the journal does not say the watchdog fired"
all_acked_kept || fail "an acknowledged document is missing after the hang"
rm "$root/etc/systemd/system/motcuad.service.d/test-watchdog.conf"
in_ct systemctl daemon-reload
ok "watchdog timeout in the journal; restarted as pid $(main_pid); documents kept"

step "stop and start keep the outbox"
outbox() { ctl --json outbox list --state queued --limit 1000 | jq_ct 'print("\n".join(str(x["id"]) for x in d["items"]))'; }
before=$(outbox) || fail "outbox list failed"
[ -n "$before" ] || fail "the outbox is empty (the uplink is off, documents should queue)"
in_ct systemctl stop motcuad
active motcuad && fail "motcuad still active after stop"
in_ct systemctl start motcuad
wait_until 60 ready || fail "motcuad did not start again"
after=$(outbox)
[ "$before" = "$after" ] || fail "the outbox changed across stop/start: $(diff <(echo "$before") <(echo "$after"))"
all_acked_kept || fail "an acknowledged document is missing after stop/start"
ok "$(wc -l <<<"$before") queued items before and after"

# ---- security ----------------------------------------------------------------------------
step "systemd-analyze security of every motcua unit, as installed"
units=$(in_ct dpkg -L motcua | grep -E '^/lib/systemd/system/[^/]+\.(service|socket)$' | xargs -n1 basename)
for u in $units; do
	case "$u" in *.socket) continue ;; esac
	rating=$(in_ct systemd-analyze security --no-pager "$u" 2>&1 | sed -n "s/.*Overall exposure level for $u: \([0-9.]*\).*/\1/p")
	echo "   $u: $rating"
	[ -n "$rating" ] || fail "systemd-analyze security gave no rating for $u"
	awk -v r="$rating" 'BEGIN { exit !(r <= 2.0) }' || fail "$u rates $rating, above 2.0"
done

# ---- remove, purge, install afresh ---------------------------------------------------------
step "remove keeps the data"
apt_ct remove motcua >"$logs/remove.log" 2>&1 || { tail "$logs/remove.log"; fail "apt-get remove failed"; }
active motcuad && fail "motcuad still runs after remove"
for f in /var/lib/motcua/motcua.db /etc/motcua/storage.key /etc/motcua/motcua.conf /etc/motcua/keys/test-signing.key \
	/var/lib/mosquitto/motcua-dynsec.json; do
	in_ct test -e "$f" || fail "remove deleted $f"
done
active mosquitto || fail "mosquitto is not running after remove"
ok "programs gone, data and keys kept"

step "purge deletes it"
apt_ct purge motcua >"$logs/purge.log" 2>&1 || { tail "$logs/purge.log"; fail "apt-get purge failed"; }
for f in /var/lib/motcua /etc/motcua /var/lib/mosquitto/motcua-dynsec.json /etc/mosquitto/conf.d/motcua.conf; do
	in_ct test -e "$f" && fail "purge left $f"
done
wait_until 60 active mosquitto || fail "mosquitto does not run on Debian's defaults after purge"
ok "store, keys, config and broker accounts deleted; mosquitto back on its defaults"

step "a fresh install of $version under systemd creates the first admin"
apt_ct install "$new" >"$logs/install-new.log" 2>&1 || { tail -n 30 "$logs/install-new.log"; fail "installing $version failed"; }
grep -q 'first admin login: user admin' "$logs/install-new.log" || fail "the install printed no admin password"
grep -q 'admin is not created yet' "$logs/install-new.log" && fail "postinst could not create the admin with motcuad running: $(cat "$logs/install-new.log")"
wait_until 60 active motcuad || fail "motcuad is not active after a fresh install"
ctl users list | grep -qw admin || fail "no admin account after the fresh install: $(ctl users list)"
[ "$(ctl --json doc list | jq_ct 'print(len(d["documents"]))')" = 0 ] || fail "the purged documents came back"
ok "admin created by postinst; motcuad active on an empty store"

stop_container
step "all checks passed"
