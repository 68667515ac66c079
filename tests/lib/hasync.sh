# hasync test helpers, sourced after testlib.sh and netns.sh: two hosts
# with a CA, configs with [sync] sets, a receiver daemon, tree listings.
#
#   hs_setup            topology of 2 hosts, PKI, configs $C1 $C2
#   hs_serve H [ARGS]   start `hasync serve -f` on host H (log $T_TMP/serveH.log)
#   hs_list DIR         one line per entry: path type mode owner mtime size
#   hs_same A B         trees equal: contents, links, modes, owners, mtimes
#   hs_gen_tree DIR N   a tree of about N files of every kind

HS_EXTRA1=() HS_EXTRA2=()

hs_conf() { # hs_conf HOST NODE [extra sync lines...]
	local h=$1 node=$2 dir=$T_TMP/h$1
	shift 2
	mkdir -p "$dir"
	cat >"$dir/habox.conf" <<EOC
[cluster]
name = demo
node = $node
handshake_timeout = 2s
ca = $T_TMP/pki/ca.crt
cert = $T_TMP/pki/$node.crt
key = $T_TMP/pki/node.key
state_dir = $dir/state
run_dir = $dir/run
[node node1]
address = $(topo_ip 1)
[node node2]
address = $(topo_ip 2)
[sync data]
path = $dir/data
delete = yes
exclude = *.tmp
exclude = skip-me
$(printf '%s\n' "$@")
[sync other]
path = $dir/other
EOC
	echo "$dir/habox.conf"
}

hs_setup() {
	topo_up 2 || return 1
	mkdir -p "$T_TMP/pki"
	C1=$(hs_conf 1 node1 "${HS_EXTRA1[@]}")
	C2=$(hs_conf 2 node2 "${HS_EXTRA2[@]}")
	"$HABOX" hactl bootstrap -c "$C1" -d "$T_TMP/pki" >/dev/null 2>&1 || return 1
	"$HABOX_TOOLS/pkitool" "$T_TMP/pki/ca.crt" "$T_TMP/pki/ca.key" \
		"$T_TMP/pki/node.key" node2 demo -1 30 "$T_TMP/pki/node2.crt" \
		>/dev/null 2>&1 || return 1
	mkdir -p "$T_TMP/h1/data" "$T_TMP/h2/data" "$T_TMP/h1/other" "$T_TMP/h2/other"
}

hs_serve() { # hs_serve HOST [ARGS...]
	local h=$1 log=$T_TMP/serve$1.log n
	shift
	n=$(grep -c "serving sync" "$log" 2>/dev/null)
	topo_bg "$h" "$HABOX" hasync serve -f -c "$T_TMP/h$h/habox.conf" "$@" \
		2>>"$log"
	printf -v "HS_PID_$h" %s "$T_LASTPID"
	# This start's line, not an earlier one's.
	t_wait 5 sh -c "[ \$(grep -c 'serving sync' '$log') -gt ${n:-0} ]"
}

hs_list() {
	(cd "$1" && find . -mindepth 1 ! -name '.hasync-tmp.*' -printf '%p\t%y\t%m\t%U:%G\t%T@\t%s\t%l\n' | LC_ALL=C sort)
}

hs_same() {
	diff -r --no-dereference "$1" "$2" >"$T_TMP/diff.out" 2>&1 || { cat "$T_TMP/diff.out" | head -20; return 1; }
	# Directory sizes depend on the file system's history, not on us.
	diff <(hs_list "$1" | awk -F'\t' -v OFS='\t' '$2 == "d" {$6 = 0} {print}') \
	     <(hs_list "$2" | awk -F'\t' -v OFS='\t' '$2 == "d" {$6 = 0} {print}')
}

# A tree of about N files of every kind (tests/lib/gentree.py).
hs_gen_tree() { python3 "$HABOX_TOP/tests/lib/gentree.py" "$@"; }
