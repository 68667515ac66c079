/*
 * haprom promote and fence. promote refuses a marked node and a server it
 * cannot reach, calls pg_promote(wait => false) and then tries a write
 * (txid_current) until it succeeds: that is faster than pg_promote's own
 * 100 ms polling, and it is the moment that matters. It also lifts a
 * read-only fence left by an earlier `haprom fence`. fence stops writes at
 * once: read-only (ALTER SYSTEM default_transaction_read_only, reload,
 * terminate client sessions) or a fast stop, per [postgres] fence.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "applets/haprom/haprom.h"
#include "core/log.h"
#include "core/util.h"
#include "core/value.h"

static const char sql_unfence[] =
	"ALTER SYSTEM RESET default_transaction_read_only";
static const char sql_fence[] =
	"ALTER SYSTEM SET default_transaction_read_only = on";

static void
nap(int ms)
{
	struct timespec ts = { 0, (long)ms * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * Connect and make sure the server is the one configured. NULL (logged)
 * when it cannot be reached or runs from another data directory.
 */
static struct ha_pg *
open_local(const struct hp *h, struct ha_pg_node *n, const char *what)
{
	char err[512];
	struct ha_pg *pg;
	char *real = NULL, *want = NULL;
	int same;

	if ((pg = haprom_connect(h, h->pg->timeout_ms, err, sizeof(err))) ==
	    NULL || ha_pg_node(pg, h->pg->timeout_ms, n) == -1) {
		ha_log(HA_FAILURE, "cannot %s: the server is unreachable (%s); "
		    "nothing was changed", what, pg ? ha_pg_error(pg) : err);
		ha_pg_close(pg);
		return NULL;
	}
	if (n->data_dir[0] == '\0')
		return pg;
	real = realpath(n->data_dir, NULL);
	want = realpath(h->pg->data_dir, NULL);
	same = real && want && strcmp(real, want) == 0;
	if (!same) {
		ha_log(HA_FAILURE, "cannot %s: the server at [postgres] "
		    "conninfo runs from %s, not from [postgres] data_dir %s: "
		    "fix the configuration; nothing was changed", what,
		    n->data_dir,
		    h->pg->data_dir);
		ha_pg_close(pg);
		pg = NULL;
	}
	free(real);
	free(want);
	return pg;
}

/* Lift a read-only fence (ALTER SYSTEM works on a standby too). */
static int
unfence(const struct hp *h, struct ha_pg *pg)
{
	if (ha_pg_run(pg, sql_unfence, h->pg->timeout_ms) == -1 ||
	    ha_pg_run(pg, "SELECT pg_reload_conf()", h->pg->timeout_ms) == -1) {
		ha_log(HA_FAILURE, "cannot lift the read-only fence: %s",
		    ha_pg_error(pg));
		return -1;
	}
	ha_log(HA_INFO, "lifted the read-only fence "
	    "(default_transaction_read_only reset)");
	return 0;
}

/*
 * A write, and the timeline it went to; both NULL while recovery is not
 * over, so that waiting fills no server log with errors.
 */
static const char sql_write[] =
	"SELECT CASE WHEN NOT pg_is_in_recovery() THEN txid_current() END,"
	" CASE WHEN NOT pg_is_in_recovery() THEN ('x' || substr("
	"pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint END";

/* Try a write until one succeeds: its time since t0, or -1. */
static int64_t
first_write(const struct hp *h, struct ha_pg *pg, int64_t t0, int64_t wait,
    uint32_t *tli)
{
	struct ha_pg_res r;
	const char *xid, *v;
	int64_t left, took;
	char t[32];

	while ((left = t0 + wait - ha_now_ms()) > 0) {
		if (ha_pg_exec(pg, sql_write, left < h->pg->timeout_ms ? left :
		    h->pg->timeout_ms, &r) == -1) {
			ha_log(HA_FAILURE, "promotion requested, but the write "
			    "failed: %s; look at the server log (%s)",
			    ha_pg_error(pg), h->log_file);
			return -1;
		}
		took = ha_now_ms() - t0;
		xid = ha_pg_res_get(&r, 0, 0, NULL);
		v = ha_pg_res_get(&r, 0, 1, NULL);
		*tli = v ? (uint32_t)strtoul(v, NULL, 10) : 0;
		ha_pg_res_free(&r);
		if (xid)
			return took;
		nap(5);
	}
	ha_fmt_duration(wait, t, sizeof(t));
	ha_log(HA_FAILURE, "promotion requested, but still in recovery after "
	    "%s: look at the server log (%s); it may still finish", t,
	    h->log_file);
	return -1;
}

static int
promote(struct hp *h)
{
	struct ha_pg_node n;
	struct ha_pg *pg;
	int64_t t0, took, wait = h->o->wait_ms > 0 ? h->o->wait_ms :
	    h->pg->promote_timeout_ms;
	long pid;
	int rc = HA_EXIT_FAIL;

	if (haprom_mark_refuses(h, "promote") || haprom_check_datadir(h) == -1)
		return HA_EXIT_FAIL;
	if (haprom_server(h, &pid) == HP_STOPPED) {
		ha_log(HA_FAILURE, "cannot promote: the server is stopped (no "
		    "postmaster for %s); start it as a standby first",
		    h->pg->data_dir);
		return HA_EXIT_FAIL;
	}
	if ((pg = open_local(h, &n, "promote")) == NULL)
		return HA_EXIT_FAIL;
	if (!n.in_recovery) {
		if (!n.read_only || unfence(h, pg) == 0) {
			ha_log(HA_INFO, "already primary (timeline %u): "
			    "nothing to do", (unsigned)n.tli);
			rc = HA_EXIT_OK;
		}
		ha_pg_close(pg);
		return rc;
	}
	if (n.read_only && unfence(h, pg) == -1)
		goto out;
	t0 = ha_now_ms();
	if (ha_pg_run(pg, "SELECT pg_promote(false)",
	    h->pg->timeout_ms) == -1) {
		ha_log(HA_FAILURE, "pg_promote: %s; the server is still a "
		    "standby", ha_pg_error(pg));
		goto out;
	}
	if ((took = first_write(h, pg, t0, wait, &n.tli)) < 0)
		goto out;
	ha_log(HA_SUCCESS, "promoted: the first write was accepted after "
	    "%lldms (timeline %u)", (long long)took, (unsigned)n.tli);
	rc = HA_EXIT_OK;
out:
	ha_pg_close(pg);
	return rc;
}

int
haprom_promote(const struct ha_args *a, void *opts)
{
	return haprom_run_locked(a, opts, promote);
}

/* Wait until our own session sees the reloaded setting (bounded). */
static void
wait_reloaded(const struct hp *h, struct ha_pg *pg)
{
	struct ha_pg_res r;
	const char *v;
	int i, on = 0;

	for (i = 0; i < 100 && !on; i++) {
		if (ha_pg_exec(pg, "SHOW default_transaction_read_only",
		    h->pg->timeout_ms, &r) == -1)
			return;
		v = ha_pg_res_get(&r, 0, 0, NULL);
		on = v && strcmp(v, "on") == 0;
		ha_pg_res_free(&r);
		if (!on)
			nap(10);
	}
}

static int
fence_read_only(const struct hp *h)
{
	struct ha_pg_node n;
	struct ha_pg_res r;
	struct ha_pg *pg;
	const char *why;
	long killed = 0;

	if ((pg = open_local(h, &n, "fence read-only")) == NULL)
		return -1;
	if (n.in_recovery) {
		ha_log(HA_INFO, "standby: it accepts no writes; nothing to "
		    "fence");
		ha_pg_close(pg);
		return 0;
	}
	if (ha_pg_run(pg, sql_fence, h->pg->timeout_ms) == -1 ||
	    ha_pg_run(pg, "SELECT pg_reload_conf()", h->pg->timeout_ms) == -1)
		goto fail;
	wait_reloaded(h, pg);
	if (ha_pg_exec(pg, ha_pgreply_sql_terminate, h->pg->timeout_ms,
	    &r) == -1)
		goto fail;
	if (ha_pgreply_count(&r, &killed, &why) == -1)
		ha_log(HA_WARNING, "terminating client sessions: %s", why);
	ha_pg_res_free(&r);
	ha_log(HA_SUCCESS, "fenced: the server is read-only "
	    "(default_transaction_read_only = on) and %ld client session%s "
	    "terminated; 'haprom promote' lifts the fence", killed,
	    killed == 1 ? " was" : "s were");
	ha_pg_close(pg);
	return 0;
fail:
	ha_log(HA_FAILURE, "read-only fence: %s", ha_pg_error(pg));
	ha_pg_close(pg);
	return -1;
}

static int
fence(struct hp *h)
{
	long pid;

	if (haprom_server(h, &pid) == HP_STOPPED) {
		ha_log(HA_INFO, "the server is stopped: nothing accepts "
		    "writes");
		return HA_EXIT_OK;
	}
	if (h->pg->fence == HA_FENCE_READ_ONLY) {
		if (fence_read_only(h) == 0)
			return HA_EXIT_OK;
		ha_log(HA_WARNING, "the read-only fence failed: stopping the "
		    "server instead");
	}
	if (haprom_stop(h) == -1)
		return HA_EXIT_FAIL;
	ha_log(HA_SUCCESS, "fenced: the server is stopped");
	return HA_EXIT_OK;
}

int
haprom_fence(const struct ha_args *a, void *opts)
{
	return haprom_run_locked(a, opts, fence);
}
