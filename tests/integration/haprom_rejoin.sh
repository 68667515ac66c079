#!/usr/bin/env bash
# The commonest failover of all: the primary crashes (kill -9) having sent
# its standby everything, the standby is promoted, and the old primary is
# demoted at once. The new primary's pg_control still names timeline 1
# until its first checkpoint, so a plain pg_rewind would "find nothing to
# rewind" and the old primary could never follow timeline 2: haprom must
# have the new primary checkpoint first, then rewind.
. "$HABOX_TOP/tests/lib/testlib.sh"
. "$HABOX_TOP/tests/lib/pg.sh"
t_require_root
pg_require
pg_init a && pg_standby b a || { t_fail setup "PostgreSQL"; exit 1; }
A=$T_TMP/a.conf B=$T_TMP/b.conf
pg_haprom_conf a "$A"
pg_haprom_conf b "$B"
PB=127.0.0.1:$(pg_port b)
pg_sql a "CREATE TABLE t (id int); INSERT INTO t VALUES (1)" >/dev/null
rows_on() { [ "$(pg_sql "$1" 'SELECT count(*) FROM t')" = "$2" ]; }
t_ok "the standby has the row" t_wait 10 rows_on b 1
pid=$(pg_pid a)
kill -9 "$pid"
t_ok "a crashed (kill -9, all its processes gone)" \
	t_wait 20 sh -c "! pgrep -f '^postgres: a: ' >/dev/null && ! kill -0 $pid 2>/dev/null"
t_case "b promoted (timeline 2)" --err-has "(timeline 2)" -- "$HABOX" haprom promote -c "$B"
pg_sql b "INSERT INTO t VALUES (2)" >/dev/null
t_ok "  b has not checkpointed on timeline 2 yet (what makes this hard)" \
	test "$(pg_sql b 'SELECT timeline_id FROM pg_control_checkpoint()')" = 1
# haprom then asks b for a checkpoint ("has not checkpointed since it
# became timeline 2") unless b made its own in the meantime (it has one
# pending since the promotion; a slow machine gets there first): either
# way a must rewind and follow timeline 2.
t_case "a demoted at once: rewound, streams on timeline 2" \
	--err-has "[SUCCESS] rewound" \
	--err-has "now a standby streaming from $PB (timeline 2" \
	-- "$HABOX" haprom demote -c "$A" --primary "$PB"
t_ok "  a has b's new row" t_wait 20 rows_on a 2
pg_sql b "INSERT INTO t VALUES (3)" >/dev/null
t_ok "  and follows new writes" t_wait 20 rows_on a 3
