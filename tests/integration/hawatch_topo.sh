#!/usr/bin/env bash
# hawatch in the other topologies:
# - three members (no witness), a real PostgreSQL primary and two
#   standbys: the leader killed (hawatch and postgres, kill -9), the best
#   remaining member takes over, the third re-points its standby at the
#   new primary by itself, a client writes through the VIP, and the dead
#   node comes back as a standby;
# - two members without a witness: check-config warns, and killing the
#   leader moves nothing (no majority is possible), status says why.
. "$HABOX_TOP/tests/lib/testlib.sh"
. "$HABOX_TOP/tests/lib/netns.sh"
. "$HABOX_TOP/tests/lib/pg.sh"
. "$HABOX_TOP/tests/lib/haconf.sh"
t_require_root
pg_require

VIP=10.0.0.100
topo_up 4 || { t_fail setup "topology"; exit 1; }
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T_TMP/psk"
chmod 600 "$T_TMP/psk"
pg_in_ns n1 1
pg_in_ns n2 2
pg_in_ns n3 3
pg_init n1 && pg_standby n2 n1 && pg_standby n3 n1 || { t_fail setup "PostgreSQL"; exit 1; }
pg_sql n1 "ALTER SYSTEM SET wal_keep_size = '256MB'" >/dev/null
pg_sql n1 "SELECT pg_reload_conf()" >/dev/null

# conf HOST: node HOST of three members, all with PostgreSQL.
conf() {
	local h=$1 d=$T_TMP/h$1
	mkdir -p "$d"
	{ hc_cluster three "node$h" "$d" "psk_file = $T_TMP/psk" "step_timeout = 30s"
	  hc_nodes node1:1:100 node2:2:90 node3:3:80
	  hc_vip db "$VIP/24"
	  hc_postgres "n$h"
	} >"$d/habox.conf"
}
for i in 1 2 3; do
	conf "$i"
	t_keep "h$i.log" "$T_TMP/h$i/hawatch.log"
done
HW=()
start_hw() {
	topo_bg "$1" "$HABOX" hawatch -f -vv -c "$T_TMP/h$1/habox.conf" 2>>"$T_TMP/h$1/hawatch.log"
	HW[$1]=$T_LASTPID
}
st() { topo_exec "$1" "$HABOX" hactl status --json -c "$T_TMP/h$1/habox.conf" 2>/dev/null; }
jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)" 2>/dev/null; }
# answers HOST: its hawatch answers hactl status (leader or not).
answers() { [ -n "$(st "$1" | jget 'd["role"]')" ]; }
leads() { [ "$(st "$1" | jget 'd["role"], d["resources"]')" = "leader held" ]; }
follows() { [ "$(st "$1" | jget 'd["role"], d["leader"]')" = "follower $2" ]; }
vip_on() { ip -n "$(topo_ns "$1")" -br addr show eth0 | grep -q " $VIP/24"; }
sql_is() { [ "$(pg_sql "$1" "$2")" = "$3" ]; }
# upstream PG: the host its WAL receiver streams from.
upstream() { pg_sql "$1" "SELECT sender_host FROM pg_stat_wal_receiver WHERE status = 'streaming'"; }
upstream_is() { [ "$(upstream "$1")" = "$2" ]; }
client_sql() {
	ip netns exec "$(topo_ns 4)" setpriv --reuid=postgres --regid=postgres \
		--init-groups -- "$PG_BIN/psql" -XAtq -h $VIP -p 5432 -U postgres \
		-d postgres -c "$1" 2>&1
}

t_case "three members: check-config does not warn" --err-lacks "no automatic failover" \
	-- "$HABOX" hactl check-config -c "$T_TMP/h1/habox.conf"
# node1 first, answering, then the others: priority decides among the
# nodes that are up (a member that is still starting votes for nobody).
start_hw 1
t_wait 20 answers 1
start_hw 2
start_hw 3
t_ok "three members: node1 (priority 100) leads" t_wait 15 leads 1
t_ok "  node2 follows it" t_wait 5 follows 2 node1
t_ok "  node3 follows it" t_wait 5 follows 3 node1
t_ok "  it holds the VIP" vip_on 1
t_case "  a client writes through the VIP" --out-eq /dev/null \
	-- client_sql "CREATE TABLE t (id int primary key); INSERT INTO t VALUES (1)"
t_ok "  node2's standby has the row" t_wait 10 sql_is n2 'SELECT count(*) FROM t' 1
t_ok "  node3's standby has the row" t_wait 10 sql_is n3 'SELECT count(*) FROM t' 1

kill -9 "${HW[1]}" "$(pg_pid n1)"
t_ok "node1 killed: node2 (next by priority) takes over" t_wait 10 leads 2
t_ok "  node3 follows node2" t_wait 10 follows 3 node2
t_ok "  node2 holds the VIP" vip_on 2
t_ok "  a client writes through the VIP" t_wait 5 sh -c \
	"[ -z \"\$(ip netns exec $(topo_ns 4) setpriv --reuid=postgres --regid=postgres --init-groups -- $PG_BIN/psql -XAtq -h $VIP -p 5432 -U postgres -d postgres -c 'INSERT INTO t VALUES (2)' 2>&1)\" ]"
t_ok "  node3's standby streams from node2 now, by itself" t_wait 60 upstream_is n3 "$(topo_ip 2)"
t_ok "  and has the new row" t_wait 10 sql_is n3 'SELECT count(*) FROM t' 2
start_hw 1
t_ok "node1 back: a follower of node2" t_wait 15 follows 1 node2
t_ok "  its PostgreSQL streams from node2 (demoted, rewound)" t_wait 90 upstream_is n1 "$(topo_ip 2)"
t_ok "  with every row" t_wait 10 sql_is n1 'SELECT count(*) FROM t' 2
t_ok "  node2 still leads" leads 2
for i in 1 2 3; do kill -TERM "${HW[$i]}" 2>/dev/null; done
for i in 1 2 3; do wait "${HW[$i]}" 2>/dev/null; done

# --- two members and no witness ------------------------------------------------
# A VIP and a service only: what matters is who may take over.
conf2() {
	local h=$1 d=$T_TMP/t$1
	mkdir -p "$d"
	{ hc_cluster two "node$h" "$d" "psk_file = $T_TMP/psk"
	  hc_nodes node1:1:100 node2:2:90
	  hc_vip db 10.0.0.101/24
	  printf '[service marker]\nstart = touch %s/service.on\nstop = rm -f %s/service.on\n' "$d" "$d"
	} >"$d/habox.conf"
}
conf2 1
conf2 2
t_keep "t1.log" "$T_TMP/t1/hawatch.log"
t_keep "t2.log" "$T_TMP/t2/hawatch.log"
t_case "two members, no witness: check-config warns" \
	--err-has "two members and no witness: no automatic failover is possible" \
	-- "$HABOX" hactl check-config -c "$T_TMP/t1/habox.conf"
st2() { topo_exec "$1" "$HABOX" hactl status --json -c "$T_TMP/t$1/habox.conf" 2>/dev/null; }
leads2() { [ "$(st2 "$1" | jget 'd["role"], d["resources"]')" = "leader held" ]; }
topo_bg 1 "$HABOX" hawatch -f -vv -c "$T_TMP/t1/habox.conf" 2>>"$T_TMP/t1/hawatch.log"
T1=$T_LASTPID
topo_bg 2 "$HABOX" hawatch -f -vv -c "$T_TMP/t2/habox.conf" 2>>"$T_TMP/t2/hawatch.log"
T2=$T_LASTPID
t_ok "  both up: node1 leads (two of two agree)" t_wait 15 leads2 1
kill -9 "$T1"
sleep 4
t_ok "  node1 killed: node2 takes nothing over after 4 s" \
	sh -c "! ip -n $(topo_ns 2) addr | grep -q 10.0.0.101 && ! test -e $T_TMP/t2/service.on"
t_case "  and its status says why" --exit 1 --out-has "no majority" \
	-- topo_exec 2 "$HABOX" hactl status -c "$T_TMP/t2/habox.conf"
kill -TERM "$T2" 2>/dev/null
wait "$T2" 2>/dev/null
