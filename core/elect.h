/*
 * The election (DESIGN.md "Election, leases and fencing") as a pure state
 * machine: no I/O, no clock, no allocation. Events go in with the current
 * monotonic time of this node (ms); actions come out: persist the term and
 * vote (before sending anything of the same batch), send messages, lead,
 * step down. hawatch drives it for real; tests/unit/sim_test.c drives many
 * at once under random crashes, partitions, delays and clock drift.
 *
 * The invariant: never two nodes with unexpired leases. A leader's lease
 * runs from the send time of the newest heartbeat (or vote request) a
 * majority acknowledged, shortened by the clock-drift bound; every node
 * that acknowledged promises not to vote for anyone else for a lease from
 * when it received it, and a node that (re)starts votes for no one for a
 * lease. So by the time a majority can elect someone else, the old lease
 * is over on the old leader's own clock.
 */
#ifndef HA_ELECT_H
#define HA_ELECT_H

#include <stdint.h>

#define HA_ELECT_MAX 16		/* nodes in a cluster */
#define HA_ELECT_RING 64	/* heartbeats remembered for acks */

/* A data position: PostgreSQL WAL LSN, then the sync generation. */
struct ha_pos {
	uint64_t lsn;
	uint64_t gen;
};

enum ha_elect_role { HA_FOLLOWER, HA_CANDIDATE, HA_LEADER };

enum ha_elect_kind {
	HA_E_HEARTBEAT = 1,	/* leader -> all */
	HA_E_ACK,		/* -> leader */
	HA_E_VOTE_REQ,		/* candidate -> all */
	HA_E_VOTE,		/* -> candidate */
	HA_E_ABDICATE,		/* leader gave its lease up; seq: successor */
	HA_E_TRANSFER,		/* -> leader: hand over to seq (0xff: best) */
};

/*
 * The cluster's switches, set by the operator and spread by every
 * message, persisted with the term and vote: automatic failover for the
 * cluster and per node, and the nodes taken out of the cluster (hactl
 * remove-node), which neither vote nor count in the majority. Ordered by
 * (term, version): the term in which they were made, or last confirmed
 * by a leader (each new leader stamps its term on them), then a count of
 * changes. The newer wins, and a vote goes only to a candidate whose
 * switches are not older than the voter's: as Raft's log rule, so that a
 * membership change a majority has is known to every future leader.
 */
struct ha_elect_sw {
	uint64_t term;
	uint32_t version;
	int failover;			/* for the cluster */
	uint32_t node_failover;		/* bit i: node i may fail over */
	uint32_t removed;		/* bit i: node i is out */
};

/* Flags in messages. */
enum {
	HA_EF_HEALTHY = 1,	/* the sender's checks pass */
	HA_EF_CAN_LEAD = 2,	/* member, failover allowed, no rewind needed */
	HA_EF_GRANTED = 4,	/* vote: yes */
	HA_EF_SWITCHOVER = 8,	/* vote request after an abdication */
	HA_EF_NEEDS_REWIND = 16,
	HA_EF_PREVOTE = 32,	/* vote request/answer: would you? (no term change) */
};

struct ha_elect_msg {
	uint8_t kind;
	uint8_t from;
	uint8_t to;		/* receiver */
	uint8_t flags;
	uint64_t term;
	uint64_t seq;		/* heartbeat number; ack: the one acked;
				 * abdicate, transfer: the successor */
	struct ha_pos pos;	/* the sender's data position */
	struct ha_pos best;	/* heartbeat: the best position known */
	uint32_t cands;		/* heartbeat: bit i: node i may take over */
	struct ha_elect_sw sw;	/* the sender's switches */
};

struct ha_elect_cfg {
	int n;				/* nodes, <= HA_ELECT_MAX */
	int self;
	uint8_t witness[HA_ELECT_MAX];	/* votes, never leads */
	int priority[HA_ELECT_MAX];	/* the higher tries first */
	int64_t heartbeat_ms;
	int64_t lease_ms;
	long drift_ppm;			/* clock-rate bound between nodes */
	uint64_t max_lag;		/* LSN bytes a candidate may be behind */
	int two_node;			/* two members may win with the tiebreaker */
};

/* What this node knows about itself, from hawatch's checks. */
struct ha_elect_local {
	struct ha_pos pos;
	int healthy;
	int needs_rewind;
	int tiebreaker_ok;		/* two_node: the tiebreaker answers */
};

/* Actions of one event, for the driver to carry out in this order. */
struct ha_elect_out {
	int persist;			/* write term, vote and switches first */
	int n_send;
	struct ha_elect_msg send[2 * HA_ELECT_MAX];
	int lead;			/* became leader: take the resources over */
	int step_down;			/* stopped leading: release them now */
	int transfer;			/* leader: hand over to transfer_to */
	int stale_leader;		/* leader: a leader of an older term
					 * is heard: announce the VIP again */
	int transfer_to;		/* (-1: the best) */
	const char *why;		/* for the log, when something changed */
};

/* What a node remembers about a peer, for status and decisions. */
struct ha_elect_peer {
	int64_t last_seen;		/* local time of its last message, or 0 */
	struct ha_pos pos;
	uint8_t flags;
	uint64_t sw_term;		/* of the switches it sent last */
	uint32_t version;
};

struct ha_elect {
	struct ha_elect_cfg c;
	/* persistent */
	uint64_t term;
	int voted_for;			/* -1: nobody in this term */
	struct ha_elect_sw sw;
	/* volatile */
	enum ha_elect_role role;
	int leader;			/* of this term as far as we know, or -1 */
	int64_t boot_until;		/* no votes, no candidacy before */
	int64_t promise_until;		/* no votes for another before */
	int promised_to;
	int64_t stand_at;		/* earliest next candidacy */
	int successor;			/* abdication seen in favour of, or -1 */
	uint64_t successor_term;
	struct ha_elect_local me;
	struct ha_pos best;
	uint32_t cands;			/* from the leader: who may take over */
	struct ha_elect_peer peer[HA_ELECT_MAX];
	/* pre-candidate: asking whether a majority would vote */
	int prevoting;
	uint32_t prevotes;
	uint32_t prevote_answers;
	int64_t prevote_sent;
	int64_t prevote_asked;		/* last (re)sent to the silent ones */
	/* leader by the operator's word (ha_elect_force) */
	int forced;
	int64_t forced_at;
	/* candidate */
	uint32_t votes;
	int64_t vote_sent;
	int switchover;
	/* leader */
	uint64_t seq;
	int64_t sent[HA_ELECT_RING];
	int64_t acked[HA_ELECT_MAX];	/* send time of the newest acked */
	int64_t lease_until;
	uint32_t lease_removed;		/* sw.removed the lease was counted by */
	int64_t next_beat;
};

/*
 * Start (or restart) with the persisted term, vote and switches. A node
 * that starts holds nothing and votes for no one for one lease.
 */
void ha_elect_init(struct ha_elect *e, const struct ha_elect_cfg *c,
    uint64_t term, int voted_for, const struct ha_elect_sw *sw, int64_t now);

/* Time passes: heartbeats, lease expiry, candidacy. */
void ha_elect_tick(struct ha_elect *e, int64_t now, struct ha_elect_out *o);
/* A message from a peer (already authenticated by TLS). */
void ha_elect_recv(struct ha_elect *e, int64_t now,
    const struct ha_elect_msg *m, struct ha_elect_out *o);
/* This node's position and health changed. */
void ha_elect_set_local(struct ha_elect *e, const struct ha_elect_local *l);

/*
 * Leader: give the lease up now (resources already released) and let
 * `to` (-1: the best candidate) take over at once. Also for a failed
 * take-over step: this node does not stand again for a while.
 */
/* Lead without a majority (hactl force-leader): NULL, or why not. */
const char *ha_elect_force(struct ha_elect *e, int64_t now,
    struct ha_elect_out *o);
void ha_elect_abdicate(struct ha_elect *e, int64_t now, int to,
    struct ha_elect_out *o);
/* Any node: ask the leader to hand over to `to` (switchover). */
void ha_elect_transfer(struct ha_elect *e, int64_t now, int to,
    struct ha_elect_out *o);
/* Change the failover switches (on the leader: spread by heartbeats). */
void ha_elect_set_failover(struct ha_elect *e, int node, int on,
    struct ha_elect_out *o);
/*
 * Leader: take node out of the cluster (in = 0) or back in (in = 1), one
 * change at a time: NULL, or why not. A node goes out only when it is
 * not heard, and comes back only when it is.
 */
const char *ha_elect_set_member(struct ha_elect *e, int64_t now, int node,
    int in, struct ha_elect_out *o);

/*
 * 1 when member i (not us) could take leadership over, its data aside:
 * a member, heard within a lease, healthy.
 */
int ha_elect_could_take(const struct ha_elect *e, int i, int64_t now);
/* The best member to hand over to now (caught up, healthy), or -1. */
int ha_elect_successor(const struct ha_elect *e, int64_t now);
/* When ha_elect_tick must run next (local ms). */
int64_t ha_elect_next(const struct ha_elect *e, int64_t now);
/* The leader as known now (heard within a lease, or us), or -1. */
int ha_elect_leader_now(const struct ha_elect *e, int64_t now);
/* 1 while this node leads with a valid lease. */
int ha_elect_leading(const struct ha_elect *e, int64_t now);
/* Voters (members and witnesses not removed) and their majority. */
int ha_elect_voters(const struct ha_elect *e);
int ha_elect_majority(const struct ha_elect *e);
/* Why this node does not stand for election now (NULL: it may). */
const char *ha_elect_why_not(const struct ha_elect *e, int64_t now);

#endif
