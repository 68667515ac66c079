#!/usr/bin/env bash
# bench/failover: how long a client waits when the leader dies. Topology:
# node1 and node2 (members, a real PostgreSQL 15 primary and standby each),
# a witness, a client, all in network namespaces on one bridge; the client
# reaches PostgreSQL through the VIP. The leader "dies" at t0: kill -9 of
# its hawatch and its postgres, and its link down. Then, at the client:
#   vip    its neighbour entry for the VIP shows the new leader's MAC
#          (tests/tools/neighwait, listening to the kernel)
#   ping   the VIP answers a ping
#   write  the first INSERT through the VIP commits
# RUNS times (default 10) per profile: defaults (heartbeat 100 ms, lease
# 1 s) and fast (20 ms / 200 ms); median, min, max. The dead node comes
# back between runs (demoted with rewind by hawatch itself), so the roles
# alternate.
# Then, at the defaults: SOAK seconds (default 60) with both cores busy and
# 5% of packets dropped on every node (nftables): the number of false
# failovers; and hawatch's idle CPU (% of one core) and RSS.
#   make bench BENCH=failover    (RUNS=3 SOAK=10 for a quick look)
. "$HABOX_TOP/tests/lib/testlib.sh"
. "$HABOX_TOP/tests/lib/netns.sh"
. "$HABOX_TOP/tests/lib/pg.sh"
. "$HABOX_TOP/tests/lib/haconf.sh"
RUNS=${RUNS:-10}
SOAK=${SOAK:-60}
VIP=10.0.0.100
wait_tool=${HABOX_TOOLS:-$HABOX_TOP/build/tools}/neighwait

die() { echo "bench/failover: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
[ -x "$wait_tool" ] || die "no $wait_tool: run 'make tests' first"
command -v nft >/dev/null || die "no nft: apt-get install nftables"
pg_require
topo_up 4 || die "could not build the topology"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T_TMP/psk"
chmod 600 "$T_TMP/psk"
pg_in_ns n1 1
pg_in_ns n2 2
pg_init n1 && pg_standby n2 n1 || die "PostgreSQL setup failed"
pg_sql n1 "ALTER SYSTEM SET wal_keep_size = '512MB'" >/dev/null
pg_sql n1 "SELECT pg_reload_conf()" >/dev/null
pg_sql n1 "CREATE TABLE f (id serial primary key, at timestamptz default now())" >/dev/null
PGN=([1]=n1 [2]=n2 [3]=n1)
NODE=([1]=node1 [2]=node2 [3]=w)

# conf HOST HEARTBEAT LEASE
conf() {
	local h=$1 d=$T_TMP/h$1 pn=${PGN[$1]}
	mkdir -p "$d"
	{ hc_cluster bench "${NODE[$h]}" "$d" "psk_file = $T_TMP/psk" \
		"heartbeat = $2" "lease = $3" "step_timeout = 30s"
	  hc_nodes node1:1:100 node2:2:90 w:3:witness
	  hc_vip db "$VIP/24"
	  hc_postgres "$pn"
	} >"$d/habox.conf"
}
HW=()
start_hw() {
	topo_bg "$1" "$HABOX" hawatch -f -c "$T_TMP/h$1/habox.conf" 2>>"$T_TMP/h$1/hawatch.log"
	HW[$1]=$T_LASTPID
}
stop_all() {
	local i
	for i in 1 2 3; do
		[ -n "${HW[$i]:-}" ] && kill -TERM "${HW[$i]}" 2>/dev/null
	done
	for i in 1 2 3; do
		[ -n "${HW[$i]:-}" ] && wait "${HW[$i]}" 2>/dev/null
		HW[$i]=
	done
}
st() { topo_exec "$1" "$HABOX" hactl status --json -c "$T_TMP/h$1/habox.conf" 2>/dev/null; }
jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)" 2>/dev/null; }
leads() { [ "$(st "$1" | jget 'd["role"], d["resources"]')" = "leader held" ]; }
follows() { [ "$(st "$1" | jget 'd["role"]')" = follower ]; }
term_of() { st "$1" | jget 'd["term"]'; }
waitfor() { # waitfor SECONDS CMD...
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.1
	done
}
client() { topo_exec 4 "$@"; }
client_mac() {
	client ip neigh show "$VIP" dev eth0 |
		awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }'
}
insert() {
	client setpriv --reuid=postgres --regid=postgres --init-groups -- \
		timeout 2 "$PG_BIN/psql" -XAtq -h $VIP -p 5432 -U postgres -d postgres \
		-c "INSERT INTO f DEFAULT VALUES" >/dev/null 2>&1
}
us() { echo "${EPOCHREALTIME/./}"; }
stats() { # median min max of the numbers on stdin
	sort -n | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.0f %.0f %.0f\n", m, v[1], v[NR] }'
}

# One failover: the leader L dies, the other member S takes over.
one() {
	local L=$1 S=$2 t0 tv tp tw out=$T_TMP/wait.out
	waitfor 90 pg_streaming "${PGN[$S]}" || die "${PGN[$S]} does not stream"
	client ping -c 1 -W 1 $VIP >/dev/null
	[ "$(client_mac)" = "$(topo_mac "$L")" ] || die "the client does not have node$L's MAC"
	insert || die "no write through the VIP before the failover"
	: >"$out"
	client "$wait_tool" "$VIP" "$(topo_mac "$S")" 15000 >"$out" &
	local wpid=$!
	waitfor 5 grep -q ready "$out" || die "neighwait did not start"
	t0=$(us)
	kill -9 "${HW[$L]}" "$(pg_pid "${PGN[$L]}")"
	topo_link "$L" down
	wait "$wpid" || die "the client never saw node$S's MAC"
	tv=$(tail -n 1 "$out")
	until client ping -c 1 -W 0.2 $VIP >/dev/null 2>&1; do :; done
	tp=$(us)
	until insert; do :; done
	tw=$(us)
	echo $(((tv - t0) / 1000)) >>"$T_TMP/vip"
	echo $(((tp - t0) / 1000)) >>"$T_TMP/ping"
	echo $(((tw - t0) / 1000)) >>"$T_TMP/write"
	wait "${HW[$L]}" 2>/dev/null
	# The dead node comes back: hawatch makes it a standby of S by itself.
	topo_link "$L" up
	start_hw "$L"
	waitfor 30 follows "$L" || die "node$L did not rejoin"
	waitfor 120 pg_streaming "${PGN[$L]}" || die "node$L's PostgreSQL did not rejoin"
	waitfor 10 leads "$S" || die "node$S does not lead"
}

profile() { # profile NAME HEARTBEAT LEASE
	local i L=0 S
	for i in 1 2 3; do conf "$i" "$2" "$3"; done
	for i in 1 2 3; do start_hw "$i"; done
	for i in $(seq 300); do
		leads 1 && L=1 && break
		leads 2 && L=2 && break
		sleep 0.1
	done
	[ "$L" != 0 ] || die "$1: no leader"
	: >"$T_TMP/vip" && : >"$T_TMP/ping" && : >"$T_TMP/write"
	for ((r = 1; r <= RUNS; r++)); do
		S=$((3 - L))
		one "$L" "$S"
		L=$S
	done
	read -r vm vmin vmax < <(stats <"$T_TMP/vip")
	read -r pm pmin pmax < <(stats <"$T_TMP/ping")
	read -r wm wmin wmax < <(stats <"$T_TMP/write")
	printf '%-8s heartbeat %-5s lease %-5s  vip: median %5s ms (min %s, max %s)\n' \
		"$1" "$2" "$3" "$vm" "$vmin" "$vmax"
	printf '%-8s %26s  ping: median %5s ms (min %s, max %s)\n' "" "" "$pm" "$pmin" "$pmax"
	printf '%-8s %26s write: median %5s ms (min %s, max %s)\n' "" "" "$wm" "$wmin" "$wmax"
	echo "         runs (ms) vip: $(tr '\n' ' ' <"$T_TMP/vip")"
	echo "               write: $(tr '\n' ' ' <"$T_TMP/write")"
}

echo "bench/failover: $RUNS failovers per profile (kill -9 of hawatch and postgres, link down); load average $(cut -d' ' -f1-3 /proc/loadavg)"
profile defaults 100ms 1s
stop_all
profile fast 20ms 200ms
stop_all

# --- soak: no false failover with both cores busy and 5% loss ----------------
for i in 1 2 3; do conf "$i" 100ms 1s; done
for i in 1 2 3; do start_hw "$i"; done
for i in $(seq 300); do leads 1 || leads 2 && break; sleep 0.1; done
sleep 2
t0=$(term_of 3)
for i in 1 2 3; do
	topo_exec "$i" nft add table inet bench
	topo_exec "$i" nft add chain inet bench in '{ type filter hook input priority 0; }'
	topo_exec "$i" nft add rule inet bench in numgen random mod 100 '<' 5 drop
done
burn=()
for i in 1 2; do
	t_bg sh -c 'while :; do :; done'
	burn+=("$T_LASTPID")
done
sleep "$SOAK"
kill "${burn[@]}" 2>/dev/null
t1=$(term_of 3)
for i in 1 2 3; do topo_exec "$i" nft delete table inet bench; done
echo "soak: ${SOAK} s, both cores busy, 5% of packets dropped: term $t0 -> $t1, false failovers: $((t1 - t0))"

# --- idle cost ------------------------------------------------------------------
sleep 2
tick=$(getconf CLK_TCK)
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
declare -A c0
for i in 1 2 3; do c0[$i]=$(cpu "${HW[$i]}"); done
sleep 10
for i in 1 2 3; do
	c1=$(cpu "${HW[$i]}")
	role=$(st "$i" | jget 'd["role"]')
	rss=$(awk '/^VmRSS/ { print $2 }' "/proc/${HW[$i]}/status")
	hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/${HW[$i]}/status")
	awk -v a="${c0[$i]}" -v b="$c1" -v t="$tick" -v r="$role" -v rss="$rss" -v hwm="$hwm" \
		-v n="${NODE[$i]}" 'BEGIN { printf "idle %-6s (%-8s): CPU %.2f%% of a core, RSS %d KiB (peak %d KiB)\n",
		n, r, (b - a) / t / 10 * 100, rss, hwm }'
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
stop_all
