#!/usr/bin/env bash
# havip check --probe against the real kernel: an ARP probe (RFC 5227) or
# a duplicate-address-detection solicitation finds every other host that
# holds the address and names its MAC (exit 1); with one holder, that
# holder sees no conflict (exit 0) and anyone else sees the holder; with
# none, nobody answers (exit 3). The probe is checked on the wire too.
. "$HABOX_TOP/tests/lib/testlib.sh"
. "$HABOX_TOP/tests/lib/netns.sh"
. "$HABOX_TOP/tests/lib/capture.sh"
t_require_root
if ! t_has_applet havip; then
	t_skip all "havip is not built in"
	exit 0
fi

t_ok "two nodes and a client on a bridge" topo_up 3 || exit 1
mac1=$(topo_mac 1) mac2=$(topo_mac 2) mac3=$(topo_mac 3)

# probe FAMILY CIDR
probe() {
	local f=$1 cidr=$2 vip=${2%/*}

	topo_exec 1 "$HABOX" havip add "$cidr" dev eth0 --count 0 2>/dev/null
	topo_exec 2 "$HABOX" havip add "$cidr" dev eth0 --count 0 2>/dev/null
	t_case "v$f: both hold it: node1 sees node2, a conflict" --exit 1 \
		--err-has "$vip is held by another host on eth0's link: $mac2 (and here too: a conflict)" \
		-- topo_exec 1 "$HABOX" havip check "$vip" dev eth0 --probe
	t_case "v$f: node2 sees node1" --exit 1 \
		--err-has "held by another host on eth0's link: $mac1 (and here" \
		-- topo_exec 2 "$HABOX" havip check "$vip" dev eth0 --probe
	t_case "v$f: the client sees both" --exit 1 --err-has "$mac1" \
		--err-has "$mac2" --err-lacks "$mac3" \
		-- topo_exec 3 "$HABOX" havip check "$vip" dev eth0 --probe
	t_case "v$f: without --probe node1 only looks at itself: held" \
		--err-has "$vip is held here, on eth0" \
		-- topo_exec 1 "$HABOX" havip check "$vip" dev eth0

	topo_exec 2 "$HABOX" havip del "$cidr" dev eth0 2>/dev/null
	t_case "v$f: only node1 holds it: no conflict there" \
		--err-has "$vip is held here, on eth0; no other host answered" \
		-- topo_exec 1 "$HABOX" havip check "$vip" dev eth0 --probe
	t_case "v$f: node2 sees node1 as the holder" --exit 1 \
		--err-has "held by another host on eth0's link: $mac1" \
		--err-lacks "$mac2" --err-lacks "conflict" \
		-- topo_exec 2 "$HABOX" havip check "$vip" dev eth0 --probe
	t_case "v$f: node2 without --probe: not held here, exit 3" --exit 3 \
		--err-has "$vip is not held here, on eth0" \
		-- topo_exec 2 "$HABOX" havip check "$vip" dev eth0

	# The probe on the wire, captured at the client.
	cap_start 3 "probe$f"
	topo_exec 2 "$HABOX" havip check "$vip" dev eth0 --probe --timeout 300ms \
		2>/dev/null
	cap_stop
	cap_lines "probe$f" >"$T_TMP/probe$f.txt"
	if [ "$f" = 4 ]; then
		t_case "v4: an ARP probe: sender IP 0.0.0.0, target $vip, broadcast" \
			--out-has "arp src=$mac2 dst=ff:ff:ff:ff:ff:ff type=0x0806 hw=1 proto=0x0800 hlen=6 plen=4 op=request sha=$mac2 spa=0.0.0.0 tha=00:00:00:00:00:00 tpa=$vip" \
			-- cat "$T_TMP/probe$f.txt"
	else
		t_case "v6: a DAD solicitation: from ::, to the solicited-node group" \
			--out-has "nd src=$mac2 dst=33:33:ff:00:01:00 type=0x86dd ip6src=:: ip6dst=ff02::1:ff00:100 hlim=255 icmp=ns code=0 sum=ok flags=- target=$vip lladdr=-" \
			-- cat "$T_TMP/probe$f.txt"
	fi

	topo_exec 1 "$HABOX" havip del "$cidr" dev eth0 2>/dev/null
	t_case "v$f: nobody holds it: exit 3" --exit 3 \
		--err-has "$vip is not held here, on eth0; no other host answered" \
		-- topo_exec 3 "$HABOX" havip check "$vip" dev eth0 --probe --timeout 300ms
}

probe 4 10.0.0.100/24
probe 6 fd00::100/64

start=$(date +%s%N)
topo_exec 1 "$HABOX" havip check 10.0.0.100 dev eth0 --probe --timeout 400ms 2>/dev/null
ms=$(( ($(date +%s%N) - start) / 1000000 ))
t_ok "--timeout 400ms: the probe listens 400 ms (${ms} ms)" \
	test "$ms" -ge 390 -a "$ms" -lt 1500
t_case "--timeout 0 is refused" --exit 2 --err-has "--timeout must be more than 0" \
	-- topo_exec 1 "$HABOX" havip check 10.0.0.100 dev eth0 --probe --timeout 0
