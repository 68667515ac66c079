/*
 * The election state machine (see elect.h; DESIGN.md "Election, leases
 * and fencing"). Raft-style terms and one vote per term, persisted before
 * any message that depends on them, plus leases:
 *
 * A leader's lease ends lease*(1-d) after the send time of the newest
 * heartbeat a majority acknowledged, where d = 2r/(1+r) for a clock-rate
 * bound r. A node that acknowledges a heartbeat at its local time t
 * promises to vote for nobody else until t + lease. Any majority that
 * elects a new leader contains one of those nodes, which waited a full
 * lease on its own clock after the heartbeat was sent; with rates within
 * r of each other, that is at least lease*(1-d) on the old leader's clock:
 * the old lease is over before the new leader exists. Votes themselves
 * promise nothing: a new leader's lease starts with its first heartbeat a
 * majority acknowledged.
 *
 * Pre-vote: before raising its term, a node asks whether a majority
 * would vote for it; nobody who still honours a leader's lease says yes.
 * A node that cannot hear the leader (it restarted, or one direction of
 * a link is down) therefore never raises the term, and never deposes a
 * live leader by answering its heartbeats with a newer one.
 */
#include "core/elect.h"

#include <string.h>

static const char *const no_why = NULL;

/* Taken out of the cluster (hactl remove-node): neither votes nor counts. */
static int
out(const struct ha_elect *e, int i)
{
	return (e->sw.removed >> i) & 1;
}

static int
is_member(const struct ha_elect *e, int i)
{
	return !e->c.witness[i] && !out(e, i);
}

int
ha_elect_voters(const struct ha_elect *e)
{
	int i, n = 0;

	for (i = 0; i < e->c.n; i++)
		n += !out(e, i);
	return n;
}

int
ha_elect_majority(const struct ha_elect *e)
{
	return ha_elect_voters(e) / 2 + 1;
}

/* The lease as the leader counts it: shortened by the drift bound. */
static int64_t
lease_eff(const struct ha_elect *e)
{
	int64_t cut = e->c.lease_ms * 2 * e->c.drift_ppm /
	    (1000000 + e->c.drift_ppm) + 1;

	return e->c.lease_ms - cut;
}

static int
pos_ok(const struct ha_elect *e, const struct ha_pos *p)
{
	if (p->lsn + e->c.max_lag < e->best.lsn)
		return 0;
	return p->gen >= e->best.gen;
}

static void
merge_best(struct ha_elect *e, const struct ha_pos *p)
{
	if (p->lsn > e->best.lsn)
		e->best.lsn = p->lsn;
	if (p->gen > e->best.gen)
		e->best.gen = p->gen;
}

static int
failover_allowed(const struct ha_elect *e, int i)
{
	return e->sw.failover && (e->sw.node_failover & (1u << i));
}

/* Why this node may not stand for an automatic election. */
const char *
ha_elect_why_not(const struct ha_elect *e, int64_t now)
{
	if (out(e, e->c.self))
		return "this node was removed from the cluster (hactl add-node "
		    "on the leader takes it back)";
	if (e->c.witness[e->c.self])
		return "a witness votes but never leads";
	if (e->me.needs_rewind)
		return "PostgreSQL needs a rewind or rebuild (haprom demote)";
	if (!e->me.healthy)
		return "this node's health checks fail";
	if (!e->sw.failover)
		return "failover is off for the cluster (hactl failover on)";
	if (!(e->sw.node_failover & (1u << e->c.self)))
		return "failover is off for this node (hactl failover on "
		    "--node)";
	if (!pos_ok(e, &e->me.pos))
		return "this node's data is behind the best known position "
		    "by more than max_lag_on_failover";
	if (now < e->boot_until)
		return "just started: waiting one lease";
	return no_why;
}

static uint8_t
my_flags(const struct ha_elect *e)
{
	uint8_t f = 0;

	if (e->me.healthy)
		f |= HA_EF_HEALTHY;
	if (e->me.needs_rewind)
		f |= HA_EF_NEEDS_REWIND;
	else if (is_member(e, e->c.self) && pos_ok(e, &e->me.pos))
		f |= HA_EF_CAN_LEAD;
	return f;
}

static struct ha_elect_msg *
add(struct ha_elect *e, struct ha_elect_out *o, uint8_t kind, int to)
{
	struct ha_elect_msg *m;

	if (o->n_send < 0 || o->n_send >= (int)(sizeof(o->send) /
	    sizeof(o->send[0])))
		return NULL;
	m = &o->send[o->n_send++];
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->from = (uint8_t)e->c.self;
	m->to = (uint8_t)to;
	m->term = e->term;
	m->pos = e->me.pos;
	m->flags = my_flags(e);
	m->sw = e->sw;
	return m;
}

static void
to_all(struct ha_elect *e, struct ha_elect_out *o, const struct ha_elect_msg *t)
{
	int i;

	for (i = 0; i < e->c.n; i++) {
		struct ha_elect_msg *m;

		if (i == e->c.self || (m = add(e, o, t->kind, i)) == NULL)
			continue;
		*m = *t;
		m->to = (uint8_t)i;
	}
}

void
ha_elect_init(struct ha_elect *e, const struct ha_elect_cfg *c, uint64_t term,
    int voted_for, const struct ha_elect_sw *sw, int64_t now)
{
	memset(e, 0, sizeof(*e));
	e->c = *c;
	e->term = term;
	e->voted_for = voted_for;
	e->sw = *sw;
	e->role = HA_FOLLOWER;
	e->leader = -1;
	e->promised_to = -1;
	e->successor = -1;
	/* Promises made before a crash are forgotten: honour them all. */
	e->boot_until = now + c->lease_ms;
	e->me.healthy = 1;
	e->cands = 0xffffffffu;
}

void
ha_elect_set_local(struct ha_elect *e, const struct ha_elect_local *l)
{
	e->me = *l;
	if (e->role == HA_LEADER)
		merge_best(e, &l->pos);
}

static int
count(uint32_t set, int n)
{
	int i, c = 0;

	for (i = 0; i < n; i++)
		c += (set >> i) & 1;
	return c;
}

static void
step_down(struct ha_elect *e, struct ha_elect_out *o, const char *why)
{
	if (e->role == HA_LEADER) {
		o->step_down = 1;
		o->why = why;
	}
	e->role = HA_FOLLOWER;
	e->lease_until = 0;
	e->votes = 0;
	e->forced = 0;
}

/* A higher term seen: follow it (persisting before any answer). */
static void
adopt(struct ha_elect *e, uint64_t term, struct ha_elect_out *o)
{
	if (term <= e->term)
		return;
	e->term = term;
	e->voted_for = -1;
	e->leader = -1;
	o->persist = 1;
	step_down(e, o, "a newer term exists");
}

/* Is a older than b? (term first, then the count of changes) */
static int
sw_older(uint64_t a_term, uint32_t a_ver, uint64_t b_term, uint32_t b_ver)
{
	return a_term < b_term || (a_term == b_term && a_ver < b_ver);
}

static void
adopt_switches(struct ha_elect *e, const struct ha_elect_msg *m,
    struct ha_elect_out *o)
{
	if (!sw_older(e->sw.term, e->sw.version, m->sw.term, m->sw.version))
		return;
	e->sw = m->sw;
	o->persist = 1;
}

/*
 * Members that may stand, by rank: how many better-placed ones are there
 * before us, of those the leader last saw able to take over (all members
 * before any heartbeat)? The last leader does not count: it is gone.
 */
static int
rank(const struct ha_elect *e)
{
	int i, r = 0, s = e->c.self;

	for (i = 0; i < e->c.n; i++) {
		if (i == s || i == e->leader || !is_member(e, i) ||
		    !failover_allowed(e, i) || !(e->cands & (1u << i)))
			continue;
		if (e->c.priority[i] > e->c.priority[s] ||
		    (e->c.priority[i] == e->c.priority[s] && i < s))
			r++;
	}
	return r;
}

/* Does member a come before member b by priority (ties by index)? */
static int
outranks(const struct ha_elect *e, int a, int b)
{
	return e->c.priority[a] > e->c.priority[b] ||
	    (e->c.priority[a] == e->c.priority[b] && a < b);
}

/*
 * When a follower may first ask to lead: after its boot and the promise
 * it made, plus a heartbeat per better-placed member. Just started and
 * not yet heard from a better-placed member at all, one more lease: it
 * may be starting too, its links not up yet, and must get its turn.
 */
static int64_t
ready_at(const struct ha_elect *e)
{
	int64_t r = e->promise_until > e->boot_until ? e->promise_until :
	    e->boot_until;
	int i, s = e->c.self;

	for (i = 0; i < e->c.n; i++)
		if (i != s && is_member(e, i) && outranks(e, i, s) &&
		    failover_allowed(e, i) && e->peer[i].last_seen == 0) {
			if (r < e->boot_until + e->c.lease_ms)
				r = e->boot_until + e->c.lease_ms;
			break;
		}
	return r + rank(e) * e->c.heartbeat_ms;
}

/* The static rank among all members (ties by index): after a failed
 * election, retries must not stay in step with a rival's. */
static int
static_rank(const struct ha_elect *e)
{
	int i, r = 0, s = e->c.self;

	for (i = 0; i < e->c.n; i++)
		if (i != s && is_member(e, i) &&
		    (e->c.priority[i] > e->c.priority[s] ||
		    (e->c.priority[i] == e->c.priority[s] && i < s)))
			r++;
	return r;
}

static void
stand(struct ha_elect *e, int64_t now, int switchover, struct ha_elect_out *o)
{
	struct ha_elect_msg t;

	e->term++;
	e->voted_for = e->c.self;
	e->role = HA_CANDIDATE;
	e->leader = -1;
	e->votes = 1u << e->c.self;
	e->vote_sent = now;
	e->switchover = switchover;
	o->persist = 1;
	o->why = switchover ? "standing for election (switchover)" :
	    "standing for election";
	memset(&t, 0, sizeof(t));
	t.kind = HA_E_VOTE_REQ;
	t.from = (uint8_t)e->c.self;
	t.term = e->term;
	t.pos = e->me.pos;
	t.flags = my_flags(e) | (switchover ? HA_EF_SWITCHOVER : 0);
	t.sw = e->sw;
	to_all(e, o, &t);
}

/* The pre-vote request to every node that has not answered it yet. */
static void
prevote_ask(struct ha_elect *e, int64_t now, struct ha_elect_out *o)
{
	int i;

	e->prevote_asked = now;
	for (i = 0; i < e->c.n; i++) {
		struct ha_elect_msg *m;

		if (i == e->c.self || (e->prevote_answers & (1u << i)) ||
		    (m = add(e, o, HA_E_VOTE_REQ, i)) == NULL)
			continue;
		m->term = e->term + 1;
		m->flags |= HA_EF_PREVOTE;
	}
}

static void
prevote(struct ha_elect *e, int64_t now, struct ha_elect_out *o)
{
	e->prevoting = 1;
	e->prevotes = 1u << e->c.self;
	/* (Nodes taken out have nothing to say.) */
	e->prevote_answers = 1u << e->c.self | e->sw.removed;
	e->prevote_sent = now;
	if (count(e->prevotes & ~e->sw.removed, e->c.n) >=
	    ha_elect_majority(e)) {
		e->prevoting = 0;
		stand(e, now, 0, o);
		return;
	}
	o->why = "asking whether a majority would vote for this node";
	prevote_ask(e, now, o);
}

/* Who could take over from us now: live, healthy, caught up, allowed. */
static uint32_t
candidates(const struct ha_elect *e, int64_t now)
{
	uint32_t c = 0;
	int i;

	for (i = 0; i < e->c.n; i++) {
		const struct ha_elect_peer *p = &e->peer[i];

		if (i != e->c.self && is_member(e, i) && p->last_seen &&
		    now - p->last_seen <= e->c.lease_ms &&
		    (p->flags & (HA_EF_CAN_LEAD | HA_EF_HEALTHY)) ==
		    (HA_EF_CAN_LEAD | HA_EF_HEALTHY) && pos_ok(e, &p->pos))
			c |= 1u << i;
	}
	return c;
}

static void
beat(struct ha_elect *e, int64_t now, struct ha_elect_out *o)
{
	struct ha_elect_msg t;
	int i;

	e->seq++;
	e->sent[e->seq % HA_ELECT_RING] = now;
	e->acked[e->c.self] = now;
	e->next_beat = now + e->c.heartbeat_ms;
	memset(&t, 0, sizeof(t));
	t.kind = HA_E_HEARTBEAT;
	t.from = (uint8_t)e->c.self;
	t.term = e->term;
	t.seq = e->seq;
	t.pos = e->me.pos;
	t.best = e->best;
	t.cands = candidates(e, now);
	t.flags = my_flags(e);
	t.sw = e->sw;
	to_all(e, o, &t);
	for (i = 0; i < o->n_send; i++)
		if (o->send[i].kind == HA_E_HEARTBEAT)
			o->send[i].seq = e->seq;
}

/* Two members, no witness, the peer silent for a lease: the tiebreaker. */
static int
tiebreak(const struct ha_elect *e, int64_t now)
{
	int other = 1 - e->c.self;

	return e->c.two_node && e->c.n == 2 && e->me.tiebreaker_ok &&
	    now - e->peer[other].last_seen >= e->c.lease_ms;
}

static void
become_leader(struct ha_elect *e, int64_t now, struct ha_elect_out *o)
{
	int i;

	e->role = HA_LEADER;
	e->leader = e->c.self;
	e->lease_until = 0;
	/* Our term on the switches (persisted with the vote): see elect.h. */
	e->sw.term = e->term;
	o->persist = 1;
	e->seq = 0;
	for (i = 0; i < HA_ELECT_MAX; i++)
		e->acked[i] = 0;
	merge_best(e, &e->me.pos);
	o->why = "elected: waiting for a majority to acknowledge";
	beat(e, now, o);
}

/* Recompute the lease from the acknowledgements. */
static void
renew(struct ha_elect *e, int64_t now, struct ha_elect_out *o)
{
	int64_t t[HA_ELECT_MAX], x, until;
	int i, j, n = e->c.n, k = ha_elect_majority(e);

	for (i = 0; i < n; i++)
		t[i] = out(e, i) ? 0 : e->acked[i];
	if (tiebreak(e, now))
		t[1 - e->c.self] = e->acked[e->c.self];
	if (e->forced) {
		/*
		 * Leader by the operator's word: our own beats stand for
		 * the silent voters' until a majority really answers a beat
		 * sent after the forcing; from then on, the usual lease.
		 */
		int real = 0;

		for (i = 0; i < n; i++)
			real += !out(e, i) && e->acked[i] >= e->forced_at;
		if (real >= k) {
			e->forced = 0;
			o->why = "a majority acknowledges the forced leader: "
			    "leading as usual";
		} else {
			for (i = 0; i < n; i++)
				if (!out(e, i) && t[i] < e->acked[e->c.self])
					t[i] = e->acked[e->c.self];
		}
	}
	/* The k-th newest acknowledged send time. */
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (t[j] > t[i]) {
				x = t[i];
				t[i] = t[j];
				t[j] = x;
			}
	if (t[k - 1] == 0 || e->me.needs_rewind)
		return;
	until = t[k - 1] + lease_eff(e);
	if (until <= e->lease_until || until <= now)
		return;
	if (e->lease_until == 0) {
		o->lead = 1;
		o->why = "leader: a majority acknowledged";
	}
	e->lease_until = until;
	e->lease_removed = e->sw.removed;
	e->promise_until = until;
	e->promised_to = e->c.self;
}

void
ha_elect_tick(struct ha_elect *e, int64_t now, struct ha_elect_out *o)
{
	int64_t ready;

	switch (e->role) {
	case HA_LEADER:
		if (e->me.needs_rewind || !is_member(e, e->c.self)) {
			step_down(e, o, e->me.needs_rewind ? "PostgreSQL needs "
			    "a rewind: this node must not lead" : "this node "
			    "was removed from the cluster");
			e->stand_at = now + e->c.lease_ms;
			return;
		}
		/* Elected but never acknowledged: give up after a lease. */
		if ((e->lease_until && now >= e->lease_until) ||
		    (!e->lease_until && now >= e->vote_sent + e->c.lease_ms)) {
			step_down(e, o, "the lease ran out: no majority "
			    "acknowledged in time");
			e->stand_at = now + e->c.lease_ms;
			return;
		}
		if (now >= e->next_beat)
			beat(e, now, o);
		renew(e, now, o);
		return;
	case HA_CANDIDATE:
		if ((e->votes & ~(1u << e->c.self)) == 0 && tiebreak(e, now)) {
			become_leader(e, now, o);
			return;
		}
		if (now >= e->vote_sent + e->c.lease_ms / 2) {
			e->role = HA_FOLLOWER;
			e->stand_at = now + e->c.heartbeat_ms * (2 + static_rank(e));
			o->why = "no majority voted: trying again later";
		}
		return;
	case HA_FOLLOWER:
		if (ha_elect_why_not(e, now) != no_why) {
			e->prevoting = 0;
			return;
		}
		ready = ready_at(e);
		if (now < ready || now < e->stand_at)
			return;
		/* Alone by the tiebreaker: nobody to ask. */
		if (tiebreak(e, now)) {
			e->prevoting = 0;
			stand(e, now, 0, o);
		} else if (!e->prevoting) {
			prevote(e, now, o);
		} else if (now >= e->prevote_sent + e->c.lease_ms / 2) {
			e->prevoting = 0;
			e->stand_at = now + e->c.heartbeat_ms * (2 + static_rank(e));
			o->why = "no majority would vote: trying again later";
		} else if (now >= e->prevote_asked + e->c.heartbeat_ms) {
			/*
			 * Ask again who has not answered: a peer whose
			 * connection came up since (a slow start) hears it
			 * now, and gives this node its turn, rather than a
			 * round later, when it may be standing itself.
			 */
			prevote_ask(e, now, o);
		}
		return;
	}
}

/*
 * Would we vote for this candidate in its next term? Answered from what
 * we know, changing nothing: no term adopted, nothing persisted.
 */
static void
on_prevote_req(struct ha_elect *e, int64_t now, const struct ha_elect_msg *m,
    struct ha_elect_out *o)
{
	int c = m->from, fit, ok;
	struct ha_elect_msg *r;

	fit = m->term > e->term && is_member(e, c) &&
	    (m->flags & HA_EF_CAN_LEAD) && (m->flags & HA_EF_HEALTHY) &&
	    !(m->flags & HA_EF_NEEDS_REWIND) && pos_ok(e, &m->pos) &&
	    failover_allowed(e, c);
	/*
	 * Asking ourselves, with a better priority: the cluster's order
	 * wins races between simultaneous candidates.
	 */
	ok = fit && !out(e, e->c.self) && !sw_older(m->sw.term, m->sw.version,
	    e->sw.term, e->sw.version) && now >= e->boot_until &&
	    !(now < e->promise_until &&
	    e->promised_to != c) && e->role != HA_LEADER &&
	    !(e->prevoting && outranks(e, e->c.self, c));
	/*
	 * A better-placed member we would vote for is trying: give it its
	 * turn (a lease) rather than race it, even if we said no only
	 * because we are still booting. On a loaded machine the answers
	 * come late, and the first to finish booting would win otherwise.
	 */
	if (fit && e->role == HA_FOLLOWER && outranks(e, c, e->c.self)) {
		e->prevoting = 0;
		if (e->stand_at < now + e->c.lease_ms)
			e->stand_at = now + e->c.lease_ms;
	}
	if ((r = add(e, o, HA_E_VOTE, c)) == NULL)
		return;
	r->flags |= HA_EF_PREVOTE;
	if (ok)
		r->flags |= HA_EF_GRANTED;
}

static void
on_vote_req(struct ha_elect *e, int64_t now, const struct ha_elect_msg *m,
    struct ha_elect_out *o)
{
	int c = m->from, handover, ok;
	struct ha_elect_msg *r;

	if (m->flags & HA_EF_PREVOTE) {
		on_prevote_req(e, now, m, o);
		return;
	}
	handover = (m->flags & HA_EF_SWITCHOVER) && e->successor == c &&
	    e->successor_term + 1 == m->term;
	/*
	 * While a promise holds, refuse without even taking the candidate's
	 * term: a live leader must not be disturbed.
	 */
	if (now < e->boot_until || (now < e->promise_until &&
	    e->promised_to != c && !handover)) {
		add(e, o, HA_E_VOTE, c);
		return;
	}
	adopt(e, m->term, o);
	ok = m->term == e->term && (e->voted_for == -1 || e->voted_for == c) &&
	    !out(e, e->c.self) && !sw_older(m->sw.term, m->sw.version,
	    e->sw.term, e->sw.version) && is_member(e, c) &&
	    (m->flags & HA_EF_CAN_LEAD) &&
	    (m->flags & HA_EF_HEALTHY) && !(m->flags & HA_EF_NEEDS_REWIND) &&
	    pos_ok(e, &m->pos) && (failover_allowed(e, c) || handover);
	if (ok) {
		if (e->voted_for != c)
			o->persist = 1;
		e->voted_for = c;
	}
	if ((r = add(e, o, HA_E_VOTE, c)) && ok)
		r->flags |= HA_EF_GRANTED;
}

static void
on_vote(struct ha_elect *e, int64_t now, const struct ha_elect_msg *m,
    struct ha_elect_out *o)
{
	int i, n = 0;

	if (m->term > e->term) {
		adopt(e, m->term, o);
		return;
	}
	if (m->flags & HA_EF_PREVOTE) {
		int k = ha_elect_majority(e), yes;

		if (!e->prevoting || e->role != HA_FOLLOWER)
			return;
		e->prevote_answers |= 1u << m->from;
		if (m->flags & HA_EF_GRANTED)
			e->prevotes |= 1u << m->from;
		/* (By the membership now: it may have changed meanwhile.) */
		yes = count(e->prevotes & ~e->sw.removed, e->c.n);
		if (yes >= k) {
			e->prevoting = 0;
			stand(e, now, 0, o);
		} else if (yes + count(~(e->prevote_answers | e->sw.removed),
		    e->c.n) < k) {
			/*
			 * Everyone who could say yes said no: ask again
			 * soon (asking changes nothing), the best-placed
			 * first, so that a node that starts early keeps
			 * its place when the others finish booting.
			 */
			e->prevoting = 0;
			e->stand_at = now + e->c.heartbeat_ms / 2 *
			    (1 + static_rank(e));
			o->why = "no majority would vote: trying again later";
		}
		return;
	}
	if (e->role != HA_CANDIDATE || m->term != e->term ||
	    !(m->flags & HA_EF_GRANTED))
		return;
	e->votes |= 1u << m->from;
	for (i = 0; i < e->c.n; i++)
		n += ((e->votes & ~e->sw.removed) >> i) & 1;
	if (n >= ha_elect_majority(e))
		become_leader(e, now, o);
}

static void
on_heartbeat(struct ha_elect *e, int64_t now, const struct ha_elect_msg *m,
    struct ha_elect_out *o)
{
	struct ha_elect_msg *r;

	if (m->term < e->term) {
		/* Tell the stale leader about the newer term. */
		if ((r = add(e, o, HA_E_ACK, m->from)))
			r->seq = m->seq;
		if (e->role == HA_LEADER)
			o->stale_leader = 1;
		return;
	}
	adopt(e, m->term, o);
	if (e->role == HA_LEADER)
		return;		/* cannot happen: one vote per term */
	if (e->role == HA_CANDIDATE) {
		e->role = HA_FOLLOWER;
		o->why = "another node won the election";
	}
	if (e->leader != m->from && !o->why)
		o->why = "following a new leader";
	e->leader = m->from;
	e->prevoting = 0;
	e->promise_until = now + e->c.lease_ms;
	e->promised_to = m->from;
	e->successor = -1;
	merge_best(e, &m->best);
	merge_best(e, &m->pos);
	e->cands = m->cands;
	if ((r = add(e, o, HA_E_ACK, m->from)))
		r->seq = m->seq;
}

static void
on_ack(struct ha_elect *e, int64_t now, const struct ha_elect_msg *m,
    struct ha_elect_out *o)
{
	uint64_t age;

	if (m->term > e->term) {
		adopt(e, m->term, o);
		e->stand_at = now + e->c.lease_ms;
		return;
	}
	if (e->role != HA_LEADER || m->term != e->term)
		return;
	merge_best(e, &m->pos);
	age = e->seq - m->seq;
	if (m->seq == 0 || m->seq > e->seq || age >= HA_ELECT_RING)
		return;
	if (e->sent[m->seq % HA_ELECT_RING] > e->acked[m->from])
		e->acked[m->from] = e->sent[m->seq % HA_ELECT_RING];
	renew(e, now, o);
}

static void
on_abdicate(struct ha_elect *e, int64_t now, const struct ha_elect_msg *m,
    struct ha_elect_out *o)
{
	int to;

	if (m->term != e->term || (e->leader != m->from &&
	    e->promised_to != m->from))
		return;
	/* The leader released its lease: our promise to it is void. */
	to = m->seq == 0xff ? -1 : (int)m->seq;

	e->promise_until = now;
	e->promised_to = -1;
	e->leader = -1;
	e->successor = to;
	e->successor_term = m->term;
	if (to == e->c.self && e->role == HA_FOLLOWER && !e->me.needs_rewind &&
	    is_member(e, e->c.self) && now >= e->boot_until)
		stand(e, now, 1, o);
}

void
ha_elect_recv(struct ha_elect *e, int64_t now, const struct ha_elect_msg *m,
    struct ha_elect_out *o)
{
	if (m->from >= e->c.n || m->from == e->c.self)
		return;
	e->peer[m->from].last_seen = now;
	e->peer[m->from].pos = m->pos;
	e->peer[m->from].flags = m->flags;
	e->peer[m->from].sw_term = m->sw.term;
	e->peer[m->from].version = m->sw.version;
	/* The newest switches win, from whoever brings them. */
	adopt_switches(e, m, o);
	/* A node taken out is heard (for status), not listened to. */
	if (out(e, m->from))
		return;
	switch (m->kind) {
	case HA_E_HEARTBEAT:
		on_heartbeat(e, now, m, o);
		break;
	case HA_E_ACK:
		on_ack(e, now, m, o);
		break;
	case HA_E_VOTE_REQ:
		on_vote_req(e, now, m, o);
		break;
	case HA_E_VOTE:
		on_vote(e, now, m, o);
		break;
	case HA_E_ABDICATE:
		on_abdicate(e, now, m, o);
		break;
	case HA_E_TRANSFER:
		if (e->role == HA_LEADER) {
			o->transfer = 1;
			o->transfer_to = m->seq == 0xff ? -1 : (int)m->seq;
		}
		break;
	}
}

int
ha_elect_could_take(const struct ha_elect *e, int i, int64_t now)
{
	const struct ha_elect_peer *p = &e->peer[i];

	return i != e->c.self && is_member(e, i) && p->last_seen != 0 &&
	    now - p->last_seen <= e->c.lease_ms &&
	    (p->flags & HA_EF_HEALTHY);
}

/* The best member to hand over to: caught up, healthy, then priority. */
int
ha_elect_successor(const struct ha_elect *e, int64_t now)
{
	int i, best = -1;

	for (i = 0; i < e->c.n; i++) {
		const struct ha_elect_peer *p = &e->peer[i];

		if (!ha_elect_could_take(e, i, now) ||
		    !(p->flags & HA_EF_CAN_LEAD))
			continue;
		if (best < 0 || p->pos.lsn > e->peer[best].pos.lsn ||
		    (p->pos.lsn == e->peer[best].pos.lsn &&
		    e->c.priority[i] > e->c.priority[best]))
			best = i;
	}
	return best;
}

/*
 * The operator's last resort when no majority is left: lead without one.
 * Refused (a reason returned) while a leader is heard, or when this node
 * must not lead; the caller checks that no majority is within reach. The
 * forced lease holds on our own heartbeats until a majority acknowledges
 * one, and ends as any leadership does when a newer term is seen. Not
 * persisted: after a restart the node waits for a majority again.
 */
const char *
ha_elect_force(struct ha_elect *e, int64_t now, struct ha_elect_out *o)
{
	if (!is_member(e, e->c.self))
		return "a witness cannot lead";
	if (e->role == HA_LEADER)
		return "this node leads already";
	if (now < e->promise_until && e->leader >= 0)
		return "a leader is heard: use hactl switchover --to this node";
	if (e->me.needs_rewind)
		return "PostgreSQL needs a rewind or rebuild (haprom demote)";
	e->term++;
	e->voted_for = e->c.self;
	e->vote_sent = now;
	e->prevoting = 0;
	o->persist = 1;
	become_leader(e, now, o);
	e->forced = 1;
	e->forced_at = now;
	renew(e, now, o);
	o->why = "leader by force (no majority): the operator's decision";
	return NULL;
}

void
ha_elect_abdicate(struct ha_elect *e, int64_t now, int to,
    struct ha_elect_out *o)
{
	struct ha_elect_msg t;
	int was = e->role == HA_LEADER, i;

	if (to < 0 || to >= e->c.n)
		to = ha_elect_successor(e, now);
	step_down(e, o, "handing over");
	/* Do not stand again at once: let the successor win. */
	e->stand_at = now + 3 * e->c.lease_ms;
	e->promise_until = now;
	e->promised_to = -1;
	e->leader = -1;
	if (!was)
		return;
	memset(&t, 0, sizeof(t));
	t.kind = HA_E_ABDICATE;
	t.from = (uint8_t)e->c.self;
	t.term = e->term;
	t.flags = my_flags(e);
	t.sw = e->sw;
	to_all(e, o, &t);
	/* .to is each receiver: the successor travels in .seq. */
	for (i = 0; i < o->n_send; i++)
		if (o->send[i].kind == HA_E_ABDICATE)
			o->send[i].seq = (uint64_t)(to < 0 ? 0xff : to);
}

void
ha_elect_transfer(struct ha_elect *e, int64_t now, int to,
    struct ha_elect_out *o)
{
	struct ha_elect_msg *m;

	(void)now;
	if (e->role == HA_LEADER) {
		o->transfer = 1;
		o->transfer_to = to;
		return;
	}
	if (e->leader >= 0 && (m = add(e, o, HA_E_TRANSFER, e->leader)))
		m->seq = (uint64_t)(to < 0 ? 0xff : to);
}

void
ha_elect_set_failover(struct ha_elect *e, int node, int on,
    struct ha_elect_out *o)
{
	if (e->sw.term < e->term)
		e->sw.term = e->term;
	e->sw.version++;
	if (node < 0)
		e->sw.failover = on;
	else if (on)
		e->sw.node_failover |= 1u << node;
	else
		e->sw.node_failover &= ~(1u << node);
	o->persist = 1;
}

/*
 * Membership, one change at a time: a change is made only when a
 * majority of the voters has this leader's switches (their last message
 * carried them, stamped with this term): the change before is on a
 * majority, and so known to any future leader (the vote rule). Any
 * majority of the voters before a change and any majority after it
 * share a node, and a node votes once per term and keeps its promises
 * whichever it counts by: no two leaders.
 */
const char *
ha_elect_set_member(struct ha_elect *e, int64_t now, int node, int in,
    struct ha_elect_out *o)
{
	int i, have = 0;

	if (node < 0 || node >= e->c.n)
		return "no such node";
	if (!ha_elect_leading(e, now))
		return "only the leader changes the membership";
	if (node == e->c.self)
		return "this node leads: hand over first (hactl switchover), "
		    "then remove it on the new leader";
	if (out(e, node) == !in)
		return in ? "it is in the cluster already" :
		    "it is out of the cluster already";
	if (e->peer[node].last_seen &&
	    now - e->peer[node].last_seen <= e->c.lease_ms) {
		if (!in)
			return "it is up: stop hawatch on it first";
	} else if (in) {
		return "it is not heard: start hawatch on it first (it waits, "
		    "out of the cluster, until it is taken back)";
	}
	for (i = 0; i < e->c.n; i++)
		have += !out(e, i) && (i == e->c.self ||
		    (!sw_older(e->peer[i].sw_term, e->peer[i].version,
		    e->sw.term, e->sw.version) &&
		    now - e->peer[i].last_seen <= e->c.lease_ms));
	if (have < ha_elect_majority(e))
		return "the previous change has not reached a majority yet: "
		    "try again in a moment";
	e->sw.term = e->term;
	e->sw.version++;
	if (in)
		e->sw.removed &= ~(1u << node);
	else
		e->sw.removed |= 1u << node;
	e->acked[node] = 0;
	o->persist = 1;
	return NULL;
}

int64_t
ha_elect_next(const struct ha_elect *e, int64_t now)
{
	int64_t t;

	switch (e->role) {
	case HA_LEADER:
		t = e->next_beat;
		if (e->lease_until && e->lease_until < t)
			t = e->lease_until;
		return t;
	case HA_CANDIDATE:
		t = e->vote_sent + e->c.lease_ms / 2;
		return e->c.two_node && t > now + e->c.heartbeat_ms ?
		    now + e->c.heartbeat_ms : t;
	case HA_FOLLOWER:
		break;
	}
	t = ready_at(e);
	if (e->stand_at > t)
		t = e->stand_at;
	if (t <= now && e->prevoting) {
		/*
		 * The round's end or its next re-ask: a driver that asks
		 * again after every message must not put them off for ever
		 * (a peer asking every heartbeat would).
		 */
		t = e->prevote_asked + e->c.heartbeat_ms;
		if (e->prevote_sent + e->c.lease_ms / 2 < t)
			t = e->prevote_sent + e->c.lease_ms / 2;
		return t > now ? t : now;
	}
	return t > now ? t : now + e->c.heartbeat_ms;
}

int
ha_elect_leader_now(const struct ha_elect *e, int64_t now)
{
	if (e->leader < 0)
		return -1;
	if (e->leader == e->c.self)
		return ha_elect_leading(e, now) || e->role == HA_LEADER ?
		    e->leader : -1;
	return now < e->promise_until ? e->leader : -1;
}

int
ha_elect_leading(const struct ha_elect *e, int64_t now)
{
	return e->role == HA_LEADER && e->lease_until > now;
}
