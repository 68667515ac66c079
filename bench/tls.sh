#!/usr/bin/env bash
# Peer TLS between two network namespaces: the time of a full handshake +
# HELLO (median of 100 fresh connections), and bulk throughput over one
# TLS connection next to the same transfer over plain TCP, in the same run
# (3 rounds each, alternating; medians). Prints figures, asserts nothing.
. "$HABOX_TOP/tests/lib/testlib.sh"
. "$HABOX_TOP/tests/lib/netns.sh"
tools=${HABOX_TOOLS:-$HABOX_TOP/build/tools}
MB=${BENCH_MB:-256}
topo_up 2 >/dev/null || exit 1
for n in 1 2; do
	mkdir -p "$T_TMP/h$n"
	cat >"$T_TMP/h$n/c.conf" <<EOF
[cluster]
name = bench
node = node$n
ca = $T_TMP/h$n/ca.crt
cert = $T_TMP/h$n/node.crt
key = $T_TMP/h$n/node.key
state_dir = $T_TMP/h$n/state
[node node1]
address = $(topo_ip 1)
[node node2]
address = $(topo_ip 2)
[node w]
address = 10.0.0.99
role = witness
EOF
done
c1=$T_TMP/h1/c.conf c2=$T_TMP/h2/c.conf
topo_exec 1 "$HABOX" hactl bootstrap -c "$c1" >"$T_TMP/token" 2>/dev/null
topo_bg 1 "$HABOX" hactl enroll-serve -c "$c1" --count 0 2>/dev/null
sleep 0.3
topo_exec 2 "$HABOX" hactl join "$(topo_ip 1)" -c "$c2" --token-file "$T_TMP/token" 2>/dev/null ||
	{ echo "bench/tls: setup failed"; exit 1; }

echo "bench/tls: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), mbedTLS, TLS 1.3, P-256/X25519"
topo_exec 2 "$tools/wirepeer" handshakes "$c2" node1 100 | sed 's/^/  /'

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
port=7600
for round in 1 2 3; do
	for mode in tls plain; do
		port=$((port + 1))
		topo_bg 1 "$tools/wirepeer" sink "$c1" "$(topo_ip 1)" $port $mode >/dev/null 2>&1
		sleep 0.2
		topo_exec 2 "$tools/wirepeer" bulk "$c2" "$(topo_ip 1)" $port $mode "$MB" node1 |
			awk '{print $(NF-1)}' >>"$T_TMP/$mode"
		wait "$T_LASTPID" 2>/dev/null
	done
done
tls=$(median <"$T_TMP/tls") plain=$(median <"$T_TMP/plain")
echo "  bulk, one connection, $MB MB x 3 rounds: TLS $tls MB/s (runs: $(tr '\n' ' ' <"$T_TMP/tls")), plain TCP $plain MB/s (runs: $(tr '\n' ' ' <"$T_TMP/plain"))"
awk -v t="$tls" -v p="$plain" 'BEGIN { printf "  TLS throughput / plain TCP: %.2f\n", t / p }'
