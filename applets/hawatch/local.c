/*
 * hawatch's view of this node's data: PostgreSQL's role and position from
 * `habox haprom status --json` (polled), fed to the election as the data
 * position and the needs-rewind mark; and, on a follower, PostgreSQL kept
 * following the leader: `haprom demote --primary LEADER` when it is a
 * primary, stopped, or follows someone else, `haprom rebuild` when it is
 * marked for it. No manual step after a failover.
 */
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applets/hawatch/hawatch.h"
#include "core/jsonread.h"
#include "core/log.h"
#include "core/pgwal.h"
#include "ha_kconfig.h"

#define POLL_MS 1000
#define RETRY_MS 10000
/* haprom's "not a primary yet" (HA_EXIT_TEMP): the leader is promoting. */
#define TEMP_RETRY_MS 1000
#define UPSTREAM_GRACE_MS 15000

struct child {
	struct hw *h;
	struct ha_proc *p;
	struct ha_timer *t;
	void (*done)(struct hw *, struct ha_run_result *);
};

static struct child status_job, fix_job;

static int
pg_managed(const struct hw *h)
{
	return CONFIG_HAPROM && h->cfg->postgres &&
	    h->cfg->self->role == HA_ROLE_MEMBER;
}

static void child_check(struct child *c);

static void
child_io(struct ha_loop *l, int fd, short revents, void *arg)
{
	(void)l;
	(void)fd;
	(void)revents;
	child_check(arg);
}

static void
child_timer(struct ha_loop *l, void *arg)
{
	struct child *c = arg;

	(void)l;
	c->t = NULL;
	child_check(c);
}

static void
child_unwatch(struct child *c)
{
	int fds[2], n, i;

	n = ha_proc_fds(c->p, fds);
	for (i = 0; i < n; i++)
		ha_loop_del(c->h->loop, fds[i]);
	ha_loop_cancel(c->h->loop, c->t);
	c->t = NULL;
}

static void
child_watch(struct child *c)
{
	int fds[2], n, i;
	int64_t next;

	n = ha_proc_fds(c->p, fds);
	for (i = 0; i < n; i++)
		ha_loop_add(c->h->loop, fds[i], POLLIN, child_io, c);
	if ((next = ha_proc_next(c->p)) != INT64_MAX)
		c->t = ha_loop_at(c->h->loop, next, child_timer, c);
}

static void
child_check(struct child *c)
{
	struct ha_run_result r;

	child_unwatch(c);
	if (!ha_proc_step(c->p, ha_now_ms())) {
		child_watch(c);
		return;
	}
	ha_proc_finish(c->p, &r);
	c->p = NULL;
	c->done(c->h, &r);
	ha_run_result_free(&r);
}

/* Start `habox haprom ARGS -c CONF` in c; 0 or -1. */
static int
child_run(struct hw *h, struct child *c, const char *const *args,
    int64_t timeout_ms, void (*done)(struct hw *, struct ha_run_result *))
{
	char *argv[20];
	struct ha_run_opts o = { .timeout_ms = timeout_ms };
	int n = 0;
	size_t i;

	argv[n++] = h->exe;
	for (i = 0; args[i] && n < 8; i++)
		argv[n++] = (char *)args[i];
	argv[n++] = "-c";
	argv[n++] = (char *)h->conf;
	for (i = 0; i < h->n_ov && n < 18; i++) {
		argv[n++] = "-o";
		argv[n++] = (char *)h->ov[i];
	}
	argv[n] = NULL;
	c->h = h;
	c->done = done;
	if ((c->p = ha_proc_start(argv, &o)) == NULL)
		return -1;
	child_watch(c);
	return 0;
}

static void poll_cb(struct ha_loop *l, void *arg);

static void
schedule_poll(struct hw *h, int64_t ms)
{
	ha_loop_cancel(h->loop, h->pg_timer);
	h->pg_timer = ha_loop_at(h->loop, ha_now_ms() + ms, poll_cb, h);
}

/*
 * On a primary: how far each member's standby has flushed, from the same
 * status query as our own position (standbys are named by their node).
 */
static void
read_standbys(struct hw *h, const struct ha_json *j)
{
	int a = ha_json_get(j, 0, "standbys"), s;
	const struct ha_cfg_node *n;
	char name[64], lsn[HA_PGWAL_LSN_STRLEN];
	uint64_t v;
	size_t i;

	memset(h->sb_flush, 0, sizeof(h->sb_flush));
	h->sb_at = 0;
	if (strcmp(h->pg_role, "primary") != 0 || a < 0 ||
	    j->t[a].type != HA_JT_ARR)
		return;
	for (s = j->t[a].child; s >= 0; s = j->t[s].next) {
		if (j->t[s].type != HA_JT_OBJ ||
		    ha_json_str_val(j, ha_json_get(j, s, "name"), name,
		    sizeof(name)) == -1 ||
		    ha_json_str_val(j, ha_json_get(j, s, "flush_lsn"), lsn,
		    sizeof(lsn)) == -1 ||
		    ha_pgwal_lsn_parse(lsn, strlen(lsn), &v) == -1 ||
		    (n = ha_cfg_node(h->cfg, name)) == NULL)
			continue;
		i = (size_t)(n - h->cfg->nodes);
		if (i < HA_ELECT_MAX && v > h->sb_flush[i])
			h->sb_flush[i] = v;
	}
	h->sb_at = ha_now_ms();
}

/*
 * Has member i (about) everything this node's primary wrote? Its own
 * report (HA_EF_CAN_LEAD) compares two positions read at different
 * moments, apart by up to a poll or two: under heavy writes that alone
 * can exceed max_lag_on_failover. Our pg_stat_replication has its flush
 * position and ours from one query, so it decides when the report says
 * no. *behind: the bytes missing, UINT64_MAX when not streaming from us.
 */
int
hw_local_caught_up(const struct hw *h, int i, int64_t now, uint64_t *behind)
{
	const struct ha_elect_peer *p = &h->e.peer[i];
	uint64_t f = h->sb_flush[i], cur = h->me.pos.lsn;

	*behind = 0;
	if (p->flags & HA_EF_CAN_LEAD)
		return 1;
	if (p->flags & HA_EF_NEEDS_REWIND)
		return 0;
	*behind = UINT64_MAX;
	if (!pg_managed(h) || h->sb_at == 0 || now - h->sb_at >
	    2 * POLL_MS + h->cfg->postgres->timeout_ms || f == 0)
		return 0;
	*behind = f >= cur ? 0 : cur - f;
	return *behind <= h->cfg->postgres->max_lag_on_failover;
}

/*
 * The member a switchover goes to: the election's choice (caught up by
 * its own report, healthy, best position, then priority), else, as this
 * primary sees them, the healthy member that has flushed the most within
 * max_lag_on_failover. -1: none.
 */
int
hw_local_successor(const struct hw *h, int64_t now)
{
	int i, best;
	uint64_t behind;

	if ((best = ha_elect_successor(&h->e, now)) >= 0)
		return best;
	for (i = 0; i < h->e.c.n; i++) {
		if (!ha_elect_could_take(&h->e, i, now) ||
		    !hw_local_caught_up(h, i, now, &behind))
			continue;
		if (best < 0 || h->sb_flush[i] > h->sb_flush[best] ||
		    (h->sb_flush[i] == h->sb_flush[best] &&
		    h->cfg->nodes[i].priority > h->cfg->nodes[best].priority))
			best = i;
	}
	return best;
}

/* What `haprom status --json` said about role, position and marks. */
static void
read_status(struct hw *h, const char *text, size_t len)
{
	struct ha_json j;
	const char *why;
	char mark[32] = "";
	uint64_t pos = 0;
	int rep;

	if (ha_json_parse(text, len, &j, &why) == -1) {
		ha_log(HA_WARNING, "haprom status: unreadable output (%s)", why);
		return;
	}
	if (ha_json_str_val(&j, ha_json_get(&j, 0, "role"), h->pg_role,
	    sizeof(h->pg_role)) == -1)
		ha_strlcpy(h->pg_role, "unknown", sizeof(h->pg_role));
	ha_json_str_val(&j, ha_json_get(&j, 0, "mark"), mark, sizeof(mark));
	if (ha_json_u64_val(&j, ha_json_get(&j, 0, "position"), &pos) == 0)
		h->me.pos.lsn = pos;
	rep = ha_json_get(&j, 0, "replication");
	h->pg_upstream[0] = '\0';
	if (rep >= 0)
		ha_json_str_val(&j, ha_json_get(&j, rep, "sender_host"),
		    h->pg_upstream, sizeof(h->pg_upstream));
	h->me.needs_rewind = mark[0] != '\0';
	h->rebuild = strstr(mark, "rebuild") != NULL;
	read_standbys(h, &j);
	ha_json_free(&j);
	ha_log(HA_DEBUG, "PostgreSQL: %s, position %llu%s%s", h->pg_role,
	    (unsigned long long)h->me.pos.lsn, mark[0] ? ", marked " : "",
	    mark);
	hw_local_changed(h);
}

static void
status_done(struct hw *h, struct ha_run_result *r)
{
	/* Exit 0 primary, 3 standby, 1 down: the JSON says which anyway. */
	if (r->output && r->output_len) {
		const char *brace = strchr(r->output, '{');

		if (brace)
			read_status(h, brace, strlen(brace));
	}
	schedule_poll(h, POLL_MS);
}

static void
poll_cb(struct ha_loop *l, void *arg)
{
	struct hw *h = arg;
	const char *a[] = { "haprom", "status", "--json", NULL };

	(void)l;
	h->pg_timer = NULL;
	if (status_job.p || child_run(h, &status_job, a,
	    h->cfg->postgres->timeout_ms + 2000, status_done) == -1)
		schedule_poll(h, POLL_MS);
}

static void
fix_done(struct hw *h, struct ha_run_result *r)
{
	char d[96];

	ha_run_describe(r, d, sizeof(d));
	if (ha_run_ok(r)) {
		ha_run_log_output(r, HA_DEBUG, "haprom");
		hw_event(h, "PostgreSQL follows %s now", h->e.leader >= 0 ?
		    h->cfg->nodes[h->e.leader].name : "the leader");
		h->demote_at = 0;
	} else if (r->exited && r->code == HA_EXIT_TEMP) {
		ha_log(HA_WARNING, "the leader's PostgreSQL is not a primary "
		    "yet: trying again in %d s", TEMP_RETRY_MS / 1000);
		ha_run_log_output(r, HA_DEBUG, "haprom");
		h->demote_at = ha_now_ms() + TEMP_RETRY_MS;
	} else {
		ha_log(HA_FAILURE, "making PostgreSQL follow the leader failed "
		    "(%s): trying again in %d s", d, RETRY_MS / 1000);
		ha_run_log_output(r, HA_WARNING, "haprom");
		h->demote_at = ha_now_ms() + RETRY_MS;
	}
	schedule_poll(h, 100);
	if (h->take_waiting)
		hw_res_update(h);
}

/* A follower's PostgreSQL must stream from the leader. */
static void
follow_leader(struct hw *h)
{
	const struct ha_cfg_node *l;
	char leader[HA_ADDRSTRLEN];
	const char *rebuild[] = { "haprom", "rebuild", "--primary", leader, NULL };
	const char *demote[] = { "haprom", "demote", "--primary", leader, NULL };
	int marked_rebuild = h->rebuild;

	if (fix_job.p || h->res != R_FREE || h->e.leader < 0 ||
	    h->e.leader == h->self || ha_now_ms() < h->demote_at ||
	    !h->pg_role[0])
		return;
	l = &h->cfg->nodes[h->e.leader];
	ha_fmt_addr(&l->address, leader, sizeof(leader));
	if (strcmp(h->pg_role, "standby") == 0 && !h->me.needs_rewind &&
	    strcmp(h->pg_upstream, leader) == 0) {
		h->upstream_lost_at = 0;
		return;
	}
	/*
	 * A standby whose WAL receiver is not connected right now (its
	 * primary just died, or restarts) reconnects by itself: only one
	 * that stays without an upstream for UPSTREAM_GRACE_MS is redone.
	 */
	if (strcmp(h->pg_role, "standby") == 0 && !h->me.needs_rewind &&
	    h->pg_upstream[0] == '\0') {
		if (h->upstream_lost_at == 0)
			h->upstream_lost_at = ha_now_ms();
		if (ha_now_ms() - h->upstream_lost_at < UPSTREAM_GRACE_MS)
			return;
	}
	h->upstream_lost_at = 0;
	hw_event(h, "PostgreSQL is %s%s%s: making it a standby of %s",
	    h->pg_role, h->pg_upstream[0] ? " of " : "", h->pg_upstream, l->name);
	if (child_run(h, &fix_job, marked_rebuild ? rebuild : demote,
	    h->cfg->postgres->stop_timeout_ms + 600000, fix_done) == -1)
		h->demote_at = ha_now_ms() + RETRY_MS;
}

void
hw_local_changed(struct hw *h)
{
	ha_elect_set_local(&h->e, &h->me);
	if (pg_managed(h))
		follow_leader(h);
}

void
hw_local_start(struct hw *h)
{
	h->me.healthy = 1;
	ha_strlcpy(h->pg_role, "", sizeof(h->pg_role));
	if (pg_managed(h))
		schedule_poll(h, 0);
}

int
hw_local_busy(const struct hw *h)
{
	(void)h;
	return fix_job.p != NULL;
}

void
hw_local_stop(struct hw *h)
{
	if (status_job.p) {
		child_unwatch(&status_job);
		ha_proc_abort(status_job.p);
		status_job.p = NULL;
	}
	if (fix_job.p) {
		child_unwatch(&fix_job);
		ha_proc_abort(fix_job.p);
		fix_job.p = NULL;
	}
	ha_loop_cancel(h->loop, h->pg_timer);
	h->pg_timer = NULL;
}
