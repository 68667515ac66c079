#!/usr/bin/env bash
# hasync between two hosts in network namespaces over real TLS: initial
# and incremental pushes, delete, exclude, dry run, pull, status,
# conflicts, pre/post commands, terms and unknown nodes.
. "$HABOX_TOP/tests/lib/testlib.sh"
. "$HABOX_TOP/tests/lib/netns.sh"
. "$HABOX_TOP/tests/lib/hasync.sh"
t_require_root
t_has_applet hasync || { t_skip all "hasync is not built in"; exit 0; }
hs_setup || { t_fail setup "topology or PKI"; exit 1; }
hs_serve 2 || { t_fail setup "hasync serve"; t_show log "$T_TMP/serve2.log"; exit 1; }
D1=$T_TMP/h1/data D2=$T_TMP/h2/data
push() { topo_exec 1 "$HABOX" hasync push -c "$C1" "$@"; }
# The sender's tree without what the excludes leave out.
expect() { rm -rf "$T_TMP/expect"; cp -a "$D1" "$T_TMP/expect"; rm -f "$T_TMP/expect/file.tmp" "$T_TMP/expect/skip-me"; }

hs_gen_tree "$D1" 3000
t_case "initial push of a tree of 3000 files" --out-has "data -> node2:" \
	-- push data
expect
t_ok "  the trees are equal (contents, links, modes, owners, mtimes)" hs_same "$T_TMP/expect" "$D2"
t_ok "  excluded files were not sent" test ! -e "$D2/file.tmp" -a ! -e "$D2/skip-me"
t_ok "  no temp files on the receiver" sh -c "! find '$D2' -name '.hasync-tmp.*' | grep -q ."
t_case "a second push sends nothing" --out-has "0 file(s) sent" -- push data
t_case "  the receiver offers zstd and the sender uses it" \
	--err-has "data: compressing with zstd" -- push -vv data

# compress = 0: the files' data as it is, the file list still compressed.
sent() { push "$@" 2>/dev/null | sed -n 's/.* \([0-9]*\) bytes sent.*/\1/p'; }
mkdir -p "$D1/cz"
yes "habox compress test line" | head -c 1048576 >"$D1/cz/text"
n0=$(sent -o sync.data.compress=0 data)
t_ok "compress = 0 sends a 1 MiB text file as it is ($n0 bytes)" \
	test "${n0:-0}" -ge 1048576
yes "another habox compress test line" | head -c 1048576 >"$D1/cz/text"
n1=$(sent data)
t_ok "  and compress = 1 compresses it ($n1 bytes)" test "${n1:-9999999}" -lt 65536
l0=$(sent -o sync.data.compress=0 data) l1=$(sent data)
t_ok "  a push of no change sends a compressed list either way ($l0 and $l1 bytes)" \
	test "${l0:-9999999}" -le $(( ${l1:-0} * 5 / 4 ))
rm -r "$D1/cz"
t_case "  (and the tree is in step again)" --out-has "data -> node2:" -- push data

# --- incremental ----------------------------------------------------------
f=$(find "$D1/dir1" -name 'text*' | head -1)
python3 - "$f" <<'PY'
import sys
p = sys.argv[1]
b = open(p, "rb").read()
open(p, "wb").write(b[:len(b) // 2] + b"INSERTED IN THE MIDDLE\n" + b[len(b) // 2:])
PY
echo appended >>"$(find "$D1/dir2" -name 'text*' | head -1)"
g=$(find "$D1/dir3" -name 'bin*' -size +1k | head -1)
truncate -s 100 "$g"
rm -f "$(find "$D1/dir4" -name 'ex*' | head -1)"
mv "$D1/dir5" "$D1/dir5-renamed"
rm -rf "$D1/dir6"
chmod 600 "$(find "$D1/dir7" -name 'x*' | head -1)"
ln -sfn elsewhere "$(find "$D1/dir9" -type l | head -1)"
t_case "incremental push: insert, append, truncate, delete, rename, chmod, relink" \
	--out-has "data -> node2:" -- push data
expect
t_ok "  the trees are equal" hs_same "$T_TMP/expect" "$D2"

head -c 10000000 /dev/urandom >"$D1/big"
t_case "push a 10 MB file" -- push data
printf 'Z' | dd of="$D1/big" bs=1 seek=5000000 conv=notrunc 2>/dev/null
t_case "one byte changed in the 10 MB file" --out-has "1 file(s) sent" -- push data
bytes=$(sed -n 's/.* \([0-9]*\) bytes sent,.*/\1/p' "$T_TMP/case.$T_N/out")
t_ok "  bytes on the wire < 1% of the file ($bytes)" test "${bytes:-99999999}" -lt 100000
t_ok "  the file is equal" cmp "$D1/big" "$D2/big"

# --- delete, exclude, dry run -------------------------------------------------
echo local-only >"$D2/extra.tmp"
echo new >"$D1/dry-new"
rm -f "$D1/big"
cp -a "$D2" "$T_TMP/before-dry"
t_case "dry run lists the changes" --out-has "data send dry-new" \
	--out-has "data delete big" --out-lacks "extra.tmp" -- push -n data
t_ok "  and writes nothing" diff -r --no-dereference "$T_TMP/before-dry" "$D2"
t_case "the push deletes" --out-has "1 deleted" -- push data
t_ok "  big is gone, dry-new is there" test ! -e "$D2/big" -a -e "$D2/dry-new"
t_ok "  an excluded file on the receiver is kept" test -e "$D2/extra.tmp"
rm -f "$D2/extra.tmp"

# --- status, generations ---------------------------------------------------------
t_case "status on the sender" --out-has "data" --out-has "ok" -- topo_exec 1 "$HABOX" hasync status -c "$C1"
gen=$(topo_exec 2 "$HABOX" hasync status -c "$C2" --json | python3 -c 'import json,sys; print([s for s in json.load(sys.stdin)["sets"] if s["name"] == "data"][0]["generation"])')
# a generation a push: 12 (5 of them in the compress cases)
t_ok "  status --json on the receiver: generation 12 ($gen)" test "$gen" = 12
t_case "status --json is JSON with a backlog field" --out-has '"backlog":null' \
	-- topo_exec 1 "$HABOX" hasync status -c "$C1" --json

# --- pull and ad hoc push ----------------------------------------------------------
hs_serve 1 || t_fail "serve on node1" "not ready"
echo pulled >"$T_TMP/h1/other/p"
t_case "pull a set from node1" --err-has "pulled other from node1" \
	-- topo_exec 2 "$HABOX" hasync pull other node1 -c "$C2"
t_ok "  the file is there" cmp "$T_TMP/h1/other/p" "$T_TMP/h2/other/p"
mkdir -p "$T_TMP/adhoc"; echo adhoc >"$T_TMP/adhoc/a"
t_case "ad hoc push PATH PEER:SET" --out-has "other -> node2" \
	-- push "$T_TMP/adhoc" node2:other
t_ok "  the file is there" cmp "$T_TMP/adhoc/a" "$T_TMP/h2/other/a"
t_case "ad hoc push to a set the peer does not have" --exit 1 \
	--err-has "no [sync nope] on node2" -- push "$T_TMP/adhoc" node2:nope

# --- conflicts ------------------------------------------------------------------------
echo "changed on node two" >"$D2/dir1/text1.txt"
echo "changed on node1" >"$D1/dir1/text1.txt"
echo "local only, to be deleted" >"$D2/dir2/local-new"
t_case "a push over local changes" --out-has "data -> node2" -- push data
t_ok "  the receiver has the sender's file" cmp "$D1/dir1/text1.txt" "$D2/dir1/text1.txt"
t_ok "  the local change is kept under conflicts/" sh -c "grep -rlx 'changed on node two' '$T_TMP/h2/state/conflicts/' | grep -q '/data/dir1/text1.txt\$'"
t_ok "  the deleted local file too" sh -c "find '$T_TMP/h2/state/conflicts/' -path '*/data/dir2/local-new' | grep -q ."
t_ok "  with a WARNING in the log" grep -q "WARNING.*dir1/text1.txt changed here since the last push; kept as" "$T_TMP/serve2.log"

# --- terms ---------------------------------------------------------------------------
t_case "a push with term 5" -- push data --term 5
t_case "a push with an older term is refused" --exit 1 \
	--err-has "term 4 is older than term 5 that node2 has seen: a stale leader may not push" \
	-- push data --term 4
t_case "  a newer term is accepted" -- push data --term 7
t_case "  and term 5 is now refused" --exit 1 --err-has "older than term 7" -- push data --term 5

# --- pre and post commands ---------------------------------------------------------------
echo "pre_command = echo pre-ran >$T_TMP/pre.out" >"$T_TMP/x"
t_case "pre_command runs before a push" \
	-- push data -o "sync.data.pre_command=echo pre-ran >$T_TMP/pre.out"
t_ok "  it ran" grep -q pre-ran "$T_TMP/pre.out"
t_case "a failing pre_command fails the push" --exit 1 \
	--err-has "pre_command of set data failed: exit 3" \
	-- push data -o "sync.data.pre_command=echo nope; exit 3"
t_ok "  status says so" sh -c "ip netns exec $(topo_ns 1) $HABOX hasync status -c $C1 | grep '^data' | grep -q 'failed: exit 3'"
reserve() { # restart the receiver with these options
	kill "$HS_PID_2"
	t_wait 5 sh -c "! kill -0 $HS_PID_2 2>/dev/null"
	hs_serve 2 "$@" || t_fail "restart the receiver" "not ready"
}
reserve -o "sync.data.post_command=echo post-ran >$T_TMP/post.out"
echo more >>"$D1/dry-new"
t_case "post_command runs on the receiver after a complete push" -- push data
t_ok "  it ran" grep -q post-ran "$T_TMP/post.out"
reserve -o "sync.data.post_command=echo post-fails; exit 4"
echo more >>"$D1/dry-new"
t_case "a failing post_command fails the push" --exit 1 \
	--err-has "post_command of set data failed: exit 4 (on node2)" -- push data
t_ok "  its output is in the receiver's log" grep -q "data post_command: post-fails" "$T_TMP/serve2.log"
reserve

# --- who may push ---------------------------------------------------------------------
mkdir -p "$T_TMP/rogue"
"$HABOX" hactl bootstrap -c "$C1" -d "$T_TMP/rogue" >/dev/null 2>&1
"$HABOX_TOOLS/pkitool" "$T_TMP/rogue/ca.crt" "$T_TMP/rogue/ca.key" "$T_TMP/pki/node.key" \
	node1 demo -1 30 "$T_TMP/rogue/node1.crt" >/dev/null 2>&1
sed -e "s|^cert = .*|cert = $T_TMP/rogue/node1.crt|" "$C1" >"$T_TMP/rogue.conf"
echo rogue >"$D1/rogue"
t_case "a push with a certificate of another CA is refused" --exit 1 \
	-- topo_exec 1 "$HABOX" hasync push data -c "$T_TMP/rogue.conf"
t_ok "  the receiver said why" t_wait 3 grep -q "not signed by this cluster's CA" "$T_TMP/serve2.log"
t_ok "  and wrote nothing" test ! -e "$D2/rogue"
"$HABOX_TOOLS/pkitool" "$T_TMP/pki/ca.crt" "$T_TMP/pki/ca.key" "$T_TMP/pki/node.key" \
	node9 demo -1 30 "$T_TMP/pki/node9.crt" >/dev/null 2>&1
sed -e "s|^node = .*|node = node9|" -e "s|^cert = .*|cert = $T_TMP/pki/node9.crt|" "$C1" >"$T_TMP/node9.conf"
printf '[node node9]\naddress = %s\nport = 7999\n' "$(topo_ip 1)" >>"$T_TMP/node9.conf"
t_case "a push from a node not in the receiver's config is refused" --exit 1 \
	-- topo_exec 1 "$HABOX" hasync push data -c "$T_TMP/node9.conf"
t_ok "  the receiver said why" t_wait 3 grep -q "for 'node9', which is not a node of this cluster" "$T_TMP/serve2.log"
t_ok "  and wrote nothing" test ! -e "$D2/rogue"
rm -f "$D1/rogue"

# --- a malicious sender ------------------------------------------------------------------
evil() { topo_exec 1 "$HABOX_TOOLS/syncevil" "$C1" node2 data "$@"; }
serving() { push data >/dev/null 2>&1; }
mkdir -p "$T_TMP/outside"
for c in dotdot absolute unordered biglen bigrecord; do
	t_case "malicious sender: $c: refused" --out-has "refused" -- evil $c
	t_ok "  the receiver keeps serving" serving
done
t_ok "  nothing was written outside the tree" sh -c "test ! -e '$T_TMP/h2/evil' -a ! -e /tmp/syncevil-absolute"
t_case "malicious sender: a file through a symlink: refused" --out-has "refused" \
	-- evil symlink "$T_TMP/outside"
t_ok "  nothing written through the symlink" test ! -e "$T_TMP/outside/evil"
t_ok "  the receiver said why" grep -q "esc/evil: cannot open its directory: a symlink or a file in the way" "$T_TMP/serve2.log"
t_ok "  the receiver keeps serving" serving
echo small >"$D2/victim"
cp "$D2/victim" "$T_TMP/victim.orig"
t_case "malicious sender: a delta that copies past the basis: refused" --out-has "refused" \
	-- evil pastbasis victim
t_ok "  the file is untouched" cmp "$D2/victim" "$T_TMP/victim.orig"
t_ok "  no temp file left" sh -c "! ls -a '$D2' | grep -q hasync-tmp"
t_ok "  the receiver keeps serving" serving

# --- partial pushes (the API watch uses) --------------------------------------------------
push data >/dev/null 2>&1
echo changed-a >"$D1/dir1/partial-a"
mkdir -p "$D1/newdir/sub"; echo c >"$D1/newdir/sub/c"
rm -f "$(find "$D1/dir8" -name 'ex*' | head -1)"
gone=$(cd "$D1" && find dir9 -name 'text*' | head -1)
rm -f "$D1/$gone"
echo unlisted >"$D1/dir1/unlisted"
printf '%s\n' dir1/partial-a newdir "$gone" >"$T_TMP/paths"
t_case "a push of some paths only" --out-has "data -> node2" \
	-- push data --paths-from "$T_TMP/paths"
t_ok "  the listed file is there" cmp "$D1/dir1/partial-a" "$D2/dir1/partial-a"
t_ok "  the new directory's subtree too" cmp "$D1/newdir/sub/c" "$D2/newdir/sub/c"
t_ok "  the listed path gone here is gone there" test ! -e "$D2/$gone"
t_ok "  an unlisted change is not sent" test ! -e "$D2/dir1/unlisted"
t_ok "  an unlisted deletion is not made" sh -c "test \$(find '$D2/dir8' -name 'ex*' | wc -l) -gt \$(find '$D1/dir8' -name 'ex*' | wc -l)"
echo small >"$D1/dir1/partial-a"
echo dir1/partial-a >"$T_TMP/paths"
t_case "a push of one small file takes little time" -- push data --paths-from "$T_TMP/paths"
ms=$(sed -n 's/.* \([0-9]*\) ms$/\1/p' "$T_TMP/case.$T_N/out")
echo "one small file, fresh connection: $ms ms"
t_ok "  the whole tree is equal after a full push" sh -c "'$HABOX' --list >/dev/null; ip netns exec $(topo_ns 1) '$HABOX' hasync push data -c '$C1' >/dev/null 2>&1"
expect
t_ok "  (equal)" hs_same "$T_TMP/expect" "$D2"

# --- the daemon ---------------------------------------------------------------------
kill "$HS_PID_2"; t_wait 5 sh -c "! kill -0 $HS_PID_2 2>/dev/null"
t_case "serve detaches once ready" -- topo_exec 2 "$HABOX" hasync serve -c "$C2"
pid=$(cat "$T_TMP/h2/run/hasync.pid" 2>/dev/null)
t_ok "  and writes its pidfile" kill -0 "${pid:-0}"
t_case "  a second one refuses" --exit 1 --err-has "already running" \
	-- topo_exec 2 "$HABOX" hasync serve -c "$C2"
printf '[sync late]\npath = %s\n' "$T_TMP/h2/late" >>"$C2"
printf '[sync late]\npath = %s\n' "$T_TMP/h1/late" >>"$C1"
mkdir -p "$T_TMP/h1/late"; echo late >"$T_TMP/h1/late/f"
kill -HUP "${pid:-0}"; sleep 1.2	# it looks once a second
t_case "  SIGHUP loads a new set" -- push late
t_ok "  it arrived" cmp "$T_TMP/h1/late/f" "$T_TMP/h2/late/f"
kill "${pid:-0}"
t_ok "  SIGTERM stops it and removes the pidfile" t_wait 5 test ! -e "$T_TMP/h2/run/hasync.pid"
