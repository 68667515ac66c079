#!/usr/bin/env bash
# bench/vip: how fast a client learns that a virtual IP moved. In the
# test topology (a bridge, node1, node2, a client), node2 held the address
# and the client's neighbour entry has node2's MAC; then the time from
# the start of the command on node1 to the client's entry showing node1's
# MAC (tests/tools/neighwait, listening to the client's kernel), for
#   havip add VIP/24 dev eth0
#   ip addr add VIP/24 dev eth0 && arping -U -c 1 -I eth0 VIP   (iputils)
# alternating, RUNS times each (default 20): median, min and max in ms,
# the ratio of the medians, and the load average.
#   make bench BENCH=vip       (or HABOX=... HABOX_TOOLS=... bash bench/vip.sh)
. "$HABOX_TOP/tests/lib/testlib.sh"
. "$HABOX_TOP/tests/lib/netns.sh"
RUNS=${RUNS:-20}
VIP=10.0.0.100
wait_tool=${HABOX_TOOLS:-$HABOX_TOP/build/tools}/neighwait

die() { echo "bench/vip: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
[ -x "$wait_tool" ] || die "no $wait_tool: run 'make tests' first"
command -v arping >/dev/null || die "no arping: apt-get install iputils-arping"
topo_up 3 || die "could not build the topology"
ns1=$(topo_ns 1) ns2=$(topo_ns 2)
mac1=$(topo_mac 1) mac2=$(topo_mac 2)
# The listener at real-time priority: its wake-up is not what we measure.
rt=()
command -v chrt >/dev/null && rt=(chrt -f 1)

# Run in node1's network namespace. nsenter, not `ip netns exec`, whose
# mount namespace and /sys remount would cost more than what we measure.
in1() { nsenter --net="/run/netns/$ns1" "$@"; }

client_mac() {
	topo_exec 3 ip neigh show "$VIP" dev eth0 |
		awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }'
}

# node2 holds the address, the client has its MAC, node2 lets it go.
reset() {
	ip -n "$ns1" addr del "$VIP/24" dev eth0 2>/dev/null
	ip -n "$ns2" addr add "$VIP/24" dev eth0
	ip -n "$(topo_ns 3)" neigh del "$VIP" dev eth0 2>/dev/null
	topo_exec 3 ping -c 1 -W 1 "$VIP" >/dev/null
	[ "$(client_mac)" = "$mac2" ] || die "the client did not learn node2's MAC"
	ip -n "$ns2" addr del "$VIP/24" dev eth0
	# A neighbour entry updated less than locktime (1 s) ago stays.
	sleep 1.1
}

# One move by METHOD; prints the milliseconds until the client knew.
one() {
	local out=$T_TMP/wait.out t0 t1 i
	reset
	: >"$out"
	topo_exec 3 "${rt[@]}" "$wait_tool" "$VIP" "$mac1" 5000 >"$out" &
	local wpid=$!
	for ((i = 0; i < 500; i++)); do
		grep -q ready "$out" && break
		sleep 0.01
	done
	t0=${EPOCHREALTIME/./}
	case $1 in
	havip) in1 "$HABOX" havip add "$VIP/24" dev eth0 2>"$T_TMP/havip.err" ;;
	arping) ip -n "$ns1" addr add "$VIP/24" dev eth0 &&
		in1 arping -q -U -c 1 -I eth0 "$VIP" ;;
	esac
	wait "$wpid" || die "$1: the client's entry did not change"
	t1=$(tail -n 1 "$out")
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", (b - a) / 1000 }'
	[ "$1" = havip ] && sed -n 's/.*first announcement \([0-9]*\) us.*/\1/p' \
		"$T_TMP/havip.err" >>"$T_TMP/first"
	return 0
}

# What starting any process in node1's namespace costs here, in ms.
spawn() {
	local t0=${EPOCHREALTIME/./}
	in1 true
	awk -v a="$t0" -v b="${EPOCHREALTIME/./}" 'BEGIN { printf "%.2f\n", (b - a) / 1000 }'
}

# median min max of the numbers on stdin
stats() {
	sort -n | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.2f %.2f %.2f\n", m, v[1], v[NR] }'
}

echo "bench/vip: $RUNS moves per method, alternating; load average $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$T_TMP/havip" && : >"$T_TMP/arping" && : >"$T_TMP/first" && : >"$T_TMP/spawn"
for ((r = 1; r <= RUNS; r++)); do
	one havip >>"$T_TMP/havip" || exit 1
	one arping >>"$T_TMP/arping" || exit 1
	spawn >>"$T_TMP/spawn"
done
read -r hm hmin hmax < <(stats <"$T_TMP/havip")
read -r am amin amax < <(stats <"$T_TMP/arping")
printf '%-44s median %7s ms  (min %s, max %s)\n' "havip add" "$hm" "$hmin" "$hmax"
printf '%-44s median %7s ms  (min %s, max %s)\n' \
	"ip addr add + arping -U -c 1 (iputils)" "$am" "$amin" "$amax"
awk -v a="$am" -v h="$hm" 'BEGIN { printf "ratio of the medians (shell / havip): %.1f\n", a / h }'
read -r sm smin smax < <(stats <"$T_TMP/spawn")
printf '%-44s median %7s ms  (min %s, max %s)\n' \
	"(starting a process there: nsenter true)" "$sm" "$smin" "$smax"
read -r fm fmin fmax < <(stats <"$T_TMP/first")
printf '%-44s median %7s us  (min %s, max %s)\n' \
	"(havip: address added -> first announcement)" "$fm" "$fmin" "$fmax"
echo "runs (ms): havip: $(tr '\n' ' ' <"$T_TMP/havip")"
echo "           shell: $(tr '\n' ' ' <"$T_TMP/arping")"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
