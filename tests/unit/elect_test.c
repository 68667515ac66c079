/*
 * Deterministic simulation of core/elect: N nodes driven by a seeded
 * scheduler through crashes and restarts (the persisted term and vote kept,
 * or the last write torn), symmetric and one-way partitions, message
 * delay (now and then by seconds), loss, duplication and reordering,
 * and clock rates within the
 * drift bound. Checked after every event:
 *   - never two nodes with unexpired leases (in global time);
 *   - a leader's lease is backed by a majority's acknowledgements;
 *   - never two votes in one term by one node, across restarts;
 *   - a node marked needs-rewind never leads.
 * Liveness: once every fault has healed, a leader exists within a bound.
 * SIM_SEEDS=N runs N schedules per topology; SIM_SEED=S replays one with
 * its trace. A failing seed prints how to replay it.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "check.h"
#include "core/elect.h"

#define MAXN 6
#define MAXQ 4096
#define US 1000		/* global time is in microseconds */

struct msg {
	int64_t at;	/* delivery, global us */
	struct ha_elect_msg m;
};

struct node {
	struct ha_elect e;
	int up;
	double rate;		/* local ms per global ms */
	int64_t offset;		/* local ms at global 0 */
	int64_t wake;		/* global us */
	int64_t down_until;	/* global us */
	/* what a disk would hold */
	uint64_t p_term;
	int p_vote;
	struct ha_elect_sw p_sw;
	int rewind;
};

struct sim {
	uint64_t rng;
	int n;
	struct ha_elect_cfg cfg;
	struct node node[MAXN];
	struct msg q[MAXQ];
	int nq;
	int64_t now;			/* global us */
	uint8_t cut[MAXN][MAXN];	/* 1: messages i -> j are lost */
	int loss, dup;			/* percent */
	int64_t dmin, dmax;		/* delay, us */
	int torn;			/* per mille of persists torn by a crash */
	int late;			/* per mille of messages seconds late */
	uint64_t voted[MAXN][256];	/* term -> candidate + 1 (terms < 256) */
	int trace;
	const char *fail;
	int64_t lease_end[MAXN];	/* global us */
	long events;
};

/* What the schedules exercised, so a run that tests nothing shows. */
static struct {
	long schedules, events, elections, leases, lead_ms, sim_ms, members;
} st;

static uint64_t
rnd(struct sim *s)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return s->rng;
}

static int64_t
rrange(struct sim *s, int64_t lo, int64_t hi)
{
	return hi <= lo ? lo : lo + (int64_t)(rnd(s) % (uint64_t)(hi - lo + 1));
}

static int64_t
local_ms(const struct sim *s, int i)
{
	const struct node *nd = &s->node[i];

	return nd->offset + (int64_t)((double)s->now / US * nd->rate);
}

/* The global time (us) at which node i's clock reads t (ms). */
static int64_t
global_at(const struct sim *s, int i, int64_t t)
{
	const struct node *nd = &s->node[i];

	return (int64_t)((double)(t - nd->offset) / nd->rate * US);
}

static int leader(struct sim *s);

static void
say(struct sim *s, int i, const char *what, uint64_t a, uint64_t b)
{
	if (s->trace)
		printf("  %9.3f ms n%d %-34s %" PRIu64 " %" PRIu64 "\n",
		    (double)s->now / US, i, what, a, b);
}

static void
violation(struct sim *s, const char *what)
{
	if (!s->fail)
		s->fail = what;
}

static void
boot(struct sim *s, int i)
{
	struct node *nd = &s->node[i];
	struct ha_elect_local l = { 0 };
	struct ha_elect_cfg c = s->cfg;

	c.self = i;
	ha_elect_init(&nd->e, &c, nd->p_term, nd->p_vote, &nd->p_sw,
	    local_ms(s, i));
	l.healthy = 1;
	l.needs_rewind = nd->rewind;
	l.tiebreaker_ok = 1;
	ha_elect_set_local(&nd->e, &l);
	nd->up = 1;
	nd->wake = s->now;
	s->lease_end[i] = 0;
	say(s, i, "starts with term", nd->p_term, (uint64_t)nd->p_vote);
}

static void
crash(struct sim *s, int i)
{
	/*
	 * What it held stays held until its lease ends (a VIP lingers until
	 * its kernel lifetime runs out): lease_end is kept.
	 */
	s->node[i].up = 0;
	s->node[i].down_until = s->now + rrange(s, 100, 3000) * US;
	say(s, i, "crashes", 0, 0);
}

static void
queue(struct sim *s, const struct ha_elect_msg *m)
{
	int copies = 1 + (rnd(s) % 100 < (uint64_t)s->dup), k;

	if (s->cut[m->from][m->to] || rnd(s) % 100 < (uint64_t)s->loss)
		return;
	for (k = 0; k < copies && s->nq < MAXQ; k++) {
		s->q[s->nq].at = s->now + rrange(s, s->dmin, s->dmax);
		/* Now and then a message comes seconds late (TCP retries). */
		if (s->late && rnd(s) % 1000 < (uint64_t)s->late)
			s->q[s->nq].at += rrange(s, 1000, 3000) * US;
		s->q[s->nq].m = *m;
		s->nq++;
	}
}

/* Carry out node i's actions: persist first (maybe torn), then send. */
static void
apply(struct sim *s, int i, struct ha_elect_out *o)
{
	struct node *nd = &s->node[i];
	int k;

	if (o->persist) {
		if (rnd(s) % 1000 < (uint64_t)s->torn) {
			say(s, i, "crashes while persisting", 0, 0);
			crash(s, i);
			return;
		}
		nd->p_term = nd->e.term;
		nd->p_vote = nd->e.voted_for;
		nd->p_sw = nd->e.sw;
	}
	if (o->why)
		say(s, i, o->why, nd->e.term, (uint64_t)nd->e.role);
	if (o->lead)
		st.leases++;
	for (k = 0; k < o->n_send; k++)
		if (o->send[k].kind == HA_E_VOTE_REQ &&
		    !(o->send[k].flags & HA_EF_PREVOTE)) {
			st.elections++;
			break;
		}
	for (k = 0; k < o->n_send; k++) {
		const struct ha_elect_msg *m = &o->send[k];

		if (m->kind == HA_E_VOTE && (m->flags & HA_EF_GRANTED) &&
		    !(m->flags & HA_EF_PREVOTE) && m->term < 256) {
			uint64_t *v = &s->voted[i][m->term];

			if (*v && *v != (uint64_t)m->to + 1)
				violation(s, "two votes in one term by one node");
			*v = (uint64_t)m->to + 1;
		}
		queue(s, m);
	}
	/* A crash right after voting, back soon: does it remember? */
	for (k = 0; k < o->n_send; k++)
		if (o->send[k].kind == HA_E_VOTE &&
		    !(o->send[k].flags & HA_EF_PREVOTE) && s->torn &&
		    rnd(s) % 100 < 5) {
			say(s, i, "crashes after voting", 0, 0);
			crash(s, i);
			nd->down_until = s->now + rrange(s, 10, 300) * US;
			break;
		}
}

static void
check(struct sim *s)
{
	int i, holders = 0;

	for (i = 0; i < s->n; i++) {
		struct node *nd = &s->node[i];
		int64_t t = local_ms(s, i);
		int j, acks = 0, voters;

		/* A live node that gave its lease up released everything. */
		if (nd->up && !ha_elect_leading(&nd->e, t))
			s->lease_end[i] = 0;
		if (!nd->up || !ha_elect_leading(&nd->e, t))
			continue;
		s->lease_end[i] = global_at(s, i, nd->e.lease_until);
		if (nd->rewind)
			violation(s, "a node that needs a rewind leads");
		/*
		 * Counted by the membership the lease was renewed with (a
		 * change since is one node in or out: any majority of the
		 * new one still shares a node with the acks).
		 */
		for (j = 0, voters = 0; j < s->n; j++) {
			if (nd->e.lease_removed & (1u << j))
				continue;
			voters++;
			if (nd->e.acked[j] && nd->e.acked[j] >=
			    nd->e.lease_until - s->cfg.lease_ms)
				acks++;
		}
		/* (A leader forced by the operator has none, by design.) */
		if (acks < voters / 2 + 1 && !s->cfg.two_node &&
		    !nd->e.forced)
			violation(s, "a lease without a majority's acks");
	}
	/* Leases end in global time where each holder's clock says. */
	for (i = 0; i < s->n; i++)
		if (s->lease_end[i] > s->now)
			holders++;
	if (holders > 1)
		violation(s, "two nodes with unexpired leases");
}

/* When the next thing happens (global us). */
static int64_t
next_at(const struct sim *s)
{
	int64_t best = INT64_MAX;
	int i;

	for (i = 0; i < s->nq; i++)
		if (s->q[i].at < best)
			best = s->q[i].at;
	for (i = 0; i < s->n; i++) {
		int64_t w = s->node[i].up ? s->node[i].wake :
		    s->node[i].down_until;

		if (w < best)
			best = w;
	}
	return best;
}

/* The next thing to happen: a delivery or a node's timer. */
static void
step(struct sim *s)
{
	int64_t best = INT64_MAX;
	int i, bi = -1, bq = -1;
	struct ha_elect_out o;

	for (i = 0; i < s->nq; i++)
		if (s->q[i].at < best) {
			best = s->q[i].at;
			bq = i;
		}
	for (i = 0; i < s->n; i++) {
		int64_t w = s->node[i].up ? s->node[i].wake :
		    s->node[i].down_until;

		if (w < best) {
			best = w;
			bi = i;
			bq = -1;
		}
	}
	if (best > s->now) {
		if (leader(s) >= 0)
			st.lead_ms += (best - s->now) / US;
		st.sim_ms += (best - s->now) / US;
		s->now = best;
	}
	s->events++;
	st.events++;
	memset(&o, 0, sizeof(o));
	if (bq >= 0) {
		struct ha_elect_msg m = s->q[bq].m;

		s->q[bq] = s->q[--s->nq];
		if (!s->node[m.to].up)
			return;
		ha_elect_recv(&s->node[m.to].e, local_ms(s, m.to), &m, &o);
		apply(s, m.to, &o);
		bi = m.to;
	} else if (!s->node[bi].up) {
		boot(s, bi);
		return;
	} else {
		ha_elect_tick(&s->node[bi].e, local_ms(s, bi), &o);
		apply(s, bi, &o);
	}
	if (s->node[bi].up) {
		int64_t t = ha_elect_next(&s->node[bi].e, local_ms(s, bi));

		s->node[bi].wake = global_at(s, bi, t) + 1;
		if (s->node[bi].wake <= s->now)
			s->node[bi].wake = s->now + US;
	}
	check(s);
}

/* Faults: crashes, partitions (both ways or one way), rewind marks. */
static void
fault(struct sim *s)
{
	int i = (int)(rnd(s) % (uint64_t)s->n), j = (int)(rnd(s) % (uint64_t)s->n);

	switch (rnd(s) % 6) {
	case 0:
		if (s->node[i].up)
			crash(s, i);
		break;
	case 1:
		if (i != j) {
			s->cut[i][j] = s->cut[j][i] = 1;
			say(s, i, "partitioned from", (uint64_t)j, 0);
		}
		break;
	case 2:
		if (i != j) {
			s->cut[i][j] = 1;
			say(s, i, "can no longer send to", (uint64_t)j, 0);
		}
		break;
	case 3:
		memset(s->cut[i], 0, sizeof(s->cut[i]));
		for (j = 0; j < s->n; j++)
			s->cut[j][i] = 0;
		say(s, i, "links healed", 0, 0);
		break;
	case 4:
		/* Marked while a follower, as haprom demote would. */
		if (s->node[i].up && s->node[i].e.role == HA_FOLLOWER &&
		    !s->cfg.witness[i]) {
			struct ha_elect_local l = s->node[i].e.me;

			s->node[i].rewind = l.needs_rewind = !l.needs_rewind;
			ha_elect_set_local(&s->node[i].e, &l);
			say(s, i, "needs rewind now", (uint64_t)l.needs_rewind, 0);
		}
		break;
	case 5:
		/*
		 * The operator at the leader: node j out if it is not
		 * heard, back in if it is (the core refuses otherwise, and
		 * while the previous change has not reached a majority).
		 */
		if ((i = leader(s)) >= 0 && i != j) {
			struct ha_elect *e = &s->node[i].e;
			struct ha_elect_out o;
			int in = (e->sw.removed >> j) & 1;

			memset(&o, 0, sizeof(o));
			if (ha_elect_set_member(e, local_ms(s, i), j, in,
			    &o) == NULL) {
				st.members++;
				say(s, i, in ? "takes back" : "removes",
				    (uint64_t)j, e->sw.version);
				apply(s, i, &o);
			}
		}
		break;
	default:
		break;
	}
}

static int
leader(struct sim *s)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (s->node[i].up && ha_elect_leading(&s->node[i].e,
		    local_ms(s, i)))
			return i;
	return -1;
}

/*
 * One schedule: faults for `fault_s` simulated seconds, then everything
 * heals; a leader must exist within `bound` ms. 0 or -1 (s->fail set).
 */
static int
schedule(uint64_t seed, int n, int witnesses, int two_node, int trace)
{
	static struct sim s;
	int i, crash_only = two_node;
	int64_t end, bound = 6000;

	memset(&s, 0, sizeof(s));
	s.rng = seed * 2654435761u + 1;
	s.n = n;
	s.trace = trace;
	s.cfg.n = n;
	s.cfg.heartbeat_ms = 100;
	s.cfg.lease_ms = 1000;
	s.cfg.drift_ppm = 10000;
	s.cfg.max_lag = 1 << 20;
	s.cfg.two_node = two_node;
	s.loss = (int)(rnd(&s) % 20);
	s.dup = (int)(rnd(&s) % 10);
	s.dmin = rrange(&s, 100, 2000);
	s.dmax = s.dmin + rrange(&s, 0, 60000);
	s.torn = (int)(rnd(&s) % 30);
	s.late = (int)(rnd(&s) % 20);
	/*
	 * two_node trades safety for availability: a node that cannot hear
	 * its peer but reaches the tiebreaker leads. Only crashes keep that
	 * safe (hactl check-config warns), so only crashes are simulated.
	 */
	if (crash_only)
		s.loss = s.dup = s.late = 0;
	for (i = 0; i < n; i++) {
		s.cfg.witness[i] = i >= n - witnesses;
		s.cfg.priority[i] = (int)(rnd(&s) % 3) * 10;
		/* Rates within the bound, both ways from true time. */
		s.node[i].rate = 1.0 + ((double)(rnd(&s) % 20001) - 10000) / 1e6;
		s.node[i].offset = rrange(&s, 0, 1000000);
		s.node[i].p_vote = -1;
		s.node[i].p_sw.failover = 1;
		s.node[i].p_sw.node_failover = 0xffffffff;
		s.node[i].down_until = rrange(&s, 0, 500) * US;
	}
	s.cfg.self = 0;
	/* Faults during the first 20 simulated seconds. */
	end = 20000 * US;
	while (s.now < end && !s.fail) {
		if (rnd(&s) % 40 == 0 && !crash_only)
			fault(&s);
		else if (crash_only && rnd(&s) % 200 == 0) {
			i = (int)(rnd(&s) % (uint64_t)n);
			if (s.node[i].up)
				crash(&s, i);
		}
		step(&s);
	}
	/* Heal: links up, rewind marks cleared, no loss. */
	memset(s.cut, 0, sizeof(s.cut));
	s.loss = s.dup = s.torn = s.late = 0;
	for (i = 0; i < n; i++)
		if (s.node[i].rewind && s.node[i].up) {
			struct ha_elect_local l = s.node[i].e.me;

			s.node[i].rewind = l.needs_rewind = 0;
			ha_elect_set_local(&s.node[i].e, &l);
		} else {
			s.node[i].rewind = 0;
		}
	end = s.now + bound * US;
	while (s.now < end && !s.fail && (leader(&s) < 0 || s.now < end -
	    (bound - 3000) * US))
		step(&s);
	if (!s.fail && leader(&s) < 0) {
		violation(&s, "no leader within 6 s after every fault healed");
		for (i = 0; trace && i < n; i++) {
			const char *w = ha_elect_why_not(&s.node[i].e,
			    local_ms(&s, i));

			printf("  n%d: up %d, role %d, term %" PRIu64 ", switches "
			    "%" PRIu64 "/%u removed %#x: %s\n", i, s.node[i].up,
			    (int)s.node[i].e.role, s.node[i].e.term,
			    s.node[i].e.sw.term, s.node[i].e.sw.version,
			    s.node[i].e.sw.removed, w ? w : "may stand");
		}
	}
	if (s.fail) {
		printf("  seed %" PRIu64 " (n=%d, witnesses=%d, two_node=%d): "
		    "%s at %.3f ms\n  replay: SIM_SEED=%" PRIu64 " SIM_N=%d "
		    "SIM_W=%d SIM_2=%d build/tests/elect_test\n", seed, n,
		    witnesses, two_node, s.fail, (double)s.now / US, seed, n,
		    witnesses, two_node);
		return -1;
	}
	return 0;
}


/* --- deterministic scenarios (no faults but those a case makes) -------- */

static struct sim sc;

static void
sc_start(int n, int witnesses)
{
	int i;

	memset(&sc, 0, sizeof(sc));
	sc.rng = 42;
	sc.n = n;
	sc.cfg.n = n;
	sc.cfg.heartbeat_ms = 100;
	sc.cfg.lease_ms = 1000;
	sc.cfg.drift_ppm = 10000;
	sc.cfg.max_lag = 1 << 20;
	sc.dmin = sc.dmax = 500;
	sc.trace = getenv("T_VERBOSE") != NULL;
	for (i = 0; i < n; i++) {
		sc.cfg.witness[i] = i >= n - witnesses;
		sc.cfg.priority[i] = 100 - 10 * i;
		sc.node[i].rate = 1.0;
		sc.node[i].p_vote = -1;
		sc.node[i].p_sw.failover = 1;
		sc.node[i].p_sw.node_failover = 0xffffffff;
	}
}

static void
sc_run(int64_t ms)
{
	int64_t end = sc.now + ms * US;

	while (next_at(&sc) < end && !sc.fail)
		step(&sc);
	sc.now = end;
}

/* Run until node i leads, at most ms; the time it took, or -1. */
static int64_t
sc_until_leads(int i, int64_t ms)
{
	int64_t t0 = sc.now, end = sc.now + ms * US;

	while (sc.now < end && !sc.fail && leader(&sc) != i)
		step(&sc);
	return leader(&sc) == i ? (sc.now - t0) / US : -1;
}

static void
sc_local(int i, uint64_t lsn, int healthy, int rewind)
{
	struct ha_elect_local l = sc.node[i].e.me;

	l.pos.lsn = lsn;
	l.healthy = healthy;
	l.needs_rewind = rewind;
	sc.node[i].rewind = rewind;
	ha_elect_set_local(&sc.node[i].e, &l);
}

/* 1 when node i does not stand and says why with text. */
static int
why_has(int i, const char *text)
{
	const char *w = ha_elect_why_not(&sc.node[i].e, local_ms(&sc, i));

	return w != NULL && strstr(w, text) != NULL;
}

static void
sc_do(int i, void (*fn)(struct ha_elect *, int64_t, int,
    struct ha_elect_out *), int arg)
{
	struct ha_elect_out o;

	memset(&o, 0, sizeof(o));
	fn(&sc.node[i].e, local_ms(&sc, i), arg, &o);
	apply(&sc, i, &o);
	sc.node[i].wake = sc.now;
}

TEST(first_leader_is_the_highest_priority)
{
	sc_start(3, 1);
	CHECK(sc_until_leads(0, 3000) > 0);
	/* One lease of quiet after start, then an election. */
	CHECK(sc.now >= 1000 * US && sc.now < 1300 * US);
	sc_run(5000);
	CHECK(leader(&sc) == 0 && sc.node[0].e.term == 1);
	CHECK(!sc.fail);
}

TEST(failover_when_the_leader_dies)
{
	int64_t t;

	sc_start(3, 1);
	sc_until_leads(0, 3000);
	sc_run(500);
	crash(&sc, 0);
	sc.node[0].down_until = INT64_MAX;
	t = sc_until_leads(1, 5000);
	/* A lease after the last heartbeat, plus a round trip. */
	CHECK(t > 800 && t < 1300);
	CHECK(!sc.fail);
}

/*
 * A node that cannot hear the leader (restarted behind a slow dialler,
 * or one direction of a link down) but reaches everyone: it must not
 * raise the term and depose the live leader. Raft without pre-vote
 * does: the leader learns the newer term from the deaf node's answer.
 */
TEST(a_node_that_cannot_hear_the_leader_does_not_depose_it)
{
	uint64_t term;

	sc_start(3, 0);
	CHECK(sc_until_leads(0, 3000) > 0);
	sc_run(500);
	term = sc.node[0].e.term;
	sc.cut[0][2] = 1;
	sc_run(5000);
	CHECK(leader(&sc) == 0);
	CHECK(sc.node[0].e.term == term);
	CHECK(sc.node[1].e.term == term);
	CHECK(sc.node[2].e.role == HA_FOLLOWER);
	/* Heard again: it follows, and the leader keeps its term. */
	sc.cut[0][2] = 0;
	sc_run(1000);
	CHECK(sc.node[2].e.leader == 0);
	CHECK(leader(&sc) == 0 && sc.node[0].e.term == term);
	CHECK(!sc.fail);
}

/*
 * The best member starts first, the others a moment later: while they
 * boot they say no to it, and they must not win the race that follows
 * (priority decides, not who finished booting first).
 */
TEST(priority_wins_a_staggered_start)
{
	int i;

	for (i = 200; i <= 600; i += 100) {
		sc_start(3, 0);
		sc.node[1].up = sc.node[2].up = 0;
		sc.node[1].down_until = sc.node[2].down_until = i * US;
		CHECK(sc_until_leads(0, 6000) > 0);
		CHECK(!sc.fail);
	}
}

/*
 * The same on a loaded machine: every message takes 50-300 ms, the two
 * others finish booting together. Having said no to the best member
 * while booting, they must give it its turn rather than race each other
 * (found by hawatch_topo on a machine with both cores busy).
 */
TEST(priority_wins_a_slow_staggered_start)
{
	int i, seed;

	for (seed = 1; seed <= 20; seed++)
		for (i = 300; i <= 1500; i += 300) {
			sc_start(3, 0);
			sc.rng = (uint64_t)seed;
			sc.dmin = 50 * US;
			sc.dmax = 300 * US;
			sc.node[1].up = sc.node[2].up = 0;
			sc.node[1].down_until = sc.node[2].down_until = i * US;
			CHECK(sc_until_leads(0, 8000) > 0);
			CHECK(!sc.fail);
		}
}

/*
 * As hawatch_topo saw it under ASan: the late starters' connections to
 * the best member come up only late in their boot, so its pre-vote
 * requests of that round were lost; it must ask again while they still
 * boot (they then hold back), not a round later, when the second-best
 * has stood already. Links that come up only after their boot: having
 * never heard from the best member, they wait one more lease for it.
 */
TEST(priority_wins_when_the_links_come_up_late)
{
	int64_t up;

	for (up = 500; up <= 1800; up += 25) {
		sc_start(3, 0);
		sc.node[1].up = sc.node[2].up = 0;
		sc.node[1].down_until = sc.node[2].down_until = 400 * US;
		sc.cut[0][1] = sc.cut[0][2] = sc.cut[1][0] = sc.cut[2][0] = 1;
		sc_run(up);
		sc.cut[0][1] = sc.cut[0][2] = sc.cut[1][0] = sc.cut[2][0] = 0;
		CHECK(sc_until_leads(0, 6000) > 0);
		CHECK(!sc.fail);
	}
}

static const char *forced_why;

static void
force(struct ha_elect *e, int64_t now, int node, struct ha_elect_out *o)
{
	(void)node;
	forced_why = ha_elect_force(e, now, o);
}

/*
 * Both other nodes gone for good: nobody leads until the operator forces
 * the survivor; it then keeps leading alone, and when a node comes back
 * it follows, and the lease is the usual one again (majority acks).
 * Refused while a leader is heard.
 */
TEST(force_leader_without_a_majority)
{
	sc_start(3, 0);
	CHECK(sc_until_leads(0, 3000) > 0);
	sc_do(1, force, -1);
	CHECK(forced_why && strstr(forced_why, "a leader is heard"));
	sc_do(0, force, -1);
	CHECK(forced_why && strstr(forced_why, "leads already"));
	crash(&sc, 1);
	crash(&sc, 2);
	sc.node[1].down_until = sc.node[2].down_until = INT64_MAX;
	sc_run(3000);
	CHECK(leader(&sc) < 0);
	sc_do(0, force, -1);
	CHECK(forced_why == NULL);
	CHECK(leader(&sc) == 0 && sc.node[0].e.forced);
	sc_run(5000);
	CHECK(leader(&sc) == 0);
	sc.node[1].down_until = sc.now;
	sc_run(3000);
	CHECK(leader(&sc) == 0 && !sc.node[0].e.forced);
	CHECK(sc.node[1].e.leader == 0 && sc.node[1].e.term == sc.node[0].e.term);
	/* The usual lease now: it ends when the majority goes again. */
	crash(&sc, 1);
	sc.node[1].down_until = INT64_MAX;
	sc_run(3000);
	CHECK(leader(&sc) < 0);
	CHECK(!sc.fail);
}

static void
off(struct ha_elect *e, int64_t now, int node, struct ha_elect_out *o)
{
	(void)now;
	ha_elect_set_failover(e, node, 0, o);
}

static void
on(struct ha_elect *e, int64_t now, int node, struct ha_elect_out *o)
{
	(void)now;
	ha_elect_set_failover(e, node, 1, o);
}

TEST(failover_off_moves_nothing)
{
	sc_start(3, 1);
	sc_until_leads(0, 3000);
	sc_do(0, off, -1);
	sc_run(500);	/* spread by heartbeats */
	CHECK(sc.node[1].e.sw.failover == 0 && sc.node[1].p_sw.failover == 0);
	crash(&sc, 0);
	sc.node[0].down_until = INT64_MAX;
	sc_run(5000);
	CHECK(leader(&sc) < 0);
	CHECK(why_has(1, "failover is off for the cluster"));
	sc_do(1, on, -1);
	CHECK(sc_until_leads(1, 3000) > 0);
	CHECK(!sc.fail);
}

TEST(node_failover_off)
{
	sc_start(4, 1);
	sc_until_leads(0, 3000);
	sc_do(0, off, 1);	/* node 1 may not take over */
	sc_run(500);
	crash(&sc, 0);
	sc.node[0].down_until = INT64_MAX;
	CHECK(sc_until_leads(2, 5000) > 0);
	CHECK(!sc.fail);
}

static void
handover(struct ha_elect *e, int64_t now, int to, struct ha_elect_out *o)
{
	ha_elect_abdicate(e, now, to, o);
}

TEST(switchover_is_quick_and_works_with_failover_off)
{
	int64_t t;

	sc_start(3, 1);
	sc_until_leads(0, 3000);
	sc_do(0, off, -1);
	sc_run(500);
	sc_do(0, handover, 1);
	t = sc_until_leads(1, 3000);
	/* No lease to wait out: the old leader gave it up. */
	CHECK(t > 0 && t < 100);
	sc_run(3000);
	CHECK(leader(&sc) == 1);
	CHECK(!sc.fail);
}

static void
xfer(struct ha_elect *e, int64_t now, int to, struct ha_elect_out *o)
{
	ha_elect_transfer(e, now, to, o);
	if (o->transfer)
		ha_elect_abdicate(e, now, o->transfer_to, o);
}

TEST(transfer_request_reaches_the_leader)
{
	sc_start(3, 0);
	sc_until_leads(0, 3000);
	sc_run(300);
	/* Node 2 asks for leadership; the leader hands over. */
	sc_do(2, xfer, 2);
	CHECK(sc.node[2].e.role == HA_FOLLOWER);
	{
		struct ha_elect_out o;
		int k, asked = 0;

		memset(&o, 0, sizeof(o));
		ha_elect_transfer(&sc.node[2].e, local_ms(&sc, 2), 2, &o);
		for (k = 0; k < o.n_send; k++)
			asked += o.send[k].kind == HA_E_TRANSFER &&
			    o.send[k].to == 0 && o.send[k].seq == 2;
		CHECK(asked == 1);
	}
	sc_do(0, xfer, 2);
	CHECK(sc_until_leads(2, 1000) > 0);
	CHECK(!sc.fail);
}

TEST(lagging_or_rewinding_nodes_do_not_lead)
{
	sc_start(4, 1);
	sc_until_leads(0, 3000);
	sc_local(0, 100 << 20, 1, 0);	/* the primary wrote 100 MB */
	sc_local(1, 10 << 20, 1, 0);	/* node 1 is 90 MB behind */
	sc_local(2, (100 << 20) - 1000, 1, 0);
	sc_run(500);
	sc_local(2, (100 << 20) - 1000, 1, 1);	/* and needs a rewind */
	crash(&sc, 0);
	sc.node[0].down_until = INT64_MAX;
	sc_run(5000);
	CHECK(leader(&sc) < 0);
	CHECK(why_has(1, "behind the best known position"));
	CHECK(why_has(2, "needs a rewind"));
	sc_local(2, (100 << 20) - 1000, 1, 0);	/* rewound */
	CHECK(sc_until_leads(2, 3000) > 0);
	CHECK(!sc.fail);
}

TEST(unhealthy_nodes_do_not_stand)
{
	sc_start(3, 1);
	sc_run(10);	/* booted */
	sc_local(0, 0, 0, 0);
	CHECK(sc_until_leads(1, 3000) > 0);
	CHECK(why_has(0, "health checks fail"));
	CHECK(!sc.fail);
}

TEST(two_members_without_witness_do_not_fail_over)
{
	sc_start(2, 0);
	sc_until_leads(0, 3000);
	sc_run(500);
	crash(&sc, 0);
	sc.node[0].down_until = INT64_MAX;
	sc_run(5000);
	CHECK(leader(&sc) < 0);
	sc.cfg.two_node = 1;
	sc.node[1].e.c.two_node = 1;
	CHECK(sc_until_leads(1, 3000) > 0);
	CHECK(!sc.fail);
}

static long
seeds(void)
{
	const char *e = getenv("SIM_SEEDS");

	if (e)
		return atol(e);
#if defined(__SANITIZE_ADDRESS__) || defined(__has_feature)
#if defined(__SANITIZE_ADDRESS__)
	return 2000;
#elif __has_feature(address_sanitizer)
	return 2000;
#endif
#endif
	return 5000;
}

static void
topology(int n, int witnesses, int two_node)
{
	long i, count = seeds(), bad = 0;

	memset(&st, 0, sizeof(st));
	for (i = 1; i <= count && bad < 3; i++, st.schedules++)
		if (schedule((uint64_t)i + (uint64_t)n * 1000003u +
		    (uint64_t)witnesses * 7919u, n, witnesses, two_node, 0) == -1)
			bad++;
	printf("  %d nodes (%d witness%s%s): %ld schedules, %ld events, %ld "
	    "elections, %ld leases won, %ld membership changes, a leader "
	    "%.0f%% of %.0f simulated s\n",
	    n, witnesses, witnesses == 1 ? "" : "es", two_node ? ", two_node" :
	    "", st.schedules, st.events, st.elections, st.leases, st.members,
	    st.sim_ms ? 100.0 * (double)st.lead_ms / (double)st.sim_ms : 0.0,
	    (double)st.sim_ms / 1000);
	CHECK(bad == 0);
	/* Not vacuous: elections happened and leaders led most of the time. */
	CHECK(st.leases >= count && st.lead_ms * 2 > st.sim_ms);
	CHECK(two_node || st.members >= count / 10);
}

static const char *member_why;

static void
remove_node(struct ha_elect *e, int64_t now, int node, struct ha_elect_out *o)
{
	member_why = ha_elect_set_member(e, now, node, 0, o);
}

static void
add_node(struct ha_elect *e, int64_t now, int node, struct ha_elect_out *o)
{
	member_why = ha_elect_set_member(e, now, node, 1, o);
}

static int
member_refused(const char *text)
{
	return member_why != NULL && strstr(member_why, text) != NULL;
}

/*
 * Five members, two gone for good: removed one at a time, the three left
 * are the cluster, and it keeps a leader when one more goes (2 of 3;
 * without the removals 2 of 5 is no majority). Refused: on a follower,
 * the leader itself, a node that is up, a second change before the
 * first has spread.
 */
TEST(remove_node_shrinks_the_majority)
{
	int i;

	sc_start(5, 0);
	CHECK(sc_until_leads(0, 3000) > 0);
	sc_do(1, remove_node, 4);
	CHECK(member_refused("only the leader"));
	sc_do(0, remove_node, 0);
	CHECK(member_refused("this node leads"));
	sc_do(0, remove_node, 4);
	CHECK(member_refused("it is up"));
	crash(&sc, 3);
	crash(&sc, 4);
	sc.node[3].down_until = sc.node[4].down_until = INT64_MAX;
	sc_run(1500);
	CHECK(leader(&sc) == 0);
	sc_do(0, remove_node, 4);
	CHECK(member_why == NULL && ha_elect_majority(&sc.node[0].e) == 3);
	sc_do(0, remove_node, 3);
	CHECK(member_refused("not reached a majority"));
	sc_run(300);
	for (i = 1; i < 3; i++)
		CHECK(sc.node[i].e.sw.removed == 1u << 4 &&
		    sc.node[i].p_sw.removed == 1u << 4);
	sc_do(0, remove_node, 3);
	CHECK(member_why == NULL && ha_elect_majority(&sc.node[0].e) == 2);
	sc_do(0, remove_node, 3);
	CHECK(member_refused("out of the cluster already"));
	sc_run(300);
	crash(&sc, 2);
	sc.node[2].down_until = INT64_MAX;
	sc_run(5000);
	CHECK(leader(&sc) == 0);
	/* A failover needs the majority of the three: 1 of 3 is not. */
	crash(&sc, 0);
	sc.node[0].down_until = INT64_MAX;
	sc_run(5000);
	CHECK(leader(&sc) < 0);
	CHECK(!sc.fail);
}

/*
 * A removed node that comes back learns it is out from the leader's
 * heartbeats: it neither stands nor is counted, until the leader takes
 * it back (only while it is heard).
 */
TEST(a_removed_node_waits_until_taken_back)
{
	sc_start(3, 0);
	CHECK(sc_until_leads(0, 3000) > 0);
	crash(&sc, 2);
	sc.node[2].down_until = INT64_MAX;
	sc_run(1500);
	sc_do(0, add_node, 2);
	CHECK(member_refused("in the cluster already"));
	sc_do(0, remove_node, 2);
	CHECK(member_why == NULL);
	sc_do(0, add_node, 2);
	CHECK(member_refused("not heard"));
	sc.node[2].down_until = sc.now;
	sc_run(2500);
	CHECK(sc.node[2].e.sw.removed == 1u << 2);
	CHECK(why_has(2, "removed from the cluster"));
	/* The leader goes: node 1 cannot lead (1 of 2), node 2 must not. */
	crash(&sc, 0);
	sc.node[0].down_until = INT64_MAX;
	sc_run(5000);
	CHECK(leader(&sc) < 0);
	sc.node[0].down_until = sc.now;
	CHECK(sc_until_leads(0, 5000) > 0);
	sc_run(500);
	sc_do(0, add_node, 2);
	CHECK(member_why == NULL && ha_elect_majority(&sc.node[0].e) == 2);
	sc_run(500);
	CHECK(sc.node[2].e.sw.removed == 0 && why_has(2, "") == 0);
	/* In again: it counts, and takes over when the leader goes. */
	crash(&sc, 0);
	sc.node[0].down_until = INT64_MAX;
	CHECK(sc_until_leads(1, 5000) > 0);
	CHECK(!sc.fail);
}

static void
cut_both(int i, int j, int on)
{
	sc.cut[i][j] = sc.cut[j][i] = (uint8_t)on;
}

/*
 * Raft's single-server-change pitfall, made by hand: node 4 starts out
 * of the cluster. Leader 0 takes it back, but only 4 hears of it, and 0
 * loses its lease. 1 leads (term 2) and removes 0, which it cannot hear;
 * 3 followed 1, hears nothing of the removal and restarts, now hearing
 * only 0 and 4: {0, 3, 4} is a majority of 0's five, disjoint from
 * {1, 2}, a majority of 1's three. 3 must refuse its vote: its switches
 * (stamped with term 2 by leader 1) are newer than 0's (term 1).
 */
TEST(a_stale_membership_change_cannot_win_a_vote)
{
	int i;

	sc_start(5, 0);
	for (i = 0; i < 5; i++) {
		sc.node[i].p_sw.removed = 1u << 4;
		sc.node[i].p_sw.version = 1;
	}
	CHECK(sc_until_leads(0, 4000) > 0);
	sc_run(500);
	for (i = 1; i < 4; i++)
		cut_both(0, i, 1);
	sc_do(0, add_node, 4);
	CHECK(member_why == NULL);
	for (i = 1; i < 4; i++)
		cut_both(4, i, 1);
	CHECK(sc_until_leads(1, 5000) > 0);
	sc_run(500);
	CHECK(sc.node[4].e.sw.removed == 0 && sc.node[3].e.leader == 1);
	cut_both(1, 3, 1);
	cut_both(2, 3, 1);
	sc_do(1, remove_node, 0);
	CHECK(member_why == NULL);
	crash(&sc, 3);
	sc_run(500);
	CHECK(sc.node[2].e.sw.removed == (1u << 0 | 1u << 4));
	cut_both(0, 3, 0);
	cut_both(4, 3, 0);
	sc_run(8000);
	CHECK(leader(&sc) == 1);
	CHECK(!sc.fail);
}

TEST(two_members_and_a_witness) { topology(3, 1, 0); }
TEST(three_members) { topology(3, 0, 0); }
TEST(five_members) { topology(5, 0, 0); }
TEST(four_members_and_a_witness) { topology(5, 1, 0); }
TEST(two_members_two_node_crashes) { topology(2, 0, 1); }

int
main(void)
{
	const char *one = getenv("SIM_SEED");

	t_suite = "elect";
	if (one) {
		return schedule(strtoull(one, NULL, 10), atoi(getenv("SIM_N") ?
		    getenv("SIM_N") : "3"), atoi(getenv("SIM_W") ? getenv("SIM_W") :
		    "0"), atoi(getenv("SIM_2") ? getenv("SIM_2") : "0"), 1) ? 1 : 0;
	}
	RUN(first_leader_is_the_highest_priority);
	RUN(failover_when_the_leader_dies);
	RUN(a_node_that_cannot_hear_the_leader_does_not_depose_it);
	RUN(priority_wins_a_staggered_start);
	RUN(priority_wins_a_slow_staggered_start);
	RUN(priority_wins_when_the_links_come_up_late);
	RUN(force_leader_without_a_majority);
	RUN(failover_off_moves_nothing);
	RUN(node_failover_off);
	RUN(switchover_is_quick_and_works_with_failover_off);
	RUN(transfer_request_reaches_the_leader);
	RUN(lagging_or_rewinding_nodes_do_not_lead);
	RUN(unhealthy_nodes_do_not_stand);
	RUN(two_members_without_witness_do_not_fail_over);
	RUN(remove_node_shrinks_the_majority);
	RUN(a_removed_node_waits_until_taken_back);
	RUN(a_stale_membership_change_cannot_win_a_vote);
	RUN(two_members_and_a_witness);
	RUN(three_members);
	RUN(five_members);
	RUN(four_members_and_a_witness);
	RUN(two_members_two_node_crashes);
	return t_done();
}
