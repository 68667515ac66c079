#!/usr/bin/env bash
# `make demo`: habox on this machine. The static binary and its applets,
# then a live failover in network namespaces: two members with PostgreSQL
# 15 (primary and standby), a witness, a client, a VIP and a synced
# directory; certificates from hactl bootstrap / token / join; hawatch
# started through initscripts/sysvinit/hawatch. The leader is killed
# (kill -9 of hawatch and postgres, link down), the time to the client's
# first write through the VIP is measured, rows and files are checked, and
# the old leader comes back as a standby. Every step checks its result
# and stops the demo with exit 1 when it did not happen (CI runs it:
# tests/integration/demo.sh). Everything it makes (namespaces hbt<ID>-*,
# processes, /tmp/habox-demo.*) goes at exit, on failure and Ctrl-C too.
#
#   scripts/demo.sh [HABOX]      as root; T_SLOW=N stretches every wait
#
# The pieces are tests/lib's (testlib.sh, netns.sh, pg.sh, haconf.sh).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
habox=$(readlink -f "${1:-./habox}")
fail() { echo "demo: $*" >&2; exit 1; }

if [ "$(id -u)" != 0 ]; then
	fail "needs root: it creates network namespaces and runs PostgreSQL as" \
		"user postgres (run 'make demo' or 'scripts/demo.sh HABOX' as root)"
fi
[ -x "$habox" ] || fail "no habox binary at '${1:-./habox}' (run 'make' first)"
for b in initdb pg_ctl pg_basebackup pg_rewind psql; do
	[ -x "${PG_BIN:-/usr/lib/postgresql/15/bin}/$b" ] ||
		fail "PostgreSQL 15 is missing (run 'scripts/debian-deps.sh --install demo')"
done
id postgres >/dev/null 2>&1 || fail "no user postgres (install postgresql-15)"
for b in python3 ip setpriv unshare file; do
	command -v "$b" >/dev/null ||
		fail "$b is missing (run 'scripts/debian-deps.sh --install demo')"
done
for a in hactl hawatch haprom havip hasync; do
	"$habox" --list | grep -qx "$a" ||
		fail "this habox is built without $a (see 'make menuconfig')"
done

# This shell only waits: the demo runs in a child, which ignores SIGINT
# (an asynchronous command), as does everything it starts. On Ctrl-C (or
# TERM, HUP) the child gets SIGTERM, every second until it is gone: it
# then cleans up, ignoring further signals, so that nothing it runs is cut
# short. (bash 5.2 may lose a trap that fires while it parses a $(...);
# this shell parses none while it waits, and a lost TERM is sent again.)
if [ -z "${HABOX_DEMO_CHILD:-}" ]; then
	HABOX_DEMO_CHILD=1 bash "$0" "$habox" &
	child=$!
	stop=0
	trap 'stop=1' INT TERM HUP
	wait "$child"
	rc=$?
	[ "$stop" = 1 ] || exit "$rc"
	echo "demo: interrupted: cleaning up" >&2
	while kill -0 "$child" 2>/dev/null; do
		kill -TERM "$child" 2>/dev/null
		sleep 1
	done
	exit 130
fi

export HABOX=$habox HABOX_TOP=$top
. "$top/tests/lib/testlib.sh"
. "$top/tests/lib/netns.sh"
. "$top/tests/lib/pg.sh"
. "$top/tests/lib/haconf.sh"
trap 'trap "" TERM HUP; t_exit' EXIT

T0=$(t_now_us)
VIP=10.0.0.100
INIT=$top/initscripts/sysvinit/hawatch
NODE=([1]=node1 [2]=node2 [3]=w)
say() { printf '\n== %s\n' "$*"; }
ms_since() { echo $(( ($(t_now_us) - $1) / 1000 )); }

# log HOST: HOST's hawatch log (its children's too), without the syslog
# priority and date.
log() { sed -E 's/^<[0-9]+>[A-Z][a-z]{2} +[0-9]+ //' "$T_TMP/h$1/hawatch.log"; }

# die WHAT: the step that did not happen, the logs' last lines, exit 1.
die() {
	local h n
	echo "demo: FAILED: $*" >&2
	for h in 1 2 3; do
		[ -s "$T_TMP/h$h/hawatch.log" ] || continue
		echo "--- ${NODE[$h]}: the last lines of hawatch's log" >&2
		log "$h" | grep -v "\[DEBUG\]" | tail -n 15 >&2
	done
	for n in n1 n2; do
		[ -s "$PG_ROOT/$n/server.log" ] || continue
		echo "--- PostgreSQL of node${n#n}: the last lines of its log" >&2
		tail -n 8 "$PG_ROOT/$n/server.log" >&2
	done
	exit 1
}

say "the binary"
file -b "$HABOX"
echo "$(stat -c %s "$HABOX") bytes; applets: $("$HABOX" --list | tr '\n' ' ')"
"$HABOX" --version

# --- the cluster ------------------------------------------------------------
say "a cluster in network namespaces $TOPO_PREFIX-*"
topo_up 4 || die "could not make the network namespaces"
echo "node1 $(topo_ip 1), node2 $(topo_ip 2) (members), w $(topo_ip 3) (witness),"
echo "a client $(topo_ip 4); the VIP $VIP; files in $T_TMP"

say "PostgreSQL 15: primary on node1, streaming standby on node2"
pg_in_ns n1 1
pg_in_ns n2 2
pg_init n1 || die "initdb or start of node1's PostgreSQL"
pg_standby n2 n1 || die "node2's standby (pg_basebackup, streaming)"
# Room for the old primary's pg_rewind after the failover.
pg_sql n1 "ALTER SYSTEM SET wal_keep_size = '256MB'" >/dev/null &&
	pg_sql n1 "SELECT pg_reload_conf()" >/dev/null || die "wal_keep_size"
echo "node2 streams from $(pg_sql n2 'SELECT sender_host FROM pg_stat_wal_receiver')"

# conf HOST: the habox.conf of host HOST (the witness has no resources).
conf() {
	local h=$1 d=$T_TMP/h$1
	mkdir -p "$d/files" "$d/pki"
	{ hc_cluster demo "${NODE[$h]}" "$d" "ca = $d/pki/ca.crt" \
		"cert = $d/pki/node.crt" "key = $d/pki/node.key" \
		"step_timeout = 30s"
	  hc_nodes node1:1:100 node2:2:90 w:3:witness
	  hc_vip db "$VIP/24"
	} >"$d/habox.conf"
	[ "$h" = 3 ] && return 0
	hc_postgres "n$h" >>"$d/habox.conf"
	cat >>"$d/habox.conf" <<EOF
[sync files]
path = $d/files
watch = yes
delete = yes
EOF
}
for h in 1 2 3; do conf "$h"; done
cfg() { echo "$T_TMP/h$1/habox.conf"; }
hx() { local h=$1; shift; topo_exec "$h" "$HABOX" "$@" -c "$(cfg "$h")"; }

say "certificates: hactl bootstrap and token on node1, hactl join on the others"
hx 1 hactl bootstrap -q >"$T_TMP/token.node2" || die "hactl bootstrap on node1"
hx 1 hactl token -q >"$T_TMP/token.w" || die "hactl token on node1"
echo "node1: made the cluster CA, its own key and certificate," \
	"two one-time join tokens"
topo_bg 1 "$HABOX" hactl enroll-serve -c "$(cfg 1)" --count 2 --timeout 60s \
	2>"$T_TMP/enroll.log"
t_wait 10 grep -q serving "$T_TMP/enroll.log" || die "hactl enroll-serve on node1"
for h in 2 3; do
	hx "$h" hactl join "$(topo_ip 1)" -q --token-file "$T_TMP/token.${NODE[$h]}" ||
		die "hactl join on ${NODE[$h]}"
	subj=$(hx "$h" hactl cert-info | sed -n '/^subject:/{s/^subject: *//p;q}')
	[ -n "$subj" ] || die "${NODE[$h]} has no certificate after hactl join"
	echo "${NODE[$h]}: hactl join $(topo_ip 1): its certificate $subj," \
		"signed by the cluster CA"
done
for h in 1 2 3; do
	hx "$h" hactl check-config -q >/dev/null ||
		die "hactl check-config on ${NODE[$h]}"
done
echo "habox.conf of each node: $(grep '^\[' "$(cfg 1)" | paste -sd ' ')" \
	"(hactl check-config: valid)"

# --- hawatch, through the init script ---------------------------------------
# hawatch in the background logs to syslog only: each node's goes to a
# receiver of its own, through a private /dev/log in a mount namespace of
# its own (nothing reaches this machine's syslog).
for h in 1 2 3; do
	d=$T_TMP/h$h
	printf 'HABOX=%s\nHAWATCH_CONF=%s\nHAWATCH_OPTS=-v\nHAWATCH_STOP_TIMEOUT=30\n' \
		"$HABOX" "$(cfg "$h")" >"$d/defaults"
	t_bg python3 "$top/tests/lib/syslogd.py" "$d/log.sock" "$d/hawatch.log"
	t_keep "${NODE[$h]}.log" "$d/hawatch.log"
done
for n in n1 n2; do t_keep "pg-$n.log" "$PG_ROOT/$n/server.log"; done
# shellcheck disable=SC2016
PRIVLOG='d=$1; shift
mkdir -p "$d/dev" && mount --rbind /dev "$d/dev" &&
	mount -t tmpfs -o mode=755 demo-dev /dev || exit 1
for f in null zero full random urandom tty; do
	[ -e "$d/dev/$f" ] && touch "/dev/$f" && mount --bind "$d/dev/$f" "/dev/$f"
done
mkdir /dev/shm && mount --rbind "$d/dev/shm" /dev/shm || exit 1
ln -s /proc/self/fd /dev/fd
touch /dev/log && mount --bind "$d/log.sock" /dev/log || exit 1
umount -l "$d/dev"
exec "$@"'
# start_hw HOST: /etc/init.d/hawatch start on host HOST (its output, for
# a failure), its log going to HOST's receiver.
start_hw() {
	local d=$T_TMP/h$1
	topo_exec "$1" unshare -m --propagation private sh -c "$PRIVLOG" sh "$d" \
		env HAWATCH_DEFAULTS="$d/defaults" sh "$INIT" start 2>&1
}
# view HOST: "ROLE LEADER RESOURCES" as HOST's hawatch sees them.
view() {
	hx "$1" hactl status --json 2>/dev/null | python3 -c 'import json, sys
d = json.load(sys.stdin)
print(d["role"], d["leader"], d["resources"])' 2>/dev/null
}
leads() { [ "$(view "$1")" = "leader ${NODE[$1]} held" ]; }
follows() { [[ "$(view "$1")" == "follower $2 "* ]]; }
witness_of() { [[ "$(view 3)" == "witness $1 "* ]]; }
healthy() { hx "$1" hactl status >/dev/null 2>&1; }
status() { echo; echo "\$ hactl status    (on $1)"; hx "${1#node}" hactl status; }
vip_on() { ip -n "$(topo_ns "$1")" -br addr show eth0 | grep -q " $VIP/24"; }
hw_pid() { cat "$T_TMP/h$1/run/hawatch.pid" 2>/dev/null; }
client_sql() {
	topo_exec 4 env PGCONNECT_TIMEOUT=2 timeout 5 "$PG_BIN/psql" -XAtq \
		-v ON_ERROR_STOP=1 -h "$VIP" -p 5432 -U postgres -d postgres -c "$1"
}
upstream() {
	pg_sql "$1" "SELECT sender_host FROM pg_stat_wal_receiver
		WHERE status = 'streaming'" 2>/dev/null
}
upstream_is() { [ "$(upstream "$1")" = "$2" ]; }
same() { cmp -s "$1" "$2"; }
mark() { wc -l <"$T_TMP/h$1/hawatch.log"; }
logged() { log "$1" | tail -n "+$(($2 + 1))" | grep -q "$3"; } # HOST MARK RE
# excerpt HOST MARK FROM TO: what HOST logged after line MARK, from FROM
# to TO (regular expressions), DEBUG left out.
excerpt() {
	echo "${NODE[$1]}'s log (syslog of hawatch and the applets it ran):"
	log "$1" | tail -n "+$(($2 + 1))" | grep -v '\[DEBUG\]' |
		sed -n "/$3/,/$4/p" | head -n 20 | sed 's/^/  /'
}

say "hawatch on each node: HAWATCH_DEFAULTS=... /etc/init.d/hawatch start"
# node1 and the witness first: a majority, with one member that can lead.
# node2 then joins a cluster with a leader, however slow the machine.
for h in 1 3 2; do
	t_wait 5 test -S "$T_TMP/h$h/log.sock" ||
		die "the log receiver of ${NODE[$h]}"
	out=$(start_hw "$h") ||
		die "/etc/init.d/hawatch start on ${NODE[$h]}: $out"
	echo "${NODE[$h]}: started, pid $(hw_pid "$h")"
	if [ "$h" = 3 ]; then
		t_wait 30 leads 1 || die "node1 did not become the leader"
		echo "node1 leads (two votes of three)"
	fi
done
t_wait 10 follows 2 node1 || die "node2 does not follow node1"
t_wait 10 witness_of node1 || die "the witness does not see node1 as leader"
vip_on 1 || die "node1 does not hold the VIP"
t_wait 30 pg_streaming n2 || die "node2's standby does not stream"
t_wait 10 healthy 1 || die "hactl status on node1 does not say healthy"
status node1

say "a client (in its own namespace) writes through the VIP with psql"
echo "\$ psql -h $VIP -c \"INSERT INTO demo VALUES (1, 'before the failover')\""
client_sql "CREATE TABLE demo (id int PRIMARY KEY, what text);
	INSERT INTO demo VALUES (1, 'before the failover')" ||
	die "no write through the VIP"
rows() { [ "$(pg_sql "$1" 'SELECT count(*) FROM demo' 2>/dev/null)" = "$2" ]; }
t_wait 10 rows n2 1 || die "node2's standby did not receive the row"
echo "committed on node1, replicated to node2's standby"
echo "written on node1 before the failover" >"$T_TMP/h1/files/before.txt"
t_wait 15 same "$T_TMP/h1/files/before.txt" "$T_TMP/h2/files/before.txt" ||
	die "the file written on node1 did not reach node2"
echo "files/before.txt written on node1 is on node2 (hasync watch)"

# --- the failover -----------------------------------------------------------
say "the leader dies: kill -9 of node1's hawatch and postgres, link down"
pid=$(hw_pid 1)
[ -n "$pid" ] || die "no pidfile of node1's hawatch"
pgpid=$(pg_pid n1)
m2=$(mark 2)
t_kill=$(t_now_us)
kill -9 "$pid" "$pgpid" || die "kill -9 $pid $pgpid"
topo_link 1 down
echo "killed hawatch (pid $pid) and postgres (pid $pgpid); node1's link is down"
insert2() {
	client_sql "INSERT INTO demo VALUES (2, 'after the failover')" >/dev/null 2>&1
}
# Every INSERT through the VIP is retried until one commits (psql gives
# up on a connection after 2 s, as clients do); the first success ends
# the failover as the client sees it.
t_wait 30 insert2 || die "no write through the VIP within 30 s of the kill"
failover_ms=$(ms_since "$t_kill")
echo "failover: the first write through the VIP committed $failover_ms ms" \
	"after the kill"
t_wait 10 leads 2 || die "node2 is not the leader"
vip_on 2 || die "node2 does not hold the VIP"
t_wait 5 logged 2 "$m2" "holding the resources"
excerpt 2 "$m2" "lost the connection to node1" "holding the resources"
status node2

say "the data: both rows, read through the VIP (now node2)"
echo "\$ psql -h $VIP -c 'SELECT * FROM demo'"
client_sql "SELECT id, what FROM demo ORDER BY id" | tee "$T_TMP/rows" |
	sed 's/^/  /'
[ "$(cat "$T_TMP/rows")" = "1|before the failover
2|after the failover" ] || die "the rows read through the VIP are not both rows"
echo "both rows intact"
echo "written on node2 while node1 was down" >"$T_TMP/h2/files/during.txt"
echo "files/during.txt written on node2 (the new sync source) while node1 is down"

# --- the old leader comes back ----------------------------------------------
say "node1 comes back: link up, /etc/init.d/hawatch start"
t_back=$(t_now_us)
m1=$(mark 1)
topo_link 1 up
out=$(start_hw 1) || die "/etc/init.d/hawatch start on node1: $out"
echo "node1: started, pid $(hw_pid 1)"
t_wait 30 follows 1 node2 || die "node1 did not rejoin as a follower of node2"
t_wait 90 upstream_is n1 "$(topo_ip 2)" ||
	die "node1's PostgreSQL does not stream from node2 (demote, pg_rewind)"
echo "node1 rejoined in $(ms_since "$t_back") ms: demoted, rewound," \
	"streaming from node2"
t_wait 5 logged 1 "$m1" "PostgreSQL follows"
excerpt 1 "$m1" "making it a standby" "PostgreSQL follows"
echo
q="SELECT status, sender_host, received_tli FROM pg_stat_wal_receiver"
echo "\$ psql (on node1) -c '$q'"
pg_sql n1 "$q" | sed 's/^/  /'
t_wait 10 rows n1 2 || die "node1's standby does not have both rows"
echo "node1's standby has both rows (pg_is_in_recovery:" \
	"$(pg_sql n1 'SELECT pg_is_in_recovery()'))"
t_wait 20 same "$T_TMP/h2/files/during.txt" "$T_TMP/h1/files/during.txt" ||
	die "the file written on node2 meanwhile did not reach node1"
same "$T_TMP/h1/files/before.txt" "$T_TMP/h2/files/before.txt" ||
	die "files/before.txt differs between the nodes"
echo "files/during.txt reached node1; files/before.txt is on both"
leads 2 || die "node2 no longer leads"
t_wait 10 healthy 2 || die "hactl status on node2 does not say healthy"
status node2

# --- the end ----------------------------------------------------------------
say "cleaning up: namespaces, processes, $T_TMP"
trap "" TERM HUP
t_exit
T_PIDS=() T_DEFER=() T_KEEP=()
if ip netns list | grep -q "^$TOPO_PREFIX-"; then
	fail "namespaces $TOPO_PREFIX-* are left"
fi
[ ! -e "$T_TMP" ] || fail "$T_TMP is left"
echo "done"
echo
echo "demo: failover in $failover_ms ms (kill -9 of the leader to the first write" \
	"through the VIP); rows and files intact; node1 rejoined as a standby of" \
	"node2; $(( $(ms_since "$T0") / 1000 )) s in all"
