#!/usr/bin/env bash
# Kernel lifetimes: an address added with --lifetime 1 goes away by itself
# (within 2.5 s) unless it is renewed; renewed every 300 ms it stays the
# whole time; renew is one netlink round trip and, when the address had
# already expired, says so, adds it again and announces it.
. "$HABOX_TOP/tests/lib/testlib.sh"
. "$HABOX_TOP/tests/lib/netns.sh"
t_require_root
if ! t_has_applet havip; then
	t_skip all "havip is not built in"
	exit 0
fi

t_ok "a host" topo_up 1 || exit 1

# 1 when host 1's eth0 has the address $1 (exact, with prefix).
has() { topo_exec 1 ip -o addr show dev eth0 | grep -q " $1 "; }

# Milliseconds until $1 is gone (polling every 20 ms, at most 5 s).
gone_after() {
	local t0 i
	t0=$(date +%s%N)
	for ((i = 0; i < 250; i++)); do
		has "$1" || break
		sleep 0.02
	done
	echo $(( ($(date +%s%N) - t0) / 1000000 ))
}

lifetime() { # FAMILY CIDR
	local f=$1 cidr=$2 ms i lost=0
	t_case "v$f: add --lifetime 1" --err-has "kernel lifetime 1s" \
		-- topo_exec 1 "$HABOX" havip add "$cidr" dev eth0 --lifetime 1 --count 0
	t_case "v$f: the kernel has valid_lft and preferred_lft 1s" \
		--out-has "valid_lft 1sec preferred_lft 1sec" \
		-- topo_exec 1 ip addr show dev eth0 to "$cidr"
	ms=$(gone_after "$cidr")
	t_ok "v$f: not renewed, gone by itself within 2.5 s (${ms} ms)" \
		test "$ms" -ge 500 -a "$ms" -le 2500

	# Renewals every 300 ms against a 2 s lifetime (1 s left no room for
	# a loaded machine, where starting a renew can take most of a second).
	topo_exec 1 "$HABOX" havip add "$cidr" dev eth0 --lifetime 2 --count 0 2>/dev/null
	for ((i = 0; i < 16; i++)); do
		topo_exec 1 "$HABOX" havip renew "$cidr" dev eth0 --lifetime 2 \
			2>>"$T_TMP/renew.err" || lost=$((lost + 10000))
		has "$cidr" || lost=$((lost + 1))
		sleep 0.3
	done
	t_ok "v$f: renewed every 300 ms for 4.8 s it stayed (lost $lost)" \
		test "$lost" = 0
	t_case "v$f: renew is quiet when all is well" --out-eq /dev/null \
		-- cat "$T_TMP/renew.err"
	t_case "v$f: renew -v says what it did" \
		--err-has "$cidr on eth0 renewed: lifetime 2s" \
		-- topo_exec 1 "$HABOX" havip renew "$cidr" dev eth0 --lifetime 2 -v
	ms=$(gone_after "$cidr")
	t_ok "v$f: renewals stop: gone within 3.5 s (${ms} ms)" \
		test "$ms" -le 3500
	t_case "v$f: renew after it expired: added again, announced, said" \
		--err-has "$cidr was not on eth0 any more (expired or removed): added it again with lifetime 5s" \
		--err-has "announced on eth0 (once)" \
		-- topo_exec 1 "$HABOX" havip renew "$cidr" dev eth0 --lifetime 5s
	t_ok "v$f: and it is there" has "$cidr"
	t_case "v$f: add without --lifetime makes it permanent again" \
		--err-has "was already on eth0" \
		-- topo_exec 1 "$HABOX" havip add "$cidr" dev eth0 --count 0
	t_case "v$f: valid_lft forever" --out-has "valid_lft forever" \
		-- topo_exec 1 ip addr show dev eth0 to "$cidr"
	topo_exec 1 "$HABOX" havip del "$cidr" dev eth0 2>/dev/null
}

lifetime 4 10.0.0.100/24
lifetime 6 fd00::100/64

# One round trip: renew sends one datagram to the kernel (the new lifetime
# and a dump that shows the result) and reads the replies.
if command -v strace >/dev/null; then
	topo_exec 1 "$HABOX" havip add 10.0.0.100/24 dev eth0 --count 0 2>/dev/null
	topo_exec 1 strace -f -e trace=sendto,sendmsg -o "$T_TMP/strace" \
		"$HABOX" havip renew 10.0.0.100/24 dev eth0 --lifetime 30 2>/dev/null
	t_ok "renew: one netlink datagram sent ($(grep -c 'AF_NETLINK' "$T_TMP/strace"))" \
		test "$(grep -c 'AF_NETLINK' "$T_TMP/strace")" = 1
	t_case "renew: and the lifetime is set" --out-has "valid_lft 30sec" \
		-- topo_exec 1 ip addr show dev eth0 to 10.0.0.100/24
else
	t_skip "renew: one netlink round trip" "strace is not installed"
fi
