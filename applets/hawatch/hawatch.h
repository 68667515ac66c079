/*
 * hawatch, the election and failover daemon (DESIGN.md "Election, leases
 * and fencing"): one thread, one poll loop. peers.c keeps a connection to
 * every other node and carries core/elect's messages; res.c takes the
 * resources over and hands them back by running the other applets as
 * children; checks.c runs the health checks; local.c watches PostgreSQL
 * and the sync generations; ctl.c answers hactl on the control socket.
 */
#ifndef HA_HAWATCH_H
#define HA_HAWATCH_H

#include <stdint.h>

#include "core/config.h"
#include "core/ctl.h"
#include "core/elect.h"
#include "core/loop.h"
#include "core/peer.h"
#include "core/run.h"
#include "core/tls.h"

struct hw;

struct hw_peer {
	struct hw *h;
	int idx;
	const struct ha_cfg_node *node;
	struct ha_peer *out;		/* our dialled connection: sends */
	struct ha_peer *in;		/* its connection to us: sends while
					 * ours is not up yet */
	int up;
	int backoff_ms;
	struct ha_timer *retry;
	int64_t last_in;		/* local ms of its last message */
	int announced;			/* logged as up */
};

/* A child step of a take-over or hand-back. */
struct hw_step {
	char *label;
	char *argv[16];			/* argv[0] NULL: a shell command */
	char *shell;
	int64_t timeout_ms;
	int critical;			/* failing it aborts a switchover */
};

enum hw_res { R_FREE, R_TAKING, R_HELD, R_RELEASING };

#define HW_EVENTS 64

struct hw {
	const char *conf;
	const char *const *ov;
	size_t n_ov;
	struct ha_cfg *cfg;
	char *exe;			/* this binary, for child applets */
	int self;
	int foreground;
	struct ha_loop *loop;
	struct ha_tls_ctx *ctx;
	struct ha_server *srv;
	struct ha_ctl_server *ctl;
	struct ha_elect e;
	struct ha_timer *tick;
	struct hw_peer peer[HA_ELECT_MAX];
	char *state_path, *pidfile, *sock;
	int stopping;			/* SIGTERM: hand over, then exit */
	int64_t started;
	/* resources (res.c) */
	enum hw_res res;
	int graceful;			/* hand-back for a switchover */
	int hand_to;			/* switchover target, or -1 */
	struct hw_step *steps;
	int n_steps, cur;
	struct ha_proc *proc;
	struct ha_timer *proc_timer;
	int take_failed;
	int64_t vip_renewed;
	int take_waiting;		/* leader, waiting for a demote to end */
	int64_t upstream_lost_at;	/* standby without a WAL sender */
	int wd_fd;		/* watchdog, -1: not armed */
	char notified[16];	/* the state notify = CMD last heard */
	const char *why_last;	/* ha_elect_why_not, logged on change */
	int64_t garp_at;
	int64_t stale_at;		/* last re-announce for a stale leader */
	int64_t took_at, lost_at;	/* for status: when roles changed */
	/* local state (local.c) */
	struct ha_elect_local me;
	struct ha_timer *pg_timer;
	char pg_role[16];		/* primary, standby, stopped, ... */
	char pg_upstream[64];		/* host a standby follows */
	int rebuild;			/* marked needs-rebuild */
	/* a primary's pg_stat_replication: each member's flush position,
	 * read with ours (me.pos) in one poll; sb_at 0: none */
	uint64_t sb_flush[HA_ELECT_MAX];
	int64_t sb_at;
	int64_t demote_at;		/* next demote attempt */
	/* checks (checks.c) */
	struct hw_check *checks;
	int n_checks;
	/* events (ctl.c) */
	char *events[HW_EVENTS];
	int64_t event_time[HW_EVENTS];
	int n_events;
	uint64_t failovers;
	uint32_t removed_seen;		/* e.sw.removed when last looked at */
};

/* peers.c */
int hw_peers_start(struct hw *h);
void hw_peers_stop(struct hw *h);
void hw_send(struct hw *h, const struct ha_elect_out *o);

/* hawatch.c: the election driver */
void hw_apply(struct hw *h, struct ha_elect_out *o);
void hw_reschedule(struct hw *h);
int hw_persist(struct hw *h);
void hw_event(struct hw *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* res.c */
void hw_res_update(struct hw *h);
void hw_res_release_now(struct hw *h, int graceful);
void hw_res_release_sync(struct hw *h);
void hw_res_bg_stop(struct hw *h);
void hw_res_stale_leader(struct hw *h);
void hw_res_renew(struct hw *h);
int hw_res_remove_vips(struct hw *h);
void hw_res_vips_status(struct hw *h, int lead, struct ha_buf *t,
    struct ha_buf *j);
const char *hw_res_name(enum hw_res r);

/* local.c */
/* sync.c: hasync serve everywhere, the sync source while leading. */
void hw_sync_start(struct hw *h);
void hw_sync_lead(struct hw *h);
void hw_sync_unlead(struct hw *h);
void hw_sync_stop(struct hw *h);
void hw_sync_reload(struct hw *h, int leading);
void hw_sync_members(struct hw *h);

void hw_local_start(struct hw *h);
void hw_local_stop(struct hw *h);
/* A haprom demote or rebuild is running: do not take over meanwhile. */
int hw_local_busy(const struct hw *h);

/* wdog.c: the watchdog, held only by a leader. */
void hw_wd_arm(struct hw *h);
void hw_wd_feed(struct hw *h);
void hw_wd_disarm(struct hw *h);
void hw_local_changed(struct hw *h);
int hw_local_caught_up(const struct hw *h, int i, int64_t now,
    uint64_t *behind);
int hw_local_successor(const struct hw *h, int64_t now);

/* checks.c */
int hw_checks_start(struct hw *h);
void hw_checks_stop(struct hw *h);
int hw_checks_healthy(const struct hw *h);
int hw_check_up(const struct hw *h, int i);
void hw_checks_status(const struct hw *h, struct ha_buf *text,
    struct ha_buf *json);

/* ctl.c */
int hw_ctl_start(struct hw *h);
void hw_ctl_stop(struct hw *h);

#endif
