#!/usr/bin/env bash
# tests/lib/netns.sh, the topology later tests use: three hosts on a
# bridge reach each other over IPv4 and IPv6, and teardown leaves no
# namespace and no interface behind.
. "$HABOX_TOP/tests/lib/testlib.sh"
. "$HABOX_TOP/tests/lib/netns.sh"
t_require_root

links_before=$(ip -o link | wc -l)
t_ok "three hosts and a bridge" topo_up 3
for i in 1 2 3; do
	for j in 1 2 3; do
		[ $i = $j ] && continue
		t_ok "host $i pings host $j" topo_exec $i ping -c 1 -W 2 "$(topo_ip $j)"
		t_ok "host $i pings host $j over IPv6" \
			topo_exec $i ping -6 -c 1 -W 2 "$(topo_ip6 $j)"
	done
done
t_ok "no address reached the host's namespace" \
	sh -c "! ip -o addr | grep -q '10\.0\.0\.1[1-3]/24'"
t_ok "names are unique to this run" sh -c "ip netns list | grep -q '^$TOPO_PREFIX-h1'"
topo_down
t_ok "teardown removed every namespace" \
	sh -c "! ip netns list | grep -q '^$TOPO_PREFIX'"
t_ok "and every interface" test "$(ip -o link | wc -l)" = "$links_before"
