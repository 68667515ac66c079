#!/usr/bin/env bash
# core/delta and core/zio throughput on a tmpfs (tests/tools/deltabench:
# MB per CPU second of signature, delta and apply for an identical, a 1%
# changed and an unrelated file of BENCH_MB, default 100), then, on the
# same files, rsync --no-whole-file between two local directories as a
# reference (wall and CPU seconds of the whole run, all its processes).
# Prints figures, asserts nothing.
. "$HABOX_TOP/tests/lib/testlib.sh"
tools=${HABOX_TOOLS:-$HABOX_TOP/build/tools}
MB=${BENCH_MB:-100}
shm=/dev/shm/habox-bench-delta-$T_ID
mkdir -p "$shm/src" "$shm/dst"
t_defer "rm -rf '$shm'"

echo "bench/delta: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), ${MB} MB"
"$tools/deltabench" "$shm" "$MB" keep | sed 's/^/  /'
command -v rsync >/dev/null || { echo "  (no rsync: reference skipped)"; exit 0; }
for t in a:identical b:1%-changed c:different; do
	cp "$shm/${t%%:*}" "$shm/src/f"
	cp "$shm/a" "$shm/dst/f"
	TIMEFORMAT='%R %U %S'
	{ time rsync -I --no-whole-file "$shm/src/f" "$shm/dst/f"; } 2>"$shm/time"
	read -r wall user sys <"$shm/time"
	echo "  rsync ${t#*:}: ${wall}s wall, $(awk "BEGIN {print $user + $sys}")s CPU"
done
