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
