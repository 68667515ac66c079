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

/* The VIP's kernel lifetime: the lease plus a second, whole seconds. */
static long
vip_lifetime(const struct hw *h)
{
	return (long)((h->cfg->cluster->lease_ms + 999) / 1000) + 1;
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
		const char *a[] = { "havip", "up", c->vips[i].name, "--lifetime",
		    life, NULL };

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
	size_t i, k;

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
			h->res = R_HELD;
			h->took_at = ha_now_ms();
			h->vip_renewed = 0;
			h->garp_at = ha_now_ms() + h->cfg->cluster->garp_refresh_ms;
			hw_event(h, "holding the resources (term %llu)",
			    (unsigned long long)h->e.term);
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
	abort_step(h);
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

	if (h->res == R_FREE)
		return;
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

/* Re-announce the VIPs (periodically, and when a stale leader shows). */
static void
announce(struct hw *h)
{
	struct ha_run_opts o = { .timeout_ms = 5000 };
	struct ha_run_result r;
	char addr[HA_ADDRSTRLEN];
	size_t i;

	for (i = 0; i < h->cfg->n_vips && CONFIG_HAVIP; i++) {
		const struct ha_cfg_vip *v = &h->cfg->vips[i];
		char *argv[] = { h->exe, "havip", "announce", addr, "dev",
		    v->interface, "--count", "1", NULL };

		ha_fmt_addr(&v->address.addr, addr, sizeof(addr));
		if (ha_run(argv, &o, &r) == 0) {
			if (!ha_run_ok(&r))
				ha_run_log_output(&r, HA_WARNING, "announce VIP");
			ha_run_result_free(&r);
		}
	}
}

void
hw_res_update(struct hw *h)
{
	int64_t now = ha_now_ms();
	int leading = ha_elect_leading(&h->e, now);

	switch (h->res) {
	case R_FREE:
		if (leading && !h->stopping && h->cfg->self->role ==
		    HA_ROLE_MEMBER) {
			h->res = R_TAKING;
			plan_take(h);
			run_step(h);
		}
		return;
	case R_TAKING:
		if (!leading)
			start_release(h, 0);
		return;
	case R_HELD:
		if (!leading) {
			hw_event(h, "the lease is gone: releasing the VIP, "
			    "fencing PostgreSQL, stopping the services");
			start_release(h, 0);
			return;
		}
		if (now - h->vip_renewed >= 500) {
			hw_res_renew(h);
			h->vip_renewed = now;
		}
		if (h->cfg->cluster->garp_refresh_ms && now >= h->garp_at) {
			announce(h);
			h->garp_at = now + h->cfg->cluster->garp_refresh_ms;
		}
		return;
	case R_RELEASING:
		return;
	}
}
