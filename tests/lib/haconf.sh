# The pieces of a habox.conf that the cluster tests, the demo and the
# benchmarks share; each prints sections on stdout, to be put together:
#   { hc_cluster NAME NODE DIR "psk_file = $T_TMP/psk" "lease = 2s"
#     hc_nodes node1:1:100 node2:2:90 w:3:witness
#     hc_vip db 10.0.0.100/24
#     hc_postgres n1; } >"$DIR/habox.conf"
# Needs netns.sh (topo_ip); hc_postgres needs pg.sh.

# hc_cluster NAME NODE DIR LINE...: [cluster] with the state and run
# dirs in DIR and a heartbeat of 100 ms and a lease of 1 s (unless a
# LINE sets them), then every LINE (credentials, other keys) as it is.
hc_cluster() {
	local name=$1 node=$2 d=$3 l hb="heartbeat = 100ms" lease="lease = 1s"
	shift 3
	for l in "$@"; do
		case $l in
		heartbeat*) hb= ;;
		lease*) lease= ;;
		esac
	done
	printf '[cluster]\nname = %s\nnode = %s\nstate_dir = %s/state\nrun_dir = %s/run\n' \
		"$name" "$node" "$d" "$d"
	[ -z "$hb" ] || echo "$hb"
	[ -z "$lease" ] || echo "$lease"
	for l in "$@"; do echo "$l"; done
}

# hc_nodes NAME:HOST:PRIORITY|NAME:HOST:witness...: the [node] sections,
# HOST the topology's host number (topo_ip).
hc_nodes() {
	local s name host what
	for s in "$@"; do
		IFS=: read -r name host what <<<"$s"
		printf '[node %s]\naddress = %s\n' "$name" "$(topo_ip "$host")"
		if [ "$what" = witness ]; then
			echo "role = witness"
		else
			echo "priority = $what"
		fi
	done
}

# hc_vip NAME ADDR/PREFIX: a [vip] on eth0.
hc_vip() {
	printf '[vip %s]\naddress = %s\ninterface = eth0\n' "$1" "$2"
}

# hc_postgres PGNAME: [postgres] for the server pg_in_ns PGNAME made.
hc_postgres() {
	cat <<EOF
[postgres]
conninfo = host=$(pg_sock "$1") port=5432 dbname=postgres
data_dir = $PG_ROOT/$1/data
config_dir = $PG_ROOT/$1/conf
log_file = $PG_ROOT/$1/server.log
bin_dir = $PG_BIN
stop_timeout = 20s
EOF
}
