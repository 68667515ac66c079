/*
 * hawatch's file sync, by running hasync the way an operator would:
 * - `hasync serve` on every member while hawatch runs: it accepts pushes
 *   only from configured nodes and refuses a term older than the newest
 *   it has seen, so a stale leader coming back cannot overwrite anything;
 * - while this node holds the resources (last in the take-over order,
 *   first out in the hand-back): `hasync watch --term T` for the [sync]
 *   sets with watch = yes, and `hasync push --term T NAME` every interval
 *   for those with an interval.
 * The long-running children are supervised: an exit is logged with its
 * output and the child restarted after a backoff (1 s, doubling to 30 s,
 * back to 1 s once it ran for a minute).
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applets/hawatch/hawatch.h"
#include "core/log.h"
#include "core/run.h"
#include "core/util.h"
#include "ha_kconfig.h"

#define BACKOFF_MIN 1000
#define BACKOFF_MAX 30000
#define STABLE_MS 60000

struct sup {
	struct hw *h;
	char *label;
	char **argv;		/* owned, NULL-terminated */
	struct ha_proc *p;
	struct ha_timer *t;	/* the child's timeout, or the restart */
	int64_t started;
	int64_t backoff;
	int64_t interval;	/* > 0: a push run every interval */
	int want;		/* keep it running (or scheduled) */
	int keep;		/* hw_sync_reload: still wanted */
	struct sup *next;
};

static struct sup *sups;
/* In hw_sync_reload: a child asked for again with the same command is kept. */
static int reloading;

static int
has_sync(const struct hw *h)
{
	return CONFIG_HASYNC && h->cfg->n_syncs > 0 &&
	    h->cfg->self->role == HA_ROLE_MEMBER;
}

static char **
make_argv(const struct hw *h, const char *const *args)
{
	size_t n = 0, i, k;
	char **v;

	while (args[n])
		n++;
	v = ha_xcalloc(n + 4 + 2 * h->n_ov + 1, sizeof(*v));
	k = 0;
	v[k++] = ha_xstrdup(h->exe);
	for (i = 0; i < n; i++)
		v[k++] = ha_xstrdup(args[i]);
	v[k++] = ha_xstrdup("-c");
	v[k++] = ha_xstrdup(h->conf);
	for (i = 0; i < h->n_ov; i++) {
		v[k++] = ha_xstrdup("-o");
		v[k++] = ha_xstrdup(h->ov[i]);
	}
	v[k] = NULL;
	return v;
}

static void
argv_free(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static void
sup_free(struct sup *s)
{
	argv_free(s->argv);
	free(s->label);
	free(s);
}

static void sup_check(struct sup *s);
static void sup_start(struct sup *s);

static void
sup_io(struct ha_loop *l, int fd, short revents, void *arg)
{
	(void)l;
	(void)fd;
	(void)revents;
	sup_check(arg);
}

static void
sup_timer(struct ha_loop *l, void *arg)
{
	struct sup *s = arg;

	(void)l;
	s->t = NULL;
	if (s->p)
		sup_check(s);
	else if (s->want)
		sup_start(s);
}

static void
sup_unwatch(struct sup *s)
{
	int fds[2], n, i;

	if (s->p) {
		n = ha_proc_fds(s->p, fds);
		for (i = 0; i < n; i++)
			ha_loop_del(s->h->loop, fds[i]);
	}
	ha_loop_cancel(s->h->loop, s->t);
	s->t = NULL;
}

static void
sup_watch(struct sup *s)
{
	int fds[2], n, i;
	int64_t next;

	n = ha_proc_fds(s->p, fds);
	for (i = 0; i < n; i++)
		ha_loop_add(s->h->loop, fds[i], POLLIN, sup_io, s);
	if ((next = ha_proc_next(s->p)) != INT64_MAX)
		s->t = ha_loop_at(s->h->loop, next, sup_timer, s);
}

static void
sup_start(struct sup *s)
{
	struct ha_run_opts o = { .grace_ms = 5000, .die_with_parent = 1 };

	if ((s->p = ha_proc_start(s->argv, &o)) == NULL) {
		ha_log(HA_WARNING, "%s: cannot start it: retrying in %lld s",
		    s->label, (long long)(s->backoff / 1000));
		s->t = ha_loop_at(s->h->loop, ha_now_ms() + s->backoff,
		    sup_timer, s);
		return;
	}
	s->started = ha_now_ms();
	ha_log(HA_DEBUG, "%s: started (pid %d)", s->label, ha_proc_pid(s->p));
	sup_watch(s);
}

static void
sup_check(struct sup *s)
{
	struct ha_run_result r;
	char d[128];
	int64_t now = ha_now_ms(), again;

	sup_unwatch(s);
	if (!ha_proc_step(s->p, now)) {
		sup_watch(s);
		return;
	}
	ha_proc_finish(s->p, &r);
	s->p = NULL;
	ha_run_describe(&r, d, sizeof(d));
	if (s->interval > 0) {
		/* A scheduled push: report, and run it again in time. */
		if (ha_run_ok(&r)) {
			ha_log(HA_DEBUG, "%s: done (%lld ms)", s->label,
			    (long long)r.elapsed_ms);
			ha_run_log_output(&r, HA_DEBUG, s->label);
		} else {
			ha_log(HA_WARNING, "%s: failed (%s): trying again in "
			    "%lld s", s->label, d, (long long)(s->interval /
			    1000));
			ha_run_log_output(&r, HA_WARNING, s->label);
		}
		again = s->started + s->interval;
	} else {
		if (s->want) {
			if (now - s->started >= STABLE_MS)
				s->backoff = BACKOFF_MIN;
			ha_log(HA_WARNING, "%s: stopped (%s): restarting it in "
			    "%lld s", s->label, d, (long long)(s->backoff /
			    1000));
			ha_run_log_output(&r, HA_WARNING, s->label);
		}
		again = now + s->backoff;
		s->backoff = s->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX :
		    s->backoff * 2;
	}
	ha_run_result_free(&r);
	if (s->want)
		s->t = ha_loop_at(s->h->loop, again < now ? now : again,
		    sup_timer, s);
}

static int
same_argv(char *const *a, char *const *b)
{
	for (; *a && *b; a++, b++)
		if (strcmp(*a, *b) != 0)
			return 0;
	return *a == NULL && *b == NULL;
}

static struct sup *
sup_add(struct hw *h, const char *label, const char *const *args,
    int64_t interval)
{
	char **argv = make_argv(h, args);
	struct sup *s;

	/*
	 * Reloading, and this runs already with the same command: keep it,
	 * and have a daemon (serve, watch) read the configuration again
	 * (a scheduled push reads it at its next run). Restarting it would
	 * hold this loop, and the heartbeats, while the old one stops.
	 */
	for (s = reloading ? sups : NULL; s; s = s->next)
		if (!s->keep && s->interval == interval &&
		    strcmp(s->label, label) == 0 && same_argv(s->argv, argv)) {
			s->keep = 1;
			argv_free(argv);
			if (s->p && s->interval == 0 &&
			    kill(ha_proc_pid(s->p), SIGHUP) == 0)
				ha_log(HA_DEBUG, "%s: told to reload", s->label);
			return s;
		}
	s = ha_xcalloc(1, sizeof(*s));
	s->h = h;
	s->keep = 1;
	s->label = ha_xstrdup(label);
	s->argv = argv;
	s->backoff = BACKOFF_MIN;
	s->interval = interval;
	s->want = 1;
	s->next = sups;
	sups = s;
	sup_start(s);
	return s;
}

/*
 * Stop and forget the children whose label starts with prefix: with
 * SIGKILL when hurried (a leader that lost its lease stops its pushes at
 * once), else SIGTERM and up to 5 s to finish what is in flight.
 */
static void
sup_remove(const char *prefix, int hurry)
{
	struct sup **pp = &sups, *s;

	while ((s = *pp) != NULL) {
		if (strncmp(s->label, prefix, strlen(prefix)) != 0 ||
		    (reloading && s->keep)) {
			pp = &s->next;
			continue;
		}
		*pp = s->next;
		s->want = 0;
		sup_unwatch(s);
		if (s->p) {
			int64_t end = ha_now_ms() + 5000;

			ha_log(HA_DEBUG, "%s: stopping it", s->label);
			if (!hurry && kill(ha_proc_pid(s->p), SIGTERM) == 0)
				while (!ha_proc_step(s->p, ha_now_ms()) &&
				    ha_now_ms() < end)
					(void)poll(NULL, 0, 20);
			ha_proc_abort(s->p);
			s->p = NULL;
		}
		sup_free(s);
	}
}

void
hw_sync_start(struct hw *h)
{
	const char *serve[] = { "hasync", "serve", "-f", NULL };

	if (!has_sync(h))
		return;
	sup_add(h, "hasync serve", serve, 0);
}

void
hw_sync_lead(struct hw *h)
{
	char term[32], label[160];
	const char *watch[64];
	size_t i, n = 0;

	if (!has_sync(h))
		return;
	snprintf(term, sizeof(term), "%llu", (unsigned long long)h->e.term);
	watch[n++] = "hasync";
	watch[n++] = "watch";
	watch[n++] = "-f";
	watch[n++] = "--term";
	watch[n++] = term;
	for (i = 0; i < h->cfg->n_syncs && n < 63; i++) {
		const struct ha_cfg_sync *y = &h->cfg->syncs[i];

		if (y->watch) {
			watch[n++] = y->name;
		} else if (y->interval_ms > 0) {
			const char *push[] = { "hasync", "push", "--term", term,
			    y->name, NULL };

			snprintf(label, sizeof(label), "sync source: hasync "
			    "push %s", y->name);
			sup_add(h, label, push, y->interval_ms);
		}
	}
	watch[n] = NULL;
	if (n > 5)
		sup_add(h, "sync source: hasync watch", watch, 0);
}

void
hw_sync_unlead(struct hw *h)
{
	(void)h;
	sup_remove("sync source:", 1);
}

void
hw_sync_stop(struct hw *h)
{
	(void)h;
	sup_remove("", 0);
}

/*
 * Nodes left or rejoined the cluster: the running `hasync watch` reads
 * the membership again on SIGHUP (without blocking this loop, as a
 * restart would); each `hasync push` run reads it when it starts.
 */
void
hw_sync_members(struct hw *h)
{
	struct sup *s;

	(void)h;
	for (s = sups; s; s = s->next)
		if (s->p && strncmp(s->label, "sync source: hasync watch",
		    25) == 0 && kill(ha_proc_pid(s->p), SIGHUP) == 0)
			ha_log(HA_DEBUG, "%s: told to read the membership "
			    "again", s->label);
}

/*
 * The [sync] sections may have changed: what runs with the same command
 * is kept and told to reload, the rest stopped, the new ones started.
 */
void
hw_sync_reload(struct hw *h, int leading)
{
	struct sup *s;

	for (s = sups; s; s = s->next)
		s->keep = 0;
	reloading = 1;
	hw_sync_start(h);
	if (leading)
		hw_sync_lead(h);
	sup_remove("", 0);
	reloading = 0;
}
