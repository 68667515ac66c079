#!/usr/bin/env bash
# Peer trust between two hosts in network namespaces: enrolment with a
# join token, handshake and HELLO in certificate and PSK mode, and every
# refusal the issue lists, each with a clear message on the server while it
# keeps serving the others.
. "$HABOX_TOP/tests/lib/testlib.sh"
. "$HABOX_TOP/tests/lib/netns.sh"
t_require_root
tools=$HABOX_TOOLS
[ -x "$tools/wirepeer" ] || { t_fail setup "no test tools in $tools (make tests)"; exit 1; }

topo_up 3 || { t_fail setup "topology"; exit 1; }

# conf HOST NODE [extra lines]: a config for host HOST acting as NODE.
conf() {
	local h=$1 node=$2 dir=$T_TMP/h$1
	shift 2
	mkdir -p "$dir"
	cat >"$dir/habox.conf" <<EOF
[cluster]
name = demo
node = $node
handshake_timeout = 1s
ca = $dir/pki/ca.crt
cert = $dir/pki/node.crt
key = $dir/pki/node.key
state_dir = $dir/state
$(printf '%s\n' "$@")
[node node1]
address = $(topo_ip 1)
[node node2]
address = $(topo_ip 2)
[node w]
address = $(topo_ip 3)
role = witness
EOF
	echo "$dir/habox.conf"
}
c1=$(conf 1 node1)
c2=$(conf 2 node2)
hx() { local h=$1; shift; topo_exec "$h" "$HABOX" "$@"; }

# --- enrolment -------------------------------------------------------------
t_case "bootstrap makes the CA and prints a token" \
	--out-has "HBX1." --err-has "made the CA of cluster demo" \
	-- hx 1 hactl bootstrap -c "$c1"
tok=$T_TMP/case.$T_N/out
cp "$tok" "$T_TMP/token1"
t_ok "key files are 0600, certificates 0644" sh -c "
	[ \$(stat -c %a $T_TMP/h1/pki/ca.key) = 600 ] &&
	[ \$(stat -c %a $T_TMP/h1/pki/node.key) = 600 ] &&
	[ \$(stat -c %a $T_TMP/h1/pki/ca.crt) = 644 ] &&
	[ \$(stat -c %a $T_TMP/h1/pki/node.crt) = 644 ]"
t_case "bootstrap refuses to overwrite" --exit 1 --err-has "exists: not replacing it" \
	-- hx 1 hactl bootstrap -c "$c1"
t_ok "the token is stored hashed, not in clear" \
	sh -c "! grep -rq '$(cut -c6- "$T_TMP/token1")' $T_TMP/h1/state && grep -q '^t\.' $T_TMP/h1/state/join-tokens"

serve() { # serve LOG ARGS...: enroll-serve on host 1
	local log=$1
	shift
	topo_bg 1 "$HABOX" hactl enroll-serve -c "$c1" "$@" 2>"$log"
	SERVE_PID=$T_LASTPID
	t_wait 5 grep -q "serving" "$log"
}
serve "$T_TMP/serve1.log" --count 1 --timeout 30s
t_case "join with the token" --err-has "node2 joined cluster demo" \
	-- hx 2 hactl join "$(topo_ip 1)" -c "$c2" --token-file "$T_TMP/token1"
t_ok "the one-shot server exits after one join" t_wait 5 sh -c "! kill -0 $SERVE_PID"
t_ok "it logged the enrolment" grep -q "enrolled node2 ($(topo_ip 2):" "$T_TMP/serve1.log"
t_case "cert-info shows the node certificate" --out-has "CN=node2, O=habox, OU=demo" \
	--out-has "issuer:      CN=habox CA" -- hx 2 hactl cert-info -c "$c2"

# A server for the rest: pings, joins and refusals, never exiting.
log=$T_TMP/serve.log
serve "$log" --count 0
srv_has() { t_wait 3 grep -qF -- "$1" "$log"; }
still_serving() { hx 2 hactl ping node1 -c "$c2" >/dev/null 2>&1; }

# AES-128-GCM first on a CPU with AES-NI and PCLMULQDQ, as this one has
# (core/gcm.c; ChaCha20-Poly1305 first elsewhere).
t_case "handshake and HELLO, certificate mode" --out-has "node1 $(topo_ip 1):7405 TLSv1.3" \
	--out-has "TLS1-3-AES-128-GCM-SHA256" \
	--out-has "handshake+HELLO" -- hx 2 hactl ping node1 -c "$c2" --count 5

# --- join token refusals ---------------------------------------------------
rm -f "$T_TMP/h2/pki/node.crt" "$T_TMP/h2/pki/node.key"
t_case "a reused join token" --exit 1 --err-has "unknown or already used join token" \
	-- hx 2 hactl join "$(topo_ip 1)" -c "$c2" --token-file "$T_TMP/token1"
t_ok "  and the server said why" srv_has "unknown or already used join token"
hx 1 hactl token -c "$c1" --ttl 1s >"$T_TMP/token-short" 2>/dev/null
sleep 2.1
t_case "an expired join token" --exit 1 --err-has "the join token has expired" \
	-- hx 2 hactl join "$(topo_ip 1)" -c "$c2" --token-file "$T_TMP/token-short"
c3r=$(conf 3 w)
hx 3 hactl bootstrap -c "$c3r" >"$T_TMP/token-rogue" 2>/dev/null
t_case "a join token of another CA" --exit 1 \
	--err-has "its CA is not the one in the join token" \
	-- hx 2 hactl join "$(topo_ip 1)" -c "$c2" --token-file "$T_TMP/token-rogue"
t_case "a malformed token" --exit 2 --err-has "not a habox join token" \
	-- hx 2 hactl join "$(topo_ip 1)" -c "$c2" --token NOTATOKEN
hx 1 hactl token -c "$c1" >"$T_TMP/token2" 2>/dev/null
# A join towards an address nobody answers (ARP fails after about 3 s)
# stays alive long enough to be looked at, however slow the machine.
sed 's/^handshake_timeout = .*/handshake_timeout = 10s/' "$c2" >"$T_TMP/c2-slow.conf"
topo_bg 2 "$HABOX" hactl join 10.0.0.99 -c "$T_TMP/c2-slow.conf" \
	--token "$(cat "$T_TMP/token2")"
jp=$T_LASTPID
# hidden PID: alive, its argv wiped (the token's x's in place), no HBX1.
hidden() {
	local i c
	for i in $(seq 150); do
		kill -0 "$1" 2>/dev/null || return 1
		c=$(tr '\0' ' ' </proc/"$1"/cmdline 2>/dev/null)
		case $c in
		*HBX1*) ;;
		*"join 10.0.0.99"*--token\ xxxxxxxxxx*) return 0 ;;
		esac
		sleep 0.02
	done
	return 1
}
t_ok "the token on the command line is hidden from ps" hidden "$jp"
kill "$jp" 2>/dev/null
wait "$jp" 2>/dev/null
t_case "a fresh token joins again" --exit 0 \
	-- hx 2 hactl join "$(topo_ip 1)" -c "$c2" --token "$(cat "$T_TMP/token2")"
t_case "  and the node has its certificate" --out-has "OU=demo" -- hx 2 hactl cert-info -c "$c2"

# --- renewal through the CA holder ------------------------------------------
old_fp=$(hx 2 hactl cert-info -c "$c2" | awk '/^sha256:/ {print $2; exit}')
sleep 1	# a new certificate has a later start
t_case "renew re-issues the certificate through the CA holder" \
	--err-has "renewed $T_TMP/h2/pki/node.crt" -- hx 2 hactl renew -c "$c2"
new_fp=$(hx 2 hactl cert-info -c "$c2" | awk '/^sha256:/ {print $2; exit}')
t_ok "  it is a new certificate" test -n "$new_fp" -a "$old_fp" != "$new_fp"
t_ok "  the CA holder logged it" srv_has "renewed the certificate of node2"
t_ok "  and it works" still_serving
topo_bg 2 "$HABOX" hactl enroll-serve -c "$c2" --count 0 2>/dev/null
t_wait 3 hx 1 hactl ping node2 -c "$c1"
t_case "renew through a node without the CA key" --exit 1 \
	--err-has "this node does not hold the CA key" --err-has "could not renew" \
	-- hx 1 hactl renew -c "$c1" --from node2
kill "$T_LASTPID"

# --- certificate refusals ----------------------------------------------------
# A client of host 3 that trusts our CA but presents certificates minted
# by pkitool: signed by another CA, expired, of another cluster, unknown.
ca=$T_TMP/h1/pki/ca.crt cakey=$T_TMP/h1/pki/ca.key
mkdir -p "$T_TMP/bad"
"$HABOX" hactl bootstrap -c "$c2" -d "$T_TMP/bad/other-ca" >/dev/null 2>&1 # a second CA
badconf() { # badconf NAME CN CERT: host 3 as node CN, with CERT
	local f=$T_TMP/bad/$1.conf
	sed -e "s|^node = .*|node = $2|" -e "s|^ca = .*|ca = $ca|" \
	    -e "s|^cert = .*|cert = $3|" -e "s|^key = .*|key = $T_TMP/bad/key|" \
	    -e "s|^state_dir = .*|state_dir = $T_TMP/bad/state|" "$c2" >"$f"
	[ "$2" = node9 ] && printf '[node node9]\naddress = %s\nport = 7999\n' "$(topo_ip 3)" >>"$f"
	echo "$f"
}
cp "$T_TMP/h2/pki/node.key" "$T_TMP/bad/key"
"$tools/pkitool" "$T_TMP/bad/other-ca/ca.crt" "$T_TMP/bad/other-ca/ca.key" \
	"$T_TMP/bad/key" node2 demo -1 30 "$T_TMP/bad/wrongca.crt" 2>/dev/null
"$tools/pkitool" "$ca" "$cakey" "$T_TMP/bad/key" node2 demo -30 -1 "$T_TMP/bad/expired.crt"
"$tools/pkitool" "$ca" "$cakey" "$T_TMP/bad/key" node2 other -1 30 "$T_TMP/bad/cluster.crt"
"$tools/pkitool" "$ca" "$cakey" "$T_TMP/bad/key" node9 demo -1 30 "$T_TMP/bad/unknown.crt"
chmod 600 "$T_TMP/bad/key"

refused() { # refused NAME SERVER-TEXT CONF NODE
	t_case "$1: refused" --exit 1 -- topo_exec 3 "$HABOX" hactl ping "$4" -c "$3"
	t_ok "  the server said: $2" srv_has "$2"
	t_ok "  and still serves others" still_serving
}
refused "a certificate of another CA" "its certificate is not signed by this cluster's CA" \
	"$(badconf wrongca node2 "$T_TMP/bad/wrongca.crt")" node1
refused "an expired certificate" "its certificate has expired" \
	"$(badconf expired node2 "$T_TMP/bad/expired.crt")" node1
refused "a certificate of another cluster" "is of cluster 'other', not 'demo'" \
	"$(badconf cluster node2 "$T_TMP/bad/cluster.crt")" node1
refused "a certificate of an unknown node" "its certificate is for 'node9', which is not a node of this cluster" \
	"$(badconf unknown node9 "$T_TMP/bad/unknown.crt")" node1
t_case "the client side of a wrong CA says so" --exit 1 \
	--err-has "its certificate is not signed by this cluster's CA" \
	-- hx 2 hactl ping node1 -c "$c2" -o "cluster.ca=$T_TMP/bad/other-ca/ca.crt"

# --- wire-level refusals --------------------------------------------------------
t_case "a protocol-version mismatch" --exit 1 \
	--err-has "node2 runs protocol 99" --err-has "upgrade node1" \
	-- topo_exec 2 "$tools/wirepeer" hello "$c2" node1 proto 99
t_ok "  the server said what to upgrade" srv_has "upgrade node1"
t_case "a cluster-name mismatch in HELLO" --exit 1 \
	--err-has "node2 is a node of cluster 'other', node1 of cluster 'demo'" \
	-- topo_exec 2 "$tools/wirepeer" hello "$c2" node1 cluster other
t_case "a HELLO naming another node than the certificate" --exit 1 \
	--err-has "it says it is 'w' but its credentials are for 'node2'" \
	-- topo_exec 2 "$tools/wirepeer" hello "$c2" node1 node w
t_case "a plaintext client" --exit 1 --out-has "closed by the peer" \
	-- topo_exec 2 "$tools/wirepeer" raw "$(topo_ip 1)" 7405 474554202f20485454502f312e300d0a0d0a
t_ok "  the server said why" srv_has "does not speak TLS"
t_case "garbage bytes" --exit 1 --out-has "closed by the peer" \
	-- topo_exec 2 "$tools/wirepeer" raw "$(topo_ip 1)" 7405 random:4096
t_case "a 4 GB length prefix" --exit 1 --out-has "by the peer" \
	-- topo_exec 2 "$tools/wirepeer" bigframe "$c2" node1
t_ok "  the server said why" srv_has "frame longer than the maximum (4294967295 bytes announced, at most 1048576)"
t_ok "  and still serves others" still_serving
topo_bg 3 "$tools/wirepeer" stall "$(topo_ip 1)" 7405 5
t_ok "a client stalled mid-handshake does not hold up others" still_serving
t_ok "  and is dropped after handshake_timeout (1s)" srv_has "no TLS handshake within 1000ms"

# --- key files -------------------------------------------------------------------
chmod 644 "$T_TMP/h2/pki/node.key"
t_case "a key file with loose permissions" --exit 1 \
	--err-has "node.key is readable or writable by others (mode 0644)" \
	-- hx 2 hactl ping node1 -c "$c2"
chmod 600 "$T_TMP/h2/pki/node.key"
kill "$SERVE_PID"

# --- PSK mode ---------------------------------------------------------------------
p1=$(conf 1 node1 "psk_file = $T_TMP/h1/psk")
p2=$(conf 2 node2 "psk_file = $T_TMP/h2/psk")
t_case "bootstrap in PSK mode makes the key" --err-has "made the pre-shared key" \
	-- hx 1 hactl bootstrap -c "$p1"
t_ok "  64 hex digits, mode 0600" sh -c "[ \$(stat -c %a $T_TMP/h1/psk) = 600 ] && grep -Eqx '[0-9a-f]{64}' $T_TMP/h1/psk"
cp -p "$T_TMP/h1/psk" "$T_TMP/h2/psk"
log=$T_TMP/serve-psk.log
topo_bg 1 "$HABOX" hactl enroll-serve -c "$p1" --count 0 2>"$log"
t_wait 5 grep -q serving "$log"
t_case "handshake and HELLO, PSK mode" --out-has "TLSv1.3 TLS1-3-AES-128-GCM-SHA256" \
	-- hx 2 hactl ping node1 -c "$p2" || t_show "server log" "$log"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T_TMP/h2/psk"
chmod 600 "$T_TMP/h2/psk"
t_case "a wrong pre-shared key" --exit 1 --err-has "pre-shared keys differ" \
	-- hx 2 hactl ping node1 -c "$p2"
t_ok "  the server refused it too" srv_has "refused $(topo_ip 2)"
echo abc >"$T_TMP/h2/psk"
t_case "a pre-shared key too short" --exit 1 --err-has "at least 32 bytes" \
	-- hx 2 hactl ping node1 -c "$p2"
chmod 644 "$T_TMP/h2/psk"
t_case "a pre-shared key readable by others" --exit 1 \
	--err-has "psk is readable or writable by others" -- hx 2 hactl ping node1 -c "$p2"
