/*
 * hasync watch (doc/hasync.8, DESIGN.md "Data safety"): a full push of
 * each named set to every follower first (catch-up), then the paths that
 * inotify reports, coalesced over a short settle time, recorded durably
 * in the follower's journal before they are sent and dropped only after
 * the follower committed them. A follower that is down is retried with
 * exponential backoff (one WARNING per outage, INFO when back); a restart
 * replays the journals; lost inotify events mean a full push again.
 *
 * One thread: pushes block the loop while they run (each is bounded by
 * the set's timeout); inotify events queue in the kernel meanwhile.
 */
#include "applets/hasync/watch.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "applets/hasync/hasync.h"
#include "core/cli.h"
#include "core/daemon.h"
#include "core/inotree.h"
#include "core/journal.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/members.h"
#include "core/net.h"
#include "core/tls.h"
#include "core/util.h"

#define SETTLE_MS 2		/* quiet time that ends a burst */
#define SETTLE_MAX_MS 50	/* a burst never waits longer */
#define BACKOFF_MIN_MS 200
#define BACKOFF_MAX_MS 10000
#define FULL_AFTER 4096		/* more paths: push the whole tree */
#define SLOW_MS 500		/* a connect that failed slower: probe */
#define RECHECK_MS 30000	/* whole comparisons while short of watches */
#define PROBE_MS 3000

struct wset;

struct follower {
	struct wset *ws;
	const char *node;
	struct ha_journal *j;
	struct hs_conn *c;
	struct ha_timer *timer;	/* a retry or a deferred push */
	int64_t backoff_ms;
	int64_t down_since;	/* 0: up */
	int caught_up;
	int slow;		/* connecting failed by timing out */
	int probe;		/* a probe connection in progress, or -1 */
	int64_t remembered;	/* push.state written (at most once a second) */
};

struct wset {
	struct watcher *w;
	const struct ha_cfg_sync *set;
	struct ha_inotree *it;
	struct follower *f;
	size_t nf;
	struct ha_timer *settle;
	int64_t first;		/* first event of the burst */
	struct ha_timer *recheck;	/* while some directory is unwatched */
};

struct watcher {
	struct ha_cfg *cfg;
	struct ha_loop *loop;
	struct wset *ws;
	size_t n;
	const struct ha_args *a;	/* -c, -o and the set names */
	long term;
	int failed;
	int log_outputs;	/* as set by ha_daemon_start */
};

static void push_now(struct follower *f);

char *
hs_journal_path(const struct ha_cfg *cfg, const char *set, const char *node)
{
	return ha_xasprintf("%s/hasync/watch-%s@%s.journal",
	    cfg->cluster->state_dir, set, node);
}

/* --- followers: connect, push, back off ----------------------------------- */

static struct ha_buf quiet_why;

static void
quiet_hook(enum ha_level level, const char *msg, void *arg)
{
	if (level < HA_WARNING)
		return;
	quiet_why.len = 0;
	ha_buf_puts(&quiet_why, msg);
}

/*
 * Connect with the connection code's messages held back: an outage is
 * one WARNING of ours (with the reason in it), not a FAILURE at every
 * retry.
 */
static struct hs_conn *
connect_quiet(struct watcher *w, const char *node, char *err, size_t n)
{
	struct hs_conn *c;

	quiet_why.len = 0;
	ha_log_init(ha_log_ident(), 0);
	ha_log_set_hook(quiet_hook, NULL);
	c = hs_connect(w->cfg, node, err, n);
	ha_log_set_hook(NULL, NULL);
	ha_log_init(ha_log_ident(), w->log_outputs);
	if (c == NULL && quiet_why.len)
		snprintf(err, n, "%s", quiet_why.s);
	return c;
}

/*
 * A follower that is off the network (no answer, not even a refusal)
 * would hold the whole loop, and so every other follower, for the
 * connect timeout at each retry. Once connecting to it was slow, the
 * TCP connection is first made from the loop, without waiting; only a
 * follower that answers gets the (blocking) TLS connection.
 */
static void failed(struct follower *f, const char *why);

static void
probe_end(struct follower *f, const char *why)
{
	struct watcher *w = f->ws->w;

	ha_loop_del(w->loop, f->probe);
	close(f->probe);
	f->probe = -1;
	ha_loop_cancel(w->loop, f->timer);
	f->timer = NULL;
	if (why) {
		failed(f, why);
		return;
	}
	f->slow = 0;
	push_now(f);
}

static void
on_probe(struct ha_loop *l, int fd, short revents, void *arg)
{
	struct follower *f = arg;
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	probe_end(f, err ? strerror(err) : NULL);
}

static void
on_probe_timeout(struct ha_loop *l, void *arg)
{
	struct follower *f = arg;

	f->timer = NULL;
	probe_end(f, "connect: timed out");
}

static void
probe(struct follower *f)
{
	struct watcher *w = f->ws->w;
	const struct ha_cfg_node *n = ha_cfg_node(w->cfg, f->node);

	if (n == NULL ||
	    (f->probe = ha_net_dial(&n->address, hs_port(w->cfg, n))) == -1) {
		f->probe = -1;
		failed(f, "cannot open a socket");
		return;
	}
	ha_loop_add(w->loop, f->probe, POLLOUT, on_probe, f);
	f->timer = ha_loop_at(w->loop, ha_now_ms() + PROBE_MS,
	    on_probe_timeout, f);
}

static void
on_retry(struct ha_loop *l, void *arg)
{
	struct follower *f = arg;

	f->timer = NULL;
	push_now(f);
}

static void
failed(struct follower *f, const char *why)
{
	struct watcher *w = f->ws->w;

	hs_close(f->c);
	f->c = NULL;
	f->backoff_ms = f->backoff_ms ? f->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (f->backoff_ms > BACKOFF_MAX_MS)
		f->backoff_ms = BACKOFF_MAX_MS;
	if (f->down_since == 0) {
		f->down_since = ha_now_ms();
		hs_remember_push(w->cfg, f->ws->set, f->node, why, 0);
		ha_log(HA_WARNING, "%s -> %s: %s; %zu change(s)%s kept in the "
		    "journal, retrying", f->ws->set->name, f->node, why,
		    ha_journal_count(f->j), ha_journal_rescan_pending(f->j) ?
		    " and a full comparison" : "");
	} else {
		ha_log(HA_DEBUG, "%s -> %s: %s; next try in %lld ms",
		    f->ws->set->name, f->node, why, (long long)f->backoff_ms);
	}
	f->timer = ha_loop_at(w->loop, ha_now_ms() + f->backoff_ms, on_retry,
	    f);
}

static void
pushed(struct follower *f, const struct ha_journal_batch *b,
    const struct hs_push_stats *st)
{
	const char *set = f->ws->set->name;

	if (f->down_since) {
		ha_log(HA_INFO, "%s -> %s: reachable again after %lld ms",
		    set, f->node, (long long)(ha_now_ms() - f->down_since));
		f->down_since = 0;
	}
	f->backoff_ms = 0;
	if (!f->caught_up || ha_now_ms() - f->remembered >= 1000) {
		hs_remember_push(f->ws->w->cfg, f->ws->set, f->node, "ok",
		    st->generation);
		f->remembered = ha_now_ms();
	}
	if (!f->caught_up) {
		f->caught_up = 1;
		ha_log(HA_SUCCESS, "%s -> %s: caught up: %llu file(s) sent, "
		    "%llu deleted, %llu bytes, generation %llu", set, f->node,
		    (unsigned long long)st->files,
		    (unsigned long long)st->deleted,
		    (unsigned long long)st->bytes_sent,
		    (unsigned long long)st->generation);
	} else {
		ha_log(HA_DEBUG, "%s -> %s: %s%zu path(s): %llu file(s) sent, "
		    "%llu deleted, %llu bytes, %lld ms", set, f->node,
		    b->rescan ? "full comparison, " : "", b->n,
		    (unsigned long long)st->files,
		    (unsigned long long)st->deleted,
		    (unsigned long long)st->bytes_sent, (long long)st->ms);
	}
}

/* One push attempt on an open connection: 0 or -1 with err. */
static int
attempt(struct follower *f, const struct ha_journal_batch *b,
    struct hs_push_stats *st, char *err, size_t errlen)
{
	struct watcher *w = f->ws->w;
	int full = b->rescan || b->n > FULL_AFTER;

	memset(st, 0, sizeof(*st));
	return hs_push_set(f->c, w->cfg, f->ws->set,
	    full ? NULL : (const char *const *)b->paths, full ? 0 : b->n,
	    w->term, 0, st, err, errlen);
}

/*
 * Send what the journal holds; on success drop it and go on while more
 * came meanwhile, on failure back off. A connection that was idle may
 * have been closed by the other side: one more try on a new one.
 */
static void
push_now(struct follower *f)
{
	struct watcher *w = f->ws->w;
	struct ha_journal_batch b;
	struct hs_push_stats st;
	char err[600];
	int fresh = 0, r;

	if (f->timer)
		return;		/* backing off, or already queued */
	(void)ha_journal_flush(f->j);
	ha_journal_take(f->j, 0, &b);
	if (b.n == 0 && !b.rescan) {
		ha_journal_batch_free(&b);
		return;
	}
	if (f->c == NULL && f->slow) {
		ha_journal_batch_free(&b);
		probe(f);
		return;
	}
	for (;;) {
		if (f->c == NULL) {
			int64_t t0 = ha_now_ms();

			if ((f->c = connect_quiet(w, f->node, err,
			    sizeof(err))) == NULL) {
				f->slow = ha_now_ms() - t0 >= SLOW_MS;
				failed(f, err);
				break;
			}
			fresh = 1;
		}
		r = attempt(f, &b, &st, err, sizeof(err));
		if (r == 0) {
			(void)ha_journal_ack(f->j, &b);
			pushed(f, &b, &st);
			/* More came in during the push: let the loop run. */
			if (ha_journal_count(f->j) ||
			    ha_journal_rescan_pending(f->j))
				f->timer = ha_loop_at(w->loop, ha_now_ms(),
				    on_retry, f);
			break;
		}
		hs_close(f->c);
		f->c = NULL;
		if (fresh) {
			failed(f, err);
			break;
		}
	}
	ha_journal_batch_free(&b);
}

/* --- events --------------------------------------------------------------- */

static void on_settle(struct ha_loop *l, void *arg);

/*
 * Out of inotify watches, changes in the directories left unwatched are
 * only found by comparing the whole tree: do that now and then, and try
 * to watch them again each time.
 */
static void
on_recheck(struct ha_loop *l, void *arg)
{
	struct wset *ws = arg;

	ws->recheck = NULL;
	ha_inotree_rewalk(ws->it);
	on_settle(l, ws);
}

static void
arm_recheck(struct wset *ws)
{
	if (ws->recheck == NULL && !ha_inotree_complete(ws->it))
		ws->recheck = ha_loop_at(ws->w->loop, ha_now_ms() +
		    RECHECK_MS, on_recheck, ws);
}

static void
on_settle(struct ha_loop *l, void *arg)
{
	struct wset *ws = arg;
	char **paths;
	size_t n, i;
	int rescan;

	ha_loop_cancel(l, ws->settle);
	ws->settle = NULL;
	arm_recheck(ws);
	paths = ha_inotree_take(ws->it, &n, &rescan);
	for (i = 0; i < ws->nf; i++) {
		struct follower *f = &ws->f[i];

		/* Logged when it fails; kept in memory, written next time. */
		if (rescan)
			(void)ha_journal_add_rescan(f->j);
		if (n)
			(void)ha_journal_add(f->j, (const char *const *)paths,
			    n);
	}
	ha_inotree_free_paths(paths);
	for (i = 0; i < ws->nf; i++)
		push_now(&ws->f[i]);
}

static void
on_inotify(struct ha_loop *l, int fd, short revents, void *arg)
{
	struct wset *ws = arg;
	int64_t now = ha_now_ms(), at;

	if (ha_inotree_read(ws->it) == -1) {
		ha_log(HA_FAILURE, "%s: cannot read inotify events any more",
		    ws->set->name);
		ws->w->failed = 1;
		ha_loop_stop(l);
		return;
	}
	if (ha_inotree_pending(ws->it) == 0)
		return;
	if (ws->settle == NULL)
		ws->first = now;
	ha_loop_cancel(l, ws->settle);
	at = now + SETTLE_MS;
	if (at > ws->first + SETTLE_MAX_MS)
		at = ws->first + SETTLE_MAX_MS;
	ws->settle = ha_loop_at(l, at, on_settle, ws);
}

static void
on_stop(struct ha_loop *l, void *arg)
{
	ha_log(HA_INFO, "stopping");
	ha_loop_stop(l);
}

/* --- setup ---------------------------------------------------------------- */

static int
open_set(struct watcher *w, struct wset *ws, const struct ha_cfg_sync *set)
{
	const struct ha_cfg *cfg = w->cfg;
	uint32_t out = ha_members_removed(cfg);
	size_t i;

	ws->w = w;
	ws->set = set;
	ws->f = ha_xcalloc(cfg->n_nodes, sizeof(*ws->f));
	ws->it = ha_inotree_open(set->path,
	    (const char *const *)set->exclude.v, set->exclude.n);
	if (ws->it == NULL)
		return -1;
	for (i = 0; i < cfg->n_nodes; i++) {
		const struct ha_cfg_node *n = &cfg->nodes[i];
		struct follower *f = &ws->f[ws->nf];
		char *path;

		/* (Removed from the cluster: its journal waits, untouched.) */
		if (n->role != HA_ROLE_MEMBER || (out & (1u << i)) ||
		    strcmp(n->name, cfg->cluster->node) == 0)
			continue;
		f->ws = ws;
		f->node = n->name;
		f->probe = -1;
		path = hs_journal_path(cfg, set->name, n->name);
		f->j = ha_journal_open(path);
		free(path);
		if (f->j == NULL)
			return -1;
		ws->nf++;
		if (ha_journal_count(f->j) || ha_journal_rescan_pending(f->j))
			ha_log(HA_INFO, "%s -> %s: %zu change(s)%s from the "
			    "journal", set->name, n->name,
			    ha_journal_count(f->j),
			    ha_journal_rescan_pending(f->j) ?
			    " and a full comparison" : "");
		/* Catch-up: what changed while nobody watched. */
		if (ha_journal_add_rescan(f->j) == -1)
			return -1;
	}
	ha_loop_add(w->loop, ha_inotree_fd(ws->it), POLLIN, on_inotify, ws);
	return 0;
}

static void
close_set(struct watcher *w, struct wset *ws)
{
	size_t i;

	if (ws->it)
		ha_loop_del(w->loop, ha_inotree_fd(ws->it));
	ha_inotree_close(ws->it);
	ha_loop_cancel(w->loop, ws->settle);
	ha_loop_cancel(w->loop, ws->recheck);
	for (i = 0; i < ws->nf; i++) {
		struct follower *f = &ws->f[i];

		hs_close(f->c);
		ha_journal_close(f->j);
		ha_loop_cancel(w->loop, f->timer);
		if (f->probe != -1) {
			ha_loop_del(w->loop, f->probe);
			close(f->probe);
		}
	}
	free(ws->f);
	memset(ws, 0, sizeof(*ws));
}

static void
close_all(struct watcher *w)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		close_set(w, &w->ws[i]);
	w->n = 0;
}

/* Watch every named set of w->cfg: 0, or -1 (logged, nothing open). */
static int
open_all(struct watcher *w)
{
	size_t i;

	for (i = 0; i < (size_t)w->a->argc; i++) {
		w->n++;
		if (open_set(w, &w->ws[i], ha_cfg_sync(w->cfg,
		    w->a->argv[i])) == -1) {
			close_all(w);
			return -1;
		}
	}
	return 0;
}

/* Push what is pending (at the start: everything) to every follower. */
static void
start_all(struct watcher *w)
{
	size_t i, k;

	for (i = 0; i < w->n; i++)
		ha_log(HA_INFO, "watching %s (%s, %zu directories) for %zu "
		    "follower(s)", w->ws[i].set->name, w->ws[i].set->path,
		    ha_inotree_watches(w->ws[i].it), w->ws[i].nf);
	for (i = 0; i < w->n; i++) {
		arm_recheck(&w->ws[i]);
		for (k = 0; k < w->ws[i].nf; k++)
			push_now(&w->ws[i].f[k]);
	}
}

/*
 * SIGHUP: load the configuration again and, when it is usable, watch
 * with it: everything is closed and opened again (the journals keep what
 * is pending) and a full comparison follows, as at start, since paths,
 * excludes or followers may have changed. A bad file, or sets that cannot
 * be watched with it, are logged and the configuration in use is kept.
 * The TLS credentials stay those loaded first.
 */
static void
on_hup(struct ha_loop *l, void *arg)
{
	struct watcher *w = arg;
	const struct ha_args *a = w->a;
	struct ha_cfg *n = ha_cfg_load(a->conf, a->overrides, a->n_overrides);
	struct ha_cfg *old = w->cfg;
	struct ha_tls_ctx *nctx = NULL, *octx;
	int i;

	for (i = 0; n && i < a->argc; i++)
		if (ha_cfg_sync(n, a->argv[i]) == NULL) {
			ha_log(HA_FAILURE, "SIGHUP: no [sync %s] in %s",
			    a->argv[i], a->conf);
			ha_cfg_free(n);
			n = NULL;
		}
	/* The credentials too (renewed certificates, a new CA). */
	if (n && (nctx = ha_tls_ctx_from_cfg(n)) == NULL) {
		ha_cfg_free(n);
		n = NULL;
	}
	if (n == NULL) {
		ha_log(HA_FAILURE, "SIGHUP: %s is not usable; keeping the "
		    "configuration in use", a->conf);
		return;
	}
	close_all(w);	/* no connection with the old credentials is left */
	octx = hs_tls_swap(nctx);
	w->cfg = n;
	if (open_all(w) == -1) {
		ha_log(HA_FAILURE, "SIGHUP: cannot watch with the new "
		    "configuration; keeping the one in use");
		w->cfg = old;
		old = n;
		ha_tls_ctx_free(hs_tls_swap(octx));
		if (open_all(w) == -1) {
			ha_log(HA_FAILURE, "cannot watch any more");
			w->failed = 1;
			ha_loop_stop(l);
		}
	} else {
		ha_tls_ctx_free(octx);
		ha_log(HA_INFO, "SIGHUP: configuration reloaded");
	}
	ha_cfg_free(old);
	if (!w->failed)
		start_all(w);
}

static char *
pidfile_of(const struct ha_cfg *cfg, char *const *names, size_t n)
{
	struct ha_buf b = { 0 };
	size_t i;

	ha_buf_printf(&b, "%s/hasync-watch", cfg->cluster->run_dir);
	for (i = 0; i < n; i++)
		ha_buf_printf(&b, "%s%s", i ? "+" : "-", names[i]);
	ha_buf_puts(&b, ".pid");
	return b.s;
}

int
hs_watch(struct ha_cfg *cfg, const struct ha_args *a, int foreground,
    long term)
{
	struct watcher w = { .cfg = cfg, .a = a, .term = term };
	char *pidfile = pidfile_of(cfg, a->argv, (size_t)a->argc), *dir;
	int pid, rc = HA_EXIT_FAIL;

	if (mkdir(cfg->cluster->run_dir, 0755) == -1 && errno != EEXIST) {
		ha_log_errno(HA_FAILURE, "mkdir %s", cfg->cluster->run_dir);
		goto out;
	}
	if ((pid = ha_daemon_running(pidfile)) != 0) {
		ha_log(HA_FAILURE, "already running (pid %d, %s)", pid,
		    pidfile);
		goto out;
	}
	if (ha_daemon_start("hasync", foreground) == -1)
		goto out;
	w.log_outputs = foreground ? HA_LOG_STDERR | HA_LOG_SYSLOG :
	    HA_LOG_SYSLOG;
	signal(SIGPIPE, SIG_IGN);
	free(dir = hs_state_dir(cfg));
	w.loop = ha_loop_new();
	w.ws = ha_xcalloc((size_t)a->argc, sizeof(*w.ws));
	if (open_all(&w) == -1) {
		ha_daemon_failed("cannot watch or journal a set (see the log)");
		goto out;
	}
	if (ha_loop_signal(w.loop, SIGTERM, on_stop, NULL) == -1 ||
	    ha_loop_signal(w.loop, SIGINT, on_stop, NULL) == -1 ||
	    ha_loop_signal(w.loop, SIGHUP, on_hup, &w) == -1) {
		ha_daemon_failed("no signalfd");
		goto out;
	}
	if (ha_daemon_ready(pidfile) == -1)
		goto out;
	start_all(&w);
	ha_loop_run(w.loop);
	ha_log(HA_INFO, "stopped");
	rc = w.failed ? HA_EXIT_FAIL : HA_EXIT_OK;
out:
	close_all(&w);
	free(w.ws);
	ha_loop_free(w.loop);
	ha_daemon_stop(pidfile);
	free(pidfile);
	ha_buf_free(&quiet_why);
	ha_cfg_free(w.cfg);
	return rc;
}
