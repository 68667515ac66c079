/*
 * hawatch's health checks ([check] sections): tcp (connect), http (GET,
 * 2xx/3xx), command (exit 0) and postgres (`haprom check`), each every
 * `interval` with its `timeout`; `fall` failures in a row make it down,
 * `rise` successes up. They check what the leader runs, so they run on
 * the leader (postgres checks everywhere: a follower without a working
 * database cannot take over). A leader whose checks fail hands over when
 * a healthy, caught-up member exists.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "applets/hawatch/hawatch.h"
#include "core/log.h"
#include "core/net.h"
#include "ha_kconfig.h"

struct hw_check {
	struct hw *h;
	const struct ha_cfg_check *c;
	int up;			/* current verdict */
	int ok_run, bad_run;	/* successes / failures in a row */
	int fd;			/* tcp, http */
	struct ha_proc *p;	/* command, postgres */
	struct ha_timer *t;	/* next run, or this run's deadline */
	int64_t deadline;
	struct ha_buf in;
	int stage;		/* http: 0 connecting, 1 reading */
	char last[160];		/* the last result, for status */
};

static int
applies(const struct hw *h, const struct hw_check *k)
{
	return k->c->type == HA_CHECK_POSTGRES || h->res == R_HELD;
}

static void next_run(struct hw_check *k);

static void
verdict(struct hw_check *k, int ok, const char *why)
{
	struct hw *h = k->h;
	int was = k->up;

	snprintf(k->last, sizeof(k->last), "%s", why);
	if (ok) {
		k->bad_run = 0;
		if (++k->ok_run >= k->c->rise)
			k->up = 1;
	} else {
		k->ok_run = 0;
		if (++k->bad_run >= k->c->fall)
			k->up = 0;
	}
	if (was != k->up) {
		hw_event(h, "check %s is %s: %s", k->c->name, k->up ? "up" :
		    "down", why);
		h->me.healthy = hw_checks_healthy(h);
		hw_local_changed(h);
		if (!h->me.healthy && h->res == R_HELD &&
		    ha_elect_successor(&h->e, ha_now_ms()) >= 0) {
			hw_event(h, "health checks fail: handing over");
			h->hand_to = -1;
			hw_res_release_now(h, 1);
		}
	}
	next_run(k);
}

static void
close_fd(struct hw_check *k)
{
	if (k->fd >= 0) {
		ha_loop_del(k->h->loop, k->fd);
		close(k->fd);
		k->fd = -1;
	}
	k->in.len = 0;
}

static void
sock_result(struct hw_check *k, int ok, const char *why)
{
	ha_loop_cancel(k->h->loop, k->t);
	k->t = NULL;
	close_fd(k);
	verdict(k, ok, why);
}

/* http: the request, once connected. */
static void
send_get(struct hw_check *k)
{
	const char *host = k->c->target + 7, *path = strchr(host, '/');
	char buf[600];
	int n;

	n = snprintf(buf, sizeof(buf), "GET %s HTTP/1.0\r\nHost: %.*s\r\n"
	    "User-Agent: hawatch\r\nConnection: close\r\n\r\n",
	    path ? path : "/", (int)(path ? (size_t)(path - host) :
	    strlen(host)), host);
	(void)!write(k->fd, buf, (size_t)n);
	k->stage = 1;
	ha_loop_events(k->h->loop, k->fd, POLLIN);
}

/* http: the status line decides. */
static void
read_answer(struct hw_check *k)
{
	char buf[512];
	ssize_t n = read(k->fd, buf, sizeof(buf));

	if (n > 0)
		ha_buf_add(&k->in, buf, (size_t)n);
	if (n > 0 && !memchr(k->in.s, '\n', k->in.len) && k->in.len < 4096)
		return;
	if (n < 0 && errno == EAGAIN)
		return;
	if (k->in.len < 12 || strncmp(k->in.s, "HTTP/1.", 7) != 0 ||
	    k->in.s[8] != ' ') {
		sock_result(k, 0, "no HTTP answer");
		return;
	}
	snprintf(buf, sizeof(buf), "HTTP %.3s", k->in.s + 9);
	sock_result(k, k->in.s[9] == '2' || k->in.s[9] == '3', buf);
}

static void
on_sock(struct ha_loop *l, int fd, short revents, void *arg)
{
	struct hw_check *k = arg;
	int err = 0;
	socklen_t len = sizeof(err);
	char buf[160];

	(void)l;
	(void)revents;
	if (k->stage == 1) {
		read_answer(k);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err) {
		snprintf(buf, sizeof(buf), "connect: %s", strerror(err ? err :
		    errno));
		sock_result(k, 0, buf);
		return;
	}
	if (k->c->type == HA_CHECK_TCP)
		sock_result(k, 1, "connected");
	else
		send_get(k);
}

static void
on_timeout(struct ha_loop *l, void *arg)
{
	struct hw_check *k = arg;
	char buf[64];

	(void)l;
	k->t = NULL;
	if (k->p) {
		ha_proc_abort(k->p);
		k->p = NULL;
	}
	close_fd(k);
	snprintf(buf, sizeof(buf), "no answer within %lldms",
	    (long long)k->c->timeout_ms);
	verdict(k, 0, buf);
}

static void proc_check(struct hw_check *k);

static void
on_proc_io(struct ha_loop *l, int fd, short revents, void *arg)
{
	(void)l;
	(void)fd;
	(void)revents;
	proc_check(arg);
}

static void
proc_unwatch(struct hw_check *k)
{
	int fds[2], n = ha_proc_fds(k->p, fds), i;

	for (i = 0; i < n; i++)
		ha_loop_del(k->h->loop, fds[i]);
}

static void
proc_check(struct hw_check *k)
{
	struct ha_run_result r;
	int fds[2], n, i, ok;
	char d[96];

	proc_unwatch(k);
	if (!ha_proc_step(k->p, ha_now_ms())) {
		n = ha_proc_fds(k->p, fds);
		for (i = 0; i < n; i++)
			ha_loop_add(k->h->loop, fds[i], POLLIN, on_proc_io, k);
		return;
	}
	ha_proc_finish(k->p, &r);
	k->p = NULL;
	ha_loop_cancel(k->h->loop, k->t);
	k->t = NULL;
	ha_run_describe(&r, d, sizeof(d));
	/* postgres: haprom check says 0 primary, 3 standby: both work. */
	ok = ha_run_ok(&r) || (k->c->type == HA_CHECK_POSTGRES && r.exited &&
	    r.code == 3);
	ha_run_result_free(&r);
	verdict(k, ok, d);
}

static void
run_check(struct ha_loop *l, void *arg)
{
	struct hw_check *k = arg;
	struct hw *h = k->h;
	char host[256];
	const char *why;
	struct ha_addr a;
	int port = 80;

	(void)l;
	k->t = NULL;
	if (!applies(h, k)) {
		next_run(k);
		return;
	}
	k->stage = 0;
	k->t = ha_loop_at(h->loop, ha_now_ms() + k->c->timeout_ms, on_timeout, k);
	if (k->c->type == HA_CHECK_COMMAND || k->c->type == HA_CHECK_POSTGRES) {
		char *sh[] = { "/bin/sh", "-c", k->c->command, NULL };
		char *pg[] = { h->exe, "haprom", "check", "-c", (char *)h->conf,
		    NULL };
		struct ha_run_opts o = { .timeout_ms = k->c->timeout_ms };

		if ((k->p = ha_proc_start(k->c->type == HA_CHECK_COMMAND ? sh : pg,
		    &o)) == NULL) {
			ha_loop_cancel(h->loop, k->t);
			k->t = NULL;
			verdict(k, 0, "cannot run the check");
			return;
		}
		proc_check(k);
		return;
	}
	if (k->c->type == HA_CHECK_TCP)
		ha_parse_hostport(k->c->target, host, sizeof(host), &port, &why);
	else {
		const char *s = k->c->target + 7, *e = s + strcspn(s, ":/");

		snprintf(host, sizeof(host), "%.*s", (int)(e - s), s);
		if (*e == ':')
			port = atoi(e + 1);
	}
	if (ha_parse_addr(host, 1, &a, &why) == -1 ||
	    (k->fd = ha_net_dial(&a, port)) == -1) {
		ha_loop_cancel(h->loop, k->t);
		k->t = NULL;
		verdict(k, 0, "cannot connect (the target must be an address)");
		return;
	}
	ha_loop_add(h->loop, k->fd, POLLOUT, on_sock, k);
}

static void
next_run(struct hw_check *k)
{
	k->t = ha_loop_at(k->h->loop, ha_now_ms() + k->c->interval_ms,
	    run_check, k);
}

int
hw_checks_start(struct hw *h)
{
	size_t i;

	h->n_checks = (int)h->cfg->n_checks;
	h->checks = ha_xcalloc(h->cfg->n_checks + 1, sizeof(*h->checks));
	for (i = 0; i < h->cfg->n_checks; i++) {
		struct hw_check *k = &h->checks[i];

		k->h = h;
		k->c = &h->cfg->checks[i];
		k->fd = -1;
		k->up = 1;	/* until it fails `fall` times */
		snprintf(k->last, sizeof(k->last), "not run yet");
		if (k->c->type == HA_CHECK_POSTGRES && !CONFIG_HAPROM)
			continue;
		k->t = ha_loop_at(h->loop, ha_now_ms() + 10, run_check, k);
	}
	return 0;
}

void
hw_checks_stop(struct hw *h)
{
	int i;

	for (i = 0; i < h->n_checks; i++) {
		struct hw_check *k = &h->checks[i];

		ha_loop_cancel(h->loop, k->t);
		close_fd(k);
		if (k->p) {
			proc_unwatch(k);
			ha_proc_abort(k->p);
		}
		ha_buf_free(&k->in);
	}
	free(h->checks);
	h->checks = NULL;
	h->n_checks = 0;
}

int
hw_checks_healthy(const struct hw *h)
{
	int i;

	for (i = 0; i < h->n_checks; i++)
		if (!h->checks[i].up && applies(h, &h->checks[i]))
			return 0;
	return 1;
}

void
hw_checks_status(const struct hw *h, struct ha_buf *text, struct ha_buf *json)
{
	int i;

	ha_buf_puts(json, "[");
	for (i = 0; i < h->n_checks; i++) {
		const struct hw_check *k = &h->checks[i];

		ha_buf_printf(text, "  check %-16s %-4s %s\n", k->c->name,
		    k->up ? "up" : "down", k->last);
		ha_buf_printf(json, "%s{\"name\": \"%s\", \"type\": \"%s\", "
		    "\"up\": %s}", i ? ", " : "", k->c->name,
		    ha_cfg_check_type_name(k->c->type), k->up ? "true" : "false");
	}
	ha_buf_puts(json, "]");
}

int
hw_check_up(const struct hw *h, int i)
{
	return i < h->n_checks && h->checks[i].up;
}
