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

# Each receiver file: old, new or (for new files) absent; nothing else.
old_or_new() {
	local bad=0 f s new=0
	while read -r s f; do
		if grep -qxF "$s  $f" "$T_TMP/new.sum"; then
			new=$((new + 1))
		elif ! grep -qxF "$s  $f" "$T_TMP/old.sum"; then
			echo "partial or foreign: $f"; bad=1
		fi
	done < <(cd "$D2" && find . -type f ! -name '.hasync-tmp.*' -exec sha256sum {} +)
	echo "$new files new" >>"$T_TMP/progress"
	return $bad
}
for delay in 0.05 0.5 1.0 1.3 1.6 1.9 2.5; do
	topo_bg 1 "$HABOX" hasync push -c "$C1" data
	pid=$T_LASTPID
	sleep "$delay"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	sleep 0.2
	t_ok "cut after ${delay}s: every file is old or new" old_or_new
done
echo "files new after each cut: $(tr '\n' ' ' <"$T_TMP/progress")"
t_ok "  some cuts fell between the first and the last file" \
	sh -c "grep -v '^0 files' '$T_TMP/progress' | grep -qv '^142 files'"
t_case "the next push completes" -- push data
t_ok "  the trees are equal" diff -r "$D1" "$D2"
t_ok "  no temporary file is left" sh -c "! find '$D2' -name '.hasync-tmp.*' | grep -q ."
