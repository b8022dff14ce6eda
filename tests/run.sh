#!/bin/bash
# Runs every test of motcua: unit tests (cmocka binaries), integration scenarios
# (tests/integration/*.sh) and fuzz-corpus replays.  Each test is one line of PASS/FAIL/SKIP;
# the last line is "N passed, N failed".  Usage: tests/run.sh BUILD_DIR [NAME-FILTER]
set -u
build=${1:-build}
filter=${2:-}
top=$(cd "$(dirname "$0")/.." && pwd)
export MOTCUA_TOP=$top MOTCUA_BUILD=$top/$build
[ -d "$build" ] && export MOTCUA_BUILD=$(cd "$build" && pwd)
logdir=$MOTCUA_BUILD/test-logs
mkdir -p "$logdir"
pass=0 fail=0 skip=0 failed=""

report() { # name, exit code, seconds, log
	local name=$1 rc=$2 dt=$3 log=$4
	if [ "$rc" -eq 0 ]; then
		pass=$((pass + 1)); printf 'PASS  %-44s %3ss\n' "$name" "$dt"
	elif [ "$rc" -eq 77 ]; then
		skip=$((skip + 1)); printf 'SKIP  %-44s %s\n' "$name" "$(tail -n 1 "$log")"
	else
		fail=$((fail + 1)); failed="$failed $name"
		printf 'FAIL  %-44s %3ss (exit %d, log %s)\n' "$name" "$dt" "$rc" "$log"
		tail -n 25 "$log" | sed 's/^/      | /'
	fi
}

run_one() { # name, command...
	local name=$1; shift
	case "$name" in *"$filter"*) ;; *) return ;; esac
	local log=$logdir/${name//\//_}.log start=$SECONDS rc
	timeout --kill-after=10 "${TEST_TIMEOUT:-900}" "$@" >"$log" 2>&1
	rc=$?
	report "$name" $rc $((SECONDS - start)) "$log"
}

# Tests that mostly wait on the network or the disk (a line "# run.sh: background" in the
# script, e.g. the package install test) start first and run beside the others.
declare -A bg_pid bg_start
for t in "$top"/tests/integration/*.sh; do
	[ -x "$t" ] && grep -q '^# run.sh: background' "$t" || continue
	name="integration/$(basename "$t" .sh)"
	case "$name" in *"$filter"*) ;; *) continue ;; esac
	log=$logdir/${name//\//_}.log
	timeout --kill-after=10 "${TEST_TIMEOUT:-1800}" "$t" >"$log" 2>&1 &
	bg_pid[$name]=$! bg_start[$name]=$SECONDS
	echo "....  $name started in the background"
done

run_one "lint" "$top/tools/lint.sh"
for t in "$MOTCUA_BUILD"/tests/*_test; do
	[ -x "$t" ] || continue
	run_one "unit/$(basename "$t")" "$t"
done
for t in "$top"/tests/integration/*.sh; do
	[ -x "$t" ] || continue
	[ -n "${bg_pid[integration/$(basename "$t" .sh)]:-}" ] && continue
	run_one "integration/$(basename "$t" .sh)" "$t"
done
for f in "$MOTCUA_BUILD"/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	n=${f##*/fuzz_}
	[ -d "$top/tests/fuzz/corpus/$n" ] || continue
	run_one "fuzz-replay/$n" "$f" -runs=0 "$top/tests/fuzz/corpus/$n"
done

for name in "${!bg_pid[@]}"; do
	wait "${bg_pid[$name]}"
	report "$name" $? $((SECONDS - bg_start[$name])) "$logdir/${name//\//_}.log"
done

[ -z "$failed" ] || echo "failed:$failed"
[ $skip -eq 0 ] || echo "$skip skipped"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
