#!/bin/bash
# make bench, the staff page: wrk with 50 connections against the dashboard and the
# document list of a store holding 100,000 documents (all still queued for upload: the
# offline worst case), logged in.  Prints p50/p99 latency, requests per second, and
# motcuad's memory.  Measures only; asserts nothing about time.
set -eu
build=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=$top/$build
N=${WEB_BENCH_DOCS:-100000}
DURATION=${WEB_BENCH_SECONDS:-10}
command -v wrk >/dev/null || { echo "web bench: wrk is not installed (make deps)"; exit 0; }
work=$(mktemp -d "$top/$build/webbench.XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cat >"$work/motcua.conf" <<CONF
[store]
state_dir = $work/state
key_file = $work/state/storage.key
low_water_mb = 0
[daemon]
runtime_dir = $work/run
control_socket = $work/run/ctl.sock
[web]
listen = 127.0.0.1
port = 0
max_connections = 128
max_per_ip = 128
login_delay_ms = 0
CONF
"$bin/motcuad" -c "$work/motcua.conf" 2>"$work/motcuad.log" &
pid=$!
for _ in $(seq 200); do [ -s "$work/run/web.port" ] && "$bin/motcuactl" -s "$work/run/ctl.sock" status >/dev/null 2>&1 && break; sleep 0.05; done
url=http://127.0.0.1:$(cat "$work/run/web.port")

t0=$(date +%s.%N)
sqlite3 "$work/state/motcua.db" >/dev/null <<SQL
PRAGMA busy_timeout = 10000;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
INSERT INTO documents(id, seq, sha256, size, content_type, kind, source, name, intake_key, received_at)
SELECT printf('%032x', i), i, printf('%064x', i), 100000 + i, 'application/pdf', 'scan', 'bench',
       'ho-so-' || i || '.pdf', 'bench:' || i,
       strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-' || ($N - i) || ' seconds') FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
INSERT INTO outbox(stream, seq, priority, kind, ref, idem_key, bytes, state, created_at, updated_at)
SELECT 'documents', i, 2, 'document', printf('%032x', i), 'bench:' || i, 100000 + i, 'queued',
       strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-' || ($N - i) || ' seconds'), '' FROM n;
COMMIT;
SQL
t1=$(date +%s.%N)
echo "web bench: $N documents and outbox items inserted in $(echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}') s (sqlite3, one transaction)"

echo "bench-web-password" | "$bin/motcuactl" -s "$work/run/ctl.sock" users add bench --role admin >/dev/null
jar=$work/jar
csrf=$(curl -s -c "$jar" -b "$jar" "$url/login" | grep -o 'name="csrf" value="[0-9a-f]*"' | sed 's/.*value="//; s/"$//')
curl -s -o /dev/null -c "$jar" -b "$jar" -d "csrf=$csrf&name=bench&password=bench-web-password&next=/" "$url/login"
cookie=$(awk '$6 == "motcua_session" {print $7}' "$jar")
[ -n "$cookie" ] || { echo "web bench: login failed"; exit 1; }

printf '%-34s %10s %10s %10s %9s\n' page "p50" "p99" "req/s" "bytes"
for p in / /documents "/documents?before=50001" "/documents?q=ho-so-99999"; do
	bytes=$(curl -s -b "motcua_session=$cookie" "$url$p" | wc -c)
	out=$(wrk -t4 -c50 -d"${DURATION}s" --latency -H "Cookie: motcua_session=$cookie" "$url$p")
	p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
	p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
	rps=$(echo "$out" | awk '$1 == "Requests/sec:" {print $2}')
	errs=$(echo "$out" | grep -E "Non-2xx|Socket errors" | tr '\n' ' ' || true)
	printf '%-34s %10s %10s %10s %9s %s\n' "$p" "$p50" "$p99" "$rps" "$bytes" "$errs"
done
echo "motcuad memory: peak $(awk '/VmHWM/ {print $2 " " $3}' /proc/$pid/status), now $(awk '/VmRSS/ {print $2 " " $3}' /proc/$pid/status), threads $(awk '/Threads/ {print $2}' /proc/$pid/status)"
