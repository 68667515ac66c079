#!/usr/bin/env bash
# havip's commands one by one in a namespace, and every bad input: a bad
# CIDR, an unknown interface, an interface down or without carrier, no
# root or no capability, the address already on another interface,
# labels, lifetimes, options; add is idempotent, del of an absent address
# is not an error; check's exit codes; up/down/status from the [vip]
# sections of a configuration; a build without IPv6.
. "$HABOX_TOP/tests/lib/testlib.sh"
. "$HABOX_TOP/tests/lib/netns.sh"
t_require_root
if ! t_has_applet havip; then
	t_skip all "havip is not built in"
	exit 0
fi

t_ok "a host" topo_up 1 || exit 1
# A second link inside the host's namespace: eth1, its peer eth2.
t_ok "with a second link, eth1 (down)" \
	topo_exec 1 ip link add eth1 type veth peer name eth2
h() { topo_exec 1 "$HABOX" havip "$@"; }
addrs() { topo_exec 1 ip -o addr show; }
nobody() { topo_exec 1 setpriv --reuid=65534 --regid=65534 --clear-groups "$HABOX" havip "$@"; }
nocap() { local c=$1; shift; topo_exec 1 setpriv --bounding-set=-"$c" "$HABOX" havip "$@"; }

# --- bad arguments: exit 2, nothing touched ----------------------------------
t_case "no prefix" --exit 2 --err-has "havip: 10.0.0.100: not ADDRESS/PREFIX" \
	--err-has "usage: havip add" -- h add 10.0.0.100 dev eth0
t_case "not an address" --exit 2 \
	--err-has "10.0.0.300/24: not an IPv4 or IPv6 address" -- h add 10.0.0.300/24 dev eth0
t_case "prefix too long" --exit 2 --err-has "prefix length must be 0-32" \
	-- h add 10.0.0.100/33 dev eth0
t_case "IPv6 prefix too long" --exit 2 --err-has "prefix length must be 0-128" \
	-- h del fd00::100/129 dev eth0
t_case "'dev' missing" --exit 2 --err-has "expected 'dev IFACE' after the address, not 'eth0'" \
	-- h add 10.0.0.100/24 eth0 x
t_case "IFACE missing" --exit 2 --err-has "missing argument" -- h add 10.0.0.100/24 dev
t_case "a multicast address" --exit 2 \
	--err-has "224.0.0.5/24: a multicast or broadcast address cannot be a virtual IP" \
	-- h add 224.0.0.5/24 dev eth0
t_case "the unspecified address" --exit 2 --err-has "the unspecified address" \
	-- h add ::/64 dev eth0
t_case "--count out of range" --exit 2 --err-has "--count 101" -- h add 10.0.0.100/24 dev eth0 --count 101
t_case "--interval without a unit" --exit 2 --err-has "a duration needs a unit" \
	-- h announce 10.0.0.100 dev eth0 --interval 5
t_case "--lifetime 0" --exit 2 --err-has "--lifetime 0: out of range" \
	-- h add 10.0.0.100/24 dev eth0 --lifetime 0
t_case "--lifetime in milliseconds" --exit 2 \
	--err-has "--lifetime 1500ms: the kernel counts lifetimes in whole seconds" \
	-- h add 10.0.0.100/24 dev eth0 --lifetime 1500ms
t_case "renew without --lifetime" --exit 2 --err-has "renew needs --lifetime T" \
	-- h renew 10.0.0.100/24 dev eth0
t_case "a label of another interface" --exit 2 \
	--err-has "--label eth1:x: a label is the interface's name" \
	-- h add 10.0.0.100/24 dev eth0 --label eth1:x
t_case "a label too long" --exit 2 --err-has "at most 15 characters" \
	-- h add 10.0.0.100/24 dev eth0 --label eth0:0123456789a
t_case "a label on IPv6" --exit 2 --err-has "labels are for IPv4 addresses only" \
	-- h add fd00::100/64 dev eth0 --label eth0:v6
t_case "none of that touched an address" --out-lacks "10.0.0.100" \
	--out-lacks "fd00::100" -- addrs

# --- the interface -----------------------------------------------------------
for c in "add 10.0.0.100/24" "del 10.0.0.100/24" "renew 10.0.0.100/24 --lifetime 5" \
    "check 10.0.0.100" "announce 10.0.0.100"; do
	t_case "${c%% *}: unknown interface, exit 2" --exit 2 \
		--err-has "havip: [FAILURE] no interface named 'nosuch0'" \
		-- h $c dev nosuch0
done
t_case "add: interface down, exit 1" --exit 1 \
	--err-has "eth1 is down: bring it up first (ip link set eth1 up)" \
	-- h add 10.0.0.150/24 dev eth1
topo_exec 1 ip link set eth1 up
t_case "add: no carrier (the peer is down), exit 1" --exit 1 \
	--err-has "eth1 has no carrier (its link is down)" -- h add 10.0.0.150/24 dev eth1
t_case "check --probe: no carrier, exit 1" --exit 1 --err-has "eth1 has no carrier" \
	-- h check 10.0.0.150 dev eth1 --probe
t_case "nothing was added" --out-lacks "10.0.0.150" -- addrs
topo_exec 1 ip link set eth2 up
t_case "add on eth1" --err-has "10.0.0.150/24 added to eth1" \
	-- h add 10.0.0.150/24 dev eth1 --count 1
t_case "add the same address on eth0: already on eth1, exit 1" --exit 1 \
	--err-has "10.0.0.150 is already on another interface, eth1: remove it there first (havip del 10.0.0.150/24 dev eth1)" \
	-- h add 10.0.0.150/24 dev eth0
t_case "check on eth0: not held here (on eth1), exit 3" --exit 3 \
	--err-has "10.0.0.150 is not on eth0 (it is on eth1)" -- h check 10.0.0.150 dev eth0
t_case "announce on eth0: not there, exit 1" --exit 1 \
	--err-has "10.0.0.150 is not on eth0: not announcing it" -- h announce 10.0.0.150 dev eth0
t_case "del on eth0: not there, nothing to do" \
	--err-has "havip: [INFO] 10.0.0.150/24 is not on eth0: nothing to do" \
	-- h del 10.0.0.150/24 dev eth0
t_case "still on eth1" --out-has "eth1    inet 10.0.0.150/24" -- addrs

# --- permissions ---------------------------------------------------------------
t_case "add as nobody: needs root, exit 1" --exit 1 \
	--err-has "havip add: permission denied: needs root (or CAP_NET_ADMIN and CAP_NET_RAW; running as uid 65534 without either)" \
	-- nobody add 10.0.0.100/24 dev eth0
t_case "add without CAP_NET_ADMIN, exit 1" --exit 1 \
	--err-has "running as uid 0 without CAP_NET_ADMIN" -- nocap net_admin add 10.0.0.100/24 dev eth0
t_case "add without CAP_NET_RAW, exit 1" --exit 1 \
	--err-has "running as uid 0 without CAP_NET_RAW" -- nocap net_raw add 10.0.0.100/24 dev eth0
t_case "del as nobody, exit 1" --exit 1 --err-has "havip del: permission denied: needs root (or CAP_NET_ADMIN;" \
	-- nobody del 10.0.0.150/24 dev eth1
t_case "check --probe without CAP_NET_RAW, exit 1" --exit 1 \
	--err-has "havip check --probe: permission denied: needs root (or CAP_NET_RAW;" \
	-- nocap net_raw check 10.0.0.150 dev eth1 --probe
t_case "check needs no privilege" --err-has "10.0.0.150 is held here, on eth1" \
	-- nobody check 10.0.0.150 dev eth1
t_case "none of that added or removed anything" --out-lacks "10.0.0.100" \
	--out-has "10.0.0.150" -- addrs

# --- add, del, check, labels ---------------------------------------------------
t_case "add" --err-has "havip: [SUCCESS] 10.0.0.100/24 added to eth0 and announced 2 times" \
	-- h add 10.0.0.100/24 dev eth0 --count 2 --interval 10ms
t_case "add again: already there, announced again, exit 0" \
	--err-has "10.0.0.100/24 was already on eth0: announced it again (once)" \
	-- h add 10.0.0.100/24 dev eth0 --count 1
t_ok "once on the interface" test "$(addrs | grep -c ' 10.0.0.100/')" = 1
t_case "check: held, exit 0" --err-has "10.0.0.100 is held here, on eth0" \
	-- h check 10.0.0.100 dev eth0
t_case "check with a prefix works too" -- h check 10.0.0.100/24 dev eth0
t_case "add with another prefix: refused, exit 1" --exit 1 \
	--err-has "10.0.0.100 is on eth0 as 10.0.0.100/24, not 10.0.0.100/25" \
	-- h add 10.0.0.100/25 dev eth0
t_case "del with another prefix: refused, exit 1" --exit 1 \
	--err-has "10.0.0.100 is on eth0 as 10.0.0.100/24, not 10.0.0.100/16" \
	-- h del 10.0.0.100/16 dev eth0
t_case "del" --err-has "havip: [SUCCESS] 10.0.0.100/24 removed from eth0" \
	-- h del 10.0.0.100/24 dev eth0
t_case "del again: absent, INFO, exit 0" \
	--err-has "havip: [INFO] 10.0.0.100/24 is not on eth0: nothing to do" \
	-- h del 10.0.0.100/24 dev eth0
t_case "check: not held, exit 3" --exit 3 -- h check 10.0.0.100 dev eth0
t_case "add --count 0: not announced" --err-has "10.0.0.101/24 added to eth0, not announced" \
	-- h add 10.0.0.101/24 dev eth0 --count 0
t_case "add --label eth0:vip" -- h add 10.0.0.102/24 dev eth0 --label eth0:vip --count 0
t_case "the label is set" --out-has "10.0.0.102/24 scope global secondary eth0:vip" -- addrs
t_case "IPv6: add" --err-has "fd00::100/64 added to eth0" -- h add fd00::100/64 dev eth0 --count 1
t_case "IPv6: usable at once (no DAD)" --out-lacks tentative \
	-- topo_exec 1 ip addr show dev eth0 to fd00::100/64
t_case "IPv6: check" -- h check fd00::100 dev eth0
t_case "IPv6: del" -- h del fd00::100/64 dev eth0
t_case "quiet: -q keeps SUCCESS off stderr" --err-eq /dev/null \
	-- h del 10.0.0.101/24 dev eth0 -q

# --- [vip] sections: up, down, status ------------------------------------------
conf=$T_TMP/h.conf
cat >"$conf" <<'EOF'
[cluster]
name = t
node = a
[node a]
address = 10.0.0.1
[node b]
address = 10.0.0.2
[node w]
address = 10.0.0.3
role = witness
[vip backend]
address = 10.0.0.100/24
interface = eth0
label = eth0:be
count = 2
interval = 50ms
[vip v6]
address = fd00::100/64
interface = eth0
count = 1
[vip lost]
address = 10.0.0.200/24
interface = nosuch0
EOF
t_case "status: nothing held, exit 3" --exit 3 \
	--out-has "backend      10.0.0.100/24                eth0            not held" \
	--out-has "lost         10.0.0.200/24                nosuch0         not held (no interface nosuch0)" \
	-- h status -c "$conf"
t_case "up backend" --err-has "10.0.0.100/24 added to eth0 and announced 2 times, 50ms apart" \
	-- h up backend -c "$conf"
t_case "with its label" --out-has "eth0:be" -- addrs
t_case "up v6 --lifetime 30" --err-has "kernel lifetime 30s" -- h up v6 -c "$conf" --lifetime 30
t_case "status: held, with the lifetime; exit 3 (lost is not)" --exit 3 \
	--out-has "backend      10.0.0.100/24                eth0            held" \
	--out-has "v6           fd00::100/64                 eth0            held, lifetime 30s left" \
	--out-has "VIP          ADDRESS" -- h status -c "$conf"
t_case "status -o points 'lost' at a held address: all held, exit 0" \
	--out-lacks "not held" -- h status -c "$conf" -o vip.lost.interface=eth0 -o vip.lost.address=10.0.0.102/24
t_case "up of an unknown [vip], exit 2" --exit 2 \
	--err-has "no [vip nosuch] section ('havip status' lists those there are)" -- h up nosuch -c "$conf"
t_case "up of a [vip] on a missing interface, exit 2" --exit 2 \
	--err-has "no interface named 'nosuch0'" -- h up lost -c "$conf"
t_case "down backend" --err-has "10.0.0.100/24 removed from eth0" -- h down backend -c "$conf"
t_case "down backend again: nothing to do" --err-has "not on eth0: nothing to do" \
	-- h down backend -c "$conf"
t_case "down v6" -- h down v6 -c "$conf"
t_case "a label for another interface in the config, exit 2" --exit 2 \
	--err-has "[vip backend] label eth1:x: a label is the interface's name" \
	-- h up backend -c "$conf" -o vip.backend.label=eth1:x
t_case "a bad config, exit 2" --exit 2 --err-has "[vip backend] address" \
	-- h up backend -c "$conf" -o vip.backend.address=10.0.0.300/24
t_case "no config, exit 2" --exit 2 -- h status -c "$T_TMP/none.conf"

# --- a build without IPv6 --------------------------------------------------------
no6=$T_TMP/no6
sed 's/^CONFIG_HA_IPV6=y/# CONFIG_HA_IPV6 is not set/' "$HABOX_TOP/config/defconfig" >"$T_TMP/no6.config"
if make --no-print-directory -C "$HABOX_TOP" OUT="$no6" KCONFIG_CONFIG="$T_TMP/no6.config" \
    "$no6/habox" >"$T_TMP/no6.log" 2>&1; then
	t_pass "build with CONFIG_HA_IPV6=n"
	t_case "without IPv6: an IPv6 VIP is refused, exit 2" --exit 2 \
		--err-has "fd00::100/64: IPv6 support is not built in" \
		-- topo_exec 1 "$no6/habox" havip add fd00::100/64 dev eth0
	t_case "without IPv6: IPv4 works" --err-has "10.0.0.103/24 added to eth0" \
		-- topo_exec 1 "$no6/habox" havip add 10.0.0.103/24 dev eth0 --count 1
else
	t_fail "build with CONFIG_HA_IPV6=n" "make failed"
	t_show log "$T_TMP/no6.log"
fi
