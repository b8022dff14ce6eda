# Helpers for the uplink scenarios (sourced after lib.sh, not run): the LGSP simulator, the
# [uplink] section of the config, and waiting for deliveries.
# After sourcing: SIM (binary), SIMDIR (its data), SIM_PID, SIM_PORT, SIM_BASE.

SIM=$MOTCUA_BUILD/motcua-lgsp-sim
[ -x "$SIM" ] || skip "$SIM not built (make all)"
for t in curl jq; do command -v $t >/dev/null || skip "$t is not installed (make deps)"; done
SIMDIR=$T/sim
SIM_PID=
SIM_PORT=
SIM_BASE=
SIMLOG=$T/sim.log
SIM_NETNS=

# sim_start [--listen ADDR] [ARGS...]: the simulator on a free port (state kept in SIMDIR across
# restarts); with SIM_NETNS set it runs inside that network namespace.
sim_start() {
	local listen=127.0.0.1 scheme=http a
	if [ "${1:-}" = --listen ]; then listen=$2; shift 2; fi
	for a in "$@"; do [ "$a" = --tls-cert ] && scheme=https; done
	rm -f "$T/sim.port"
	if [ -n "$SIM_NETNS" ]; then
		ip netns exec "$SIM_NETNS" "$SIM" --data "$SIMDIR" --listen "$listen" --port "${SIM_PORT:-0}" \
			--port-file "$T/sim.port" --client commune-a:secret-a "$@" 2>>"$SIMLOG" &
	else
		"$SIM" --data "$SIMDIR" --listen "$listen" --port "${SIM_PORT:-0}" --port-file "$T/sim.port" \
			--client commune-a:secret-a "$@" 2>>"$SIMLOG" &
	fi
	SIM_PID=$!
	track_pid "$SIM_PID"
	local i
	for i in $(seq 200); do
		[ -s "$T/sim.port" ] && break
		kill -0 "$SIM_PID" 2>/dev/null || fail "the simulator did not start: $(tail -n 5 "$SIMLOG")"
		sleep 0.05
	done
	[ -s "$T/sim.port" ] || fail "the simulator wrote no port file"
	SIM_PORT=$(cat "$T/sim.port")
	case "$listen" in *:*) SIM_BASE=$scheme://[$listen]:$SIM_PORT ;; *) SIM_BASE=$scheme://$listen:$SIM_PORT ;; esac
	[ "$listen" = 127.0.0.1 ] && [ $scheme = https ] && SIM_BASE=https://127.0.0.1:$SIM_PORT
	return 0
}

sim_stop() {
	[ -n "$SIM_PID" ] || return 0
	kill -TERM "$SIM_PID" 2>/dev/null
	wait "$SIM_PID" 2>/dev/null
	SIM_PID=
}

# sim_stat JQ [CURL ARGS...]: one number from GET /_sim/stats.
sim_stat() {
	local q=$1
	shift
	if [ -n "$SIM_NETNS" ]; then
		ip netns exec "$SIM_NETNS" curl -sS --max-time 10 "$@" "$SIM_BASE/_sim/stats" | jq -r "$q"
	else
		curl -sS --max-time 10 "$@" "$SIM_BASE/_sim/stats" | jq -r "$q"
	fi
}

# uplink_config BASE_URL [KEY=VALUE...]: the lib.sh config plus an [uplink] section.
uplink_config() {
	local base=$1 kv
	shift
	write_config "daemon.log_level = ${UPLINK_LOG_LEVEL:-info}"
	printf 'secret-a\n' >"$T/client.secret"
	chmod 600 "$T/client.secret"
	{
		echo "[uplink]"
		echo "enabled = yes"
		echo "base_url = $base"
		echo "client_id = commune-a"
		echo "client_secret_file = $T/client.secret"
		echo "backoff_base_ms = 200"
		echo "backoff_cap_s = 5"
		echo "probe_interval_ms = 500"
		for kv in "$@"; do echo "${kv%%=*} = ${kv#*=}"; done
	} >>"$CONF"
}

# count_state STATE: outbox items in STATE.
count_state() { sql "SELECT COUNT(*) FROM outbox WHERE state = '$1'"; }

# wait_delivered N SECONDS: until N items are delivered; fails with the backlog otherwise.
wait_delivered() {
	local n=$1 limit=$(($2 * 10)) i=0
	while [ "$(count_state delivered)" -lt "$n" ]; do
		i=$((i + 1))
		if [ $i -ge $limit ]; then
			ctl uplink status || true
			fail "only $(count_state delivered) of $n items delivered within $2 s"
		fi
		sleep 0.1
	done
}

# put_docs N SIZE...: stores N documents (sizes cycling through SIZE...), ids in $T/ids.
put_docs() {
	local n=$1 i s
	shift
	local sizes=("$@")
	for i in $(seq "$n"); do
		s=${sizes[$(((i - 1) % ${#sizes[@]}))]}
		mkdoc "$T/doc$i.pdf" "$s"
		put_ok "$T/doc$i.pdf" >>"$T/ids"
	done
}

# receipts_match: every delivered item's receipt names a receipt the simulator issued for it,
# and the key the simulator holds is the item's key (checked in the simulator's database).
receipts_match() {
	local bad
	bad=$(sql "SELECT idem_key || ' ' || json_extract(receipt, '\$.receipt_id') FROM outbox WHERE state = 'delivered'" |
		while read -r key rid; do
			got=$(sqlite3 -batch -noheader "$SIMDIR/sim.db" "SELECT receipt_id FROM submissions WHERE idem_key = '$key'" 2>/dev/null | head -n 1)
			[ "$got" = "$rid" ] || echo "$key: ours $rid, sim ${got:-none}"
		done)
	[ -z "$bad" ] || fail "receipts differ from the simulator's: $bad"
}
