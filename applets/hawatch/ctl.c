/*
 * hawatch's control socket (core/ctl): what hactl asks of the local
 * daemon. status (text and JSON, schema in doc/hactl.8), switchover,
 * promote, demote, failover on|off, force-leader, remove-node, add-node,
 * events [follow], metrics (Prometheus text format). Refusals say why: a
 * switchover to a witness, to a node that is down, behind or removed,
 * failover switches for unknown nodes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "applets/hawatch/hawatch.h"
#include "core/json.h"
#include "core/log.h"
#include "ha_kconfig.h"
#if CONFIG_HASYNC
#include "applets/hasync/hasync.h"
#endif

static int
node_index(const struct hw *h, const char *name)
{
	size_t i;

	for (i = 0; i < h->cfg->n_nodes; i++)
		if (strcmp(h->cfg->nodes[i].name, name) == 0)
			return (int)i;
	return -1;
}

static const char *
role_of(const struct hw *h)
{
	if (h->cfg->self->role == HA_ROLE_WITNESS)
		return "witness";
	switch (h->e.role) {
	case HA_LEADER:
		return ha_elect_leading(&h->e, ha_now_ms()) ? "leader" :
		    "elected";
	case HA_CANDIDATE:
		return "candidate";
	default:
		return "follower";
	}
}

/* What this node knows of node i: 1 seen within a lease. */
static int
alive(const struct hw *h, int i, int64_t now)
{
	if (i == h->self || h->peer[i].up)
		return 1;
	return h->e.peer[i].last_seen &&
	    now - h->e.peer[i].last_seen <= h->cfg->cluster->lease_ms;
}

static int
removed(const struct hw *h, size_t i)
{
	return (h->e.sw.removed >> i) & 1;
}

/* This node and the voters it is connected to. */
static size_t
within_reach(const struct hw *h)
{
	size_t i, reach = 1;

	for (i = 0; i < h->cfg->n_nodes; i++)
		if ((int)i != h->self && h->peer[i].up && !removed(h, i))
			reach++;
	return reach;
}

static void
status_nodes(const struct hw *h, int64_t now, struct ha_buf *t,
    struct ha_buf *j)
{
	size_t i;

	ha_buf_printf(t, "\n%-12s %-8s %-9s %-6s %-9s %-12s %s\n", "node",
	    "role", "link", "seen", "failover", "position", "health");
	ha_buf_puts(j, ", \"nodes\": [");
	for (i = 0; i < h->cfg->n_nodes; i++) {
		const struct ha_cfg_node *n = &h->cfg->nodes[i];
		const struct ha_elect_peer *p = &h->e.peer[i];
		int me = (int)i == h->self, lead = (int)i ==
		    ha_elect_leader_now(&h->e, now);
		int64_t seen = me ? 0 : p->last_seen ? now - p->last_seen : -1;
		uint64_t pos = me ? h->me.pos.lsn : p->pos.lsn;
		int fo = (h->e.sw.node_failover >> i) & 1;
		const char *role = removed(h, i) ? "removed" :
		    n->role == HA_ROLE_WITNESS ? "witness" : lead ? "leader" :
		    alive(h, (int)i, now) ? "follower" : "down";
		char seen_s[32];

		if (seen < 0)
			snprintf(seen_s, sizeof(seen_s), "never");
		else
			snprintf(seen_s, sizeof(seen_s), "%lldms",
			    (long long)seen);
		ha_buf_printf(t, "%-12s %-8s %-9s %-6s %-9s %-12llu %s\n",
		    n->name, role, me ? "self" : h->peer[i].up ? "up" : "down",
		    seen_s, fo ? "on" : "off", (unsigned long long)pos,
		    me ? (h->me.healthy ? "ok" : "failing") : !p->last_seen ?
		    "?" : (p->flags & HA_EF_HEALTHY) ? "ok" : "failing");
		ha_buf_puts(j, i ? ", {\"name\": " : "{\"name\": ");
		ha_json_str(j, n->name);
		ha_buf_printf(j, ", \"role\": \"%s\", \"self\": %s, "
		    "\"connected\": %s, \"last_seen_ms\": %lld, \"failover\": %s, "
		    "\"priority\": %ld, \"position\": %llu, \"healthy\": %s, "
		    "\"can_lead\": %s}", role, me ? "true" : "false",
		    me || h->peer[i].up ? "true" : "false", (long long)seen,
		    fo ? "true" : "false", n->priority, (unsigned long long)pos,
		    (me ? h->me.healthy : (p->flags & HA_EF_HEALTHY) != 0) ?
		    "true" : "false", (me ? !h->me.needs_rewind && n->role ==
		    HA_ROLE_MEMBER : (p->flags & HA_EF_CAN_LEAD) != 0) ? "true" :
		    "false");
	}
	ha_buf_puts(j, "]");
}

static uint32_t
do_status(struct hw *h, struct ha_ctl_reply *r)
{
	int64_t now = ha_now_ms();
	int leading = ha_elect_leading(&h->e, now);
	const char *why = ha_elect_why_not(&h->e, now);
	int lead = ha_elect_leader_now(&h->e, now);
	struct ha_buf *t = &r->text, *j = &r->json;
	size_t i, up = 0, reach = within_reach(h);
	size_t voters = (size_t)ha_elect_voters(&h->e);
	char leader[80], quorum[200];

	/* No leader and no majority within reach: say that, it is why. */
	if (!why && lead < 0 && reach * 2 <= voters) {
		snprintf(quorum, sizeof(quorum), "no majority within reach "
		    "(%zu of %zu voters)%s", reach, voters,
		    voters == 2 && !h->cfg->cluster->two_node ?
		    "; two members and no witness: both must agree (add a "
		    "witness, or two_node = yes with a tiebreaker)" : "");
		why = quorum;
	}

	snprintf(leader, sizeof(leader), "%s", lead >= 0 ?
	    h->cfg->nodes[lead].name : "none");
	ha_buf_printf(t, "cluster %s, node %s: %s, term %llu, leader %s%s\n",
	    h->cfg->cluster->name, h->cfg->self->name, role_of(h),
	    (unsigned long long)h->e.term, leader, h->e.sw.failover ? "" :
	    ", failover OFF");
	if (leading)
		ha_buf_printf(t, "lease: %lldms left%s; resources %s\n",
		    (long long)(h->e.lease_until - now), h->e.forced ?
		    " (FORCED: no majority acknowledges it)" : "",
		    hw_res_name(h->res));
	else if (why && h->cfg->self->role == HA_ROLE_MEMBER)
		ha_buf_printf(t, "would not take over: %s\n", why);
	if (h->pg_role[0])
		ha_buf_printf(t, "postgres: %s%s%s, position %llu%s\n", h->pg_role,
		    h->pg_upstream[0] ? " of " : "", h->pg_upstream,
		    (unsigned long long)h->me.pos.lsn, h->me.needs_rewind ?
		    ", MARKED (needs rewind or rebuild)" : "");
	ha_buf_puts(j, "{\"cluster\": ");
	ha_json_str(j, h->cfg->cluster->name);
	ha_buf_puts(j, ", \"node\": ");
	ha_json_str(j, h->cfg->self->name);
	ha_buf_printf(j, ", \"role\": \"%s\", \"term\": %llu, \"leader\": ",
	    role_of(h), (unsigned long long)h->e.term);
	if (lead >= 0)
		ha_json_str(j, leader);
	else
		ha_buf_puts(j, "null");
	ha_buf_printf(j, ", \"lease_remaining_ms\": %lld, \"failover\": %s, "
	    "\"resources\": \"%s\", \"failovers\": %llu, \"forced\": %s, "
	    "\"why_not\": ",
	    (long long)(leading ? h->e.lease_until - now : 0),
	    h->e.sw.failover ? "true" : "false", hw_res_name(h->res),
	    (unsigned long long)h->failovers, h->e.forced ? "true" : "false");
	if (why && h->cfg->self->role == HA_ROLE_MEMBER && !leading)
		ha_json_str(j, why);
	else
		ha_buf_puts(j, "null");
	ha_buf_puts(j, ", \"postgres\": ");
	if (h->pg_role[0]) {
		ha_buf_printf(j, "{\"role\": \"%s\", \"position\": %llu, "
		    "\"marked\": %s, \"upstream\": ", h->pg_role,
		    (unsigned long long)h->me.pos.lsn, h->me.needs_rewind ?
		    "true" : "false");
		ha_json_str(j, h->pg_upstream);
		ha_buf_puts(j, "}");
	} else {
		ha_buf_puts(j, "null");
	}
	status_nodes(h, now, t, j);
	hw_res_vips_status(h, lead, t, j);
	ha_buf_puts(j, ", \"sync\": ");
#if CONFIG_HASYNC
	if (h->cfg->n_syncs) {
		ha_buf_puts(t, "\n");
		hs_status_report(h->cfg, t, j);
	} else {
		ha_buf_puts(j, "[]");
	}
#else
	ha_buf_puts(j, "[]");
#endif
	ha_buf_puts(j, ", \"checks\": ");
	hw_checks_status(h, t, j);
	ha_buf_puts(j, "}\n");
	for (i = 0; i < h->cfg->n_nodes; i++)
		up += alive(h, (int)i, now) || (int)i == h->self ||
		    h->peer[i].up || removed(h, i);
	/*
	 * 0 healthy, 1 degraded: no leader, or a node out of reach (those
	 * removed from the cluster do not count), or this node removed.
	 */
	return lead >= 0 && up == h->cfg->n_nodes &&
	    !removed(h, (size_t)h->self) ? 0 : 1;
}

/* Where leadership should go: checks of the target first. */
static uint32_t
switch_to(struct hw *h, int to, struct ha_ctl_reply *r)
{
	int64_t now = ha_now_ms();
	struct ha_elect_out o;

	if (to >= 0 && h->cfg->nodes[to].role == HA_ROLE_WITNESS) {
		ha_buf_printf(&r->text, "%s is a witness: it votes but never "
		    "leads\n", h->cfg->nodes[to].name);
		return 1;
	}
	if (to >= 0 && removed(h, (size_t)to)) {
		ha_buf_printf(&r->text, "%s is removed from the cluster (hactl "
		    "add-node takes it back)\n", h->cfg->nodes[to].name);
		return 1;
	}
	if (to >= 0 && to != h->self && !alive(h, to, now)) {
		ha_buf_printf(&r->text, "%s is down or out of reach: not "
		    "switching over to it\n", h->cfg->nodes[to].name);
		return 1;
	}
	if (to == h->self && h->me.needs_rewind) {
		ha_buf_puts(&r->text, "this node's PostgreSQL needs a rewind or "
		    "rebuild: it cannot lead\n");
		return 1;
	}
	if (ha_elect_leading(&h->e, now)) {
		uint64_t behind;

		if (to == h->self) {
			ha_buf_puts(&r->text, "this node already leads\n");
			return 0;
		}
		if (to >= 0 && !hw_local_caught_up(h, to, now, &behind)) {
			const char *n = h->cfg->nodes[to].name;

			if (h->e.peer[to].flags & HA_EF_NEEDS_REWIND)
				ha_buf_printf(&r->text, "%s cannot lead now: its "
				    "PostgreSQL needs a rewind or rebuild\n", n);
			else if (behind == UINT64_MAX)
				ha_buf_printf(&r->text, "%s cannot lead now: it "
				    "is behind, or does not stream from this "
				    "node's PostgreSQL\n", n);
			else
				ha_buf_printf(&r->text, "%s cannot lead now: it "
				    "is %llu bytes behind (max_lag_on_failover "
				    "%llu)\n", n, (unsigned long long)behind,
				    (unsigned long long)
				    h->cfg->postgres->max_lag_on_failover);
			return 1;
		}
		if (to < 0 && (to = hw_local_successor(h, now)) < 0) {
			ha_buf_puts(&r->text, "no healthy, caught-up member to "
			    "hand over to\n");
			return 1;
		}
		hw_event(h, "switchover requested to %s",
		    h->cfg->nodes[to].name);
		h->hand_to = to;
		hw_res_release_now(h, 1);
		ha_buf_printf(&r->text, "handing over to %s\n",
		    h->cfg->nodes[to].name);
		return 0;
	}
	if (h->e.leader < 0) {
		ha_buf_puts(&r->text, "there is no leader to hand over\n");
		return 1;
	}
	memset(&o, 0, sizeof(o));
	ha_elect_transfer(&h->e, now, to, &o);
	hw_apply(h, &o);
	ha_buf_printf(&r->text, "asked %s to hand over to %s\n",
	    h->cfg->nodes[h->e.leader].name, to >= 0 ?
	    h->cfg->nodes[to].name : "the best member");
	return 0;
}

static uint32_t
do_failover(struct hw *h, const struct ha_ctl_request *q,
    struct ha_ctl_reply *r)
{
	struct ha_elect_out o;
	int on, node = -1;

	if (q->n_args < 1 || (strcmp(q->arg[0], "on") && strcmp(q->arg[0],
	    "off"))) {
		ha_buf_puts(&r->text, "failover on|off [NODE]\n");
		return HA_EXIT_USAGE;
	}
	on = strcmp(q->arg[0], "on") == 0;
	if (q->n_args > 1 && (node = node_index(h, q->arg[1])) < 0) {
		ha_buf_printf(&r->text, "no node %s\n", q->arg[1]);
		return HA_EXIT_USAGE;
	}
	memset(&o, 0, sizeof(o));
	ha_elect_set_failover(&h->e, node, on, &o);
	hw_apply(h, &o);
	hw_event(h, "failover %s%s%s", on ? "on" : "off", node >= 0 ?
	    " for " : " for the cluster", node >= 0 ? q->arg[1] : "");
	ha_buf_printf(&r->text, "failover %s%s%s (spread by the leader's "
	    "heartbeats)\n", on ? "on" : "off", node >= 0 ? " for " : "",
	    node >= 0 ? q->arg[1] : "");
	return 0;
}

/*
 * hactl force-leader: only with no majority within reach (this node and
 * the voters it is connected to are not more than half), and never
 * while a leader is heard. The election core does the rest.
 */
static uint32_t
do_force(struct hw *h, struct ha_ctl_reply *r)
{
	struct ha_elect_out o;
	size_t reach = within_reach(h);
	size_t voters = (size_t)ha_elect_voters(&h->e);
	const char *why;

	if (reach * 2 > voters) {
		ha_buf_printf(&r->text, "refused: a majority is within reach "
		    "(%zu of %zu voters): the cluster elects its leader; use "
		    "hactl switchover to move it\n", reach, voters);
		return 1;
	}
	memset(&o, 0, sizeof(o));
	if ((why = ha_elect_force(&h->e, ha_now_ms(), &o)) != NULL) {
		ha_buf_printf(&r->text, "refused: %s\n", why);
		return 1;
	}
	ha_log(HA_WARNING, "forced to lead without a majority (%zu of %zu "
	    "voters within reach), by the operator: if the others still have "
	    "a leader, there are two until they are heard again", reach,
	    voters);
	hw_event(h, "leader by force in term %llu, without a majority",
	    (unsigned long long)h->e.term);
	hw_apply(h, &o);
	ha_buf_printf(&r->text, "%s leads by force (term %llu) with %zu of "
	    "%zu voters within reach; it leads as usual once a majority "
	    "answers again\n", h->cfg->self->name,
	    (unsigned long long)h->e.term, reach, voters);
	return 0;
}

/*
 * hactl remove-node / add-node, on the leader: the election core checks
 * and makes the change (one at a time), its switches spread it. A node
 * that is out neither votes nor counts in the majority; hasync stops
 * pushing to it.
 */
static uint32_t
do_member(struct hw *h, const struct ha_ctl_request *q, int in,
    struct ha_ctl_reply *r)
{
	int64_t now = ha_now_ms();
	int node, lead = ha_elect_leader_now(&h->e, now);
	struct ha_elect_out o;
	const char *why;

	if (q->n_args != 1 || (node = node_index(h, q->arg[0])) < 0) {
		ha_buf_printf(&r->text, "no node %s\n", q->n_args ? q->arg[0] :
		    "given");
		return HA_EXIT_USAGE;
	}
	if (!ha_elect_leading(&h->e, now)) {
		if (lead >= 0)
			ha_buf_printf(&r->text, "refused: only the leader "
			    "changes the membership: run it on %s\n",
			    h->cfg->nodes[lead].name);
		else
			ha_buf_puts(&r->text, "refused: there is no leader to "
			    "change the membership\n");
		return 1;
	}
	memset(&o, 0, sizeof(o));
	if ((why = ha_elect_set_member(&h->e, now, node, in, &o)) != NULL) {
		ha_buf_printf(&r->text, "refused: %s: %s\n", q->arg[0], why);
		return 1;
	}
	hw_apply(h, &o);
	ha_buf_printf(&r->text, "%s %s the cluster: %d voters, majority %d "
	    "(spread by the leader's heartbeats)\n", q->arg[0], in ?
	    "taken back into" : "removed from", ha_elect_voters(&h->e),
	    ha_elect_majority(&h->e));
	return 0;
}

static void
do_events(struct hw *h, struct ha_ctl_reply *r)
{
	int i, first = h->n_events > HW_EVENTS ? h->n_events - HW_EVENTS : 0;

	for (i = first; i < h->n_events; i++) {
		int slot = i % HW_EVENTS;
		time_t t = (time_t)h->event_time[slot];
		struct tm tm;
		char when[32];

		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S",
		    localtime_r(&t, &tm));
		ha_buf_printf(&r->text, "%s %s\n", when, h->events[slot]);
	}
}

static void
do_metrics(struct hw *h, struct ha_ctl_reply *r)
{
	int64_t now = ha_now_ms();
	int leading = ha_elect_leading(&h->e, now), i, k;
	struct ha_buf *t = &r->text;
	const char *n = h->cfg->self->name;

	ha_buf_printf(t, "# HELP habox_leader 1 when this node leads with a "
	    "valid lease.\n# TYPE habox_leader gauge\nhabox_leader{node=\"%s\"}"
	    " %d\n", n, leading);
	ha_buf_printf(t, "# HELP habox_term The election term.\n# TYPE "
	    "habox_term gauge\nhabox_term{node=\"%s\"} %llu\n", n,
	    (unsigned long long)h->e.term);
	ha_buf_printf(t, "# HELP habox_lease_remaining_seconds Lease left on "
	    "this node.\n# TYPE habox_lease_remaining_seconds gauge\n"
	    "habox_lease_remaining_seconds{node=\"%s\"} %.3f\n", n,
	    leading ? (double)(h->e.lease_until - now) / 1000 : 0.0);
	ha_buf_printf(t, "# HELP habox_failovers_total Leaderships taken by "
	    "this node.\n# TYPE habox_failovers_total counter\n"
	    "habox_failovers_total{node=\"%s\"} %llu\n", n,
	    (unsigned long long)h->failovers);
	ha_buf_printf(t, "# HELP habox_failover_enabled Automatic failover "
	    "allowed for the cluster.\n# TYPE habox_failover_enabled gauge\n"
	    "habox_failover_enabled{node=\"%s\"} %d\n", n,
	    h->e.sw.failover);
	ha_buf_printf(t, "# HELP habox_position_bytes Data position (WAL LSN) "
	    "of this node.\n# TYPE habox_position_bytes gauge\n"
	    "habox_position_bytes{node=\"%s\"} %llu\n", n,
	    (unsigned long long)h->me.pos.lsn);
	ha_buf_puts(t, "# HELP habox_check_up 1 when the health check passes."
	    "\n# TYPE habox_check_up gauge\n");
	for (i = 0; i < h->n_checks; i++)
		ha_buf_printf(t, "habox_check_up{node=\"%s\",check=\"%s\"} "
		    "%d\n", n, h->cfg->checks[i].name, hw_check_up(h, i));
	ha_buf_puts(t, "# HELP habox_peer_up 1 while this node is connected "
	    "to the peer.\n# TYPE habox_peer_up gauge\n");
	for (i = 0; i < (int)h->cfg->n_nodes; i++)
		if (i != h->self)
			ha_buf_printf(t, "habox_peer_up{node=\"%s\",peer=\"%s\"} "
			    "%d\n", n, h->cfg->nodes[i].name, h->peer[i].up);
	if (h->cfg->postgres) {
		uint64_t top = h->me.pos.lsn;

		for (i = 0; i < (int)h->cfg->n_nodes; i++)
			if (h->e.peer[i].last_seen && h->e.peer[i].pos.lsn > top)
				top = h->e.peer[i].pos.lsn;
		ha_buf_puts(t, "# HELP habox_lag_bytes How far a member's data "
		    "position is behind the best this node knows.\n# TYPE "
		    "habox_lag_bytes gauge\n");
		for (i = 0; i < (int)h->cfg->n_nodes; i++) {
			uint64_t pos = i == h->self ? h->me.pos.lsn :
			    h->e.peer[i].pos.lsn;

			if (h->cfg->nodes[i].role != HA_ROLE_MEMBER ||
			    (i != h->self && !h->e.peer[i].last_seen))
				continue;
			ha_buf_printf(t, "habox_lag_bytes{node=\"%s\",member="
			    "\"%s\"} %llu\n", n, h->cfg->nodes[i].name,
			    (unsigned long long)(top - pos));
		}
	}
#if CONFIG_HASYNC
	{
		size_t ns = h->cfg->n_syncs, j;
		unsigned long long *gen = ha_xcalloc(ns + 1, sizeof(*gen));
		long *bl = ha_xcalloc(ns + 1, sizeof(*bl));

		/* Read once per set; each metric's lines together. */
		for (j = 0; j < ns; j++)
			hs_set_figures(h->cfg, h->cfg->syncs[j].name, &bl[j],
			    &gen[j]);
		for (k = 0; k < 2 && ns; k++) {
			ha_buf_puts(t, k == 0 ? "# HELP habox_sync_generation "
			    "The set's generation (last push made or received)."
			    "\n# TYPE habox_sync_generation gauge\n" : "# HELP "
			    "habox_sync_backlog_paths Paths waiting to be pushed "
			    "to the followers (watch mode; -1: not watched "
			    "here).\n# TYPE habox_sync_backlog_paths gauge\n");
			for (j = 0; j < ns; j++) {
				const char *set = h->cfg->syncs[j].name;

				if (k == 0)
					ha_buf_printf(t, "habox_sync_generation"
					    "{node=\"%s\",set=\"%s\"} %llu\n", n,
					    set, gen[j]);
				else
					ha_buf_printf(t, "habox_sync_backlog_paths"
					    "{node=\"%s\",set=\"%s\"} %ld\n", n,
					    set, bl[j]);
			}
		}
		free(gen);
		free(bl);
	}
#else
	(void)k;
#endif
}

static int
handler(const struct ha_ctl_request *q, struct ha_ctl_reply *r,
    struct ha_ctl_conn *c, void *arg)
{
	struct hw *h = arg;
	int to;

	(void)c;
	if (strcmp(q->cmd, "status") == 0) {
		r->code = do_status(h, r);
	} else if (strcmp(q->cmd, "switchover") == 0) {
		to = -1;
		if (q->n_args > 0 && (to = node_index(h, q->arg[0])) < 0) {
			ha_buf_printf(&r->text, "no node %s\n", q->arg[0]);
			r->code = HA_EXIT_USAGE;
			return 0;
		}
		r->code = switch_to(h, to, r);
	} else if (strcmp(q->cmd, "promote") == 0) {
		r->code = switch_to(h, h->self, r);
	} else if (strcmp(q->cmd, "demote") == 0) {
		if (!ha_elect_leading(&h->e, ha_now_ms())) {
			ha_buf_puts(&r->text, "this node does not lead\n");
			r->code = 0;
		} else {
			r->code = switch_to(h, -1, r);
		}
	} else if (strcmp(q->cmd, "failover") == 0) {
		r->code = do_failover(h, q, r);
	} else if (strcmp(q->cmd, "force-leader") == 0) {
		r->code = do_force(h, r);
	} else if (strcmp(q->cmd, "remove-node") == 0) {
		r->code = do_member(h, q, 0, r);
	} else if (strcmp(q->cmd, "add-node") == 0) {
		r->code = do_member(h, q, 1, r);
	} else if (strcmp(q->cmd, "events") == 0) {
		do_events(h, r);
		if (q->n_args > 0 && strcmp(q->arg[0], "follow") == 0)
			return 1;
	} else if (strcmp(q->cmd, "metrics") == 0) {
		do_metrics(h, r);
	} else {
		ha_buf_printf(&r->text, "hawatch does not know '%s'\n", q->cmd);
		r->code = HA_EXIT_USAGE;
	}
	return 0;
}

int
hw_ctl_start(struct hw *h)
{
	return (h->ctl = ha_ctl_server_new(h->loop, h->sock, handler, h)) ?
	    0 : -1;
}

void
hw_ctl_stop(struct hw *h)
{
	ha_ctl_server_free(h->ctl);
	h->ctl = NULL;
}
