#!/usr/bin/env bash
# bench/sync: hasync next to rsync between two network namespaces, on one
# generated tree on tmpfs (about 5,000 files, 200 MB, half compressible
# text, half random bytes):
#   initial copy into an empty directory, then incremental runs after 1%
#   of the files changed (64 bytes each), 20 added and 20 deleted (the
#   change applied and reverted in turn, so every run has the same work):
#     hasync push (TLS, delta, zstd at the default level, a new process each time)
#     hasync push with compress = 0 (the like of rsync -a)
#     rsync -a --delete   and   rsync -az --delete   (to an rsync daemon)
#   in rotating order, RUNS_FULL (default 3) and RUNS_INC (default 5)
#   times: median, min and max wall time, bytes on the wire (both
#   directions of the sender's veth, /proc/net/dev), ratios;
#   watch latency: `hasync watch` running, N_LAT (default 200) small files
#   written one by one (tests/tools/inolat): closed on the sender ->
#   renamed into place on the receiver, p50, p99 and max.
# Prints figures, asserts nothing.
#   make bench BENCH=sync   (or HABOX=... HABOX_TOOLS=... bash bench/sync.sh)
. "$HABOX_TOP/tests/lib/testlib.sh"
. "$HABOX_TOP/tests/lib/netns.sh"
RUNS_FULL=${RUNS_FULL:-3}
RUNS_INC=${RUNS_INC:-5}
N_FILES=${N_FILES:-5000}
N_LAT=${N_LAT:-200}
tools=${HABOX_TOOLS:-$HABOX_TOP/build/tools}

die() { echo "bench/sync: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
command -v rsync >/dev/null || die "no rsync: apt-get install rsync"
[ -x "$tools/inolat" ] || die "no $tools/inolat: run 'make tests' first"
[ -x "$tools/pkitool" ] || die "no $tools/pkitool: run 'make tests' first"

W=/dev/shm/habox-bench-sync.$T_ID
t_defer "rm -rf $W"
mkdir -p "$W"/{src,stash,h1,h2/data,h2/data0,rs-a,rs-z,pki} || die "no $W"
topo_up 2 || die "could not build the topology"
ns1=$(topo_ns 1) ns2=$(topo_ns 2)
in1() { nsenter --net="/run/netns/$ns1" "$@"; }

# --- the tree and its changes ----------------------------------------------
cat >"$W/tree.py" <<'PY'
import os, random, shutil, sys
cmd, top, stash, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
rnd = random.Random(7)
words = b"alpha beta gamma delta epsilon zeta eta theta iota kappa".split()
def text(size):
    out = bytearray()
    while len(out) < size:
        out += b" ".join(rnd.choice(words) for _ in range(12))
        out += b" %d\n" % rnd.randrange(1 << 30)
    return bytes(out[:size])
def name(i):
    return os.path.join(top, "d%02d" % (i % 50), "s%d" % (i % 7), "f%05d" % i)
def make(path, i):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    size = rnd.randrange(80 * 1024)
    with open(path, "wb") as f:
        f.write(text(size) if i % 2 else os.urandom(size))
changed = range(0, n, 100)                  # 1%
deleted = range(37, n, n // 20)             # 20 files
if cmd == "gen":
    for i in range(n):
        make(name(i), i)
    os.makedirs(os.path.join(stash, "orig"), exist_ok=True)
    os.makedirs(os.path.join(stash, "del"), exist_ok=True)
    for k in range(20):                     # 20 new files
        make(os.path.join(stash, "add", "new%02d" % k), k)
elif cmd == "apply":
    for i in changed:
        p = name(i)
        keep = os.path.join(stash, "orig", str(i))
        if not os.path.exists(keep):
            shutil.copyfile(p, keep)
        data = bytearray(open(keep, "rb").read())
        off = rnd.randrange(max(1, len(data) - 64))
        data[off:off + 64] = os.urandom(64)
        with open(p, "wb") as f:
            f.write(data)
    for i in deleted:
        os.rename(name(i), os.path.join(stash, "del", str(i)))
    for k in range(20):
        shutil.copyfile(os.path.join(stash, "add", "new%02d" % k),
                        os.path.join(top, "d%02d" % k, "new%02d" % k))
elif cmd == "revert":
    for i in changed:
        shutil.copyfile(os.path.join(stash, "orig", str(i)), name(i))
    for i in deleted:
        os.rename(os.path.join(stash, "del", str(i)), name(i))
    for k in range(20):
        os.unlink(os.path.join(top, "d%02d" % k, "new%02d" % k))
PY
python3 "$W/tree.py" gen "$W/src" "$W/stash" "$N_FILES" || die "tree"
tree_mb=$(du -sm "$W/src" | cut -f1)

# --- hasync: CA, configs, the receiver -------------------------------------
conf() { # conf HOST NODE DATA
	cat >"$W/h$1.conf" <<EOC
[cluster]
name = bench
node = $2
ca = $W/pki/ca.crt
cert = $W/pki/$2.crt
key = $W/pki/node.key
state_dir = $W/h$1/state
run_dir = $W/h$1/run
[node node1]
address = $(topo_ip 1)
[node node2]
address = $(topo_ip 2)
[node w]
address = 10.0.0.13
role = witness
[sync data]
path = $3
delete = yes
[sync data0]
path = $4
delete = yes
compress = 0
EOC
}
conf 1 node1 "$W/src" "$W/src"
conf 2 node2 "$W/h2/data" "$W/h2/data0"
"$HABOX" hactl bootstrap -c "$W/h1.conf" -d "$W/pki" >/dev/null 2>&1 || die "bootstrap"
"$tools/pkitool" "$W/pki/ca.crt" "$W/pki/ca.key" "$W/pki/node.key" node2 bench \
	-1 30 "$W/pki/node2.crt" >/dev/null 2>&1 || die "pkitool"
topo_bg 2 "$HABOX" hasync serve -f -c "$W/h2.conf" 2>"$W/serve.log"
t_wait 5 grep -q "serving sync" "$W/serve.log" || die "hasync serve: $(cat "$W/serve.log")"

# --- rsync: a daemon on node2 ------------------------------------------------
cat >"$W/rsyncd.conf" <<EOC
use chroot = no
uid = root
gid = root
[a]
path = $W/rs-a
read only = no
[z]
path = $W/rs-z
read only = no
EOC
topo_bg 2 rsync --daemon --no-detach --address="$(topo_ip 2)" --port=873 \
	--config="$W/rsyncd.conf" --log-file="$W/rsyncd.log"
sleep 0.5

# --- measuring -----------------------------------------------------------------
wire() { in1 cat /proc/net/dev | sed 's/:/ /' | awk '$1 == "eth0" { printf "%.0f\n", $2 + $10 }'; }
run_tool() { # run_tool NAME: one transfer from node1
	case $1 in
	hasync) in1 "$HABOX" hasync push -q -c "$W/h1.conf" data >/dev/null ;;
	hasync-0) in1 "$HABOX" hasync push -q -c "$W/h1.conf" data0 >/dev/null ;;
	rsync-a) in1 rsync -a --delete "$W/src/" "rsync://$(topo_ip 2)/a/" ;;
	rsync-az) in1 rsync -az --delete "$W/src/" "rsync://$(topo_ip 2)/z/" ;;
	esac
}
dest() { case $1 in hasync) echo "$W/h2/data" ;; hasync-0) echo "$W/h2/data0" ;; rsync-a) echo "$W/rs-a" ;; rsync-az) echo "$W/rs-z" ;; esac; }
measure() { # measure PHASE TOOL: appends "ms bytes" to $W/PHASE.TOOL
	local b0 b1 t0 t1
	b0=$(wire)
	t0=${EPOCHREALTIME/./}
	run_tool "$2" || echo "bench/sync: $2 failed" >&2
	t1=${EPOCHREALTIME/./}
	b1=$(wire)
	echo "$(( (t1 - t0) / 1000 )) $((b1 - b0))" >>"$W/$1.$2"
}
TOOLS=(hasync hasync-0 rsync-a rsync-az)
rotate() { # the tools, starting at index $1
	local i n=${#TOOLS[@]}
	for ((i = 0; i < n; i++)); do echo "${TOOLS[$(( ($1 + i) % n ))]}"; done
}

echo "bench/sync: $N_FILES files, $tree_mb MB on tmpfs (half text, half random); load average $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 0; r < RUNS_FULL; r++)); do
	for t in $(rotate "$r"); do
		find "$(dest "$t")" -mindepth 1 -delete
		sync
		measure full "$t"
	done
done
for ((r = 0; r < RUNS_INC; r++)); do
	if ((r % 2 == 0)); then python3 "$W/tree.py" apply "$W/src" "$W/stash" "$N_FILES"
	else python3 "$W/tree.py" revert "$W/src" "$W/stash" "$N_FILES"; fi
	for t in $(rotate "$r"); do measure inc "$t"; done
done
for t in "${TOOLS[@]}"; do
	diff -r --no-dereference "$W/src" "$(dest "$t")" >/dev/null ||
		echo "bench/sync: $t: the copy differs from the source" >&2
done

# median min max of column $1 of a file
stats() {
	awk -v c="$1" '{ print $c }' "$2" | sort -n | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%d %d %d\n", m, v[1], v[NR] }'
}
report() { # report PHASE TITLE
	local t m lo hi bm
	echo "$2"
	for t in "${TOOLS[@]}"; do
		read -r m lo hi < <(stats 1 "$W/$1.$t")
		read -r bm _ _ < <(stats 2 "$W/$1.$t")
		printf '  %-22s median %7d ms  (min %d, max %d)  %10d bytes on the wire\n' \
			"$(case $t in hasync) echo "hasync push" ;; hasync-0) echo "  with compress = 0" ;;
			   rsync-a) echo "rsync -a --delete" ;;
			   rsync-az) echo "rsync -az --delete" ;; esac)" "$m" "$lo" "$hi" "$bm"
		eval "M_$1_${t//-/_}=$m B_$1_${t//-/_}=$bm"
	done
	awk -v h="$(eval echo "\$M_$1_hasync")" -v a="$(eval echo "\$M_$1_rsync_a")" \
	    -v z="$(eval echo "\$M_$1_rsync_az")" -v hb="$(eval echo "\$B_$1_hasync")" \
	    -v ab="$(eval echo "\$B_$1_rsync_a")" -v zb="$(eval echo "\$B_$1_rsync_az")" \
	    -v h0="$(eval echo "\$M_$1_hasync_0")" -v h0b="$(eval echo "\$B_$1_hasync_0")" 'BEGIN {
		printf "  hasync / rsync -a:  time %.2f, bytes %.2f\n", h / a, hb / ab
		printf "  hasync / rsync -az: time %.2f, bytes %.2f\n", h / z, hb / zb
		printf "  hasync compress=0 / rsync -a: time %.2f, bytes %.2f\n", h0 / a, h0b / ab }'
}
report full "initial copy ($RUNS_FULL runs each)"
report inc "incremental: 1% of the files changed, 20 added, 20 deleted ($RUNS_INC runs each)"

# --- watch latency -----------------------------------------------------------------
mkdir -p "$W/src/lat"
topo_bg 1 "$HABOX" hasync watch -f -c "$W/h1.conf" data 2>"$W/watch.log"
if t_wait 30 test -d "$W/h2/data/lat"; then
	sleep 0.5
	"$tools/inolat" "$W/src/lat" "$W/h2/data/lat" "$N_LAT" 20 >"$W/lat"
	lost=$(grep -c lost "$W/lat")
	grep -v lost "$W/lat" | sort -n | awk -v lost="$lost" '{ v[NR] = $1 } END {
		p50 = v[int((NR + 1) * 0.50)]; p99 = v[int((NR + 1) * 0.99)]
		if (p99 == "") p99 = v[NR]
		printf "watch latency (%d small files, closed on the sender -> renamed into place): p50 %.1f ms, p99 %.1f ms, max %.1f ms, lost %d\n",
			NR, p50 / 1000, p99 / 1000, v[NR] / 1000, lost }'
else
	echo "watch latency: hasync watch did not sync (log: $(tail -3 "$W/watch.log"))"
fi
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
