/*
 * The poll(2) event loop (see loop.h). Watches are kept in an array
 * rebuilt into a pollfd set each round; timers in a small unsorted list
 * (a daemon has tens of them, not thousands). Removal during callbacks
 * only marks entries, which are swept after the round.
 */
#include "core/loop.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"

struct watch {
	int fd;
	short events;
	ha_loop_fd_cb *cb;
	void *arg;
	int dead;
};

struct ha_timer {
	int64_t at;
	ha_loop_cb *cb;
	void *arg;
	int dead;
};

struct sig {
	int signo;
	ha_loop_cb *cb;
	void *arg;
};

struct ha_loop {
	struct watch *w;
	size_t n_w;
	struct ha_timer **t;
	size_t n_t;
	struct sig *s;
	size_t n_s;
	int sigfd;
	sigset_t mask;
	int stop;
};

struct ha_loop *
ha_loop_new(void)
{
	struct ha_loop *l = ha_xcalloc(1, sizeof(*l));

	l->sigfd = -1;
	sigemptyset(&l->mask);
	return l;
}

void
ha_loop_free(struct ha_loop *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n_t; i++)
		free(l->t[i]);
	if (l->sigfd != -1) {
		close(l->sigfd);
		sigprocmask(SIG_UNBLOCK, &l->mask, NULL);
	}
	free(l->t);
	free(l->w);
	free(l->s);
	free(l);
}

static struct watch *
find(struct ha_loop *l, int fd)
{
	size_t i;

	for (i = 0; i < l->n_w; i++)
		if (l->w[i].fd == fd && !l->w[i].dead)
			return &l->w[i];
	return NULL;
}

void
ha_loop_add(struct ha_loop *l, int fd, short events, ha_loop_fd_cb *cb,
    void *arg)
{
	struct watch *w = find(l, fd);

	if (w == NULL) {
		l->w = ha_xreallocarray(l->w, l->n_w + 1, sizeof(*l->w));
		w = &l->w[l->n_w++];
	}
	w->fd = fd;
	w->events = events;
	w->cb = cb;
	w->arg = arg;
	w->dead = 0;
}

void
ha_loop_events(struct ha_loop *l, int fd, short events)
{
	struct watch *w = find(l, fd);

	if (w)
		w->events = events;
}

void
ha_loop_del(struct ha_loop *l, int fd)
{
	struct watch *w = find(l, fd);

	if (w)
		w->dead = 1;
}

struct ha_timer *
ha_loop_at(struct ha_loop *l, int64_t at, ha_loop_cb *cb, void *arg)
{
	struct ha_timer *t = ha_xcalloc(1, sizeof(*t));

	t->at = at;
	t->cb = cb;
	t->arg = arg;
	l->t = ha_xreallocarray(l->t, l->n_t + 1, sizeof(*l->t));
	l->t[l->n_t++] = t;
	return t;
}

void
ha_loop_cancel(struct ha_loop *l, struct ha_timer *t)
{
	(void)l;
	if (t)
		t->dead = 1;
}

static void
on_signal(struct ha_loop *l, int fd, short revents, void *arg)
{
	struct signalfd_siginfo si;
	size_t i;

	(void)revents;
	(void)arg;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		for (i = 0; i < l->n_s; i++)
			if (l->s[i].signo == (int)si.ssi_signo)
				l->s[i].cb(l, l->s[i].arg);
}

int
ha_loop_signal(struct ha_loop *l, int signo, ha_loop_cb *cb, void *arg)
{
	int fd;

	sigaddset(&l->mask, signo);
	sigprocmask(SIG_BLOCK, &l->mask, NULL);
	fd = signalfd(l->sigfd, &l->mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd == -1) {
		ha_log_errno(HA_FAILURE, "signalfd");
		return -1;
	}
	if (l->sigfd == -1)
		ha_loop_add(l, fd, POLLIN, on_signal, NULL);
	l->sigfd = fd;
	l->s = ha_xreallocarray(l->s, l->n_s + 1, sizeof(*l->s));
	l->s[l->n_s].signo = signo;
	l->s[l->n_s].cb = cb;
	l->s[l->n_s].arg = arg;
	l->n_s++;
	return 0;
}

static void
sweep(struct ha_loop *l)
{
	size_t i, j;

	for (i = j = 0; i < l->n_w; i++)
		if (!l->w[i].dead)
			l->w[j++] = l->w[i];
	l->n_w = j;
	for (i = j = 0; i < l->n_t; i++) {
		if (l->t[i]->dead)
			free(l->t[i]);
		else
			l->t[j++] = l->t[i];
	}
	l->n_t = j;
}

/* Run every timer due by now; timers added meanwhile wait a round. */
static void
run_timers(struct ha_loop *l, int64_t now)
{
	size_t i, n = l->n_t;

	for (i = 0; i < n; i++) {
		struct ha_timer *t = l->t[i];

		if (!t->dead && t->at <= now) {
			t->dead = 1;
			t->cb(l, t->arg);
		}
	}
}

int
ha_loop_once(struct ha_loop *l, int64_t until)
{
	struct pollfd *p;
	size_t i, n = l->n_w;
	int64_t now = ha_now_ms(), next = until;
	int r;

	for (i = 0; i < l->n_t; i++)
		if (!l->t[i]->dead && l->t[i]->at < next)
			next = l->t[i]->at;
	p = ha_xcalloc(n ? n : 1, sizeof(*p));
	for (i = 0; i < n; i++) {
		p[i].fd = l->w[i].dead ? -1 : l->w[i].fd;
		p[i].events = l->w[i].events;
	}
	r = poll(p, (nfds_t)n, next <= now ? 0 : next - now > 60000 ? 60000 :
	    (int)(next - now));
	if (r == -1 && errno != EINTR) {
		ha_log_errno(HA_FAILURE, "poll");
		free(p);
		return -1;
	}
	for (i = 0; r > 0 && i < n; i++) {
		/* The array may grow in a callback: index, not pointer. */
		if (p[i].revents && !l->w[i].dead && l->w[i].fd == p[i].fd)
			l->w[i].cb(l, l->w[i].fd, p[i].revents, l->w[i].arg);
	}
	free(p);
	run_timers(l, ha_now_ms());
	sweep(l);
	return 0;
}

void
ha_loop_run(struct ha_loop *l)
{
	l->stop = 0;
	while (!l->stop)
		if (ha_loop_once(l, ha_now_ms() + 60000) == -1)
			break;
}

void
ha_loop_stop(struct ha_loop *l)
{
	l->stop = 1;
}
