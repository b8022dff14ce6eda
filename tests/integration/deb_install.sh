#!/bin/bash
# The .deb on a fresh Debian 12: `apt-get install ./motcua_*.deb` in a minimal bookworm
# chroot pulls every dependency from Debian's archive and leaves users, files, permissions,
# keys and the mosquitto wiring as promised; an upgrade keeps keys, passwords and data;
# remove keeps the data; purge deletes it.
#
# run.sh: background (mostly waits on apt and dpkg; uses loopback ports it checks are free)
#
# The debootstrapped bookworm and the .debs apt fetched are cached in
# $MOTCUA_DEB_CACHE (default /var/cache/motcua-test), outside the repository, so that only
# the first run downloads.  Needs root, debootstrap and the network (deb.debian.org).
set -eu

top=${MOTCUA_TOP:?run through tests/run.sh (MOTCUA_TOP unset)}
build=${MOTCUA_BUILD:?run through tests/run.sh (MOTCUA_BUILD unset)}
cache=${MOTCUA_DEB_CACHE:-/var/cache/motcua-test}
mirror=${MOTCUA_DEB_MIRROR:-http://deb.debian.org/debian}
security=${MOTCUA_DEB_SECURITY:-http://security.debian.org/debian-security}
max_age_days=14

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $(date +%T) $*"; }

[ "$(id -u)" = 0 ] || skip "needs root (chroot, mount)"
for tool in debootstrap chroot mount tar flock dpkg-buildpackage lintian; do
	command -v "$tool" >/dev/null || skip "$tool is not installed (make deps)"
done

# Outside CI, a machine without the network skips; in CI the mirror must be reachable.
host=${mirror#*://}; host=${host%%/*}
if ! timeout 10 bash -c "exec 3<>/dev/tcp/$host/80" 2>/dev/null; then
	[ "${CI:-}" = true ] && fail "cannot reach $host:80 (the Debian mirror)"
	skip "cannot reach $host:80 (the Debian mirror); set MOTCUA_DEB_MIRROR to a reachable one"
fi

# ---- the package -----------------------------------------------------------------------
step "building the package"
# deb_systemd.sh builds the same package in the same directory at the same time.
(flock -w 1800 8 || fail "cannot lock $build/deb.lock"
 make -C "$top" --no-print-directory BUILD="$build" deb) 8>"$build/deb.lock"
version=$(sed -n 's/^VERSION *:= *//p' "$top/Makefile")
arch=$(dpkg --print-architecture)
deb=$build/deb/motcua_${version}_${arch}.deb
[ -f "$deb" ] || fail "make deb did not produce $deb"

# ---- the cached bookworm ---------------------------------------------------------------
mkdir -p "$cache/archives"
exec 9>"$cache/lock"
flock -w 900 9 || fail "another deb_install run holds $cache/lock"
tarball=$cache/bookworm-minbase.tar
if [ -f "$tarball" ] && [ -n "$(find "$tarball" -mtime +"$max_age_days")" ]; then
	step "cached bookworm is older than $max_age_days days; rebuilding it"
	rm -f "$tarball"
fi
if [ ! -f "$tarball" ]; then
	step "debootstrapping a minimal bookworm from $mirror (first run only)"
	boot=$(mktemp -d /var/tmp/motcua-debootstrap.XXXXXX)
	chmod 0755 "$boot"
	if ! debootstrap --variant=minbase bookworm "$boot" "$mirror" >"$cache/debootstrap.log" 2>&1; then
		tail -n 20 "$cache/debootstrap.log"
		rm -rf --one-file-system "$boot"
		fail "debootstrap failed (log above, $cache/debootstrap.log)"
	fi
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
root=$(mktemp -d /var/tmp/motcua-deb-install.XXXXXX)
chmod 0755 "$root" # apt's _apt user must reach its cache inside
mq= daemon=
cleanup() {
	local rc=$?
	for pid in $mq $daemon; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
	if mountpoint -q "$root/proc"; then umount -l "$root/proc" || true; fi
	if mountpoint -q "$root/proc"; then
		echo "cleanup: $root/proc is still mounted; leaving $root for a human" >&2
	else
		rm -rf --one-file-system "$root"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "unpacking the cached bookworm into $root"
tar -C "$root" -xf "$tarball"
chmod 0755 "$root"
mount -t proc proc "$root/proc"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# Services must not start inside the chroot (they would run on this machine).
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
find "$cache/archives" -name '*.deb' -exec cp -t "$root/var/cache/apt/archives/" {} +
cp "$deb" "$root/tmp/"

in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 \
	DEBIAN_FRONTEND=noninteractive "$@"; }
apt_in_root() { in_root apt-get -q -y -o Dpkg::Use-Pty=0 --no-install-recommends "$@"; }
save_archives() {
	set -- "$root"/var/cache/apt/archives/*.deb
	[ -e "$1" ] || return 0
	cp -n "$@" "$cache/archives/"
}

# ---- install ---------------------------------------------------------------------------
step "apt-get install ./$(basename "$deb")"
apt_in_root update >/dev/null || fail "apt-get update failed in the chroot"
apt_in_root install "/tmp/$(basename "$deb")" | tee "$root/tmp/install.log" |
	grep -E '^(motcua:|Setting up motcua|E:)' || true
save_archives
in_root dpkg-query -W -f='${db:Status-Abbrev}' motcua | grep -q '^ii' ||
	fail "motcua is not installed after apt-get install (see the log above)"
grep -q 'first admin login: user admin, one-time password [a-z2-9]' "$root/tmp/install.log" ||
	fail "the install did not print the first admin's one-time password"

# expect_stat PATH MODE OWNER:GROUP
expect_stat() {
	[ -e "$root$1" ] || fail "$1 is missing"
	local got
	# stat sees the chroot's owners through this machine's user database; ask the chroot.
	got="$(stat -c '%a' "$root$1") $(in_root stat -c '%U:%G' "$1")"
	[ "$got" = "$2 $3" ] || fail "$1 is $got, want $2 $3"
}
sha() { sha256sum "$root$1" | cut -d' ' -f1; }

step "checking users, files and permissions"
for u in motcua motcua-sign; do
	in_root getent passwd "$u" >/dev/null || fail "user $u was not created"
	shell=$(in_root getent passwd "$u" | cut -d: -f7)
	[ "$shell" = /usr/sbin/nologin ] || fail "user $u has login shell $shell"
done
in_root id -nG motcua-sign | tr ' ' '\n' | grep -qx motcua && fail "motcua-sign must not be in group motcua"
expect_stat /usr/sbin/motcuad 755 root:root
expect_stat /usr/bin/motcuactl 755 root:root
expect_stat /etc/motcua/motcua.conf 640 root:motcua
expect_stat /etc/motcua/storage.key 600 motcua:motcua
in_root setpriv --reuid=nobody --regid=nogroup --clear-groups cat /etc/motcua/motcua.conf >/dev/null 2>&1 &&
	fail "everyone can read /etc/motcua/motcua.conf (it may hold the LGSP client secret)"
[ "$(stat -c %s "$root/etc/motcua/storage.key")" = 32 ] || fail "storage.key is not 32 bytes"
expect_stat /etc/motcua/initial-admin-password 600 root:root
grep -qx '[a-z2-9]\{4\}-[a-z2-9]\{4\}-[a-z2-9]\{4\}-[a-z2-9]\{4\}' "$root/etc/motcua/initial-admin-password" ||
	fail "initial-admin-password holds no password"
grep -q 'motcua-first-admin' "$root/tmp/install.log" ||
	fail "the install did not say how to create the admin account without a running motcuad"
expect_stat /etc/motcua/mqtt-admin.password 640 root:motcua
expect_stat /etc/motcua/mqtt-claim.password 640 root:motcua
expect_stat /etc/motcua/keys 700 motcua-sign:motcua-sign
expect_stat /etc/motcua/keys/test-signing.key 600 motcua-sign:motcua-sign
expect_stat /etc/motcua/tls 750 root:motcua
expect_stat /etc/motcua/tls/web.key 640 root:motcua
expect_stat /etc/motcua/tls/web.crt 644 root:root
in_root openssl x509 -noout -subject -in /etc/motcua/tls/web.crt | grep -q TEST ||
	fail "the self-signed web certificate is not marked TEST"
in_root openssl x509 -noout -subject -in /etc/motcua/keys/test-signing.crt | grep -q 'TEST ONLY' ||
	fail "the test signing certificate is not marked TEST"
expect_stat /var/lib/motcua 750 motcua:motcua
expect_stat /var/lib/mosquitto/motcua-dynsec.json 600 mosquitto:mosquitto
for f in /lib/systemd/system/motcuad.service /usr/lib/sysusers.d/motcua.conf \
         /usr/lib/tmpfiles.d/motcua.conf /lib/udev/rules.d/70-motcua.rules \
         /usr/share/man/man8/motcuad.8.gz \
         /usr/share/man/man1/motcuactl.1.gz /usr/share/man/man5/motcua.conf.5.gz; do
	[ -e "$root$f" ] || fail "$f is missing"
done
[ -L "$root/etc/systemd/system/multi-user.target.wants/motcuad.service" ] ||
	fail "motcuad.service is not enabled"

step "checking the mosquitto drop-in"
dropin=/etc/mosquitto/conf.d/motcua.conf
expect_stat $dropin 644 root:root
grep -qx 'allow_anonymous false' "$root$dropin" || fail "$dropin allows anonymous clients"
grep -qx 'per_listener_settings false' "$root$dropin" || fail "$dropin lacks per_listener_settings false"
grep -qx 'listener 1883 127.0.0.1' "$root$dropin" || fail "$dropin has no plain listener 1883 on loopback only"
grep -qx 'listener 8883' "$root$dropin" || fail "$dropin has no TLS listener 8883 for devices"
plugin=$(sed -n 's/^plugin //p' "$root$dropin")
[ -f "$root$plugin" ] || fail "$dropin loads $plugin, which mosquitto does not ship"
# Start the chroot's broker on a spare loopback port with the drop-in's settings and log in
# as motcuad with the password the package wrote: proves the plugin, the accounts file and
# the password file agree.
port=$((20000 + $$ % 20000))
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
tport=$((port + 1))
while (exec 3<>"/dev/tcp/127.0.0.1/$tport") 2>/dev/null; do tport=$((tport + 1)); done
sed -e "s/^listener 1883 127.0.0.1\$/listener $port 127.0.0.1/" -e "s/^listener 8883\$/listener $tport 127.0.0.1/" \
	"$root$dropin" >"$root/tmp/mq-test.conf"
# exec: $! must be the broker itself; 9>&-: it must not inherit (and hold) the cache lock.
(exec chroot "$root" mosquitto -c /tmp/mq-test.conf) >"$root/tmp/mq.log" 2>&1 9>&- &
mq=$!
ok=0
for _ in $(seq 50); do
	if in_root mosquitto_ctrl -h 127.0.0.1 -p "$port" -u motcuad \
	     -P "$(cat "$root/etc/motcua/mqtt-admin.password")" dynsec listClients 2>/dev/null |
	   grep -qx motcuad; then ok=1; break; fi
	sleep 0.1
done
if grep -qi error "$root/tmp/mq.log" || [ $ok = 0 ]; then
	cat "$root/tmp/mq.log"
	fail "mosquitto with the drop-in did not let motcuad in with the packaged password"
fi
# The TLS listener with the package's certificate, checked against the package's CA (as a
# device does with the CA loaded into it).
in_root mosquitto_ctrl -h 127.0.0.1 -p "$tport" --cafile /etc/motcua/tls/mqtt-ca.crt -u motcuad \
	-P "$(cat "$root/etc/motcua/mqtt-admin.password")" dynsec listClients 2>"$root/tmp/tls.err" | grep -qx motcuad ||
	fail "the TLS listener does not answer with a certificate the package's CA vouches for: $(cat "$root/tmp/tls.err")"

step "motcuad --check-config on the shipped config, as user motcua"
chroot --userspec=motcua:motcua "$root" /usr/sbin/motcuad --check-config -c /etc/motcua/motcua.conf ||
	fail "motcuad --check-config rejects the shipped /etc/motcua/motcua.conf"

step "motcuad starts on the installed files; a member of group motcua runs motcuactl"
# What RuntimeDirectory= in the unit does (no systemd runs in the chroot).
mkdir -p "$root/run/motcua"
in_root chown motcua:motcua /run/motcua
chmod 0750 "$root/run/motcua"
# The shipped configuration, with the broker on the test port (the broker above still runs).
# The web page on loopback and a free port: this machine's network is shared with the chroot.
sed -e "s/^mqtt_port = 1883\$/mqtt_port = $port/" -e 's/^port = 8080$/port = 0/' \
    -e 's/^listen = 0.0.0.0$/listen = 127.0.0.1/' "$root/etc/motcua/motcua.conf" >"$root/tmp/motcua-test.conf"
chmod 0644 "$root/tmp/motcua-test.conf"
(exec chroot --userspec=motcua:motcua "$root" /usr/sbin/motcuad -c /tmp/motcua-test.conf) \
	>"$root/tmp/motcuad.log" 2>&1 9>&- &
daemon=$!
in_root useradd --no-create-home --groups motcua clerk
ok=0
for _ in $(seq 100); do
	if in_root setpriv --reuid=clerk --regid=clerk --init-groups motcuactl status \
	     >"$root/tmp/status.out" 2>&1; then ok=1; break; fi
	kill -0 "$daemon" 2>/dev/null || break
	sleep 0.1
done
if [ $ok = 0 ]; then
	cat "$root/tmp/motcuad.log" "$root/tmp/status.out"
	fail "motcuad did not start on the installed files, or clerk (group motcua) cannot run motcuactl status"
fi
sed 's/^/  status: /' "$root/tmp/status.out"
# The staff page answers (the daemon writes the port it took to <runtime_dir>/web.port).
if grep -q '^\[web\]' "$root/etc/motcua/motcua.conf" && command -v curl >/dev/null; then
	wport=
	for _ in $(seq 50); do
		wport=$(cat "$root/run/motcua/web.port" 2>/dev/null || true)
		[ -n "$wport" ] && break
		sleep 0.1
	done
	[ -n "$wport" ] || { cat "$root/tmp/motcuad.log"; fail "motcuad wrote no /run/motcua/web.port"; }
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$wport/healthz" || true)
	[ "$code" = 200 ] || { cat "$root/tmp/motcuad.log"; fail "GET /healthz on the staff page gave $code"; }
	echo "  web: /healthz answers 200"
fi
# What postinst does once motcuad runs (here it could not: nothing starts in a chroot).
in_root /usr/libexec/motcua/motcua-first-admin || { cat "$root/tmp/motcuad.log"; fail "motcua-first-admin failed"; }
in_root setpriv --reuid=clerk --regid=clerk --init-groups motcuactl users list >"$root/tmp/users.out" 2>&1 ||
	{ cat "$root/tmp/users.out"; fail "motcuactl users list failed"; }
grep -q '^ *admin ' "$root/tmp/users.out" || grep -qw admin "$root/tmp/users.out" ||
	{ cat "$root/tmp/users.out"; fail "the admin account is not listed after motcua-first-admin"; }
sed 's/^/  users: /' "$root/tmp/users.out"
# motcuad logs in to the broker as motcuad with the packaged password and creates the
# devices' claim account.  Only when this version has the device edge ([devices] section).
if grep -q '^mqtt_port = ' "$root/etc/motcua/motcua.conf"; then
	ok=0
	for _ in $(seq 100); do
		if in_root mosquitto_ctrl -h 127.0.0.1 -p "$port" -u motcuad \
		     -P "$(cat "$root/etc/motcua/mqtt-admin.password")" dynsec listClients 2>/dev/null |
		   grep -qx motcua-claim; then ok=1; break; fi
		sleep 0.1
	done
	[ $ok = 1 ] || { cat "$root/tmp/motcuad.log"; fail "motcuad did not create the claim account in the packaged broker"; }
	echo "  broker: motcuad logged in and created motcua-claim"
fi
kill -TERM "$daemon"
rc=0
wait "$daemon" || rc=$?
daemon=
[ $rc = 0 ] || { cat "$root/tmp/motcuad.log"; fail "motcuad exited $rc on SIGTERM"; }
kill "$mq" 2>/dev/null || true
wait "$mq" 2>/dev/null || true
mq=
in_root setpriv --reuid=nobody --regid=nogroup --clear-groups ls /var/lib/motcua >/dev/null 2>&1 &&
	fail "a user outside group motcua can list /var/lib/motcua"

step "systemd-analyze verify of the installed unit"
# --man=no: minbase has no man-db; the test above checks that the pages are installed.
in_root systemd-analyze verify --man=no /lib/systemd/system/motcuad.service ||
	fail "systemd-analyze verify finds problems in motcuad.service (above)"

step "systemd-analyze security of the installed unit"
rating=$(systemd-analyze security --offline=true --no-pager "$root/lib/systemd/system/motcuad.service" 2>&1 |
	sed -n 's/.*Overall exposure level for motcuad.service: \([0-9.]*\).*/\1/p')
echo "exposure $rating"
[ -n "$rating" ] || fail "systemd-analyze security gave no rating"
awk -v r="$rating" 'BEGIN { exit !(r <= 2.0) }' || fail "motcuad.service rates $rating, above 2.0"

# ---- upgrade keeps keys, passwords and data --------------------------------------------
step "reinstall and upgrade keep keys, passwords and data"
echo "dossier 1" >"$root/var/lib/motcua/marker"
in_root chown motcua:motcua /var/lib/motcua/marker
secrets="/etc/motcua/storage.key /etc/motcua/initial-admin-password /etc/motcua/mqtt-admin.password
/etc/motcua/mqtt-claim.password
/var/lib/mosquitto/motcua-dynsec.json /etc/motcua/keys/test-signing.key /etc/motcua/tls/web.key
/var/lib/motcua/marker
$(cd "$root" && find var/lib/motcua -type f | sed 's|^|/|')"
[ "$(echo "$secrets" | grep -c '^/var/lib/motcua/')" -gt 1 ] || fail "motcuad left no store in /var/lib/motcua"
before=$(for f in $secrets; do echo "$f $(sha "$f")"; done)
apt_in_root install --reinstall "/tmp/$(basename "$deb")" >"$root/tmp/reinstall.log" ||
	{ cat "$root/tmp/reinstall.log"; fail "apt-get install --reinstall failed"; }
# A real upgrade: the same package with a higher version.
next=$root/tmp/next
dpkg-deb -R "$deb" "$next"
sed -i "s/^Version: .*/Version: ${version}+test1/" "$next/DEBIAN/control"
dpkg-deb -b "$next" "$root/tmp/motcua_next.deb" >/dev/null
rm -rf "$next"
apt_in_root install /tmp/motcua_next.deb >"$root/tmp/upgrade.log" ||
	{ cat "$root/tmp/upgrade.log"; fail "upgrade to ${version}+test1 failed"; }
in_root dpkg-query -W -f='${Version}' motcua | grep -qx "${version}+test1" || fail "upgrade did not happen"
grep -q 'one-time password' "$root/tmp/upgrade.log" "$root/tmp/reinstall.log" &&
	fail "an upgrade printed a new admin password"
after=$(for f in $secrets; do echo "$f $(sha "$f")"; done)
[ "$before" = "$after" ] || fail "an upgrade changed a key, password or data file:
$(diff <(echo "$before") <(echo "$after"))"
expect_stat /etc/motcua/storage.key 600 motcua:motcua
expect_stat /etc/motcua/motcua.conf 640 root:motcua

# ---- remove keeps data, purge deletes it -----------------------------------------------
step "remove keeps the data"
apt_in_root remove motcua >/dev/null || fail "apt-get remove failed"
[ ! -e "$root/usr/sbin/motcuad" ] || fail "remove left /usr/sbin/motcuad"
for f in $secrets /etc/motcua/motcua.conf $dropin; do
	[ -e "$root$f" ] || fail "remove deleted $f"
done

step "purge deletes it"
apt_in_root purge motcua >/dev/null || fail "apt-get purge failed"
for f in /var/lib/motcua /etc/motcua /var/lib/mosquitto/motcua-dynsec.json $dropin; do
	[ ! -e "$root$f" ] || fail "purge left $f"
done

step "all checks passed"
