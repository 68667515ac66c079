#!/usr/bin/env bash
# initscripts/: the sysvinit script for real inside a network namespace
# (start -> status 0 -> reload -> stop -> status 3, LSB exit codes, the
# pidfile from the configuration's run_dir, a bad config refused at start);
# the OpenRC service's syntax and declarations.
. "$HABOX_TOP/tests/lib/testlib.sh"
. "$HABOX_TOP/tests/lib/netns.sh"
t_require_root

topo_up 1 || { t_fail setup "topology"; exit 1; }
init=$HABOX_TOP/initscripts/sysvinit/hawatch
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T_TMP/psk"
chmod 600 "$T_TMP/psk"
conf=$T_TMP/habox.conf
cat >"$conf" <<CONF
[cluster]
name = it
node = a
psk_file = $T_TMP/psk
state_dir = $T_TMP/state
run_dir = $T_TMP/run dir
[node a]
address = $(topo_ip 1)
[node b]
address = 10.0.0.99
[node w]
address = 10.0.0.98
role = witness
CONF
cat >"$T_TMP/defaults" <<DEF
HABOX=$HABOX
HAWATCH_CONF=$conf
HAWATCH_STOP_TIMEOUT=20
DEF
pidfile="$T_TMP/run dir/hawatch.pid"
# Whatever happens, the daemon we started goes (by its pid, ours only).
t_defer "[ -r '$pidfile' ] && kill -9 \$(cat '$pidfile')"
svc() { topo_exec 1 env HAWATCH_DEFAULTS="$T_TMP/defaults" sh "$init" "$@"; }
evts_has() { topo_exec 1 "$HABOX" hactl events -c "$conf" 2>&1 | grep -q "$1"; }

t_ok "the LSB header is complete" sh -c "grep -q '^### BEGIN INIT INFO' '$init' &&
	grep -q '^# Provides: *hawatch' '$init' && grep -q '^# Default-Start:' '$init' &&
	grep -q '^# Required-Start:.*\\\$network' '$init' && grep -q '^### END INIT INFO' '$init'"
t_case "status before start: 3, not running" --exit 3 --out-has "not running" -- svc status
t_case "start: 0 once the daemon is ready" --exit 0 -- svc start
t_ok "  the pidfile is in the config's run_dir" test -s "$pidfile"
pid=$(cat "$pidfile" 2>/dev/null)
t_ok "  and names a live hawatch" sh -c "tr '\\0' ' ' </proc/$pid/cmdline | grep -q hawatch"
t_ok "  which answers on its control socket" evts_has started
t_case "status: 0, running with its pid" --exit 0 --out-has "running (pid $pid)" -- svc status
t_case "start again: 0, already running" --exit 0 --out-has "already running (pid $pid)" -- svc start
t_ok "  still one hawatch" test "$(cat "$pidfile")" = "$pid"
t_case "reload: 0" --exit 0 -- svc reload
t_ok "  the daemon re-read its configuration" t_wait 5 evts_has reloaded
t_ok "  same process" kill -0 "$pid"
t_case "stop: 0 after the daemon exited" --exit 0 --out-has stopped -- svc stop
# Gone: no such process, or a zombie (it has exited; PID 1 reaps it).
t_ok "  the process is gone" sh -c "! kill -0 $pid 2>/dev/null ||
	sed 's/.*) //' /proc/$pid/stat 2>/dev/null | grep -q '^Z'"
t_ok "  and so is its pidfile" test ! -e "$pidfile"
t_case "status after stop: 3" --exit 3 --out-has "not running" -- svc status
t_case "stop when stopped: 0" --exit 0 --out-has "not running" -- svc stop
t_case "reload when stopped: 7" --exit 7 -- svc reload
t_case "restart from stopped: 0, running" --exit 0 -- svc restart
t_case "  status 0" --exit 0 --out-has running -- svc status
t_case "  stop" --exit 0 -- svc stop
echo "bogus line" >>"$conf"
t_case "start with a bad configuration: 6 (not configured), the reason shown" --exit 6 \
	--err-has "habox.conf" -- svc start
t_case "  nothing runs" --exit 3 -- svc status
t_case "an unknown action: usage, 2" --exit 2 --err-has "usage:" -- svc frobnicate
sed -i '$d' "$conf"
mkdir -p "$T_TMP/run dir"
echo 999999 >"$pidfile"
t_case "a stale pidfile: status 1 (dead, pidfile exists)" --exit 1 \
	--out-has "dead, but the pidfile" -- svc status
t_case "  start anyway: 0" --exit 0 -- svc start
t_case "  status 0" --exit 0 --out-has running -- svc status
t_case "  stop" --exit 0 -- svc stop

# OpenRC: the service under Debian's openrc-run for real, in a private
# mount namespace whose /run is a fresh tmpfs holding openrc's state (the
# host's /run is never touched), inside the network namespace.
rc=$HABOX_TOP/initscripts/openrc/hawatch
t_ok "openrc: the service parses (sh -n)" sh -n "$rc"
t_ok "openrc: openrc-run is its interpreter" sh -c "head -1 '$rc' | grep -qx '#!/sbin/openrc-run'"
if [ ! -x /sbin/openrc-run ]; then
	t_skip "openrc: start, status, reload, stop under openrc-run" \
		"Debian's openrc is not installed (scripts/debian-deps.sh check installs it)"
	exit 0
fi
mkdir -p "$T_TMP/orc/init.d" "$T_TMP/orc/conf.d"
# openrc-run hands the pidfile to start-stop-daemon unquoted: no space in
# run_dir there (the sysvinit script above copes with one).
sed "s|^run_dir = .*|run_dir = $T_TMP/orc/run|" "$conf" >"$T_TMP/orc.conf"
conf=$T_TMP/orc.conf pidfile=$T_TMP/orc/run/hawatch.pid
cp "$rc" "$T_TMP/orc/init.d/hawatch"
printf 'HABOX=%s\nHAWATCH_CONF=%s\n' "$(readlink -f "$HABOX")" "$conf" >"$T_TMP/orc/conf.d/hawatch"
cat >"$T_TMP/orc.sh" <<ORC
mount -t tmpfs tmpfs /run || exit 1
for d in daemons exclusive failed hotplugged inactive init.d options \
	scheduled started starting stopping tmp wasinactive; do
	mkdir -p /run/openrc/\$d
done
touch /run/openrc/softlevel
svc() { /sbin/openrc-run $T_TMP/orc/init.d/hawatch "\$@" >>$T_TMP/orc.out 2>&1; echo "\$* \$?"; }
evts() { "$HABOX" hactl events -c "$conf" 2>&1; }
svc describe
svc start
echo "pid \$(cat '$pidfile' 2>/dev/null)"
svc status
svc reload
for i in \$(seq 50); do evts | grep -q reloaded && break; sleep 0.1; done
evts | grep -q reloaded && echo "reloaded yes"
svc stop
[ -e '$pidfile' ] && echo "pidfile left"
svc status
ORC
topo_exec 1 unshare -m sh "$T_TMP/orc.sh" >"$T_TMP/orc.res" 2>&1
t_case "openrc: describe names the reload command" --out-has "Re-read the configuration" \
	-- cat "$T_TMP/orc.out"
for want in "describe 0" "start 0" "status 0" "reload 0" "reloaded yes" "stop 0" "status 3"; do
	t_case "openrc: $want" --out-has "$want" -- cat "$T_TMP/orc.res" "$T_TMP/orc.out"
done
t_ok "openrc: the started hawatch wrote its pidfile" grep -qE "^pid [0-9]+$" "$T_TMP/orc.res"
t_ok "openrc: stop removed it" sh -c "! grep -q 'pidfile left' '$T_TMP/orc.res'"
