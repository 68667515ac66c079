/*
 * Connections driven by the loop (see peer.h): peers that connect to us
 * and peers we dial, both through TLS, then HELLO both ways, then frames
 * to the caller. Nothing blocks: a stalled peer costs its own deadline,
 * never the others' heartbeats.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "core/net.h"
#include "core/peer.h"
#include "core/peer_int.h"
#include "core/wire.h"

static const char *
addr_of(const struct ha_peer *p)
{
	return p->tls ? ha_tls_addr(p->tls) : p->addr;
}

static int
fd_of(const struct ha_peer *p)
{
	return p->tls ? ha_tls_fd(p->tls) : p->fd;
}

static void
unlink_peer(struct ha_peer *p)
{
	struct ha_peer **pp;

	for (pp = &p->srv->peers; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
}

static void
drop(struct ha_peer *p)
{
	struct ha_server *s = p->srv;
	int was_up = p->state == S_READY;

	ha_loop_del(s->loop, fd_of(p));
	ha_loop_cancel(s->loop, p->timer);
	unlink_peer(p);
	if (s->state_cb && (was_up || p->outbound))
		s->state_cb(s, p, 0, s->arg);
	if (p->tls == NULL && p->fd >= 0)
		close(p->fd);
	free(p->expect);
	ha_peer_free_internal(p);
}

void
ha_peer_close(struct ha_peer *p)
{
	if (p->srv)
		drop(p);
}

void *
ha_peer_user(const struct ha_peer *p)
{
	return p->user;
}

int
ha_peer_outbound(const struct ha_peer *p)
{
	return p->outbound;
}

/* Write what is queued; -1 when the connection failed. */
static int
flush(struct ha_peer *p)
{
	while (p->out_off < p->out.len) {
		ssize_t w = ha_tls_write(p->tls, p->out.s + p->out_off,
		    p->out.len - p->out_off);

		if (w == -1)
			return -1;
		if (w < 0)
			break;
		p->out_off += (size_t)w;
	}
	if (p->out_off == p->out.len)
		p->out_off = p->out.len = 0;
	ha_loop_events(p->srv->loop, ha_tls_fd(p->tls),
	    p->out.len ? POLLIN | POLLOUT : POLLIN);
	return 0;
}

void
ha_peer_queue(struct ha_peer *p, uint8_t type, const void *payload, size_t n)
{
	ha_wire_frame(&p->out, type, payload, n);
	if (p->srv && p->tls && p->state >= S_HELLO)
		(void)flush(p);
}

void
ha_peer_refuse(struct ha_peer *p, uint32_t code, const char *msg)
{
	struct ha_buf b = { 0 };

	ha_log(HA_WARNING, "refused %s%s%s%s: %s", addr_of(p),
	    p->hello.node[0] ? " (" : "", p->hello.node,
	    p->hello.node[0] ? ")" : "", msg);
	ha_error_encode(&b, code, msg);
	ha_peer_queue(p, HA_MSG_ERROR, b.s, b.len);
	ha_buf_free(&b);
	p->closing = 1;
}

static void
on_deadline(struct ha_loop *l, void *arg)
{
	struct ha_peer *p = arg;
	static const char *const what[] = {
		[S_CONNECTING] = "connection", [S_HANDSHAKE] = "TLS handshake",
		[S_HELLO] = "HELLO", [S_READY] = "",
	};

	(void)l;
	p->timer = NULL;
	if (p->state == S_READY)
		return;
	ha_log(p->outbound ? HA_DEBUG : HA_WARNING, "%s %s: no %s within "
	    "%lldms", p->outbound ? "cannot reach" : "refused", addr_of(p),
	    what[p->state], (long long)p->srv->hs_ms);
	drop(p);
}

static void
ready(struct ha_peer *p)
{
	p->state = S_READY;
	ha_loop_cancel(p->srv->loop, p->timer);
	p->timer = NULL;
	ha_log(HA_DEBUG, "%s: %s (%s, %s, %s)", addr_of(p), p->hello.node,
	    p->hello.role, ha_tls_version(p->tls), p->outbound ? "dialled" :
	    "accepted");
	if (p->srv->state_cb)
		p->srv->state_cb(p->srv, p, 1, p->srv->arg);
}

/* Their HELLO: accepted (served peers get ours back), or refused. */
static void
on_hello(struct ha_peer *p, uint8_t type, const uint8_t *pl, size_t n)
{
	struct ha_buf b = { 0 };
	char msg[400];
	const char *why;
	int r;

	if (type == HA_MSG_ERROR && p->outbound) {
		uint32_t code;

		ha_error_decode(pl, n, &code, msg, sizeof(msg));
		ha_log(HA_WARNING, "%s refused us: %s", addr_of(p), msg);
		p->closing = 1;
		return;
	}
	if (type != HA_MSG_HELLO) {
		ha_peer_refuse(p, E_FRAME, "HELLO must come first");
		return;
	}
	if (ha_hello_decode(pl, n, &p->hello, &why) == -1) {
		snprintf(msg, sizeof(msg), "a bad HELLO: %s", why);
		ha_peer_refuse(p, E_FRAME, msg);
		return;
	}
	r = ha_hello_check(&p->srv->mine, &p->hello, p->outbound ? p->expect :
	    ha_tls_peer(p->tls), msg, sizeof(msg));
	if (r != 0) {
		ha_peer_refuse(p, (uint32_t)-r, msg);
		return;
	}
	if (!p->outbound) {
		ha_hello_encode(&p->srv->mine, &b);
		ha_peer_queue(p, HA_MSG_HELLO, b.s, b.len);
		ha_buf_free(&b);
	}
	ready(p);
}

/* Frames in the input; -1 when the connection must go. */
static int
frames(struct ha_peer *p)
{
	const uint8_t *pl;
	uint8_t type;
	size_t n;
	int r = 0;

	while (!p->closing && (r = ha_peer_take_frame(p, &type, &pl, &n)) == 1) {
		if (p->state == S_HELLO)
			on_hello(p, type, pl, n);
		else if (p->srv->cb(p->srv, p, type, pl, n, p->srv->arg) == -1)
			p->closing = 1;
	}
	if (!p->closing && r == -1)
		return -1;
	ha_peer_compact(p);
	return 0;
}

/* A dialled socket finished connecting: start TLS, send our HELLO. */
static int
connected(struct ha_peer *p)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err) {
		ha_log(HA_DEBUG, "cannot reach %s: %s", p->addr,
		    strerror(err ? err : errno));
		return -1;
	}
	if ((p->tls = ha_tls_client(p->srv->ctx, p->fd, p->expect,
	    p->addr)) == NULL) {
		p->fd = -1;	/* closed by ha_tls_client */
		return -1;
	}
	p->fd = -1;
	p->state = S_HANDSHAKE;
	return 0;
}

/* Handshake steps; 1 when done, 0 waiting, -1 failed. */
static int
handshake(struct ha_peer *p)
{
	struct ha_buf b = { 0 };
	int r = ha_tls_handshake(p->tls);

	if (r == -1)
		return -1;
	if (r != 0) {
		ha_loop_events(p->srv->loop, ha_tls_fd(p->tls),
		    r == HA_TLS_WANT_READ ? POLLIN : POLLOUT);
		return 0;
	}
	p->state = S_HELLO;
	ha_loop_events(p->srv->loop, ha_tls_fd(p->tls), POLLIN);
	if (p->outbound) {
		ha_hello_encode(&p->srv->mine, &b);
		ha_peer_queue(p, HA_MSG_HELLO, b.s, b.len);
		ha_buf_free(&b);
	}
	return 1;
}

static void
on_conn(struct ha_loop *l, int fd, short revents, void *arg)
{
	struct ha_peer *p = arg;
	char chunk[16384];
	ssize_t r;

	(void)l;
	(void)fd;
	if (p->state == S_CONNECTING && connected(p) == -1) {
		drop(p);
		return;
	}
	if (p->state == S_HANDSHAKE) {
		if ((r = handshake(p)) == -1) {
			drop(p);
			return;
		}
		if (r == 0)
			return;
	}
	if ((revents & POLLOUT) && flush(p) == -1) {
		drop(p);
		return;
	}
	while (!p->closing && (r = ha_tls_read(p->tls, chunk,
	    sizeof(chunk))) != HA_TLS_WANT_READ && r != HA_TLS_WANT_WRITE) {
		if (r <= 0 || (ha_buf_add(&p->in, chunk, (size_t)r),
		    frames(p) == -1)) {
			drop(p);
			return;
		}
	}
	if (flush(p) == -1 || (p->closing && p->out.len == 0))
		drop(p);
}

static struct ha_peer *
peer_new(struct ha_server *s, int outbound)
{
	struct ha_peer *p = ha_xcalloc(1, sizeof(*p));

	p->srv = s;
	p->fd = -1;
	p->outbound = outbound;
	p->state = outbound ? S_CONNECTING : S_HANDSHAKE;
	p->next = s->peers;
	s->peers = p;
	p->timer = ha_loop_at(s->loop, ha_now_ms() + s->hs_ms, on_deadline, p);
	return p;
}

static void
on_accept(struct ha_loop *l, int fd, short revents, void *arg)
{
	struct ha_server *s = arg;
	struct ha_peer *p;
	char addr[80];
	int cfd;

	(void)revents;
	while ((cfd = ha_net_accept(fd, addr, sizeof(addr))) != -1) {
		struct ha_tls *t = ha_tls_server(s->ctx, cfd, addr);

		if (t == NULL)
			continue;
		p = peer_new(s, 0);
		p->tls = t;
		ha_loop_add(l, cfd, POLLIN, on_conn, p);
	}
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		ha_log_errno(HA_WARNING, "accept");
}

struct ha_peer *
ha_server_dial(struct ha_server *s, const struct ha_addr *addr, int port,
    const char *expect, void *user)
{
	struct ha_peer *p = peer_new(s, 1);

	p->user = user;
	p->expect = expect ? ha_xstrdup(expect) : NULL;
	ha_net_fmt(addr, port, p->addr, sizeof(p->addr));
	if ((p->fd = ha_net_dial(addr, port)) == -1) {
		drop(p);
		return NULL;
	}
	ha_loop_add(s->loop, p->fd, POLLOUT, on_conn, p);
	return p;
}

struct ha_server *
ha_server_new(struct ha_loop *l, struct ha_tls_ctx *ctx, int lfd,
    const struct ha_hello *mine, int64_t hs_ms, ha_server_frame_cb *cb,
    void *arg)
{
	struct ha_server *s = ha_xcalloc(1, sizeof(*s));

	s->loop = l;
	s->ctx = ctx;
	s->lfd = lfd;
	s->mine = *mine;
	s->hs_ms = hs_ms;
	s->cb = cb;
	s->arg = arg;
	if (lfd >= 0)
		ha_loop_add(l, lfd, POLLIN, on_accept, s);
	return s;
}

void
ha_server_on_state(struct ha_server *s, ha_server_state_cb *cb)
{
	s->state_cb = cb;
}

void
ha_server_free(struct ha_server *s)
{
	if (s == NULL)
		return;
	s->state_cb = NULL;
	while (s->peers)
		drop(s->peers);
	if (s->lfd >= 0) {
		ha_loop_del(s->loop, s->lfd);
		close(s->lfd);
	}
	free(s);
}
