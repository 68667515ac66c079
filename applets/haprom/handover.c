/*
 * haprom handover NODE: on the primary, after `haprom fence`, wait until
 * the standby NODE (its application_name) has flushed every byte of WAL
 * the primary wrote, so that promoting it loses no committed transaction.
 * hawatch runs it in a switchover between the fence and passing the
 * leadership on; exit 1 (NODE behind at the timeout) aborts the switchover.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "applets/haprom/haprom.h"
#include "core/log.h"
#include "core/util.h"

static int
wait_for(const struct hp *h, struct ha_pg *pg, const char *node,
    uint64_t target, int64_t deadline)
{
	struct timespec ts = { 0, 10 * 1000000L };
	uint64_t got = 0;
	char lsn[32], have[32];

	while (ha_now_ms() < deadline) {
		struct ha_pg_standby *v = NULL;
		size_t n = 0, i;

		if (ha_pg_standbys(pg, h->pg->timeout_ms, &v, &n) == -1) {
			ha_log(HA_FAILURE, "handover: %s", ha_pg_error(pg));
			return -1;
		}
		for (i = 0; i < n; i++)
			if (strcmp(v[i].name, node) == 0 && v[i].flush > got)
				got = v[i].flush;
		free(v);
		if (got >= target) {
			ha_pgwal_lsn_fmt(target, lsn, sizeof(lsn));
			ha_log(HA_SUCCESS, "%s has flushed everything up to %s: "
			    "it can be promoted without losing a transaction",
			    node, lsn);
			return 0;
		}
		nanosleep(&ts, NULL);
	}
	ha_pgwal_lsn_fmt(target, lsn, sizeof(lsn));
	ha_pgwal_lsn_fmt(got, have, sizeof(have));
	ha_log(HA_FAILURE, "%s has flushed %s of %s after the timeout: it is "
	    "%s; not handing over to it", node, got ? have : "nothing", lsn,
	    got ? "behind" : "not streaming from this primary");
	return -1;
}

int
haprom_handover(const struct ha_args *a, void *opts)
{
	struct hp h;
	struct ha_pg_node n;
	struct ha_pg *pg = NULL;
	char err[512];
	int64_t deadline;
	int rc = haprom_init(&h, a, opts);

	if (rc != HA_EXIT_OK)
		goto out;
	rc = HA_EXIT_FAIL;
	deadline = ha_now_ms() + (h.o->timeout_ms ? h.o->timeout_ms :
	    h.pg->stop_timeout_ms);
	if ((pg = haprom_connect(&h, h.pg->timeout_ms, err, sizeof(err))) ==
	    NULL || ha_pg_node(pg, h.pg->timeout_ms, &n) == -1) {
		ha_log(HA_FAILURE, "handover: the server is unreachable (%s)",
		    pg ? ha_pg_error(pg) : err);
		goto out;
	}
	if (n.in_recovery) {
		ha_log(HA_INFO, "a standby: it has nothing to hand over");
		rc = HA_EXIT_OK;
		goto out;
	}
	if (!n.read_only)
		ha_log(HA_WARNING, "the server is not fenced ('haprom fence' "
		    "first): writes after this point may not reach %s",
		    a->argv[0]);
	if (wait_for(&h, pg, a->argv[0], n.current, deadline) == 0)
		rc = HA_EXIT_OK;
out:
	ha_pg_close(pg);
	haprom_fini(&h);
	return rc;
}
