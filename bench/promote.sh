#!/usr/bin/env bash
# Promotion and demotion times with real PostgreSQL 15 servers on tmpfs
# (tests/lib/pg.sh): two nodes swap roles ROUNDS times (default 10).
#
#  - promote: from the start of `haprom promote` to the first successful
#    write (haprom returns right after it), next to the usual runbook:
#    `pg_ctl promote -W` then psql trying a write until one succeeds;
#  - demote of the old primary, after it took a write of its own (so it
#    diverged and must be rewound), until it streams from the new one:
#    `haprom demote` next to the same steps by hand (pg_ctl stop,
#    pg_rewind, primary_conninfo and standby.signal, pg_ctl start, psql
#    polling pg_stat_wal_receiver).
#
# Methods alternate round by round, so load changes hit both. Prints
# medians with min-max, ratios, and the load average.
. "$HABOX_TOP/tests/lib/testlib.sh"
ROUNDS=${ROUNDS:-10}
shm=/dev/shm/habox-bench-$T_ID
mkdir -m 711 "$shm"
t_defer "rm -rf '$shm'"
PG_ROOT=$shm/pg
. "$HABOX_TOP/tests/lib/pg.sh"
pg_require
exec 3>&1 >"$T_TMP/bench.log" 2>&1

now() { date +%s%N; }
ms_since() { echo $(( ($(now) - $1) / 1000000 )); }
say() { echo "$*" >&3; }

pg_init a && pg_sql a "CREATE TABLE t (id serial PRIMARY KEY, v text)" &&
	pg_standby b a || { say "bench: cannot make the servers"; exit 1; }
pg_haprom_conf a "$T_TMP/a.conf"
pg_haprom_conf b "$T_TMP/b.conf"

promote_haprom() { "$HABOX" haprom promote -c "$T_TMP/$1.conf"; }
promote_pgctl() {
	pg_as "$PG_BIN/pg_ctl" promote -D "$(pg_data "$1")" -W &&
		until pg_sql "$1" "SELECT txid_current()"; do sleep 0.005; done
}
demote_haprom() {
	"$HABOX" haprom demote -c "$T_TMP/$1.conf" --primary "127.0.0.1:$(pg_port "$2")"
}
demote_hand() {
	local d
	d=$(pg_data "$1")
	pg_stop "$1" fast &&
		pg_as "$PG_BIN/pg_rewind" -D "$d" --source-server="host=127.0.0.1 port=$(pg_port "$2") user=replicator dbname=postgres" &&
		echo "primary_conninfo = 'host=127.0.0.1 port=$(pg_port "$2") user=replicator application_name=$1'" |
		pg_as tee -a "$d/postgresql.auto.conf" >/dev/null &&
		pg_as touch "$d/standby.signal" && pg_start "$1" &&
		until pg_streaming "$1"; do sleep 0.01; done
}

declare -A T=()
add() { T[$1]="${T[$1]:-} $2"; }
standby=b primary=a
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 0; r < ROUNDS; r++)); do
	pm=$([ $((r % 2)) = 0 ] && echo haprom || echo pgctl)
	dm=$([ $(((r + r / 2) % 2)) = 0 ] && echo haprom || echo hand)
	t0=$(now)
	"promote_$pm" "$standby" >"$T_TMP/p.$r" 2>&1 || { say "bench: promote $pm failed"; cat "$T_TMP/p.$r" >&3; exit 1; }
	add "p_$pm" "$(ms_since "$t0")"
	[ "$pm" = haprom ] && add p_own "$(sed -n 's/.*accepted after \([0-9]*\)ms.*/\1/p' "$T_TMP/p.$r")"
	pg_sql "$primary" "INSERT INTO t (v) VALUES ('diverged $r')" >/dev/null
	t0=$(now)
	"demote_$dm" "$primary" "$standby" >"$T_TMP/d.$r" 2>&1 || { say "bench: demote $dm failed"; cat "$T_TMP/d.$r" >&3; exit 1; }
	add "d_$dm" "$(ms_since "$t0")"
	grep -q "diverged" "$T_TMP/d.$r" || [ "$dm" = hand ] ||
		{ say "bench: demote did not rewind"; cat "$T_TMP/d.$r" >&3; exit 1; }
	x=$standby standby=$primary primary=$x
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)

# median min max of a list of numbers
stats() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{v[NR]=$1} END {
	m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	printf "%d %d %d %d\n", m, v[1], v[NR], NR }'; }
line() { # LABEL KEY
	local s
	read -r m lo hi n <<<"$(stats "${T[$2]}")"
	printf '  %-44s %6d ms  (%d-%d, n=%d)\n' "$1" "$m" "$lo" "$hi" "$n" >&3
	eval "med_$2=$m"
}
say "== promote: start of the command to the first successful write"
line "haprom promote" p_haprom
line "  (as haprom measures it: pg_promote to write)" p_own
line "pg_ctl promote -W, then psql tries a write" p_pgctl
say "  ratio pg_ctl+poll / haprom: $(awk "BEGIN {printf \"%.2f\", $med_p_pgctl / $med_p_haprom}")"
say "== demote of a diverged old primary (rewind) until it streams"
line "haprom demote" d_haprom
line "by hand: stop, pg_rewind, config, start, poll" d_hand
say "  ratio haprom / by hand: $(awk "BEGIN {printf \"%.2f\", $med_d_haprom / $med_d_hand}")"
say "load average: $load0 before, $load1 after ($(nproc) CPUs)"
