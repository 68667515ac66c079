#!/usr/bin/env bash
# hawatch end to end, two members and a witness in network namespaces,
# a real PostgreSQL 15 primary and standby (one per member namespace), a
# real VIP that a client namespace uses: election, take-over in order,
# failover on kill -9, a frozen leader losing its VIP by itself, a
# partition, the old leader rejoining as a standby by itself, a switchover
# under writes losing nothing, failover off/on, signals and reload.
. "$HABOX_TOP/tests/lib/testlib.sh"
. "$HABOX_TOP/tests/lib/netns.sh"
. "$HABOX_TOP/tests/lib/pg.sh"
. "$HABOX_TOP/tests/lib/haconf.sh"
. "$HABOX_TOP/tests/lib/capture.sh"
t_require_root
pg_require

VIP=10.0.0.100
topo_up 4 || { t_fail setup "topology"; exit 1; }
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T_TMP/psk"
chmod 600 "$T_TMP/psk"
pg_in_ns n1 1
pg_in_ns n2 2
pg_init n1 && pg_standby n2 n1 || { t_fail setup "PostgreSQL"; exit 1; }
pg_sql n1 "ALTER SYSTEM SET wal_keep_size = '256MB'" >/dev/null

# conf HOST NODE PGNAME: node HOST's habox.conf.
conf() {
	local h=$1 node=$2 pn=$3 d=$T_TMP/h$1
	mkdir -p "$d"
	{ hc_cluster hwt "$node" "$d" "psk_file = $T_TMP/psk" \
		"step_timeout = 30s" "notify = $T_TMP/notify.sh $d/notify.log" \
		"watchdog = $d/watchdog"
	  hc_nodes node1:1:100 node2:2:90 w:3:witness
	  hc_vip db "$VIP/24"
	  hc_postgres "$pn"
	  # Small, so that positions read a poll apart under pgbench differ
	  # by more: a switchover judges the target by the primary's own
	  # pg_stat_replication, read with its position in one query.
	  echo "max_lag_on_failover = 64kB"
	  printf '[service marker]\nstart = touch %s/service.on\nstop = rm -f %s/service.on\n' "$d" "$d"
	} >"$d/habox.conf"
	mkfifo "$d/watchdog"
	t_bg python3 "$HABOX_TOP/tests/lib/wdreader.py" "$d/watchdog" "$d/wd.log"
	t_wait 10 grep -q listening "$d/wd.log" || t_fail setup "the watchdog stand-in for $d"
	echo "$d/habox.conf"
}
# notify = CMD gets STATE TERM LEADER appended and HABOX_* in its environment.
printf '#!/bin/sh\necho "$2 $3 $4 node=$HABOX_NODE state=$HABOX_STATE" >>"$1"\n' >"$T_TMP/notify.sh"
chmod 755 "$T_TMP/notify.sh"
conf 1 node1 n1 >/dev/null; C[1]=$T_TMP/h1/habox.conf
conf 2 node2 n2 >/dev/null; C[2]=$T_TMP/h2/habox.conf
conf 3 w n1 >/dev/null; C[3]=$T_TMP/h3/habox.conf

start_hw() { # start_hw HOST
	topo_bg "$1" "$HABOX" hawatch -f -vv -c "${C[$1]}" 2>>"$T_TMP/h$1/hawatch.log"
	HW[$1]=$T_LASTPID
}
for i in 1 2 3; do t_keep "h$i.log" "$T_TMP/h$i/hawatch.log"; done
st() { topo_exec "$1" "$HABOX" hactl status --json -c "${C[$1]}" 2>/dev/null; }
jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)" 2>/dev/null; }
# answers HOST: its hawatch answers hactl status (leader or not).
answers() { [ -n "$(st "$1" | jget 'd["role"]')" ]; }
leads() { [ "$(st "$1" | jget 'd["role"], d["resources"]')" = "leader held" ]; }
# follows HOST LEADER: HOST is a follower of LEADER.
follows() { [ "$(st "$1" | jget 'd["role"], d["leader"]')" = "follower $2" ]; }
failover_is() { [ "$(st "$1" | jget 'd["failover"]')" = "$2" ]; }
vip_on() { ip -n "$(topo_ns "$1")" -br addr show eth0 | grep -q " $VIP/24"; }
client_sql() {
	ip netns exec "$(topo_ns 4)" setpriv --reuid=postgres --regid=postgres \
		--init-groups -- "$PG_BIN/psql" -XAtq -h $VIP -p 5432 -U postgres \
		-d postgres -c "$1" 2>&1
}
# sql_is PG QUERY VALUE: the query's answer now (for t_wait, which re-runs it).
sql_is() { [ "$(pg_sql "$1" "$2")" = "$3" ]; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# node1 first, answering, then the others: priority decides among the
# nodes that are up (a member that is still starting votes for nobody).
start_hw 1
t_wait 20 answers 1
start_hw 2
start_hw 3
t_ok "node1 (priority 100) is elected and takes over" t_wait 15 leads 1
t_ok "  it holds the VIP" vip_on 1
t_ok "  its PostgreSQL is the primary" test "$(pg_sql n1 'SELECT pg_is_in_recovery()')" = f
t_ok "  its service was started" test -e "$T_TMP/h1/service.on"
t_ok "  notify ran with the new state" t_wait 5 \
	grep -qx "leader [0-9]* node1 node=node1 state=leader" "$T_TMP/h1/notify.log"
feeds() { grep -c " feed$" "$T_TMP/h$1/wd.log" 2>/dev/null; }
f0=$(feeds 1); sleep 1; f1=$(feeds 1)
t_ok "  the leader feeds its watchdog ($f0, then $f1 a second later)" test "$f1" -ge $((f0 + 3))
t_ok "  node2, a follower, never opened its watchdog" sh -c "! grep -q ' open\$' $T_TMP/h2/wd.log"
t_ok "  node2 holds nothing" sh -c "! ip -n $(topo_ns 2) addr | grep -q $VIP && ! test -e $T_TMP/h2/service.on"
st 1 >"$T_TMP/status.json"
t_case "status --json parses and says who is what" \
	--out-has "leader node1 node2:follower w:witness" \
	-- python3 -c "
import json; d = json.load(open('$T_TMP/status.json'))
print(d['role'], d['leader'], ' '.join(n['name'] + ':' + n['role'] for n in d['nodes'] if not n['self']))"
t_case "status is healthy (exit 0)" --out-has "leader node1" \
	-- topo_exec 1 "$HABOX" hactl status -c "${C[1]}"
t_case "a client writes through the VIP" --out-eq /dev/null \
	-- client_sql "CREATE TABLE t (id int primary key, at text); INSERT INTO t VALUES (1, 'node1')"

# --- kill -9 of the leader's hawatch and PostgreSQL -------------------------
t_ok "node2's standby has the row" t_wait 10 sql_is n2 'SELECT count(*) FROM t' 1
t0=$(date +%s%N)
kill -9 "${HW[1]}" "$(pg_pid n1)"
t_ok "node1's hawatch and PostgreSQL killed: node2 takes over" t_wait 10 leads 2
took=$(ms_since "$t0")
# A lease (1 s), an election, haprom promote, havip up: 3 s is a bound,
# not a measure (bench/failover measures); twice that under ASan.
t_ok "  within $((3 * ${T_SLOW:-1})) s (took ${took} ms)" test "$took" -lt $((3000 * ${T_SLOW:-1}))
t_ok "  node2 holds the VIP" vip_on 2
t_ok "  the kernel dropped node1's VIP by itself" t_wait 3 sh -c "! ip -n $(topo_ns 1) addr | grep -q $VIP"
t_ok "  node2's PostgreSQL was promoted" test "$(pg_sql n2 'SELECT pg_is_in_recovery()')" = f
t_ok "  and its service started" test -e "$T_TMP/h2/service.on"
t_ok "  notify told node2 it leads" t_wait 5 \
	grep -qx "leader [0-9]* node2 node=node2 state=leader" "$T_TMP/h2/notify.log"
t_ok "  a client writes through the VIP to node2" t_wait 5 sh -c \
	"[ -z \"\$(ip netns exec $(topo_ns 4) setpriv --reuid=postgres --regid=postgres --init-groups -- $PG_BIN/psql -XAtq -h $VIP -p 5432 -U postgres -d postgres -c \"INSERT INTO t VALUES (2, 'node2')\" 2>&1)\" ]"

# --- the old leader comes back: a standby of the new primary, by itself ------
start_hw 1
t_ok "node1 restarted: a follower of node2" t_wait 10 follows 1 node2
t_ok "  its PostgreSQL streams from node2 (demote, rewind)" t_wait 60 pg_streaming n1
t_ok "  and has node2's row" t_wait 10 sql_is n1 'SELECT count(*) FROM t' 2
t_ok "  node2 still leads" leads 2

# --- a frozen leader loses the VIP by itself; the MAC never goes back ------
cap_start 4 arp arp
mac2=$(topo_mac 2) mac1=$(topo_mac 1)
ip netns exec "$(topo_ns 4)" ping -c 1 -W 1 $VIP >/dev/null
kill -STOP "${HW[2]}"
t0=$(date +%s%N)
t_ok "node2's hawatch frozen: its kernel drops the VIP within lease + 1.5 s" \
	t_wait 2.5 sh -c "! ip -n $(topo_ns 2) addr | grep -q $VIP"
gone=$(ms_since "$t0")
t_ok "  (gone after ${gone} ms)" test "$gone" -lt 2500
t_ok "  node1 takes over" t_wait 10 leads 1
sleep 2	# three leases frozen in all
kill -CONT "${HW[2]}"
t_ok "node2 thawed: it knows its lease is gone and follows" t_wait 5 follows 2 node1
sleep 1.5
cap_stop
cap_lines arp | grep " spa=$VIP " >"$T_TMP/arp.txt"
t_ok "  node1 announced the VIP" grep -q "sha=$mac1" "$T_TMP/arp.txt"
t_case "  and after that no frame gave the VIP node2's MAC" --out-eq /dev/null \
	-- sh -c "awk '/sha=$mac1/ {seen=1} seen && /sha=$mac2/' $T_TMP/arp.txt"
t_ok "  the client's neighbour entry is node1's MAC" \
	sh -c "ip -n $(topo_ns 4) neigh show $VIP | grep -q $mac1"
t_ok "  node2's PostgreSQL becomes a standby of node1" t_wait 60 pg_streaming n2
t_ok "  node2's service was stopped" test ! -e "$T_TMP/h2/service.on"

# --- a partitioned leader releases everything; it rejoins after healing -----
pg_sql n1 "INSERT INTO t VALUES (3, 'node1 again')" >/dev/null
t_ok "node2 streams row 3" t_wait 10 sql_is n2 'SELECT count(*) FROM t' 3
topo_link 1 down
t0=$(date +%s%N)
t_ok "node1 cut off: it releases the VIP within one lease" \
	t_wait 1.5 sh -c "! ip -n $(topo_ns 1) addr | grep -q $VIP"
t_ok "  and fences its PostgreSQL" t_wait 5 sql_is n1 'SHOW default_transaction_read_only' on
t_ok "  node2 is elected on the other side" t_wait 10 leads 2
t_ok "  node2 promoted its PostgreSQL" test "$(pg_sql n2 'SELECT pg_is_in_recovery()')" = f
pg_sql n2 "INSERT INTO t VALUES (4, 'node2 while node1 is cut off')" >/dev/null
topo_link 1 up
t_ok "healed: node1 follows node2" t_wait 10 follows 1 node2
t_ok "  its PostgreSQL rejoined as a standby (rewind, no manual step)" t_wait 60 pg_streaming n1
t_ok "  with node2's rows" t_wait 10 sql_is n1 'SELECT count(*) FROM t' 4

# --- switchover under writes: nothing committed is lost ------------------------
pg_sql n2 "ALTER SYSTEM SET synchronous_standby_names = 'node1'" >/dev/null
pg_sql n2 "ALTER SYSTEM SET synchronous_commit = on" >/dev/null
pg_sql n2 "SELECT pg_reload_conf()" >/dev/null
pg_sql n2 "CREATE TABLE w (id serial primary key, v int)" >/dev/null
sync_is() { [ "$(pg_sql n2 "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'node1'")" = sync ]; }
t_ok "node1 is the synchronous standby" t_wait 10 sync_is
cat >"$T_TMP/w.sql" <<EOF
INSERT INTO w (v) VALUES (1);
EOF
chmod 644 "$T_TMP/w.sql"
ip netns exec "$(topo_ns 4)" setpriv --reuid=postgres --regid=postgres --init-groups -- \
	"$PG_BIN/pgbench" -n -h $VIP -p 5432 -U postgres -c 4 -T 8 -f "$T_TMP/w.sql" postgres \
	>"$T_TMP/pgbench.out" 2>&1 &
PB=$!
T_PIDS+=("$PB")
sleep 2
t_case "switchover to node1 while pgbench writes" --out-has "handing over to node1" \
	-- topo_exec 2 "$HABOX" hactl switchover --to node1 -c "${C[2]}"
t_ok "  node1 leads" t_wait 15 leads 1
wait "$PB"
done_tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$T_TMP/pgbench.out")
rows=$(pg_sql n1 "SELECT count(*) FROM w")
t_ok "  pgbench committed transactions (${done_tx:-none})" test "${done_tx:-0}" -gt 0
t_ok "  every one of them is on the new primary ($rows rows >= $done_tx)" test "$rows" -ge "${done_tx:-0}"
t_ok "  node2 follows node1 again" t_wait 60 pg_streaming n2

# --- failover off, then on -----------------------------------------------------
t_case "failover off" --out-has "failover off" -- topo_exec 1 "$HABOX" hactl failover off -c "${C[1]}"
t_ok "  it reaches node2" t_wait 5 failover_is 2 False
kill -9 "${HW[1]}"
sleep 3
t_ok "  the leader killed: nothing moves" test "$(st 2 | jget 'd["role"]')" = follower
t_case "  and status says why (exit 1: degraded)" --exit 1 \
	--out-has "failover is off for the cluster" \
	-- topo_exec 2 "$HABOX" hactl status -c "${C[2]}"
t_case "failover on again" --out-has "failover on" \
	-- topo_exec 2 "$HABOX" hactl failover on -c "${C[2]}"
t_ok "  and takes over" t_wait 10 leads 2
start_hw 1
t_ok "  node1's hawatch answers again" t_wait 20 answers 1
t_ok "  node1 back as a standby" t_wait 60 pg_streaming n1

# --- signals and reload ----------------------------------------------------------
t_ok "SIGUSR1 on node1 asks for leadership" kill -USR1 "${HW[1]}"
t_ok "  node1 leads" t_wait 15 leads 1
# (node2's PostgreSQL is demoted and rewound after that: a switchover
# back waits for it to stream again, as an operator would.)
t_ok "  node2 streams from node1 again" t_wait 60 pg_streaming n2
cp "${C[1]}" "$T_TMP/good.conf"
echo "bogus = 1" >>"${C[1]}"
kill -HUP "${HW[1]}"
t_ok "SIGHUP with a broken config: FAILURE logged, old config kept" t_wait 5 \
	grep -q "reload: .* has errors: keeping the running configuration" "$T_TMP/h1/hawatch.log"
# hactl reads the configuration too: ask with the good copy.
C1=${C[1]} C[1]=$T_TMP/good.conf
t_ok "  still leading" leads 1
C[1]=$C1
cp "$T_TMP/good.conf" "${C[1]}"
kill -HUP "${HW[1]}"
t_ok "SIGHUP with a good config: reloaded" t_wait 5 grep -q "reloaded" "$T_TMP/h1/hawatch.log"
t_ok "SIGUSR2 on node1 hands over" kill -USR2 "${HW[1]}"
t_ok "  node2 leads" t_wait 15 leads 2
t_ok "  node1 disarmed its watchdog after the hand-over (magic close)" \
	sh -c "tail -2 $T_TMP/h1/wd.log | head -1 | grep -q ' V$' && tail -1 $T_TMP/h1/wd.log | grep -q ' close$'"
t_ok "SIGTERM on node2 hands over and exits" kill -TERM "${HW[2]}"
t_ok "  node2's hawatch exited" t_wait 30 sh -c "! kill -0 ${HW[2]} 2>/dev/null"
t_ok "  node1 leads" t_wait 15 leads 1
t_ok "  node2 left no pidfile or socket" sh -c "! ls $T_TMP/h2/run/hawatch.* 2>/dev/null | grep -q ."
