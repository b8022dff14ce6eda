# shellcheck shell=bash
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

# ---- network namespaces: a slow, breakable link between motcuad and the simulator ----------
# netns_link RATE: a namespace NS holding the simulator's end (NS_IP) of a veth pair whose
# motcuad end (VETH_HOST, address HOST_IP) stays here; both directions shaped by tc tbf to
# RATE (e.g. 2mbit).  Removed by the EXIT trap.  Skips (77) when namespaces cannot be made.
NS=
VETH_HOST=
VETH_NS=
netns_link() {
	local rate=$1 net
	command -v ip >/dev/null && command -v tc >/dev/null || skip "ip/tc (iproute2) are not installed"
	NS=mcu$$
	ip netns add "$NS" 2>/dev/null || { NS=; skip "cannot create a network namespace (needs root or CAP_NET_ADMIN)"; }
	trap _uplink_cleanup EXIT
	VETH_HOST=mcu$$h
	VETH_NS=mcu$$n
	net=10.$((RANDOM % 200 + 20)).$((RANDOM % 250))
	HOST_IP=$net.1
	NS_IP=$net.2
	ip link add "$VETH_HOST" type veth peer name "$VETH_NS" || fail "veth"
	ip link set "$VETH_NS" netns "$NS" || fail "veth into $NS"
	ip addr add "$HOST_IP/24" dev "$VETH_HOST" || fail "address"
	ip link set "$VETH_HOST" up
	ip netns exec "$NS" ip addr add "$NS_IP/24" dev "$VETH_NS" || fail "address in $NS"
	ip netns exec "$NS" ip link set "$VETH_NS" up
	ip netns exec "$NS" ip link set lo up
	# tbf: the rate, a burst of 10 ms of it, and a queue of 100 ms (a modem's buffer).
	tc qdisc add dev "$VETH_HOST" root tbf rate "$rate" burst 32kbit latency 100ms || skip "tc tbf is not available"
	ip netns exec "$NS" tc qdisc add dev "$VETH_NS" root tbf rate "$rate" burst 32kbit latency 100ms || skip "tc tbf is not available"
	SIM_NETNS=$NS
}

# link_down / link_up: the far end of the link goes away (the box's own interface stays up,
# so packets vanish as on a real outage: no quick "network unreachable").
link_down() { ip netns exec "$NS" ip link set "$VETH_NS" down; }
link_up() { ip netns exec "$NS" ip link set "$VETH_NS" up; }

# tx_bytes: bytes motcuad's side has put on the link.
tx_bytes() { cat "/sys/class/net/$VETH_HOST/statistics/tx_bytes"; }

# first_data_ms: after link_up, milliseconds until the box has sent more than 3000 bytes
# (upload data, not just a handshake or a ping); polls every 10 ms, gives up after 30 s (-1).
first_data_ms() {
	local t0 b0 now
	t0=$(date +%s%N)
	b0=$(tx_bytes)
	while :; do
		now=$(date +%s%N)
		if [ $(($(tx_bytes) - b0)) -gt 3000 ]; then
			echo $(((now - t0) / 1000000))
			return
		fi
		[ $(((now - t0) / 1000000)) -lt 30000 ] || { echo -1; return; }
		sleep 0.01
	done
}

_uplink_cleanup() {
	local rc=$?
	[ -n "$SIM_PID" ] && kill -KILL "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
	[ -n "$DPID" ] && kill -KILL "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	DPID=
	[ -n "$VETH_HOST" ] && ip link del "$VETH_HOST" 2>/dev/null
	[ -n "$NS" ] && ip netns del "$NS" 2>/dev/null
	(exit $rc)
	_cleanup
}
