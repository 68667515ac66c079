# PostgreSQL clusters for tests, sourced after testlib.sh: a primary made
# by initdb, streaming standbys made by pg_basebackup -R, started and
# stopped as the OS user postgres (we are root), on 127.0.0.1 with a port
# unique to the run and a unix socket directory of their own. Every node
# lives in $PG_ROOT/NAME: data/ (the data directory), conf/ (its
# postgresql.conf and pg_hba.conf, Debian-style, so that pg_rewind and
# pg_basebackup, which copy the primary's files, never change a node's
# port), sock/, server.log, state/ (habox's state_dir). PG_ROOT set before
# sourcing puts them elsewhere (tmpfs for benchmarks; postgres must be able
# to pass through its parent). pg_cleanup (run by the exit trap) stops
# every server the test started, by PID, even a SIGSTOPped one; the files
# go with $T_TMP.
#
#   pg_require                 skip the suite when PostgreSQL 15 or haprom
#                              (CONFIG_HAPROM=n) is missing
#   pg_init NAME               initdb a new primary and start it
#   pg_standby NAME PRIMARY    pg_basebackup -R from PRIMARY, start, wait
#   pg_start NAME / pg_stop NAME [MODE]
#   pg_sql NAME SQL            psql -XAtq as postgres; prints the result
#   pg_port NAME / pg_sock NAME / pg_data NAME / pg_pid NAME
#   pg_streaming NAME          0 when NAME's WAL receiver streams
#   pg_haprom_conf NAME FILE [LINE...]   a habox.conf for node NAME
#   pg_in_ns NAME HOST         NAME's server runs in tests/lib/netns.sh host
#                              HOST's namespace, on port 5432 of every
#                              address there (call before pg_init/standby)
#
# Roles: replicator (LOGIN REPLICATION, and the grants pg_rewind needs);
# pg_hba trusts local connections and 127.0.0.1.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_ROOT=${PG_ROOT:-$T_TMP/pg}
declare -A PG_PORTS=()
declare -A PG_HOST=()
PG_NODES=()

pg_in_ns() { PG_HOST[$1]=$2; }

# Run a command where node NAME's server lives.
pg_where() {
	local n=$1
	shift
	if [ -n "${PG_HOST[$n]:-}" ]; then
		ip netns exec "$(topo_ns "${PG_HOST[$n]}")" "$@"
	else
		"$@"
	fi
}

# The address other nodes reach NAME's server at.
pg_addr() {
	if [ -n "${PG_HOST[$1]:-}" ]; then topo_ip "${PG_HOST[$1]}"; else echo 127.0.0.1; fi
}

pg_require() {
	local b
	for b in initdb pg_ctl pg_basebackup pg_rewind psql; do
		if [ ! -x "$PG_BIN/$b" ] || ! id postgres >/dev/null 2>&1; then
			t_skip "all" "PostgreSQL 15 ($PG_BIN/$b) or user postgres missing"
			exit 0
		fi
	done
	[ "$(id -u)" = 0 ] || { t_skip "all" "needs root"; exit 0; }
	if ! "$HABOX" --list 2>/dev/null | grep -qx haprom; then
		t_skip "all" "this habox is built without haprom (CONFIG_HAPROM=n)"
		exit 0
	fi
}

pg_as() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }

pg_port() { echo "${PG_PORTS[$1]}"; }
pg_sock() { echo "$PG_ROOT/$1/sock"; }
pg_data() { echo "$PG_ROOT/$1/data"; }
pg_pid() { head -n 1 "$PG_ROOT/$1/data/postmaster.pid" 2>/dev/null; }

# A port nobody listens on, different for every node of the run.
pg_free_port() {
	local p i
	for ((i = 0; i < 100; i++)); do
		p=$((20000 + RANDOM % 30000))
		[ -z "$(ss -Hltn "sport = :$p")" ] || continue
		[[ " ${PG_PORTS[*]} " == *" $p "* ]] && continue
		echo "$p"
		return 0
	done
	return 1
}

# conf/ of a node: every setting the tests rely on.
pg_write_conf() {
	local n=$1 d=$PG_ROOT/$1
	mkdir -p "$d/conf" "$d/sock"
	cat >"$d/conf/postgresql.conf" <<EOF
data_directory = '$d/data'
hba_file = '$d/conf/pg_hba.conf'
ident_file = '$d/conf/pg_ident.conf'
port = ${PG_PORTS[$n]}
listen_addresses = '$(if [ -n "${PG_HOST[$n]:-}" ]; then echo '*'; else echo 127.0.0.1; fi)'
unix_socket_directories = '$d/sock'
cluster_name = '$n'
wal_level = replica
max_wal_senders = 10
wal_log_hints = on
hot_standby = on
fsync = off
shared_buffers = 16MB
max_connections = 30
checkpoint_timeout = 1h
max_wal_size = 256MB
min_wal_size = 32MB
wal_keep_size = 128MB
wal_receiver_status_interval = 1s
logging_collector = off
EOF
	cat >"$d/conf/pg_hba.conf" <<EOF
local all all trust
local replication all trust
host all all 127.0.0.1/32 trust
host replication all 127.0.0.1/32 trust
host all all 10.0.0.0/24 trust
host replication all 10.0.0.0/24 trust
EOF
	: >"$d/conf/pg_ident.conf"
	chown -R postgres:postgres "$d"
}

pg_cleanup() {
	local n pid kids
	for n in "${PG_NODES[@]}"; do
		pid=$(pg_pid "$n")
		[ -n "$pid" ] || continue
		kill -0 "$pid" 2>/dev/null || continue
		kill -CONT "$pid" 2>/dev/null
		pg_as "$PG_BIN/pg_ctl" stop -D "$PG_ROOT/$n/data" -m immediate \
			-t 10 >/dev/null 2>&1
		if kill -0 "$pid" 2>/dev/null; then
			kids=$(pgrep -P "$pid")
			kill -9 "$pid" $kids 2>/dev/null
		fi
	done
}

pg_setup_root() {
	[ -d "$PG_ROOT" ] && return 0
	# postgres must reach its directories inside our private temp dir.
	chmod 711 "$T_TMP"
	mkdir -p "$PG_ROOT"
	chown postgres:postgres "$PG_ROOT"
	t_defer pg_cleanup
}

pg_add_node() {
	pg_setup_root
	if [ -n "${PG_HOST[$1]:-}" ]; then
		PG_PORTS[$1]=5432
	else
		PG_PORTS[$1]=$(pg_free_port) || return 1
	fi
	PG_NODES+=("$1")
	mkdir -p "$PG_ROOT/$1"
	chown postgres:postgres "$PG_ROOT/$1"
}

pg_start() {
	pg_where "$1" setpriv --reuid=postgres --regid=postgres --init-groups -- \
		"$PG_BIN/pg_ctl" start -D "$PG_ROOT/$1/conf" -w -t 60 \
		-l "$PG_ROOT/$1/server.log" >"$PG_ROOT/$1/pg_ctl.out" 2>&1 || {
		echo "pg_start $1 failed:" >&2
		tail -n 20 "$PG_ROOT/$1/server.log" >&2
		return 1
	}
}

pg_stop() {
	pg_as "$PG_BIN/pg_ctl" stop -D "$PG_ROOT/$1/data" -m "${2:-fast}" -w \
		-t 60 >/dev/null 2>&1
}

pg_sql() {
	timeout 60 setpriv --reuid=postgres --regid=postgres --init-groups -- \
		"$PG_BIN/psql" -XAtq -v ON_ERROR_STOP=1 -h "$(pg_sock "$1")" \
		-p "$(pg_port "$1")" -U postgres -d postgres -c "$2"
}

pg_init() {
	local n=$1
	pg_add_node "$n" || return 1
	pg_as "$PG_BIN/initdb" -D "$PG_ROOT/$n/data" -U postgres -A trust \
		--no-sync >"$PG_ROOT/$n/initdb.out" 2>&1 || {
		cat "$PG_ROOT/$n/initdb.out" >&2
		return 1
	}
	pg_write_conf "$n"
	pg_start "$n" || return 1
	pg_sql "$n" "CREATE ROLE replicator LOGIN REPLICATION;
		GRANT pg_checkpoint TO replicator;
		GRANT EXECUTE ON FUNCTION pg_catalog.pg_ls_dir(text, boolean, boolean) TO replicator;
		GRANT EXECUTE ON FUNCTION pg_catalog.pg_stat_file(text, boolean) TO replicator;
		GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_binary_file(text) TO replicator;
		GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean) TO replicator;" \
		>/dev/null
}

pg_streaming() {
	[ "$(pg_sql "$1" "SELECT status FROM pg_stat_wal_receiver" 2>/dev/null)" = streaming ]
}

pg_standby() {
	local n=$1 p=$2
	pg_add_node "$n" || return 1
	pg_where "$n" setpriv --reuid=postgres --regid=postgres --init-groups -- \
		"$PG_BIN/pg_basebackup" -D "$PG_ROOT/$n/data" -h "$(pg_addr "$p")" \
		-p "$(pg_port "$p")" -U replicator -X stream -c fast -R \
		>"$PG_ROOT/$n/basebackup.out" 2>&1 || {
		cat "$PG_ROOT/$n/basebackup.out" >&2
		return 1
	}
	# The last setting wins: name the standby after its node.
	echo "primary_conninfo = 'host=$(pg_addr "$p") port=$(pg_port "$p") user=replicator application_name=$n'" \
		>>"$PG_ROOT/$n/data/postgresql.auto.conf"
	pg_write_conf "$n"
	pg_start "$n" && t_wait 30 pg_streaming "$n"
}

# A habox.conf for node NAME (of nodes NAME, "other" and a witness),
# managing NAME's server; extra lines go into [postgres].
pg_haprom_conf() {
	local n=$1 f=$2 l
	shift 2
	{
		printf '[cluster]\nname = pgtest\nnode = %s\nstate_dir = %s\n' \
			"$n" "$PG_ROOT/$n/state"
		printf '[node %s]\naddress = 10.0.0.1\n' "$n"
		printf '[node other-%s]\naddress = 10.0.0.2\n' "$n"
		printf '[node w]\naddress = 10.0.0.3\nrole = witness\n'
		printf '[postgres]\nconninfo = host=%s port=%s dbname=postgres\n' \
			"$(pg_sock "$n")" "$(pg_port "$n")"
		printf 'data_dir = %s\nconfig_dir = %s\nlog_file = %s\n' \
			"$PG_ROOT/$n/data" "$PG_ROOT/$n/conf" "$PG_ROOT/$n/server.log"
		printf 'bin_dir = %s\n' "$PG_BIN"
		for l in "$@"; do echo "$l"; done
	} >"$f"
}
