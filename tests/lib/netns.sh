# Network-namespace topology for tests, sourced after testlib.sh:
# a bridge namespace and N host namespaces, each joined to the bridge by
# a veth pair created directly inside the namespaces (nothing ever
# appears in the host's namespace). Host i has eth0 with 10.0.0.(10+i)/24
# and fd00::(10+i)/64. Names carry the run's unique T_ID; topo_down (run by
# the exit trap) kills the processes the test started there and deletes
# every namespace.
#
#   topo_up 3            make hosts 1..3
#   topo_ns 2            the namespace name of host 2
#   topo_ip 2            10.0.0.12
#   topo_ip6 2           fd00::12
#   topo_mac 2           eth0's MAC address of host 2
#   topo_exec 2 CMD...   run CMD in host 2
#   topo_bg 2 CMD...     start CMD in host 2 in the background (PID in
#                        T_LASTPID, killed at exit)
#   topo_link 2 down     take host 2's link down (bridge side)

TOPO_PREFIX=hbt$T_ID
TOPO_N=0

topo_ns() { echo "$TOPO_PREFIX-h$1"; }
topo_br() { echo "$TOPO_PREFIX-br"; }
topo_ip() { echo "10.0.0.$((10 + $1))"; }
topo_ip6() { echo "fd00::$((10 + $1))"; }
topo_exec() { local i=$1; shift; ip netns exec "$(topo_ns "$i")" "$@"; }
# Not through topo_exec: a backgrounded function is a subshell, and its
# PID would not be the program's.
topo_bg() {
	local i=$1
	shift
	ip netns exec "$(topo_ns "$i")" "$@" &
	T_LASTPID=$!
	T_PIDS+=("$T_LASTPID")
}
topo_mac() { ip -n "$(topo_ns "$1")" -br link show eth0 | awk '{print $3}'; }
topo_link() { ip -n "$(topo_br)" link set "v$1" "$2"; }

topo_up() {
	local n=$1 i ns br
	br=$(topo_br)
	[ "$(id -u)" = 0 ] || { echo "topo_up: needs root" >&2; return 1; }
	t_defer topo_down
	ip netns add "$br" || return 1
	ip -n "$br" link set lo up
	ip -n "$br" link add br0 type bridge || return 1
	ip -n "$br" link set br0 up
	for ((i = 1; i <= n; i++)); do
		ns=$(topo_ns "$i")
		ip netns add "$ns" || return 1
		TOPO_N=$i
		ip -n "$ns" link set lo up
		# No duplicate address detection: addresses usable at once.
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0
		ip -n "$ns" link add eth0 type veth peer name "v$i" netns "$br" ||
			return 1
		ip -n "$br" link set "v$i" master br0 up
		ip -n "$ns" addr add "$(topo_ip "$i")/24" dev eth0
		ip -n "$ns" addr add "$(topo_ip6 "$i")/64" dev eth0 nodad
		ip -n "$ns" link set eth0 up
	done
}

topo_down() {
	local i ns
	for ((i = TOPO_N; i >= 1; i--)); do
		ns=$(topo_ns "$i")
		# Only this run's processes can be in this run's namespaces.
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	ip netns del "$(topo_br)" 2>/dev/null
	TOPO_N=0
}
