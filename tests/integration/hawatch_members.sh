#!/usr/bin/env bash
# hactl remove-node and add-node against a live cluster of three members
# and a witness (four voters, majority three), with a VIP and a watched
# sync set:
# - refusals: on a follower, the leader itself, a node that is up, an
#   unknown node, taking back a node that is in;
# - node3 down and removed: the status is healthy again and shows it
#   removed on every node, hasync stops pushing to it (a push succeeds,
#   the backlog has no journal for it), the event is recorded;
# - the majority is now two of three: the witness killed too, node1 keeps
#   leading (two of four would not be a majority);
# - node3 back while removed: it says so and neither votes nor leads;
#   add-node takes it back and it follows again.
. "$HABOX_TOP/tests/lib/testlib.sh"
. "$HABOX_TOP/tests/lib/netns.sh"
. "$HABOX_TOP/tests/lib/haconf.sh"
t_require_root
t_has_applet hasync && t_has_applet hawatch || { t_skip all "habox built without hasync or hawatch"; exit 0; }

VIP=10.0.0.210
topo_up 4 || { t_fail setup "topology"; exit 1; }
mkdir -p "$T_TMP/pki"

conf() {
	local h=$1 node=$2 d=$T_TMP/h$1
	mkdir -p "$d/data"
	{ hc_cluster hwm "$node" "$d" "ca = $T_TMP/pki/ca.crt" \
		"cert = $T_TMP/pki/$node.crt" "key = $T_TMP/pki/node.key"
	  hc_nodes node1:1:100 node2:2:90 node3:3:80 w:4:witness
	  hc_vip web "$VIP/24"
	  printf '[sync data]\npath = %s/data\nwatch = yes\n' "$d"
	} >"$d/habox.conf"
}
conf 1 node1
conf 2 node2
conf 3 node3
conf 4 w
pki() {
	"$HABOX_TOOLS/pkitool" "$T_TMP/pki/ca.crt" "$T_TMP/pki/ca.key" \
		"$T_TMP/pki/node.key" "$1" hwm -1 30 "$T_TMP/pki/$1.crt" >/dev/null 2>&1
}
"$HABOX" hactl bootstrap -c "$T_TMP/h1/habox.conf" -d "$T_TMP/pki" >/dev/null 2>&1 &&
	pki node2 && pki node3 && pki w || { t_fail setup "PKI"; exit 1; }
for i in 1 2 3 4; do t_keep "h$i.log" "$T_TMP/h$i/hawatch.log"; done

HW=()
start_hw() {
	topo_bg "$1" "$HABOX" hawatch -f -vv -c "$T_TMP/h$1/habox.conf" 2>>"$T_TMP/h$1/hawatch.log"
	HW[$1]=$T_LASTPID
}
stop_hw() { kill -TERM "${HW[$1]}" 2>/dev/null; wait "${HW[$1]}" 2>/dev/null; }
hactl() { local h=$1; shift; topo_exec "$h" "$HABOX" hactl "$@" -c "$T_TMP/h$h/habox.conf"; }
st() { hactl "$1" status --json 2>/dev/null; }
jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)" 2>/dev/null; }
answers() { [ -n "$(st "$1" | jget 'd["role"]')" ]; }
leads() { [ "$(st "$1" | jget 'd["role"], d["resources"]')" = "leader held" ]; }
follows() { [ "$(st "$1" | jget 'd["role"], d["leader"]')" = "follower $2" ]; }
# role_of HOST NODE: NODE's role in HOST's status.
role_of() { st "$1" | jget "[n['role'] for n in d['nodes'] if n['name'] == '$2'][0]"; }
role_is() { [ "$(role_of "$1" "$2")" = "$3" ]; }
connected() { [ "$(st "$1" | jget "[n['connected'] for n in d['nodes'] if n['name'] == '$2'][0]")" = True ]; }
healthy() { hactl "$1" status >/dev/null 2>&1; }
vip_on() { ip -n "$(topo_ns "$1")" -br addr show eth0 | grep -q " $VIP/24"; }
same() { cmp -s "$1" "$2"; }

start_hw 1
t_wait 20 answers 1
for i in 2 3 4; do start_hw "$i"; done
t_ok "four voters: node1 leads" t_wait 15 leads 1
for i in 2 3; do t_ok "  node$i follows it" t_wait 10 follows "$i" node1; done
t_ok "  status is healthy" t_wait 10 healthy 1

# --- refusals ---------------------------------------------------------------
t_case "remove-node on a follower: refused, names the leader" --exit 1 \
	--err-has "only the leader changes the membership: run it on node1" \
	-- hactl 2 remove-node node3
t_case "remove-node of the leader itself: refused" --exit 1 \
	--err-has "this node leads: hand over first" -- hactl 1 remove-node node1
t_case "remove-node of a node that is up: refused" --exit 1 \
	--err-has "node3: it is up: stop hawatch on it first" -- hactl 1 remove-node node3
t_case "remove-node of an unknown node: usage error" --exit 2 \
	--err-has "no node node9" -- hactl 1 remove-node node9
t_case "add-node of a node that is in: refused" --exit 1 \
	--err-has "in the cluster already" -- hactl 1 add-node node2
t_ok "  nothing changed: node3 still follows" follows 3 node1

# --- node3 down, then removed ------------------------------------------------
stop_hw 3
t_ok "node3 stopped: node1 reports it down" t_wait 10 role_is 1 node3 down
t_case "  status is degraded (exit 1)" --exit 1 --out-has "node3" -- hactl 1 status
t_case "  a push of the set fails for node3" --exit 1 --err-has "node3" \
	-- topo_exec 1 "$HABOX" hasync push data -c "$T_TMP/h1/habox.conf"
t_case "remove-node node3 on the leader" \
	--out-has "node3 removed from the cluster: 3 voters, majority 2" \
	-- hactl 1 remove-node node3
t_ok "  node1 shows node3 removed" role_is 1 node3 removed
t_ok "  node2 learns it from the heartbeats" t_wait 5 role_is 2 node3 removed
t_ok "  the witness too" t_wait 5 role_is 4 node3 removed
t_ok "  status is healthy again (exit 0)" t_wait 5 healthy 1
t_case "  the events say it" --out-has "node3 removed from the cluster (3 voters, majority 2)" \
	-- hactl 1 events
t_case "  it is persisted with the term" --out-has "removed.node3" \
	-- cat "$T_TMP/h1/state/hawatch.state"
t_case "  removing it again: refused" --exit 1 --err-has "out of the cluster already" \
	-- hactl 1 remove-node node3
t_case "  a switchover to it: refused" --exit 1 --err-has "node3 is removed from the cluster" \
	-- hactl 1 switchover --to node3
t_case "  a push of the set now goes to node2 only, and succeeds" \
	-- topo_exec 1 "$HABOX" hasync push data -c "$T_TMP/h1/habox.conf"
echo "after the removal" >"$T_TMP/h1/data/new.txt"
t_ok "  the watch still syncs node2" t_wait 10 same "$T_TMP/h1/data/new.txt" "$T_TMP/h2/data/new.txt"
backlog_peers() { st 1 | jget "' '.join(sorted(d['sync'][0]['backlog_by_peer']))"; }
backlog_is() { [ "$(backlog_peers)" = "$1" ]; }
t_ok "  the set's backlog counts node2 only" t_wait 10 backlog_is node2

# --- the majority is two of three now ---------------------------------------
stop_hw 4
sleep 4
t_ok "witness stopped too: node1 still leads (2 of 3 voters)" leads 1
t_ok "  and still holds the VIP" vip_on 1
start_hw 4
t_ok "  the witness is back" t_wait 10 connected 1 w

# --- node3 back while removed, then taken back --------------------------------
echo "while node3 was out" >"$T_TMP/h1/data/while.txt"
start_hw 3
knows_out() { hactl 3 status 2>/dev/null | grep -q "this node was removed from the cluster"; }
t_ok "node3 restarted while removed: it knows it is out" t_wait 10 knows_out
t_case "  its status exits 1" --exit 1 -- hactl 3 status
t_ok "  node1 still counts it out" role_is 1 node3 removed
t_ok "  node1 still leads" leads 1
t_case "add-node node3 on the leader" \
	--out-has "node3 taken back into the cluster: 4 voters, majority 3" \
	-- hactl 1 add-node node3
t_ok "  node3 follows node1 again" t_wait 10 follows 3 node1
t_ok "  node1 shows it as a follower" t_wait 5 role_is 1 node3 follower
t_ok "  node3 no longer counts itself out" t_wait 5 role_is 3 node3 follower
t_ok "  status is healthy" t_wait 10 healthy 1
t_ok "  the changes made while it was out reach it" t_wait 20 same \
	"$T_TMP/h1/data/while.txt" "$T_TMP/h3/data/while.txt"
t_case "  the state no longer has it removed" --out-lacks "removed.node3" \
	-- cat "$T_TMP/h1/state/hawatch.state"
for i in 1 2 3 4; do kill -TERM "${HW[$i]}" 2>/dev/null; done
for i in 1 2 3 4; do wait "${HW[$i]}" 2>/dev/null; done
