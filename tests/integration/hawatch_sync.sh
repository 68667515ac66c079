#!/usr/bin/env bash
# hawatch runs hasync: `hasync serve` on every member, `hasync watch
# --term T` only on the leader. Two members and a witness in network
# namespaces, the cluster CA, real trees:
# - a foreign holder of the VIP is reported by the probe before take-over;
# - a file written on the leader appears on the follower;
# - kill -9 of the leader's hawatch takes its hasync children with it; the
#   new leader is the source;
# - the old leader, back, receives what was written meanwhile and sends
#   nothing; a push with its old term is refused (the receivers know the
#   term from their hawatch, not only from earlier pushes).
. "$HABOX_TOP/tests/lib/testlib.sh"
. "$HABOX_TOP/tests/lib/netns.sh"
. "$HABOX_TOP/tests/lib/haconf.sh"
t_require_root
t_has_applet hasync && t_has_applet hawatch || { t_skip all "habox built without hasync or hawatch"; exit 0; }

topo_up 3 || { t_fail setup "topology"; exit 1; }
mkdir -p "$T_TMP/pki"

# conf HOST NODE: node HOST's habox.conf.
conf() {
	local h=$1 node=$2 d=$T_TMP/h$1
	mkdir -p "$d/data"
	{ hc_cluster hws "$node" "$d" "ca = $T_TMP/pki/ca.crt" \
		"cert = $T_TMP/pki/$node.crt" "key = $T_TMP/pki/node.key"
	  hc_nodes node1:1:100 node2:2:90 w:3:witness
	  hc_vip web 10.0.0.200/24
	  printf '[sync data]\npath = %s/data\nwatch = yes\ndelete = yes\n' "$d"
	} >"$d/habox.conf"
}
conf 1 node1
conf 2 node2
conf 3 w
"$HABOX" hactl bootstrap -c "$T_TMP/h1/habox.conf" -d "$T_TMP/pki" >/dev/null 2>&1 &&
	"$HABOX_TOOLS/pkitool" "$T_TMP/pki/ca.crt" "$T_TMP/pki/ca.key" \
		"$T_TMP/pki/node.key" node2 hws -1 30 "$T_TMP/pki/node2.crt" >/dev/null 2>&1 &&
	"$HABOX_TOOLS/pkitool" "$T_TMP/pki/ca.crt" "$T_TMP/pki/ca.key" \
		"$T_TMP/pki/node.key" w hws -1 30 "$T_TMP/pki/w.crt" >/dev/null 2>&1 ||
	{ t_fail setup "PKI"; exit 1; }
for i in 1 2 3; do t_keep "h$i.log" "$T_TMP/h$i/hawatch.log"; done

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
# children HOST WHAT: PIDs of `hasync WHAT` run for host HOST's config
# ([h]: the pattern must not match the shell that runs pgrep).
children() { pgrep -f "[h]async $2.* -c $T_TMP/h$1/habox.conf"; }
runs() { children "$@" >/dev/null; }
runs_not() { ! children "$@" >/dev/null; }
same() { cmp -s "$1" "$2"; }

# A host outside the cluster holds the VIP: the probe before taking it
# says so, and the take-over goes on (gratuitous ARP moves the traffic).
ip -n "$(topo_ns 3)" addr add 10.0.0.200/24 dev eth0
# node1 first, answering, then the others: priority decides among the
# nodes that are up (a member that is still starting votes for nobody).
start_hw 1
t_wait 20 answers 1
start_hw 2
start_hw 3
t_ok "node1 (priority 100) leads" t_wait 15 leads 1
t_ok "  its probe saw the foreign holder of the VIP" t_wait 5 \
	grep -q "probe VIP web: another host answers for it" "$T_TMP/h1/hawatch.log"
t_ok "  and took the VIP anyway" sh -c \
	"ip -n $(topo_ns 1) -br addr show eth0 | grep -q ' 10.0.0.200/24'"
ip -n "$(topo_ns 3)" addr del 10.0.0.200/24 dev eth0
t_ok "  node2 follows it" t_wait 5 follows 2 node1
t_ok "  both members run hasync serve" t_wait 5 sh -c \
	"pgrep -f '[h]async serve.* -c $T_TMP/h1/habox.conf' && pgrep -f '[h]async serve.* -c $T_TMP/h2/habox.conf'"
t_ok "  the witness runs no hasync" runs_not 3 ""
t_ok "  the leader runs hasync watch with its term" t_wait 5 runs 1 "watch -f --term [1-9][0-9]* data"
t_ok "  the follower does not" runs_not 2 watch

echo "written on node1" >"$T_TMP/h1/data/a.txt"
t_ok "a file written on the leader appears on the follower" \
	t_wait 10 same "$T_TMP/h1/data/a.txt" "$T_TMP/h2/data/a.txt"
mkdir "$T_TMP/h1/data/dir"
echo "in a new directory" >"$T_TMP/h1/data/dir/b.txt"
t_ok "  a new directory with a file too" \
	t_wait 10 same "$T_TMP/h1/data/dir/b.txt" "$T_TMP/h2/data/dir/b.txt"

# What hactl status says of the VIP and the sync set, checked against
# the kernel and the trees above.
is() { local v; v=$(st "$1" | jget "$2"); [ "$v" = "$3" ] || { echo "got: $v"; return 1; }; }
t_ok "status on the leader: VIP web held by node1, on its interface" \
	is 1 'd["vips"][0]["name"], d["vips"][0]["address"], d["vips"][0]["holder"], d["vips"][0]["here"]' \
	"web 10.0.0.200/24 node1 True"
t_ok "  and the kernel agrees" sh -c \
	"ip -n $(topo_ns 1) -br addr show eth0 | grep -q ' 10.0.0.200/24'"
t_ok "status on the follower: held by node1, not here" \
	is 2 'd["vips"][0]["holder"], d["vips"][0]["here"]' "node1 False"
t_wait 10 is 1 'd["sync"][0]["backlog"]' 0
t_ok "status on the leader: sync set data pushed, nothing waiting" \
	is 1 'd["sync"][0]["name"], d["sync"][0]["generation"] > 0, 0 <= d["sync"][0]["last_push"]["age_s"] < 60, d["sync"][0]["backlog"]' \
	"data True True 0"
t_ok "status on the follower: data last received from node1" \
	is 2 'd["sync"][0]["last_received"]["from"], d["sync"][0]["generation"] > 0' "node1 True"
t_case "  the table shows both" --out-has "web " --out-has "10.0.0.200/24" \
	--out-has "GENERATION" -- topo_exec 1 "$HABOX" hactl status -c "$T_TMP/h1/habox.conf"
metrics() { topo_exec "$1" "$HABOX" hactl metrics -c "$T_TMP/h$1/habox.conf" |
	python3 "$HABOX_TOP/tests/lib/promcheck.py"; }
t_case "hactl metrics on the leader: Prometheus text, what it is" \
	--out-has 'habox_leader {node="node1"} 1' \
	--out-has 'habox_peer_up {node="node1",peer="node2"} 1' \
	--out-has 'habox_peer_up {node="node1",peer="w"} 1' \
	--out-has 'habox_sync_backlog_paths {node="node1",set="data"} 0' \
	--out-has 'habox_failovers_total {node="node1"} 1' -- metrics 1
t_case "  on the follower" --out-has 'habox_leader {node="node2"} 0' \
	--out-has 'habox_sync_backlog_paths {node="node2",set="data"} -1' -- metrics 2

# A reload (SIGHUP) on the leader keeps its hasync children and has them
# read the configuration again: no restart, no gap in the heartbeats.
serve_pid=$(children 1 serve | head -n 1)
watch_pid=$(children 1 watch | head -n 1)
kill -HUP "${HW[1]}"
t_ok "SIGHUP on the leader: reloaded" t_wait 5 grep -q "reloaded" "$T_TMP/h1/hawatch.log"
told() { grep -q "$1: told to reload" "$T_TMP/h1/hawatch.log"; }
t_ok "  hasync watch told to reload" t_wait 5 told "sync source: hasync watch"
t_ok "  hasync serve told to reload" t_wait 5 told "hasync serve"
# still HOST WHAT PID: the same child runs.
still() { [ -n "$3" ] && [ "$(children "$1" "$2" | head -n 1)" = "$3" ]; }
t_ok "  the same hasync watch runs (not restarted)" still 1 watch "$watch_pid"
t_ok "  the same hasync serve runs" still 1 serve "$serve_pid"
echo "after the reload" >"$T_TMP/h1/data/r.txt"
t_ok "  a file written after it still reaches the follower" \
	t_wait 10 same "$T_TMP/h1/data/r.txt" "$T_TMP/h2/data/r.txt"
t_ok "  node1 still leads" leads 1

old=$(children 1 watch | head -n 1)
kill -9 "${HW[1]}"
t_ok "node1's hawatch killed: its hasync children die with it" \
	t_wait 5 runs_not 1 ""
t_ok "  node2 takes over" t_wait 10 leads 2
t_ok "  and runs hasync watch" t_wait 5 runs 2 watch
echo "written on node2 while node1 was down" >"$T_TMP/h2/data/c.txt"
sleep 1
start_hw 1
t_ok "node1 back: a follower of node2" t_wait 15 follows 1 node2
t_ok "  receives what was written on node2 meanwhile" \
	t_wait 20 same "$T_TMP/h2/data/c.txt" "$T_TMP/h1/data/c.txt"
echo "written on node2 now" >"$T_TMP/h2/data/e.txt"
t_ok "  and what is written on node2 now" \
	t_wait 10 same "$T_TMP/h2/data/e.txt" "$T_TMP/h1/data/e.txt"
t_ok "  runs no hasync watch" runs_not 1 watch
echo "written on node1, a follower" >"$T_TMP/h1/data/d.txt"
sleep 2
t_ok "  a file written on node1 is not sent" test ! -e "$T_TMP/h2/data/d.txt"
t_case "a push with node1's old term is refused by node2" --exit 1 \
	--err-has "older than term" \
	-- topo_exec 1 "$HABOX" hasync push --term 1 data -c "$T_TMP/h1/habox.conf"
t_ok "  and wrote nothing" test ! -e "$T_TMP/h2/data/d.txt"
[ -n "$old" ] && t_ok "  the old watcher is gone" sh -c "! kill -0 $old 2>/dev/null"

# --- hactl force-leader ------------------------------------------------------
fl() { topo_exec 1 "$HABOX" hactl force-leader -c "$T_TMP/h1/habox.conf" "$@"; }
forced() { is 1 'd["role"], d["forced"]' "$1"; }
t_case "force-leader while a majority is within reach: refused" --exit 1 \
	--err-has "a majority is within reach" -- fl --yes
t_ok "  node2 still leads" leads 2
kill -9 "${HW[2]}" "${HW[3]}"
t_ok "node2 and the witness killed: nobody leads (1 of 3)" t_wait 10 \
	is 1 'd["leader"]' None
so() { topo_exec 1 "$HABOX" hactl switchover -c "$T_TMP/h1/habox.conf" "$@"; }
t_case "switchover to a node that is down: refused" --exit 1 \
	--err-has "node2 is down or out of reach" -- so --to node2
t_case "switchover to the witness: refused" --exit 1 \
	--err-has "w is a witness: it votes but never leads" -- so --to w
t_case "switchover to a node not in the cluster: refused" --exit 2 \
	--err-has "node9" -- so --to node9
echo no >"$T_TMP/no"
t_case "force-leader not confirmed: nothing changes" --exit 1 --stdin "$T_TMP/no" \
	--err-has "WITHOUT a majority" --err-has "not confirmed" -- fl
t_ok "  node1 does not lead" is 1 'd["leader"]' None
echo yes >"$T_TMP/yes"
t_case "force-leader confirmed: node1 leads" --exit 0 --stdin "$T_TMP/yes" \
	--out-has "node1 leads by force" -- fl
t_ok "  holds its resources, the lease marked forced" t_wait 10 leads 1
t_ok "  status says forced" forced "leader True"
sleep 3
t_ok "  and keeps leading alone, 3 s (3 leases) later" leads 1
t_ok "  the VIP is on node1" sh -c \
	"ip -n $(topo_ns 1) -br addr show eth0 | grep -q ' 10.0.0.200/24'"
t_case "  hactl events names it" --out-has "leader by force" \
	-- topo_exec 1 "$HABOX" hactl events -c "$T_TMP/h1/habox.conf"
t_ok "  a WARNING in the log" grep -q "WARNING.*forced to lead without a majority" "$T_TMP/h1/hawatch.log"
start_hw 3
t_ok "the witness back: it follows node1" t_wait 15 is 3 'd["leader"]' node1
t_ok "  node1 leads as usual (a majority acknowledges)" t_wait 5 forced "leader False"
t_case "force-leader again, the majority back: refused" --exit 1 --err-has "a majority is within reach" -- fl --yes

for i in 1 2 3; do kill -TERM "${HW[$i]}" 2>/dev/null; done
for i in 1 2 3; do wait "${HW[$i]}" 2>/dev/null; done
t_case "a command with no hawatch running: exit 2, says so" --exit 2 \
	--err-has "no hawatch answers" \
	-- topo_exec 1 "$HABOX" hactl status -c "$T_TMP/h1/habox.conf"
t_ok "stopped: no hasync left behind" sh -c "! pgrep -f '[h]async .*$T_TMP/'"

