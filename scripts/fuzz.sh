#!/bin/sh
# Run each libFuzzer target for SECONDS, starting from its committed seed
# corpus (fuzz/corpus/NAME); new inputs go to build-fuzz/corpus/NAME,
# crashes to build-fuzz/crashes/. Exit 1 when any target crashed.
#   scripts/fuzz.sh SECONDS build-fuzz/NAME_fuzz...
set -u
secs=$1
shift
top=$(cd "$(dirname "$0")/.." && pwd)
rc=0
for bin in "$@"; do
	name=$(basename "$bin" _fuzz)
	work=$top/build-fuzz/corpus/$name
	crashes=$top/build-fuzz/crashes
	mkdir -p "$work" "$crashes"
	echo "fuzz: $name for ${secs}s"
	if "$bin" -max_total_time="$secs" -max_len=16384 -print_final_stats=1 \
	    -artifact_prefix="$crashes/$name-" "$work" "$top/fuzz/corpus/$name" \
	    >"$top/build-fuzz/$name.log" 2>&1; then
		grep -E 'stat::number_of_executed_units|stat::new_units_added' \
		    "$top/build-fuzz/$name.log" | sed "s/^/fuzz: $name: /"
	else
		echo "fuzz: $name: CRASH (see build-fuzz/$name.log and $crashes)"
		tail -30 "$top/build-fuzz/$name.log"
		rc=1
	fi
done
exit $rc
