#!/usr/bin/env bash
# Run every test and end with "N passed, N failed".
#
#   tests/run.sh --habox BIN [--unit DIR]... [--fuzz DIR] [--only GLOB]
#                [--skip GLOB] [--asan ASAN-BIN]
#
# Unit test binaries (DIR/*_test) and integration scripts
# (tests/integration/*.sh, given HABOX=BIN) print one line per case:
# "PASS suite: case", "FAIL suite: case: why" or "SKIP suite: case: why".
# A program that dies without saying so counts as one failure. Skipped
# cases are counted apart, never as passed. Logs: build/test-logs/.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
habox= units=() fuzz= only='*' skip_glob= asan=
while [ $# -gt 0 ]; do
	case $1 in
	--habox) habox=$2; shift 2 ;;
	--unit) units+=("$2"); shift 2 ;;
	--fuzz) fuzz=$2; shift 2 ;;
	--only) only=$2; shift 2 ;;
	--skip) skip_glob=$2; shift 2 ;;
	--asan) asan=$2; shift 2 ;;
	*) echo "usage: tests/run.sh --habox BIN [--unit DIR]... [--fuzz DIR] [--only GLOB] [--skip GLOB]" >&2; exit 2 ;;
	esac
done
[ -x "$habox" ] || { echo "tests/run.sh: no habox binary at '$habox'" >&2; exit 2; }
logs=${T_LOGS:-$top/build/test-logs}
mkdir -p "$logs"
export T_LOGDIR=$logs
pass=0 fail=0 skip=0 t0=$(date +%s)
# Every failed case again at the end, where a cut-off log still shows it.
recap=$logs/failed.txt
: >"$recap"

# Count one program's result lines; a silent death is a failure.
tally() { # NAME LOGFILE RC
	local p f s
	p=$(grep -c '^PASS ' "$2"); f=$(grep -c '^FAIL ' "$2"); s=$(grep -c '^SKIP ' "$2")
	grep -E '^(FAIL|SKIP) ' "$2"
	[ "$f" = 0 ] || grep -E '^FAIL ' "$2" | sed "s|^|$1: |" >>"$recap"
	if [ "$3" != 0 ] && [ "$f" = 0 ]; then
		echo "FAIL $1: exited with status $3 without naming a failed case (log: $2)" |
			tee -a "$recap"
		f=$((f + 1))
	fi
	if [ $((p + f + s)) = 0 ]; then
		echo "FAIL $1: ran no case (log: $2)" | tee -a "$recap"
		f=1
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	printf '%-40s %4d passed %3d failed %3d skipped  %4ss\n' "$1" "$p" "$f" "$s" "$4"
}

run_one() { # NAME LOG CMD...
	local name=$1 log=$2 rc t
	shift 2
	t=$(date +%s)
	"$@" >"$log" 2>&1
	rc=$?
	tally "$name" "$log" "$rc" "$(( $(date +%s) - t ))"
}

# Integration suites mostly wait (timers, leases, PostgreSQL), so they run
# TEST_JOBS at a time (default 2); each has its own namespaces, ports and
# temp dir. Suites that compile (build*, deps_src) run alone, so that
# their load does not bend the timing of the others.
jobs_max=${TEST_JOBS:-2}
bg_pids=() bg_names=() bg_logs=() bg_t0=()

reap() { # wait for one running suite (any), tally it
	local i rc
	while :; do
		for i in "${!bg_pids[@]}"; do
			if ! kill -0 "${bg_pids[$i]}" 2>/dev/null; then
				wait "${bg_pids[$i]}"
				rc=$?
				tally "${bg_names[$i]}" "${bg_logs[$i]}" "$rc" \
				    "$(( $(date +%s) - bg_t0[$i] ))"
				unset "bg_pids[$i]" "bg_names[$i]" "bg_logs[$i]" "bg_t0[$i]"
				return 0
			fi
		done
		sleep 0.2
	done
}

drain() { while [ ${#bg_pids[@]} -gt 0 ]; do reap; done; }

run_suite() { # NAME LOG CMD...
	local name=$1 log=$2
	shift 2
	case $name in
	*integration/build*|*integration/deps_src)
		drain
		run_one "$name" "$log" "$@"
		return ;;
	esac
	while [ ${#bg_pids[@]} -ge "$jobs_max" ]; do reap; done
	"$@" >"$log" 2>&1 &
	bg_pids+=($!) bg_names+=("$name") bg_logs+=("$log") bg_t0+=("$(date +%s)")
}

for d in "${units[@]}"; do
	for t in "$d"/*_test; do
		[ -x "$t" ] || continue
		n=$(basename "$d")/$(basename "$t")
		case $n in $only) ;; *) continue ;; esac
		run_one "unit $n" "$logs/$(basename "$d")-$(basename "$t").log" timeout 300 "$t"
	done
done

export HABOX=$habox HABOX_TOP=$top
# The helper programs built with this habox (build-asan/tools next to
# build-asan/habox), else the default build's.
if [ -z "${HABOX_TOOLS:-}" ]; then
	HABOX_TOOLS=$top/build/tools
	[ -d "$(dirname "$habox")/tools" ] && HABOX_TOOLS=$(dirname "$habox")/tools
fi
export HABOX_TOOLS
for s in "$top"/tests/integration/*.sh; do
	n=integration/$(basename "$s" .sh)
	case $n in $only) ;; *) continue ;; esac
	[ -n "$skip_glob" ] && case $n in $skip_glob) continue ;; esac
	run_suite "$n" "$logs/$(basename "$s" .sh).log" timeout 1200 bash "$s"
done
drain

# The integration suite again with the sanitizer build (ASan, UBSan, LSan:
# any report makes the program fail), but for the build-variant scripts.
if [ -n "$asan" ]; then
	for s in "$top"/tests/integration/*.sh; do
		n=integration/$(basename "$s" .sh)
		# (and the demo: the same applets the suites run under
		# ASan already; it is there to show, and runs plain)
		case $n in integration/build*|integration/deps_src|integration/demo) continue ;; esac
		case $n in $only) ;; *) continue ;; esac
		[ -n "$skip_glob" ] && case $n in $skip_glob) continue ;; esac
		run_suite "asan $n" "$logs/asan-$(basename "$s" .sh).log" \
			env HABOX="$asan" HABOX_TOOLS="$(dirname "$asan")/tools" T_SLOW=2 \
			T_LOG_PREFIX=asan- timeout 1200 bash "$s"
	done
	drain
fi

# Fuzz targets replay their committed corpus: crashes found once stay fixed.
if [ -n "$fuzz" ]; then
	for f in "$fuzz"/*_fuzz; do
		[ -x "$f" ] || continue
		n=fuzz/$(basename "$f")
		case $n in $only) ;; *) continue ;; esac
		c=$top/fuzz/corpus/$(basename "$f" _fuzz)
		log=$logs/$(basename "$f").log
		t=$(date +%s)
		if timeout 300 "$f" -runs=0 "$c" >"$log" 2>&1; then
			echo "PASS fuzz: $(basename "$f") corpus ($(ls "$c" | wc -l) inputs)" >>"$log"
		else
			echo "FAIL fuzz: $(basename "$f"): corpus replay failed" >>"$log"
		fi
		tally "$n" "$log" 0 "$(( $(date +%s) - t ))"
	done
fi

if [ -s "$recap" ]; then
	echo "--- every failed case ($(wc -l <"$recap")), also in $recap:"
	cat "$recap"
fi
echo "test time: $(( $(date +%s) - t0 )) s; logs in $logs"
[ $skip = 0 ] || echo "$skip skipped (not counted as passed)"
echo "$pass passed, $fail failed"
[ $fail = 0 ] && [ $pass -gt 0 ]
