#!/usr/bin/env bash
# havip moves a virtual IP the way a take-over does, against the real
# kernel: node2 holds it and the client has node2's MAC in its neighbour
# table; after `havip del` on node2 and `havip add` on node1 the client's
# entry shows node1's MAC without the client sending anything. The
# announcements, captured in the client, are checked field by field
# (tests/lib/neighdump.py decodes them independently of habox), with
# their count and spacing; a ping then reaches node1. IPv4 with
# gratuitous ARP, IPv6 with unsolicited neighbour advertisements.
. "$HABOX_TOP/tests/lib/testlib.sh"
. "$HABOX_TOP/tests/lib/netns.sh"
. "$HABOX_TOP/tests/lib/capture.sh"
t_require_root
if ! t_has_applet havip; then
	t_skip all "havip is not built in"
	exit 0
fi

links_before=$(ip -o link | wc -l)
t_ok "two nodes and a client on a bridge" topo_up 3 || exit 1
mac1=$(topo_mac 1) mac2=$(topo_mac 2) macc=$(topo_mac 3)

# The lladdr of the client's neighbour entry for $1.
client_mac() {
	topo_exec 3 ip neigh show "$1" dev eth0 |
		awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }'
}

# An ICMP counter of host $1 (IcmpInEchos, Icmp6InEchos).
counter() {
	topo_exec "$1" awk -v k="$2" '
		FILENAME ~ /snmp6$/ { if ($1 == k) print $2; next }
		/^Icmp: [A-Z]/ { for (i = 2; i <= NF; i++) h[i] = $i; next }
		/^Icmp: [0-9]/ { for (i = 2; i <= NF; i++) if ("Icmp" h[i] == k) print $i }
	' /proc/net/snmp /proc/net/snmp6
}

# spacing FILE N GAP_MS: N times (us, one a line) GAP_MS apart, each
# gap within -50/+60 ms (the schedule is absolute, so the whole span is
# checked more tightly); prints "ok" or what is wrong.
spacing() {
	awk -v n="$2" -v gap="$3" '
		{ t[NR] = $1 }
		END {
			if (NR != n) { printf "%d times, want %d\n", NR, n; exit }
			for (i = 2; i <= NR; i++) {
				d = (t[i] - t[i - 1]) / 1000
				if (d < gap - 50 || d > gap + 60) {
					printf "gap %d is %.1f ms\n", i - 1, d; exit
				}
			}
			span = (t[NR] - t[1]) / 1000; want = gap * (NR - 1)
			if (span < want - 10 || span > want + 100) {
				printf "span %.1f ms, want %d\n", span, want; exit
			}
			print "ok"
		}' "$1"
}

# check_frames NAME WANT COUNT GAP [ALSO]: COUNT frames of the capture are
# WANT (time stripped), GAP ms apart; no other frame of that kind from
# that MAC about the address (but ALSO).
check_frames() {
	local name=$1 want=$2 count=$3 gap=$4 also=${5:-none} kind=${2%% *} src vip
	src=$(echo "$want" | sed 's/.* src=\([^ ]*\) .*/\1/')
	vip=$(echo "$want" | sed 's/.* target=\([^ ]*\) .*/\1/; s/.* tpa=\([^ ]*\)$/\1/')
	echo "$count" >"$T_TMP/$name.count"
	t_case "$name: $count × '$want'" --out-eq "$T_TMP/$name.count" \
		-- sh -c "cut -d' ' -f2- '$T_TMP/$name.txt' | grep -cxF -- '$want'"
	t_case "$name: no other $kind frame from $src about $vip" \
		--out-eq /dev/null -- sh -c "cut -d' ' -f2- '$T_TMP/$name.txt' |
		grep '^$kind src=$src ' | grep -F '=$vip ' |
		grep -vxF -e '$want' -e '$also' || true"
	grep -F -- "$want" "$T_TMP/$name.txt" | cut -d' ' -f1 >"$T_TMP/$name.t"
	t_case "$name: ${gap} ms apart" --out-has ok -- spacing "$T_TMP/$name.t" "$count" "$gap"
}

# move FAMILY CIDR: the whole scenario for one address family.
move() {
	local f=$1 cidr=$2 vip=${2%/*} ping=ping echos=IcmpInEchos
	local req rep na e1 e2
	[ "$f" = 6 ] && ping="ping -6" && echos=Icmp6InEchos

	t_case "v$f: node2 adds $cidr" --err-has "added to eth0" \
		-- topo_exec 2 "$HABOX" havip add "$cidr" dev eth0 --count 1
	t_ok "v$f: the client pings it" topo_exec 3 $ping -c 1 -W 2 "$vip"
	t_case "v$f: the client's entry has node2's MAC" --out-has "$mac2" \
		-- client_mac "$vip"
	# A neighbour entry updated less than locktime ago is not replaced.
	sleep 1.2
	cap_start 3 "move$f"
	t_case "v$f: node2 removes it" --err-has "removed from eth0" \
		-- topo_exec 2 "$HABOX" havip del "$cidr" dev eth0
	t_case "v$f: node1 adds it (5 announcements, 200ms apart)" \
		--err-has "havip: [SUCCESS] $cidr added to eth0 and announced 5 times, 200ms apart" \
		-- topo_exec 1 "$HABOX" havip add "$cidr" dev eth0
	t_case "v$f: the client's entry now has node1's MAC" --out-has "$mac1" \
		-- client_mac "$vip"
	cap_stop
	cap_lines "move$f" >"$T_TMP/move$f.txt"
	t_case "v$f: the client sent nothing about $vip" --out-eq /dev/null \
		-- sh -c "grep ' src=$macc ' '$T_TMP/move$f.txt' | grep -F '=$vip ' || true"
	if [ "$f" = 4 ]; then
		req="arp src=$mac1 dst=ff:ff:ff:ff:ff:ff type=0x0806 hw=1 proto=0x0800 hlen=6 plen=4 op=request sha=$mac1 spa=$vip tha=00:00:00:00:00:00 tpa=$vip"
		rep="arp src=$mac1 dst=ff:ff:ff:ff:ff:ff type=0x0806 hw=1 proto=0x0800 hlen=6 plen=4 op=reply sha=$mac1 spa=$vip tha=$mac1 tpa=$vip"
		check_frames "move$f" "$req" 5 200 "$rep"
		grep -F -- "$rep" "$T_TMP/move$f.txt" | cut -d' ' -f1 >"$T_TMP/rep.t"
		t_case "v4: 5 gratuitous replies, each right after its request" \
			--out-eq /dev/null -- sh -c "paste '$T_TMP/move$f.t' '$T_TMP/rep.t' |
			awk 'NF != 2 || \$2 - \$1 < 0 || \$2 - \$1 > 5000 { print } END { if (NR != 5) print NR \" pairs\" }'"
	else
		na="nd src=$mac1 dst=33:33:00:00:00:01 type=0x86dd ip6src=$vip ip6dst=ff02::1 hlim=255 icmp=na code=0 sum=ok flags=O target=$vip lladdr=$mac1"
		check_frames "move$f" "$na" 5 200
	fi
	e1=$(counter 1 $echos) e2=$(counter 2 $echos)
	t_ok "v$f: the client pings $vip" topo_exec 3 $ping -c 1 -W 2 "$vip"
	t_ok "v$f: node1 answered the ping, node2 did not" \
		test "$(counter 1 $echos)" = $((e1 + 1)) -a "$(counter 2 $echos)" = "$e2"
	t_case "v$f: and the entry still has node1's MAC" --out-has "$mac1" \
		-- client_mac "$vip"

	# announce: again, without touching the address.
	cap_start 3 "ann$f"
	t_case "v$f: node1 announces it again (3 times, 100ms apart)" \
		--err-has "announced on eth0 (3 times, 100ms apart)" \
		-- topo_exec 1 "$HABOX" havip announce "$vip" dev eth0 --count 3 --interval 100ms
	cap_stop
	cap_lines "ann$f" >"$T_TMP/ann$f.txt"
	if [ "$f" = 4 ]; then
		check_frames "ann$f" "$req" 3 100 "$rep"
		t_ok "v4: and 3 replies" \
			test "$(grep -cF -- "$rep" "$T_TMP/ann$f.txt")" = 3
	else
		check_frames "ann$f" "$na" 3 100
	fi
	t_case "v$f: node1 removes it" --err-has "removed from eth0" \
		-- topo_exec 1 "$HABOX" havip del "$cidr" dev eth0
}

move 4 10.0.0.100/24
move 6 fd00::100/64

# The first announcement leaves within 1 ms of the add request: the
# median of 5 adds per family (one reading can meet a busy machine).
for cidr in 10.0.0.101/24 fd00::101/64; do
	for i in 1 2 3 4 5; do
		topo_exec 1 "$HABOX" havip add "$cidr" dev eth0 --count 1 2>&1 |
			sed -n 's/.*first announcement \([0-9]*\) us.*/\1/p'
		topo_exec 1 "$HABOX" havip del "$cidr" dev eth0 2>/dev/null
	done >"$T_TMP/first.txt"
	med=$(sort -n "$T_TMP/first.txt" | sed -n 3p)
	t_ok "$cidr: first announcement within 1 ms of the add request (median of 5: ${med:-?} us; $(sort -n "$T_TMP/first.txt" | tr '\n' ' '))" \
		test "$(wc -l <"$T_TMP/first.txt")" = 5 -a "${med:-99999}" -lt 1000
done

topo_down
t_ok "teardown removed every namespace" \
	sh -c "! ip netns list | grep -q '^$TOPO_PREFIX'"
t_ok "and every interface" test "$(ip -o link | wc -l)" = "$links_before"
t_ok "and no capture is left running (${CAP_DONE[*]})" cap_none_running
