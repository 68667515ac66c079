#!/usr/bin/env bash
# hasync watch between two hosts in network namespaces over real TLS,
# with the real `hasync serve` on the peer: catch-up at start, then new,
# changed, deleted and renamed files and directories as they happen; a
# peer that is down while changes are made and the watcher restarts, then
# every change arrives when it is back; status shows the backlog.
# Not tested: inotify queue overflow (it needs a tiny
# fs.inotify.max_queued_events, a global sysctl; the unit test
# tests/unit/inotree_test.c overflows the default queue instead).
. "$HABOX_TOP/tests/lib/testlib.sh"
. "$HABOX_TOP/tests/lib/netns.sh"
. "$HABOX_TOP/tests/lib/hasync.sh"
t_require_root
t_has_applet hasync || { t_skip all "hasync is not built in"; exit 0; }
hs_setup || { t_fail setup "topology or PKI"; exit 1; }
hs_serve 2 || { t_fail setup "hasync serve"; t_show log "$T_TMP/serve2.log"; exit 1; }
D1=$T_TMP/h1/data D2=$T_TMP/h2/data
LOG=$T_TMP/watch.log

watch_start() {
	local n
	n=$(grep -c "watching data" "$LOG" 2>/dev/null)
	topo_bg 1 "$HABOX" hasync watch -f -v -c "$C1" data 2>>"$LOG"
	WATCH_PID=$T_LASTPID
	t_wait 5 sh -c '[ "$(grep -c "watching data" "$1")" -gt "$2" ]' _ \
		"$LOG" "${n:-0}"
}
watch_stop() {
	kill -TERM "$WATCH_PID" 2>/dev/null
	wait "$WATCH_PID"
}
# serve_stop: the daemon and the children serving open connections.
serve_stop() {
	local kids
	kids=$(ps -o pid= --ppid "$HS_PID_2")
	kill -TERM "$HS_PID_2" $kids 2>/dev/null
	wait "$HS_PID_2" 2>/dev/null
	t_wait 5 sh -c "! kill -0 $HS_PID_2 $kids 2>/dev/null"
}
# has REL CONTENT [SECONDS]: the peer's copy has that content.
has() {
	t_wait "${3:-5}" sh -c '[ "$(cat "$1" 2>/dev/null)" = "$2" ]' _ "$D2/$1" "$2"
}
gone() { t_wait "${2:-5}" sh -c '! test -e "$1" && ! test -L "$1"' _ "$D2/$1"; }
status_backlog() {
	topo_exec 1 "$HABOX" hasync status -c "$C1" | awk '$1 == "data" {print $5}'
}

# --- catch-up and live changes --------------------------------------------
echo before >"$D1/before"
mkdir -p "$D1/old/dir"
echo deep >"$D1/old/dir/f"
watch_start || { t_fail setup "hasync watch did not start"; t_show log "$LOG"; exit 1; }
t_ok "catch-up: what existed before the watch is on the peer" has old/dir/f deep
t_ok "  logged as caught up" t_wait 5 grep -q "data -> node2: caught up" "$LOG"

echo new >"$D1/new"
t_ok "a new file appears on the peer" has new new
echo changed >"$D1/before"
t_ok "a changed file is updated" has before changed
mkdir -p "$D1/dir/sub"
echo a >"$D1/dir/sub/a"
echo b >"$D1/dir/b"
newdir() { has dir/sub/a a && has dir/b b; }
t_ok "a new directory with files appears" newdir
rm "$D1/new"
t_ok "a deleted file is deleted" gone new
mv "$D1/dir/b" "$D1/dir/c"
t_ok "a renamed file: the new name appears" has dir/c b
t_ok "  and the old name goes" gone dir/b
mv "$D1/old" "$D1/renamed"
t_ok "a renamed directory moves on the peer" has renamed/dir/f deep
t_ok "  and the old one goes" gone old
echo "odd" >"$D1/a name with spaces
and a newline ü"
t_ok "odd names are carried" has "a name with spaces
and a newline ü" odd
echo tmp >"$D1/x.tmp"
echo sentinel >"$D1/sentinel"
has sentinel sentinel
t_ok "excluded files are not sent" test ! -e "$D2/x.tmp"
for i in $(seq 1 50); do echo "v$i" >"$D1/burst"; done
t_ok "a burst of writes ends with the last content" has burst v50
t_case "status shows an empty backlog" --out-has "data" -- \
	sh -c "ip netns exec $(topo_ns 1) $HABOX hasync status -c $C1 | awk '\$1 == \"data\" && \$5 == \"0\"' | grep ."
t_case "status --json has the backlog per follower" \
	--out-has '"backlog":0' --out-has '"backlog_by_peer":{"node2":{"paths":0,"rescan":false}}' \
	-- topo_exec 1 "$HABOX" hasync status -c "$C1" --json

# --- the peer down, the watcher restarted in between ----------------------
serve_stop
echo during1 >"$D1/during1"
rm "$D1/before"
echo changed2 >"$D1/dir/c"
t_ok "a peer that is down is warned about" t_wait 5 grep -q "data -> node2: .*retrying" "$LOG"
t_ok "  the backlog is visible in status" sh -c "b=\$(ip netns exec $(topo_ns 1) $HABOX hasync status -c $C1 | awk '\$1 == \"data\" {print \$5}'); [ \"\$b\" -ge 3 ] 2>/dev/null"
t_case "the watcher stops on SIGTERM" --exit 0 -- watch_stop
echo during2 >"$D1/during2"	# while nobody watches
watch_start
t_ok "  the restarted watcher replays its journal" grep -q "data -> node2: [3-9] change(s) from the journal" "$LOG"
mkdir "$D1/during3"
echo d3 >"$D1/during3/f"
sleep 1
t_ok "  nothing arrived while the peer was down" test ! -e "$D2/during1" -a -e "$D2/before"
t_ok "  one WARNING per outage, not one per retry" test "$(grep -c 'retrying' "$LOG")" -le 2
hs_serve 2
t_ok "the peer is back: a file made while it was down arrives" has during1 during1 15
t_ok "  a file made while the watcher was stopped" has during2 during2
t_ok "  a directory made after the restart" has during3/f d3
t_ok "  a file deleted meanwhile is deleted" gone before
t_ok "  a file changed meanwhile is updated" has dir/c changed2
t_ok "  reported back with INFO" grep -q "data -> node2: reachable again" "$LOG"
rm -f "$D1/x.tmp"
t_ok "  the trees are equal" hs_same "$D1" "$D2"
t_ok "  the backlog is empty again" t_wait 5 sh -c "[ \"\$(ip netns exec $(topo_ns 1) $HABOX hasync status -c $C1 | awk '\$1 == \"data\" {print \$5}')\" = 0 ]"
t_ok "  no FAILURE was logged" sh -c "! grep -q FAILURE $LOG"

# --- usage -----------------------------------------------------------------
t_case "an unknown set is a usage error" --exit 2 --err-has "no [sync nosuch]" \
	-- topo_exec 1 "$HABOX" hasync watch -f -c "$C1" nosuch
t_case "a second watcher of the same set is refused" --exit 1 --err-has "already running" \
	-- topo_exec 1 "$HABOX" hasync watch -f -c "$C1" data
watch_stop

# --- a damaged journal -------------------------------------------------------
J=$T_TMP/h1/state/hasync/watch-data@node2.journal
echo "not a journal" >"$J"
echo "lost?" >"$D1/while-damaged"
watch_start
t_ok "a damaged journal is a FAILURE" t_wait 5 grep -q "watch-data@node2.journal is corrupt" "$LOG"
t_ok "  kept aside for inspection" test -e "$J.corrupt"
t_ok "  and the full comparison brings every change" has while-damaged "lost?"

# --- SIGHUP ----------------------------------------------------------------------
cp "$C1" "$T_TMP/c1.saved"
echo "[bogus]" >>"$C1"
kill -HUP "$WATCH_PID"
t_ok "SIGHUP with a bad configuration: a FAILURE" \
	t_wait 5 grep -q "SIGHUP: .* is not usable; keeping the configuration in use" "$LOG"
echo still >"$D1/after-bad-hup"
t_ok "  and it goes on with the one in use" has after-bad-hup still
sed 's/^exclude = skip-me$/&\nexclude = *.hup/' "$T_TMP/c1.saved" >"$C1"
kill -HUP "$WATCH_PID"
t_ok "SIGHUP with a good one: reloaded" t_wait 5 grep -q "SIGHUP: configuration reloaded" "$LOG"
echo x >"$D1/new.hup"
echo y >"$D1/after-hup"
hup_used() { t_wait 5 test -e "$D2/after-hup" && test ! -e "$D2/new.hup"; }
t_ok "  it is used (a new exclude)" hup_used
cp "$T_TMP/c1.saved" "$C1"

# --- new credentials on SIGHUP ---------------------------------------------------
# A new CA and new certificates at the same paths (a CA rotated on both
# nodes): after a SIGHUP, serve and watch use them. A serve still on the
# old CA refuses a new client's certificate; a watch on the old one would
# be refused by the reloaded serve.
hup_seen() { # hup_seen LOG COUNT: a reload logged after the COUNT before
	t_wait 5 sh -c '[ "$(grep -c "SIGHUP: configuration reloaded" "$1")" -gt "$2" ]' _ "$1" "$2"
}
mkdir -p "$T_TMP/pki2"
"$HABOX" hactl bootstrap -c "$C1" -d "$T_TMP/pki2" >/dev/null 2>&1 &&
"$HABOX_TOOLS/pkitool" "$T_TMP/pki2/ca.crt" "$T_TMP/pki2/ca.key" \
	"$T_TMP/pki2/node.key" node2 demo -1 30 "$T_TMP/pki2/node2.crt" >/dev/null 2>&1 ||
	t_fail "new credentials" "could not make the second PKI"
cp -p "$T_TMP/pki2/"* "$T_TMP/pki/"
n=$(grep -c "SIGHUP: configuration reloaded" "$T_TMP/serve2.log")
kill -HUP "$HS_PID_2"
t_ok "new credentials: serve reloads them on SIGHUP" hup_seen "$T_TMP/serve2.log" "$n"
echo o >"$T_TMP/h1/other/rotated"
t_case "  a push made with them is accepted" \
	-- topo_exec 1 "$HABOX" hasync push -q -c "$C1" other
n=$(grep -c "SIGHUP: configuration reloaded" "$LOG")
kill -HUP "$WATCH_PID"
t_ok "  watch reloads them on SIGHUP" hup_seen "$LOG" "$n"
echo rotated >"$D1/after-rotation"
t_ok "  and its next push goes through with them" has after-rotation rotated 10
watch_stop

# --- in the background ---------------------------------------------------------
PIDF=$T_TMP/h1/run/hasync-watch-data.pid
t_case "without -f it returns once it watches" --exit 0 \
	-- topo_exec 1 "$HABOX" hasync watch -c "$C1" data
t_ok "  its pidfile names a running process" sh -c "kill -0 \$(cat $PIDF)"
echo bg >"$D1/bg"
t_ok "  it pushes" has bg bg
kill -TERM "$(cat "$PIDF")"
t_ok "  SIGTERM stops it and removes the pidfile" t_wait 5 test ! -e "$PIDF"

# --- a follower off the network does not hold the others ---------------------
# node3's address answers nothing (no host has it): connecting to it fails
# only by timing out. Files must keep reaching node2 at once meanwhile.
C3=$T_TMP/h1/habox-3.conf
cp "$C1" "$C3"
printf '[node node3]\naddress = %s\n' "$(topo_ip 3)" >>"$C3"
topo_bg 1 "$HABOX" hasync watch -f -c "$C3" data 2>>"$T_TMP/watch3.log"
W3=$T_LASTPID
t_wait 15 grep -q "data -> node3: .*retrying" "$T_TMP/watch3.log"
slow=0
for i in $(seq 1 16); do
	echo "n$i" >"$D1/off$i"
	has "off$i" "n$i" 1 || slow=$((slow + 1))
	sleep 0.3
done
t_ok "a follower off the network: every file still reaches node2 within 1 s" test "$slow" = 0
t_ok "  node3's changes wait in its journal" sh -c "ip netns exec $(topo_ns 1) $HABOX hasync status -c $C3 | awk '\$1 == \"data\" && \$5 + 0 >= 16' | grep -q ."
kill -TERM "$W3"
wait "$W3"
