#!/usr/bin/env bash
# haprom against real PostgreSQL 15 servers made here (tests/lib/pg.sh):
# status and check of a primary and its standby (JSON read by a JSON
# parser); promote and the first write; demote of an old primary that
# took writes of its own (rewind; it streams, has the new primary's rows
# and not its own, and its diverged WAL is in conflicts/); idempotence;
# the needs-rewind and needs-rebuild marks and the rebuild when the WAL
# that pg_rewind needs is gone; fence; refusals with clear errors; a hung
# server makes check fail in time.
. "$HABOX_TOP/tests/lib/testlib.sh"
. "$HABOX_TOP/tests/lib/pg.sh"
t_has_applet haprom || { t_skip "all" "haprom is not built in"; exit 0; }
pg_require

hp() { "$HABOX" haprom "$@"; }
# json FILE EXPR: EXPR (Python, the document as d) holds.
json() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$1" "$2"
}
rows() { pg_sql "$1" "SELECT string_agg(src, ',' ORDER BY id) FROM t"; }
rows_are() { [ "$(rows "$1" 2>/dev/null)" = "$2" ]; }

pg_init a || { t_fail "setup" "cannot make the primary"; exit 1; }
pg_sql a "CREATE TABLE t (id int PRIMARY KEY, src text);
	INSERT INTO t VALUES (1, 'a-before')" >/dev/null
pg_standby b a || { t_fail "setup" "cannot make the standby"; exit 1; }
A=$T_TMP/a.conf B=$T_TMP/b.conf
pg_haprom_conf a "$A"
pg_haprom_conf b "$B"
PA=127.0.0.1:$(pg_port a) PB=127.0.0.1:$(pg_port b)

# --- status and check ---------------------------------------------------
t_case "status of the primary" --out-has "role:        primary" \
	--out-has "timeline:    1" --out-has "mark:        none" \
	--out-has "  b  " -- hp status -c "$A"
t_case "status of the standby: exit 3" --exit 3 \
	--out-has "role:        standby" \
	--out-has "replication: streaming from $PA" -- hp status -c "$B"
hp status --json -c "$A" >"$T_TMP/a.json"
t_ok "status --json of the primary parses, names its standby" json \
	"$T_TMP/a.json" 'd["role"] == "primary" and d["timeline"] == 1 and
	d["mark"] is None and d["node"] == "a" and d["version_num"] >= 150000 and
	d["standbys"][0]["name"] == "b" and d["standbys"][0]["state"] ==
	"streaming" and isinstance(d["standbys"][0]["lag_bytes"], int) and
	isinstance(d["position"], int) and "/" in d["lsn"]'
hp status --json -c "$B" >"$T_TMP/b.json"
t_ok "status --json of the standby parses: streaming from a" json \
	"$T_TMP/b.json" 'd["role"] == "standby" and
	d["replication"]["status"] == "streaming" and
	d["replication"]["sender_port"] == '"$(pg_port a)"' and
	d["lag_bytes"] >= 0 and d["replay_lsn"] is not None'
t_case "check the primary: exit 0" -- hp check -c "$A"
t_case "check the standby: exit 3" --exit 3 -- hp check -c "$B"

# --- refusals while both run ------------------------------------------------
t_case "demote needs --primary" --exit 2 --err-has "--primary HOST[:PORT] is required" \
	-- hp demote -c "$A"
t_case "promote refuses a server that runs from another data_dir" --exit 1 \
	--err-has "runs from $(pg_data b), not from [postgres] data_dir $(pg_data a)" \
	--err-has "nothing was changed" \
	-- hp promote -c "$B" -o "postgres.data_dir=$(pg_data a)"
t_case "promote refuses a data_dir that is none" --exit 1 \
	--err-has "data_dir $T_TMP is not a PostgreSQL data directory" \
	-- hp promote -c "$B" -o "postgres.data_dir=$T_TMP"
t_case "a bad conninfo is a configuration error" --exit 2 \
	--err-has "conninfo is not a valid libpq connection string: invalid connection option \"bogus\"" \
	-- hp status -c "$A" -o "postgres.conninfo=host=/tmp bogus=1"
t_case "a conninfo that leads nowhere: unreachable, with libpq's reason" \
	--exit 1 --out-has "role:        unreachable" \
	--out-has "No such file or directory; Is the server running" \
	-- hp status -c "$A" -o "postgres.conninfo=host=$T_TMP/none"
t_case "promote refuses an unreachable server" --exit 1 \
	--err-has "cannot promote: the server is unreachable" \
	-- hp promote -c "$B" -o "postgres.conninfo=host=$T_TMP/none"
t_case "demote to a primary that does not answer changes nothing" --exit 1 \
	--err-has "cannot reach the primary 127.0.0.1:1 " \
	--err-has "nothing was changed" -- hp demote -c "$B" --primary 127.0.0.1:1
t_ok "  and the standby still streams" pg_streaming b
# A standby that is still being promoted (hawatch's follower may ask it
# first): its old timeline would hide our WAL past its end. Exit 75
# (EX_TEMPFAIL): hawatch tries again in a second.
t_case "demote to a server in recovery changes nothing" --exit 75 \
	--err-has "$PB is not a primary (it is in recovery" \
	--err-has "nothing was changed" -- hp demote -c "$A" --primary "$PB"
t_ok "  a is still the primary" test "$(pg_sql a 'SELECT pg_is_in_recovery()')" = f
t_ok "  and b still streams from it" pg_streaming b
t_case "rebuild from a server in recovery changes nothing" --exit 75 \
	--err-has "$PB is not a primary (it is in recovery" -- hp rebuild -c "$B" --primary "$PB"
t_ok "  b still streams from a" pg_streaming b

# --- promote ------------------------------------------------------------------
t_case "promote the standby" \
	--err-has "[SUCCESS] promoted: the first write was accepted after" \
	--err-has "(timeline 2)" -- hp promote -c "$B"
t_ok "  it takes writes" pg_sql b "INSERT INTO t VALUES (2, 'b-after-promote')"
t_case "promote again: nothing to do" --err-has "[INFO] already primary (timeline 2)" \
	--err-lacks FAILURE -- hp promote -c "$B"

# --- demote an old primary that diverged --------------------------------------
t_ok "the old primary takes writes of its own" \
	pg_sql a "INSERT INTO t VALUES (3, 'a-diverged'); INSERT INTO t VALUES (4, 'a-diverged-2')"
t_case "demote the old primary: rewind, stream" \
	--err-has "WAL diverged from $PB's at" --err-has "[SUCCESS] saved" \
	--err-has "[SUCCESS] rewound" \
	--err-has "[SUCCESS] now a standby streaming from $PB (timeline 2" \
	-- hp demote -c "$A" --primary "$PB"
t_ok "  it has the new primary's rows and not its own" \
	t_wait 20 rows_are a "a-before,b-after-promote"
t_ok "  and follows new writes" pg_sql b "INSERT INTO t VALUES (5, 'b-later')"
t_ok "  (replayed)" t_wait 20 rows_are a "a-before,b-after-promote,b-later"
conf=$(echo "$PG_ROOT"/a/state/conflicts/postgres-tl1-*)
t_ok "  its diverged WAL is in conflicts/" sh -c \
	"ls '$conf' | grep -Eq '^[0-9A-F]{24}\$' && grep -q 'diverged from the new primary' '$conf/ABOUT'"
fork=$(sed -n 's/.* -s \([0-9A-F]*\/[0-9A-F]*\)$/\1/p' "$conf/ABOUT")
"$PG_BIN/pg_waldump" -p "$conf" -t 1 -s "$fork" >"$T_TMP/waldump.txt" 2>&1
t_ok "  and holds the diverged inserts (pg_waldump)" \
	grep -q "desc: INSERT" "$T_TMP/waldump.txt"
t_case "demote again: nothing to do" \
	--err-has "[INFO] already a standby streaming from $PB" --err-lacks FAILURE \
	-- hp demote -c "$A" --primary "$PB"
t_ok "  primary_conninfo names the node and the replication user" grep -q \
	"^primary_conninfo = 'host=''127.0.0.1'' port=''$(pg_port b)'' user=''replicator'' application_name=''a'''$" \
	"$(pg_data a)/postgresql.auto.conf"
t_ok "  standby.signal is there, owned by postgres" \
	test "$(stat -c %U "$(pg_data a)/standby.signal")" = postgres
hp status --json -c "$B" >"$T_TMP/b2.json"
t_ok "the new primary lists the old one as its standby" json "$T_TMP/b2.json" \
	'd["timeline"] == 2 and [s["name"] for s in d["standbys"]] == ["a"]'

# --- needs-rewind: pg_rewind missing ------------------------------------------
# Two primaries again: a is promoted while b still runs and writes.
t_case "promote a while b still runs" --err-has "(timeline 3)" -- hp promote -c "$A"
pg_sql b "INSERT INTO t VALUES (6, 'b-diverged')" >/dev/null
# ... and then crashes.
pid=$(pg_pid b)
kill -9 "$pid"
t_ok "b crashed (kill -9, its processes are gone)" \
	t_wait 20 sh -c "! pgrep -P $pid >/dev/null && ! kill -0 $pid 2>/dev/null"
norw=$T_TMP/bin-norewind
mkdir -p "$norw"
for f in "$PG_BIN"/*; do [ "${f##*/}" = pg_rewind ] || ln -s "$f" "$norw/"; done
t_case "demote a crashed primary without pg_rewind: marked needs-rewind" \
	--exit 1 --err-has "not shut down cleanly (in production)" \
	--err-has "[SUCCESS] crash recovery finished" \
	--err-has "pg_rewind is not in [postgres] bin_dir $norw" \
	--err-has "marked needs-rewind" \
	-- hp demote -c "$B" --primary "$PA" -o "postgres.bin_dir=$norw"
t_case "status shows the mark" --exit 1 --out-has "role:        stopped" \
	--out-has "mark:        needs-rewind - WAL diverged from $PA" -- hp status -c "$B"
# pg_rewind present, but a's pg_hba.conf lets replicator replicate, not log
# in to a database as pg_rewind must.
hba=$PG_ROOT/a/conf/pg_hba.conf
cp "$hba" "$hba.orig"
{ echo "host postgres replicator 127.0.0.1/32 reject"; cat "$hba.orig"; } >"$hba"
pg_sql a "SELECT pg_reload_conf()" >/dev/null
t_case "demote when pg_rewind cannot log in: still needs-rewind" --exit 1 \
	--err-has "pg_rewind cannot reach $PA" --err-has "marked needs-rewind" \
	-- hp demote -c "$B" --primary "$PA"
t_case "  status shows the mark" --exit 1 \
	--out-has "mark:        needs-rewind - WAL diverged from $PA" -- hp status -c "$B"
cp "$hba.orig" "$hba"
pg_sql a "SELECT pg_reload_conf()" >/dev/null
pg_start b
t_case "promote refuses a needs-rewind node" --exit 1 \
	--err-has "refusing to promote: this node is marked needs-rewind" \
	-- hp promote -c "$B"
t_case "demote with pg_rewind: rewound, mark cleared" \
	--err-has "[SUCCESS] rewound" --err-has "cleared the mark" \
	--err-has "now a standby streaming from $PA (timeline 3" \
	-- hp demote -c "$B" --primary "$PA"
t_case "  status: no mark" --exit 3 --out-has "mark:        none" -- hp status -c "$B"
t_ok "  b has a's rows, not its own" t_wait 20 rows_are b "a-before,b-after-promote,b-later"

# --- needs-rebuild: the WAL pg_rewind needs is gone ---------------------------
t_case "promote b while a still runs" --err-has "(timeline 4)" -- hp promote -c "$B"
pg_sql b "INSERT INTO t VALUES (7, 'b-new-primary')" >/dev/null
# a writes on and recycles its WAL: no segment from before the fork stays.
pg_sql a "ALTER SYSTEM SET wal_keep_size = 0" >/dev/null
pg_sql a "SELECT pg_reload_conf()" >/dev/null
for i in 1 2 3 4; do
	pg_sql a "INSERT INTO t VALUES (10$i, 'a-lost'); SELECT pg_switch_wal()" >/dev/null
done
pg_sql a "CHECKPOINT" >/dev/null
pg_sql a "CHECKPOINT" >/dev/null
t_case "demote when pg_rewind cannot work: marked needs-rebuild" --exit 1 \
	--err-has "pg_rewind cannot rewind it" --err-has "its data untouched" \
	--err-has "run 'haprom rebuild --primary $PB'" \
	-- hp demote -c "$A" --primary "$PB"
t_case "  promote refuses it" --exit 1 \
	--err-has "refusing to promote: this node is marked needs-rebuild" \
	-- hp promote -c "$A"
t_case "  demote refuses it too" --exit 1 \
	--err-has "refusing to demote: this node is marked needs-rebuild" \
	-- hp demote -c "$A" --primary "$PB"
t_case "rebuild from the new primary" --err-has "[SUCCESS] copied $PB" \
	--err-has "removed the previous data directory" \
	--err-has "[SUCCESS] rebuilt from $PB: streaming on timeline 4" \
	-- hp rebuild -c "$A" --primary "$PB"
t_ok "  it has the primary's rows" \
	t_wait 20 rows_are a "a-before,b-after-promote,b-later,b-new-primary"
t_case "  no mark, nothing left aside" --exit 3 --out-has "mark:        none" \
	--out-lacks ".haprom-" \
	-- sh -c "ls -d '$(pg_data a)'.haprom-* 2>/dev/null; '$HABOX' haprom status -c '$A'"
t_case "rebuild again, keeping the old copy" --err-has "kept the previous data directory at" \
	-- hp rebuild -c "$A" --primary "$PB" --keep-old
t_ok "  the old copy is there" sh -c "ls -d '$(pg_data a)'.haprom-old-* >/dev/null"
t_case "rebuild refuses a running primary" --exit 1 \
	--err-has "cannot rebuild: this node is a running primary" \
	-- hp rebuild -c "$B" --primary "$PA"

# --- fence ----------------------------------------------------------------
pg_as "$PG_BIN/psql" -XAtq -h "$(pg_sock b)" -p "$(pg_port b)" -U postgres \
	-d postgres -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
client=$!
T_PIDS+=("$client")
sleeping() {
	[ "$(pg_sql b "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)'")" = 1 ]
}
t_ok "a client session on the primary" t_wait 10 sleeping
# A replication-only role's session (an old primary's pg_rewind, say).
pg_as "$PG_BIN/psql" -XAtq -h 127.0.0.1 -p "$(pg_port b)" -U replicator \
	-d postgres -c "SELECT pg_sleep(30)" >/dev/null 2>&1 &
rsess=$!
T_PIDS+=("$rsess")
rsleeping() {
	[ "$(pg_sql b "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)'")" = 1 ]
}
t_ok "and a session of the replication user" t_wait 10 rsleeping
t_case "fence a primary: read-only, clients out" \
	--err-has "[SUCCESS] fenced: the server is read-only" \
	--err-has "1 client session was terminated" -- hp fence -c "$B"
t_ok "  the client's session ended" t_wait 10 sh -c "! kill -0 $client"
t_ok "  the replication user's session goes on (it cannot write)" rsleeping
t_case "  writes are refused" --exit 1 --err-has "read-only transaction" \
	-- pg_sql b "INSERT INTO t VALUES (8, 'b-fenced')"
t_case "  status says so" --out-has "read-only:   yes (fenced)" -- hp status -c "$B"
t_case "promote lifts the fence" --err-has "lifted the read-only fence" \
	--err-has "already primary" -- hp promote -c "$B"
t_ok "  writes work again" pg_sql b "INSERT INTO t VALUES (8, 'b-unfenced')"
t_case "fence a standby: nothing to do" --err-has "nothing to fence" -- hp fence -c "$A"
t_case "fence = stop: a fast stop" --err-has "[SUCCESS] fenced: the server is stopped" \
	-- hp fence -c "$B" -o postgres.fence=stop
t_case "  status: stopped" --exit 1 --out-has "role:        stopped" -- hp status -c "$B"
t_case "fence a stopped server: nothing accepts writes" \
	--err-has "nothing accepts writes" -- hp fence -c "$B"
t_case "promote refuses a stopped server" --exit 1 \
	--err-has "cannot promote: the server is stopped" -- hp promote -c "$B"

# --- a hung server ------------------------------------------------------------
pg_start b
pid=$(pg_pid b)
kill -STOP "$pid"
t0=$(date +%s%N)
t_case "check of a SIGSTOPped server fails" --exit 1 \
	--err-has "no answer from the server at socket" --err-has "within 1s" \
	-- hp check -c "$B" --timeout 1s
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
t_ok "  within its timeout (${ms} ms)" test "$ms" -lt 2500
t_case "status of a SIGSTOPped server: unreachable" --exit 1 \
	--out-has "role:        unreachable" -- hp status -c "$B" -o postgres.timeout=500ms
kill -CONT "$pid"
t_case "check after SIGCONT: fine again" -- hp check -c "$B"
