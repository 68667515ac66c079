# Packet capture for tests, sourced after testlib.sh and netns.sh:
# tcpdump on a host's eth0, written to a pcap file and decoded by
# tests/lib/neighdump.py, one line per frame. The tcpdump process is
# ours: killed by PID at the end of the capture, or by the exit trap.
#
#   cap_start 3 NAME [FILTER...]   capture on host 3 into $T_TMP/NAME.pcap
#   cap_stop                       end the last capture (the file is complete)
#   cap_lines NAME                 the decoded frames, one a line
#   cap_none_running               true when every capture has ended
CAP_PID=
CAP_DONE=()

cap_start() {
	local i=$1 name=$2
	shift 2
	ip netns exec "$(topo_ns "$i")" tcpdump -i eth0 -n -U --immediate-mode \
		-w - "$@" \
		>"$T_TMP/$name.pcap" 2>"$T_TMP/$name.err" &
	CAP_PID=$!
	T_PIDS+=("$CAP_PID")
	t_wait 10 grep -q "listening on" "$T_TMP/$name.err"
}

cap_stop() {
	[ -n "$CAP_PID" ] || return 0
	# Frames on their way through the bridge are still to be written.
	sleep 0.3
	kill -TERM "$CAP_PID" 2>/dev/null
	wait "$CAP_PID" 2>/dev/null
	CAP_DONE+=("$CAP_PID")
	CAP_PID=
	return 0
}

cap_lines() { python3 "$HABOX_TOP/tests/lib/neighdump.py" "$T_TMP/$1.pcap"; }

cap_none_running() {
	local p
	for p in "${CAP_DONE[@]}"; do
		! kill -0 "$p" 2>/dev/null || return 1
	done
}
