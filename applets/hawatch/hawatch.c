/*
 * hawatch: the election and failover daemon (DESIGN.md "Election, leases
 * and fencing"). This file: the command line, start-up (state, detaching,
 * holding nothing), the driver of core/elect (persist, then send, then
 * act), signals, reload. See hawatch.h for the other parts.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "applets/applets.h"
#include "applets/hawatch/hawatch.h"
#include "core/daemon.h"
#include "core/log.h"
#include "core/members.h"
#include "core/state.h"
#include "core/util.h"

struct hawatch_opts {
	int foreground;
};

#define O(f) offsetof(struct hawatch_opts, f)

static const struct ha_opt opts[] = {
	{ 'f', "foreground", NULL, "stay in the foreground, log to stderr too",
	  HA_OPT_FLAG, O(foreground), 0, 0 },
	{ 0 },
};

static int run(const struct ha_args *a, void *o);

static const struct ha_cmd cmds[] = {
	{ NULL, "", "Watch the peers, elect a leader and move the resources "
	  "to it. Signals: USR1 take over, USR2 hand over, HUP reload, TERM "
	  "hand over and exit.", opts, 0, 0, HA_CMD_CONFIG, run },
};

static const struct ha_applet app = {
	"hawatch", "The election and failover daemon", cmds,
	HA_ARRAY_LEN(cmds),
};

void
hw_event(struct hw *h, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int slot = h->n_events % HW_EVENTS;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	free(h->events[slot]);
	h->events[slot] = ha_xstrdup(msg);
	h->event_time[slot] = (int64_t)time(NULL);
	h->n_events++;
	ha_log(HA_INFO, "%s", msg);
	if (h->ctl) {
		char line[600];
		struct tm tm;
		time_t t = (time_t)h->event_time[slot];

		strftime(line, 32, "%Y-%m-%d %H:%M:%S ", localtime_r(&t, &tm));
		ha_strlcpy(line + strlen(line), msg, sizeof(line) - strlen(line));
		ha_ctl_push(h->ctl, line);
	}
}

/* The term, vote and failover switches, before anything depends on them. */
int
hw_persist(struct hw *h)
{
	struct ha_state *st = ha_state_new();
	char key[96];
	size_t i;
	int rc;

	ha_state_set_u64(st, "term", h->e.term);
	ha_state_set(st, "voted_for", h->e.voted_for >= 0 ?
	    h->cfg->nodes[h->e.voted_for].name : "");
	ha_state_set_u64(st, "switches.version", h->e.sw.version);
	ha_state_set_u64(st, "switches.term", h->e.sw.term);
	ha_state_set(st, "failover", h->e.sw.failover ? "on" : "off");
	for (i = 0; i < h->cfg->n_nodes; i++) {
		snprintf(key, sizeof(key), "failover.%s", h->cfg->nodes[i].name);
		ha_state_set(st, key, h->e.sw.node_failover & (1u << i) ? "on" :
		    "off");
		ha_members_key(key, sizeof(key), h->cfg->nodes[i].name);
		if (h->e.sw.removed & (1u << i))
			ha_state_set(st, key, "yes");
	}
	ha_state_set_u64(st, "failovers", h->failovers);
	rc = ha_state_save(st, h->state_path);
	ha_state_free(st);
	return rc;
}

/*
 * Nodes went out of the cluster or came back (here, or spread by a
 * message): say so, and let the sync source push to the members only.
 */
static void
members_changed(struct hw *h)
{
	uint32_t d = h->e.sw.removed ^ h->removed_seen;
	size_t i;

	for (i = 0; i < h->cfg->n_nodes; i++)
		if (d & (1u << i))
			hw_event(h, "%s %s the cluster (%d voters, majority %d)",
			    h->cfg->nodes[i].name, h->e.sw.removed & (1u << i) ?
			    "removed from" : "taken back into",
			    ha_elect_voters(&h->e), ha_elect_majority(&h->e));
	if (h->e.sw.removed & (1u << h->self) & d)
		ha_log(HA_WARNING, "this node was removed from the cluster: it "
		    "neither votes nor leads until hactl add-node %s on the "
		    "leader", h->cfg->self->name);
	h->removed_seen = h->e.sw.removed;
	hw_sync_members(h);
}

static int64_t tick_at;

static void
tick_cb(struct ha_loop *l, void *arg)
{
	struct hw *h = arg;
	struct ha_elect_out o;

	(void)l;
	h->tick = NULL;
	memset(&o, 0, sizeof(o));
	ha_elect_tick(&h->e, ha_now_ms(), &o);
	hw_apply(h, &o);
}

void
hw_reschedule(struct hw *h)
{
	int64_t now = ha_now_ms(), at = ha_elect_next(&h->e, now);

	/* Resources and VIP lifetimes want a look now and then too. */
	if (at > now + 200)
		at = now + 200;
	if (h->tick && at >= tick_at)
		return;
	ha_loop_cancel(h->loop, h->tick);
	tick_at = at;
	h->tick = ha_loop_at(h->loop, at, tick_cb, h);
}

/* Carry out one batch of election actions, in the order that is safe. */
void
hw_apply(struct hw *h, struct ha_elect_out *o)
{
	int leading_before = h->res == R_HELD || h->res == R_TAKING;
	const char *why;

	if (o->persist && hw_persist(h) == -1) {
		/* Without the vote on disk, sending it could vote twice. */
		ha_log(HA_FAILURE, "cannot persist the election state in %s: "
		    "sending nothing", h->state_path);
		o->n_send = 0;
	}
	hw_send(h, o);
	if (h->e.sw.removed != h->removed_seen)
		members_changed(h);
	if (o->lead) {
		h->failovers++;
		hw_event(h, "leader of term %llu: taking the resources over",
		    (unsigned long long)h->e.term);
	}
	if (o->step_down)
		hw_event(h, "no longer leader (term %llu): %s",
		    (unsigned long long)h->e.term, o->why ? o->why : "");
	else if (o->why && !o->lead)
		ha_log(HA_DEBUG, "term %llu: %s", (unsigned long long)h->e.term,
		    o->why);
	if (o->transfer && h->res != R_RELEASING) {
		hw_event(h, "handing over to %s on request", o->transfer_to >= 0 ?
		    h->cfg->nodes[o->transfer_to].name : "the best member");
		h->hand_to = o->transfer_to;
		hw_res_release_now(h, 1);
	}
	(void)leading_before;
	why = ha_elect_why_not(&h->e, ha_now_ms());
	if (why != h->why_last && h->e.role == HA_FOLLOWER)
		ha_log(HA_DEBUG, "may stand for election: %s", why ? why :
		    "yes");
	h->why_last = why;
	if (o->stale_leader)
		hw_res_stale_leader(h);
	hw_res_update(h);
	hw_reschedule(h);
}

static int
load_state(struct hw *h)
{
	struct ha_state *st;
	uint64_t term = 0, ver = 0, fo = 0, swterm = 0;
	const struct ha_cfg *cfg = h->cfg;
	const char *v;
	uint32_t nodes = 0, removed = 0;
	int vote = -1, cfo = cfg->cluster->failover;
	size_t i;
	char key[96];

	if (ha_state_load(h->state_path, &st) == -1) {
		ha_log(HA_FAILURE, "refusing to start: a node that forgot its "
		    "vote could vote twice");
		return -1;
	}
	ha_state_get_u64(st, "term", &term);
	ha_state_get_u64(st, "switches.version", &ver);
	ha_state_get_u64(st, "switches.term", &swterm);
	ha_state_get_u64(st, "failovers", &fo);
	if ((v = ha_state_get(st, "voted_for")) && *v) {
		for (i = 0; i < cfg->n_nodes; i++)
			if (strcmp(cfg->nodes[i].name, v) == 0)
				vote = (int)i;
	}
	for (i = 0; i < cfg->n_nodes; i++) {
		snprintf(key, sizeof(key), "failover.%s", cfg->nodes[i].name);
		v = ha_state_get(st, key);
		if (ver ? v && strcmp(v, "on") == 0 : cfg->nodes[i].failover)
			nodes |= 1u << i;
		ha_members_key(key, sizeof(key), cfg->nodes[i].name);
		if ((v = ha_state_get(st, key)) && strcmp(v, "yes") == 0)
			removed |= 1u << i;
	}
	if (ver && (v = ha_state_get(st, "failover")))
		cfo = strcmp(v, "on") == 0;
	ha_state_free(st);
	h->failovers = fo;
	h->e.term = term;
	h->e.voted_for = vote;
	h->e.sw.version = (uint32_t)ver;
	h->e.sw.term = swterm;
	h->e.sw.failover = cfo;
	h->e.sw.node_failover = nodes;
	h->e.sw.removed = removed;
	return 0;
}

static void
elect_init(struct hw *h)
{
	const struct ha_cfg *cfg = h->cfg;
	struct ha_elect_cfg c;
	uint64_t term = h->e.term;
	struct ha_elect_sw sw = h->e.sw;
	int vote = h->e.voted_for;
	size_t i;

	memset(&c, 0, sizeof(c));
	c.n = (int)cfg->n_nodes;
	c.self = h->self;
	for (i = 0; i < cfg->n_nodes; i++) {
		c.witness[i] = cfg->nodes[i].role == HA_ROLE_WITNESS;
		c.priority[i] = (int)cfg->nodes[i].priority;
	}
	c.heartbeat_ms = cfg->cluster->heartbeat_ms;
	c.lease_ms = cfg->cluster->lease_ms;
	c.drift_ppm = cfg->cluster->clock_drift_ppm;
	c.max_lag = cfg->postgres ? cfg->postgres->max_lag_on_failover : 0;
	c.two_node = cfg->cluster->two_node;
	ha_elect_init(&h->e, &c, term, vote, &sw, ha_now_ms());
	h->removed_seen = sw.removed;
	h->me.healthy = 1;
	ha_elect_set_local(&h->e, &h->me);
}

static void
on_stop(struct ha_loop *l, void *arg)
{
	struct hw *h = arg;

	if (h->stopping) {
		ha_log(HA_WARNING, "asked again to stop: stopping now");
		hw_res_release_now(h, 0);
		ha_loop_stop(l);
		return;
	}
	h->stopping = 1;
	hw_event(h, "stopping%s", h->res == R_FREE ? "" :
	    ": handing the resources over first");
	h->hand_to = -1;
	if (h->res == R_FREE && !ha_elect_leading(&h->e, ha_now_ms()))
		ha_loop_stop(l);
	else
		hw_res_release_now(h, 1);
}

static void
on_usr1(struct ha_loop *l, void *arg)
{
	struct hw *h = arg;
	struct ha_elect_out o;

	(void)l;
	memset(&o, 0, sizeof(o));
	hw_event(h, "SIGUSR1: asking the leader to hand over to this node");
	ha_elect_transfer(&h->e, ha_now_ms(), h->self, &o);
	o.transfer = 0;		/* already leader: nothing to do */
	hw_apply(h, &o);
}

static void
on_usr2(struct ha_loop *l, void *arg)
{
	struct hw *h = arg;

	(void)l;
	if (h->res == R_FREE) {
		ha_log(HA_INFO, "SIGUSR2: not the leader, nothing to hand over");
		return;
	}
	hw_event(h, "SIGUSR2: handing over to the best member");
	h->hand_to = -1;
	hw_res_release_now(h, 1);
}

/* The parts of a configuration that a reload cannot change. */
static const char *
fixed_changed(const struct ha_cfg *a, const struct ha_cfg *b)
{
	size_t i;

	if (strcmp(a->cluster->name, b->cluster->name) != 0 ||
	    strcmp(a->cluster->node, b->cluster->node) != 0)
		return "the cluster or node name";
	if (a->n_nodes != b->n_nodes)
		return "the list of nodes";
	for (i = 0; i < a->n_nodes; i++)
		if (strcmp(a->nodes[i].name, b->nodes[i].name) != 0 ||
		    !ha_addr_equal(&a->nodes[i].address, &b->nodes[i].address) ||
		    a->nodes[i].port != b->nodes[i].port ||
		    a->nodes[i].role != b->nodes[i].role)
			return "a node's name, address, port or role";
	if (strcmp(a->cluster->state_dir, b->cluster->state_dir) != 0 ||
	    strcmp(a->cluster->run_dir, b->cluster->run_dir) != 0)
		return "state_dir or run_dir";
	return NULL;
}

static void
on_hup(struct ha_loop *l, void *arg)
{
	struct hw *h = arg;
	struct ha_cfg *nc = ha_cfg_load(h->conf, h->ov, h->n_ov);
	const char *what;
	size_t i;

	(void)l;
	if (nc == NULL) {
		ha_log(HA_FAILURE, "reload: %s has errors: keeping the running "
		    "configuration", h->conf);
		return;
	}
	if ((what = fixed_changed(h->cfg, nc)) != NULL) {
		ha_log(HA_FAILURE, "reload: %s changed, which needs a restart: "
		    "keeping the running configuration", what);
		ha_cfg_free(nc);
		return;
	}
	hw_checks_stop(h);
	ha_cfg_free(h->cfg);
	h->cfg = nc;
	for (i = 0; i < nc->n_nodes; i++) {
		h->peer[i].node = &nc->nodes[i];
		h->e.c.priority[i] = (int)nc->nodes[i].priority;
	}
	h->e.c.heartbeat_ms = nc->cluster->heartbeat_ms;
	h->e.c.lease_ms = nc->cluster->lease_ms;
	h->e.c.drift_ppm = nc->cluster->clock_drift_ppm;
	h->e.c.max_lag = nc->postgres ? nc->postgres->max_lag_on_failover : 0;
	hw_checks_start(h);
	hw_sync_reload(h, h->res == R_HELD);
	hw_event(h, "reloaded %s", h->conf);
}

static char *
self_exe(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n <= 0)
		return ha_xstrdup("habox");
	buf[n] = '\0';
	return ha_xstrdup(buf);
}

static int
prepare(struct hw *h, const struct ha_args *a)
{
	const struct ha_cfg_cluster *cl;
	int pid;

	h->conf = a->conf;
	h->ov = a->overrides;
	h->n_ov = a->n_overrides;
	if ((h->cfg = ha_cfg_load(a->conf, a->overrides, a->n_overrides)) == NULL)
		return HA_EXIT_USAGE;
	cl = h->cfg->cluster;
	h->self = (int)(h->cfg->self - h->cfg->nodes);
	if (h->cfg->n_nodes > HA_ELECT_MAX) {
		ha_log(HA_FAILURE, "at most %d nodes", HA_ELECT_MAX);
		return HA_EXIT_USAGE;
	}
	h->exe = self_exe();
	h->state_path = ha_members_state_path(h->cfg);
	h->pidfile = ha_xasprintf("%s/hawatch.pid", cl->run_dir);
	h->sock = ha_xasprintf("%s/hawatch.sock", cl->run_dir);
	if ((mkdir(cl->state_dir, 0700) == -1 && errno != EEXIST) ||
	    (mkdir(cl->run_dir, 0755) == -1 && errno != EEXIST)) {
		ha_log_errno(HA_FAILURE, "cannot make %s or %s", cl->state_dir,
		    cl->run_dir);
		return HA_EXIT_FAIL;
	}
	if ((pid = ha_daemon_running(h->pidfile)) != 0) {
		ha_log(HA_FAILURE, "already running (pid %d, %s)", pid,
		    h->pidfile);
		return HA_EXIT_FAIL;
	}
	return load_state(h) == -1 ? HA_EXIT_FAIL : HA_EXIT_OK;
}

/* Everything that must work before we say we are ready. */
static const char *
start(struct hw *h)
{
	h->loop = ha_loop_new();
	h->hand_to = -1;
	h->started = ha_now_ms();
	if ((h->ctx = ha_tls_ctx_from_cfg(h->cfg)) == NULL)
		return "cannot load the TLS credentials (see the log)";
	/* A node that starts holds nothing. */
	if (hw_res_remove_vips(h) == -1)
		return "cannot remove the virtual IPs it may hold";
	elect_init(h);
	if (hw_peers_start(h) == -1)
		return "cannot listen on this node's port (see the log)";
	if (hw_ctl_start(h) == -1)
		return "cannot open the control socket (see the log)";
	hw_local_start(h);
	hw_sync_start(h);
	if (hw_checks_start(h) == -1)
		return "cannot start the health checks (see the log)";
	ha_loop_signal(h->loop, SIGTERM, on_stop, h);
	ha_loop_signal(h->loop, SIGINT, on_stop, h);
	ha_loop_signal(h->loop, SIGHUP, on_hup, h);
	ha_loop_signal(h->loop, SIGUSR1, on_usr1, h);
	ha_loop_signal(h->loop, SIGUSR2, on_usr2, h);
	signal(SIGPIPE, SIG_IGN);
	return NULL;
}

static void
finish(struct hw *h)
{
	int i;

	hw_res_release_sync(h);
	hw_sync_stop(h);
	hw_res_bg_stop(h);
	hw_checks_stop(h);
	hw_local_stop(h);
	hw_wd_disarm(h);
	hw_ctl_stop(h);
	if (h->srv)
		hw_peers_stop(h);
	ha_daemon_stop(h->pidfile);
	ha_tls_ctx_free(h->ctx);
	ha_loop_free(h->loop);
	for (i = 0; i < HW_EVENTS; i++)
		free(h->events[i]);
	free(h->exe);
	free(h->state_path);
	free(h->pidfile);
	free(h->sock);
	ha_cfg_free(h->cfg);
}

static int
run(const struct ha_args *a, void *op)
{
	struct hawatch_opts *o = op;
	struct hw h;
	const char *why;
	int rc;

	ha_daemon_hold_signals();
	memset(&h, 0, sizeof(h));
	h.wd_fd = -1;
	if ((rc = prepare(&h, a)) != HA_EXIT_OK) {
		ha_cfg_free(h.cfg);
		return rc;
	}
	h.foreground = o->foreground;
	if (ha_daemon_start("hawatch", o->foreground) == -1)
		return HA_EXIT_FAIL;
	if ((why = start(&h)) != NULL) {
		ha_log(HA_FAILURE, "%s", why);
		ha_daemon_failed(why);
		finish(&h);
		return HA_EXIT_FAIL;
	}
	if (ha_daemon_ready(h.pidfile) == -1) {
		finish(&h);
		return HA_EXIT_FAIL;
	}
	hw_event(&h, "started as %s %s, term %llu, failover %s",
	    ha_cfg_role_name(h.cfg->self->role), h.cfg->self->name,
	    (unsigned long long)h.e.term, h.e.sw.failover ? "on" : "off");
	hw_reschedule(&h);
	ha_loop_run(h.loop);
	hw_event(&h, "stopped");
	finish(&h);
	return HA_EXIT_OK;
}

int
hawatch_main(int argc, char **argv)
{
	struct hawatch_opts o = { 0 };

	return ha_cli_main(&app, argc, argv, &o);
}
