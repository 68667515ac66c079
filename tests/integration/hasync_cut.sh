#!/usr/bin/env bash
# hasync cut at random points: the sender is killed (SIGKILL) mid-push,
# several times at different sizes; every file on the receiver must be
# either its old or its new version, never partial, and the next push
# leaves no temporary file behind.
. "$HABOX_TOP/tests/lib/testlib.sh"
. "$HABOX_TOP/tests/lib/netns.sh"
. "$HABOX_TOP/tests/lib/hasync.sh"
t_require_root
t_has_applet hasync || { t_skip all "hasync is not built in"; exit 0; }
hs_setup || { t_fail setup "topology or PKI"; exit 1; }
hs_serve 2 || { t_fail setup "hasync serve"; exit 1; }
D1=$T_TMP/h1/data D2=$T_TMP/h2/data
push() { topo_exec 1 "$HABOX" hasync push -c "$C1" "$@"; }

# Old: 120 files of 300 kB (and 2 of 8 MB); new: every one rewritten.
python3 - "$D1" old <<'PY'
import os, random, sys
d, tag = sys.argv[1], sys.argv[2]
r = random.Random(tag)
for i in range(120):
    sub = os.path.join(d, "d%d" % (i % 7))
    os.makedirs(sub, exist_ok=True)
    with open(os.path.join(sub, "f%d" % i), "wb") as f:
        f.write(r.randbytes(300000))
for i in range(2):
    with open(os.path.join(d, "big%d" % i), "wb") as f:
        f.write(r.randbytes(8 << 20))
PY
t_case "push the old tree" -- push data
(cd "$D1" && find . -type f -exec sha256sum {} + | sort -k2) >"$T_TMP/old.sum"
cp -a "$D1" "$T_TMP/A"
python3 - "$D1" <<'PY'
import os, random, sys
d = sys.argv[1]
r = random.Random(7)
for root, dirs, files in os.walk(d):
    for n in files:
        p = os.path.join(root, n)
        b = bytearray(open(p, "rb").read())
        # New data in the middle and at the end: a real delta.
        mid = len(b) // 2
        b[mid:mid + 1000] = r.randbytes(1000)
        b += r.randbytes(5000)
        open(p, "wb").write(b)
for i in range(20):
    with open(os.path.join(d, "new%d" % i), "wb") as f:
        f.write(r.randbytes(200000))
PY
(cd "$D1" && find . -type f -exec sha256sum {} + | sort -k2) >"$T_TMP/new.sum"
cp -a "$D1" "$T_TMP/B"

# Each receiver file: old, new or (for new files) absent; nothing else.
# Also counts the files already at version $1 (A or B) in $T_TMP/progress.
old_or_new() {
	local bad=0 f s at=0 sums
	[ "$1" = A ] && sums=$T_TMP/old.sum || sums=$T_TMP/new.sum
	while read -r s f; do
		if grep -qxF "$s  $f" "$sums"; then
			at=$((at + 1))
		elif ! grep -qxF "$s  $f" "$T_TMP/old.sum" && ! grep -qxF "$s  $f" "$T_TMP/new.sum"; then
			echo "partial or foreign: $f"; bad=1
		fi
	done < <(cd "$D2" && find . -type f ! -name '.hasync-tmp.*' -exec sha256sum {} +)
	echo "$at of $(wc -l <"$sums")" >>"$T_TMP/progress"
	return $bad
}

# Each round the sender's tree flips to the other version (A old, B new),
# so every round has everything to send; the push is killed (SIGKILL)
# once before any data, then at random moments after data began to flow
# (a temporary file exists on the receiver).
data_flows() { find "$D2" -name '.hasync-tmp.*' | grep -q .; }
# The sender's link limited to 20 Mbit/s (a short queue: 50 ms): the
# changes (about 5 MB) take two seconds, so a cut a fraction of a second
# into the data falls between files however fast or loaded this machine
# is.
tc -n "$(topo_ns 1)" qdisc add dev eth0 root tbf rate 20mbit burst 32kb latency 50ms ||
	{ t_fail setup "rate limit (tc tbf)"; exit 1; }
v=B
for round in 1 2 3 4 5 6 7 8; do
	rm -rf "$D1" && cp -a "$T_TMP/$v" "$D1"
	topo_bg 1 "$HABOX" hasync push -c "$C1" data
	pid=$T_LASTPID
	if [ "$round" = 1 ]; then
		sleep 0.02
		what="before any data"
	else
		t_wait 10 data_flows
		delay=0.$((RANDOM % 2))$((RANDOM % 10))
		sleep "$delay"
		what="${delay}s into the data"
	fi
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	# The receiver sees the end once the queue (50 ms at most) drains.
	sleep 0.5
	t_ok "cut $round ($what): every file is old or new" old_or_new "$v"
	[ $v = A ] && v=B || v=A
done
echo "files at the round's version after each cut: $(tr '\n' ',' <"$T_TMP/progress")"
t_ok "  some cuts fell between the first and the last file" \
	awk '$1 > 0 && $1 < $3 { mixed = 1 } END { exit !mixed }' "$T_TMP/progress"
tc -n "$(topo_ns 1)" qdisc del dev eth0 root
rm -rf "$D1" && cp -a "$T_TMP/B" "$D1"
t_case "the next push completes" -- push data
t_ok "  the trees are equal" diff -r "$D1" "$D2"
t_ok "  no temporary file is left" sh -c "! find '$D2' -name '.hasync-tmp.*' | grep -q ."
