/*
 * hawatch's resources: the take-over in DESIGN.md's order (promote
 * PostgreSQL, add and announce the VIPs, start the services) and the
 * hand-back in reverse, each step the command an operator would type
 * (`habox haprom promote`, `habox havip up NAME`, the service's start
 * command), run as a child with a timeout. A failing take-over step hands
 * everything back and steps down: never a half-active leader holding the
 * VIP. Losing the lease releases at once, VIP first. While leading, the
 * VIPs' kernel lifetime is renewed with the lease (in-process netlink), so
 * a killed or frozen hawatch loses them on its own.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applets/hawatch/hawatch.h"
#include "core/json.h"
#include "core/log.h"
#include "ha_kconfig.h"

#if CONFIG_HAVIP
#include "core/netlink.h"
#endif

const char *
hw_res_name(enum hw_res r)
{
	static const char *const n[] = {
		[R_FREE] = "free", [R_TAKING] = "taking over",
		[R_HELD] = "held", [R_RELEASING] = "handing back",
	};

	return n[r];
}

static void
steps_free(struct hw *h)
{
	int i, j;

	for (i = 0; i < h->n_steps; i++) {
		free(h->steps[i].label);
		free(h->steps[i].shell);
		for (j = 0; h->steps[i].argv[j]; j++)
			free(h->steps[i].argv[j]);
	}
	free(h->steps);
	h->steps = NULL;
	h->n_steps = h->cur = 0;
}

static struct hw_step *
step_new(struct hw *h, const char *label, int64_t timeout_ms)
{
	struct hw_step *s;

	h->steps = ha_xreallocarray(h->steps, (size_t)h->n_steps + 1,
	    sizeof(*h->steps));
	s = &h->steps[h->n_steps++];
	memset(s, 0, sizeof(*s));
	s->label = ha_xstrdup(label);
	s->timeout_ms = timeout_ms;
	return s;
}

/* `habox APPLET ARGS... -c CONF [-o ...]`: the same configuration. */
static void
applet_step(struct hw *h, const char *label, int64_t timeout_ms,
    const char *const *args)
{
	struct hw_step *s = step_new(h, label, timeout_ms);
	int n = 0;
	size_t i;

	s->argv[n++] = ha_xstrdup(h->exe);
	for (i = 0; args[i] && n < 10; i++)
		s->argv[n++] = ha_xstrdup(args[i]);
	s->argv[n++] = ha_xstrdup("-c");
	s->argv[n++] = ha_xstrdup(h->conf);
	for (i = 0; i < h->n_ov && n < 14; i++) {
		s->argv[n++] = ha_xstrdup("-o");
		s->argv[n++] = ha_xstrdup(h->ov[i]);
	}
	s->argv[n] = NULL;
}

static void
shell_step(struct hw *h, const char *label, int64_t timeout_ms,
    const char *cmd)
{
	struct hw_step *s = step_new(h, label, timeout_ms);

	s->shell = ha_xstrdup(cmd);
}

/*
 * The VIP's kernel lifetime: the lease in whole seconds (at least one),
 * renewed every 200 ms while the lease holds; a frozen or killed hawatch
 * loses the VIP about a lifetime after its last renewal.
 */
static long
vip_lifetime(const struct hw *h)
{
	return (long)((h->cfg->cluster->lease_ms + 999) / 1000);
}

static void
plan_take(struct hw *h)
{
	const struct ha_cfg *c = h->cfg;
	char label[160], life[32];
	size_t i;

	steps_free(h);
	if (c->postgres && CONFIG_HAPROM) {
		const char *a[] = { "haprom", "promote", NULL };

		applet_step(h, "promote PostgreSQL",
		    c->postgres->promote_timeout_ms + 5000, a);
	}
	snprintf(life, sizeof(life), "%lds", vip_lifetime(h));
	for (i = 0; i < c->n_vips; i++) {
		/*
		 * One announcement here, the rest of the burst in the
		 * background (hw_res_announce): the services must not wait.
		 */
		const char *a[] = { "havip", "up", c->vips[i].name, "--lifetime",
		    life, "--count", "1", NULL };

		snprintf(label, sizeof(label), "add VIP %s", c->vips[i].name);
		applet_step(h, label, c->cluster->step_timeout_ms, a);
	}
	for (i = 0; i < c->n_services; i++) {
		snprintf(label, sizeof(label), "start service %s",
		    c->services[i].name);
		shell_step(h, label, c->services[i].timeout_ms,
		    c->services[i].start);
	}
}

/*
 * Urgent (the lease is gone): the VIP first, so clients stop reaching us,
 * then PostgreSQL stops taking writes, then the services. Graceful (a
 * switchover): the reverse of the take-over.
 */
static void
plan_release(struct hw *h, int graceful)
{
	const struct ha_cfg *c = h->cfg;
	char label[160];
	const char *fence[] = { "haprom", "fence", NULL };
	int to = h->hand_to >= 0 ? h->hand_to :
	    hw_local_successor(h, ha_now_ms());
	size_t i, k;

	/* The leadership goes to the member the hand-over waited for. */
	if (graceful)
		h->hand_to = to;
	steps_free(h);
	for (k = 0; k < 3; k++) {
		int what = graceful ? (int)k : (int)(k == 0 ? 2 : k == 1 ? 1 : 0);

		if (what == 0) {
			for (i = c->n_services; i-- > 0;) {
				snprintf(label, sizeof(label), "stop service %s",
				    c->services[i].name);
				shell_step(h, label, c->services[i].timeout_ms,
				    c->services[i].stop);
			}
		} else if (what == 1 && c->postgres && CONFIG_HAPROM) {
			applet_step(h, "fence PostgreSQL",
			    c->postgres->stop_timeout_ms + 5000, fence);
			/* A switchover loses no committed transaction. */
			if (graceful && to >= 0) {
				const char *a[] = { "haprom", "handover",
				    c->nodes[to].name, NULL };

				snprintf(label, sizeof(label), "wait until %s has "
				    "all the WAL", c->nodes[to].name);
				applet_step(h, label, c->cluster->step_timeout_ms,
				    a);
				h->steps[h->n_steps - 1].critical = 1;
			}
		} else if (what == 2) {
			for (i = c->n_vips; i-- > 0;) {
				const char *a[] = { "havip", "down",
				    c->vips[i].name, NULL };

				snprintf(label, sizeof(label), "remove VIP %s",
				    c->vips[i].name);
				applet_step(h, label, c->cluster->step_timeout_ms, a);
			}
		}
	}
}

static void run_step(struct hw *h);

/* Children nobody waits for (announcement bursts): reaped, logged. */
struct bg {
	struct hw *h;
	struct ha_proc *p;
	struct ha_timer *t;
	char label[64];
	int probe;		/* a VIP probe: exit 0 or 3, nobody else */
	struct bg *next;
};

static struct bg *bgs;

static void announce_bg(struct hw *h, long count);

static void bg_check(struct bg *b);

static void
bg_io(struct ha_loop *l, int fd, short revents, void *arg)
{
	(void)l;
	(void)fd;
	(void)revents;
	bg_check(arg);
}

static void
bg_timer(struct ha_loop *l, void *arg)
{
	struct bg *b = arg;

	(void)l;
	b->t = NULL;
	bg_check(b);
}

static void
bg_unwatch(struct bg *b)
{
	int fds[2], n = ha_proc_fds(b->p, fds), i;

	for (i = 0; i < n; i++)
		ha_loop_del(b->h->loop, fds[i]);
	ha_loop_cancel(b->h->loop, b->t);
	b->t = NULL;
}

/* A VIP probe's answer: exit 0 or 3, nobody else; else an event. */
static void
probe_done(struct hw *h, const char *label, const struct ha_run_result *r)
{
	char d[96];

	if (r->exited && (r->code == 0 || r->code == 3)) {
		ha_log(HA_DEBUG, "%s: nobody else answers (%lld ms)", label,
		    (long long)r->elapsed_ms);
		return;
	}
	ha_run_describe(r, d, sizeof(d));
	hw_event(h, "%s: another host answers for it (%s): taking it over "
	    "anyway", label, d);
	ha_run_log_output(r, HA_WARNING, label);
}

static void
bg_check(struct bg *b)
{
	struct ha_run_result r;
	struct bg **pp;
	int fds[2], n, i;
	int64_t next;

	bg_unwatch(b);
	if (!ha_proc_step(b->p, ha_now_ms())) {
		n = ha_proc_fds(b->p, fds);
		for (i = 0; i < n; i++)
			ha_loop_add(b->h->loop, fds[i], POLLIN, bg_io, b);
		if ((next = ha_proc_next(b->p)) != INT64_MAX)
			b->t = ha_loop_at(b->h->loop, next, bg_timer, b);
		return;
	}
	ha_proc_finish(b->p, &r);
	if (b->probe)
		probe_done(b->h, b->label, &r);
	else if (!ha_run_ok(&r))
		ha_run_log_output(&r, HA_WARNING, b->label);
	ha_run_result_free(&r);
	for (pp = &bgs; *pp; pp = &(*pp)->next)
		if (*pp == b) {
			*pp = b->next;
			break;
		}
	free(b);
}

static void
bg_run_env(struct hw *h, const char *label, char *const argv[],
    char *const *env, int probe)
{
	struct ha_run_opts o = { .timeout_ms = 30000, .env_add = env };
	struct bg *b = ha_xcalloc(1, sizeof(*b));

	b->h = h;
	ha_strlcpy(b->label, label, sizeof(b->label));
	b->probe = probe;
	if ((b->p = ha_proc_start(argv, &o)) == NULL) {
		free(b);
		return;
	}
	b->next = bgs;
	bgs = b;
	bg_check(b);
}

static void
bg_run(struct hw *h, const char *label, char *const argv[])
{
	bg_run_env(h, label, argv, NULL, 0);
}

/*
 * When a take-over starts: does another host answer for the VIP (ARP
 * probe or neighbour solicitation), waiting one heartbeat (20-200 ms)?
 * Advisory, and beside the take-over rather than in its way: the old
 * leader's kernel may still hold the address for a moment, and a foreign
 * holder is better told by an event than left owning our clients, so
 * the take-over goes on either way.
 */
static void
probe_bg(struct hw *h, const struct ha_cfg_vip *v)
{
	char label[64], addr[HA_ADDRSTRLEN], wait[32];
	int64_t ms = h->cfg->cluster->heartbeat_ms;
	char *argv[] = { h->exe, "havip", "check", "--probe", "--quiet",
	    "--timeout", wait, addr, "dev", v->interface, NULL };

	if (!CONFIG_HAVIP)
		return;
	ms = ms < 20 ? 20 : ms > 200 ? 200 : ms;
	snprintf(label, sizeof(label), "probe VIP %s", v->name);
	ha_fmt_addr(&v->address.addr, addr, sizeof(addr));
	snprintf(wait, sizeof(wait), "%lldms", (long long)ms);
	ha_log(HA_DEBUG, "taking over: %s (in the background)", label);
	bg_run_env(h, label, argv, NULL, 1);
}

/*
 * notify = CMD: run in the background on every role change, as
 * `CMD STATE TERM LEADER` (keepalived's manner: arguments appended), with
 * HABOX_STATE, HABOX_TERM, HABOX_NODE, HABOX_LEADER and HABOX_CLUSTER in
 * its environment. STATE: leader (resources held), follower (nothing
 * held), releasing (handing back). Its failure is logged, nothing more.
 */
static void
notify(struct hw *h, const char *state)
{
	const struct ha_cfg_cluster *cl = h->cfg->cluster;
	const char *leader = h->e.leader >= 0 ?
	    h->cfg->nodes[h->e.leader].name : "";
	char term[24], *cmd, *env[6];
	char *argv[] = { "/bin/sh", "-c", NULL, "notify", (char *)state, term,
	    (char *)leader, NULL };
	int i;

	if (!cl->notify || !cl->notify[0] || strcmp(state, h->notified) == 0)
		return;
	ha_strlcpy(h->notified, state, sizeof(h->notified));
	snprintf(term, sizeof(term), "%llu", (unsigned long long)h->e.term);
	cmd = ha_xasprintf("%s \"$@\"", cl->notify);
	argv[2] = cmd;
	env[0] = ha_xasprintf("HABOX_STATE=%s", state);
	env[1] = ha_xasprintf("HABOX_TERM=%s", term);
	env[2] = ha_xasprintf("HABOX_NODE=%s", h->cfg->self->name);
	env[3] = ha_xasprintf("HABOX_LEADER=%s", leader);
	env[4] = ha_xasprintf("HABOX_CLUSTER=%s", cl->name);
	env[5] = NULL;
	ha_log(HA_DEBUG, "notify: %s (term %s)", state, term);
	bg_run_env(h, "notify", argv, env, 0);
	for (i = 0; i < 5; i++)
		free(env[i]);
	free(cmd);
}

/*
 * A leader of an older term is about: correct the ARP caches now, once a
 * second at most (after a partition heals, its queued heartbeats arrive
 * in a burst, and each would start an announcer).
 */
void
hw_res_stale_leader(struct hw *h)
{
	int64_t now = ha_now_ms();

	if (h->res != R_HELD || (h->stale_at && now - h->stale_at < 1000))
		return;
	h->stale_at = now;
	hw_event(h, "a leader of an older term is heard: announcing the VIP "
	    "again");
	announce_bg(h, h->cfg->n_vips ? h->cfg->vips[0].count : 0);
}

/* Stop the background children (at exit). */
void
hw_res_bg_stop(struct hw *h)
{
	(void)h;
	while (bgs) {
		struct bg *b = bgs;

		bgs = b->next;
		bg_unwatch(b);
		ha_proc_abort(b->p);
		free(b);
	}
}

/* The rest of a VIP's announcement burst, or a refresh of one. */
static void
announce_bg(struct hw *h, long count)
{
	char addr[HA_ADDRSTRLEN], cnt[24], gap[32];
	size_t i;

	snprintf(cnt, sizeof(cnt), "%ld", count);
	for (i = 0; i < h->cfg->n_vips && CONFIG_HAVIP && count > 0; i++) {
		const struct ha_cfg_vip *v = &h->cfg->vips[i];
		char *argv[] = { h->exe, "havip", "announce", addr, "dev",
		    v->interface, "--count", cnt, "--interval", gap, NULL };

		snprintf(gap, sizeof(gap), "%lldms", (long long)v->interval_ms);
		ha_fmt_addr(&v->address.addr, addr, sizeof(addr));
		bg_run(h, "announce VIP", argv);
	}
}

static void
unwatch(struct hw *h)
{
	int fds[2], n, i;

	if (h->proc == NULL)
		return;
	n = ha_proc_fds(h->proc, fds);
	for (i = 0; i < n; i++)
		ha_loop_del(h->loop, fds[i]);
	ha_loop_cancel(h->loop, h->proc_timer);
	h->proc_timer = NULL;
}

static void proc_io(struct ha_loop *l, int fd, short revents, void *arg);
static void proc_timer(struct ha_loop *l, void *arg);

static void
watch(struct hw *h)
{
	int fds[2], n, i;
	int64_t next;

	n = ha_proc_fds(h->proc, fds);
	for (i = 0; i < n; i++)
		ha_loop_add(h->loop, fds[i], POLLIN, proc_io, h);
	next = ha_proc_next(h->proc);
	if (next != INT64_MAX)
		h->proc_timer = ha_loop_at(h->loop, next, proc_timer, h);
}

/* After the hand-back: what the election must hear. */
static void
released(struct hw *h)
{
	struct ha_elect_out o;

	h->res = R_FREE;
	h->lost_at = ha_now_ms();
	hw_wd_disarm(h);
	notify(h, "follower");
	memset(&o, 0, sizeof(o));
	if (h->take_failed) {
		h->take_failed = 0;
		hw_event(h, "handed everything back after a failed take-over; "
		    "standing down");
		ha_elect_abdicate(&h->e, ha_now_ms(), -1, &o);
	} else if (h->graceful) {
		hw_event(h, "handed everything back: passing leadership to %s",
		    h->hand_to >= 0 ? h->cfg->nodes[h->hand_to].name :
		    "the best member");
		ha_elect_abdicate(&h->e, ha_now_ms(), h->hand_to, &o);
	} else {
		hw_event(h, "released everything");
	}
	h->graceful = 0;
	h->hand_to = -1;
	hw_apply(h, &o);
	if (h->stopping)
		ha_loop_stop(h->loop);
}

static void
step_done(struct hw *h, const struct ha_run_result *r)
{
	const struct hw_step *s = &h->steps[h->cur];
	char d[96];

	ha_run_describe(r, d, sizeof(d));
	if (ha_run_ok(r)) {
		ha_log(HA_SUCCESS, "%s: %s (%lld ms)", h->res == R_TAKING ?
		    "taking over" : "handing back", s->label,
		    (long long)r->elapsed_ms);
		ha_run_log_output(r, HA_DEBUG, s->label);
	} else {
		ha_log(h->res == R_TAKING ? HA_FAILURE : HA_WARNING, "%s: %s "
		    "failed (%s)", h->res == R_TAKING ? "taking over" :
		    "handing back", s->label, d);
		ha_run_log_output(r, HA_WARNING, s->label);
		if (h->res == R_TAKING) {
			/* Never half active: give back what we took. */
			h->take_failed = 1;
			h->res = R_RELEASING;
			plan_release(h, 0);
			run_step(h);
			return;
		}
		if (s->critical && h->graceful && h->stopping) {
			/*
			 * A stop must stop: go on releasing (PostgreSQL
			 * stays fenced). The others elect a leader when the
			 * lease runs out, as after a crash, and only one
			 * within max_lag_on_failover of our position.
			 */
			hw_event(h, "stopping: %s failed; releasing without a "
			    "hand-over", s->label);
		} else if (s->critical && h->graceful &&
		    ha_elect_leading(&h->e, ha_now_ms())) {
			/* Not safe to hand over: take everything back. */
			hw_event(h, "switchover aborted: %s failed; this node "
			    "keeps leading", s->label);
			h->graceful = 0;
			h->hand_to = -1;
			h->stopping = 0;
			h->res = R_TAKING;
			plan_take(h);
			run_step(h);
			return;
		}
	}
	h->cur++;
	run_step(h);
}

static void
proc_check(struct hw *h)
{
	struct ha_run_result r;

	unwatch(h);
	if (!ha_proc_step(h->proc, ha_now_ms())) {
		watch(h);
		return;
	}
	ha_proc_finish(h->proc, &r);
	h->proc = NULL;
	step_done(h, &r);
	ha_run_result_free(&r);
}

static void
proc_io(struct ha_loop *l, int fd, short revents, void *arg)
{
	(void)l;
	(void)fd;
	(void)revents;
	proc_check(arg);
}

static void
proc_timer(struct ha_loop *l, void *arg)
{
	struct hw *h = arg;

	(void)l;
	h->proc_timer = NULL;
	proc_check(h);
}

static void
run_step(struct hw *h)
{
	struct ha_run_opts o = { 0 };
	struct hw_step *s;
	char *sh[] = { "/bin/sh", "-c", NULL, NULL };

	if (h->cur >= h->n_steps) {
		if (h->res == R_TAKING) {
			/* up sent one; the configured burst goes on meanwhile. */
			announce_bg(h, h->cfg->n_vips ? h->cfg->vips[0].count - 1 : 0);
			h->res = R_HELD;
			h->took_at = ha_now_ms();
			h->vip_renewed = 0;
			h->garp_at = ha_now_ms() + h->cfg->cluster->garp_refresh_ms;
			hw_event(h, "holding the resources (term %llu)",
			    (unsigned long long)h->e.term);
			notify(h, "leader");
			hw_sync_lead(h);
			hw_res_update(h);
		} else {
			released(h);
		}
		return;
	}
	s = &h->steps[h->cur];
	o.timeout_ms = s->timeout_ms;
	sh[2] = s->shell;
	if ((h->proc = ha_proc_start(s->shell ? sh : s->argv, &o)) == NULL) {
		struct ha_run_result r = { .exited = 1, .code = 127 };

		step_done(h, &r);
		return;
	}
	ha_log(HA_DEBUG, "%s: %s", h->res == R_TAKING ? "taking over" :
	    "handing back", s->label);
	watch(h);
}

static void
abort_step(struct hw *h)
{
	if (h->proc == NULL)
		return;
	unwatch(h);
	ha_log(HA_WARNING, "stopping '%s': the lease is gone",
	    h->steps[h->cur].label);
	ha_proc_abort(h->proc);
	h->proc = NULL;
}

static void
start_release(struct hw *h, int graceful)
{
	hw_sync_unlead(h);
	abort_step(h);
	if (strcmp(h->notified, "leader") == 0)
		notify(h, "releasing");
	h->res = R_RELEASING;
	h->graceful = graceful;
	plan_release(h, graceful);
	run_step(h);
}

void
hw_res_release_now(struct hw *h, int graceful)
{
	if (h->loop == NULL)
		return;
	if (h->res == R_FREE && graceful && ha_elect_leading(&h->e,
	    ha_now_ms())) {
		/* Leader without resources yet: just pass it on. */
		h->graceful = 1;
		released(h);
		return;
	}
	if (h->res == R_FREE || (h->res == R_RELEASING && graceful))
		return;
	start_release(h, graceful);
}

/* At exit, with the loop gone: release whatever is held, waiting. */
void
hw_res_release_sync(struct hw *h)
{
	struct ha_run_opts o = { 0 };
	struct ha_run_result r;
	char *sh[] = { "/bin/sh", "-c", NULL, NULL };
	int i;

	if (h->res == R_FREE) {
		steps_free(h);		/* the last plan's, when done */
		return;
	}
	hw_sync_unlead(h);
	abort_step(h);
	plan_release(h, 0);
	for (i = 0; i < h->n_steps; i++) {
		o.timeout_ms = h->steps[i].timeout_ms;
		sh[2] = h->steps[i].shell;
		if (ha_run(h->steps[i].shell ? sh : h->steps[i].argv, &o,
		    &r) == 0) {
			if (!ha_run_ok(&r))
				ha_run_log_output(&r, HA_WARNING,
				    h->steps[i].label);
			ha_run_result_free(&r);
		}
	}
	steps_free(h);
	h->res = R_FREE;
	hw_wd_disarm(h);
	hw_event(h, "released everything before exiting");
}

/* At start: a node that starts holds nothing. */
int
hw_res_remove_vips(struct hw *h)
{
	struct ha_run_opts o = { .timeout_ms = 10000 };
	struct ha_run_result r;
	size_t i;
	int rc = 0;

	for (i = 0; i < h->cfg->n_vips; i++) {
		char *argv[] = { h->exe, "havip", "down", h->cfg->vips[i].name,
		    "-c", (char *)h->conf, NULL };

		if (h->cfg->self->role == HA_ROLE_WITNESS || !CONFIG_HAVIP)
			break;
		if (ha_run(argv, &o, &r) == -1)
			return -1;
		if (!ha_run_ok(&r)) {
			ha_run_log_output(&r, HA_FAILURE, "remove VIP");
			rc = -1;
		}
		ha_run_result_free(&r);
	}
	return rc;
}

/* Renew the VIPs' kernel lifetime with the lease: one netlink message. */
void
hw_res_renew(struct hw *h)
{
#if CONFIG_HAVIP
	struct ha_nl nl;
	size_t i;
	uint32_t life = (uint32_t)vip_lifetime(h);

	if (h->cfg->n_vips == 0 || ha_nl_open(&nl) == -1)
		return;
	for (i = 0; i < h->cfg->n_vips; i++) {
		const struct ha_cfg_vip *v = &h->cfg->vips[i];
		struct ha_nl_link l;

		if (ha_nl_link_get(&nl, v->interface, &l) == -1 ||
		    ha_nl_addr_set(&nl, HA_NL_REPLACE, l.index, &v->address,
		    v->label, life, NULL) == -1)
			ha_log(HA_WARNING, "renewing VIP %s: %s", v->name,
			    ha_nl_strerror(&nl));
	}
	ha_nl_close(&nl);
#else
	(void)h;
#endif
}

/*
 * Each VIP for status: where the cluster has it (the leader, which holds
 * every VIP while it leads; this node only once its take-over is done)
 * and whether the kernel has it on this node's interface right now.
 */
void
hw_res_vips_status(struct hw *h, int lead, struct ha_buf *t,
    struct ha_buf *j)
{
	size_t i;
#if CONFIG_HAVIP
	struct ha_nl nl;
	int nl_ok = h->cfg->n_vips && ha_nl_open(&nl) == 0;
#endif

	ha_buf_puts(j, ", \"vips\": [");
	if (h->cfg->n_vips)
		ha_buf_printf(t, "\n%-12s %-28s %-10s %-12s %s\n", "vip",
		    "address", "interface", "holder", "here");
	for (i = 0; i < h->cfg->n_vips; i++) {
		const struct ha_cfg_vip *vp = &h->cfg->vips[i];
		char addr[HA_ADDRSTRLEN + 8];
		const char *holder = NULL;
		int here = -1;
#if CONFIG_HAVIP
		struct ha_nl_link l;
		struct ha_nl_addr *v = NULL;
		size_t n = 0;

		if (nl_ok) {
			if (ha_nl_link_get(&nl, vp->interface, &l) == -1)
				here = 0;	/* no such interface here */
			else if (ha_nl_addr_list(&nl, vp->address.addr.family,
			    l.index, &v, &n) == 0)
				here = ha_nl_addr_find(v, n, l.index,
				    &vp->address.addr) != NULL;
			free(v);
		}
#endif
		if (lead == h->self)
			holder = h->res == R_HELD ? h->cfg->self->name : NULL;
		else if (lead >= 0)
			holder = h->cfg->nodes[lead].name;
		ha_fmt_cidr(&vp->address, addr, sizeof(addr));
		ha_buf_printf(t, "%-12s %-28s %-10s %-12s %s\n", vp->name, addr,
		    vp->interface, holder ? holder : "none", here < 0 ? "?" :
		    here ? "yes" : "no");
		ha_buf_printf(j, "%s{\"name\": ", i ? ", " : "");
		ha_json_str(j, vp->name);
		ha_buf_puts(j, ", \"address\": ");
		ha_json_str(j, addr);
		ha_buf_puts(j, ", \"interface\": ");
		ha_json_str(j, vp->interface);
		ha_buf_puts(j, ", \"holder\": ");
		ha_json_str(j, holder);
		ha_buf_printf(j, ", \"here\": %s}", here < 0 ? "null" :
		    here ? "true" : "false");
	}
	ha_buf_puts(j, "]");
#if CONFIG_HAVIP
	if (nl_ok)
		ha_nl_close(&nl);
#endif
}

void
hw_res_update(struct hw *h)
{
	int64_t now = ha_now_ms();
	int leading = ha_elect_leading(&h->e, now);
	size_t i;

	switch (h->res) {
	case R_FREE:
		if (leading && !h->stopping && h->cfg->self->role ==
		    HA_ROLE_MEMBER) {
			/*
			 * Half way through making PostgreSQL a standby:
			 * let haprom finish (it holds the lock), then take
			 * over; fix_done calls us again.
			 */
			if (hw_local_busy(h)) {
				if (!h->take_waiting)
					hw_event(h, "leader, but PostgreSQL is being "
					    "made a standby: taking over when "
					    "that is done");
				h->take_waiting = 1;
				return;
			}
			h->take_waiting = 0;
			hw_wd_arm(h);
			h->res = R_TAKING;
			for (i = 0; i < h->cfg->n_vips; i++)
				probe_bg(h, &h->cfg->vips[i]);
			plan_take(h);
			run_step(h);
		}
		return;
	case R_TAKING:
		if (!leading)
			start_release(h, 0);
		else
			hw_wd_feed(h);
		return;
	case R_HELD:
		if (!leading) {
			hw_event(h, "the lease is gone: releasing the VIP, "
			    "fencing PostgreSQL, stopping the services");
			start_release(h, 0);
			return;
		}
		if (now - h->vip_renewed >= 200) {
			hw_res_renew(h);
			hw_wd_feed(h);
			h->vip_renewed = now;
		}
		if (h->cfg->cluster->garp_refresh_ms && now >= h->garp_at) {
			announce_bg(h, 1);
			h->garp_at = now + h->cfg->cluster->garp_refresh_ms;
		}
		return;
	case R_RELEASING:
		return;
	}
}
