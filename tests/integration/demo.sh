#!/usr/bin/env bash
# `make demo`'s live part (scripts/demo.sh) run for real, once, with the
# habox under test; what a user would check in its output: the failover
# and its time in ms, both rows read through the VIP, the synced files,
# the old leader back as a standby, hactl status at each stage. Afterwards
# nothing of the run is left (namespaces, processes, temp dir). Ctrl-C
# (SIGINT to its process group) once hawatch runs also cleans up, and
# without root it refuses.
. "$HABOX_TOP/tests/lib/testlib.sh"
. "$HABOX_TOP/tests/lib/pg.sh"
demo=$HABOX_TOP/scripts/demo.sh

asuser=()
[ "$(id -u)" = 0 ] && asuser=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
t_case "without root: refused, root named" --exit 1 --err-has "needs root" \
	-- "${asuser[@]}" bash "$demo" "$HABOX"

pg_require
for a in hawatch hasync havip; do
	t_has_applet "$a" || { t_skip all "habox built without $a"; exit 0; }
done

# The names of a run, from its output: its namespaces' prefix, its temp dir.
prefix_of() { sed -n 's/^== a cluster in network namespaces \(hbt[0-9a-f]*\)-\*$/\1/p' "$1"; }
tmp_of() { sed -n 's/.* files in \(\/tmp\/habox-demo\.[A-Za-z0-9]*\)$/\1/p' "$1"; }
no_procs() { [ -n "$1" ] && ! pgrep -f "$1/" >/dev/null; }
# gone WHEN OUT: nothing of the run whose output is OUT remains: no
# namespace of its prefix, no process naming its temp dir, no temp dir.
gone() {
	local p t
	p=$(prefix_of "$2") t=$(tmp_of "$2")
	t_ok "$1: no namespace of the run is left" \
		sh -c "[ -n '$p' ] && ! ip netns list | grep -q '^$p-'"
	t_ok "  no process of the run is left" no_procs "$t"
	t_ok "  its temp dir is gone" sh -c "[ -n '$t' ] && [ ! -e '$t' ]"
	sweep "$p" "$t"
}
# sweep PREFIX TMP: remove what a run failed to (its namespaces hold only
# its own processes), so that a failure here leaves nothing behind either.
sweep() {
	local ns
	[ -n "$1" ] && for ns in $(ip netns list | awk '{ print $1 }' | grep "^$1-"); do
		ip netns pids "$ns" | xargs -r kill -9
		ip netns del "$ns"
	done
	case $2 in /tmp/habox-demo.?*) rm -rf "$2" ;; esac
}

t0=$(t_now_us)
t_case "as root: the demo runs to the end, exit 0" --out-has "demo: failover in" \
	-- bash "$demo" "$HABOX"
secs=$(( ($(t_now_us) - t0) / 1000000 ))
out=$T_TMP/case.$T_N/out
has() { grep -qE -- "$1" "$out"; }
count() { [ "$(grep -cE -- "$1" "$out")" = "$2" ]; }
t_ok "  it starts with the binary and its applets" \
	has "^[0-9]+ bytes; applets: .*hawatch"
t_ok "  certificates by hactl bootstrap and join" \
	has "^w: hactl join 10\.0\.0\.11: its certificate CN=w, O=habox, OU=demo"
t_ok "  hawatch started by the init script on each node" \
	count "^(node1|node2|w): started, pid [0-9]+$" 4
t_ok "  hactl status tables: at the start, after the failover, after the rejoin" \
	count "^node +role +link" 3
t_ok "  node1 leads at first" has "^cluster demo, node node1: leader, term 1"
t_ok "  the leader is killed" has "^killed hawatch \(pid [0-9]+\) and postgres"
t_ok "  it names the failover and its time in ms" \
	has "^failover: the first write through the VIP committed [0-9]+ ms after the kill$"
t_ok "  node2 leads after it" has "^cluster demo, node node2: leader, term 2"
t_ok "  and its status shows node1 down" has "^node1 +down +down"
t_ok "  both rows read back through the VIP" sh -c "grep -A2 -x \
	'\$ psql -h 10.0.0.100 -c .SELECT \* FROM demo.' '$out' | tail -n 2 |
	tr '\n' / | grep -qx '  1|before the failover/  2|after the failover/'"
t_ok "  a file written on the leader reached the follower" \
	has "^files/before.txt written on node1 is on node2"
t_ok "  a file written on the new leader reached the old one after its return" \
	has "^files/during.txt reached node1"
t_ok "  the old leader streams from the new primary (pg_stat_wal_receiver)" \
	has "^  streaming\|10\.0\.0\.12\|2$"
t_ok "  and hactl status shows it as a follower" has "^node1 +follower +up"
t_ok "  the summary line" has "^demo: failover in [0-9]+ ms .* node1 rejoined as a standby of node2"
t_ok "  in under 2 minutes (times T_SLOW)" \
	awk -v s="$secs" -v k="${T_SLOW:-1}" 'BEGIN { exit !(s < 120 * k) }'
gone "after the demo" "$out"

# Ctrl-C: SIGINT to the demo's process group (it leads a session of its
# own, with SIGINT not ignored, as in a terminal) once hawatch runs.
ctrl_c() { # ctrl_c OUT TEXT CMD...: run CMD, SIGINT when OUT has TEXT
	python3 - "$@" <<'EOF'
import os, signal, subprocess, sys, time
out, text, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(out, "w") as f:
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=f,
        stderr=subprocess.STDOUT, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
end = time.time() + 180
while p.poll() is None and time.time() < end:
    with open(out) as f:
        if text in f.read():
            break
    time.sleep(0.1)
if p.poll() is None:
    os.killpg(p.pid, signal.SIGINT)
try:
    sys.exit(p.wait(timeout=120))
except subprocess.TimeoutExpired:
    os.killpg(p.pid, signal.SIGKILL)
    sys.exit(99)
EOF
}
cout=$T_TMP/ctrl-c.out
t_case "Ctrl-C once hawatch runs: exit 130" --exit 130 \
	-- ctrl_c "$cout" "node2: started" bash "$demo" "$HABOX" ||
	t_show "its output" "$cout"
t_ok "  it said so" grep -q "demo: interrupted: cleaning up" "$cout"
gone "after Ctrl-C" "$cout"
